import ArgumentParser
import Compute
import Foundation
import Reports
import Store
import Studies
import Workloads

/// `capsize bench WORKLOAD [params] [--device ...] [--repeat N] [--warmup K] [--json]` and
/// `capsize bench --resume RUN`.
struct BenchCommand: ResumableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a workload repeatedly on one device and summarise the measurements.",
        discussion: """
            Workload parameters follow the workload's name (see `capsize workloads`), e.g.
              capsize bench train-mlp --batch 1024 --hidden 2048 --device cpu
              capsize bench render-frames --width 640 --height 360 --save-frames out/
              capsize bench command --size 100 -- ./my-job --n {size}
            Each measured run is recorded in the store as it ends (see `capsize runs`); a bench that was interrupted \
            continues with `capsize bench --resume RUN`.
            """)
    static let runKind = RunRecord.Kind.bench

    @Argument(help: ArgumentHelp(WorkloadCatalog.namesInWords + ".")) var workload: String?
    @Option(help: "auto, cpu, native, gpu or opencl:N (see `capsize devices`).") var device = "auto"
    // .unconditional: `--warmup -1` is a value out of range, not a missing value followed by a flag.
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Measured runs (1...10000).") var repeats = 5
    @Option(parsing: .unconditional, help: "Unmeasured warm-up runs before them (0...1000).") var warmup = 1
    @Flag(help: "Print JSON instead of tables.") var json = false
    @Option(help: "Read OpenCL kernels from this directory instead of the copies inside the binary.")
    var kernels: String?
    @Option(name: .customLong("save-frames"), help: "render-frames: write each frame as PNG into this directory.")
    var saveFrames: String?
    @Option(
        help: ArgumentHelp(
            """
            Continue an interrupted bench run (its id or a unique prefix, see `capsize runs list`) with its own \
            parameters, keeping its recorded runs.
            """, valueName: "RUN"))
    var resume: String?
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    var besideResume: String? {
        let defaults = try? BenchCommand.parse([])
        let alone =
            workload == nil && parameters.isEmpty && device == defaults?.device && repeats == defaults?.repeats
            && warmup == defaults?.warmup && kernels == nil && saveFrames == nil
        return alone ? nil : "only --json beside it (the run's own workload and options are used)"
    }

    /// Measures the workload and records each run in the store: in a new run, or in `resuming` (already taken
    /// over), skipping the runs it recorded before.
    func start(resuming: RunRecord?) async throws {
        let request = try BenchRequest(
            workload: workload ?? "", parameters: parameters, device: device, repeats: repeats,
            warmup: warmup,
            options: RunOptions(
                kernelsDirectory: kernels, saveFramesDirectory: saveFrames, calibration: calibrationInNotes))
        let store = try openStore()
        let (devices, openCLNotice) = discoverDevices()
        if let openCLNotice, request.device != .native { notice(openCLNotice) }
        let report = try await Bench.run(
            request, store: store, resuming: resuming,
            parameters: { target in
                BenchRunParameters(command: self, device: target.description, values: request.values)
            },
            devices: devices,
            onEvent: { event in
                if !json {
                    say(BenchText.line(event, request: request, storePath: store.path, resumed: resuming != nil))
                }
            })
        if json { try printJSON(report) } else { say(BenchText.summary(report, hints: .commandLine)) }
        if report.failedRuns > 0 {
            throw CommandFailure(
                message: "\(report.failedRuns) of \(report.runs.count) measured run(s) failed (exit code or signal)")
        }
    }
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
        arguments =
            [
                command.workload ?? "", "--device", command.device, "--repeat", "\(command.repeats)",
                "--warmup", "\(command.warmup)",
            ]
            + (command.kernels.map { ["--kernels", absolute($0)] } ?? [])
            + (command.saveFrames.map { ["--save-frames", absolute($0)] } ?? [])
            + command.parameters
        self.device = device
        self.values = values.values
        argv = values.trailing
    }
}
