public import Foundation

/// Measured peaks of the host CPU: OpenBLAS SGEMM and main-memory bandwidth.
public struct HostCalibration: Codable, Sendable, Equatable {
    /// The machine measured (`CalibrationKey.machine`).
    public var machineKey: String
    /// The BLAS configuration measured (`CalibrationKey.blas`): core type and threads.
    public var blasKey: String
    /// True when measured with quick sizes: a lower bound, not a peak.
    public var quick: Bool
    /// The best OpenBLAS SGEMM rate over the sizes tried, in GFLOP/s (2n³ FLOPs per GEMM).
    public var blasSgemmGFLOPS: Double
    /// The square size n at which `blasSgemmGFLOPS` was reached.
    public var blasSgemmSize: Int
    /// Every size tried, in order, with its rate.
    public var blasSgemmCurve: [GEMMPoint]
    /// The threads OpenBLAS used.
    public var blasThreads: Int
    /// The CPU kernel family OpenBLAS used (e.g. `Cooperlake`: capsize's choice from CPUID, or the user's `OPENBLAS_CORETYPE`).
    public var blasCoreType: String
    /// OpenBLAS's build configuration string.
    public var blasConfiguration: String
    /// STREAM triad bandwidth (a = b + s·c over floats, 3 × 4 bytes per element), in GB/s (10⁹ bytes).
    public var memoryTriadGBps: Double
    /// The size of each of the triad's three arrays, in bytes.
    public var memoryTriadArrayBytes: Int
    /// The threads the triad ran on.
    public var memoryTriadThreads: Int
    /// What may have spoiled the numbers, one sentence each (e.g. other processes using the CPUs).
    public var notes: [String] = []
    public var measuredAt: Date
}
