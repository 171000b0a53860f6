import Analysis
import CapsizeCore
import Foundation
import Planning
import Studies

/// `report.html`: one self-contained page (inline CSS and SVG, the frame as a data: URI, nothing from the network).
public enum SuiteHTML {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;
        padding:0 1rem;color:#1b1b1b;background:#fff}
        h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:.6rem 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;
        text-align:left;vertical-align:top}th{background:#f4f4f4}tr.pick td{background:#fff6d5;font-weight:600}
        .charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{width:100%;max-width:540px;flex:1 1 460px;height:auto;background:#fff;
        border:1px solid #e4e4e4}svg .plot{fill:#fcfcfc;stroke:#999}svg .grid{stroke:#eee}svg text{font-size:11px;
        fill:#333}svg .title{font-size:13px;font-weight:600}svg .axis{font-size:12px}svg .rule{stroke-width:1.5;
        stroke-dasharray:6 4}svg .fit{fill:none;stroke-width:1.5;stroke-dasharray:3 3}svg .series-line{fill:none;
        stroke-width:2}svg .projected{stroke-width:2}svg .broke{stroke-width:2.5}svg .summary{stroke-width:3}svg .interval{stroke-width:1.5}
        .legend-key{display:inline-flex;gap:1.2rem;margin:.3rem 0;color:#444}.muted{color:#666}.note{color:#8a5a00}
        img.frame{image-rendering:pixelated;border:1px solid #ccc;width:320px}code{background:#f4f4f4;padding:0 3px}
        """

    static func table(_ header: [String], _ rows: [[String]], pickColumn: Int? = nil) -> String {
        var out = "<table>"
        if header.contains(where: { !$0.isEmpty }) {
            out += "<tr>" + header.map { "<th>\(Escape.html($0))</th>" }.joined() + "</tr>"
        }
        for row in rows {
            let pick = pickColumn.map { row[$0].hasPrefix("★") } ?? false
            out +=
                (pick ? "<tr class=\"pick\">" : "<tr>") + row.map { "<td>\(Escape.html($0))</td>" }.joined() + "</tr>"
        }
        return out + "</table>"
    }

    /// The whole page.
    public static func page(_ results: SuiteResults) -> String {
        var body: [String] = [
            "<h1>\(Escape.html(results.suite))</h1>",
            "<p class=\"muted\">Run <code>\(Escape.html(String(results.run.prefix(8))))</code> · "
                + "\(Escape.html(results.status)) · \(Escape.html(results.createdAt.formatted(.iso8601))) · capsize "
                + "\(Escape.html(results.capsizeVersion)) · suite \(Escape.html(results.suiteFile))</p>",
            "<p class=\"legend-key\"><span><svg width=\"12\" height=\"12\"><circle cx=\"6\" cy=\"6\" r=\"4.5\" "
                + "fill=\"#333\"/></svg> measured here</span><span><svg width=\"12\" height=\"12\"><circle cx=\"6\" "
                + "cy=\"6\" r=\"4.5\" fill=\"white\" stroke=\"#333\" stroke-width=\"2\"/></svg> projected (fit, price "
                + "table)</span><span><svg width=\"12\" height=\"12\"><path d=\"M1 1l10 10m0 -10l-10 10\" stroke=\"#333\" "
                + "stroke-width=\"2\"/></svg> measured, ended at a cap</span><span>dashed: caps and fits</span></p>",
        ]
        body.append(machine(results))
        body.append("<h2>Measurements</h2>")
        body.append(
            SuiteTables.stepRows(results).isEmpty
                ? "<p>none</p>" : table(SuiteTables.stepHeader, SuiteTables.stepRows(results)))
        let timeCharts = results.benchmarks.compactMap(measuredChart)
        if !timeCharts.isEmpty {
            body.append("<div class=\"charts\">" + timeCharts.map { $0.svg() }.joined() + "</div>")
        }
        body.append(speedups(results))
        body.append(caps(results))
        body.append(costs(results))
        body.append(recommendations(results))
        body.append(frames(results))
        body.append(failures(results))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Escape.html(results.suite)) · capsize report</title>
            <style>\(style)</style></head>
            <body>
            \(body.filter { !$0.isEmpty }.joined(separator: "\n"))
            </body></html>

            """
    }

    static func machine(_ results: SuiteResults) -> String {
        guard let machine = results.machine else { return "" }
        var rows = [
            ["CPU", machine.host.cpuModel], ["cores", "\(machine.host.logicalCores)"],
            ["memory", "\(machine.host.memoryTotalBytes >> 30) GiB"], ["host", machine.host.hostname],
            ["SIMD", machine.host.simdFeatures.joined(separator: " ")],
        ]
        for device in machine.devices {
            rows.append([
                "opencl:\(device.index)",
                "\(device.name) · \(device.kind) · \(device.platform) · \(device.computeUnits) compute units · "
                    + "\(device.globalMemoryBytes >> 20) MiB",
            ])
        }
        if let notice = machine.notice { rows.append(["OpenCL", notice]) }
        return "<h2>Machine and devices</h2>" + table(["", ""], rows)
    }

    /// A strip of each measuring step's seconds (measured), per benchmark.
    static func measuredChart(_ benchmark: SuiteResults.Benchmark) -> SVGChart? {
        let steps = benchmark.steps.filter { ["bench", "invoke", "batch"].contains($0.kind) }
        guard !steps.isEmpty, !(benchmark.measurements + benchmark.failures).isEmpty else { return nil }
        var chart = SVGChart(
            id: "measured-\(benchmark.name)", title: "\(benchmark.name): seconds per run (measured)", xLabel: "step",
            yLabel: "seconds", logY: true, categories: steps.map { $0.device ?? $0.label })
        var completed = SVGChart.Series(name: "completed", color: palette[0], style: .measured, points: [])
        var broke = SVGChart.Series(name: "did not complete", color: palette[1], style: .broke, points: [])
        var medians = SVGChart.Series(name: "median, 95 % CI", color: "#333", style: .summary, points: [])
        for (index, step) in steps.enumerated() {
            for measurement in benchmark.measurements where measurement.step == step.key {
                completed.points.append((Double(index), measurement.seconds))
            }
            for measurement in benchmark.failures where measurement.step == step.key {
                broke.points.append((Double(index), measurement.seconds))
            }
            if let summary = step.summary {
                medians.points.append((Double(index) + 0.18, summary.median))
                medians.intervals.append(summary.medianCI95)
            }
        }
        chart.series = [completed, broke, medians].filter { !$0.points.isEmpty }
        return chart
    }

    static func speedups(_ results: SuiteResults) -> String {
        let pairs = results.benchmarks.compactMap { benchmark in benchmark.speedup.map { (benchmark.name, $0) } }
        guard !pairs.isEmpty else { return "" }
        var chart = SVGChart(
            id: "speedup", title: "GPU against CPU: speed-up (measured, 95 % CI)", xLabel: "benchmark",
            yLabel: "CPU time / GPU time", logY: true, categories: pairs.map(\.0))
        chart.rules = [.init(y: 1, label: "as fast as the CPU", color: "#777")]
        var series = SVGChart.Series(name: "speed-up", color: palette[2], style: .measured, points: [])
        for (index, (_, speedup)) in pairs.enumerated() where speedup.ratio.isFinite {
            series.points.append((Double(index), speedup.ratio))
            series.intervals.append(speedup.low.map { $0...(speedup.high ?? $0) })
        }
        chart.series = [series]
        let rows = pairs.map { name, speedup in
            [
                name, speedup.cpu, speedup.gpu, speedup.ratio.isFinite ? "\(fmt(speedup.ratio))×" : "—",
                speedup.low.map { "\(fmt($0))×–\(fmt(speedup.high ?? $0))×" } ?? "—",
            ]
        }
        let notes = Set(pairs.flatMap(\.1.notes)).sorted().map { "<p class=\"note\">\(Escape.html($0))</p>" }.joined()
        return "<h2>GPU against CPU</h2>" + notes + "<div class=\"charts\">" + chart.svg() + "</div>"
            + table(["benchmark", "CPU", "GPU", "speed-up (measured)", "95 % CI"], rows)
    }

    /// Per benchmark with a caps study or sweep: time against size with the timeout line and the breaks, and memory
    /// against size with the cap lines.
    static func caps(_ results: SuiteResults) -> String {
        var charts: [String] = []
        for benchmark in results.benchmarks {
            for (kind, lines) in [("caps", benchmark.caps), ("sweep", benchmark.sweep)] where !lines.isEmpty {
                charts.append(timeChart(benchmark.name, kind: kind, lines).svg())
                charts.append(memoryChart(benchmark.name, kind: kind, lines).svg())
            }
        }
        guard !charts.isEmpty else { return "" }
        let rows = SuiteTables.capRows(results)
        return "<h2>Where the caps break</h2><p class=\"muted\">Each point is one cold invocation measured here; the "
            + "time cap ran scaled (see the table) and is drawn as run. Hollow: where the fits cross the caps "
            + "(projected, with a 95 % prediction interval).</p><div class=\"charts\">" + charts.joined() + "</div>"
            + table(SuiteTables.capHeader, rows)
    }

    static func timeChart(_ name: String, kind: String, _ lines: [SuiteResults.CapSeries]) -> SVGChart {
        var chart = capChart(
            name, kind: kind, quantity: ("time", "time", "seconds"), lines, measured: { $0.status == .completed },
            value: \.seconds,
            draw: { chart, line, color in
                let broke = line.points.filter { $0.status != .completed }
                if !broke.isEmpty {
                    chart.series.append(
                        .init(
                            name: "\(line.memoryMB) MB: ended at a cap", color: color, style: .broke,
                            points: broke.map { ($0.size, $0.seconds) }))
                }
                appendProjection(
                    to: &chart, fit: line.analysis.timeFit, showingModel: true, predicted: line.analysis.predictedTime,
                    cap: line.timeoutSeconds, memoryMB: line.memoryMB, color: color)
                chart.rules.append(
                    .init(y: line.timeoutSeconds, label: "timeout \(fmtSeconds(line.timeoutSeconds))", color: "#b00"))
            })
        chart.rules = uniqueRules(chart.rules)
        return chart
    }

    static func memoryChart(_ name: String, kind: String, _ lines: [SuiteResults.CapSeries]) -> SVGChart {
        capChart(
            name, kind: kind, quantity: ("memory", "peak memory", "MB"), lines, measured: { $0.peakMB > 0 },
            value: \.peakMB,
            draw: { chart, line, color in
                appendProjection(
                    to: &chart, fit: line.analysis.memoryFit, showingModel: false,
                    predicted: line.analysis.predictedMemory, cap: Double(line.memoryMB), memoryMB: line.memoryMB,
                    color: color)
                chart.rules.append(.init(y: Double(line.memoryMB), label: "cap \(line.memoryMB) MB", color: color))
            })
    }

    /// A chart of one quantity (its id, its title and its unit) against a benchmark's size parameter, a colour per
    /// memory size: the points `measured` keeps, then what `draw` adds for the memory size.
    static func capChart(
        _ name: String, kind: String, quantity: (id: String, title: String, unit: String),
        _ lines: [SuiteResults.CapSeries], measured: (SweepSample) -> Bool, value: (SweepSample) -> Double,
        draw: (inout SVGChart, SuiteResults.CapSeries, String) -> Void
    ) -> SVGChart {
        var chart = SVGChart(
            id: "\(kind)-\(quantity.id)-\(name)", title: "\(name): \(quantity.title) against \(lines[0].parameter)",
            xLabel: lines[0].parameter, yLabel: quantity.unit, logX: true, logY: true)
        for (index, line) in lines.enumerated() {
            let color = palette[index % palette.count]
            chart.series.append(
                .init(
                    name: "\(line.memoryMB) MB", color: color, style: .measured,
                    points: line.points.filter(measured).map { ($0.size, value($0)) }))
            draw(&chart, line, color)
        }
        return chart
    }

    static func uniqueRules(_ rules: [SVGChart.Rule]) -> [SVGChart.Rule] {
        var seen = Set<Double>()
        return rules.filter { seen.insert($0.y).inserted }
    }

    /// Sizes along a fit, from its range up to a predicted break (not past 100 times the range).
    /// A memory size's fit, drawn out to its predicted break, and the break itself (hollow, at the cap).
    static func appendProjection(
        to chart: inout SVGChart, fit: ScalingFit?, showingModel: Bool, predicted: PredictedBreak?, cap: Double,
        memoryMB: Int, color: String
    ) {
        if let fit {
            chart.series.append(
                .init(
                    name: "\(memoryMB) MB fit" + (showingModel ? " (\(fit.model))" : ""), color: color, style: .fit,
                    points: fitSizes(fit.sizeRange, until: predicted?.size).map { ($0, fit.predict($0)) }))
        }
        if let predicted {
            chart.series.append(
                .init(
                    name: "\(memoryMB) MB predicted break", color: color, style: .projected,
                    points: [(predicted.size, cap)]))
        }
    }

    static func fitSizes(_ range: ClosedRange<Double>, until end: Double?) -> [Double] {
        let low = max(range.lowerBound, 1e-9)
        let high = min(max(range.upperBound, end ?? 0), range.upperBound * 100)
        return (0...24).map { low * pow(high / low, Double($0) / 24) }
    }

    /// Cost against Lambda memory size: the projected cost per run of each size (the power-tuning curve), and the
    /// measured invocations' cost at the sizes run.
    static func costs(_ results: SuiteResults) -> String {
        var charts: [String] = []
        for benchmark in results.benchmarks {
            let lambda = benchmark.recommendation?.options.filter { $0.service == .lambda } ?? []
            let measured = Dictionary(grouping: benchmark.measurements.filter { $0.costUSD != nil }) { $0.step }
            guard !lambda.isEmpty || !measured.isEmpty else { continue }
            var chart = SVGChart(
                id: "cost-\(benchmark.name)", title: "\(benchmark.name): cost per run against Lambda memory",
                xLabel: "memory, MB", yLabel: "USD per run", logX: true, logY: true, yIsMoney: true)
            for (index, architecture) in ["x86_64", "arm64"].enumerated() {
                let options = lambda.filter { $0.architecture.rawValue == architecture && $0.costPerRun != nil }
                    .sorted { $0.memoryMB < $1.memoryMB }
                guard !options.isEmpty else { continue }
                let points = options.map { (x: Double($0.memoryMB), y: $0.costPerRun!.dollars) }
                chart.series.append(
                    .init(name: "\(architecture) curve", color: palette[index], style: .fit, points: points))
                let feasible = options.filter(\.isFeasible).map { (x: Double($0.memoryMB), y: $0.costPerRun!.dollars) }
                chart.series.append(
                    .init(
                        name: "\(architecture) (projected)", color: palette[index], style: .projected, points: feasible)
                )
                let infeasible = options.filter { !$0.isFeasible }.map {
                    (x: Double($0.memoryMB), y: $0.costPerRun!.dollars)
                }
                chart.series.append(
                    .init(
                        name: "\(architecture) past a cap (projected)", color: "#999", style: .projected,
                        points: infeasible))
            }
            // Invocations measured here, at the benchmark's own size: drawn when no projection for another size is.
            let runs = benchmark.steps.filter { measured[$0.key] != nil }
            if lambda.isEmpty && !runs.isEmpty {
                let points = runs.compactMap { step -> (x: Double, y: Double)? in
                    let costs = measured[step.key]!.compactMap(\.costUSD)
                    let memory = Double(step.label.split(separator: " ").first ?? "") ?? 0
                    return memory > 0 ? (memory, costs.reduce(0, +) / Double(costs.count)) : nil
                }
                chart.series.append(
                    .init(name: "invoked here (measured time)", color: "#111", style: .measured, points: points))
            }
            chart.series.removeAll { $0.points.isEmpty }
            if !chart.isEmpty { charts.append(chart.svg()) }
        }
        guard !charts.isEmpty else { return "" }
        return "<h2>Cost against Lambda memory size</h2><p class=\"muted\">The power-tuning curve: cost per run at "
            + "each memory size, projected from the profile and Lambda's prices (grey: the run would pass a cap); "
            + "solid points are invocations measured here, billed at Lambda's price.</p><div class=\"charts\">"
            + charts.joined() + "</div>"
    }

    static func recommendations(_ results: SuiteResults) -> String {
        var out: [String] = []
        for (name, recommendation) in results.recommended {
            out.append("<h2>Recommendation: \(Escape.html(name))</h2>")
            out.append(
                "<p>Strategy <b>\(Escape.html(recommendation.strategy))</b> for \(recommendation.runs) run(s); pick: "
                    + "<b>\(Escape.html(recommendation.pickText))</b> (projected).</p>")
            out.append(
                table(SuiteTables.recommendationHeader, SuiteTables.recommendationRows(recommendation), pickColumn: 0))
            out.append("<ul>" + recommendation.reasons.map { "<li>\(Escape.html($0))</li>" }.joined() + "</ul>")
            if !recommendation.exported.isEmpty {
                out.append(
                    "<p>Deployment files: "
                        + recommendation.exported.map { "<code>\(Escape.html($0))</code>" }
                        .joined(separator: ", ") + "</p>")
            }
        }
        return out.joined()
    }

    static func frames(_ results: SuiteResults) -> String {
        let frames = results.benchmarks.flatMap { benchmark in
            benchmark.steps.compactMap { step in step.frame.map { (benchmark.name, step.device ?? step.label, $0) } }
        }
        guard let (name, device, frame) = frames.first else { return "" }
        let clean = frame.filter { $0.isLetter || $0.isNumber || "+/=".contains($0) }
        return "<h2>A rendered frame</h2><p class=\"muted\">\(Escape.html(name)), rendered on \(Escape.html(device)) "
            + "(measured run, frame 0).</p><img class=\"frame\" alt=\"a rendered frame\" src=\"data:image/png;base64,"
            + "\(clean)\">"
    }

    static func failures(_ results: SuiteResults) -> String {
        let rows = SuiteTables.failureRows(results)
        return rows.isEmpty ? "" : "<h2>Steps that failed</h2>" + table(SuiteTables.failureHeader, rows)
    }
}

/// The report directory: `report.html`, `report.md`, `results.json`, `results.csv`.
public enum SuiteReportDirectory {
    public static let files = ["report.html", "report.md", "results.json", "results.csv"]

    /// Writes the four files into `directory` (created when missing, the files replaced); returns their paths.
    public static func write(_ results: SuiteResults, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let contents: [(String, Data)] = [
            ("report.html", Data(SuiteHTML.page(results).utf8)),
            ("report.md", Data(SuiteTables.markdown(results).utf8)),
            ("results.json", try SuiteTables.json(results)), ("results.csv", Data(SuiteTables.csv(results).utf8)),
        ]
        return try contents.map { name, data in
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            return path
        }
    }
}
