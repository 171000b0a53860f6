public import CapsizeCore
import CloudModel
import Execution
import Foundation
public import Store

/// What a sweep says while it runs, in order: started, then per memory setting `series` followed by its points.
public enum SweepEvent {
    /// The sweep is recorded as `run` and its first point comes next (not said when a run is analysed again).
    case started(run: RunRecord)
    /// The series of one memory setting begins (not said when a run is analysed again).
    case series(memoryMB: Int)
    /// A repetition (from 0, of `repeats`) of a point starts to run.
    case starting(memoryMB: Int, size: String, repetition: Int, of: Int)
    /// A sample ended, or was taken from the run's records (`reused`).
    case sample(SweepSample, reused: Bool)
}

/// A sweep as asked: the plan, the timeout its points run under, and how.
public struct SweepRequest {
    public var plan: SweepPlan
    /// The timeout each point runs under, seconds (the function's timeout; the job's attempt duration).
    public var timeoutSeconds: Int
    /// Narrow each break down until the bracket is at most this wide, relatively; nil to stop at the confirmation.
    public var refine: Double?
    /// vCPUs of each Batch-model job (at most this machine's cores).
    public var vcpus: Double = 1
    /// The variables of every function or job.
    public var variables: [String: String] = [:]
    /// The factor the examined timeout was scaled by to give `timeoutSeconds` (1 but for a caps study).
    public var timeScale: Double = 1
    /// The program of each function's environment; nil for this executable's `capsize worker`.
    public var workerCommand: [String]?
}

extension SweepRequest {
    /// A sweep of `SweepPlan`'s sizes and memory settings, each point under `timeout` (a Batch-model job with
    /// `vcpus`), its functions or jobs given `variables`.
    /// - Throws: `InputError` naming the setting: those of `SweepPlan`, `vcpus` (a batch job's: at most this
    ///   machine's cores), the variables'.
    public init(
        workload: String, parameters: [String], sizes: String?, memoryList: String, repeats: Int,
        executor: SweepExecutor, timeout: Int, vcpus: Double, architecture: String, governsCPUShare: Bool,
        variables: UserVariables
    ) throws(InputError) {
        let plan = try SweepPlan(
            workload: workload, parameters: parameters, sizes: sizes, memoryList: memoryList, defaultMemories: [],
            repeats: repeats, executor: executor, timeout: timeout, architecture: architecture,
            governsCPUShare: governsCPUShare)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Checked for a function sweep too, where it is not used: a number given is a number checked.
        guard vcpus > 0 && vcpus <= Double(cores) else {
            throw InputError(
                setting: "vcpus", value: NumberText.significant(vcpus),
                allowed: "more than 0 and at most this machine's \(cores) cores")
        }
        self.init(
            plan: plan, timeoutSeconds: timeout, vcpus: vcpus,
            variables: try executor == .function ? variables.forFunction() : variables.forJob())
    }
}

/// Runs sweeps: per memory setting, the sizes in order (each repetition a fresh cold environment or job) until one
/// ends at a cap, one more size to confirm the break, then (when asked) the break narrowed down by bisection. Every
/// sample is recorded in the run as it ends, so an interrupted sweep resumes with only the samples it lacks.
public enum Sweep {
    /// - Parameters:
    ///   - store: where the run and each sample go.
    ///   - resuming: a run already taken over (`CapsizeStore.resume`), whose recorded samples are kept; nil for a new
    ///     run, which stores `parameters`.
    ///   - replay: analyse `resuming` again from its records: nothing runs, and the run is left as it is.
    ///   - onEvent: called on this task as the sweep goes.
    public static func run(
        _ request: SweepRequest, store: CapsizeStore, resuming: RunRecord?, replay: Bool = false,
        parameters: @autoclosure () -> any Encodable, onEvent: @escaping (SweepEvent) -> Void = { _ in }
    ) async throws -> SweepReport {
        let plan = request.plan
        let run = try resuming ?? store.createRun(kind: .sweep, parameters: parameters(), planned: nil)
        var engine = SweepEngine(
            sizes: plan.sizes, repeats: plan.repeats, refine: request.refine,
            runner: replay ? RecordedOnlyRunner(run: run.shortID) : try runner(request, store: store, run: run.id),
            store: store, runID: run.id, onEvent: onEvent)
        if resuming != nil { engine.recorded = try SweepEngine.recordedSamples(run: run.id, store: store) }
        if !replay { onEvent(.started(run: run)) }
        var series: [SweepSeries] = []
        do {
            for memory in plan.memories {
                if !replay { onEvent(.series(memoryMB: memory)) }
                series.append(
                    try await engine.series(memoryMB: memory, timeoutSeconds: Double(request.timeoutSeconds)))
            }
        } catch  where Task.isCancelled {
            throw interrupted(run.id, in: store, kind: .sweep)
        }
        if !replay { _ = try store.finish(run: run.id) }
        return SweepReport(run: run.id, plan: plan, series: series, timeScale: request.timeScale)
    }

    /// The runner of a plan's points: cold functions or one-attempt jobs, recorded in `run`.
    static func runner(_ request: SweepRequest, store: CapsizeStore, run: String) throws -> any SweepPointRunner {
        let plan = request.plan
        let points = WorkloadPoints(
            workload: plan.type, arguments: plan.arguments, sizes: plan.sizes, store: store, runID: run)
        switch plan.executor {
        case .function:
            let settings = FunctionSettings(
                configuration: try FunctionConfiguration(
                    memoryMB: plan.memories[0], timeoutSeconds: request.timeoutSeconds, architecture: plan.architecture),
                governsCPUShare: plan.governsCPUShare, variables: request.variables, functionName: plan.type.name)
            return FunctionPointRunner(points: points, settings: settings, workerCommand: request.workerCommand)
        case .batch:
            return BatchPointRunner(
                points: points, timeoutSeconds: request.timeoutSeconds, vcpus: request.vcpus,
                governsCPUShare: plan.governsCPUShare, variables: request.variables)
        }
    }
}
