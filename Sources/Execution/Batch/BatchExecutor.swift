public import CapsizeCore
public import CloudModel
import Foundation
public import Store

/// The Batch model on the local machine: jobs are submitted to a queue, wait for their
/// dependencies (PENDING) and for capacity (RUNNABLE), are placed into a compute environment
/// (STARTING), run in the sandbox (RUNNING) and end SUCCEEDED or FAILED, with retries by the
/// job's retry strategy. Every state change is recorded in the store as it happens.
public actor BatchExecutor {
    /// One job's plan: its definition, array place and what it waits for.
    struct Plan {
        var definition: JobDefinition
        var waitsFor: [String]
        var children: [String] = []
    }

    /// Capacity in use in one compute environment.
    struct Usage {
        var vcpus = 0.0
        var memoryMiB = 0
        var freeGPUs: [Int]
        var provisioned = false
    }

    /// How one attempt ended.
    struct Outcome: Sendable {
        var jobID: String
        var environment: Int
        var gpus: [Int]
        var result: SandboxResult?
        var failure: String?
    }

    public let queue: JobQueue
    public let runID: String
    let sandbox: Sandbox
    let store: CapsizeStore?
    let outputRoot: String
    let terminateGrace: Double
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
    private var runnable: [String] = []
    private var runnableHead = 0
    private var usage: [Usage]
    private var observers: [@Sendable (JobRecord) -> Void] = []
    /// Modeled provisioning seconds per environment that had to provision (not slept).
    public private(set) var modeledProvisioning: [String: Double] = [:]
    public private(set) var warnings: [String] = []

    /// - Parameters:
    ///   - outputRoot: each job gets `outputRoot/<job id>/` for its logs and an `output/` folder
    ///     (`AWS_BATCH_JOB_OUTPUT_DIR`, the stand-in for S3).
    ///   - terminateGrace: seconds between SIGTERM and SIGKILL at a timeout (Batch: 30).
    public init(
        queue: JobQueue, runID: String, sandbox: Sandbox, store: CapsizeStore?, outputRoot: String,
        terminateGrace: Double = 30
    ) {
        self.queue = queue
        self.runID = runID
        self.sandbox = sandbox.withLaunchServer()  // one resident launcher forks every job
        self.store = store
        self.outputRoot = outputRoot
        self.terminateGrace = terminateGrace
        let rootPath = URL(fileURLWithPath: outputRoot).path
        self.outputRootPath = rootPath.hasSuffix("/") ? String(rootPath.dropLast()) : rootPath
        self.baseEnvironment = launchEnvironment()
        usage = queue.environments.map { Usage(freeGPUs: $0.gpuDevices) }
    }

    /// Calls `observer` with every state change, in order.
    public func observe(_ observer: @escaping @Sendable (JobRecord) -> Void) { observers.append(observer) }

    /// Submits a job (or an array of `arraySize` children).
    /// - Parameters:
    ///   - dependsOn: jobs this one waits for; `N_TO_N` pairs array children by index.
    ///   - sequential: array children run one after another (an array's SEQUENTIAL dependency on itself).
    /// - Returns: the job id (the array parent's for arrays).
    /// - Throws: `InputError` for an array size out of 2...10000, more than 20 dependencies, an unknown
    ///   job id, a dependency cycle, or resources no compute environment can ever hold.
    ///   - previous: the records of this submission from an interrupted run (`--resume`): the same ids
    ///     are used, jobs already SUCCEEDED or FAILED are kept as they are, the rest run again.
    @discardableResult
    public func submit(
        _ definition: JobDefinition, arraySize: Int? = nil, dependsOn: [JobDependency] = [], sequential: Bool = false,
        previous: [JobRecord] = []
    ) throws(InputError) -> String {
        if let arraySize { try BatchLimits.checkArraySize(arraySize) }
        try BatchLimits.checkDependencies(dependsOn, known: Set(jobs.keys))
        try queue.checkCanEverFit(definition.resources)
        if let timeout = definition.timeoutSeconds, let warning = try BatchLimits.timeoutWarning(timeout) {
            warnings.append("\(definition.name): \(warning)")
        }
        let id = previous.first { $0.arrayParentID == nil }?.id ?? UUID().uuidString.lowercased()
        let kept = Dictionary(previous.filter(\.state.isFinal).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let parentWaits = dependsOn.filter { $0.type != .nToN }.map(\.jobId)
        var records: [JobRecord] = []
        var parent = newRecord(id: id, definition: definition, waitsFor: parentWaits)
        records.append(parent)
        plans[id] = Plan(definition: definition, waitsFor: parentWaits)
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
                var child = newRecord(id: childID, definition: definition, waitsFor: waits)
                child.arrayParentID = id
                child.arrayIndex = index
                records.append(kept[childID] ?? child)
                plans[childID] = Plan(definition: definition, waitsFor: waits)
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
        return id
    }

    private func newRecord(id: String, definition: JobDefinition, waitsFor: [String]) -> JobRecord {
        JobRecord(
            id: id, runID: runID, itemKey: id, name: definition.name, queue: queue.name, dependsOn: waitsFor,
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

    /// Runs every submitted job to SUCCEEDED or FAILED.
    /// - Returns: the final records, in submission order.
    public func runUntilDone() async -> [JobRecord] {
        admitSubmitted()
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
        flush()
        return order.compactMap { jobs[$0] }
    }

    // MARK: State changes

    /// SUBMITTED → PENDING (unmet dependencies) or RUNNABLE; array parents → PENDING.
    private func admitSubmitted() {
        var changed: [JobRecord] = []
        for id in order where jobs[id]!.state == .submitted {
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
                runnable.append(id)
            }
            changed.append(jobs[id]!)
        }
        record(changed)
    }

    /// The next RUNNABLE job (first in, first out) that fits somewhere now, with its placement.
    private func nextPlacement() -> (String, Int, [Int])? {
        guard runnableHead < runnable.count else { return nil }
        let id = runnable[runnableHead]
        let resources = plans[id]!.definition.resources
        for (index, environment) in queue.environments.enumerated() where environment.canEverFit(resources) {
            let use = usage[index]
            if use.vcpus + resources.vcpus <= environment.maxVCPUs + 1e-9
                && use.memoryMiB + resources.memoryMiB <= environment.memoryMiB
                && resources.gpus <= use.freeGPUs.count
            {
                runnableHead += 1
                if runnableHead > 4096 {
                    runnable.removeFirst(runnableHead)
                    runnableHead = 0
                }
                usage[index].vcpus += resources.vcpus
                usage[index].memoryMiB += resources.memoryMiB
                let gpus = Array(usage[index].freeGPUs.prefix(resources.gpus))
                usage[index].freeGPUs.removeFirst(resources.gpus)
                if !usage[index].provisioned {
                    usage[index].provisioned = true
                    if environment.provisioningSeconds > 0 {
                        modeledProvisioning[environment.name] = environment.provisioningSeconds
                    }
                }
                return (id, index, gpus)
            }
        }
        return nil  // FIFO: the head waits for capacity, and so does everything behind it
    }

    /// STARTING → RUNNING, and the attempt as a closure for a child task.
    private func start(_ id: String, environment: Int, gpus: [Int]) -> @Sendable () async -> Outcome {
        jobs[id]!.environmentID = queue.environments[environment].name
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
        environmentVariables["AWS_BATCH_JQ_NAME"] = queue.name
        environmentVariables["AWS_BATCH_CE_NAME"] = queue.environments[environment].name
        environmentVariables["AWS_BATCH_JOB_OUTPUT_DIR"] = output
        if let index { environmentVariables["AWS_BATCH_JOB_ARRAY_INDEX"] = "\(index)" }
        // GPU pinning: the job is given its devices' OpenCL indices (`opencl:N`). CUDA_VISIBLE_DEVICES is
        // not set: CUDA numbers devices differently, and setting it to an OpenCL index hides the GPU
        // from NVIDIA's OpenCL driver (seen on an H200: index 1 there is CUDA's nonexistent second GPU).
        environmentVariables["CAPSIZE_GPU_DEVICES"] = gpus.map(String.init).joined(separator: ",")
        if gpus.isEmpty { environmentVariables["CAPSIZE_HIDE_GPUS"] = "1" }
        let limits = SandboxLimits(
            wallSeconds: definition.timeoutSeconds, timeoutMode: .terminateThenKill(grace: terminateGrace),
            memoryBytes: UInt64(definition.resources.memoryMiB) << 20,
            threads: max(1, Int(definition.resources.vcpus.rounded(.up))))
        let argv = definition.argv.map(expand)
        let stdin = definition.stdin.map { Data(expand($0).utf8) }
        jobs[id]!.enter(.running)
        record([jobs[id]!])
        let sandbox = self.sandbox
        let variables = environmentVariables
        return {
            do {
                let result = try await sandbox.run(
                    argv, environment: variables, limits: limits, stdin: stdin, workingDirectory: output)
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

        let (succeeded, exitCode, statusReason) = judge(outcome, definition: plans[id]!.definition)
        jobs[id]!.exitCode = exitCode.map(Int.init)
        if succeeded {
            jobs[id]!.enter(.succeeded, reason: nil)
        } else if plans[id]!.definition.retryStrategy.shouldRetry(
            attempt: jobs[id]!.attempt, exitCode: exitCode, reason: outcome.failure, statusReason: statusReason)
        {
            jobs[id]!.statusReason = statusReason
            jobs[id]!.attempt += 1
            jobs[id]!.enter(.runnable)
            runnable.append(id)
            record([jobs[id]!])
            return
        } else {
            jobs[id]!.enter(.failed, reason: statusReason)
        }
        record([jobs[id]!])
        settle(id)
    }

    /// Whether an attempt succeeded, its exit code, and Batch's status reason when it did not.
    private func judge(_ outcome: Outcome, definition: JobDefinition) -> (Bool, Int32?, String?) {
        guard let result = outcome.result else { return (false, nil, "CannotStartContainerError: \(outcome.failure ?? "")") }
        switch result.reason {
        case .completed:
            if definition.workerReplies, Self.workerFailed(result.stdout.text) {
                return (false, 1, StatusReason.essentialContainerExited)
            }
            return (true, 0, nil)
        case .timeout: return (false, result.exitCode, StatusReason.timeout)
        case .outOfMemory: return (false, result.exitCode, StatusReason.outOfMemory)
        case .error, .crash, .storageExceeded:
            return (false, result.exitCode ?? result.signal.map { 128 + $0 }, StatusReason.essentialContainerExited)
        }
    }

    /// Whether the last line a worker wrote reports an error.
    static func workerFailed(_ stdout: String) -> Bool {
        guard let last = stdout.split(separator: "\n").last,
            let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else { return true }
        return object["status"] as? String != "success"
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
                    runnable.append(dependent)
                    changed.append(jobs[dependent]!)
                }
            }
            if let parent = jobs[done]!.arrayParentID, !jobs[parent]!.state.isFinal {
                let children = plans[parent]!.children
                let left = (unfinishedChildren[parent] ?? children.filter { !jobs[$0]!.state.isFinal }.count + 1) - 1
                unfinishedChildren[parent] = left
                if left == 0 {
                    let anyFailed = children.contains { jobs[$0]!.state == .failed }
                    jobs[parent]!.enter(anyFailed ? .failed : .succeeded, reason: anyFailed ? "An array child failed" : nil)
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
