public import Foundation

/// One invocation of a function under the Lambda model, recorded when it ends.
public struct InvocationRecord: Codable, Sendable, Equatable, Identifiable {
    /// How the invocation ended, in the words of Lambda's failure texts.
    public enum Status: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
        case success, error, timeout, outOfMemory, crash, throttled
    }

    /// The request id, a lowercase UUID.
    public var id: String
    public var runID: String
    /// The run's planned item this invocation ends, e.g. `size=512/rep=2`, so `--resume` can skip it.
    public var itemKey: String?
    /// The execution environment that served it; nil when it was throttled before reaching one.
    public var environmentID: String?
    public var cold: Bool
    public var memoryMB: Int
    public var timeoutSeconds: Double
    /// `x86_64` or `arm64`: which price the cost uses.
    public var architecture: String
    /// Init Duration of a cold start, ms.
    public var initDurationMs: Double?
    public var durationMs: Double
    public var billedDurationMs: Int
    public var maxMemoryUsedMB: Int
    public var status: Status
    /// e.g. `Runtime.OutOfMemory`, `TooManyRequestsException`.
    public var errorType: String?
    public var errorMessage: String?
    /// The REPORT line as printed.
    public var report: String
    /// Projected cost in USD: GB-seconds × price + request fee.
    public var costUSD: Double
    public var startedAt: Date
    public var endedAt: Date

    public init(
        id: String = RunRecord.newID(), runID: String, itemKey: String? = nil, environmentID: String? = nil,
        cold: Bool, memoryMB: Int, timeoutSeconds: Double, architecture: String = "x86_64",
        initDurationMs: Double? = nil, durationMs: Double, billedDurationMs: Int, maxMemoryUsedMB: Int,
        status: Status, errorType: String? = nil, errorMessage: String? = nil, report: String, costUSD: Double,
        startedAt: Date, endedAt: Date
    ) {
        self.id = id
        self.runID = runID
        self.itemKey = itemKey
        self.environmentID = environmentID
        self.cold = cold
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.architecture = architecture
        self.initDurationMs = initDurationMs
        self.durationMs = durationMs
        self.billedDurationMs = billedDurationMs
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.status = status
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.report = report
        self.costUSD = costUSD
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}
