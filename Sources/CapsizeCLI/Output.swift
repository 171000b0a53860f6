import Foundation

/// Writes a line to standard output, at once: long sweeps piped to a file or a pager show their progress.
func say(_ text: String = "") {
    print(text)
    fflush(nil)
}

/// Writes a notice to standard error, so that `--json` output stays parseable.
func notice(_ text: String) {
    FileHandle.standardError.write(Data(("notice: " + text + "\n").utf8))
}

/// Encodes `value` as pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `1234.5` → `1234.5`, `0.000123` → `1.23e-04`: a number in at most `digits` significant digits.
func fmt(_ value: Double, _ digits: Int = 3) -> String {
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
func fmtSeconds(_ seconds: Double) -> String {
    if seconds < 1e-3 { return fmt(seconds * 1e6) + " µs" }
    if seconds < 1 { return fmt(seconds * 1e3) + " ms" }
    return fmt(seconds) + " s"
}

/// Left-aligned text table with a header row.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
