#if canImport(Glibc)
import Glibc
#endif

/// The processes below a root process, their resident memory and the CPU time they used, read from /proc.
///
/// Children come from `/proc/PID/task/TID/children` (every thread's), falling back to a scan of
/// `/proc/*/stat` on kernels built without it. Memory is the sum of each process's RSS from
/// `/proc/PID/stat`: cheap enough to read every few milliseconds, and it counts pages shared
/// between processes (libraries, copy-on-write after fork) once per process. CPU time is, from the same
/// file, each process's user and system time (all its threads) plus that of the children it has reaped,
/// and the root's reaped children (orphans come to the launcher, a subreaper): so a process that has
/// exited and been waited for still counts.
struct ProcessTree {
    /// The processes found by the last `sample`.
    private(set) var processes: [pid_t] = []
    /// The resident bytes of each of `processes`, by the last `sample`.
    private(set) var residentBytes: [UInt64] = []
    /// CPU seconds (user + system) used by the tree up to the last `sample`: live descendants, the children
    /// they reaped, and the children the root reaped. Clock-tick resolution (1/100 s per process).
    private(set) var cpuSeconds = 0.0
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private static let pageSize = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
    private static let ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    private static let hasChildrenFiles = access("/proc/self/task/\(getpid())/children", R_OK) == 0

    /// Sums the RSS of every descendant of `root` (not `root` itself) and remembers who they are.
    mutating func sample(below root: pid_t) -> UInt64 {
        processes.removeAll(keepingCapacity: true)
        residentBytes.removeAll(keepingCapacity: true)
        if Self.hasChildrenFiles {
            var index = 0
            appendChildren(of: root)
            while index < processes.count {
                appendChildren(of: processes[index])
                index += 1
            }
        } else {
            scanDescendants(of: root)
        }
        var total: UInt64 = 0
        var ticks: UInt64 = root > 0 ? (statistics(of: root)?.reapedTicks ?? 0) : 0
        for pid in processes {
            let entry = statistics(of: pid)
            residentBytes.append(entry?.resident ?? 0)
            total += entry?.resident ?? 0
            ticks += (entry?.ownTicks ?? 0) + (entry?.reapedTicks ?? 0)
        }
        cpuSeconds = Double(ticks) / Self.ticksPerSecond
        return total
    }

    private mutating func appendChildren(of pid: pid_t) {
        guard let tasks = opendir("/proc/\(pid)/task") else { return }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first?.isNumber == true,
                let count = readSmallFile("/proc/\(pid)/task/\(name)/children", into: &buffer)
            else { continue }
            var value: Int32 = 0
            var inNumber = false
            for byte in buffer[..<count] {
                if byte >= 48 && byte <= 57 {
                    value = value * 10 + Int32(byte - 48)
                    inNumber = true
                } else if inNumber {
                    processes.append(value)
                    value = 0
                    inNumber = false
                }
            }
            if inNumber { processes.append(value) }
        }
    }

    /// The slow path: one pass over /proc for parent links, then a walk from `root`.
    private mutating func scanDescendants(of root: pid_t) {
        guard let proc = opendir("/proc") else { return }
        var children: [pid_t: [pid_t]] = [:]
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let count = readSmallFile("/proc/\(name)/stat", into: &buffer) else {
                continue
            }
            // "PID (comm) S PPID ...": comm may contain spaces and parentheses, so start after the last ')'.
            guard let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")) else { continue }
            let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
            if fields.count > 1, let parent = pid_t(String(decoding: fields[1], as: UTF8.self)) {
                children[parent, default: []].append(pid)
            }
        }
        closedir(proc)
        var queue = children[root] ?? []
        var index = 0
        while index < queue.count {
            queue += children[queue[index]] ?? []
            index += 1
        }
        processes = queue
    }

    /// From /proc/PID/stat: resident bytes (field 24), user + system ticks (14, 15) and the reaped
    /// children's (16, 17); nil for a process that is gone.
    private mutating func statistics(of pid: pid_t) -> (resident: UInt64, ownTicks: UInt64, reapedTicks: UInt64)? {
        guard let count = readSmallFile("/proc/\(pid)/stat", into: &buffer),
            let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        // After "PID (comm)" the fields are space-separated numbers (and the one-letter state): field 3 is
        // the first after the parenthesis.
        var field = 2
        var value: UInt64 = 0
        var own: UInt64 = 0
        var reaped: UInt64 = 0
        var resident: UInt64 = 0
        for byte in buffer[(close + 1)..<count] {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                switch field {
                case 14, 15: own += value
                case 16, 17: reaped += value
                case 24: resident = value * Self.pageSize
                default: break
                }
                if field == 24 { break }
                field += 1
                value = 0
            } else if byte >= 48 && byte <= 57 {
                value = value &* 10 &+ UInt64(byte - 48)
            }
        }
        return field >= 24 ? (resident, own, reaped) : nil
    }
}
