import Analysis
import ArgumentParser
import CapsizeCore
import Reports
import Studies

/// `capsize compare BASE NEW [--fail-if median:+10%]… [--json]`: two results' benchmarks compared, with
/// package-benchmark's exit codes.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the benchmarks of two results: each one's change, a test and a noise band.",
        discussion: """
            BASE and NEW are report directories (their results.json), results.json files, or stored runs (an id or a \
            unique prefix; a run's measurements are grouped by item without the repetition). Benchmarks are matched by \
            name. A change counts when the Mann–Whitney U test finds it (p < 0.05; with too few measurements for that, \
            when every new time lies beyond every base time) and it is larger than the noise band (the pooled relative \
            MAD). With --fail-if, a slowdown is a regression only when it goes over a threshold.

            Exit codes, as package-benchmark's: 0 no significant change, 2 a regression, 4 improvements only, 5 the \
            baseline is missing or incomparable (no benchmark in common, a file that cannot be read, another schema). \
            Bad flags exit 2 as well, with one line on standard error and no table.

            Examples:
              capsize compare capsize-report-main capsize-report --fail-if median:+10%
              capsize compare 1f2e3d4c 5a6b7c8d --json
            """)

    @Argument(
        help: ArgumentHelp("The baseline: a report directory, a results.json file or a run id.", valueName: "BASE"))
    var base: String
    @Argument(
        help: ArgumentHelp("The new result: a report directory, a results.json file or a run id.", valueName: "NEW"))
    var new: String
    @Option(
        name: .customLong("fail-if"),
        help: ArgumentHelp(
            "Fail (exit 2) when a statistic gets slower by more than this, e.g. median:+10%, p90:+25% or mean:+5% "
                + "(repeatable).", valueName: "STATISTIC:+PERCENT%"))
    var failIf: [String] = []
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let comparison: Comparison
        do {
            comparison = try Comparison(base: base, new: new, thresholds: failIf, store: openStore)
        } catch let error as BenchmarkResults.Unavailable {
            throw CommandFailure(message: "cannot compare \(error)", code: Self.incomparable)
        }
        if json { try printJSON(CompareText.JSON(comparison)) } else { say(CompareText.text(comparison)) }
        let result = comparison.result
        switch result.outcome {
        case .unchanged: return
        case .regressed:
            throw CommandFailure(message: "regression: \(CompareText.summary(result))", code: Self.regression)
        case .improved:
            throw CommandFailure(message: "improvements only: \(CompareText.summary(result))", code: Self.improvement)
        case .incomparable:
            throw CommandFailure(
                message: "cannot compare: no benchmark is in both \(comparison.base.source) and "
                    + "\(comparison.new.source)", code: Self.incomparable)
        }
    }

    /// package-benchmark's exit codes.
    static let regression: Int32 = 2
    static let improvement: Int32 = 4
    static let incomparable: Int32 = 5
}
