import Analysis
import Foundation

/// What `sweep` and `caps` print: per memory setting, the points (measured) and the breaks.
struct SweepReport: Encodable {
    var run: String
    var plan: SweepPlan
    var series: [SweepSeries]
    /// The factor the time cap was scaled by (`caps --time-cap-scale`); 1 for a sweep.
    var timeScale: Double

    func print() {
        let unit = plan.executor == "function" ? "MB" : "MiB"
        for series in series {
            say("\n\(series.memoryMB) \(unit), timeout \(fmt(series.timeoutSeconds)) s:")
            let bySize = Dictionary(grouping: series.samples, by: \.size)
            let rows = bySize.keys.sorted().map { size -> [String] in
                let samples = bySize[size]!
                let seconds = samples.map(\.seconds).sorted()
                let statuses = Dictionary(grouping: samples, by: \.status.rawValue)
                    .map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", ")
                return [
                    plan.sizes.text(size), statuses, fmtSeconds(Summary.quantile(seconds, 0.5)),
                    fmt(samples.map(\.peakMB).max() ?? 0) + " MB", samples[0].phase.rawValue,
                ]
            }
            say(table(["\(plan.sizes.parameter.uppercased())", "OUTCOMES", "MEDIAN TIME (measured)", "PEAK MEMORY (measured)", "PHASE"], rows))
            var line = "  stopped by \(series.stoppedBy)"
            if let passing = series.largestPassing { line += "; largest passing size \(plan.sizes.text(passing))" }
            if let broke = series.firstBreak {
                line += "; first break at \(plan.sizes.text(broke))"
                if let confirmed = series.confirmed { line += confirmed ? " (confirmed)" : " (the next size passed: not confirmed)" }
            }
            say(line)
        }
    }
}
