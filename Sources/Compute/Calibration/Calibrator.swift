import Foundation

/// How hard a calibration works: quick for tests and smoke runs, full for peaks worth storing.
public struct CalibrationOptions: Sendable {
    /// Small sizes and few repeats (a whole host + CPU-device calibration in seconds); the
    /// numbers are then lower bounds, not peaks.
    public var quick: Bool
    /// Called with one line before each measurement starts (e.g. "OpenBLAS SGEMM n=2048"), for progress output.
    public var progress: (@Sendable (String) -> Void)?

    public init(quick: Bool = false, progress: (@Sendable (String) -> Void)? = nil) {
        self.quick = quick
        self.progress = progress
    }

    /// Sizes that saturate the hardware; the numbers to store as peaks.
    public static let full = CalibrationOptions(quick: false)
    /// Small sizes and few repeats, for tests and `make run`.
    public static let quick = CalibrationOptions(quick: true)

    func report(_ line: @autoclosure () -> String) { progress?(line()) }
}

/// One point of a GEMM sweep: square size n and the rate measured there.
public struct GEMMPoint: Codable, Sendable, Equatable {
    public var n: Int
    public var gflops: Double
}

/// The rate one variant of the FMA-peak kernel reached (e.g. `float16`).
public struct FMAVariantResult: Codable, Sendable, Equatable {
    public var variant: String
    public var gflops: Double
}

/// Measures the peaks that reports divide by: host BLAS and memory, and each OpenCL device.
public enum Calibrator {
    /// Measures OpenBLAS SGEMM GFLOP/s (growing n until it stops rising) and host memory
    /// bandwidth (a parallel STREAM triad), with OpenBLAS's current core type and threads.
    /// - Parameter options: quick or full sizes.
    /// - Returns: the measured host calibration, keyed by this machine and BLAS configuration.
    public static func calibrateHost(_ options: CalibrationOptions = .full) -> HostCalibration {
        HostCalibrator(options: options).run()
    }

    /// Measures one OpenCL device: FP32 FMA peak, global-memory bandwidth, host↔device
    /// transfer, kernel-launch latency and CLBlast SGEMM.
    /// - Parameters:
    ///   - device: the device, from `OpenCL.devices()`.
    ///   - options: quick or full sizes.
    /// - Returns: the measured device calibration, keyed by this machine and the device.
    /// - Throws: `OpenCLError` when the device cannot build or run the calibration kernels.
    ///   A CLBlast failure or a wrong CLBlast result is not thrown: the SGEMM fields are then
    ///   nil and `notes` says why.
    public static func calibrate(_ device: OpenCLDevice, _ options: CalibrationOptions = .full) throws
        -> DeviceCalibration
    {
        try DeviceCalibrator(device: device, options: options).run()
    }
}

/// A calibration that ran but whose result cannot be trusted.
public enum CalibrationError: Error, CustomStringConvertible, Equatable {
    /// A computation returned a wrong answer; the text says which and by how much.
    case wrongResult(String)

    public var description: String {
        switch self {
        case .wrongResult(let text): "\(text); its speed is not recorded."
        }
    }
}
