import CapsizeCore
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
    let encoder = JSONEncoder.pretty()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
