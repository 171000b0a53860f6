public import CloudModel
import Foundation
public import Planning
public import Studies

/// The text of `recommend`: the profile as it is measured, then the options and the pick.
public enum RecommendText {
    /// The line before the profile's rungs: what is profiled, at which size, in which run.
    public static func started(_ request: RecommendRequest, run: String) -> String {
        "profiling \(request.type.name) at \(request.sizes.parameter)=\(request.sizeText) here (measured; run \(run)):"
    }

    /// The line of one measured rung of the profile's ladder.
    public static func rung(_ rung: WorkloadProfiler.Rung, sizes: SizeList) -> String {
        "  measured: \(sizes.parameter)=\(sizes.text(rung.size)) on \(rung.threads) thread(s): \(fmtSeconds(rung.seconds)), "
            + "peak \(fmt(rung.peakMB)) MB"
    }

    /// How many options of each kind the table shows unless asked for all.
    public static let bestPerKind = 3

    /// What `recommend` prints: the profile and how each figure was obtained, the options by kind (the best
    /// `bestPerKind` of each for the strategy, or every one with `all`), the pick and why.
    public static func summary(
        _ profiled: WorkloadProfiler.Result, _ recommendation: Recommendation, catalog: PriceCatalog,
        all: Bool = false, hints: some Hints
    ) -> String {
        var lines: [String] = []
        let profile = profiled.profile
        lines.append("profile of one run:")
        lines.append("  runtime on 1 thread here: \(fmtSeconds(profile.localSeconds)) (\(profiled.secondsBasis))")
        lines.append("  peak memory: \(fmt(profile.peakMemoryMB)) MB (\(profiled.memoryBasis))")
        if let amdahl = profiled.amdahl {
            lines.append(
                "  CPU scaling: serial fraction \(fmt(amdahl.serialFraction)) (Amdahl fit of 1 and \(Int(profiled.rungs.map(\.threads).max() ?? 1)) threads, measured)"
            )
        }
        if let startup = profile.startupSeconds {
            lines.append("  cold start (Init): \(fmtSeconds(startup)) (measured)")
        }
        if let flops = profile.flops { lines.append("  FLOPs: \(String(format: "%.3g", flops)) (analytical)") }
        lines.append(
            "  GPU: "
                + (profiled.gpuBasis
                    ?? "no GPU run of this workload in the store; GPU runtimes are projected from the FP32 rates of the catalog (spec sheets)")
        )
        let shown = all ? "every option" : "the best \(bestPerKind) options of each kind"
        lines.append(
            "\n\(shown) for \(recommendation.runs) run(s), \(recommendation.strategy.rawValue) first (all runtimes and "
                + "costs projected; prices: \(catalog.version), \(catalog.region)):")
        func row(_ option: PlanOption) -> [String] {
            [
                option.id, option.summary,
                option.runtime.map { fmtSeconds($0.seconds) } ?? "-",
                "\(fmtSeconds(option.startup.lower))–\(fmtSeconds(option.startup.upper))",
                option.costPerRun.map { fmtDollars($0.dollars) } ?? "-",
                option.costForRuns.map { fmtDollars($0.dollars) } ?? "-",
                option.isFeasible
                    ? (option.warnings.isEmpty ? "yes" : "yes, near a cap")
                    : "no: " + option.infeasibleReasons.joined(separator: "; "),
            ]
        }
        var rows: [[String]] = []
        var groups: [(title: String, rows: Int)] = []
        var hidden = 0
        for kind in PlanOption.kinds {
            let ranked = recommendation.strategy.ranked(recommendation.options.filter { $0.kind == kind })
            guard !ranked.isEmpty else { continue }
            let kept = all ? ranked : Array(ranked.prefix(bestPerKind))
            hidden += ranked.count - kept.count
            groups.append((kind + (kept.count < ranked.count ? " (\(kept.count) of \(ranked.count))" : ""), kept.count))
            rows += kept.map(row)
        }
        // One table, so that the columns line up across kinds; each kind's rows under its name.
        var tableLines = table(
            ["ID", "OPTION", "RUNTIME", "START-UP", "COST/RUN", "COST ×\(recommendation.runs)", "FEASIBLE"], rows
        ).split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        lines.append(tableLines.removeFirst())
        for group in groups {
            lines.append(group.title + ":")
            lines += tableLines.prefix(group.rows)
            tableLines.removeFirst(group.rows)
        }
        if hidden > 0 { lines.append("\(hidden) more option(s) not shown: \(hints.allOptions) lists every one") }
        if let pick = recommendation.pick {
            lines.append("\npick (\(recommendation.strategy.rawValue)): \(pick.summary) [\(pick.id)]")
            if let runtime = pick.runtime {
                lines.append("  runtime \(fmtSeconds(runtime.seconds)) (projected: \(runtime.basis))")
            }
            if let cost = pick.costForRuns {
                lines.append(
                    "  cost for \(recommendation.runs) run(s): \(fmtDollars(cost.dollars)) (projected from prices: \(cost.breakdown))"
                )
            }
        } else {
            lines.append("\nno option is feasible")
        }
        for reason in recommendation.reasons { lines.append("  - \(reason)") }
        lines.append("the best of each kind (\(recommendation.strategy.rawValue), projected):")
        for alternative in recommendation.bestOfEach {
            let option = alternative.option
            var line = "  \(alternative.kind): \(option.summary)"
            if option.isFeasible, let runtime = option.runtime, let cost = option.costForRuns {
                line +=
                    " — \(fmtSeconds(runtime.seconds)) per run, \(fmtDollars(cost.dollars)) for \(recommendation.runs) run(s)"
            }
            lines.append(line + "; \(alternative.comparison)")
        }
        if !recommendation.warnings.isEmpty {
            lines.append("warnings:")
            for warning in recommendation.warnings { lines.append("  ! \(warning)") }
        }
        lines.append("notes:")
        for note in recommendation.notes { lines.append("  · \(note)") }
        return lines.joined(separator: "\n")
    }
}
