import Analysis
import ArgumentParser
import CapsizeCore
import CloudModel
import Execution
import Foundation
import Reports
import Store
import Studies
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

    @Argument(help: ArgumentHelp(WorkloadCatalog.namesInWords + ".")) var workload: String?
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted invoke run (its id or a unique prefix): only the invocations not yet recorded run.",
            valueName: "RUN"))
    var resume: String?
    @Option(help: "Memory Size in MB (128...10240).") var memory = 128
    @Option(help: "Function timeout in seconds (1...900).") var timeout = 3
    @Option(help: "Invocations (1...10000).") var count = 1
    @Option(help: "Invocations in flight at once (1...1000).") var concurrency = 1
    @Option(
        name: .customLong("reserved-concurrency"),
        help: "The function's concurrency limit (0...1000); excess synchronous invokes are throttled.")
    var reservedConcurrency: Int?
    @Flag(name: .customLong("async"), help: "Invoke asynchronously (Event): retries, dead-letter directory.")
    var asynchronous = false
    @Option(help: "Asynchronous retries (0...2).") var retries = 2
    @Option(name: .customLong("maximum-event-age"), help: "Seconds an asynchronous event may wait (60...21600).")
    var maximumEventAge = 21_600
    @Option(name: .customLong("ephemeral-storage"), help: "/tmp size in MB (512...10240).") var ephemeralStorage = 512
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

    /// Invokes the function: in a new run, or in `resuming` (taken over), skipping what it recorded.
    func invoke(resuming: RunRecord?) async throws {
        guard let workload else {
            throw InputError(field: "WORKLOAD", value: "", allowed: WorkloadCatalog.namesInWords + ", or --resume RUN")
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
        let (type, values) = try WorkloadCatalog.parse(workload, arguments: parameters)
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

        var options = FunctionExecutor.Options()
        options.retries = retries
        options.maximumEventAgeSeconds = Double(maximumEventAge)
        options.retryDelays = delays.isEmpty ? [60, 120] : delays
        options.idleTimeoutSeconds = idleTimeout
        options.workerUsesOpenCL = type.usesOpenCL(try DeviceSelector(parsing: device), gpus: false)
        let store = try openStore()
        options.deadLetterDirectory =
            deadLetterDirectory
            ?? URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("dead-letter").path
        var request = InvokeRequest(
            settings: FunctionSettings(
                configuration: configuration, governsCPUShare: cpuShare.governs, variables: variables,
                functionName: type.name),
            event: FunctionEvent(workload: type.name, arguments: parameters, device: device, payload: payloadText),
            options: options, count: count, concurrency: concurrency, type: asynchronous ? .asynchronous : .synchronous)
        request.payloadSource = payload
        var shortID = ""
        let report = try await Invoke.run(
            request, store: store, resuming: resuming, parameters: InvokeRunParameters(command: self)
        ) { run, earlier in
            shortID = run.shortID
            guard !json else { return }
            say(InvokeText.header(request, hints: .commandLine))
            if resuming != nil {
                say("resumed run \(run.shortID): \(earlier) of \(count) invocation(s) recorded before")
            }
        }
        if json { return try printJSON(report) }
        for outcome in report.invocations {
            for line in InvokeText.log(outcome, hints: .commandLine) { say(line) }
        }
        say(InvokeText.summary(report, governed: cpuShare.governs, hints: .commandLine))
        say("recorded as run \(shortID) in \(store.path)")
    }
}

/// `--no-cpu-share`, for every command that starts functions or jobs.
struct CPUShareOption: ParsableArguments {
    @Flag(
        name: .customLong("no-cpu-share"),
        help:
            "Run functions and jobs at this machine's full speed instead of holding them to their vCPU share (Lambda: memory / 1,769 MB of a CPU; Batch: --vcpus)."
    )
    var noCPUShare = false

    /// Whether functions and jobs are held to their share.
    var governs: Bool { !noCPUShare }
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
            FunctionConfiguration.vcpuShare(memoryMB: command.memory)
            - Double(ProcessInfo.processInfo.activeProcessorCount)
        cpuShortfallVCPUs = shortfall > 0 ? shortfall : nil
    }
}
