import CapsizeCore
import CloudModel
import Foundation
import Store
import Testing

@testable import Execution

/// The job graph on its own: no sandbox, no processes.
struct JobGraphTests {
    static let definition = JobDefinition(
        name: "job", argv: ["/bin/true"], resources: try! ResourceRequirements(vcpus: 1, memoryMiB: 64),
        retryStrategy: try! RetryStrategy())

    /// Adds a submission to `graph`: a job (or array) with the id given.
    @discardableResult
    static func add(
        _ graph: inout JobGraph, _ id: String, arraySize: Int? = nil, dependsOn: [JobDependency] = [],
        sequential: Bool = false
    ) throws -> [JobRecord] {
        try graph.add(
            id: id, definition: definition, queue: 0, arraySize: arraySize, dependsOn: dependsOn,
            sequential: sequential, kept: [:]
        ) { id, waitsFor in
            JobRecord(id: id, runID: "run", name: "job", dependsOn: waitsFor, vcpus: 1, memoryMiB: 64)
        }
    }

    /// Ends job `id` in `state` and returns what settling it changed.
    static func end(_ graph: inout JobGraph, _ id: String, _ state: JobRecord.State) -> JobGraph.Changes {
        graph.update(id) { $0.enter(state) }
        return graph.settle(id)
    }

    @Test("a job waits PENDING for its dependency and becomes RUNNABLE when the dependency succeeds")
    func dependency() throws {
        var graph = JobGraph()
        try Self.add(&graph, "a")
        try Self.add(&graph, "b", dependsOn: [JobDependency(jobId: "a")])
        let admitted = graph.admit(graph.order)
        #expect(admitted.runnable == ["a"])
        #expect(graph["b"]?.state == .pending && graph["b"]?.dependsOn == ["a"])
        let settled = Self.end(&graph, "a", .succeeded)
        #expect(settled.runnable == ["b"] && settled.changed.map(\.id) == ["b"])
        #expect(graph["b"]?.state == .runnable)
    }

    @Test("a failed job fails its dependents and theirs, with Batch's reason, and none becomes RUNNABLE")
    func failedDependency() throws {
        var graph = JobGraph()
        try Self.add(&graph, "a")
        try Self.add(&graph, "b", dependsOn: [JobDependency(jobId: "a")])
        try Self.add(&graph, "c", dependsOn: [JobDependency(jobId: "b")])
        _ = graph.admit(graph.order)
        let settled = Self.end(&graph, "a", .failed)
        #expect(settled.runnable.isEmpty)
        #expect(settled.changed.map(\.id) == ["b", "c"])
        for id in ["b", "c"] {
            #expect(graph[id]?.state == .failed && graph[id]?.statusReason == StatusReason.dependencyFailed)
        }
        // A job submitted after its dependency failed fails as soon as it is admitted.
        try Self.add(&graph, "d", dependsOn: [JobDependency(jobId: "a")])
        #expect(graph.admit(["d"]).runnable.isEmpty && graph["d"]?.state == .failed)
    }

    @Test("a dependency on an unknown job or a cycle is refused naming --depends-on, and nothing is added")
    func refusals() throws {
        var graph = JobGraph()
        try Self.add(&graph, "a")
        let unknown = #expect(throws: InputError.self) {
            try Self.add(&graph, "b", dependsOn: [JobDependency(jobId: "nope")])
        }
        #expect(unknown?.field == "dependsOn")
        try Self.add(&graph, "b", dependsOn: [JobDependency(jobId: "a")])
        // "a" submitted again (as a resumed submission would be) waiting for "b", which waits for "a".
        let cycle = #expect(throws: InputError.self) {
            try Self.add(&graph, "a", dependsOn: [JobDependency(jobId: "b")])
        }
        #expect(cycle?.field == "dependsOn" && cycle?.value.contains("→") == true)
        #expect(graph.order == ["a", "b"] && graph.plans["a"]?.waitsFor == [])
    }

    @Test("an array's children are ID:INDEX; SEQUENTIAL chains them; the parent ends with its last child")
    func sequentialArray() throws {
        var graph = JobGraph()
        let records = try Self.add(&graph, "p", arraySize: 3, sequential: true)
        #expect(records.map(\.id) == ["p", "p:0", "p:1", "p:2"])
        #expect(
            records.dropFirst().map(\.arrayIndex) == [0, 1, 2]
                && records.dropFirst().allSatisfy { $0.arrayParentID == "p" })
        #expect(graph.admit(graph.order).runnable == ["p:0"])
        #expect(graph["p"]?.state == .pending && graph["p:1"]?.state == .pending)
        #expect(Self.end(&graph, "p:0", .succeeded).runnable == ["p:1"])
        #expect(Self.end(&graph, "p:1", .succeeded).runnable == ["p:2"])
        let last = Self.end(&graph, "p:2", .succeeded)
        #expect(last.changed.map(\.id) == ["p"] && graph["p"]?.state == .succeeded)
    }

    @Test("an array with a failed child ends FAILED with 'Array Child Job failed' once every child has ended")
    func arrayChildFailed() throws {
        var graph = JobGraph()
        try Self.add(&graph, "p", arraySize: 2)
        #expect(graph.admit(graph.order).runnable == ["p:0", "p:1"])
        _ = Self.end(&graph, "p:0", .failed)
        #expect(graph["p"]?.state == .pending)
        _ = Self.end(&graph, "p:1", .succeeded)
        #expect(graph["p"]?.state == .failed && graph["p"]?.statusReason == StatusReason.arrayChildFailed)
    }

    @Test("N_TO_N pairs children by index, and an array of another size is refused")
    func nToN() throws {
        var graph = JobGraph()
        try Self.add(&graph, "a", arraySize: 2)
        try Self.add(&graph, "b", arraySize: 2, dependsOn: [JobDependency(jobId: "a", type: .nToN)])
        #expect(graph.plans["b:0"]?.waitsFor == ["a:0"] && graph.plans["b:1"]?.waitsFor == ["a:1"])
        #expect(graph.plans["b"]?.waitsFor == [] && graph.plans["b"]?.children == ["b:0", "b:1"])
        _ = graph.admit(graph.order)
        #expect(Self.end(&graph, "a:1", .succeeded).runnable == ["b:1"])
        #expect(graph["b:0"]?.state == .pending)
        let other = #expect(throws: InputError.self) {
            try Self.add(&graph, "c", arraySize: 3, dependsOn: [JobDependency(jobId: "a", type: .nToN)])
        }
        #expect(other?.field == "dependsOn" && graph["c"] == nil)
    }

    @Test("adopted jobs of an earlier submission are dependencies only: final as stored, never admitted")
    func adopted() throws {
        var graph = JobGraph()
        var done = JobRecord(id: "old", runID: "earlier", name: "job", vcpus: 1, memoryMiB: 64)
        done.enter(.succeeded)
        graph.adopt([done])
        try Self.add(&graph, "new", dependsOn: [JobDependency(jobId: "old")])
        #expect(graph.admit(graph.order).runnable == ["new"])
        #expect(graph.order == ["new"] && graph["old"]?.state == .succeeded)
    }
}

/// The scheduler on its own: placements are decided by a closure and time is passed in.
struct BatchSchedulerTests {
    @Test("FIFO: jobs start in the order they became RUNNABLE; a head that does not fit holds up its queue only")
    func fifo() {
        var scheduler = BatchScheduler(policies: [nil, nil])
        for id in ["big", "small"] { scheduler.enqueue(id, queue: 0, share: nil, vcpus: 1) }
        for id in ["low1", "low2"] { scheduler.enqueue(id, queue: 1, share: nil, vcpus: 1) }
        var started: [String] = []
        while let (id, _) = scheduler.next(now: Date.init, place: { id, _ in id == "big" ? nil : true }) {
            started.append(id)
        }
        // "small" waits behind "big" (strict FIFO); the lower-priority queue is not held up.
        #expect(started == ["low1", "low2"])
        while let (id, _) = scheduler.next(now: Date.init, place: { _, _ in true }) { started.append(id) }
        #expect(started == ["low1", "low2", "big", "small"])
    }

    @Test("fair share: the share with the least usage × weight goes first; ties go to the earlier RUNNABLE job")
    func fairShare() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        var scheduler = BatchScheduler(policies: [FairSharePolicy(shareDecaySeconds: 3600, weightFactors: ["b": 0.5])])
        for id in ["a1", "a2", "a3"] { scheduler.enqueue(id, queue: 0, share: "a", vcpus: 1) }
        for id in ["b1", "b2"] { scheduler.enqueue(id, queue: 0, share: "b", vcpus: 1) }
        var order: [String] = []
        func take(at seconds: Double) {
            if let (id, _) = scheduler.next(now: { start + seconds }, place: { _, _ in true }) { order.append(id) }
        }
        take(at: 0)  // no usage yet: a1 became RUNNABLE first
        take(at: 0)  // a is running (a microsecond's worth), b has used nothing
        #expect(order == ["a1", "b1"])
        scheduler.charge("a1", now: { start + 10 })  // a: 10 vCPU-seconds
        scheduler.charge("b1", now: { start + 10 })  // b: 10 × weight 0.5 = 5
        take(at: 10)
        #expect(order.last == "b2")
        scheduler.charge("b2", now: { start + 20 })  // b: (10 + 10) × 0.5 = 10 against a's 10, b's head is gone
        take(at: 20)
        take(at: 20)
        #expect(order == ["a1", "b1", "b2", "a2", "a3"])
        // a's finished 10 vCPU-seconds, decayed over 10 s (e^(−10/3600)), and a2 and a3 just started.
        #expect(abs(scheduler.usage(queue: 0, share: "a", at: start + 20) - 10 * exp(-10.0 / 3600)) < 1e-4)
    }

    @Test("a cancelled job leaves its line and the jobs behind it move up")
    func remove() {
        var scheduler = BatchScheduler(policies: [nil])
        for id in ["a", "b", "c"] { scheduler.enqueue(id, queue: 0, share: nil, vcpus: 1) }
        #expect(scheduler.remove("b", queue: 0, share: nil) && !scheduler.remove("b", queue: 0, share: nil))
        var order: [String] = []
        while let (id, _) = scheduler.next(now: Date.init, place: { _, _ in true }) { order.append(id) }
        #expect(order == ["a", "c"])
    }
}
