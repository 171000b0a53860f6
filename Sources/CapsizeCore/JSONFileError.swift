public import Foundation

extension InputError {
    /// What is wrong with `data`, read from `file` as JSON, in one line: the file and the place in it
    /// (`queues.json: jobQueues[0].priority`), or the file's line and column where the JSON itself cannot be read
    /// (`queues.json:3:5`); the value found; what is allowed there (`document` for the whole file).
    public init(decoding error: DecodingError, in file: String, data: Data, document: String) {
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
        default: self = Self.unreadable(data, in: file, document: document)
        }
    }

    /// The same error with its place in `file`: a field of the file prefixed with it; a setting as it is.
    public func located(in file: String) -> InputError {
        guard !isSetting, !field.hasPrefix(file) else { return self }
        var located = self
        located.field = "\(file): \(field)"
        return located
    }

    /// JSON that Foundation's decoder refuses as a whole: asks JSONSerialization where (its errors say which
    /// character, or which number does not fit a Double), as line and column.
    private static func unreadable(_ data: Data, in file: String, document: String) -> InputError {
        let text = String(decoding: data, as: UTF8.self)
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? ""
            if let match = message.firstMatch(of: /Number (\S+) is not representable/) {
                let number = String(match.1)
                let offset = text.range(of: number).map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) }
                return InputError(
                    field: offset.map { "\(file):\(position(of: $0, in: text))" } ?? file, value: number,
                    allowed: "a number of at most about 1.8e308 in magnitude")
            }
            if let match = message.firstMatch(of: /around character (\d+)/), let offset = Int(match.1) {
                return InputError(
                    field: "\(file):\(position(of: offset, in: text))", value: "(not JSON here)",
                    allowed: "valid JSON: \(document)")
            }
            return InputError(
                field: file, value: "(not readable)",
                allowed: "valid JSON (\(message.isEmpty ? "\(error)" : message)): \(document)")
        }
        // JSON, but a number does not fit its field (Foundation's decoder does not say which).
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
