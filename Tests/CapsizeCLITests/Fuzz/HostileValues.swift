import Foundation

/// What an option, a workload parameter or a file's field takes, which decides the hostile values tried on it.
enum FuzzValueKind: String, Sendable, CaseIterable {
    /// A whole number (`--count`, `--batch`).
    case integer
    /// A real number (`--vcpus`, `--idle-timeout`).
    case number
    /// Numbers separated by commas (`--memory 128,512`).
    case numberList
    /// Words separated by commas (`--architectures x86_64,arm64`).
    case wordList
    /// A size parameter and its sizes (`--param size=1..64*2`).
    case sizes
    /// Free text that becomes a name, a label or a word of a script (`--name`, `--image`).
    case text
    /// What names something capsize stored or listed (a run, a job, an option id, a queue).
    case identifier
    /// One of a few words (`--device`, `--strategy`, `--format`).
    case choice
    /// `K=V` (`--env`).
    case keyValue
    /// A variable's name (`--pass-env`).
    case variableName
    /// A file capsize reads (`--prices`, `--queues`, `--payload`).
    case inputFile
    /// A folder capsize writes into or reads from (`--export`, `--save-frames`, `--kernels`).
    case directory
}

/// One hostile value: its text (with placeholders, see `HostileValues`), the name of its class (what the known
/// failures are keyed by, stable across seeds), and whether every option of its kind must refuse it.
struct HostileValue: Sendable, Hashable {
    var text: String
    var valueClass: String
    /// True where no value of this kind may be accepted: NaN, an infinity, a fraction for a whole number, text
    /// for a number, an empty value.
    var mustRefuse: Bool

    /// Given as `--option=VALUE` rather than as the word after the option (how a negative number reaches the
    /// option past a parser that takes `-1` for an option).
    var attached = false

    init(_ text: String, _ valueClass: String, refuse: Bool = false, attached: Bool = false) {
        self.text = text
        self.valueClass = valueClass
        self.mustRefuse = refuse
        self.attached = attached
    }

    /// A negative number (`-1`, `-inf`, `-nan`): a value, which a parser must not take for an option.
    var isNegativeNumber: Bool { text.hasPrefix("-") && Double(text.dropFirst()) != nil }
}

/// Hostile values per kind: the numbers, strings, paths and JSON values a careless or hostile user gives. Texts may
/// hold placeholders that a case fills in where it runs: `@MARK@` (a file an injected command would create; it must
/// never appear), `@CASE@` (the case's own folder), `@HUGE@` (a 10 MB string) and `@DEEP@` (10,000 nested arrays).
enum HostileValues {
    static let marker = "@MARK@"
    static let caseFolder = "@CASE@"
    static let huge = "@HUGE@"
    static let deep = "@DEEP@"

    /// What every kind is given besides its own values: text a shell or a file name reads specially.
    static let strings: [HostileValue] = [
        HostileValue("", "empty", refuse: true),
        HostileValue("ünïcødé ✓ \u{202E}x", "unicode"),
        HostileValue("x\ntouch \(marker)\n#", "newline"),
        HostileValue("x\r\ntouch \(marker)", "carriage-return"),
        HostileValue("$(touch \(marker))", "command-substitution"),
        HostileValue("`touch \(marker)`", "backticks"),
        HostileValue("'; touch \(marker); '", "single-quote"),
        HostileValue("\"; touch \(marker); \"", "double-quote"),
        HostileValue("../../fz-escape/../x", "traversal"),
        HostileValue("-x", "leading-dash"),
        HostileValue("a b\tc", "whitespace"),
        HostileValue("%s%n%j %% $HOME ${PATH} \\n", "format-characters"),
        HostileValue("\u{1}\u{7}\u{1B}[31m\u{7F}", "control-characters"),
        HostileValue(String(repeating: "x", count: 100_000), "long"),
    ]

    /// Numbers that overflow, do not parse, or are no number at all.
    static let numbers: [HostileValue] = [
        HostileValue("nan", "nan", refuse: true),
        HostileValue("-nan", "nan", refuse: true),
        HostileValue("inf", "inf", refuse: true),
        HostileValue("-inf", "-inf", refuse: true),
        HostileValue("1e400", "overflow", refuse: true),
        HostileValue("1e300", "1e300"),
        HostileValue("-1e300", "-1e300"),
        HostileValue("1e-300", "tiny"),
        HostileValue("-1", "negative"),
        HostileValue("-1", "attached-negative", attached: true),
        HostileValue("-1e300", "attached-negative-huge", attached: true),
        HostileValue("-0", "negative-zero"),
        HostileValue("0", "zero"),
        HostileValue("99999999999999999999", "huge-integer"),
        HostileValue("9223372036854775807", "int-max"),
        HostileValue("-9223372036854775808", "int-min"),
        HostileValue("2147483648", "int32-overflow"),
        HostileValue("0x10", "hex"),
        HostileValue("+5", "plus-sign"),
        HostileValue(" 5", "space-padded", refuse: true),
        HostileValue("1_000", "underscore"),
        HostileValue("５", "fullwidth-digit", refuse: true),
        HostileValue("abc", "text", refuse: true),
        HostileValue("", "empty", refuse: true),
    ]

    /// What a whole number must refuse besides what every number must.
    static let integers: [HostileValue] =
        numbers + [
            HostileValue("1024.5", "fraction", refuse: true),
            HostileValue("1e3", "exponent", refuse: true),
        ]

    static let numberLists: [HostileValue] = [
        HostileValue("", "empty", refuse: true),
        HostileValue(",", "comma", refuse: true),
        HostileValue("128,,256", "empty-item", refuse: true),
        HostileValue("128,nan", "nan", refuse: true),
        HostileValue("inf", "inf", refuse: true),
        HostileValue("128,-1", "negative"),
        HostileValue("1e300", "1e300"),
        HostileValue("99999999999999999999", "huge-integer", refuse: true),
        HostileValue("128;256", "semicolon", refuse: true),
        HostileValue("128 ,256", "space"),
        HostileValue("128,128", "duplicate"),
        HostileValue("0", "zero"),
        HostileValue("1024.5", "fraction"),
    ]

    static let wordLists: [HostileValue] = [
        HostileValue("", "empty", refuse: true),
        HostileValue(",", "comma", refuse: true),
        HostileValue("x86_64,,arm64", "empty-item", refuse: true),
        HostileValue("x86_64,x86_64", "duplicate"),
        HostileValue("X86_64", "uppercase"),
        HostileValue("x86_64,riscv", "unknown-item"),
    ]

    static let sizes: [HostileValue] = [
        HostileValue("size=", "no-sizes", refuse: true),
        HostileValue("=1,2", "no-name", refuse: true),
        HostileValue("size", "no-equals", refuse: true),
        HostileValue("size=1..8*1", "factor-one", refuse: true),
        HostileValue("size=1..8*0", "factor-zero", refuse: true),
        HostileValue("size=1..8+0", "step-zero", refuse: true),
        HostileValue("size=1..8+-1", "step-negative", refuse: true),
        HostileValue("size=8..1*2", "descending"),
        HostileValue("size=1..1e300*2", "1e300"),
        HostileValue("size=nan..8*2", "nan", refuse: true),
        HostileValue("size=1..inf*2", "inf", refuse: true),
        HostileValue("size=1..99999999999999999999*2", "huge-integer"),
        HostileValue("size=-1,2", "negative"),
        HostileValue("size=1,,2", "empty-item", refuse: true),
        HostileValue("size=1..2*1.0000001", "tiny-factor"),
        HostileValue("size=1..2+1e-300", "tiny-step"),
        HostileValue("nosuch=1,2", "unknown-parameter", refuse: true),
    ]

    static let identifiers: [HostileValue] = [
        HostileValue("%", "sql-wildcard"),
        HostileValue("_", "sql-underscore"),
        HostileValue("' OR 1=1 --", "sql-quote"),
        HostileValue("ffffffff", "unknown-id"),
        HostileValue(":", "colon"),
    ]

    static let choices: [HostileValue] = [
        HostileValue("CPU", "uppercase"),
        HostileValue("cpu ", "trailing-space"),
        HostileValue("opencl:-1", "negative-index"),
        HostileValue("opencl:99999999999999999999", "huge-index"),
        HostileValue("opencl:", "empty-index"),
    ]

    static let keyValues: [HostileValue] = [
        HostileValue("=v", "empty-key", refuse: true),
        HostileValue("K", "no-equals", refuse: true),
        HostileValue("K=", "empty-value"),
        HostileValue("1K=v", "digit-first"),
        HostileValue("K K=v", "space-in-key"),
        HostileValue("CAPSIZE_HOME=/tmp/fz-home", "capsize-home"),
        HostileValue("PATH=", "empty-path"),
        HostileValue("LD_PRELOAD=/no/such.so", "preload"),
        HostileValue("K=$(touch \(marker))", "value-substitution"),
        HostileValue("K=a\nb", "value-newline"),
        HostileValue("Ä=1", "unicode-key"),
    ]

    static let variableNames: [HostileValue] = [
        HostileValue("CAPSIZE_HOME", "capsize-home"),
        HostileValue("PATH", "path"),
        HostileValue("A=B", "assignment"),
        HostileValue("1A", "digit-first"),
    ]

    static let inputFiles: [HostileValue] = [
        HostileValue("/no/such/fz-file", "missing-file", refuse: true),
        HostileValue("\(caseFolder)/files", "a-directory", refuse: true),
        HostileValue("/dev/null", "empty-file", refuse: true),
        HostileValue("\(caseFolder)/files/garbage.bin", "binary-file"),
        HostileValue("\(caseFolder)/files/unreadable", "unreadable-file"),
    ]

    static let directories: [HostileValue] = [
        HostileValue("\(caseFolder)/files/garbage.bin", "a-file"),
        HostileValue("/proc/fz-out", "unwritable"),
        HostileValue("\(caseFolder)/work/a/b/c", "nested-new"),
        HostileValue("../fz-out", "parent"),
        HostileValue(String(repeating: "d", count: 300), "name-too-long"),
        HostileValue("\(caseFolder)/files/readonly", "read-only"),
    ]

    /// Every hostile value tried on an option or a parameter of `kind`: its own values, then the strings.
    static func values(for kind: FuzzValueKind) -> [HostileValue] {
        let own: [HostileValue]
        switch kind {
        case .integer: own = integers
        case .number: own = numbers
        case .numberList: own = numberLists
        case .wordList: own = wordLists
        case .sizes: own = sizes
        case .text: own = []
        case .identifier: own = identifiers
        case .choice: own = choices
        case .keyValue: own = keyValues
        case .variableName: own = variableNames
        case .inputFile: own = inputFiles
        case .directory: own = directories
        }
        // A number must refuse every string too; other kinds may take one (a name in unicode is a name).
        let numeric: Set<FuzzValueKind> = [.integer, .number, .numberList]
        let known = Set(own.map(\.valueClass))
        return own
            + strings.filter { !known.contains($0.valueClass) }.map {
                var value = $0
                value.mustRefuse = value.mustRefuse || numeric.contains(kind)
                return value
            }
    }

    /// A JSON value put in place of a file's field: its text (placeholders allowed), its class, whether every field
    /// of that kind must refuse it, and whether it makes the document something a JSON reader refuses (so that an
    /// error can name the file and a place in it, but no field).
    struct JSONValue: Sendable {
        var token: String
        var valueClass: String
        var mustRefuse: Bool
        var breaksDocument = false
    }

    /// The hostile values for the field that now holds `original`; `integer` says whether the field is a whole
    /// number (a fraction or a number past Int64 must be refused), where that is known.
    static func json(replacing original: FuzzJSON, integer: Bool = false) -> [JSONValue] {
        var values: [JSONValue] = [
            JSONValue(token: "null", valueClass: "null", mustRefuse: false),
            JSONValue(token: "[]", valueClass: "empty-array", mustRefuse: false),
            JSONValue(token: "{}", valueClass: "empty-object", mustRefuse: false),
            JSONValue(token: deep, valueClass: "deep-nesting", mustRefuse: true, breaksDocument: true),
        ]
        switch original {
        case .raw where original.kind == "number":
            values += [
                JSONValue(token: "1e400", valueClass: "overflow", mustRefuse: true),
                JSONValue(token: "NaN", valueClass: "nan", mustRefuse: true, breaksDocument: true),
                JSONValue(token: "1e300", valueClass: "1e300", mustRefuse: false),
                JSONValue(token: "-1e300", valueClass: "-1e300", mustRefuse: false),
                JSONValue(token: "1e-300", valueClass: "tiny", mustRefuse: false),
                JSONValue(token: "1e-7", valueClass: "small", mustRefuse: false),
                JSONValue(token: "-1", valueClass: "negative", mustRefuse: false),
                JSONValue(token: "0", valueClass: "zero", mustRefuse: false),
                JSONValue(token: "1024.5", valueClass: "fraction", mustRefuse: integer),
                JSONValue(token: "99999999999999999999", valueClass: "huge-integer", mustRefuse: integer),
                JSONValue(token: "9223372036854775807", valueClass: "int-max", mustRefuse: false),
                JSONValue(token: "\"1\"", valueClass: "number-as-string", mustRefuse: true),
                JSONValue(token: "true", valueClass: "bool", mustRefuse: true),
            ]
        case .string:
            values += strings.filter { !$0.text.contains("\u{1B}") }.map {
                JSONValue(token: FuzzJSON.quoted($0.text), valueClass: $0.valueClass, mustRefuse: false)
            }
            values += [
                JSONValue(token: "\"x/../../T\"", valueClass: "path-in-name", mustRefuse: false),
                JSONValue(token: "\"a\\u0000b\"", valueClass: "nul", mustRefuse: false),
                JSONValue(token: "\"\(huge)\"", valueClass: "huge-string", mustRefuse: false),
                JSONValue(token: "1", valueClass: "number", mustRefuse: true),
            ]
        case .array(let elements):
            values += [
                JSONValue(token: "[null]", valueClass: "null-element", mustRefuse: true),
                JSONValue(token: "\"[]\"", valueClass: "string", mustRefuse: true),
            ]
            if let first = elements.first {
                let copies = Array(repeating: first.text, count: 1000).joined(separator: ",")
                values.append(JSONValue(token: "[\(copies)]", valueClass: "thousand-elements", mustRefuse: false))
            }
        case .object:
            values.append(JSONValue(token: "\"{}\"", valueClass: "string", mustRefuse: true))
        case .raw:
            values += [
                JSONValue(token: "\"true\"", valueClass: "string", mustRefuse: true),
                JSONValue(token: "1", valueClass: "number", mustRefuse: true),
            ]
        }
        return values
    }

    /// Whole files that are no document of any input's shape (as bytes: one is not UTF-8).
    static let documents: [(bytes: [UInt8], valueClass: String)] = [
        (Array("[]".utf8), "top-level-array"),
        (Array("1e400".utf8), "top-level-overflow"),
        (Array("null".utf8), "top-level-null"),
        (Array("".utf8), "empty-file"),
        (Array("{".utf8), "truncated"),
        (Array("{}".utf8), "empty-object"),
        (Array(deep.utf8), "deep-nesting"),
        (Array("{\"x\": \"\(huge)\"}".utf8), "huge-string"),
        ([0xFF, 0xFE, 0x7B, 0x7D], "not-utf8"),
        (Array("{\"a\":1}\u{0}garbage".utf8), "nul-then-garbage"),
    ]

    /// `text` with the placeholders of a case filled in.
    static func fill(_ text: String, marker: String, caseFolder folder: String) -> String {
        var out = text.replacingOccurrences(of: Self.marker, with: marker)
            .replacingOccurrences(of: caseFolder, with: folder)
        if out.contains(huge) {
            out = out.replacingOccurrences(of: huge, with: String(repeating: "h", count: 10 << 20))
        }
        if out.contains(deep) {
            out = out.replacingOccurrences(
                of: deep, with: String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        }
        return out
    }
}
