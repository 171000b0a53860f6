public import CapsizeCore
public import Foundation

/// An EventBridge schedule expression, `rate(…)` or `cron(…)`, with EventBridge's syntax and rules exactly
/// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html). Times are UTC.
public enum ScheduleExpression: Sendable, Equatable, CustomStringConvertible {
    case rate(RateExpression)
    case cron(CronExpression)

    /// Reads `text` as EventBridge does.
    /// - Parameter setting: the setting the expression was given as, named by the errors.
    /// - Throws: `InputError` naming `setting`, the expression, and what its faulty part allows.
    public init(parsing text: String, setting: String = "schedule") throws(InputError) {
        if let body = Self.body(of: text, function: "rate") {
            self = .rate(try RateExpression(body: body, text: text, setting: setting))
        } else if let body = Self.body(of: text, function: "cron") {
            self = .cron(try CronExpression(body: body, text: text, setting: setting))
        } else {
            throw InputError(
                setting: setting, value: text,
                allowed: "rate(value unit), e.g. rate(5 minutes), or cron(Minutes Hours Day-of-month Month Day-of-week"
                    + " Year), e.g. cron(0 10 * * ? *)")
        }
    }

    /// The first time strictly after `date` the schedule fires; nil when it never fires again (a cron expression
    /// whose years are over). A rate fires every period after `date` (the previous fire, or when the schedule
    /// started).
    public func nextFire(after date: Date) -> Date? {
        switch self {
        case .rate(let rate): date.addingTimeInterval(TimeInterval(rate.seconds))
        case .cron(let cron): cron.nextFire(after: date)
        }
    }

    public var description: String {
        switch self {
        case .rate(let rate): rate.description
        case .cron(let cron): cron.description
        }
    }

    private static func body(of text: String, function: String) -> Substring? {
        guard text.hasPrefix(function + "("), text.hasSuffix(")") else { return nil }
        return text.dropFirst(function.count + 1).dropLast()
    }
}

/// `rate(value unit)`: every `value` minutes, hours or days, `value` a whole number of 1 or more, the unit
/// singular for 1 and plural otherwise (`rate(1 hour)`, `rate(5 minutes)`).
public struct RateExpression: Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable {
        case minute, hour, day

        public var seconds: Int {
            switch self {
            case .minute: 60
            case .hour: 3600
            case .day: 86400
            }
        }
    }

    public var value: Int
    public var unit: Unit

    /// The period, in seconds.
    public var seconds: Int { value * unit.seconds }

    public var description: String { "rate(\(value) \(unit.rawValue)\(value == 1 ? "" : "s"))" }

    init(body: Substring, text: String, setting: String) throws(InputError) {
        func refuse(_ problem: String) -> InputError {
            InputError(
                setting: setting, value: text,
                allowed: "rate(value unit) with value a whole number of 1 or more and unit minute, hour or day,"
                    + " singular for 1 and plural otherwise, e.g. rate(1 hour), rate(5 minutes); \(problem)")
        }
        let words = body.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2 else { throw refuse("'\(body)' is not a value and a unit") }
        guard let value = Int(words[0]), value >= 1, words[0].allSatisfy(\.isASCII) else {
            throw refuse("'\(words[0])' is not a whole number of 1 or more")
        }
        let word = String(words[1])
        let plural = word.hasSuffix("s")
        guard let unit = Unit(rawValue: plural ? String(word.dropLast()) : word) else {
            throw refuse("'\(word)' is not minute(s), hour(s) or day(s)")
        }
        if value == 1, plural { throw refuse("the unit is '\(unit.rawValue)' for 1, not '\(word)'") }
        if value != 1, !plural { throw refuse("the unit is '\(unit.rawValue)s' for \(value), not '\(word)'") }
        guard value <= Int(Int32.max) / unit.seconds else {
            throw refuse("\(value) \(unit.rawValue)s is more than \(Int(Int32.max) / unit.seconds)")
        }
        self.value = value
        self.unit = unit
    }
}
