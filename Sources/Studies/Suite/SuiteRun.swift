public import Analysis
import CapsizeCore
public import Compute
import Execution
import Foundation
public import Planning
public import Store
import Workloads

/// What one step of a suite measured, as the suite's run stores it (a measurement's details): enough to write the
/// report again from the store, with the run of the study it made.
public struct SuiteStepResult: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case machine, bench, invoke, batch, sweep, caps, recommend
    }

    /// The side of a GPU-vs-CPU pair.
    public enum Side: String, Codable, Sendable {
        case cpu, gpu
    }

    /// The step's key in the suite's run.
    public var key: String
    /// The benchmark's index in the suite; nil for the machine.
    public var benchmark: Int?
    public var kind: Kind
    /// The run the study recorded (a bench, an invoke, a submit, a sweep), nil when none.
    public var run: String?
    public var label: String
    /// The device the step ran on, as the study resolved it.
    public var device: String?
    public var memoryMB: Int?
    public var side: Side?
    /// Each measured repetition, invocation or job.
    public var measurements: [SuiteMeasurement] = []
    /// A sweep's or caps study's series and where the caps break.
    public var sweep: SuiteSweep?
    public var recommendation: Recommendation?
    /// A rendered frame, PNG bytes in base64.
    public var frame: String?
    public var notes: [String] = []
    /// Why the step failed, when it did (the suite goes on).
    public var failure: String?
    /// Measured wall time of the step.
    public var wallSeconds: Double = 0
}

/// One measured repetition, invocation or job of a step.
public struct SuiteMeasurement: Codable, Sendable, Equatable {
    /// Its key in the study's run (`rep=2`, an invocation's request id, a job's id).
    public var item: String
    public var seconds: Double
    /// `ok`, or how it ended (`timeout`, `outOfMemory`, `FAILED`, …).
    public var status: String
    public var peakMB: Double?
    /// Projected cost, USD (a function's invocation at Lambda's price).
    public var costUSD: Double?
    public var cold: Bool?
}

/// A sweep or caps study as the report draws it.
public struct SuiteSweep: Codable, Sendable {
    public var parameter: String
    public var series: [SweepSeries]
    public var analyses: [CapBreakAnalysis]
    /// The factor the time cap was scaled by; 1 for a sweep.
    public var timeScale: Double
    /// The cap examined, seconds (unscaled).
    public var timeoutSeconds: Double
}

/// The machine a suite ran on, as its first step records it.
public struct SuiteMachine: Codable, Sendable, Equatable {
    public var host: HostInfo
    public var devices: [DeviceInfo]
    public var notice: String?
}

/// What a suite says while it runs.
public enum SuiteEvent {
    /// The suite's run is `run`; `recorded` of the plan's steps were recorded before (a resumed run).
    case started(run: RunRecord, steps: Int, recorded: Set<String>)
    /// Step number `number` (from 0) starts.
    case stepStarted(SuiteStep, number: Int)
    /// Part of a step ended: `done` of `total` repetitions, invocations or samples.
    case stepProgress(SuiteStep, done: Int, total: Int?)
    case stepEnded(SuiteStep, SuiteStepResult, number: Int)
}

/// What a suite run stores as its parameters: the suite as written, to run again on `--resume` and to name in the
/// report, and where batch benchmarks ran.
public struct SuiteRunParameters: Codable, Sendable {
    public var suiteFile: String
    public var suiteText: String
    public var backend: String
    public var outDirectory: String

    public init(suiteFile: String, suiteText: String, backend: String, outDirectory: String) {
        self.suiteFile = suiteFile
        self.suiteText = suiteText
        self.backend = backend
        self.outDirectory = outDirectory
    }
}

/// Runs a suite: each step through its study (bench, invoke, submit, sweep, caps, recommend), each recorded in the
/// suite's run as it ends, so that an interrupted suite resumes with the steps it lacks.
public enum SuiteRunner {
    /// - Parameters:
    ///   - resuming: a suite run already taken over, whose recorded steps are kept; nil for a new run.
    ///   - onEvent: called on this task as the suite goes.
    /// - Returns: every step's result, the machine's first, in the plan's order.
    public static func run(
        _ plan: SuitePlan, store: CapsizeStore, resuming: RunRecord?, parameters: SuiteRunParameters,
        devices: (devices: [OpenCLDevice], notice: String?), onEvent: @escaping (SuiteEvent) -> Void = { _ in }
    ) async throws -> [SuiteStepResult] {
        let keys = ["machine"] + plan.steps.map(\.key)
        let run = try resuming ?? store.createRun(kind: .suite, parameters: parameters, planned: keys.count)
        let recorded = try store.completedItemKeys(run: run.id)
        onEvent(.started(run: run, steps: plan.steps.count, recorded: recorded))
        let steps = Dictionary(uniqueKeysWithValues: plan.steps.enumerated().map { ($1.key, ($0, $1)) })
        do {
            try await ResumableRun.execute(store: store, run: run.id, items: RunPlan(keys)) { key in
                let startedAt = Date()
                let result: SuiteStepResult
                if let (number, step) = steps[key] {
                    onEvent(.stepStarted(step, number: number))
                    let child = StudyOfStep(
                        suite: run.id, step: step.key, outDirectory: parameters.outDirectory,
                        previous: resuming == nil ? nil : try interruptedStudy(of: step.key, run.id, store))
                    result = try await self.step(
                        step, child, store: store, devices: devices.devices, onEvent: onEvent)
                    // A step cut short by the interrupt (a program killed, a bench's last run) is not recorded.
                    try Task.checkCancellation()
                    onEvent(.stepEnded(step, result, number: number))
                } else {
                    result = machine(devices)
                }
                return MeasurementRecord(
                    runID: run.id, itemKey: key, seconds: result.wallSeconds, details: try StoredJSON.encode(result),
                    startedAt: startedAt, endedAt: Date())
            }
        } catch  where Task.isCancelled {
            throw StudyFailure.interrupted(run: run.id, kind: "run")
        }
        return try results(of: run.id, in: store)
    }

    /// The recorded results of a suite run, in the order they were recorded.
    public static func results(of run: String, in store: CapsizeStore) throws -> [SuiteStepResult] {
        try store.measurements(run: run).sorted { $0.startedAt < $1.startedAt }.compactMap { measurement in
            try measurement.details.map { try StoredJSON.decode(SuiteStepResult.self, from: $0) }
        }
    }

    static func machine(_ devices: (devices: [OpenCLDevice], notice: String?)) -> SuiteStepResult {
        var result = SuiteStepResult(key: "machine", kind: .machine, label: "machine")
        let machine = SuiteMachine(
            host: HostInfo.current(), devices: devices.devices.map(\.info), notice: devices.notice)
        result.notes = [(try? StoredJSON.encode(machine)) ?? "{}"]
        return result
    }

    /// Runs one step; a failure other than an interruption (rethrown: the step is not recorded) becomes the step's
    /// `failure`, and the suite goes on.
    static func step(
        _ step: SuiteStep, _ child: StudyOfStep, store: CapsizeStore, devices: [OpenCLDevice],
        onEvent: @escaping (SuiteEvent) -> Void
    ) async throws -> SuiteStepResult {
        var result = SuiteStepResult(
            key: step.key, benchmark: step.benchmark, kind: step.kind, label: step.label, side: step.side,
            notes: step.notes)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await measure(step, child, into: &result, store: store, devices: devices, onEvent: onEvent)
        } catch  where Task.isCancelled {
            throw error
        } catch {
            result.failure = "\(error)"
        }
        result.wallSeconds = (clock.now - start).seconds
        return result
    }

    /// The study run an interrupted suite left unfinished for `step`, taken over to be continued; nil when none.
    static func interruptedStudy(of step: String, _ suite: String, _ store: CapsizeStore) throws -> RunRecord? {
        for run in try store.runs() where run.status == .interrupted && run.kind != .suite {
            guard let tag = try? StoredJSON.decode(SuiteStudyTag.self, from: run.parameters),
                tag.suite == suite && tag.step == step
            else { continue }
            return try? store.resume(run: run.id)
        }
        return nil
    }

    static func measure(
        _ step: SuiteStep, _ child: StudyOfStep, into result: inout SuiteStepResult, store: CapsizeStore,
        devices: [OpenCLDevice], onEvent: @escaping (SuiteEvent) -> Void
    ) async throws {
        let previous = child.previous
        switch step.work {
        case .bench(var request):
            let frames = FileManager.default.temporaryDirectory.appendingPathComponent(
                "capsize-suite-frames-\(RunRecord.newID())")
            if request.workload is RenderFrames { request.options.saveFramesDirectory = frames.path }
            defer { try? FileManager.default.removeItem(at: frames) }
            let report = try await Bench.run(
                request, store: store, resuming: previous,
                parameters: { target in
                    child.tagging(
                        StoredArguments(
                            arguments: [type(of: request.workload).name] + argumentWords(request.values)
                                + ["--device", target.label, "--repeat", "\(request.repeats)"]))
                }, devices: devices,
                onEvent: { event in
                    if case .measured(let index, _) = event {
                        onEvent(.stepProgress(step, done: index, total: request.repeats))
                    }
                })
            result.run = report.run
            result.device = report.deviceLabel == "native" ? step.label : report.deviceLabel
            let keys = RunPlan.repetitions(request.repeats).keys
            result.measurements = zip(keys, report.runs).map { key, run in
                let exitCode = run.metrics["exit_code"] ?? 0
                return SuiteMeasurement(
                    item: key, seconds: run.seconds, status: exitCode == 0 ? "ok" : "exit \(Int(exitCode))",
                    peakMB: Double(run.peakHostBytes) / 1_048_576)
            }
            if let first = (try? FileManager.default.contentsOfDirectory(atPath: frames.path))?.sorted().first,
                let data = FileManager.default.contents(atPath: frames.appendingPathComponent(first).path)
            {
                result.frame = data.base64EncodedString()
            }
        case .invoke(let request):
            let report = try await Invoke.run(
                request, store: store, resuming: previous,
                parameters: child.tagging(InvokeRunParameters(request, arguments: [])))
            result.run = report.run
            result.memoryMB = request.settings.configuration.memoryMB
            result.device = "Lambda model, \(request.settings.configuration.memoryMB) MB"
            result.measurements = report.invocations.map { outcome in
                SuiteMeasurement(
                    item: outcome.requestId, seconds: outcome.durationMs / 1_000,
                    status: outcome.status == .success ? "ok" : outcome.status.rawValue,
                    peakMB: Double(outcome.maxMemoryUsedMB),
                    costUSD: outcome.costUSD[request.settings.configuration.architecture.rawValue], cold: outcome.cold)
            }
        case .batch(let request):
            let report = try await Submit.run(
                request, store: store, resuming: previous, parameters: child.tagging(StoredArguments(arguments: [])))
            batch(report, request.definition.resources.memoryMiB, into: &result)
        case .backend(let job, let kind):
            let (report, _) = try await Submit.run(
                job, on: kind, store: store, resuming: previous,
                parameters: child.tagging(StoredArguments(arguments: [])))
            batch(report, job.definition.resources.memoryMiB, into: &result)
        case .sweep(let request):
            try await sweep(
                request, caps: false, timeout: request.timeoutSeconds, step, child, into: &result, store, onEvent)
        case .caps(let request, let timeout):
            try await sweep(request, caps: true, timeout: timeout, step, child, into: &result, store, onEvent)
        case .recommend(let request, let export):
            var rungs = 0
            let report = try await Recommend.run(
                request, store: store, parameters: child.tagging(StoredArguments(arguments: []))
            ) {
                event in
                if case .measured = event {
                    rungs += 1
                    onEvent(.stepProgress(step, done: rungs, total: nil))
                }
            }
            result.run = report.run
            result.recommendation = report.recommendation
            result.notes += [report.profile.secondsBasis, report.profile.memoryBasis]
            if export {
                // A folder of this run's own beside the report, written again when the step runs again.
                let folder = URL(fileURLWithPath: child.outDirectory).appendingPathComponent(
                    "deploy-\(child.suite.prefix(8))-\(step.key.replacingOccurrences(of: "/", with: "-"))")
                try? FileManager.default.removeItem(at: folder)
                // A suite names no image: its files name placeholders, and say so.
                var job = request.job
                job.placeholder = true
                let written = try Recommend.exportFiles(
                    report.recommendation, to: folder.path, option: nil, name: request.type.name, job: job)
                result.notes += written.map { "exported \($0)" }
            }
        }
    }

    /// A sweep or a caps study (the time cap scaled; `timeout` the one examined), each sample a step of progress.
    static func sweep(
        _ request: SweepRequest, caps: Bool, timeout: Int, _ step: SuiteStep, _ child: StudyOfStep,
        into result: inout SuiteStepResult, _ store: CapsizeStore, _ onEvent: @escaping (SuiteEvent) -> Void
    ) async throws {
        var samples = 0
        let onSample = { (event: SweepEvent) in
            if case .sample = event {
                samples += 1
                onEvent(.stepProgress(step, done: samples, total: nil))
            }
        }
        let parameters = child.tagging(StoredArguments(arguments: []))
        let previous = child.previous
        let report =
            caps
            ? try await Caps.run(request, store: store, resuming: previous, parameters: parameters, onEvent: onSample)
            : try await Sweep.run(request, store: store, resuming: previous, parameters: parameters, onEvent: onSample)
        result.run = report.run
        result.sweep = SuiteSweep(
            parameter: report.plan.sizes.parameter, series: report.series, analyses: report.analyses,
            timeScale: report.timeScale, timeoutSeconds: Double(timeout))
    }

    static func batch(_ report: SubmitReport, _ memoryMiB: Int, into result: inout SuiteStepResult) {
        result.run = report.run
        result.memoryMB = memoryMiB
        result.device = "Batch model, \(memoryMiB) MiB"
        let children = report.jobs.filter { $0.arrayIndex != nil }
        result.measurements = (children.isEmpty ? report.jobs : children).map { job in
            let seconds =
                job.wallSeconds
                ?? job.stoppedAt.flatMap { end in job.runningAt.map { end.timeIntervalSince($0) } } ?? 0
            return SuiteMeasurement(
                item: job.id, seconds: seconds, status: job.state == .succeeded ? "ok" : job.state.rawValue,
                peakMB: job.peakRSSBytes.map { Double($0) / 1_048_576 })
        }
    }

    /// A workload's values as `--name value` words, in name order.
    static func argumentWords(_ values: ParameterValues) -> [String] {
        values.values.keys.sorted().flatMap { ["--\($0)", values.values[$0]!] }
            + (values.trailing.isEmpty ? [] : ["--"] + values.trailing)
    }
}

/// What a run stores for the command that made it: its own arguments.
struct StoredArguments: Encodable {
    var arguments: [String]
}

/// The study a suite's step makes: which suite and step it belongs to, and the run an interrupted suite left
/// unfinished for it (taken over, to be continued rather than started again).
struct StudyOfStep {
    var suite: String
    var step: String
    /// Where the report goes (exported deployment files go beside it).
    var outDirectory: String
    var previous: RunRecord?

    /// A study's parameters with the suite's run and the step beside its own keys.
    func tagging<Parameters: Encodable>(_ parameters: Parameters) -> Tagged<Parameters> {
        Tagged(parameters: parameters, tag: SuiteStudyTag(suite: suite, step: step))
    }

    struct Tagged<Parameters: Encodable>: Encodable {
        var parameters: Parameters
        var tag: SuiteStudyTag

        func encode(to encoder: any Encoder) throws {
            try parameters.encode(to: encoder)
            try tag.encode(to: encoder)
        }
    }
}

/// The keys a study started by a suite stores beside its parameters: the suite's run and the step's key.
struct SuiteStudyTag: Codable {
    var suite: String?
    var step: String?
}
