import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One run of a program under capsize-launch, on a supervisor thread: it makes the run's temporary directory and
/// kernel backstop, has a `LaunchSupervisor` start and supervise the launcher, keeps the output, feeds stdin, and
/// composes the result.
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
    private let onOutput: (@Sendable (ArraySlice<UInt8>) -> Void)?
    private let cancelled = Atomic<Bool>(false)

    private var stdout: Capture
    private var stderr: Capture
    private var inputOffset = 0

    init(
        sandbox: Sandbox, argv: [String], environment: [String: String], limits: SandboxLimits, stdin: Data?,
        workingDirectory: String?, temporaryDirectory: String?, user: SandboxUser? = nil,
        onOutput: (@Sendable (ArraySlice<UInt8>) -> Void)? = nil
    ) {
        self.user = user
        self.onOutput = onOutput
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

    private var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Runs the program to its end, on the calling thread. Returns nil when it was cancelled.
    func run() throws -> SandboxResult? {
        let cpuAtStart = threadCPUSeconds()
        LaunchSupervisor.prepareThread()
        let temporary = try givenTemporaryDirectory ?? TemporaryDirectory.create(under: sandbox.temporaryBase)
        var temporaryRemoved = false
        defer { if givenTemporaryDirectory == nil && !temporaryRemoved { TemporaryDirectory.remove(temporary) } }
        if let user, givenTemporaryDirectory == nil { try user.own(temporary) }
        let cgroup = limits.kernelMemoryBackstop ? limits.memoryBytes.flatMap { MemoryCgroup.create(limit: $0) } : nil
        defer { cgroup?.remove() }
        let backstop =
            cgroup.map { SandboxResult.KernelBackstop.cgroup(path: $0.path) }
            ?? limits.addressSpaceBytes.map { .addressSpace(bytes: $0) }
        let options = Launcher.options(
            argv, limits: limits, user: user, pidNamespace: sandbox.usesPIDNamespace,
            workingDirectory: workingDirectory, cgroup: cgroup?.path)

        var environment = self.environment
        SandboxUser.completeEnvironment(&environment, temporary: temporary, user: user, base: sandbox.temporaryBase)
        if let threads = limits.effectiveThreads {
            for name in SandboxLimits.threadCountVariables {
                environment[name] = "\(threads)"
            }
        }

        func supervisor() -> LaunchSupervisor {
            LaunchSupervisor(
                limits: limits, temporaryDirectory: temporary, sampleInterval: sandbox.sampleInterval,
                recordsTimeline: sandbox.recordsMemoryTimeline)
        }
        var launch: LaunchSupervisor?
        if sandbox.usesLaunchServer {
            let server = LaunchServer.shared(launcherPath: sandbox.launcherPath)
            let handed = supervisor()
            if try handed.send(to: server, options: options, environment: environment, hasInput: hasInput) {
                handed.supervise(self)
                launch = handed
                if handed.started == nil && !isCancelled {
                    // The server dropped the request (it went away; nothing ran): start a launcher directly.
                    server.forgetIfEnded()
                    handed.finish(orphanMessage: "")
                    (stdout, stderr) = (
                        Capture(limit: limits.outputLimitBytes), Capture(limit: limits.outputLimitBytes)
                    )
                    inputOffset = 0
                    launch = nil
                }
            }
        }
        if launch == nil {
            let spawned = supervisor()
            try spawned.spawn(
                launcherPath: sandbox.launcherPath, options: options, environment: environment, hasInput: hasInput)
            spawned.supervise(self)
            launch = spawned
        }
        guard let launch else { return nil }
        let status = launch.finish(
            orphanMessage: "capsize-launch, which supervises the program, was killed while the program ran (by the "
                + "program or one of its processes); the program's processes were killed with it")
        guard let exit = launch.exited else {
            if isCancelled { return nil }
            throw SandboxError(
                "capsize-launch ended without a report (wait status \(status)): \(stderr.output.text.suffix(500)) "
                    + "Check that \(sandbox.launcherPath) is the launcher built with this capsize.")
        }
        if launch.cause == .cancelled { return nil }

        // A private directory the program left empty (the usual case) goes at once, and holds 0 bytes.
        temporaryRemoved = givenTemporaryDirectory == nil && rmdir(temporary) == 0
        let storage = max(launch.storagePeak, temporaryRemoved ? 0 : TemporaryDirectory.size(of: temporary))
        let maxRSS = (exit.maxRSSKiB ?? 0) * 1024
        let reason: SandboxResult.Reason
        switch launch.cause {
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
            peakRSSBytes: max(maxRSS, launch.peak), maxRSSBytes: maxRSS, sampledPeakRSSBytes: launch.peak,
            stdout: stdout.output, stderr: stderr.output, temporaryDirectoryBytes: storage,
            memoryTimeline: launch.timeline ?? [], kernelBackstop: backstop,
            supervisorCPUSeconds: threadCPUSeconds() - cpuAtStart, cpuShare: limits.cpuShare,
            cpuThrottledSeconds: launch.governor?.stoppedSeconds ?? 0)
    }
}

extension Supervisor: LaunchOwner {
    func nextWait(_ launch: LaunchSupervisor, now: Double) -> LaunchSupervisor.Wait {
        guard launch.started != nil, launch.exited == nil else {
            // Not started yet: look again soon (a cancellation); ended: only the pipes' ends are left to read.
            return .init(until: launch.exited == nil ? now + sandbox.sampleInterval : nil, writing: true)
        }
        if isCancelled && launch.cause != .cancelled { launch.kill(.cancelled) }
        launch.enforce(now: now)
        return .init(until: launch.wakeTime, writing: true)
    }

    func launch(_ launch: LaunchSupervisor, reported report: LaunchReport) {
        guard report.event == "started" else { return }
        let start = report.start ?? monotonicSeconds()
        launch.deadline = limits.wallSeconds.map { start + $0 }
        // The first reading half an interval in: at the fork there is nothing to read yet, and a program that is
        // over by then (most array children) is measured by wait4's ru_maxrss alone.
        launch.scheduleSampling(from: monotonicSeconds() + sandbox.sampleInterval / 2)
        if isCancelled {
            launch.kill(.cancelled)
            launch.enforce(now: monotonicSeconds())
        }
    }

    func launch(_ launch: LaunchSupervisor, wrote bytes: ArraySlice<UInt8>, to stream: LaunchSupervisor.Stream) {
        if stream == .stdout { stdout.append(bytes) } else { stderr.append(bytes) }
        onOutput?(bytes)
    }

    func feedInput(_ launch: LaunchSupervisor) {
        let written = input.withUnsafeBytes { launch.writeInput(UnsafeRawBufferPointer(rebasing: $0[inputOffset...])) }
        guard let written else { return }  // EPIPE: the program does not read its stdin
        inputOffset += written
        if inputOffset == input.count { launch.closeInput() }
    }

    func woken(_ launch: LaunchSupervisor, descriptor: Int32, events: Int16) {}
}
