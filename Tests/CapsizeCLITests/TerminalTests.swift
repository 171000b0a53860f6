import Foundation
import TestSupport
import Testing

/// capsize started from a terminal (util-linux `script` gives it a pseudo-terminal as its controlling terminal, as
/// an interactive shell would): the jobs it starts must not have that terminal.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TerminalTests {
    /// Runs `capsize arguments` in `script`'s pseudo-terminal and returns what appeared on that terminal.
    private func onTerminal(_ arguments: [String], home: String) throws -> ProcessOutput {
        let binary = capsizeProcess([]).executableURL!.path
        let command = ([binary] + arguments).map(shellQuoted).joined(separator: " ")
        let process = capsizeProcess([], environment: ["CAPSIZE_HOME": home])
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["--quiet", "--return", "--command", command, "/dev/null"]
        return try runToEnd(process)
    }

    private func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @Test("a job that reads /dev/tty fails at once instead of being stopped by SIGTTIN until its timeout")
    func jobReadingTheTerminal() throws {
        let home = try temporaryDirectory("capsize-tty")
        _ = try onTerminal(["submit", "--timeout", "5", "--", "/bin/sh", "-c", "read x </dev/tty"], home: home)
        let listed = try capsize(["jobs", "--json"], environment: ["CAPSIZE_HOME": home])
        let job = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(job["state"] as? String == "FAILED", "\(job)")
        #expect(job["statusReason"] as? String == "Essential container in task exited", "\(job)")
        let logs = try capsize(["logs", try #require(job["id"] as? String)], environment: ["CAPSIZE_HOME": home])
        #expect(logs.stdout.contains("cannot open /dev/tty"), "\(logs.stdout)")
    }

    @Test("what a job writes to /dev/tty does not reach capsize's terminal past the job's log")
    func jobWritingTheTerminal() throws {
        let home = try temporaryDirectory("capsize-tty")
        let result = try onTerminal(
            ["submit", "--timeout", "30", "--", "/bin/sh", "-c", "echo written-to-the-tty >/dev/tty"], home: home)
        #expect(!result.stdout.contains("written-to-the-tty"), "\(result.stdout)")
    }
}
