public import Foundation

/// A place invocations or jobs ran: a Lambda execution environment (one warm worker process) or a
/// Batch compute environment. Recorded when created and again when it changes or is reaped.
public struct EnvironmentRecord: Codable, Sendable, Equatable, Identifiable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A Lambda execution environment.
        case function
        /// A Batch compute environment.
        case compute
    }

    public var id: String
    public var runID: String
    public var kind: Kind
    public var createdAt: Date
    /// When it was torn down (idle, after a timeout or crash, or at the end of the run).
    public var reapedAt: Date?
    public var invocationsServed: Int
    /// Init Duration of a function environment's cold start, ms.
    public var initDurationMs: Double?
    /// A compute environment's name (`computeEnvironmentName`).
    public var name: String?
    /// **Modeled** seconds a compute environment spent provisioning before its first job (not slept).
    public var modeledProvisioningSeconds: Double?
    /// **Modeled** time a compute environment's capacity would have been torn down: its last job's end
    /// plus its idle teardown seconds (measured wall time). Nil while it is held or when it never idles out.
    public var modeledTeardownAt: Date?

    public init(
        id: String = RunRecord.newID(), runID: String, kind: Kind, createdAt: Date = Date(), reapedAt: Date? = nil,
        invocationsServed: Int = 0, initDurationMs: Double? = nil, name: String? = nil,
        modeledProvisioningSeconds: Double? = nil, modeledTeardownAt: Date? = nil
    ) {
        self.id = id
        self.runID = runID
        self.kind = kind
        self.createdAt = createdAt
        self.reapedAt = reapedAt
        self.invocationsServed = invocationsServed
        self.initDurationMs = initDurationMs
        self.name = name
        self.modeledProvisioningSeconds = modeledProvisioningSeconds
        self.modeledTeardownAt = modeledTeardownAt
    }
}
