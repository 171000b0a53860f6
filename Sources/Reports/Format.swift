import CapsizeCore
import Foundation

/// `1234.5` → `1234.5`, `0.000123` → `1.23e-04`: a number in at most `digits` significant digits.
public func fmt(_ value: Double, _ digits: Int = 3) -> String { NumberText.significant(value, digits) }

/// Seconds in a readable unit: `812 µs`, `12.3 ms`, `4.56 s`.
public func fmtSeconds(_ seconds: Double) -> String { NumberText.seconds(seconds) }

/// Money in three significant digits, never an exponent: `$0.0132`, `$0.00000575`, `$12.3`.
public func fmtDollars(_ value: Double) -> String { NumberText.dollars(value) }

/// Left-aligned text table with a header row.
public func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in
        all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
    }
    return all.map { row in
        row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
