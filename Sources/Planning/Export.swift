public import CapsizeCore
public import CloudModel
public import Foundation

/// Deployment files for a chosen option: a SAM template (Lambda), a Batch job definition, an sbatch script, each
/// running the user's job (`DeployedJob`).
public enum Export {
    /// Timeouts are the projected runtime times this margin, rounded up (the projection is not a promise).
    public static let timeoutMargin = 1.5

    /// An AWS SAM template (YAML) with one `AWS::Serverless::Function` configured as the Lambda option, its code a
    /// zip package (`CodeUri`) run by `handler` on `runtime`.
    /// - Parameters:
    ///   - functionName: Lambda's FunctionName, `[A-Za-z0-9_-]{1,64}`.
    ///   - timeoutSeconds: nil means the projected runtime × `timeoutMargin`, within 1...900.
    ///   - ephemeralStorageMB: /tmp size, 512...10240.
    /// - Throws: `InputError` for an option that is not Lambda, a bad name, or a value outside Lambda's ranges.
    public static func samTemplate(
        for option: PlanOption, functionName: String, handler: String = "bootstrap",
        runtime: String = "provided.al2023", codeUri: String = ".", timeoutSeconds: Int? = nil,
        ephemeralStorageMB: Int = 512, variables: [String: String] = [:]
    ) throws(InputError) -> String {
        var code = [
            "Handler: \(yamlQuoted(handler))", "Runtime: \(yamlQuoted(runtime))", "CodeUri: \(yamlQuoted(codeUri))",
        ]
        if !variables.isEmpty {
            code += ["Environment:", "  Variables:"]
            code += variables.keys.sorted().map { "    \(yamlQuoted($0)): \(yamlQuoted(variables[$0]!))" }
        }
        return try samDocument(
            for: option, functionName: functionName, description: "capsize: \(option.summary)", code: code,
            timeoutSeconds: timeoutSeconds, ephemeralStorageMB: ephemeralStorageMB)
    }

    /// The SAM template of a function `capsize function create` defined, at the option's memory and architecture:
    /// its handler, runtime, source directory (`CodeUri`), ephemeral storage and variables; its timeout, or the
    /// projected runtime × `timeoutMargin` where that is longer (at most 900 s).
    /// - Throws: `InputError` as `samTemplate(for:functionName:…)`.
    public static func samTemplate(for option: PlanOption, function: FunctionDefinition) throws(InputError) -> String {
        let projected = Int(((option.runtime?.seconds ?? 0) * timeoutMargin).rounded(.up))
        return try samTemplate(
            for: option, functionName: function.name, handler: function.handler, runtime: function.runtime.rawValue,
            codeUri: function.sourceDirectory,
            timeoutSeconds: min(900, max(function.configuration.timeoutSeconds, projected)),
            ephemeralStorageMB: function.configuration.ephemeralStorageMB, variables: function.variables)
    }

    /// A SAM template whose function is a container image (`PackageType: Image`): Lambda runs the image's
    /// ENTRYPOINT with `command` as its arguments (`ImageConfig.Command`, the image's CMD replaced).
    /// - Parameter isPlaceholder: the image is a placeholder, and the description says so.
    /// - Throws: `InputError` as `samTemplate(for:functionName:…)`.
    public static func samTemplate(
        for option: PlanOption, functionName: String, image: String, command: [String], isPlaceholder: Bool = false
    ) throws(InputError) -> String {
        var code = ["PackageType: Image", "ImageUri: \(yamlQuoted(image))", "ImageConfig:", "  Command:"]
        code += command.map { "    - \(yamlQuoted($0))" }
        let placeholder = isPlaceholder ? placeholderNote : ""
        return try samDocument(
            for: option, functionName: functionName, description: "capsize: \(placeholder)\(option.summary)",
            code: code)
    }

    /// What a description starts with when a file names a placeholder.
    static let placeholderNote = "PLACEHOLDER image (placeholder.invalid) to replace before deploying; "

    private static func samDocument(
        for option: PlanOption, functionName: String, description: String, code: [String], timeoutSeconds: Int? = nil,
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
        let properties =
            ["FunctionName: \(yamlQuoted(functionName))"] + code + [
                "MemorySize: \(configuration.memoryMB)", "Timeout: \(configuration.timeoutSeconds)",
                "EphemeralStorage:",
                "  Size: \(configuration.ephemeralStorageMB)", "Architectures:",
                "  - \(configuration.architecture.rawValue)",
            ]
        let lines = [
            "AWSTemplateFormatVersion: \"2010-09-09\"", "Transform: AWS::Serverless-2016-10-31",
            "Description: \(yamlQuoted("\(description), projected \(runtimeText(option))"))", "Resources:",
            "  CapsizeFunction:", "    Type: AWS::Serverless::Function", "    Properties:",
        ]
        return (lines + properties.map { "      " + $0 }).joined(separator: "\n") + "\n"
    }

    /// An AWS Batch `RegisterJobDefinition` request (JSON) for the option's per-run resources.
    /// - Parameters:
    ///   - name: jobDefinitionName, `[A-Za-z0-9_-]{1,128}`.
    ///   - timeoutSeconds: nil means the projected runtime × `timeoutMargin`, at least 60.
    ///   - executionRoleArn: a Fargate job's execution role; nil: `DeployedJob.placeholderExecutionRoleArn`.
    /// - Throws: `InputError` when the result breaks a rule of the API (see `validateBatchJobDefinition`).
    public static func batchJobDefinition(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil, executionRoleArn: String? = nil
    ) throws(InputError) -> Data {
        try BatchJobDefinitionRequest(
            for: option, name: name, image: image, command: command, timeoutSeconds: timeoutSeconds,
            retryStrategy: retryStrategy, executionRoleArn: executionRoleArn
        ).json()
    }

    /// An AWS CloudFormation template (YAML) with one `AWS::Batch::JobDefinition` carrying the same definition as
    /// `batchJobDefinition`: what `cfn-lint` checks and `aws cloudformation deploy` takes. A Fargate job without
    /// `executionRoleArn` takes the role named by the template's `ExecutionRoleName` parameter in the account it is
    /// deployed to (`ecsTaskExecutionRole`, the name AWS's guides give it, by default).
    /// - Parameter isPlaceholder: the image is a placeholder, and the description says so.
    /// - Throws: `InputError` when the definition breaks a rule of the API.
    public static func batchJobDefinitionTemplate(
        for option: PlanOption, name: String, image: String, command: [String], timeoutSeconds: Int? = nil,
        retryStrategy: RetryStrategy? = nil, executionRoleArn: String? = nil, isPlaceholder: Bool = false
    ) throws(InputError) -> String {
        // The request that batchJobDefinition writes, validated, so the template and the JSON cannot drift apart.
        let request = try BatchJobDefinitionRequest(
            for: option, name: name, image: image, command: command, timeoutSeconds: timeoutSeconds,
            retryStrategy: retryStrategy, executionRoleArn: executionRoleArn)
        let container = request.containerProperties
        let placeholder = isPlaceholder ? placeholderNote : ""
        let roleParameter = container.executionRoleArn != nil && executionRoleArn == nil
        var lines = [
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            "Description: \(yamlQuoted("capsize: \(placeholder)\(option.summary), projected \(runtimeText(option)) per run"))",
        ]
        if roleParameter {
            lines += [
                "Parameters:", "  ExecutionRoleName:", "    Type: String", "    Default: ecsTaskExecutionRole",
                "    Description: The IAM role Fargate tasks run with to pull the image and write logs",
            ]
        }
        lines += [
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
        if roleParameter {
            lines.append(
                "        ExecutionRoleArn: !Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}\""
            )
        } else if let role = container.executionRoleArn {
            lines.append("        ExecutionRoleArn: \(yamlQuoted(role))")
        }
        if let network = container.networkConfiguration {
            lines += ["        NetworkConfiguration:", "          AssignPublicIp: \(network.assignPublicIp)"]
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

    /// A Slurm batch script for the option: `sbatchHeader`, then `command`, each word quoted with `Shell.quoted`
    /// (nothing in a word is expanded, and each stays one argument). Each array child runs it once.
    public static func sbatchScript(for option: PlanOption, jobName: String, runs: Int = 1, command: [String])
        -> String
    {
        sbatchHeader(for: option, jobName: jobName, runs: runs) + command.map(Shell.quoted).joined(separator: " ")
            + "\n"
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
