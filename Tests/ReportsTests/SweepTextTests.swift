import Foundation
import Testing
import Workloads

@testable import Reports
@testable import Studies

/// The text of a sweep: sample lines, the per-memory tables and where each series stopped.
@Suite struct SweepTextTests {
    static func sample(_ size: Double, _ status: SweepSample.Status, phase: SweepSample.Phase = .step) -> SweepSample {
        SweepSample(
            memoryMB: 512, size: size, repetition: 0, status: status, seconds: size / 10, peakMB: 20 + size,
            initMs: 30, message: nil, phase: phase, startedAt: Date(), endedAt: Date())
    }

    static func report(executor: SweepExecutor) throws -> SweepReport {
        let plan = try SweepPlan(
            workload: "command", parameters: ["--", "true"], sizes: "size=1,2,4,8", memoryList: "512",
            defaultMemories: [], repeats: 1, executor: executor, timeout: 1, architecture: "x86_64",
            governsCPUShare: true)
        let series = SweepSeries(
            memoryMB: 512, timeoutSeconds: 1,
            samples: [
                sample(1, .completed), sample(2, .completed), sample(4, .timeout), sample(8, .timeout, phase: .confirm),
            ],
            largestPassing: 2, firstBreak: 4, confirmed: true, stoppedBy: "cap")
        return SweepReport(run: "0123456789abcdef", plan: plan, series: [series], timeScale: 1)
    }

    @Test("a sample's line says its point, outcome, time and peak, and what is unusual about it")
    func sampleLine() throws {
        let sizes = try SizeList(parsing: "size=1,2", workload: CommandWorkload.self)
        #expect(
            SweepText.sample(
                Self.sample(2, .timeout, phase: .refine), sizes: sizes, reused: true, fullSpeed: "full speed")
                == "  512 MB  size=2  rep 0  timeout  200 ms  peak 22.0 MB (measured)  [refine]  [recorded before]  [full speed]"
        )
    }

    @Test("a sweep's text has a table per memory setting and says where the series stopped, in MB or MiB")
    func sweepText() throws {
        let text = SweepText.sweep(try Self.report(executor: .function))
        #expect(text.hasPrefix("\n512 MB, timeout 1.00 s:\nSIZE  OUTCOMES"))
        #expect(text.contains("  stopped by cap; largest passing size 2; first break at 4 (confirmed)\n"))
        #expect(text.contains("512 MB fits (projected from the measured points): "))
        #expect(SweepText.sweep(try Self.report(executor: .batch)).hasPrefix("\n512 MiB, timeout 1.00 s:"))
    }

    @Test("a caps study's text names the flag that turns the CPU share off as the caller calls it")
    func capsText() throws {
        var report = try Self.report(executor: .function)
        report.plan.governsCPUShare = false
        struct ShortHints: Hints {
            let calibrate = "calibrate"
            let fullSpeed = "--no-share"
            let resumeBench = "resume"
            let allRecords = "all"
            let allOptions = "every"
        }
        let text = SweepText.caps(report, hints: ShortHints())
        #expect(text.contains("with --no-share each function ran its threads on whole cores"))
        #expect(text.contains("where the caps break for command (size parameter size); timeout 1.00 s here:"))
    }
}
