public import Foundation

/// Runs programs in child processes that are capped and measured.
///
/// Each run goes through `capsize-launch`, a small C process that forks the program into a process
/// group of its own (in a PID namespace of its own, see `usesPIDNamespace`), applies rlimits and CPU
/// affinity, execs it and waits for it with `wait4`. A thread of the sandbox's own supervises the run:
/// it reads stdout, stderr and the launcher's report, samples the memory of the whole process tree
/// every `sampleInterval`, and kills the group at the caps. When the program ends, whatever it left
/// behind is killed too: no process outlives a run.
public struct Sandbox: Sendable {
    /// The `capsize-launch` executable.
    public var launcherPath: String
    /// Seconds between two readings of the process tree's memory (at most 0.01).
    public var sampleInterval: Double
    /// Whether results carry every memory reading (`SandboxResult.memoryTimeline`).
    public var recordsMemoryTimeline: Bool
    /// Where private temporary directories are made.
    public var temporaryBase: String
    /// Start runs through a resident `capsize-launch --server` shared by the process (see
    /// `LaunchServer`) instead of one launcher process per run: the same caps and measurements, without
    /// an exec and a C library start-up per run. Off by default; the Batch executor turns it on.
    public var usesLaunchServer = false
    /// Run each program in a PID namespace of its own (`capsize-launch --pid-namespace`): it cannot name, so cannot
    /// kill, its launcher or capsize, and whatever it leaves behind stays below the namespace's init, in its tree,
    /// however fast it forks and orphans. By default (`pidNamespaceByDefault`) when capsize is not root: a program
    /// then runs under capsize's own uid. As root programs run as uids of their own (`SandboxUser`), which cannot
    /// signal the launcher, and the namespace would cost about 0.2 ms of CPU per run (Benchmarks/RESULTS.md). Where
    /// none can be made (user namespaces turned off) the program runs as without it.
    public var usesPIDNamespace = Sandbox.pidNamespaceByDefault

    /// Whether programs get a PID namespace of their own unless told otherwise: when capsize is not root.
    public static let pidNamespaceByDefault = geteuid() != 0

    /// - Parameters:
    ///   - launcherPath: `capsize-launch`; by default found next to the running binary (see `Launcher`).
    ///   - sampleInterval: seconds between memory readings, 0.0005...0.01.
    ///   - recordsMemoryTimeline: keep every memory reading in the result.
    ///   - temporaryBase: the parent of private temporary directories; by default the system's.
    /// - Throws: `SandboxError` when the launcher cannot be found or the interval is out of range.
    public init(
        launcherPath: String? = nil, sampleInterval: Double = 0.005, recordsMemoryTimeline: Bool = false,
        temporaryBase: String? = nil
    ) throws(SandboxError) {
        guard (0.0005...0.01).contains(sampleInterval) else {
            throw SandboxError("Sandbox sampleInterval is \(sampleInterval) s; use 0.0005 to 0.01 seconds.")
        }
        if let launcherPath, !FileManager.default.isExecutableFile(atPath: launcherPath) {
            throw SandboxError(
                "The launcher \(launcherPath) is not an executable file; build capsize-launch or leave it out.")
        }
        if let launcherPath {
            self.launcherPath = launcherPath
        } else {
            self.launcherPath = try Launcher.locate()
        }
        self.sampleInterval = sampleInterval
        self.recordsMemoryTimeline = recordsMemoryTimeline
        self.temporaryBase = temporaryBase ?? FileManager.default.temporaryDirectory.path
    }

    /// Runs `argv` (the program is looked up in PATH) under `limits` and waits for it.
    /// - Parameters:
    ///   - argv: the program and its arguments.
    ///   - environment: the program's environment; when nil `WorkloadEnvironment.batchBase()` (a system
    ///     `PATH`, `LANG` and the variables passed by name: capsize's own environment never reaches a program). `TMPDIR`, `HOME` and `POCL_CACHE_DIR` (see
    ///     `SandboxUser.completeEnvironment`) and, with a thread count, the thread variables are set on top.
    ///   - limits: the caps.
    ///   - stdin: bytes for the program's stdin; /dev/null when nil.
    ///   - workingDirectory: where the program starts; capsize's own directory when nil.
    ///   - temporaryDirectory: an existing directory to use as `TMPDIR` and keep (an execution
    ///     environment's); when nil a private one is made for the run and removed after it.
    ///   - user: the user the program runs as (see `SandboxUser`; capsize must be root); capsize's when nil. The
    ///     private temporary directory is given to it; a given one must be its already.
    ///   - onOutput: called on the supervising thread with the bytes of stdout and stderr as they arrive, all of them
    ///     (the result keeps the first `limits.outputLimitBytes` of each as ever).
    /// - Returns: how the program ended and what it used; failures of the program are results.
    /// - Throws: `SandboxError` when the sandbox cannot be set up or the launcher fails;
    ///   `CancellationError` when the task is cancelled (the program is killed first).
    public func run(
        _ argv: [String], environment: [String: String]? = nil, limits: SandboxLimits = SandboxLimits(),
        stdin: Data? = nil, workingDirectory: String? = nil, temporaryDirectory: String? = nil,
        user: SandboxUser? = nil, onOutput: (@Sendable (ArraySlice<UInt8>) -> Void)? = nil
    ) async throws -> SandboxResult {
        guard let program = argv.first, !program.isEmpty else {
            throw SandboxError("The sandbox was given no program to run; pass at least one word in argv.")
        }
        try limits.validate()
        let supervisor = Supervisor(
            sandbox: self, argv: argv, environment: environment ?? WorkloadEnvironment.batchBase(),
            limits: limits, stdin: stdin, workingDirectory: workingDirectory, temporaryDirectory: temporaryDirectory,
            user: user, onOutput: onOutput)
        let result = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<SandboxResult?, any Error>) in
                // A thread of its own, not the cooperative pool: the loop blocks in ppoll. (The
                // launcher's parent-death signal follows the thread that spawned it: these threads
                // outlive their runs.)
                SupervisorThreads.shared.run { continuation.resume(with: Result { try supervisor.run() }) }
            }
        } onCancel: {
            supervisor.cancel()
        }
        guard let result else { throw CancellationError() }
        return result
    }

    /// This sandbox with runs started through the resident launcher (`usesLaunchServer`).
    public func withLaunchServer() -> Sandbox {
        var sandbox = self
        sandbox.usesLaunchServer = true
        return sandbox
    }

    /// Makes a private temporary directory for an execution environment that outlives one run
    /// (pass it as `temporaryDirectory`; remove it with `removeTemporaryDirectory`).
    /// - Throws: `SandboxError` when it cannot be created.
    public func makeTemporaryDirectory() throws(SandboxError) -> String {
        try TemporaryDirectory.create(under: temporaryBase)
    }

    /// Removes the private temporary directories under this sandbox's base that a capsize process left when it was
    /// killed (an interrupted run's, say); returns their paths.
    /// - Parameter base: the parent of the directories; nil for the system's temporary directory (`TMPDIR`).
    public static func removeLeftoverDirectories(under base: String? = nil) -> [String] {
        TemporaryDirectory.removeLeftovers(under: base ?? FileManager.default.temporaryDirectory.path)
    }

    /// Removes a directory made by `makeTemporaryDirectory` and everything in it.
    public static func removeTemporaryDirectory(_ path: String) { TemporaryDirectory.remove(path) }

    /// Bytes stored under `path` (allocated blocks, like `du`).
    public static func directorySize(_ path: String) -> UInt64 { TemporaryDirectory.size(of: path) }
}
