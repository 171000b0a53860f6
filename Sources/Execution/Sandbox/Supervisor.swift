internal import CLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One run of capsize-launch, supervised from a dedicated thread: it spawns the launcher, reads the
/// pipes, samples the process tree's memory, enforces the caps and composes the result.
// @unchecked Sendable: the state below `cancelled` is touched only by the supervising thread.
final class Supervisor: @unchecked Sendable {
    private let sandbox: Sandbox
    private let argv: [String]
    private let environment: [String: String]
    private let limits: SandboxLimits
    private let input: Data
    private let hasInput: Bool
    private let workingDirectory: String?
    private let givenTemporaryDirectory: String?
    private let user: SandboxUser?
    private let cancelled = Atomic<Bool>(false)
    private var temporary = ""

    /// Why the sandbox killed the program (the first cause only).
    private enum Cause { case timeout, memory, storage, cancelled }

    private var pipes = LaunchPipes()
    private var launcher: pid_t = 0
    private var stdout: Capture
    private var stderr: Capture
    private var reportBuffer: [UInt8] = []
    private var inputOffset = 0
    private var started: LaunchReport?
    private var exited: LaunchReport?
    private var cause: Cause?
    private var deadline: Double?
    private var killAt: Double?
    private var nextSample = 0.0
    private var nextStorageCheck = 0.0
    private var tree = ProcessTree()
    /// Holds the tree to `limits.cpuShare`; made at the first reading, whose CPU time is its baseline (a
    /// resident launcher's reaped children include earlier runs).
    private var governor: CPUGovernor?
    /// The launcher ended without its "exited" report (the program or one of its processes killed it): the
    /// supervisor goes on holding the tree to its caps and ends the run itself.
    private var launcherGone = false
    private var sampledPeak: UInt64 = 0
    private var storagePeak: UInt64 = 0
    private var timeline: [SandboxResult.MemorySample] = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    /// Seconds between two size checks of the temporary directory (a walk of the tree).
    private static let storageCheckInterval = 0.25

    init(
        sandbox: Sandbox, argv: [String], environment: [String: String], limits: SandboxLimits, stdin: Data?,
        workingDirectory: String?, temporaryDirectory: String?, user: SandboxUser? = nil
    ) {
        self.user = user
        self.sandbox = sandbox
        self.argv = argv
        self.environment = environment
        self.limits = limits
        self.input = stdin ?? Data()
        self.hasInput = stdin != nil
        self.workingDirectory = workingDirectory
        self.givenTemporaryDirectory = temporaryDirectory
        stdout = Capture(limit: limits.outputLimitBytes)
        stderr = Capture(limit: limits.outputLimitBytes)
    }

    /// Asks the running loop to kill the program; `run` then returns nil.
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Runs the program to its end, on the calling thread. Returns nil when it was cancelled.
    func run() throws -> SandboxResult? {
        let cpuAtStart = threadCPUSeconds()
        // A write to a stdin the program closed must fail with EPIPE here, not kill capsize. The signal
        // stays pending on this thread and goes with it.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

        CapsizeProcess.becomeSubreaper()
        temporary = try givenTemporaryDirectory ?? TemporaryDirectory.create(under: sandbox.temporaryBase)
        var temporaryRemoved = false
        defer { if givenTemporaryDirectory == nil && !temporaryRemoved { TemporaryDirectory.remove(temporary) } }
        if let user, givenTemporaryDirectory == nil { try user.own(temporary) }
        let cgroup = limits.kernelMemoryBackstop ? limits.memoryBytes.flatMap { MemoryCgroup.create(limit: $0) } : nil
        defer { cgroup?.remove() }

        var backstop: SandboxResult.KernelBackstop?
        var options = ["--report-fd", "3", "--rlimit", "core=0"]
        if let workingDirectory { options += ["--chdir", workingDirectory] }
        if limits.privateSharedMemory, let memory = limits.memoryBytes { options += ["--private-shm", "\(memory)"] }
        if let user { options += ["--user", user.launcherValue] }
        if sandbox.usesPIDNamespace { options.append("--pid-namespace") }
        if let openFiles = limits.openFiles { options += ["--rlimit", "nofile=\(openFiles)"] }
        if let processes = limits.processes { options += ["--rlimit", "nproc=\(processes)"] }
        if let cpus = limits.cpuList { options += ["--cpus", cpus.map(String.init).joined(separator: ",")] }
        if let cgroup {
            options += ["--cgroup", cgroup.path]
            backstop = .cgroup(path: cgroup.path)
        } else if limits.kernelMemoryBackstop, let memory = limits.memoryBytes {
            let bytes = memory + SandboxLimits.addressSpaceHeadroom
            options += ["--rlimit", "as=\(bytes)"]
            backstop = .addressSpace(bytes: bytes)
        }
        options.append("--")
        options += argv

        var environment = self.environment
        SandboxUser.completeEnvironment(&environment, temporary: temporary, user: user, base: sandbox.temporaryBase)
        if let threads = limits.effectiveThreads {
            for name in SandboxLimits.threadCountVariables {
                environment[name] = "\(threads)"
            }
        }

        defer { pipes.closeAll() }
        var status: Int32 = 0
        var handedToServer = false
        if sandbox.usesLaunchServer {
            handedToServer = try pipes.send(
                to: LaunchServer.shared(launcherPath: sandbox.launcherPath), options: options,
                environment: environment, hasInput: hasInput)
            if handedToServer {
                supervise()
                if started == nil && !cancelled.load(ordering: .relaxed) {
                    // The server dropped the request (it went away; nothing ran): start a launcher directly.
                    LaunchServer.shared(launcherPath: sandbox.launcherPath).forgetIfEnded()
                    pipes.closeAll()
                    (stdout, stderr) = (
                        Capture(limit: limits.outputLimitBytes), Capture(limit: limits.outputLimitBytes)
                    )
                    (reportBuffer, inputOffset, exited) = ([], 0, nil)
                    handedToServer = false
                }
            }
        }
        if !handedToServer {
            launcher = try pipes.spawn(
                arguments: [sandbox.launcherPath, "--parent", "\(getpid())"] + options, environment: environment,
                hasInput: hasInput)
            supervise()
            while waitpid(launcher, &status, 0) < 0 && errno == EINTR {}
        }
        if exited == nil, launcherGone, let started { exited = endWithoutLauncher(started) }
        guard let exit = exited else {
            if cancelled.load(ordering: .relaxed) { return nil }
            throw SandboxError(
                "capsize-launch ended without a report (wait status \(status)): \(stderr.output.text.suffix(500)) "
                    + "Check that \(sandbox.launcherPath) is the launcher built with this capsize.")
        }
        if cause == .cancelled { return nil }

        // A private directory the program left empty (the usual case) goes at once, and holds 0 bytes.
        temporaryRemoved = givenTemporaryDirectory == nil && rmdir(temporary) == 0
        let storage = max(storagePeak, temporaryRemoved ? 0 : TemporaryDirectory.size(of: temporary))
        let maxRSS = (exit.maxRSSKiB ?? 0) * 1024
        let reason: SandboxResult.Reason
        switch cause {
        case .memory: reason = .outOfMemory
        case .timeout: reason = .timeout
        case .storage: reason = .storageExceeded
        case .cancelled, nil:
            if (cgroup?.oomKills ?? 0) > 0 {
                reason = .outOfMemory
            } else if let cap = limits.temporaryDirectoryBytes, storage > cap {
                reason = .storageExceeded
            } else if exit.signal != nil {
                reason = .crash
            } else {
                reason = exit.exit == 0 ? .completed : .error
            }
        }
        return SandboxResult(
            reason: reason, exitCode: exit.exit, signal: exit.signal, message: exit.error, pid: exit.pid,
            wallSeconds: exit.wall ?? 0, userSeconds: exit.user ?? 0, systemSeconds: exit.system ?? 0,
            peakRSSBytes: max(maxRSS, sampledPeak), maxRSSBytes: maxRSS, sampledPeakRSSBytes: sampledPeak,
            stdout: stdout.output, stderr: stderr.output, temporaryDirectoryBytes: storage,
            memoryTimeline: timeline, kernelBackstop: backstop, supervisorCPUSeconds: threadCPUSeconds() - cpuAtStart,
            cpuShare: limits.cpuShare, cpuThrottledSeconds: governor?.stoppedSeconds ?? 0)
    }

    /// Waits on the pipes and the clocks until the launcher has closed everything.
    private func supervise() {
        var polls: [pollfd] = []
        while pipes.stdout >= 0 || pipes.stderr >= 0 || pipes.report >= 0 {
            let now = monotonicSeconds()
            var wake: Double? = nil
            if started != nil && exited == nil {
                enforce(now: now)
                if launcherGone && !tree.hasLiveProcesses {
                    // Nothing of the tree runs any more: whatever still holds the pipes is not the program's.
                    LaunchPipes.close(&pipes.stdout)
                    LaunchPipes.close(&pipes.stderr)
                    break
                }
                // A deadline that has fired is no reason to wake: waking at it again would spin.
                let pendingDeadline = cause == nil ? deadline : nil
                wake = [nextSample, pendingDeadline ?? .infinity, killAt ?? .infinity, governor?.resumeAt ?? .infinity]
                    .min()
            } else if exited == nil {
                wake = now + sandbox.sampleInterval  // not started yet: look again soon (cancellation)
            }

            polls.removeAll(keepingCapacity: true)
            for fd in [pipes.report, pipes.stdout, pipes.stderr] where fd >= 0 {
                polls.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if pipes.input >= 0 { polls.append(pollfd(fd: pipes.input, events: Int16(POLLOUT), revents: 0)) }
            let ready = waitForEvents(&polls, until: wake)
            if ready <= 0 { continue }
            for poll in polls where poll.revents != 0 {
                switch poll.fd {
                case pipes.report: drainReport()
                case pipes.stdout: drain(&pipes.stdout, into: &stdout)
                case pipes.stderr: drain(&pipes.stderr, into: &stderr)
                case pipes.input: feedInput()
                default: break
                }
            }
        }
    }

    /// Applies the caps at `now` and takes a memory sample when one is due.
    private func enforce(now: Double) {
        if cancelled.load(ordering: .relaxed) && cause != .cancelled {
            cause = .cancelled
            signalTree(SIGKILL)
        }
        if cause == nil, let deadline, now >= deadline {
            cause = .timeout
            switch limits.timeoutMode {
            case .killGroup: signalTree(SIGKILL)
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
            var bytes = tree.sample(below: started?.treeRoot ?? launcher)
            if launcherGone { tree.reapAdopted() }
            if limits.privateSharedMemory { bytes += tree.privateSharedMemoryBytes() }
            sampledPeak = max(sampledPeak, bytes)
            if let share = limits.cpuShare, governor == nil {
                governor = CPUGovernor(share: share, now: now, used: tree.cpuSeconds)
            }
            govern(now: now)
            if recordsTimeline, let start = started?.start {
                timeline.append(SandboxResult.MemorySample(seconds: now - start, bytes: bytes))
            }
            // Memory stays capped during a grace period too.
            if let cap = limits.memoryBytes, bytes > cap, cause == nil || killAt != nil {
                cause = cause ?? .memory
                signalTree(SIGKILL)
                killAt = nil
            }
            nextSample = now + sandbox.sampleInterval
        }
        if let resumeAt = governor?.resumeAt, now >= resumeAt { govern(now: now) }
        if let cap = limits.temporaryDirectoryBytes, now >= nextStorageCheck {
            let bytes = TemporaryDirectory.size(of: temporary)
            storagePeak = max(storagePeak, bytes)
            if bytes > cap, cause == nil {
                cause = .storage
                signalTree(SIGKILL)
            }
            nextStorageCheck = monotonicSeconds() + Self.storageCheckInterval
        }
        if cause != nil, governor?.stopped == true { govern(now: now) }
    }

    private var recordsTimeline: Bool { sandbox.recordsMemoryTimeline }

    /// Ends a run whose launcher was killed: kills what is left of the tree (the launcher's final sweep) and
    /// reports the program's end as the launcher would have, from the statuses capsize reaped itself. (In a PID
    /// namespace its init died with the launcher, and the kernel killed everything in it.)
    private func endWithoutLauncher(_ started: LaunchReport) -> LaunchReport {
        tree.killAll(below: started.treeRoot ?? launcher)
        if let initPID = started.namespaceInit { ProcessTree.reapOrphanedRoot(initPID) }
        var status = tree.reapedStatuses[started.pid]
        if status == nil {
            var value: Int32 = 0
            var usage = rusage()
            if wait4(started.pid, &value, WNOHANG, &usage) == started.pid { status = value }
        }
        let signal = status.flatMap { $0 & 0x7f != 0 ? $0 & 0x7f : nil } ?? SIGKILL
        let exit = status.flatMap { $0 & 0x7f == 0 ? ($0 >> 8) & 0xff : nil }
        return LaunchReport(
            event: "exited", pid: started.pid, exit: exit, signal: exit == nil ? signal : nil,
            error: "capsize-launch, which supervises the program, was killed while the program ran (by the program "
                + "or one of its processes); the program's processes were killed with it",
            user: tree.cpuSeconds, system: 0, wall: monotonicSeconds() - (started.start ?? 0))
    }

    /// Stops or continues the tree for its CPU share, on the last reading of its CPU time. Once the run is
    /// ending (a cap, a cancellation) the tree is let go: a stopped process would hold a SIGTERM pending.
    private func govern(now: Double) {
        guard governor != nil else { return }
        let action = cause == nil ? governor!.update(now: now, used: tree.cpuSeconds) : governor!.release(now: now)
        if let signal = action.signal { signalTree(signal) }
    }

    /// Signals the program's process group (the program is its leader).
    private func signalGroup(_ signal: Int32) {
        guard let pid = started?.pid, exited == nil else { return }
        kill(-pid, signal)
        kill(pid, signal)  // in case it left its group
    }

    /// Signals the group and every descendant seen by the last sample (some may have left the group).
    /// The sample is at most one interval old, far too short a time for a process id to be reused.
    private func signalTree(_ signal: Int32) {
        signalGroup(signal)
        guard exited == nil else { return }
        for pid in tree.processes { kill(pid, signal) }
    }

    private func drainReport() {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipes.report, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR) { continue }
            if count <= 0 {
                if count == 0 || errno != EAGAIN {
                    LaunchPipes.close(&pipes.report)
                    if started != nil && exited == nil {
                        launcherGone = true
                        nextSample = monotonicSeconds()  // look at the tree now, and go on sampling it
                    }
                }
                break
            }
            reportBuffer += chunk[..<count]
            while let newline = reportBuffer.firstIndex(of: UInt8(ascii: "\n")) {
                if let report = LaunchReport.decode(reportBuffer[..<newline]) { received(report) }
                reportBuffer.removeSubrange(...newline)
            }
            if exited != nil {
                // The last line: closing now tells a resident launcher's worker that this run's tree is no longer
                // sampled, so that it may take the next run (see serve_request in launch.c).
                LaunchPipes.close(&pipes.report)
                break
            }
        }
    }

    private func received(_ report: LaunchReport) {
        if report.event == "started" {
            started = report
            let start = report.start ?? monotonicSeconds()
            deadline = limits.wallSeconds.map { start + $0 }
            // The first reading half an interval in: at the fork there is nothing to read yet, and a
            // program that is over by then (most array children) is measured by wait4's ru_maxrss alone.
            nextSample = monotonicSeconds() + sandbox.sampleInterval / 2
            nextStorageCheck = nextSample + Self.storageCheckInterval
            if cancelled.load(ordering: .relaxed) { enforce(now: monotonicSeconds()) }
        } else if report.event == "exited" {
            exited = report
        }
    }

    private func drain(_ fd: inout Int32, into capture: inout Capture) {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count == 0 || errno != EAGAIN { LaunchPipes.close(&fd) }
                return
            }
            capture.append(chunk[..<count])
            if count < chunk.count { return }
        }
    }

    private func feedInput() {
        while inputOffset < input.count {
            let count = input.withUnsafeBytes { bytes in
                write(pipes.input, bytes.baseAddress! + inputOffset, min(bytes.count - inputOffset, 1 << 16))
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return }
            if count <= 0 { break }  // EPIPE: the program does not read its stdin
            inputOffset += count
        }
        LaunchPipes.close(&pipes.input)
    }
}
