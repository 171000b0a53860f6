import Foundation
import Testing

@testable import Analysis

@Suite struct CapBreakTests {
    static func time(_ size: Double) -> Double { 2e-4 * size * size }
    static func memory(_ size: Double) -> Double { 50 + 0.8 * size }

    /// A sweep of 3 repetitions per size with 3 % noise, run under the caps the way the sandbox reports it: a
    /// timed-out invocation's seconds and a memory-killed invocation's peak sit at the cap.
    static func sweep(_ sizes: [Double], timeout: Double, memoryMB: Double, seed: UInt64) -> [SweepPoint] {
        var noise = SeededNoise(seed: seed)
        return sizes.flatMap { size in
            (0..<3).map { _ in
                let seconds = time(size) * noise.factor()
                let peak = memory(size) * noise.factor()
                if peak > memoryMB {
                    return SweepPoint(size: size, outcome: .outOfMemory, seconds: seconds / 3, peakMemoryMB: memoryMB)
                }
                if seconds >= timeout {
                    return SweepPoint(size: size, outcome: .timeout, seconds: timeout + 0.05, peakMemoryMB: peak * 0.9)
                }
                return SweepPoint(size: size, outcome: .completed, seconds: seconds, peakMemoryMB: peak)
            }
        }
    }

    /// Denser at small sizes, like a real sweep, where the memory law's constant term shows.
    static let sizes: [Double] = [100, 150, 250, 400, 600, 800, 1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750, 3000]

    @Test("the fit window: a fixed start-up cost at tiny sizes does not bend the predicted break")
    func fitWindow() throws {
        // time = 0.3 s of start-up + 1e-10·x³, sizes doubling from 1; 10 s timeout: true break at ∛(9.7e10) ≈ 4,595.
        let truth = pow(9.7 / 1e-10, 1.0 / 3)
        let sizes = (0...13).map { pow(2, Double($0)) }
        let points = sizes.map { size -> SweepPoint in
            let seconds = 0.3 + 1e-10 * size * size * size
            return seconds >= 10
                ? SweepPoint(size: size, outcome: .timeout, seconds: 10.05, peakMemoryMB: 100)
                : SweepPoint(size: size, outcome: .completed, seconds: seconds, peakMemoryMB: 100)
        }
        let windowed = try #require(CapBreakAnalysis(points: points, timeoutSeconds: 10, memoryMB: 1024).predictedTime)
        let everything = try #require(
            CapBreakAnalysis(points: points, timeoutSeconds: 10, memoryMB: 1024, fitWindow: nil).predictedTime)
        #expect(abs(windowed.size - truth) / truth < 0.15, "windowed \(windowed.size), truth \(truth)")
        #expect(abs(windowed.size - truth) < abs(everything.size - truth), "all sizes \(everything.size)")
    }

    @Test("time breaks first: observed at the first timed-out size, predicted within 10 % of the true break")
    func timeFirst() throws {
        let trueTimeBreak = (900 / 2e-4).squareRoot()  // 2,121
        let trueMemoryBreak = (3008 - 50) / 0.8  // 3,698
        let analysis = CapBreakAnalysis(
            points: Self.sweep(Self.sizes, timeout: 900, memoryMB: 3008, seed: 11), timeoutSeconds: 900, memoryMB: 3008,
            fitWindow: nil)
        #expect(analysis.observed == ObservedBreak(size: 2250, cap: .time))
        #expect(analysis.largestPassingSize == 2000)
        let timeFit = try #require(analysis.timeFit)
        #expect(timeFit.model == .powerLaw && abs((timeFit.exponent ?? .nan) - 2) <= 0.1)
        #expect(timeFit.n == 11)  // 100…2000: the timed-out sizes are censored
        let memoryFit = try #require(analysis.memoryFit)
        #expect(memoryFit.model == .polynomial(degree: 1) && memoryFit.n == 11)

        let time = try #require(analysis.predictedTime)
        #expect(abs(time.size - trueTimeBreak) / trueTimeBreak < 0.1)
        #expect(time.interval?.contains(trueTimeBreak) == true)
        #expect(time.extrapolated)
        let memory = try #require(analysis.predictedMemory)
        #expect(abs(memory.size - trueMemoryBreak) / trueMemoryBreak < 0.1)
        #expect(memory.interval?.contains(trueMemoryBreak) == true)
        #expect(memoryFit.predictionInterval(trueMemoryBreak).contains(3008))

        #expect(analysis.predictedFirst == .time && analysis.firstCap == .time)
        #expect(analysis.predictionAgrees == true)
        #expect(abs((analysis.agreement ?? .nan) - abs(time.size - 2250) / 2250) < 1e-12)
    }

    @Test("memory breaks first: observed as a memory kill, and predicted first from a sweep that never failed")
    func memoryFirst() throws {
        let trueMemoryBreak = (1000 - 50) / 0.8  // 1,187.5
        let analysis = CapBreakAnalysis(
            points: Self.sweep(Self.sizes, timeout: 900, memoryMB: 1000, seed: 12), timeoutSeconds: 900, memoryMB: 1000)
        #expect(analysis.observed == ObservedBreak(size: 1250, cap: .memory))
        #expect(analysis.largestPassingSize == 1000)
        let memory = try #require(analysis.predictedMemory)
        #expect(abs(memory.size - trueMemoryBreak) / trueMemoryBreak < 0.1)
        #expect(analysis.predictedFirst == .memory && analysis.firstCap == .memory)
        #expect(analysis.predictionAgrees == true)

        // The same caps, swept only below both breaks: the prediction alone says memory breaks first.
        let small: [Double] = [100, 200, 300, 400, 500, 600, 700, 800]
        let predictedOnly = CapBreakAnalysis(
            points: Self.sweep(small, timeout: 900, memoryMB: 1000, seed: 13), timeoutSeconds: 900, memoryMB: 1000)
        #expect(predictedOnly.observed == nil && predictedOnly.largestPassingSize == 800)
        #expect(predictedOnly.predictedFirst == .memory && predictedOnly.firstCap == .memory)
        #expect(predictedOnly.agreement == nil && predictedOnly.predictionAgrees == nil)
        let predicted = try #require(predictedOnly.predictedMemory?.size)
        #expect(abs(predicted - trueMemoryBreak) / trueMemoryBreak < 0.1)
        let trueTimeBreak = (900 / 2e-4).squareRoot()
        let time = try #require(predictedOnly.predictedTime)
        #expect(abs(time.size - trueTimeBreak) / trueTimeBreak < 0.1)
    }

    @Test(
        "a completed run lasting exactly the timeout counts as a timeout; a peak exactly at the memory size passes"
    )
    func exactlyAtTheCap() {
        let points = [
            SweepPoint(size: 100, outcome: .completed, seconds: 10, peakMemoryMB: 512),
            SweepPoint(size: 200, outcome: .completed, seconds: 40, peakMemoryMB: 1024),
            SweepPoint(size: 300, outcome: .completed, seconds: 90, peakMemoryMB: 1000),
        ]
        let atMemory = CapBreakAnalysis(points: points, timeoutSeconds: 90.5, memoryMB: 1024)
        #expect(atMemory.observed == nil && atMemory.largestPassingSize == 300)
        let atTimeout = CapBreakAnalysis(points: points, timeoutSeconds: 90, memoryMB: 1024)
        #expect(atTimeout.observed == ObservedBreak(size: 300, cap: .time))
        #expect(atTimeout.largestPassingSize == 200)
        #expect(atTimeout.timeFit?.n == 2)  // the point at the timeout is censored
        let overMemory = CapBreakAnalysis(points: points, timeoutSeconds: 900, memoryMB: 1023.9)
        #expect(overMemory.observed == ObservedBreak(size: 200, cap: .memory))
        #expect(overMemory.largestPassingSize == 100)
    }

    @Test("a size's median time is kept while fewer than half its repetitions timed out, and dropped after")
    func censoredMedians() throws {
        func points(timeouts: Int) -> [SweepPoint] {
            [100.0, 200, 300, 400].flatMap { size in
                (0..<3).map { repetition in
                    size == 400 && repetition < timeouts
                        ? SweepPoint(size: size, outcome: .timeout, seconds: 30, peakMemoryMB: 200)
                        : SweepPoint(size: size, outcome: .completed, seconds: size / 20, peakMemoryMB: size)
                }
            }
        }
        let one = CapBreakAnalysis(points: points(timeouts: 1), timeoutSeconds: 30, memoryMB: 1024)
        #expect(one.observed == ObservedBreak(size: 400, cap: .time) && one.largestPassingSize == 300)
        #expect(one.timeFit?.n == 4 && one.memoryFit?.n == 4)
        let two = CapBreakAnalysis(points: points(timeouts: 2), timeoutSeconds: 30, memoryMB: 1024)
        #expect(two.timeFit?.n == 3)
    }

    @Test("errors are neither passes nor breaks, and a sweep with nothing completed has no fits")
    func errors() {
        let points = [
            SweepPoint(size: 100, outcome: .completed, seconds: 1, peakMemoryMB: 100),
            SweepPoint(size: 200, outcome: .error, seconds: 0.1, peakMemoryMB: 10),
            SweepPoint(size: 200, outcome: .completed, seconds: 4, peakMemoryMB: 200),
            SweepPoint(size: 300, outcome: .completed, seconds: 9, peakMemoryMB: 300),
        ]
        let analysis = CapBreakAnalysis(points: points, timeoutSeconds: 900, memoryMB: 1024)
        #expect(analysis.observed == nil && analysis.largestPassingSize == 300)
        let failed = CapBreakAnalysis(points: [points[1]], timeoutSeconds: 900, memoryMB: 1024)
        #expect(failed.largestPassingSize == nil && failed.timeFit == nil && failed.firstCap == nil)
        let empty = CapBreakAnalysis(points: [], timeoutSeconds: 900, memoryMB: 1024)
        #expect(empty.observed == nil && empty.predictedTime == nil && empty.predictedFirst == nil)
    }

    @Test("an analysis survives a JSON round trip (no infinities or NaNs in it)")
    func codable() throws {
        let analysis = CapBreakAnalysis(
            points: Self.sweep(Self.sizes, timeout: 900, memoryMB: 3008, seed: 11), timeoutSeconds: 900, memoryMB: 3008)
        let data = try JSONEncoder().encode(analysis)
        #expect(try JSONDecoder().decode(CapBreakAnalysis.self, from: data) == analysis)
    }
}
