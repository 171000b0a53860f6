import Foundation

/// A statistic of a benchmark's times that a threshold can name.
public enum ComparedStatistic: String, CaseIterable, Codable, CodingKeyRepresentable, Sendable {
    case median, p90, mean

    /// The statistic of `summary`.
    public func of(_ summary: Summary) -> Double {
        switch self {
        case .median: summary.median
        case .p90: summary.p90
        case .mean: summary.mean
        }
    }
}

/// A limit on how much slower a benchmark may get: `median:+10%` fails when the median time grows by more than 10 %.
public struct ChangeThreshold: Codable, Sendable, Equatable {
    public var statistic: ComparedStatistic
    /// How many percent slower is still allowed (greater than 0).
    public var percent: Double

    public init(statistic: ComparedStatistic, percent: Double) {
        self.statistic = statistic
        self.percent = percent
    }

    /// As the command line writes it: `median:+10%`.
    public var text: String { "\(statistic.rawValue):+\(NumberFormatting.plain(percent))%" }
}

/// One benchmark's times in a baseline and in a new result, compared.
public struct BenchmarkChange: Codable, Sendable, Equatable {
    /// What the comparison concludes.
    public enum Verdict: String, Codable, Sendable {
        /// Significantly faster, by more than the noise band.
        case improved
        /// Significantly slower, by more than the noise band (and over a threshold, when there are thresholds).
        case regressed
        /// No change the test and the noise band can tell from noise.
        case unchanged
        /// In one of the two results only.
        case missing
    }

    public var name: String
    public var base: Summary?
    public var new: Summary?
    /// The change of each statistic, in percent of the baseline's (+ is slower); empty when one side is missing.
    public var changePercent: [ComparedStatistic: Double]
    /// The Mann–Whitney test of the new times against the baseline's; nil when one side is missing.
    public var test: MannWhitney?
    /// ± this many percent is noise: the pooled relative MAD of the two results,
    /// √((MAD₁/median₁)² + (MAD₂/median₂)²) · 100.
    public var noisePercent: Double?
    /// Whether the test tells the two apart: p < α, or, where these sample sizes cannot reach α (3 against 3
    /// cannot go below 0.1), every new time beyond every baseline time with at least 2 of each.
    public var significant: Bool
    /// The thresholds this benchmark went over, significantly and beyond the noise band.
    public var breached: [ChangeThreshold]
    public var verdict: Verdict

    /// The two-sided significance level.
    public static let alpha = 0.05

    /// Compares the times of one benchmark; `base` or `new` nil or empty when the benchmark is missing there.
    /// - Parameter thresholds: when given, a slowdown is a regression only when it goes over one of them.
    public init(name: String, base: [Double]?, new: [Double]?, thresholds: [ChangeThreshold] = []) {
        self.name = name
        guard let base, let new, !base.isEmpty, !new.isEmpty else {
            self.base = base.flatMap { $0.isEmpty ? nil : Summary($0) }
            self.new = new.flatMap { $0.isEmpty ? nil : Summary($0) }
            changePercent = [:]
            significant = false
            breached = []
            verdict = .missing
            return
        }
        let before = Summary(base)
        let after = Summary(new)
        self.base = before
        self.new = after
        var changes: [ComparedStatistic: Double] = [:]
        for statistic in ComparedStatistic.allCases {
            let old = statistic.of(before)
            changes[statistic] = old > 0 ? (statistic.of(after) - old) / old * 100 : 0
        }
        changePercent = changes
        let test = MannWhitney(new, base)
        self.test = test
        let relative = { (summary: Summary) in summary.median > 0 ? summary.mad / summary.median : 0 }
        let noise = (pow(relative(before), 2) + pow(relative(after), 2)).squareRoot() * 100
        noisePercent = noise
        let pairs = Double(base.count * new.count)
        let apart = (test.u == 0 || test.u == pairs) && base.count >= 2 && new.count >= 2
        significant = test.p < Self.alpha || (test.smallestP >= Self.alpha && apart)
        var breached: [ChangeThreshold] = []
        for threshold in thresholds where significant {
            let change = changes[threshold.statistic] ?? 0
            if change > threshold.percent && change > noise { breached.append(threshold) }
        }
        self.breached = breached
        let median = changes[.median] ?? 0
        if significant && (thresholds.isEmpty ? median > noise : !breached.isEmpty) {
            verdict = .regressed
        } else if significant && median < -noise {
            verdict = .improved
        } else {
            verdict = .unchanged
        }
    }
}

/// Every benchmark of a baseline and a new result, compared by name.
public struct ResultComparison: Codable, Sendable, Equatable {
    /// What the comparison as a whole says, as package-benchmark's exit codes do.
    public enum Outcome: String, Codable, Sendable {
        /// No benchmark changed significantly (or only within thresholds).
        case unchanged
        /// At least one benchmark regressed.
        case regressed
        /// Some benchmarks improved and none regressed.
        case improved
        /// No benchmark is in both results: nothing could be compared.
        case incomparable
    }

    /// The baseline's benchmarks in its order, then those only the new result has.
    public var benchmarks: [BenchmarkChange]
    public var thresholds: [ChangeThreshold]

    /// Compares benchmarks by name; each is a name and its times (seconds).
    public init(
        base: [(name: String, seconds: [Double])], new: [(name: String, seconds: [Double])],
        thresholds: [ChangeThreshold] = []
    ) {
        var newTimes: [String: [Double]] = [:]
        for benchmark in new { newTimes[benchmark.name, default: []] += benchmark.seconds }
        var baseTimes: [String: [Double]] = [:]
        var order: [String] = []
        for benchmark in base {
            if baseTimes[benchmark.name] == nil { order.append(benchmark.name) }
            baseTimes[benchmark.name, default: []] += benchmark.seconds
        }
        for benchmark in new where baseTimes[benchmark.name] == nil && !order.contains(benchmark.name) {
            order.append(benchmark.name)
        }
        benchmarks = order.map {
            BenchmarkChange(name: $0, base: baseTimes[$0], new: newTimes[$0], thresholds: thresholds)
        }
        self.thresholds = thresholds
    }

    public var outcome: Outcome {
        if benchmarks.allSatisfy({ $0.verdict == .missing }) { return .incomparable }
        if benchmarks.contains(where: { $0.verdict == .regressed }) { return .regressed }
        if benchmarks.contains(where: { $0.verdict == .improved }) { return .improved }
        return .unchanged
    }

    /// How many benchmarks got each verdict.
    public func count(_ verdict: BenchmarkChange.Verdict) -> Int {
        benchmarks.count { $0.verdict == verdict }
    }
}

/// Numbers in threshold texts: `10`, `2.5`.
enum NumberFormatting {
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
