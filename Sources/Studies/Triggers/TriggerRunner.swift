public import CapsizeCore
public import Foundation

/// An event source and the function its events invoke: Lambda's triggers, on this machine.
public struct Trigger: Sendable {
    public enum Source: Sendable {
        /// An EventBridge scheduled rule named `rule`.
        case schedule(ScheduleExpression, rule: String)
        /// Files landing in `directory` as S3 objects created in `bucket`.
        case directory(String, bucket: String)
    }

    public var source: Source
    /// The function invoked, asynchronously (`Event`), as S3 and EventBridge invoke Lambda.
    public var function: String

    /// A scheduled rule invoking `function`; the rule is named `rule`, or after the function.
    /// - Throws: `InputError` naming `schedule` or `rule`.
    public static func schedule(_ expression: String, function: String, rule: String? = nil) throws(InputError)
        -> Trigger
    {
        let name = rule ?? String("capsize-\(function)".prefix(64))
        try ScheduledEvent.checkRuleName(name)
        return Trigger(source: .schedule(try ScheduleExpression(parsing: expression), rule: name), function: function)
    }

    /// Files landing in `directory` invoking `function` as bucket `bucket`'s notifications; the bucket is named
    /// `bucket`, or as the directory.
    /// - Throws: `InputError` naming `bucket` when the name is not a valid bucket name.
    public static func directory(_ directory: String, function: String, bucket: String? = nil) throws(InputError)
        -> Trigger
    {
        let name = bucket ?? URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        do {
            try S3Event.checkBucketName(name)
        } catch  where bucket == nil {
            throw InputError(
                setting: "bucket", value: name,
                allowed: "\(error.allowed); the directory's name is the bucket's unless \(InputError.mention("bucket"))"
                    + " names one")
        }
        return Trigger(source: .directory(directory, bucket: name), function: function)
    }

    /// What the deliveries call the trigger: `rule/NAME` or `s3://BUCKET`.
    public var name: String {
        switch source {
        case .schedule(_, let rule): "rule/\(rule)"
        case .directory(_, let bucket): "s3://\(bucket)"
        }
    }
}

/// One event a trigger produced, and what became of it.
public struct TriggerDelivery: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The function was invoked: the Invoke API's request id and status (202 for `Event`).
        case invoked(requestId: String, statusCode: Int)
        /// The invoke failed (unknown function, throttled, …): the error, in words.
        case failed(String)
        /// This many of a schedule's fire times, from `time` on, passed while capsize was busy: not sent, late or in
        /// a burst.
        case missed(Int)
        /// The trigger ended: its directory went away, or inotify failed (the error, in words); the others go on.
        case stopped(String)
    }

    public var trigger: String
    public var function: String
    /// The fire time, or when the file landed.
    public var time: Date
    /// What was sent: `Scheduled Event 2026-12-06T14:05:00Z` or `s3://bucket/key (12 bytes)`.
    public var summary: String
    /// The event, as the function received it (empty when missed).
    public var payload: Data
    public var outcome: Outcome
}

/// How many events a trigger sent (`invoked`), failed to send, and missed.
public struct TriggerCounts: Sendable, Equatable {
    public var invoked = 0
    public var failed = 0
    public var missed = 0

    public init(invoked: Int = 0, failed: Int = 0, missed: Int = 0) {
        (self.invoked, self.failed, self.missed) = (invoked, failed, missed)
    }
}

/// Where the runner reads the time and waits: the system's clock, or a test's.
public struct TriggerClock: Sendable {
    public var now: @Sendable () -> Date
    /// Returns at `date` or later; throws `CancellationError` when cancelled.
    public var sleep: @Sendable (_ until: Date) async throws -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Date) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    public static let system = TriggerClock(
        now: { Date() },
        sleep: { date in
            while case let wait = date.timeIntervalSinceNow, wait > 0 {
                try await Task.sleep(for: .seconds(wait))
            }
        })
}

/// Runs triggers until cancelled: each schedule fires at its times, each directory's landed files are sent, each
/// event invoking its function through `LambdaFunctions` asynchronously. Every delivery is counted and handed to
/// `log`; a failed invoke is a delivery that failed, never the end of the runner.
public actor TriggerRunner {
    public let triggers: [Trigger]
    private let functions: any LambdaFunctions
    private let clock: TriggerClock
    private let log: @Sendable (TriggerDelivery) -> Void
    /// The directories' watchers, started by `init`, by trigger index.
    private let watchers: [Int: DirectoryWatcher]
    /// The last `keptDeliveries` deliveries, oldest first.
    public private(set) var recent: [TriggerDelivery] = []
    /// How many events each trigger (by `Trigger.name`) delivered, failed and missed.
    public private(set) var counts: [String: TriggerCounts] = [:]
    /// How many deliveries `recent` keeps.
    public static let keptDeliveries = 1000

    /// Starts watching every trigger's directory (a file landing from now on is sent once `run` runs).
    /// - Throws: `InputError` naming `directory`, or `SystemCallError` from inotify.
    public init(
        triggers: [Trigger], functions: any LambdaFunctions, clock: TriggerClock = .system,
        log: @escaping @Sendable (TriggerDelivery) -> Void = { _ in }
    ) throws {
        var watchers: [Int: DirectoryWatcher] = [:]
        for (index, trigger) in triggers.enumerated() {
            if case .directory(let directory, _) = trigger.source {
                watchers[index] = try DirectoryWatcher(directory: directory)
            }
        }
        self.triggers = triggers
        self.functions = functions
        self.clock = clock
        self.log = log
        self.watchers = watchers
    }

    /// Runs every trigger until the task is cancelled, or until each has ended: a schedule whose last time passed,
    /// a directory that went away (a delivery `stopped` says so).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (index, trigger) in triggers.enumerated() {
                switch trigger.source {
                case .schedule(let expression, let rule):
                    // Only cancellation ends a schedule early.
                    group.addTask { try? await self.runSchedule(expression, rule: rule, trigger: trigger) }
                case .directory(_, let bucket):
                    guard let watcher = watchers[index] else { continue }
                    group.addTask { await self.runDirectory(watcher, bucket: bucket, trigger: trigger) }
                }
            }
            await group.waitForAll()
        }
    }

    private func runSchedule(_ expression: ScheduleExpression, rule: String, trigger: Trigger) async throws {
        var previous = clock.now()
        while let fire = expression.nextFire(after: previous) {
            try await clock.sleep(fire)
            let event = ScheduledEvent(rule: rule, time: fire)
            await deliver(
                try JSONEncoder.triggers.encode(event), trigger: trigger, time: fire,
                summary: "Scheduled Event \(event.time)")
            previous = fire
            // Times that passed while the delivery ran are not sent late: one record says how many and from when.
            var missed: (first: Date, last: Date, count: Int)?
            while let next = expression.nextFire(after: previous), next < clock.now().addingTimeInterval(-1) {
                missed = (missed?.first ?? next, next, (missed?.count ?? 0) + 1)
                previous = next
            }
            if let missed {
                let range = [missed.first, missed.last].map(ScheduledEvent.timeText).joined(separator: " to ")
                record(
                    TriggerDelivery(
                        trigger: trigger.name, function: trigger.function, time: missed.first,
                        summary: "Scheduled Event "
                            + (missed.count == 1 ? ScheduledEvent.timeText(missed.first) : range),
                        payload: Data(), outcome: .missed(missed.count)))
            }
        }
    }

    private func runDirectory(_ watcher: DirectoryWatcher, bucket: String, trigger: Trigger) async {
        do {
            try await sendFiles(of: watcher, bucket: bucket, trigger: trigger)
        } catch is CancellationError {
            return
        } catch {
            record(
                TriggerDelivery(
                    trigger: trigger.name, function: trigger.function, time: clock.now(),
                    summary: "stopped watching \(watcher.directory)", payload: Data(), outcome: .stopped("\(error)")))
        }
    }

    private func sendFiles(of watcher: DirectoryWatcher, bucket: String, trigger: Trigger) async throws {
        for try await file in watcher.files {
            let requestId = UUID().uuidString
            let event = S3Event(
                file: file, bucket: bucket, configuration: "capsize-\(trigger.function)", requestId: requestId)
            await deliver(
                try JSONEncoder.triggers.encode(event), trigger: trigger, time: file.modified,
                summary: "s3://\(bucket)/\(file.key) (\(file.size) bytes)")
        }
        try Task.checkCancellation()
    }

    private func deliver(_ payload: Data, trigger: Trigger, time: Date, summary: String) async {
        let outcome: TriggerDelivery.Outcome
        do {
            let result = try await functions.invoke(trigger.function, payload: payload, type: .event, logTail: false)
            outcome = .invoked(requestId: result.requestId, statusCode: result.statusCode)
        } catch {
            outcome = .failed("\(error)")
        }
        record(
            TriggerDelivery(
                trigger: trigger.name, function: trigger.function, time: time, summary: summary, payload: payload,
                outcome: outcome))
    }

    private func record(_ delivery: TriggerDelivery) {
        if recent.count == Self.keptDeliveries { recent.removeFirst() }
        recent.append(delivery)
        var count = counts[delivery.trigger] ?? TriggerCounts()
        switch delivery.outcome {
        case .invoked: count.invoked += 1
        case .failed: count.failed += 1
        case .missed(let times): count.missed += times
        case .stopped: break
        }
        counts[delivery.trigger] = count
        log(delivery)
    }
}

extension JSONEncoder {
    /// Events as AWS writes them: keys sorted for a stable text, `/` not escaped.
    static var triggers: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
