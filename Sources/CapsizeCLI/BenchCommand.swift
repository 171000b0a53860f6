import CapsizeCore
import Analysis
import ArgumentParser
import Compute
import Foundation
import Store
import Studies
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
    // .unconditional: `--warmup -1` is a value out of range, not a missing value followed by a flag.
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Measured runs (1...10000).") var repeats = 5
    @Option(parsing: .unconditional, help: "Unmeasured warm-up runs before them (0...1000).") var warmup = 1
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
        let values = try ParameterValues(arguments: parameters, specs: type.parameters)
        if !values.trailing.isEmpty && type != CommandWorkload.self {
            throw InputError(field: "--", value: values.trailing.joined(separator: " "), allowed: "words after -- only for command")
        }
        if let saveFrames, type != RenderFrames.self {
            throw InputError(field: "--save-frames", value: saveFrames, allowed: "only with render-frames")
        }
        if let kernels {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: kernels, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError(field: "--kernels", value: kernels, allowed: "an existing directory of .cl files")
            }
        }
        let request = BenchRequest(
            workload: try type.init(parameters: values), values: values, device: try DeviceSelector(parsing: device),
            repeats: repeats, warmup: warmup, options: RunOptions(kernelsDirectory: kernels, saveFramesDirectory: saveFrames))
        try request.validate()
        let (devices, openCLNotice) = discoverDevices()
        if let openCLNotice, request.device != .native { notice(openCLNotice) }
        let report = try await Bench.run(
            request, store: store, resuming: resuming,
            parameters: { target in BenchRunParameters(command: self, device: target.description, values: values) },
            devices: devices
        ) { event in
            if !json { say(line(event, request: request, store: store, resumed: resuming != nil)) }
        }
        if json { return try printJSON(report) }
        printSummary(report)
    }

    /// What the terminal shows for one event of the bench.
    private func line(_ event: BenchEvent, request: BenchRequest, store: CapsizeStore, resumed: Bool) -> String {
        switch event {
        case .prepared(let target, let estimate, let initSeconds):
            let values = request.values
            var lines = ["\(Swift.type(of: request.workload).name) on \(target) — "
                + values.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                + (values.trailing.isEmpty ? "" : " -- " + values.trailing.joined(separator: " "))]
            if estimate.flops > 0 {
                lines.append("estimate (projected from the parameters): \(fmt(estimate.flops / 1e9)) GFLOP per run, "
                    + "\(formatBytes(target.isHost ? estimate.hostBytes : estimate.hostBytesBesideDevice)) host memory"
                    + (target.isHost ? "" : ", \(formatBytes(estimate.deviceBytes)) device memory"))
            }
            lines.append("init (measured): \(fmtSeconds(initSeconds)); \(request.warmup) warm-up run(s), then \(request.repeats) measured")
            return lines.joined(separator: "\n")
        case .recorded(let run, let earlier):
            return "recorded as run \(run.shortID) in \(store.path)"
                + (resumed ? ": resumed with \(earlier) of \(request.repeats) runs recorded before" : "")
        case .measured(let index, let result):
            return runLine(index, result)
        }
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
