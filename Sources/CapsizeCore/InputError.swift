/// Bad user input: which field, the value given, and what is allowed. The CLI exits with 2.
///
/// A library names the field in its own words. A *setting* of a call (`memory`, `dependsOn`, a workload
/// parameter such as `hidden`) is a key that each front end shows its own way: the command line as its flag
/// (`--memory`, `--depends-on`, `--hidden`). Any other field (a place in a file, such as
/// `jobQueues[0].priority`) is shown as it is. Another setting named in what is allowed is marked with
/// `InputError.mention`, so that a front end names it the same way.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var value: String
    /// What is allowed, a mentioned setting by its key.
    public var allowed: String { Self.naming(mentionsIn: allowedText) { $0 } }
    /// `allowed` with its mentions marked.
    private var allowedText: String
    /// Whether `field` is the key of a setting (see above) rather than a place shown as it is.
    public var isSetting: Bool

    /// A field shown as it is: a place in a file, a word of a command line.
    public init(field: String, value: String, allowed: String) {
        self.field = field
        self.value = value
        allowedText = allowed
        isSetting = false
    }

    /// A setting of the call, by its key (`memory`, `dependsOn`, `hidden`).
    public init(setting key: String, value: String, allowed: String) {
        self.init(field: key, value: value, allowed: allowed)
        isSetting = true
    }

    /// One line: control characters in the field or value (a newline in a name given) are written as escapes, and
    /// a value longer than 200 characters is cut there, saying how long it was.
    public var description: String {
        let length = value.unicodeScalars.count
        let shown =
            length <= 200
            ? value : String(String.UnicodeScalarView(value.unicodeScalars.prefix(200))) + "… (\(length) characters)"
        return "invalid \(Self.oneLine(field)) '\(Self.oneLine(shown))': allowed \(allowed)"
    }

    /// `text` with its control characters and line separators escaped (`\n`, `\u{1B}`).
    public static func oneLine(_ text: String) -> String {
        let named: [Unicode.Scalar: String] = ["\n": "\\n", "\r": "\\r", "\t": "\\t"]
        return text.unicodeScalars.map { scalar in
            guard Shell.isLineBreakingOrControl(scalar) else { return String(scalar) }
            return named[scalar] ?? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        }.joined()
    }

    /// The same error with its setting, and the settings mentioned in `allowed`, named by `name` (e.g. as flags);
    /// other fields are kept.
    public func namingSetting(_ name: (String) -> String) -> InputError {
        InputError(
            field: isSetting ? name(field) : field, value: value,
            allowed: Self.naming(mentionsIn: allowedText, by: name))
    }

    /// `key`, a setting other than the field, as `allowed` mentions it: `"with \(InputError.mention("memory")) LIST"`
    /// reads `with memory LIST`, and `with --memory LIST` once the command line names its settings.
    public static func mention(_ key: String) -> String { "\u{2}\(key)\u{3}" }

    private static func naming(mentionsIn text: String, by name: (String) -> String) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.firstIndex(of: "\u{2}"), let end = rest[start...].firstIndex(of: "\u{3}") {
            result += rest[..<start]
            result += name(String(rest[rest.index(after: start)..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
