public import Analysis
import CapsizeCore
import Foundation
public import Store

/// What `compare` does as a library call: reads two results and compares their benchmarks by name.
public struct Comparison: Sendable {
    public var base: BenchmarkResults
    public var new: BenchmarkResults
    public var result: ResultComparison

    /// Reads `base` and `new` (report directories, results.json files or run ids) and compares them.
    /// - Parameters:
    ///   - thresholds: texts such as `median:+10%`, checked before anything is read.
    ///   - store: opens the store, only when an argument is a run id.
    /// - Throws: `InputError` naming the setting `failIf` for a threshold it cannot read;
    ///   `BenchmarkResults.Unavailable` when a result cannot be read.
    public init(base: String, new: String, thresholds: [String], store: () throws -> CapsizeStore) throws {
        let limits = try thresholds.map(ChangeThreshold.init(text:))
        self.base = try BenchmarkResults.load(base, store: store)
        self.new = try BenchmarkResults.load(new, store: store)
        result = ResultComparison(
            base: self.base.benchmarks.map { ($0.name, $0.seconds) },
            new: self.new.benchmarks.map { ($0.name, $0.seconds) }, thresholds: limits)
    }
}

extension ChangeThreshold {
    /// The format a threshold is written in, as errors say it.
    public static let format =
        "STATISTIC:+PERCENT% with STATISTIC median, p90 or mean and PERCENT a number above 0 (slower by more than "
        + "that fails), e.g. median:+10%"

    /// Reads `median:+10%`, `p90:+5.5%` or `mean:+20%` (the `+` may be left out).
    /// - Throws: `InputError` naming the setting `failIf`.
    public init(text: String) throws {
        let bad = InputError(setting: "failIf", value: text, allowed: Self.format)
        guard let match = text.wholeMatch(of: /(median|p90|mean):\+?([0-9]+(?:\.[0-9]+)?)%/),
            let statistic = ComparedStatistic(rawValue: String(match.1)), let percent = Double(match.2),
            percent > 0, percent <= 1_000_000
        else { throw bad }
        self.init(statistic: statistic, percent: percent)
    }
}
