import Foundation
import Store

/// One execution environment: a `capsize worker` under capsize-launch, with its private /tmp and its uid.
final class FunctionEnvironment: Sendable {
    let id = RunRecord.newID()
    let process: EnvironmentProcess
    let createdAt = Date()
    /// Init Duration; nil when Init ran past Lambda's limit (it was counted into the first invocation).
    let initDurationMs: Double?
    /// The uid the environment runs as, held until it is reaped (nil: capsize's own user).
    let user: SandboxUser.Lease?
    nonisolated(unsafe) var served = 0  // only touched inside the executor's actor
    nonisolated(unsafe) var lastUsed = 0.0  // only touched inside the executor's actor

    init(process: EnvironmentProcess, initDurationMs: Double?, user: SandboxUser.Lease?) {
        self.process = process
        self.initDurationMs = initDurationMs
        self.user = user
    }

    /// Ends it for good: kills its process tree, removes its /tmp and gives its uid back.
    func close() {
        process.close()
        TemporaryDirectory.remove(process.options.temporaryDirectory)
        user?.release()
    }
}

/// The function's idle environments, frozen between invocations, the most recently used last. An environment
/// is out of the pool while it serves an invocation; whoever takes one out closes it or parks it again.
struct EnvironmentPool {
    private(set) var idle: [FunctionEnvironment] = []

    /// The most recently used idle environment that is still alive (as Lambda tends to pick), and the ones
    /// found dead while idle on the way, to be reaped.
    mutating func takeWarm() -> (warm: FunctionEnvironment?, dead: [FunctionEnvironment]) {
        var dead: [FunctionEnvironment] = []
        while let candidate = idle.popLast() {
            if !candidate.process.hasEnded { return (candidate, dead) }
            dead.append(candidate)
        }
        return (nil, dead)
    }

    /// Freezes an environment that answered and keeps it for the next invocation.
    mutating func park(_ environment: FunctionEnvironment, now: Double) {
        environment.process.freeze()
        environment.lastUsed = now
        idle.append(environment)
    }

    /// Takes out the environments idle for at least `idleTimeout` seconds at `now`.
    mutating func takeExpired(now: Double, idleTimeout: Double) -> [FunctionEnvironment] {
        let expired = idle.filter { now - $0.lastUsed >= idleTimeout }
        idle = idle.filter { now - $0.lastUsed < idleTimeout }
        return expired
    }

    /// Takes out every idle environment.
    mutating func takeAll() -> [FunctionEnvironment] {
        defer { idle.removeAll() }
        return idle
    }
}
