import Foundation
import TestSupport
import Testing

@testable import Execution

/// Programs in a PID namespace of their own (`Sandbox.usesPIDNamespace`, the default when capsize is not root; here
/// turned on as root, which needs no user namespace). Without a namespace a program under capsize's uid can kill its
/// launcher, and a process it forks and orphans within one 5 ms sample of that is lost to the tree (`EscapeTests`
/// show what is still caught); in a namespace the program cannot name its launcher, and every orphan goes to the
/// namespace's init, below the launcher. The same runs as another user: `AnotherUserTests`. (Long sleeps here are
/// `sleep 37`: `EscapeTests` looks for any `sleep 30` left on the machine, and suites run side by side.)
@Suite(
    .serialized, .timeLimit(.minutes(1)), .enabled(if: PIDNamespace.available, "needs PID namespaces (root, unshare)"))
struct PIDNamespaceTests {
    /// A sandbox with the namespace; `server`: through the resident launcher (the Batch executor's way).
    static func sandbox(server: Bool = false) throws -> Sandbox {
        var sandbox = try Fixture.sandbox(pidNamespace: true)
        if server { sandbox.usesLaunchServer = true }
        return sandbox
    }

    /// A command-line word no other process has: `sleep` of this many seconds.
    static func marker() -> String { "1000.\(Int.random(in: 100_000...999_999))" }

    /// Waits up to two seconds for every process with `marker` among its arguments to be gone.
    static func noneLeft(_ marker: String) async throws -> [Int32] {
        for _ in 0..<200 {
            if Fixture.processes(withArgument: marker).isEmpty { return [] }
            try await Task.sleep(for: .milliseconds(10))  // not usleep: suites share a few threads
        }
        return Fixture.processes(withArgument: marker)
    }

    /// A shell whose subshell kills the shell's parent (`parent`), then at once forks ten children that leave
    /// their session and their parent (each a subshell that starts `setsid sleep` in the background and ends), then
    /// sleeps. Without a namespace the kill ends the launcher (and, by its parent-death signal, the shell), and the
    /// subshell and the orphans, born between two samples, escape the tree; in one the parent is the namespace's
    /// init, which ignores the SIGKILL, and the orphans are its children.
    static func escape(_ marker: String, parent: String = "$PPID") -> String {
        "(kill -9 \(parent); for i in 1 2 3 4 5 6 7 8 9 10; do (setsid sleep \(marker) </dev/null >/dev/null 2>&1 &); "
            + "done; echo forked >&2; sleep 37)"
    }

    @Test(
        "a program that kills its parent and double-forks at once is held to its timeout and leaves nothing running",
        arguments: [false, true])
    func killAndOrphan(server: Bool) async throws {
        let marker = Self.marker()
        let result = try await Self.sandbox(server: server).run(
            ["sh", "-c", Self.escape(marker)], limits: SandboxLimits(wallSeconds: 1.5))
        #expect(result.reason == .timeout, "\(result.reason) \(result.message ?? "")")
        #expect(result.message == nil, "the launcher was not killed")
        #expect(result.stderr.text == "forked\n")
        #expect(result.wallSeconds >= 1.5 && result.wallSeconds < 5, "\(result.wallSeconds) s")
        let left = try await Self.noneLeft(marker)
        #expect(left.isEmpty, "escaped: \(left)")
    }

    @Test("the program is pid 2 below an init that is pid 1, and sees only its namespace in /proc")
    func ownNamespace() async throws {
        let result = try await Self.sandbox().run(
            ["sh", "-c", "echo $$ $PPID; ls /proc | grep -c '^[0-9]'"])
        #expect(result.reason == .completed)
        let lines = result.stdout.text.split(separator: "\n")
        #expect(lines.first == "2 1", "\(result.stdout.text)")
        // init, the shell, ls and grep (the shell may have forked ls and grep, or exec'd one of them)
        #expect((Int(lines.last ?? "") ?? 99) <= 4, "\(result.stdout.text)")
        #expect(result.pid != 2 && result.pid > 0, "the program's pid is capsize's view of it")
        #expect(Fixture.members(ofGroup: result.pid).isEmpty)
    }

    @Test(
        "exit status, signal, failure to run, CPU time and ru_maxrss are reported as without a namespace",
        arguments: [false, true])
    func reports(server: Bool) async throws {
        let sandbox = try Self.sandbox(server: server)
        let exited = try await sandbox.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
        #expect(exited.reason == .error && exited.exitCode == 7 && exited.signal == nil)
        #expect(exited.stdout.text == "out\n" && exited.stderr.text == "err\n")
        let crashed = try await sandbox.run(["sh", "-c", "kill -SEGV $$"])
        #expect(crashed.reason == .crash && crashed.signal == SIGSEGV && crashed.exitCode == nil)
        let missing = try await sandbox.run(["capsize-no-such-program"])
        #expect(missing.exitCode == 127)
        #expect(missing.message == "cannot run 'capsize-no-such-program': No such file or directory")
        let busy = try await sandbox.run(["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
        #expect(busy.userSeconds + busy.systemSeconds > 0.1, "\(busy.userSeconds) + \(busy.systemSeconds) s")
        #expect(busy.userSeconds + busy.systemSeconds <= busy.wallSeconds * 1.05 + 0.01)
        let big = try await sandbox.run([Fixture.python, "-c", "b = bytearray(b'\\x01') * (80 << 20)"])
        #expect(big.maxRSSBytes >= 80 << 20 && big.maxRSSBytes < 120 << 20, "\(big.maxRSSBytes >> 10) KiB")
        let small = try await sandbox.run(["true"])
        #expect(small.maxRSSBytes < 8 << 20, "\(small.maxRSSBytes >> 10) KiB")
    }

    @Test("at a Batch timeout the program gets SIGTERM and ends by it (it is not pid 1, which would ignore it)")
    func terminateAtTimeout() async throws {
        let result = try await Self.sandbox().run(
            ["sleep", "37"], limits: SandboxLimits(wallSeconds: 0.3, timeoutMode: .terminateThenKill(grace: 10)))
        #expect(result.reason == .timeout)
        #expect(result.signal == SIGTERM, "\(String(describing: result.signal))")
        #expect(result.wallSeconds < 3, "\(result.wallSeconds) s: SIGKILL after the grace period, not SIGTERM")
        let trapped = try await Self.sandbox().run(
            ["sh", "-c", "trap 'echo terminated; exit 3' TERM; sleep 37 & wait"],
            limits: SandboxLimits(wallSeconds: 0.3, timeoutMode: .terminateThenKill(grace: 10)))
        #expect(trapped.stdout.text == "terminated\n" && trapped.exitCode == 3, "\(trapped.stdout.text)")
    }

    @Test("the memory cap counts an orphan that grows past it, and the CPU share holds the whole namespace")
    func capsHold() async throws {
        let grow = "import time\nb = bytearray(b'\\x01') * (150 << 20)\ntime.sleep(30)"
        let script = "(setsid \(Fixture.python) -c \"$1\" &); sleep 37"
        let memory = try await Self.sandbox().run(
            ["sh", "-c", script, "sh", grow], limits: SandboxLimits(wallSeconds: 20, memoryBytes: 100 << 20))
        #expect(memory.reason == .outOfMemory)
        #expect(memory.sampledPeakRSSBytes > 100 << 20)

        let loop = "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"
        let started = monotonicSeconds()
        let held = try await Self.sandbox().run(
            ["sh", "-c", "(setsid sh -c '\(loop)' &); sleep 37"], limits: SandboxLimits(wallSeconds: 3, cpuShare: 0.25))
        // The orphaned loop's CPU (about 0.2 s here) at a quarter of a CPU: not over in under half a second.
        #expect(monotonicSeconds() - started > 0.5)
        #expect(held.reason == .timeout)
        #expect(held.cpuThrottledSeconds > 0)
    }

    @Test("init's own memory is left out of the sampled peak, as the launcher's is")
    func initNotCounted() async throws {
        func peak(_ pidNamespace: Bool) async throws -> UInt64 {
            try await Fixture.sandbox(pidNamespace: pidNamespace).run(["sleep", "0.2"]).sampledPeakRSSBytes
        }
        var with: [UInt64] = []
        var without: [UInt64] = []
        for _ in 0..<3 {
            with.append(try await peak(true))
            without.append(try await peak(false))
        }
        // `sleep` alone is about 1 MB; init would add the launcher's few hundred KB.
        #expect(with.min()! <= without.max()! + 64 << 10, "with \(with), without \(without)")
    }

    @Test("the namespace's init passes a signal sent to it on to the program")
    func forwardsSignals() async throws {
        let launcher = try Launcher.locate()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = [
            "--pid-namespace", "--", "sh", "-c", "trap 'echo got USR1 >&2; exit 4' USR1; sleep 20 & wait",
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // The first report line names init.
        let line = firstLine(of: out)
        let started = try #require(try JSONSerialization.jsonObject(with: line.prefix { $0 != 10 }) as? [String: Any])
        let initPID = try #require(started["init"] as? Int)
        // Blocking, not suspending: a suspended test resumes when the cooperative pool has a thread, which under a
        // full run can be after the program has ended.
        usleep(200_000)  // the trap is set
        kill(Int32(initPID), SIGUSR1)
        let rest = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 4)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "got USR1\n")
        #expect(String(decoding: rest, as: UTF8.self).contains("\"exit\":4"))
    }

    // MARK: A function environment in a namespace

    /// An environment whose runtime is `script` after `RuntimeAPITests.prelude` (bash over the Runtime API).
    static func environment(_ script: String) throws -> (EnvironmentProcess, String) {
        let temporary = try Fixture.sandbox().makeTemporaryDirectory()
        var options = EnvironmentProcess.Options(
            argv: ["/bin/bash", "-c", RuntimeAPITests.prelude + script], environment: ["PATH": "/usr/bin:/bin"],
            launcherPath: try Launcher.locate(),
            memoryBytes: 256 << 20, temporaryDirectory: temporary)
        options.pidNamespace = true
        options.privateSharedMemory = true
        return (EnvironmentProcess(options: options), temporary)
    }

    /// An event for `EnvironmentProcess.invoke`.
    static func invocation() -> RuntimeInvocation {
        RuntimeInvocation(
            requestId: UUID().uuidString.lowercased(), body: Data("{}".utf8), deadlineMs: 0, functionARN: "arn",
            traceId: RuntimeInvocation.newTraceId())
    }

    @Test("an environment's orphaned background process is frozen with it between requests and killed when it closes")
    func environmentFreezes() async throws {
        let marker = Self.marker()
        let (process, temporary) = try Self.environment(
            #"""
            while true; do
              request GET invocation/next
              (setsid sleep \#(marker) </dev/null >/dev/null 2>&1 &)
              request POST "invocation/$id/response" done
            done
            """#)
        defer { Sandbox.removeTemporaryDirectory(temporary) }
        let first = try await process.start(deadline: 5)
        #expect(first.ending == nil && first.line == Data(), "Init ended with the first GET /next")
        let answer = await process.invoke(Self.invocation(), deadline: 5)
        #expect(answer.line == Data("done".utf8))
        // The sleep outlives the request, in a session of its own, below init (its parent, the subshell, is gone).
        var sleeper: Int32?
        for _ in 0..<100 where sleeper == nil {
            sleeper = Fixture.processes(withArgument: marker).first
            if sleeper == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let pid = try #require(sleeper)
        process.freeze()
        #expect(try await Fixture.state(of: pid, awaiting: "T") == "T", "frozen (SIGSTOP) with its environment")
        let again = await process.invoke(Self.invocation(), deadline: 5)
        #expect(again.line == Data("done".utf8))
        #expect(Fixture.state(of: pid) != "T", "thawed with its environment")
        process.close()
        let left = try await Self.noneLeft(marker)
        #expect(left.isEmpty, "left running: \(left)")
    }

    @Test("an environment whose command kills its parent and double-forks ends at its timeout, leaving nothing")
    func environmentEscape() async throws {
        let marker = Self.marker()
        let (process, temporary) = try Self.environment(
            // `; exit` keeps bash from exec'ing the last command: the escape's parent is the runtime, as it would be.
            "request GET invocation/next; sh -c '\(Self.escape(marker, parent: "$(cut -d\" \" -f4 /proc/$PPID/stat)"))'; exit"
        )
        defer { Sandbox.removeTemporaryDirectory(temporary) }
        _ = try await process.start(deadline: 5)
        let answer = await process.invoke(Self.invocation(), deadline: 1.5)
        #expect(answer.ending == .timeout, "\(String(describing: answer.ending))")
        #expect(answer.seconds >= 1.5 && answer.seconds < 5)
        process.close()
        let left = try await Self.noneLeft(marker)
        #expect(left.isEmpty, "escaped: \(left)")
    }
}
