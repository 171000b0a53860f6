internal import CLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One long-lived program (a `capsize worker`) under capsize-launch, spoken to in lines: the
/// interactive counterpart of `Sandbox.run`, for a Lambda execution environment.
///
/// A thread of its own spawns the launcher (the launcher's parent-death signal follows that thread),
/// then waits in `ppoll` on the pipes. While a request is outstanding it samples the resident memory of
/// the whole process tree every `sampleInterval`, checks the size of the private temporary directory,
/// and kills the tree with SIGKILL at the deadline, above the memory cap or above the storage cap;
/// between requests it sleeps in `ppoll` and costs nothing. The program is frozen between requests
/// with SIGSTOP on its process group and thawed with SIGCONT.
// @unchecked Sendable: `shared` is behind a Mutex; the other stored state is touched only by the
// supervising thread (after `start` hands it over).
final class EnvironmentProcess: @unchecked Sendable {
    struct Options: Sendable {
        /// The program and its arguments, e.g. `[".../capsize", "worker"]`.
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
    }

    /// Why the program ended.
    enum Ending: Sendable, Equatable {
        case timeout, outOfMemory, storageExceeded
        /// Closed by its owner.
        case closed
        /// It ended by itself: an exit status or a signal; `message` when it could not run at all.
        case exited(code: Int32?, signal: Int32?, message: String?)
    }

    /// The answer to one request (or to the start: the first line the program writes).
    struct Reply: Sendable {
        /// The line, without its newline; nil when the program ended first.
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
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Reply, Never>
        var start: Double
        var deadline: Double?
        /// Whether the CPU share holds while it waits (a request, not Init).
        var governed: Bool
    }

    private struct Shared {
        var outgoing: [UInt8] = []
        var waiter: Waiter?
        /// Bumped by every new request, so the thread knows to restart the peak.
        var generation = 0
        var pid: pid_t = 0
        var ending: Ending?
        var closing = false
        var frozen = false
        var spawnError: SandboxError?
        /// The root of the environment's process tree: its launcher, or the init of its PID namespace.
        var root: pid_t = 0
    }

    let options: Options
    private let shared = Mutex(Shared())
    private var wake: (read: Int32, write: Int32) = (-1, -1)

    // The supervising thread's own state.
    private var pipes = LaunchPipes()
    private var launcher: pid_t = 0
    /// The process whose descendants are the environment (`LaunchReport.treeRoot`): the launcher until it says
    /// which init it started.
    private var root: pid_t = 0
    private var tree = ProcessTree()
    /// Holds the tree to `options.cpuShare` during a request; made at the request's first reading.
    private var governor: CPUGovernor?
    private var governs = false
    /// The launcher ended without its "exited" report (something in the environment killed it): the tree is
    /// still held to its caps, and killed when it ends.
    private var launcherGone = false
    private var reportedExit = false
    private var peak: UInt64 = 0 {
        didSet { lifetimePeak = max(lifetimePeak, peak) }
    }
    private var lifetimePeak: UInt64 = 0
    private var seenGeneration = -1
    private var nextSample = 0.0
    private var nextStorageCheck = 0.0
    private var cause: Ending?
    private var stdoutBuffer: [UInt8] = []
    private var stderrTail: [UInt8] = []
    private var reportBuffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private static let storageCheckInterval = 0.25
    private static let stderrTailLimit = 4096

    init(options: Options) { self.options = options }

    /// The program's process id (its process group's too); 0 before it started.
    var pid: pid_t { shared.withLock { $0.pid } }

    /// Whether the program has ended.
    var hasEnded: Bool { shared.withLock { $0.ending != nil } }

    /// Starts the program and waits for its first line (a worker's init event).
    /// - Parameter deadline: seconds the first line may take; the tree is killed after that.
    /// - Returns: the first line, or how the program ended before writing one.
    /// - Throws: `SandboxError` when the launcher cannot be started.
    func start(deadline: Double?) async throws -> Reply {
        var fds: [Int32] = [-1, -1]
        guard pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw SandboxError("Cannot create a pipe for an execution environment (errno \(errno)); raise ulimit -n.")
        }
        wake = (fds[0], fds[1])
        let reply = await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            let now = monotonicSeconds()
            shared.withLock {
                $0.waiter = Waiter(
                    continuation: continuation, start: now, deadline: deadline.map { now + $0 }, governed: false)
                $0.generation += 1
            }
            let thread = Thread { [self] in
                do throws(SandboxError) {
                    try spawn()
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

    /// Thaws the program if frozen, writes `line` and a newline to its stdin and waits for one line back.
    /// - Parameter deadline: seconds the answer may take; at the deadline the tree is killed (`.timeout`).
    func request(_ line: Data, deadline: Double?) async -> Reply {
        thaw()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            let now = monotonicSeconds()
            let ended: Ending? = shared.withLock {
                if let ending = $0.ending { return ending }
                $0.outgoing += line
                $0.outgoing.append(UInt8(ascii: "\n"))
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

    /// Stops the program and every process below it (SIGSTOP) until the next request. Its group is not
    /// enough: a workload's own children may run in groups of their own (Foundation's `Process` does that).
    func freeze() {
        shared.withLock {
            guard $0.ending == nil, $0.pid > 0, !$0.frozen else { return }
            signalEverything(SIGSTOP, pid: $0.pid, root: $0.root)
            $0.frozen = true
        }
    }

    /// Resumes a frozen program and everything below it (SIGCONT).
    func thaw() {
        shared.withLock {
            guard $0.ending == nil, $0.pid > 0, $0.frozen else { return }
            signalEverything(SIGCONT, pid: $0.pid, root: $0.root)
            $0.frozen = false
        }
    }

    private func signalEverything(_ signal: Int32, pid: pid_t, root: pid_t) {
        kill(-pid, signal)
        var tree = ProcessTree()
        _ = tree.sample(below: root)
        for process in tree.processes { kill(process, signal) }
    }

    /// Kills the program and everything below it; returns at once (the thread reaps it).
    func close() {
        shared.withLock { $0.closing = true }
        poke()
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    private func closeWake() {
        LaunchPipes.close(&wake.read)
        LaunchPipes.close(&wake.write)
    }

    // MARK: The supervising thread

    private func spawn() throws(SandboxError) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        CapsizeProcess.becomeSubreaper()
        var arguments = [options.launcherPath, "--report-fd", "3", "--parent", "\(getpid())", "--rlimit", "core=0"]
        if let cpus = options.cpuList { arguments += ["--cpus", cpus.map(String.init).joined(separator: ",")] }
        if let openFiles = options.openFiles { arguments += ["--rlimit", "nofile=\(openFiles)"] }
        if let processes = options.processes { arguments += ["--rlimit", "nproc=\(processes)"] }
        if options.privateSharedMemory, let memory = options.memoryBytes {
            arguments += ["--private-shm", "\(memory)"]
        }
        if let user = options.user { arguments += ["--user", user.launcherValue] }
        if options.pidNamespace { arguments.append("--pid-namespace") }
        arguments.append("--")
        arguments += options.argv
        var environment = options.environment
        SandboxUser.completeEnvironment(
            &environment, temporary: options.temporaryDirectory, user: options.user, base: options.temporaryBase)
        launcher = try pipes.spawn(arguments: arguments, environment: environment, hasInput: true)
        root = launcher
        shared.withLock { [launcher] in $0.root = launcher }
    }

    private func supervise() {
        var polls: [pollfd] = []
        while pipes.stdout >= 0 || pipes.stderr >= 0 || pipes.report >= 0 {
            let now = monotonicSeconds()
            let (active, deadline, generation, closing, pending, governed) = shared.withLock {
                (
                    $0.waiter != nil, $0.waiter?.deadline, $0.generation, $0.closing, !$0.outgoing.isEmpty,
                    $0.waiter?.governed ?? false
                )
            }
            if closing && cause == nil { end(.closed) }
            var wake: Double? = nil
            if active {
                if generation != seenGeneration {
                    seenGeneration = generation
                    release()
                    governor = nil
                    governs = governed
                    peak = 0
                    nextSample = now
                    nextStorageCheck = now + Self.storageCheckInterval
                }
                enforce(now: now, deadline: deadline)
                wake = [nextSample, deadline ?? .infinity, governor?.resumeAt ?? .infinity].min()
            }
            if launcherGone {
                _ = sampleMemory()
                tree.reapAdopted()
                // Nothing of the tree runs any more: whatever still holds the pipes is not the environment's.
                if !tree.hasLiveProcesses { break }
                wake = min(wake ?? .infinity, now + options.sampleInterval)
            }
            polls.removeAll(keepingCapacity: true)
            for fd in [pipes.stdout, pipes.report, pipes.stderr, self.wake.read] where fd >= 0 {
                polls.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if pending && pipes.input >= 0 { polls.append(pollfd(fd: pipes.input, events: Int16(POLLOUT), revents: 0)) }
            let ready = waitForEvents(&polls, until: wake)
            if ready <= 0 { continue }
            for poll in polls where poll.revents != 0 {
                switch poll.fd {
                case pipes.stdout: drainStdout()
                case pipes.report: drainReport()
                case pipes.stderr: drainStderr()
                case self.wake.read: drainWake()
                case pipes.input: feedInput()
                default: break
                }
            }
        }
        var status: Int32 = 0
        while waitpid(launcher, &status, 0) < 0 && errno == EINTR {}
        if launcherGone {
            tree.killAll(below: root)  // the launcher's final sweep, which it did not live to do
            if root != launcher { ProcessTree.reapOrphanedRoot(root) }
        }
        pipes.closeAll()
        // The launcher ended without an "exited" report: killed by something in the environment.
        let ending =
            cause
            ?? (launcherGone
                ? .exited(
                    code: nil, signal: SIGKILL,
                    message: "capsize-launch, which supervises the environment, was killed (by a process of the "
                        + "environment); the environment's processes were killed with it")
                : .exited(code: nil, signal: nil, message: "capsize-launch ended (wait status \(status))"))
        finish(ending)
        closeWake()
    }

    /// Samples memory, checks storage and the deadline, and kills the tree at a cap.
    private func enforce(now: Double, deadline: Double?) {
        guard cause == nil else { return }
        if let deadline, now >= deadline { return end(.timeout) }
        if now >= nextSample {
            let bytes = sampleMemory()
            peak = max(peak, bytes)
            if let cap = options.memoryBytes, bytes > cap { return end(.outOfMemory) }
            if governs, let share = options.cpuShare, governor == nil {
                governor = CPUGovernor(share: share, now: now, used: tree.cpuSeconds)
            }
            govern(now: now)
            nextSample = now + options.sampleInterval
        } else if let resumeAt = governor?.resumeAt, now >= resumeAt {
            govern(now: now)
        }
        if let cap = options.temporaryDirectoryBytes, now >= nextStorageCheck {
            if TemporaryDirectory.size(of: options.temporaryDirectory) > cap { return end(.storageExceeded) }
            nextStorageCheck = monotonicSeconds() + Self.storageCheckInterval
        }
    }

    /// Stops or continues the tree for its CPU share, on the last reading of its CPU time.
    private func govern(now: Double) {
        guard governor != nil else { return }
        signal(for: governor!.update(now: now, used: tree.cpuSeconds))
    }

    /// Lets a tree the governor stopped go (its request is over, or it is being killed).
    private func release() {
        guard governor != nil else { return }
        signal(for: governor!.release(now: monotonicSeconds()))
    }

    private func signal(for action: CPUGovernor.Action) {
        guard let signal = action.signal else { return }
        let pid = shared.withLock { $0.pid }
        if pid > 0 { kill(-pid, signal) }
        for process in tree.processes { kill(process, signal) }
    }

    /// The resident memory of the tree, leaving out the worker's children that have not called exec yet.
    ///
    /// Foundation's `Process` forks the worker (from whichever thread, so the child's name may differ)
    /// before it execs a command: until the exec the child maps the worker's memory, and a sum of RSS
    /// would count the worker twice (and kill a 128 MB function that only runs `true`). A child of the
    /// worker whose executable is still the worker's is such a copy. The executable and the resident
    /// count both belong to the process's memory map, which exec replaces whole, so reading the first
    /// before the second never pairs a copy's name with a new image's memory the wrong way round.
    /// (A workload that runs capsize itself is undercounted by that child; none does today.)
    private func sampleMemory() -> UInt64 {
        let total = tree.sample(below: root)
        let stored = options.privateSharedMemory ? tree.privateSharedMemoryBytes() : 0
        let worker = shared.withLock { $0.pid }
        guard worker > 0, tree.processes.count > 1 else { return total + stored }
        if workerExecutable == nil { workerExecutable = executable(of: worker) }
        var bytes: UInt64 = 0
        for (index, process) in tree.processes.enumerated() {
            guard process != worker, tree.parents[index] == worker else {
                bytes += tree.residentBytes[index]
                continue
            }
            // The worker's own child: its executable first, then its memory read again (see above).
            if executable(of: process) == workerExecutable { continue }
            bytes += tree.residentBytes(of: process)
        }
        return bytes + stored
    }

    private var workerExecutable: String?
    private var smallBuffer = [UInt8](repeating: 0, count: 512)

    private func executable(of pid: pid_t) -> String? {
        let count = smallBuffer.withUnsafeMutableBytes { buffer in
            readlink("/proc/\(pid)/exe", buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
        }
        guard count > 0 else { return nil }
        return String(decoding: smallBuffer[..<count], as: UTF8.self)
    }

    /// Kills the tree for `reason`; the waiter is answered when the launcher reports the exit.
    private func end(_ reason: Ending) {
        cause = reason
        _ = tree.sample(below: root)
        let pid = shared.withLock { $0.pid }
        if pid > 0 {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        for process in tree.processes { kill(process, SIGKILL) }
    }

    /// Answers the outstanding request, if any.
    private func resolve(line: Data?, ending: Ending?) {
        release()
        governor = nil
        governs = false
        let waiter: Waiter? = shared.withLock {
            let waiter = $0.waiter
            $0.waiter = nil
            return waiter
        }
        guard let waiter else { return }
        let seconds = monotonicSeconds() - waiter.start
        let tail = String(decoding: stderrTail, as: UTF8.self)
        waiter.continuation.resume(
            returning: Reply(
                line: line, ending: ending, seconds: seconds, peakBytes: peak, lifetimePeakBytes: lifetimePeak,
                stderrTail: tail))
    }

    private func finish(_ ending: Ending) {
        shared.withLock { if $0.ending == nil { $0.ending = ending } }
        resolve(line: nil, ending: ending)
    }

    private func drainStdout() {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipes.stdout, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count == 0 || errno != EAGAIN { LaunchPipes.close(&pipes.stdout) }
                return
            }
            // Only the bytes just read can hold a new line's end: searching the whole buffer on every read made
            // a 6 MB answer take 30 s in a debug build.
            var searched = stdoutBuffer.count
            stdoutBuffer += chunk[..<count]
            while let newline = stdoutBuffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(stdoutBuffer[..<newline])
                stdoutBuffer.removeSubrange(...newline)
                searched = 0
                if cause == nil {
                    // One last reading, so that a short request still has a peak; and a last look at /tmp,
                    // so that a request shorter than the storage check interval is checked too.
                    peak = max(peak, sampleMemory())
                    if let cap = options.temporaryDirectoryBytes,
                        TemporaryDirectory.size(of: options.temporaryDirectory) > cap
                    {
                        end(.storageExceeded)
                        continue
                    }
                    resolve(line: line, ending: nil)
                }
            }
        }
    }

    private func drainStderr() {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipes.stderr, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count == 0 || errno != EAGAIN { LaunchPipes.close(&pipes.stderr) }
                return
            }
            stderrTail += chunk[..<count]
            if stderrTail.count > Self.stderrTailLimit {
                stderrTail.removeFirst(stderrTail.count - Self.stderrTailLimit)
            }
        }
    }

    private func drainReport() {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipes.report, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count == 0 || errno != EAGAIN {
                    LaunchPipes.close(&pipes.report)
                    launcherGone = !reportedExit
                }
                return
            }
            reportBuffer += chunk[..<count]
            while let newline = reportBuffer.firstIndex(of: UInt8(ascii: "\n")) {
                let report = LaunchReport.decode(reportBuffer[..<newline])
                reportBuffer.removeSubrange(...newline)
                guard let report else { continue }
                if report.event == "started" {
                    if let initPID = report.namespaceInit { root = initPID }
                    let closing = shared.withLock { [root] in
                        $0.pid = report.pid
                        $0.root = root
                        return $0.closing
                    }
                    if closing { end(.closed) }
                } else if report.event == "exited" {
                    reportedExit = true
                    drainStdout()  // a last line written just before the end still counts
                    let ending =
                        cause ?? .exited(code: report.exit, signal: report.signal, message: report.error)
                    cause = ending
                    finish(ending)
                }
            }
        }
    }

    private func drainWake() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wake.read, &bytes, bytes.count) > 0 {}
    }

    private func feedInput() {
        var pending = shared.withLock { $0.outgoing }
        var written = 0
        while written < pending.count {
            let count = pending.withUnsafeBytes { write(pipes.input, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { break }
            if count <= 0 {
                // EPIPE: the program closed its stdin; it is ending, the exit report answers the waiter.
                LaunchPipes.close(&pipes.input)
                written = pending.count
                break
            }
            written += count
        }
        pending.removeAll()
        shared.withLock { $0.outgoing.removeFirst(min(written, $0.outgoing.count)) }
    }
}
