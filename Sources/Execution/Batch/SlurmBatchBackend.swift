import CapsizeCore
import CloudModel
import Foundation
public import Store

/// The Slurm backend behind `BatchBackend`: each job goes to Slurm with `sbatch` (`SlurmBackend.submit`) and is
/// followed with `scontrol` (`SlurmBackend.track`), the jobs of one run side by side.
public actor SlurmBatchBackend: BatchBackendMaker {
    public static let name = "slurm"
    private let context: BatchBackendContext
    private var submissions: [(submission: SlurmBackend.Submission, backend: SlurmBackend)] = []
    private var noticed: [String] = []

    public init(_ context: BatchBackendContext) {
        self.context = context
    }

    /// Submits with `sbatch`; the queue is the partition.
    /// - Throws: `InputError` naming the option Slurm refused; `SlurmBackend.Failure.unavailable` when sbatch is
    ///   missing or fails otherwise.
    public func submit(_ job: BatchJob) async throws -> BatchSubmission {
        let backend = SlurmBackend(outputRoot: context.outputRoot, partition: job.queue)
        let submission = try backend.submit(job.definition, arraySize: job.arraySize, previous: job.previous)
        submissions.append((submission, backend))
        return BatchSubmission(
            id: submission.id, reference: "Slurm \(submission.slurmJobID)",
            announcement: "as Slurm job \(submission.slurmJobID)",
            destination: "to partition \(job.queue ?? "(the default)"); batch script \(submission.script)",
            clock: "Slurm's times, whole seconds")
    }

    public func events(run runID: String) async -> AsyncStream<JobRecord> {
        let submissions = self.submissions
        let store = context.store
        return tasks.stream { continuation in
            let warnings = await withTaskGroup(of: [String].self) { group in
                for (submission, backend) in submissions {
                    group.addTask {
                        await backend.track(submission, runID: runID, store: store) { continuation.yield($0) }
                            .warnings
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            await self.notice(warnings)
            continuation.finish()
        }
    }

    /// The tasks following the jobs (`events`), which `interrupt` cancels.
    private let tasks = EventTasks()

    /// Cancels the following: each `SlurmBackend.track` then cancels its Slurm job with `scancel` and stores the
    /// jobs that had not ended RUNNABLE again.
    public func interrupt() async { tasks.cancelAll() }

    private func notice(_ warnings: [String]) { noticed += warnings }

    /// `scancel`: Slurm ends the job, running or not (an array child is `ID:INDEX`).
    public func cancel(_ id: String) async throws {
        let parts = id.split(separator: ":", maxSplits: 1).map(String.init)
        guard let (submission, _) = submissions.first(where: { $0.submission.id == parts[0] }) else { return }
        let target = submission.slurmJobID + (parts.count == 2 ? "_\(parts[1])" : "")
        let result = SlurmBackend.execute(["scancel", target])
        if result.status != 0 { throw SlurmBackend.Failure.unavailable("scancel \(target): \(result.stderr)") }
    }

    public var warnings: [String] { noticed }
}
