public import CapsizeCore
public import CloudModel
public import Foundation
import Workloads

/// The user's own Lambda functions, as `capsize function create` defines them: each in capsize's home,
/// `functions/NAME/function.json` (its `FunctionDefinition`) and `functions/NAME/code` (a copy of its code, as a
/// deployment package is).
public struct FunctionStore: Sendable {
    /// `$CAPSIZE_HOME/functions`.
    public let directory: String

    /// Lambda's limit on a function's code, unzipped: 250 MB (262,144,000 bytes).
    public static let codeLimitBytes = 262_144_000

    public init(home: String = CapsizeHome.directory()) {
        directory = URL(fileURLWithPath: home).appendingPathComponent("functions").path
    }

    /// What `function create` asks for, as given.
    public struct Request: Sendable {
        public var name: String
        public var code: String
        public var handler: String
        /// nil: `provided.al2023` when the code has an executable `bootstrap`, else `python3.11`.
        public var runtime: String?
        public var memoryMB: Int
        public var timeoutSeconds: Int
        public var ephemeralStorageMB: Int
        public var architecture: String
        public var variables: [String: String]
        /// Environments that may run at once (Lambda's reserved concurrency); nil: the account's limit.
        public var reservedConcurrency: Int?
        /// Replace a function of the same name instead of refusing.
        public var replace: Bool

        public init(
            name: String, code: String, handler: String, runtime: String? = nil, memoryMB: Int = 128,
            timeoutSeconds: Int = 3, ephemeralStorageMB: Int = 512, architecture: String = "x86_64",
            variables: [String: String] = [:], reservedConcurrency: Int? = nil, replace: Bool = false
        ) {
            self.name = name
            self.code = code
            self.handler = handler
            self.runtime = runtime
            self.memoryMB = memoryMB
            self.timeoutSeconds = timeoutSeconds
            self.ephemeralStorageMB = ephemeralStorageMB
            self.architecture = architecture
            self.variables = variables
            self.reservedConcurrency = reservedConcurrency
            self.replace = replace
        }
    }

    // MARK: Checks

    /// Lambda's rule for a function name: 1–64 letters, digits, `-` and `_`; here also not a capsize workload's name
    /// (`capsize invoke NAME` must say which it means).
    public static func checkName(_ name: String) throws(InputError) {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
        guard (1...64).contains(name.count), allowed else {
            throw InputError(setting: "name", value: name, allowed: "1-64 letters, digits, - and _ (Lambda's rule)")
        }
        if WorkloadCatalog.all.contains(where: { $0.name == name }) {
            throw InputError(
                setting: "name", value: name,
                allowed: "a name that is not one of capsize's workloads (\(WorkloadCatalog.namesInWords))")
        }
    }

    /// Lambda's handler rule (at most 128 characters, no whitespace); a Python handler is `module.function`.
    static func checkHandler(_ handler: String, runtime: FunctionDefinition.Runtime) throws(InputError) {
        let plain = (1...128).contains(handler.count) && !handler.contains { $0.isWhitespace }
        let parts = handler.split(separator: ".", omittingEmptySubsequences: false)
        guard plain, runtime.isCustom || (parts.count >= 2 && parts.allSatisfy { !$0.isEmpty }) else {
            throw InputError(
                setting: "handler", value: handler,
                allowed: runtime.isCustom
                    ? "1-128 characters without whitespace"
                    : "module.function (e.g. app.handler), at most 128 characters without whitespace")
        }
    }

    /// Whether `directory` holds an executable `bootstrap` (a custom runtime).
    static func hasBootstrap(_ directory: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: directory + "/bootstrap")
    }

    // MARK: Create, read, delete

    /// Defines a function: checks every setting, copies its code and writes its definition.
    /// - Throws: `InputError` naming the setting (`name`, `code`, `handler`, `runtime`, `memory`, `timeout`,
    ///   `ephemeralStorage`, `architecture`, `env`), or `name` when the function exists and `replace` is false
    ///   (Lambda's `ResourceConflictException`).
    @discardableResult
    public func create(_ request: Request) throws -> FunctionDefinition {
        try Self.checkName(request.name)
        let source = URL(fileURLWithPath: request.code).standardizedFileURL.resolvingSymlinksInPath().path
        var isDirectory: ObjCBool = false
        // An empty path would name the current directory: refused as `--save-frames ''` and `--export ''` are.
        guard !request.code.isEmpty, FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw InputError(setting: "code", value: request.code, allowed: "a directory holding the function's code")
        }
        let runtime: FunctionDefinition.Runtime
        if let name = request.runtime {
            guard let known = FunctionDefinition.Runtime(rawValue: name) else {
                throw InputError(
                    setting: "runtime", value: name,
                    allowed: FunctionDefinition.Runtime.allCases.map(\.rawValue).joined(separator: ", "))
            }
            runtime = known
        } else {
            runtime = Self.hasBootstrap(source) ? .providedAL2023 : .python311
        }
        if runtime.isCustom && !Self.hasBootstrap(source) {
            throw InputError(
                setting: "code", value: request.code,
                allowed: "a directory with an executable bootstrap for runtime \(runtime.rawValue)")
        }
        try Self.checkHandler(request.handler, runtime: runtime)
        guard let architecture = Architecture(rawValue: request.architecture) else {
            throw InputError(setting: "architecture", value: request.architecture, allowed: "x86_64 or arm64")
        }
        let configuration = try FunctionConfiguration(
            memoryMB: request.memoryMB, timeoutSeconds: request.timeoutSeconds,
            ephemeralStorageMB: request.ephemeralStorageMB, architecture: architecture,
            reservedConcurrency: request.reservedConcurrency)
        try LambdaEnvironment.validate(request.variables)
        if !runtime.isCustom { _ = try LambdaPython.locate() }
        let folder = self.folder(request.name)
        if FileManager.default.fileExists(atPath: folder + "/function.json") && !request.replace {
            throw InputError(
                setting: "name", value: request.name,
                allowed: "a function that does not exist yet (ResourceConflictException: Function already exist: "
                    + "\(request.name)); --replace replaces it")
        }
        try FunctionCode.check(source, setting: "code", given: request.code)
        // Copied beside the function's folder, then moved into place: a failed copy leaves the old function whole.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staging = directory + "/.\(request.name).\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: staging + "/code")
        FunctionCode.makeReadable(staging + "/code")
        let definition = FunctionDefinition(
            name: request.name, runtime: runtime, handler: request.handler, codeDirectory: folder + "/code",
            sourceDirectory: source, configuration: configuration, variables: request.variables)
        try Self.encoder.encode(definition).write(to: URL(fileURLWithPath: staging + "/function.json"))
        if FileManager.default.fileExists(atPath: folder) {
            let old = directory + "/.\(request.name).old.\(UUID().uuidString)"
            try FileManager.default.moveItem(atPath: folder, toPath: old)
            try? FileManager.default.removeItem(atPath: old)
        }
        try FileManager.default.moveItem(atPath: staging, toPath: folder)
        return definition
    }

    /// Every defined function, by name.
    public func list() throws -> [FunctionDefinition] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try names.filter { !$0.hasPrefix(".") }.sorted().compactMap { try function(named: $0) }
    }

    /// The function `name`; nil when none has that name.
    /// - Throws: `JSONFileError`-like errors when its definition cannot be read.
    public func function(named name: String) throws -> FunctionDefinition? {
        guard (try? Self.checkName(name)) != nil else { return nil }
        let path = folder(name) + "/function.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try Self.decoder.decode(FunctionDefinition.self, from: data)
        } catch {
            throw StudyFailure.failed("\(path) is not a function definition capsize can read: \(error)")
        }
    }

    /// Deletes the function and its code.
    /// - Throws: `InputError` naming `name` when there is no such function (Lambda's `ResourceNotFoundException`).
    public func delete(_ name: String) throws {
        guard try function(named: name) != nil else { throw Self.notFound(name) }
        try FileManager.default.removeItem(atPath: folder(name))
    }

    /// The error for a function that is not defined.
    public static func notFound(_ name: String) -> InputError {
        InputError(
            setting: "name", value: name,
            allowed: "a defined function (ResourceNotFoundException: Function not found); see capsize function list")
    }

    func folder(_ name: String) -> String { directory + "/" + name }

    static let encoder = JSONEncoder.pretty()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
