import CloudModel
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Studies

/// A test double for the `LambdaFunctions` boundary (the real function service is another part's): it records
/// every invoke, answers 202 with a request id, fails for a function named `broken`, and runs `onInvoke` first
/// (a test moves its clock there, as a busy capsize would).
final class RecordingFunctions: LambdaFunctions {
    struct Invocation: Sendable {
        var name: String
        var payload: Data
        var type: InvokeAPIType
    }

    let invocations = Mutex<[Invocation]>([])
    let onInvoke: @Sendable () -> Void

    init(onInvoke: @escaping @Sendable () -> Void = {}) { self.onInvoke = onInvoke }

    func functions() async throws -> [FunctionDefinition] { [] }
    func function(named name: String) async throws -> FunctionDefinition? { nil }

    func invoke(_ name: String, payload: Data, type: InvokeAPIType, logTail: Bool) async throws -> LambdaInvokeResult {
        onInvoke()
        let count = invocations.withLock {
            $0.append(Invocation(name: name, payload: payload, type: type))
            return $0.count
        }
        if name == "broken" { throw LambdaAPIError.notFound(function: name) }
        return LambdaInvokeResult(statusCode: 202, payload: Data(), requestId: "request-\(count)")
    }

    var count: Int { invocations.withLock { $0.count } }
}

/// A clock that jumps to whatever time the runner waits for.
final class JumpingClock: Sendable {
    let time: Mutex<Date>

    init(_ start: Date) { time = Mutex(start) }

    func advance(by seconds: TimeInterval) { time.withLock { $0 += seconds } }

    var clock: TriggerClock {
        TriggerClock(
            now: { self.time.withLock { $0 } },
            sleep: { until in
                try Task.checkCancellation()
                self.time.withLock { $0 = max($0, until) }
                await Task.yield()
            })
    }
}

/// The runner: schedules fire at their times through the functions' Invoke, landed files become S3 events, and a
/// failing invoke is counted, never fatal.
@Suite(.timeLimit(.minutes(1))) struct TriggerRunnerTests {
    static let start = Date(timeIntervalSince1970: 1_796_565_900)  // 2026-12-06T14:05:00Z

    /// Runs `runner` until `functions` has seen `count` invokes, then cancels it.
    static func run(_ runner: TriggerRunner, until count: Int, of functions: RecordingFunctions) async throws {
        let task = Task { await runner.run() }
        while functions.count < count { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
    }

    @Test("a schedule invokes its function asynchronously with a Scheduled Event at each fire time")
    func schedule() async throws {
        let functions = RecordingFunctions()
        let clock = JumpingClock(Self.start)
        let trigger = try Trigger.schedule("cron(0/15 * * * ? *)", function: "report", rule: "quarterly")
        let runner = try TriggerRunner(triggers: [trigger], functions: functions, clock: clock.clock)
        try await Self.run(runner, until: 3, of: functions)
        let sent = functions.invocations.withLock { Array($0.prefix(3)) }
        #expect(sent.map(\.name) == ["report", "report", "report"])
        #expect(sent.allSatisfy { $0.type == .event })
        let events = try sent.map { try JSONDecoder().decode(ScheduledEvent.self, from: $0.payload) }
        #expect(events.map(\.time) == ["2026-12-06T14:15:00Z", "2026-12-06T14:30:00Z", "2026-12-06T14:45:00Z"])
        #expect(events.allSatisfy { $0.resources == ["arn:aws:events:us-east-1:000000000000:rule/quarterly"] })
        #expect(events.allSatisfy { $0.detailType == "Scheduled Event" && $0.source == "aws.events" })
        let recent = await runner.recent
        #expect(
            recent.prefix(3).map(\.outcome) == [
                .invoked(requestId: "request-1", statusCode: 202), .invoked(requestId: "request-2", statusCode: 202),
                .invoked(requestId: "request-3", statusCode: 202),
            ])
        #expect(recent.first?.summary == "Scheduled Event 2026-12-06T14:15:00Z")
    }

    @Test("fire times that pass while capsize is busy are counted as missed, not sent in a burst")
    func missed() async throws {
        let clock = JumpingClock(Self.start)
        // Each invoke takes 12 minutes of the clock: with rate(5 minutes) two fire times pass during each.
        let functions = RecordingFunctions(onInvoke: { clock.advance(by: 720) })
        let trigger = try Trigger.schedule("rate(5 minutes)", function: "slow")
        let runner = try TriggerRunner(triggers: [trigger], functions: functions, clock: clock.clock)
        try await Self.run(runner, until: 2, of: functions)
        let times = try functions.invocations.withLock { Array($0.prefix(2)) }.map {
            try JSONDecoder().decode(ScheduledEvent.self, from: $0.payload).time
        }
        // Fired at 14:10; busy until 14:22, so 14:15 and 14:20 are missed; then 14:25.
        #expect(times == ["2026-12-06T14:10:00Z", "2026-12-06T14:25:00Z"])
        let recent = await runner.recent
        #expect(recent[0].outcome == .invoked(requestId: "request-1", statusCode: 202))
        #expect(recent[1].outcome == .missed(2))
        #expect(recent[1].time == Self.start + 600)
        #expect(recent[1].summary == "Scheduled Event 2026-12-06T14:15:00Z to 2026-12-06T14:20:00Z")
        #expect(try #require(await runner.counts["rule/capsize-slow"]).missed >= 2)
    }

    @Test("a failing invoke is a failed delivery, and the trigger goes on")
    func failures() async throws {
        let functions = RecordingFunctions()
        let clock = JumpingClock(Self.start)
        let runner = try TriggerRunner(
            triggers: [try Trigger.schedule("rate(1 minute)", function: "broken")], functions: functions,
            clock: clock.clock)
        try await Self.run(runner, until: 3, of: functions)
        let counts = try #require(await runner.counts["rule/capsize-broken"])
        #expect(counts.failed >= 3 && counts.invoked == 0)
        let first = try #require(await runner.recent.first)
        #expect(
            first.outcome
                == .failed(
                    "ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:broken"
                ))
    }

    @Test("a file dropped in a watched directory invokes its function once with an S3 record")
    func directory() async throws {
        let root = try temporaryDirectory("capsize-trigger")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let functions = RecordingFunctions()
        let trigger = try Trigger.directory(root, function: "ingest", bucket: "uploads")
        let runner = try TriggerRunner(triggers: [trigger], functions: functions)
        try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: root + "/new data.csv"))
        try await Self.run(runner, until: 1, of: functions)
        let sent = try #require(functions.invocations.withLock { $0.first })
        #expect(sent.name == "ingest")
        #expect(sent.type == .event)
        let record = try #require(try JSONDecoder().decode(S3Event.self, from: sent.payload).records.first)
        #expect(record.eventName == "ObjectCreated:Put")
        #expect(record.s3.bucket.name == "uploads")
        #expect(record.s3.object.key == "new+data.csv")
        #expect(record.s3.object.size == 8)
        #expect(await runner.recent.first?.summary == "s3://uploads/new data.csv (8 bytes)")
        #expect(await runner.counts["s3://uploads"] == TriggerCounts(invoked: 1))
    }

    @Test("a watched directory that goes away stops its trigger, saying so, and the other triggers go on")
    func directoryRemoved() async throws {
        let root = try temporaryDirectory("capsize-trigger")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/drop", withIntermediateDirectories: false)
        let functions = RecordingFunctions()
        let runner = try TriggerRunner(
            triggers: [
                try Trigger.directory(root + "/drop", function: "ingest"),
                try Trigger.schedule("rate(1 minute)", function: "tick"),
            ], functions: functions, clock: JumpingClock(Self.start).clock)
        try FileManager.default.removeItem(atPath: root + "/drop")
        let task = Task { await runner.run() }
        while await !runner.recent.contains(where: { if case .stopped = $0.outcome { true } else { false } }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let ticks = functions.count
        while functions.count < ticks + 2 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
        let stop = try #require(await runner.recent.first { $0.trigger == "s3://drop" })
        #expect(stop.summary == "stopped watching \(root)/drop")
        #expect(stop.outcome == .stopped("the watched directory \(root)/drop went away (removed, moved or unmounted)"))
    }
}
