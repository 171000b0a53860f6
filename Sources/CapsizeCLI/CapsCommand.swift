import ArgumentParser
import CapsizeCore
import Reports
import Store
import Studies
import Workloads

/// `capsize caps WORKLOAD [params] [--param NAME=SIZES] [--memory LIST] [--timeout S] [--time-cap-scale F]`
struct CapsCommand: InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "caps",
        abstract:
            "Where a workload stops fitting in Lambda: per memory size, the largest size under the time and memory caps.",
        discussion: """
            For each Lambda memory size (128, 512, 1024, 1769, 3008, 5308 and 10240 MB, plus any given with --memory) \
            the size is stepped up as a function invocation until one times out or is killed for memory, the break is \
            confirmed by one more size and narrowed down by bisection (--refine). The break is shown as observed (an \
            invocation that really ended at the cap) and as predicted (where the fits of time and memory against size \
            cross the caps, with a 95 % interval). --time-cap-scale runs with the timeout scaled down (0.01: 9 s \
            stands for 900 s) so that real time breaks are observed quickly; the report says so and converts back.
              capsize caps train-mlp --time-cap-scale 0.01
              capsize caps command --param size=1..64*2 -- python3 job.py {size}
            """)

    @OptionGroup var workload: WorkloadArguments
    @Option(
        help: ArgumentHelp(
            "The size parameter and its sizes (default: from an eighth of its default, doubling).",
            valueName: "NAME=SIZES"))
    var param: String?
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Memory sizes in MB to examine besides the default seven (128...10240), comma-separated.", valueName: "LIST"
        ))
    var memory: String?
    @Flag(name: .customLong("only-listed"), help: "Examine only the --memory sizes, not the default seven.")
    var onlyListed = false
    @Option(parsing: .unconditional, help: "The function timeout being examined, seconds (1...900).") var timeout = 900
    @Option(
        name: .customLong("time-cap-scale"), parsing: .unconditional,
        help: "Run with the timeout scaled by F (0 < F ≤ 1), e.g. 0.01: 9 s stands for 900 s.")
    var timeCapScale = 1.0
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Repetitions per point (1...100).")
    var repeats = 1
    @Option(
        parsing: .unconditional,
        help: "Narrow each break down until the bracket is at most this wide, relatively (0 to skip; 0.01...1).")
    var refine = 0.05
    @Option(help: "x86_64 or arm64 (the Lambda price the records use).") var architecture = "x86_64"
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted caps run: recorded samples are kept, the rest run.", valueName: "RUN"))
    var resume: String?
    @Option(
        help: ArgumentHelp(
            "Print the analysis of a finished caps run again from its records; nothing runs.", valueName: "RUN"))
    var analyse: String?
    @OptionGroup var environment: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption

    func run() async throws {
        if let analyse {
            guard !workload.given && resume == nil else {
                throw InputError(field: "--analyse", value: analyse, allowed: "no workload or --resume beside it")
            }
            let run = try findRun(analyse, in: try openStore(), field: "--analyse")
            let notCaps = InputError(field: "--analyse", value: analyse, allowed: "the id of a caps run")
            return try await original(of: run, otherwise: notCaps).caps(resuming: run, replay: true)
        }
        guard let resume else { return try await caps(resuming: nil) }
        if let allowed = workload.besideResume { throw InputError(field: "--resume", value: resume, allowed: allowed) }
        let run = try takeOverRun(resume, kind: .sweep, in: try openStore())
        let notCaps = InputError(
            field: "--resume", value: resume, allowed: "a caps run (this one is a sweep: use capsize sweep --resume)")
        try await original(of: run, otherwise: notCaps).caps(resuming: run)
    }

    /// The command `run` was started with (its stored arguments), printing as this one asks.
    private func original(of run: RunRecord, otherwise notCaps: InputError) throws -> CapsCommand {
        let stored = try StoredJSON.decode(StoredArguments.self, from: run.parameters)
        guard run.kind == .sweep, stored.arguments.first == "caps" else { throw notCaps }
        var original = try CapsCommand.parse(Array(stored.arguments.dropFirst()))
        original.json = json
        return original
    }

    func caps(resuming: RunRecord?, replay: Bool = false) async throws {
        let study = CapsRequest(
            workload: try workload.name(), parameters: workload.parameters, sizes: param, memoryList: memory,
            onlyListed: onlyListed, timeout: timeout, timeCapScale: timeCapScale, repeats: repeats, refine: refine,
            architecture: architecture, governsCPUShare: cpuShare.governs)
        let request = try study.sweep(variables: environment.variables)
        let store = try openStore()
        let progress = SweepProgress(request, quiet: json || replay)
        let report = try await Caps.run(
            request, store: store, resuming: resuming, replay: replay,
            parameters: StoredArguments(arguments: ["caps"] + ownArguments(after: "caps"))
        ) { event in
            if case .started = event, !json, let scaled = SweepText.scaledTimeCap(study) { say(scaled) }
            progress.show(event)
        }
        if json { return try printJSON(report) }
        say(SweepText.caps(report, hints: .commandLine))
        say("recorded as run \(try store.run(id: report.run).shortID) in \(store.path)")
    }
}
