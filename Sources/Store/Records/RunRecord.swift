public import CapsizeCore
public import Foundation

/// One capsize command that produces records (a bench, an invoke, a submit or a sweep), with how it ended.
///
/// A run is created before its first item starts and finished after its last one ends; a run still
/// `running` whose process is gone was interrupted (`kill -9`, a crash, a power cut) and can be resumed.
public struct RunRecord: Codable, Sendable, Equatable, Identifiable {
    /// The command that made the run.
    public enum Kind: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
        case bench, invoke, submit, sweep, suite
        /// `capsize serve`: the jobs submitted through its Batch API while it ran.
        case serve
    }

    /// Where the run stands.
    public enum Status: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
        /// Its process is working on it (or was, until it was killed: see `CapsizeStore.markStaleRunsInterrupted`).
        case running
        /// Every planned item ended and was recorded.
        case finished
        /// It stopped before the end; `--resume` continues it.
        case interrupted
    }

    /// A lowercase UUID; commands accept any unique prefix of it.
    public var id: String
    public var kind: Kind
    /// The arguments the user typed, program name first.
    public var commandLine: [String]
    /// The command's parameters as JSON (see `StoredJSON`), enough to resume the run.
    public var parameters: String
    /// The machine it ran on (`CalibrationKey.machine`).
    public var machine: String
    /// The process that runs it now (the last one to resume it).
    public var pid: Int32
    /// When that process started (clock ticks since boot): with `pid`, the run's owner; a later process given the
    /// same id is not. Nil in runs stored before capsize recorded it.
    public var processStart: Int64?
    public var createdAt: Date
    public var finishedAt: Date?
    public var status: Status
    /// Why it was interrupted, when it was.
    public var statusReason: String?
    /// How many items the run plans, when known.
    public var planned: Int?
    /// How many times `--resume` continued it.
    public var resumes: Int

    public init(
        id: String = RunRecord.newID(), kind: Kind, commandLine: [String], parameters: String, machine: String,
        pid: Int32, processStart: Int64? = nil, createdAt: Date = Date(), finishedAt: Date? = nil,
        status: Status = .running,
        statusReason: String? = nil, planned: Int? = nil, resumes: Int = 0
    ) {
        self.id = id
        self.kind = kind
        self.commandLine = commandLine
        self.parameters = parameters
        self.machine = machine
        self.pid = pid
        self.processStart = processStart
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.status = status
        self.statusReason = statusReason
        self.planned = planned
        self.resumes = resumes
    }

    /// A fresh run id: a random UUID in lowercase.
    public static func newID() -> String { UUID().uuidString.lowercased() }

    /// The first 8 characters of the id, as `runs list` shows it.
    public var shortID: String { String(id.prefix(8)) }

    /// The process that owns the run: its id and start time.
    public var owner: ProcessIdentity { ProcessIdentity(pid: pid, startTicks: processStart) }
}

/// How far a run got: the counts `capsize runs show` prints.
public struct RunSummary: Codable, Sendable, Equatable {
    /// Items the run plans, when known.
    public var planned: Int?
    /// Distinct items recorded as ended (what `--resume` skips).
    public var completed: Int
    public var measurements: Int
    public var invocations: [InvocationRecord.Status: Int]
    public var jobs: [JobRecord.State: Int]
    public var environments: Int

    public init(
        planned: Int? = nil, completed: Int = 0, measurements: Int = 0,
        invocations: [InvocationRecord.Status: Int] = [:], jobs: [JobRecord.State: Int] = [:], environments: Int = 0
    ) {
        self.planned = planned
        self.completed = completed
        self.measurements = measurements
        self.invocations = invocations
        self.jobs = jobs
        self.environments = environments
    }
}
