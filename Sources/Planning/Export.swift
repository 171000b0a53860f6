public import CapsizeCore
public import CloudModel
public import Foundation

/// Deployment files for a chosen option: a SAM template (Lambda), a Batch job definition, an sbatch header.
public enum Export {
    /// Timeouts are the projected runtime times this margin, rounded up (the projection is not a promise).
    public static let timeoutMargin = 1.5

    /// An AWS SAM template (YAML) with one `AWS::Serverless::Function` configured as the Lambda option.
    /// - Parameters:
    ///   - functionName: Lambda's FunctionName, `[A-Za-z0-9_-]{1,64}`.
    ///   - timeoutSeconds: nil means the projected runtime × `timeoutMargin`, within 1...900.
    ///   - ephemeralStorageMB: /tmp size, 512...10240.
    /// - Throws: `InputError` for an option that is not Lambda, a bad name, or a value outside Lambda's ranges.
    public static func samTemplate(
        for option: PlanOption, functionName: String, handler: String = "bootstrap",
        runtime: String = "provided.al2023", codeUri: String = ".", timeoutSeconds: Int? = nil,
        ephemeralStorageMB: Int = 512
    ) throws(InputError) -> String {
        guard option.service == .lambda else {
            throw InputError(field: "--format", value: "sam", allowed: "a Lambda option (this is \(option.summary))")
        }
        guard functionName.wholeMatch(of: /[A-Za-z0-9_-]{1,64}/) != nil else {
            throw InputError(field: "--name", value: functionName, allowed: "1 to 64 of A-Z a-z 0-9 _ -")
        }
        let timeout =
            timeoutSeconds ?? min(900, max(1, Int(((option.runtime?.seconds ?? 3) * timeoutMargin).rounded(.up))))
        let configuration = try FunctionConfiguration(
            memoryMB: option.memoryMB, timeoutSeconds: timeout, ephemeralStorageMB: ephemeralStorageMB,
            architecture: option.architecture)
        return """
            AWSTemplateFormatVersion: "2010-09-09"
            Transform: AWS::Serverless-2016-10-31
            Description: \(yamlQuoted("capsize: \(option.summary), projected \(runtimeText(option))"))
            Resources:
              CapsizeFunction:
                Type: AWS::Serverless::Function
                Properties:
                  FunctionName: \(yamlQuoted(functionName))
                  Handler: \(yamlQuoted(handler))
                  Runtime: \(yamlQuoted(runtime))
                  CodeUri: \(yamlQuoted(codeUri))
                  MemorySize: \(configuration.memoryMB)
                  Timeout: \(configuration.timeoutSeconds)
                  EphemeralStorage:
                    Size: \(configuration.ephemeralStorageMB)
                  Architectures:
                    - \(configuration.architecture.rawValue)

            """
    }

    /// An AWS Batch `RegisterJobDefinition` request (JSON) for the option's per-run resources.
    /// - Parameters:
    ///   - name: jobDefinitionName, `[A-Za-z0-9_-]{1,128}`.
    ///   - timeoutSeconds: nil means the projected runtime × `timeoutMargin`, at least 60.
    /// - Throws: `InputError` when the result breaks a rule of the API (see `validateBatchJobDefinition`).
    public static func batchJobDefinition(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil
    ) throws(InputError) -> Data {
        let timeout =
            timeoutSeconds ?? max(60, Int(((option.runtime?.seconds ?? 60) * timeoutMargin).rounded(.up)))
        var resources: [[String: String]] = [
            ["type": "VCPU", "value": CostModel.format(option.vcpus)],
            ["type": "MEMORY", "value": "\(option.memoryMB)"],
        ]
        if option.gpus > 0 { resources.append(["type": "GPU", "value": "\(option.gpus)"]) }
        var definition: [String: Any] = [
            "jobDefinitionName": name,
            "type": "container",
            "containerProperties": [
                "image": image, "command": command, "resourceRequirements": resources,
            ] as [String: Any],
            "timeout": ["attemptDurationSeconds": timeout],
        ]
        let strategy = retryStrategy ?? (try! RetryStrategy())
        definition["retryStrategy"] =
            [
                "attempts": strategy.attempts,
                "evaluateOnExit": strategy.evaluateOnExit.map { rule -> [String: String] in
                    var entry = ["action": rule.action.rawValue]
                    entry["onExitCode"] = rule.onExitCode
                    entry["onReason"] = rule.onReason
                    entry["onStatusReason"] = rule.onStatusReason
                    return entry
                },
            ] as [String: Any]
        let data = try! JSONSerialization.data(withJSONObject: definition, options: [.prettyPrinted, .sortedKeys])
        if let problem = validateBatchJobDefinition(data).first {
            throw InputError(field: "--format batch-job-definition", value: name, allowed: problem)
        }
        return data
    }

    /// An AWS CloudFormation template (YAML) with one `AWS::Batch::JobDefinition` carrying the same definition as
    /// `batchJobDefinition`: what `cfn-lint` checks and `aws cloudformation deploy` takes.
    /// - Throws: `InputError` when the definition breaks a rule of the API.
    public static func batchJobDefinitionTemplate(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil
    ) throws(InputError) -> String {
        let json = try batchJobDefinition(
            for: option, name: name, image: image, command: command, timeoutSeconds: timeoutSeconds,
            retryStrategy: retryStrategy)
        // Read back what was validated, so the template and the JSON request cannot drift apart.
        let object = try! JSONSerialization.jsonObject(with: json) as! [String: Any]
        let container = object["containerProperties"] as! [String: Any]
        let resources = container["resourceRequirements"] as! [[String: String]]
        let timeout = (object["timeout"] as! [String: Int])["attemptDurationSeconds"]!
        let retry = object["retryStrategy"] as! [String: Any]
        let rules = retry["evaluateOnExit"] as? [[String: String]] ?? []
        var lines = [
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            "Description: \(yamlQuoted("capsize: \(option.summary), projected \(runtimeText(option)) per run"))",
            "Resources:",
            "  CapsizeJobDefinition:",
            "    Type: AWS::Batch::JobDefinition",
            "    Properties:",
            "      JobDefinitionName: \(yamlQuoted(name))",
            "      Type: container",
            "      PlatformCapabilities:",
            "        - \(option.service == .fargate ? "FARGATE" : "EC2")",
            "      ContainerProperties:",
            "        Image: \(yamlQuoted(image))",
            "        Command:",
        ]
        lines += command.map { "          - \(yamlQuoted($0))" }
        lines.append("        ResourceRequirements:")
        for resource in resources {
            lines += ["          - Type: \(resource["type"]!)", "            Value: \(yamlQuoted(resource["value"]!))"]
        }
        lines += ["      Timeout:", "        AttemptDurationSeconds: \(timeout)", "      RetryStrategy:",
                  "        Attempts: \(retry["attempts"] as! Int)"]
        if !rules.isEmpty {
            lines.append("        EvaluateOnExit:")
            for rule in rules {
                var first = true
                for key in ["action", "onExitCode", "onReason", "onStatusReason"] {
                    guard let value = rule[key] else { continue }
                    let property = key.prefix(1).uppercased() + key.dropFirst()
                    lines.append("          \(first ? "- " : "  ")\(property): \(yamlQuoted(value))")
                    first = false
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Slurm batch-script header for the option: one task per run, an array when `runs` > 1.
    /// `--time` is the projected runtime × `timeoutMargin`, rounded up to whole minutes, as D-HH:MM:SS.
    public static func sbatchHeader(for option: PlanOption, jobName: String, runs: Int = 1) -> String {
        let seconds = (option.runtime?.seconds ?? 60) * timeoutMargin
        return Sbatch.header(
            jobName: jobName, vcpus: option.vcpus, memoryMiB: option.memoryMB, gpus: option.gpus,
            timeSeconds: seconds, arraySize: runs > 1 ? runs : nil,
            comments: ["capsize: \(option.summary), projected \(runtimeText(option)) per run"])
    }

    /// A YAML double-quoted scalar: backslash, quote and control characters escaped, so any text is safe.
    public static func yamlQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": quoted += "\\\\"
            case "\"": quoted += "\\\""
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case _
            where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF:
                quoted += String(format: "\\u%04X", scalar.value)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    static func runtimeText(_ option: PlanOption) -> String {
        option.runtime.map { String(format: "%.3g s", $0.seconds) } ?? "runtime unknown"
    }
}

/// Checks a `RegisterJobDefinition` request against AWS Batch's field rules.
/// - Returns: one sentence per broken rule, naming the field; empty when the definition is valid.
public func validateBatchJobDefinition(_ json: Data) -> [String] {
    guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
        return ["the job definition is not a JSON object"]
    }
    var problems: [String] = []
    func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() {
            return number.intValue
        }
        if let text = value as? String, let number = Int(text) { return number }
        return nil
    }
    let name = root["jobDefinitionName"] as? String ?? ""
    if name.wholeMatch(of: /[A-Za-z0-9_-]{1,128}/) == nil {
        problems.append("jobDefinitionName '\(name)' must be 1 to 128 of A-Z a-z 0-9 _ -")
    }
    if root["type"] as? String != "container" {
        problems.append("type must be \"container\"")
    }
    if let container = root["containerProperties"] as? [String: Any] {
        if (container["image"] as? String ?? "").isEmpty { problems.append("containerProperties.image is required") }
        if let command = container["command"], !(command is [String]) {
            problems.append("containerProperties.command must be a list of strings")
        }
        var seen: Set<String> = []
        for requirement in container["resourceRequirements"] as? [[String: Any]] ?? [] {
            let type = requirement["type"] as? String ?? ""
            guard let value = requirement["value"] as? String else {
                problems.append("resourceRequirements \(type).value must be a string")
                continue
            }
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
    } else {
        problems.append("containerProperties is required for type container")
    }
    if let timeout = root["timeout"] {
        let seconds = integer((timeout as? [String: Any])?["attemptDurationSeconds"])
        if !(seconds.map { $0 >= 60 } ?? false) {
            problems.append("timeout.attemptDurationSeconds must be an integer of at least 60 seconds")
        }
    }
    if let retry = root["retryStrategy"] as? [String: Any] {
        if let attempts = retry["attempts"], !(integer(attempts).map { (1...10).contains($0) } ?? false) {
            problems.append("retryStrategy.attempts '\(attempts)' must be an integer in 1...10")
        }
        let rules = retry["evaluateOnExit"] as? [[String: Any]] ?? []
        if rules.count > 5 { problems.append("retryStrategy.evaluateOnExit has \(rules.count) rules: at most 5") }
        for (index, rule) in rules.enumerated() {
            let field = "retryStrategy.evaluateOnExit[\(index)]"
            let action = (rule["action"] as? String ?? "").uppercased()
            if action != "RETRY" && action != "EXIT" { problems.append("\(field).action must be RETRY or EXIT") }
            let patterns = ["onExitCode", "onReason", "onStatusReason"].compactMap { key in
                (rule[key] as? String).map { (key, $0) }
            }
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
        }
    }
    return problems
}
