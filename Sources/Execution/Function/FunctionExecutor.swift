public import CapsizeCore
public import CloudModel
import Foundation
public import Store

#if canImport(Glibc)
import Glibc
#endif

/// Runs a workload under the Lambda model: execution environments (one `capsize worker` each) that
/// start cold, stay warm and frozen between invocations, are reset after a timeout or crash and
/// reaped when idle; a concurrency limit that throttles excess synchronous invokes; asynchronous
/// invokes with retries, a maximum event age and a dead-letter directory; Lambda's REPORT line, failure
/// texts and bill for every invocation, each recorded in the store as it ends.
///
/// Max Memory Used is the highest resident memory of the environment's whole process tree (the worker
/// and anything it started) sampled every `sampleInterval` from writing the event until the answer,
/// plus one reading at the answer; it includes the worker's own baseline, as Lambda's includes the
/// runtime's.
public actor FunctionExecutor {
    public struct Options: Sendable {
        /// The environment's program; by default this executable's `worker` subcommand (`WorkerProtocol.command`).
        public var workerCommand: [String]
        /// capsize-launch; nil to find it like the sandbox does.
        public var launcherPath: String?
        /// An idle environment older than this is reaped (Lambda keeps them for minutes; 60 s here).
        public var idleTimeoutSeconds: Double = 60
        /// Asynchronous retries, 0...2.
        public var retries: Int = 2
        /// Delays before the first and the second retry (Lambda: 60 s and 120 s; tests scale them down).
        public var retryDelays: [Double] = [60, 120]
        /// How long an asynchronous event may wait for its attempts, 60...21,600 s.
        public var maximumEventAgeSeconds: Double = 21_600
        /// Where failed asynchronous events are written as JSON, one file per request.
        public var deadLetterDirectory: String?
        /// Lambda's limit on Init (10 s): Init that runs longer goes on under the function timeout and is
        /// counted into the first invocation's Duration, without an Init Duration (tests shorten it).
        public var initLimitSeconds: Double = FunctionConfiguration.initLimitSeconds
        /// Seconds between two readings of an environment's memory, 0.0005...0.01.
        public var sampleInterval: Double = 0.005
        /// The parent of the environments' private temporary directories.
        public var temporaryBase: String = FileManager.default.temporaryDirectory.path
        /// Online cores of this machine, to report a CPU share it cannot give.
        public var machineCores: Int = ProcessInfo.processInfo.activeProcessorCount
        /// Records every invocation (and environment) in this run, when set.
        public var store: CapsizeStore?
        public var runID: String?
        /// Whether the function's workload may need OpenCL; when false the worker skips loading the drivers at
        /// Init (`CAPSIZE_WORKER_OPENCL=off`), as a function's Init prepares only what its handler uses.
        public var workerUsesOpenCL = true
        /// Put before every recorded invocation's item key (e.g. `memory=512/size=1024/rep=0/`), so that
        /// a sweep's invocations say which point they belong to.
        public var itemKeyPrefix = ""
        public var prices: PriceCatalog = .embedded
        /// Hold each invocation to the function's vCPU share (memory / 1,769 MB of a CPU, at most 6), as
        /// Lambda does; false runs it at this machine's full speed (`--no-cpu-share`).
        public var governsCPUShare = true
        /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`); capsize uses the workload's.
        public var functionName = "capsize-function"
        /// The function's configured environment variables (`--env`, `--env-file`, `--pass-env`), checked as
        /// Lambda checks them (`LambdaEnvironment.validate`). Nothing else of capsize's environment reaches the
        /// function but `WorkloadEnvironment.passedByName`.
        public var variables: [String: String] = [:]

        public init(workerCommand: [String]? = nil, launcherPath: String? = nil) {
            self.workerCommand = workerCommand ?? WorkerProtocol.command()
            self.launcherPath = launcherPath
        }

        /// - Throws: `InputError` naming the option and its allowed range.
        public func validate() throws(InputError) {
            guard (0...2).contains(retries) else {
                throw InputError(field: "--retries", value: "\(retries)", allowed: "0...2 (Lambda's range)")
            }
            guard (60...21_600).contains(maximumEventAgeSeconds) else {
                throw InputError(
                    field: "--maximum-event-age", value: "\(maximumEventAgeSeconds)",
                    allowed: "60...21600 seconds (Lambda's range)")
            }
            guard idleTimeoutSeconds > 0 else {
                throw InputError(field: "--idle-timeout", value: "\(idleTimeoutSeconds)", allowed: "more than 0 seconds")
            }
            guard (0.0005...0.01).contains(sampleInterval) else {
                throw InputError(field: "sampleInterval", value: "\(sampleInterval)", allowed: "0.0005...0.01 seconds")
            }
            try LambdaEnvironment.validate(variables)
        }
    }

    /// Lambda's payload limits: 6 MB (6,291,456 bytes) for a synchronous request, 1 MB for an asynchronous
    /// event (raised from 256 KB in 2025; docs/aws-reference.md).
    public static let synchronousPayloadLimit = 6 * 1_048_576
    public static let asynchronousPayloadLimit = 1_048_576
    /// Lambda's limit on a synchronous response: 6 MiB + 100 bytes (6,291,556), as Lambda's runtime API has it.
    public static let responseLimit = 6 * 1_048_576 + 100
    /// Lambda's default per-Region concurrency, the limit without a reserved concurrency.
    public static let accountConcurrency = 1_000

    private final class Environment: Sendable {
        let id = RunRecord.newID()
        let process: EnvironmentProcess
        let createdAt = Date()
        let initDurationMs: Double?
        /// The uid the environment runs as, held until it is reaped (nil: capsize's own user).
        let user: SandboxUser.Lease?
        nonisolated(unsafe) var served = 0  // only touched inside the actor
        nonisolated(unsafe) var lastUsed = 0.0  // only touched inside the actor

        init(process: EnvironmentProcess, initDurationMs: Double?, user: SandboxUser.Lease?) {
            self.process = process
            self.initDurationMs = initDurationMs
            self.user = user
        }
    }

    public let configuration: FunctionConfiguration
    public let event: FunctionEvent
    public let options: Options
    private let launcherPath: String
    private var idle: [Environment] = []
    private var busy = 0
    private var shuttingDown = false
    /// Environments started, for tests and summaries.
    public private(set) var environmentsStarted = 0

    /// - Parameters:
    ///   - configuration: memory, timeout, ephemeral storage, architecture, reserved concurrency.
    ///   - event: the event every invocation sends (the request id is added per invocation).
    /// - Throws: `InputError` for out-of-range options; `SandboxError` when capsize-launch is missing.
    public init(configuration: FunctionConfiguration, event: FunctionEvent, options: Options) throws {
        try options.validate()
        if let path = options.launcherPath {
            launcherPath = path
        } else {
            launcherPath = try Launcher.locate()
        }
        self.configuration = configuration
        self.event = event
        self.options = options
    }

    /// The encoded size of the request that carries the event: what Lambda compares with the payload limit.
    public static func payloadBytes(of event: FunctionEvent) -> Int {
        WorkerRequest.invoke(requestId: RunRecord.newID(), event: event).encoded().count
    }

    /// Invokes the function `count` times, at most `concurrency` at once, and returns the outcomes in order.
    /// - Parameters:
    ///   - type: synchronous invokes beyond the concurrency limit are throttled; asynchronous ones queue,
    ///     and retry on failure.
    ///   - skipping: invocation indices already done (a resumed run); they are not invoked again.
    public func invoke(
        count: Int, concurrency: Int = 1, type: InvocationType = .synchronous, skipping: Set<Int> = []
    ) async -> [InvocationOutcome] {
        let indices = (0..<count).filter { !skipping.contains($0) }
        let lanes = max(1, min(concurrency, indices.count))
        return await withTaskGroup(of: [(Int, InvocationOutcome)].self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var outcomes: [(Int, InvocationOutcome)] = []
                    for position in stride(from: lane, to: indices.count, by: lanes) {
                        let index = indices[position]
                        outcomes.append((index, await self.invokeOnce(index: index, type: type)))
                    }
                    return outcomes
                }
            }
            var all: [(Int, InvocationOutcome)] = []
            for await outcomes in group { all += outcomes }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// One invocation: synchronous, or asynchronous with its retries and dead-lettering.
    public func invokeOnce(index: Int = 0, type: InvocationType = .synchronous) async -> InvocationOutcome {
        let requestId = RunRecord.newID()
        let payload = WorkerRequest.invoke(requestId: requestId, event: event).encoded()
        let limit = type == .synchronous ? Self.synchronousPayloadLimit : Self.asynchronousPayloadLimit
        if payload.count > limit {
            var outcome = rejected(
                requestId: requestId, type: type, status: .error, errorType: LambdaLog.requestTooLargeErrorType,
                message: type == .synchronous
                    ? LambdaLog.requestTooLarge(limit: limit) : LambdaLog.eventTooLarge(bytes: payload.count, limit: limit))
            outcome.attempts = 0
            record(outcome, itemKey: "invocation=\(index)")
            return outcome
        }
        guard type == .asynchronous else {
            return await attempt(requestId: requestId, payload: payload, type: type, itemKey: "invocation=\(index)")
        }
        let accepted = Date()
        var attempts = 0
        while true {
            attempts += 1
            var outcome = await attempt(
                requestId: requestId, payload: payload, type: type,
                itemKey: "invocation=\(index)/attempt=\(attempts)",
                recordID: attempts == 1 ? requestId : RunRecord.newID())
            outcome.attempts = attempts
            if outcome.status == .success { return outcome }
            let condition: String
            if attempts > options.retries {
                condition = "RetriesExhausted"
            } else {
                let delay = options.retryDelays.isEmpty ? 0 : options.retryDelays[min(attempts - 1, options.retryDelays.count - 1)]
                if Date().timeIntervalSince(accepted) + delay > options.maximumEventAgeSeconds {
                    condition = "EventAgeExceeded"
                } else {
                    try? await Task.sleep(for: .seconds(delay))
                    continue
                }
            }
            outcome.deadLetterPath = deadLetter(outcome, condition: condition, accepted: accepted)
            return outcome
        }
    }

    /// Kills every environment (idle now, busy ones when their invocation ends).
    public func shutdown() {
        shuttingDown = true
        for environment in idle { reap(environment) }
        idle.removeAll()
    }

    /// Environments idle (frozen) now.
    public var idleEnvironments: Int { idle.count }

    /// The worker process ids of the idle environments (for tests).
    var idleProcessIDs: [Int32] { idle.map(\.process.pid) }

    /// Reaps environments idle for longer than the idle timeout.
    public func reapIdle() {
        let now = monotonicSeconds()
        let (old, young) = (
            idle.filter { now - $0.lastUsed >= options.idleTimeoutSeconds },
            idle.filter { now - $0.lastUsed < options.idleTimeoutSeconds }
        )
        idle = young
        for environment in old { reap(environment) }
    }

    // MARK: One attempt

    private func attempt(
        requestId: String, payload: Data, type: InvocationType, itemKey: String, recordID: String? = nil
    ) async -> InvocationOutcome {
        let limit = configuration.reservedConcurrency ?? Self.accountConcurrency
        guard busy < limit else {
            var outcome = rejected(
                requestId: requestId, type: type, status: .throttled, errorType: "TooManyRequestsException",
                message: "Rate Exceeded.")
            outcome.attempts = 1
            record(outcome, itemKey: itemKey, id: recordID)
            return outcome
        }
        busy += 1
        defer { busy -= 1 }
        let startedAt = Date()
        let timeout = Double(configuration.timeoutSeconds)

        var environment: Environment
        var cold = false
        var extraMs = 0.0  // Init beyond Lambda's 10 s limit, counted into the invocation
        // The most recently used first, as Lambda tends to; one that died while idle is dropped.
        var warm: Environment?
        while let candidate = idle.popLast() {
            if !candidate.process.hasEnded {
                warm = candidate
                break
            }
            reap(candidate)
        }
        if let warm {
            environment = warm
        } else {
            cold = true
            switch await coldStart() {
            case .success(let (started, overLimitMs)):
                environment = started
                extraMs = overLimitMs
            case .failure(let failure):
                return finishFailedInit(
                    failure, requestId: requestId, type: type, itemKey: itemKey, recordID: recordID, startedAt: startedAt)
            }
        }
        environment.served += 1
        let requestLine = payload
        let reply = await environment.process.request(requestLine, deadline: max(0.001, timeout - extraMs / 1000))
        var outcome = interpret(
            reply, requestId: requestId, type: type, environment: environment, cold: cold, extraMs: extraMs,
            startedAt: startedAt)
        outcome.attempts = 1
        if reply.ending == nil && !shuttingDown {
            environment.process.freeze()
            environment.lastUsed = monotonicSeconds()
            idle.append(environment)
            scheduleReaping()
        } else {
            reap(environment)
        }
        record(outcome, itemKey: itemKey, id: recordID)
        return outcome
    }

    private struct InitFailure: Error {
        var ending: EnvironmentProcess.Ending?
        var message: String
        var seconds: Double
        var peakBytes: UInt64
    }

    /// Spawns a worker and waits for its init event: Lambda's 10 s Init limit plus, beyond it, the
    /// function timeout (Lambda then retries Init inside the first invocation; here it simply goes on).
    private func coldStart() async -> Result<(Environment, Double), InitFailure> {
        let temporary: String
        let lease: SandboxUser.Lease?
        do {
            temporary = try TemporaryDirectory.create(under: options.temporaryBase)
            lease = try SandboxUser.lease()
            try lease?.user.own(temporary)
        } catch {
            return .failure(InitFailure(ending: nil, message: error.message, seconds: 0, peakBytes: 0))
        }
        let executable = options.workerCommand.first ?? WorkerProtocol.currentExecutable()
        var environment = WorkloadEnvironment.passed()
        environment.merge(
            LambdaEnvironment.defined(
                functionName: options.functionName, memoryMB: configuration.memoryMB,
                logStream: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                runtimeDirectory: URL(fileURLWithPath: executable).deletingLastPathComponent().path,
                taskRoot: FileManager.default.currentDirectoryPath)
        ) { passed, defined in
            // The runtime's own libraries (LD_LIBRARY_PATH passed by name) come first.
            passed.isEmpty ? defined : passed + ":" + defined
        }
        environment.merge(options.variables) { _, configured in configured }
        environment["CAPSIZE_HIDE_GPUS"] = "1"
        environment.merge(WorkerProtocol.environment(usesOpenCL: options.workerUsesOpenCL)) { _, off in off }
        // A crashing runtime should end at once, not spend seconds symbolicating inside the environment.
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
        for name in SandboxLimits.threadCountVariables {
            environment[name] = "\(configuration.threads)"
        }
        let process = EnvironmentProcess(
            options: .init(
                argv: options.workerCommand, environment: environment, launcherPath: launcherPath,
                memoryBytes: UInt64(configuration.memoryMB) << 20,
                temporaryDirectoryBytes: UInt64(configuration.ephemeralStorageMB) << 20,
                temporaryDirectory: temporary, sampleInterval: options.sampleInterval,
                cpuShare: options.governsCPUShare ? configuration.vcpuShare : nil,
                openFiles: FunctionConfiguration.fileDescriptorLimit, processes: FunctionConfiguration.processLimit,
                privateSharedMemory: true, user: lease?.user, temporaryBase: options.temporaryBase))
        let initLimit = options.initLimitSeconds
        let reply: EnvironmentProcess.Reply
        do {
            reply = try await process.start(deadline: initLimit + Double(configuration.timeoutSeconds))
        } catch {
            TemporaryDirectory.remove(temporary)
            return .failure(InitFailure(ending: nil, message: "\(error)", seconds: 0, peakBytes: 0))
        }
        environmentsStarted += 1
        // The first line must be the worker's ready reply; otherwise what it was, or what the worker wrote to stderr.
        var ready = false
        var received: String?
        if let line = reply.line {
            do throws(WorkerProtocolError) {
                if case .ready = try WorkerReply.decode(line) { ready = true }
                received = String(decoding: line.prefix(300), as: UTF8.self)
            } catch {
                received = error.description
            }
        }
        guard reply.ending == nil, ready else {
            process.close()
            TemporaryDirectory.remove(temporary)
            var text = received.map { "the first line was not an init event: " + $0 }
                ?? reply.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            if case .exited(let code, let signal, let message) = reply.ending {
                let how = signal.map { "signal: \(Self.signalName($0))" } ?? "exit status \(code ?? -1)"
                text = ([how, message, text.isEmpty ? nil : String(text.suffix(500))] as [String?]).compactMap { $0 }
                    .joined(separator: "; ")
            }
            return .failure(
                InitFailure(ending: reply.ending, message: text, seconds: reply.seconds, peakBytes: reply.peakBytes))
        }
        let initMs = reply.seconds * 1000
        let withinLimit = reply.seconds <= initLimit
        let started = Environment(process: process, initDurationMs: withinLimit ? initMs : nil, user: lease)
        if let store = options.store, let runID = options.runID {
            try? store.record(
                EnvironmentRecord(
                    id: started.id, runID: runID, kind: .function, createdAt: started.createdAt,
                    initDurationMs: initMs))
        }
        return .success((started, withinLimit ? 0 : initMs - initLimit * 1000))
    }

    private func finishFailedInit(
        _ failure: InitFailure, requestId: String, type: InvocationType, itemKey: String, recordID: String?,
        startedAt: Date
    ) -> InvocationOutcome {
        var ending = RuntimeEnding.exited(how: failure.message)
        switch failure.ending {
        case .timeout: ending = .timeout
        case .outOfMemory: ending = .outOfMemory
        case .exited(_, let signal?, _): ending = .exited(how: "signal: \(Self.signalName(signal))")
        default: break
        }
        let end = failed(ending, requestId: requestId, measuredMs: failure.seconds * 1000)
        let outcome = compose(
            requestId: requestId, type: type, status: end.status, cold: true, initMs: nil,
            durationMs: end.durationMs,
            maxMemoryMB: end.status == .outOfMemory
                ? configuration.memoryMB : Self.megabytes(failure.peakBytes, cap: configuration.memoryMB),
            sampledPeakBytes: failure.peakBytes, errorType: end.errorType, message: end.message,
            reportStatus: end.reportStatus, logLines: end.logLines, environmentID: nil, response: nil,
            startedAt: startedAt)
        record(outcome, itemKey: itemKey, id: recordID)
        return outcome
    }

    /// How an environment's runtime ended an invocation without answering it.
    private enum RuntimeEnding {
        case timeout, outOfMemory
        /// Killed above the ephemeral storage (capsize's own cap: Lambda would fail the writes instead).
        case storageExceeded
        /// It exited by itself, or could not start: `how` is `exit status 1`, `signal: killed`...
        case exited(how: String)
    }

    /// Lambda's texts for an invocation whose runtime ended: the status, the error type and message of the
    /// invoke response, the REPORT line's `Status` (and `Error Type`), the log lines, and the Duration (a
    /// timed-out invocation reports the timeout itself, as Lambda does).
    private func failed(_ ending: RuntimeEnding, requestId: String, measuredMs: Double) -> (
        status: InvocationOutcome.Status, errorType: String, message: String, reportStatus: (String, String?),
        logLines: [String], durationMs: Double
    ) {
        let exit = LambdaLog.exitErrorType
        switch ending {
        case .timeout:
            let seconds = Double(configuration.timeoutSeconds)
            let line = LambdaLog.timedOut(requestId: requestId, seconds: seconds)
            return (.timeout, LambdaLog.timeoutErrorType, line, ("timeout", nil), [line], seconds * 1000)
        case .outOfMemory:
            let line = LambdaLog.runtimeExited(requestId: requestId, "signal: killed")
            return (.outOfMemory, LambdaLog.outOfMemoryErrorType, line, ("error", LambdaLog.outOfMemoryErrorType),
                [line, exit], measuredMs)
        case .storageExceeded:
            let line = LambdaLog.runtimeExited(
                requestId: requestId, "ephemeral storage (/tmp) exceeded \(configuration.ephemeralStorageMB) MB")
            return (.error, exit, line, ("error", exit), [line, exit], measuredMs)
        case .exited(let how):
            let line = LambdaLog.runtimeExited(requestId: requestId, how)
            return (.crash, exit, line, ("error", exit), [line, exit], measuredMs)
        }
    }

    /// Max Memory Used: the environment's highest over its life (Init and earlier invocations included), in MB;
    /// memory that Init or an earlier invocation still holds is in use by this one too.
    private func maxMemoryUsed(_ reply: EnvironmentProcess.Reply) -> Int {
        Self.megabytes(max(reply.peakBytes, reply.lifetimePeakBytes), cap: configuration.memoryMB)
    }

    /// Turns an environment's reply into Lambda's outcome.
    private func interpret(
        _ reply: EnvironmentProcess.Reply, requestId: String, type: InvocationType, environment: Environment,
        cold: Bool, extraMs: Double, startedAt: Date
    ) -> InvocationOutcome {
        let measuredMs = reply.seconds * 1000 + extraMs
        var ending: RuntimeEnding?
        switch reply.ending {
        case nil: break
        case .timeout: ending = .timeout
        case .outOfMemory: ending = .outOfMemory
        case .storageExceeded: ending = .storageExceeded
        case .closed: ending = .exited(how: "the environment was shut down")
        case .exited(let code, let signal, let text):
            ending = .exited(
                how: signal.map { "signal: \(Self.signalName($0))" }
                    ?? "exit status \(code ?? -1)" + (text.map { " (\($0))" } ?? ""))
        }
        let initMs = cold ? environment.initDurationMs : nil
        if let ending {
            let end = failed(ending, requestId: requestId, measuredMs: measuredMs)
            return compose(
                requestId: requestId, type: type, status: end.status, cold: cold, initMs: initMs,
                durationMs: end.durationMs,
                maxMemoryMB: end.status == .outOfMemory
                    ? configuration.memoryMB : maxMemoryUsed(reply),
                sampledPeakBytes: reply.peakBytes, errorType: end.errorType, message: end.message,
                reportStatus: end.reportStatus, logLines: end.logLines, environmentID: environment.id,
                response: nil, startedAt: startedAt)
        }
        var status: InvocationOutcome.Status = .success
        var errorType: String?
        var message: String?
        let line = reply.line ?? Data()
        var response: String? = String(decoding: line, as: UTF8.self)
        if line.count > Self.responseLimit {
            status = .error
            errorType = LambdaLog.responseTooLargeErrorType
            message = LambdaLog.responseTooLarge(limit: Self.responseLimit)
            response = nil
        } else {
            do throws(WorkerProtocolError) {
                let answer: WorkerReply.Answer? =
                    switch try WorkerReply.decode(line, skippingResult: true) {
                    case .answer(let answer): answer
                    case .ready: nil
                    }
                if answer?.status != .success {
                    status = .error
                    errorType = answer?.errorType ?? Self.invalidResponse
                    message = answer?.errorMessage ?? String(decoding: line.prefix(300), as: UTF8.self)
                }
            } catch {
                status = .error
                errorType = Self.invalidResponse
                message = error.description
            }
        }
        return compose(
            requestId: requestId, type: type, status: status, cold: cold, initMs: initMs, durationMs: measuredMs,
            maxMemoryMB: maxMemoryUsed(reply),
            sampledPeakBytes: reply.peakBytes, errorType: errorType, message: message, reportStatus: nil,
            logLines: [], environmentID: environment.id, response: response, startedAt: startedAt)
    }

    private func compose(
        requestId: String, type: InvocationType, status: InvocationOutcome.Status, cold: Bool, initMs: Double?,
        durationMs: Double, maxMemoryMB: Int, sampledPeakBytes: UInt64, errorType: String?, message: String?,
        reportStatus: (String, String?)?, logLines: [String], environmentID: String?, response: String?,
        startedAt: Date
    ) -> InvocationOutcome {
        var costs: [String: Double] = [:]
        var billed = 0
        for architecture in Architecture.allCases {
            let bill = LambdaBill(
                durationMs: durationMs, initMs: initMs ?? 0, memoryMB: configuration.memoryMB,
                architecture: architecture, prices: options.prices)
            costs[architecture.rawValue] = bill.total
            billed = bill.billedMilliseconds
        }
        let report = LambdaLog.report(
            requestId: requestId, durationMs: durationMs, billedMs: billed, memoryMB: configuration.memoryMB,
            maxMemoryUsedMB: maxMemoryMB, initDurationMs: initMs, status: reportStatus?.0, errorType: reportStatus?.1)
        let share = configuration.vcpuShare
        let shortfall = share - Double(options.machineCores)
        var outcome = InvocationOutcome(
            requestId: requestId, type: type, status: status, cold: cold, initDurationMs: initMs,
            durationMs: durationMs, billedDurationMs: billed, memoryMB: configuration.memoryMB,
            maxMemoryUsedMB: maxMemoryMB, sampledPeakMB: Double(sampledPeakBytes) / 1_048_576, errorType: errorType,
            errorMessage: message, report: report,
            logLines: logLines, costUSD: costs, attempts: 1, deadLetterPath: nil, environmentID: environmentID,
            cpuShortfallVCPUs: shortfall > 0 ? shortfall : nil, response: response, startedAt: startedAt,
            endedAt: Date())
        outcome.heldToCPUShare = options.governsCPUShare ? share : nil
        return outcome
    }

    /// A request that never reached an environment: throttled or too large. Not billed.
    private func rejected(
        requestId: String, type: InvocationType, status: InvocationOutcome.Status, errorType: String, message: String
    ) -> InvocationOutcome {
        let now = Date()
        return InvocationOutcome(
            requestId: requestId, type: type, status: status, cold: false, initDurationMs: nil, durationMs: 0,
            billedDurationMs: 0, memoryMB: configuration.memoryMB, maxMemoryUsedMB: 0, sampledPeakMB: 0,
            errorType: errorType,
            errorMessage: message, report: nil, logLines: ["\(errorType): \(message)"],
            costUSD: ["x86_64": 0, "arm64": 0], attempts: 0, deadLetterPath: nil, environmentID: nil,
            cpuShortfallVCPUs: nil, response: nil, startedAt: now, endedAt: now)
    }

    // MARK: Environments, records, dead letters

    private func reap(_ environment: Environment) {
        environment.process.close()
        TemporaryDirectory.remove(environment.process.options.temporaryDirectory)
        environment.user?.release()
        if let store = options.store, let runID = options.runID {
            try? store.record(
                EnvironmentRecord(
                    id: environment.id, runID: runID, kind: .function, createdAt: environment.createdAt,
                    reapedAt: Date(), invocationsServed: environment.served, initDurationMs: environment.initDurationMs))
        }
    }

    private func scheduleReaping() {
        let delay = options.idleTimeoutSeconds
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(delay))
            await self?.reapIdle()
        }
    }

    private func record(_ outcome: InvocationOutcome, itemKey: String, id: String? = nil) {
        guard let store = options.store, let runID = options.runID else { return }
        try? store.record(
            InvocationRecord(
                id: id ?? outcome.requestId, runID: runID,
                itemKey: options.itemKeyPrefix + itemKey, environmentID: outcome.environmentID, cold: outcome.cold,
                memoryMB: outcome.memoryMB, timeoutSeconds: Double(configuration.timeoutSeconds),
                architecture: configuration.architecture.rawValue, initDurationMs: outcome.initDurationMs,
                durationMs: outcome.durationMs, billedDurationMs: outcome.billedDurationMs,
                maxMemoryUsedMB: outcome.maxMemoryUsedMB, status: outcome.status, errorType: outcome.errorType,
                errorMessage: outcome.errorMessage, report: outcome.report ?? "",
                costUSD: outcome.costUSD[configuration.architecture.rawValue] ?? 0, startedAt: outcome.startedAt,
                endedAt: outcome.endedAt))
    }

    /// Writes a failed asynchronous event to the dead-letter directory; returns the file's path.
    private func deadLetter(_ outcome: InvocationOutcome, condition: String, accepted: Date) -> String? {
        guard let directory = options.deadLetterDirectory else { return nil }
        struct Letter: Encodable {
            var requestId: String
            var condition: String
            var approximateInvokeCount: Int
            var errorType: String?
            var errorMessage: String?
            var event: FunctionEvent
            var acceptedAt: Date
            var lastAttemptAt: Date
        }
        let letter = Letter(
            requestId: outcome.requestId, condition: condition, approximateInvokeCount: outcome.attempts,
            errorType: outcome.errorType, errorMessage: outcome.errorMessage, event: event, acceptedAt: accepted,
            lastAttemptAt: outcome.endedAt)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let path = URL(fileURLWithPath: directory).appendingPathComponent("\(outcome.requestId).json").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try encoder.encode(letter).write(to: URL(fileURLWithPath: path), options: .atomic)
            return path
        } catch {
            return nil
        }
    }

    // MARK: Helpers

    /// The error type of an answer that is not a reply of the worker protocol.
    static let invalidResponse = "Runtime.InvalidResponse"

    static func megabytes(_ bytes: UInt64, cap: Int) -> Int {
        min(cap, Int((bytes + (1 << 20) - 1) >> 20))
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "killed"
        case SIGSEGV: "segmentation fault"
        case SIGABRT: "aborted"
        case SIGTERM: "terminated"
        case SIGBUS: "bus error"
        case SIGILL: "illegal instruction"
        case SIGFPE: "floating point exception"
        default: "signal \(signal)"
        }
    }
}
