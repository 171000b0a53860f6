import Analysis
import CloudModel
import Foundation
import Reports

/// What `sweep` and `caps` print: per memory setting, the points (measured) and the breaks.
struct SweepReport: Encodable {
    var run: String
    var plan: SweepPlan
    var series: [SweepSeries]
    /// The factor the time cap was scaled by (`caps --time-cap-scale`); 1 for a sweep.
    var timeScale: Double
    /// Where the caps break per series (observed and predicted from fits): projections from measurements.
    var analyses: [CapBreakAnalysis]
    /// Per series, the measured time exponent against the analytical FLOPs' (nil when the workload cannot say).
    var analyticChecks: [AnalyticCheck?] = []
    /// Measured wall time of the whole analysis.
    var wallSeconds: Double?

    init(run: String, plan: SweepPlan, series: [SweepSeries], timeScale: Double) {
        self.run = run
        self.plan = plan
        self.series = series
        self.timeScale = timeScale
        analyses = series.map(Self.analyse)
        analyticChecks = series.map(analyticCheck)
    }

    /// The cap-break analysis of one series.
    static func analyse(_ series: SweepSeries) -> CapBreakAnalysis {
        let points = series.samples.map { sample in
            let outcome: SweepPoint.Outcome =
                switch sample.status {
                case .completed: .completed
                case .timeout: .timeout
                case .outOfMemory: .outOfMemory
                case .error, .crash: .error
                }
            return SweepPoint(size: sample.size, outcome: outcome, seconds: sample.seconds, peakMemoryMB: sample.peakMB)
        }
        return CapBreakAnalysis(points: points, timeoutSeconds: series.timeoutSeconds, memoryMB: Double(series.memoryMB))
    }

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
        say("")
        printFits()
    }

    /// Per series: the fitted laws (projections from the measured points) and the breaks they predict.
    func printFits() {
        let unit = plan.executor == "function" ? "MB" : "MiB"
        for (index, (series, analysis)) in zip(series, analyses).enumerated() {
            var line = "\(series.memoryMB) \(unit) fits (projected from the measured points): "
            if let fit = analysis.timeFit {
                line += "time \(fit.formula) s (R² \(fmt(fit.rSquared)), n \(fit.n))"
                if let check = analyticChecks[index] {
                    line += "; time grows as size^\(fmt(check.fittedExponent)), FLOPs as size^\(fmt(check.analyticExponent)) (analytical)"
                    line += check.agrees ? ", consistent" : " — they differ: start-up, overheads or memory traffic dominate"
                }
            } else {
                line += "time: too few completed sizes to fit"
            }
            line += "; memory " + (analysis.memoryFit.map { "\($0.formula) MB (R² \(fmt($0.rSquared)), n \($0.n))" } ?? "too few points to fit")
            say(line)
        }
    }

    /// The measured time exponent of a series against the exponent of the workload's analytical FLOPs.
    func analyticCheck(_ series: SweepSeries) -> AnalyticCheck? {
        let completed = Dictionary(grouping: series.samples.filter { $0.status == .completed }, by: \.size)
        let work = completed.keys.sorted().compactMap { size in plan.flops(at: size).map { (size, $0) } }
        return AnalyticCheck(
            sizes: work.map(\.0), seconds: work.map { Summary.quantile(completed[$0.0]!.map(\.seconds).sorted(), 0.5) },
            work: work.map(\.1))
    }

    /// The `caps` table: per memory size, the largest passing size, the observed and predicted breaks.
    func printCaps() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let rows = zip(series, analyses).map { series, analysis -> [String] in
            let share = FunctionConfiguration.vcpuShare(memoryMB: series.memoryMB)
            let observed = analysis.observed.map { "\(plan.sizes.text($0.size)) (\($0.cap.rawValue))" }
                ?? (series.stoppedBy.hasPrefix("error") ? series.stoppedBy : "none up to \(plan.sizes.text(series.samples.map(\.size).max() ?? 0))")
            func predicted(_ value: PredictedBreak?) -> String {
                guard let value else { return "-" }
                var text = fmt(value.size)
                if let interval = value.interval { text += " [\(fmt(interval.lowerBound))–\(fmt(interval.upperBound))]" }
                if value.extrapolated { text += " extrap." }
                return text
            }
            let first = analysis.firstCap.map { $0.rawValue + (analysis.observed != nil ? " (observed)" : " (predicted)") } ?? "-"
            let agrees = analysis.predictionAgrees.map { ($0 ? "yes" : "no") + (analysis.agreement.map { " (\(fmt($0 * 100, 2)) %)" } ?? "") } ?? "-"
            return [
                "\(series.memoryMB) MB", "\(fmt(share)) / \(FunctionConfiguration.threads(memoryMB: series.memoryMB))",
                analysis.largestPassingSize.map(plan.sizes.text) ?? "none", observed, predicted(analysis.predictedTime),
                predicted(analysis.predictedMemory), first, agrees,
            ]
        }
        say("\nwhere the caps break for \(plan.workload) (size parameter \(plan.sizes.parameter)); timeout \(fmt(series.first?.timeoutSeconds ?? 0)) s here:")
        say(table(
            ["MEMORY", "vCPU SHARE / THREADS", "LARGEST OK (measured)", "OBSERVED BREAK", "PREDICTED TIME BREAK [95 %]",
             "PREDICTED MEMORY BREAK [95 %]", "FIRST CAP", "PREDICTION AGREES"], rows))
        say("OBSERVED: an invocation really timed out or was killed at the cap; PREDICTED: where the fits cross the caps "
            + "(projected). Agreement: the prediction lies within the observed bracket (largest ok, break] widened by 10 %; "
            + "the percentage is |predicted − observed| / observed.")
        if timeScale < 1 {
            let realTimeout = (series.first?.timeoutSeconds ?? 0) / timeScale
            say("\ntime cap scaled by \(fmt(timeScale)): converted back to the real \(fmt(realTimeout)) s timeout "
                + "(projected: the time fit extrapolated to \(fmt(1 / timeScale))× the longest measured run):")
            for (series, analysis) in zip(series, analyses) {
                guard let fit = analysis.timeFit, let size = fit.solve(for: realTimeout) else {
                    say("  \(series.memoryMB) MB: no time fit to extrapolate")
                    continue
                }
                let interval = fit.crossingInterval(for: realTimeout).map { " [\(fmt($0.lowerBound))–\(fmt($0.upperBound))]" } ?? ""
                var line = "  \(series.memoryMB) MB: the \(fmt(realTimeout)) s cap breaks at \(plan.sizes.parameter) ≈ \(fmt(size))\(interval)"
                if let memoryBreak = analysis.predictedMemory?.size, memoryBreak < size {
                    line += ", but memory breaks first at ≈ \(fmt(memoryBreak))"
                }
                say(line)
            }
        }
        let below = series.filter { Double($0.memoryMB) < FunctionConfiguration.megabytesPerVCPU }.map(\.memoryMB)
        if !plan.governsCPUShare && !below.isEmpty {
            say("\nCPU: Lambda gives memory / 1,769 MB of a vCPU; with --no-cpu-share each function ran its threads on whole "
                + "cores of this \(cores)-core machine, so at \(below.map(String.init).joined(separator: ", ")) MB Lambda "
                + "itself would run slower than measured.")
        } else if plan.governsCPUShare {
            say("\nCPU: each function was held to memory / 1,769 MB of a vCPU (at most 6), as Lambda holds it, so the "
                + "times above are what Lambda's share gives on this machine's cores.")
        }
        say("")
        printFits()
        if let wallSeconds { say("the analysis took \(fmtSeconds(wallSeconds)) (measured), \(series.map(\.samples.count).reduce(0, +)) invocation(s)") }
    }
}
