import CapsizeCore
import ArgumentParser
import Compute
import Foundation
import Reports
import Workloads

/// `capsize devices [--json] [--calibrate [--quick]]`: the host, its BLAS, every OpenCL device, and
/// their calibrated peaks.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Show the host, BLAS and OpenCL devices, and measure their peaks with --calibrate.")

    @Flag(help: "Print JSON instead of tables.") var json = false
    @Flag(help: "Measure peaks now (SGEMM, memory bandwidth, FMA rate, transfers, launch latency) and store them.")
    var calibrate = false
    @Flag(help: "With --calibrate: small sizes and few repeats (seconds, not minutes); marked quick in the store.")
    var quick = false

    func validate() throws {
        if quick && !calibrate { throw ValidationError("\(InputError(field: "--quick", value: "true", allowed: "only with --calibrate"))") }
    }

    func run() throws {
        let store = CalibrationStore()
        let (devices, openCLNotice) = discoverDevices()
        var report = DevicesReport(
            host: HostInfo.current(),
            blas: .current(),
            openCL: devices.map(\.info), openCLNotice: openCLNotice,
            calibrationStore: store.path, calibratedNow: calibrate)
        if calibrate {
            let options = CalibrationOptions(quick: self.quick, progress: json ? nil : showProgress)
            if !json { say("Calibrating (\(quick ? "quick" : "full")); results are stored in \(store.path)") }
            let host = Calibrator.calibrateHost(options)
            try store.save(host)
            report.hostCalibration = host
            for device in devices {
                do {
                    let calibration = try Calibrator.calibrate(device, options)
                    try store.save(calibration)
                    report.deviceCalibrations.append(calibration)
                } catch {
                    report.calibrationErrors.append("opencl:\(device.info.index) \(device.info.name): \(error)")
                }
            }
        } else {
            report.hostCalibration = try store.host()
            report.deviceCalibrations = try devices.compactMap { try store.device($0) }
        }
        if json { return try printJSON(report) }
        printTables(report)
    }

    private func printTables(_ report: DevicesReport) {
        let host = report.host
        say("Host (read from /proc)")
        say("  \(host.cpuModel), \(host.logicalCores) logical cores, \(formatBytes(host.memoryTotalBytes)) memory "
            + "(\(formatBytes(host.memoryAvailableBytes)) available), SIMD: \(host.simdFeatures.joined(separator: " "))")
        say("BLAS")
        say("  \(report.blas.configuration)")
        say("  core type \(report.blas.coreType) (\(report.blas.coreTypeReason)), \(report.blas.threads) threads")
        for note in report.blas.coreTypeNotes { say("    note: \(note)") }
        say("OpenCL")
        if let openCLNotice = report.openCLNotice { say("  \(openCLNotice)") }
        if !report.openCL.isEmpty {
            say(indent(table(
                ["device", "name", "type", "platform", "CUs", "clock", "global", "max alloc", "local"],
                report.openCL.map { d in
                    ["opencl:\(d.index)", d.name, d.kind.rawValue, d.platform, "\(d.computeUnits)", "\(d.clockMHz) MHz",
                     formatBytes(d.globalMemoryBytes), formatBytes(d.maxAllocationBytes), formatBytes(d.localMemoryBytes)]
                })))
        }
        let source = report.calibratedNow ? "measured now" : "measured earlier, from \(report.calibrationStore)"
        say("Calibrated peaks (\(source))")
        if let h = report.hostCalibration {
            say("  host: OpenBLAS SGEMM \(fmt(h.blasSgemmGFLOPS)) GFLOP/s at n=\(h.blasSgemmSize) "
                + "(\(h.blasThreads) threads, \(h.blasCoreType)); memory triad \(fmt(h.memoryTriadGBps)) GB/s"
                + (h.quick ? " [quick]" : "") + "; \(h.measuredAt.formatted(.iso8601))")
            for note in h.notes { say("    note: \(note)") }
        } else {
            say("  host: not calibrated yet; run `capsize devices --calibrate`")
        }
        for d in report.deviceCalibrations {
            let gemm = d.clblastSgemmGFLOPS.map { "CLBlast SGEMM \(fmt($0)) GFLOP/s at n=\(d.clblastSgemmSize ?? 0)" }
                ?? "CLBlast SGEMM unavailable"
            say("  \(d.deviceName): FP32 FMA \(fmt(d.fmaPeakGFLOPS)) GFLOP/s, global memory \(fmt(d.globalMemoryGBps)) GB/s, "
                + "host→device \(fmt(d.hostToDeviceGBps)) GB/s, device→host \(fmt(d.deviceToHostGBps)) GB/s, "
                + "launch \(fmt(d.launchLatencyMicroseconds)) µs, \(gemm)" + (d.quick ? " [quick]" : ""))
            for note in d.notes { say("    note: \(note)") }
        }
        for error in report.calibrationErrors { say("  calibration failed: \(error)") }
    }
}

/// Everything `capsize devices --json` prints.
struct DevicesReport: Encodable {
    struct BLASInfo: Encodable {
        var configuration: String
        /// The kernels OpenBLAS runs (`openblas_get_corename`).
        var coreType: String
        /// Who chose them: `cpuid` (capsize, from the CPU's features), `environment` (the user's
        /// `OPENBLAS_CORETYPE`) or `openblas` (OpenBLAS's own detection, where there is no CPUID).
        var coreTypeSource: OpenBLASCoreSelection.Source
        /// The value OpenBLAS was given in `OPENBLAS_CORETYPE` (capsize's choice or the user's), nil when none.
        var coreTypeRequested: String?
        /// For `cpuid`: the CPUID features the choice rests on.
        var coreTypeFeatures: [String]
        /// One line: who chose the kernels and why.
        var coreTypeReason: String
        /// What is wrong with the kernels in use, if anything (an unknown name, features this CPU lacks).
        var coreTypeNotes: [String]
        var threads: Int

        static func current() -> BLASInfo {
            let selection = OpenBLASCoreType.selection
            let inUse = BLAS.coreType
            return BLASInfo(
                configuration: BLAS.configuration, coreType: inUse, coreTypeSource: selection.source,
                coreTypeRequested: selection.requested, coreTypeFeatures: selection.features,
                coreTypeReason: selection.reason,
                coreTypeNotes: OpenBLASCoreType.notes(selection: selection, inUse: inUse), threads: BLAS.threads)
        }
    }
    var host: HostInfo
    var blas: BLASInfo
    var openCL: [DeviceInfo]
    var openCLNotice: String?
    var calibrationStore: String
    var calibratedNow: Bool
    var hostCalibration: HostCalibration?
    var deviceCalibrations: [DeviceCalibration] = []
    var calibrationErrors: [String] = []
}

@Sendable private func showProgress(_ step: String) {
    say("  calibrating: \(step)")
}

/// The OpenCL devices, or none with a notice saying why; CPU paths work either way.
/// `CAPSIZE_HIDE_GPUS=1` hides GPU devices (inside a Lambda-model function, which has no GPU).
func discoverDevices() -> (devices: [OpenCLDevice], notice: String?) {
    do {
        var devices = try OpenCL.devices()
        if ProcessInfo.processInfo.environment["CAPSIZE_HIDE_GPUS"] == "1" {
            devices.removeAll { $0.info.kind == .gpu }
        }
        if devices.isEmpty {
            return ([], "no OpenCL platform found: OpenCL devices are unavailable; the CPU paths (OpenBLAS, native "
                + "renderer) still work. Install an ICD such as pocl-opencl-icd for an OpenCL CPU device.")
        }
        return (devices, nil)
    } catch {
        return ([], "OpenCL unavailable (\(error)); the CPU paths still work.")
    }
}

func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}
