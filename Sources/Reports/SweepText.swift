import Analysis
import CloudModel
import Foundation
public import Studies

/// The text of sweeps and cap-break studies: the progress lines as points run, and the reports at their end.
public enum SweepText {
    /// The line that opens a sweep: what is swept over what, as what, for how long.
    public static func header(_ plan: SweepPlan, timeoutSeconds: Int, run: String) -> String {
        "\(plan.workload) swept over \(plan.sizes.parameter) (\(plan.sizes.sizes.map(plan.sizes.text).joined(separator: ", "))) "
            + "as a \(plan.executor == .function ? "Lambda-model function" : "Batch-model job"), timeout \(timeoutSeconds) s, "
            + "\(plan.repeats) repetition(s) per point; run \(run)"
    }

    /// What a sweep's event prints, if anything: the header once it started, a line per memory setting, a line per
    /// sample.
    public static func line(_ event: SweepEvent, request: SweepRequest, hints: some Hints) -> String? {
        let plan = request.plan
        switch event {
        case .started(let run):
            return header(plan, timeoutSeconds: request.timeoutSeconds, run: run.shortID)
        case .series(let memory):
            guard plan.executor == .function else {
                return "memory \(memory) MiB" + (plan.governsCPUShare ? "" : ": " + hints.ungoverned)
            }
            return "memory \(memory) MB: "
                + ShareText.share(memoryMB: memory, governed: plan.governsCPUShare, hints: hints)
        case .starting:
            return nil
        case .sample(let sample, let reused):
            return Self.sample(
                sample, sizes: plan.sizes, reused: reused,
                fullSpeed: plan.governsCPUShare ? nil : "full speed, \(hints.fullSpeed)")
        }
    }

    /// What a caps study with a scaled time cap says before it starts; nil when the cap is not scaled.
    public static func scaledTimeCap(_ study: CapsRequest) -> String? {
        guard study.scaledTimeout != study.timeout else { return nil }
        return "time cap scaled by \(fmt(study.timeCapScale)): the \(study.timeout) s timeout runs as "
            + "\(study.scaledTimeout) s here, so a measured \(study.scaledTimeout) s stands for \(study.timeout) s"
    }

    /// The line of a finished (or reused) sample; `fullSpeed` is what a sample measured without the CPU share says.
    public static func sample(_ sample: SweepSample, sizes: SizeList, reused: Bool, fullSpeed: String?) -> String {
        var line = "  \(sample.memoryMB) MB  \(sizes.parameter)=\(sizes.text(sample.size))  rep \(sample.repetition)"
        line += "  \(sample.status.rawValue)  \(fmtSeconds(sample.seconds))  peak \(fmt(sample.peakMB)) MB (measured)"
        if sample.phase != .step { line += "  [\(sample.phase.rawValue)]" }
        if reused { line += "  [recorded before]" }
        if let fullSpeed { line += "  [\(fullSpeed)]" }
        return line
    }

    /// What `sweep` prints at its end: per memory setting, the points and where the series stopped; then the fits.
    public static func sweep(_ report: SweepReport) -> String {
        var lines: [String] = []
        let unit = report.plan.executor == .function ? "MB" : "MiB"
        for series in report.series {
            lines.append("\n\(series.memoryMB) \(unit), timeout \(fmt(series.timeoutSeconds)) s:")
            let bySize = Dictionary(grouping: series.samples, by: \.size)
            let rows = bySize.keys.sorted().map { size -> [String] in
                let samples = bySize[size]!
                let seconds = samples.map(\.seconds).sorted()
                let statuses = Dictionary(grouping: samples, by: \.status.rawValue)
                    .map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", ")
                return [
                    report.plan.sizes.text(size), statuses, fmtSeconds(Summary.quantile(seconds, 0.5)),
                    fmt(samples.map(\.peakMB).max() ?? 0) + " MB", samples[0].phase.rawValue,
                ]
            }
            lines.append(
                table(
                    [
                        "\(report.plan.sizes.parameter.uppercased())", "OUTCOMES", "MEDIAN TIME (measured)",
                        "PEAK MEMORY (measured)", "PHASE",
                    ], rows))
            var line = "  stopped by \(series.stoppedBy)"
            if let passing = series.largestPassing {
                line += "; largest passing size \(report.plan.sizes.text(passing))"
            }
            if let broke = series.firstBreak {
                line += "; first break at \(report.plan.sizes.text(broke))"
                if let confirmed = series.confirmed {
                    line += confirmed ? " (confirmed)" : " (the next size passed: not confirmed)"
                }
            }
            lines.append(line)
        }
        lines.append("")
        lines.append(fits(report))
        return lines.joined(separator: "\n")
    }

    /// Per series: the fitted laws (projections from the measured points) and the breaks they predict.
    public static func fits(_ report: SweepReport) -> String {
        var lines: [String] = []
        let unit = report.plan.executor == .function ? "MB" : "MiB"
        for (index, (series, analysis)) in zip(report.series, report.analyses).enumerated() {
            var line = "\(series.memoryMB) \(unit) fits (projected from the measured points): "
            if let fit = analysis.timeFit {
                line += "time \(fit.formula) s (R² \(fmt(fit.rSquared)), n \(fit.n))"
                if let check = report.analyticChecks[index] {
                    line +=
                        "; time grows as size^\(fmt(check.fittedExponent)), FLOPs as size^\(fmt(check.analyticExponent)) (analytical)"
                    line +=
                        check.agrees ? ", consistent" : " — they differ: start-up, overheads or memory traffic dominate"
                }
            } else {
                line += "time: too few completed sizes to fit"
            }
            line +=
                "; memory "
                + (analysis.memoryFit.map { "\($0.formula) MB (R² \(fmt($0.rSquared)), n \($0.n))" }
                    ?? "too few points to fit")
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// What `caps` prints at its end: per memory size, the largest passing size, the observed and predicted breaks.
    public static func caps(_ report: SweepReport, hints: some Hints) -> String {
        var lines: [String] = []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let rows = zip(report.series, report.analyses).map { series, analysis -> [String] in
            let share = FunctionConfiguration.vcpuShare(memoryMB: series.memoryMB)
            let observed =
                analysis.observed.map { "\(report.plan.sizes.text($0.size)) (\($0.cap.rawValue))" }
                ?? (series.stoppedBy.hasPrefix("error")
                    ? series.stoppedBy : "none up to \(report.plan.sizes.text(series.samples.map(\.size).max() ?? 0))")
            func predicted(_ value: PredictedBreak?) -> String {
                guard let value else { return "-" }
                var text = fmt(value.size)
                if let interval = value.interval {
                    text += " [\(fmt(interval.lowerBound))–\(fmt(interval.upperBound))]"
                }
                if value.extrapolated { text += " extrap." }
                return text
            }
            let first =
                analysis.firstCap.map { $0.rawValue + (analysis.observed != nil ? " (observed)" : " (predicted)") }
                ?? "-"
            let agrees =
                analysis.predictionAgrees.map {
                    ($0 ? "yes" : "no") + (analysis.agreement.map { " (\(fmt($0 * 100, 2)) %)" } ?? "")
                } ?? "-"
            return [
                "\(series.memoryMB) MB", "\(fmt(share)) / \(FunctionConfiguration.threads(memoryMB: series.memoryMB))",
                analysis.largestPassingSize.map(report.plan.sizes.text) ?? "none", observed,
                predicted(analysis.predictedTime),
                predicted(analysis.predictedMemory), first, agrees,
            ]
        }
        lines.append(
            "\nwhere the caps break for \(report.plan.workload) (size parameter \(report.plan.sizes.parameter)); timeout \(fmt(report.series.first?.timeoutSeconds ?? 0)) s here:"
        )
        lines.append(
            table(
                [
                    "MEMORY", "vCPU SHARE / THREADS", "LARGEST OK (measured)", "OBSERVED BREAK",
                    "PREDICTED TIME BREAK [95 %]",
                    "PREDICTED MEMORY BREAK [95 %]", "FIRST CAP", "PREDICTION AGREES",
                ], rows))
        lines.append(
            "OBSERVED: an invocation really timed out or was killed at the cap; PREDICTED: where the fits cross the caps "
                + "(projected). Agreement: the prediction lies within the observed bracket (largest ok, break] widened by 10 %; "
                + "the percentage is |predicted − observed| / observed.")
        if report.timeScale < 1 {
            let realTimeout = (report.series.first?.timeoutSeconds ?? 0) / report.timeScale
            lines.append(
                "\ntime cap scaled by \(fmt(report.timeScale)): converted back to the real \(fmt(realTimeout)) s timeout "
                    + "(projected: the time fit extrapolated to \(fmt(1 / report.timeScale))× the longest measured run):"
            )
            for (series, analysis) in zip(report.series, report.analyses) {
                guard let fit = analysis.timeFit, let size = fit.solve(for: realTimeout) else {
                    lines.append("  \(series.memoryMB) MB: no time fit to extrapolate")
                    continue
                }
                let interval =
                    fit.crossingInterval(for: realTimeout).map { " [\(fmt($0.lowerBound))–\(fmt($0.upperBound))]" }
                    ?? ""
                var line =
                    "  \(series.memoryMB) MB: the \(fmt(realTimeout)) s cap breaks at \(report.plan.sizes.parameter) ≈ \(fmt(size))\(interval)"
                if let memoryBreak = analysis.predictedMemory?.size, memoryBreak < size {
                    line += ", but memory breaks first at ≈ \(fmt(memoryBreak))"
                }
                lines.append(line)
            }
        }
        let below = report.series.filter { Double($0.memoryMB) < FunctionConfiguration.megabytesPerVCPU }.map(
            \.memoryMB)
        if !report.plan.governsCPUShare && !below.isEmpty {
            lines.append(
                "\nCPU: Lambda gives memory / 1,769 MB of a vCPU; with \(hints.fullSpeed) each function ran its threads on whole "
                    + "cores of this \(cores)-core machine, so at \(below.map(String.init).joined(separator: ", ")) MB Lambda "
                    + "itself would run slower than measured.")
        } else if report.plan.governsCPUShare {
            lines.append(
                "\nCPU: each function was held to memory / 1,769 MB of a vCPU (at most 6), as Lambda holds it, so the "
                    + "times above are what Lambda's share gives on this machine's cores.")
        }
        lines.append("")
        lines.append(fits(report))
        if let wallSeconds = report.wallSeconds {
            lines.append(
                "the analysis took \(fmtSeconds(wallSeconds)) (measured), \(report.series.map(\.samples.count).reduce(0, +)) invocation(s)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
