import CloudModel
import Foundation
import Store
import Synchronization
import TestSupport
import Testing

@testable import Execution

/// `BatchExecutor.serve`, the long-lived queue behind `capsize serve`, and `terminate`.
///
/// The waits are long and the "long" jobs longer: these tests assert order, not speed, and in a parallel test run a
/// synchronous test elsewhere that waits for a subprocess holds one of the machine's two cooperative threads; two
/// of them starved `serve`'s task for 29 s in one CI run.
@Suite(.serialized, .timeLimit(.minutes(3))) struct BatchServingTests {
    /// Every job's latest record, as the executor's observer hands them over.
    final class Latest: Sendable {
        let records = Mutex<[String: JobRecord]>([:])

        subscript(id: String) -> JobRecord? { records.withLock { $0[id] } }

        /// Waits (at most 60 s) until job `id` is in one of `states`; returns its record then.
        func wait(_ id: String, for states: Set<JobRecord.State>) async throws -> JobRecord {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if let record = self[id], states.contains(record.state) { return record }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("job \(id) never became \(states.map(\.rawValue)): \(String(describing: self[id]))")
            throw CancellationError()
        }
    }

    private func serving() async throws -> (BatchExecutor, Latest, Task<[JobRecord], Never>) {
        let executor = try BatchExecutorTests.executor(vcpus: 2)
        let latest = Latest()
        await executor.observe { record in latest.records.withLock { $0[record.id] = record } }
        return (executor, latest, Task { await executor.serve() })
    }

    @Test("a serving executor starts a job submitted while another runs, without waiting for that one to end")
    func startsLateSubmissions() async throws {
        let (executor, latest, served) = try await serving()
        let long = try await executor.submit(try BatchExecutorTests.shell("sleep 150"))
        _ = try await latest.wait(long, for: [.running])
        let short = try await executor.submit(try BatchExecutorTests.shell("echo short"))
        let ended = try await latest.wait(short, for: [.succeeded, .failed])
        #expect(ended.state == .succeeded)
        #expect(latest[long]?.state == .running, "the short job waited for the long one")
        served.cancel()
        _ = await served.value
        #expect(latest[long]?.state == .runnable, "interrupted, to run again")
        #expect(latest[long]?.statusReason == StatusReason.interrupted)
    }

    @Test("terminate stops a running job: FAILED with the reason given, not retried; the executor goes on serving")
    func terminateStopsARunningJob() async throws {
        let (executor, latest, served) = try await serving()
        let retried = try BatchExecutorTests.shell("sleep 150", retry: try RetryStrategy(attempts: 3))
        let long = try await executor.submit(retried)
        let waiting = try await executor.submit(
            try BatchExecutorTests.shell("echo never"), dependsOn: [JobDependency(jobId: long)])
        _ = try await latest.wait(long, for: [.running])
        #expect(await executor.terminate(long, reason: "too long"))
        let stopped = try await latest.wait(long, for: [.succeeded, .failed])
        #expect(stopped.state == .failed && stopped.statusReason == "too long" && stopped.attempt == 1, "\(stopped)")
        #expect(try await latest.wait(waiting, for: [.failed]).statusReason == StatusReason.dependencyFailed)
        let next = try await executor.submit(try BatchExecutorTests.shell("true"))
        #expect(try await latest.wait(next, for: [.succeeded, .failed]).state == .succeeded)
        #expect(await executor.terminate(next, reason: "late") == false, "an ended job is not terminated")
        served.cancel()
        _ = await served.value
    }
}
