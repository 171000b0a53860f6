import ArgumentParser
import CapsizeCore
import CloudModel
import Execution
import Foundation

/// `--env K=V`, `--env-file FILE` and `--pass-env NAME`: the variables a user gives a function or a job. Nothing
/// else of capsize's environment reaches it but `WorkloadEnvironment.passedByName`.
struct EnvironmentOptions: ParsableArguments {
    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("A variable for the function or job (repeatable).", valueName: "K=V"))
    var variables: [String] = []
    @Option(
        name: .customLong("env-file"),
        help: ArgumentHelp(
            "Variables from a file: K=V lines; blank lines and # comments are skipped (repeatable).", valueName: "FILE")
    )
    var files: [String] = []
    @Option(
        name: .customLong("pass-env"),
        help: ArgumentHelp(
            "Pass this variable of capsize's environment, when set (repeatable; never CAPSIZE_HOME).", valueName: "NAME"
        ))
    var passed: [String] = []

    /// The variables: the files' first, then `--env`, then `--pass-env` (later ones win).
    /// - Throws: `InputError` naming the option and the item for a line that is not `K=V`, an unreadable file,
    ///   or a name that is never passed.
    func resolve(from source: [String: String] = launchEnvironment()) throws(InputError) -> [String: String] {
        var result: [String: String] = [:]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InputError(field: "--env-file", value: file, allowed: "a readable file of K=V lines")
            }
            for (number, line) in String(decoding: data, as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false
            ).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty || text.hasPrefix("#") { continue }
                let (key, value) = try Self.split(text, field: "--env-file", item: "\(file):\(number + 1)")
                result[key] = value
            }
        }
        for text in variables {
            let (key, value) = try Self.split(text, field: "--env", item: text)
            result[key] = value
        }
        for name in passed {
            if WorkloadEnvironment.neverPassed.contains(name) {
                throw InputError(
                    field: "--pass-env", value: name, allowed: "a variable other than \(name) (never passed)")
            }
            if let value = source[name] { result[name] = value }
        }
        return result
    }

    /// `K=V` → (K, V); the value may contain `=`.
    private static func split(_ text: String, field: String, item: String) throws(InputError) -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw InputError(field: field, value: item, allowed: "KEY=VALUE")
        }
        let key = String(text[..<equals])
        if WorkloadEnvironment.neverPassed.contains(key) {
            throw InputError(field: field, value: key, allowed: "a variable other than \(key) (never passed)")
        }
        return (key, String(text[text.index(after: equals)...]))
    }

    /// The variables for a Batch job: a name may not start with `AWS_BATCH` (Batch reserves them).
    func batchVariables() throws(InputError) -> [String: String] {
        let result = try resolve()
        if let reserved = result.keys.sorted().first(where: { $0.hasPrefix("AWS_BATCH") }) {
            throw InputError(
                field: "--env", value: reserved,
                allowed: "a name that does not start with AWS_BATCH (Batch reserves them)")
        }
        return result
    }

    /// The variables for a Lambda function, checked as Lambda checks a configuration: reserved names, name
    /// characters, 4 KB in all.
    func functionVariables() throws(InputError) -> [String: String] {
        let result = try resolve()
        try LambdaEnvironment.validate(result)
        return result
    }
}
