public import Foundation

extension JSONEncoder {
    /// How capsize writes JSON meant to be read and diffed (files it keeps, reports, `--json`): indented, keys sorted
    /// (the same value is the same bytes), slashes unescaped, dates in ISO 8601.
    public static func pretty() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
