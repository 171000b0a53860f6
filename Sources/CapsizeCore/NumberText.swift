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

    /// Seconds in a readable unit: `812 µs`, `12.3 ms`, `4.56 s`.
    public static func seconds(_ seconds: Double) -> String {
        if seconds < 1e-3 { return significant(seconds * 1e6) + " µs" }
        if seconds < 1 { return significant(seconds * 1e3) + " ms" }
        return significant(seconds) + " s"
    }
}
