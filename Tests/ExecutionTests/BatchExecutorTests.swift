import CapsizeCore
import CloudModel
import Foundation
import Store
import TestSupport
import Testing

@testable import Execution

@Suite(.serialized, .timeLimit(.minutes(1))) struct BatchExecutorTests {
    /// Each test's own folder, removed after it.
    let folder = TestFolder("capsize-batch")

    static func executor(
        vcpus: Double = 2, memoryMiB: Int = 4096, gpus: [Int] = [], store: CapsizeStore? = nil,
        runID: String = "test-run"
    ) throws -> BatchExecutor {
        let environment = ComputeEnvironment(
            name: "local", maxVCPUs: vcpus, memoryMiB: memoryMiB, gpuDevices: gpus, provisioningSeconds: 300)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID())").path
        return BatchExecutor(
            queue: JobQueue(environments: [environment]), runID: runID, sandbox: try Sandbox(), store: store,
            outputRoot: output, terminateGrace: 0.2)
    }

    static func shell(
        _ script: String, name: String = "job", vcpus: Double = 1, memoryMiB: Int = 256, gpus: Int = 0,
        timeout: Double? = nil, retry: RetryStrategy? = nil
    ) throws -> JobDefinition {
        JobDefinition(
            name: name, argv: ["/bin/sh", "-c", script],
            resources: try ResourceRequirements(vcpus: vcpus, memoryMiB: memoryMiB, gpus: gpus),
            timeoutSeconds: timeout,
            retryStrategy: try retry ?? RetryStrategy())
    }

    /// Two attempts: the second when `rule` matches the first's end, none otherwise (AWS's catch-all exit rule).
    static func retryOnce(when rule: EvaluateOnExit) throws -> RetryStrategy {
        try RetryStrategy(attempts: 2, evaluateOnExit: [rule, try EvaluateOnExit(action: .exit, onReason: "*")])
    }

    @Test("a 100-child SEQUENTIAL array runs to SUCCEEDED in index order, every state stamped and stored")
    func sequentialArray() async throws {
        let (store, run) = try Fixture.store(in: folder, run: .submit, planned: 101)
        let executor = try Self.executor(store: store, runID: run.id)
        let parent = try await executor.submit(
            try Self.shell(
                #"echo "$AWS_BATCH_JOB_ARRAY_INDEX $AWS_BATCH_JOB_ATTEMPT" > "$AWS_BATCH_JOB_OUTPUT_DIR/index""#),
            arraySize: 100, sequential: true)
        let records = await executor.runUntilDone()
        #expect(records.count == 101)
        #expect(records.allSatisfy { $0.state == .succeeded }, "\(records.filter { $0.state != .succeeded }.prefix(3))")
        let children = records.filter { $0.arrayParentID == parent }.sorted { $0.arrayIndex! < $1.arrayIndex! }
        #expect(children.count == 100)
        for (index, child) in children.enumerated() {
            let stamps = [child.submittedAt, child.runnableAt, child.startingAt, child.runningAt, child.stoppedAt]
            #expect(stamps.allSatisfy { $0 != nil })
            let times = stamps.compactMap { $0 }
            #expect(times == times.sorted())
            if index > 0 {
                #expect(child.pendingAt != nil, "child \(index) waited for child \(index - 1)")
                #expect(child.runningAt! >= children[index - 1].stoppedAt!)
            }
            let written = try String(contentsOfFile: child.logPath! + "/output/index", encoding: .utf8)
            #expect(written == "\(index) 1\n")
        }
        let stored = try store.jobs(run: run.id)
        #expect(stored.count == 101 && stored.allSatisfy { $0.state == .succeeded })
        #expect(await executor.modeledProvisioning["local"] == 300)
    }

    @Test("a failing job is retried up to its attempts; an EXIT rule stops it; a later attempt can succeed")
    func retries() async throws {
        let executor = try Self.executor()
        let always = try await executor.submit(try Self.shell("exit 2", retry: try RetryStrategy(attempts: 3)))
        let exitRule = try await executor.submit(
            try Self.shell(
                "exit 2",
                retry: try RetryStrategy(
                    attempts: 3, evaluateOnExit: [try EvaluateOnExit(action: .exit, onExitCode: "2")])))
        let second = try await executor.submit(
            try Self.shell(#"test "$AWS_BATCH_JOB_ATTEMPT" -ge 2"#, retry: try RetryStrategy(attempts: 3)))
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect(records[always]?.state == .failed && records[always]?.attempt == 3 && records[always]?.exitCode == 2)
        #expect(records[always]?.statusReason == StatusReason.essentialContainerExited)
        #expect(records[exitRule]?.state == .failed && records[exitRule]?.attempt == 1)
        #expect(records[second]?.state == .succeeded && records[second]?.attempt == 2)
        // Batch's status reason on success too, and no container reason for an ordinary exit.
        #expect(records[second]?.statusReason == StatusReason.essentialContainerExited)
        #expect(records[second]?.exitCode == 0 && records[second]?.reason == nil && records[always]?.reason == nil)
    }

    @Test("a timed-out attempt fails with Batch's reason and is not retried")
    func timeout() async throws {
        let executor = try Self.executor()
        let id = try await executor.submit(
            try Self.shell("sleep 10", timeout: 0.3, retry: try RetryStrategy(attempts: 3)))
        let record = try #require(await executor.runUntilDone().first { $0.id == id })
        #expect(record.state == .failed && record.attempt == 1)
        #expect(record.statusReason == StatusReason.timeout)
        #expect(await executor.warnings.contains { $0.contains("60 s") })
    }

    static let allocator = "python3 -c 'b=[]\nimport time\nwhile True:\n b.append(bytearray(4<<20)); time.sleep(0.002)'"

    @Test("a job over its memory is killed as Batch reports it: exit code 137, container reason OutOfMemoryError")
    func outOfMemory() async throws {
        let executor = try Self.executor()
        let id = try await executor.submit(try Self.shell(Self.allocator, memoryMiB: 64))
        let record = try #require(await executor.runUntilDone().first { $0.id == id })
        #expect(record.state == .failed)
        #expect(record.exitCode == 137)
        #expect(record.reason == "OutOfMemoryError: Container killed due to memory usage")
        #expect(record.statusReason == "Essential container in task exited")
        #expect(
            record.reasons
                == "Essential container in task exited (OutOfMemoryError: Container killed due to memory usage)")
    }

    @Test(
        "a job killed for memory is retried by rules written for AWS (onReason OutOfMemoryError*, onExitCode 137); AWS's catch-all EXIT stops other failures"
    )
    func outOfMemoryRetried() async throws {
        let executor = try Self.executor()
        let byReason = try await executor.submit(
            try Self.shell(
                Self.allocator, memoryMiB: 64,
                retry: try Self.retryOnce(when: EvaluateOnExit(action: .retry, onReason: "OutOfMemoryError*"))))
        let byCode = try await executor.submit(
            try Self.shell(
                Self.allocator, memoryMiB: 64,
                retry: try Self.retryOnce(when: EvaluateOnExit(action: .retry, onExitCode: "137"))))
        let plainFailure = try await executor.submit(
            try Self.shell(
                "exit 3",
                retry: try Self.retryOnce(when: EvaluateOnExit(action: .retry, onReason: "OutOfMemoryError*"))))
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        for id in [byReason, byCode] {
            let record = try #require(records[id])
            #expect(record.state == .failed && record.attempt == 2, "retried once, then out of attempts: \(record)")
            #expect(record.exitCode == 137 && record.reason == StatusReason.outOfMemory)
        }
        #expect(records[plainFailure]?.state == .failed && records[plainFailure]?.attempt == 1)
        #expect(records[plainFailure]?.exitCode == 3)
    }

    @Test("an array whose child fails ends FAILED with Batch's 'Array Child Job failed'")
    func arrayChildFailed() async throws {
        let executor = try Self.executor()
        let parent = try await executor.submit(
            try Self.shell(#"test "$AWS_BATCH_JOB_ARRAY_INDEX" -eq 0"#), arraySize: 2)
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect(records["\(parent):0"]?.state == .succeeded && records["\(parent):1"]?.state == .failed)
        #expect(records[parent]?.state == .failed)
        #expect(records[parent]?.statusReason == "Array Child Job failed")
    }

    @Test("a failed dependency fails its dependents; N_TO_N pairs children by index")
    func dependencies() async throws {
        let executor = try Self.executor()
        let failing = try await executor.submit(try Self.shell("exit 1"))
        let dependent = try await executor.submit(try Self.shell("true"), dependsOn: [JobDependency(jobId: failing)])
        let first = try await executor.submit(try Self.shell("sleep 0.05"), arraySize: 3)
        let second = try await executor.submit(
            try Self.shell("true"), arraySize: 3, dependsOn: [JobDependency(jobId: first, type: .nToN)])
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect(records[dependent]?.state == .failed)
        #expect(records[dependent]?.statusReason == StatusReason.dependencyFailed)
        #expect(records[dependent]?.runningAt == nil)
        for index in 0..<3 {
            let a = try #require(records["\(first):\(index)"])
            let b = try #require(records["\(second):\(index)"])
            #expect(b.state == .succeeded && b.runningAt! >= a.stoppedAt!)
        }
        #expect(records[second]?.state == .succeeded)
    }

    @Test("GPU jobs are pinned to distinct devices and wait for a free one")
    func gpuPinning() async throws {
        let executor = try Self.executor(gpus: [0, 1])
        var ids: [String] = []
        for _ in 0..<4 {
            ids.append(
                try await executor.submit(
                    try Self.shell(
                        #"echo "$CAPSIZE_GPU_DEVICES" > "$AWS_BATCH_JOB_OUTPUT_DIR/gpu"; sleep 0.3"#, vcpus: 0.5,
                        gpus: 1)))
        }
        let records = await executor.runUntilDone().filter { ids.contains($0.id) }
        #expect(records.allSatisfy { $0.state == .succeeded })
        var intervals: [(String, Date, Date)] = []
        for record in records {
            let device = try String(contentsOfFile: record.logPath! + "/output/gpu", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(device == "0" || device == "1")
            intervals.append((device, record.runningAt!, record.stoppedAt!))
        }
        for (i, a) in intervals.enumerated() {
            for b in intervals[(i + 1)...] where a.0 == b.0 {
                #expect(a.2 <= b.1 || b.2 <= a.1, "two jobs held GPU \(a.0) at the same time")
            }
        }
    }

    @Test(
        "bad submissions are refused at submit with the field named",
        arguments: [
            ("gpus", "gpus"), ("vcpus", "vcpus"), ("memory", "memory"), ("array", "array"), ("unknown", "dependsOn"),
        ])
    func badSubmissions(kind: String, field: String) async throws {
        let executor = try Self.executor(vcpus: 2, memoryMiB: 1024)
        let error = try await #require(throws: InputError.self) {
            switch kind {
            case "gpus": try await executor.submit(try Self.shell("true", gpus: 1))
            case "vcpus": try await executor.submit(try Self.shell("true", vcpus: 4))
            case "memory": try await executor.submit(try Self.shell("true", memoryMiB: 2048))
            case "array": try await executor.submit(try Self.shell("true"), arraySize: 10_001)
            default: try await executor.submit(try Self.shell("true"), dependsOn: [JobDependency(jobId: "nope")])
            }
        }
        #expect(error.field == field)
    }
}
