import CloudModel
import Foundation
import Testing

@testable import Execution

/// Programs that try to get out from under their caps: by killing their launcher, by leaving their session
/// (setsid), by closing their pipes. Whatever they do, nothing outlives the run and the caps hold.
///
/// The launcher-killing tests run without a PID namespace (`Sandbox.usesPIDNamespace`, capsize's way where one
/// cannot be made), where the program can kill its launcher; in a namespace it cannot (`PIDNamespaceTests`).
@Suite(.serialized, .timeLimit(.minutes(1))) struct EscapeTests {
    /// Runs `sh -c script` (with `arguments` after it) where it can kill its launcher, under `limits`: the result,
    /// and the pid of the daemon the script started and printed on its first line.
    static func runStartingDaemon(_ script: String, _ arguments: [String] = [], limits: SandboxLimits) async throws
        -> (result: SandboxResult, daemon: Int32)
    {
        let result = try await Fixture.sandbox(pidNamespace: false).run(
            ["sh", "-c", script] + arguments, limits: limits)
        let daemon = try #require(Int32(result.stdout.text.split(separator: "\n").first.map(String.init) ?? ""))
        return (result, daemon)
    }

    /// Waits up to a second for a killed process to be gone (a zombie adopted by capsize is reaped by the run).
    static func gone(_ pid: Int32) -> Bool {
        for _ in 0..<100 {
            if !Fixture.exists(pid) { return true }
            usleep(10_000)
        }
        return false
    }

    @Test("a program that kills its launcher still ends at its timeout, and its setsid grandchild goes with it")
    func killedLauncherKeepsTimeout() async throws {
        let script = "setsid sleep 30 & echo $!; sleep 0.2; kill -9 $PPID; sleep 30"
        let (result, daemon) = try await Self.runStartingDaemon(script, limits: SandboxLimits(wallSeconds: 1.5))
        #expect(result.reason == .timeout)
        #expect(result.wallSeconds < 5, "\(result.wallSeconds) s")
        #expect(Self.gone(daemon), "the setsid sleep \(daemon) outlived the run")
    }

    @Test("a grandchild that grows past the memory cap after its launcher was killed is killed for memory")
    func killedLauncherKeepsMemoryCap() async throws {
        let grow = "import time\nb = bytearray(b'\\x01') * (150 << 20)\ntime.sleep(30)"
        let script =
            "setsid sh -c 'sleep 0.4; exec \(Fixture.python) -c \"$0\"' \"$1\" & echo $!; sleep 0.2; kill -9 $PPID; sleep 30"
        let (result, daemon) = try await Self.runStartingDaemon(
            script, ["sh", grow], limits: SandboxLimits(wallSeconds: 20, memoryBytes: 100 << 20))
        #expect(result.reason == .outOfMemory)
        #expect(result.sampledPeakRSSBytes > 100 << 20)
        #expect(Self.gone(daemon))
    }

    @Test("a daemon that closed its pipes is killed when its launcher is killed, and the run says what happened")
    func killedLauncherDaemonIsSwept() async throws {
        // The shell's last word is the kill: it may end by itself or by its parent-death signal first.
        let script = "setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!; sleep 0.2; kill -9 $PPID"
        let (result, daemon) = try await Self.runStartingDaemon(script, limits: SandboxLimits(wallSeconds: 20))
        #expect(result.reason == .crash || result.reason == .completed)
        #expect(result.message?.contains("capsize-launch") == true)
        #expect(result.wallSeconds < 5)
        #expect(Self.gone(daemon), "the daemon \(daemon) outlived the run")
    }

    @Test("a held program that kills its launcher is still held to its CPU share")
    func killedLauncherKeepsShare() async throws {
        // $PPID is the program (the outer shell); its parent is capsize-launch.
        let script =
            #"sleep 0.1; kill -9 $(cut -d" " -f4 /proc/$PPID/stat); i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"#
        let started = monotonicSeconds()
        let result = try await Fixture.sandbox(pidNamespace: false).run(
            ["sh", "-c", "setsid sh -c '\(script)' & sleep 30"], limits: SandboxLimits(wallSeconds: 3, cpuShare: 0.25))
        // The loop's CPU (about 0.2 s here) at a quarter of a CPU: the run cannot be over in under half a second.
        #expect(monotonicSeconds() - started > 0.5)
        // The outer shell's `sleep 30` is still in the tree (killed launcher or not): the run ends at its timeout.
        #expect(result.reason == .timeout)
    }

    @Test("a function whose command kills the environment's launcher ends at its timeout, leaving nothing running")
    func functionKillingItsLauncher() async throws {
        // The command's parent is the worker; the worker's parent is capsize-launch.
        // `sleep 30.25`: a length no other test sleeps, so that only this test's sleeps are counted below (tests run
        // in parallel, and BatchServingTests' jobs `sleep 30` until they are terminated).
        let script =
            "setsid sleep 30.25 & echo $! > \"$TMPDIR/daemon\"; sleep 0.2; "
            + "kill -9 $(cut -d' ' -f4 /proc/$PPID/stat); sleep 30.25"
        let configuration = try FunctionConfiguration(memoryMB: 512, timeoutSeconds: 2)
        var options = FunctionExecutor.Options(workerCommand: [FunctionExecutorTests.capsize, "worker"])
        options.temporaryBase = FileManager.default.temporaryDirectory.path
        let executor = try FunctionExecutor(
            settings: FunctionSettings(configuration: configuration),
            event: FunctionEvent(workload: "command", arguments: ["--", "sh", "-c", script]), options: options)
        let started = monotonicSeconds()
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .timeout || outcome.status == .crash, "\(outcome.status)")
        #expect(monotonicSeconds() - started < 8)
        let sleeps = Fixture.processes(withArgument: "30.25").filter { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("sleep") == true
        }
        #expect(sleeps.allSatisfy { Self.gone($0) }, "sleep 30.25 left running: \(sleeps)")
    }
}

/// /dev/shm is memory: a tmpfs page is as resident as a heap page. Jobs and functions get their own (as root).
@Suite(.serialized, .timeLimit(.minutes(1)), .enabled(if: getuid() == 0, "a private /dev/shm needs root"))
struct SharedMemoryTests {
    static func shmFiles() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
    }

    @Test("300 MB written to /dev/shm by a 64 MiB job kill it for memory, and nothing stays in the machine's /dev/shm")
    func sharedMemoryCountsAndGoes() async throws {
        let before = Self.shmFiles()
        var limits = SandboxLimits(wallSeconds: 20, memoryBytes: 64 << 20)
        limits.privateSharedMemory = true
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "dd if=/dev/zero of=/dev/shm/capsize-test bs=1M count=300 2>/dev/null; sleep 5"],
            limits: limits)
        #expect(result.reason == .outOfMemory)
        #expect(result.wallSeconds < 4)
        #expect(Self.shmFiles() == before)
    }

    @Test("a function's /dev/shm is its environment's: it counts against Memory Size and goes with the environment")
    func functionSharedMemory() async throws {
        let before = Self.shmFiles()
        let write = "dd if=/dev/zero of=/dev/shm/capsize-test bs=1M count=200 2>/dev/null; sleep 3"
        let executor = try FunctionExecutorTests.executor(["sh", "-c", write], memory: 128, timeout: 10)
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .outOfMemory)
        #expect(Self.shmFiles() == before)
    }

    @Test("what a job keeps in /dev/shm under its cap is measured as its memory")
    func sharedMemoryIsMeasured() async throws {
        var limits = SandboxLimits(wallSeconds: 20, memoryBytes: 512 << 20)
        limits.privateSharedMemory = true
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "dd if=/dev/zero of=/dev/shm/x bs=1M count=100 2>/dev/null; sleep 0.3"], limits: limits)
        #expect(result.reason == .completed)
        #expect(result.sampledPeakRSSBytes >= 100 << 20, "\(result.sampledPeakRSSBytes) bytes")
    }
}
