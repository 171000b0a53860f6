import Foundation
public import Studies
import Workloads

/// A bench as terminal text: a line per event while it runs, then the summary.
public enum BenchText {
    /// What the terminal shows for one event of the bench.
    public static func line(_ event: BenchEvent, request: BenchRequest, storePath: String, resumed: Bool) -> String {
        switch event {
        case .prepared(let target, let estimate, let initSeconds):
            let values = request.values
            var lines = [
                "\(Swift.type(of: request.workload).name) on \(target) — "
                    + values.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    + (values.trailing.isEmpty ? "" : " -- " + values.trailing.joined(separator: " "))
            ]
            if estimate.flops > 0 {
                lines.append(
                    "estimate (projected from the parameters): \(fmt(estimate.flops / 1e9)) GFLOP per run, "
                        + "\(formatBytes(target.isHost ? estimate.hostBytes : estimate.hostBytesBesideDevice)) host memory"
                        + (target.isHost ? "" : ", \(formatBytes(estimate.deviceBytes)) device memory"))
            }
            lines.append(
                "init (measured): \(fmtSeconds(initSeconds)); \(request.warmup) warm-up run(s), then \(request.repeats) measured"
            )
            return lines.joined(separator: "\n")
        case .recorded(let run, let earlier):
            return "recorded as run \(run.shortID) in \(storePath)"
                + (resumed ? ": resumed with \(earlier) of \(request.repeats) runs recorded before" : "")
        case .measured(let index, let result):
            return runLine(index, result)
        }
    }

    static func runLine(_ index: Int, _ result: RunResult) -> String {
        var parts = ["  run \(index): \(fmtSeconds(result.seconds))"]
        if result.flops > 0 { parts.append("\(fmt(result.gflops)) GFLOP/s") }
        for (key, value) in result.throughput.sorted(by: { $0.key < $1.key }) {
            parts.append("\(fmt(value)) \(key.replacingOccurrences(of: "_", with: " "))")
        }
        parts.append("checksum \(result.checksum)")
        parts += result.notes
        return parts.joined(separator: ", ")
    }

    /// The summary after the runs: statistics, throughput against the peak, the median run's details.
    public static func summary(_ report: BenchReport, hints: some Hints) -> String {
        var lines: [String] = []
        func say(_ line: String) { lines.append(line) }
        let s = report.summary
        say(
            "measured here, \(s.count) runs: min \(fmtSeconds(s.min)), median \(fmtSeconds(s.median)), "
                + "p90 \(fmtSeconds(s.p90)), max \(fmtSeconds(s.max)); 95% CI of the median "
                + "[\(fmtSeconds(s.medianCI95.lowerBound)), \(fmtSeconds(s.medianCI95.upperBound))] (bootstrap)")
        if !s.outliers.isEmpty {
            say(
                "warning: \(s.outliers.count) outlier run(s) by MAD (runs \(s.outliers.map { "\($0 + 1)" }.joined(separator: ", "))): "
                    + "the machine may be busy; the median is robust to them")
        }
        if let gflops = report.gflops {
            var line = "throughput (measured): \(fmt(gflops.median)) GFLOP/s median"
            if let peak = report.peak, let fraction = report.fractionOfPeak {
                line +=
                    " = \(fmt(fraction * 100))% of the calibrated \(peak.name) (\(fmt(peak.gflops)) GFLOP/s, "
                    + "measured \(peak.measuredAt.formatted(.iso8601))\(peak.quick ? ", quick" : ""))"
            } else if report.peak == nil {
                line += "; no calibrated peak stored for this device: run `\(hints.calibrate)`"
            }
            say(line)
        }
        for (key, value) in report.throughputMedians.sorted(by: { $0.key < $1.key }) {
            say("  \(key.replacingOccurrences(of: "_", with: " ")) (measured, median): \(fmt(value))")
        }
        let medianRun = report.runs[report.medianRunIndex]
        let metrics = medianRun.metrics
        if let kernel = metrics["kernel_seconds"], let transfer = metrics["transfer_seconds"],
            let host = metrics["host_seconds"]
        {
            say(
                "  time split of the median run (measured, OpenCL profiling events): kernel \(fmtSeconds(kernel)), "
                    + "transfer \(fmtSeconds(transfer)), host \(fmtSeconds(host))")
        }
        if let losses = medianRun.series["loss"] {
            let shown = losses.count <= 12 ? losses : Array(losses.prefix(6)) + Array(losses.suffix(6))
            say(
                "  loss per step (measured): " + shown.map { String(format: "%.6f", $0) }.joined(separator: " ")
                    + (losses.count > 12 ? " (first and last 6 of \(losses.count))" : ""))
            if let step = metrics["step_seconds"] {
                say("  step time (measured, median of steps): \(fmtSeconds(step))")
            }
        }
        say(
            (report.workload == CommandWorkload.name
                ? "  peak memory of the command (measured, its process tree): "
                : "  peak host memory (measured, this process): ") + formatBytes(medianRun.peakHostBytes)
                + (medianRun.deviceBytes > 0 ? "; device memory held: \(formatBytes(medianRun.deviceBytes))" : ""))
        return lines.joined(separator: "\n")
    }
}

extension ExecutionTarget {
    var isHost: Bool { if case .host = self { true } else { false } }
}
