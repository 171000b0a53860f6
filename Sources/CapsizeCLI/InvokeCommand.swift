import Analysis
import ArgumentParser
import CapsizeCore
import CloudModel
import Execution
import Foundation
import Reports
import Store
import Workloads

/// `capsize invoke WORKLOAD [params] --memory MB --timeout S [--count N] [--concurrency C] [--async] ...`
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a workload as a Lambda-model function: cold and warm environments, caps, REPORT lines, cost.",
        discussion: """
            Each invocation runs in an execution environment (a `capsize worker` process) capped at the
            configured memory, with threads for the vCPU share (memory / 1,769 MB, at most 6) and no GPU.
            Environments are reused warm, frozen between invocations, and reset after a timeout or crash.
            Durations and memory are measured here; costs are projected from the price table.
              capsize invoke train-mlp --batch 256 --memory 1024 --timeout 10 --count 5
              capsize invoke command --memory 128 --timeout 1 -- sleep 5
            """)

    @Argument(help: "train-mlp, render-frames or command.") var workload: String?
    @Option(help: ArgumentHelp(
        "Continue an interrupted invoke run (its id or a unique prefix): only the invocations not yet recorded run.",
        valueName: "RUN"))
    var resume: String?
    @Option(help: "Memory Size in MB (128...10240).") var memory = 128
    @Option(help: "Function timeout in seconds (1...900).") var timeout = 3
    @Option(help: "Invocations (1...10000).") var count = 1
    @Option(help: "Invocations in flight at once (1...1000).") var concurrency = 1
    @Option(name: .customLong("reserved-concurrency"), help: "The function's concurrency limit (0...1000); excess synchronous invokes are throttled.")
    var reservedConcurrency: Int?
    @Flag(name: .customLong("async"), help: "Invoke asynchronously (Event): retries, dead-letter directory.")
    var asynchronous = false
    @Option(help: "Asynchronous retries (0...2).") var retries = 2
    @Option(name: .customLong("maximum-event-age"), help: "Seconds an asynchronous event may wait (60...21600).")
    var maximumEventAge = 21_600
    @Option(name: .customLong("ephemeral-storage"), help: "/tmp size in MB (512...10240).") var ephemeralStorage = 512
    @Option(help: "x86_64 or arm64 (the price the record uses; both are shown).") var architecture = "x86_64"
    @Option(help: "Device inside the function: auto or cpu (no GPU in a function).") var device = "auto"
    @Option(help: ArgumentHelp("A file sent as the event's payload (6 MB synchronous, 1 MB asynchronous at most).", valueName: "FILE"))
    var payload: String?
    @Option(name: .customLong("dead-letter-dir"), help: "Where failed asynchronous events are written (default: beside the store).")
    var deadLetterDirectory: String?
    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle environment is kept warm.") var idleTimeout = 60.0
    @Option(name: .customLong("retry-delays"), help: .hidden) var retryDelays = "60,120"
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Print JSON instead of log lines.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        guard let resume else { return try await invoke(resuming: nil) }
        guard workload == nil && parameters.isEmpty else {
            throw InputError(field: "--resume", value: resume, allowed: "no workload beside it (the run's own is used)")
        }
        let store = try openStore()
        let run = try takeOverRun(resume, kind: .invoke, in: store)
        let stored = try StoredJSON.decode(InvokeRunParameters.self, from: run.parameters)
        var original = try InvokeCommand.parse(stored.arguments)
        original.json = json
        try await original.invoke(resuming: run)
    }

    /// The invocation indices of `run` that are done: a recorded synchronous invocation, or an
    /// asynchronous event that succeeded or used every attempt.
    static func completedIndices(_ run: String, store: CapsizeStore, asynchronous: Bool, retries: Int) throws -> Set<Int> {
        var attempts: [Int: (count: Int, succeeded: Bool)] = [:]
        for record in try store.invocations(run: run) {
            guard let key = record.itemKey, key.hasPrefix("invocation="),
                let index = Int(key.dropFirst("invocation=".count).prefix { $0.isNumber })
            else { continue }
            let previous = attempts[index] ?? (0, false)
            attempts[index] = (previous.count + 1, previous.succeeded || record.status == .success)
        }
        return Set(attempts.filter { !asynchronous || $0.value.succeeded || $0.value.count > retries }.keys)
    }

    /// Invokes the function: in a new run, or in `resuming` (taken over), skipping what it recorded.
    func invoke(resuming: RunRecord?) async throws {
        guard let workload else {
            throw InputError(field: "WORKLOAD", value: "", allowed: "train-mlp, render-frames or command, or --resume RUN")
        }
        if let reservedConcurrency, !(0...1_000).contains(reservedConcurrency) {
            throw InputError(
                field: "--reserved-concurrency", value: "\(reservedConcurrency)",
                allowed: "0...1000 (Lambda's default per-Region limit)")
        }
        guard let architecture = Architecture(rawValue: architecture) else {
            throw InputError(field: "--architecture", value: architecture, allowed: "x86_64 or arm64")
        }
        let configuration = try FunctionConfiguration(
            memoryMB: memory, timeoutSeconds: timeout, ephemeralStorageMB: ephemeralStorage,
            architecture: architecture, reservedConcurrency: reservedConcurrency)
        guard (1...10_000).contains(count) else {
            throw InputError(field: "--count", value: "\(count)", allowed: "an integer in 1...10000")
        }
        guard (1...1_000).contains(concurrency) else {
            throw InputError(field: "--concurrency", value: "\(concurrency)", allowed: "an integer in 1...1000")
        }
        let type = try WorkloadCatalog.named(workload)
        let values = try ParameterValues(arguments: parameters, specs: type.parameters)
        if !values.trailing.isEmpty && type != CommandWorkload.self {
            throw InputError(field: "--", value: values.trailing.joined(separator: " "), allowed: "words after -- only for command")
        }
        _ = try type.init(parameters: values)
        guard ["auto", "cpu", "native"].contains(device) else {
            throw InputError(field: "--device", value: device, allowed: "auto, cpu or native (a function has no GPU)")
        }
        var payloadText: String?
        if let payload {
            guard let data = FileManager.default.contents(atPath: payload) else {
                throw InputError(field: "--payload", value: payload, allowed: "a readable file")
            }
            payloadText = String(decoding: data, as: UTF8.self)
        }
        let variables = try environmentOptions.functionVariables()
        let delays = retryDelays.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }

        let store = try openStore()
        var options = FunctionExecutor.Options()
        options.retries = retries
        options.maximumEventAgeSeconds = Double(maximumEventAge)
        options.retryDelays = delays.isEmpty ? [60, 120] : delays
        options.idleTimeoutSeconds = idleTimeout
        options.deadLetterDirectory =
            deadLetterDirectory
            ?? URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("dead-letter").path
        options.store = store
        options.workerUsesOpenCL = type.usesOpenCL(try DeviceSelector(parsing: device), gpus: false)
        try options.validate()
        let settings = FunctionSettings(
            configuration: configuration, governsCPUShare: cpuShare.governs, variables: variables, functionName: type.name)
        let event = FunctionEvent(workload: type.name, arguments: parameters, device: device, payload: payloadText)
        let invocation: InvocationType = asynchronous ? .asynchronous : .synchronous
        let limit = asynchronous ? FunctionExecutor.asynchronousPayloadLimit : FunctionExecutor.synchronousPayloadLimit
        let size = FunctionExecutor.payloadBytes(of: event)
        if size > limit {
            throw InputError(
                field: "--payload", value: "\(payload ?? "the event") (\(size) bytes)",
                allowed: "at most \(limit) bytes for an \(asynchronous ? "asynchronous" : "synchronous") invoke "
                    + "(Lambda answers RequestEntityTooLargeException)")
        }

        let run = try resuming ?? store.createRun(kind: .invoke, parameters: InvokeRunParameters(command: self), planned: count)
        let done = resuming == nil ? [] : try Self.completedIndices(run.id, store: store, asynchronous: asynchronous, retries: retries)
        options.runID = run.id
        let executor = try FunctionExecutor(settings: settings, event: event, options: options)
        if !json {
            say("\(type.name) as a function: \(memory) MB, timeout \(timeout) s, \(architecture.rawValue), "
                + "\(shareText(memoryMB: memory, governed: cpuShare.governs)), no GPU")
        }
        if !json && resuming != nil { say("resumed run \(run.shortID): \(done.count) of \(count) invocation(s) recorded before") }
        let outcomes = await executor.invoke(count: count, concurrency: concurrency, type: invocation, skipping: done)
        await executor.shutdown()
        try store.finish(run: run.id)
        let summary = InvokeSummary(outcomes: outcomes, prices: PriceCatalog.embedded, architecture: architecture)
        if json {
            return try printJSON(InvokeReport(run: run.id, configuration: configuration, event: event, invocations: outcomes, summary: summary))
        }
        for outcome in outcomes { printLog(outcome) }
        printSummary(summary, outcomes: outcomes)
        say("recorded as run \(run.shortID) in \(store.path)")
    }

    private func printLog(_ outcome: InvocationOutcome) {
        switch outcome.status {
        case .throttled:
            say("\(outcome.errorType ?? ""): \(outcome.errorMessage ?? "") (request \(outcome.requestId) was throttled, not run)")
            return
        case .timeout:
            outcome.logLines.forEach { say($0) }
        case .success:
            break
        default:
            if outcome.report == nil {
                say("\(outcome.errorType ?? "Error"): \(outcome.errorMessage ?? "") (request \(outcome.requestId))")
                return
            }
            if outcome.logLines.isEmpty {
                say("RequestId: \(outcome.requestId) Error: \(outcome.errorMessage ?? "")")
                say(outcome.errorType ?? "Error")
            } else {
                outcome.logLines.forEach { say($0) }
            }
        }
        if let report = outcome.report {
            say(report)
            if outcome.heldToCPUShare == nil { say("  (Duration above: \(CPUShareOption.ungovernedNote))") }
        }
        if let letter = outcome.deadLetterPath {
            say("event \(outcome.requestId) failed after \(outcome.attempts) attempt(s): dead letter \(letter)")
        }
    }

    private func printSummary(_ summary: InvokeSummary, outcomes: [InvocationOutcome]) {
        let statuses = summary.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        say("summary: \(outcomes.count) invocation(s), \(summary.cold) cold, \(summary.warm) warm; \(statuses)")
        if let p50 = summary.durationP50Ms, let p90 = summary.durationP90Ms {
            let held = cpuShare.governs ? "held to the vCPU share" : CPUShareOption.ungovernedNote
            say("  Duration (measured here, \(held)): p50 \(String(format: "%.2f", p50)) ms, p90 \(String(format: "%.2f", p90)) ms")
        }
        if let initP50 = summary.initP50Ms {
            say("  Init Duration (measured here, cold starts): p50 \(String(format: "%.2f", initP50)) ms")
        }
        say("  cost (projected from the price table, \(PriceCatalog.embedded.lambda.source)): "
            + "x86_64 $\(String(format: "%.10f", summary.costUSD["x86_64"] ?? 0)), "
            + "arm64 $\(String(format: "%.10f", summary.costUSD["arm64"] ?? 0)) for these invocations; "
            + "per million like them: x86_64 $\(String(format: "%.2f", summary.costPerMillionUSD["x86_64"] ?? 0)), "
            + "arm64 $\(String(format: "%.2f", summary.costPerMillionUSD["arm64"] ?? 0))")
    }
}

/// `vCPU share 3.00 (3 thread(s)), held to it`, and how far this machine's cores fall short of the share, if they do.
func shareText(memoryMB: Int, governed: Bool) -> String {
    let share = FunctionConfiguration.vcpuShare(memoryMB: memoryMB)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var text = "vCPU share \(fmt(share)) (\(FunctionConfiguration.threads(memoryMB: memoryMB)) thread(s))"
    text += governed ? ", held to it as Lambda holds it" : ", run " + CPUShareOption.ungovernedNote
    if share > Double(cores) { text += "; this machine has \(cores) cores, \(fmt(share - Double(cores))) vCPUs short of the share" }
    return text
}

/// `--no-cpu-share`, for every command that starts functions or jobs.
struct CPUShareOption: ParsableArguments {
    @Flag(
        name: .customLong("no-cpu-share"),
        help: "Run functions and jobs at this machine's full speed instead of holding them to their vCPU share (Lambda: memory / 1,769 MB of a CPU; Batch: --vcpus).")
    var noCPUShare = false

    /// Whether functions and jobs are held to their share.
    var governs: Bool { !noCPUShare }

    /// What every line measured without the governor says.
    static let ungovernedNote = "at this machine's full speed (--no-cpu-share), not held to the vCPU share: faster than the service"
}

/// What `capsize invoke` stores with its run.
struct InvokeRunParameters: Codable {
    /// The command's own arguments after `invoke`, to parse again on `--resume`.
    var arguments: [String]
    var workload: String
    var parameters: [String]
    var device: String
    var memory: Int
    var timeout: Int
    var count: Int
    var concurrency: Int
    var asynchronous: Bool
    var cpuShortfallVCPUs: Double?

    init(command: InvokeCommand) {
        arguments = ownArguments(after: "invoke")
        workload = command.workload ?? ""
        parameters = command.parameters
        device = command.device
        memory = command.memory
        timeout = command.timeout
        count = command.count
        concurrency = command.concurrency
        asynchronous = command.asynchronous
        let shortfall =
            FunctionConfiguration.vcpuShare(memoryMB: command.memory) - Double(ProcessInfo.processInfo.activeProcessorCount)
        cpuShortfallVCPUs = shortfall > 0 ? shortfall : nil
    }
}

/// Counts, percentiles and projected cost over one `invoke`'s outcomes.
struct InvokeSummary: Codable {
    var cold: Int
    var warm: Int
    var statuses: [String: Int]
    var durationP50Ms: Double?
    var durationP90Ms: Double?
    var initP50Ms: Double?
    /// Projected: the sum of the invocations' bills.
    var costUSD: [String: Double]
    var costPerMillionUSD: [String: Double]

    init(outcomes: [InvocationOutcome], prices: PriceCatalog, architecture: Architecture) {
        let ran = outcomes.filter { $0.report != nil }
        cold = ran.filter(\.cold).count
        warm = ran.count - cold
        statuses = Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count)
        let durations = ran.map(\.durationMs).sorted()
        durationP50Ms = durations.isEmpty ? nil : Summary.quantile(durations, 0.5)
        durationP90Ms = durations.isEmpty ? nil : Summary.quantile(durations, 0.9)
        let inits = ran.compactMap(\.initDurationMs).sorted()
        initP50Ms = inits.isEmpty ? nil : Summary.quantile(inits, 0.5)
        var cost: [String: Double] = [:]
        for outcome in outcomes { for (key, value) in outcome.costUSD { cost[key, default: 0] += value } }
        costUSD = cost
        costPerMillionUSD = outcomes.isEmpty ? [:] : cost.mapValues { $0 / Double(outcomes.count) * 1e6 }
    }
}

/// `capsize invoke --json`.
struct InvokeReport: Encodable {
    var run: String
    var configuration: FunctionConfiguration
    var event: FunctionEvent
    var invocations: [InvocationOutcome]
    var summary: InvokeSummary
}
