import CapsizeCore
public import CloudModel
import Foundation

/// What a Batch-model job runs: a program, with `{index}` replaced by the array index.
public struct JobDefinition: Sendable {
    public var name: String
    /// The program and its arguments (`{index}` and `{attempt}` are replaced per child and attempt).
    public var argv: [String]
    /// Bytes on the program's stdin (`{index}` replaced), e.g. a worker's invocation event.
    public var stdin: String?
    public var resources: ResourceRequirements
    /// `attemptDurationSeconds`: SIGTERM at the cap, SIGKILL `terminateGrace` later; not retried.
    public var timeoutSeconds: Double?
    public var retryStrategy: RetryStrategy
    public var environment: [String: String]
    /// When true, a zero exit still fails unless the last stdout line is a worker's successful answer
    /// (`WorkerReply.lastAnswer`; workload jobs run through `capsize worker`).
    public var workerReplies: Bool
    /// SubmitJob's `shareIdentifier`: required by a fair-share queue, refused by a FIFO one.
    public var shareIdentifier: String?

    public init(
        name: String, argv: [String], stdin: String? = nil, resources: ResourceRequirements,
        timeoutSeconds: Double? = nil, retryStrategy: RetryStrategy, environment: [String: String] = [:],
        workerReplies: Bool = false, shareIdentifier: String? = nil
    ) {
        self.name = name
        self.argv = argv
        self.stdin = stdin
        self.resources = resources
        self.timeoutSeconds = timeoutSeconds
        self.retryStrategy = retryStrategy
        self.environment = environment
        self.workerReplies = workerReplies
        self.shareIdentifier = shareIdentifier
    }

    /// A job that runs one request through `capsize worker` (`WorkerProtocol`): the request on its stdin, the
    /// worker's OpenCL switch set from `usesOpenCL`, judged by the worker's answer.
    public static func worker(
        name: String, request: WorkerRequest, usesOpenCL: Bool, resources: ResourceRequirements,
        timeoutSeconds: Double?, retryStrategy: RetryStrategy, environment: [String: String] = [:],
        shareIdentifier: String? = nil
    ) -> JobDefinition {
        JobDefinition(
            name: name, argv: WorkerProtocol.command(), stdin: request.line, resources: resources,
            timeoutSeconds: timeoutSeconds, retryStrategy: retryStrategy,
            environment: environment.merging(WorkerProtocol.environment(usesOpenCL: usesOpenCL)) { _, switched in
                switched
            },
            workerReplies: true, shareIdentifier: shareIdentifier)
    }
}

/// A compute environment: a pool of vCPUs, memory and whole GPUs that jobs are placed into.
///
/// Provisioning and teardown are **modeled** (recorded, never slept, never in measured times): capacity up
/// to `minVCPUs` is always provisioned; a job that needs more while the environment is not provisioned gets
/// a modeled delay of `provisioningSeconds`, and an environment idle (no job running) for longer than
/// `idleTeardownSeconds` of measured wall time is modeled as torn down back to `minVCPUs`.
public struct ComputeEnvironment: Sendable, Equatable {
    public var name: String
    /// `minvCpus`: capacity kept provisioned, so jobs within it never wait for provisioning.
    public var minVCPUs: Double
    public var maxVCPUs: Double
    public var memoryMiB: Int
    /// Device indices of the GPUs jobs can be pinned to (OpenCL indices, or configured slots).
    public var gpuDevices: [Int]
    /// Modeled seconds to provision capacity (EC2: 300–900 s; Fargate: 30–90 s).
    public var provisioningSeconds: Double
    /// Modeled idle seconds before capacity above `minVCPUs` is torn down; nil: kept for the whole run.
    public var idleTeardownSeconds: Double?

    public init(
        name: String, minVCPUs: Double = 0, maxVCPUs: Double, memoryMiB: Int, gpuDevices: [Int] = [],
        provisioningSeconds: Double = 0, idleTeardownSeconds: Double? = nil
    ) {
        self.name = name
        self.minVCPUs = minVCPUs
        self.maxVCPUs = maxVCPUs
        self.memoryMiB = memoryMiB
        self.gpuDevices = gpuDevices
        self.provisioningSeconds = provisioningSeconds
        self.idleTeardownSeconds = idleTeardownSeconds
    }

    /// Whether a job with `resources` fits into this environment when it is empty.
    public func canEverFit(_ resources: ResourceRequirements) -> Bool {
        resources.vcpus <= maxVCPUs && resources.memoryMiB <= memoryMiB && resources.gpus <= gpuDevices.count
    }
}

/// AWS Batch's fair-share scheduling policy (`fairsharePolicy`): in a queue with one, the RUNNABLE job that
/// starts next is the head of the share whose recent usage, times its weight factor, is lowest, so shares
/// interleave instead of the first submitter taking the queue. Usage is vCPU-seconds: those of finished jobs,
/// decayed exponentially with `shareDecaySeconds`, plus those of running jobs so far.
public struct FairSharePolicy: Sendable, Equatable {
    public static let decayRange = 0.0...604_800
    public static let weightRange = 0.0001...999.9999
    public static let maxShares = 500
    /// AWS: 0 means the minimum window of 600 s.
    public var shareDecaySeconds: Double
    /// Weight factors by share identifier (default 1). A lower factor gets more: 0.125 gets 8× the compute of 1.
    public var weightFactors: [String: Double]

    public init(shareDecaySeconds: Double = 0, weightFactors: [String: Double] = [:]) {
        self.shareDecaySeconds = shareDecaySeconds
        self.weightFactors = weightFactors
    }

    public func weight(_ share: String) -> Double { weightFactors[share] ?? 1 }

    /// The decay time constant used, seconds.
    public var decaySeconds: Double { shareDecaySeconds > 0 ? shareDecaySeconds : 600 }

    /// AWS's rule for share identifiers: 1-255 letters, digits and underscores.
    public static func isValidShare(_ share: String) -> Bool {
        (1...255).contains(share.count)
            && share.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
            }
    }
}

/// A job queue: a priority (higher first) and up to 3 ordered compute environments, which queues may
/// share; jobs start first in, first out, each in the first of the queue's environments with room, or by
/// fair share when the queue has a `FairSharePolicy`.
public struct JobQueue: Sendable {
    public static let priorities = 0...1000
    public static let maxEnvironments = 3
    public var name: String
    public var priority: Int
    public var environments: [ComputeEnvironment]

    public var fairShare: FairSharePolicy?

    public init(
        name: String = "default", priority: Int = 1, environments: [ComputeEnvironment],
        fairShare: FairSharePolicy? = nil
    ) {
        self.name = name
        self.priority = priority
        self.environments = environments
        self.fairShare = fairShare
    }

    /// A fair-share queue needs every job's share identifier; a FIFO queue takes none (as SubmitJob).
    /// - Throws: `InputError` naming `--share-identifier`.
    func checkShare(_ share: String?) throws(InputError) {
        switch (fairShare, share) {
        case (.some, nil):
            throw InputError(
                setting: "shareIdentifier", value: "",
                allowed: "a share identifier: queue \(name) has a fair-share policy")
        case (nil, .some(let share)):
            throw InputError(
                setting: "shareIdentifier", value: share, allowed: "none: queue \(name) is first in, first out")
        case (.some, .some(let share)) where !FairSharePolicy.isValidShare(share):
            throw InputError(setting: "shareIdentifier", value: share, allowed: "1-255 letters, digits and underscores")
        default: break
        }
    }

    /// Refuses at submit a job no environment can ever hold, rather than leaving it RUNNABLE forever.
    /// - Throws: `InputError` naming the resource and the largest environment's maximum.
    func checkCanEverFit(_ resources: ResourceRequirements) throws(InputError) {
        if environments.contains(where: { $0.canEverFit(resources) }) { return }
        let vcpus = environments.map(\.maxVCPUs).max() ?? 0
        let memory = environments.map(\.memoryMiB).max() ?? 0
        let gpus = environments.map(\.gpuDevices.count).max() ?? 0
        if resources.gpus > gpus {
            throw InputError(
                setting: "gpus", value: "\(resources.gpus)",
                allowed: "at most \(gpus) (the GPUs of queue \(name)'s compute environments; this machine has "
                    + (gpus == 0 ? "no OpenCL GPU)" : "\(gpus))"))
        }
        if resources.vcpus > vcpus {
            throw InputError(
                setting: "vcpus", value: "\(resources.vcpus)", allowed: "at most \(vcpus) (maxvCpus of queue \(name))")
        }
        throw InputError(
            setting: "memory", value: "\(resources.memoryMiB)", allowed: "at most \(memory) MiB (queue \(name))")
    }
}
