import Analysis
import CapsizeCore
public import CloudModel
public import Execution
import Foundation
public import Store
import Workloads

/// What `invoke` runs: one function (settings and event) invoked `count` times.
public struct InvokeRequest: Sendable {
    public var settings: FunctionSettings
    public var event: FunctionEvent
    /// The executor's options (retries, idle time, dead letters, whether the worker loads OpenCL…); the store and
    /// the run are set by `Invoke.run`.
    public var options: FunctionExecutor.Options
    /// Invocations, 1...10,000, at most `concurrency` (1...1,000) in flight.
    public var count: Int
    public var concurrency: Int
    public var type: InvocationType
    /// Where the event's payload came from, for a message (a file's path); nil for "the event".
    public var payloadSource: String? = nil
    /// A user's function's code where its runtime runs it (kept for as long as the request is).
    public var code: RunnableCode? = nil

    /// - Throws: `InputError` naming the setting (`count`, `concurrency`, `payload`) or an executor option.
    func validate() throws(InputError) {
        guard (1...10_000).contains(count) else {
            throw InputError(setting: "count", value: "\(count)", allowed: "an integer in 1...10000")
        }
        guard (1...1_000).contains(concurrency) else {
            throw InputError(setting: "concurrency", value: "\(concurrency)", allowed: "an integer in 1...1000")
        }
        try options.validate()
        let asynchronous = type == .asynchronous
        let limit = asynchronous ? FunctionExecutor.asynchronousPayloadLimit : FunctionExecutor.synchronousPayloadLimit
        let size = FunctionExecutor.payloadBytes(of: event, userRuntime: options.userRuntime != nil)
        if size > limit {
            throw InputError(
                setting: "payload", value: "\(payloadSource ?? "the event") (\(size) bytes)",
                allowed: "at most \(limit) bytes for an \(asynchronous ? "asynchronous" : "synchronous") invoke "
                    + "(Lambda answers RequestEntityTooLargeException)")
        }
    }
}

extension InvokeRequest {
    /// An invoke as a command line asks for it: the workload's name and parameter words, the function's
    /// configuration, the event's device and payload file, and how the invocations go.
    /// - Parameters:
    ///   - deadLetterDirectory: where failed asynchronous events go; nil for `dead-letter` beside the store.
    ///   - retryDelays: seconds before the first and the second asynchronous retry, comma-separated (`60,120`).
    /// - Throws: `InputError` naming the setting: `reservedConcurrency`, `architecture`, the configuration's
    ///   (`memory`, `timeout`, `ephemeralStorage`), the workload's parameters, `device`, `payload`, the variables'.
    public init(
        workload name: String, parameters: [String], memory: Int, timeout: Int, ephemeralStorage: Int,
        architecture: String, reservedConcurrency: Int?, device: String, payload: String?, count: Int,
        concurrency: Int, asynchronous: Bool, retries: Int, maximumEventAge: Int, retryDelays: String,
        idleTimeout: Double, deadLetterDirectory: String?, variables: UserVariables, governsCPUShare: Bool
    ) throws {
        if let reservedConcurrency, !(0...1_000).contains(reservedConcurrency) {
            throw InputError(
                setting: "reservedConcurrency", value: "\(reservedConcurrency)",
                allowed: "0...1000 (Lambda's default per-Region limit)")
        }
        guard let architecture = Architecture(rawValue: architecture) else {
            throw InputError(setting: "architecture", value: architecture, allowed: "x86_64 or arm64")
        }
        let configuration = try FunctionConfiguration(
            memoryMB: memory, timeoutSeconds: timeout, ephemeralStorageMB: ephemeralStorage,
            architecture: architecture, reservedConcurrency: reservedConcurrency)
        let (type, values) = try WorkloadCatalog.parse(name, arguments: parameters)
        _ = try type.init(parameters: values)
        guard ["auto", "cpu", "native"].contains(device) else {
            throw InputError(setting: "device", value: device, allowed: "auto, cpu or native (a function has no GPU)")
        }
        var payloadText: String?
        if let payload {
            guard let data = FileManager.default.contents(atPath: payload) else {
                throw InputError(setting: "payload", value: payload, allowed: "a readable file")
            }
            payloadText = String(decoding: data, as: UTF8.self)
        }
        let settings = FunctionSettings(
            configuration: configuration, governsCPUShare: governsCPUShare, variables: try variables.forFunction(),
            functionName: type.name)
        let delays = try Self.delays(retryDelays)
        var options = FunctionExecutor.Options()
        options.retries = retries
        options.maximumEventAgeSeconds = Double(maximumEventAge)
        options.retryDelays = delays
        options.idleTimeoutSeconds = idleTimeout
        options.workerUsesOpenCL = type.usesOpenCL(try DeviceSelector(parsing: device), gpus: false)
        if let deadLetterDirectory {
            try ContainedPath.checkWritableFolder(deadLetterDirectory, setting: "deadLetterDir")
        }
        options.deadLetterDirectory = deadLetterDirectory
        self.init(
            settings: settings,
            event: FunctionEvent(workload: type.name, arguments: parameters, device: device, payload: payloadText),
            options: options, count: count, concurrency: concurrency, type: asynchronous ? .asynchronous : .synchronous,
            payloadSource: payload)
    }
}

extension InvokeRequest {
    /// An invoke of a user's function (`capsize function create`): its own code, runtime and settings, the payload as
    /// its event.
    /// - Parameters:
    ///   - payload: the event's bytes as text; nil sends `{}`.
    ///   - variables: more variables for this invoke (they win over the function's).
    /// - Throws: `InputError` naming the setting; `StudyFailure` when its runtime cannot be run here.
    public init(
        function definition: FunctionDefinition, payload: String?, payloadSource: String?, count: Int,
        concurrency: Int, asynchronous: Bool, reservedConcurrency: Int?, retries: Int, maximumEventAge: Int,
        retryDelays: String, idleTimeout: Double, deadLetterDirectory: String?, variables: UserVariables,
        governsCPUShare: Bool
    ) throws {
        var settings = definition.settings(governsCPUShare: governsCPUShare)
        if let reservedConcurrency {
            guard (0...1_000).contains(reservedConcurrency) else {
                throw InputError(
                    setting: "reservedConcurrency", value: "\(reservedConcurrency)",
                    allowed: "0...1000 (Lambda's default per-Region limit)")
            }
            settings.configuration.reservedConcurrency = reservedConcurrency
        }
        settings.variables.merge(try variables.forFunction()) { _, given in given }
        try LambdaEnvironment.validate(settings.variables)
        var options = FunctionExecutor.Options()
        options.retries = retries
        options.maximumEventAgeSeconds = Double(maximumEventAge)
        options.retryDelays = try Self.delays(retryDelays)
        options.idleTimeoutSeconds = idleTimeout
        options.workerUsesOpenCL = false
        if let deadLetterDirectory {
            try ContainedPath.checkWritableFolder(deadLetterDirectory, setting: "deadLetterDir")
        }
        options.deadLetterDirectory = deadLetterDirectory
        let code = try RunnableCode(definition, temporaryBase: options.temporaryBase)
        options.userRuntime = try definition.userRuntime(codeDirectory: code.directory)
        self.init(
            settings: settings, event: FunctionEvent(workload: definition.name, payload: payload), options: options,
            count: count, concurrency: concurrency, type: asynchronous ? .asynchronous : .synchronous,
            payloadSource: payloadSource, code: code)
    }

    /// `60,120`: seconds before each asynchronous retry.
    static func delays(_ text: String) throws(InputError) -> [Double] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { word throws(InputError) -> Double in
            guard let delay = Double(word.trimmingCharacters(in: .whitespaces)) else {
                throw InputError(setting: "retryDelays", value: text, allowed: "seconds, comma-separated")
            }
            return delay
        }
    }
}

/// What an invoke run stores as its parameters: the caller's own words, to start it again on resume, and what they
/// asked for.
public struct InvokeRunParameters: Encodable {
    public var arguments: [String]
    /// The workload, its parameter words and the device it asked for.
    var workload: String
    var parameters: [String]
    var device: String
    /// The function's memory, MB, and timeout, seconds.
    var memory: Int
    var timeout: Int
    /// The invocations, at most `concurrency` in flight, synchronous or not.
    var count: Int
    var concurrency: Int
    var asynchronous: Bool
    /// How many vCPUs this machine lacks for the function's share, when it does.
    var cpuShortfallVCPUs: Double?
}

extension InvokeRunParameters {
    public init(_ request: InvokeRequest, arguments: [String]) {
        let configuration = request.settings.configuration
        let shortfall =
            FunctionConfiguration.vcpuShare(memoryMB: configuration.memoryMB)
            - Double(ProcessInfo.processInfo.activeProcessorCount)
        self.init(
            arguments: arguments, workload: request.event.workload, parameters: request.event.arguments,
            device: request.event.device, memory: configuration.memoryMB, timeout: configuration.timeoutSeconds,
            count: request.count, concurrency: request.concurrency, asynchronous: request.type == .asynchronous,
            cpuShortfallVCPUs: shortfall > 0 ? shortfall : nil)
    }
}

/// What an invoke measured: every outcome, and their counts, percentiles and projected cost.
public struct InvokeReport: Encodable, Sendable {
    public var run: String
    public var configuration: FunctionConfiguration
    public var event: FunctionEvent
    public var invocations: [InvocationOutcome]
    public var summary: InvokeSummary
}

/// Invokes a function as Lambda would, each invocation recorded as it ends, so an interrupted run resumes with
/// only the invocations it lacks.
public enum Invoke {
    /// - Parameters:
    ///   - resuming: a run already taken over, whose finished invocations are skipped; nil for a new run.
    ///   - parameters: what a new run stores to be resumed later.
    ///   - onStart: called once the run exists, with how many invocations it had recorded before.
    public static func run(
        _ request: InvokeRequest, store: CapsizeStore, resuming: RunRecord?, parameters: some Encodable,
        prices: PriceCatalog = .embedded, onStart: (RunRecord, Int) -> Void = { _, _ in }
    ) async throws -> InvokeReport {
        try request.validate()
        var options = request.options
        options.store = store
        options.deadLetterDirectory = options.deadLetterDirectory ?? store.sibling("dead-letter")
        if request.type == .asynchronous, let directory = options.deadLetterDirectory {
            try DeadLetters.checkWritable(directory)
        }
        let run = try resuming ?? store.createRun(kind: .invoke, parameters: parameters, planned: request.count)
        let done =
            resuming == nil
            ? []
            : try completedIndices(
                run.id, store: store, asynchronous: request.type == .asynchronous, retries: options.retries)
        options.runID = run.id
        let executor = try FunctionExecutor(settings: request.settings, event: request.event, options: options)
        onStart(run, done.count)
        let outcomes = await executor.invoke(
            count: request.count, concurrency: request.concurrency, type: request.type, skipping: done)
        await executor.shutdown()
        if Task.isCancelled { throw interrupted(run.id, in: store, kind: .invoke) }
        try store.finish(run: run.id)
        return InvokeReport(
            run: run.id, configuration: request.settings.configuration, event: request.event, invocations: outcomes,
            summary: InvokeSummary(outcomes: outcomes, prices: prices))
    }

    /// The invocation indices of `run` that are done: a recorded synchronous invocation, or an asynchronous event
    /// that succeeded or used every attempt.
    public static func completedIndices(_ run: String, store: CapsizeStore, asynchronous: Bool, retries: Int) throws
        -> Set<Int>
    {
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
}

/// Counts, percentiles and projected cost over one invoke's outcomes.
public struct InvokeSummary: Codable, Sendable {
    public var cold: Int
    public var warm: Int
    public var statuses: [String: Int]
    public var durationP50Ms: Double?
    public var durationP90Ms: Double?
    public var initP50Ms: Double?
    /// Projected: the sum of the invocations' bills.
    public var costUSD: [String: Double]
    public var costPerMillionUSD: [String: Double]

    public init(outcomes: [InvocationOutcome], prices: PriceCatalog) {
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
