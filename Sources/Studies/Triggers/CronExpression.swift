import CapsizeCore
public import Foundation

/// `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC, as EventBridge reads it: six fields, the
/// wildcards `, - * /` everywhere, `?` and `L` in the day fields, `W` in Day-of-month, `#` in Day-of-week, months
/// and days by name (`JAN`, `MON`), and exactly one of the day fields `?`.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// Which days of a month Day-of-month picks.
    public enum DaysOfMonth: Sendable, Equatable {
        /// `?`: Day-of-week decides.
        case any
        /// Days 1–31 (a month without the day skips it).
        case days([Int])
        /// `L`: the month's last day.
        case last
        /// `nW`: the weekday (Monday–Friday) nearest day `n`, within the month.
        case nearestWeekday(Int)
    }

    /// Which days of a month Day-of-week picks; a weekday is 1 (Sunday) to 7 (Saturday).
    public enum DaysOfWeek: Sendable, Equatable {
        /// `?`: Day-of-month decides.
        case any
        /// These weekdays (`L` alone is 7, the week's last day).
        case weekdays([Int])
        /// `nL`: the month's last weekday `n` (`6L`, its last Friday).
        case lastWeekday(Int)
        /// `n#k`: the month's `k`-th weekday `n` (`3#2`, its second Tuesday).
        case nthWeekday(Int, Int)
    }

    public var minutes: [Int]
    public var hours: [Int]
    public var daysOfMonth: DaysOfMonth
    public var months: [Int]
    public var daysOfWeek: DaysOfWeek
    public var years: [Int]
    /// The six fields as given.
    public var fields: [String]

    public var description: String { "cron(\(fields.joined(separator: " ")))" }

    init(body: Substring, text: String, setting: String) throws(InputError) {
        let fields = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 6 else {
            throw InputError(
                setting: setting, value: text,
                allowed: "cron(fields) with 6 fields separated by spaces: Minutes Hours Day-of-month Month"
                    + " Day-of-week Year, e.g. cron(0 10 * * ? *) (\(fields.count) given)")
        }
        let reader = FieldReader(text: text, setting: setting)
        self.fields = fields
        minutes = try reader.values(fields[0], CronField.minutes)
        hours = try reader.values(fields[1], CronField.hours)
        daysOfMonth = try reader.daysOfMonth(fields[2])
        months = try reader.values(fields[3], CronField.month)
        daysOfWeek = try reader.daysOfWeek(fields[4])
        years = try reader.values(fields[5], CronField.year)
        if (daysOfMonth == .any) == (daysOfWeek == .any) {
            throw InputError(
                setting: setting, value: text,
                allowed: "one of Day-of-month (field 3) and Day-of-week (field 5) as ?, the other a value or *,"
                    + " e.g. cron(0 10 * * ? *) or cron(0 10 ? * MON-FRI *); here "
                    + (daysOfMonth == .any ? "both are ?" : "neither is ?"))
        }
    }

    /// The first whole minute strictly after `date` that the expression picks; nil when none is left (the last
    /// year it names is over, or no month it names has the day it asks for).
    public func nextFire(after date: Date) -> Date? {
        let minute = Int((date.timeIntervalSince1970 / 60).rounded(.down)) + 1
        let start = CivilTime(minutes: minute)
        for year in years where year >= start.year {
            let sameYear = year == start.year
            for month in months where !sameYear || month >= start.month {
                let sameMonth = sameYear && month == start.month
                for day in days(year: year, month: month) where !sameMonth || day >= start.day {
                    let sameDay = sameMonth && day == start.day
                    for hour in hours where !sameDay || hour >= start.hour {
                        let sameHour = sameDay && hour == start.hour
                        for minute in minutes where !sameHour || minute >= start.minute {
                            let time = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute)
                            return Date(timeIntervalSince1970: TimeInterval(time.minutes * 60))
                        }
                    }
                }
            }
        }
        return nil
    }

    /// The days of `month` in `year` both day fields allow, in order.
    func days(year: Int, month: Int) -> [Int] {
        let last = CivilTime.daysIn(year: year, month: month)
        let weekdayOfFirst = CivilTime.weekday(year: year, month: month, day: 1)
        func weekday(_ day: Int) -> Int { (weekdayOfFirst - 1 + day - 1) % 7 + 1 }
        switch daysOfMonth {
        case .days(let days): return days.filter { $0 <= last }
        case .last: return [last]
        case .nearestWeekday(let day):
            guard day <= last else { return [] }
            switch weekday(day) {
            case 7: return [day == 1 ? 3 : day - 1]
            case 1: return [day == last ? day - 2 : day + 1]
            default: return [day]
            }
        case .any: break
        }
        switch daysOfWeek {
        case .any: return []
        case .weekdays(let weekdays): return (1...last).filter { weekdays.contains(weekday($0)) }
        case .lastWeekday(let wanted): return [last - (weekday(last) - wanted + 7) % 7]
        case .nthWeekday(let wanted, let nth):
            let day = 1 + (wanted - weekdayOfFirst + 7) % 7 + 7 * (nth - 1)
            return day <= last ? [day] : []
        }
    }
}

/// What one cron field holds: its name and place, its values (and their names), its wildcards.
struct CronField: Sendable {
    var name: String
    var position: Int
    var range: ClosedRange<Int>
    /// Names for the values from `range.lowerBound` on (`JAN` is 1, `SUN` is 1).
    var names: [String] = []
    var wildcards: String

    static let minutes = CronField(name: "Minutes", position: 1, range: 0...59, wildcards: ", - * /")
    static let hours = CronField(name: "Hours", position: 2, range: 0...23, wildcards: ", - * /")
    static let dayOfMonth = CronField(name: "Day-of-month", position: 3, range: 1...31, wildcards: ", - * ? / L W")
    static let month = CronField(
        name: "Month", position: 4, range: 1...12,
        names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        wildcards: ", - * /")
    static let dayOfWeek = CronField(
        name: "Day-of-week", position: 5, range: 1...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        wildcards: ", - * ? L #")
    static let year = CronField(name: "Year", position: 6, range: 1970...2199, wildcards: ", - * /")

    /// `0-59`, or `1-12 or JAN-DEC`.
    var valuesInWords: String {
        "\(range.lowerBound)-\(range.upperBound)" + (names.isEmpty ? "" : " or \(names[0])-\(names[names.count - 1])")
    }
}

/// Reads the fields of one expression, its errors naming the setting, the expression and the field.
private struct FieldReader {
    var text: String
    var setting: String

    func refuse(_ field: CronField, _ problem: String) -> InputError {
        InputError(
            setting: setting, value: text,
            allowed: "in \(field.name) (field \(field.position) of 6) \(field.valuesInWords) with the wildcards"
                + " \(field.wildcards); \(problem)")
    }

    /// The sorted values a field of `,`, `-`, `*` and `/` picks.
    func values(_ text: String, _ field: CronField) throws(InputError) -> [Int] {
        var picked = Set<Int>()
        for item in text.uppercased().split(separator: ",", omittingEmptySubsequences: false) {
            picked.formUnion(try values(item: String(item), field))
        }
        return picked.sorted()
    }

    private func values(item: String, _ field: CronField) throws(InputError) -> [Int] {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw refuse(field, "'\(item)' has more than one /") }
        var step = 1
        if parts.count == 2 {
            guard field.wildcards.contains("/") else { throw refuse(field, "'/' is not allowed here") }
            guard let value = Int(parts[1]), value >= 1, value <= field.range.count else {
                throw refuse(field, "the increment '\(parts[1])' in '\(item)' is not 1-\(field.range.count)")
            }
            step = value
        }
        let base = String(parts[0])
        var range: ClosedRange<Int>
        if base == "*" {
            range = field.range
        } else if let dash = base.firstIndex(of: "-") {
            let low = try value(String(base[..<dash]), in: item, field)
            let high = try value(String(base[base.index(after: dash)...]), in: item, field)
            guard low <= high else {
                throw refuse(field, "the range '\(base)' ends before it starts")
            }
            range = low...high
        } else {
            let low = try value(base, in: item, field)
            range = low...(parts.count == 2 ? field.range.upperBound : low)
        }
        return Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
    }

    private func value(_ word: String, in item: String, _ field: CronField) throws(InputError) -> Int {
        if let index = field.names.firstIndex(of: word) { return field.range.lowerBound + index }
        guard !word.isEmpty, word.allSatisfy(\.isASCII), let value = Int(word), !word.hasPrefix("+") else {
            if ["?", "L", "W"].contains(word) || word.contains("#") {
                throw refuse(field, "'\(item)' is not allowed here")
            }
            throw refuse(field, "'\(word.isEmpty ? item : word)' is not a value")
        }
        guard field.range.contains(value) else { throw refuse(field, "'\(value)' is out of range") }
        return value
    }

    func daysOfMonth(_ given: String) throws(InputError) -> CronExpression.DaysOfMonth {
        let text = given.uppercased()
        let field = CronField.dayOfMonth
        if text == "?" { return .any }
        if text == "L" { return .last }
        if text.hasSuffix("W") {
            let day = String(text.dropLast())
            guard let value = Int(day), field.range.contains(value), day.allSatisfy(\.isNumber) else {
                throw refuse(field, "'\(given)' is not nW with n a day 1-31 (15W: the weekday nearest the 15th)")
            }
            return .nearestWeekday(value)
        }
        if text.contains("L") || text.contains("W") {
            throw refuse(field, "'\(given)' uses L or W with other values (L and nW stand alone)")
        }
        return .days(try values(text, field))
    }

    func daysOfWeek(_ given: String) throws(InputError) -> CronExpression.DaysOfWeek {
        let text = given.uppercased()
        let field = CronField.dayOfWeek
        if text == "?" { return .any }
        if text == "L" { return .weekdays([7]) }
        if text.contains("#") {
            let parts = text.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count == 2, !text.contains(",") else {
                throw refuse(field, "'\(given)' is not one n#k (# allows a single expression in the field)")
            }
            let weekday = try value(String(parts[0]), in: given, field)
            guard let nth = Int(parts[1]), (1...5).contains(nth), parts[1].allSatisfy(\.isNumber) else {
                throw refuse(field, "'\(parts[1])' in '\(given)' is not 1-5 (3#2: the month's second Tuesday)")
            }
            return .nthWeekday(weekday, nth)
        }
        if text.hasSuffix("L") {
            guard !text.contains(",") else { throw refuse(field, "'\(given)' uses nL with other values") }
            return .lastWeekday(try value(String(text.dropLast()), in: given, field))
        }
        guard !text.contains("/") else { throw refuse(field, "'/' is not allowed here") }
        return .weekdays(try values(text, field))
    }
}

/// A UTC time to the minute, from and to minutes since 1970 (Howard Hinnant's civil-date algorithms).
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    init(minutes: Int) {
        let days = Self.floorDivide(minutes, 1440)
        let inDay = minutes - days * 1440
        (hour, minute) = (inDay / 60, inDay % 60)
        let z = days + 719_468
        let era = Self.floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shifted + 2) / 5 + 1
        month = shifted < 10 ? shifted + 3 : shifted - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Minutes since 1970-01-01T00:00Z.
    var minutes: Int { (Self.days(year: year, month: month, day: day) * 24 + hour) * 60 + minute }

    /// Days since 1970-01-01.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 1 (Sunday) to 7 (Saturday); 1970-01-01 was a Thursday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        (days(year: year, month: month, day: day) % 7 + 7 + 4) % 7 + 1
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
