import ArgumentParser
import CapsizeCore
import Compute
import Foundation
import Reports
import Studies
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
        if quick && !calibrate {
            throw ValidationError("\(InputError(field: "--quick", value: "true", allowed: "only with --calibrate"))")
        }
    }

    func run() throws {
        let store = CalibrationStore()
        if calibrate && !json { say("Calibrating (\(quick ? "quick" : "full")); results are stored in \(store.path)") }
        let report = try DeviceSurvey.run(
            calibrate: calibrate, quick: quick, store: store, progress: json ? nil : showProgress)
        if json { return try printJSON(report) }
        say(DevicesText.text(report, hints: .commandLine))
    }
}

@Sendable private func showProgress(_ step: String) {
    say("  calibrating: \(step)")
}
