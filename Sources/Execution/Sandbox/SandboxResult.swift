public import Foundation

/// What happened to one sandboxed program and what it used. A program that fails, times out, runs
/// out of memory or crashes is a result like any other.
public struct SandboxResult: Sendable {
    /// Why the program ended.
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        /// Exit code 0.
        case completed
        /// A non-zero exit code (127 when the program could not be found, 126 when it could not run).
        case error
        /// The wall-clock cap was reached and the group was killed (or terminated, then killed).
        case timeout
        /// The process tree's memory went over the cap (or the kernel backstop killed it).
        case outOfMemory
        /// Killed by a signal the sandbox did not send (SIGSEGV, SIGABRT...).
        case crash
        /// The private temporary directory went over its cap.
        case storageExceeded
    }

    /// The captured part of stdout or stderr.
    public struct Output: Sendable, Hashable {
        /// The first bytes, up to the output limit.
        public var data: Data
        /// Everything the program wrote, kept or not.
        public var totalBytes: Int

        public init(data: Data = Data(), totalBytes: Int = 0) {
            self.data = data
            self.totalBytes = totalBytes
        }

        /// Whether bytes were dropped at the output limit.
        public var truncated: Bool { totalBytes > data.count }
        /// The kept bytes as UTF-8 (invalid sequences replaced).
        public var text: String { String(decoding: data, as: UTF8.self) }
    }

    /// One reading of the process tree's resident memory.
    public struct MemorySample: Sendable, Hashable, Codable {
        /// Seconds since the program started.
        public var seconds: Double
        public var bytes: UInt64
    }

    /// What the kernel enforced besides the sandbox's own sampling.
    public enum KernelBackstop: Sendable, Hashable {
        /// cgroup v2 `memory.max` on a cgroup created for the run.
        case cgroup(path: String)
        /// `RLIMIT_AS` on every process.
        case addressSpace(bytes: UInt64)
    }

    public var reason: Reason
    /// The exit code, when the program exited (also after a SIGTERM it handled).
    public var exitCode: Int32?
    /// The signal that killed it, when one did.
    public var signal: Int32?
    /// Why the program could not run, e.g. "cannot run 'nope': No such file or directory".
    public var message: String?
    /// The program's process id (also its process group id).
    public var pid: Int32
    /// From the fork of the program to its end, as the launcher saw it.
    public var wallSeconds: Double
    /// CPU time of the program and every descendant that was waited for.
    public var userSeconds: Double
    public var systemSeconds: Double
    /// The larger of `maxRSSBytes` and `sampledPeakRSSBytes`.
    public var peakRSSBytes: UInt64
    /// The kernel's `ru_maxrss`: the largest single process.
    public var maxRSSBytes: UInt64
    /// The largest sum of RSS over the process tree seen by the sampler.
    public var sampledPeakRSSBytes: UInt64
    public var stdout: Output
    public var stderr: Output
    /// Bytes stored in the temporary directory at the end (or when it went over its cap).
    public var temporaryDirectoryBytes: UInt64
    /// The tree's memory at each sample, when the sandbox records a timeline.
    public var memoryTimeline: [MemorySample]
    public var kernelBackstop: KernelBackstop?
    /// CPU seconds capsize's supervising thread spent on the run (spawn, pipes, memory sampling):
    /// the sandbox's own cost, not the program's.
    public var supervisorCPUSeconds: Double
    /// The CPU share the run was held to (`SandboxLimits.cpuShare`), if any.
    public var cpuShare: Double? = nil
    /// Wall seconds the CPU-share governor held the tree stopped: the part of `wallSeconds` it waited for
    /// its share.
    public var cpuThrottledSeconds: Double = 0
}
