import Foundation
import Testing
import Workloads

@testable import Studies

/// The ladder `recommend` climbs to profile a workload: which sizes it measures on one thread, and when it stops.
@Suite struct ProfilerLadderTests {
    typealias Rung = WorkloadProfiler.Rung

    static func climb(_ ladder: WorkloadProfiler.Ladder, seconds: (Double) -> Double) -> [Double] {
        var rungs: [Rung] = []
        while let size = ladder.next(after: rungs) {
            rungs.append(Rung(size: size, threads: 1, seconds: seconds(size), peakMB: 1))
            if rungs.count > 100 { break }
        }
        return rungs.map(\.size)
    }

    @Test("quick rungs double from the target / 65,536 all the way up to the target")
    func climbsToTarget() throws {
        let sizes = try SizeList(parsing: "hidden=4096", workload: TrainMLP.self)
        let ladder = WorkloadProfiler.Ladder(workload: TrainMLP.self, sizes: sizes, target: 4096)
        #expect(ladder.first == 1)
        #expect(Self.climb(ladder) { _ in 0.01 } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
    }

    @Test("the climb stops at the first rung that lasts long enough, once there are three to fit")
    func stopsWhenLongEnough() throws {
        let sizes = try SizeList(parsing: "hidden=1048576", workload: TrainMLP.self)
        let ladder = WorkloadProfiler.Ladder(workload: TrainMLP.self, sizes: sizes, target: 1_048_576)
        #expect(ladder.first == 16)
        #expect(Self.climb(ladder) { $0 / 32 } == [16, 32, 64])
        #expect(Self.climb(ladder) { _ in 5 } == [16, 32, 64], "three rungs even when the first is already long")
    }

    @Test("doublings that each take a little more than twice as long still stop the climb at the first long rung")
    func slightlySuperlinear() throws {
        // 7 % over linear per doubling (cache effects, a busy machine): the rung two below the first 1 s one lasts
        // 0.23 s, under a quarter of it; the climb must not go on doubling towards the target.
        let sizes = try SizeList(parsing: "hidden=1048576", workload: TrainMLP.self)
        let ladder = WorkloadProfiler.Ladder(workload: TrainMLP.self, sizes: sizes, target: 1_048_576)
        #expect(Self.climb(ladder) { pow($0 / 64, 1.07) } == [16, 32, 64])
    }

    @Test("a workload with a fixed start-up cost climbs past it and is projected from the rungs after it")
    func startUpCost() throws {
        // 50 ms of start-up (a kernel build, a first launch), then 1 ms a unit; the quick rungs are as noisy as a
        // busy machine makes them (±40 %, alternating).
        let seconds = { (size: Double) in
            (0.05 + size / 1000) * (size >= 128 ? 1 : Int(log2(size)).isMultiple(of: 2) ? 1.4 : 0.6)
        }
        let sizes = try SizeList(parsing: "hidden=1048576", workload: TrainMLP.self)
        let ladder = WorkloadProfiler.Ladder(workload: TrainMLP.self, sizes: sizes, target: 1_048_576)
        let climbed = Self.climb(ladder, seconds: seconds)
        #expect(climbed == [16, 32, 64, 128, 256, 512, 1024])
        let rungs = climbed.map { Rung(size: $0, threads: 1, seconds: seconds($0), peakMB: 100 + $0 / 100) }
        let (time, memory, fitted) = try #require(WorkloadProfiler.projection(of: rungs))
        #expect(fitted.map(\.size) == [256, 512, 1024])
        let truth = 0.05 + 1_048_576 / 1000.0
        #expect(abs(time.predict(1_048_576) / truth - 1) < 0.05, "\(time.formula)")
        #expect(abs(memory.predict(1_048_576) / (100 + 10_485.76) - 1) < 0.05, "\(memory.formula)")
    }

    @Test("a target below the parameter's lowest value is measured once, at the target")
    func smallTarget() throws {
        let sizes = try SizeList(parsing: "size=1", workload: CommandWorkload.self)
        let ladder = WorkloadProfiler.Ladder(workload: CommandWorkload.self, sizes: sizes, target: 1)
        #expect(Self.climb(ladder) { _ in 0.01 } == [1])
    }
}
