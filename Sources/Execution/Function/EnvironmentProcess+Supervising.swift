internal import CLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The supervising thread of an environment: spawning the launcher, waiting on its pipes, sampling and capping the
/// tree, governing its CPU share, and answering the waiting request.
extension EnvironmentProcess {
    func spawn() throws(SandboxError) {
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

    func supervise() {
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
    func enforce(now: Double, deadline: Double?) {
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
    func govern(now: Double) {
        guard governor != nil else { return }
        signal(for: governor!.update(now: now, used: tree.cpuSeconds))
    }

    /// Lets a tree the governor stopped go (its request is over, or it is being killed).
    func release() {
        guard governor != nil else { return }
        signal(for: governor!.release(now: monotonicSeconds()))
    }

    func signal(for action: CPUGovernor.Action) {
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
    func sampleMemory() -> UInt64 {
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

    /// The executable of `pid` (`/proc/PID/exe`), nil when it cannot be read.
    func executable(of pid: pid_t) -> String? {
        let count = smallBuffer.withUnsafeMutableBytes { buffer in
            readlink("/proc/\(pid)/exe", buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
        }
        guard count > 0 else { return nil }
        return String(decoding: smallBuffer[..<count], as: UTF8.self)
    }

    /// Kills the tree for `reason`; the waiter is answered when the launcher reports the exit.
    func end(_ reason: Ending) {
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
    func resolve(line: Data?, ending: Ending?) {
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

    func finish(_ ending: Ending) {
        shared.withLock { if $0.ending == nil { $0.ending = ending } }
        resolve(line: nil, ending: ending)
    }

    func drainStdout() {
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

    func drainStderr() {
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

    func drainReport() {
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

    func drainWake() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wake.read, &bytes, bytes.count) > 0 {}
    }

    func feedInput() {
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
