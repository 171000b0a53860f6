import Execution
import Foundation
import Workloads

/// `bench command`'s runs: the program through the sandbox the function and batch executors use (`capsize-launch`),
/// uncapped. Its peak memory is then its own process tree's, read by the sandbox, not capsize's; and nothing it
/// started outlives its run: what it left behind when it exits (a daemon, a `setsid` child) is killed with the
/// launcher's process group. The run ends when the program itself exits, as before.
///
/// The program sees capsize's environment, as a bench always gave it (with the sandbox's private `TMPDIR`), and
/// stdin from /dev/null; what it writes to stdout and stderr goes to capsize's stderr as it comes, so that
/// capsize's stdout (tables, JSON) stays clean.
struct SandboxedCommand {
    let argv: [String]
    let sandbox: Sandbox

    /// - Throws: `StudyFailure` when this machine cannot give a sandbox (no `capsize-launch`).
    init(_ command: CommandWorkload) throws {
        let argv = command.argv
        self.argv = [CommandWorkload.locate(argv[0]) ?? argv[0]] + argv.dropFirst()
        sandbox = try Submit.makeSandbox()
    }

    /// Runs the program once and measures it: wall and CPU time, exit code or signal, and the peak memory of its
    /// process tree (`peakHostBytes`).
    /// - Throws: `SandboxError` when the launcher fails; `CancellationError` when the task is cancelled (the
    ///   program is killed first).
    func run() async throws -> RunResult {
        var limits = SandboxLimits()
        limits.outputLimitBytes = 0  // forwarded as it comes, not kept
        let result = try await sandbox.run(argv, environment: ProcessInfo.processInfo.environment, limits: limits) {
            try? FileHandle.standardError.write(contentsOf: Data($0))
        }
        let code = result.signal ?? result.exitCode ?? -1
        var notes: [String] = []
        if let signal = result.signal {
            notes.append("killed by signal \(signal)")
        } else if code != 0 {
            notes.append("exit code \(code)" + (result.message.map { " (\($0))" } ?? ""))
        }
        var digest = FNV1a()
        digest.add(code)
        return RunResult(
            seconds: result.wallSeconds, flops: 0,
            metrics: [
                "exit_code": result.signal == nil ? Double(code) : -1, "signal": Double(result.signal ?? 0),
                "user_seconds": result.userSeconds, "system_seconds": result.systemSeconds,
            ],
            checksum: digest.hex, peakHostBytes: result.peakRSSBytes, notes: notes)
    }
}
