internal import CLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A cgroup v2 leaf with `memory.max`, made for one run inside a delegated subtree: the parent is
/// `CAPSIZE_CGROUP` when set, else capsize's own cgroup, and it must already have the memory
/// controller enabled for its children and be writable. Nothing is moved anywhere else: only the
/// sandboxed program joins the new leaf (the launcher writes it into `cgroup.procs` before exec).
final class MemoryCgroup {
    let path: String

    private init(path: String) { self.path = path }

    /// A new leaf capped at `bytes`, or nil when no delegated subtree with the memory controller exists.
    static func create(limit bytes: UInt64) -> MemoryCgroup? {
        guard let parent = delegatedParent() else { return nil }
        var template = Array("\(parent)/capsize-\(getpid())-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { return nil }
        let cgroup = MemoryCgroup(path: template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        guard cgroup.write("memory.max", "\(bytes)") else {
            cgroup.remove()
            return nil
        }
        _ = cgroup.write("memory.swap.max", "0")  // absent without swap accounting; then nothing to do
        return cgroup
    }

    /// How many times the kernel's OOM killer fired inside the cgroup.
    var oomKills: Int {
        let events = (try? String(contentsOfFile: "\(path)/memory.events", encoding: .utf8)) ?? ""
        let line = events.split(separator: "\n").first { $0.hasPrefix("oom_kill ") }
        return line.flatMap { Int($0.dropFirst("oom_kill ".count)) } ?? 0
    }

    /// Removes the (by now empty) cgroup.
    func remove() { rmdir(path) }

    private func write(_ file: String, _ value: String) -> Bool {
        guard var fd = try? Posix.open("\(path)/\(file)", O_WRONLY | O_CLOEXEC) else { return false }
        defer { Posix.close(&fd) }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { try? Posix.write(fd, from: $0) } == .bytes(bytes.count)
    }

    private static func delegatedParent() -> String? {
        var info = statfs()
        let cgroup2Magic = 0x6367_7270
        guard statfs("/sys/fs/cgroup", &info) == 0, info.f_type == cgroup2Magic else { return nil }
        var parent = ProcessInfo.processInfo.environment["CAPSIZE_CGROUP"]
        if parent == nil {
            let lines = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
            guard let own = lines.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
            parent = "/sys/fs/cgroup" + own.dropFirst(3)
        }
        guard let parent,
            let controllers = try? String(contentsOfFile: "\(parent)/cgroup.subtree_control", encoding: .utf8),
            controllers.split(whereSeparator: \.isWhitespace).contains("memory"), access(parent, W_OK) == 0
        else { return nil }
        return parent
    }
}
