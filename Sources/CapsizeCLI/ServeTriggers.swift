import ArgumentParser
import CapsizeCore
import Foundation
import Studies

/// `capsize serve`'s event sources: files landing in a directory (S3's `ObjectCreated:Put`) and schedules
/// (EventBridge's `rate(…)` and `cron(…)`), each invoking a defined function asynchronously, as Lambda's triggers do.
struct TriggerOptions: ParsableArguments {
    @Option(
        name: .customLong("watch"),
        help: ArgumentHelp(
            "Invoke FUNCTION (as an event) with an S3 ObjectCreated:Put record for each file written or moved into "
                + "DIRECTORY from now on; repeatable.", valueName: "FUNCTION=DIRECTORY"))
    var watches: [String] = []
    @Option(
        name: .customLong("schedule"),
        help: ArgumentHelp(
            "Invoke FUNCTION with EventBridge's Scheduled Event at each time of EXPRESSION, in UTC: "
                + "rate(5 minutes) or cron(0/15 * * * ? *); repeatable.", valueName: "FUNCTION=EXPRESSION"))
    var schedules: [String] = []
    @Option(
        help: ArgumentHelp("The bucket the --watch events name (default: the directory's name).", valueName: "NAME"))
    var bucket: String?

    /// The triggers asked for, each of a function `functions` holds.
    /// - Throws: `InputError` naming `--watch`, `--schedule` or `--bucket`.
    func triggers(functions: FunctionStore) throws -> [Trigger] {
        let defined = try functions.list().map(\.name)
        func split(_ text: String, flag: String, what: String) throws -> (String, String) {
            guard let equals = text.firstIndex(of: "="), !text[..<equals].isEmpty,
                !text[text.index(after: equals)...].isEmpty
            else {
                throw InputError(field: flag, value: text, allowed: "FUNCTION=\(what)")
            }
            let function = String(text[..<equals])
            guard defined.contains(function) else {
                throw InputError(
                    field: flag, value: text,
                    allowed: "a function `capsize function create` defined"
                        + (defined.isEmpty ? " (there is none)" : " (\(defined.sorted().joined(separator: ", ")))"))
            }
            return (function, String(text[text.index(after: equals)...]))
        }
        if let bucket, watches.isEmpty {
            throw InputError(field: "--bucket", value: bucket, allowed: "a bucket name beside --watch, which it names")
        }
        var triggers: [Trigger] = []
        for watch in watches {
            let (function, directory) = try split(watch, flag: "--watch", what: "DIRECTORY")
            do {
                triggers.append(try Trigger.directory(directory, function: function, bucket: bucket))
            } catch {
                throw error.namingSetting { $0 == "bucket" ? "--bucket" : "--watch" }
            }
        }
        for schedule in schedules {
            let (function, expression) = try split(schedule, flag: "--schedule", what: "EXPRESSION")
            do {
                triggers.append(try Trigger.schedule(expression, function: function))
            } catch {
                throw error.namingSetting { _ in "--schedule" }
            }
        }
        return triggers
    }

    /// One line per delivery, as a server log has it.
    static func describe(_ delivery: TriggerDelivery) -> String {
        let what: String
        switch delivery.outcome {
        case .invoked(let requestId, let status): what = "invoked, RequestId: \(requestId) (\(status))"
        case .failed(let reason): what = "failed: \(reason)"
        case .missed(let count): what = "\(count) fire time(s) missed while busy (not sent late)"
        case .stopped(let reason): what = "stopped: \(reason)"
        }
        return "capsize serve: \(delivery.trigger) → \(delivery.function): \(delivery.summary): \(what)"
    }
}
