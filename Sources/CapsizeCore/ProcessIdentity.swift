#if canImport(Glibc)
    import Glibc
#endif

/// A process as the kernel knows it: its id and when it started. An id alone is reused once its process has
/// ended; the pair names one process for as long as the machine runs.
public struct ProcessIdentity: Sendable, Equatable {
    public let pid: Int32
    /// The start time in clock ticks since boot (field 22 of `/proc/PID/stat`); nil where it cannot be read.
    public let startTicks: Int64?

    public init(pid: Int32, startTicks: Int64?) {
        self.pid = pid
        self.startTicks = startTicks
    }

    /// This process (read once: every job's temporary folder is named after it).
    public static let current: ProcessIdentity = {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTicks: startTicks(of: pid))
    }()

    /// Whether this process still runs: its id exists and, where a start time is known, started then (an id
    /// reused by a later process is not it).
    public var isAlive: Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let startTicks, let now = Self.startTicks(of: pid) else { return true }
        return now == startTicks
    }

    /// Field 22 (`starttime`) of `/proc/PID/stat`, counted after the command name's closing parenthesis (the
    /// name may hold spaces and parentheses itself).
    public static func startTicks(of pid: Int32) -> Int64? {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = line.lastIndex(of: ")") else { return nil }
        // After ")": state (3), ppid (4), ... starttime (22): the 20th field from there.
        let fields = line[line.index(after: close)...].split(separator: " ")
        return fields.count >= 20 ? Int64(fields[19]) : nil
    }
}
