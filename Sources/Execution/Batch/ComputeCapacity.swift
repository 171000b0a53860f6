import CloudModel
public import Foundation
import Store

/// A modeled teardown: the environment's capacity above `minVCPUs` would have been released at `at`.
public struct ModeledTeardown: Sendable, Equatable, Codable {
    public var environment: String
    public var at: Date
}

/// The compute environments' capacity in use (vCPUs, memory, GPU devices) and their modeled provisioning.
///
/// Provisioning and teardown are **modeled** (recorded, never slept, never in measured times): capacity up to
/// `minVCPUs` is always provisioned; a job that needs more while the environment is not provisioned gets a modeled
/// delay of `provisioningSeconds`, and an environment idle (no job running) for longer than `idleTeardownSeconds` of
/// measured wall time is modeled as torn down back to `minVCPUs`. Each provisioning is an episode, an
/// `EnvironmentRecord` handed out to be stored when it starts and when it ends.
struct ComputeCapacity {
    /// Where a job was placed: the environment's index and the GPU devices it holds.
    struct Placement: Sendable {
        var environment: Int
        var gpus: [Int]
        /// The modeled provisioning the job waited for, seconds (nil: none).
        var provisioningSeconds: Double?
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

    /// The compute environments the queues share, each once (by name).
    let environments: [ComputeEnvironment]
    /// For each queue, the indices in `environments` of its ordered compute environments.
    let queueEnvironments: [[Int]]
    let runID: String
    private var usage: [Usage]
    /// Modeled provisioning seconds per environment, summed over its provisionings (not slept).
    private(set) var modeledProvisioning: [String: Double] = [:]
    /// Modeled teardowns, in order (an environment idle past its `idleTeardownSeconds`, or at the run's end).
    private(set) var modeledTeardowns: [ModeledTeardown] = []
    /// Episodes started or ended and not yet taken by `takeEpisodes`, in order.
    private var episodesToRecord: [EnvironmentRecord] = []

    /// - Parameter queues: highest priority first; environments with the same name are one environment (the first
    ///   definition counts; `BatchConfiguration` refuses different definitions under one name).
    init(queues: [JobQueue], runID: String) {
        var environments: [ComputeEnvironment] = []
        var indices: [String: Int] = [:]
        queueEnvironments = queues.map { queue in
            queue.environments.map { environment in
                if let index = indices[environment.name] { return index }
                environments.append(environment)
                indices[environment.name] = environments.count - 1
                return environments.count - 1
            }
        }
        self.environments = environments
        self.runID = runID
        usage = environments.map { Usage(freeGPUs: $0.gpuDevices) }
    }

    /// Places a job needing `resources` into the first of queue `queue`'s environments with room, taking the
    /// capacity and modeling its provisioning; nil when none has room.
    mutating func place(_ resources: ResourceRequirements, queue: Int) -> Placement? {
        for index in queueEnvironments[queue] {
            let environment = environments[index]
            let use = usage[index]
            guard
                use.vcpus + resources.vcpus <= environment.maxVCPUs + 1e-9
                    && use.memoryMiB + resources.memoryMiB <= environment.memoryMiB
                    && resources.gpus <= use.freeGPUs.count
            else { continue }
            let provisioning = modelProvisioning(vcpus: resources.vcpus, environment: index)
            usage[index].vcpus += resources.vcpus
            usage[index].memoryMiB += resources.memoryMiB
            usage[index].running += 1
            let gpus = Array(usage[index].freeGPUs.prefix(resources.gpus))
            usage[index].freeGPUs.removeFirst(resources.gpus)
            return Placement(environment: index, gpus: gpus, provisioningSeconds: provisioning)
        }
        return nil
    }

    /// Gives back what a job placed in `environment` held; the environment is idle from now when it was the last.
    mutating func release(_ resources: ResourceRequirements, environment: Int, gpus: [Int]) {
        usage[environment].vcpus -= resources.vcpus
        usage[environment].memoryMiB -= resources.memoryMiB
        usage[environment].freeGPUs.append(contentsOf: gpus)
        usage[environment].freeGPUs.sort()
        usage[environment].running -= 1
        if usage[environment].running == 0 { usage[environment].idleSince = Date() }
    }

    /// The episodes to store since the last call, in order (rare: one when an environment is provisioned, one when
    /// it is torn down).
    mutating func takeEpisodes() -> [EnvironmentRecord] {
        defer { episodesToRecord.removeAll() }
        return episodesToRecord
    }

    /// At the end of a run: every environment still provisioned is modeled as torn down once idle.
    mutating func endEpisodes() {
        for index in usage.indices where usage[index].provisioned {
            let idle = environments[index].idleTeardownSeconds
            let since = usage[index].idleSince
            endEpisode(index, teardownAt: idle.flatMap { idle in since.map { $0.addingTimeInterval(idle) } })
        }
    }

    /// Models (records, never sleeps) the provisioning of environment `index` for a job of `vcpus` about to be
    /// placed there: after an idle gap longer than `idleTeardownSeconds` its capacity above `minVCPUs` was torn
    /// down; a job that needs capacity above `minVCPUs` while none is provisioned waits `provisioningSeconds`
    /// (modeled). - Returns: the job's modeled wait, if any.
    private mutating func modelProvisioning(vcpus: Double, environment index: Int) -> Double? {
        let environment = environments[index]
        if usage[index].provisioned, let idle = environment.idleTeardownSeconds, let since = usage[index].idleSince,
            Date().timeIntervalSince(since) > idle
        {
            endEpisode(index, teardownAt: since.addingTimeInterval(idle))
        }
        usage[index].idleSince = nil
        var wait: Double?
        if !usage[index].provisioned && usage[index].vcpus + vcpus > environment.minVCPUs + 1e-9 {
            usage[index].provisioned = true
            usage[index].episodes += 1
            let seconds = environment.provisioningSeconds > 0 ? environment.provisioningSeconds : nil
            if let seconds {
                modeledProvisioning[environment.name, default: 0] += seconds
                wait = seconds
            }
            let episode = EnvironmentRecord(
                id: "\(runID)/\(environment.name)/\(usage[index].episodes)", runID: runID, kind: .compute,
                name: environment.name, modeledProvisioningSeconds: seconds)
            usage[index].episode = episode
            episodesToRecord.append(episode)
        }
        usage[index].episode?.invocationsServed += 1
        return wait
    }

    /// Ends environment `index`'s provisioning episode, modeled as torn down at `teardownAt` (nil: held
    /// to the end of the run, as with no `idleTeardownSeconds`).
    private mutating func endEpisode(_ index: Int, teardownAt: Date?) {
        usage[index].provisioned = false
        guard var episode = usage[index].episode else { return }
        usage[index].episode = nil
        episode.modeledTeardownAt = teardownAt
        if let teardownAt {
            modeledTeardowns.append(ModeledTeardown(environment: environments[index].name, at: teardownAt))
        }
        episodesToRecord.append(episode)
    }
}
