public import Foundation

/// Measured peaks of one OpenCL device.
public struct DeviceCalibration: Codable, Sendable, Equatable {
    /// The machine measured (`CalibrationKey.machine`).
    public var machineKey: String
    /// The device measured (`CalibrationKey.device`): platform, device name, driver version.
    public var deviceKey: String
    public var deviceName: String
    public var platform: String
    public var kind: DeviceKind
    /// True when measured with quick sizes: lower bounds, not peaks.
    public var quick: Bool
    /// The best FP32 FMA rate over the kernel variants, in GFLOP/s (2 FLOPs per fma per lane).
    public var fmaPeakGFLOPS: Double
    /// Each variant's rate (`float`, `float4`, `float8`, `float16`).
    public var fmaVariants: [FMAVariantResult]
    /// Device-memory bandwidth of a float4 copy kernel, read + write bytes counted, in GB/s (10⁹ bytes).
    public var globalMemoryGBps: Double
    /// The size of each of the copy's two buffers, in bytes.
    public var globalMemoryBufferBytes: Int
    /// Blocking `clEnqueueWriteBuffer` from pageable host memory, in GB/s.
    public var hostToDeviceGBps: Double
    /// Blocking `clEnqueueReadBuffer` into pageable host memory, in GB/s.
    public var deviceToHostGBps: Double
    /// The size of each transfer, in bytes.
    public var transferBytes: Int
    /// The host's round trip for an empty kernel (enqueue, then `clFinish`), median, in µs.
    public var launchLatencyMicroseconds: Double
    /// The same empty kernel's duration on the device (profiling events), median, in µs.
    public var launchDeviceMicroseconds: Double
    /// The best CLBlast SGEMM rate over the sizes tried, in GFLOP/s (2n³ FLOPs per GEMM, wall time
    /// around the call and `clFinish`); nil when CLBlast failed or returned a wrong result (see `notes`).
    public var clblastSgemmGFLOPS: Double?
    /// The square size n at which `clblastSgemmGFLOPS` was reached.
    public var clblastSgemmSize: Int?
    /// Every size that ran and passed its check, in order, with its rate.
    public var clblastSgemmCurve: [GEMMPoint]
    /// CLBlast Xgemm parameters that beat CLBlast's defaults on this device (a full calibration of a
    /// GPU tries `CLBlast.xgemmCandidates`); workloads apply them. Nil when the defaults were best.
    public var clblastXgemmParameters: [String: Int]?
    /// What went wrong or may have spoiled the numbers, one sentence each (a CLBlast result that
    /// failed its check, other processes using the CPUs).
    public var notes: [String]
    public var measuredAt: Date
}
