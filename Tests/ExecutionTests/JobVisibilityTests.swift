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
        let job = try await executor.submit(try BatchExecutorTests.shell("sleep 3"))
        let done = Task { await executor.runUntilDone() }

        // A second reader, as another process would open it.
        let reader = try CapsizeStore(path: store.path, machine: "test machine")
        var seen: JobRecord.State?
        while !done.isCancelled {
            seen = try reader.jobs(run: run.id).first { $0.id == job }?.state
            if seen == .running || seen?.isFinal == true { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen == .running, "the reader saw \(seen.map(\.rawValue) ?? "nothing") first")
        #expect(await done.value.first?.state == .succeeded)
    }
}
