import ArgumentParser
import CapsizeCore
import Reports
import Store
import Studies
import Workloads

/// `capsize invoke WORKLOAD [params] --memory MB --timeout S [--count N] [--concurrency C] [--async] ...`
struct InvokeCommand: ResumableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a workload as a Lambda-model function: cold and warm environments, caps, REPORT lines, cost.",
        discussion: """
            Each invocation runs in an execution environment (a `capsize worker` process) capped at the configured \
            memory, with threads for the vCPU share (memory / 1,769 MB, at most 6) and no GPU. Environments are reused \
            warm, frozen between invocations, and reset after a timeout or crash. Durations and memory are measured \
            here; costs are projected from the price table.
              capsize invoke train-mlp --batch 256 --memory 1024 --timeout 10 --count 5
              capsize invoke command --memory 128 --timeout 1 -- sleep 5
            """)
    static let runKind = RunRecord.Kind.invoke

    @OptionGroup var workload: WorkloadArguments
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted invoke run (its id or a unique prefix): only the invocations not yet recorded run.",
            valueName: "RUN"))
    var resume: String?
    @Option(parsing: .unconditional, help: "Memory Size in MB (128...10240).") var memory = 128
    @Option(parsing: .unconditional, help: "Function timeout in seconds (1...900).") var timeout = 3
    @Option(parsing: .unconditional, help: "Invocations (1...10000).") var count = 1
    @Option(parsing: .unconditional, help: "Invocations in flight at once (1...1000).") var concurrency = 1
    @Option(
        name: .customLong("reserved-concurrency"), parsing: .unconditional,
        help: "The function's concurrency limit (0...1000); excess synchronous invokes are throttled.")
    var reservedConcurrency: Int?
    @Flag(name: .customLong("async"), help: "Invoke asynchronously (Event): retries, dead-letter directory.")
    var asynchronous = false
    @Option(parsing: .unconditional, help: "Asynchronous retries (0...2).") var retries = 2
    @Option(
        name: .customLong("maximum-event-age"), parsing: .unconditional,
        help: "Seconds an asynchronous event may wait (60...21600).")
    var maximumEventAge = 21_600
    @Option(name: .customLong("ephemeral-storage"), parsing: .unconditional, help: "/tmp size in MB (512...10240).")
    var ephemeralStorage = 512
    @Option(help: "x86_64 or arm64 (the price the record uses; both are shown).") var architecture = "x86_64"
    @Option(help: "Device inside the function: auto or cpu (no GPU in a function).") var device = "auto"
    @Option(
        help: ArgumentHelp(
            "A file sent as the event's payload (6 MB synchronous, 1 MB asynchronous at most).", valueName: "FILE"))
    var payload: String?
    @Option(
        name: .customLong("dead-letter-dir"),
        help: "Where failed asynchronous events are written (default: beside the store).")
    var deadLetterDirectory: String?
    @Option(
        name: .customLong("idle-timeout"), parsing: .unconditional, help: "Seconds an idle environment is kept warm.")
    var idleTimeout = 60.0
    @Option(name: .customLong("retry-delays"), help: .hidden) var retryDelays = "60,120"
    @OptionGroup var environment: EnvironmentOptions
    @Flag(help: "Print JSON instead of log lines.") var json = false
    @OptionGroup var cpuShare: CPUShareOption

    var besideResume: String? { workload.besideResume }

    /// Invokes the function: in a new run, or in `resuming` (taken over), skipping what it recorded.
    func start(resuming: RunRecord?) async throws {
        let request = try InvokeRequest(
            workload: try workload.name(), parameters: workload.parameters, memory: memory, timeout: timeout,
            ephemeralStorage: ephemeralStorage, architecture: architecture, reservedConcurrency: reservedConcurrency,
            device: device, payload: payload, count: count, concurrency: concurrency, asynchronous: asynchronous,
            retries: retries, maximumEventAge: maximumEventAge, retryDelays: retryDelays, idleTimeout: idleTimeout,
            deadLetterDirectory: deadLetterDirectory, variables: environment.variables,
            governsCPUShare: cpuShare.governs)
        let store = try openStore()
        var shortID = ""
        let report = try await Invoke.run(
            request, store: store, resuming: resuming,
            parameters: InvokeRunParameters(request, arguments: ownArguments(after: "invoke"))
        ) { run, earlier in
            shortID = run.shortID
            guard !json else { return }
            say(InvokeText.header(request, hints: .commandLine))
            if resuming != nil {
                say("resumed run \(run.shortID): \(earlier) of \(count) invocation(s) recorded before")
            }
        }
        if json {
            try printJSON(report)
        } else {
            for outcome in report.invocations {
                for line in InvokeText.log(outcome, hints: .commandLine) { say(line) }
            }
            say(InvokeText.summary(report, governed: cpuShare.governs, hints: .commandLine))
            say("recorded as run \(shortID) in \(store.path)")
        }
        let failed = report.invocations.filter { $0.status != .success }
        if !failed.isEmpty {
            let kinds = Set(failed.map { $0.status.rawValue }).sorted().joined(separator: ", ")
            throw CommandFailure(
                message: "\(failed.count) of \(report.invocations.count) invocation(s) did not succeed (\(kinds))")
        }
    }
}
