public import CapsizeCore
public import CloudModel
import Foundation
public import Store

/// Runs a workload under the Lambda model: execution environments (one runtime each, `capsize worker` or the user's
/// own, spoken to through the Lambda Runtime API) that
/// start cold, stay warm and frozen between invocations, are reset after a timeout or crash and
/// reaped when idle; a concurrency limit that throttles excess synchronous invokes; asynchronous
/// invokes with retries, a maximum event age and a dead-letter directory; Lambda's REPORT line, failure
/// texts and bill for every invocation, each recorded in the store as it ends.
///
/// The pieces: `EnvironmentStarter` (cold starts), `EnvironmentPool` (warm ones), `LambdaTexts` (what
/// Lambda says of an invocation, pure), `InvocationBill`, `RetryPolicy` and `DeadLetters`, `FunctionRecorder`.
///
/// Max Memory Used is the highest resident memory of the environment's whole process tree (the runtime
/// and anything it started) sampled every `sampleInterval` from handing out the event until the answer,
/// plus one reading at the answer; it includes the runtime's own baseline, as Lambda's does.
public actor FunctionExecutor {
    /// Lambda's payload limits: 6 MB (6,291,456 bytes) for a synchronous request, 1 MB for an asynchronous
    /// event (raised from 256 KB in 2025; docs/aws-reference.md).
    public static let synchronousPayloadLimit = 6 * 1_048_576
    public static let asynchronousPayloadLimit = 1_048_576
    /// Lambda's limit on a synchronous response: 6 MiB + 100 bytes (6,291,556), as Lambda's runtime API has it.
    public static let responseLimit = 6 * 1_048_576 + 100
    /// Lambda's default per-Region concurrency, the limit without a reserved concurrency.
    public static let accountConcurrency = 1_000

    public let settings: FunctionSettings
    public let event: FunctionEvent
    public let options: Options
    private let starter: EnvironmentStarter
    private let texts: LambdaTexts
    private let recorder: FunctionRecorder
    private var pool = EnvironmentPool()
    private var busy = 0
    private var shuttingDown = false
    /// Environments started, for tests and summaries.
    public private(set) var environmentsStarted = 0

    /// - Parameters:
    ///   - settings: memory, timeout, ephemeral storage, architecture, reserved concurrency, CPU share, variables.
    ///   - event: the event every invocation sends (the request id is added per invocation).
    /// - Throws: `InputError` for out-of-range options or variables; `SandboxError` when capsize-launch is missing.
    public init(settings: FunctionSettings, event: FunctionEvent, options: Options) throws {
        try options.validate()
        try settings.validate()
        let launcherPath = try options.launcherPath ?? Launcher.locate()
        self.settings = settings
        self.event = event
        self.options = options
        starter = EnvironmentStarter(settings: settings, options: options, launcherPath: launcherPath)
        texts = LambdaTexts(settings: settings, machineCores: options.machineCores, prices: options.prices)
        recorder = FunctionRecorder(
            store: options.store, runID: options.runID, itemKeyPrefix: options.itemKeyPrefix,
            configuration: settings.configuration)
    }

    /// The encoded size of the request that carries the event: what Lambda compares with the payload limit.
    public static func payloadBytes(of event: FunctionEvent, userRuntime: Bool = false) -> Int {
        body(of: event, requestId: RunRecord.newID(), userRuntime: userRuntime).count
    }

    /// The event as the runtime's `GET /next` receives it: for a user runtime the payload as it is (`{}` when none
    /// was given); for `capsize worker`, the worker protocol's request that carries the workload and the payload.
    static func body(of event: FunctionEvent, requestId: String, userRuntime: Bool) -> Data {
        userRuntime
            ? Data((event.payload ?? "{}").utf8) : WorkerRequest.invoke(requestId: requestId, event: event).encoded()
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
                    // Cancelled (capsize was interrupted): no new invocation starts; one in flight is killed with
                    // its environment and not recorded, so that the run's resume invokes it again.
                    for position in stride(from: lane, to: indices.count, by: lanes) where !Task.isCancelled {
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
    /// - Parameters:
    ///   - override: the event to send instead of the executor's (an Invoke API call's own payload).
    ///   - requestId: the invocation's request id, when the caller has already answered with one (an Event invoke's
    ///     202 names it); a new one otherwise.
    public func invokeOnce(
        index: Int = 0, type: InvocationType = .synchronous, event override: FunctionEvent? = nil,
        requestId: String = RunRecord.newID()
    ) async -> InvocationOutcome {
        let event = override ?? self.event
        let payload = Self.body(of: event, requestId: requestId, userRuntime: options.userRuntime != nil)
        let limit = type == .synchronous ? Self.synchronousPayloadLimit : Self.asynchronousPayloadLimit
        if payload.count > limit {
            let outcome = texts.tooLarge(
                requestId: requestId, type: type, bytes: payload.count, limit: limit, at: Date())
            recorder.record(outcome, itemKey: "invocation=\(index)")
            return outcome
        }
        guard type == .asynchronous else {
            return await attempt(requestId: requestId, payload: payload, type: type, itemKey: "invocation=\(index)")
        }
        let accepted = Date()
        let policy = options.retryPolicy
        var attempts = 0
        while true {
            attempts += 1
            var outcome = await attempt(
                requestId: requestId, payload: payload, type: type,
                itemKey: "invocation=\(index)/attempt=\(attempts)",
                recordID: attempts == 1 ? requestId : RunRecord.newID())
            outcome.attempts = attempts
            if outcome.status == .success || Task.isCancelled { return outcome }
            switch policy.next(afterAttempt: attempts, elapsed: Date().timeIntervalSince(accepted)) {
            case .retry(let delay):
                try? await Task.sleep(for: .seconds(delay))
                if Task.isCancelled { return outcome }  // interrupted: the event is not retried now
            case .giveUp(let condition):
                if let directory = options.deadLetterDirectory {
                    do {
                        outcome.deadLetterPath = try DeadLetters(directory: directory).write(
                            outcome, event: event, condition: condition, accepted: accepted)
                    } catch {
                        outcome.deadLetterFailure = "\(directory): \(error.localizedDescription)"
                    }
                }
                return outcome
            }
        }
    }

    /// Kills every environment (idle now, busy ones when their invocation ends).
    public func shutdown() {
        shuttingDown = true
        for environment in pool.takeAll() { reap(environment) }
    }

    /// Environments idle (frozen) now.
    public var idleEnvironments: Int { pool.idle.count }

    /// The worker process ids of the idle environments (for tests).
    var idleProcessIDs: [Int32] { pool.idle.map(\.process.pid) }

    /// Reaps environments idle for longer than the idle timeout.
    public func reapIdle() {
        let expired = pool.takeExpired(now: monotonicSeconds(), idleTimeout: options.idleTimeoutSeconds)
        for environment in expired { reap(environment) }
    }

    // MARK: One attempt

    private func attempt(
        requestId: String, payload: Data, type: InvocationType, itemKey: String, recordID: String? = nil
    ) async -> InvocationOutcome {
        let limit = settings.configuration.reservedConcurrency ?? Self.accountConcurrency
        guard busy < limit else {
            let outcome = texts.throttled(requestId: requestId, type: type, at: Date())
            recorder.record(outcome, itemKey: itemKey, id: recordID)
            return outcome
        }
        busy += 1
        defer { busy -= 1 }
        var facts = InvocationFacts(requestId: requestId, type: type, startedAt: Date())
        let (warm, dead) = pool.takeWarm()
        for environment in dead { reap(environment) }
        let environment: FunctionEnvironment
        var extraMs = 0.0  // Init beyond Lambda's 10 s limit, counted into the invocation
        var initLog = ""  // what the runtime wrote during Init, before the first START (as in CloudWatch)
        if let warm {
            environment = warm
        } else {
            facts.cold = true
            switch await coldStart() {
            case .success(let started):
                environment = started.environment
                extraMs = started.overLimitMs
                initLog = started.initLog
            case .failure(let failure):
                facts.end = .ended(RuntimeEnding(initFailure: failure.ending, message: failure.message))
                if let error = failure.initError {
                    facts.end = .failed(errorType: error.errorType, message: error.errorMessage, payload: error.payload)
                }
                if Task.isCancelled { return texts.outcome(facts) }  // interrupted in Init: not recorded
                facts.measuredMs = failure.seconds * 1000
                (facts.maxMemoryBytes, facts.sampledPeakBytes) = (failure.peakBytes, failure.peakBytes)
                facts.endedAt = Date()
                var outcome = texts.outcome(facts)
                outcome.logTail = logTail(outcome, output: failure.log)
                recorder.record(outcome, itemKey: itemKey, id: recordID)
                return outcome
            }
        }
        environment.served += 1
        let timeout = Double(settings.configuration.timeoutSeconds)
        let process = environment.process
        let deadline = max(0.001, timeout - extraMs / 1000)
        let invocation = RuntimeInvocation(
            requestId: requestId, body: payload, deadlineMs: Int64((Date().timeIntervalSince1970 + deadline) * 1000),
            functionARN: options.userRuntime?.functionARN ?? FunctionDefinition.arn(of: settings.functionName),
            traceId: RuntimeInvocation.newTraceId())
        let reply = await withTaskCancellationHandler {
            await process.invoke(invocation, deadline: deadline)
        } onCancel: {
            process.close()
        }
        if let ending = RuntimeEnding(reply.ending) {
            facts.end = .ended(ending)
        } else if let error = reply.functionError {
            facts.end = .failed(errorType: error.errorType, message: error.errorMessage, payload: error.payload)
        } else {
            facts.end = .responded(reply.line ?? Data())
        }
        facts.initMs = facts.cold ? environment.initDurationMs : nil
        facts.measuredMs = reply.seconds * 1000 + extraMs
        facts.maxMemoryBytes = max(reply.peakBytes, reply.lifetimePeakBytes)
        facts.sampledPeakBytes = reply.peakBytes
        facts.environmentID = environment.id
        facts.endedAt = Date()
        var outcome = texts.outcome(facts)
        // Read only for a user's function (its CLI log, the Invoke API's `LogType: Tail`): not built for every
        // workload invocation, nor added to their JSON.
        if options.userRuntime != nil { outcome.logTail = logTail(outcome, output: reply.log, initOutput: initLog) }
        if Task.isCancelled {
            reap(environment)
            return outcome  // interrupted: not recorded, so not done
        }
        if reply.ending == nil && !shuttingDown {
            pool.park(environment, now: monotonicSeconds())
            scheduleReaping()
        } else {
            reap(environment)
        }
        recorder.record(outcome, itemKey: itemKey, id: recordID)
        return outcome
    }

    /// The invocation's log as CloudWatch has it, its last 4 KB: what Init wrote (a cold start), START, what the
    /// runtime wrote, Lambda's own lines (a timeout, an exit error), END and REPORT (the Invoke API's `LogType: Tail`).
    private func logTail(_ outcome: InvocationOutcome, output: String, initOutput: String = "") -> String {
        var log = initOutput
        if !log.isEmpty && !log.hasSuffix("\n") { log += "\n" }
        log += "START RequestId: \(outcome.requestId) Version: $LATEST\n" + output
        if !log.hasSuffix("\n") { log += "\n" }
        for line in outcome.logLines { log += line + "\n" }
        log += "END RequestId: \(outcome.requestId)\n"
        if let report = outcome.report { log += report + "\n" }
        return String(decoding: Array(log.utf8).suffix(4096), as: UTF8.self)
    }

    /// A new environment, counted and recorded once its worker was spawned.
    private func coldStart() async -> Result<EnvironmentStarter.Started, EnvironmentStarter.Failure> {
        let result = await starter.start()
        switch result {
        case .success(let started):
            environmentsStarted += 1
            recorder.started(started.environment, initMs: started.initMs)
        case .failure(let failure):
            if failure.spawned { environmentsStarted += 1 }
        }
        return result
    }

    // MARK: Environments

    private func reap(_ environment: FunctionEnvironment) {
        environment.close()
        recorder.reaped(environment)
    }

    private func scheduleReaping() {
        let delay = options.idleTimeoutSeconds
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(delay))
            await self?.reapIdle()
        }
    }
}
