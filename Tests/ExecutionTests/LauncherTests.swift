import Foundation
import TestSupport
import Testing

@testable import Execution

/// capsize-launch on its own: the contract the sandbox relies on.
@Suite struct LauncherTests {
    /// Runs the launcher with `arguments`, its report on stdout.
    func launch(_ arguments: [String]) throws -> (status: Int32, lines: [[String: Any]], stderr: String) {
        let result = try run(try Launcher.locate(), arguments)
        let lines = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (result.status, lines, result.stderr)
    }

    @Test("it reports the start and the end as JSON lines and exits with the program's status")
    func reports() throws {
        let result = try launch(["--", "sh", "-c", "exit 7"])
        #expect(result.status == 7)
        #expect(result.lines.count == 2)
        #expect(result.lines[0]["event"] as? String == "started")
        let end = result.lines[1]
        #expect(end["event"] as? String == "exited")
        #expect(end["exit"] as? Int == 7)
        #expect(end["pid"] as? Int == result.lines[0]["pid"] as? Int)
        for key in ["user", "system", "maxrss_kib", "wall"] { #expect(end[key] != nil, "missing \(key)") }
    }

    @Test("--user UID:GID runs the program as that user with no supplementary groups; root is refused")
    func user() throws {
        let refused = try launch(["--user", "0:0", "--", "true"])
        #expect(refused.status == 125 && refused.stderr.contains("--user"), "\(refused.stderr)")
        let malformed = try launch(["--user", "61184", "--", "true"])
        #expect(malformed.status == 125 && malformed.stderr.contains("UID:GID"), "\(malformed.stderr)")
        guard geteuid() == 0 else { return }  // only root may switch
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("launcher-user-\(getpid())").path
        try? FileManager.default.removeItem(atPath: out)
        defer { try? FileManager.default.removeItem(atPath: out) }
        // The report goes to stdout (the launcher's, root's); the program's own output to a file it may write.
        FileManager.default.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o666])
        let switched = try launch(["--user", "61184:61190", "--", "sh", "-c", "{ id -u; id -g; id -G; } > \(out)"])
        #expect(switched.status == 0, "\(switched.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text == "61184\n61190\n61190\n", "\(text)")
        let denied = try launch(["--user", "61184:61184", "--", "sh", "-c", "echo x > /etc/capsize-launcher-test"])
        #expect(denied.status != 0 && !FileManager.default.fileExists(atPath: "/etc/capsize-launcher-test"))
    }

    @Test(
        "--pid-namespace: the program is pid 2 below an init that is pid 1; the report names init, the rest as without",
        .enabled(if: PIDNamespace.available))
    func pidNamespace() throws {
        let result = try launch(["--pid-namespace", "--", "sh", "-c", "echo $$ $PPID >&2; exit 7"])
        #expect(result.status == 7)
        #expect(result.stderr == "2 1\n")
        #expect(result.lines.count == 2)
        let started = result.lines[0]
        let initPID = try #require(started["init"] as? Int)
        #expect(initPID != started["pid"] as? Int && initPID != started["launcher"] as? Int)
        let end = result.lines[1]
        #expect(end["exit"] as? Int == 7 && end["pid"] as? Int == started["pid"] as? Int)
        for key in ["user", "system", "maxrss_kib", "wall"] { #expect(end[key] != nil, "missing \(key)") }
        let killed = try launch(["--pid-namespace", "--", "sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 128 + SIGTERM && killed.lines.last?["signal"] as? Int == Int(SIGTERM))
        let missing = try launch(["--pid-namespace", "--", "capsize-no-such-program"])
        #expect(missing.status == 127 && missing.lines.last?["errno"] as? Int == Int(ENOENT))
    }

    @Test("a child's ru_maxrss is the program's, not the launcher's: true stays under 8 MiB")
    func smallMaxRSS() throws {
        let result = try launch(["--", "true"])
        #expect((result.lines.last?["maxrss_kib"] as? Int ?? .max) < 8 << 10)
    }

    @Test("a program that cannot be found exits 127 with the errno text")
    func notFound() throws {
        let result = try launch(["--", "capsize-no-such-program"])
        #expect(result.status == 127)
        #expect(
            result.lines.last?["error"] as? String == "cannot run 'capsize-no-such-program': No such file or directory")
        #expect(result.lines.last?["errno"] as? Int == Int(ENOENT))
    }

    @Test("when its parent (capsize) dies, the launcher kills the program")
    func parentDeath() throws {
        let marker = "98.\(UInt32.random(in: 1...UInt32.max))"
        let launcher = try Launcher.locate()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "'\(launcher)' --parent $$ -- sleep \(marker) & sleep 0.3; kill -9 $$"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let clock = ContinuousClock()
        let start = clock.now
        while !Fixture.processes(withArgument: marker).isEmpty && clock.now - start < .seconds(5) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(Fixture.processes(withArgument: marker).isEmpty)
    }

    @Test("bad options end with status 125 and a message naming the option")
    func badOptions() throws {
        let result = try launch(["--rlimit", "bogus=1", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("bogus"))
        #expect(result.lines.isEmpty)
    }
}
