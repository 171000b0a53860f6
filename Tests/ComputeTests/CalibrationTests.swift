import Foundation
import Testing

@testable import Compute

@Suite(.serialized) struct CalibrationTests {
    @Test(
        "a quick host calibration gives finite, plausible SGEMM and memory-bandwidth numbers", .timeLimit(.minutes(1)))
    func quickHost() {
        let calibration = Calibrator.calibrateHost(.quick)
        #expect(calibration.quick)
        #expect((1...10_000).contains(calibration.blasSgemmGFLOPS))
        #expect(calibration.blasSgemmSize > 0)
        #expect(
            calibration.blasSgemmCurve.contains(
                GEMMPoint(n: calibration.blasSgemmSize, gflops: calibration.blasSgemmGFLOPS)))
        #expect((0.1...10_000).contains(calibration.memoryTriadGBps))
        #expect(calibration.memoryTriadArrayBytes > 0)
        #expect(calibration.memoryTriadThreads == HostInfo.current().logicalCores)
        #expect(calibration.blasThreads == BLAS.threads)
        #expect(calibration.blasCoreType == BLAS.coreType)
        #expect(calibration.machineKey == CalibrationKey.machine())
        #expect(calibration.blasKey == CalibrationKey.blas())
        #expect(abs(calibration.measuredAt.timeIntervalSinceNow) < 60)
    }

    @Test(
        "a quick calibration of the OpenCL device gives finite, plausible peaks, latency and a checked CLBlast rate",
        .enabled(if: Fixture.hasOpenCL, "needs an OpenCL device"), .timeLimit(.minutes(1)))
    func quickDevice() throws {
        let device = try Fixture.device()
        let calibration = try Calibrator.calibrate(device, .quick)
        #expect(calibration.deviceKey == CalibrationKey.device(device.info))
        #expect(calibration.deviceName == device.info.name)
        #expect(calibration.fmaVariants.map(\.variant) == ["float", "float4", "float8", "float16"])
        for variant in calibration.fmaVariants {
            #expect((1...1_000_000).contains(variant.gflops), "\(variant.variant)")
        }
        #expect(calibration.fmaPeakGFLOPS == calibration.fmaVariants.map(\.gflops).max())
        #expect((0.1...100_000).contains(calibration.globalMemoryGBps))
        #expect((0.01...10_000).contains(calibration.hostToDeviceGBps))
        #expect((0.01...10_000).contains(calibration.deviceToHostGBps))
        #expect((0.1...1_000_000).contains(calibration.launchLatencyMicroseconds))
        #expect((0...1_000_000).contains(calibration.launchDeviceMicroseconds))
        let gemm = try #require(calibration.clblastSgemmGFLOPS, "notes: \(calibration.notes)")
        #expect((1...1_000_000).contains(gemm))
        #expect(calibration.clblastSgemmSize.map { $0 > 0 } == true)
    }

    @Test(
        "a GEMM result that disagrees with the host's dot products is rejected, not reported as fast",
        .enabled(if: Fixture.hasOpenCL, "needs an OpenCL device"))
    func wrongGEMMIsRejected() throws {
        let device = try Fixture.device()
        let context = try OpenCLContext(device: device)
        let n = 16
        let a = Fixture.values(n * n, seed: 1)
        let b = Fixture.values(n * n, seed: 2)
        let calibrator = DeviceCalibrator(device: device, options: .quick)
        let zeros = try context.buffer([Float](repeating: 0, count: n * n))
        #expect(throws: CalibrationError.self) { try calibrator.verify(context, c: zeros, a: a, b: b, n: n) }

        var product = [Float](repeating: 0, count: n * n)
        BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &product, ldc: n)
        let right = try context.buffer(product)
        try calibrator.verify(context, c: right, a: a, b: b, n: n)
    }

    @Test("CPU time that is busy but not this process's own counts as other processes' load, and over 10 % is noted")
    func loadMonitor() throws {
        let start: CPULoadMonitor.Sample = (busy: 1_000, total: 10_000, own: 200)
        let share = try #require(CPULoadMonitor.othersShare(from: start, to: (busy: 1_500, total: 11_000, own: 400)))
        #expect(abs(share - 0.3) < 1e-12)  // (500 busy - 200 own) / 1000 total
        #expect(CPULoadMonitor.othersShare(from: start, to: (busy: 1_200, total: 11_000, own: 400)) == 0)
        #expect(CPULoadMonitor.othersShare(from: start, to: start) == nil)
        #expect(CPULoadMonitor.note(share: 0.3)?.contains("30 %") == true)
        #expect(CPULoadMonitor.note(share: 0.05) == nil)
        let sample = try #require(CPULoadMonitor.sample(), "/proc/stat and /proc/self/stat are readable on Linux")
        #expect(sample.total >= sample.busy && sample.busy > 0)
    }
}
