import Compute
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A system call that failed: which call and its `errno`.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C function that failed, e.g. `posix_spawn`.
    public let call: String
    /// The `errno` it set (or, for `posix_spawn`, the error it returned).
    public let code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

/// Seconds on `CLOCK_MONOTONIC`, the clock the launcher stamps its reports with.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// CPU seconds the calling thread has used.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Reads a small file (under /proc or /sys) into `buffer` with one `read`; returns the byte count,
/// or nil when the file is gone (a process that just exited) or unreadable.
func readSmallFile(_ path: String, into buffer: inout [UInt8]) -> Int? {
    guard var fd = try? Posix.open(path, O_RDONLY | O_CLOEXEC) else { return nil }
    defer { Posix.close(&fd) }
    var total = 0
    while total < buffer.count {
        let read = buffer.withUnsafeMutableBytes { try? Posix.read(fd, into: .init(rebasing: $0[total...])) }
        guard case .bytes(let count) = read else { break }
        total += count
    }
    return total
}

/// CPUs configured on this machine (the range `sched_setaffinity` accepts).
func sysconfOnlineCPUs() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_CONF))) }

/// The environment this process was started with, read from `/proc/self/environ`, which keeps the
/// original block even after libraries call `setenv`. The variables capsize passes to programs it starts by name
/// (`WorkloadEnvironment.passedByName`) are read from it, never the whole environment: OpenCL
/// drivers loaded by capsize can rewrite its live environment (on the H200 machine,
/// `OCL_ICD_FILENAMES=libpocl.so.2:libnvidia-opencl.so.1` reached a job as `libpocl.so.2`, which hid
/// the GPU from it).
///
/// Plus what capsize sets itself: `OPENBLAS_CORETYPE` (and its marker) when capsize chose the OpenBLAS kernels from
/// CPUID, so that workers and jobs run the same kernels (a value the user set is in the start-up block already).
/// - Returns: the live environment when `/proc` cannot be read.
public func launchEnvironment() -> [String: String] {
    guard let data = FileManager.default.contents(atPath: "/proc/self/environ"), !data.isEmpty else {
        return ProcessInfo.processInfo.environment
    }
    var environment: [String: String] = [:]
    for entry in data.split(separator: 0) {
        guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
        let key = String(decoding: entry[entry.startIndex..<equals], as: UTF8.self)
        environment[key] = String(decoding: entry[(equals + 1)...], as: UTF8.self)
    }
    environment.merge(OpenBLASCoreType.childEnvironment()) { _, chosen in chosen }
    return environment
}
