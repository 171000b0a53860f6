import Foundation
import Testing

@testable import Execution

/// The CPU-share governor: first its rule on a simulated tree (deterministic), then through the real sandbox.
@Suite(.timeLimit(.minutes(1))) struct CPUGovernorTests {
    /// Runs a simulated CPU-bound tree that needs `work` CPU-seconds at `parallelism` CPUs under the governor,
    /// read every `interval` seconds with clock-tick (10 ms) resolution as /proc gives it; returns the wall
    /// seconds it took and the governor.
    static func simulate(share: Double, work: Double, parallelism: Double = 1, interval: Double = 0.005)
        -> (seconds: Double, governor: CPUGovernor)
    {
        var governor = CPUGovernor(share: share, now: 0, used: 0)
        var now = 0.0
        var used = 0.0
        let step = 0.0001
        var nextReading = interval / 2
        while used < work {
            if !governor.stopped { used = min(work, used + parallelism * step) }
            now += step
            let reading = (used * 100).rounded(.down) / 100
            if let resumeAt = governor.resumeAt, now >= resumeAt { _ = governor.update(now: now, used: reading) }
            if now >= nextReading {
                _ = governor.update(now: now, used: reading)
                nextReading = now + interval
            }
        }
        return (now, governor)
    }

    @Test(
        "a CPU-bound tree's wall time is its CPU time divided by its share, within 5 %",
        arguments: [0.0724, 0.25, 0.5, 1.0])
    func cpuBoundTakesCPUOverShare(share: Double) {
        let (seconds, governor) = Self.simulate(share: share, work: 0.3)
        let expected = 0.3 / share
        #expect(abs(seconds - expected) / expected < 0.05, "\(seconds) s against \(expected) s")
        if share < 1 { #expect(governor.stops > 0) }
    }

    @Test("a tree running on four CPUs is held to a share of 2 over the run")
    func parallelTreeHeldToShare() {
        let (seconds, _) = Self.simulate(share: 2, work: 1.2, parallelism: 4)
        #expect(abs(seconds - 0.6) / 0.6 < 0.05, "\(seconds) s")
    }

    @Test("a tree that waits (uses no CPU) is never stopped")
    func idleTreeIsNotStopped() {
        // It used a millisecond to start before the first reading (the baseline), then nothing but a tick's
        // worth over the next five seconds.
        var governor = CPUGovernor(share: 0.0724, now: 0, used: 0.001)
        for tick in 1...1000 {
            #expect(governor.update(now: Double(tick) * 0.005, used: tick < 500 ? 0.001 : 0.011) == .none)
        }
        #expect(governor.stops == 0)
    }

    @Test("a tree idle for a minute banks at most a tenth of a second at its share, not a minute")
    func idleCreditIsCapped() {
        var governor = CPUGovernor(share: 0.5, now: 0, used: 0)
        _ = governor.update(now: 60, used: 0)
        #expect(governor.credit <= CPUGovernor.burst(share: 0.5) + 1e-12)
        #expect(governor.update(now: 60.01, used: 1) == .stop)
        let resumeAt = try! #require(governor.resumeAt)
        #expect(resumeAt > 61.8)
    }

    // MARK: Through the sandbox

    /// A shell loop that burns about 0.2 s of CPU.
    static let burn = ["sh", "-c", "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"]

    @Test("a CPU-bound program at share 0.25 takes at least its CPU time / 0.25")
    func governedProgramIsHeld() async throws {
        let result = try await Fixture.sandbox().run(Self.burn, limits: SandboxLimits(cpuShare: 0.25))
        let cpu = result.userSeconds + result.systemSeconds
        #expect(result.reason == .completed)
        #expect(result.cpuShare == 0.25)
        #expect(cpu > 0.05, "the loop used \(cpu) s")
        // The lower bound holds however busy the machine is; the upper bound only says it was not held forever.
        #expect(result.wallSeconds >= 0.9 * cpu / 0.25, "\(result.wallSeconds) s of wall for \(cpu) s of CPU")
        #expect(result.wallSeconds < 10 * cpu / 0.25 + 2)
    }

    @Test("a program that sleeps under a tiny share is not slowed")
    func sleepingProgramIsNotHeld() async throws {
        let result = try await Fixture.sandbox().run(["sleep", "0.4"], limits: SandboxLimits(cpuShare: 0.0724))
        #expect(result.reason == .completed)
        #expect(result.cpuThrottledSeconds == 0)
        #expect(result.wallSeconds < 1.5)
    }

    @Test("a held program still gets its SIGTERM at the timeout and exits within the grace period")
    func heldProgramIsTerminatedAtTimeout() async throws {
        let limits = SandboxLimits(wallSeconds: 0.5, timeoutMode: .terminateThenKill(grace: 5), cpuShare: 0.05)
        let result = try await Fixture.sandbox().run(
            ["sh", "-c", "trap 'echo terminated; exit 0' TERM; while :; do :; done"], limits: limits)
        #expect(result.reason == .timeout)
        #expect(result.stdout.text.contains("terminated"))
        #expect(result.wallSeconds < 4, "a stopped program kept its SIGTERM pending: \(result.wallSeconds) s")
    }

    @Test("CPU time of children that already exited counts against the share")
    func exitedChildrenCount() async throws {
        // Ten short children, each reaped by the shell: only their parent's reaped-children time shows them.
        let script = "for n in 1 2 3 4 5 6 7 8 9 10; do sh -c 'i=0; while [ $i -lt 15000 ]; do i=$((i+1)); done'; done"
        let result = try await Fixture.sandbox().run(["sh", "-c", script], limits: SandboxLimits(cpuShare: 0.25))
        let cpu = result.userSeconds + result.systemSeconds
        #expect(result.wallSeconds >= 0.85 * cpu / 0.25, "\(result.wallSeconds) s of wall for \(cpu) s of CPU")
    }

    @Test("shares outside 0.01...1024 CPUs are refused by name", arguments: [0, -1, 0.001, 2000, .nan, .infinity])
    func badShareIsRefused(share: Double) {
        #expect(throws: SandboxError.self) { try SandboxLimits(cpuShare: share).validate() }
    }
}
