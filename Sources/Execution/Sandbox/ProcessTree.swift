#if canImport(Glibc)
import Glibc
#endif

/// The processes below a root process and their resident memory, read from /proc.
///
/// Children come from `/proc/PID/task/TID/children` (every thread's), falling back to a scan of
/// `/proc/*/stat` on kernels built without it. Memory is the sum of each process's RSS from
/// `/proc/PID/statm`: cheap enough to read every few milliseconds, and it counts pages shared
/// between processes (libraries, copy-on-write after fork) once per process.
struct ProcessTree {
    /// The processes found by the last `sample`.
    private(set) var processes: [pid_t] = []
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private static let pageSize = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
    private static let hasChildrenFiles = access("/proc/self/task/\(getpid())/children", R_OK) == 0

    /// Sums the RSS of every descendant of `root` (not `root` itself) and remembers who they are.
    mutating func sample(below root: pid_t) -> UInt64 {
        processes.removeAll(keepingCapacity: true)
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
        for pid in processes { total += residentBytes(of: pid) }
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

    /// The second field of /proc/PID/statm (resident pages), in bytes; 0 for a process that is gone.
    private mutating func residentBytes(of pid: pid_t) -> UInt64 {
        guard let count = readSmallFile("/proc/\(pid)/statm", into: &buffer) else { return 0 }
        var field = 0
        var value: UInt64 = 0
        for byte in buffer[..<count] {
            if byte == UInt8(ascii: " ") {
                if field == 1 { break }
                field += 1
                value = 0
            } else if field == 1 && byte >= 48 && byte <= 57 {
                value = value * 10 + UInt64(byte - 48)
            }
        }
        return field == 1 ? value * Self.pageSize : 0
    }
}
