import Analysis
import CapsizeCore
public import Foundation
import Planning
import Studies

/// Text from a suite (a name, a label, a command) made safe for each format it goes into.
public enum Escape {
    /// HTML text and attribute values: `& < > " '` as entities.
    public static func html(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A Markdown table cell or line: one line, Markdown's and HTML's special characters backslash-escaped or as
    /// entities, so that a name cannot end a cell, start a list or inject markup.
    public static func markdown(_ text: String) -> String {
        var result = ""
        for character in InputError.oneLine(text) {
            switch character {
            case "|": result += "\\|"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            // Parentheses, braces and `!` need no escape once brackets have one: no link or image can start.
            case "\\", "`", "*", "_", "[", "]", "~": result += "\\" + String(character)
            default: result.append(character)
            }
        }
        return result
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled; a field that
    /// a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
    public static func csv(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The CSV, Markdown and JSON files of a report directory.
public enum SuiteTables {
    /// `results.csv`: one row per measurement, the executor's measurements then the samples of caps studies and
    /// sweeps.
    public static func csv(_ results: SuiteResults) -> String {
        var lines = [
            "benchmark,step,kind,label,run,item,seconds,status,peak_mb,cost_usd,cold,size,memory_mb"
        ]
        func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        for benchmark in results.benchmarks {
            let kinds = Dictionary(benchmark.steps.map { ($0.key, $0.kind) }) { first, _ in first }
            for measurement in benchmark.measurements + benchmark.failures {
                let fields = [
                    benchmark.name, measurement.step, kinds[measurement.step] ?? "", measurement.label,
                    measurement.run ?? "", measurement.item, number(measurement.seconds), measurement.status,
                    number(measurement.peakMB), number(measurement.costUSD), measurement.cold.map { "\($0)" } ?? "",
                    "", "",
                ]
                lines.append(fields.map(Escape.csv).joined(separator: ","))
            }
            for (kind, series) in [("caps", benchmark.caps), ("sweep", benchmark.sweep)] {
                for line in series {
                    for point in line.points {
                        let fields = [
                            benchmark.name, kind, kind, "\(line.memoryMB) MB", line.run ?? "",
                            "size=\(point.size)/rep=\(point.repetition)", number(point.seconds),
                            point.status.rawValue, number(point.peakMB), "", "", number(point.size),
                            "\(line.memoryMB)",
                        ]
                        lines.append(fields.map(Escape.csv).joined(separator: ","))
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `results.json`: pretty, key-sorted, dates in ISO 8601.
    public static func json(_ results: SuiteResults) throws -> Data {
        let encoder = JSONEncoder.pretty()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(results)
    }

    /// Reads `results.json` back.
    public static func decode(_ data: Data) throws -> SuiteResults {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(SuiteResults.self, from: data)
    }

    /// A Markdown table, every cell escaped.
    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        let head = "| " + header.map(Escape.markdown).joined(separator: " | ") + " |"
        let rule = "|" + header.map { _ in "---|" }.joined()
        return ([head, rule] + rows.map { "| " + $0.map(Escape.markdown).joined(separator: " | ") + " |" })
            .joined(separator: "\n")
    }

    /// The measured statistics of every step that measured.
    static func stepRows(_ results: SuiteResults) -> [[String]] {
        results.benchmarks.flatMap { benchmark in
            benchmark.steps.compactMap { step -> [String]? in
                guard ["bench", "invoke", "batch"].contains(step.kind) else { return nil }
                let failed = benchmark.failures.filter { $0.step == step.key }.count
                guard let summary = step.summary else {
                    return [
                        benchmark.name, step.kind, step.device ?? step.label, "0", "", "",
                        step.failure.map { "failed: \($0)" } ?? "\(failed) did not complete",
                    ]
                }
                let interval =
                    "\(fmtSeconds(summary.medianCI95.lowerBound))–\(fmtSeconds(summary.medianCI95.upperBound))"
                return [
                    benchmark.name, step.kind, step.device ?? step.label, "\(summary.count)",
                    fmtSeconds(summary.median), interval, failed > 0 ? "\(failed) did not complete" : "",
                ]
            }
        }
    }

    static let stepHeader = ["benchmark", "executor", "on", "n", "median (measured)", "95 % CI of median", "notes"]

    /// Per caps series: the largest size that passed, the observed break and the predicted one.
    static func capRows(_ results: SuiteResults) -> [[String]] {
        results.benchmarks.flatMap { benchmark in
            (benchmark.caps + benchmark.sweep).map { series in
                let analysis = series.analysis
                let observed =
                    analysis.observed.map { "\(series.parameter)=\(fmt($0.size)) (\($0.cap.rawValue))" } ?? "none"
                let predicted = [analysis.predictedTime, analysis.predictedMemory].compactMap { $0 }.map { prediction in
                    let interval = prediction.interval.map { " [\(fmt($0.lowerBound))–\(fmt($0.upperBound))]" } ?? ""
                    return "\(prediction.cap.rawValue) at \(fmt(prediction.size))\(interval)"
                }
                return [
                    benchmark.name, "\(series.memoryMB) MB",
                    "\(fmtSeconds(series.timeoutSeconds)) (stands for \(fmtSeconds(series.examinedTimeoutSeconds)))",
                    analysis.largestPassingSize.map { fmt($0) } ?? "none", observed,
                    predicted.isEmpty ? "no fit" : predicted.joined(separator: "; "),
                ]
            }
        }
    }

    static let capHeader = [
        "benchmark", "memory", "time cap run (examined)", "largest passing", "observed break (measured)",
        "predicted break (projected, 95 %)",
    ]

    /// The feasible options of a recommendation, cheapest first, the pick marked.
    static func recommendationRows(_ summary: SuiteResults.RecommendationSummary, limit: Int = 12) -> [[String]] {
        let feasible = summary.options.filter(\.isFeasible).sorted {
            ($0.costPerRun?.dollars ?? .infinity) < ($1.costPerRun?.dollars ?? .infinity)
        }
        var shown = Array(feasible.prefix(limit))
        if let pick = summary.options.first(where: { $0.id == summary.pick }), !shown.contains(pick) {
            shown.append(pick)
        }
        return shown.map { option in
            [
                (option.id == summary.pick ? "★ " : "") + option.id, option.service.rawValue,
                option.architecture.rawValue, fmt(option.vcpus), "\(option.memoryMB) MB", "\(option.gpus)",
                option.runtime.map { fmtSeconds($0.seconds) } ?? "—", money(option.costPerRun?.dollars),
                money(option.costForRuns?.dollars),
            ]
        }
    }

    static let recommendationHeader = [
        "option", "service", "arch", "vCPU", "memory", "GPU", "runtime (projected)", "cost per run (projected)",
        "cost for the runs (projected)",
    ]

    /// Dollars with three significant digits.
    static func money(_ dollars: Double?) -> String {
        guard let dollars else { return "—" }
        return "$" + NumberText.significant(dollars, 3)
    }

    /// The steps that failed: the benchmark, the step and why.
    static func failureRows(_ results: SuiteResults) -> [[String]] {
        results.benchmarks.flatMap { benchmark in
            benchmark.steps.compactMap { step in step.failure.map { [benchmark.name, step.key, $0] } }
        }
    }

    static let failureHeader = ["benchmark", "step", "why"]

    /// `report.md`: the same tables as the HTML page, ready to paste into a pull request.
    public static func markdown(_ results: SuiteResults) -> String {
        var parts = [
            "# \(Escape.markdown(results.suite))",
            "Run `\(results.run.prefix(8))` (\(Escape.markdown(results.status))), capsize \(Escape.markdown(results.capsizeVersion)). "
                + "Measured: on this machine. Projected: from fits and price tables.",
        ]
        if let machine = results.machine {
            parts.append("## Machine")
            parts.append(
                markdownTable(
                    ["CPU", "cores", "memory", "devices"],
                    [
                        [
                            machine.host.cpuModel, "\(machine.host.logicalCores)",
                            "\(machine.host.memoryTotalBytes >> 30) GiB",
                            machine.devices.isEmpty
                                ? (machine.notice ?? "none")
                                : machine.devices.map { "opencl:\($0.index) \($0.name) (\($0.kind))" }.joined(
                                    separator: "; "),
                        ]
                    ]))
        }
        parts.append("## Measurements")
        parts.append(markdownTable(stepHeader, stepRows(results)))
        let speedups = results.benchmarks.compactMap { benchmark in benchmark.speedup.map { (benchmark.name, $0) } }
        if !speedups.isEmpty {
            parts.append("## GPU against CPU")
            parts.append(
                markdownTable(
                    ["benchmark", "CPU", "GPU", "speed-up (measured)", "95 % CI", "notes"],
                    speedups.map { name, speedup in
                        [
                            name, speedup.cpu, speedup.gpu, speedup.ratio.isFinite ? "\(fmt(speedup.ratio))×" : "—",
                            speedup.low.map { "\(fmt($0))×–\(fmt(speedup.high ?? $0))×" } ?? "—",
                            speedup.notes.joined(separator: "; "),
                        ]
                    }))
        }
        let caps = capRows(results)
        if !caps.isEmpty {
            parts.append("## Cap breaks")
            parts.append(markdownTable(capHeader, caps))
        }
        for (name, recommendation) in results.recommended {
            parts.append("## Recommendation: \(Escape.markdown(name))")
            parts.append(
                "Strategy \(Escape.markdown(recommendation.strategy)) for \(recommendation.runs) run(s); pick: "
                    + "**\(Escape.markdown(recommendation.pickText))**.")
            parts.append(markdownTable(recommendationHeader, recommendationRows(recommendation)))
            parts.append(recommendation.reasons.map { "- " + Escape.markdown($0) }.joined(separator: "\n"))
            if !recommendation.exported.isEmpty {
                parts.append(
                    "Deployment files: " + recommendation.exported.map(Escape.markdown).joined(separator: ", "))
            }
        }
        let failures = failureRows(results)
        if !failures.isEmpty {
            parts.append("## Steps that failed")
            parts.append(markdownTable(failureHeader, failures))
        }
        return parts.joined(separator: "\n\n") + "\n"
    }
}
