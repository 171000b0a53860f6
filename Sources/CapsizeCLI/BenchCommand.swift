import CapsizeCore
import Analysis
import ArgumentParser
import Compute
import Foundation
import Store
import Workloads

/// `capsize bench WORKLOAD [params] [--device ...] [--repeat N] [--warmup K] [--json]` and
/// `capsize bench --resume RUN`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a workload repeatedly on one device and summarise the measurements.",
        discussion: """
            Workload parameters follow the workload's name (see `capsize workloads`), e.g.
              capsize bench train-mlp --batch 1024 --hidden 2048 --device cpu
              capsize bench render-frames --width 640 --height 360 --save-frames out/
              capsize bench command --size 100 -- ./my-job --n {size}
            Each measured run is recorded in the store as it ends (see `capsize runs`); a bench that was
            interrupted continues with `capsize bench --resume RUN`.
            """)

    @Argument(help: "train-mlp, render-frames or command.") var workload: String?
    @Option(help: "auto, cpu, native, gpu or opencl:N (see `capsize devices`).") var device = "auto"
    @Option(name: .customLong("repeat"), help: "Measured runs (1...10000).") var repeats = 5
    @Option(help: "Unmeasured warm-up runs before them (0...1000).") var warmup = 1
    @Flag(help: "Print JSON instead of tables.") var json = false
    @Option(help: "Read OpenCL kernels from this directory instead of the copies inside the binary.")
    var kernels: String?
    @Option(name: .customLong("save-frames"), help: "render-frames: write each frame as PNG into this directory.")
    var saveFrames: String?
    @Option(help: ArgumentHelp("""
        Continue an interrupted bench run (its id or a unique prefix, see `capsize runs list`) with its own \
        parameters, keeping its recorded runs.
        """, valueName: "RUN"))
    var resume: String?
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        let store = try openStore()
        guard let resume else { return try await measure(store: store, resuming: nil) }
        let defaults = try BenchCommand.parse([])
        guard workload == nil && parameters.isEmpty && device == defaults.device && repeats == defaults.repeats
            && warmup == defaults.warmup && kernels == nil && saveFrames == nil
        else {
            throw InputError(
                field: "--resume", value: resume,
                allowed: "only --json beside it (the run's own workload and options are used)")
        }
        let run = try takeOverRun(resume, kind: .bench, in: store)
        let stored = try StoredJSON.decode(BenchRunParameters.self, from: run.parameters)
        var original = try BenchCommand.parse(stored.arguments)
        original.json = json
        try await original.measure(store: store, resuming: run)
    }

    /// Measures the workload and records each run in `store`: in a new run, or in `resuming` (already
    /// taken over), skipping the runs it recorded before.
    private func measure(store: CapsizeStore, resuming: RunRecord?) async throws {
        let type = try WorkloadCatalog.named(workload ?? "")
        guard (1...10_000).contains(repeats) else {
            throw InputError(field: "--repeat", value: "\(repeats)", allowed: "an integer in 1...10000")
        }
        guard (0...1_000).contains(warmup) else {
            throw InputError(field: "--warmup", value: "\(warmup)", allowed: "an integer in 0...1000")
        }
        let values = try ParameterValues(arguments: parameters, specs: type.parameters)
        if !values.trailing.isEmpty && type != CommandWorkload.self {
            throw InputError(field: "--", value: values.trailing.joined(separator: " "), allowed: "words after -- only for command")
        }
        if saveFrames != nil && type != RenderFrames.self {
            throw InputError(field: "--save-frames", value: saveFrames!, allowed: "only with render-frames")
        }
        if let kernels {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: kernels, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError(field: "--kernels", value: kernels, allowed: "an existing directory of .cl files")
            }
        }
        let instance = try type.init(parameters: values)
        let selector = try DeviceSelector(parsing: device)
        let (devices, openCLNotice) = discoverDevices()
        if let openCLNotice, selector != .native { notice(openCLNotice) }
        let target = try instance.resolve(selector, devices: devices)
        let estimate = instance.estimate

        let options = RunOptions(kernelsDirectory: kernels, saveFramesDirectory: saveFrames)
        let clock = ContinuousClock()
        let initStart = clock.now
        let prepared = try instance.prepare(on: target, options: options)
        let initSeconds = (clock.now - initStart).seconds
        if !json {
            say("\(type.name) on \(target) — \(values.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
                + (values.trailing.isEmpty ? "" : " -- " + values.trailing.joined(separator: " ")))
            if estimate.flops > 0 {
                say("estimate (projected from the parameters): \(fmt(estimate.flops / 1e9)) GFLOP per run, "
                    + "\(formatBytes(target.isHost ? estimate.hostBytes : estimate.hostBytesBesideDevice)) host memory"
                    + (target.isHost ? "" : ", \(formatBytes(estimate.deviceBytes)) device memory"))
            }
            say("init (measured): \(fmtSeconds(initSeconds)); \(warmup) warm-up run(s), then \(repeats) measured")
        }
        for _ in 0..<warmup { _ = try prepared.run() }
        let plan = RunPlan.repetitions(repeats)
        let run = try resuming ?? store.createRun(
            kind: .bench, parameters: BenchRunParameters(command: self, device: target.description, values: values),
            planned: repeats)
        var results = try Self.recordedResults(store.measurements(run: run.id))
        if !json {
            say("recorded as run \(run.shortID) in \(store.path)"
                + (resuming == nil ? "" : ": resumed with \(results.count) of \(repeats) runs recorded before"))
        }
        let numbers = Dictionary(uniqueKeysWithValues: plan.keys.enumerated().map { ($1, $0 + 1) })
        try await ResumableRun.execute(store: store, run: run.id, items: plan) { key in
            let startedAt = Date()
            let result = try prepared.run()
            results[key] = result
            if !json { say(runLine(numbers[key]!, result)) }
            return try MeasurementRecord(result, startedAt: startedAt, endedAt: Date())
        }
        let runs = plan.keys.compactMap { results[$0] }
        let report = BenchReport(
            run: run.id, workload: type.name, parameters: values.values, argv: values.trailing,
            device: target.description, deviceLabel: target.label, estimate: estimate, initSeconds: initSeconds, warmup: warmup, runs: runs,
            peak: Self.peak(for: type.peak, target: target, devices: devices))
        if json { return try printJSON(report) }
        printSummary(report)
    }

    /// The runs a resumed bench recorded before, by item key.
    private static func recordedResults(_ measurements: [MeasurementRecord]) -> [String: RunResult] {
        Dictionary(uniqueKeysWithValues: measurements.map { measurement in
            let result = measurement.details.flatMap { try? StoredJSON.decode(RunResult.self, from: $0) }
            return (measurement.itemKey, result ?? RunResult(
                seconds: measurement.seconds, flops: measurement.flops, metrics: measurement.metrics,
                checksum: measurement.checksum ?? "", peakHostBytes: 0))
        })
    }

    private func runLine(_ index: Int, _ result: RunResult) -> String {
        var parts = ["  run \(index): \(fmtSeconds(result.seconds))"]
        if result.flops > 0 { parts.append("\(fmt(result.gflops)) GFLOP/s") }
        for (key, value) in result.throughput.sorted(by: { $0.key < $1.key }) { parts.append("\(fmt(value)) \(key.replacingOccurrences(of: "_", with: " "))") }
        parts.append("checksum \(result.checksum)")
        parts += result.notes
        return parts.joined(separator: ", ")
    }

    private func printSummary(_ report: BenchReport) {
        let s = report.summary
        say("measured here, \(s.count) runs: min \(fmtSeconds(s.min)), median \(fmtSeconds(s.median)), "
            + "p90 \(fmtSeconds(s.p90)), max \(fmtSeconds(s.max)); 95% CI of the median "
            + "[\(fmtSeconds(s.medianCI95.lowerBound)), \(fmtSeconds(s.medianCI95.upperBound))] (bootstrap)")
        if !s.outliers.isEmpty {
            say("warning: \(s.outliers.count) outlier run(s) by MAD (runs \(s.outliers.map { "\($0 + 1)" }.joined(separator: ", "))): "
                + "the machine may be busy; the median is robust to them")
        }
        if let gflops = report.gflops {
            var line = "throughput (measured): \(fmt(gflops.median)) GFLOP/s median"
            if let peak = report.peak, let fraction = report.fractionOfPeak {
                line += " = \(fmt(fraction * 100))% of the calibrated \(peak.name) (\(fmt(peak.gflops)) GFLOP/s, "
                    + "measured \(peak.measuredAt.formatted(.iso8601))\(peak.quick ? ", quick" : ""))"
            } else if report.peak == nil {
                line += "; no calibrated peak stored for this device: run `capsize devices --calibrate`"
            }
            say(line)
        }
        for (key, value) in report.throughputMedians.sorted(by: { $0.key < $1.key }) {
            say("  \(key.replacingOccurrences(of: "_", with: " ")) (measured, median): \(fmt(value))")
        }
        let medianRun = report.runs[report.medianRunIndex]
        let metrics = medianRun.metrics
        if let kernel = metrics["kernel_seconds"], let transfer = metrics["transfer_seconds"], let host = metrics["host_seconds"] {
            say("  time split of the median run (measured, OpenCL profiling events): kernel \(fmtSeconds(kernel)), "
                + "transfer \(fmtSeconds(transfer)), host \(fmtSeconds(host))")
        }
        if let losses = medianRun.series["loss"] {
            let shown = losses.count <= 12 ? losses : Array(losses.prefix(6)) + Array(losses.suffix(6))
            say("  loss per step (measured): " + shown.map { String(format: "%.6f", $0) }.joined(separator: " ")
                + (losses.count > 12 ? " (first and last 6 of \(losses.count))" : ""))
            if let step = metrics["step_seconds"] { say("  step time (measured, median of steps): \(fmtSeconds(step))") }
        }
        say("  peak host memory (measured, this process): \(formatBytes(medianRun.peakHostBytes))"
            + (medianRun.deviceBytes > 0 ? "; device memory held: \(formatBytes(medianRun.deviceBytes))" : ""))
        let failures = report.runs.filter { ($0.metrics["exit_code"] ?? 0) != 0 }.count
        if failures > 0 { say("warning: \(failures) run(s) failed (exit code or signal); see the run lines above") }
    }

    /// The calibrated peak that `kind` compares with on `target`, from the store.
    static func peak(for kind: PeakKind, target: ExecutionTarget, devices: [OpenCLDevice]) -> BenchReport.Peak? {
        let store = CalibrationStore()
        switch (kind, target) {
        case (.none, _): return nil
        case (_, .host):
            guard let host = try? store.host() else { return nil }
            return .init(name: "OpenBLAS SGEMM peak", gflops: host.blasSgemmGFLOPS, measuredAt: host.measuredAt, quick: host.quick)
        case (.gemm, .openCL(let device)):
            guard let c = try? store.device(device), let gemm = c.clblastSgemmGFLOPS else { return nil }
            return .init(name: "CLBlast SGEMM peak", gflops: gemm, measuredAt: c.measuredAt, quick: c.quick)
        case (.fma, .openCL(let device)):
            guard let c = try? store.device(device) else { return nil }
            return .init(name: "FP32 FMA peak", gflops: c.fmaPeakGFLOPS, measuredAt: c.measuredAt, quick: c.quick)
        }
    }
}

extension ExecutionTarget {
    var isHost: Bool { if case .host = self { true } else { false } }
}

/// What a bench run stores as its parameters: its own arguments, to parse again on `--resume`, and
/// what they resolved to.
struct BenchRunParameters: Codable {
    var arguments: [String]
    var device: String
    var values: [String: String]
    var argv: [String]

    init(command: BenchCommand, device: String, values: ParameterValues) {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).path }
        arguments = [command.workload ?? "", "--device", command.device, "--repeat", "\(command.repeats)",
                     "--warmup", "\(command.warmup)"]
            + (command.kernels.map { ["--kernels", absolute($0)] } ?? [])
            + (command.saveFrames.map { ["--save-frames", absolute($0)] } ?? [])
            + command.parameters
        self.device = device
        self.values = values.values
        argv = values.trailing
    }
}

extension MeasurementRecord {
    /// One bench run as a measurement: its numbers as metrics, the whole result as details.
    init(_ result: RunResult, startedAt: Date, endedAt: Date) throws {
        var metrics = result.metrics.merging(result.throughput) { metric, _ in metric }
        metrics["peak_host_bytes"] = Double(result.peakHostBytes)
        if result.deviceBytes > 0 { metrics["device_bytes"] = Double(result.deviceBytes) }
        self.init(
            runID: "", itemKey: "", metrics: metrics, seconds: result.seconds, flops: result.flops,
            checksum: result.checksum, details: try StoredJSON.encode(result), startedAt: startedAt, endedAt: endedAt)
    }
}

/// Everything `capsize bench --json` prints: the runs as measured, and what was derived from them.
struct BenchReport: Encodable {
    struct Peak: Encodable {
        var name: String
        var gflops: Double
        var measuredAt: Date
        var quick: Bool
    }
    /// The run's id in the store.
    var run: String
    var workload: String
    var parameters: [String: String]
    var argv: [String]
    var device: String
    var deviceLabel: String
    /// Projected from the parameters, before running.
    var estimate: ResourceEstimate
    var initSeconds: Double
    var warmup: Int
    var runs: [RunResult]
    var peak: Peak?

    var summary: Summary { Summary(runs.map(\.seconds)) }
    var gflops: Summary? { runs[0].flops > 0 ? Summary(runs.map(\.gflops)) : nil }
    var fractionOfPeak: Double? { peak.flatMap { p in gflops.map { $0.median / p.gflops } } }
    var throughputMedians: [String: Double] {
        runs[0].throughput.keys.reduce(into: [:]) { medians, key in
            medians[key] = Summary.quantile(runs.compactMap { $0.throughput[key] }.sorted(), 0.5)
        }
    }
    var medianRunIndex: Int {
        let order = runs.indices.sorted { runs[$0].seconds < runs[$1].seconds }
        return order[(order.count - 1) / 2]
    }

    enum CodingKeys: String, CodingKey {
        case run, workload, parameters, argv, device, deviceLabel, estimate, initSeconds, warmup, runs, peak
        case summary, gflops, fractionOfPeak, throughputMedians
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run, forKey: .run)
        try c.encode(workload, forKey: .workload)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(argv, forKey: .argv)
        try c.encode(device, forKey: .device)
        try c.encode(deviceLabel, forKey: .deviceLabel)
        try c.encode(estimate, forKey: .estimate)
        try c.encode(initSeconds, forKey: .initSeconds)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(runs, forKey: .runs)
        try c.encodeIfPresent(peak, forKey: .peak)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(gflops, forKey: .gflops)
        try c.encodeIfPresent(fractionOfPeak, forKey: .fractionOfPeak)
        try c.encode(throughputMedians, forKey: .throughputMedians)
    }
}
