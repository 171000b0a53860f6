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
            throw InputError(setting: "format", value: "sam", allowed: "a Lambda option (this is \(option.summary))")
        }
        guard functionName.wholeMatch(of: /[A-Za-z0-9_-]{1,64}/) != nil else {
            throw InputError(setting: "name", value: functionName, allowed: "1 to 64 of A-Z a-z 0-9 _ -")
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
        try BatchJobDefinitionRequest(
            for: option, name: name, image: image, command: command, timeoutSeconds: timeoutSeconds,
            retryStrategy: retryStrategy
        ).json()
    }

    /// An AWS CloudFormation template (YAML) with one `AWS::Batch::JobDefinition` carrying the same definition as
    /// `batchJobDefinition`: what `cfn-lint` checks and `aws cloudformation deploy` takes.
    /// - Throws: `InputError` when the definition breaks a rule of the API.
    public static func batchJobDefinitionTemplate(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil
    ) throws(InputError) -> String {
        // The request that batchJobDefinition writes, validated, so the template and the JSON cannot drift apart.
        let request = try BatchJobDefinitionRequest(
            for: option, name: name, image: image, command: command, timeoutSeconds: timeoutSeconds,
            retryStrategy: retryStrategy)
        let container = request.containerProperties
        var lines = [
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            "Description: \(yamlQuoted("capsize: \(option.summary), projected \(runtimeText(option)) per run"))",
            "Resources:",
            "  CapsizeJobDefinition:",
            "    Type: AWS::Batch::JobDefinition",
            "    Properties:",
            "      JobDefinitionName: \(yamlQuoted(request.jobDefinitionName))",
            "      Type: container",
            "      PlatformCapabilities:",
        ]
        lines += (request.platformCapabilities ?? ["EC2"]).map { "        - \($0)" }
        lines += ["      ContainerProperties:", "        Image: \(yamlQuoted(container.image))"]
        if let platform = container.runtimePlatform {
            lines += [
                "        RuntimePlatform:", "          CpuArchitecture: \(platform.cpuArchitecture)",
                "          OperatingSystemFamily: \(platform.operatingSystemFamily)",
            ]
        }
        lines.append("        Command:")
        lines += (container.command ?? []).map { "          - \(yamlQuoted($0))" }
        lines.append("        ResourceRequirements:")
        for resource in container.resourceRequirements {
            lines += ["          - Type: \(resource.type)", "            Value: \(yamlQuoted(resource.value))"]
        }
        lines += [
            "      Timeout:", "        AttemptDurationSeconds: \(request.timeout?.attemptDurationSeconds ?? 0)",
            "      RetryStrategy:", "        Attempts: \(request.retryStrategy?.attempts ?? 1)",
        ]
        let rules = request.retryStrategy?.evaluateOnExit ?? []
        if !rules.isEmpty {
            lines.append("        EvaluateOnExit:")
            for rule in rules {
                let fields = [
                    ("Action", Optional(rule.action)), ("OnExitCode", rule.onExitCode), ("OnReason", rule.onReason),
                    ("OnStatusReason", rule.onStatusReason),
                ]
                for (index, (property, value)) in fields.compactMap({ key, value in value.map { (key, $0) } })
                    .enumerated()
                {
                    lines.append("          \(index == 0 ? "- " : "  ")\(property): \(yamlQuoted(value))")
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
