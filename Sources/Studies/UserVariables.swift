public import CapsizeCore
import CloudModel
public import Execution
import Foundation

/// The variables a user gives a function or a job: `K=V` words, files of `K=V` lines, and names whose values are
/// passed from capsize's environment. Nothing else of capsize's environment reaches it but
/// `WorkloadEnvironment.passedByName`.
public struct UserVariables: Sendable {
    /// `K=V` words (the setting `env`).
    public var assignments: [String]
    /// Files of `K=V` lines; blank lines and `#` comments are skipped (the setting `envFile`).
    public var files: [String]
    /// Names passed from the environment when set (the setting `passEnv`).
    public var passed: [String]

    public init(assignments: [String] = [], files: [String] = [], passed: [String] = []) {
        self.assignments = assignments
        self.files = files
        self.passed = passed
    }

    /// The variables: the files' first, then the assignments, then the passed names (later ones win).
    /// - Throws: `InputError` naming the setting and the item for a line that is not `K=V`, an unreadable file, a
    ///   passed name that is not a variable's name (`isName`: not empty, for one), or a name that is never passed.
    public func resolve(from source: [String: String] = launchEnvironment()) throws(InputError) -> [String: String] {
        var result: [String: String] = [:]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InputError(setting: "envFile", value: file, allowed: "a readable file of K=V lines")
            }
            for (number, line) in String(decoding: data, as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false
            ).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty || text.hasPrefix("#") { continue }
                let (key, value) = try Self.split(text, setting: "envFile", item: "\(file):\(number + 1)")
                result[key] = value
            }
        }
        for text in assignments {
            let (key, value) = try Self.split(text, setting: "env", item: text)
            result[key] = value
        }
        for name in passed {
            guard Self.isName(name) else {
                throw InputError(
                    setting: "passEnv", value: name,
                    allowed: "a variable's name: letters, digits and underscores, not starting with a digit")
            }
            if WorkloadEnvironment.neverPassed.contains(name) {
                throw InputError(
                    setting: "passEnv", value: name, allowed: "a variable other than \(name) (never passed)")
            }
            if let value = source[name] { result[name] = value }
        }
        return result
    }

    /// A variable's name as a shell and Lambda take it: letters, digits and underscores, not starting with a digit.
    static func isName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    /// `K=V` → (K, V); the value may contain `=`.
    private static func split(_ text: String, setting: String, item: String) throws(InputError) -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw InputError(setting: setting, value: item, allowed: "KEY=VALUE")
        }
        let key = String(text[..<equals])
        guard isName(key) else {
            throw InputError(
                setting: setting, value: item,
                allowed: "KEY=VALUE with KEY letters, digits and underscores, not starting with a digit")
        }
        if WorkloadEnvironment.neverPassed.contains(key) {
            throw InputError(setting: setting, value: key, allowed: "a variable other than \(key) (never passed)")
        }
        return (key, String(text[text.index(after: equals)...]))
    }

    /// The variables for a Batch job: a name may not start with `AWS_BATCH` (Batch reserves them).
    public func forJob() throws(InputError) -> [String: String] {
        let result = try resolve()
        if let reserved = result.keys.sorted().first(where: { $0.hasPrefix("AWS_BATCH") }) {
            throw InputError(
                setting: "env", value: reserved,
                allowed: "a name that does not start with AWS_BATCH (Batch reserves them)")
        }
        return result
    }

    /// The variables for a Lambda function, checked as Lambda checks a configuration: reserved names, name
    /// characters, 4 KB in all.
    public func forFunction() throws(InputError) -> [String: String] {
        let result = try resolve()
        try LambdaEnvironment.validate(result)
        return result
    }
}
