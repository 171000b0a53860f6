import Testing

@testable import Analysis

@Suite struct BenchmarkComparisonTests {
    static let base: [Double] = [1.00, 1.01, 0.99, 1.02, 0.98]

    @Test("a clearly slower benchmark regresses; a clearly faster one improves; the median change is in percent")
    func verdicts() {
        let slower = BenchmarkChange(name: "a", base: Self.base, new: Self.base.map { $0 * 1.5 })
        #expect(slower.verdict == .regressed)
        #expect(abs((slower.changePercent[.median] ?? 0) - 50) < 1e-9)
        #expect(slower.significant)
        let faster = BenchmarkChange(name: "a", base: Self.base, new: Self.base.map { $0 * 0.5 })
        #expect(faster.verdict == .improved)
        #expect(abs((faster.changePercent[.median] ?? 0) + 50) < 1e-9)
    }

    @Test("a small change inside the noise band of noisy times is unchanged")
    func noise() {
        let noisy: [Double] = [1.0, 1.2, 0.8, 1.3, 0.7, 1.1, 0.9]
        let change = BenchmarkChange(name: "a", base: noisy, new: noisy.map { $0 + 0.02 })
        #expect(change.verdict == .unchanged)
        #expect((change.noisePercent ?? 0) > 2)
    }

    @Test("three against three, all apart, counts though p cannot go below 0.1; one against one never does")
    func fewSamples() {
        let three = BenchmarkChange(name: "a", base: [1, 1.01, 0.99], new: [1.2, 1.21, 1.19])
        #expect(three.significant && three.verdict == .regressed)
        #expect(abs((three.test?.p ?? 0) - 0.1) < 1e-12)
        let one = BenchmarkChange(name: "a", base: [1], new: [2])
        #expect(!one.significant && one.verdict == .unchanged)
    }

    @Test("with thresholds, a slowdown regresses only over one of them, and says which")
    func thresholds() {
        let slower = Self.base.map { $0 * 1.08 }
        let within = BenchmarkChange(
            name: "a", base: Self.base, new: slower, thresholds: [ChangeThreshold(statistic: .median, percent: 10)])
        #expect(within.verdict == .unchanged && within.breached.isEmpty)
        let over = BenchmarkChange(
            name: "a", base: Self.base, new: slower, thresholds: [ChangeThreshold(statistic: .p90, percent: 5)])
        #expect(over.verdict == .regressed)
        #expect(over.breached == [ChangeThreshold(statistic: .p90, percent: 5)])
        #expect(ChangeThreshold(statistic: .p90, percent: 5).text == "p90:+5%")
        #expect(ChangeThreshold(statistic: .mean, percent: 2.5).text == "mean:+2.5%")
    }

    @Test("benchmarks are matched by name; one side only is missing, none in common is incomparable")
    func outcomes() {
        let base = [(name: "x", seconds: Self.base), (name: "gone", seconds: Self.base)]
        let regressed = ResultComparison(
            base: base, new: [(name: "x", seconds: Self.base.map { $0 * 2 }), (name: "added", seconds: [1])])
        #expect(regressed.benchmarks.map(\.name) == ["x", "gone", "added"])
        #expect(regressed.benchmarks.map(\.verdict) == [.regressed, .missing, .missing])
        #expect(regressed.outcome == .regressed)
        #expect(ResultComparison(base: base, new: [(name: "x", seconds: Self.base)]).outcome == .unchanged)
        #expect(
            ResultComparison(base: base, new: [(name: "x", seconds: Self.base.map { $0 / 2 })]).outcome == .improved)
        #expect(ResultComparison(base: base, new: [(name: "other", seconds: Self.base)]).outcome == .incomparable)
    }
}
