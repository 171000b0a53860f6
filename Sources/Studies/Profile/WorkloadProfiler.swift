public import Analysis
import CapsizeCore
import CloudModel
import Compute
import Execution
import Foundation
public import Planning
import Store
public import Workloads

/// Measures a workload here to profile it for `recommend`: a ladder of sizes up to the one asked for, each a cold
/// Lambda-model invocation on one thread, until a run lasts long enough to fit against; then the same size on every
/// core for the Amdahl fit. Runtime and memory at the asked size are measured when the ladder reached it, else
/// projected from the fits (and labelled so).
public struct WorkloadProfiler {
    /// One measured rung.
    public struct Rung: Codable, Sendable {
        public var size: Double
        public var threads: Int
        public var seconds: Double
        public var peakMB: Double
        public var initMs: Double?
    }

    /// The sizes of the single-thread ladder: from the target / 65,536 (at least the parameter's lowest), doubling up
    /// to the target, until a rung lasts `rungSeconds` with at least three rungs to fit against.
    public struct Ladder: Sendable, Equatable {
        public var target: Double
        public var first: Double
        public var integral: Bool
        /// Stop climbing once a rung runs at least this long.
        public var rungSeconds: Double

        public init(workload: any Workload.Type, sizes: SizeList, target: Double, rungSeconds: Double = 1) {
            let spec = workload.parameters.first { $0.name == sizes.parameter }
            var lowest = 1.0
            if case .integer(let range)? = spec?.kind { lowest = Double(max(range.lowerBound, 1)) }
            var size = max(lowest, target / 65_536)
            if sizes.integral { size = size.rounded(.up) }
            self.target = target
            self.first = size
            self.integral = sizes.integral
            self.rungSeconds = rungSeconds
        }

        /// The size of the rung after `rungs` (measured in order on one thread); nil when the ladder is done.
        public func next(after rungs: [Rung]) -> Double? {
            guard let last = rungs.last else { return first }
            // Three sizes to fit past start-up, the last one long enough that start-up noise does not dominate.
            if (last.seconds >= rungSeconds && WorkloadProfiler.pastStartUp(rungs).count >= 3) || last.size >= target {
                return nil
            }
            var next = min(target, last.size * 2)
            if integral { next = next.rounded() }
            return next > last.size ? next : nil
        }
    }

    /// The single-thread rungs a projection is fitted to: those lasting at least a fifth of the last one. A rung of a
    /// few milliseconds is mostly the workload's fixed start-up (a kernel build, a first launch), and fitting it bends
    /// the law: a linear workload then looks sublinear and a projection 100× past the ladder comes out several times
    /// too short; and the quick rungs are the noisiest. The ladder doubles, so a linear workload keeps its last three,
    /// with room to spare: at a quarter, the edge exactly, a rung that took a little more than twice the one before
    /// dropped the third, and the climb went on doubling (to an 89 s rung in one `make run`).
    static func pastStartUp(_ rungs: [Rung]) -> [Rung] {
        let single = rungs.filter { $0.threads == 1 }
        guard let last = single.last else { return [] }
        return single.filter { $0.seconds >= last.seconds / 5 }
    }

    /// The fits of seconds and peak memory against size, over the rungs past start-up (at least the last three
    /// single-thread rungs); nil when they cannot be fitted.
    static func projection(of rungs: [Rung]) -> (seconds: ScalingFit, memory: ScalingFit, rungs: [Rung])? {
        var fitted = pastStartUp(rungs)
        if fitted.count < 3 { fitted = Array(rungs.filter { $0.threads == 1 }.suffix(3)) }
        guard let seconds = law(sizes: fitted.map(\.size), values: fitted.map(\.seconds)),
            let memory = law(sizes: fitted.map(\.size), values: fitted.map(\.peakMB))
        else { return nil }
        return (seconds, memory, fitted)
    }

    /// ``ScalingFit/fit(sizes:values:)``, except that with three points, where no law can be scored by AICc, the two
    /// laws of two coefficients are compared by their relative error: a fixed cost plus a linear one (the common
    /// shape of a workload past start-up) is not taken for a sublinear power law.
    private static func law(sizes: [Double], values: [Double]) -> ScalingFit? {
        guard sizes.count == 3 else { return ScalingFit.fit(sizes: sizes, values: values) }
        let laws = [ScalingFit.Model.powerLaw, .polynomial(degree: 1)].compactMap {
            ScalingFit.fit(model: $0, sizes: sizes, values: values)
        }
        return laws.min { $0.relativeRMSE < $1.relativeRMSE }
    }

    /// The profile and how each figure was obtained.
    public struct Result: Codable, Sendable {
        public var profile: WorkloadProfile
        public var size: Double
        public var rungs: [Rung]
        public var secondsBasis: String
        public var memoryBasis: String
        public var amdahl: AmdahlFit?
        public var gpuBasis: String?
    }

    /// The workload, its arguments and its size parameter, each rung recorded in the profile's run.
    var points: WorkloadPoints
    var target: Double
    /// Stop climbing once a rung runs at least this long.
    var rungSeconds = 1.0
    /// The function's CPU share (on or off) and variables; each rung runs at its own memory, 1,769 MB per thread
    /// (a whole CPU per thread when it is held to its share), under the 900 s timeout.
    var settings: FunctionSettings

    /// Measures the ladder, then the top rung on every core (up to 6), and derives the profile.
    /// - Parameter onRung: called as each rung is measured.
    func profile(onRung: (Rung) -> Void = { _ in }) async throws -> Result {
        let cores = max(1, min(6, ProcessInfo.processInfo.activeProcessorCount))
        let sizes = points.sizes
        let ladder = Ladder(workload: points.workload, sizes: sizes, target: target, rungSeconds: rungSeconds)
        var rungs: [Rung] = []
        while let size = ladder.next(after: rungs) {
            let rung = try await measure(size: size, threads: 1)
            onRung(rung)
            rungs.append(rung)
        }
        let top = rungs[rungs.count - 1]
        var amdahl: AmdahlFit?
        if cores > 1 {
            let parallel = try await measure(size: top.size, threads: cores)
            onRung(parallel)
            rungs.append(parallel)
            amdahl = AmdahlFit.fit(threads: [1, Double(cores)], seconds: [top.seconds, parallel.seconds])
        }
        let seconds: Double
        let secondsBasis: String
        let peak: Double
        let memoryBasis: String
        if top.size >= target {
            (seconds, secondsBasis) = (top.seconds, "measured here at \(sizes.text(target)) on 1 thread")
            (peak, memoryBasis) = (top.peakMB, "measured here at \(sizes.text(target))")
        } else {
            guard let (timeFit, memoryFit, fitted) = Self.projection(of: rungs) else {
                throw StudyFailure.failed("too few measured sizes to project \(sizes.parameter)=\(sizes.text(target))")
            }
            seconds = timeFit.predict(target)
            peak = memoryFit.predict(target)
            secondsBasis =
                "projected from a fit of \(fitted.count) measured sizes \(sizes.text(fitted[0].size))–"
                + "\(sizes.text(top.size)) (\(timeFit.formula), R² \(NumberText.significant(timeFit.rSquared)))"
            memoryBasis = "projected from a fit of the same sizes (\(memoryFit.formula))"
        }
        let flops = sizes.flops(points.workload, arguments: points.arguments, size: target)
        var (gpu, gpuBasis) = try measuredGPU(flops: flops)
        let efficiency = flops == nil ? nil : calibratedEfficiency()
        let localPeak = try localPeakPerThread()
        // The order Projection.gpu follows: a GPU's calibrated fraction before the CPU run's peak ratio, a CPU
        // device's after it.
        if gpu == nil, let efficiency, efficiency.onGPU || localPeak == nil {
            gpuBasis =
                "no GPU run of this workload in the store; GPU runtimes are projected from the catalog's FP32 rates "
                + "(spec sheets) at \(NumberText.significant(efficiency.fraction * 100, 2)) % of peak, the fraction "
                + "measured on \(efficiency.deviceName) here (\(efficiency.measured))"
        }
        let profile = try WorkloadProfile(
            localSeconds: max(seconds, 1e-6), localThreads: 1, serialFraction: amdahl?.serialFraction,
            peakMemoryMB: max(peak, 1), flops: flops, gpu: gpu, localFP32TFLOPS: localPeak,
            startupSeconds: rungs.compactMap(\.initMs).sorted().first.map { $0 / 1000 }, deviceEfficiency: efficiency)
        return Result(
            profile: profile, size: target, rungs: rungs, secondsBasis: secondsBasis, memoryBasis: memoryBasis,
            amdahl: amdahl, gpuBasis: gpuBasis)
    }

    /// One cold invocation at `size` with `threads` threads (the Lambda share of 1,769 MB per thread).
    private func measure(size: Double, threads: Int) async throws -> Rung {
        let memory = min(
            FunctionConfiguration.memoryRange.upperBound, Int(FunctionConfiguration.megabytesPerVCPU) * threads)
        let sizes = points.sizes
        let outcome = try await points.invokeCold(
            size: size, settings: try settings.with(memoryMB: memory, timeoutSeconds: 900),
            itemKey: "profile/size=\(sizes.text(size))/threads=\(threads)")
        guard outcome.status == .success else {
            throw StudyFailure.failed(
                "profiling \(points.workload.name) at \(sizes.parameter)=\(sizes.text(size)) on \(threads) thread(s) "
                    + "ended \(outcome.status.rawValue): \(outcome.errorMessage ?? outcome.errorType ?? "")")
        }
        // The workload's own measured seconds (the worker's reply), not the invocation's: preparation is start-up.
        let reply = outcome.response.flatMap { try? WorkerReply.decode(Data($0.utf8)) }
        var reported: Double?
        if case .answer(let answer)? = reply, let seconds = answer.result?.seconds, seconds.isFinite {
            reported = seconds
        }
        return Rung(
            size: size, threads: threads, seconds: reported ?? outcome.durationMs / 1000, peakMB: outcome.sampledPeakMB,
            initMs: outcome.initDurationMs)
    }

    /// This machine's calibrated FP32 rate of one thread, TFLOPS: OpenBLAS SGEMM for BLAS workloads, the OpenCL CPU
    /// device's FMA peak for kernels (per compute unit); nil when this machine was never calibrated.
    private func localPeakPerThread() throws -> Double? {
        let calibrations = CalibrationStore()
        switch points.workload.peak {
        case .gemm:
            guard let host = try? calibrations.host() else { return nil }
            return host.blasSgemmGFLOPS / Double(max(1, host.blasThreads)) / 1000
        case .fma:
            for device in discoverDevices().devices where device.info.kind == .cpu {
                if let calibration = try? calibrations.device(device) {
                    return calibration.fmaPeakGFLOPS / Double(max(1, device.info.computeUnits)) / 1000
                }
            }
            return nil
        case .none:
            return nil
        }
    }

    /// The fraction of its FMA peak that CLBlast's SGEMM reached on a calibrated OpenCL device here (`devices
    /// --calibrate`): a GPU's when one is calibrated, else a CPU device's (PoCL); nil when none is.
    private func calibratedEfficiency() -> MeasuredEfficiency? {
        let calibrations = CalibrationStore()
        var fallback: MeasuredEfficiency?
        for device in discoverDevices().devices {
            guard let calibration = try? calibrations.device(device), let sgemm = calibration.clblastSgemmGFLOPS,
                sgemm > 0, calibration.fmaPeakGFLOPS > 0
            else { continue }
            let efficiency = MeasuredEfficiency(
                fraction: min(1, sgemm / calibration.fmaPeakGFLOPS), deviceName: calibration.deviceName,
                onGPU: device.info.kind == .gpu,
                measured: "CLBlast SGEMM \(NumberText.significant(sgemm)) GFLOP/s of a "
                    + "\(NumberText.significant(calibration.fmaPeakGFLOPS)) GFLOP/s FMA peak, calibrated")
            if efficiency.onGPU { return efficiency }
            fallback = fallback ?? efficiency
        }
        return fallback
    }

    /// A bench of the same workload on a GPU recorded in the store, scaled to the asked size by the FLOP count.
    private func measuredGPU(flops: Double?) throws -> (MeasuredGPU?, String?) {
        for run in try points.store.runs(limit: 500) where run.kind == .bench && run.status == .finished {
            guard let parameters = try? StoredJSON.decode(StoredBench.self, from: run.parameters),
                parameters.arguments.first == points.workload.name, parameters.device.hasSuffix("[gpu]")
            else { continue }
            let measurements = try points.store.measurements(run: run.id).filter { $0.seconds > 0 }
            guard !measurements.isEmpty else { continue }
            let median = Summary.quantile(measurements.map(\.seconds).sorted(), 0.5)
            let recordedFlops = measurements[0].flops
            let name = parameters.device.replacingOccurrences(
                of: #"^opencl:\d+ "#, with: "", options: .regularExpression
            )
            .replacingOccurrences(of: " [gpu]", with: "")
            guard let flops, recordedFlops > 0 else { continue }
            let seconds = median * flops / recordedFlops
            return (
                MeasuredGPU(seconds: seconds, deviceName: name),
                "GPU: bench run \(run.shortID) measured \(NumberText.seconds(median)) on \(name), scaled by FLOPs to \(NumberText.seconds(seconds))"
            )
        }
        return (nil, nil)
    }
}

/// What a bench run stored as its parameters, as far as the profiler reads them: the workload (first of its
/// arguments) and the device it ran on.
private struct StoredBench: Decodable {
    var arguments: [String]
    var device: String
}
