public import CapsizeCore
public import CloudModel
import Foundation
public import Store

/// The Batch model on the local machine: jobs are submitted to a queue, wait for their
/// dependencies (PENDING) and for capacity (RUNNABLE), are placed into a compute environment
/// (STARTING), run in the sandbox (RUNNING) and end SUCCEEDED or FAILED, with retries by the
/// job's retry strategy. Every state change is recorded in the store as it happens.
///
/// The pieces, each a type of its own: `JobGraph` (the jobs and what they wait for), `BatchScheduler`
/// (which RUNNABLE job starts next: FIFO or fair share), `ComputeCapacity` (room in the compute environments and
/// their modeled provisioning), `AttemptLauncher` (one attempt in the sandbox) and `JobRecorder` (observers and
/// the store); this actor moves jobs between them.
public actor BatchExecutor {
    public typealias ModeledTeardown = Execution.ModeledTeardown

    /// The queues, highest priority first.
    public let queues: [JobQueue]
    public let runID: String
    private var graph = JobGraph()
    private var scheduler: BatchScheduler
    private var capacity: ComputeCapacity
    private let launcher: AttemptLauncher
    private var recorder: JobRecorder
    /// Whether `runUntilDone` or `serve` is running: jobs submitted meanwhile are admitted at once.
    private var isRunning = false
    /// Wakes `serve`'s loop when there may be a job to start.
    private let wakeup = Wakeup()
    /// The attempts running while serving, by job id.
    private var attempts: [String: Task<AttemptLauncher.Outcome, Never>] = [:]
    /// Jobs `terminate` stopped while they ran: their attempt ends FAILED with the reason given, not retried.
    private var terminating: [String: String] = [:]

    /// The compute environments the queues share, each once (by name).
    public var environments: [ComputeEnvironment] { capacity.environments }
    /// Every job's record, by id.
    var jobs: [String: JobRecord] { graph.jobs }
    /// Modeled provisioning seconds per environment, summed over its provisionings (not slept).
    public var modeledProvisioning: [String: Double] { capacity.modeledProvisioning }
    /// Modeled teardowns, in order (an environment idle past its `idleTeardownSeconds`, or at the run's end).
    public var modeledTeardowns: [ModeledTeardown] { capacity.modeledTeardowns }
    public var warnings: [String] { recorder.warnings }

    /// One queue over its compute environments.
    public init(
        queue: JobQueue, runID: String, sandbox: Sandbox, store: CapsizeStore?, outputRoot: String,
        terminateGrace: Double = 30, governsCPUShare: Bool = true, logLimitBytes: Int = JobLaunch.defaultLogLimit
    ) {
        self.init(
            queues: [queue], runID: runID, sandbox: sandbox, store: store, outputRoot: outputRoot,
            terminateGrace: terminateGrace, governsCPUShare: governsCPUShare, logLimitBytes: logLimitBytes)
    }

    /// Several queues over shared compute environments.
    /// - Parameters:
    ///   - queues: at least one; environments with the same name are one environment (the first
    ///     definition counts; `BatchConfiguration` refuses different definitions under one name).
    ///   - outputRoot: each job gets `outputRoot/<job id>/` for its logs and an `output/` folder
    ///     (`AWS_BATCH_JOB_OUTPUT_DIR`, the stand-in for S3; see `JobLaunch.Layout`).
    ///   - terminateGrace: seconds between SIGTERM and SIGKILL at a timeout (Batch: 30).
    ///   - governsCPUShare: hold each job's process tree to its vCPUs (0.25 is a quarter of a CPU, as on
    ///     Fargate); false lets jobs use every core they are given threads for.
    ///   - logLimitBytes: how much of each of a job's stdout and stderr its log keeps; the log says where it was
    ///     cut and how much was written.
    public init(
        queues: [JobQueue], runID: String, sandbox: Sandbox, store: CapsizeStore?, outputRoot: String,
        terminateGrace: Double = 30, governsCPUShare: Bool = true, logLimitBytes: Int = JobLaunch.defaultLogLimit
    ) {
        precondition(!queues.isEmpty, "a BatchExecutor needs a job queue")
        // Stable: equal priorities keep the order given.
        let sorted = queues.enumerated()
            .sorted { ($0.element.priority, -$0.offset) > ($1.element.priority, -$1.offset) }
            .map(\.element)
        self.queues = sorted
        self.runID = runID
        scheduler = BatchScheduler(policies: sorted.map(\.fairShare))
        capacity = ComputeCapacity(queues: sorted, runID: runID)
        launcher = AttemptLauncher(
            sandbox: sandbox.withLaunchServer(),  // one resident launcher forks every job
            outputRoot: JobLaunch.Layout.absoluteRoot(outputRoot), baseEnvironment: WorkloadEnvironment.batchBase(),
            terminateGrace: terminateGrace, governsCPUShare: governsCPUShare, logLimitBytes: logLimitBytes)
        recorder = JobRecorder(store: store, runID: runID)
    }

    /// Calls `observer` with every state change, in order.
    public func observe(_ observer: @escaping @Sendable (JobRecord) -> Void) { recorder.observe(observer) }

    /// Submits a job (or an array of `arraySize` children). While `runUntilDone` runs, the job is admitted
    /// at once and runs as capacity allows.
    /// - Parameters:
    ///   - queue: the job queue's name; nil: the highest-priority queue.
    ///   - dependsOn: jobs this one waits for; `N_TO_N` pairs array children by index.
    ///   - sequential: array children run one after another (an array's SEQUENTIAL dependency on itself).
    ///   - previous: the records of this submission from an interrupted run (`--resume`): the same ids
    ///     are used, jobs already SUCCEEDED or FAILED are kept as they are, the rest run again.
    ///   - id: the job's id (nil: a new one, or the one in `previous`).
    /// - Returns: the job id (the array parent's for arrays).
    /// - Throws: `InputError` for an unknown queue, an array size out of 2...10000, more than 20
    ///   dependencies, an unknown job id, a dependency cycle, or resources no compute environment of the
    ///   queue can ever hold.
    @discardableResult
    public func submit(
        _ definition: JobDefinition, queue queueName: String? = nil, arraySize: Int? = nil,
        dependsOn: [JobDependency] = [], sequential: Bool = false, previous: [JobRecord] = [], id: String? = nil
    ) throws(InputError) -> String {
        let queueIndex = try queueIndex(queueName)
        let queue = queues[queueIndex]
        if let arraySize { try BatchLimits.checkArraySize(arraySize) }
        try BatchLimits.checkDependencies(dependsOn, known: Set(graph.jobs.keys))
        try queue.checkCanEverFit(definition.resources)
        try queue.checkShare(definition.shareIdentifier)
        if let timeout = definition.timeoutSeconds, let warning = try BatchLimits.timeoutWarning(timeout) {
            recorder.warnings.append("\(definition.name): \(warning)")
        }
        let id = id ?? previous.first { $0.arrayParentID == nil }?.id ?? UUID().uuidString.lowercased()
        let kept = Dictionary(previous.filter(\.state.isFinal).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let root = launcher.outputRoot
        let records = try graph.add(
            id: id, definition: definition, queue: queueIndex, arraySize: arraySize, dependsOn: dependsOn,
            sequential: sequential, kept: kept
        ) { id, waitsFor in
            JobRecord(
                id: id, runID: runID, itemKey: id, name: definition.name, queue: queue.name, dependsOn: waitsFor,
                vcpus: definition.resources.vcpus, memoryMiB: definition.resources.memoryMiB,
                gpus: definition.resources.gpus, logPath: JobLaunch.Layout(root: root, id: id).directory)
        }
        recorder.record(records.filter { kept[$0.id] == nil })
        if isRunning { apply(graph.admit(records.map(\.id))) }
        wakeup.signal()
        return id
    }

    /// The index in `queues` of the queue named `name` (nil: the highest-priority queue).
    /// - Throws: `InputError` naming `--queue` and the queues there are.
    private func queueIndex(_ name: String?) throws(InputError) -> Int {
        guard let name else { return 0 }
        if let index = queues.firstIndex(where: { $0.name == name }) { return index }
        throw InputError(setting: "queue", value: name, allowed: "one of " + queues.map(\.name).joined(separator: ", "))
    }

    /// Registers jobs of an earlier submission, already final, so that new jobs can depend on them.
    public func adopt(_ records: [JobRecord]) { graph.adopt(records) }

    /// Cancels a job as Batch's CancelJob does: one not yet STARTING (SUBMITTED, PENDING, RUNNABLE) fails with
    /// `reason`, and so do its dependents; a job already placed runs to its end. - Returns: whether it was cancelled.
    @discardableResult
    public func cancel(_ id: String, reason: String = "Cancelled by the user") -> Bool {
        guard let job = graph[id], [.submitted, .pending, .runnable].contains(job.state),
            let plan = graph.plans[id]
        else { return false }
        if job.state == .runnable {
            _ = scheduler.remove(id, queue: plan.queue, share: plan.definition?.shareIdentifier)
        }
        let children = plan.children.filter { graph[$0].map { !$0.state.isFinal } ?? false }
        for child in children { cancel(child, reason: reason) }
        // An array parent whose children were all cancelled has ended with them.
        if graph[id]?.state.isFinal == true { return true }
        guard let record = graph.update(id, { $0.enter(.failed, reason: reason) }) else { return false }
        recorder.record([record])
        apply(graph.settle(id))
        wakeup.signal()  // a FIFO line's head may have gone
        return true
    }

    /// Terminates a job as Batch's TerminateJob does: one not yet started is cancelled (`cancel`); one STARTING or
    /// RUNNING while `serve` runs is stopped (its process tree killed) and fails with `reason`, not retried; an array
    /// parent's children are terminated. - Returns: whether a job was cancelled or stopped.
    @discardableResult
    public func terminate(_ id: String, reason: String = "Terminated by the user") -> Bool {
        guard let job = graph[id], !job.state.isFinal, let plan = graph.plans[id] else { return false }
        if [.submitted, .pending, .runnable].contains(job.state) && plan.children.isEmpty {
            return cancel(id, reason: reason)
        }
        if !plan.children.isEmpty {
            var any = false
            for child in plan.children where terminate(child, reason: reason) { any = true }
            return any
        }
        guard let attempt = attempts[id] else { return false }
        terminating[id] = reason
        attempt.cancel()
        return true
    }

    /// Runs every submitted job to SUCCEEDED or FAILED. A job submitted meanwhile is admitted at once and
    /// considered at the next scheduling point (when a running attempt ends).
    /// - Returns: the final records, in submission order.
    public func runUntilDone() async -> [JobRecord] {
        await run(serving: false)
    }

    /// Runs jobs as they are submitted until the task is cancelled, as a long-lived queue does (`capsize serve`):
    /// a job submitted meanwhile starts at once when there is room (a submission, cancellation or termination wakes
    /// the loop; nothing polls). Cancelled, nothing new starts, the
    /// attempts in flight are stopped and stored RUNNABLE again (`StatusReason.interrupted`), as `runUntilDone`'s.
    /// - Returns: the records, in submission order.
    public func serve() async -> [JobRecord] {
        await run(serving: true)
    }

    /// What wakes the scheduling loop.
    private enum LoopEvent: Sendable {
        case ended(AttemptLauncher.Outcome)
        /// `JobRecorder.latency` passed: write the intermediate states.
        case tick
        /// `serve`: a job was submitted, cancelled or terminated.
        case woken
    }

    private func run(serving: Bool) async -> [JobRecord] {
        isRunning = true
        defer { isRunning = false }
        apply(graph.admit(graph.order))
        // Array parents whose children all ended before a resume end now.
        for child in graph.lastEndedChildren() { apply(graph.settle(child)) }
        await withTaskGroup(of: LoopEvent.self) { group in
            var running = 0
            var ticking = false
            var listening = false
            while true {
                // Cancelled (capsize was interrupted): nothing new starts; the attempts in flight are stopped by
                // the cancellation and come back interrupted.
                while !Task.isCancelled, let (id, placement) = nextPlacement() {
                    running += 1
                    let attempt = start(id, placement: placement)
                    if serving {
                        let task = Task { await attempt() }
                        attempts[id] = task
                        group.addTask {
                            await withTaskCancellationHandler {
                                .ended(await task.value)
                            } onCancel: {
                                task.cancel()
                            }
                        }
                    } else {
                        group.addTask { .ended(await attempt()) }
                    }
                }
                // Intermediate states wait for a batch; a tick writes them within `JobRecorder.latency`, so that
                // `capsize jobs` in another shell sees a long job RUNNING while it runs.
                if running > 0 && recorder.hasUnwritten && !ticking && !Task.isCancelled {
                    ticking = true
                    group.addTask {
                        try? await Task.sleep(for: JobRecorder.latency)
                        return .tick
                    }
                }
                // Serving, a submission (or a cancellation, a termination) wakes the loop to look again.
                if serving && !listening && !Task.isCancelled {
                    listening = true
                    let wakeup = self.wakeup
                    group.addTask {
                        await wakeup.wait()
                        return .woken
                    }
                }
                guard running > 0 || (serving && !Task.isCancelled), let next = await group.next() else { break }
                switch next {
                case .tick:
                    ticking = false
                    recorder.flush()
                case .woken:
                    listening = false
                case .ended(let outcome):
                    running -= 1
                    finish(outcome)
                }
            }
            group.cancelAll()  // a tick still sleeping, a wakeup still waiting
        }
        // Whatever could never start (its dependencies failed earlier) has been failed by `finish`.
        capacity.endEpisodes()
        recordEpisodes()
        recorder.flush()
        return graph.records
    }

    // MARK: State changes

    /// Records what the graph changed and puts the jobs that became RUNNABLE in their lines.
    private func apply(_ changes: JobGraph.Changes) {
        for id in changes.runnable { enqueue(id) }
        recorder.record(changes.changed)
    }

    /// Puts a RUNNABLE job at the end of its queue's line (or of its share's line in a fair-share queue).
    private func enqueue(_ id: String) {
        guard let plan = graph.plans[id], let definition = plan.definition else { return }
        scheduler.enqueue(
            id, queue: plan.queue, share: definition.shareIdentifier, vcpus: definition.resources.vcpus)
    }

    /// The next RUNNABLE job that fits somewhere now, with its placement (see `BatchScheduler`).
    private func nextPlacement() -> (String, ComputeCapacity.Placement)? {
        guard
            let (id, placement) = scheduler.next(
                now: Date.init,
                place: { id, queue in
                    graph.plans[id]?.definition.flatMap { capacity.place($0.resources, queue: queue) }
                })
        else { return nil }
        recordEpisodes()
        if let seconds = placement.provisioningSeconds {
            graph.update(id) { $0.modeledProvisioningSeconds = ($0.modeledProvisioningSeconds ?? 0) + seconds }
        }
        return (id, placement)
    }

    /// Stores the compute environments' episodes that started or ended.
    private func recordEpisodes() {
        for episode in capacity.takeEpisodes() { recorder.record(episode) }
    }

    /// STARTING → RUNNING, and the attempt as a closure for a child task.
    private func start(_ id: String, placement: ComputeCapacity.Placement)
        -> @Sendable () async -> AttemptLauncher.Outcome
    {
        let environment = placement.environment
        let gpus = placement.gpus
        let environmentName = capacity.environments[environment].name
        guard let plan = graph.plans[id], let definition = plan.definition,
            let job = graph.update(
                id,
                {
                    $0.environmentID = environmentName
                    $0.enter(.starting)
                })
        else {
            return { AttemptLauncher.Outcome(jobID: id, environment: environment, gpus: gpus, failure: "unknown job") }
        }
        recorder.record([job])
        let arraySize = job.arrayParentID.flatMap { graph.plans[$0]?.children.count }
        let prepared = launcher.prepare(
            AttemptLauncher.Attempt(
                job: job, definition: definition, queue: queues[plan.queue].name, environment: environmentName,
                gpus: gpus, arraySize: arraySize),
            environment: environment)
        if let running = graph.update(id, { $0.enter(.running) }) { recorder.record([running]) }
        switch prepared {
        case .success(let attempt): return attempt
        case .failure(let failure):
            let text = failure.description
            return { AttemptLauncher.Outcome(jobID: id, environment: environment, gpus: gpus, failure: text) }
        }
    }

    /// RUNNING → SUCCEEDED, FAILED, or RUNNABLE again (a retry); releases capacity and wakes dependents.
    private func finish(_ outcome: AttemptLauncher.Outcome) {
        let id = outcome.jobID
        guard let definition = graph.plans[id]?.definition, let attempt = graph[id]?.attempt else { return }
        capacity.release(definition.resources, environment: outcome.environment, gpus: outcome.gpus)
        scheduler.charge(id, now: Date.init)
        attempts[id] = nil
        if let reason = terminating.removeValue(forKey: id), outcome.interrupted {
            // TerminateJob: the attempt was stopped on purpose; the job fails and is not retried.
            if let record = graph.update(id, { $0.enter(.failed, reason: reason) }) { recorder.record([record]) }
            apply(graph.settle(id))
            return
        }
        if outcome.interrupted {
            // Not an end: RUNNABLE again, so that a resumed run runs the attempt again (only final jobs are kept).
            let record = graph.update(id) { $0.enter(.runnable, reason: StatusReason.interrupted) }
            if let record { recorder.record([record]) }
            return
        }

        let (succeeded, exitCode, statusReason, reason) = Self.judge(outcome, definition: definition)
        let retry =
            !succeeded
            && definition.retryStrategy.shouldRetry(
                attempt: attempt, exitCode: exitCode, reason: reason, statusReason: statusReason)
        let record = graph.update(id) { job in
            job.exitCode = exitCode.map(Int.init)
            job.reason = reason
            if let result = outcome.result {
                job.wallSeconds = result.wallSeconds
                job.userSeconds = result.userSeconds
                job.systemSeconds = result.systemSeconds
                job.peakRSSBytes = Int64(clamping: result.peakRSSBytes)
            }
            if succeeded {
                job.enter(.succeeded, reason: statusReason)
            } else if retry {
                job.statusReason = statusReason
                job.attempt += 1
                job.enter(.runnable)
            } else {
                job.enter(.failed, reason: statusReason)
            }
        }
        if retry { enqueue(id) }
        if let record { recorder.record([record]) }
        if !retry { apply(graph.settle(id)) }
    }
}
