/// Where a JSON document's numbers are, by path and byte offset, and where the document stops being JSON (RFC 8259):
/// what an error needs to name a place in a file when Foundation's decoder names none (on Linux a number that does
/// not fit its field, `1.5` for a whole number or `1e400`, is only "not valid JSON").
struct JSONOutline {
    /// A number as written, with the path of the field that holds it (`jobQueues[0].priority`).
    struct Number {
        var path: String
        /// The UTF-8 offset of its first byte.
        var offset: Int
        var text: String
    }

    /// Every number, in the order written.
    private(set) var numbers: [Number] = []
    /// The UTF-8 offset where the text stops being JSON; nil for a valid document.
    private(set) var errorOffset: Int?

    /// The deepest nesting read (Foundation's decoder refuses deeper documents too).
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        do {
            try value(path: "", depth: 0)
            skipSpace()
            if index < bytes.count { throw Stop() }
        } catch {
            errorOffset = min(index, bytes.count)
        }
    }

    private struct Stop: Error {}

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard current == byte else { throw Stop() }
        index += 1
    }

    private mutating func value(path: String, depth: Int) throws {
        skipSpace()
        guard let byte = current, depth < Self.maximumDepth else { throw Stop() }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let object = byte == UInt8(ascii: "{")
            let closing = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipSpace()
            if current == closing {
                index += 1
                return
            }
            var element = 0
            repeat {
                var member = path + "[\(element)]"
                if object {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    member = path.isEmpty ? key : path + "." + key
                }
                try value(path: member, depth: depth + 1)
                element += 1
                skipSpace()
            } while try separator(closing: closing)
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        default: try number(path: path)
        }
    }

    /// True after a comma, false after the closing bracket.
    private mutating func separator(closing: UInt8) throws -> Bool {
        if current == UInt8(ascii: ",") {
            index += 1
            return true
        }
        try expect(closing)
        return false
    }

    private mutating func word(_ word: StaticString) throws {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in text { try expect(byte) }
    }

    /// A string, its escapes resolved (an invalid `\u` escape as U+FFFD).
    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var text: [UInt8] = []
        while let byte = current {
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
            case 0..<0x20: throw Stop()
            case UInt8(ascii: "\\"):
                guard let escaped = current else { throw Stop() }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { throw Stop() }
                    index += 4
                    text += Array(String(Unicode.Scalar(unit).map(Character.init) ?? "\u{FFFD}").utf8)
                default: throw Stop()
                }
            default: text.append(byte)
            }
        }
        throw Stop()
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func number(path: String) throws {
        let start = index
        func digits(_ outline: inout JSONOutline) throws {
            guard let byte = outline.current, (0x30...0x39).contains(byte) else { throw Stop() }
            while let byte = outline.current, (0x30...0x39).contains(byte) { outline.index += 1 }
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") { index += 1 } else { try digits(&self) }
        if current == UInt8(ascii: ".") {
            index += 1
            try digits(&self)
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            try digits(&self)
        }
        numbers.append(Number(path: path, offset: start, text: String(decoding: bytes[start..<index], as: UTF8.self)))
    }
}
