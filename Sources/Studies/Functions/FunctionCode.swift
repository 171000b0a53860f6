import CapsizeCore
public import CloudModel
public import Execution
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A function's code as a deployment package: checked and copied at create time, and made reachable by the user the
/// sandbox runs it as.
enum FunctionCode {
    /// Checks a code directory before it is copied: at most Lambda's 250 MB unzipped, and no symbolic link that
    /// leads out of it (the copy would not hold what it points to).
    /// - Throws: `InputError` naming `setting`.
    static func check(_ directory: String, setting: String, given: String) throws(InputError) {
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        var total = 0
        let keys: [URLResourceKey] = [.isSymbolicLinkKey, .isRegularFileKey, .fileSizeKey]
        guard
            let walk = FileManager.default.enumerator(
                at: URL(fileURLWithPath: root), includingPropertiesForKeys: keys, options: [])
        else { throw InputError(setting: setting, value: given, allowed: "a readable directory") }
        for case let url as URL in walk {
            let values = try? url.resourceValues(forKeys: Set(keys))
            if values?.isSymbolicLink == true {
                let target = url.resolvingSymlinksInPath().path
                guard target == root || target.hasPrefix(root + "/") else {
                    throw InputError(
                        setting: setting, value: url.path,
                        allowed: "symbolic links that stay inside the code directory (this one leads to \(target))")
                }
            } else if values?.isRegularFile == true {
                total += values?.fileSize ?? 0
            }
            if total > FunctionStore.codeLimitBytes {
                throw InputError(
                    setting: setting, value: given,
                    allowed: "at most \(FunctionStore.codeLimitBytes) bytes of code unzipped (Lambda's 250 MB limit)")
            }
        }
    }

    /// Lets every user read the copy (and enter its folders, and run what was executable): the sandbox runs the code
    /// as a user of its own when capsize is root.
    static func makeReadable(_ directory: String) {
        var stack = [directory]
        while let path = stack.popLast() {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType != .typeSymbolicLink
            else { continue }
            let mode = (attributes[.posixPermissions] as? Int) ?? 0o644
            let isDirectory = attributes[.type] as? FileAttributeType == .typeDirectory
            let executable = isDirectory || mode & 0o100 != 0
            chmod(path, mode_t(mode | 0o444 | (executable ? 0o111 : 0)))
            if isDirectory {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                    stack.append(path + "/" + name)
                }
            }
        }
    }

    /// Whether a user other than capsize's can reach `path`: every folder above it lets others in.
    static func reachableByOthers(_ path: String) -> Bool {
        var url = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        while url.path != "/" {
            var info = stat()
            guard stat(url.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
            url.deleteLastPathComponent()
        }
        return true
    }
}

/// The Python that runs a Python function's handler through awslambdaric, AWS's runtime interface client.
public enum LambdaPython {
    /// The venv `scripts/setup.sh` makes beside the repository.
    public static let venvName = ".venv-lambda"

    /// How to install it, in one line.
    public static var installHint: String {
        "python3 -m venv \(venvName) && \(venvName)/bin/pip install awslambdaric (or set CAPSIZE_LAMBDA_PYTHON)"
    }

    /// `CAPSIZE_LAMBDA_PYTHON` if set; else `.venv-lambda/bin/python3` in the repository capsize was built in (or the
    /// current directory); else `python3` on PATH when it can import awslambdaric.
    /// - Throws: `StudyFailure` saying how to install it when none is found, or when capsize runs as root and the
    ///   sandbox's user could not run it.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var found: String?
        if let explicit = environment["CAPSIZE_LAMBDA_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw StudyFailure.failed("CAPSIZE_LAMBDA_PYTHON=\(explicit) is not an executable")
            }
            found = explicit
        } else {
            found = venvCandidates().first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        if found == nil, let python = onPath("python3", environment: environment), imports(python) {
            found = python
        }
        guard let python = found else {
            throw StudyFailure.failed(
                "awslambdaric, which runs Python handlers, was not found; install it: \(installHint)")
        }
        if SandboxUser.isRequired {
            let real = URL(fileURLWithPath: python).resolvingSymlinksInPath().path
            guard FunctionCode.reachableByOthers(python), FunctionCode.reachableByOthers(real) else {
                throw StudyFailure.failed(
                    "\(python) (\(real)) cannot be run by the sandbox's user (capsize runs as root and runs functions "
                        + "as another user): make the venv from a Python every user can reach, e.g. /usr/bin/python3 -m "
                        + "venv \(venvName) && \(venvName)/bin/pip install awslambdaric")
            }
        }
        return python
    }

    /// `.venv-lambda/bin/python3` in the folders above capsize's executable, then in the current directory.
    static func venvCandidates() -> [String] {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<5 where url.path != "/" {
                candidates.append(url.appendingPathComponent("\(venvName)/bin/python3").path)
                url.deleteLastPathComponent()
            }
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/\(venvName)/bin/python3")
        return candidates
    }

    static func onPath(_ name: String, environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func imports(_ python: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import awslambdaric"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

extension FunctionDefinition {
    /// How the function's runtime is started: `bootstrap` for a custom runtime, `python -m awslambdaric HANDLER`
    /// for Python, in `codeDirectory` (as `LAMBDA_TASK_ROOT`).
    /// - Throws: `StudyFailure` when awslambdaric is missing or the sandbox's user cannot reach the code.
    public func userRuntime(codeDirectory code: String? = nil) throws -> UserRuntime {
        let code = code ?? codeDirectory
        if runtime.isCustom {
            return UserRuntime(
                argv: [code + "/bootstrap"], taskRoot: code, runtimeDirectory: code, handler: handler,
                functionARN: arn)
        }
        let python = try LambdaPython.locate()
        return UserRuntime(
            argv: [python, "-m", "awslambdaric", handler], taskRoot: code,
            runtimeDirectory: URL(fileURLWithPath: python).deletingLastPathComponent().path, handler: handler,
            functionARN: arn, executionEnvironment: "AWS_Lambda_\(runtime.rawValue)",
            variables: ["PYTHONPATH": code, "PYTHONUNBUFFERED": "1"])
    }

    /// The function's settings for the executor.
    public func settings(governsCPUShare: Bool = true) -> FunctionSettings {
        FunctionSettings(
            configuration: configuration, governsCPUShare: governsCPUShare, variables: variables, functionName: name)
    }
}

/// A function's code where the sandbox's user can run it: the function's own copy, or, when capsize is root and
/// that copy lies where other users cannot go (a home folder), a copy in the temporary folder for as long as this
/// value is kept.
public final class RunnableCode: Sendable {
    public let directory: String
    private let temporary: String?

    /// - Throws: when the copy cannot be made.
    public init(_ definition: FunctionDefinition, temporaryBase: String = FileManager.default.temporaryDirectory.path)
        throws
    {
        let code = definition.codeDirectory
        guard SandboxUser.isRequired, !FunctionCode.reachableByOthers(code + "/.") else {
            directory = code
            temporary = nil
            return
        }
        let folder = URL(fileURLWithPath: temporaryBase).appendingPathComponent(
            "capsize-function-\(definition.name)-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        try FileManager.default.copyItem(atPath: code, toPath: folder + "/code")
        FunctionCode.makeReadable(folder + "/code")
        directory = folder + "/code"
        temporary = folder
    }

    deinit {
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }
}
