import Foundation
import TestSupport
import Testing

@testable import Store

/// The store's promise end to end: the real `capsize` binary killed with SIGKILL mid-run loses no
/// recorded repetition, and `--resume` completes the run without repeating any.
@Suite struct ResumeAfterKillTests {
    /// The `capsize` binary built next to the test bundle.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("capsize").standardizedFileURL

    static func capsize(_ arguments: [String], home: String) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CAPSIZE_HOME"] = home
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(
        "bench killed with SIGKILL keeps every recorded repetition; --resume completes exactly 50, none twice",
        .timeLimit(.minutes(1)))
    func killThenResume() throws {
        let home = try temporaryDirectory("capsize-store")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: "test machine")
        let bench = try Self.capsize(
            ["bench", "command", "--repeat", "50", "--warmup", "0", "--", "/bin/sh", "-c", "sleep 0.1"], home: home)

        // Kill it once 15 repetitions are recorded (about 1.5 s in: each takes at least 100 ms), well before the
        // 50th. The wait blocks this thread rather than suspending: on a loaded machine the cooperative pool can
        // wake a suspended poll too late, after the last repetition.
        var recordedBeforeKill: [MeasurementRecord] = []
        let deadline = Date().addingTimeInterval(20)
        while recordedBeforeKill.count < 15 && Date() < deadline && bench.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
            if let run = try store.runs().first { recordedBeforeKill = try store.measurements(run: run.id) }
        }
        kill(bench.processIdentifier, SIGKILL)
        bench.waitUntilExit()
        #expect(bench.terminationReason == .uncaughtSignal && bench.terminationStatus == SIGKILL)

        let run = try #require(try store.runs().first)
        #expect(run.status == .running)
        let afterKill = try store.measurements(run: run.id)
        #expect(afterKill.count >= 15 && afterKill.count < 50)
        #expect(Set(afterKill.map(\.itemKey)) == Set((1...afterKill.count).map { "rep=\($0)" }))
        #expect(Array(afterKill.prefix(recordedBeforeKill.count)) == recordedBeforeKill)
        #expect(try store.markStaleRunsInterrupted(machine: run.machine) == [run.id])

        let resume = try Self.capsize(["bench", "--resume", run.shortID], home: home)
        resume.waitUntilExit()
        #expect(resume.terminationStatus == 0)

        let finished = try store.run(id: run.id)
        #expect(finished.status == .finished && finished.resumes == 1)
        let all = try store.measurements(run: run.id)
        #expect(all.count == 50)
        #expect(Set(all.map(\.itemKey)) == Set(RunPlan.repetitions(50).keys))
        #expect(Array(all.prefix(afterKill.count)) == afterKill)
        #expect(all.allSatisfy { $0.metrics["exit_code"] == 0 && $0.seconds >= 0.1 })
    }
}
