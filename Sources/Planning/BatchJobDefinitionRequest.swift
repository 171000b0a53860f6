public import CapsizeCore
public import CloudModel
public import Foundation

/// An AWS Batch `RegisterJobDefinition` request, the fields capsize writes (`capsize export --format
/// batch-job-definition`), and the field rules of the API it is checked against.
public struct BatchJobDefinitionRequest: Codable, Sendable, Equatable {
    public struct ResourceRequirement: Codable, Sendable, Equatable {
        /// `VCPU`, `MEMORY` or `GPU`.
        public var type: String
        /// The amount as text, as the API takes it (`0.25`, `2048`).
        public var value: String
    }

    /// What a Fargate job runs on: the CPU architecture (`X86_64` or `ARM64`) and `LINUX`.
    public struct RuntimePlatform: Codable, Sendable, Equatable {
        public var cpuArchitecture: String
        public var operatingSystemFamily: String
    }

    /// Fargate only: whether the task gets a public IP address (`ENABLED` or `DISABLED`, the default). A task in a
    /// public subnet needs one to reach an image registry.
    public struct NetworkConfiguration: Codable, Sendable, Equatable {
        public var assignPublicIp: String
    }

    public struct ContainerProperties: Codable, Sendable, Equatable {
        public var image: String
        public var command: [String]?
        public var resourceRequirements: [ResourceRequirement]
        /// Fargate only: without it Fargate runs X86_64, and an arm64 image does not start.
        public var runtimePlatform: RuntimePlatform?
        /// The role the task runs with to pull the image and write logs: Fargate requires one.
        public var executionRoleArn: String?
        /// Fargate only.
        public var networkConfiguration: NetworkConfiguration?
    }

    public struct Timeout: Codable, Sendable, Equatable {
        public var attemptDurationSeconds: Int
    }

    public struct Retry: Codable, Sendable, Equatable {
        public struct Rule: Codable, Sendable, Equatable {
            /// `RETRY` or `EXIT` (any case).
            public var action: String
            public var onExitCode: String?
            public var onReason: String?
            public var onStatusReason: String?
        }

        public var attempts: Int?
        public var evaluateOnExit: [Rule]?
    }

    public var jobDefinitionName: String
    /// `container`.
    public var type: String
    /// `EC2` or `FARGATE` (Batch takes EC2 when it is missing).
    public var platformCapabilities: [String]?
    public var containerProperties: ContainerProperties
    public var timeout: Timeout?
    public var retryStrategy: Retry?

    /// The request for an option's per-run resources.
    /// - Parameters:
    ///   - name: jobDefinitionName, `[A-Za-z0-9_-]{1,128}`.
    ///   - timeoutSeconds: nil means the projected runtime × `Export.timeoutMargin`, at least 60.
    /// - Throws: `InputError` when the result breaks a rule of the API (see `problems`).
    ///   - executionRoleArn: a Fargate job's execution role; nil: `DeployedJob.placeholderExecutionRoleArn`.
    public init(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil, executionRoleArn: String? = nil
    ) throws(InputError) {
        let timeout =
            timeoutSeconds ?? max(60, Int(((option.runtime?.seconds ?? 60) * Export.timeoutMargin).rounded(.up)))
        var resources = [
            ResourceRequirement(type: "VCPU", value: CostModel.format(option.vcpus)),
            ResourceRequirement(type: "MEMORY", value: "\(option.memoryMB)"),
        ]
        if option.gpus > 0 { resources.append(ResourceRequirement(type: "GPU", value: "\(option.gpus)")) }
        let strategy = retryStrategy ?? (try! RetryStrategy())
        jobDefinitionName = name
        type = "container"
        let fargate = option.service == .fargate
        platformCapabilities = [fargate ? "FARGATE" : "EC2"]
        containerProperties = ContainerProperties(
            image: image, command: command, resourceRequirements: resources,
            runtimePlatform: fargate
                ? RuntimePlatform(
                    cpuArchitecture: option.architecture == .arm64 ? "ARM64" : "X86_64", operatingSystemFamily: "LINUX")
                : nil,
            executionRoleArn: fargate ? executionRoleArn ?? DeployedJob.placeholderExecutionRoleArn : nil,
            networkConfiguration: fargate ? NetworkConfiguration(assignPublicIp: "ENABLED") : nil)
        self.timeout = Timeout(attemptDurationSeconds: timeout)
        self.retryStrategy = Retry(
            attempts: strategy.attempts,
            evaluateOnExit: strategy.evaluateOnExit.map {
                Retry.Rule(
                    action: $0.action.rawValue, onExitCode: $0.onExitCode, onReason: $0.onReason,
                    onStatusReason: $0.onStatusReason)
            })
        if let problem = problems().first {
            throw InputError(field: "jobDefinitionName", value: name, allowed: problem)
        }
    }

    /// The request as the API takes it: pretty-printed JSON, keys sorted.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Strings, integers, arrays and objects only: encoding cannot fail.
        return try! encoder.encode(self)
    }

    /// Checks the request against AWS Batch's field rules.
    /// - Returns: one sentence per broken rule, naming the field; empty when the request is valid.
    public func problems() -> [String] {
        var problems: [String] = []
        if jobDefinitionName.wholeMatch(of: /[A-Za-z0-9_-]{1,128}/) == nil {
            problems.append("jobDefinitionName '\(jobDefinitionName)' must be 1 to 128 of A-Z a-z 0-9 _ -")
        }
        if type != "container" {
            problems.append("type must be \"container\"")
        }
        if containerProperties.image.isEmpty { problems.append("containerProperties.image is required") }
        let platforms = platformCapabilities ?? ["EC2"]
        if platforms.count != 1 || !["EC2", "FARGATE"].contains(platforms[0]) {
            problems.append("platformCapabilities must be [\"EC2\"] or [\"FARGATE\"]")
        }
        if let platform = containerProperties.runtimePlatform {
            if platforms != ["FARGATE"] { problems.append("containerProperties.runtimePlatform is for FARGATE only") }
            if !["X86_64", "ARM64"].contains(platform.cpuArchitecture) {
                problems.append("containerProperties.runtimePlatform.cpuArchitecture must be X86_64 or ARM64")
            }
            if platform.operatingSystemFamily != "LINUX" {
                problems.append("containerProperties.runtimePlatform.operatingSystemFamily must be LINUX")
            }
        }
        if platforms == ["FARGATE"], containerProperties.resourceRequirements.contains(where: { $0.type == "GPU" }) {
            problems.append("resourceRequirements GPU is for EC2 only: Fargate has no GPUs")
        }
        problems += fargateProblems(platforms == ["FARGATE"])
        var seen: Set<String> = []
        for requirement in containerProperties.resourceRequirements {
            let (type, value) = (requirement.type, requirement.value)
            if !seen.insert(type).inserted { problems.append("resourceRequirements has \(type) twice") }
            switch type {
            case "VCPU":
                if !(Double(value).map { $0.isFinite && $0 > 0 } ?? false) {
                    problems.append("resourceRequirements VCPU '\(value)' must be a number above 0")
                }
            case "MEMORY":
                if !(Int(value).map { $0 >= 4 } ?? false) {
                    problems.append("resourceRequirements MEMORY '\(value)' must be an integer of at least 4 MiB")
                }
            case "GPU":
                if !(Int(value).map { $0 >= 0 } ?? false) {
                    problems.append("resourceRequirements GPU '\(value)' must be an integer ≥ 0")
                }
            default:
                problems.append("resourceRequirements type '\(type)' must be VCPU, MEMORY or GPU")
            }
        }
        for required in ["VCPU", "MEMORY"] where !seen.contains(required) {
            problems.append("resourceRequirements needs a \(required) entry")
        }
        if let timeout, timeout.attemptDurationSeconds < 60 {
            problems.append("timeout.attemptDurationSeconds must be an integer of at least 60 seconds")
        }
        if let retry = retryStrategy {
            if let attempts = retry.attempts, !(1...10).contains(attempts) {
                problems.append("retryStrategy.attempts '\(attempts)' must be an integer in 1...10")
            }
            let rules = retry.evaluateOnExit ?? []
            if rules.count > 5 { problems.append("retryStrategy.evaluateOnExit has \(rules.count) rules: at most 5") }
            for (index, rule) in rules.enumerated() {
                problems += Self.problems(of: rule, field: "retryStrategy.evaluateOnExit[\(index)]")
            }
        }
        return problems
    }

    /// The rules of a Fargate job (an execution role, VCPU and MEMORY a Fargate task size) and the fields an EC2
    /// job must not have.
    private func fargateProblems(_ fargate: Bool) -> [String] {
        let container = containerProperties
        guard fargate else {
            return container.networkConfiguration == nil
                ? [] : ["containerProperties.networkConfiguration is for FARGATE only"]
        }
        var problems: [String] = []
        if container.executionRoleArn?.isEmpty ?? true {
            problems.append("containerProperties.executionRoleArn is required on FARGATE")
        }
        if let assign = container.networkConfiguration?.assignPublicIp, !["ENABLED", "DISABLED"].contains(assign) {
            problems.append("containerProperties.networkConfiguration.assignPublicIp must be ENABLED or DISABLED")
        }
        let value = { (type: String) in container.resourceRequirements.first { $0.type == type }?.value }
        if let vcpus = value("VCPU").flatMap(Double.init), let memory = value("MEMORY").flatMap(Int.init) {
            let sizes = PriceCatalog.embedded.fargate.taskSizes.memorySizesGB(vcpu: vcpus)
            if !sizes.contains(where: { Int(($0 * 1024).rounded()) == memory }) {
                problems.append(
                    "resourceRequirements VCPU \(CostModel.format(vcpus)) and MEMORY \(memory) must be a Fargate "
                        + "task size (0.25 vCPU: 512, 1024 or 2048 MiB; 1 vCPU: 2048...8192 MiB in 1024s; …)")
            }
        }
        return problems
    }

    private static func problems(of rule: Retry.Rule, field: String) -> [String] {
        var problems: [String] = []
        let action = rule.action.uppercased()
        if action != "RETRY" && action != "EXIT" { problems.append("\(field).action must be RETRY or EXIT") }
        let patterns = [
            ("onExitCode", rule.onExitCode), ("onReason", rule.onReason), ("onStatusReason", rule.onStatusReason),
        ]
        .compactMap { key, pattern in pattern.map { (key, $0) } }
        if patterns.isEmpty { problems.append("\(field) needs onExitCode, onReason or onStatusReason") }
        for (key, pattern) in patterns {
            let body = pattern.hasSuffix("*") ? pattern.dropLast() : Substring(pattern)
            let allowed: (Character) -> Bool =
                key == "onExitCode"
                ? { $0.isASCII && $0.isNumber }
                : { $0.isASCII && ($0.isLetter || $0.isNumber || ".: \t".contains($0)) }
            if pattern.isEmpty || pattern.count > 512 || !body.allSatisfy(allowed) {
                problems.append(
                    "\(field).\(key) '\(pattern)' must be at most 512 "
                        + (key == "onExitCode" ? "digits" : "letters, digits, periods, colons and spaces")
                        + ", optionally ending in *")
            }
        }
        return problems
    }
}

/// Checks a `RegisterJobDefinition` request against AWS Batch's field rules.
/// - Returns: one sentence per broken rule, naming the field; empty when the definition is valid. A request that
///   is not JSON, lacks a required field or has one of the wrong type gets one sentence saying which.
public func validateBatchJobDefinition(_ json: Data) -> [String] {
    do {
        return try JSONDecoder().decode(BatchJobDefinitionRequest.self, from: json).problems()
    } catch let error as DecodingError where !error.field.isEmpty {
        if case .keyNotFound = error { return ["\(error.field) is required"] }
        return ["\(error.field) has the wrong type or value"]
    } catch {
        return ["the job definition is not a JSON object"]
    }
}
