public import CapsizeCore
public import CloudModel
import Foundation

/// What an exported file deploys: the user's container image and command, the user's own Lambda function, or
/// capsize's own workload run as the recommendation sized it. A value that was not given is refused where a file
/// needs it, unless a placeholder was asked for, and then the file names it as a placeholder.
public struct DeployedJob: Sendable, Equatable {
    /// The container image of a Batch or Fargate job, or of a Lambda function packaged as an image; nil: none given.
    public var image: String?
    /// The program and its arguments; nil: the workload's command as sized.
    public var command: [String]?
    /// A function `capsize function create` defined: a SAM template deploys its code, handler and runtime.
    public var function: FunctionDefinition?
    /// Whether a placeholder may stand for an image or an execution role that was not given.
    public var placeholder: Bool
    /// The IAM role a Fargate job's tasks run with to pull the image and write logs; nil: none given.
    public var executionRoleArn: String?
    /// The workload the recommendation measured, as sized.
    public var workload: SizedWorkload?

    /// The image named when none is given and a placeholder is asked for: a reserved domain (`.invalid`, RFC 2606),
    /// so that it can never be pulled by mistake.
    public static let placeholderImage = "placeholder.invalid/replace-with-your-image:placeholder"
    /// The execution role named when none is given and a placeholder is asked for (account 000000000000).
    public static let placeholderExecutionRoleArn = "arn:aws:iam::000000000000:role/replace-with-your-execution-role"

    /// - Throws: `InputError` naming the setting `image` (not a container image reference), `command` (empty, or a
    ///   word no program can take), `executionRole` (not an IAM role ARN) or `function` (given with an image or a
    ///   command: a function's code is what it deploys).
    public init(
        image: String? = nil, command: [String]? = nil, function: FunctionDefinition? = nil, placeholder: Bool = false,
        executionRoleArn: String? = nil, workload: SizedWorkload? = nil
    ) throws(InputError) {
        if let image { try ContainerImage.check(image) }
        if let command { try Self.check(command: command) }
        if let executionRoleArn, executionRoleArn.wholeMatch(of: Self.roleArnPattern) == nil {
            throw InputError(
                setting: "executionRole", value: executionRoleArn,
                allowed: "an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME (12 digits, then the role's path and name)")
        }
        if let function, image != nil || command != nil {
            throw InputError(
                setting: "function", value: function.name,
                allowed: "a function alone: its code, handler and runtime are what is deployed (not with "
                    + "\(InputError.mention("image")) or \(InputError.mention("command")))")
        }
        self.image = image
        self.command = command
        self.function = function
        self.placeholder = placeholder
        self.executionRoleArn = executionRoleArn
        self.workload = workload
    }

    nonisolated(unsafe) static let roleArnPattern = /arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_\/-]{1,512}/

    /// A command is at least a program, and every word is one a program can receive (no NUL byte).
    static func check(command: [String]) throws(InputError) {
        guard let program = command.first, !program.isEmpty else {
            throw InputError(
                setting: "command", value: command.first ?? "",
                allowed: "a program and its arguments, one word each (the program not empty)")
        }
        if let word = command.first(where: { $0.contains("\u{0}") }) {
            throw InputError(setting: "command", value: word, allowed: "words without NUL bytes")
        }
    }

    /// The image a container file names: the one given, else the placeholder when one is asked for.
    /// - Throws: `InputError` naming the setting `image` when none was given and no placeholder was asked for.
    public func containerImage() throws(InputError) -> (image: String, isPlaceholder: Bool) {
        try given(
            image, or: Self.placeholderImage, setting: "image",
            allowed: "a container image that runs the job: pass \(InputError.mention("image")) IMAGE (e.g. "
                + "public.ecr.aws/my/job:1.0)")
    }

    /// The execution role of a Fargate job: the one given, else the placeholder when one is asked for.
    /// - Throws: `InputError` naming the setting `executionRole` when none was given and no placeholder was asked for.
    public func fargateExecutionRole() throws(InputError) -> (arn: String, isPlaceholder: Bool) {
        try given(
            executionRoleArn, or: Self.placeholderExecutionRoleArn, setting: "executionRole",
            allowed: "the execution role a Fargate job needs: pass \(InputError.mention("executionRole")) "
                + "arn:aws:iam::ACCOUNT:role/NAME")
    }

    /// `value`, else `placeholder` when one is asked for, and whether it is the placeholder.
    private func given(_ value: String?, or placeholder: String, setting: String, allowed: String) throws(InputError)
        -> (String, Bool)
    {
        if let value { return (value, false) }
        guard self.placeholder else {
            throw InputError(
                setting: setting, value: "",
                allowed: allowed + ", or \(InputError.mention("placeholder")) to write a placeholder")
        }
        return (placeholder, true)
    }

    /// The command a job on `option` runs: the one given, else the workload's as sized (on a GPU option, on the GPU).
    /// - Throws: `InputError` naming the setting `command` when there is neither.
    public func jobCommand(for option: PlanOption) throws(InputError) -> [String] {
        if let command { return command }
        if let workload { return workload.command(gpu: option.gpus > 0) }
        throw InputError(
            setting: "command", value: "",
            allowed: "the program the job runs and its arguments (the recommendation does not say which workload "
                + "it measured)")
    }
}

/// A container image reference as Docker and ECR take it: `[registry[:port]/]name[:tag][@digest]`, the name's
/// components lowercase, at most 255 characters (AWS Batch's limit on `image`).
public enum ContainerImage {
    /// A registry: `localhost`, a host name with a dot, or any host with a port; then the name's components, a tag
    /// and a digest (Docker's reference grammar, github.com/distribution/reference).
    nonisolated(unsafe) static let pattern =
        /(?:(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)(?::[0-9]+)?\/|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?:[0-9]+\/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?/

    /// What `check` allows, in words.
    public static let rule =
        "a container image reference [REGISTRY/]NAME[:TAG][@DIGEST], lowercase name, at most 255 characters, "
        + "e.g. public.ecr.aws/my/job:1.0"

    /// - Throws: `InputError` naming the setting `image` for text that is not an image reference.
    public static func check(_ reference: String) throws(InputError) {
        guard reference.utf8.count <= 255, reference.wholeMatch(of: pattern) != nil else {
            throw InputError(setting: "image", value: reference, allowed: rule)
        }
    }
}

/// capsize's own workload as a recommendation measured it: its name, its parameters with the size the
/// recommendation is for, and, for a workload that runs a program (`command`), that program's words.
public struct SizedWorkload: Codable, Sendable, Equatable {
    /// The workload's name (`train-mlp`).
    public var name: String
    /// Every parameter as `--name value` words, the size parameter at the size recommended for.
    public var parameters: [String]
    /// The program a `command` workload runs, placeholders filled; nil for capsize's own workloads.
    public var program: [String]?

    public init(name: String, parameters: [String], program: [String]? = nil) {
        self.name = name
        self.parameters = parameters
        self.program = program
    }

    /// The command that does one run: the program, or `capsize bench` of the workload once, unmeasured runs none,
    /// on the device the option has (the GPU on a GPU option, else the CPU the profile measured).
    public func command(gpu: Bool) -> [String] {
        if let program { return program }
        return ["capsize", "bench", name] + parameters + [
            "--device", gpu ? "gpu" : "cpu", "--repeat", "1", "--warmup", "0",
        ]
    }
}
