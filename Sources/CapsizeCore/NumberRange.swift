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

    /// `60` for 60.0, `0.25` for 0.25: a bound as a person writes it.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}
