import ArgumentParser
import CapsizeCore
import Foundation
import Reports
import Store
import Studies

/// `capsize sweep WORKLOAD --param NAME=a,b,c|a..b*2 --executor function|batch [--memory LIST] [--timeout S] [--repeat N]`
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Step a workload's size up under an executor until a cap breaks; fit time and memory against size.",
        discussion: """
            For each memory setting, sizes are run in order (each repetition a fresh cold environment or job) until
            one ends at a cap (timeout or memory kill); one more size confirms the break, then that series stops.
            Durations and peak memory are measured here; the fits and the breaks they predict are projections.
              capsize sweep train-mlp --param hidden=256..8192*2 --executor function --memory 512,3008 --timeout 10
              capsize sweep command --param size=1,2,4,8 --executor batch --memory 256 --timeout 5 -- sh -c 'sleep {size}'
            """)

    @Argument(help: "train-mlp, render-frames or command.") var workload: String?
    @Option(
        help: ArgumentHelp(
            "The size parameter and its sizes: NAME=a,b,c (listed), NAME=a..b*F (geometric) or NAME=a..b+S.",
            valueName: "NAME=SIZES"))
    var param: String?
    @Option(help: "function (Lambda model) or batch (Batch model).") var executor: SweepExecutor = .function
    @Option(
        help: ArgumentHelp(
            "Memory settings in MB (function, 128...10240) or MiB (batch job limit), comma-separated.",
            valueName: "LIST"))
    var memory = "1769"
    @Option(help: "Timeout in seconds (function: 1...900; batch: the attempt duration).") var timeout = 60
    @Option(name: .customLong("repeat"), help: "Repetitions per point (1...100).") var repeats = 1
    @Option(help: "vCPUs of each batch job.") var vcpus = 1.0
    @Option(help: "x86_64 or arm64 (the Lambda price the records use).") var architecture = "x86_64"
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted sweep run: recorded samples are kept, the rest run.", valueName: "RUN"))
    var resume: String?
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        guard let resume else { return try await sweep(resuming: nil) }
        guard workload == nil && parameters.isEmpty else {
            throw InputError(field: "--resume", value: resume, allowed: "no workload beside it (the run's own is used)")
        }
        let store = try openStore()
        let run = try takeOverRun(resume, kind: .sweep, in: store)
        let stored = try StoredJSON.decode(SweepRunParameters.self, from: run.parameters)
        var original = try SweepCommand.parse(stored.arguments)
        original.json = json
        try await original.sweep(resuming: run)
    }

    func sweep(resuming: RunRecord?) async throws {
        guard let workload else {
            throw InputError(
                field: "WORKLOAD", value: "", allowed: "train-mlp, render-frames or command, or --resume RUN")
        }
        let plan = try SweepPlan(
            workload: workload, parameters: parameters, sizes: param, memoryList: memory, defaultMemories: [],
            repeats: repeats, executor: executor, timeout: timeout, architecture: architecture,
            governsCPUShare: cpuShare.governs)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard executor == .function || (vcpus > 0 && vcpus <= Double(cores)) else {
            throw InputError(
                setting: "vcpus", value: fmt(vcpus), allowed: "more than 0 and at most this machine's \(cores) cores")
        }
        let store = try openStore()
        let variables =
            try executor == .function
            ? environmentOptions.functionVariables() : environmentOptions.batchVariables()
        let request = SweepRequest(plan: plan, timeoutSeconds: timeout, vcpus: vcpus, variables: variables)
        let progress = SweepProgress(request, quiet: json)
        let report = try await Sweep.run(
            request, store: store, resuming: resuming,
            parameters: SweepRunParameters(arguments: ownArguments(after: "sweep")), onEvent: progress.show)
        if json { return try printJSON(report) }
        say(SweepText.sweep(report))
        say("recorded as run \(try store.run(id: report.run).shortID) in \(store.path)")
    }
}
