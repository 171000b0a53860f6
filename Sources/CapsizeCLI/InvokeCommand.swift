import ArgumentParser
import CapsizeCore
import Foundation
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
            A function defined with `capsize function create` is invoked by its name, with its own code, runtime and \
            settings; --payload is its event (- reads stdin), and each invocation prints the function's log and response.
              capsize invoke hello --payload event.json --count 3
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
    @Option(
        name: .customLong("type"),
        help: ArgumentHelp(
            "RequestResponse or Event (the same as --async), as the Invoke API names them.", valueName: "TYPE"))
    var invocationType: String?
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
            "A file sent as the event's payload (6 MB synchronous, 1 MB asynchronous at most); - reads stdin.",
            valueName: "FILE"))
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
        let request = try makeRequest()
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
                if request.options.userRuntime != nil {
                    // A user's function: its log as CloudWatch has it (START, its output, END, REPORT), its response.
                    say(InvokeText.functionLog(outcome, hints: .commandLine))
                } else {
                    for line in InvokeText.log(outcome, hints: .commandLine) { say(line) }
                }
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

    /// Whether to invoke asynchronously: `--async` or `--type Event`.
    func isAsynchronous() throws -> Bool {
        switch invocationType {
        case nil: return asynchronous
        case "Event": return true
        case "RequestResponse" where !asynchronous: return false
        default:
            throw InputError(
                setting: "type", value: invocationType ?? "",
                allowed: "RequestResponse or Event (DryRun is the Invoke API's), not with --async RequestResponse")
        }
    }

    /// The payload: a file's text, stdin's for `-`, nil when none was given.
    func payloadText() throws -> String? {
        guard let payload else { return nil }
        let data: Data? =
            payload == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: payload)
        guard let data else {
            throw InputError(setting: "payload", value: payload, allowed: "a readable file, or - for stdin")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The options that set a function's configuration: a defined function has its own.
    static let configurationFlags = ["--memory", "--timeout", "--ephemeral-storage", "--architecture", "--device"]

    func makeRequest() throws -> InvokeRequest {
        let name = try workload.name()
        if workload.parameters.isEmpty, let definition = try FunctionStore().function(named: name) {
            let given = ownArguments(after: "invoke")
            for flag in Self.configurationFlags where given.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") })
            {
                throw InputError(
                    setting: String(flag.dropFirst(2)), value: "given for function \(name)",
                    allowed: "nothing: a defined function has its own (capsize function create \(name) --replace ...)")
            }
            return try InvokeRequest(
                function: definition, payload: try payloadText(), payloadSource: payload == "-" ? "stdin" : payload,
                count: count, concurrency: concurrency, asynchronous: try isAsynchronous(),
                reservedConcurrency: reservedConcurrency, retries: retries, maximumEventAge: maximumEventAge,
                retryDelays: retryDelays, idleTimeout: idleTimeout, deadLetterDirectory: deadLetterDirectory,
                variables: environment.variables, governsCPUShare: cpuShare.governs)
        }
        return try InvokeRequest(
            workload: name, parameters: workload.parameters, memory: memory, timeout: timeout,
            ephemeralStorage: ephemeralStorage, architecture: architecture, reservedConcurrency: reservedConcurrency,
            device: device, payload: payload, count: count, concurrency: concurrency,
            asynchronous: try isAsynchronous(),
            retries: retries, maximumEventAge: maximumEventAge, retryDelays: retryDelays, idleTimeout: idleTimeout,
            deadLetterDirectory: deadLetterDirectory, variables: environment.variables,
            governsCPUShare: cpuShare.governs)
    }
}
