import CloudModel
import Foundation

/// Starts a function's execution environments (cold starts): a private /tmp and a uid of its own, Lambda's
/// variables, the runtime (`capsize worker`, or the user's own) under capsize-launch, and the end of its Init (its
/// first `GET /next`) awaited within Lambda's 10 s Init limit plus, beyond it, the function timeout (Lambda then
/// retries Init inside the first invocation; here it simply goes on).
struct EnvironmentStarter: Sendable {
    var settings: FunctionSettings
    var options: FunctionExecutor.Options
    var launcherPath: String

    /// A runtime that never ended its Init.
    struct Failure: Error {
        var ending: EnvironmentProcess.Ending?
        var message: String
        var seconds: Double
        var peakBytes: UInt64
        /// Whether a process was spawned (it counts as an environment started).
        var spawned: Bool
        /// The error a runtime posted to `/runtime/init/error`.
        var initError: EnvironmentProcess.FunctionError? = nil
        /// What the runtime wrote during Init.
        var log = ""
    }

    struct Started {
        var environment: FunctionEnvironment
        /// Init as measured, ms (past the limit too).
        var initMs: Double
        /// Init beyond Lambda's limit, ms, to be counted into the first invocation.
        var overLimitMs: Double
        /// What the runtime wrote during Init (its last 4 KiB): the first invocation's log starts with it.
        var initLog: String
    }

    func start() async -> Result<Started, Failure> {
        let temporary: String
        let lease: SandboxUser.Lease?
        do {
            temporary = try TemporaryDirectory.create(under: options.temporaryBase)
            lease = try SandboxUser.lease()
            try lease?.user.own(temporary)
        } catch {
            return .failure(Failure(ending: nil, message: error.message, seconds: 0, peakBytes: 0, spawned: false))
        }
        let configuration = settings.configuration
        let runtime = options.userRuntime
        var processOptions = EnvironmentProcess.Options(
            argv: runtime?.argv ?? options.workerCommand, environment: environment(), launcherPath: launcherPath,
            memoryBytes: UInt64(configuration.memoryMB) << 20,
            temporaryDirectoryBytes: UInt64(configuration.ephemeralStorageMB) << 20,
            temporaryDirectory: temporary, sampleInterval: options.sampleInterval,
            cpuShare: settings.heldToCPUShare,
            openFiles: FunctionConfiguration.fileDescriptorLimit, processes: FunctionConfiguration.processLimit,
            privateSharedMemory: true, user: lease?.user, temporaryBase: options.temporaryBase)
        processOptions.workingDirectory = runtime?.taskRoot
        let process = EnvironmentProcess(options: processOptions)
        let initLimit = options.initLimitSeconds
        let reply: EnvironmentProcess.Reply
        do {
            // Interrupted (capsize is stopping): the environment is closed, its Init killed.
            reply = try await withTaskCancellationHandler {
                try await process.start(deadline: initLimit + Double(configuration.timeoutSeconds))
            } onCancel: {
                process.close()
            }
        } catch {
            TemporaryDirectory.remove(temporary)
            return .failure(Failure(ending: nil, message: "\(error)", seconds: 0, peakBytes: 0, spawned: false))
        }
        guard reply.ending == nil, reply.functionError == nil else {
            process.close()
            TemporaryDirectory.remove(temporary)
            if let error = reply.functionError {
                return .failure(
                    Failure(
                        ending: nil, message: error.errorMessage, seconds: reply.seconds, peakBytes: reply.peakBytes,
                        spawned: true, initError: error, log: reply.log))
            }
            var text = reply.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            if case .exited(let code, let signal, let message) = reply.ending {
                let how = signal.map { "signal: \(RuntimeEnding.signalName($0))" } ?? "exit status \(code ?? -1)"
                text = ([how, message, text.isEmpty ? nil : String(text.suffix(500))] as [String?]).compactMap { $0 }
                    .joined(separator: "; ")
            }
            return .failure(
                Failure(
                    ending: reply.ending, message: text, seconds: reply.seconds, peakBytes: reply.peakBytes,
                    spawned: true, log: reply.log))
        }
        let initMs = reply.seconds * 1000
        let withinLimit = reply.seconds <= initLimit
        let started = FunctionEnvironment(process: process, initDurationMs: withinLimit ? initMs : nil, user: lease)
        return .success(
            Started(
                environment: started, initMs: initMs, overLimitMs: withinLimit ? 0 : initMs - initLimit * 1000,
                initLog: reply.log))
    }

    /// The worker's environment: capsize's variables passed by name, Lambda's defined ones, the function's own
    /// (they win), and capsize's switches for the worker.
    func environment() -> [String: String] {
        if let runtime = options.userRuntime { return environment(runtime) }
        let executable = options.workerCommand.first ?? WorkerProtocol.currentExecutable()
        var environment = WorkloadEnvironment.passed()
        environment.merge(
            LambdaEnvironment.defined(
                functionName: settings.functionName, memoryMB: settings.configuration.memoryMB,
                logStream: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                runtimeDirectory: URL(fileURLWithPath: executable).deletingLastPathComponent().path,
                taskRoot: FileManager.default.currentDirectoryPath)
        ) { passed, defined in
            // The runtime's own libraries (LD_LIBRARY_PATH passed by name) come first.
            passed.isEmpty ? defined : passed + ":" + defined
        }
        environment.merge(settings.variables) { _, configured in configured }
        environment["CAPSIZE_HIDE_GPUS"] = "1"
        environment.merge(WorkerProtocol.environment(usesOpenCL: options.workerUsesOpenCL)) { _, off in off }
        // A crashing runtime should end at once, not spend seconds symbolicating inside the environment.
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
        for name in SandboxLimits.threadCountVariables {
            environment[name] = "\(settings.configuration.threads)"
        }
        return environment
    }

    /// A user runtime's environment: Lambda's defined variables, the runtime's own, the function's (they win), and
    /// nothing of capsize's (`AWS_LAMBDA_RUNTIME_API` is added by the environment once it listens).
    func environment(_ runtime: UserRuntime) -> [String: String] {
        var environment = LambdaEnvironment.defined(
            functionName: settings.functionName, memoryMB: settings.configuration.memoryMB,
            logStream: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
            runtimeDirectory: runtime.runtimeDirectory, taskRoot: runtime.taskRoot)
        environment["_HANDLER"] = runtime.handler
        environment["AWS_EXECUTION_ENV"] = runtime.executionEnvironment
        environment.merge(runtime.variables) { _, own in own }
        environment.merge(settings.variables) { _, configured in configured }
        return environment
    }
}
