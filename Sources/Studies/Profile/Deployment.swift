public import CapsizeCore
import Foundation
public import Planning

/// A deployment file of a recommended option: an AWS SAM template (Lambda), an AWS Batch RegisterJobDefinition
/// request (JSON) or the same as a CloudFormation template (Fargate and Batch), or an sbatch header.
public enum DeploymentFormat: String, CaseIterable, Sendable {
    case sam
    case batchJobDefinition = "batch-job-definition"
    case cloudFormationBatch = "cloudformation-batch"
    case sbatch

    /// The program a job or a function runs: capsize's worker.
    static let command = ["capsize", "worker"]

    /// - Throws: `InputError` naming the setting `format` for a name that is not one of the formats.
    public init(parsing name: String) throws(InputError) {
        guard let format = Self(rawValue: name) else {
            throw InputError(
                setting: "format", value: name, allowed: Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = format
    }

    /// The file for `option`: the function, job definition or Slurm job called `name`, a Batch job's container
    /// `image`, an sbatch array for `runs` runs.
    /// - Throws: `InputError` naming the setting `format` for a Batch file of a Lambda option, `name` when it is empty,
    ///   `image` when it is empty or more than one line.
    public func text(for option: PlanOption, name: String, image: String = "capsize:latest", runs: Int) throws
        -> String
    {
        if name.isEmpty {
            throw InputError(setting: "name", value: "", allowed: "a name of at least one character")
        }
        if image.isEmpty || image.contains(where: \.isNewline) {
            throw InputError(
                setting: "image", value: image, allowed: "a container image on one line, e.g. capsize:latest")
        }
        if self == .batchJobDefinition || self == .cloudFormationBatch, option.service == .lambda {
            throw InputError(
                setting: "format", value: rawValue, allowed: "a Fargate or Batch option (this is \(option.summary))")
        }
        switch self {
        case .sam:
            return try Export.samTemplate(for: option, functionName: name)
        case .batchJobDefinition:
            let json = try Export.batchJobDefinition(for: option, name: name, image: image, command: Self.command)
            return String(decoding: json, as: UTF8.self) + "\n"
        case .cloudFormationBatch:
            return try Export.batchJobDefinitionTemplate(for: option, name: name, image: image, command: Self.command)
        case .sbatch:
            return Export.sbatchHeader(for: option, jobName: name, runs: runs)
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
