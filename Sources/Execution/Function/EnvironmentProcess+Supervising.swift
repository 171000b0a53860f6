import CloudModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The supervising thread of an environment: what its launch is (the launcher's options, the runtime's environment),
/// each invocation's caps and CPU share, the Runtime API's requests, and the waiting invocation's reply. The mechanisms (the pipes,
/// the launcher's reports, the process tree, the caps and the kills) are the sandbox's `LaunchSupervisor`.
extension EnvironmentProcess: LaunchOwner {
    static let orphanMessage =
        "capsize-launch, which supervises the environment, was killed (by a process of the environment); the "
        + "environment's processes were killed with it"

    func launcherOptions() -> [String] {
        Launcher.options(
            options.argv, limits: launch.limits, user: options.user, pidNamespace: options.pidNamespace,
            workingDirectory: options.workingDirectory)
    }

    func environment() -> [String: String] {
        var environment = options.environment
        environment["AWS_LAMBDA_RUNTIME_API"] = server?.address
        SandboxUser.completeEnvironment(
            &environment, temporary: options.temporaryDirectory, user: options.user, base: options.temporaryBase)
        return environment
    }

    /// Supervises the environment to its end, then answers whoever still waits.
    func supervise() {
        launch.supervise(self)
        let status = launch.finish(orphanMessage: Self.orphanMessage)
        let ending =
            launch.cause.map(Ending.init)
            ?? (launch.launcherGone
                ? .exited(code: nil, signal: SIGKILL, message: Self.orphanMessage)
                : .exited(code: nil, signal: nil, message: "capsize-launch ended (wait status \(status))"))
        finish(ending)
        server?.closeAll()
        closeWake()
    }

    func nextWait(_ launch: LaunchSupervisor, now: Double) -> LaunchSupervisor.Wait {
        let waitsForNext = server?.waitsForNext ?? true
        let (active, deadline, generation, closing, governed, invocation, freezeBy) = shared.withLock {
            let invocation = $0.invocation
            $0.invocation = nil
            if let by = $0.freezeBy, waitsForNext || now >= by { stopTree(&$0) }
            return (
                $0.waiter != nil, $0.waiter?.deadline, $0.generation, $0.closing, $0.waiter?.governed ?? false,
                invocation, $0.freezeBy
            )
        }
        if closing && launch.cause == nil { launch.kill(.cancelled) }
        var wake: Double? = nil
        if active {
            if generation != seenGeneration {
                // A new request (or Init): its own peak and deadline, and the CPU share when it is held to one.
                seenGeneration = generation
                launch.releaseGovernor()
                launch.cpuShare = governed ? options.cpuShare : nil
                launch.deadline = deadline
                launch.resetPeak()
                launch.scheduleSampling(from: now)
                invocationLog = OutputTail(limit: invocationLog.limit)
            }
            if let invocation { server?.enqueue(invocation) }
            launch.enforce(now: now)
            wake = launch.wakeTime
        }
        if let freezeBy { wake = min(wake ?? freezeBy, freezeBy) }
        var also = [(fd: self.wake.read, events: Int16(POLLIN))]
        if let server, launch.cause == nil { also += server.descriptors() }
        return .init(until: wake, writing: false, also: also)
    }

    func launch(_ launch: LaunchSupervisor, reported report: LaunchReport) {
        if report.event == "started" {
            let closing = shared.withLock {
                $0.pid = report.pid
                $0.root = launch.root
                return $0.closing
            }
            if closing { launch.kill(.cancelled) }
        } else if report.event == "exited" {
            launch.readOutput(self)  // a last line written just before the end still counts
            finish(
                launch.cause.map(Ending.init)
                    ?? .exited(code: report.exit, signal: report.signal, message: report.error))
        }
    }

    func launch(_ launch: LaunchSupervisor, wrote bytes: ArraySlice<UInt8>, to stream: LaunchSupervisor.Stream) {
        // The runtime's stdout and stderr are its log (CloudWatch's): both go to the tails, neither is parsed.
        stderrTail.append(bytes)
        invocationLog.append(bytes)
    }

    /// The runtime has no stdin to feed (/dev/null).
    func feedInput(_ launch: LaunchSupervisor) {}

    func woken(_ launch: LaunchSupervisor, descriptor: Int32, events: Int16) {
        if let server, server.owns(descriptor) {
            for event in server.handle(descriptor, events: events) { answer(event, launch) }
            return
        }
        var bytes = [UInt8](repeating: 0, count: 64)
        while case .bytes = bytes.withUnsafeMutableBytes({ try? Posix.read(wake.read, into: $0) }) {}
    }

    /// Acts on what the runtime said through the Runtime API: its first `/next` ends Init; a response or an error
    /// answers the outstanding request.
    func answer(_ event: RuntimeAPIEvent, _ launch: LaunchSupervisor) {
        guard launch.cause == nil else { return }
        switch event {
        case .ready:
            guard initializing else { return }
            initializing = false
            resolve(line: Data(), ending: nil)
        case .initError(let type, let message, let body):
            guard initializing else { return }
            initializing = false
            resolve(
                line: Data(body), ending: nil,
                error: FunctionError(errorType: type, errorMessage: message, payload: Data(body)))
        case .response(_, let body):
            answered(Data(body), error: nil, launch)
        case .error(_, let type, let message, let body):
            answered(
                Data(body), error: FunctionError(errorType: type, errorMessage: message, payload: Data(body)), launch)
        case .responseTooLarge:
            let message = LambdaLog.responseTooLarge(limit: options.responseLimit)
            let payload = HTTPResponse.error(0, type: LambdaLog.responseTooLargeErrorType, message: message).body
            answered(
                Data(payload),
                error: FunctionError(
                    errorType: LambdaLog.responseTooLargeErrorType, errorMessage: message, payload: Data(payload)),
                launch)
        }
    }

    /// Answers the outstanding request with what the runtime posted, after the output it wrote before it (so that the
    /// log is whole), a last memory reading and a last look at /tmp (so that an invocation shorter than the sampling
    /// and storage intervals is checked too).
    private func answered(_ body: Data, error: FunctionError?, _ launch: LaunchSupervisor) {
        launch.readOutput(self)
        launch.takeSample()
        if !launch.checkStorage() { resolve(line: body, ending: nil, error: error) }
    }

    /// Answers the outstanding request, if any.
    func resolve(line: Data?, ending: Ending?, error: FunctionError? = nil) {
        launch.releaseGovernor()
        launch.cpuShare = nil
        let waiter: Waiter? = shared.withLock {
            let waiter = $0.waiter
            $0.waiter = nil
            return waiter
        }
        guard let waiter else { return }
        waiter.continuation.resume(
            returning: Reply(
                line: line, ending: ending, seconds: monotonicSeconds() - waiter.start, peakBytes: launch.peak,
                lifetimePeakBytes: launch.lifetimePeak, stderrTail: stderrTail.text, functionError: error,
                log: invocationLog.text))
    }

    func finish(_ ending: Ending) {
        shared.withLock { if $0.ending == nil { $0.ending = ending } }
        resolve(line: nil, ending: ending)
    }
}

extension EnvironmentProcess.Ending {
    /// How an environment the supervisor killed ended.
    init(_ cause: LaunchSupervisor.Cause) {
        switch cause {
        case .timeout: self = .timeout
        case .memory: self = .outOfMemory
        case .storage: self = .storageExceeded
        case .cancelled: self = .closed
        }
    }
}
