import CapsizeCore
import CloudModel
import Compute
import Foundation
public import Store

/// The local backend behind `BatchBackend`: jobs run on this machine through a `BatchExecutor`. A submission is
/// checked at once (by an executor that stores nothing); the executor that runs the jobs is made for the run
/// `events` is given, and takes them with the same ids. (`capsize submit` uses `BatchExecutor` itself, for what
/// only it offers: several queues, dependencies, `--resume`.)
public actor LocalBatchBackend: BatchBackendMaker {
    public static let name = "local"
    private let queues: [JobQueue]
    private let sandbox: Sandbox
    private let context: BatchBackendContext
    private let checker: BatchExecutor
    private var submitted: [(id: String, job: BatchJob)] = []
    private var executor: BatchExecutor?
    private var cancelled: [String] = []

    /// - Throws: `InputError` naming `--backend` when the sandbox cannot be used here.
    public init(_ context: BatchBackendContext) throws {
        let host = HostInfo.current()
        let queues =
            context.queues ?? [
                JobQueue(environments: [
                    ComputeEnvironment(
                        name: "local", maxVCPUs: Double(host.logicalCores),
                        memoryMiB: Int(host.memoryAvailableBytes >> 20))
                ])
            ]
        do {
            sandbox = try Sandbox()
        } catch {
            throw InputError(setting: "backend", value: "local", allowed: "a machine where the sandbox runs (\(error))")
        }
        self.queues = queues
        self.context = context
        checker = BatchExecutor(queues: queues, runID: "", sandbox: sandbox, store: nil, outputRoot: context.outputRoot)
    }

    public func submit(_ job: BatchJob) async throws -> BatchSubmission {
        let id = try await checker.submit(job.definition, queue: job.queue, arraySize: job.arraySize)
        submitted.append((id, job))
        let queue = job.queue ?? queues.max { $0.priority < $1.priority }?.name ?? "default"
        return BatchSubmission(
            id: id, reference: nil, announcement: "", destination: "to queue \(queue)", clock: nil)
    }

    public func events(run runID: String) async -> AsyncStream<JobRecord> {
        tasks.stream { continuation in await self.run(runID, continuation: continuation) }
    }

    /// The tasks running the jobs (`events`), which `interrupt` cancels.
    private let tasks = EventTasks()

    /// Cancels the executor's task: nothing new starts, attempts in flight are stopped and stored RUNNABLE again.
    public func interrupt() async { tasks.cancelAll() }

    /// Runs every submitted job in an executor made for `runID`, yielding each state change.
    private func run(_ runID: String, continuation: AsyncStream<JobRecord>.Continuation) async {
        let executor = BatchExecutor(
            queues: queues, runID: runID, sandbox: sandbox, store: context.store, outputRoot: context.outputRoot)
        self.executor = executor
        await executor.observe { continuation.yield($0) }
        for (id, job) in submitted {
            _ = try? await executor.submit(job.definition, queue: job.queue, arraySize: job.arraySize, id: id)
        }
        for id in cancelled { await executor.cancel(id) }
        _ = await executor.runUntilDone()
        continuation.finish()
    }

    /// Jobs not yet started fail (Batch's CancelJob); those running run to their end.
    public func cancel(_ id: String) async throws {
        if let executor {
            await executor.cancel(id)
        } else {
            cancelled.append(id)
        }
    }

    public var warnings: [String] {
        get async { await (executor ?? checker).warnings }
    }
}
