import CapsizeCore
public import CloudModel
public import Execution
public import Foundation
public import Store

/// The user's functions for a long-lived process (`capsize serve`, the event sources): one `FunctionExecutor` per
/// function, so its environments stay warm between calls, invoked by name as the Invoke API invokes, each invocation
/// recorded in the store (one run per function, from its first invocation).
public actor FunctionService: LambdaFunctions {
    public let functions: FunctionStore
    let store: CapsizeStore?
    let options: FunctionExecutor.Options

    private struct Live {
        var definition: FunctionDefinition
        var executor: FunctionExecutor
        var code: RunnableCode
        var runID: String?
    }
    private var live: [String: Live] = [:]
    /// Events accepted and not yet done (they run in the background).
    private var background: [UUID: Task<Void, Never>] = [:]

    /// - Parameters:
    ///   - functions: where the definitions are.
    ///   - store: where the invocations are recorded; nil records nothing.
    ///   - options: the executors' harness (idle time, retries, dead letters…); its store, run and runtime are set
    ///     per function.
    public init(functions: FunctionStore, store: CapsizeStore?, options: FunctionExecutor.Options = .init()) {
        self.functions = functions
        self.store = store
        self.options = options
    }

    public func functions() async throws -> [FunctionDefinition] { try functions.list() }

    public func function(named name: String) async throws -> FunctionDefinition? {
        try functions.function(named: name)
    }

    public func invoke(_ name: String, payload: Data, type: InvokeAPIType, logTail: Bool) async throws
        -> LambdaInvokeResult
    {
        guard let definition = try functions.function(named: name) else {
            throw LambdaAPIError.notFound(function: name)
        }
        let asynchronous = type == .event
        let limit = asynchronous ? FunctionExecutor.asynchronousPayloadLimit : FunctionExecutor.synchronousPayloadLimit
        if payload.count > limit {
            throw LambdaAPIError(
                type: "RequestTooLargeException", statusCode: 413,
                message: asynchronous
                    ? LambdaLog.eventTooLarge(bytes: payload.count, limit: limit)
                    : LambdaLog.requestTooLarge(limit: limit))
        }
        let requestId = RunRecord.newID()
        if type == .dryRun { return LambdaInvokeResult(statusCode: 204, payload: Data(), requestId: requestId) }
        let executor = try executor(for: definition)
        let event = FunctionEvent(
            workload: definition.name, payload: payload.isEmpty ? nil : String(decoding: payload, as: UTF8.self))
        if asynchronous {
            let key = UUID()
            background[key] = Task {
                // The 202's request id is the invocation's: its REPORT line, record and dead letter name it.
                _ = await executor.invokeOnce(type: .asynchronous, event: event, requestId: requestId)
                self.finished(key)
            }
            return LambdaInvokeResult(statusCode: 202, payload: Data(), requestId: requestId)
        }
        let outcome = await executor.invokeOnce(type: .synchronous, event: event)
        if outcome.status == .throttled {
            throw LambdaAPIError(type: "TooManyRequestsException", statusCode: 429, message: "Rate Exceeded.")
        }
        return Self.result(outcome, logTail: logTail)
    }

    /// Ends every function's environments, waits for the events in flight, and finishes the runs.
    public func shutdown() async {
        for task in background.values { task.cancel() }
        for task in background.values { await task.value }
        background.removeAll()
        for (_, function) in live {
            await function.executor.shutdown()
            if let store, let run = function.runID { _ = try? store.finish(run: run) }
        }
        live.removeAll()
    }

    private func finished(_ key: UUID) { background[key] = nil }

    /// The function's executor, made at its first invocation (and again when its definition changed since).
    private func executor(for definition: FunctionDefinition) throws -> FunctionExecutor {
        if let function = live[definition.name], function.definition == definition { return function.executor }
        if let stale = live.removeValue(forKey: definition.name) {
            Task { await stale.executor.shutdown() }
        }
        let code = try RunnableCode(definition, temporaryBase: options.temporaryBase)
        var options = self.options
        options.userRuntime = try definition.userRuntime(codeDirectory: code.directory)
        options.workerUsesOpenCL = false
        var runID: String?
        if let store {
            let run = try store.createRun(
                kind: .invoke, commandLine: ["capsize", "serve", "invoke", definition.name],
                parameters: ["function": definition.name])
            runID = run.id
            options.store = store
            options.runID = run.id
        }
        let executor = try FunctionExecutor(
            settings: definition.settings(), event: FunctionEvent(workload: definition.name), options: options)
        live[definition.name] = Live(definition: definition, executor: executor, code: code, runID: runID)
        return executor
    }

    /// The Invoke API's answer for an outcome: the response, or the error document with `Unhandled`.
    static func result(_ outcome: InvocationOutcome, logTail: Bool) -> LambdaInvokeResult {
        let tail = logTail ? outcome.logTail ?? outcome.report : nil
        guard outcome.status != .success else {
            return LambdaInvokeResult(
                statusCode: 200, payload: Data((outcome.response ?? "").utf8), logTail: tail,
                requestId: outcome.requestId)
        }
        // A runtime's posted error is answered as it posted it; capsize's own (a timeout, a crash) as Lambda's
        // `{"errorMessage", "errorType"}`.
        let payload: Data
        if let response = outcome.response, !response.isEmpty {
            payload = Data(response.utf8)
        } else {
            let document = ["errorMessage": outcome.errorMessage ?? "", "errorType": outcome.errorType ?? "Unknown"]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            payload = (try? encoder.encode(document)) ?? Data("{}".utf8)
        }
        return LambdaInvokeResult(
            statusCode: 200, payload: payload, functionError: "Unhandled", logTail: tail,
            requestId: outcome.requestId)
    }
}
