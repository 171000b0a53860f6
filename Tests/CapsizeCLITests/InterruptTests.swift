import Compute
import Foundation
import Store
import TestSupport
import Testing

/// Signals sent to capsize's process group, as a terminal's Ctrl-C or a hangup is.
@Suite(.serialized, .timeLimit(.minutes(1))) struct InterruptTests {
    /// capsize in a process group (and session) of its own, with SIGINT ignored as a script's `cmd &` has it.
    private func startIgnoringSIGINT(_ arguments: [String], home: String) throws -> Process {
        let binary = capsizeProcess([]).executableURL!.path
        let process = capsizeProcess([], environment: ["CAPSIZE_HOME": home])
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["sh", "-c", "trap '' INT; exec \"$0\" \"$@\"", binary] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (at most 20 s) until the store in `home` holds a job that is RUNNING.
    private func waitForRunningJob(home: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let store = try? CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine()),
                let run = try store.runs().first?.id, try store.jobs(run: run).contains(where: { $0.state == .running })
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("no job started")
    }

    @Test("a Ctrl-C to the group of a capsize that ignores SIGINT leaves its jobs alone: they end as they would")
    func ignoredInterruptReachesNoJob() throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let process = try startIgnoringSIGINT(["submit", "--", "sh", "-c", "sleep 2; echo slept"], home: home)
        try waitForRunningJob(home: home)
        kill(-getpgid(process.processIdentifier), SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let listed = try capsize(["jobs", "--json"], environment: ["CAPSIZE_HOME": home])
        let job = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(job["state"] as? String == "SUCCEEDED", "\(job)")
    }
}
