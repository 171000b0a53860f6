public import Analysis
import Foundation
public import Studies

/// A comparison of two results as terminal text: a row per benchmark, then what the comparison says as a whole.
public enum CompareText {
    public static func text(_ comparison: Comparison) -> String {
        let result = comparison.result
        let rows = result.benchmarks.map { change -> [String] in
            let counts = "\(change.base?.count ?? 0)/\(change.new?.count ?? 0)"
            let median = change.changePercent[.median].map(signedPercent) ?? "-"
            let noise = change.noisePercent.map { "±" + fmt($0, 2) + "%" } ?? "-"
            let p = change.test.map { fmt($0.p, 2) } ?? "-"
            return [
                change.name, counts, change.base.map { fmtSeconds($0.median) } ?? "-",
                change.new.map { fmtSeconds($0.median) } ?? "-", median, noise, p, verdict(change),
            ]
        }
        var lines = [
            "base: \(comparison.base.source); new: \(comparison.new.source) (times measured; + is slower)",
            table(["benchmark", "n", "base median", "new median", "change", "noise", "p", "verdict"], rows),
        ]
        if result.benchmarks.contains(where: { ($0.test?.smallestP ?? 0) >= BenchmarkChange.alpha }) {
            lines.append(
                "few measurements: where p cannot go below \(fmt(BenchmarkChange.alpha, 1)), a change counts when every "
                    + "new time lies beyond every base time (at least 2 of each)")
        }
        lines.append(
            "noise: the pooled relative MAD of the two; p: Mann–Whitney U, two-sided; a change counts when p < "
                + "\(fmt(BenchmarkChange.alpha, 1)) and it is larger than the noise")
        lines.append(summary(result))
        return lines.joined(separator: "\n")
    }

    /// The comparison's conclusion in one line: counts of each verdict and the thresholds.
    public static func summary(_ result: ResultComparison) -> String {
        let verdicts: [BenchmarkChange.Verdict] = [.regressed, .improved, .unchanged, .missing]
        let counts = verdicts.compactMap { verdict in
            let count = result.count(verdict)
            return count == 0 ? nil : "\(count) \(verdict.rawValue)"
        }
        let limits =
            result.thresholds.isEmpty
            ? "" : "; thresholds " + result.thresholds.map(\.text).joined(separator: ", ")
        return counts.joined(separator: ", ") + limits
    }

    /// `regressed (over median:+10%)`, `missing in new`.
    static func verdict(_ change: BenchmarkChange) -> String {
        switch change.verdict {
        case .missing: return change.base == nil ? "missing in base" : "missing in new"
        case .regressed where !change.breached.isEmpty:
            return "regressed (over " + change.breached.map(\.text).joined(separator: ", ") + ")"
        default: return change.verdict.rawValue
        }
    }

    static func signedPercent(_ value: Double) -> String { (value > 0 ? "+" : "") + fmt(value, 2) + "%" }

    /// The comparison as `--json` prints it.
    public struct JSON: Encodable {
        public var schema = "capsize.compare/1"
        public var base: String
        public var new: String
        public var outcome: ResultComparison.Outcome
        public var thresholds: [String]
        public var alpha = BenchmarkChange.alpha
        public var benchmarks: [BenchmarkChange]

        public init(_ comparison: Comparison) {
            base = comparison.base.source
            new = comparison.new.source
            outcome = comparison.result.outcome
            thresholds = comparison.result.thresholds.map(\.text)
            benchmarks = comparison.result.benchmarks
        }
    }
}
