public import CapsizeCore
public import CloudModel
import Execution
import Foundation
public import Planning
public import Store
public import Workloads

/// A recommendation as asked, validated: the workload measured here, then every option projected and one picked.
public struct RecommendRequest {
    public var type: any Workload.Type
    /// The workload's parameter words (and `-- argv` for command).
    public var parameters: [String]
    /// The size the profile is for: the workload's size parameter as given, or its default.
    public var sizes: SizeList
    /// The size as given (or the default's text).
    public var sizeText: String
    public var runs: Int
    public var strategy: Strategy
    public var catalog: PriceCatalog
    /// Lambda memory sizes to consider, MB; nil for the catalog's presets.
    public var memories: [Int]?
    public var architectures: [Architecture]
    /// A new or empty folder for the deployment files of the pick, and of `exportOption` (an option's id).
    public var export: String?
    public var exportOption: String?
    /// The workload as sized, and what the exported files deploy (that workload when no command or function is
    /// given).
    public var sized: SizedWorkload
    public var job: DeployedJob
    public var governsCPUShare: Bool
    /// The variables of every function the profile invokes.
    public var variables: [String: String]

    /// - Throws: `InputError` naming the setting: the workload's parameters, `strategy`, `runs`, `prices`, `memory`,
    ///   `architectures`, `export`, the variables', and what `deploy` names (`image`, `command`, `function`,
    ///   `executionRole`).
    public init(
        workload: String, parameters: [String], runs: Int, strategy: String, memoryList: String?, architectures: String,
        prices: String?, export: String?, exportOption: String?, deploy: DeployWords = DeployWords(),
        governsCPUShare: Bool, variables: UserVariables
    ) throws(InputError) {
        let (type, values) = try WorkloadCatalog.parse(workload, arguments: parameters)
        _ = try type.init(parameters: values)
        self.type = type
        self.parameters = parameters
        self.strategy = try Strategy(parsing: strategy)
        guard (1...10_000_000).contains(runs) else {
            throw InputError(setting: "runs", value: "\(runs)", allowed: "an integer in 1...10000000")
        }
        self.runs = runs
        catalog = try prices.map { path throws(InputError) in try PriceCatalog.load(path: path) } ?? .embedded
        if let memoryList {
            memories = try memoryList.split(separator: ",", omittingEmptySubsequences: false).map {
                word throws(InputError) -> Int in
                guard let value = Int(word.trimmingCharacters(in: .whitespaces)),
                    FunctionConfiguration.memoryRange.contains(value)
                else {
                    throw InputError(setting: "memory", value: String(word), allowed: "128...10240 MB (Lambda's range)")
                }
                return value
            }
        }
        self.architectures = try architectures.split(separator: ",", omittingEmptySubsequences: false).map {
            word throws(InputError) -> Architecture in
            guard let value = Architecture(rawValue: word.trimmingCharacters(in: .whitespaces)) else {
                throw InputError(
                    setting: "architectures", value: String(word), allowed: "x86_64, arm64 or both, comma-separated")
            }
            return value
        }
        if let export { try ContainedPath.checkWritableFolder(export, setting: "export") }
        if let export, FileManager.default.fileExists(atPath: export),
            (try? FileManager.default.contentsOfDirectory(atPath: export))?.isEmpty == false
        {
            let existing = ["template.yaml", "batch-job-definition.json", "batch-job-definition.yaml", "job.sbatch"]
            if existing.contains(where: { FileManager.default.fileExists(atPath: export + "/" + $0) }) {
                throw InputError(
                    setting: "export", value: export,
                    allowed: "a new or empty directory (files there are never overwritten)")
            }
        }
        self.export = export
        self.exportOption = exportOption
        let sizeSpec = type.parameters.first { $0.name == type.sizeParameter }
        sizeText = values.values[type.sizeParameter] ?? sizeSpec?.defaultValue ?? "1"
        sizes = try SizeList(parsing: "\(type.sizeParameter)=\(sizeText)", workload: type)
        sized = try Self.sized(type, parameters: parameters, sizes: sizes)
        job = try deploy.job(workload: sized)
        // Without a function every file of the pick needs an image (SAM packages it, Batch runs it): say so before
        // measuring.
        if export != nil, job.function == nil { _ = try job.containerImage() }
        self.governsCPUShare = governsCPUShare
        self.variables = try variables.forFunction()
    }
}

extension RecommendRequest {
    /// The workload as the recommendation sizes it: every parameter (given or default) as `--name value` words, the
    /// size parameter at the size recommended for; for a workload that runs a program, that program's words.
    static func sized(_ type: any Workload.Type, parameters: [String], sizes: SizeList) throws(InputError)
        -> SizedWorkload
    {
        let values = try ParameterValues(
            arguments: sizes.arguments(parameters, size: sizes.sizes[0]), specs: type.parameters)
        var words: [String] = []
        for spec in type.parameters {
            guard let value = values.values[spec.name] ?? spec.defaultValue else { continue }
            if spec.kind == .flag {
                if value == "true" { words.append("--\(spec.name)") }
            } else {
                words += ["--\(spec.name)", value]
            }
        }
        let program = (try type.init(parameters: values) as? CommandWorkload)?.argv
        return SizedWorkload(name: type.name, parameters: words, program: program)
    }
}

/// What a recommendation says while it measures: recorded, then each rung of the profile.
public enum RecommendEvent {
    /// The profile is recorded as `run`; its rungs come next.
    case started(run: RunRecord)
    /// A rung of the profile was measured.
    case measured(WorkloadProfiler.Rung)
}

/// The profile, the recommendation projected from it, and the files exported.
public struct RecommendReport: Encodable {
    public var run: String
    /// The workload as sized: what an export runs when no command is given (`capsize export` reads it back).
    public var workload: SizedWorkload
    public var profile: WorkloadProfiler.Result
    public var recommendation: Recommendation
    public var exported: [String]
}

/// Recommends where a workload should run: profiles it here (a `WorkloadProfiler` ladder of cold invocations, recorded
/// in a run of its own), projects every option from the profile and the catalog, and writes the pick's deployment
/// files when asked.
public enum Recommend {
    public static func run(
        _ request: RecommendRequest, store: CapsizeStore, parameters: @autoclosure () -> any Encodable,
        onEvent: (RecommendEvent) -> Void = { _ in }
    ) async throws -> RecommendReport {
        let run = try store.createRun(kind: .sweep, parameters: parameters(), planned: nil)
        onEvent(.started(run: run))
        let profiler = WorkloadProfiler(
            points: WorkloadPoints(
                workload: request.type, arguments: request.parameters, sizes: request.sizes, store: store, runID: run.id
            ),
            target: request.sizes.sizes[0],
            settings: FunctionSettings(
                configuration: try FunctionConfiguration(memoryMB: 1_769, timeoutSeconds: 900),
                governsCPUShare: request.governsCPUShare, variables: request.variables, functionName: request.type.name)
        )
        let profiled = try await profiler.profile { onEvent(.measured($0)) }
        _ = try store.finish(run: run.id)
        let recommendation = try recommend(
            profile: profiled.profile, runs: request.runs, strategy: request.strategy, prices: request.catalog,
            lambdaMemories: request.memories, architectures: request.architectures)
        var written: [String] = []
        if let export = request.export {
            written = try exportFiles(
                recommendation, to: export, option: request.exportOption, name: request.type.name, job: request.job)
        }
        return RecommendReport(
            run: run.id, workload: request.sized, profile: profiled, recommendation: recommendation,
            exported: written)
    }

    /// Writes the deployment files of the pick (and of `option`) into `directory`, each running `job`; returns their
    /// paths. Nothing is written when one of them cannot be (`DeploymentFormat.text`).
    /// - Throws: `InputError` naming the setting `option` (not an option's id), `export` (a file there already, or
    ///   a file name that would not be one plain name inside `directory`, see `ContainedPath`), or what `job` lacks.
    public static func exportFiles(
        _ recommendation: Recommendation, to directory: String, option exportOption: String?, name: String,
        job: DeployedJob
    ) throws -> [String] {
        var chosen = recommendation.pick.map { [$0] } ?? []
        if let exportOption {
            guard let option = recommendation.options.first(where: { $0.id == exportOption }) else {
                throw InputError(
                    setting: "option", value: exportOption,
                    allowed: "an option id from the table: " + recommendation.options.map(\.id).joined(separator: ", "))
            }
            if !chosen.contains(option) { chosen.append(option) }
        }
        guard !chosen.isEmpty else { return [] }
        var files: [(name: String, text: String)] = []
        for option in chosen {
            let suffix = chosen.count > 1 ? "-\(option.id)" : ""
            let formats: [(DeploymentFormat, String)] =
                option.service == .lambda
                ? [(.sam, "template\(suffix).yaml")]
                : [
                    (.batchJobDefinition, "batch-job-definition\(suffix).json"),
                    (.cloudFormationBatch, "batch-job-definition\(suffix).yaml"), (.sbatch, "job\(suffix).sbatch"),
                ]
            for (format, file) in formats {
                files.append(
                    (file, try format.text(for: option, name: "capsize-\(name)", job: job, runs: recommendation.runs)))
            }
        }
        // An option's id is part of a name: every name is checked to be one plain name inside the folder before
        // anything is written, and each file is created new there (`ContainedPath`).
        for file in files { _ = try ContainedPath.path(of: file.name, in: directory, setting: "export") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for file in files {
            written.append(
                try ContainedPath.writeNew(Data(file.text.utf8), named: file.name, in: directory, setting: "export"))
        }
        return written
    }
}
