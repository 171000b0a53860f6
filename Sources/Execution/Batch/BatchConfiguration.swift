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

        private enum CodingKeys: String, CodingKey {
            case computeEnvironmentName, minvCpus, maxvCpus, memoryMiB, gpus, provisioningSeconds, idleTeardownSeconds
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            computeEnvironmentName = try container.decodeIfPresent(String.self, forKey: .computeEnvironmentName)
            minvCpus = try container.decodeIfPresent(Double.self, forKey: .minvCpus)
            maxvCpus = try container.decodeIfPresent(Double.self, forKey: .maxvCpus)
            memoryMiB = try container.decodeWholeNumberIfPresent(forKey: .memoryMiB, in: 4...4_194_304)
            gpus = try container.decodeWholeNumberIfPresent(forKey: .gpus, in: 0...64)
            provisioningSeconds = try container.decodeIfPresent(Double.self, forKey: .provisioningSeconds)
            idleTeardownSeconds = try container.decodeIfPresent(Double.self, forKey: .idleTeardownSeconds)
        }
    }

    public struct EnvironmentOrder: Decodable, Sendable {
        public var order: Int?
        public var computeEnvironment: String?

        private enum CodingKeys: String, CodingKey { case order, computeEnvironment }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            order = try container.decodeWholeNumberIfPresent(forKey: .order, in: 0...Int(Int32.max))
            computeEnvironment = try container.decodeIfPresent(String.self, forKey: .computeEnvironment)
        }
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

        private enum CodingKeys: String, CodingKey {
            case jobQueueName, priority, state, computeEnvironmentOrder, fairsharePolicy
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            jobQueueName = try container.decodeIfPresent(String.self, forKey: .jobQueueName)
            priority = try container.decodeWholeNumberIfPresent(forKey: .priority, in: JobQueue.priorities)
            state = try container.decodeIfPresent(String.self, forKey: .state)
            computeEnvironmentOrder = try container.decodeIfPresent(
                [EnvironmentOrder].self, forKey: .computeEnvironmentOrder)
            fairsharePolicy = try container.decodeIfPresent(FairShare.self, forKey: .fairsharePolicy)
        }
    }

    public var computeEnvironments: [Environment]?
    public var jobQueues: [Queue]?
    /// The file it was read from, which errors about its fields name; nil when it was not read from a file.
    public var source: String?

    private enum CodingKeys: String, CodingKey { case computeEnvironments, jobQueues }

    /// An environment's `maxvCpus`, and `maxVcpus` of the default one.
    public static let maxVCPUsRange: ClosedRange<Double> = 0.25...4_096
    /// An environment's modeled `provisioningSeconds` and `idleTeardownSeconds`.
    public static let provisioningRange: ClosedRange<Double> = 0...86_400

    /// Reads and decodes a configuration file.
    /// - Throws: `InputError` naming `--queues` for an unreadable file, or the file and the place in it (with
    ///   its line and column for bad JSON) where a value has the wrong type or does not fit.
    public static func load(path: String) throws(InputError) -> BatchConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(setting: "queues", value: path, allowed: "a readable JSON file")
        }
        var configuration = try InputError.decodeJSON(
            BatchConfiguration.self, from: data, file: path,
            document: "an object with computeEnvironments and jobQueues")
        configuration.source = path
        return configuration
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
        do {
            return try resolveEntries(cores: cores, memoryMiB: memoryMiB, gpuDevices: gpuDevices)
        } catch {
            guard let source, !error.isSetting else { throw error }
            throw error.located(in: source)
        }
    }

    private func resolveEntries(cores: Int, memoryMiB: Int, gpuDevices: [Int]) throws(InputError) -> (
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
            guard let maxVCPUs = entry.maxvCpus else {
                throw InputError(field: "\(field).maxvCpus", value: "none", allowed: "0.25...4096")
            }
            try InputError.check(maxVCPUs, field: "\(field).maxvCpus", in: Self.maxVCPUsRange)
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
            try InputError.check(
                provisioning, field: "\(field).provisioningSeconds", in: Self.provisioningRange, unit: "seconds")
            if let idle = entry.idleTeardownSeconds {
                try InputError.check(
                    idle, field: "\(field).idleTeardownSeconds", in: Self.provisioningRange, unit: "seconds")
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
