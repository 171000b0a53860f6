/// Bad user input: which field, the value given, and what is allowed. The CLI exits with 2.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var value: String
    public var allowed: String

    public init(field: String, value: String, allowed: String) {
        self.field = field
        self.value = value
        self.allowed = allowed
    }

    public var description: String { "invalid \(field) '\(value)': allowed \(allowed)" }
}
