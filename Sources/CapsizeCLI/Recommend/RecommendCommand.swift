import ArgumentParser
import Reports
import Store
import Studies
import Workloads

/// `capsize recommend WORKLOAD [params] [--runs N] [--strategy cost|speed|balanced] [--export DIR]`
struct RecommendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Where a workload should run and what it costs: Lambda, Fargate, Batch on CPU and GPU instances.",
        discussion: """
            The workload is measured here first (a ladder of sizes up to the one asked for, as cold function \
            invocations on one thread, then on every core for an Amdahl fit). Every option is then projected from \
            those measurements and the price catalog: runtime, start-up, cost per run and for --runs runs, and \
            feasibility against every cap. The pick follows the strategy, with the reasons.
              capsize recommend render-frames --frames 10000
              capsize recommend train-mlp --hidden 4096 --runs 1000 --strategy cost
            """)

    @Argument(help: ArgumentHelp(WorkloadCatalog.namesInWords + ".")) var workload: String
    @Option(parsing: .unconditional, help: "Independent runs to plan for (1...10000000).") var runs = 1
    @Option(help: "cost, speed or balanced.") var strategy = "balanced"
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Lambda memory sizes to consider, MB, comma-separated (default: the catalog's presets).", valueName: "LIST")
    )
    var memory: String?
    @Option(
        help: ArgumentHelp(
            "Architectures for Lambda and Fargate: x86_64, arm64 or both, comma-separated.", valueName: "LIST"))
    var architectures = "x86_64,arm64"
    @Option(help: ArgumentHelp("A price catalog to use instead of the embedded one.", valueName: "FILE")) var prices:
        String?
    @Option(help: ArgumentHelp("Write deployment files for the pick (and --option) into DIR.", valueName: "DIR"))
    var export: String?
    @Option(
        name: .customLong("option"),
        help: ArgumentHelp("Also export this option (its id from the table).", valueName: "ID"))
    var exportOption: String?
    @OptionGroup var deploy: DeployOptions
    @OptionGroup var environment: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @Flag(help: "List every option, not only the best 3 of each kind.") var all = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        let request = try RecommendRequest(
            workload: workload, parameters: parameters, runs: runs, strategy: strategy, memoryList: memory,
            architectures: architectures, prices: prices, export: export, exportOption: exportOption,
            deploy: deploy.words,
            governsCPUShare: cpuShare.governs, variables: environment.variables)
        let store = try openStore()
        let report = try await Recommend.run(
            request, store: store,
            parameters: StoredArguments(arguments: ["recommend"] + ownArguments(after: "recommend"))
        ) { event in
            guard !json else { return }
            switch event {
            case .started(let run): say(RecommendText.started(request, run: run.shortID))
            case .measured(let rung): say(RecommendText.rung(rung, sizes: request.sizes))
            }
        }
        if json { return try printJSON(report) }
        say(
            RecommendText.summary(
                report.profile, report.recommendation, catalog: request.catalog, all: all, hints: .commandLine))
        for path in report.exported { say("exported \(path)") }
    }
}
