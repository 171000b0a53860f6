import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One long-lived program (a `capsize worker`, a user's `bootstrap` or awslambdaric) under capsize-launch, spoken to
/// through the Lambda Runtime API (`RuntimeAPIServer`, its address in `AWS_LAMBDA_RUNTIME_API`): the interactive
/// counterpart of `Sandbox.run`, for a Lambda execution environment. The program's stdout and stderr are its log.
///
/// A thread of its own spawns the launcher (the launcher's parent-death signal follows that thread) and
/// supervises it with the sandbox's `LaunchSupervisor`, as `Sandbox.run` does a run: while a request is
/// outstanding the tree is held to the caps (memory sampled every `sampleInterval`, the private temporary
/// directory's size, SIGKILL at the deadline or above a cap, the CPU share); between requests the thread
/// sleeps in `ppoll` and costs nothing. The program is frozen between requests with SIGSTOP on its process
/// group, once it has asked for its next event (as Lambda freezes it), and thawed with SIGCONT.
// @unchecked Sendable: `shared` is behind a Mutex; the other stored state is touched only by the
// supervising thread (after `start` hands it over).
final class EnvironmentProcess: @unchecked Sendable {
    struct Options: Sendable {
        /// The runtime and its arguments, e.g. `[".../capsize", "worker"]`.
        var argv: [String]
        var environment: [String: String]
        var launcherPath: String
        /// Cap on the tree's resident memory; above it the tree is killed (`Ending.outOfMemory`).
        var memoryBytes: UInt64?
        /// Cap on the bytes under `temporaryDirectory`; above it the tree is killed (`.storageExceeded`).
        var temporaryDirectoryBytes: UInt64?
        /// The program's `TMPDIR`, made and removed by the owner.
        var temporaryDirectory: String
        var sampleInterval: Double = 0.005
        var cpuList: [Int]? = nil
        /// CPU-seconds per second the tree may use while it answers a request (Lambda's vCPU share); nil:
        /// full speed. Init is not held to it: Lambda runs Init with a burst of CPU (up to its 10 s limit).
        var cpuShare: Double? = nil
        /// `RLIMIT_NOFILE` and `RLIMIT_NPROC` (Lambda: 1,024 each; the kernel counts a user's processes together
        /// and does not hold root to the second).
        var openFiles: UInt64? = nil
        var processes: UInt64? = nil
        /// A /dev/shm of the environment's own, counted against `memoryBytes` (see `SandboxLimits.privateSharedMemory`).
        var privateSharedMemory = false
        /// The user the program runs as (capsize is root); `temporaryDirectory` must be its own.
        var user: SandboxUser? = nil
        /// A PID namespace of the environment's own (see `Sandbox.usesPIDNamespace`).
        var pidNamespace = Sandbox.pidNamespaceByDefault
        /// Where PoCL's per-user kernel cache goes (see `SandboxUser.completeEnvironment`).
        var temporaryBase: String = FileManager.default.temporaryDirectory.path
        /// The longest response a runtime may post (Lambda's 6 MB).
        var responseLimit = FunctionExecutor.responseLimit
        /// The directory the program starts in (nil: capsize's own).
        var workingDirectory: String? = nil
    }

    /// An error the runtime posted (`/invocation/{id}/error`, `/init/error`), or the error
    /// Lambda makes of a response too large.
    struct FunctionError: Sendable, Equatable {
        var errorType: String
        var errorMessage: String
        /// What the invoke answers: the posted document, or Lambda's own.
        var payload: Data
    }

    /// Why the program ended.
    enum Ending: Sendable, Equatable {
        case timeout, outOfMemory, storageExceeded
        /// Closed by its owner.
        case closed
        /// It ended by itself: an exit status or a signal; `message` when it could not run at all.
        case exited(code: Int32?, signal: Int32?, message: String?)
    }

    /// The answer to one invocation (or to the start: the runtime's first `GET /next`).
    struct Reply: Sendable {
        /// The posted response (or error document); empty for the start; nil when the program ended first.
        var line: Data?
        /// Set when the program ended (the environment is gone).
        var ending: Ending?
        /// Seconds from the request (or the spawn) to the line or the end, on the monotonic clock.
        var seconds: Double
        /// The highest resident memory of the tree sampled while the request was outstanding.
        var peakBytes: UInt64
        /// The highest over the environment's whole life so far, Init included: Lambda's Max Memory Used.
        var lifetimePeakBytes: UInt64 = 0
        /// The end of stderr (at most 4 KiB), for messages about a program that died.
        var stderrTail: String
        /// The runtime's posted error; `line` is then its payload.
        var functionError: FunctionError? = nil
        /// What the runtime wrote to stdout and stderr while the request was outstanding, its last 4 KiB.
        var log: String = ""
    }

    struct Waiter {
        var continuation: CheckedContinuation<Reply, Never>
        var start: Double
        var deadline: Double?
        /// Whether the CPU share holds while it waits (a request, not Init).
        var governed: Bool
    }

    struct Shared {
        /// An event for the Runtime API server, not yet handed to it.
        var invocation: RuntimeInvocation?
        var waiter: Waiter?
        /// Bumped by every new request, so the thread knows to restart the peak.
        var generation = 0
        var pid: pid_t = 0
        var ending: Ending?
        var closing = false
        var frozen = false
        /// A freeze asked for and not yet done: the monotonic time by which it is done even if the runtime has not
        /// asked for its next event by then.
        var freezeBy: Double?
        var spawnError: SandboxError?
        /// The root of the environment's process tree: its launcher, or the init of its PID namespace.
        var root: pid_t = 0
    }

    let options: Options
    let shared = Mutex(Shared())
    var wake: (read: Int32, write: Int32) = (-1, -1)

    // The supervising thread's own state.
    let launch: LaunchSupervisor
    var seenGeneration = -1
    var stderrTail = OutputTail(limit: 4096)
    /// The Runtime API's server, made by `start`.
    var server: RuntimeAPIServer?
    /// The runtime's output while the current request is outstanding.
    var invocationLog = OutputTail(limit: 4096)
    /// Whether the runtime has not yet ended its Init.
    var initializing = true

    init(options: Options) {
        self.options = options
        var limits = SandboxLimits(
            memoryBytes: options.memoryBytes, cpuList: options.cpuList,
            temporaryDirectoryBytes: options.temporaryDirectoryBytes, openFiles: options.openFiles,
            processes: options.processes)
        limits.privateSharedMemory = options.privateSharedMemory
        launch = LaunchSupervisor(
            limits: limits, temporaryDirectory: options.temporaryDirectory, sampleInterval: options.sampleInterval,
            leavesOutCopies: true)
    }

    /// The program's process id (its process group's too); 0 before it started.
    var pid: pid_t { shared.withLock { $0.pid } }

    /// Whether the program has ended.
    var hasEnded: Bool { shared.withLock { $0.ending != nil } }

    /// Starts the runtime and waits for the end of its Init: its first `GET /next` (or `/init/error`).
    /// - Parameter deadline: seconds Init may take; the tree is killed after that.
    /// - Returns: an empty line, the Init error, or how the runtime ended before either.
    /// - Throws: `SandboxError` when the launcher cannot be started.
    func start(deadline: Double?) async throws -> Reply {
        do { wake = try Posix.pipe(flags: O_CLOEXEC | O_NONBLOCK) } catch {
            throw SandboxError("Cannot create a pipe for an execution environment (\(error)); raise ulimit -n.")
        }
        do { server = try RuntimeAPIServer(responseLimit: options.responseLimit) } catch {
            closeWake()
            throw SandboxError("Cannot listen on 127.0.0.1 for the Lambda Runtime API (\(error)).")
        }
        let reply = await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            let now = monotonicSeconds()
            shared.withLock {
                $0.waiter = Waiter(
                    continuation: continuation, start: now, deadline: deadline.map { now + $0 }, governed: false)
                $0.generation += 1
            }
            let thread = Thread { [self] in
                LaunchSupervisor.prepareThread()
                do throws(SandboxError) {
                    try launch.spawn(
                        launcherPath: options.launcherPath, options: launcherOptions(), environment: environment(),
                        hasInput: false)
                    shared.withLock { [launch] in $0.root = launch.launcher }
                } catch {
                    shared.withLock {
                        $0.spawnError = error
                        $0.ending = .exited(code: nil, signal: nil, message: error.message)
                    }
                    resolve(line: nil, ending: .exited(code: nil, signal: nil, message: error.message))
                    closeWake()
                    return
                }
                supervise()
            }
            thread.name = "capsize-environment"
            thread.start()
        }
        if let error = shared.withLock({ $0.spawnError }) { throw error }
        return reply
    }

    /// Thaws the runtime if frozen, hands `invocation` to it through the Runtime API and waits for its response or
    /// error (`Reply.line` is the response's body, `Reply.functionError` set for an error).
    /// - Parameter deadline: seconds the answer may take; at the deadline the tree is killed (`.timeout`).
    func invoke(_ invocation: RuntimeInvocation, deadline: Double?) async -> Reply {
        thaw()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            let now = monotonicSeconds()
            let ended: Ending? = shared.withLock {
                if let ending = $0.ending { return ending }
                $0.invocation = invocation
                $0.waiter = Waiter(
                    continuation: continuation, start: now, deadline: deadline.map { now + $0 },
                    governed: options.cpuShare != nil)
                $0.generation += 1
                return nil
            }
            if let ended {
                continuation.resume(
                    returning: Reply(line: nil, ending: ended, seconds: 0, peakBytes: 0, stderrTail: ""))
            } else {
                poke()
            }
        }
    }

    /// How long a runtime that answered may go on before it is frozen without having asked for its next event. It runs
    /// outside any invocation's CPU share meanwhile, so the grace is short: capsize's worker and awslambdaric ask
    /// within a fraction of a millisecond.
    static let freezeGrace = 0.01

    /// Stops the program and every process below it (SIGSTOP) until the next request, once it waits on its next
    /// event (`GET /next`), as Lambda freezes an environment: frozen between its answer and that request, it would
    /// pay the request's round trip inside the next invocation. One that does not ask within `freezeGrace` is
    /// frozen anyway. Its group is not enough: a workload's own children may run in groups of their own
    /// (Foundation's `Process` does that).
    func freeze() {
        shared.withLock {
            guard $0.ending == nil, $0.pid > 0, !$0.frozen else { return }
            $0.freezeBy = monotonicSeconds() + Self.freezeGrace
        }
        poke()
    }

    /// Stops the tree now (the supervising thread, when the runtime waits on `/next` or the grace is over).
    func stopTree(_ shared: inout Shared) {
        shared.freezeBy = nil
        guard shared.ending == nil, shared.pid > 0, !shared.frozen else { return }
        ProcessTree.signal(SIGSTOP, group: shared.pid, below: shared.root)
        shared.frozen = true
    }

    /// Resumes a frozen program and everything below it (SIGCONT); a freeze not yet done is called off.
    func thaw() {
        shared.withLock {
            $0.freezeBy = nil
            guard $0.ending == nil, $0.pid > 0, $0.frozen else { return }
            ProcessTree.signal(SIGCONT, group: $0.pid, below: $0.root)
            $0.frozen = false
        }
    }

    /// Kills the program and everything below it; returns at once (the thread reaps it).
    func close() {
        shared.withLock { $0.closing = true }
        poke()
    }

    func poke() {
        var byte: UInt8 = 1
        _ = withUnsafeBytes(of: &byte) { try? Posix.write(wake.write, from: $0) }
    }

    func closeWake() {
        Posix.close(&wake.read)
        Posix.close(&wake.write)
    }
}
