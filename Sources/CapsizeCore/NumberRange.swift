/// Range checks for the numbers a caller or a file gives: NaN and the infinities are outside every range, and a
/// number is shown as given (`1e+300`, `nan`) in the error.
extension InputError {
    /// Refuses `value` unless it is finite and in `range`.
    /// - Parameters:
    ///   - setting: the setting's key (`idleTimeout`), or nil with `field` for a place in a file.
    ///   - unit: what follows the range in the message (`seconds`), or empty.
    /// - Throws: `InputError` naming the setting or field, the value and the range.
    public static func check(
        _ value: Double, setting: String? = nil, field: String = "", in range: ClosedRange<Double>, unit: String = ""
    ) throws(InputError) {
        guard value.isFinite, range.contains(value) else {
            let allowed = "\(number(range.lowerBound))...\(number(range.upperBound))" + (unit.isEmpty ? "" : " \(unit)")
            throw setting.map { InputError(setting: $0, value: "\(value)", allowed: allowed) }
                ?? InputError(field: field, value: "\(value)", allowed: allowed)
        }
    }

    /// Refuses `value` unless it is in `range`.
    public static func check(
        _ value: Int, setting: String? = nil, field: String = "", in range: ClosedRange<Int>, unit: String = ""
    ) throws(InputError) {
        guard range.contains(value) else {
            let allowed = "\(range.lowerBound)...\(range.upperBound)" + (unit.isEmpty ? "" : " \(unit)")
            throw setting.map { InputError(setting: $0, value: "\(value)", allowed: allowed) }
                ?? InputError(field: field, value: "\(value)", allowed: allowed)
        }
    }

    /// A size in bytes as a person writes it: a whole number of bytes, or with K, M or G (also KiB, MiB, GiB: powers
    /// of 1,024), e.g. `65536`, `512K`, `1M`.
    /// - Throws: `InputError` naming the setting, the value and the range (in bytes) when the text is not such a size
    ///   or the size is outside `range`.
    public static func bytes(_ text: String, setting: String, in range: ClosedRange<Int>) throws(InputError) -> Int {
        let allowed = "a size in bytes, or with K, M or G, in \(range.lowerBound)...\(range.upperBound) bytes"
        let units: [(String, Int)] = [("KiB", 10), ("MiB", 20), ("GiB", 30), ("K", 10), ("M", 20), ("G", 30), ("", 0)]
        for (suffix, shift) in units where text.hasSuffix(suffix) {
            guard let count = Int(text.dropLast(suffix.count)), count >= 0, count <= range.upperBound >> shift,
                range.contains(count << shift)
            else { break }
            return count << shift
        }
        throw InputError(setting: setting, value: text, allowed: allowed)
    }

    /// `60` for 60.0, `0.25` for 0.25: a bound as a person writes it.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}
