public import CapsizeCore

/// Batch's status reasons and container reasons, in Batch's words (sources: docs/aws-reference.md).
public enum StatusReason {
    public static let timeout = "Job attempt duration exceeded timeout"
    /// capsize's own (Batch has none): an attempt stopped because capsize was interrupted; the job is RUNNABLE again
    /// and runs when its run is resumed.
    public static let interrupted = "Attempt stopped: capsize was interrupted; it runs again when the run is resumed"
    /// The status reason of a job whose container exited, SUCCEEDED (exit 0) or FAILED (any other code, a
    /// memory kill too).
    public static let essentialContainerExited = "Essential container in task exited"
    /// The **container's** reason (`container.reason`, what `onReason` matches) after a memory kill; the job's
    /// status reason is `essentialContainerExited` and its exit code `outOfMemoryExitCode`.
    public static let outOfMemory = "OutOfMemoryError: Container killed due to memory usage"
    /// The exit code of a container killed for memory (128 + SIGKILL).
    public static let outOfMemoryExitCode: Int32 = 137
    public static let dependencyFailed = "Dependent Job failed"
    /// An array parent's status reason when a child failed.
    public static let arrayChildFailed = "Array Child Job failed"
    public static let cannotFit =
        "CLIENT_ERROR - no compute environment of the queue can ever satisfy the job's resources"
}

/// A job's resources: vCPUs, memory (a hard limit) and whole GPUs (exclusive).
public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var vcpus: Double
    public var memoryMiB: Int
    public var gpus: Int

    /// - Throws: `InputError` naming the field when a value is out of range.
    public init(vcpus: Double = 1, memoryMiB: Int = 2048, gpus: Int = 0) throws(InputError) {
        guard vcpus.isFinite, vcpus >= 0.25, vcpus <= 256 else {
            throw InputError(setting: "vcpus", value: "\(vcpus)", allowed: "0.25...256")
        }
        guard memoryMiB >= 4, memoryMiB <= 4_194_304 else {
            throw InputError(setting: "memory", value: "\(memoryMiB)", allowed: "4...4194304 MiB")
        }
        guard (0...16).contains(gpus) else {
            throw InputError(setting: "gpus", value: "\(gpus)", allowed: "0...16 whole GPUs")
        }
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.gpus = gpus
    }
}

/// One `evaluateOnExit` rule: when its patterns match a failed attempt, RETRY or EXIT.
public struct EvaluateOnExit: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        case retry = "RETRY"
        case exit = "EXIT"
    }
    public var action: Action
    /// Glob on the exit code's decimal text (digits, may end in `*`).
    public var onExitCode: String?
    /// Glob on the attempt's reason (e.g. `CannotPullContainerError*`).
    public var onReason: String?
    /// Glob on the status reason (e.g. `OutOfMemoryError*`).
    public var onStatusReason: String?

    /// What Batch allows in `onStatusReason` and `onReason`: letters, digits, periods, colons, spaces and tabs.
    public static let reasonCharacters = "letters, digits, periods (.), colons (:), spaces and tabs"
    /// The longest pattern Batch accepts, in characters.
    public static let maximumPatternLength = 512

    /// - Throws: `InputError` naming the field (`evaluateOnExit.onReason`...) when no pattern is given, or a
    ///   pattern is empty, longer than 512 characters, or holds a character Batch does not allow (`onExitCode`:
    ///   digits; the others: letters, digits, `.`, `:`, spaces and tabs; each may end in `*`).
    public init(action: Action, onExitCode: String? = nil, onReason: String? = nil, onStatusReason: String? = nil)
        throws(InputError)
    {
        guard onExitCode != nil || onReason != nil || onStatusReason != nil else {
            throw InputError(
                field: "evaluateOnExit", value: action.rawValue,
                allowed: "at least one of onExitCode, onReason, onStatusReason")
        }
        for (field, pattern) in [
            ("onExitCode", onExitCode), ("onReason", onReason), ("onStatusReason", onStatusReason),
        ] {
            guard let pattern else { continue }
            try Self.check(pattern, field: field)
        }
        self.action = action
        self.onExitCode = onExitCode
        self.onReason = onReason
        self.onStatusReason = onStatusReason
    }

    /// Checks one pattern against Batch's rules for `field`.
    /// - Throws: `InputError` naming `evaluateOnExit.<field>` and what Batch allows.
    static func check(_ pattern: String, field: String) throws(InputError) {
        let exitCode = field == "onExitCode"
        let allowed =
            (exitCode ? "digits" : reasonCharacters)
            + ", 1 to \(maximumPatternLength) characters, optionally ending in *"
        let body = pattern.hasSuffix("*") ? pattern.dropLast() : Substring(pattern)
        let valid = body.unicodeScalars.allSatisfy { scalar in
            if ("0"..."9").contains(scalar) { return true }
            if exitCode { return false }
            return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "." || scalar == ":"
                || scalar == " " || scalar == "\t"
        }
        guard !pattern.isEmpty, pattern.count <= maximumPatternLength, valid else {
            throw InputError(field: "evaluateOnExit.\(field)", value: pattern, allowed: allowed)
        }
    }

    /// Whether every pattern given matches. A pattern ending in `*` matches the start of the text, any other the
    /// whole text; an absent value (no container reason, no exit code) is matched as the empty string, so `*`
    /// matches every attempt, as in AWS's "exit for any reason" rule `{"action": "EXIT", "onReason": "*"}`.
    public func matches(exitCode: Int32?, reason: String?, statusReason: String?) -> Bool {
        func glob(_ pattern: String?, _ text: String?) -> Bool {
            guard let pattern else { return true }
            let text = text ?? ""
            return pattern.hasSuffix("*") ? text.hasPrefix(String(pattern.dropLast())) : text == pattern
        }
        return glob(onExitCode, exitCode.map { String($0) }) && glob(onReason, reason)
            && glob(onStatusReason, statusReason)
    }
}

/// Batch's retry strategy: 1–10 attempts and up to 5 rules; a failed attempt that no rule matches is retried.
public struct RetryStrategy: Codable, Sendable, Equatable {
    public var attempts: Int
    public var evaluateOnExit: [EvaluateOnExit]

    /// - Throws: `InputError` naming `--attempts` (1...10) or `evaluateOnExit` (at most 5 rules).
    public init(attempts: Int = 1, evaluateOnExit: [EvaluateOnExit] = []) throws(InputError) {
        guard (1...10).contains(attempts) else {
            throw InputError(setting: "attempts", value: "\(attempts)", allowed: "1...10")
        }
        guard evaluateOnExit.count <= 5 else {
            throw InputError(
                field: "evaluateOnExit", value: "\(evaluateOnExit.count) rules", allowed: "at most 5 rules")
        }
        self.attempts = attempts
        self.evaluateOnExit = evaluateOnExit
    }

    /// Whether a failed attempt number `attempt` (from 1) is tried again. Timed-out attempts never are.
    public func shouldRetry(attempt: Int, exitCode: Int32?, reason: String?, statusReason: String?) -> Bool {
        guard attempt < attempts, statusReason != StatusReason.timeout else { return false }
        let rule = evaluateOnExit.first { $0.matches(exitCode: exitCode, reason: reason, statusReason: statusReason) }
        return rule?.action ?? .retry == .retry
    }
}

/// How a job depends on another.
public enum DependencyType: String, Codable, Sendable {
    /// Child i of an array waits for child i of the other array.
    case nToN = "N_TO_N"
    /// Child i of this array waits for child i − 1. It names no other job (AWS: "you can specify a
    /// SEQUENTIAL type dependency without specifying a job ID for array jobs"), so capsize refuses it
    /// with a job id; an array's own SEQUENTIAL dependency is `--sequential`.
    case sequential = "SEQUENTIAL"
}

/// A dependency on another job.
public struct JobDependency: Codable, Sendable, Equatable, Hashable {
    public var jobId: String
    public var type: DependencyType?

    public init(jobId: String, type: DependencyType? = nil) {
        self.jobId = jobId
        self.type = type
    }
}

/// Batch's limits on submissions.
public enum BatchLimits {
    public static let arraySize = 2...10_000
    public static let maxDependencies = 20
    public static let minimumTimeoutSeconds = 60.0

    /// Validates an array size.
    /// - Throws: `InputError` naming `--array` and 2...10000.
    public static func checkArraySize(_ size: Int) throws(InputError) {
        guard arraySize.contains(size) else {
            throw InputError(setting: "array", value: "\(size)", allowed: "2...10000 children")
        }
    }

    /// Validates the dependencies of one job against the jobs already known.
    /// - Throws: `InputError` for more than 20 dependencies, a SEQUENTIAL dependency on another job, or an
    ///   unknown job id.
    public static func checkDependencies(_ dependencies: [JobDependency], known: Set<String>) throws(InputError) {
        guard dependencies.count <= maxDependencies else {
            throw InputError(
                setting: "dependsOn", value: "\(dependencies.count) jobs", allowed: "at most 20 dependencies")
        }
        if let sequential = dependencies.first(where: { $0.type == .sequential }) {
            throw InputError(
                setting: "dependsOn", value: "\(sequential.jobId):SEQUENTIAL",
                allowed: "JOB or JOB:N_TO_N (SEQUENTIAL names no job: \(InputError.mention("sequential")) chains an "
                    + "array's own children)")
        }
        for dependency in dependencies where !known.contains(dependency.jobId) {
            throw InputError(setting: "dependsOn", value: dependency.jobId, allowed: "the id of a submitted job")
        }
    }

    /// The longest attempt duration capsize takes: a year (Batch sets none; Slurm's `--time` counts minutes).
    public static let maximumTimeoutSeconds: Double = 31_536_000

    /// Refuses a job name SubmitJob would refuse: "It can be up to 128 letters long. The first character must be
    /// alphanumeric, can contain uppercase and lowercase letters, numbers, hyphens (-), and underscores (_)"
    /// (AWS Batch API Reference, SubmitJob, jobName).
    /// - Throws: `InputError` naming the setting `name`.
    public static func checkJobName(_ name: String) throws(InputError) {
        let scalars = name.unicodeScalars
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
        }
        guard (1...128).contains(scalars.count), allowed(scalars.first!),
            scalars.allSatisfy({ allowed($0) || $0 == "-" || $0 == "_" })
        else {
            throw InputError(
                setting: "name", value: name,
                allowed: "1 to 128 letters, digits, hyphens and underscores, starting with a letter or digit (Batch's "
                    + "jobName)")
        }
    }

    /// Refuses a timeout that is not a positive number of seconds, at most `maximumTimeoutSeconds`.
    /// - Throws: `InputError` naming the setting `timeout`.
    public static func checkTimeout(_ seconds: Double) throws(InputError) {
        guard seconds.isFinite, seconds > 0, seconds <= maximumTimeoutSeconds else {
            throw InputError(
                setting: "timeout", value: "\(seconds)",
                allowed: "a positive number of seconds, at most \(Int(maximumTimeoutSeconds)) (AWS requires ≥ 60)")
        }
    }

    /// A timeout below Batch's 60 s minimum is accepted locally with this warning (nil when valid).
    /// - Throws: `InputError` for a timeout `checkTimeout` refuses.
    public static func timeoutWarning(_ seconds: Double) throws(InputError) -> String? {
        try checkTimeout(seconds)
        return seconds < minimumTimeoutSeconds
            ? "timeout \(seconds) s is below AWS Batch's minimum of 60 s: accepted locally, AWS would reject it" : nil
    }
}

/// Finds a cycle among job dependencies (job id → ids it waits for).
/// - Returns: the jobs of one cycle in order, or nil.
public func dependencyCycle(_ graph: [String: [String]]) -> [String]? {
    enum Mark { case visiting, done }
    var marks: [String: Mark] = [:]
    var path: [String] = []
    func visit(_ node: String) -> [String]? {
        switch marks[node] {
        case .done: return nil
        case .visiting: return Array(path[path.firstIndex(of: node)!...]) + [node]
        case nil: break
        }
        marks[node] = .visiting
        path.append(node)
        for next in graph[node] ?? [] {
            if let cycle = visit(next) { return cycle }
        }
        path.removeLast()
        marks[node] = .done
        return nil
    }
    for node in graph.keys.sorted() {
        if let cycle = visit(node) { return cycle }
    }
    return nil
}
