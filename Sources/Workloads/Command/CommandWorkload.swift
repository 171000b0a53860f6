public import CapsizeCore
public import Compute
import Foundation

/// `command`: any user program as a workload. The argv follows `--`; `{size}` and `{index}` in any
/// word are replaced by the `--size` and `--index` values. No shell is involved unless `--shell`,
/// which runs the words joined by spaces through `/bin/sh -c`.
public struct CommandWorkload: Workload {
    public static let name = "command"
    public static let summary = "any program (argv after --, with {size} and {index} placeholders)"
    public static let sizeParameter = "size"
    public static let takesProgram = true
    /// A user's program never runs on capsize's OpenCL devices.
    public static func usesOpenCL(_ selector: DeviceSelector, gpus: Bool) -> Bool { false }
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("size", .integer(0...Int(Int32.max)), default: "1", help: "the value of {size}"),
        ParameterSpec("index", .integer(0...Int(Int32.max)), default: "0", help: "the value of {index} (array jobs)"),
        ParameterSpec("shell", .flag, default: "false", help: "run the words through /bin/sh -c"),
    ]

    /// The argv as given, placeholders unexpanded.
    public var template: [String]
    public var size: Int
    public var index: Int
    public var shell: Bool

    public init(parameters: ParameterValues) throws(InputError) {
        try self.init(
            template: parameters.trailing, size: parameters.int("size"), index: parameters.int("index"),
            shell: parameters.flag("shell"))
    }

    /// - Throws: `InputError` when the argv is empty or its program cannot be found.
    public init(template: [String], size: Int = 1, index: Int = 0, shell: Bool = false) throws(InputError) {
        guard let program = template.first, !program.isEmpty else {
            throw InputError(
                field: "command", value: "", allowed: "a program after --, e.g. capsize bench command -- ./job {size}")
        }
        self.template = template
        self.size = size
        self.index = index
        self.shell = shell
        if !shell && Self.locate(program) == nil {
            throw InputError(
                field: "command", value: program, allowed: "an executable file, or a program found in PATH")
        }
    }

    /// The argv with `{size}` and `{index}` replaced.
    public var argv: [String] {
        let words = template.map {
            $0.replacingOccurrences(of: "{size}", with: "\(size)").replacingOccurrences(of: "{index}", with: "\(index)")
        }
        return shell ? ["/bin/sh", "-c", words.joined(separator: " ")] : words
    }

    /// A user program's costs are unknown until measured: the estimate is zero.
    public var estimate: ResourceEstimate {
        ResourceEstimate(flops: 0, bytes: 0, hostBytes: 0, deviceBytes: 0, largestDeviceBuffer: 0)
    }

    /// A command runs on the host; what it does with devices is its own business.
    public func resolve(_ selector: DeviceSelector, devices: [OpenCLDevice]) throws(InputError) -> ExecutionTarget {
        if case .openCL = selector { _ = try selector.openCLDevice(in: devices) }
        return .host
    }

    public func prepare(on target: ExecutionTarget, options: RunOptions) throws -> any PreparedWorkload {
        CommandRunner(argv: argv, executable: shell ? "/bin/sh" : Self.locate(argv[0])!)
    }

    /// The path of `program`: itself when it contains a slash, else the first match in PATH; nil for an empty
    /// name, or when what it names is not an executable file (a folder is not one, though its x bit is set).
    public static func locate(_ program: String) -> String? {
        guard !program.isEmpty else { return nil }
        if program.contains("/") { return isExecutableFile(program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first(where: isExecutableFile)
    }

    /// A regular file (links followed) with an execute bit that this process may use: `access` alone says yes to
    /// root for any file and to a folder.
    private static func isExecutableFile(_ path: String) -> Bool {
        var facts = stat()
        return stat(path, &facts) == 0 && facts.st_mode & S_IFMT == S_IFREG && facts.st_mode & 0o111 != 0
            && access(path, X_OK) == 0
    }
}

/// Runs a command once per `run()` and measures wall time and CPU time. (The capped, measuring
/// sandbox of the executors replaces this runner for invocations, jobs and benches: `SandboxedCommand` in Studies.)
///
/// The run ends when the command itself exits, as a Lambda handler's invocation ends when it returns: what
/// the command left running in the background goes on (frozen with a function's environment). Foundation's
/// `Process` cannot do that on Linux: it notices the exit through a socket every descendant inherits, so
/// `sh -c 'sleep 30 & echo done'` would last 30 s (swiftlang/swift-corelibs-foundation#4795). The command
/// is spawned here and waited for with `waitpid`.
final class CommandRunner: PreparedWorkload {
    let argv: [String]
    let executable: String

    init(argv: [String], executable: String) {
        self.argv = argv
        self.executable = executable
    }

    func run() throws -> RunResult { try run(input: nil) }

    /// Runs the command with `input` on its stdin (a function's payload; `/dev/null` without one), so that it never
    /// reads the worker's own requests.
    func run(input: Data?) throws -> RunResult {
        let before = childUsage()
        let clock = ContinuousClock()
        let start = clock.now
        let pid = try spawn(input: input)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw CommandError("waitpid for \(executable) failed (errno \(errno))") }
        }
        let seconds = (clock.now - start).seconds
        let after = childUsage()
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import.
        let signal = status & 0x7f
        let signaled = signal != 0 && signal != 0x7f
        let code = signaled ? signal : (status >> 8) & 0xff
        var notes: [String] = []
        if signaled { notes.append("killed by signal \(code)") } else if code != 0 { notes.append("exit code \(code)") }
        var digest = FNV1a()
        digest.add(code)
        return RunResult(
            seconds: seconds, flops: 0,
            metrics: [
                "exit_code": signaled ? -1 : Double(code), "signal": signaled ? Double(code) : 0,
                "user_seconds": after.user - before.user, "system_seconds": after.system - before.system,
            ],
            checksum: digest.hex, notes: notes)
    }

    /// Starts the command with `input` on its stdin, its output on stderr (so that capsize's own stdout, tables and
    /// JSON, and a worker's answers stay clean), every signal at its default and none blocked, and no descriptor of
    /// capsize's but stdout and stderr.
    private func spawn(input: Data?) throws -> pid_t {
        // The payload in a file of the private temporary directory (it counts against /tmp), unlinked once the
        // command has it open: any size, no writer thread.
        var stdin = "/dev/null"
        if let input {
            stdin = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-payload-\(UUID())").path
            guard FileManager.default.createFile(atPath: stdin, contents: input, attributes: [.posixPermissions: 0o600])
            else { throw CommandError("cannot write the payload for \(executable) to \(stdin)") }
        }
        defer { if input != nil { try? FileManager.default.removeItem(atPath: stdin) } }
        // What capsize has open and would hand down (descriptors without close-on-exec), as Process closed them.
        let open =
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        let inherited = open.filter { fd in
            let flags = fcntl(fd, F_GETFD)
            return fd > STDERR_FILENO && flags >= 0 && flags & FD_CLOEXEC == 0
        }
        let (pid, failure) = spawnWithDefaultSignals(
            [executable] + argv.dropFirst(), environment: nil,
            fileActions: [
                .open(stdin, onto: STDIN_FILENO, writing: false), .duplicate(STDERR_FILENO, onto: STDOUT_FILENO),
            ]
                + inherited.map { .close($0) })
        guard failure == 0 else {
            throw CommandError("cannot start \(executable): \(String(cString: strerror(failure)))")
        }
        return pid
    }

    /// User and system CPU seconds of all waited-for children so far.
    private func childUsage() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }
}

/// A command that could not be started or waited for.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
