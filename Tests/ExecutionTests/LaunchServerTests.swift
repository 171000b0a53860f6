import Foundation
import Testing

@testable import Execution

/// The resident launcher (`capsize-launch --server`) behind `Sandbox.usesLaunchServer`. The whole
/// SandboxTests suite also runs through it with `CAPSIZE_TEST_LAUNCH_SERVER=1`.
// Serialized: one test kills the server, which the others use. It is a server of its own (servers are
// shared per launcher path, and this suite's launcher is a copy), so runs elsewhere in the process
// are not hit.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LaunchServerTests {
    static let launcher: String = {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
            "capsize-launch-server-test-\(getpid())"
        ).path
        try? FileManager.default.removeItem(atPath: copy)
        try! FileManager.default.copyItem(atPath: try! Sandbox().launcherPath, toPath: copy)
        return copy
    }()

    func sandbox() throws -> Sandbox { try Sandbox(launcherPath: Self.launcher).withLaunchServer() }

    func server() throws -> LaunchServer { LaunchServer.shared(launcherPath: Self.launcher) }

    @Test("runs through the server: exit codes, output, environment, a missing program")
    func basics() async throws {
        let sandbox = try sandbox()
        let result = try await sandbox.run(
            ["sh", "-c", "echo $CAPSIZE_PROBE; echo oops >&2; exit 3"],
            environment: ["CAPSIZE_PROBE": "yes", "PATH": "/usr/bin:/bin"])
        #expect(result.reason == .error)
        #expect(result.exitCode == 3)
        #expect(result.stdout.text == "yes\n")
        #expect(result.stderr.text == "oops\n")
        let missing = try await sandbox.run(["capsize-no-such-program"])
        #expect(missing.exitCode == 127)
        #expect(missing.message?.contains("No such file or directory") == true)
        let echoed = try await sandbox.run(["cat"], stdin: Data("piped".utf8))
        #expect(echoed.stdout.text == "piped")
        #expect(try server().pid != nil)
    }

    @Test(
        "a worker takes no other run until capsize has read the last one's report (it holds the report pipe till then)")
    func workerWaitsForTheReader() throws {
        var pipes = LaunchPipes()
        #expect(
            try pipes.send(
                to: server(), options: ["--report-fd", "3", "--", "/bin/true"], environment: [:], hasInput: false))
        defer { pipes.closeAll() }
        // Read the report up to "exited", as a supervisor does, but keep its end of the pipe open.
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains("\"exited\"") && Date() < deadline {
            var poll = pollfd(fd: pipes.report, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&poll, 1, 100)
            let count = read(pipes.report, &buffer, buffer.count)
            if count > 0 { text += String(decoding: buffer[..<count], as: UTF8.self) }
        }
        let started = try #require(text.split(separator: "\n").first.flatMap { LaunchReport.decode(Array($0.utf8)) })
        let worker = try #require(started.launcher)
        // Until capsize closes its end, the worker keeps the run's report pipe on descriptor 3 (the next run's
        // program would otherwise be sampled, stopped or killed as this run's).
        func holdsReport() -> Bool {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker)/fd/3"))?.hasPrefix("pipe:")
                == true
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(holdsReport(), "the worker let go of the report before capsize had read it")
        LaunchPipes.close(&pipes.report)
        let released = Date().addingTimeInterval(5)
        while holdsReport() && Date() < released { Thread.sleep(forTimeInterval: 0.01) }
        #expect(!holdsReport(), "the worker still holds the report after capsize closed its end")
    }

    @Test("the program is forked by a launcher (a worker) that the server forked, not by capsize or the server")
    func processTree() async throws {
        let result = try await sandbox().run(["sh", "-c", "echo $PPID; ps -o ppid= -p $PPID"])
        let lines = result.stdout.text.split(separator: "\n").compactMap {
            Int32($0.trimmingCharacters(in: .whitespaces))
        }
        let server = try #require(try server().pid)
        #expect(lines.count == 2)
        #expect(lines.first != getpid() && lines.first != server)
        #expect(lines.last == server)
    }

    @Test("the program starts with every signal at its default and none blocked, as through a launcher of its own")
    func signalDispositions() async throws {
        func signalLines(_ result: SandboxResult) -> [String] {
            result.stdout.text.split(separator: "\n").map(String.init).filter {
                $0.hasPrefix("SigBlk") || $0.hasPrefix("SigIgn") || $0.hasPrefix("SigCgt")
            }
        }
        let viaServer = try await sandbox().run(["cat", "/proc/self/status"])
        let direct = try await Sandbox(launcherPath: Self.launcher).run(["cat", "/proc/self/status"])
        let lines = signalLines(viaServer)
        #expect(lines.count == 3)
        #expect(lines.contains("SigBlk:\t0000000000000000"))
        #expect(lines.contains("SigCgt:\t0000000000000000"))
        // Signals 1-31 not ignored (glibc reserves 32 and 33, and its signal() leaves them alone).
        let ignored = lines.first { $0.hasPrefix("SigIgn") }.flatMap { UInt64($0.dropFirst(8), radix: 16) }
        #expect(ignored.map { $0 & 0x7fff_ffff } == 0)
        #expect(lines == signalLines(direct))
    }

    @Test("the server survives a crashing program, and the next run works")
    func survivesCrash() async throws {
        let sandbox = try sandbox()
        let crashed = try await sandbox.run(["sh", "-c", "kill -SEGV $$"])
        #expect(crashed.reason == .crash)
        #expect(crashed.signal == SIGSEGV)
        let pid = try server().pid
        let next = try await sandbox.run(["true"])
        #expect(next.reason == .completed)
        #expect(try server().pid == pid)
    }

    @Test("workers run one request after another; workers that die while they wait are replaced, not waited for")
    func workers() async throws {
        let sandbox = try sandbox()
        func worker() async throws -> Int32 {
            let result = try await sandbox.run(["sh", "-c", "echo $PPID"])
            return try #require(Int32(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        var seen: Set<Int32> = []
        for _ in 0..<6 { seen.insert(try await worker()) }
        #expect(seen.count <= 2, "one run at a time needs one worker and one spare: \(seen)")
        let server = try #require(try server().pid)
        for pid in seen { kill(pid, SIGKILL) }
        try await Task.sleep(for: .milliseconds(50))
        // The server counts the dead (idle) workers out and starts others: the next runs neither hang
        // (a request queued with no worker left) nor fall back to a launcher of their own.
        for _ in 0..<2 { #expect(!seen.contains(try await worker())) }
        #expect(try self.server().pid == server)
    }

    @Test("concurrent runs each get their own program's ru_maxrss, not the server's or a neighbour's")
    func separateUsage() async throws {
        let sandbox = try sandbox()
        async let big = sandbox.run([Fixture.python, "-c", "b = bytearray(b'\\x01') * (80 << 20)"])
        async let small = sandbox.run(["sh", "-c", "sleep 0.2"])
        let (large, little) = try await (big, small)
        #expect(large.maxRSSBytes >= 80 << 20)
        #expect(little.maxRSSBytes < 8 << 20, "\(little.maxRSSBytes >> 10) KiB")
        #expect(large.pid != little.pid)
    }

    @Test("timeouts kill the program's group, and memory caps hold, through the server")
    func caps() async throws {
        let sandbox = try sandbox()
        let timeout = try await sandbox.run(
            ["sh", "-c", "sleep 100 & echo $!; sleep 100"], limits: SandboxLimits(wallSeconds: 0.3))
        #expect(timeout.reason == .timeout)
        let grandchild = try #require(Int32(timeout.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Fixture.exists(grandchild))
        let memory = try await sandbox.run(
            [Fixture.python, "-c", Fixture.steadyAllocator],
            limits: SandboxLimits(wallSeconds: 20, memoryBytes: 100 << 20))
        #expect(memory.reason == .outOfMemory)
        #expect(Double(memory.peakRSSBytes) <= Double(100 << 20) * 1.05)
    }

    @Test("a dead server is noticed and started again; its running programs are killed, not left behind")
    func deadServerRestarts() async throws {
        let sandbox = try sandbox()
        _ = try await sandbox.run(["true"])
        let first = try #require(try server().pid)
        let marker = "97.\(UInt32.random(in: 1...UInt32.max))"
        let running = Task { try await sandbox.run(["sleep", marker]) }
        let clock = ContinuousClock()
        let start = clock.now
        // Only the program carries the marker: the launcher is a copy of the server, with its words.
        while Fixture.processes(withArgument: marker).isEmpty && clock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(first, SIGKILL)
        // The launcher is told (parent-death signal) and kills its program; the run ends, not hangs.
        let orphaned = try await running.value
        #expect(orphaned.reason != .completed)
        #expect(Fixture.processes(withArgument: marker).isEmpty)
        // The next runs work: a request queued for a worker that is leaving is dropped, and the
        // run falls back to a launcher of its own; then a new server takes over.
        for code in [4, 5] {
            let next = try await sandbox.run(["sh", "-c", "exit \(code)"])
            #expect(next.exitCode == Int32(code))
        }
        let second = try #require(try server().pid)
        #expect(second != first)
    }

    @Test("a request too large for the socket goes through a launcher of its own")
    func largeRequest() async throws {
        // Each variable under the kernel's 128 KiB limit on one word, together over the request limit.
        let word = String(repeating: "x", count: LaunchServer.largestRequest / 2)
        let result = try await sandbox().run(
            ["sh", "-c", "echo ${#BIG1} ${#BIG2} ${#BIG3}"],
            environment: ["BIG1": word, "BIG2": word, "BIG3": word, "PATH": "/usr/bin:/bin"])
        #expect(result.reason == .completed)
        #expect(result.stdout.text == "\(word.count) \(word.count) \(word.count)\n")
    }

    @Test("requests are encoded as two counts and NUL-terminated words; a NUL inside a word is refused")
    func encoding() {
        let message = LaunchServer.encode(options: ["--", "true"], environment: ["A": "1"])
        #expect(message == [2, 0, 0, 0, 1, 0, 0, 0] + Array("--\0true\0A=1\0".utf8))
        #expect(LaunchServer.encode(options: ["a\0b"], environment: [:]) == nil)
        #expect(LaunchServer.encode(options: [], environment: ["A": "1\0"]) == nil)
    }
}
