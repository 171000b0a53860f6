import ArgumentParser
import CapsizeCore
import CloudModel
import Execution
import Foundation
import Reports
import Store
import Workloads

/// `capsize sweep WORKLOAD --param NAME=a,b,c|a..b*2 --executor function|batch [--memory LIST] [--timeout S] [--repeat N]`
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Step a workload's size up under an executor until a cap breaks; fit time and memory against size.",
        discussion: """
            For each memory setting, sizes are run in order (each repetition a fresh cold environment or job) until
            one ends at a cap (timeout or memory kill); one more size confirms the break, then that series stops.
            Durations and peak memory are measured here; the fits and the breaks they predict are projections.
              capsize sweep train-mlp --param hidden=256..8192*2 --executor function --memory 512,3008 --timeout 10
              capsize sweep command --param size=1,2,4,8 --executor batch --memory 256 --timeout 5 -- sh -c 'sleep {size}'
            """)

    @Argument(help: "train-mlp, render-frames or command.") var workload: String?
    @Option(help: ArgumentHelp(
        "The size parameter and its sizes: NAME=a,b,c (listed), NAME=a..b*F (geometric) or NAME=a..b+S.",
        valueName: "NAME=SIZES"))
    var param: String?
    @Option(help: "function (Lambda model) or batch (Batch model).") var executor: SweepExecutor = .function
    @Option(help: ArgumentHelp("Memory settings in MB (function, 128...10240) or MiB (batch job limit), comma-separated.", valueName: "LIST"))
    var memory = "1769"
    @Option(help: "Timeout in seconds (function: 1...900; batch: the attempt duration).") var timeout = 60
    @Option(name: .customLong("repeat"), help: "Repetitions per point (1...100).") var repeats = 1
    @Option(help: "vCPUs of each batch job.") var vcpus = 1.0
    @Option(help: "x86_64 or arm64 (the Lambda price the records use).") var architecture = "x86_64"
    @Option(help: ArgumentHelp("Continue an interrupted sweep run: recorded samples are kept, the rest run.", valueName: "RUN"))
    var resume: String?
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    func run() async throws {
        guard let resume else { return try await sweep(resuming: nil) }
        guard workload == nil && parameters.isEmpty else {
            throw InputError(field: "--resume", value: resume, allowed: "no workload beside it (the run's own is used)")
        }
        let store = try openStore()
        let run = try takeOverRun(resume, kind: .sweep, in: store)
        let stored = try StoredJSON.decode(SweepRunParameters.self, from: run.parameters)
        var original = try SweepCommand.parse(stored.arguments)
        original.json = json
        try await original.sweep(resuming: run)
    }

    func sweep(resuming: RunRecord?) async throws {
        let plan = try SweepPlan(
            workload: workload, parameters: parameters, param: param, memoryList: memory, defaultMemories: [],
            repeats: repeats, executor: executor.rawValue, timeout: timeout, architecture: architecture,
            governsCPUShare: cpuShare.governs)
        if executor == .batch {
            guard vcpus > 0 && vcpus <= Double(ProcessInfo.processInfo.activeProcessorCount) else {
                throw InputError(
                    field: "--vcpus", value: fmt(vcpus),
                    allowed: "more than 0 and at most this machine's \(ProcessInfo.processInfo.activeProcessorCount) cores")
            }
        }
        let store = try openStore()
        let variables = try executor == .function
            ? environmentOptions.functionVariables() : environmentOptions.batchVariables()
        let run = try resuming ?? store.createRun(
            kind: .sweep, parameters: SweepRunParameters(arguments: ownArguments(after: "sweep")), planned: nil)
        let series = try await plan.execute(
            run: run, store: store, timeoutSeconds: timeout, refine: nil, vcpus: vcpus, quiet: json,
            resuming: resuming != nil, variables: variables)
        _ = try store.finish(run: run.id)
        let report = SweepReport(run: run.id, plan: plan, series: series, timeScale: 1)
        if json { return try printJSON(report) }
        report.print()
        say("recorded as run \(run.shortID) in \(store.path)")
    }
}

/// What `--executor` runs each point as.
enum SweepExecutor: String, CaseIterable, ExpressibleByArgument {
    /// The Lambda model (`FunctionExecutor`).
    case function
    /// The Batch model (`BatchExecutor`).
    case batch
}

/// Stands in for an executor when a finished run is analysed again: every sample must have been recorded.
struct RecordedOnlyRunner: SweepPointRunner {
    var run: String

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        throw CommandFailure(message: "run \(run) has no record of \(itemKey): it did not finish; continue it with --resume")
    }
}

/// What a sweep or caps run stores: its own arguments, to parse again on `--resume`.
struct SweepRunParameters: Codable {
    var arguments: [String]
}

/// A validated sweep: the workload, its base parameters, the sizes, the memory settings, the executor.
struct SweepPlan: Encodable {
    var workload: String
    /// The workload's type (`workload` is its name).
    var type: any Workload.Type
    var arguments: [String]
    var sizes: SizeList
    var memories: [Int]
    var repeats: Int
    var executor: String
    /// `executor` as the enum (`executor` stays the text the report and the stored JSON carry).
    var kind: SweepExecutor
    var architecture: Architecture
    /// Whether functions and jobs are held to their vCPU share (`--no-cpu-share` turns it off).
    var governsCPUShare: Bool

    enum CodingKeys: String, CodingKey {
        case workload, arguments, memories, repeats, executor, architecture, governsCPUShare
    }

    /// - Parameter defaultMemories: memory settings used besides (caps) or instead of (sweep, when empty) the list.
    init(
        workload: String?, parameters: [String], param: String?, memoryList: String?, defaultMemories: [Int],
        repeats: Int, executor: String, timeout: Int, architecture: String, governsCPUShare: Bool
    ) throws {
        self.governsCPUShare = governsCPUShare
        guard let workload else {
            throw InputError(field: "WORKLOAD", value: "", allowed: "train-mlp, render-frames or command, or --resume RUN")
        }
        let type = try WorkloadCatalog.named(workload)
        let values = try ParameterValues(arguments: parameters, specs: type.parameters)
        if !values.trailing.isEmpty && type != CommandWorkload.self {
            throw InputError(field: "--", value: values.trailing.joined(separator: " "), allowed: "words after -- only for command")
        }
        _ = try type.init(parameters: values)
        guard let kind = SweepExecutor(rawValue: executor) else {
            throw InputError(field: "--executor", value: executor, allowed: "function or batch")
        }
        guard (1...100).contains(repeats) else {
            throw InputError(field: "--repeat", value: "\(repeats)", allowed: "an integer in 1...100")
        }
        guard let architecture = Architecture(rawValue: architecture) else {
            throw InputError(field: "--architecture", value: architecture, allowed: "x86_64 or arm64")
        }
        var memories = defaultMemories
        if let memoryList {
            for word in memoryList.split(separator: ",", omittingEmptySubsequences: false) {
                let text = word.trimmingCharacters(in: .whitespaces)
                let range = kind == .function ? FunctionConfiguration.memoryRange : 4...(1 << 24)
                guard let value = Int(text), range.contains(value) else {
                    throw InputError(
                        field: "--memory", value: text,
                        allowed: kind == .function
                            ? "comma-separated sizes in 128...10240 MB (Lambda's range)"
                            : "comma-separated job memory limits in MiB (at least 4)")
                }
                if !memories.contains(value) { memories.append(value) }
            }
        }
        guard !memories.isEmpty else { throw InputError(field: "--memory", value: "", allowed: "at least one memory size") }
        if kind == .function {
            _ = try FunctionConfiguration(memoryMB: memories[0], timeoutSeconds: timeout)
        } else if timeout < 1 {
            throw InputError(field: "--timeout", value: "\(timeout)", allowed: "at least 1 second")
        }
        let sizes = try SizeList(parsing: param ?? Self.defaultSizes(type), workload: type)
        self.workload = type.name
        self.type = type
        self.arguments = parameters
        self.sizes = sizes
        self.memories = memories.sorted()
        self.repeats = repeats
        self.executor = executor
        self.kind = kind
        self.architecture = architecture
    }

    /// The workload's analytical FLOPs at `size` (nil when the workload cannot say, as for `command`).
    func flops(at size: Double) -> Double? { sizes.flops(type, arguments: arguments, size: size) }

    /// Without `--param`: the size parameter from an eighth of its default, doubling up to its maximum.
    static func defaultSizes(_ type: any Workload.Type) -> String {
        guard let spec = type.parameters.first(where: { $0.name == type.sizeParameter }) else { return "" }
        let start = max(1, (Double(spec.defaultValue ?? "1") ?? 1) / 8)
        switch spec.kind {
        case .integer(let range):
            let from = max(range.lowerBound, Int(start))
            return "\(spec.name)=\(from)..\(range.upperBound)*2"
        case .real(let range): return "\(spec.name)=\(max(range.lowerBound, start))..\(range.upperBound)*2"
        default: return spec.name
        }
    }

    /// Runs every memory setting's series, recording each sample in `run`.
    func execute(
        run: RunRecord, store: CapsizeStore, timeoutSeconds: Int, refine: Double?, vcpus: Double, quiet: Bool,
        resuming: Bool, replay: Bool = false, variables: [String: String] = [:]
    ) async throws -> [SweepSeries] {
        let runner: any SweepPointRunner
        if replay {
            runner = RecordedOnlyRunner(run: run.shortID)
        } else if kind == .function {
            let settings = FunctionSettings(
                configuration: try FunctionConfiguration(
                    memoryMB: memories[0], timeoutSeconds: timeoutSeconds, architecture: architecture),
                governsCPUShare: governsCPUShare, variables: variables, functionName: type.name)
            runner = FunctionPointRunner(
                workload: type, arguments: arguments, sizes: sizes, settings: settings, store: store, runID: run.id)
        } else {
            runner = BatchPointRunner(
                workload: type, arguments: arguments, sizes: sizes, timeoutSeconds: timeoutSeconds, vcpus: vcpus,
                store: store, runID: run.id, governsCPUShare: governsCPUShare, variables: variables)
        }
        var engine = SweepEngine(
            sizes: sizes, repeats: repeats, refine: refine, runner: runner, store: store, runID: run.id,
            progress: SweepProgress(quiet: quiet || replay, ungoverned: !governsCPUShare))
        if resuming || replay { engine.recorded = try SweepEngine.recordedSamples(run: run.id, store: store) }
        if !quiet && !replay {
            say("\(workload) swept over \(sizes.parameter) (\(sizes.sizes.map(sizes.text).joined(separator: ", "))) "
                + "as a \(kind == .function ? "Lambda-model function" : "Batch-model job"), timeout \(timeoutSeconds) s, "
                + "\(repeats) repetition(s) per point; run \(run.shortID)")
        }
        var all: [SweepSeries] = []
        for memory in memories {
            if !quiet && !replay {
                var line = "memory \(memory) \(kind == .function ? "MB" : "MiB")"
                if kind == .function {
                    line += ": " + shareText(memoryMB: memory, governed: governsCPUShare)
                } else if !governsCPUShare {
                    line += ": " + CPUShareOption.ungovernedNote
                }
                say(line)
            }
            all.append(try await engine.series(memoryMB: memory, timeoutSeconds: Double(timeoutSeconds)))
        }
        return all
    }
}
