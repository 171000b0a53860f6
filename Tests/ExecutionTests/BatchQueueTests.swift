import CapsizeCore
import CloudModel
import Foundation
import Store
import TestSupport
import Testing

@testable import Execution

@Suite(.serialized, .timeLimit(.minutes(1))) struct BatchQueueTests {
    /// Each test's own folder, removed after it.
    let folder = TestFolder("capsize-queue")

    static func executor(_ queues: [JobQueue], store: CapsizeStore? = nil, runID: String = "test-run") throws
        -> BatchExecutor
    {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID())").path
        return BatchExecutor(
            queues: queues, runID: runID, sandbox: try Sandbox(), store: store, outputRoot: output, terminateGrace: 0.2)
    }

    static func environment(
        _ name: String, vcpus: Double = 1, minVCPUs: Double = 0, provisioning: Double = 0, idle: Double? = nil
    ) -> ComputeEnvironment {
        ComputeEnvironment(
            name: name, minVCPUs: minVCPUs, maxVCPUs: vcpus, memoryMiB: 4096, provisioningSeconds: provisioning,
            idleTeardownSeconds: idle)
    }

    @Test("a high-priority job submitted while a low one runs starts before the remaining low-priority jobs")
    func priorities() async throws {
        let pool = Self.environment("pool")
        let executor = try Self.executor([
            JobQueue(name: "low", priority: 1, environments: [pool]),
            JobQueue(name: "high", priority: 100, environments: [pool]),
        ])
        var low: [String] = []
        for _ in 0..<3 {
            low.append(try await executor.submit(try BatchExecutorTests.shell("sleep 0.3"), queue: "low"))
        }
        async let done = executor.runUntilDone()
        // Wait until the first low job runs.
        let deadline = Date().addingTimeInterval(10)
        while await executor.jobs[low[0]]?.state != .running && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await executor.jobs[low[0]]?.state == .running)
        let high = try await executor.submit(try BatchExecutorTests.shell("sleep 0.05"), queue: "high")
        let records = Dictionary(uniqueKeysWithValues: await done.map { ($0.id, $0) })
        #expect(records.values.allSatisfy { $0.state == .succeeded })
        let highStart = try #require(records[high]?.runningAt)
        #expect(highStart >= records[low[0]]!.stoppedAt!)
        #expect(highStart < records[low[1]]!.runningAt!, "the high-priority job waited behind a low one")
        #expect(records[low[1]]!.runningAt! < records[low[2]]!.runningAt!)
        #expect(records[high]?.queue == "high" && records[low[0]]?.queue == "low")
    }

    @Test("jobs start first in, first out within a queue, in the second environment when the first is full")
    func fifoAndEnvironmentOrder() async throws {
        let executor = try Self.executor([
            JobQueue(name: "q", environments: [Self.environment("first"), Self.environment("second")])
        ])
        var ids: [String] = []
        let script = #"echo "$AWS_BATCH_CE_NAME $AWS_BATCH_JQ_NAME" > "$AWS_BATCH_JOB_OUTPUT_DIR/ce"; sleep 0.2"#
        for _ in 0..<5 {
            ids.append(try await executor.submit(try BatchExecutorTests.shell(script)))
        }
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        let jobs = ids.map { records[$0]! }
        #expect(jobs.allSatisfy { $0.state == .succeeded })
        #expect(jobs[0].environmentID == "first" && jobs[1].environmentID == "second")
        let starts = jobs.map { $0.runningAt! }
        #expect(starts == starts.sorted(), "jobs did not start in submission order")
        let written = try String(contentsOfFile: jobs[1].logPath! + "/output/ce", encoding: .utf8)
        #expect(written == "second q\n")
    }

    @Test("a blocked head holds up its own queue but not a lower-priority queue")
    func headOfLine() async throws {
        let pool = Self.environment("pool", vcpus: 2)
        let executor = try Self.executor([
            JobQueue(name: "high", priority: 10, environments: [pool]),
            JobQueue(name: "low", priority: 1, environments: [pool]),
        ])
        let first = try await executor.submit(try BatchExecutorTests.shell("sleep 0.4"), queue: "high")
        let big = try await executor.submit(try BatchExecutorTests.shell("true", vcpus: 2), queue: "high")
        let small = try await executor.submit(try BatchExecutorTests.shell("true"), queue: "high")
        let other = try await executor.submit(try BatchExecutorTests.shell("true"), queue: "low")
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect(records.values.allSatisfy { $0.state == .succeeded })
        #expect(records[big]!.runningAt! >= records[first]!.stoppedAt!)
        #expect(records[small]!.runningAt! >= records[big]!.runningAt!, "FIFO: the small job passed the big head")
        #expect(records[other]!.runningAt! < records[first]!.stoppedAt!, "the low queue was blocked by the high head")
    }

    @Test("provisioning is modeled for the first job and after an idle teardown, never slept or measured")
    func modeledProvisioning() async throws {
        let (store, run) = try Fixture.store(in: folder, run: .submit, planned: 4)
        // 60 s modeled: slept even once, the run would take a minute; run, it takes about 2 s (20 s on a busy machine).
        let modeled = Self.environment("modeled", provisioning: 60, idle: 0.2)
        let executor = try Self.executor(
            [
                JobQueue(name: "a", priority: 2, environments: [modeled]),
                JobQueue(name: "b", priority: 1, environments: [Self.environment("other")]),
            ], store: store, runID: run.id)
        let first = try await executor.submit(try BatchExecutorTests.shell("sleep 0.05"), queue: "a")
        let follows = try await executor.submit(
            try BatchExecutorTests.shell("true"), queue: "a", dependsOn: [JobDependency(jobId: first)])
        // Long enough that "modeled" sits idle past its 0.2 s teardown even when a busy machine slows the others.
        let gap = try await executor.submit(try BatchExecutorTests.shell("sleep 2"), queue: "b")
        let afterIdle = try await executor.submit(
            try BatchExecutorTests.shell("true"), queue: "a", dependsOn: [JobDependency(jobId: gap)])
        let clock = ContinuousClock()
        let start = clock.now
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect((clock.now - start) < .seconds(30), "a modeled delay was slept")
        #expect(records.values.allSatisfy { $0.state == .succeeded })
        #expect(records[first]?.modeledProvisioningSeconds == 60)
        #expect(records[follows]?.modeledProvisioningSeconds == nil, "a job that follows at once found it provisioned")
        #expect(records[gap]?.modeledProvisioningSeconds == nil, "an environment with no provisioning time")
        #expect(records[afterIdle]?.modeledProvisioningSeconds == 60)
        let ran = records[first]!.stoppedAt!.timeIntervalSince(records[first]!.runningAt!)
        #expect(ran < 2, "measured run time \(ran) s includes the modeled delay")
        #expect(await executor.modeledProvisioning["modeled"] == 120)
        let teardowns = await executor.modeledTeardowns.filter { $0.environment == "modeled" }
        #expect(teardowns.count == 2)
        let expected = records[follows]!.stoppedAt!.addingTimeInterval(0.2)
        #expect(abs(teardowns[0].at.timeIntervalSince(expected)) < 0.05)
        let stored = Dictionary(uniqueKeysWithValues: try store.jobs(run: run.id).map { ($0.id, $0) })
        #expect(stored[afterIdle]?.modeledProvisioningSeconds == 60)
        #expect(stored[follows]?.modeledProvisioningSeconds == nil)
        let environments = try store.environments(run: run.id).filter { $0.name == "modeled" }
        #expect(environments.count == 2)
        #expect(environments.allSatisfy { $0.modeledProvisioningSeconds == 60 && $0.modeledTeardownAt != nil })
        #expect(environments.allSatisfy { $0.kind == .compute && $0.reapedAt == nil })
    }

    @Test("jobs within minvCpus are never delayed by provisioning")
    func minimumCapacity() async throws {
        let executor = try Self.executor([
            JobQueue(environments: [Self.environment("kept", vcpus: 2, minVCPUs: 1, provisioning: 300)])
        ])
        let small = try await executor.submit(try BatchExecutorTests.shell("true"))
        let big = try await executor.submit(
            try BatchExecutorTests.shell("true", vcpus: 2), dependsOn: [JobDependency(jobId: small)])
        let records = Dictionary(uniqueKeysWithValues: await executor.runUntilDone().map { ($0.id, $0) })
        #expect(records[small]?.modeledProvisioningSeconds == nil)
        #expect(records[big]?.modeledProvisioningSeconds == 300)
    }

    @Test("an unknown queue and a SEQUENTIAL dependency on a job are refused")
    func refusals() async throws {
        let executor = try Self.executor([JobQueue(environments: [Self.environment("pool")])])
        let first = try await executor.submit(try BatchExecutorTests.shell("true"))
        let queue = try await #require(throws: InputError.self) {
            try await executor.submit(try BatchExecutorTests.shell("true"), queue: "nope")
        }
        #expect(queue.field == "queue")
        let sequential = try await #require(throws: InputError.self) {
            try await executor.submit(
                try BatchExecutorTests.shell("true"), dependsOn: [JobDependency(jobId: first, type: .sequential)])
        }
        #expect(sequential.field == "dependsOn")
    }
}

/// Fair-share queues (AWS Batch's `fairsharePolicy`): shares interleave by usage × weight factor.
@Suite(.serialized, .timeLimit(.minutes(1))) struct FairShareTests {
    /// Runs `perShare` 0.1 s jobs of each share (all of the first share submitted first) through one 1-vCPU
    /// environment and returns the shares in the order the jobs started.
    static func startOrder(weights: [String: Double], perShare: Int) async throws -> [String] {
        let queue = JobQueue(
            name: "fair", environments: [BatchQueueTests.environment("pool")],
            fairShare: FairSharePolicy(shareDecaySeconds: 3600, weightFactors: weights))
        let executor = try BatchQueueTests.executor([queue])
        var shareOf: [String: String] = [:]
        for share in weights.keys.sorted() {
            for _ in 0..<perShare {
                var definition = try BatchExecutorTests.shell("sleep 0.1")
                definition.shareIdentifier = share
                shareOf[try await executor.submit(definition)] = share
            }
        }
        let records = await executor.runUntilDone()
        #expect(records.allSatisfy { $0.state == .succeeded })
        return records.sorted { $0.runningAt! < $1.runningAt! }.map { shareOf[$0.id]! }
    }

    @Test("equal weights: two shares take turns although one submitted all its jobs first (FIFO would not)")
    func equalWeights() async throws {
        let order = try await Self.startOrder(weights: ["alice": 1, "bob": 1], perShare: 4)
        // By usage, not strict turns: alice (submitted first) starts, and while she has used vCPU-seconds and
        // bob none, bob goes next; after that whoever has used less. FIFO would run alice's four first.
        #expect(Array(order.prefix(2)) == ["alice", "bob"], "\(order)")
        #expect(order.prefix(4).contains("bob") && order.prefix(4).contains("alice"), "\(order)")
    }

    @Test("a weight factor of 0.25 gets four times the compute of a weight factor of 1 (scheduler, 1 s jobs)")
    func weights() {
        // The scheduler alone on a synthetic clock: one slot, every job runs exactly 1 s, no decay: the order is exact.
        var scheduler = BatchScheduler(policies: [
            FairSharePolicy(shareDecaySeconds: .infinity, weightFactors: ["big": 0.25])
        ])
        for share in ["big", "small"] {
            for index in 0..<6 { scheduler.enqueue("\(share)-\(index)", queue: 0, share: share, vcpus: 1) }
        }
        var clock = Date(timeIntervalSince1970: 0)
        var order: [String] = []
        while let (id, _) = scheduler.next(now: { clock }, place: { _, _ in () }) {
            order.append(String(id.prefix { $0 != "-" }))
            clock += 1
            scheduler.charge(id, now: { clock })
        }
        // big's usage counts a quarter: it runs until its quarter-weighted usage passes small's (a tie goes to the
        // share whose head was submitted first).
        #expect(
            order == ["big", "small", "big", "big", "big", "big", "small", "big", "small", "small", "small", "small"])
    }

    @Test("a weighted fair-share queue runs real jobs by usage: first in first, then the share with none")
    func weightedJobs() async throws {
        let order = try await Self.startOrder(weights: ["big": 0.25, "small": 1], perShare: 3)
        // What does not depend on measured run times: big (submitted first) starts, then small (no usage yet).
        // How many turns big gets after that depends on how long each `sleep` took here; the test above has it.
        #expect(Array(order.prefix(2)) == ["big", "small"], "\(order)")
        #expect(order.filter { $0 == "small" }.count == 3 && order.count == 6)
    }

    @Test("a fair-share queue needs a share identifier, a FIFO queue refuses one")
    func shareIdentifierRules() async throws {
        let fair = try BatchQueueTests.executor([
            JobQueue(name: "fair", environments: [BatchQueueTests.environment("a")], fairShare: FairSharePolicy())
        ])
        await #expect(throws: InputError.self) { try await fair.submit(try BatchExecutorTests.shell("true")) }
        var bad = try BatchExecutorTests.shell("true")
        bad.shareIdentifier = "no spaces"
        await #expect(throws: InputError.self) { try await fair.submit(bad) }
        let fifo = try BatchQueueTests.executor([
            JobQueue(name: "fifo", environments: [BatchQueueTests.environment("a")])
        ])
        var shared = try BatchExecutorTests.shell("true")
        shared.shareIdentifier = "alice"
        do {
            try await fifo.submit(shared)
            Issue.record("a FIFO queue took a share identifier")
        } catch {
            #expect(error.field == "shareIdentifier")
        }
    }
}

@Suite struct BatchConfigurationTests {
    static func resolve(_ json: String) throws -> [JobQueue] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("queues-\(UUID()).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try BatchConfiguration.load(path: path).resolve(cores: 4, memoryMiB: 8192, gpuDevices: []).queues
    }

    @Test("queues over shared environments, ordered by their order field")
    func valid() throws {
        let queues = try Self.resolve(
            """
            {"computeEnvironments": [
                {"computeEnvironmentName": "a", "maxvCpus": 2, "provisioningSeconds": 300},
                {"computeEnvironmentName": "b", "minvCpus": 1, "maxvCpus": 1, "idleTeardownSeconds": 5}],
             "jobQueues": [{"jobQueueName": "q", "priority": 5, "computeEnvironmentOrder": [
                 {"order": 2, "computeEnvironment": "a"}, {"order": 1, "computeEnvironment": "b"}]}]}
            """)
        #expect(queues.count == 1 && queues[0].priority == 5)
        #expect(queues[0].environments.map(\.name) == ["b", "a"])
        #expect(queues[0].environments[1].memoryMiB == 8192 && queues[0].environments[1].provisioningSeconds == 300)
        #expect(queues[0].environments[0].idleTeardownSeconds == 5 && queues[0].environments[0].minVCPUs == 1)
    }

    /// A valid file with `queue` and `environment` changed (a nil value removes the key).
    static func file(queue: [String: Any?] = [:], environment: [String: Any?] = [:]) throws -> String {
        var environmentObject: [String: Any] = ["computeEnvironmentName": "a", "maxvCpus": 2]
        for (key, value) in environment { environmentObject[key] = value }
        var queueObject: [String: Any] = [
            "jobQueueName": "q", "priority": 1, "computeEnvironmentOrder": [["order": 1, "computeEnvironment": "a"]],
        ]
        for (key, value) in queue { queueObject[key] = value }
        let object = ["computeEnvironments": [environmentObject], "jobQueues": [queueObject]]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Bad queue files: the change and the field the error must name.
    static var badFiles: [([String: Any?], [String: Any?], String)] {
        [
            (["priority": 1001], [:], "jobQueues[0].priority"),
            (["priority": -1], [:], "jobQueues[0].priority"),
            (["priority": "high"], [:], "jobQueues[0].priority"),
            (["state": "DISABLED"], [:], "jobQueues[0].state"),
            (["jobQueueName": "bad name"], [:], "jobQueues[0].jobQueueName"),
            (
                ["computeEnvironmentOrder": [["order": 1, "computeEnvironment": "nope"]]], [:],
                "jobQueues[0].computeEnvironmentOrder[0].computeEnvironment"
            ),
            (
                ["computeEnvironmentOrder": (1...4).map { ["order": $0, "computeEnvironment": "a"] }], [:],
                "jobQueues[0].computeEnvironmentOrder"
            ),
            ([:], ["minvCpus": 4], "computeEnvironments[0].minvCpus"),
            ([:], ["maxvCpus": 0], "computeEnvironments[0].maxvCpus"),
            ([:], ["gpus": 1], "computeEnvironments[0].gpus"),
            ([:], ["provisioningSeconds": -1], "computeEnvironments[0].provisioningSeconds"),
            (
                ["fairsharePolicy": ["shareDecaySeconds": 700_000]], [:],
                "jobQueues[0].fairsharePolicy.shareDecaySeconds"
            ),
            (
                ["fairsharePolicy": ["shareDistribution": [["shareIdentifier": "a", "weightFactor": 0]]]], [:],
                "jobQueues[0].fairsharePolicy.shareDistribution[0].weightFactor"
            ),
            (
                ["fairsharePolicy": ["shareDistribution": [["shareIdentifier": "a b"]]]], [:],
                "jobQueues[0].fairsharePolicy.shareDistribution[0].shareIdentifier"
            ),
            ([:], ["idleTeardownSeconds": -1], "computeEnvironments[0].idleTeardownSeconds"),
        ]
    }

    @Test("each invalid field is named with its file", arguments: 0..<12)
    func badFile(index: Int) throws {
        let (queue, environment, field) = Self.badFiles[index]
        let json = try Self.file(queue: queue, environment: environment)
        let error = try #require(throws: InputError.self) { try Self.resolve(json) }
        #expect(error.field.hasPrefix("/") && error.field.hasSuffix(".json: " + field), "\(json): \(error)")
    }

    @Test(
        "a whole number written as a fraction, beyond Int or as a string is refused with its place in the file",
        arguments: [
            (
                #"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 1, "gpus": 0.5}]}"#,
                "computeEnvironments[0].gpus"
            ),
            (
                #"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 1, "memoryMiB": -1e300}]}"#,
                "computeEnvironments[0].memoryMiB"
            ),
            (
                #"{"jobQueues": [{"computeEnvironmentOrder": [{"order": 1e19}]}]}"#,
                "jobQueues[0].computeEnvironmentOrder[0].order"
            ),
            (#"{"jobQueues": [{"priority": "1"}]}"#, "jobQueues[0].priority"),
            (#"{"jobQueues": {"priority": 1}}"#, "jobQueues"),
        ])
    func wholeNumbers(json: String, field: String) throws {
        let error = try #require(throws: InputError.self) { try Self.resolve(json) }
        #expect(error.field.hasSuffix(".json: " + field), "\(json): \(error)")
    }

    @Test("maxvCpus above this machine's cores is accepted with a warning")
    func oversubscribed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("queues-\(UUID()).json").path
        try Self.file(environment: ["maxvCpus": 64]).write(toFile: path, atomically: true, encoding: .utf8)
        let (_, warnings) = try BatchConfiguration.load(path: path).resolve(cores: 4, memoryMiB: 8192, gpuDevices: [])
        #expect(warnings.count == 1 && warnings[0].contains("maxvCpus"))
    }
}
