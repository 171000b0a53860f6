import Foundation
import TestSupport
import Testing

/// The exit codes scripts rely on (README, "Exit codes"): 0 all good, 1 some run failed, 2 bad input, 130 interrupted
/// (InterruptTests).
@Suite(.serialized, .timeLimit(.minutes(1))) struct ExitCodeTests {
    @Test("a bench whose program fails exits 1 and says how many runs failed; one that succeeds exits 0")
    func failedBenchRuns() throws {
        let home = try temporaryDirectory("capsize-exit")
        let failing = try capsize(
            ["bench", "command", "--repeat", "2", "--warmup", "0", "--", "false"], environment: ["CAPSIZE_HOME": home])
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("2 of 2 measured run(s) failed"), "\(failing.stderr)")
        let passing = try capsize(
            ["bench", "command", "--repeat", "2", "--warmup", "0", "--json", "--", "true"],
            environment: ["CAPSIZE_HOME": home])
        #expect(passing.status == 0, "\(passing.stderr)")
    }

    @Test("an invoke in which an invocation timed out exits 1, also with --json, after printing every outcome")
    func failedInvocations() throws {
        let home = try temporaryDirectory("capsize-exit")
        let result = try capsize(
            ["invoke", "command", "--count", "2", "--timeout", "1", "--json", "--", "sleep", "5"],
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 1)
        #expect(result.stderr.contains("2 of 2 invocation(s) did not succeed (timeout)"), "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((report?["invocations"] as? [Any])?.count == 2)
    }
}
