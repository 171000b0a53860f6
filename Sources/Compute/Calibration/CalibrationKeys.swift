import Foundation

/// The keys calibrations are stored under: a peak belongs to one machine and one device or
/// BLAS configuration, and is never applied to another.
public enum CalibrationKey {
    /// This machine: hostname, CPU model and logical cores, e.g. `build-7 | Intel(R) Xeon(R) Processor | 2 cores`.
    public static func machine(_ host: HostInfo = .current()) -> String {
        "\(host.hostname) | \(host.cpuModel) | \(host.logicalCores) cores"
    }

    /// The host BLAS as configured now: library, core type and threads, e.g. `OpenBLAS Cooperlake | 2 threads`.
    /// `OPENBLAS_CORETYPE` and the thread count change SGEMM speed, so each gets its own entry.
    public static func blas(coreType: String = BLAS.coreType, threads: Int = BLAS.threads) -> String {
        "OpenBLAS \(coreType) | \(threads) threads"
    }

    /// One OpenCL device: platform, device name and driver version,
    /// e.g. `Portable Computing Language | pthread-skylake-avx512-Intel(R) Xeon(R) Processor | 3.1+debian`.
    public static func device(_ info: DeviceInfo) -> String {
        "\(info.platform) | \(info.name) | \(info.driverVersion)"
    }
}
