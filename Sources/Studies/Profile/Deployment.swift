public import CapsizeCore
import Foundation
public import Planning

/// A deployment file of a recommended option: an AWS SAM template (Lambda), an AWS Batch RegisterJobDefinition
/// request (JSON) or the same as a CloudFormation template (Fargate and Batch), or an sbatch script.
public enum DeploymentFormat: String, CaseIterable, Sendable {
    case sam
    case batchJobDefinition = "batch-job-definition"
    case cloudFormationBatch = "cloudformation-batch"
    case sbatch

    /// - Throws: `InputError` naming the setting `format` for a name that is not one of the formats.
    public init(parsing name: String) throws(InputError) {
        guard let format = Self(rawValue: name) else {
            throw InputError(
                setting: "format", value: name, allowed: Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = format
    }

    /// The file for `option`: the function, job definition or Slurm job called `name`, running `job`, an sbatch array
    /// for `runs` runs.
    /// - Throws: `InputError` naming the setting `format` for a Batch file of a Lambda option, `name` when it is empty,
    ///   `image` when a container file has none and no placeholder was asked for, `executionRole` likewise for a
    ///   Fargate job definition's JSON, `function` for a Batch or Slurm file of a function, `command` when there is
    ///   no command to run.
    public func text(for option: PlanOption, name: String, job: DeployedJob, runs: Int) throws -> String {
        if name.isEmpty {
            throw InputError(setting: "name", value: "", allowed: "a name of at least one character")
        }
        if self == .batchJobDefinition || self == .cloudFormationBatch, option.service == .lambda {
            throw InputError(
                setting: "format", value: rawValue, allowed: "a Fargate or Batch option (this is \(option.summary))")
        }
        if self != .sam, let function = job.function {
            throw InputError(
                setting: "function", value: function.name,
                allowed: "a Lambda option (a function deploys as a SAM template; this is \(option.summary)): for a "
                    + "Batch job pass \(InputError.mention("image")) and \(InputError.mention("command"))")
        }
        switch self {
        case .sam:
            if let function = job.function { return try Export.samTemplate(for: option, function: function) }
            let (image, isPlaceholder) = try job.containerImage()
            return try Export.samTemplate(
                for: option, functionName: name, image: image, command: try job.jobCommand(for: option),
                isPlaceholder: isPlaceholder)
        case .batchJobDefinition:
            let image = try job.containerImage().image
            let role = option.service == .fargate ? try job.fargateExecutionRole().arn : nil
            let json = try Export.batchJobDefinition(
                for: option, name: name, image: image, command: try job.jobCommand(for: option),
                executionRoleArn: role)
            return String(decoding: json, as: UTF8.self) + "\n"
        case .cloudFormationBatch:
            let (image, isPlaceholder) = try job.containerImage()
            return try Export.batchJobDefinitionTemplate(
                for: option, name: name, image: image, command: try job.jobCommand(for: option),
                executionRoleArn: job.executionRoleArn, isPlaceholder: isPlaceholder)
        case .sbatch:
            return Export.sbatchScript(
                for: option, jobName: name, runs: runs, command: try job.jobCommand(for: option))
        }
    }
}

extension Recommendation {
    /// Ids as an error lists them: on one line, at most 40 of them, each cut at 80 characters.
    static func listed(_ ids: [String]) -> String {
        let shown = ids.prefix(40).map { id in
            InputError.oneLine(id.count > 80 ? String(id.prefix(80)) + "…" : id)
        }
        return shown.joined(separator: ", ") + (ids.count > 40 ? " and \(ids.count - 40) more" : "")
    }

    /// The option whose id is `id`, or the pick when `id` is nil.
    /// - Throws: `InputError` naming the setting `option` for an id that is not an option's, or a recommendation
    ///   without a feasible pick.
    public func option(_ id: String?) throws(InputError) -> PlanOption {
        guard let id else {
            guard let pick else {
                throw InputError(
                    setting: "option", value: "", allowed: "an option id (the recommendation has no feasible pick)")
            }
            return pick
        }
        guard let found = options.first(where: { $0.id == id }) else {
            throw InputError(
                setting: "option", value: id,
                allowed: "an option id of the recommendation: " + Self.listed(options.map(\.id)))
        }
        return found
    }
}
