import CapsizeCore
import Compute
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Execution

@Suite(.timeLimit(.minutes(1))) struct SandboxTests {
    /// How soon after the cap the kill lands is a benchmark (Benchmarks/RESULTS.md: ≤ 7 ms on a quiet machine);
    /// here only that it lands at the cap, not before, and long before the program would end.
    @Test("a program that runs past the cap ends as a timeout at the cap, killed with SIGKILL")
    func timeoutPrecision() async throws {
        let result = try await Fixture.sandbox().run(["sleep", "10"], limits: SandboxLimits(wallSeconds: 0.5))
        #expect(result.reason == .timeout)
        #expect(result.signal == SIGKILL)
        #expect(result.wallSeconds >= 0.5)
        #expect(result.wallSeconds < 2, "killed \(Int((result.wallSeconds - 0.5) * 1000)) ms after the cap")
    }

    @Test("at a timeout the whole process group is killed, grandchildren included")
    func timeoutKillsGroup() async throws {
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "sleep 100 & echo $!; sleep 100"], limits: SandboxLimits(wallSeconds: 0.3))
        #expect(result.reason == .timeout)
        let grandchild = try #require(Int32(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Fixture.exists(grandchild))
        #expect(Fixture.members(ofGroup: result.pid).isEmpty)
    }

    @Test("a descendant that left the group (setsid) is killed when the program ends")
    func escapedDescendantIsKilled() async throws {
        let result = try await Fixture.sandbox().run(["sh", "-c", "setsid sleep 100 & echo $!"])
        #expect(result.reason == .completed)
        #expect(result.wallSeconds < 5)
        let escaped = try #require(Int32(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Fixture.exists(escaped))
    }

    @Test("a program leads a session of its own, with no controlling terminal, and reads /dev/null as stdin")
    func sessionWithoutTerminal() async throws {
        // /proc/PID/stat: pid (comm) state ppid pgrp session tty_nr ...
        let result = try await Fixture.sandbox().run([
            "sh", "-c", "read -r pid comm state ppid pgrp sid tty rest </proc/$$/stat; echo $pid $pgrp $sid $tty; cat",
        ])
        let fields = result.stdout.text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.count == 4, "\(result.stdout.text)")
        #expect(Set(fields.prefix(3)).count == 1, "pid, group and session: \(fields)")
        #expect(fields.last == "0", "tty_nr: \(fields)")
    }

    @Test("terminate-then-kill: a program that ignores SIGTERM gets SIGKILL after the grace period")
    func terminateThenKill() async throws {
        let limits = SandboxLimits(wallSeconds: 0.3, timeoutMode: .terminateThenKill(grace: 0.4))
        let result = try await Fixture.sandbox().run(["sh", "-c", "trap '' TERM; sleep 100"], limits: limits)
        #expect(result.reason == .timeout)
        #expect(result.signal == SIGKILL)
        #expect(result.wallSeconds >= 0.7)
        #expect(result.wallSeconds < 2.5)
    }

    @Test("the supervisor idles between samples, also after a cap has fired (during a grace period)")
    func supervisorIdles() async throws {
        let limits = SandboxLimits(wallSeconds: 0.1, timeoutMode: .terminateThenKill(grace: 0.5))
        let result = try await Fixture.sandbox().run(["sh", "-c", "trap '' TERM; sleep 100"], limits: limits)
        #expect(result.reason == .timeout)
        #expect(result.wallSeconds >= 0.6)
        #expect(result.supervisorCPUSeconds < 0.1 * result.wallSeconds, "\(result.supervisorCPUSeconds) s of CPU")
    }

    @Test("terminate-then-kill: a program that handles SIGTERM exits at the cap, before the grace ends")
    func terminateGracefully() async throws {
        let limits = SandboxLimits(wallSeconds: 0.3, timeoutMode: .terminateThenKill(grace: 5))
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "trap 'echo terminated; exit 0' TERM; sleep 100 & wait"], limits: limits)
        #expect(result.reason == .timeout)
        #expect(result.exitCode == 0)
        #expect(result.stdout.text == "terminated\n")
        #expect(result.wallSeconds < 1)
    }

    @Test("a steadily allocating program is killed as out of memory within 5 % over the cap")
    func memoryKill() async throws {
        let cap: UInt64 = 200 << 20
        let result = try await Fixture.sandbox().run(
            [Fixture.python, "-c", Fixture.steadyAllocator], limits: SandboxLimits(wallSeconds: 20, memoryBytes: cap))
        #expect(result.reason == .outOfMemory)
        #expect(result.signal == SIGKILL)
        #expect(result.peakRSSBytes > cap)
        #expect(Double(result.peakRSSBytes) <= Double(cap) * 1.05, "peak \(result.peakRSSBytes >> 20) MiB")
    }

    @Test("the memory cap applies to the sum over the process tree")
    func memoryOfTree() async throws {
        let cap: UInt64 = 200 << 20
        let script = "\(Fixture.python) -c \"$HOLDER\" 120 & \(Fixture.python) -c \"$HOLDER\" 120; wait"
        var environment = ProcessInfo.processInfo.environment
        environment["HOLDER"] = Fixture.holder
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", script], environment: environment, limits: SandboxLimits(wallSeconds: 20, memoryBytes: cap))
        #expect(result.reason == .outOfMemory)
        #expect(result.sampledPeakRSSBytes > cap)
        #expect(result.maxRSSBytes < cap, "no single process went over the cap")
    }

    @Test("peak memory of a program under no cap is measured, with a timeline when asked")
    func memoryMeasured() async throws {
        let result = try await Fixture.sandbox(recordsMemoryTimeline: true).run(
            [Fixture.python, "-c", "b = bytearray(b'\\x01') * (64 << 20); import time; time.sleep(0.1)"])
        #expect(result.reason == .completed)
        #expect(result.peakRSSBytes >= 64 << 20)
        #expect(result.peakRSSBytes < 128 << 20)
        #expect(result.memoryTimeline.count >= 10)
        #expect(result.memoryTimeline.map(\.bytes).max() == result.sampledPeakRSSBytes)
    }

    @Test(
        "a program killed by SIGSEGV is a crash with signal 11",
        arguments: [
            ["sh", "-c", "kill -SEGV $$"], [Fixture.python, "-c", "import ctypes; ctypes.string_at(0)"],
        ])
    func crash(argv: [String]) async throws {
        let result = try await Fixture.sandbox().run(argv)
        #expect(result.reason == .crash)
        #expect(result.signal == SIGSEGV)
        #expect(result.exitCode == nil)
    }

    @Test(
        "exit code 0 is completed and any other is an error with its code",
        arguments: [
            (Int32(0), SandboxResult.Reason.completed), (3, .error),
        ])
    func exitCodes(code: Int32, reason: SandboxResult.Reason) async throws {
        let result = try await Fixture.sandbox().run(["sh", "-c", "exit \(code)"])
        #expect(result.reason == reason)
        #expect(result.exitCode == code)
        #expect(result.signal == nil)
        #expect(result.message == nil)
    }

    @Test("a program that does not exist is an error with exit code 127 and a message naming it")
    func missingProgram() async throws {
        let result = try await Fixture.sandbox().run(["capsize-no-such-program", "x"])
        #expect(result.reason == .error)
        #expect(result.exitCode == 127)
        let message = try #require(result.message)
        #expect(message.contains("capsize-no-such-program"))
        #expect(message.contains("No such file or directory"))
    }

    @Test("a working directory that does not exist is an error with a message naming it")
    func missingWorkingDirectory() async throws {
        let result = try await Fixture.sandbox().run(["true"], workingDirectory: "/capsize/no/such/directory")
        #expect(result.reason == .error)
        #expect(result.message?.contains("/capsize/no/such/directory") == true)
    }

    @Test("stdout and stderr are captured separately and truncated at the output limit")
    func outputCapture() async throws {
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "head -c 100000 /dev/zero; echo oops >&2"], limits: SandboxLimits(outputLimitBytes: 1000))
        #expect(result.stdout.data.count == 1000)
        #expect(result.stdout.totalBytes == 100_000)
        #expect(result.stdout.truncated)
        #expect(result.stderr.text == "oops\n")
        #expect(!result.stderr.truncated)
    }

    @Test("onOutput is given every byte of stdout and stderr as it arrives, beyond what the result keeps")
    func outputStream() async throws {
        let streamed = Mutex<[UInt8]>([])
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "head -c 100000 /dev/zero; echo oops >&2"], limits: SandboxLimits(outputLimitBytes: 0)
        ) { bytes in streamed.withLock { $0 += bytes } }
        #expect(result.stdout.data.isEmpty && result.stdout.totalBytes == 100_000)
        let bytes = streamed.withLock { $0 }
        #expect(bytes.count == 100_005 && bytes.filter { $0 == 0 }.count == 100_000)
        #expect(String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self) == "oops\n")
    }

    @Test("stdin is delivered, and a program that does not read it is no problem")
    func standardInput() async throws {
        let sandbox = try Fixture.sandbox()
        let data = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
        let echoed = try await sandbox.run(["cat"], limits: SandboxLimits(outputLimitBytes: 1 << 20), stdin: data)
        #expect(echoed.stdout.data == data)
        let ignored = try await sandbox.run(["true"], stdin: Data(count: 1 << 20))
        #expect(ignored.reason == .completed)
        let none = try await sandbox.run(["cat"])
        #expect(none.stdout.totalBytes == 0)
    }

    @Test("TMPDIR is a private directory, measured after the run and removed")
    func privateTemporaryDirectory() async throws {
        let script = #"echo "$TMPDIR"; head -c 300000 /dev/urandom > "$TMPDIR/data""#
        let sandbox = try Fixture.sandbox()
        async let first = sandbox.run(["sh", "-c", script])
        async let second = sandbox.run(["sh", "-c", script])
        let results = try await [first, second]
        let paths = results.map { $0.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(paths[0] != paths[1])
        for (result, path) in zip(results, paths) {
            #expect(path.contains("capsize-sandbox-"))
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(result.temporaryDirectoryBytes >= 300_000)
        }
    }

    @Test("a given temporary directory is used and kept (an execution environment's)")
    func givenTemporaryDirectory() async throws {
        let sandbox = try Fixture.sandbox()
        let directory = try sandbox.makeTemporaryDirectory()
        defer { Sandbox.removeTemporaryDirectory(directory) }
        _ = try await sandbox.run(["sh", "-c", #"echo kept > "$TMPDIR/state""#], temporaryDirectory: directory)
        let second = try await sandbox.run(["sh", "-c", #"cat "$TMPDIR/state""#], temporaryDirectory: directory)
        #expect(second.stdout.text == "kept\n")
    }

    @Test("writing more than the temporary directory's cap ends the run as storage exceeded")
    func temporaryDirectoryCap() async throws {
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", #"head -c 2000000 /dev/urandom > "$TMPDIR/big"; sleep 10"#],
            limits: SandboxLimits(wallSeconds: 5, temporaryDirectoryBytes: 1_000_000))
        #expect(result.reason == .storageExceeded)
        #expect(result.temporaryDirectoryBytes > 1_000_000)
        #expect(result.wallSeconds < 1)
    }

    @Test("a CPU list sets the affinity and the thread variables of BLAS, OpenMP and PoCL")
    func cpusAndThreads() async throws {
        let script = """
            echo $OPENBLAS_NUM_THREADS $OMP_NUM_THREADS $POCL_CPU_MAX_CU_COUNT $POCL_MAX_PTHREAD_COUNT
            grep Cpus_allowed_list /proc/self/status
            """
        let pinned = try await Fixture.sandbox().run(["sh", "-c", script], limits: SandboxLimits(cpuList: [0]))
        #expect(pinned.stdout.text == "1 1 1 1\nCpus_allowed_list:\t0\n")
        let threads = try await Fixture.sandbox().run(["sh", "-c", script], limits: SandboxLimits(threads: 3))
        #expect(threads.stdout.text.hasPrefix("3 3 3 3\n"))
    }

    /// PoCL 3.x ignored `POCL_CPU_MAX_CU_COUNT`: a one-thread function rendered on both cores.
    @Test("one thread means one core: PoCL's CPU device renders on one thread when the sandbox says 1")
    func poclHonoursThreads() async throws {
        let capsize = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("capsize").path
        try #require(FileManager.default.isExecutableFile(atPath: capsize), "capsize next to the tests: \(capsize)")
        let result = try await Fixture.sandbox().run(
            [
                capsize, "bench", "render-frames", "--device", "opencl:0", "--frames", "24", "--repeat", "1",
                "--warmup", "0",
            ],
            limits: SandboxLimits(wallSeconds: 120, threads: 1))
        #expect(result.reason == .completed, "\(result.stderr.text)")
        let cpu = result.userSeconds + result.systemSeconds
        #expect(cpu <= 1.25 * result.wallSeconds, "CPU \(cpu) s in \(result.wallSeconds) s of wall: more than one core")
    }

    @Test("rlimits reach the program: open files, no core dumps, the address-space backstop")
    func resourceLimits() async throws {
        let limits = SandboxLimits(memoryBytes: 256 << 20, kernelMemoryBackstop: true, openFiles: 64)
        let result = try await Fixture.sandbox().run(["sh", "-c", "ulimit -n; ulimit -c; ulimit -v"], limits: limits)
        let expected = (256 << 20 + SandboxLimits.addressSpaceHeadroom) / 1024
        if case .addressSpace = result.kernelBackstop {
            #expect(result.stdout.text == "64\n0\n\(expected)\n")
        } else {
            #expect(result.stdout.text.hasPrefix("64\n0\n"))
        }
    }

    @Test("CPU time of the program is measured")
    func cpuTime() async throws {
        let result = try await Fixture.sandbox().run(
            [Fixture.python, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"])
        #expect(result.reason == .completed)
        #expect(result.userSeconds + result.systemSeconds >= 0.3)
        #expect(result.userSeconds + result.systemSeconds <= result.wallSeconds + 0.05)
    }

    @Test("the environment is the one given, with TMPDIR, HOME (the same folder) and POCL_CACHE_DIR on top")
    func environment() async throws {
        let result = try await Fixture.sandbox().run(
            ["/usr/bin/env"], environment: ["CAPSIZE_PROBE": "yes", "PATH": "/usr/bin:/bin"])
        let lines = Set(result.stdout.text.split(separator: "\n").map(String.init))
        #expect(lines.contains("CAPSIZE_PROBE=yes"))
        let added = lines.filter { $0.hasPrefix("TMPDIR=") || $0.hasPrefix("HOME=") || $0.hasPrefix("POCL_CACHE_DIR=") }
        #expect(lines.subtracting(added) == ["CAPSIZE_PROBE=yes", "PATH=/usr/bin:/bin"])
        let temporary = try #require(lines.first { $0.hasPrefix("TMPDIR=") }).dropFirst("TMPDIR=".count)
        #expect(lines.contains("HOME=\(temporary)") && added.count == 3)
    }

    @Test("with no environment given, a program sees none of capsize's variables but those passed by name")
    func defaultEnvironment() async throws {
        let result = try await Fixture.sandbox().run(["/usr/bin/env"])
        #expect(result.reason == .completed)
        let names = Set(result.stdout.text.split(separator: "\n").map { String($0.prefix { $0 != "=" }) })
        let allowed = Set(WorkloadEnvironment.passedByName + ["PATH", "LANG", "HOME", "TMPDIR", "POCL_CACHE_DIR"])
        #expect(names.subtracting(allowed).isEmpty, "\(names.subtracting(allowed))")
        #expect(result.stdout.text.contains("PATH=\(WorkloadEnvironment.systemPath)\n"))
    }

    @Test("cancelling the task kills the program and throws CancellationError")
    func cancellation() async throws {
        let sandbox = try Fixture.sandbox()
        let clock = ContinuousClock()
        let start = clock.now
        let marker = "99.\(UInt32.random(in: 1...UInt32.max))"
        let task = Task { try await sandbox.run(["sleep", marker]) }
        while Fixture.processes(withArgument: marker).count < 2 && clock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))  // the launcher and sleep both carry the marker
        }
        let cancelled = clock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The program sleeps 99 s: ending within 10 s means it was killed, not waited for (a tighter bound is a
        // timing goal, and failed under four parallel builds at 1.2–2.4 s).
        #expect(clock.now - cancelled < .seconds(10))
        #expect(Fixture.processes(withArgument: marker).isEmpty)
    }

    @Test(
        "limits out of range are refused with the field and the allowed values",
        arguments: [
            SandboxLimits(wallSeconds: 0), SandboxLimits(memoryBytes: 0), SandboxLimits(cpuList: []),
            SandboxLimits(cpuList: [100_000]), SandboxLimits(threads: 0),
            SandboxLimits(timeoutMode: .terminateThenKill(grace: -1)), SandboxLimits(kernelMemoryBackstop: true),
        ])
    func badLimits(limits: SandboxLimits) async throws {
        await #expect {
            try await Fixture.sandbox().run(["true"], limits: limits)
        } throws: { error in
            let message = (error as? SandboxError)?.message ?? ""
            return message.hasPrefix("Sandbox limit ") && message.contains("; use ")
        }
    }

    @Test("a launcher that does not exist is refused when the sandbox is made")
    func missingLauncher() {
        #expect(throws: SandboxError.self) { try Sandbox(launcherPath: "/capsize/no/capsize-launch") }
    }
}

@Suite struct LaunchEnvironmentTests {
    @Test("programs get the environment capsize was started with, not one a library rewrote in-process")
    func launchEnvironmentIgnoresSetenv() throws {
        // A variable of its own: other tests running in parallel read PATH and the rest.
        setenv("CAPSIZE_SET_AFTER_START", "1", 1)
        defer { unsetenv("CAPSIZE_SET_AFTER_START") }
        let environment = launchEnvironment()
        #expect(environment["CAPSIZE_SET_AFTER_START"] == nil)
        #expect(ProcessInfo.processInfo.environment["CAPSIZE_SET_AFTER_START"] == "1")
        #expect(environment["PATH"] != nil && environment["PATH"] == ProcessInfo.processInfo.environment["PATH"])
    }

    @Test("programs get the OPENBLAS_CORETYPE capsize chose from CPUID, with its marker, though it was set in-process")
    func launchEnvironmentCarriesTheChosenCoreType() throws {
        let environment = launchEnvironment()
        let selection = OpenBLASCoreType.selection
        if selection.source == .cpuid, let name = selection.requested {
            #expect(environment[OpenBLASCoreType.variable] == name)
            #expect(environment[OpenBLASCoreType.chosenMarker] == name)
        } else {
            // The user's value (or none): the start-up environment's, unchanged.
            #expect(environment[OpenBLASCoreType.variable] == selection.requested)
        }
    }
}

@Suite struct LeftoverDirectoryTests {
    @Test("temporary folders of capsize processes that are gone are removed; a running one's and others are kept")
    func leftoversOfEndedProcesses() throws {
        let base = try temporaryDirectory("capsize-leftovers")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let me = ProcessIdentity.current
        let names = [
            "capsize-sandbox-\(ended.processIdentifier)-12345-abcdef",  // its process is gone
            "capsize-sandbox-\(me.pid)-\((me.startTicks ?? 0) + 1)-ghijkl",  // this pid, but a process before it
            "capsize-sandbox-\(me.pid)-\(me.startTicks ?? 0)-mnopqr",  // this process's own
            "capsize-sandbox-XYZ123",  // not capsize's form
        ]
        for name in names {
            try FileManager.default.createDirectory(
                atPath: base + "/" + name + "/inner", withIntermediateDirectories: true)
        }
        let removed = Sandbox.removeLeftoverDirectories(under: base)
        #expect(Set(removed) == Set(names.prefix(2).map { base + "/" + $0 }))
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: base)) == Set(names.suffix(2)))
    }

    @Test("a new temporary folder is named after this process and its start time")
    func folderNamesItsOwner() throws {
        let path = try Fixture.sandbox().makeTemporaryDirectory()
        defer { Sandbox.removeTemporaryDirectory(path) }
        let me = ProcessIdentity.current
        #expect(
            URL(fileURLWithPath: path).lastPathComponent.hasPrefix("capsize-sandbox-\(me.pid)-\(me.startTicks ?? 0)-"))
    }
}
