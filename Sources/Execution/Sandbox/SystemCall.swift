internal import CLinux
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

/// Returns `value`, or throws the current `errno` when `value` is -1 (the C convention of `open`,
/// `pipe2`, `fcntl`...).
@discardableResult
func check<Value: FixedWidthInteger>(_ value: Value, _ call: String) throws(SystemCallError) -> Value {
    if value == -1 { throw SystemCallError(call: call, code: errno) }
    return value
}

/// Throws when `status` (the return value of a function that reports errors by returning them,
/// like `posix_spawn`) is not zero.
func checkStatus(_ status: Int32, _ call: String) throws(SystemCallError) {
    if status != 0 { throw SystemCallError(call: call, code: status) }
}

/// Seconds on `CLOCK_MONOTONIC`, the clock the launcher stamps its reports with.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Waits with `ppoll` until one of `polls` is ready or the monotonic time `wake` (forever when nil).
/// - Returns: `ppoll`'s result: the ready count, 0 at the wake time, -1 on a signal.
func waitForEvents(_ polls: inout [pollfd], until wake: Double?) -> Int32 {
    guard let wake else {
        return polls.withUnsafeMutableBufferPointer { ppoll($0.baseAddress, nfds_t($0.count), nil, nil) }
    }
    let pause = max(0, wake - monotonicSeconds())
    var timeout = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - Double(Int(pause))) * 1e9))
    return polls.withUnsafeMutableBufferPointer { ppoll($0.baseAddress, nfds_t($0.count), &timeout, nil) }
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
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var total = 0
    while total < buffer.count {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
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
