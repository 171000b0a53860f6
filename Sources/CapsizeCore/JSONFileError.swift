public import Foundation

extension InputError {
    /// Decodes a `T` from `data`, the JSON read from `file`.
    /// - Parameter document: what the file should hold, for the message (`a price catalog like data/prices.json`).
    /// - Throws: `InputError`: for a `DecodingError` the one line `init(decoding:in:data:document:redecode:)` makes;
    ///   an `InputError` of `T`'s own checks located in `file`; anything else as a file that cannot be read.
    public static func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data, file: String, document: String)
        throws(InputError) -> T
    {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as InputError {
            throw error.located(in: file)
        } catch let error as DecodingError {
            throw InputError(decoding: error, in: file, data: data, document: document) {
                _ = try JSONDecoder().decode(T.self, from: $0)
            }
        } catch {
            throw InputError(field: file, value: "(not readable)", allowed: "valid JSON: \(document)")
        }
    }

    /// What is wrong with `data`, read from `file` as JSON, in one line: the file and the place in it
    /// (`queues.json: jobQueues[0].priority`), with its line and column where the decoder names no place
    /// (`queues.json:3:5` where the JSON itself cannot be read, `queues.json:3:17: jobQueues[0].priority` for a number
    /// that does not fit its field); the value found; what is allowed there (`document` for the whole file).
    /// - Parameter redecode: decodes the same type again from other data; called only to find which number does not
    ///   fit its field, which Foundation's decoder does not say.
    init(
        decoding error: DecodingError, in file: String, data: Data, document: String,
        redecode: (Data) throws -> Void
    ) {
        let field = error.field
        let place = field.isEmpty ? file : "\(file): \(field)"
        switch error {
        case .keyNotFound: self.init(field: place, value: "(missing)", allowed: "a value")
        case .typeMismatch(let type, let context):
            let found = context.debugDescription.firstMatch(of: /found (.+) instead/).map { "(\($0.1))" }
            self.init(
                field: place, value: found ?? "(another type)", allowed: field.isEmpty ? document : Self.typeName(type))
        case .valueNotFound(let type, _): self.init(field: place, value: "null", allowed: Self.typeName(type))
        case .dataCorrupted(let context) where !field.isEmpty:
            self.init(field: place, value: context.debugDescription, allowed: "a valid value")
        default: self = Self.unreadable(data, in: file, document: document, redecode: redecode)
        }
    }

    /// The same error with its place in `file`: a field of the file prefixed with it; a setting as it is.
    public func located(in file: String) -> InputError {
        guard !isSetting, !field.hasPrefix(file) else { return self }
        var located = self
        located.field = "\(file): \(field)"
        return located
    }

    /// JSON that Foundation's decoder refuses as a whole, which it does for text that is not JSON and for a number
    /// that does not fit its field alike: the place, from capsize's own reading of the document (`JSONOutline`).
    private static func unreadable(
        _ data: Data, in file: String, document: String, redecode: (Data) throws -> Void
    ) -> InputError {
        var bytes = [UInt8](data)
        let text = String(decoding: data, as: UTF8.self)
        let outline = JSONOutline(bytes)
        if let offset = outline.errorOffset {
            return InputError(
                field: "\(file):\(position(of: offset, in: text))", value: "(not JSON here)",
                allowed: "valid JSON: \(document)")
        }
        func place(_ number: JSONOutline.Number) -> String {
            "\(file):\(position(of: number.offset, in: text))" + (number.path.isEmpty ? "" : ": \(number.path)")
        }
        if let huge = outline.numbers.first(where: { !(Double($0.text)?.isFinite ?? false) }) {
            return InputError(
                field: place(huge), value: huge.text, allowed: "a number of at most about 1.8e308 in magnitude")
        }
        // A number in a whole-number field that is not written as one (`1.5`, `1e300`, `1e3`): each such number in
        // turn is replaced by the nearest whole number that fits, until the document decodes past it.
        var shift = 0
        for number in outline.numbers where Int(number.text) == nil {
            let value = Double(number.text) ?? 0
            let whole = value >= 9.2e18 ? Int.max : value <= -9.2e18 ? Int.min : Int(value.rounded())
            let replacement = Array(String(whole).utf8)
            let start = number.offset + shift
            bytes.replaceSubrange(start..<start + number.text.utf8.count, with: replacement)
            shift += replacement.count - number.text.utf8.count
            do {
                try redecode(Data(bytes))
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                continue
            } catch {}
            return InputError(
                field: place(number), value: number.text,
                allowed: whole == Int.max || whole == Int.min ? "a whole number in a smaller range" : "a whole number")
        }
        return InputError(
            field: file, value: "(a number that does not fit its field)",
            allowed: "whole numbers where whole numbers go, each within its range: \(document)")
    }

    /// `line:column`, from 1, of the UTF-8 offset `offset` in `text`.
    private static func position(of offset: Int, in text: String) -> String {
        let before = text.utf8.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column =
            before.count
            - (before.lastIndex(of: UInt8(ascii: "\n")).map { before.distance(from: before.startIndex, to: $0) + 1 }
                ?? 0) + 1
        return "\(line):\(column)"
    }

    /// `Int`, `Double`, `String` for a decoded type; `an object` for a dictionary.
    private static func typeName(_ type: Any.Type) -> String {
        let name = "\(type)"
        if name.hasPrefix("Dictionary") { return "an object" }
        if name.hasPrefix("Array") { return "a list" }
        return ["Int": "a whole number", "Double": "a number", "String": "a string", "Bool": "true or false"][name]
            ?? name
    }
}

extension KeyedDecodingContainer {
    /// A whole number, written as any JSON number (Foundation's decoder refuses `1024.5` or `1e300` for an `Int`
    /// without naming the field): one that is not whole or not in `range` is refused with its place in the file.
    /// - Throws: `InputError` naming the field's path (`jobQueues[0].priority`), or the decoder's error.
    public func decodeWholeNumberIfPresent(forKey key: Key, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            let path = DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: codingPath, debugDescription: ""))
            throw InputError(
                field: path.field, value: "\(value)",
                allowed: "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(value)
    }
}
