import CapsizeCore
import Foundation
import Testing
import Workloads

@testable import Studies

/// The search of `SweepEngine` on a runner that only says where the caps are: no processes, no store.
@Suite struct SweepEngineTests {
    /// A workload whose time cap breaks from `timeBreak` on and whose memory cap breaks from `memoryBreak` on.
    final class FakeRunner: SweepPointRunner, @unchecked Sendable {
        let timeBreak: Double
        let memoryBreak: Double
        let lock = NSLock()
        private var ran: [Double] = []

        init(timeBreak: Double = .infinity, memoryBreak: Double = .infinity) {
            self.timeBreak = timeBreak
            self.memoryBreak = memoryBreak
        }

        var sizesRun: [Double] { lock.withLock { ran } }

        func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
            lock.withLock { ran.append(size) }
            let status: SweepSample.Status =
                size >= memoryBreak ? .outOfMemory : size >= timeBreak ? .timeout : .completed
            return SweepSample(
                memoryMB: memoryMB, size: size, repetition: 0, status: status, seconds: size / 100, peakMB: size / 10,
                initMs: nil, message: nil, phase: .step, startedAt: Date(), endedAt: Date())
        }
    }

    static func engine(_ sizes: String, runner: FakeRunner, refine: Double?, repeats: Int = 1) throws -> SweepEngine {
        SweepEngine(
            sizes: try SizeList(parsing: sizes, workload: CommandWorkload.self), repeats: repeats, refine: refine,
            runner: runner, store: nil, runID: "test")
    }

    @Test("the sizes step up to the first break and one more confirms it; nothing after that runs")
    func stepsAndConfirms() async throws {
        let runner = FakeRunner(timeBreak: 300)
        var engine = try Self.engine("size=100..1600*2", runner: runner, refine: nil)
        let series = try await engine.series(memoryMB: 512, timeoutSeconds: 3)
        #expect(runner.sizesRun == [100, 200, 400, 800])
        #expect(series.largestPassing == 200 && series.firstBreak == 400 && series.confirmed == true)
        #expect(series.stoppedBy == "cap")
        #expect(series.samples.map(\.phase) == [.step, .step, .step, .confirm])
    }

    @Test("bisection narrows a time break down to the asked width, geometrically, on whole sizes")
    func bisectsTimeBreak() async throws {
        let runner = FakeRunner(timeBreak: 300)
        var engine = try Self.engine("size=100..1600*2", runner: runner, refine: 0.05)
        let series = try await engine.series(memoryMB: 512, timeoutSeconds: 3)
        let low = try #require(series.largestPassing)
        let high = try #require(series.firstBreak)
        #expect(low < 300 && high >= 300 && high / low <= 1.05)
        let refined = series.samples.filter { $0.phase == .refine }.map(\.size)
        #expect(refined.first == 283, "the first probe is the geometric middle of 200 and 400")
        #expect(refined.allSatisfy { $0 > 200 && $0 < 400 })
    }

    @Test("a memory break is found the same way and says it is a memory break")
    func bisectsMemoryBreak() async throws {
        let runner = FakeRunner(memoryBreak: 1000)
        var engine = try Self.engine("size=1,10,100,10000,20000", runner: runner, refine: 0.1)
        let series = try await engine.series(memoryMB: 128, timeoutSeconds: 3)
        #expect(series.samples.first { $0.size == 10000 }?.status == .outOfMemory)
        #expect(try #require(series.largestPassing) < 1000 && series.firstBreak! >= 1000)
        #expect(series.firstBreak! / series.largestPassing! <= 1.1)
    }

    @Test("no break: every size runs once per repetition and the list running out stops the series")
    func noBreak() async throws {
        let runner = FakeRunner()
        var engine = try Self.engine("size=1,2,3", runner: runner, refine: 0.05, repeats: 2)
        let series = try await engine.series(memoryMB: 128, timeoutSeconds: 3)
        #expect(runner.sizesRun == [1, 1, 2, 2, 3, 3])
        #expect(series.samples.map(\.repetition) == [0, 1, 0, 1, 0, 1])
        #expect(series.stoppedBy == "sizes" && series.firstBreak == nil && series.largestPassing == 3)
    }

    @Test("samples recorded before are reused, not run again, and said to be reused")
    func reusesRecorded() async throws {
        let runner = FakeRunner(timeBreak: 3)
        var reused: [Double] = []
        var engine = try Self.engine("size=1,2,3,4", runner: runner, refine: nil)
        engine.onEvent = { if case .sample(let sample, true) = $0 { reused.append(sample.size) } }
        let key = SweepSample.itemKey(memoryMB: 128, size: "1", repetition: 0)
        engine.recorded[key] = SweepSample(
            memoryMB: 128, size: 1, repetition: 0, status: .completed, seconds: 0.5, peakMB: 1, initMs: nil,
            message: nil, phase: .step, startedAt: Date(), endedAt: Date())
        let series = try await engine.series(memoryMB: 128, timeoutSeconds: 3)
        #expect(runner.sizesRun == [2, 3, 4] && reused == [1])
        #expect(series.samples.first?.seconds == 0.5 && series.firstBreak == 3)
    }
}
