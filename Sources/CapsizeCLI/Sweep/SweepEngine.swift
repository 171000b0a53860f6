import CapsizeCore
import CloudModel
import Compute
import Execution
import Foundation
import Reports
import Store
import Workloads

/// One measured repetition at one point of a sweep (a memory setting and a size).
struct SweepSample: Codable, Sendable {
    enum Status: String, Codable, Sendable {
        case completed, timeout, outOfMemory, error, crash

        /// Whether the run ended at one of the caps (the time or the memory cap).
        var isCapBreak: Bool { self == .timeout || self == .outOfMemory }
    }

    /// Why the point was run: stepping up the size list, confirming a break, or narrowing it down.
    enum Phase: String, Codable, Sendable { case step, confirm, refine }

    var memoryMB: Int
    var size: Double
    var repetition: Int
    var status: Status
    /// Measured duration of the invocation or job (Init not included), seconds.
    var seconds: Double
    /// Measured peak memory of the process tree, MB (MiB).
    var peakMB: Double
    /// Measured Init Duration of a cold start, ms (function executor).
    var initMs: Double?
    var message: String?
    var phase: Phase
    var startedAt: Date
    var endedAt: Date

    /// The sample's item key in its run: `memory=512/size=1024/rep=0`.
    static func itemKey(memoryMB: Int, size: String, repetition: Int) -> String {
        "memory=\(memoryMB)/size=\(size)/rep=\(repetition)"
    }
}

/// Runs one repetition of one point under an executor.
protocol SweepPointRunner: Sendable {
    /// - Parameter itemKey: the sample's key; the executor's own records carry it as their prefix.
    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample
}

/// The points of one memory setting: sizes stepped up until a cap breaks, one point past the break to
/// confirm it, then (when asked) the break narrowed down by bisection.
struct SweepSeries: Codable, Sendable {
    var memoryMB: Int
    var timeoutSeconds: Double
    var samples: [SweepSample]
    /// The largest size whose repetitions all completed, below the first break.
    var largestPassing: Double?
    /// The smallest size at which a repetition ended at a cap (after refinement, if any).
    var firstBreak: Double?
    /// Whether the point after the first break broke too (nil when there was none to run).
    var confirmed: Bool?
    /// Why the series stopped: `cap`, `sizes` (the list ran out), or `error: …` (a failure that is not a cap).
    var stoppedBy: String
}

/// Steps a workload through sizes under one executor configuration per memory setting, recording every
/// sample in the store as it ends; samples already recorded (a resumed run) are reused, not run again.
struct SweepEngine {
    var sizes: SizeList
    var repeats: Int
    /// Narrow a break down until the bracket (largest passing, first break) is at most this wide,
    /// relatively (0.1 = 10 %); nil to stop at the confirmation point.
    var refine: Double?
    var runner: any SweepPointRunner
    var store: CapsizeStore
    var runID: String
    var recorded: [String: SweepSample] = [:]
    var progress: SweepProgress

    mutating func series(memoryMB: Int, timeoutSeconds: Double) async throws -> SweepSeries {
        var result = SweepSeries(
            memoryMB: memoryMB, timeoutSeconds: timeoutSeconds, samples: [], stoppedBy: "sizes")
        for size in sizes.sizes {
            let phase: SweepSample.Phase = result.firstBreak == nil ? .step : .confirm
            let point = try await runPoint(memoryMB: memoryMB, size: size, phase: phase)
            result.samples += point
            if let failure = point.first(where: { $0.status == .error || $0.status == .crash }) {
                result.stoppedBy = "error: \(failure.status.rawValue) at \(sizes.parameter)=\(sizes.text(size))"
                    + (failure.message.map { " (\($0))" } ?? "")
                if result.firstBreak == nil { return result }
                break
            }
            let broke = point.contains { $0.status.isCapBreak }
            if result.firstBreak == nil {
                if broke {
                    result.firstBreak = size
                    result.stoppedBy = "cap"
                } else {
                    result.largestPassing = size
                }
            } else {
                result.confirmed = broke
                break
            }
        }
        guard let refine, var low = result.largestPassing, var high = result.firstBreak else { return result }
        while high / low > 1 + refine {
            var middle = (low * high).squareRoot()
            if sizes.integral { middle = middle.rounded() }
            guard middle > low && middle < high else { break }
            let point = try await runPoint(memoryMB: memoryMB, size: middle, phase: .refine)
            result.samples += point
            if point.contains(where: { $0.status == .error || $0.status == .crash }) { break }
            if point.contains(where: \.status.isCapBreak) { high = middle } else { low = middle }
        }
        result.largestPassing = low
        result.firstBreak = high
        return result
    }

    /// Runs (or takes from an earlier attempt of this run) every repetition at one point.
    private mutating func runPoint(memoryMB: Int, size: Double, phase: SweepSample.Phase) async throws -> [SweepSample] {
        var samples: [SweepSample] = []
        for repetition in 0..<repeats {
            let key = SweepSample.itemKey(memoryMB: memoryMB, size: sizes.text(size), repetition: repetition)
            if let sample = recorded[key] {
                samples.append(sample)
                progress.show(sample, sizes: sizes, reused: true)
                continue
            }
            progress.starting(memoryMB: memoryMB, size: sizes.text(size), repetition: repetition, of: repeats)
            var sample = try await runner.run(memoryMB: memoryMB, size: size, itemKey: key)
            sample.repetition = repetition
            sample.phase = phase
            try store.record(
                MeasurementRecord(
                    runID: runID, itemKey: key,
                    metrics: [
                        "size": size, "memory_mb": Double(memoryMB), "peak_mb": sample.peakMB,
                        "cap_break": sample.status.isCapBreak ? 1 : 0,
                    ],
                    seconds: sample.seconds, details: try StoredJSON.encode(sample), startedAt: sample.startedAt,
                    endedAt: sample.endedAt))
            recorded[key] = sample
            samples.append(sample)
            progress.show(sample, sizes: sizes, reused: false)
        }
        return samples
    }

    /// The samples a run recorded before (for `--resume`), by item key.
    static func recordedSamples(run: String, store: CapsizeStore) throws -> [String: SweepSample] {
        var result: [String: SweepSample] = [:]
        for measurement in try store.measurements(run: run) {
            guard let details = measurement.details,
                let sample = try? StoredJSON.decode(SweepSample.self, from: details)
            else { continue }
            result[measurement.itemKey] = sample
        }
        return result
    }
}

/// Progress on the terminal: a bar on standard error while a point runs (when it is a terminal), and one
/// line per finished sample on standard output (unless the output is JSON).
struct SweepProgress {
    var quiet: Bool
    /// Samples measured at full speed (`--no-cpu-share`) say so on their line.
    var ungoverned: Bool
    var done = 0
    private let terminal = isatty(2) == 1

    init(quiet: Bool, ungoverned: Bool = false) {
        self.quiet = quiet
        self.ungoverned = ungoverned
    }

    mutating func starting(memoryMB: Int, size: String, repetition: Int, of repeats: Int) {
        guard terminal else { return }
        let filled = min(20, done % 21)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
        FileHandle.standardError.write(
            Data("\r[\(bar)] \(done) sample(s) · \(memoryMB) MB · size \(size) · rep \(repetition + 1)/\(repeats) running\u{1B}[K".utf8))
    }

    mutating func show(_ sample: SweepSample, sizes: SizeList, reused: Bool) {
        done += 1
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        guard !quiet else { return }
        var line = "  \(sample.memoryMB) MB  \(sizes.parameter)=\(sizes.text(sample.size))  rep \(sample.repetition)"
        line += "  \(sample.status.rawValue)  \(fmtSeconds(sample.seconds))  peak \(fmt(sample.peakMB)) MB (measured)"
        if sample.phase != .step { line += "  [\(sample.phase.rawValue)]" }
        if reused { line += "  [recorded before]" }
        if ungoverned { line += "  [full speed, --no-cpu-share]" }
        say(line)
    }
}

/// One invocation of `workload` at `size` on the CPU in a new execution environment (a cold start) of a function set
/// up as `settings`, recorded in `runID` under `itemKey`. The worker loads OpenCL at Init only when the workload may
/// use it.
func invokeCold(
    _ workload: any Workload.Type, arguments: [String], sizes: SizeList, size: Double, settings: FunctionSettings,
    store: CapsizeStore, runID: String, itemKey: String
) async throws -> InvocationOutcome {
    var options = FunctionExecutor.Options()
    options.store = store
    options.runID = runID
    options.itemKeyPrefix = itemKey + "/"
    options.workerUsesOpenCL = workload.usesOpenCL(.cpu, gpus: false)
    let event = FunctionEvent(workload: workload.name, arguments: sizes.arguments(arguments, size: size), device: "cpu")
    let executor = try FunctionExecutor(settings: settings, event: event, options: options)
    let outcome = await executor.invokeOnce()
    await executor.shutdown()
    return outcome
}

/// Runs points as Lambda-model invocations: each repetition in a new execution environment (a cold
/// start, as a one-off job would see), capped at the memory setting and the timeout.
struct FunctionPointRunner: SweepPointRunner {
    var workload: any Workload.Type
    var arguments: [String]
    var sizes: SizeList
    /// The function's timeout, architecture, CPU share and variables; each point runs at its own memory.
    var settings: FunctionSettings
    var store: CapsizeStore
    var runID: String

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        let outcome = try await invokeCold(
            workload, arguments: arguments, sizes: sizes, size: size, settings: try settings.with(memoryMB: memoryMB),
            store: store, runID: runID, itemKey: itemKey)
        let status: SweepSample.Status =
            switch outcome.status {
            case .success: .completed
            case .timeout: .timeout
            case .outOfMemory: .outOfMemory
            case .crash: .crash
            case .error, .throttled: .error
            }
        return SweepSample(
            memoryMB: memoryMB, size: size, repetition: 0, status: status, seconds: outcome.durationMs / 1000,
            peakMB: outcome.sampledPeakMB, initMs: outcome.initDurationMs,
            message: status == .completed ? nil : [outcome.errorType, outcome.errorMessage].compactMap { $0 }.joined(separator: ": "),
            phase: .step, startedAt: outcome.startedAt, endedAt: outcome.endedAt)
    }
}

/// Runs points as Batch-model jobs on the local compute environment: the memory setting is the job's
/// hard memory limit (MiB), the timeout its attempt duration; one attempt, no retries.
struct BatchPointRunner: SweepPointRunner {
    var workload: any Workload.Type
    var arguments: [String]
    var sizes: SizeList
    var timeoutSeconds: Int
    var vcpus: Double
    var store: CapsizeStore
    var runID: String
    var governsCPUShare: Bool
    /// The job's variables (`--env`, `--pass-env`).
    var variables: [String: String] = [:]

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        let host = HostInfo.current()
        let environment = ComputeEnvironment(
            name: "local", maxVCPUs: Double(host.logicalCores), memoryMiB: Int(host.memoryAvailableBytes >> 20))
        let resources = try ResourceRequirements(vcpus: vcpus, memoryMiB: memoryMB, gpus: 0)
        let name = "\(workload.name)-\(sizes.parameter)-\(sizes.text(size))"
        let definition: JobDefinition
        if let command = try sizes.workload(workload, arguments: arguments, size: size) as? CommandWorkload {
            // A command job runs the program itself, as `capsize submit -- program` does: no worker around it.
            definition = JobDefinition(
                name: name, argv: command.argv, resources: resources,
                timeoutSeconds: Double(timeoutSeconds), retryStrategy: try RetryStrategy(attempts: 1),
                environment: variables)
        } else {
            let event = FunctionEvent(workload: workload.name, arguments: sizes.arguments(arguments, size: size), device: "cpu")
            definition = .worker(
                name: name, request: .invoke(requestId: itemKey, event: event),
                usesOpenCL: workload.usesOpenCL(.cpu, gpus: false), resources: resources,
                timeoutSeconds: Double(timeoutSeconds), retryStrategy: try RetryStrategy(attempts: 1),
                environment: variables)
        }
        let sandbox = try Sandbox()
        let output = URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("jobs").path
        let executor = BatchExecutor(
            queue: JobQueue(environments: [environment]), runID: runID, sandbox: sandbox, store: store,
            outputRoot: output, terminateGrace: 2, governsCPUShare: governsCPUShare)
        let started = Date()
        let id = try await executor.submit(definition)
        let records = await executor.runUntilDone()
        guard let job = records.first(where: { $0.id == id }) else {
            throw CommandFailure(message: "the sweep's job \(id) has no record")
        }
        let status: SweepSample.Status =
            job.state == .succeeded
            ? .completed
            : job.statusReason == StatusReason.timeout
                ? .timeout : job.reason == StatusReason.outOfMemory ? .outOfMemory : .error
        return SweepSample(
            memoryMB: memoryMB, size: size, repetition: 0, status: status, seconds: job.wallSeconds ?? 0,
            peakMB: Double(job.peakRSSBytes ?? 0) / 1_048_576, initMs: nil,
            message: status == .completed ? nil : job.reasons, phase: .step, startedAt: job.runningAt ?? started,
            endedAt: job.stoppedAt ?? Date())
    }
}
