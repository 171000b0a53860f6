import CapsizeCore
public import CloudModel
public import Execution
import Foundation
public import Store

/// A job of an earlier submission that a new one depends on: its records (an array parent first, then its
/// children), registered with the executor in their final state, and the dependency's type.
public struct AdoptedDependency: Sendable {
    public var jobs: [JobRecord]
    public var type: DependencyType?
}

/// What `submit` runs on the local backend: one job definition (or an array of it) in a queue over compute
/// environments.
public struct SubmitRequest: Sendable {
    public var definition: JobDefinition
    public var queues: [JobQueue]
    /// What the queues' configuration warned about.
    public var warnings: [String] = []
    /// Whether the environments' GPUs are configured slots rather than the OpenCL GPUs found.
    public var gpuSlots = false
    /// The job queue; nil for the highest-priority one.
    public var queue: String?
    public var arraySize: Int?
    /// Array children run one after another.
    public var sequential = false
    public var dependencies: [AdoptedDependency] = []
    /// Seconds between SIGTERM and SIGKILL at a timeout.
    public var terminateGrace: Double = 30
    public var governsCPUShare = true
    /// How much of each of a job's stdout and stderr its log keeps.
    public var logLimitBytes = JobLaunch.defaultLogLimit
}

/// What a submission measured and modeled (what `capsize submit --json` prints).
public struct SubmitReport: Encodable, Sendable {
    public var run: String
    public var job: String
    /// Measured wall seconds from the submission to the last job's end.
    public var seconds: Double
    public var warnings: [String]
    public var modeledProvisioningSeconds: [String: Double] = [:]
    public var modeledTeardowns: [BatchExecutor.ModeledTeardown] = []
    public var jobs: [JobRecord]

    /// The state the job (the array parent) ended in; nil when it has no record.
    public var state: JobRecord.State? { jobs.first { $0.id == job }?.state }
}

/// Submits a job (or array) to the local Batch model and runs it to the end, every state change recorded, so
/// an interrupted submission resumes with its finished jobs kept.
public enum Submit {
    /// What the submission was told when it was accepted: the job's id, its run, its queue, and how many jobs had
    /// ended before (a resumed run).
    public struct Accepted: Sendable {
        public var job: String
        public var run: RunRecord
        public var queue: JobQueue
        public var kept: Int
    }

    /// - Parameters:
    ///   - resuming: a run already taken over, whose ended jobs are kept; nil for a new run (a bad submission, such
    ///     as resources no environment holds or an unknown dependency, is refused first without storing a run).
    ///   - parameters: what a new run stores to be resumed later.
    ///   - observe: called with every state change as it happens.
    ///   - onAccepted: called once the job is in its queue.
    public static func run(
        _ request: SubmitRequest, store: CapsizeStore, resuming: RunRecord?, parameters: some Encodable,
        observe: (@Sendable (JobRecord) -> Void)? = nil, onAccepted: (Accepted) -> Void = { _ in }
    ) async throws -> SubmitReport {
        let sandbox = try makeSandbox()
        let outputRoot = store.sibling("jobs")
        if resuming == nil {
            let dryRun = BatchExecutor(
                queues: request.queues, runID: "", sandbox: sandbox, store: nil, outputRoot: outputRoot)
            try await submit(request, to: dryRun, previous: [])
        }
        let run =
            try resuming
            ?? store.createRun(
                kind: .submit, parameters: parameters, planned: request.arraySize.map { $0 + 1 } ?? 1)
        let previous = resuming == nil ? [] : try store.jobs(run: run.id)
        let executor = BatchExecutor(
            queues: request.queues, runID: run.id, sandbox: sandbox, store: store, outputRoot: outputRoot,
            terminateGrace: request.terminateGrace, governsCPUShare: request.governsCPUShare,
            logLimitBytes: request.logLimitBytes)
        if let observe { await executor.observe(observe) }
        let id = try await submit(request, to: executor, previous: previous)
        let byPriority = await executor.queues
        onAccepted(
            Accepted(
                job: id, run: run, queue: byPriority.first { $0.name == request.queue } ?? byPriority[0],
                kept: previous.filter(\.state.isFinal).count))
        let clock = ContinuousClock()
        let start = clock.now
        let records = await executor.runUntilDone()
        let seconds = (clock.now - start).seconds
        if Task.isCancelled { throw interrupted(run.id, in: store) }
        _ = try store.finish(run: run.id)
        return SubmitReport(
            run: run.id, job: id, seconds: seconds, warnings: request.warnings + (await executor.warnings),
            modeledProvisioningSeconds: await executor.modeledProvisioning,
            modeledTeardowns: await executor.modeledTeardowns, jobs: records)
    }

    @discardableResult
    private static func submit(_ request: SubmitRequest, to executor: BatchExecutor, previous: [JobRecord])
        async throws -> String
    {
        var dependencies: [JobDependency] = []
        for dependency in request.dependencies {
            await executor.adopt(dependency.jobs)
            dependencies.append(JobDependency(jobId: dependency.jobs[0].id, type: dependency.type))
        }
        return try await executor.submit(
            request.definition, queue: request.queue, arraySize: request.arraySize, dependsOn: dependencies,
            sequential: request.sequential, previous: previous)
    }

    /// The sandbox every job runs in; a machine that cannot give one fails the study.
    static func makeSandbox() throws -> Sandbox {
        do {
            return try Sandbox()
        } catch {
            throw StudyFailure.failed("\(error)")
        }
    }
}

extension Submit {
    /// Submits `job` to a backend other than this process's executor (Slurm: with sbatch, followed with scontrol) and
    /// follows every job until it ended; each state change is stored as for the local backend (run kind `submit`,
    /// the partition as the queue, the backend's times). The run is stored once the backend took the job: a request
    /// it refuses leaves no run behind.
    /// - Parameters:
    ///   - resuming: an interrupted run of this job, taken over: its jobs that ended are kept, the others are
    ///     submitted again under their ids; nil for a new run.
    ///   - parameters: what the run stores.
    ///   - onSubmitted: called once the backend took the job, with the run it is recorded in.
    ///   - observe: called with every state change as it happens.
    /// - Returns: the report, and what the backend said of the job (its own name for it, how it measured times).
    public static func run(
        _ job: BatchJob, on kind: BatchBackendKind, store: CapsizeStore, resuming: RunRecord? = nil,
        parameters: some Encodable, onSubmitted: (BatchSubmission, RunRecord) -> Void = { _, _ in },
        observe: @escaping @Sendable (JobRecord) -> Void = { _ in }
    ) async throws -> (report: SubmitReport, submission: BatchSubmission) {
        let backend = try kind.make(BatchBackendContext(outputRoot: store.sibling("jobs"), store: store))
        var job = job
        if let resuming {
            job.previous = try store.jobs(run: resuming.id).sorted { ($0.arrayIndex ?? -1) < ($1.arrayIndex ?? -1) }
        }
        let submission: BatchSubmission
        do {
            submission = try await backend.submit(job)
        } catch let error as InputError {
            throw error
        } catch {
            throw StudyFailure.failed("\(error)")
        }
        let run =
            try resuming
            ?? store.createRun(kind: .submit, parameters: parameters, planned: job.arraySize.map { $0 + 1 } ?? 1)
        onSubmitted(submission, run)
        let clock = ContinuousClock()
        let start = clock.now
        // Followed in a task of its own, which an interrupt does not cancel: the backend is told instead, ends its
        // jobs, stores them RUNNABLE again and finishes the stream, all of which is taken in before the run ends.
        let events = await backend.events(run: run.id)
        let following = Task {
            var latest: [String: JobRecord] = [:]
            var order: [String] = []
            for await record in events {
                if latest.updateValue(record, forKey: record.id) == nil { order.append(record.id) }
                observe(record)
            }
            return order.compactMap { latest[$0] }
        }
        let jobs = await withTaskCancellationHandler {
            await following.value
        } onCancel: {
            Task { await backend.interrupt() }
        }
        let seconds = (clock.now - start).seconds
        if Task.isCancelled { throw interrupted(run.id, in: store) }
        _ = try store.finish(run: run.id)
        let report = SubmitReport(
            run: run.id, job: submission.id, seconds: seconds, warnings: await backend.warnings,
            jobs: jobs)
        return (report, submission)
    }
}
