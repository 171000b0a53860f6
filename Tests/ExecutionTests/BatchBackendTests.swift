import CapsizeCore
import CloudModel
import Foundation
import Store
import Testing

@testable import Execution

/// The local backend through the `BatchBackend` protocol, and the launch description both backends use.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BatchBackendTests {
    static func backend() throws -> any BatchBackend {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("backend-\(UUID())").path
        let queue = JobQueue(environments: [ComputeEnvironment(name: "local", maxVCPUs: 2, memoryMiB: 4096)])
        return try BatchBackendKind.local.make(BatchBackendContext(outputRoot: output, store: nil, queues: [queue]))
    }

    @Test("the local backend runs an array through the protocol: the parent's events first, every job ends")
    func localArray() async throws {
        let backend = try Self.backend()
        let submission = try await backend.submit(
            BatchJob(definition: try BatchExecutorTests.shell(#"test -d "$AWS_BATCH_JOB_OUTPUT_DIR""#), arraySize: 3))
        var latest: [String: JobRecord] = [:]
        var first: [String] = []
        for await record in await backend.events(run: "run") {
            if latest.updateValue(record, forKey: record.id) == nil { first.append(record.id) }
        }
        #expect(first.first == submission.id && first.count == 4)
        #expect(latest.values.allSatisfy { $0.state == .succeeded && $0.runID == "run" }, "\(latest.values)")
        #expect(submission.destination == "to queue default" && submission.reference == nil)
    }

    @Test("a job cancelled before it starts fails with the reason, and so does its array's parent")
    func cancel() async throws {
        let backend = try Self.backend()
        let kept = try await backend.submit(BatchJob(definition: try BatchExecutorTests.shell("true")))
        let cancelled = try await backend.submit(
            BatchJob(definition: try BatchExecutorTests.shell("true"), arraySize: 2))
        try await backend.cancel(cancelled.id)
        var latest: [String: JobRecord] = [:]
        for await record in await backend.events(run: "run") { latest[record.id] = record }
        #expect(latest[kept.id]?.state == .succeeded)
        for id in [cancelled.id, "\(cancelled.id):0", "\(cancelled.id):1"] {
            #expect(latest[id]?.state == .failed && latest[id]?.runningAt == nil, "\(id)")
        }
        #expect(latest["\(cancelled.id):0"]?.statusReason == "Cancelled by the user")
    }

    @Test(
        "placeholders: {index}, {attempt} and {gpu} filled; Slurm's leave {index} to the shell and make opencl:{gpu} gpu"
    )
    func placeholders() {
        let local = JobLaunch.Placeholders(index: "3", attempt: "2", gpu: "1")
        #expect(local.fill("seed {index}-{attempt} on opencl:{gpu}") == "seed 3-2 on opencl:1")
        #expect(
            SlurmBackend.placeholders.fill("seed {index}-{attempt} on opencl:{gpu} {gpu}") == "seed {index}-1 on gpu 0")
        let layout = JobLaunch.Layout(root: "/jobs", id: "j:1")
        #expect(layout.output == "/jobs/j:1/output" && layout.log(attempt: 2) == "/jobs/j:1/attempt-2.log")
        let log = JobLaunch.Layout.joined(
            stdout: SandboxResult.Output(data: Data("out".utf8), totalBytes: 3),
            stderr: SandboxResult.Output(data: Data("err".utf8), totalBytes: 3))
        #expect(JobLaunch.Layout.stdout(ofLog: String(decoding: log, as: UTF8.self)) == "out")
    }
}
