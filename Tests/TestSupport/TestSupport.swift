// What several test targets need: running a process to its end, fresh directories, and the tools the tests call.
public import Foundation
import TestSupport
public import Testing

/// A finished process: its exit status and what it wrote.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `process` (not yet started) to its end: both pipes are read before waiting, so a large output cannot block it.
/// - Parameter mergingStderr: stderr into the same pipe as stdout (`stderr` is then empty).
public func runToEnd(_ process: Process, mergingStderr: Bool = false) throws -> ProcessOutput {
    let out = Pipe()
    let err = mergingStderr ? out : Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = mergingStderr ? Data() : err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// What a running process wrote on `pipe` up to its first newline (included), or until it closed the pipe.
public func firstLine(of pipe: Pipe) -> Data {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line += chunk
    }
    return line
}

/// Runs `executable` with `arguments` to its end.
public func run(_ executable: String, _ arguments: [String], mergingStderr: Bool = false) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    return try runToEnd(process, mergingStderr: mergingStderr)
}

/// A new empty directory under the system's temporary directory, named `prefix-UUID`; remove it when done.
public func temporaryDirectory(_ prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A folder of one test's own: a new empty directory under the system's temporary directory, named `prefix-UUID`,
/// removed with its last reference. A suite keeps one as a stored property, so that it lasts as long as the test.
public final class TestFolder: Sendable {
    public let path: String

    public init(_ prefix: String) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The package's root folder (where Package.swift is).
public let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// cfn-lint from `$CFN_LINT`, else `.venv-tools/bin/cfn-lint` in the package root (`scripts/setup.sh` installs it);
/// records an issue saying how to install it when there is none.
public func cfnLint() throws -> String {
    if let path = ProcessInfo.processInfo.environment["CFN_LINT"], !path.isEmpty { return path }
    let path = packageRoot.appendingPathComponent(".venv-tools/bin/cfn-lint").path
    if FileManager.default.isExecutableFile(atPath: path) { return path }
    Issue.record(
        """
        cfn-lint not found: set CFN_LINT or run scripts/setup.sh \
        (python3 -m venv .venv-tools && .venv-tools/bin/pip install cfn-lint) in the package root
        """)
    throw CancellationError()
}

/// Runs cfn-lint on the template at `path`: status 0 means it passed; the output says what it found.
public func lint(_ path: String) throws -> ProcessOutput {
    try run(try cfnLint(), [path], mergingStderr: true)
}

/// What an attacker puts into a value that ends up in a generated script or a file name: each of the first six
/// creates `marker` when a shell reads it unquoted (a newline or a carriage return and a command, `$(…)`, backticks,
/// quotes); the rest (spaces, a tab and a line separator, unicode, `../`, `%` and `#`, a backslash) must arrive as
/// they are or be refused.
public func hostileValues(marker: String) -> [String] {
    [
        "x\ntouch \(marker)\n#", "x\r\ntouch \(marker)", "$(touch \(marker))", "`touch \(marker)`",
        "'; touch \(marker); '", "\"; touch \(marker); \"", "a b  c", "tab\tline\u{2028}separator",
        "ünïcødé ✓ \u{202E}x", "../../x/../y", "# 50%a %j $HOME ${PATH}", "back\\slash \\n",
    ]
}

/// A fresh folder for a test that gives capsize hostile values, and the file an injected command would create there
/// (`marker`); removed with everything in it when the test is done with it.
public final class Scratch: Sendable {
    public let path: String
    public var marker: String { path + "/pwned" }

    public init(_ prefix: String) throws { path = try temporaryDirectory(prefix) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A script as a shell reads it: `bash -n` must accept it, then `bash` runs it with `arguments` in `directory`;
/// records an issue when `bash -n` refuses it or when `marker` exists afterwards (an injected command ran).
/// - Returns: what the script printed and its status.
@discardableResult
public func runScript(
    _ text: String, in directory: String, marker: String, arguments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ProcessOutput {
    let path = directory + "/script-\(UUID().uuidString).sh"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let syntax = try run("/bin/bash", ["-n", path])
    #expect(syntax.status == 0, "bash -n: \(syntax.stderr)\n\(text)", sourceLocation: sourceLocation)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [path] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let result = try runToEnd(process)
    #expect(
        !FileManager.default.fileExists(atPath: marker), "an injected command ran:\n\(text)",
        sourceLocation: sourceLocation)
    return result
}

/// `text` as PyYAML reads it (a YAML document, as JSON objects); nil when there is no python3 with PyYAML here.
public func readYAML(_ text: String, in directory: String) throws -> [String: Any]? {
    let path = directory + "/document-\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let read = try run(
        "/usr/bin/env",
        ["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path])
    guard read.status == 0 else { return nil }
    return try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any]
}

/// Runs `body`, which blocks (waits for processes, polls with `Thread.sleep`), on a thread of its own: on the
/// tests' cooperative pool (one thread a core) it would hold a thread the async tests beside it need, for as long as
/// it blocks.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// What botocore's model of the Batch API says of a `RegisterJobDefinition` request (JSON) at `path`: "" when it
/// validates, its report when not; nil when no python3 here has botocore (`.venv-tools`, then PATH).
public func botocoreRegisterJobDefinitionReport(_ path: String) throws -> String? {
    let script = """
        import json, sys
        import botocore.session
        from botocore.validate import ParamValidator
        model = botocore.session.get_session().get_service_model("batch")
        shape = model.operation_model("RegisterJobDefinition").input_shape
        report = ParamValidator().validate(json.load(open(sys.argv[1])), shape)
        print(report.generate_report() if report.has_errors() else "", end="")
        """
    let venv = packageRoot.appendingPathComponent(".venv-tools/bin/python3").path
    for python in [venv, "/usr/bin/env"] where FileManager.default.isExecutableFile(atPath: python) {
        let prefix = python == venv ? [] : ["python3"]
        guard try run(python, prefix + ["-c", "import botocore"]).status == 0 else { continue }
        let result = try run(python, prefix + ["-c", script, path], mergingStderr: true)
        return result.status == 0 ? result.stdout : "python3 failed: \(result.stdout)"
    }
    return nil
}
