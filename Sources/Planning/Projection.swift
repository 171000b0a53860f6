public import CapsizeCore
public import CloudModel
import Foundation

/// A run of the workload measured on a GPU here.
public struct MeasuredGPU: Codable, Sendable, Equatable {
    /// Median wall time of the run on the GPU.
    public var seconds: Double
    /// The device's name as OpenCL reports it (e.g. "NVIDIA H100 80GB HBM3").
    public var deviceName: String
    /// The device's FP32 peak in TFLOPS, when known (calibrated or from a spec sheet).
    public var fp32TFLOPS: Double?

    public init(seconds: Double, deviceName: String, fp32TFLOPS: Double? = nil) {
        self.seconds = seconds
        self.deviceName = deviceName
        self.fp32TFLOPS = fp32TFLOPS
    }
}

/// The fraction of its FP32 peak that a calibrated device here reached on real work: CLBlast's SGEMM against the
/// device's measured FMA peak (`devices --calibrate`). A GPU projected from a FLOP count runs at this fraction of
/// its spec-sheet peak rather than at all of it.
public struct MeasuredEfficiency: Codable, Sendable, Equatable {
    /// Achieved / peak, in (0, 1].
    public var fraction: Double
    /// The device it was measured on, as OpenCL names it.
    public var deviceName: String
    /// Whether that device is a GPU (a CPU's OpenCL device, such as PoCL, is a weaker stand-in).
    public var onGPU: Bool
    /// What was measured, e.g. `CLBlast SGEMM 412 GFLOP/s of a 1150 GFLOP/s FMA peak`.
    public var measured: String

    public init(fraction: Double, deviceName: String, onGPU: Bool, measured: String) {
        self.fraction = fraction
        self.deviceName = deviceName
        self.onGPU = onGPU
        self.measured = measured
    }
}

/// What was measured here about one workload at one size: the input to every projection.
public struct WorkloadProfile: Codable, Sendable, Equatable {
    /// Median wall time on this machine's CPU at `localThreads` threads.
    public var localSeconds: Double
    public var localThreads: Int
    /// Amdahl's serial fraction from a scaling fit done elsewhere; nil when there was none.
    public var serialFraction: Double?
    /// Measured peak memory (RSS of the process tree), MB.
    public var peakMemoryMB: Double
    /// Analytical floating-point operations of one run, when the workload knows them.
    public var flops: Double?
    /// A run of the same workload on a GPU, when there was one.
    public var gpu: MeasuredGPU?
    /// Whether the workload can only run on a GPU (no CPU option is feasible).
    public var requiresGPU: Bool
    /// This machine's calibrated CPU FP32 peak, TFLOPS.
    public var localFP32TFLOPS: Double?
    /// Measured start-up (init) time of the program on a cold start.
    public var startupSeconds: Double?
    /// The fraction of peak a calibrated OpenCL device here reached, for GPUs projected from the FLOP count.
    public var deviceEfficiency: MeasuredEfficiency?

    /// - Throws: `InputError` naming the field when a measurement is not a positive, finite number or the serial
    ///   fraction is outside 0...1.
    public init(
        localSeconds: Double, localThreads: Int = 1, serialFraction: Double? = nil, peakMemoryMB: Double,
        flops: Double? = nil, gpu: MeasuredGPU? = nil, requiresGPU: Bool = false, localFP32TFLOPS: Double? = nil,
        startupSeconds: Double? = nil, deviceEfficiency: MeasuredEfficiency? = nil
    ) throws(InputError) {
        for (field, value) in [
            ("localSeconds", localSeconds), ("peakMemoryMB", peakMemoryMB), ("flops", flops ?? 1),
            ("gpu.seconds", gpu?.seconds ?? 1), ("gpu.fp32TFLOPS", gpu?.fp32TFLOPS ?? 1),
            ("localFP32TFLOPS", localFP32TFLOPS ?? 1),
        ] where !value.isFinite || value <= 0 {
            throw InputError(field: field, value: "\(value)", allowed: "a finite number above 0")
        }
        guard localThreads >= 1 else {
            throw InputError(field: "localThreads", value: "\(localThreads)", allowed: "1 or more threads")
        }
        if let serialFraction, !(serialFraction.isFinite && (0...1).contains(serialFraction)) {
            throw InputError(field: "serialFraction", value: "\(serialFraction)", allowed: "0...1")
        }
        if let fraction = deviceEfficiency?.fraction, !(fraction.isFinite && fraction > 0 && fraction <= 1) {
            throw InputError(field: "deviceEfficiency.fraction", value: "\(fraction)", allowed: "a fraction in (0, 1]")
        }
        if let startupSeconds, !(startupSeconds.isFinite && startupSeconds >= 0) {
            throw InputError(field: "startupSeconds", value: "\(startupSeconds)", allowed: "a finite number ≥ 0")
        }
        if requiresGPU && gpu == nil && flops == nil && localFP32TFLOPS == nil {
            throw InputError(
                field: "gpu", value: "(none)",
                allowed: "a GPU measurement, a FLOP count or a CPU peak for a GPU-only job")
        }
        self.localSeconds = localSeconds
        self.localThreads = localThreads
        self.serialFraction = serialFraction
        self.peakMemoryMB = peakMemoryMB
        self.flops = flops
        self.gpu = gpu
        self.requiresGPU = requiresGPU
        self.localFP32TFLOPS = localFP32TFLOPS
        self.startupSeconds = startupSeconds
        self.deviceEfficiency = deviceEfficiency
    }
}

/// Projects a measured workload's runtime onto other CPU shares and GPUs.
public enum Projection {
    /// The runtime on `vcpus` vCPUs (fractional on Lambda and Fargate), one vCPU taken as one local hardware thread.
    ///
    /// With a serial fraction s, Amdahl's law: T(p) = T₁ (s + (1 − s)/p) for p ≥ 1, where T₁ is solved from the
    /// measurement; below one vCPU the whole run slows in proportion, T(p) = T₁/p. Without a fit the run is assumed
    /// perfectly parallel up to the measured thread count and no faster beyond it (T = T_local · n / min(p, n)), and
    /// the basis says so.
    public static func cpu(_ profile: WorkloadProfile, vcpus: Double) -> ProjectedSeconds {
        let n = Double(profile.localThreads)
        let measured = "\(short(profile.localSeconds)) s measured at \(profile.localThreads) thread(s)"
        if let s = profile.serialFraction {
            let single = profile.localSeconds / (s + (1 - s) / n)
            let seconds = vcpus < 1 ? single / vcpus : single * (s + (1 - s) / vcpus)
            return ProjectedSeconds(
                seconds: seconds, provenance: .projectedFromFit,
                basis: "Amdahl fit (serial fraction \(short(s))) from \(measured), at \(shareText(vcpus))")
        }
        let seconds = profile.localSeconds * n / min(vcpus, n)
        var basis = "no Amdahl fit: assumed perfectly parallel up to the \(profile.localThreads) measured thread(s)"
        basis += vcpus > n ? " and no faster beyond them" : ""
        return ProjectedSeconds(
            seconds: seconds, provenance: .projectedFromSpec,
            basis: "\(basis); from \(measured), at \(shareText(vcpus))")
    }

    /// The runtime on Lambda at `memoryMB`: the CPU projection at Lambda's share, memory / 1,769 MB, at most 6 vCPUs.
    public static func lambda(_ profile: WorkloadProfile, memoryMB: Int) -> ProjectedSeconds {
        let share = FunctionConfiguration.vcpuShare(memoryMB: memoryMB)
        var projection = cpu(profile, vcpus: share)
        projection.basis += " (Lambda's share at \(memoryMB) MB)"
        return projection
    }

    /// The runtime of one run on one GPU of the catalog, and the basis used, in order of preference:
    /// 1. a run measured here on the same GPU model (e.g. "H100" in both names), taken as is;
    /// 2. a run measured here on another GPU, scaled by the ratio of FP32 peaks (the measured device's from the
    ///    profile, else from the catalog entry of the same model);
    /// 3. the FLOP count at the fraction of the GPU's FP32 peak that a calibrated OpenCL GPU here reached
    ///    (`deviceEfficiency`);
    /// 4. the CPU run, scaled by the ratio of this CPU's FP32 peak to the GPU's (the same fraction of peak assumed);
    /// 5. the FLOP count at the fraction a calibrated OpenCL CPU device here reached, or, without one, at the GPU's
    ///    full FP32 peak (optimistic).
    /// - Returns: nil when none of these can be computed.
    public static func gpu(_ profile: WorkloadProfile, on target: PriceCatalog.GPU, prices: PriceCatalog)
        -> ProjectedSeconds?
    {
        let targetName = "\(target.model) (\(CostModel.format(target.fp32TFLOPS)) TFLOPS FP32)"
        if let measured = profile.gpu {
            let run = "\(short(measured.seconds)) s measured here on \(measured.deviceName)"
            if sameModel(measured.deviceName, target.model) {
                return ProjectedSeconds(
                    seconds: measured.seconds, provenance: .projectedFromSpec,
                    basis: "\(run): the same GPU model as \(target.model), taken as is")
            }
            let peak =
                measured.fp32TFLOPS
                ?? prices.ec2.instances.compactMap(\.gpu).first { sameModel(measured.deviceName, $0.model) }?.fp32TFLOPS
            if let peak {
                return ProjectedSeconds(
                    seconds: measured.seconds * peak / target.fp32TFLOPS, provenance: .projectedFromSpec,
                    basis:
                        "\(run) (\(CostModel.format(peak)) TFLOPS FP32), scaled by the FP32 peak ratio to \(targetName)"
                )
            }
        }
        let efficient = profile.flops.flatMap { flops in
            profile.deviceEfficiency.map { efficiency in
                let percent = NumberText.significant(efficiency.fraction * 100, 2)
                return ProjectedSeconds(
                    seconds: flops / (target.fp32TFLOPS * efficiency.fraction * 1e12), provenance: .projectedFromSpec,
                    basis: "\(String(format: "%.3g", flops)) FLOPs at \(percent) % of the FP32 peak of \(targetName): "
                        + "the fraction of peak measured on \(efficiency.deviceName) here (\(efficiency.measured)"
                        + (efficiency.onGPU ? ")" : "; a CPU's OpenCL device, no GPU calibrated here)"))
            }
        }
        if let efficient, profile.deviceEfficiency?.onGPU == true { return efficient }
        if let local = profile.localFP32TFLOPS {
            return ProjectedSeconds(
                seconds: profile.localSeconds * local / target.fp32TFLOPS, provenance: .projectedFromSpec,
                basis: "CPU run (\(short(profile.localSeconds)) s at \(CostModel.format(local)) TFLOPS FP32 "
                    + "peak here) scaled by the FLOP-rate ratio to \(targetName), the same fraction of peak assumed")
        }
        if let efficient { return efficient }
        if let flops = profile.flops {
            return ProjectedSeconds(
                seconds: flops / (target.fp32TFLOPS * 1e12), provenance: .projectedFromSpec,
                basis: "\(String(format: "%.3g", flops)) FLOPs at the full FP32 peak of \(targetName) (optimistic)")
        }
        return nil
    }

    /// Whether a measured device name and a catalog GPU model name the same model: the catalog model's last word
    /// ("H100" of "NVIDIA H100") is one of the device name's words ("NVIDIA H100 80GB HBM3", "A100-SXM4-40GB").
    public static func sameModel(_ deviceName: String, _ catalogModel: String) -> Bool {
        func words(_ text: String) -> [String] {
            text.uppercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        }
        guard let model = words(catalogModel).last else { return false }
        return words(deviceName).contains(model)
    }

    /// A measured or projected figure in a basis text: four significant digits.
    static func short(_ value: Double) -> String { String(format: "%.4g", value) }

    static func shareText(_ vcpus: Double) -> String {
        "\(String(format: vcpus == vcpus.rounded() ? "%.0f" : "%.2f", vcpus)) vCPU(s)"
    }
}
