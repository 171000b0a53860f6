import CloudModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How an environment's runtime ended an invocation without answering it.
enum RuntimeEnding: Sendable, Equatable {
    case timeout, outOfMemory
    /// Killed above the ephemeral storage (capsize's own cap: Lambda would fail the writes instead).
    case storageExceeded
    /// It exited by itself, or could not start: `how` is `exit status 1`, `signal: killed`...
    case exited(how: String)

    /// How an environment's process ended a request, in Lambda's words; nil when it answered.
    init?(_ ending: EnvironmentProcess.Ending?) {
        switch ending {
        case nil: return nil
        case .timeout: self = .timeout
        case .outOfMemory: self = .outOfMemory
        case .storageExceeded: self = .storageExceeded
        case .closed: self = .exited(how: "the environment was shut down")
        case .exited(let code, let signal, let text):
            self = .exited(
                how: signal.map { "signal: \(Self.signalName($0))" }
                    ?? "exit status \(code ?? -1)" + (text.map { " (\($0))" } ?? ""))
        }
    }

    /// How a runtime that never ended its Init ended, `message` saying why unless a cap or a signal did.
    init(initFailure ending: EnvironmentProcess.Ending?, message: String) {
        switch ending {
        case .timeout: self = .timeout
        case .outOfMemory: self = .outOfMemory
        case .exited(_, let signal?, _): self = .exited(how: "signal: \(Self.signalName(signal))")
        default: self = .exited(how: message)
        }
    }

    /// A signal as Go's runtime (and so Lambda's `Runtime exited with error`) names it.
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

/// What capsize saw of one invocation that went to an environment (or to starting one): the facts Lambda's
/// texts and fields are made of.
struct InvocationFacts: Sendable {
    enum End: Sendable, Equatable {
        /// The runtime posted this response through the Runtime API.
        case responded(Data)
        /// A runtime posted an error through the Runtime API (or Init failed with one): the invoke answers it as the
        /// function's error (`Unhandled`).
        case failed(errorType: String, message: String, payload: Data)
        /// The runtime ended without answering.
        case ended(RuntimeEnding)
    }

    var requestId: String
    var type: InvocationType
    var startedAt: Date
    var end: End = .responded(Data())
    /// Whether the invocation started its environment.
    var cold = false
    /// Init Duration: cold starts whose Init kept within Lambda's limit only.
    var initMs: Double? = nil
    /// From writing the event until the answer or the end, ms (with Init beyond the limit).
    var measuredMs = 0.0
    /// The environment's highest memory so far (Init and earlier invocations included): Max Memory Used.
    var maxMemoryBytes: UInt64 = 0
    /// The highest reading the sampler took during this invocation.
    var sampledPeakBytes: UInt64 = 0
    var environmentID: String? = nil
    var endedAt = Date()
}

/// Lambda's texts and fields for the invocations of one function: the invoke response's status, error type and
/// message, the REPORT line, the log lines, Max Memory Used and the bill. Pure: the same facts give the same outcome.
struct LambdaTexts: Sendable {
    var settings: FunctionSettings
    /// Online cores of this machine, to report a CPU share it cannot give.
    var machineCores: Int
    var prices: PriceCatalog
    /// A longer answer is `Function.ResponseSizeTooLarge`.
    var responseLimit = FunctionExecutor.responseLimit

    /// What the invoke response and the log say, before the REPORT line and the bill.
    struct Texts: Equatable {
        var status: InvocationOutcome.Status
        var errorType: String?
        var message: String?
        /// The REPORT line's `Status` and `Error Type`.
        var reportStatus: String?
        var reportErrorType: String?
        var logLines: [String] = []
        /// Duration: the measured one, or the timeout itself after a timeout, as Lambda reports it.
        var durationMs: Double
        var response: String?
    }

    func outcome(_ facts: InvocationFacts) -> InvocationOutcome {
        let memoryMB = settings.configuration.memoryMB
        let texts = texts(facts)
        let maxMemoryMB =
            texts.status == .outOfMemory ? memoryMB : Self.megabytes(facts.maxMemoryBytes, cap: memoryMB)
        let bill = InvocationBill(
            durationMs: texts.durationMs, initMs: facts.initMs, memoryMB: memoryMB, prices: prices)
        let report = LambdaLog.report(
            requestId: facts.requestId, durationMs: texts.durationMs, billedMs: bill.billedMilliseconds,
            memoryMB: memoryMB, maxMemoryUsedMB: maxMemoryMB, initDurationMs: facts.initMs, status: texts.reportStatus,
            errorType: texts.reportErrorType)
        let shortfall = settings.configuration.vcpuShare - Double(machineCores)
        var outcome = InvocationOutcome(
            requestId: facts.requestId, type: facts.type, status: texts.status, cold: facts.cold,
            initDurationMs: facts.initMs, durationMs: texts.durationMs, billedDurationMs: bill.billedMilliseconds,
            memoryMB: memoryMB, maxMemoryUsedMB: maxMemoryMB, sampledPeakMB: Double(facts.sampledPeakBytes) / 1_048_576,
            errorType: texts.errorType, errorMessage: texts.message, report: report, logLines: texts.logLines,
            costUSD: bill.costUSD, attempts: 1, deadLetterPath: nil, environmentID: facts.environmentID,
            cpuShortfallVCPUs: shortfall > 0 ? shortfall : nil, response: texts.response, startedAt: facts.startedAt,
            endedAt: facts.endedAt)
        outcome.heldToCPUShare = settings.heldToCPUShare
        return outcome
    }

    /// The invoke response's and the log's texts for what happened.
    func texts(_ facts: InvocationFacts) -> Texts {
        switch facts.end {
        case .responded(let body):
            if body.count > responseLimit {
                return Texts(
                    status: .error, errorType: LambdaLog.responseTooLargeErrorType,
                    message: LambdaLog.responseTooLarge(limit: responseLimit), durationMs: facts.measuredMs)
            }
            return Texts(
                status: .success, durationMs: facts.measuredMs, response: String(decoding: body, as: UTF8.self))
        case .failed(let errorType, let message, let payload):
            return Texts(
                status: .error, errorType: errorType, message: message, reportStatus: nil, durationMs: facts.measuredMs,
                response: String(decoding: payload, as: UTF8.self))
        case .ended(let ending):
            return texts(ending, requestId: facts.requestId, measuredMs: facts.measuredMs, at: facts.endedAt)
        }
    }

    /// Lambda's texts for an invocation whose runtime ended: a timed-out one reports the timeout itself as its
    /// Duration; a runtime that exited writes its exit error and `Runtime.ExitError` to the log.
    private func texts(_ ending: RuntimeEnding, requestId: String, measuredMs: Double, at date: Date) -> Texts {
        let exit = LambdaLog.exitErrorType
        let status: InvocationOutcome.Status
        let how: String
        var errorType = exit
        switch ending {
        case .timeout:
            let seconds = Double(settings.configuration.timeoutSeconds)
            let line = LambdaLog.timedOut(requestId: requestId, seconds: seconds, at: date)
            return Texts(
                status: .timeout, errorType: LambdaLog.timeoutErrorType, message: line, reportStatus: "timeout",
                logLines: [line], durationMs: seconds * 1000)
        case .outOfMemory:
            (status, how, errorType) = (.outOfMemory, "signal: killed", LambdaLog.outOfMemoryErrorType)
        case .storageExceeded:
            (status, how) = (
                .error, "ephemeral storage (/tmp) exceeded \(settings.configuration.ephemeralStorageMB) MB"
            )
        case .exited(let text):
            (status, how) = (.crash, text)
        }
        // The response and the log say Runtime.ExitError; the REPORT line and the outcome name a memory kill.
        let line = LambdaLog.runtimeExited(requestId: requestId, how)
        return Texts(
            status: status, errorType: errorType, message: line, reportStatus: "error", reportErrorType: errorType,
            logLines: [line, exit], durationMs: measuredMs)
    }

    /// A request over Lambda's payload limit (`RequestEntityTooLargeException`), `bytes` long; no attempt made.
    func tooLarge(requestId: String, type: InvocationType, bytes: Int, limit: Int, at date: Date) -> InvocationOutcome {
        rejected(
            requestId: requestId, type: type, status: .error, errorType: LambdaLog.requestTooLargeErrorType,
            message: type == .synchronous
                ? LambdaLog.requestTooLarge(limit: limit) : LambdaLog.eventTooLarge(bytes: bytes, limit: limit),
            at: date)
    }

    /// An invoke beyond the concurrency limit (`TooManyRequestsException`): one attempt, refused.
    func throttled(requestId: String, type: InvocationType, at date: Date) -> InvocationOutcome {
        var outcome = rejected(
            requestId: requestId, type: type, status: .throttled, errorType: "TooManyRequestsException",
            message: "Rate Exceeded.", at: date)
        outcome.attempts = 1
        return outcome
    }

    /// A request that never reached an environment: throttled or too large. Not billed, no REPORT line.
    private func rejected(
        requestId: String, type: InvocationType, status: InvocationOutcome.Status, errorType: String, message: String,
        at date: Date
    ) -> InvocationOutcome {
        let bill = InvocationBill.unbilled
        return InvocationOutcome(
            requestId: requestId, type: type, status: status, cold: false, initDurationMs: nil, durationMs: 0,
            billedDurationMs: bill.billedMilliseconds, memoryMB: settings.configuration.memoryMB, maxMemoryUsedMB: 0,
            sampledPeakMB: 0, errorType: errorType, errorMessage: message, report: nil,
            logLines: ["\(errorType): \(message)"], costUSD: bill.costUSD, attempts: 0, deadLetterPath: nil,
            environmentID: nil, cpuShortfallVCPUs: nil, response: nil, startedAt: date, endedAt: date)
    }

    /// Bytes as whole MB (MiB), rounded up, at most `cap`.
    static func megabytes(_ bytes: UInt64, cap: Int) -> Int {
        min(cap, Int((bytes + (1 << 20) - 1) >> 20))
    }
}
