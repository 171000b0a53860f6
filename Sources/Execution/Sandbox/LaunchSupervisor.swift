import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What differs between the owners of a supervised launch: one run of a program (`Supervisor`, for `Sandbox.run`)
/// and an execution environment that answers requests for as long as it lives (`EnvironmentProcess`). The launch
/// calls its owner from its loop, on the supervising thread.
protocol LaunchOwner: AnyObject {
    /// Before each wait: the owner's turn to apply the caps (`LaunchSupervisor.enforce`) and to say what to wait for.
    func nextWait(_ launch: LaunchSupervisor, now: Double) -> LaunchSupervisor.Wait
    /// A line of the launcher's report, "started" or "exited".
    func launch(_ launch: LaunchSupervisor, reported report: LaunchReport)
    /// Bytes the program wrote to `stream`.
    func launch(_ launch: LaunchSupervisor, wrote bytes: ArraySlice<UInt8>, to stream: LaunchSupervisor.Stream)
    /// The program's stdin takes bytes now (asked for by `Wait.writing`); see `LaunchSupervisor.writeInput`.
    func feedInput(_ launch: LaunchSupervisor)
    /// One of `Wait.also` is ready: `events` are its `revents`.
    func woken(_ launch: LaunchSupervisor, descriptor: Int32, events: Int16)
}

/// One capsize-launch and the process tree below it, supervised from one thread: the supervisor of every program
/// capsize starts, batch job, bench repetition or execution environment alike.
///
/// It spawns the launcher (or hands the run to the resident one, `LaunchServer`), waits in `ppoll` on the pipes,
/// hands the program's output and the launcher's reports to its owner, and holds the tree to `limits`: SIGKILL at
/// the deadline (or SIGTERM to the group, then SIGKILL after the grace), a reading of the whole tree's resident
/// memory every `sampleInterval` (above the cap: SIGKILL), the size of the private temporary directory every 0.25 s,
/// and the CPU share (`CPUGovernor`). A launcher killed before its "exited" report leaves its tree to capsize, a
/// subreaper: the supervisor goes on holding it to its caps, and kills and reaps it when it ends.
final class LaunchSupervisor {
    /// Why the supervisor killed the tree: the first cause, unless a cancellation came after it.
    enum Cause: Equatable { case timeout, memory, storage, cancelled }
    enum Stream { case stdout, stderr }

    /// What the loop waits for, besides the pipes' output and the launcher's reports.
    struct Wait {
        /// The monotonic time to look again at the latest (nil: only at an event).
        var until: Double?
        /// Whether to wait for the program's stdin to take bytes.
        var writing = false
        /// Descriptors of the owner's own to wait on (a wake-up pipe, sockets), each with the `poll` events it waits for.
        var also: [(fd: Int32, events: Int16)] = []
    }

    let limits: SandboxLimits
    let temporaryDirectory: String
    let sampleInterval: Double
    /// Whether a memory reading leaves out the program's children that are copies of it, not yet exec'd (see
    /// `ProcessTree.sample(below:leavingOutCopiesOf:)`): for a long-lived program, capsize's worker.
    let leavesOutCopies: Bool
    /// CPU-seconds per second the tree is held to from its next reading (nil: full speed); see `releaseGovernor`.
    var cpuShare: Double?
    /// The monotonic time the tree is killed at (`Cause.timeout`).
    var deadline: Double?

    private(set) var pipes = LaunchPipes()
    /// The launcher this supervisor spawned; 0 when the resident launcher took the run.
    private(set) var launcher: pid_t = 0
    private(set) var started: LaunchReport?
    private(set) var exited: LaunchReport?
    /// The launcher ended without its "exited" report (the program or one of its processes killed it).
    private(set) var launcherGone = false
    private(set) var cause: Cause?
    private(set) var tree = ProcessTree()
    /// Made at the first reading after `cpuShare` is set, whose CPU time is its baseline (a resident launcher's
    /// reaped children include earlier runs).
    private(set) var governor: CPUGovernor?
    /// The highest reading since `resetPeak`, and over the whole launch.
    private(set) var peak: UInt64 = 0 {
        didSet { lifetimePeak = max(lifetimePeak, peak) }
    }
    private(set) var lifetimePeak: UInt64 = 0
    /// The most the temporary directory held at a size check.
    private(set) var storagePeak: UInt64 = 0
    /// Every reading, from the program's start, when asked for.
    private(set) var timeline: [SandboxResult.MemorySample]?
    private var killAt: Double?
    private var nextSample = 0.0
    private var nextStorageCheck = 0.0
    private var reportBuffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    /// Seconds between two size checks of the temporary directory (a walk of the tree).
    static let storageCheckInterval = 0.25

    init(
        limits: SandboxLimits, temporaryDirectory: String, sampleInterval: Double, recordsTimeline: Bool = false,
        leavesOutCopies: Bool = false
    ) {
        self.limits = limits
        self.temporaryDirectory = temporaryDirectory
        self.sampleInterval = sampleInterval
        self.leavesOutCopies = leavesOutCopies
        cpuShare = limits.cpuShare
        timeline = recordsTimeline ? [] : nil
    }

    deinit { pipes.closeAll() }

    /// Readies the calling thread to supervise: a write to a stdin the program closed must fail with EPIPE, not kill
    /// capsize (the signal stays pending on this thread and goes with it), and capsize becomes the subreaper of what
    /// it starts.
    static func prepareThread() {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        CapsizeProcess.becomeSubreaper()
    }

    /// The process whose descendants are the program's tree: the launcher, or the init it reported.
    var root: pid_t { started?.treeRoot ?? launcher }

    /// Starts `launcherPath` with `options` (`Launcher.options`), its parent-death signal tied to this thread.
    func spawn(launcherPath: String, options: [String], environment: [String: String], hasInput: Bool)
        throws(SandboxError)
    {
        launcher = try pipes.spawn(
            arguments: [launcherPath, "--parent", "\(getpid())"] + options, environment: environment,
            hasInput: hasInput)
    }

    /// Hands the run to the resident launcher; false when it cannot take it (see `LaunchPipes.send`).
    func send(to server: LaunchServer, options: [String], environment: [String: String], hasInput: Bool)
        throws(SandboxError) -> Bool
    {
        try pipes.send(to: server, options: options, environment: environment, hasInput: hasInput)
    }

    /// Waits on the pipes and the clocks, calling `owner`, until the launcher has closed them all, or the launcher is
    /// gone and nothing of its tree runs any more (whatever still holds the pipes then is not the program's).
    func supervise(_ owner: some LaunchOwner) {
        var polls: [pollfd] = []
        while pipes.stdout >= 0 || pipes.stderr >= 0 || pipes.report >= 0 {
            let now = monotonicSeconds()
            var wait = owner.nextWait(self, now: now)
            if launcherGone {
                if now >= nextSample { sample(now: now) }
                if !tree.hasLiveProcesses { break }
                wait.until = min(wait.until ?? .infinity, nextSample)
            }
            polls.removeAll(keepingCapacity: true)
            for fd in [pipes.report, pipes.stdout, pipes.stderr] where fd >= 0 {
                polls.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if wait.writing && pipes.input >= 0 {
                polls.append(pollfd(fd: pipes.input, events: Int16(POLLOUT), revents: 0))
            }
            let owned = polls.count
            for (fd, events) in wait.also where fd >= 0 { polls.append(pollfd(fd: fd, events: events, revents: 0)) }
            guard let ready = try? Posix.poll(&polls, until: wait.until), ready > 0 else { continue }
            for (index, poll) in polls.enumerated() where poll.revents != 0 {
                if index >= owned {
                    owner.woken(self, descriptor: poll.fd, events: poll.revents)
                    continue
                }
                switch poll.fd {
                case pipes.report: readReports(owner)
                case pipes.stdout: readOutput(.stdout, owner)
                case pipes.stderr: readOutput(.stderr, owner)
                case pipes.input: owner.feedInput(self)
                default: break
                }
            }
        }
    }

    /// After the loop: closes the pipes, waits for a launcher this supervisor spawned and, when it was killed before
    /// its "exited" report, does what it did not live to do (kills the rest of the tree, reaps it) and makes the
    /// report it would have written, saying `message` (in a PID namespace its init died with the launcher, and the
    /// kernel killed everything in it).
    /// - Returns: the launcher's wait status (0 for the resident launcher's).
    @discardableResult
    func finish(orphanMessage message: String) -> Int32 {
        pipes.closeAll()
        let status = launcher > 0 ? ((try? Posix.wait(for: launcher))?.status ?? 0) : 0
        guard exited == nil, launcherGone, let started else { return status }
        tree.killAll(below: root)
        if let initPID = started.namespaceInit { ProcessTree.reapOrphanedRoot(initPID) }
        var ended = tree.reapedStatuses[started.pid]
        if ended == nil { ended = (try? Posix.wait(for: started.pid, options: WNOHANG))?.status }
        let end = ended.map { Posix.Ended(status: $0) }
        exited = LaunchReport(
            event: "exited", pid: started.pid, exit: end?.exitCode, signal: end == nil ? SIGKILL : end?.signal,
            error: message, user: tree.cpuSeconds, system: 0, wall: monotonicSeconds() - (started.start ?? 0))
        return status
    }

    // MARK: The pipes

    private func readReports(_ owner: some LaunchOwner) {
        while pipes.report >= 0 {
            let result = chunk.withUnsafeMutableBytes { try? Posix.read(pipes.report, into: $0) }
            guard case .bytes(let count) = result else {
                if result != .wouldBlock {
                    Posix.close(&pipes.report)
                    if started != nil && exited == nil {
                        launcherGone = true
                        nextSample = monotonicSeconds()  // look at the tree now, and go on sampling it
                    }
                }
                return
            }
            reportBuffer += chunk[..<count]
            while let newline = reportBuffer.firstIndex(of: UInt8(ascii: "\n")) {
                let report = LaunchReport.decode(reportBuffer[..<newline])
                reportBuffer.removeSubrange(...newline)
                guard let report else { continue }
                if report.event == "started" {
                    started = report
                } else if report.event == "exited" {
                    exited = report
                }
                owner.launch(self, reported: report)
            }
            if exited != nil {
                // The last line: closing now tells a resident launcher's worker that this run's tree is no longer
                // sampled, so that it may take the next run (see serve_request in launch.c).
                Posix.close(&pipes.report)
            }
        }
    }

    /// Reads what the program has written so far to stdout and stderr and hands it to `owner` (at the "exited"
    /// report, so that a last line written just before the end still counts).
    func readOutput(_ owner: some LaunchOwner) {
        readOutput(.stdout, owner)
        readOutput(.stderr, owner)
    }

    /// Reads what `stream` holds now, up to a read that leaves the pipe empty; closes it at its end.
    private func readOutput(_ stream: Stream, _ owner: some LaunchOwner) {
        while true {
            let fd = stream == .stdout ? pipes.stdout : pipes.stderr
            guard fd >= 0 else { return }
            let result = chunk.withUnsafeMutableBytes { try? Posix.read(fd, into: $0) }
            guard case .bytes(let count) = result else {
                if result != .wouldBlock { closeOutput(stream) }
                return
            }
            owner.launch(self, wrote: chunk[..<count], to: stream)
            if count < chunk.count { return }
        }
    }

    private func closeOutput(_ stream: Stream) {
        if stream == .stdout { Posix.close(&pipes.stdout) } else { Posix.close(&pipes.stderr) }
    }

    /// Writes to the program's stdin what it takes now of `bytes`.
    /// - Returns: how many bytes went; nil when the program closed its stdin (EPIPE), which is closed here too.
    func writeInput(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var written = 0
        while written < bytes.count {
            let part = UnsafeRawBufferPointer(rebasing: bytes[written..<min(bytes.count, written + (1 << 16))])
            switch try? Posix.write(pipes.input, from: part) {
            case .bytes(let count): written += count
            case .wouldBlock: return written
            case .end, nil:
                closeInput()
                return nil
            }
        }
        return written
    }

    /// Closes the program's stdin (it reads its end of file).
    func closeInput() { Posix.close(&pipes.input) }

    // MARK: The caps

    /// Takes the next reading at `time`, and the next size check of the temporary directory 0.25 s after it.
    func scheduleSampling(from time: Double) {
        nextSample = time
        nextStorageCheck = time + Self.storageCheckInterval
    }

    /// Starts the peak again (a new request).
    func resetPeak() { peak = 0 }

    /// When `enforce` has next to act: the next reading, a deadline that has not fired, the end of a grace period,
    /// or the governor's next resumption (a deadline that has fired is no reason to wake: waking at it would spin).
    var wakeTime: Double {
        min(
            nextSample, cause == nil ? deadline ?? .infinity : .infinity, killAt ?? .infinity,
            governor?.resumeAt ?? .infinity)
    }

    /// Applies the caps at `now` and takes a memory reading when one is due. Memory stays capped during a grace
    /// period too; once the tree is being killed the governor lets it go (a stopped process would hold a SIGTERM
    /// pending).
    func enforce(now: Double) {
        if cause == nil, let deadline, now >= deadline {
            cause = .timeout
            switch limits.timeoutMode {
            case .killGroup: signalTree(SIGKILL, fresh: true)
            case .terminateThenKill(let grace):
                signalGroup(SIGTERM)
                killAt = deadline + grace
            }
        }
        if let killAt, now >= killAt {
            signalTree(SIGKILL)
            self.killAt = nil
        }
        if now >= nextSample {
            let bytes = sample(now: now)
            if let share = cpuShare, governor == nil {
                governor = CPUGovernor(share: share, now: now, used: tree.cpuSeconds)
            }
            govern(now: now)
            if timeline != nil, let start = started?.start {
                timeline?.append(SandboxResult.MemorySample(seconds: now - start, bytes: bytes))
            }
            if let cap = limits.memoryBytes, bytes > cap, cause == nil || killAt != nil { kill(.memory) }
        }
        if let resumeAt = governor?.resumeAt, now >= resumeAt { govern(now: now) }
        if limits.temporaryDirectoryBytes != nil, now >= nextStorageCheck {
            checkStorage()
            nextStorageCheck = monotonicSeconds() + Self.storageCheckInterval
        }
        if cause != nil, governor?.stopped == true { govern(now: now) }
    }

    /// A reading now, the next one an interval on.
    @discardableResult
    private func sample(now: Double) -> UInt64 {
        nextSample = now + sampleInterval
        return takeSample()
    }

    /// Reads the tree's resident memory now (and its `/dev/shm`), reaping what capsize adopted once the launcher is
    /// gone, and keeps the peak. No cap is applied.
    @discardableResult
    func takeSample() -> UInt64 {
        var bytes =
            leavesOutCopies
            ? tree.sample(below: root, leavingOutCopiesOf: started?.pid ?? 0) : tree.sample(below: root)
        if launcherGone { tree.reapAdopted() }
        if limits.privateSharedMemory { bytes += tree.privateSharedMemoryBytes() }
        peak = max(peak, bytes)
        return bytes
    }

    /// Checks the size of the temporary directory now, and kills the tree above its cap.
    /// - Returns: whether this check killed it.
    @discardableResult
    func checkStorage() -> Bool {
        guard let cap = limits.temporaryDirectoryBytes else { return false }
        let bytes = TemporaryDirectory.size(of: temporaryDirectory)
        storagePeak = max(storagePeak, bytes)
        guard bytes > cap, cause == nil else { return false }
        kill(.storage)
        return true
    }

    /// Kills the whole tree for `reason` (SIGKILL to the group and every process below the root, read again now).
    func kill(_ reason: Cause) {
        if cause == nil || reason == .cancelled { cause = reason }
        killAt = nil
        signalTree(SIGKILL, fresh: true)
    }

    /// Lets a tree the governor stopped go, and forgets the governor: the next reading after `cpuShare` is set makes
    /// another.
    func releaseGovernor() {
        guard governor != nil else { return }
        if let signal = governor!.release(now: monotonicSeconds()).signal { signalTree(signal) }
        governor = nil
    }

    /// Stops or continues the tree for its CPU share, on the last reading of its CPU time; lets it go once it is
    /// being killed.
    private func govern(now: Double) {
        guard governor != nil else { return }
        let action = cause == nil ? governor!.update(now: now, used: tree.cpuSeconds) : governor!.release(now: now)
        if let signal = action.signal { signalTree(signal) }
    }

    /// Signals the program's process group (the program is its leader) while it runs.
    private func signalGroup(_ signal: Int32) {
        guard exited == nil, let pid = started?.pid else { return }
        Posix.signalIfAlive(-pid, signal)
        Posix.signalIfAlive(pid, signal)  // in case it left its group
    }

    /// Signals the group and every descendant seen by the last reading (some may have left the group), or by one
    /// taken now when `fresh`. A reading is at most one interval old, far too short a time for a pid to be reused;
    /// after the "exited" report nothing is signalled (the next run may have the pids).
    private func signalTree(_ signal: Int32, fresh: Bool = false) {
        guard exited == nil else { return }
        if fresh { _ = tree.sample(below: root) }
        tree.signal(signal, group: started?.pid)
    }
}
