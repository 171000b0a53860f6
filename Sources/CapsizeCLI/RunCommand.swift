import ArgumentParser
import CapsizeCore
import Execution
import Foundation
import Reports
import Store
import Studies

/// `capsize run [SUITE] [--out DIR] [--backend local|slurm] [--resume RUN] [--quiet]`
struct RunCommand: InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a benchmark suite (YAML; the default suite without one) and write its report directory.",
        discussion: """
            Each benchmark of the suite runs as the commands would run it (bench, invoke, submit, sweep, caps, \
            recommend), each step recorded in the store as it ends. DIR gets report.html (charts, one \
            self-contained file), report.md, results.json and results.csv; `capsize report RUN` writes them again. \
            The suite's keys are in docs/suites.md; Benchmarks/Suites/ has examples.
              capsize run
              capsize run nightly.yaml --out nightly-report
              capsize run --resume 1a2b3c4d
            """)

    @Argument(help: ArgumentHelp("A suite file (YAML); the default suite without one.", valueName: "SUITE"))
    var suite: String?
    @Option(help: ArgumentHelp("Where the report goes (default: capsize-report).", valueName: "DIR")) var out: String?
    @Option(help: "Where batch benchmarks run: local (this machine) or slurm.") var backend: BatchBackendKind = .local
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted suite run (its id or a unique prefix): finished steps are kept.",
            valueName: "RUN"))
    var resume: String?
    @Flag(help: "Print nothing but errors and where the report is.") var quiet = false

    func run() async throws {
        let store = try openStore()
        var resuming: RunRecord?
        var parameters: SuiteRunParameters
        if let resume {
            guard suite == nil && backend == .local else {
                throw InputError(
                    field: "--resume", value: resume,
                    allowed: "no SUITE or --backend beside it (the run's own are used); --out and --quiet only")
            }
            let run = try takeOverRun(resume, kind: .suite, in: store)
            parameters = try StoredJSON.decode(SuiteRunParameters.self, from: run.parameters)
            if let out { parameters.outDirectory = URL(fileURLWithPath: out).path }
            resuming = run
        } else {
            let text: String
            if let suite {
                guard let data = FileManager.default.contents(atPath: suite) else {
                    throw InputError(field: "SUITE", value: suite, allowed: "a readable YAML file")
                }
                text = String(decoding: data, as: UTF8.self)
            } else {
                text = Suite.defaultText
            }
            parameters = SuiteRunParameters(
                suiteFile: suite ?? Suite.defaultFile, suiteText: text, backend: backend.rawValue,
                outDirectory: URL(fileURLWithPath: out ?? "capsize-report").path)
        }
        let suite = try Suite(yaml: parameters.suiteText, file: parameters.suiteFile)
        let found = discoverDevices()
        let plan = try SuitePlan(
            suite, devices: found.devices.map(\.info), backend: BatchBackendKind(rawValue: parameters.backend) ?? .local
        )
        let progress = SuiteProgress(plan: plan, quiet: quiet)
        let steps: [SuiteStepResult]
        do {
            steps = try await SuiteRunner.run(
                plan, store: store, resuming: resuming, parameters: parameters, devices: found, onEvent: progress.show)
        } catch StudyFailure.interrupted(let run, let kind) {
            // The steps that finished are in the report already; the rest come with --resume.
            progress.finish()
            if let record = try? store.run(id: run), let recorded = try? SuiteRunner.results(of: run, in: store) {
                let results = SuiteResults(
                    run: record, suite: suite, suiteFile: parameters.suiteFile, steps: recorded,
                    version: CapsizeVersion.current)
                if let written = try? SuiteReportDirectory.write(results, to: parameters.outDirectory) {
                    notice("the finished steps' report (interrupted): \(written[0])")
                }
            }
            throw StudyFailure.interrupted(run: run, kind: kind)
        }
        progress.finish()
        let run = try store.run(id: progress.runID)
        let results = SuiteResults(
            run: run, suite: suite, suiteFile: parameters.suiteFile, steps: steps, version: CapsizeVersion.current)
        let written = try SuiteReportDirectory.write(results, to: parameters.outDirectory)
        say("report: \(written[0]) (and report.md, results.json, results.csv); run \(run.shortID) in \(store.path)")
        let failed = results.benchmarks.flatMap(\.steps).filter { $0.failure != nil }
        if !failed.isEmpty {
            throw CommandFailure(
                message: "\(failed.count) step(s) failed: " + failed.map(\.key).joined(separator: ", ")
                    + " (see the report)")
        }
    }
}

/// `capsize report RUN [--out DIR]`: the report directory of a suite run, written again from the store.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a suite run's report directory again from the store.",
        discussion: """
            RUN is a suite run's id or a unique prefix (see `capsize runs list`); nothing runs.
              capsize report 1a2b3c4d --out old-report
            """)

    @Argument(help: ArgumentHelp("The suite run.", valueName: "RUN")) var runID: String
    @Option(help: ArgumentHelp("Where the report goes (default: where the run wrote it).", valueName: "DIR"))
    var out: String?

    func run() throws {
        let store = try openStore()
        try store.markStaleRunsInterrupted()
        let record = try findRun(runID, in: store, field: "RUN")
        guard record.kind == .suite else {
            throw InputError(
                field: "RUN", value: runID, allowed: "a suite run (\(record.shortID) is a \(record.kind) run)")
        }
        let parameters = try StoredJSON.decode(SuiteRunParameters.self, from: record.parameters)
        let suite = try Suite(yaml: parameters.suiteText, file: parameters.suiteFile)
        let results = SuiteResults(
            run: record, suite: suite, suiteFile: parameters.suiteFile,
            steps: try SuiteRunner.results(of: record.id, in: store), version: CapsizeVersion.current)
        let written = try SuiteReportDirectory.write(results, to: out ?? parameters.outDirectory)
        say("report: \(written[0]) (and report.md, results.json, results.csv)")
    }
}
