import Compute
public import Studies
import Workloads

/// `capsize devices` as terminal text.
public enum DevicesText {
    /// The host, its BLAS, the OpenCL devices and the calibrated peaks, as `capsize devices` prints them.
    public static func text(_ report: DevicesReport, hints: some Hints) -> String {
        var lines: [String] = []
        func say(_ line: String) { lines.append(line) }
        let host = report.host
        say("Host (read from /proc)")
        say(
            "  \(host.cpuModel), \(host.logicalCores) logical cores, \(formatBytes(host.memoryTotalBytes)) memory "
                + "(\(formatBytes(host.memoryAvailableBytes)) available), SIMD: \(host.simdFeatures.joined(separator: " "))"
        )
        say("BLAS")
        say("  \(report.blas.configuration)")
        say("  core type \(report.blas.coreType) (\(report.blas.coreTypeReason)), \(report.blas.threads) threads")
        for note in report.blas.coreTypeNotes { say("    note: \(note)") }
        say("OpenCL")
        if let openCLNotice = report.openCLNotice { say("  \(openCLNotice)") }
        if !report.openCL.isEmpty {
            say(
                indent(
                    table(
                        ["device", "name", "type", "platform", "CUs", "clock", "global", "max alloc", "local"],
                        report.openCL.map { d in
                            [
                                "opencl:\(d.index)", d.name, d.kind.rawValue, d.platform, "\(d.computeUnits)",
                                "\(d.clockMHz) MHz",
                                formatBytes(d.globalMemoryBytes), formatBytes(d.maxAllocationBytes),
                                formatBytes(d.localMemoryBytes),
                            ]
                        })))
        }
        let source = report.calibratedNow ? "measured now" : "measured earlier, from \(report.calibrationStore)"
        say("Calibrated peaks (\(source))")
        if let h = report.hostCalibration {
            say(
                "  host: OpenBLAS SGEMM \(fmt(h.blasSgemmGFLOPS)) GFLOP/s at n=\(h.blasSgemmSize) "
                    + "(\(h.blasThreads) threads, \(h.blasCoreType)); memory triad \(fmt(h.memoryTriadGBps)) GB/s"
                    + (h.quick ? " [quick]" : "") + "; \(h.measuredAt.formatted(.iso8601))")
            for note in h.notes { say("    note: \(note)") }
        } else {
            say("  host: not calibrated yet; run `\(hints.calibrate)`")
        }
        for d in report.deviceCalibrations {
            let gemm =
                d.clblastSgemmGFLOPS.map { "CLBlast SGEMM \(fmt($0)) GFLOP/s at n=\(d.clblastSgemmSize ?? 0)" }
                ?? "CLBlast SGEMM unavailable"
            say(
                "  \(d.deviceName): FP32 FMA \(fmt(d.fmaPeakGFLOPS)) GFLOP/s, global memory \(fmt(d.globalMemoryGBps)) GB/s, "
                    + "host→device \(fmt(d.hostToDeviceGBps)) GB/s, device→host \(fmt(d.deviceToHostGBps)) GB/s, "
                    + "launch \(fmt(d.launchLatencyMicroseconds)) µs, \(gemm)" + (d.quick ? " [quick]" : ""))
            for note in d.notes { say("    note: \(note)") }
        }
        for error in report.calibrationErrors { say("  calibration failed: \(error)") }
        return lines.joined(separator: "\n")
    }
}

func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}
