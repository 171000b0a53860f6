import CloudModel
import Foundation
import Store
import TestSupport
import Testing

@testable import Execution

/// What another reader of the store (`capsize jobs` in a second shell) sees of a run while it runs.
@Suite(.timeLimit(.minutes(1))) struct JobVisibilityTests {
    @Test("a running job is stored as RUNNING while it runs, not only when it ends")
    func runningStateIsVisible() async throws {
        let directory = try temporaryDirectory("capsize-visibility")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try CapsizeStore(path: directory + "/capsize.sqlite", machine: "test machine")
        let run = try store.createRun(kind: .submit, commandLine: ["test"], parameters: [String: String]())
        let executor = try BatchExecutorTests.executor(store: store, runID: run.id)
        // The job runs until the reader has looked (or 45 s have passed), so that a loaded machine cannot end it
        // before the reader opens the store: only a RUNNING state that never reaches the store fails this test.
        let release = directory + "/release"
        let wait = "i=0; while [ ! -e '\(release)' ] && [ $i -lt 900 ]; do sleep 0.05; i=$((i+1)); done"
        let job = try await executor.submit(try BatchExecutorTests.shell(wait))
        let done = Task { await executor.runUntilDone() }

        // A second reader, as another process would open it, polling from a thread of its own (a busy cooperative
        // pool could wake a suspended poll only after the job ended).
        let (path, runID) = (store.path, run.id)
        let seen = try await onOwnThread { () throws -> JobRecord.State? in
            defer { FileManager.default.createFile(atPath: release, contents: nil) }
            let reader = try CapsizeStore(path: path, machine: "test machine")
            var seen: JobRecord.State?
            let deadline = Date().addingTimeInterval(50)
            while Date() < deadline {
                seen = try reader.jobs(run: runID).first { $0.id == job }?.state
                if seen == .running || seen?.isFinal == true { break }
                usleep(20_000)
            }
            return seen
        }
        #expect(seen == .running, "the reader saw \(seen.map(\.rawValue) ?? "nothing") first")
        #expect(await done.value.first?.state == .succeeded)
    }

    @Test("a log cut at the log limit says where and how much was written; an uncut log has no such line")
    func truncatedLogSaysSo() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let executor = BatchExecutor(
            queue: JobQueue(environments: [ComputeEnvironment(name: "local", maxVCPUs: 2, memoryMiB: 4096)]),
            runID: "test-run", sandbox: try Sandbox(), store: nil, outputRoot: output, logLimitBytes: 1000)
        let cut = try await executor.submit(
            try BatchExecutorTests.shell("head -c 5000 /dev/zero | tr '\\0' x; echo oops >&2"))
        let whole = try await executor.submit(try BatchExecutorTests.shell("echo short"))
        let records = await executor.runUntilDone()
        func log(_ id: String) throws -> String {
            let folder = try #require(records.first { $0.id == id }?.logPath)
            return try String(contentsOfFile: folder + "/attempt-1.log", encoding: .utf8)
        }
        let text = try log(cut)
        #expect(text.hasPrefix(String(repeating: "x", count: 1000) + "\n[capsize: stdout cut at the log limit"))
        #expect(text.contains("1000 of 5000 bytes kept]"))
        #expect(text.hasSuffix("--- stderr ---\noops\n"), "\(text.suffix(80))")
        #expect(try log(whole) == "short\n")
    }
}
