import Foundation
import Testing

@testable import Compute

/// Shared fixtures for ComputeTests.
enum Fixture {
    /// True when the ICD loader finds at least one OpenCL device (PoCL on the development machine).
    static let hasOpenCL: Bool = (try? OpenCL.devices().isEmpty == false) ?? false

    /// The device to test on: PoCL's CPU device when present (it is on every development machine), else the first.
    static func device() throws -> OpenCLDevice {
        let devices = try OpenCL.devices()
        return try #require(devices.first { $0.info.kind == .cpu } ?? devices.first)
    }

    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { CalibrationSupport.fillRandom($0, seed: seed) }
        return values
    }

    /// C = alpha · op(A) · op(B) + beta · C by the textbook triple loop, row-major, in Double.
    static func naiveGEMM(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: [Float], aOffset: Int = 0, lda: Int, b: [Float], bOffset: Int = 0, ldb: Int,
        beta: Float, c: [Float], cOffset: Int = 0, ldc: Int
    ) -> [Float] {
        var result = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p]
                    let y = transposeB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                let index = cOffset + i * ldc + j
                result[index] = Float(Double(alpha) * sum + Double(beta) * Double(c[index]))
            }
        }
        return result
    }

    /// The largest |x - y| / max(1, |y|) over two arrays of the same length.
    static func maxRelativeError(_ x: [Float], _ y: [Float]) -> Float {
        zip(x, y).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    static func hostCalibration(
        machine: String = "test-machine | Test CPU | 4 cores", blas: String = "OpenBLAS Haswell | 4 threads",
        gflops: Double = 250
    ) -> HostCalibration {
        HostCalibration(
            machineKey: machine, blasKey: blas, quick: false, blasSgemmGFLOPS: gflops, blasSgemmSize: 4096,
            blasSgemmCurve: [GEMMPoint(n: 2048, gflops: gflops - 10), GEMMPoint(n: 4096, gflops: gflops)],
            blasThreads: 4, blasCoreType: "Haswell", blasConfiguration: "OpenBLAS 0.3.21 Haswell",
            memoryTriadGBps: 20, memoryTriadArrayBytes: 128 << 20, memoryTriadThreads: 4,
            measuredAt: Date(timeIntervalSince1970: 1_790_000_000))
    }

    static func deviceCalibration(
        machine: String = "test-machine | Test CPU | 4 cores", device: String, gflops: Double
    ) -> DeviceCalibration {
        DeviceCalibration(
            machineKey: machine, deviceKey: device, deviceName: device, platform: "Test Platform", kind: .gpu,
            quick: false, fmaPeakGFLOPS: gflops, fmaVariants: [FMAVariantResult(variant: "float", gflops: gflops)],
            globalMemoryGBps: 900, globalMemoryBufferBytes: 1 << 30, hostToDeviceGBps: 12, deviceToHostGBps: 13,
            transferBytes: 256 << 20, launchLatencyMicroseconds: 8, launchDeviceMicroseconds: 2,
            clblastSgemmGFLOPS: gflops / 2, clblastSgemmSize: 8192, clblastSgemmCurve: [], notes: [],
            measuredAt: Date(timeIntervalSince1970: 1_790_000_000))
    }
}
