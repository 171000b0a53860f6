public import Foundation

/// One job under the Batch model, recorded again at every state change (the row is replaced by id).
public struct JobRecord: Codable, Sendable, Equatable, Identifiable {
    /// Batch's job states, spelled as Batch spells them.
    public enum State: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
        case submitted = "SUBMITTED"
        case pending = "PENDING"
        case runnable = "RUNNABLE"
        case starting = "STARTING"
        case running = "RUNNING"
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"

        /// SUCCEEDED or FAILED: the job will not change again.
        public var isFinal: Bool { self == .succeeded || self == .failed }
    }

    public var id: String
    public var runID: String
    /// The run's planned item this job ends, so `--resume` can skip it once the job is final.
    public var itemKey: String?
    public var name: String
    public var queue: String?
    /// The array job this child belongs to, and its `AWS_BATCH_JOB_ARRAY_INDEX`.
    public var arrayParentID: String?
    public var arrayIndex: Int?
    /// Ids of the jobs this one waits for.
    public var dependsOn: [String]
    /// `AWS_BATCH_JOB_ATTEMPT`, from 1.
    public var attempt: Int
    public var state: State
    /// Batch's words for why it is in that state, e.g. `Essential container in task exited`.
    public var statusReason: String?
    /// The container's reason for its last attempt, as Batch's `container.reason` (what `evaluateOnExit`'s
    /// `onReason` matches), e.g. `OutOfMemoryError: Container killed due to memory usage`; nil when there is none.
    public var reason: String?
    /// The container's exit code (137 after a memory kill).
    public var exitCode: Int?
    public var vcpus: Double
    public var memoryMiB: Int
    public var gpus: Int
    /// The compute environment it ran in.
    public var environmentID: String?
    /// **Modeled** seconds its compute environment would have spent provisioning capacity for it (the
    /// environment was not provisioned when the job was placed). Never slept, never in measured times.
    public var modeledProvisioningSeconds: Double?
    public var logPath: String?
    public var submittedAt: Date
    public var pendingAt: Date?
    public var runnableAt: Date?
    public var startingAt: Date?
    public var runningAt: Date?
    /// When it became SUCCEEDED or FAILED.
    public var stoppedAt: Date?
    /// Measured by the sandbox for the last attempt: wall seconds from start to end, user and system
    /// CPU seconds of the whole tree, and its peak resident memory (nil until an attempt ran).
    public var wallSeconds: Double?
    public var userSeconds: Double?
    public var systemSeconds: Double?
    public var peakRSSBytes: Int64?

    public init(
        id: String, runID: String, itemKey: String? = nil, name: String, queue: String? = nil,
        arrayParentID: String? = nil, arrayIndex: Int? = nil, dependsOn: [String] = [], attempt: Int = 1,
        vcpus: Double, memoryMiB: Int, gpus: Int = 0, environmentID: String? = nil, logPath: String? = nil,
        submittedAt: Date = Date()
    ) {
        self.id = id
        self.runID = runID
        self.itemKey = itemKey
        self.name = name
        self.queue = queue
        self.arrayParentID = arrayParentID
        self.arrayIndex = arrayIndex
        self.dependsOn = dependsOn
        self.attempt = attempt
        self.state = .submitted
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.gpus = gpus
        self.environmentID = environmentID
        self.logPath = logPath
        self.submittedAt = submittedAt
    }

    /// Moves the job to `state`, stamping that state's time (SUCCEEDED and FAILED stamp `stoppedAt`).
    public mutating func enter(_ state: State, at date: Date = Date(), reason: String? = nil) {
        self.state = state
        if let reason { statusReason = reason }
        switch state {
        case .submitted: submittedAt = date
        case .pending: pendingAt = date
        case .runnable: runnableAt = date
        case .starting: startingAt = date
        case .running: runningAt = date
        case .succeeded, .failed: stoppedAt = date
        }
    }

    /// The status reason followed by the container's reason when there is one, for people to read:
    /// `Essential container in task exited (OutOfMemoryError: Container killed due to memory usage)`.
    public var reasons: String? {
        guard let reason, reason != statusReason else { return statusReason }
        return statusReason.map { "\($0) (\(reason))" } ?? reason
    }

    /// The time the job entered `state`, if it did.
    public func enteredAt(_ state: State) -> Date? {
        switch state {
        case .submitted: submittedAt
        case .pending: pendingAt
        case .runnable: runnableAt
        case .starting: startingAt
        case .running: runningAt
        case .succeeded, .failed: self.state == state ? stoppedAt : nil
        }
    }
}
