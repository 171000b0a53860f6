public import CapsizeCore
public import CloudModel
public import Foundation
public import Store

/// The Batch model on the local machine: jobs are submitted to a queue, wait for their
/// dependencies (PENDING) and for capacity (RUNNABLE), are placed into a compute environment
/// (STARTING), run in the sandbox (RUNNING) and end SUCCEEDED or FAILED, with retries by the
/// job's retry strategy. Every state change is recorded in the store as it happens.
///
/// Scheduling, each time capacity frees: the queues are visited by priority (higher first; equal
/// priorities in the order given), and from each the job at its head (first in, first out) is placed
/// into the first of the queue's ordered compute environments with room. A head that fits nowhere yet
/// blocks its own queue (strict FIFO, as in a Batch FIFO queue, where a RUNNABLE head holds up the jobs
/// behind it) but not lower-priority queues, which may use the shared capacity meanwhile. Work per
/// placement is O(queues × environments), independent of the number of jobs. A queue with a fair-share
/// policy keeps one line per share identifier instead, and offers the heads of its shares in order of
/// (usage × weight factor, submission): a share's head that does not fit does not hold up the other shares.
public actor BatchExecutor {
    /// One job's plan: its definition, queue, array place and what it waits for.
    struct Plan {
        var definition: JobDefinition
        var waitsFor: [String]
        var children: [String] = []
        /// Index of its queue in `queues`.
        var queue = 0
    }

    /// Capacity in use in one compute environment, and its modeled provisioning.
    struct Usage {
        var vcpus = 0.0
        var memoryMiB = 0
        var freeGPUs: [Int]
        var running = 0
        /// Capacity above `minVCPUs` is (modeled as) provisioned.
        var provisioned = false
        /// When its last job ended and it became empty (measured), while it is empty.
        var idleSince: Date?
        /// The current provisioning episode, as recorded in the store.
        var episode: EnvironmentRecord?
        var episodes = 0
    }

    /// A modeled teardown: the environment's capacity above `minVCPUs` would have been released at `at`.
    public struct ModeledTeardown: Sendable, Equatable, Codable {
        public var environment: String
        public var at: Date
    }

    /// How one attempt ended.
    struct Outcome: Sendable {
        var jobID: String
        var environment: Int
        var gpus: [Int]
        var result: SandboxResult?
        var failure: String?
    }

    /// The queues, highest priority first.
    public let queues: [JobQueue]
    /// The compute environments the queues share, each once (by name).
    public let environments: [ComputeEnvironment]
    /// For each queue, the indices in `environments` of its ordered compute environments.
    private let queueEnvironments: [[Int]]
    public let runID: String
    let sandbox: Sandbox
    let store: CapsizeStore?
    let outputRoot: String
    let terminateGrace: Double
    let governsCPUShare: Bool
    /// `outputRoot` as an absolute path (what `URL(fileURLWithPath:).path` gives), made once.
    private let outputRootPath: String
    /// capsize's environment when the executor was made: every job's starts from it (reading it
    /// again per job parsed the whole environment each time).
    private let baseEnvironment: [String: String]

    private(set) var jobs: [String: JobRecord] = [:]
    private var plans: [String: Plan] = [:]
    private var order: [String] = []
    private var dependents: [String: [String]] = [:]
    private var unmet: [String: Int] = [:]
    /// Children of each array parent not yet SUCCEEDED or FAILED.
    private var unfinishedChildren: [String: Int] = [:]
    /// RUNNABLE jobs in the order they became RUNNABLE (with that sequence number), taken from the head; the
    /// taken part is dropped now and then, so taking is O(1).
    struct Line {
        private var items: [(id: String, sequence: Int)] = []
        private var head = 0

        var first: (id: String, sequence: Int)? { head < items.count ? items[head] : nil }

        mutating func append(_ id: String, sequence: Int) { items.append((id, sequence)) }

        mutating func removeFirst() {
            head += 1
            if head > 4096 {
                items.removeFirst(head)
                head = 0
            }
        }
    }
    /// Per FIFO queue, its line.
    private var runnable: [Line]
    /// Per fair-share queue, one line per share.
    private var shareLines: [[String: Line]]
    /// Per queue, each share's vCPU-seconds of finished attempts, decayed to `at`.
    private var shareUsage: [[String: (vcpuSeconds: Double, at: Date)]]
    /// Attempts running in fair-share queues: queue, share, vCPUs and start.
    private var fairShareRunning: [String: (queue: Int, share: String, vcpus: Double, start: Date)] = [:]
    /// Jobs made RUNNABLE so far (ties between shares go to the earlier one).
    private var admissions = 0
    private var usage: [Usage]
    private var observers: [@Sendable (JobRecord) -> Void] = []
    /// Whether `runUntilDone` is running: jobs submitted meanwhile are admitted at once.
    private var isRunning = false
    /// Modeled provisioning seconds per environment, summed over its provisionings (not slept).
    public private(set) var modeledProvisioning: [String: Double] = [:]
    /// Modeled teardowns, in order (an environment idle past its `idleTeardownSeconds`, or at the run's end).
    public private(set) var modeledTeardowns: [ModeledTeardown] = []
    public private(set) var warnings: [String] = []

    /// One queue over its compute environments.
    public init(
        queue: JobQueue, runID: String, sandbox: Sandbox, store: CapsizeStore?, outputRoot: String,
        terminateGrace: Double = 30, governsCPUShare: Bool = true
    ) {
        self.init(
            queues: [queue], runID: runID, sandbox: sandbox, store: store, outputRoot: outputRoot,
            terminateGrace: terminateGrace, governsCPUShare: governsCPUShare)
    }

    /// Several queues over shared compute environments.
    /// - Parameters:
    ///   - queues: at least one; environments with the same name are one environment (the first
    ///     definition counts; `BatchConfiguration` refuses different definitions under one name).
    ///   - outputRoot: each job gets `outputRoot/<job id>/` for its logs and an `output/` folder
    ///     (`AWS_BATCH_JOB_OUTPUT_DIR`, the stand-in for S3).
    ///   - terminateGrace: seconds between SIGTERM and SIGKILL at a timeout (Batch: 30).
    ///   - governsCPUShare: hold each job's process tree to its vCPUs (0.25 is a quarter of a CPU, as on
    ///     Fargate); false lets jobs use every core they are given threads for.
    public init(
        queues: [JobQueue], runID: String, sandbox: Sandbox, store: CapsizeStore?, outputRoot: String,
        terminateGrace: Double = 30, governsCPUShare: Bool = true
    ) {
        self.governsCPUShare = governsCPUShare
        precondition(!queues.isEmpty, "a BatchExecutor needs a job queue")
        // Stable: equal priorities keep the order given.
        let sorted = queues.enumerated()
            .sorted { ($0.element.priority, -$0.offset) > ($1.element.priority, -$1.offset) }
            .map(\.element)
        var environments: [ComputeEnvironment] = []
        var indices: [String: Int] = [:]
        self.queueEnvironments = sorted.map { queue in
            queue.environments.map { environment in
                if let index = indices[environment.name] { return index }
                environments.append(environment)
                indices[environment.name] = environments.count - 1
                return environments.count - 1
            }
        }
        self.queues = sorted
        self.environments = environments
        self.runnable = Array(repeating: Line(), count: sorted.count)
        self.shareLines = Array(repeating: [:], count: sorted.count)
        self.shareUsage = Array(repeating: [:], count: sorted.count)
        self.runID = runID
        self.sandbox = sandbox.withLaunchServer()  // one resident launcher forks every job
        self.store = store
        self.outputRoot = outputRoot
        self.terminateGrace = terminateGrace
        let rootPath = URL(fileURLWithPath: outputRoot).path
        self.outputRootPath = rootPath.hasSuffix("/") ? String(rootPath.dropLast()) : rootPath
        self.baseEnvironment = WorkloadEnvironment.batchBase()
        usage = environments.map { Usage(freeGPUs: $0.gpuDevices) }
    }

    /// Calls `observer` with every state change, in order.
    public func observe(_ observer: @escaping @Sendable (JobRecord) -> Void) { observers.append(observer) }

    /// Submits a job (or an array of `arraySize` children). While `runUntilDone` runs, the job is admitted
    /// at once and runs as capacity allows.
    /// - Parameters:
    ///   - queue: the job queue's name; nil: the highest-priority queue.
    ///   - dependsOn: jobs this one waits for; `N_TO_N` pairs array children by index.
    ///   - sequential: array children run one after another (an array's SEQUENTIAL dependency on itself).
    ///   - previous: the records of this submission from an interrupted run (`--resume`): the same ids
    ///     are used, jobs already SUCCEEDED or FAILED are kept as they are, the rest run again.
    /// - Returns: the job id (the array parent's for arrays).
    /// - Throws: `InputError` for an unknown queue, an array size out of 2...10000, more than 20
    ///   dependencies, an unknown job id, a dependency cycle, or resources no compute environment of the
    ///   queue can ever hold.
    @discardableResult
    public func submit(
        _ definition: JobDefinition, queue queueName: String? = nil, arraySize: Int? = nil,
        dependsOn: [JobDependency] = [], sequential: Bool = false, previous: [JobRecord] = []
    ) throws(InputError) -> String {
        let queueIndex = try queueIndex(queueName)
        let queue = queues[queueIndex]
        if let arraySize { try BatchLimits.checkArraySize(arraySize) }
        try BatchLimits.checkDependencies(dependsOn, known: Set(jobs.keys))
        try queue.checkCanEverFit(definition.resources)
        try queue.checkShare(definition.shareIdentifier)
        if let timeout = definition.timeoutSeconds, let warning = try BatchLimits.timeoutWarning(timeout) {
            warnings.append("\(definition.name): \(warning)")
        }
        let id = previous.first { $0.arrayParentID == nil }?.id ?? UUID().uuidString.lowercased()
        let kept = Dictionary(previous.filter(\.state.isFinal).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let parentWaits = dependsOn.filter { $0.type != .nToN }.map(\.jobId)
        var records: [JobRecord] = []
        var parent = newRecord(id: id, definition: definition, queue: queue.name, waitsFor: parentWaits)
        records.append(parent)
        plans[id] = Plan(definition: definition, waitsFor: parentWaits, queue: queueIndex)
        if let arraySize {
            var children: [String] = []
            for index in 0..<arraySize {
                var waits = parentWaits
                for dependency in dependsOn where dependency.type == .nToN {
                    let other = plans[dependency.jobId]?.children ?? []
                    guard other.count == arraySize else {
                        throw InputError(
                            field: "--depends-on", value: "\(dependency.jobId):N_TO_N",
                            allowed: "an array job of the same size (\(arraySize))")
                    }
                    waits.append(other[index])
                }
                if sequential && index > 0 { waits.append(children[index - 1]) }
                let childID = "\(id):\(index)"
                var child = newRecord(id: childID, definition: definition, queue: queue.name, waitsFor: waits)
                child.arrayParentID = id
                child.arrayIndex = index
                records.append(kept[childID] ?? child)
                plans[childID] = Plan(definition: definition, waitsFor: waits, queue: queueIndex)
                children.append(childID)
            }
            plans[id]!.children = children
            // The parent does not run: it ends when its children end.
            plans[id]!.waitsFor = []
            parent.dependsOn = parentWaits
        }
        if let finished = kept[id] { records[0] = finished }
        for record in records { jobs[record.id] = record }
        order.append(contentsOf: records.map(\.id))
        let graph = Dictionary(uniqueKeysWithValues: plans.map { ($0.key, $0.value.waitsFor) })
        if let cycle = dependencyCycle(graph) {
            for record in records {
                jobs[record.id] = nil
                plans[record.id] = nil
            }
            order.removeLast(records.count)
            throw InputError(field: "--depends-on", value: cycle.joined(separator: " → "), allowed: "dependencies without a cycle")
        }
        record(records.filter { kept[$0.id] == nil })
        if isRunning { admit(records.map(\.id)) }
        return id
    }

    /// The index in `queues` of the queue named `name` (nil: the highest-priority queue).
    /// - Throws: `InputError` naming `--queue` and the queues there are.
    private func queueIndex(_ name: String?) throws(InputError) -> Int {
        guard let name else { return 0 }
        if let index = queues.firstIndex(where: { $0.name == name }) { return index }
        throw InputError(field: "--queue", value: name, allowed: "one of " + queues.map(\.name).joined(separator: ", "))
    }

    private func newRecord(id: String, definition: JobDefinition, queue: String, waitsFor: [String]) -> JobRecord {
        JobRecord(
            id: id, runID: runID, itemKey: id, name: definition.name, queue: queue, dependsOn: waitsFor,
            vcpus: definition.resources.vcpus, memoryMiB: definition.resources.memoryMiB,
            gpus: definition.resources.gpus, logPath: URL(fileURLWithPath: outputRoot).appendingPathComponent(id).path)
    }

    /// Registers jobs of an earlier submission, already final, so that new jobs can depend on them.
    public func adopt(_ records: [JobRecord]) {
        for record in records where jobs[record.id] == nil {
            jobs[record.id] = record
            plans[record.id] = Plan(
                definition: JobDefinition(
                    name: record.name, argv: [], resources: try! ResourceRequirements(vcpus: max(0.25, record.vcpus), memoryMiB: max(4, record.memoryMiB), gpus: record.gpus),
                    retryStrategy: try! RetryStrategy()),
                waitsFor: [])
            if let parent = record.arrayParentID { plans[parent]?.children.append(record.id) }
        }
    }

    /// Runs every submitted job to SUCCEEDED or FAILED. A job submitted meanwhile is admitted at once and
    /// considered at the next scheduling point (when a running attempt ends).
    /// - Returns: the final records, in submission order.
    public func runUntilDone() async -> [JobRecord] {
        isRunning = true
        defer { isRunning = false }
        admit(order)
        // Array parents whose children all ended before a resume end now.
        for id in order where !(plans[id]?.children.isEmpty ?? true) && !jobs[id]!.state.isFinal {
            if let last = plans[id]!.children.last(where: { jobs[$0]!.state.isFinal }) { settle(last) }
        }
        await withTaskGroup(of: Outcome.self) { group in
            var running = 0
            while true {
                while let (jobID, environment, gpus) = nextPlacement() {
                    running += 1
                    let attempt = start(jobID, environment: environment, gpus: gpus)
                    group.addTask { await attempt() }
                }
                guard running > 0, let outcome = await group.next() else { break }
                running -= 1
                finish(outcome)
            }
        }
        // Whatever could never start (its dependencies failed earlier) has been failed by `finish`.
        endEpisodes()
        flush()
        return order.compactMap { jobs[$0] }
    }

    // MARK: State changes

    /// SUBMITTED → PENDING (unmet dependencies) or RUNNABLE; array parents → PENDING.
    private func admit(_ ids: [String]) {
        var changed: [JobRecord] = []
        for id in ids where jobs[id]!.state == .submitted {
            let plan = plans[id]!
            if !plan.children.isEmpty {
                jobs[id]!.enter(.pending)
                changed.append(jobs[id]!)
                continue
            }
            var waiting = 0
            for dependency in plan.waitsFor {
                let state = jobs[dependency]?.state
                if state == .failed {
                    waiting = -1
                    break
                }
                if state != .succeeded {
                    waiting += 1
                    dependents[dependency, default: []].append(id)
                }
            }
            if waiting < 0 {
                jobs[id]!.enter(.failed, reason: StatusReason.dependencyFailed)
            } else if waiting > 0 {
                unmet[id] = waiting
                jobs[id]!.enter(.pending)
            } else {
                jobs[id]!.enter(.runnable)
                enqueue(id)
            }
            changed.append(jobs[id]!)
        }
        record(changed)
    }

    /// Puts a RUNNABLE job at the end of its queue's line (or of its share's line in a fair-share queue).
    private func enqueue(_ id: String) {
        let queue = plans[id]!.queue
        admissions += 1
        guard queues[queue].fairShare != nil else { return runnable[queue].append(id, sequence: admissions) }
        shareLines[queue][plans[id]!.definition.shareIdentifier ?? "", default: Line()]
            .append(id, sequence: admissions)
    }

    /// The next RUNNABLE job that fits somewhere now, with its placement: by queue priority; in a FIFO queue
    /// its head (which blocks the queue when it does not fit), in a fair-share queue the first share's head
    /// that fits, shares in order of usage × weight factor.
    private func nextPlacement() -> (String, Int, [Int])? {
        for queue in queues.indices {
            if let policy = queues[queue].fairShare {
                let now = Date()
                let offers = shareLines[queue].compactMap { share, line -> (String, String, Double, Int)? in
                    guard let head = line.first else { return nil }
                    return (share, head.id, shareUsage(queue, share, at: now, policy) * policy.weight(share), head.sequence)
                }.sorted { ($0.2, $0.3) < ($1.2, $1.3) }
                for (share, id, _, _) in offers {
                    guard let (environment, gpus) = place(id, queue: queue) else { continue }
                    shareLines[queue][share]!.removeFirst()
                    fairShareRunning[id] = (queue, share, plans[id]!.definition.resources.vcpus, now)
                    return (id, environment, gpus)
                }
                continue
            }
            guard let id = runnable[queue].first?.id else { continue }
            guard let (environment, gpus) = place(id, queue: queue) else {
                // FIFO: this queue's head waits for capacity, and so does everything behind it in this queue.
                continue
            }
            runnable[queue].removeFirst()
            return (id, environment, gpus)
        }
        return nil
    }

    /// Places `id` into the first of its queue's environments with room, taking the capacity; nil when none has.
    private func place(_ id: String, queue: Int) -> (Int, [Int])? {
        let resources = plans[id]!.definition.resources
        for index in queueEnvironments[queue] {
            let environment = environments[index]
            let use = usage[index]
            guard use.vcpus + resources.vcpus <= environment.maxVCPUs + 1e-9
                && use.memoryMiB + resources.memoryMiB <= environment.memoryMiB
                && resources.gpus <= use.freeGPUs.count
            else { continue }
            modelProvisioning(id, environment: index)
            usage[index].vcpus += resources.vcpus
            usage[index].memoryMiB += resources.memoryMiB
            usage[index].running += 1
            let gpus = Array(usage[index].freeGPUs.prefix(resources.gpus))
            usage[index].freeGPUs.removeFirst(resources.gpus)
            return (index, gpus)
        }
        return nil
    }

    /// A share's usage in vCPU-seconds at `now`: its finished attempts' usage decayed by e^(−age/decay), plus
    /// its running attempts' vCPUs × elapsed time (and a microsecond's worth each, so that a share already
    /// running loses a tie to one that is not).
    private func shareUsage(_ queue: Int, _ share: String, at now: Date, _ policy: FairSharePolicy) -> Double {
        var total = 0.0
        if let past = shareUsage[queue][share] {
            total = past.vcpuSeconds * exp(-now.timeIntervalSince(past.at) / policy.decaySeconds)
        }
        for attempt in fairShareRunning.values where attempt.queue == queue && attempt.share == share {
            total += attempt.vcpus * (max(0, now.timeIntervalSince(attempt.start)) + 1e-6)
        }
        return total
    }

    /// Moves a finished attempt's vCPU-seconds into its share's decayed usage.
    private func chargeShare(_ id: String) {
        guard let attempt = fairShareRunning.removeValue(forKey: id),
            let policy = queues[attempt.queue].fairShare
        else { return }
        let now = Date()
        var past = shareUsage[attempt.queue][attempt.share] ?? (0, now)
        past.vcpuSeconds *= exp(-now.timeIntervalSince(past.at) / policy.decaySeconds)
        past.vcpuSeconds += attempt.vcpus * now.timeIntervalSince(attempt.start)
        past.at = now
        shareUsage[attempt.queue][attempt.share] = past
    }

    /// Models (records, never sleeps) the provisioning of environment `index` for job `id` about to be
    /// placed there: after an idle gap longer than `idleTeardownSeconds` its capacity above `minVCPUs`
    /// was torn down; a job that needs capacity above `minVCPUs` while none is provisioned waits
    /// `provisioningSeconds` (modeled).
    private func modelProvisioning(_ id: String, environment index: Int) {
        let environment = environments[index]
        if usage[index].provisioned, let idle = environment.idleTeardownSeconds, let since = usage[index].idleSince,
            Date().timeIntervalSince(since) > idle
        {
            endEpisode(index, teardownAt: since.addingTimeInterval(idle))
        }
        usage[index].idleSince = nil
        let vcpus = plans[id]!.definition.resources.vcpus
        if !usage[index].provisioned && usage[index].vcpus + vcpus > environment.minVCPUs + 1e-9 {
            usage[index].provisioned = true
            usage[index].episodes += 1
            let seconds = environment.provisioningSeconds > 0 ? environment.provisioningSeconds : nil
            if let seconds {
                modeledProvisioning[environment.name, default: 0] += seconds
                jobs[id]!.modeledProvisioningSeconds = (jobs[id]!.modeledProvisioningSeconds ?? 0) + seconds
            }
            let episode = EnvironmentRecord(
                id: "\(runID)/\(environment.name)/\(usage[index].episodes)", runID: runID, kind: .compute,
                name: environment.name, modeledProvisioningSeconds: seconds)
            usage[index].episode = episode
            recordEnvironment(episode)
        }
        usage[index].episode?.invocationsServed += 1
    }

    /// Ends environment `index`'s provisioning episode, modeled as torn down at `teardownAt` (nil: held
    /// to the end of the run, as with no `idleTeardownSeconds`).
    private func endEpisode(_ index: Int, teardownAt: Date?) {
        usage[index].provisioned = false
        guard var episode = usage[index].episode else { return }
        usage[index].episode = nil
        episode.modeledTeardownAt = teardownAt
        if let teardownAt {
            modeledTeardowns.append(ModeledTeardown(environment: environments[index].name, at: teardownAt))
        }
        recordEnvironment(episode)
    }

    /// At the end of a run: every environment still provisioned is modeled as torn down once idle.
    private func endEpisodes() {
        for index in usage.indices where usage[index].provisioned {
            let idle = environments[index].idleTeardownSeconds
            let since = usage[index].idleSince
            endEpisode(index, teardownAt: idle.flatMap { idle in since.map { $0.addingTimeInterval(idle) } })
        }
    }

    /// Stores a compute environment's episode (rare: one write when it starts and one when it ends).
    private func recordEnvironment(_ episode: EnvironmentRecord) {
        guard !runID.isEmpty else { return }
        do {
            try store?.record(episode)
        } catch {
            warnings.append("the store refused compute environment record \(episode.id): \(error)")
        }
    }

    /// STARTING → RUNNING, and the attempt as a closure for a child task.
    private func start(_ id: String, environment: Int, gpus: [Int]) -> @Sendable () async -> Outcome {
        jobs[id]!.environmentID = environments[environment].name
        jobs[id]!.enter(.starting)
        record([jobs[id]!])
        let job = jobs[id]!
        let definition = plans[id]!.definition
        // Plain paths and mkdir: URLs stat the file system to tell files from folders, per job.
        let directory = outputRootPath + "/" + id
        let output = directory + "/output"
        if !((mkdir(directory, 0o777) == 0 || errno == EEXIST) && (mkdir(output, 0o777) == 0 || errno == EEXIST)) {
            try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        }
        // As root the job runs as a uid of its own (see SandboxUser), which owns its output folder; the job's
        // folder (its logs) can be passed through while it runs, and is closed again when it ends.
        let lease: SandboxUser.Lease?
        do {
            lease = try SandboxUser.lease()
            if let user = lease?.user {
                try user.own(output)
                if job.attempt > 1 { user.ownContents(of: output) }
                chmod(outputRootPath, 0o711)
                chmod(directory, 0o711)
            }
        } catch {
            jobs[id]!.enter(.running)
            record([jobs[id]!])
            let failure = "\(error)"
            return { Outcome(jobID: id, environment: environment, gpus: gpus, failure: failure) }
        }
        let index = job.arrayIndex
        func expand(_ text: String) -> String {
            text.replacingOccurrences(of: "{index}", with: index.map(String.init) ?? "0")
                .replacingOccurrences(of: "{attempt}", with: "\(job.attempt)")
                .replacingOccurrences(of: "{gpu}", with: gpus.first.map(String.init) ?? "")
        }
        var environmentVariables = baseEnvironment
        for (key, value) in definition.environment { environmentVariables[key] = value }
        environmentVariables["AWS_BATCH_JOB_ID"] = id
        environmentVariables["AWS_BATCH_JOB_ATTEMPT"] = "\(job.attempt)"
        environmentVariables["AWS_BATCH_JQ_NAME"] = queues[plans[id]!.queue].name
        environmentVariables["AWS_BATCH_CE_NAME"] = environments[environment].name
        environmentVariables["AWS_BATCH_JOB_OUTPUT_DIR"] = output
        if let index { environmentVariables["AWS_BATCH_JOB_ARRAY_INDEX"] = "\(index)" }
        if let parent = job.arrayParentID, let size = plans[parent]?.children.count {
            environmentVariables["AWS_BATCH_JOB_ARRAY_SIZE"] = "\(size)"
        }
        // GPU pinning: the job is given its devices' OpenCL indices (`opencl:N`). CUDA_VISIBLE_DEVICES is
        // not set: CUDA numbers devices differently, and setting it to an OpenCL index hides the GPU
        // from NVIDIA's OpenCL driver (seen on an H200: index 1 there is CUDA's nonexistent second GPU).
        environmentVariables["CAPSIZE_GPU_DEVICES"] = gpus.map(String.init).joined(separator: ",")
        if gpus.isEmpty { environmentVariables["CAPSIZE_HIDE_GPUS"] = "1" }
        var limits = SandboxLimits(
            wallSeconds: definition.timeoutSeconds, timeoutMode: .terminateThenKill(grace: terminateGrace),
            memoryBytes: UInt64(definition.resources.memoryMiB) << 20,
            threads: max(1, Int(definition.resources.vcpus.rounded(.up))),
            cpuShare: governsCPUShare ? definition.resources.vcpus : nil)
        limits.privateSharedMemory = true  // a container's /dev/shm is its own and counts as its memory
        let argv = definition.argv.map(expand)
        let stdin = definition.stdin.map { Data(expand($0).utf8) }
        jobs[id]!.enter(.running)
        record([jobs[id]!])
        let sandbox = self.sandbox
        let variables = environmentVariables
        let jobLimits = limits
        return {
            do {
                defer {
                    if lease != nil { chmod(directory, 0o700) }
                    lease?.release()
                }
                let result = try await sandbox.run(
                    argv, environment: variables, limits: jobLimits, stdin: stdin, workingDirectory: output,
                    user: lease?.user)
                let log = URL(fileURLWithPath: directory + "/attempt-\(job.attempt).log", isDirectory: false)
                var text = result.stdout.data
                if !result.stderr.data.isEmpty { text += Data("\n--- stderr ---\n".utf8) + result.stderr.data }
                try? text.write(to: log)
                return Outcome(jobID: id, environment: environment, gpus: gpus, result: result)
            } catch {
                return Outcome(jobID: id, environment: environment, gpus: gpus, failure: "\(error)")
            }
        }
    }

    /// RUNNING → SUCCEEDED, FAILED, or RUNNABLE again (a retry); releases capacity and wakes dependents.
    private func finish(_ outcome: Outcome) {
        let id = outcome.jobID
        let resources = plans[id]!.definition.resources
        usage[outcome.environment].vcpus -= resources.vcpus
        usage[outcome.environment].memoryMiB -= resources.memoryMiB
        usage[outcome.environment].freeGPUs.append(contentsOf: outcome.gpus)
        usage[outcome.environment].freeGPUs.sort()
        usage[outcome.environment].running -= 1
        if usage[outcome.environment].running == 0 { usage[outcome.environment].idleSince = Date() }
        chargeShare(id)

        let (succeeded, exitCode, statusReason, reason) = judge(outcome, definition: plans[id]!.definition)
        jobs[id]!.exitCode = exitCode.map(Int.init)
        jobs[id]!.reason = reason
        if let result = outcome.result {
            jobs[id]!.wallSeconds = result.wallSeconds
            jobs[id]!.userSeconds = result.userSeconds
            jobs[id]!.systemSeconds = result.systemSeconds
            jobs[id]!.peakRSSBytes = Int64(clamping: result.peakRSSBytes)
        }
        if succeeded {
            jobs[id]!.enter(.succeeded, reason: statusReason)
        } else if plans[id]!.definition.retryStrategy.shouldRetry(
            attempt: jobs[id]!.attempt, exitCode: exitCode, reason: reason, statusReason: statusReason)
        {
            jobs[id]!.statusReason = statusReason
            jobs[id]!.attempt += 1
            jobs[id]!.enter(.runnable)
            enqueue(id)
            record([jobs[id]!])
            return
        } else {
            jobs[id]!.enter(.failed, reason: statusReason)
        }
        record([jobs[id]!])
        settle(id)
    }

    /// Whether an attempt succeeded, its exit code, Batch's status reason and the container's reason, as Batch
    /// reports them (docs/aws-reference.md): `Essential container in task exited` whenever the container exited,
    /// SUCCEEDED or not; a memory kill is exit code 137 with the container reason `OutOfMemoryError: ...`.
    private func judge(_ outcome: Outcome, definition: JobDefinition) -> (Bool, Int32?, String?, String?) {
        guard let result = outcome.result else {
            let text = "CannotStartContainerError: \(outcome.failure ?? "")"
            return (false, nil, text, text)
        }
        let exitCode = result.exitCode ?? result.signal.map { 128 + $0 }
        switch result.reason {
        case .completed:
            if definition.workerReplies, WorkerReply.lastAnswer(in: result.stdout.text)?.status != .success {
                return (false, 1, StatusReason.essentialContainerExited, nil)
            }
            return (true, 0, StatusReason.essentialContainerExited, nil)
        case .timeout: return (false, exitCode, StatusReason.timeout, nil)
        case .outOfMemory:
            return (false, StatusReason.outOfMemoryExitCode, StatusReason.essentialContainerExited, StatusReason.outOfMemory)
        case .error, .crash, .storageExceeded:
            return (false, exitCode, StatusReason.essentialContainerExited, nil)
        }
    }

    /// After `id` ends: its dependents may become RUNNABLE (or fail), and its array parent may end.
    private func settle(_ id: String) {
        var work = [id]
        var changed: [JobRecord] = []
        while let done = work.popLast() {
            let failed = jobs[done]!.state == .failed
            for dependent in dependents.removeValue(forKey: done) ?? [] where jobs[dependent]!.state == .pending {
                if failed {
                    jobs[dependent]!.enter(.failed, reason: StatusReason.dependencyFailed)
                    changed.append(jobs[dependent]!)
                    work.append(dependent)
                    continue
                }
                unmet[dependent]! -= 1
                if unmet[dependent] == 0 {
                    jobs[dependent]!.enter(.runnable)
                    enqueue(dependent)
                    changed.append(jobs[dependent]!)
                }
            }
            if let parent = jobs[done]!.arrayParentID, !jobs[parent]!.state.isFinal {
                let children = plans[parent]!.children
                let left = (unfinishedChildren[parent] ?? children.filter { !jobs[$0]!.state.isFinal }.count + 1) - 1
                unfinishedChildren[parent] = left
                if left == 0 {
                    let anyFailed = children.contains { jobs[$0]!.state == .failed }
                    jobs[parent]!.enter(anyFailed ? .failed : .succeeded, reason: anyFailed ? StatusReason.arrayChildFailed : nil)
                    changed.append(jobs[parent]!)
                    work.append(parent)
                }
            }
        }
        record(changed)
    }

    /// Intermediate states waiting to be written, newest per job.
    private var unwritten: [String: JobRecord] = [:]

    /// Hands state changes to observers and the store. A final state (SUCCEEDED, FAILED) is committed at
    /// once, together with every intermediate state waiting; intermediate states alone are written in
    /// batches of 256, so a kill -9 can lose a RUNNABLE or RUNNING stamp but never a finished job.
    private func record(_ records: [JobRecord]) {
        guard !records.isEmpty else { return }
        for observer in observers { for record in records { observer(record) } }
        for record in records { unwritten[record.id] = record }
        if records.contains(where: \.state.isFinal) || unwritten.count >= 256 { flush() }
    }

    /// Commits every waiting state change in one transaction.
    private func flush() {
        guard !unwritten.isEmpty else { return }
        do {
            try store?.record(Array(unwritten.values))
            unwritten.removeAll(keepingCapacity: true)
        } catch {
            warnings.append("the store refused \(unwritten.count) job record(s): \(error)")
        }
    }
}
