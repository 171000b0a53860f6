public import CapsizeCore
import Foundation

/// Job queues and compute environments as a user configures them (`capsize submit --queues FILE`),
/// with fields named as in AWS Batch's CreateJobQueue and CreateComputeEnvironment:
///
/// ```json
/// {
///   "computeEnvironments": [
///     {"computeEnvironmentName": "local", "minvCpus": 0, "maxvCpus": 8, "memoryMiB": 16384, "gpus": 0,
///      "provisioningSeconds": 300, "idleTeardownSeconds": 600}
///   ],
///   "jobQueues": [
///     {"jobQueueName": "high", "priority": 10, "state": "ENABLED",
///      "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "local"}],
///      "fairsharePolicy": {"shareDecaySeconds": 3600,
///                          "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 0.5}]}}
///   ]
/// }
/// ```
public struct BatchConfiguration: Decodable, Sendable {
    public struct Environment: Decodable, Sendable {
        public var computeEnvironmentName: String?
        public var minvCpus: Double?
        public var maxvCpus: Double?
        /// Default: this machine's available memory.
        public var memoryMiB: Int?
        /// Default: every GPU given to `resolve` (OpenCL GPUs or configured slots).
        public var gpus: Int?
        public var provisioningSeconds: Double?
        /// Absent: capacity is kept for the whole run.
        public var idleTeardownSeconds: Double?
    }

    public struct EnvironmentOrder: Decodable, Sendable {
        public var order: Int?
        public var computeEnvironment: String?
    }

    /// A scheduling policy's `fairsharePolicy` (in AWS a separate SchedulingPolicy the queue names; here inline).
    public struct FairShare: Decodable, Sendable {
        public struct Share: Decodable, Sendable {
            public var shareIdentifier: String?
            public var weightFactor: Double?
        }
        public var shareDecaySeconds: Double?
        public var shareDistribution: [Share]?
    }

    public struct Queue: Decodable, Sendable {
        public var jobQueueName: String?
        public var priority: Int?
        public var state: String?
        public var computeEnvironmentOrder: [EnvironmentOrder]?
        /// Absent: first in, first out.
        public var fairsharePolicy: FairShare?
    }

    public var computeEnvironments: [Environment]?
    public var jobQueues: [Queue]?

    /// Reads and decodes a configuration file.
    /// - Throws: `InputError` naming `--queues` for an unreadable file or bad JSON, or the field whose
    ///   value has the wrong type.
    public static func load(path: String) throws(InputError) -> BatchConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(setting: "queues", value: path, allowed: "a readable JSON file")
        }
        do {
            return try JSONDecoder().decode(BatchConfiguration.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) {
            throw InputError(field: fieldName(context.codingPath), value: "a value of another type", allowed: "\(type)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw InputError(field: fieldName(context.codingPath), value: "null", allowed: "\(type)")
        } catch {
            throw InputError(setting: "queues", value: path, allowed: "JSON with computeEnvironments and jobQueues")
        }
    }

    /// `jobQueues[0].priority` for a coding path.
    static func fieldName(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
    }

    /// The queues, validated, over their compute environments.
    /// - Parameters:
    ///   - cores: this machine's logical cores: a `maxvCpus` above them gets a warning (the local pool is
    ///     this machine, so jobs would share cores).
    ///   - memoryMiB: the default `memoryMiB`.
    ///   - gpuDevices: the GPUs environments may be given (`gpus` takes the first ones).
    /// - Returns: the queues and warnings.
    /// - Throws: `InputError` naming the field (e.g. `jobQueues[0].priority`) and the allowed range.
    public func resolve(cores: Int, memoryMiB: Int, gpuDevices: [Int]) throws(InputError) -> (
        queues: [JobQueue], warnings: [String]
    ) {
        var warnings: [String] = []
        var environments: [String: ComputeEnvironment] = [:]
        guard let computeEnvironments, !computeEnvironments.isEmpty else {
            throw InputError(field: "computeEnvironments", value: "none", allowed: "at least one compute environment")
        }
        for (index, entry) in computeEnvironments.enumerated() {
            let field = "computeEnvironments[\(index)]"
            let name = try Self.newName(
                entry.computeEnvironmentName, field: "\(field).computeEnvironmentName",
                taken: environments.keys.contains)
            guard let maxVCPUs = entry.maxvCpus, maxVCPUs.isFinite, maxVCPUs >= 0.25, maxVCPUs <= 4096 else {
                throw InputError(
                    field: "\(field).maxvCpus", value: entry.maxvCpus.map { "\($0)" } ?? "none", allowed: "0.25...4096")
            }
            let minVCPUs = entry.minvCpus ?? 0
            guard minVCPUs.isFinite, minVCPUs >= 0, minVCPUs <= maxVCPUs else {
                throw InputError(
                    field: "\(field).minvCpus", value: "\(minVCPUs)", allowed: "0...maxvCpus (\(maxVCPUs))")
            }
            let memory = entry.memoryMiB ?? memoryMiB
            guard (4...4_194_304).contains(memory) else {
                throw InputError(field: "\(field).memoryMiB", value: "\(memory)", allowed: "4...4194304")
            }
            let gpus = entry.gpus ?? gpuDevices.count
            guard (0...gpuDevices.count).contains(gpus) else {
                throw InputError(
                    field: "\(field).gpus", value: "\(gpus)",
                    allowed:
                        "0...\(gpuDevices.count) (the OpenCL GPUs or \(InputError.mention("gpuSlots")) of this machine)"
                )
            }
            let provisioning = entry.provisioningSeconds ?? 0
            guard provisioning.isFinite, provisioning >= 0, provisioning <= 86_400 else {
                throw InputError(
                    field: "\(field).provisioningSeconds", value: "\(provisioning)", allowed: "0...86400 seconds")
            }
            if let idle = entry.idleTeardownSeconds, !(idle.isFinite && idle >= 0 && idle <= 86_400) {
                throw InputError(field: "\(field).idleTeardownSeconds", value: "\(idle)", allowed: "0...86400 seconds")
            }
            if maxVCPUs > Double(cores) {
                warnings.append(
                    "\(field).maxvCpus \(maxVCPUs) is above this machine's \(cores) cores: jobs placed together "
                        + "will share cores, and measured times will show it")
            }
            environments[name] = ComputeEnvironment(
                name: name, minVCPUs: minVCPUs, maxVCPUs: maxVCPUs, memoryMiB: memory,
                gpuDevices: Array(gpuDevices.prefix(gpus)), provisioningSeconds: provisioning,
                idleTeardownSeconds: entry.idleTeardownSeconds)
        }
        guard let jobQueues, !jobQueues.isEmpty else {
            throw InputError(field: "jobQueues", value: "none", allowed: "at least one job queue")
        }
        var queues: [JobQueue] = []
        for (index, entry) in jobQueues.enumerated() {
            let field = "jobQueues[\(index)]"
            let name = try Self.newName(
                entry.jobQueueName, field: "\(field).jobQueueName",
                taken: { name in queues.contains { $0.name == name } })
            guard let priority = entry.priority, JobQueue.priorities.contains(priority) else {
                throw InputError(
                    field: "\(field).priority", value: entry.priority.map(String.init) ?? "none", allowed: "0...1000")
            }
            guard (entry.state ?? "ENABLED") == "ENABLED" else {
                throw InputError(
                    field: "\(field).state", value: entry.state ?? "",
                    allowed: "ENABLED (DISABLED queues are not modeled)")
            }
            let order = entry.computeEnvironmentOrder ?? []
            guard (1...JobQueue.maxEnvironments).contains(order.count) else {
                throw InputError(
                    field: "\(field).computeEnvironmentOrder", value: "\(order.count) environments",
                    allowed: "1...3 environments")
            }
            var placed: [(Int, ComputeEnvironment)] = []
            for (position, item) in order.enumerated() {
                let itemField = "\(field).computeEnvironmentOrder[\(position)]"
                guard let rank = item.order, rank >= 0, !placed.contains(where: { $0.0 == rank }) else {
                    throw InputError(
                        field: "\(itemField).order", value: item.order.map(String.init) ?? "none",
                        allowed: "a whole number ≥ 0, distinct within the queue")
                }
                guard let environment = item.computeEnvironment.flatMap({ environments[$0] }) else {
                    throw InputError(
                        field: "\(itemField).computeEnvironment", value: item.computeEnvironment ?? "none",
                        allowed: "one of computeEnvironments: " + environments.keys.sorted().joined(separator: ", "))
                }
                placed.append((rank, environment))
            }
            var fairShare: FairSharePolicy?
            if let policy = entry.fairsharePolicy {
                let decay = policy.shareDecaySeconds ?? 0
                guard decay.isFinite, FairSharePolicy.decayRange.contains(decay) else {
                    throw InputError(
                        field: "\(field).fairsharePolicy.shareDecaySeconds", value: "\(decay)",
                        allowed: "0...604800 seconds")
                }
                let shares = policy.shareDistribution ?? []
                guard shares.count <= FairSharePolicy.maxShares else {
                    throw InputError(
                        field: "\(field).fairsharePolicy.shareDistribution", value: "\(shares.count) shares",
                        allowed: "at most \(FairSharePolicy.maxShares)")
                }
                var weights: [String: Double] = [:]
                for (position, share) in shares.enumerated() {
                    let shareField = "\(field).fairsharePolicy.shareDistribution[\(position)]"
                    guard let identifier = share.shareIdentifier, FairSharePolicy.isValidShare(identifier),
                        weights[identifier] == nil
                    else {
                        throw InputError(
                            field: "\(shareField).shareIdentifier", value: share.shareIdentifier ?? "",
                            allowed: "1-255 letters, digits and underscores, not used before in the queue")
                    }
                    let weight = share.weightFactor ?? 1
                    guard weight.isFinite, FairSharePolicy.weightRange.contains(weight) else {
                        throw InputError(
                            field: "\(shareField).weightFactor", value: "\(weight)", allowed: "0.0001...999.9999")
                    }
                    weights[identifier] = weight
                }
                fairShare = FairSharePolicy(shareDecaySeconds: decay, weightFactors: weights)
            }
            queues.append(
                JobQueue(
                    name: name, priority: priority, environments: placed.sorted { $0.0 < $1.0 }.map(\.1),
                    fairShare: fairShare))
        }
        return (queues, warnings)
    }

    /// `name`, the name of a compute environment or a job queue at `field`, when it is valid and not `taken` yet.
    private static func newName(_ name: String?, field: String, taken: (String) -> Bool) throws(InputError) -> String {
        guard let name, isValidName(name) else {
            throw InputError(field: field, value: name ?? "", allowed: "1-128 letters, digits, hyphens and underscores")
        }
        guard !taken(name) else { throw InputError(field: field, value: name, allowed: "a name not used before") }
        return name
    }

    /// AWS's rule for queue and environment names: up to 128 letters, digits, hyphens and underscores.
    static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || $0 == "-" || $0 == "_"
            }
    }
}
