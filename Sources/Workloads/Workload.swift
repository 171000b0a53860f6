public import CapsizeCore
public import Compute
public import Foundation

/// Something capsize can run and measure: a computation with parameters, a size knob,
/// analytical costs, and a run on a device that returns metrics and a checksum.
public protocol Workload: Sendable {
    /// The name users type, e.g. `train-mlp`.
    static var name: String { get }
    /// One line saying what it computes.
    static var summary: String { get }
    /// Every parameter with its default and allowed range.
    static var parameters: [ParameterSpec] { get }
    /// The parameter that scales the work (for sweeps).
    static var sizeParameter: String { get }
    /// Which calibrated peak its GFLOP/s are compared with.
    static var peak: PeakKind { get }
    /// Whether it takes a program's words after `--` (the `command` workload does).
    static var takesProgram: Bool { get }
    /// Whether `selector` can lead it to an OpenCL device when there is no GPU (render-frames' CPU path is
    /// PoCL; train-mlp's is OpenBLAS): a worker that will never need OpenCL skips loading it at Init.
    static func usesOpenCL(_ selector: DeviceSelector, gpus: Bool) -> Bool

    /// Builds the workload from validated parameter values.
    /// - Throws: `InputError` naming the parameter when a combination is invalid.
    init(parameters: ParameterValues) throws(InputError)

    /// Analytical FLOPs, bytes and memory of one run, computed before anything is allocated.
    var estimate: ResourceEstimate { get }

    /// The device a `--device` selector means for this workload.
    func resolve(_ selector: DeviceSelector, devices: [OpenCLDevice]) throws(InputError) -> ExecutionTarget

    /// Sets up everything a run needs on `target` (contexts, programs, buffers, data):
    /// the part a warm environment keeps between invocations.
    /// - Throws: `InputError` when the estimate does not fit the target; driver errors otherwise.
    func prepare(on target: ExecutionTarget, options: RunOptions) throws -> any PreparedWorkload
}

/// The calibrated rate a workload's GFLOP/s are a fraction of.
public enum PeakKind: String, Codable, Sendable {
    /// SGEMM: OpenBLAS on the host, CLBlast on an OpenCL device.
    case gemm
    /// The FP32 FMA rate of an OpenCL device (OpenBLAS SGEMM stands in on the host).
    case fma
    /// No FLOP count (a user's command).
    case none
}

extension Workload {
    public static var peak: PeakKind { .none }
    public static var takesProgram: Bool { false }

    /// By default any selector but `native` may mean an OpenCL device.
    public static func usesOpenCL(_ selector: DeviceSelector, gpus: Bool) -> Bool { selector != .native }
}

/// A workload set up on a device, ready to run repeatedly.
public protocol PreparedWorkload: AnyObject {
    /// Runs the workload once, from its initial state, and measures it.
    func run() throws -> RunResult
    /// Runs it once with `input`, the event's payload: a command reads it on its stdin; other workloads take
    /// nothing from it.
    func run(input: Data?) throws -> RunResult
}

extension PreparedWorkload {
    public func run(input: Data?) throws -> RunResult { try run() }
}

/// Where a workload runs.
public enum ExecutionTarget: Sendable, CustomStringConvertible {
    /// Host code: OpenBLAS for BLAS work, native Swift for everything else.
    case host
    /// An OpenCL device (a GPU, or a CPU through PoCL).
    case openCL(OpenCLDevice)

    public var description: String {
        switch self {
        case .host: "host CPU (native)"
        case .openCL(let device): "opencl:\(device.info.index) \(device.info.name) [\(device.info.kind.rawValue)]"
        }
    }

    /// A short label for records: `native`, `opencl:0`.
    public var label: String {
        switch self {
        case .host: "native"
        case .openCL(let device): "opencl:\(device.info.index)"
        }
    }
}

/// Settings that apply to any workload run.
public struct RunOptions: Sendable {
    /// A directory whose `*.cl` files replace the kernels compiled into the binary.
    public var kernelsDirectory: String?
    /// Where `render-frames` writes PNG files, if anywhere.
    public var saveFramesDirectory: String?
    /// How the caller names the calibration that tunes kernels, in a run's notes (the CLI: its command).
    public var calibration: String

    public init(
        kernelsDirectory: String? = nil, saveFramesDirectory: String? = nil, calibration: String = "calibration"
    ) {
        self.kernelsDirectory = kernelsDirectory
        self.saveFramesDirectory = saveFramesDirectory
        self.calibration = calibration
    }
}

/// What a workload will cost, counted from its parameters alone.
public struct ResourceEstimate: Codable, Sendable, Equatable {
    /// Floating-point operations of one run (a fused multiply-add counts as 2).
    public var flops: Double
    /// Bytes that must move through memory at least once per run.
    public var bytes: Double
    /// Host memory the run allocates on the host path, in bytes.
    public var hostBytes: UInt64
    /// Host memory the run allocates when it runs on an OpenCL device (staging copies), in bytes.
    public var hostBytesBesideDevice: UInt64
    /// Device memory the run allocates on an OpenCL device, in bytes.
    public var deviceBytes: UInt64
    /// The largest single device allocation, checked against the device's max-alloc size.
    public var largestDeviceBuffer: UInt64

    public init(
        flops: Double, bytes: Double, hostBytes: UInt64, deviceBytes: UInt64, largestDeviceBuffer: UInt64,
        hostBytesBesideDevice: UInt64? = nil
    ) {
        self.flops = flops
        self.bytes = bytes
        self.hostBytes = hostBytes
        self.hostBytesBesideDevice = hostBytesBesideDevice ?? hostBytes
        self.deviceBytes = deviceBytes
        self.largestDeviceBuffer = largestDeviceBuffer
    }

    /// Refuses a run whose memory cannot fit, before anything is allocated.
    /// - Parameters:
    ///   - sizeParameter: the parameter to blame in the message, e.g. `hidden`.
    /// - Throws: `InputError` naming the memory that is short.
    public func checkFits(on target: ExecutionTarget, sizeParameter: String, sizeValue: String) throws(InputError) {
        let available = HostInfo.availableMemoryBytes()
        let host: UInt64
        if case .openCL = target { host = hostBytesBesideDevice } else { host = hostBytes }
        if available > 0 && host > available {
            throw InputError(
                setting: sizeParameter, value: sizeValue,
                allowed: "a size whose estimate (\(formatBytes(host)) of host memory) fits the "
                    + "\(formatBytes(available)) available")
        }
        guard case .openCL(let device) = target else { return }
        if deviceBytes > device.info.globalMemoryBytes {
            throw InputError(
                setting: sizeParameter, value: sizeValue,
                allowed: "a size whose estimate (\(formatBytes(deviceBytes)) of device memory) fits "
                    + "\(device.info.name)'s \(formatBytes(device.info.globalMemoryBytes))")
        }
        if largestDeviceBuffer > device.info.maxAllocationBytes {
            throw InputError(
                setting: sizeParameter, value: sizeValue,
                allowed: "a size whose largest buffer (\(formatBytes(largestDeviceBuffer))) fits "
                    + "\(device.info.name)'s max allocation of \(formatBytes(device.info.maxAllocationBytes))")
        }
    }
}

/// One measured run of a workload.
public struct RunResult: Codable, Sendable {
    /// Seconds of the measured part (set-up excluded).
    public var seconds: Double
    /// FLOPs the run performed (analytical).
    public var flops: Double
    /// Named measurements, e.g. `step_seconds`, `kernel_seconds`, `transfer_seconds`.
    public var metrics: [String: Double]
    /// Named series, e.g. `loss` per step.
    public var series: [String: [Double]]
    /// A digest of the output, stable for the same parameters and device.
    public var checksum: String
    /// Peak resident memory of this process so far, bytes; of a `command`'s process tree when a bench runs it in
    /// the sandbox.
    public var peakHostBytes: UInt64
    /// Device memory the run held, bytes (0 on the host).
    public var deviceBytes: UInt64
    /// Throughput units for this workload, e.g. `["frames_per_second": 12.5]`.
    public var throughput: [String: Double]
    /// Things the user should know about this run.
    public var notes: [String]

    public init(
        seconds: Double, flops: Double, metrics: [String: Double] = [:], series: [String: [Double]] = [:],
        checksum: String, peakHostBytes: UInt64 = HostInfo.peakResidentBytes(), deviceBytes: UInt64 = 0,
        throughput: [String: Double] = [:], notes: [String] = []
    ) {
        self.seconds = seconds
        self.flops = flops
        self.metrics = metrics
        self.series = series
        self.checksum = checksum
        self.peakHostBytes = peakHostBytes
        self.deviceBytes = deviceBytes
        self.throughput = throughput
        self.notes = notes
    }

    /// GFLOP/s of the measured part.
    public var gflops: Double { seconds > 0 ? flops / seconds / 1e9 : 0 }
}

/// Formats a byte count in binary units (`1.5 GiB`).
public func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
}
