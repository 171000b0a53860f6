import ArgumentParser
import CapsizeCore
import CloudModel
import Execution
import Foundation
import Reports
import Planning
import Store
import Workloads

/// `capsize recommend WORKLOAD [params] [--runs N] [--strategy cost|speed|balanced] [--export DIR]`
struct RecommendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Where a workload should run and what it costs: Lambda, Fargate, Batch on CPU and GPU instances.",
        discussion: """
            The workload is measured here first (a ladder of sizes up to the one asked for, as cold function
            invocations on one thread, then on every core for an Amdahl fit). Every option is then projected from
            those measurements and the price catalog: runtime, start-up, cost per run and for --runs runs, and
            feasibility against every cap. The pick follows the strategy, with the reasons.
              capsize recommend render-frames --frames 10000
              capsize recommend train-mlp --hidden 4096 --steps 500 --runs 1000 --strategy cost --export out/
            """)

    @Argument(help: ArgumentHelp(WorkloadCatalog.namesInWords + ".")) var workload: String
    @Option(help: "Independent runs to plan for (1...10000000).") var runs = 1
    @Option(help: "cost, speed or balanced.") var strategy = "balanced"
    @Option(help: ArgumentHelp("Lambda memory sizes to consider, MB, comma-separated (default: the catalog's presets).", valueName: "LIST"))
    var memory: String?
    @Option(help: ArgumentHelp("Architectures for Lambda and Fargate: x86_64, arm64 or both, comma-separated.", valueName: "LIST"))
    var architectures = "x86_64,arm64"
    @Option(help: ArgumentHelp("A price catalog to use instead of the embedded one.", valueName: "FILE")) var prices: String?
    @Option(help: ArgumentHelp("Write deployment files for the pick (and --option) into DIR.", valueName: "DIR"))
    var export: String?
    @Option(name: .customLong("option"), help: ArgumentHelp("Also export this option (its id from the table).", valueName: "ID"))
    var exportOption: String?
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        let (type, values) = try WorkloadCatalog.parse(workload, arguments: parameters)
        _ = try type.init(parameters: values)
        let strategy = try Strategy(parsing: strategy)
        guard (1...10_000_000).contains(runs) else {
            throw InputError(field: "--runs", value: "\(runs)", allowed: "an integer in 1...10000000")
        }
        let catalog = try prices.map { path throws(InputError) in try PriceCatalog.load(path: path) } ?? .embedded
        var memories: [Int]?
        if let memory {
            memories = try memory.split(separator: ",").map { word throws(InputError) -> Int in
                guard let value = Int(word.trimmingCharacters(in: .whitespaces)), FunctionConfiguration.memoryRange.contains(value)
                else { throw InputError(field: "--memory", value: String(word), allowed: "128...10240 MB (Lambda's range)") }
                return value
            }
        }
        let architectureList = try architectures.split(separator: ",").map { word throws(InputError) -> Architecture in
            guard let value = Architecture(rawValue: word.trimmingCharacters(in: .whitespaces)) else {
                throw InputError(field: "--architectures", value: String(word), allowed: "x86_64, arm64 or both, comma-separated")
            }
            return value
        }
        if let export, FileManager.default.fileExists(atPath: export),
            (try? FileManager.default.contentsOfDirectory(atPath: export))?.isEmpty == false
        {
            let existing = ["template.yaml", "batch-job-definition.json", "batch-job-definition.yaml", "job.sbatch"]
            if existing.contains(where: { FileManager.default.fileExists(atPath: export + "/" + $0) }) {
                throw InputError(field: "--export", value: export, allowed: "a new or empty directory (files there are never overwritten)")
            }
        }
        let sizeSpec = type.parameters.first { $0.name == type.sizeParameter }
        let sizeText = values.values[type.sizeParameter] ?? sizeSpec?.defaultValue ?? "1"
        let sizes = try SizeList(parsing: "\(type.sizeParameter)=\(sizeText)", workload: type)

        let variables = try environmentOptions.functionVariables()
        let store = try openStore()
        let run = try store.createRun(
            kind: .sweep, parameters: SweepRunParameters(arguments: ["recommend"] + ownArguments(after: "recommend")),
            planned: nil)
        if !json { say("profiling \(type.name) at \(type.sizeParameter)=\(sizeText) here (measured; run \(run.shortID)):") }
        let profiler = WorkloadProfiler(
            workload: type, arguments: parameters, sizes: sizes, target: sizes.sizes[0], store: store, runID: run.id,
            quiet: json,
            settings: FunctionSettings(
                configuration: try FunctionConfiguration(memoryMB: 1_769, timeoutSeconds: 900),
                governsCPUShare: cpuShare.governs, variables: variables, functionName: type.name))
        let profiled = try await profiler.profile()
        _ = try store.finish(run: run.id)
        let recommendation = try recommend(
            profile: profiled.profile, runs: runs, strategy: strategy, prices: catalog, lambdaMemories: memories,
            architectures: architectureList)
        var written: [String] = []
        if let export {
            written = try exportFiles(recommendation, to: export, name: type.name)
        }
        if json {
            return try printJSON(RecommendReport(run: run.id, profile: profiled, recommendation: recommendation, exported: written))
        }
        print(profiled, recommendation, catalog: catalog)
        for path in written { say("exported \(path)") }
    }

    /// Writes the deployment files of the pick (and of `--option`) into `directory`; returns their paths.
    func exportFiles(_ recommendation: Recommendation, to directory: String, name: String) throws -> [String] {
        var chosen = recommendation.pick.map { [$0] } ?? []
        if let exportOption {
            guard let option = recommendation.options.first(where: { $0.id == exportOption }) else {
                throw InputError(
                    field: "--option", value: exportOption,
                    allowed: "an option id from the table: " + recommendation.options.map(\.id).joined(separator: ", "))
            }
            if !chosen.contains(option) { chosen.append(option) }
        }
        guard !chosen.isEmpty else { return [] }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func write(_ text: String, _ file: String) throws {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file).path
            guard !FileManager.default.fileExists(atPath: path) else {
                throw InputError(field: "--export", value: path, allowed: "a path that does not exist yet (never overwritten)")
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        let command = ["capsize", "worker"]
        for option in chosen {
            let suffix = chosen.count > 1 ? "-\(option.id)" : ""
            switch option.service {
            case .lambda:
                try write(try Export.samTemplate(for: option, functionName: "capsize-\(name)"), "template\(suffix).yaml")
            case .fargate, .batchEC2:
                let definition = try Export.batchJobDefinition(
                    for: option, name: "capsize-\(name)", image: "capsize:latest", command: command)
                try write(String(decoding: definition, as: UTF8.self) + "\n", "batch-job-definition\(suffix).json")
                try write(try Export.batchJobDefinitionTemplate(for: option, name: "capsize-\(name)", image: "capsize:latest", command: command),
                          "batch-job-definition\(suffix).yaml")
                try write(Export.sbatchHeader(for: option, jobName: "capsize-\(name)", runs: recommendation.runs), "job\(suffix).sbatch")
            }
        }
        return written
    }

    private func print(_ profiled: WorkloadProfiler.Result, _ recommendation: Recommendation, catalog: PriceCatalog) {
        let profile = profiled.profile
        say("profile of one run:")
        say("  runtime on 1 thread here: \(fmtSeconds(profile.localSeconds)) (\(profiled.secondsBasis))")
        say("  peak memory: \(fmt(profile.peakMemoryMB)) MB (\(profiled.memoryBasis))")
        if let amdahl = profiled.amdahl {
            say("  CPU scaling: serial fraction \(fmt(amdahl.serialFraction)) (Amdahl fit of 1 and \(Int(profiled.rungs.map(\.threads).max() ?? 1)) threads, measured)")
        }
        if let startup = profile.startupSeconds { say("  cold start (Init): \(fmtSeconds(startup)) (measured)") }
        if let flops = profile.flops { say("  FLOPs: \(String(format: "%.3g", flops)) (analytical)") }
        say("  GPU: " + (profiled.gpuBasis ?? "no GPU run of this workload in the store; GPU runtimes are projected from the FP32 rates of the catalog (spec sheets)"))
        say("\nevery option for \(recommendation.runs) run(s) (all runtimes and costs projected; prices: \(catalog.version), \(catalog.region)):")
        let rows = recommendation.options.map { option -> [String] in
            [
                option.id, option.summary,
                option.runtime.map { fmtSeconds($0.seconds) } ?? "-",
                "\(fmtSeconds(option.startup.lower))–\(fmtSeconds(option.startup.upper))",
                option.costPerRun.map { dollars($0.dollars) } ?? "-",
                option.costForRuns.map { dollars($0.dollars) } ?? "-",
                option.isFeasible ? (option.warnings.isEmpty ? "yes" : "yes, near a cap") : "no: " + option.infeasibleReasons.joined(separator: "; "),
            ]
        }
        say(table(["ID", "OPTION", "RUNTIME", "START-UP", "COST/RUN", "COST ×\(recommendation.runs)", "FEASIBLE"], rows))
        if let pick = recommendation.pick {
            say("\npick (\(recommendation.strategy.rawValue)): \(pick.summary) [\(pick.id)]")
            if let runtime = pick.runtime { say("  runtime \(fmtSeconds(runtime.seconds)) (projected: \(runtime.basis))") }
            if let cost = pick.costForRuns { say("  cost for \(recommendation.runs) run(s): \(dollars(cost.dollars)) (projected from prices: \(cost.breakdown))") }
        } else {
            say("\nno option is feasible")
        }
        for reason in recommendation.reasons { say("  - \(reason)") }
        say("the best of each kind (\(recommendation.strategy.rawValue), projected):")
        for alternative in recommendation.bestOfEach {
            let option = alternative.option
            var line = "  \(alternative.kind): \(option.summary)"
            if option.isFeasible, let runtime = option.runtime, let cost = option.costForRuns {
                line += " — \(fmtSeconds(runtime.seconds)) per run, \(dollars(cost.dollars)) for \(recommendation.runs) run(s)"
            }
            say(line + "; \(alternative.comparison)")
        }
        if !recommendation.warnings.isEmpty {
            say("warnings:")
            for warning in recommendation.warnings { say("  ! \(warning)") }
        }
        say("notes:")
        for note in recommendation.notes { say("  · \(note)") }
    }

    private func dollars(_ value: Double) -> String {
        value >= 0.01 ? String(format: "$%.2f", value) : String(format: "$%.3g", value)
    }
}

struct RecommendReport: Encodable {
    var run: String
    var profile: WorkloadProfiler.Result
    var recommendation: Recommendation
    var exported: [String]
}
