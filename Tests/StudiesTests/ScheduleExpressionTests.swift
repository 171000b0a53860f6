import CapsizeCore
import Foundation
import Testing
import Workloads

@testable import Studies

/// EventBridge's `rate(…)` and `cron(…)` expressions: what is read, what is refused and why, and when each fires.
@Suite struct ScheduleExpressionTests {
    static func utc(_ text: String) -> Date {
        guard let date = try? Date(text, strategy: .iso8601) else { preconditionFailure("not ISO 8601: \(text)") }
        return date
    }

    static func next(_ expression: String, after text: String) throws -> Date? {
        try ScheduleExpression(parsing: expression).nextFire(after: utc(text))
    }

    static func refusal(_ expression: String) -> InputError? {
        do {
            _ = try ScheduleExpression(parsing: expression)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "a rate is a whole number of minutes, hours or days, singular for 1 and plural otherwise",
        arguments: [
            ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172_800),
        ])
    func rates(expression: String, seconds: Int) throws {
        let schedule = try ScheduleExpression(parsing: expression)
        #expect(schedule.description == expression)
        #expect(
            schedule.nextFire(after: Self.utc("2026-12-06T14:05:30Z")) == Self.utc("2026-12-06T14:05:30Z")
                + TimeInterval(seconds))
    }

    @Test("a rate with the wrong number, unit or plural is refused, saying which")
    func badRates() {
        #expect(Self.refusal("rate(1 minutes)")?.allowed.hasSuffix("the unit is 'minute' for 1, not 'minutes'") == true)
        #expect(Self.refusal("rate(5 hour)")?.allowed.hasSuffix("the unit is 'hours' for 5, not 'hour'") == true)
        #expect(Self.refusal("rate(0 minutes)")?.allowed.hasSuffix("'0' is not a whole number of 1 or more") == true)
        #expect(Self.refusal("rate(1.5 hours)")?.allowed.hasSuffix("'1.5' is not a whole number of 1 or more") == true)
        #expect(Self.refusal("rate(2 weeks)")?.allowed.hasSuffix("'weeks' is not minute(s), hour(s) or day(s)") == true)
        #expect(Self.refusal("rate(5)")?.allowed.hasSuffix("'5' is not a value and a unit") == true)
        let error = Self.refusal("rate(5 hour)")
        #expect(error?.field == "schedule")
        #expect(error?.isSetting == true)
        #expect(error?.value == "rate(5 hour)")
    }

    @Test("an expression that is neither rate(…) nor cron(…) is refused with both forms shown")
    func neither() {
        let error = Self.refusal("every 5 minutes")
        #expect(error?.value == "every 5 minutes")
        #expect(error?.allowed.hasPrefix("rate(value unit), e.g. rate(5 minutes), or cron(") == true)
        #expect(Self.refusal("cron 0 10 * * ? *") != nil)
    }

    @Test(
        "a cron field out of range or with a wildcard it does not take is refused, naming the field and the value",
        arguments: [
            ("cron(60 10 * * ? *)", "in Minutes (field 1 of 6) 0-59 with the wildcards , - * /; '60' is out of range"),
            ("cron(0 24 * * ? *)", "in Hours (field 2 of 6) 0-23 with the wildcards , - * /; '24' is out of range"),
            (
                "cron(0 10 32 * ? *)",
                "in Day-of-month (field 3 of 6) 1-31 with the wildcards , - * ? / L W; '32' is out of range"
            ),
            (
                "cron(0 10 * 13 ? *)",
                "in Month (field 4 of 6) 1-12 or JAN-DEC with the wildcards , - * /; '13' is out of range"
            ),
            (
                "cron(0 10 * FOO ? *)",
                "in Month (field 4 of 6) 1-12 or JAN-DEC with the wildcards , - * /; 'FOO' is not a value"
            ),
            (
                "cron(0 10 ? * 8 *)",
                "in Day-of-week (field 5 of 6) 1-7 or SUN-SAT with the wildcards , - * ? L #; '8' is out of range"
            ),
            (
                "cron(0 10 * * ? 1969)",
                "in Year (field 6 of 6) 1970-2199 with the wildcards , - * /; '1969' is out of range"
            ),
            (
                "cron(0 10 * * ? 2200)",
                "in Year (field 6 of 6) 1970-2199 with the wildcards , - * /; '2200' is out of range"
            ),
            (
                "cron(? 10 * * ? *)",
                "in Minutes (field 1 of 6) 0-59 with the wildcards , - * /; '?' is not allowed here"
            ),
            ("cron(0 L * * ? *)", "in Hours (field 2 of 6) 0-23 with the wildcards , - * /; 'L' is not allowed here"),
            (
                "cron(0 10 ? * 2/2 *)",
                "in Day-of-week (field 5 of 6) 1-7 or SUN-SAT with the wildcards , - * ? L #; '/' is not allowed here"
            ),
            (
                "cron(0/0 10 * * ? *)",
                "in Minutes (field 1 of 6) 0-59 with the wildcards , - * /; the increment '0' in '0/0' is not 1-60"
            ),
            (
                "cron(0 20-10 * * ? *)",
                "in Hours (field 2 of 6) 0-23 with the wildcards , - * /; the range '20-10' ends before it starts"
            ),
            (
                "cron(0 10 ? * 3#6 *)",
                "in Day-of-week (field 5 of 6) 1-7 or SUN-SAT with the wildcards , - * ? L #; '6' in '3#6' is not 1-5 (3#2: the month's second Tuesday)"
            ),
            (
                "cron(0 10 ? * 3#1,6#3 *)",
                "in Day-of-week (field 5 of 6) 1-7 or SUN-SAT with the wildcards , - * ? L #; '3#1,6#3' is not one n#k (# allows a single expression in the field)"
            ),
            (
                "cron(0 10 32W * ? *)",
                "in Day-of-month (field 3 of 6) 1-31 with the wildcards , - * ? / L W; '32W' is not nW with n a day 1-31 (15W: the weekday nearest the 15th)"
            ),
            (
                "cron(0 10 L,15 * ? *)",
                "in Day-of-month (field 3 of 6) 1-31 with the wildcards , - * ? / L W; 'L,15' uses L or W with other values (L and nW stand alone)"
            ),
        ])
    func badFields(expression: String, allowed: String) {
        let error = Self.refusal(expression)
        #expect(error?.field == "schedule")
        #expect(error?.value == expression)
        #expect(error?.allowed == allowed)
    }

    @Test("cron takes exactly six fields and exactly one of its day fields as ?")
    func shape() {
        #expect(Self.refusal("cron(0 10 * * ?)")?.allowed.hasSuffix("e.g. cron(0 10 * * ? *) (5 given)") == true)
        #expect(Self.refusal("cron(0 10 * * * *)")?.allowed.hasSuffix("here neither is ?") == true)
        #expect(Self.refusal("cron(0 10 ? * ? *)")?.allowed.hasSuffix("here both are ?") == true)
        #expect(Self.refusal("cron(0 10 15 * MON *)")?.allowed.hasSuffix("here neither is ?") == true)
    }

    @Test("a daily cron fires at its hour the next day, and a step fires on its multiples")
    func dailyAndSteps() throws {
        #expect(try Self.next("cron(0 10 * * ? *)", after: "2026-12-06T14:05:00Z") == Self.utc("2026-12-07T10:00:00Z"))
        #expect(try Self.next("cron(0 10 * * ? *)", after: "2026-12-07T09:59:59Z") == Self.utc("2026-12-07T10:00:00Z"))
        #expect(
            try Self.next("cron(0/15 * * * ? *)", after: "2026-12-06T14:05:30Z") == Self.utc("2026-12-06T14:15:00Z"))
        #expect(
            try Self.next("cron(0/15 * * * ? *)", after: "2026-12-06T14:45:00Z") == Self.utc("2026-12-06T15:00:00Z"))
        #expect(
            try Self.next("cron(1/10 * * * ? *)", after: "2026-12-06T14:51:00Z") == Self.utc("2026-12-06T15:01:00Z"))
        #expect(
            try Self.next("cron(*/20 8-9 * * ? *)", after: "2026-12-06T09:40:00Z") == Self.utc("2026-12-07T08:00:00Z"))
        #expect(
            try Self.next("cron(0 23 31 12 ? *)", after: "2026-12-31T23:00:00Z") == Self.utc("2027-12-31T23:00:00Z"))
    }

    @Test("names of months and days pick the same times as numbers, in any case")
    func names() throws {
        // 2026-12-06 is a Sunday: the next weekday 12:00 is Monday the 7th; MON-FRI is 2-6.
        #expect(
            try Self.next("cron(0 12 ? * MON-FRI *)", after: "2026-12-05T13:00:00Z") == Self.utc("2026-12-07T12:00:00Z")
        )
        #expect(
            try Self.next("cron(0 12 ? * 2-6 *)", after: "2026-12-05T13:00:00Z") == Self.utc("2026-12-07T12:00:00Z"))
        #expect(
            try Self.next("cron(0 12 ? * sat,sun *)", after: "2026-12-07T00:00:00Z") == Self.utc("2026-12-12T12:00:00Z")
        )
        #expect(
            try Self.next("cron(0 0 1 JAN,jul ? *)", after: "2026-12-06T00:00:00Z") == Self.utc("2027-01-01T00:00:00Z"))
        #expect(
            try Self.next("cron(0 0 1 JAN,jul ? *)", after: "2027-01-01T00:00:00Z") == Self.utc("2027-07-01T00:00:00Z"))
    }

    @Test("a day a month lacks is skipped, and February 29 waits for a leap year")
    func monthEndsAndLeapYears() throws {
        #expect(try Self.next("cron(0 0 31 * ? *)", after: "2026-04-15T00:00:00Z") == Self.utc("2026-05-31T00:00:00Z"))
        #expect(try Self.next("cron(0 12 29 2 ? *)", after: "2026-03-01T00:00:00Z") == Self.utc("2028-02-29T12:00:00Z"))
        #expect(try Self.next("cron(0 12 29 2 ? *)", after: "2096-03-01T00:00:00Z") == Self.utc("2104-02-29T12:00:00Z"))
        #expect(try Self.next("cron(0 12 29 2 ? 2100)", after: "2026-03-01T00:00:00Z") == nil)
    }

    @Test("L is a month's last day, or with a weekday its last such day")
    func last() throws {
        #expect(try Self.next("cron(0 18 L * ? *)", after: "2027-02-01T00:00:00Z") == Self.utc("2027-02-28T18:00:00Z"))
        #expect(try Self.next("cron(0 18 L * ? *)", after: "2028-02-01T00:00:00Z") == Self.utc("2028-02-29T18:00:00Z"))
        #expect(try Self.next("cron(0 18 L * ? *)", after: "2026-12-31T18:00:00Z") == Self.utc("2027-01-31T18:00:00Z"))
        // December 2026's last Friday is the 25th (the 31st is a Thursday).
        #expect(try Self.next("cron(0 18 ? * 6L *)", after: "2026-12-06T00:00:00Z") == Self.utc("2026-12-25T18:00:00Z"))
        #expect(
            try Self.next("cron(0 18 ? * FRIL *)", after: "2026-12-06T00:00:00Z") == Self.utc("2026-12-25T18:00:00Z"))
        // L alone in Day-of-week is the week's last day, Saturday (7).
        #expect(try Self.next("cron(0 18 ? * L *)", after: "2026-12-06T00:00:00Z") == Self.utc("2026-12-12T18:00:00Z"))
    }

    @Test("nW is the weekday nearest day n, never outside its month")
    func nearestWeekday() throws {
        // 2026-11-15 is a Sunday: Monday the 16th. 2026-12-15 is a Tuesday: itself.
        #expect(try Self.next("cron(0 8 15W * ? *)", after: "2026-11-01T00:00:00Z") == Self.utc("2026-11-16T08:00:00Z"))
        #expect(try Self.next("cron(0 8 15W * ? *)", after: "2026-11-16T08:00:00Z") == Self.utc("2026-12-15T08:00:00Z"))
        // 2027-05-01 is a Saturday: Monday the 3rd, not Friday April 30.
        #expect(try Self.next("cron(0 8 1W * ? *)", after: "2027-04-15T00:00:00Z") == Self.utc("2027-05-03T08:00:00Z"))
        // 2027-10-31 is a Sunday: Friday the 29th, not Monday November 1.
        #expect(
            try Self.next("cron(0 8 31W 10 ? *)", after: "2027-10-01T00:00:00Z") == Self.utc("2027-10-29T08:00:00Z"))
    }

    @Test("n#k is the month's k-th weekday n, and a month without one is skipped")
    func nthWeekday() throws {
        // 2026-12-01 is a Tuesday: the second Tuesday is the 8th; 2027-01-01 is a Friday: the 12th.
        #expect(try Self.next("cron(0 9 ? * 3#2 *)", after: "2026-12-06T00:00:00Z") == Self.utc("2026-12-08T09:00:00Z"))
        #expect(
            try Self.next("cron(0 9 ? * TUE#2 *)", after: "2026-12-08T09:00:00Z") == Self.utc("2027-01-12T09:00:00Z"))
        // Fifth Thursdays: 2026-12-31, then none in January to March 2027, then 2027-04-29.
        #expect(try Self.next("cron(0 0 ? * 5#5 *)", after: "2026-12-01T00:00:00Z") == Self.utc("2026-12-31T00:00:00Z"))
        #expect(try Self.next("cron(0 0 ? * 5#5 *)", after: "2026-12-31T00:00:00Z") == Self.utc("2027-04-29T00:00:00Z"))
    }

    @Test("years limit a schedule, which ends after its last")
    func years() throws {
        #expect(
            try Self.next("cron(0 0 1 1 ? 2030-2031)", after: "2026-12-06T00:00:00Z")
                == Self.utc("2030-01-01T00:00:00Z"))
        #expect(
            try Self.next("cron(0 0 1 1 ? 2030-2031)", after: "2030-01-01T00:00:00Z")
                == Self.utc("2031-01-01T00:00:00Z"))
        #expect(try Self.next("cron(0 0 1 1 ? 2030-2031)", after: "2031-01-01T00:00:00Z") == nil)
        #expect(
            try Self.next("cron(0 0 1 1 ? 2026/4)", after: "2026-12-06T00:00:00Z") == Self.utc("2030-01-01T00:00:00Z"))
        #expect(try Self.next("cron(59 23 31 12 ? 2199)", after: "2199-12-31T23:59:00Z") == nil)
    }

    @Test("civil dates and weekdays agree with Foundation's Gregorian calendar from 1970 to 2199")
    func civilDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var generator = SplitMix64(seed: 12)
        let last = CivilTime(year: 2199, month: 12, day: 31, hour: 23, minute: 59).minutes
        for _ in 0..<2000 {
            let minutes = Int.random(in: 0...last, using: &generator)
            let time = CivilTime(minutes: minutes)
            let date = Date(timeIntervalSince1970: TimeInterval(minutes) * 60)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
            #expect(
                [time.year, time.month, time.day, time.hour, time.minute]
                    == [parts.year, parts.month, parts.day, parts.hour, parts.minute].map { $0 ?? -1 })
            #expect(CivilTime.weekday(year: time.year, month: time.month, day: time.day) == parts.weekday)
            #expect(time.minutes == minutes)
            let days = try #require(calendar.range(of: .day, in: .month, for: date)).count
            #expect(CivilTime.daysIn(year: time.year, month: time.month) == days)
        }
    }
}
