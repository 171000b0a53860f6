import CapsizeCore
public import Compute
public import Foundation
public import Store
public import Workloads

/// What `bench` measures: one workload, repeated on one device.
public struct BenchRequest: Sendable {
    public var workload: any Workload
    /// The values `workload` was built from, as the report shows them.
    public var values: ParameterValues
    public var device: DeviceSelector
    /// Measured runs, 1...10,000.
    public var repeats: Int
    /// Unmeasured runs before them, 0...1,000.
    public var warmup: Int
    public var options: RunOptions

    /// - Throws: `InputError` naming the setting `repeat` or `warmup` when out of range.
    func validate() throws(InputError) {
        guard (1...10_000).contains(repeats) else {
            throw InputError(setting: "repeat", value: "\(repeats)", allowed: "an integer in 1...10000")
        }
        guard (0...1_000).contains(warmup) else {
            throw InputError(setting: "warmup", value: "\(warmup)", allowed: "an integer in 0...1000")
        }
    }
}

extension BenchRequest {
    /// A bench as a command line asks for it: the workload's name and parameter words, a device's name, and the
    /// folders of `RunOptions`.
    /// - Throws: `InputError` naming the setting: the workload's parameters, `saveFrames` (only for render-frames),
    ///   `kernels` (an existing directory), `device`, `repeat`, `warmup`.
    public init(
        workload name: String, parameters: [String], device: String, repeats: Int, warmup: Int, options: RunOptions
    ) throws {
        let (type, values) = try WorkloadCatalog.parse(name, arguments: parameters)
        if let saveFrames = options.saveFramesDirectory, type != RenderFrames.self {
            throw InputError(setting: "saveFrames", value: saveFrames, allowed: "only with render-frames")
        }
        if let kernels = options.kernelsDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: kernels, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw InputError(setting: "kernels", value: kernels, allowed: "an existing directory of .cl files")
            }
        }
        self.init(
            workload: try type.init(parameters: values), values: values, device: try DeviceSelector(parsing: device),
            repeats: repeats, warmup: warmup, options: options)
        try validate()
    }
}

/// What a bench says while it runs, in order: prepared, then recorded, then one `measured` per run.
public enum BenchEvent: Sendable {
    /// The workload was prepared on `target` (measured `initSeconds`); the warm-up runs come next.
    case prepared(target: ExecutionTarget, estimate: ResourceEstimate, initSeconds: Double)
    /// The run is recorded as `run` in the store; `earlier` of its runs were recorded before (a resumed bench).
    case recorded(run: RunRecord, earlier: Int)
    /// Measured run number `index` (from 1) ended.
    case measured(index: Int, RunResult)
}

/// Runs a bench: prepares the workload once, runs the warm-ups, then the measured runs, each recorded in the
/// store as it ends, so an interrupted bench resumes with only the runs it lacks.
public enum Bench {
    /// - Parameters:
    ///   - store: where the run and each measurement go.
    ///   - resuming: a run already taken over (`CapsizeStore.resume`), whose recorded runs are kept; nil for a new run.
    ///   - parameters: what a new run stores to be resumed later, given the device the selector chose.
    ///   - devices: the OpenCL devices to choose among.
    ///   - onEvent: called on this task as the bench goes.
    /// - Returns: the runs as measured and what is derived from them.
    public static func run(
        _ request: BenchRequest, store: CapsizeStore, resuming: RunRecord?,
        parameters: (ExecutionTarget) -> any Encodable,
        devices: [OpenCLDevice], onEvent: (BenchEvent) -> Void
    ) async throws -> BenchReport {
        try request.validate()
        let workload = request.workload
        let type = Swift.type(of: workload)
        let target = try workload.resolve(request.device, devices: devices)
        let clock = ContinuousClock()
        let initStart = clock.now
        // A command runs in the sandbox: its own peak memory, and nothing it started outlives its run.
        let runOnce: () async throws -> RunResult
        if let command = workload as? CommandWorkload {
            runOnce = try SandboxedCommand(command).run
        } else {
            runOnce = try workload.prepare(on: target, options: request.options).run
        }
        let initSeconds = (clock.now - initStart).seconds
        onEvent(.prepared(target: target, estimate: workload.estimate, initSeconds: initSeconds))
        for _ in 0..<request.warmup { _ = try await runOnce() }
        let plan = RunPlan.repetitions(request.repeats)
        let run =
            try resuming ?? store.createRun(kind: .bench, parameters: parameters(target), planned: request.repeats)
        var results = try recordedResults(store.measurements(run: run.id))
        onEvent(.recorded(run: run, earlier: results.count))
        let numbers = Dictionary(uniqueKeysWithValues: plan.keys.enumerated().map { ($1, $0 + 1) })
        do {
            try await ResumableRun.execute(store: store, run: run.id, items: plan) { key in
                let startedAt = Date()
                let result = try await runOnce()
                // A run the interrupt ended (its program got the Ctrl-C too) is not a measurement: it runs again
                // on --resume.
                try Task.checkCancellation()
                results[key] = result
                onEvent(.measured(index: numbers[key] ?? 0, result))
                return try MeasurementRecord(result, startedAt: startedAt, endedAt: Date())
            }
        } catch  where Task.isCancelled {
            throw interrupted(run.id, in: store, kind: .bench)
        }
        return BenchReport(
            run: run.id, workload: type.name, parameters: request.values.values, argv: request.values.trailing,
            device: target.description, deviceLabel: target.label,
            estimate: workload.estimate, initSeconds: initSeconds, warmup: request.warmup,
            runs: plan.keys.compactMap { results[$0] },
            peak: peak(for: type.peak, target: target, calibrations: CalibrationStore()))
    }

    /// The runs a resumed bench recorded before, by item key.
    static func recordedResults(_ measurements: [MeasurementRecord]) -> [String: RunResult] {
        Dictionary(
            uniqueKeysWithValues: measurements.map { measurement in
                let result = measurement.details.flatMap { try? StoredJSON.decode(RunResult.self, from: $0) }
                return (
                    measurement.itemKey,
                    result
                        ?? RunResult(
                            seconds: measurement.seconds, flops: measurement.flops, metrics: measurement.metrics,
                            checksum: measurement.checksum ?? "", peakHostBytes: 0)
                )
            })
    }

    /// The calibrated peak that `kind` compares with on `target`, from `calibrations`.
    public static func peak(for kind: PeakKind, target: ExecutionTarget, calibrations: CalibrationStore)
        -> BenchReport.Peak?
    {
        switch (kind, target) {
        case (.none, _): return nil
        case (_, .host):
            guard let host = try? calibrations.host() else { return nil }
            return .init(
                name: "OpenBLAS SGEMM peak", gflops: host.blasSgemmGFLOPS, measuredAt: host.measuredAt,
                quick: host.quick)
        case (.gemm, .openCL(let device)):
            guard let c = try? calibrations.device(device), let gemm = c.clblastSgemmGFLOPS else { return nil }
            return .init(name: "CLBlast SGEMM peak", gflops: gemm, measuredAt: c.measuredAt, quick: c.quick)
        case (.fma, .openCL(let device)):
            guard let c = try? calibrations.device(device) else { return nil }
            return .init(name: "FP32 FMA peak", gflops: c.fmaPeakGFLOPS, measuredAt: c.measuredAt, quick: c.quick)
        }
    }
}

extension MeasurementRecord {
    /// One workload run as a measurement: its numbers as metrics, the whole result as details.
    public init(_ result: RunResult, startedAt: Date, endedAt: Date) throws {
        var metrics = result.metrics.merging(result.throughput) { metric, _ in metric }
        metrics["peak_host_bytes"] = Double(result.peakHostBytes)
        if result.deviceBytes > 0 { metrics["device_bytes"] = Double(result.deviceBytes) }
        self.init(
            runID: "", itemKey: "", metrics: metrics, seconds: result.seconds, flops: result.flops,
            checksum: result.checksum, details: try StoredJSON.encode(result), startedAt: startedAt, endedAt: endedAt)
    }
}
