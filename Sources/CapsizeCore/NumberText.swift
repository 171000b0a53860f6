import Foundation

/// Numbers as capsize writes them, in every layer: what Reports' `fmt` and `fmtSeconds` show, for the texts a
/// library keeps in its results (a projection's basis, say).
public enum NumberText {
    /// `1234.5` → `1234.5`, `0.000123` → `1.23e-04`: a number in at most `digits` significant digits.
    public static func significant(_ value: Double, _ digits: Int = 3) -> String {
        if value == 0 { return "0" }
        if !value.isFinite { return "\(value)" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e7 {
            let decimals = max(0, digits - 1 - Int(floor(log10(magnitude))))
            return String(format: "%.\(decimals)f", value)
        }
        return String(format: "%.\(digits - 1)e", value)
    }

    /// Money, in every text capsize prints: three significant digits and never an exponent, so that two costs
    /// that differ read differently (`$0.0132`, `$0.0105`, `$0.00000575`, `$12.3`); whole dollars from $100 up
    /// (`$1235`), where more digits would be noise.
    public static func dollars(_ value: Double) -> String {
        if !value.isFinite { return "$\(value)" }
        let magnitude = abs(value)
        if magnitude == 0 { return "$0" }
        let sign = value < 0 ? "-" : ""
        if magnitude >= 100 { return sign + "$" + String(format: "%.0f", magnitude) }
        // Rounded to three digits first: 0.009999 is $0.0100, not $0.010.
        let exponent = Int(floor(log10(Double(String(format: "%.2e", magnitude)) ?? magnitude)))
        return sign + "$" + String(format: "%.\(max(0, 2 - exponent))f", magnitude)
    }

    /// Seconds in a readable unit: `812 µs`, `12.3 ms`, `4.56 s`.
    public static func seconds(_ seconds: Double) -> String {
        if seconds < 1e-3 { return significant(seconds * 1e6) + " µs" }
        if seconds < 1 { return significant(seconds * 1e3) + " ms" }
        return significant(seconds) + " s"
    }
}
