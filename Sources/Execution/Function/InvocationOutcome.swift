import CloudModel
public import Foundation
public import Store

/// How a function was invoked.
public enum InvocationType: String, Codable, Sendable {
    /// `RequestResponse`: the caller waits; excess invokes are throttled.
    case synchronous
    /// `Event`: queued, retried on failure, dead-lettered when retries or the event age run out.
    case asynchronous
}

/// One invocation's result, in Lambda's terms: failures of the function are outcomes, not errors.
public struct InvocationOutcome: Codable, Sendable {
    public typealias Status = InvocationRecord.Status

    public var requestId: String
    public var type: InvocationType
    public var status: Status
    /// Whether it ran in a new execution environment (spawn + Init).
    public var cold: Bool
    /// Init Duration of a cold start, ms (nil when warm, and when Init ran past Lambda's 10 s limit
    /// and was counted into the invocation instead).
    public var initDurationMs: Double?
    /// From writing the event to the environment until its answer (or its end), ms, measured; after a timeout,
    /// the timeout itself, as Lambda reports it.
    public var durationMs: Double
    /// What Lambda bills: Init plus Duration, rounded up to 1 ms (see `LambdaBill`).
    public var billedDurationMs: Int
    public var memoryMB: Int
    /// The highest resident memory of the environment's process tree sampled during the invocation,
    /// MB (MiB) rounded up; Memory Size after a memory kill.
    public var maxMemoryUsedMB: Int
    /// The highest reading the sampler took, MB (not capped at Memory Size): after a memory kill it says
    /// how far past the cap the tree got before it was killed.
    public var sampledPeakMB: Double
    /// The invoke response's error type, except after a memory kill: `Runtime.OutOfMemory`, as the REPORT line
    /// names it (the response and the log say `Runtime.ExitError`).
    public var errorType: String?
    /// The invoke response's error message, e.g. `RequestId: … Error: Runtime exited with error: signal: killed`.
    public var errorMessage: String?
    /// Lambda's REPORT line; nil for a request that never reached an environment (throttled, too large).
    public var report: String?
    /// Other log lines Lambda would write: the timeout text; a runtime's exit error and `Runtime.ExitError`.
    public var logLines: [String]
    /// Projected cost in USD at x86_64 and at arm64 prices (GB-seconds × price + request fee).
    public var costUSD: [String: Double]
    /// Attempts made (asynchronous invocations retry).
    public var attempts: Int
    /// The dead-letter file of an asynchronous invocation that failed for good.
    public var deadLetterPath: String?
    public var environmentID: String?
    /// vCPUs of the configured share this machine could not give (share minus online cores), when positive.
    public var cpuShortfallVCPUs: Double?
    /// The vCPU share the invocation was held to (Lambda's memory / 1,769 MB); nil when it ran at this machine's
    /// full speed (`--no-cpu-share`), or did not run.
    public var heldToCPUShare: Double? = nil
    /// What the runtime posted (its response or error document), when it posted one.
    public var response: String?
    public var startedAt: Date
    public var endedAt: Date
    /// Why the dead-letter file of an event that failed for good could not be written; nil when it was, or when
    /// none was due.
    public var deadLetterFailure: String? = nil
    /// The invocation's log, its last 4 KB with START, END and REPORT lines as CloudWatch has them (a user's runtime
    /// only): what the Invoke API's `LogType: Tail` answers.
    public var logTail: String? = nil
}
