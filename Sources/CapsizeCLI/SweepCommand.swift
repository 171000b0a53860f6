import ArgumentParser
import CapsizeCore
import Reports
import Store
import Studies

/// `capsize sweep WORKLOAD --param NAME=a,b,c|a..b*2 --executor function|batch [--memory LIST] [--timeout S] [--repeat N]`
struct SweepCommand: ResumableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Step a workload's size up under an executor until a cap breaks; fit time and memory against size.",
        discussion: """
            For each memory setting, sizes are run in order (each repetition a fresh cold environment or job) until \
            one ends at a cap (timeout or memory kill); one more size confirms the break, then that series stops. \
            Durations and peak memory are measured here; the fits and the breaks they predict are projections.
              capsize sweep train-mlp --param hidden=256..8192*2 --memory 512,3008
              capsize sweep command --param size=1,2,4,8 --executor batch -- sleep {size}
            """)
    static let runKind = RunRecord.Kind.sweep

    @OptionGroup var workload: WorkloadArguments
    @Option(
        help: ArgumentHelp(
            "The size parameter and its sizes: NAME=a,b,c (listed), NAME=a..b*F (geometric) or NAME=a..b+S.",
            valueName: "NAME=SIZES"))
    var param: String?
    @Option(help: "function (Lambda model) or batch (Batch model).") var executor: SweepExecutor = .function
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Memory settings in MB (function, 128...10240) or MiB (batch job limit), comma-separated.",
            valueName: "LIST"))
    var memory = "1769"
    @Option(parsing: .unconditional, help: "Timeout in seconds (function: 1...900; batch: the attempt duration).")
    var timeout = 60
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Repetitions per point (1...100).")
    var repeats = 1
    @Option(parsing: .unconditional, help: "vCPUs of each batch job.") var vcpus = 1.0
    @Option(help: "x86_64 or arm64 (the Lambda price the records use).") var architecture = "x86_64"
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted sweep run: recorded samples are kept, the rest run.", valueName: "RUN"))
    var resume: String?
    @OptionGroup var environment: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption

    var besideResume: String? { workload.besideResume }

    func start(resuming: RunRecord?) async throws {
        let request = try SweepRequest(
            workload: try workload.name(), parameters: workload.parameters, sizes: param, memoryList: memory,
            repeats: repeats,
            executor: executor, timeout: timeout, vcpus: vcpus, architecture: architecture,
            governsCPUShare: cpuShare.governs, variables: environment.variables)
        let store = try openStore()
        let progress = SweepProgress(request, quiet: json)
        let report = try await Sweep.run(
            request, store: store, resuming: resuming,
            parameters: StoredArguments(arguments: ownArguments(after: "sweep")), onEvent: progress.show)
        if json { return try printJSON(report) }
        say(SweepText.sweep(report))
        say("recorded as run \(try store.run(id: report.run).shortID) in \(store.path)")
    }
}
