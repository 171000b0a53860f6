import CloudModel
import Foundation
public import Store
import Synchronization

/// A place Batch-model jobs run: this machine (`LocalBatchBackend`, over `BatchExecutor`) or a Slurm cluster
/// (`SlurmBatchBackend`, over `SlurmBackend`). Every backend lays out and starts its jobs as `JobLaunch` says and
/// reports their states as Batch's (`JobRecord`). To add one, see CONTRIBUTING.md, "Add a batch backend".
public protocol BatchBackend: Sendable {
    /// Submits a job or an array job. Nothing is stored yet: a request the backend refuses leaves no trace.
    /// - Throws: `InputError` naming the option at fault, or the backend's own error when it cannot be reached.
    func submit(_ job: BatchJob) async throws -> BatchSubmission

    /// Runs or follows every job submitted so far to SUCCEEDED or FAILED, storing each state change as part of
    /// run `runID`. The stream yields each change as it happens (an array parent before its children) and finishes
    /// when every job has ended.
    func events(run runID: String) async -> AsyncStream<JobRecord>

    /// Cancels a submitted job (an array parent: every child): those not yet running fail. - Throws: when the
    /// backend cannot be reached.
    func cancel(_ id: String) async throws

    /// Stops following the jobs because capsize was interrupted: every job still running or waiting is ended
    /// (cancelled where the backend runs it elsewhere) and stored RUNNABLE again, to run when the run is resumed;
    /// then `events` finishes.
    func interrupt() async

    /// What the backend noticed besides the records (the store's refusals, a warning about a request), in order.
    var warnings: [String] { get async }
}

/// What `BatchBackend.submit` takes: a job definition, as an array or not, for a queue.
public struct BatchJob: Sendable {
    public var definition: JobDefinition
    /// Array children (2...10000); nil: a single job.
    public var arraySize: Int?
    /// The job queue (Slurm: the partition); nil: the backend's default.
    public var queue: String?
    /// The stored records of an interrupted run of this job, parent first: it is submitted again under the same id,
    /// the jobs that ended kept as they are. Empty for a new job.
    public var previous: [JobRecord]

    public init(definition: JobDefinition, arraySize: Int? = nil, queue: String? = nil, previous: [JobRecord] = []) {
        self.definition = definition
        self.arraySize = arraySize
        self.queue = queue
        self.previous = previous
    }
}

/// A submitted job, and what `capsize submit` says about it. Backends (in Execution) make it with its memberwise
/// initializer.
public struct BatchSubmission: Sendable {
    /// capsize's id for the job (the array parent's for arrays).
    public var id: String
    /// The backend's own name for it, e.g. `Slurm 42` (nil: capsize's id is the only one).
    public var reference: String?
    /// Said after `submitted ID`, e.g. `as Slurm job 42` (empty: nothing).
    public var announcement: String
    /// Where it went, e.g. `to partition gpu; batch script /…/job.sbatch`.
    public var destination: String
    /// How the backend's times were measured, e.g. `Slurm's times, whole seconds` (nil: measured here).
    public var clock: String?
}

/// What a backend is made with.
public struct BatchBackendContext: Sendable {
    /// Each job's folder is `outputRoot/<job id>/` (`JobLaunch.Layout`).
    public var outputRoot: String
    public var store: CapsizeStore?
    /// The local backend's job queues (nil: one queue over this machine); other backends ignore them.
    public var queues: [JobQueue]?

    public init(outputRoot: String, store: CapsizeStore?, queues: [JobQueue]? = nil) {
        self.outputRoot = outputRoot
        self.store = store
        self.queues = queues
    }
}

/// Every batch backend `capsize submit --backend` offers, by name.
public struct BatchBackendKind: RawRepresentable, CaseIterable, Hashable, Sendable {
    /// Every backend there is. A new one registers here, with one line: its type (which names itself).
    static let registered: [any BatchBackendMaker.Type] = [LocalBatchBackend.self, SlurmBatchBackend.self]

    public static let local = BatchBackendKind(LocalBatchBackend.self)
    public static let slurm = BatchBackendKind(SlurmBatchBackend.self)
    public static var allCases: [BatchBackendKind] { registered.map(BatchBackendKind.init) }

    /// The name it is given by (`capsize submit --backend NAME`).
    public let rawValue: String
    /// The backend's type.
    public let type: any BatchBackendMaker.Type

    /// The registered backend named `rawValue`; nil for none.
    public init?(rawValue: String) {
        guard let type = Self.registered.first(where: { $0.name == rawValue }) else { return nil }
        self.init(type)
    }

    private init(_ type: any BatchBackendMaker.Type) {
        rawValue = type.name
        self.type = type
    }

    public static func == (a: Self, b: Self) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// A backend of this kind.
    public func make(_ context: BatchBackendContext) throws -> any BatchBackend { try type.init(context) }
}

/// How a backend is named and made from a context (every `BatchBackend` has one).
public protocol BatchBackendMaker: BatchBackend {
    /// The name `BatchBackendKind` gives it (`local`, `slurm`).
    static var name: String { get }

    /// - Throws: `InputError` naming the setting `backend` when the backend cannot be used from this machine.
    init(_ context: BatchBackendContext) throws
}

/// The tasks a backend's `events` streams run in: a stream that ends early cancels its own, `cancelAll` (a backend's
/// `interrupt`) every one.
final class EventTasks: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// A stream whose events `body` yields (and finishes) in a task of its own.
    func stream(_ body: @escaping @Sendable (AsyncStream<JobRecord>.Continuation) async -> Void)
        -> AsyncStream<JobRecord>
    {
        AsyncStream { continuation in
            let task = Task { await body(continuation) }
            tasks.withLock { $0.append(task) }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func cancelAll() { tasks.withLock { for task in $0 { task.cancel() } } }
}
