import CapsizeCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private temporary directory (`TMPDIR`) for one run or one execution environment.
enum TemporaryDirectory {
    /// The names' start: `capsize-sandbox-PID-TICKS-XXXXXX`, PID and TICKS (its start time) naming the capsize process
    /// that made it, so that one left behind by a process that is gone (killed with `kill -9`) can be told apart.
    static let prefix = "capsize-sandbox-"

    /// Creates `capsize-sandbox-PID-TICKS-XXXXXX` under `base`, readable only by this user.
    /// - Throws: `SandboxError` when the directory cannot be created.
    static func create(under base: String) throws(SandboxError) -> String {
        let owner = ProcessIdentity.current
        var template = Array("\(base)/\(prefix)\(owner.pid)-\(owner.startTicks ?? 0)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            let error = SystemCallError(call: "mkdtemp", code: errno)
            throw SandboxError(
                "Cannot create a temporary directory under \(base) (\(error)); set TMPDIR to a writable directory.")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes the directories under `base` whose capsize process has ended (it was killed before it could);
    /// returns their paths. Those of running processes, and names of another form, are left alone.
    static func removeLeftovers(under base: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[0]), let ticks = Int64(parts[1]) else { continue }
            let owner = ProcessIdentity(pid: pid, startTicks: ticks == 0 ? nil : ticks)
            if owner.isAlive { continue }
            remove("\(base)/\(name)")
            removed.append("\(base)/\(name)")
        }
        return removed
    }

    /// Bytes stored under `path`: allocated blocks, like `du`, so sparse files count what they use.
    static func size(of path: String) -> UInt64 {
        guard let directory = opendir(path) else { return 0 }
        defer { closedir(directory) }
        let fd = dirfd(directory)
        var total: UInt64 = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            total += UInt64(max(0, info.st_blocks)) * 512
            if (info.st_mode & S_IFMT) == S_IFDIR { total += size(of: "\(path)/\(name)") }
        }
        return total
    }

    /// Removes `path` and everything in it; a directory the program made unwritable is opened up first.
    static func remove(_ path: String) {
        if rmdir(path) == 0 { return }  // the usual case: the program left it empty
        if (try? FileManager.default.removeItem(atPath: path)) != nil { return }
        if let walker = FileManager.default.enumerator(atPath: path) {
            for case let name as String in walker { chmod("\(path)/\(name)", 0o700) }
        }
        chmod(path, 0o700)
        try? FileManager.default.removeItem(atPath: path)
    }
}
