public import CloudModel
public import Execution
public import Foundation
public import Store
import Workloads

/// A job of an earlier submission that a new one depends on: its records (an array parent first, then its
/// children), registered with the executor in their final state, and the dependency's type.
public struct AdoptedDependency: Sendable {
    public var jobs: [JobRecord]
    public var type: DependencyType?

    public init(jobs: [JobRecord], type: DependencyType?) {
        self.jobs = jobs
        self.type = type
    }
}

/// What `submit` runs on the local backend: one job definition (or an array of it) in a queue over compute
/// environments.
public struct SubmitRequest: Sendable {
    public var definition: JobDefinition
    public var queues: [JobQueue]
    /// The job queue; nil for the highest-priority one.
    public var queue: String?
    public var arraySize: Int?
    /// Array children run one after another.
    public var sequential: Bool
    public var dependencies: [AdoptedDependency]
    /// Where each job's folder goes (`root/<job id>/`).
    public var outputRoot: String
    /// Seconds between SIGTERM and SIGKILL at a timeout.
    public var terminateGrace: Double
    public var governsCPUShare: Bool

    public init(
        definition: JobDefinition, queues: [JobQueue], queue: String?, arraySize: Int?, sequential: Bool,
        dependencies: [AdoptedDependency], outputRoot: String, terminateGrace: Double, governsCPUShare: Bool
    ) {
        self.definition = definition
        self.queues = queues
        self.queue = queue
        self.arraySize = arraySize
        self.sequential = sequential
        self.dependencies = dependencies
        self.outputRoot = outputRoot
        self.terminateGrace = terminateGrace
        self.governsCPUShare = governsCPUShare
    }
}

/// What a submission measured and modeled (what `capsize submit --json` prints).
public struct SubmitReport: Encodable, Sendable {
    public var run: String
    public var job: String
    /// Measured wall seconds from the submission to the last job's end.
    public var seconds: Double
    public var warnings: [String]
    public var modeledProvisioningSeconds: [String: Double]
    public var modeledTeardowns: [BatchExecutor.ModeledTeardown]
    public var jobs: [JobRecord]

    public init(
        run: String, job: String, seconds: Double, warnings: [String], modeledProvisioningSeconds: [String: Double],
        modeledTeardowns: [BatchExecutor.ModeledTeardown], jobs: [JobRecord]
    ) {
        self.run = run
        self.job = job
        self.seconds = seconds
        self.warnings = warnings
        self.modeledProvisioningSeconds = modeledProvisioningSeconds
        self.modeledTeardowns = modeledTeardowns
        self.jobs = jobs
    }
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

    /// Refuses a bad submission (resources no environment holds, an unknown dependency…) without storing a run.
    /// - Throws: `InputError` naming the setting.
    public static func check(_ request: SubmitRequest, sandbox: Sandbox) async throws {
        let dryRun = BatchExecutor(
            queues: request.queues, runID: "", sandbox: sandbox, store: nil, outputRoot: request.outputRoot)
        try await submit(request, to: dryRun, previous: [])
    }

    /// - Parameters:
    ///   - resuming: a run already taken over, whose ended jobs are kept; nil for a new run (checked first).
    ///   - parameters: what a new run stores to be resumed later.
    ///   - observe: called with every state change as it happens.
    ///   - onAccepted: called once the job is in its queue.
    public static func run(
        _ request: SubmitRequest, sandbox: Sandbox, store: CapsizeStore, resuming: RunRecord?,
        parameters: some Encodable, observe: (@Sendable (JobRecord) -> Void)? = nil,
        onAccepted: (Accepted) -> Void = { _ in }
    ) async throws -> SubmitReport {
        if resuming == nil { try await check(request, sandbox: sandbox) }
        let run =
            try resuming
            ?? store.createRun(
                kind: .submit, parameters: parameters, planned: request.arraySize.map { $0 + 1 } ?? 1)
        let previous = resuming == nil ? [] : try store.jobs(run: run.id)
        let executor = BatchExecutor(
            queues: request.queues, runID: run.id, sandbox: sandbox, store: store, outputRoot: request.outputRoot,
            terminateGrace: request.terminateGrace, governsCPUShare: request.governsCPUShare)
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
        _ = try store.finish(run: run.id)
        return SubmitReport(
            run: run.id, job: id, seconds: seconds, warnings: await executor.warnings,
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
}
