public import CapsizeCore
public import CloudModel
import Foundation
public import Planning

/// What the exported files deploy, as a user gives it: an image, a command's words, a function's name, whether a
/// placeholder may stand for what is missing, a Fargate job's execution role.
public struct DeployWords: Sendable, Equatable {
    public var image: String?
    /// The command's words; empty: none given.
    public var command: [String]
    public var function: String?
    public var placeholder: Bool
    public var executionRole: String?

    public init(
        image: String? = nil, command: [String] = [], function: String? = nil, placeholder: Bool = false,
        executionRole: String? = nil
    ) {
        self.image = image
        self.command = command
        self.function = function
        self.placeholder = placeholder
        self.executionRole = executionRole
    }

    /// The job the files deploy, its function read from capsize's home in `environment` (nil: this process's).
    /// - Throws: `InputError` naming the setting `image`, `command`, `executionRole` or `function` (see
    ///   `DeployedJob.init` and `FunctionDefinition.load`).
    public func job(workload: SizedWorkload?, environment: [String: String]? = nil) throws(InputError) -> DeployedJob {
        let function = try function.map { name throws(InputError) in
            try FunctionDefinition.load(named: name, home: CapsizeHome.directory(environment: environment))
        }
        return try DeployedJob(
            image: image, command: command.isEmpty ? nil : command, function: function, placeholder: placeholder,
            executionRoleArn: executionRole, workload: workload)
    }
}

extension FunctionDefinition {
    /// The folder of the functions defined in capsize's `home`: `functions/NAME/function.json` each.
    static func folder(home: String) -> String { home + "/functions" }

    /// The function called `name`, as `capsize function create` recorded it in capsize's `home`
    /// (`functions/NAME/function.json`, read by `FunctionStore`), checked as Lambda checks a function's configuration.
    /// - Throws: `InputError` naming the setting `function` for a name Lambda does not allow or no function of that
    ///   name (listing those there are), or the file and the place in it for a definition that cannot be read.
    public static func load(named name: String, home: String) throws(InputError) -> FunctionDefinition {
        guard name.wholeMatch(of: /[A-Za-z0-9_-]{1,64}/) != nil else {
            throw InputError(setting: "function", value: name, allowed: "a function name: 1 to 64 of A-Z a-z 0-9 _ -")
        }
        let file = folder(home: home) + "/\(name)/function.json"
        let stored: FunctionDefinition?
        do {
            stored = try FunctionStore(home: home).function(named: name)
        } catch {
            throw InputError(field: file, value: name, allowed: "a function definition capsize can read (\(error))")
        }
        guard let definition = stored else {
            let defined = ((try? FileManager.default.contentsOfDirectory(atPath: folder(home: home))) ?? [])
                .filter { FileManager.default.fileExists(atPath: folder(home: home) + "/\($0)/function.json") }.sorted()
            throw InputError(
                setting: "function", value: name,
                allowed: "a defined function: "
                    + (defined.isEmpty ? "none is defined in \(home)" : Recommendation.listed(defined)))
        }
        do {
            try definition.check(name: name)
        } catch {
            throw error.located(in: file)
        }
        return definition
    }

    /// Refuses what Lambda would refuse in a definition read from a file, naming the field.
    func check(name expected: String) throws(InputError) {
        guard name == expected else {
            throw InputError(field: "name", value: name, allowed: "the function's own name, \(expected)")
        }
        let configuration = self.configuration
        do {
            _ = try FunctionConfiguration(
                memoryMB: configuration.memoryMB, timeoutSeconds: configuration.timeoutSeconds,
                ephemeralStorageMB: configuration.ephemeralStorageMB, architecture: configuration.architecture)
            try LambdaEnvironment.validate(variables)
        } catch {
            throw InputError(field: "configuration", value: error.value, allowed: error.allowed)
        }
        guard !handler.isEmpty, !handler.unicodeScalars.contains(where: Shell.isLineBreakingOrControl) else {
            throw InputError(field: "handler", value: handler, allowed: "a handler on one line, e.g. app.handler")
        }
        guard !sourceDirectory.isEmpty else {
            throw InputError(field: "sourceDirectory", value: "", allowed: "the directory the code was copied from")
        }
    }
}
