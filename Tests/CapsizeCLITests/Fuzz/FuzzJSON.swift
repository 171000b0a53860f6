import Foundation

/// A JSON document as written, for mutating one field of an input file: members keep their order and numbers keep
/// their text, so that a value JSONSerialization cannot hold (`1e400`, `99999999999999999999`) can be written back.
indirect enum FuzzJSON: Sendable {
    case object([(key: String, value: FuzzJSON)])
    case array([FuzzJSON])
    case string(String)
    /// A number, or any other token, written as it is (`1e400`, `NaN`, a deeply nested text).
    case raw(String)

    /// One step of a path to a value: a member's key or an element's index.
    enum Step: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    /// Parses `text` (standard JSON); nil when it is not.
    init?(parsing text: String) {
        var parser = Parser(bytes: Array(text.utf8))
        guard let value = parser.value(), parser.atEnd else { return nil }
        self = value
    }

    /// The document as JSON text, on one line.
    var text: String {
        switch self {
        case .object(let members):
            return "{" + members.map { Self.quoted($0.key) + ":" + $0.value.text }.joined(separator: ",") + "}"
        case .array(let elements): return "[" + elements.map(\.text).joined(separator: ",") + "]"
        case .string(let string): return Self.quoted(string)
        case .raw(let token): return token
        }
    }

    /// `string` as a JSON string literal.
    static func quoted(_ string: String) -> String {
        String(decoding: (try? JSONEncoder().encode(string)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    /// Every value in the document with its path, the document itself first (depth first, members in order).
    var leaves: [(path: [Step], value: FuzzJSON)] {
        var found: [(path: [Step], value: FuzzJSON)] = [([], self)]
        switch self {
        case .object(let members):
            for member in members {
                found += member.value.leaves.map { ([.key(member.key)] + $0.path, $0.value) }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                found += element.leaves.map { ([.index(index)] + $0.path, $0.value) }
            }
        case .string, .raw: break
        }
        return found
    }

    /// The value at `path`, or nil when there is none.
    subscript(path: [Step]) -> FuzzJSON? {
        guard let first = path.first else { return self }
        switch (self, first) {
        case (.object(let members), .key(let key)):
            return members.first { $0.key == key }?.value[Array(path.dropFirst())]
        case (.array(let elements), .index(let index)) where elements.indices.contains(index):
            return elements[index][Array(path.dropFirst())]
        default: return nil
        }
    }

    /// The document with the value at `path` replaced by `value` (unchanged when there is no such path).
    func replacing(_ path: [Step], with value: FuzzJSON) -> FuzzJSON {
        guard let first = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.object(let members), .key(let key)):
            return .object(members.map { $0.key == key ? ($0.key, $0.value.replacing(rest, with: value)) : $0 })
        case (.array(var elements), .index(let index)) where elements.indices.contains(index):
            elements[index] = elements[index].replacing(rest, with: value)
            return .array(elements)
        default: return self
        }
    }

    /// The document without the member at `path` (an object's key only).
    func removing(_ path: [Step]) -> FuzzJSON {
        guard let first = path.first else { return self }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.object(let members), .key(let key)):
            if rest.isEmpty { return .object(members.filter { $0.key != key }) }
            return .object(members.map { $0.key == key ? ($0.key, $0.value.removing(rest)) : $0 })
        case (.array(var elements), .index(let index)) where elements.indices.contains(index):
            elements[index] = elements[index].removing(rest)
            return .array(elements)
        default: return self
        }
    }

    /// A path as capsize's errors write it: `ec2.instances[3].name`; with `wildcard`, every index is `[*]` (one name
    /// for the same field of every element of an array).
    static func describe(_ path: [Step], wildcard: Bool = false) -> String {
        var out = ""
        for step in path {
            switch step {
            case .key(let key): out += (out.isEmpty ? "" : ".") + key
            case .index(let index): out += wildcard ? "[*]" : "[\(index)]"
            }
        }
        return out
    }

    /// What the value is, in the words of a fuzz case's value class.
    var kind: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .raw(let token):
            if token == "true" || token == "false" { "bool" } else if token == "null" { "null" } else { "number" }
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return position == bytes.count
            }
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func value() -> FuzzJSON? {
            skipSpace()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string().map { .string($0) }
            default: return token()
            }
        }

        mutating func object() -> FuzzJSON? {
            sequence(closing: "}") { parser -> (key: String, value: FuzzJSON)? in
                parser.skipSpace()
                guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "\""),
                    let key = parser.string()
                else { return nil }
                parser.skipSpace()
                guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: ":") else {
                    return nil
                }
                parser.position += 1
                return parser.value().map { (key, $0) }
            }.map { .object($0) }
        }

        mutating func array() -> FuzzJSON? {
            sequence(closing: "]") { $0.value() }.map { .array($0) }
        }

        /// Elements separated by commas up to `close`, the opening bracket being next; nil when they are not.
        mutating func sequence<Element>(closing close: Unicode.Scalar, _ element: (inout Parser) -> Element?)
            -> [Element]?
        {
            position += 1
            var elements: [Element] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: close) {
                position += 1
                return elements
            }
            while true {
                guard let next = element(&self) else { return nil }
                elements.append(next)
                skipSpace()
                guard position < bytes.count else { return nil }
                position += 1
                if bytes[position - 1] == UInt8(ascii: close) { return elements }
                if bytes[position - 1] != UInt8(ascii: ",") { return nil }
            }
        }

        /// A string literal, through JSONSerialization (which knows every escape).
        mutating func string() -> String? {
            let start = position
            position += 1
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard position < bytes.count else { return nil }
            position += 1
            let literal = Data(bytes[start..<position])
            return (try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)) as? String
        }

        mutating func token() -> FuzzJSON? {
            let start = position
            while position < bytes.count,
                !" \n\r\t,]}".utf8.contains(bytes[position])
            {
                position += 1
            }
            return position > start ? .raw(String(decoding: bytes[start..<position], as: UTF8.self)) : nil
        }
    }
}
