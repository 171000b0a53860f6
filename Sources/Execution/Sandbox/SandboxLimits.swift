/// The caps a sandboxed program runs under. Every cap is optional; `SandboxLimits()` caps nothing but
/// output size, and still measures everything.
public struct SandboxLimits: Sendable, Hashable {
    /// What happens to the process group when the wall-clock cap is reached.
    public enum TimeoutMode: Sendable, Hashable {
        /// Lambda: SIGKILL to the whole process group at the cap.
        case killGroup
        /// Batch: SIGTERM to the process group at the cap, then SIGKILL `grace` seconds later.
        case terminateThenKill(grace: Double)
    }

    /// Wall-clock cap in seconds, counted from the fork of the program.
    public var wallSeconds: Double?
    public var timeoutMode: TimeoutMode
    /// Cap on the resident memory of the whole process tree (the sum of the RSS of the program and all
    /// of its descendants, sampled from /proc); above it the tree is killed with SIGKILL.
    public var memoryBytes: UInt64?
    /// Also ask the kernel to enforce `memoryBytes`: cgroup v2 `memory.max` in a delegated subtree of
    /// capsize's own cgroup when there is one, else `RLIMIT_AS` per process at `memoryBytes` plus
    /// `addressSpaceHeadroom` (address space counts reservations that never become resident).
    public var kernelMemoryBackstop: Bool
    /// The CPUs the program may run on (affinity); also its default thread count.
    public var cpuList: [Int]?
    /// The thread count announced to the program through `threadCountVariables`; defaults to the size of
    /// `cpuList`.
    public var threads: Int?
    /// The variables that set the thread counts of OpenBLAS, OpenMP, MKL and PoCL's CPU device. PoCL 3.x
    /// (Debian 12) reads `POCL_MAX_PTHREAD_COUNT` and ignores `POCL_CPU_MAX_CU_COUNT`, which later versions
    /// read; measured here: with only the latter set to 1, a render used both cores.
    public static let threadCountVariables = [
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "POCL_CPU_MAX_CU_COUNT", "POCL_MAX_PTHREAD_COUNT",
    ]
    /// Cap on the bytes stored in the private temporary directory (`TMPDIR`); above it the tree is
    /// killed and the run ends as `storageExceeded`.
    public var temporaryDirectoryBytes: UInt64?
    /// How much of stdout and of stderr is kept (each); the rest is read, counted and dropped.
    public var outputLimitBytes: Int
    /// CPU-seconds the whole process tree may use per second of wall time (Lambda: memory / 1,769 MB, at
    /// most 6; Fargate: the task's vCPUs), enforced by `CPUGovernor`; nil leaves the tree at full speed.
    public var cpuShare: Double?
    /// Give the program a /dev/shm of its own (a tmpfs of at most `memoryBytes` in a mount namespace of its own,
    /// as a Lambda sandbox or a container has), counted against the memory cap and gone when the run ends. Needs
    /// root; otherwise the program shares the machine's /dev/shm, uncounted.
    public var privateSharedMemory: Bool = false
    /// `RLIMIT_NOFILE`: open file descriptors per process (Lambda: 1,024).
    public var openFiles: UInt64?
    /// `RLIMIT_NPROC`: processes and threads of the user (Lambda: 1,024). The kernel counts every
    /// process of the user, not only the sandbox's, and does not apply it to root.
    public var processes: UInt64?

    /// The CPU shares a governor can hold: from a hundredth of a CPU (below Lambda's 128 MB, 0.0724) to 1,024.
    public static let cpuShareRange = 0.01...1024.0

    /// What `RLIMIT_AS` allows above `memoryBytes` when the kernel backstop is an address-space limit.
    public static let addressSpaceHeadroom: UInt64 = 1 << 30

    public init(
        wallSeconds: Double? = nil, timeoutMode: TimeoutMode = .killGroup, memoryBytes: UInt64? = nil,
        kernelMemoryBackstop: Bool = false, cpuList: [Int]? = nil, threads: Int? = nil,
        temporaryDirectoryBytes: UInt64? = nil, outputLimitBytes: Int = 1 << 20, openFiles: UInt64? = nil,
        processes: UInt64? = nil, cpuShare: Double? = nil
    ) {
        self.cpuShare = cpuShare
        self.wallSeconds = wallSeconds
        self.timeoutMode = timeoutMode
        self.memoryBytes = memoryBytes
        self.kernelMemoryBackstop = kernelMemoryBackstop
        self.cpuList = cpuList
        self.threads = threads
        self.temporaryDirectoryBytes = temporaryDirectoryBytes
        self.outputLimitBytes = outputLimitBytes
        self.openFiles = openFiles
        self.processes = processes
    }

    /// The `RLIMIT_AS` of the kernel backstop when it is an address-space limit: `memoryBytes` plus
    /// `addressSpaceHeadroom`; nil without `kernelMemoryBackstop`.
    public var addressSpaceBytes: UInt64? {
        kernelMemoryBackstop ? memoryBytes.map { $0 + Self.addressSpaceHeadroom } : nil
    }

    /// The thread count the program is told about, if any.
    public var effectiveThreads: Int? { threads ?? cpuList.map(\.count) }

    /// - Throws: `SandboxError` naming the first field that is out of range.
    public func validate() throws(SandboxError) {
        func reject(_ field: String, _ value: String, _ allowed: String) -> SandboxError {
            SandboxError("Sandbox limit \(field) is \(value); use \(allowed).")
        }
        if let wallSeconds, !(wallSeconds > 0 && wallSeconds.isFinite) {
            throw reject("wallSeconds", "\(wallSeconds)", "a positive number of seconds")
        }
        if case .terminateThenKill(let grace) = timeoutMode, !(grace >= 0 && grace.isFinite) {
            throw reject("timeoutMode.grace", "\(grace)", "zero or more seconds")
        }
        if memoryBytes == 0 { throw reject("memoryBytes", "0", "a positive number of bytes") }
        if kernelMemoryBackstop && memoryBytes == nil {
            throw reject("kernelMemoryBackstop", "true without memoryBytes", "it together with a memory cap")
        }
        if let cpuList {
            let online = sysconfOnlineCPUs()
            if cpuList.isEmpty { throw reject("cpuList", "empty", "at least one CPU") }
            if let bad = cpuList.first(where: { $0 < 0 || $0 >= online }) {
                throw reject("cpuList", "\(cpuList) (CPU \(bad))", "CPUs 0...\(online - 1)")
            }
        }
        if let threads, threads < 1 { throw reject("threads", "\(threads)", "1 or more") }
        if outputLimitBytes < 0 { throw reject("outputLimitBytes", "\(outputLimitBytes)", "0 or more") }
        if let cpuShare, !(cpuShare >= Self.cpuShareRange.lowerBound && cpuShare <= Self.cpuShareRange.upperBound) {
            throw reject(
                "cpuShare", "\(cpuShare)", "\(Self.cpuShareRange.lowerBound)...\(Self.cpuShareRange.upperBound) CPUs")
        }
        if openFiles == 0 { throw reject("openFiles", "0", "1 or more") }
        if processes == 0 { throw reject("processes", "0", "1 or more") }
    }
}

/// A sandbox that could not be set up; the program did not run. (A program that fails is a
/// `SandboxResult`, not an error.)
public struct SandboxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
