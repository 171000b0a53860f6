import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The unprivileged user a job or a function runs as when capsize runs as root, as Lambda runs functions as a
/// user that is not root. Each running job and execution environment gets a uid of its own, from systemd's
/// range for dynamic users (61184...65519: no account and no file of a system uses them), with the group of the
/// same number and no supplementary groups; so it cannot open the store (`capsize.sqlite`, 0600 root), another
/// job's folders (0700, their own uid), or signal or trace another job's processes. A uid is held with a lock
/// file (`/run/capsize-users/UID.lock`, or under `/tmp`), so capsize processes running at once do not share one.
/// The launcher switches to it in the program's process, after the limits and the working directory and
/// before exec (`capsize-launch --user UID:GID`).
public struct SandboxUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// The range uids are drawn from.
    public static let uids: ClosedRange<UInt32> = 61_184...65_519

    /// The uids of `uids` that are accounts of this machine (never drawn), read once: `getpwuid` reads the
    /// account database on every call (about 50 µs here), which a 10,000-job array would pay per job.
    private static let machineAccounts: Set<UInt32> = {
        var found: Set<UInt32> = []
        setpwent()
        while let entry = getpwent() {
            if uids.contains(entry.pointee.pw_uid) { found.insert(entry.pointee.pw_uid) }
        }
        endpwent()
        return found
    }()

    /// Whether jobs and functions started by this process run as a user of their own: when it is root.
    public static var isRequired: Bool { geteuid() == 0 }

    /// `UID:GID`, the launcher's `--user` value.
    var launcherValue: String { "\(uid):\(gid)" }

    /// Gives `path` (a folder made for the program: its `TMPDIR`, its output folder) to this user, 0700.
    func own(_ path: String) throws(SandboxError) {
        if chown(path, uid, gid) != 0 || chmod(path, 0o700) != 0 {
            throw SandboxError("Cannot give \(path) to uid \(uid) (\(SystemCallError(call: "chown", code: errno))).")
        }
    }

    /// Gives everything under `path` (a retried job's output folder, written by an earlier attempt that may have
    /// run as another uid) to this user. Walked by descriptor and never through a link: a link the job left must
    /// not lead root's chown out of the folder.
    func ownContents(of path: String) {
        if let fd = try? Posix.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) { ownEntries(of: fd) }
    }

    /// `ownContents` below the directory open as `fd` (closed here).
    private func ownEntries(of fd: Int32) {
        guard let directory = fdopendir(fd) else {
            var fd = fd
            Posix.close(&fd)
            return
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            _ = fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW)
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 { ownEntries(of: child) }
        }
    }

    /// A uid held for one job or execution environment; `release` (or the end of the process) frees it.
    public final class Lease: Sendable {
        public let user: SandboxUser
        private let descriptor: Mutex<Int32>

        init(user: SandboxUser, descriptor: Int32) {
            self.user = user
            self.descriptor = Mutex(descriptor)
        }

        /// Frees the uid for another job.
        public func release() {
            descriptor.withLock { Posix.close(&$0) }
        }

        deinit { release() }
    }

    private static let lockDirectory: String? = {
        for base in ["/run", "/tmp"] {
            let path = base + "/capsize-users"
            if mkdir(path, 0o700) != 0 && errno != EEXIST { continue }
            var info = stat()
            // Only a real folder of root's, that no one else can write to, holds the locks.
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == 0,
                info.st_mode & 0o022 == 0
            else { continue }
            return path
        }
        return nil
    }()

    /// A uid no other running job or environment holds; nil when this process is not root (the program then
    /// runs as capsize's user).
    /// - Throws: `SandboxError` when every uid of the range is held or the lock folder cannot be made.
    public static func lease() throws(SandboxError) -> Lease? {
        guard isRequired else { return nil }
        guard let directory = lockDirectory else {
            throw SandboxError("Cannot make a root-owned lock folder /run/capsize-users or /tmp/capsize-users.")
        }
        // The lowest free uid: jobs one after another reuse the same few, and so PoCL's kernel cache of each.
        for uid in uids {
            if machineAccounts.contains(uid) { continue }  // an account of this machine: not ours
            let flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW
            guard var fd = try? Posix.open("\(directory)/\(uid).lock", flags, mode: 0o600) else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                return Lease(user: SandboxUser(uid: uid, gid: gid_t(uid)), descriptor: fd)
            }
            Posix.close(&fd)
        }
        throw SandboxError("Every uid of \(uids) is in use by a running job; wait for some to end.")
    }

    /// PoCL's kernel cache for `uid` under `base` (`capsize-pocl-UID`, 0700, that user's): PoCL compiles each
    /// kernel once per user, not once per job. A later job drawing the same uid shares it.
    /// - Returns: nil when the folder there is not that user's own (someone made it first).
    static func poclCache(for uid: uid_t, gid: gid_t, under base: String) -> String? {
        let path = "\(base)/capsize-pocl-\(uid)"
        if mkdir(path, 0o700) == 0 { _ = chown(path, uid, gid) }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == uid, info.st_mode & 0o077 == 0
        else { return nil }
        return path
    }

    /// Sets what the sandbox gives every program on top of its environment: `TMPDIR` (its private folder),
    /// `HOME` (the same folder, unless given) and `POCL_CACHE_DIR` (unless given: a cache its user can write).
    static func completeEnvironment(
        _ environment: inout [String: String], temporary: String, user: SandboxUser?, base: String
    ) {
        environment["TMPDIR"] = temporary
        if environment["HOME"] == nil { environment["HOME"] = temporary }
        if environment["POCL_CACHE_DIR"] == nil {
            environment["POCL_CACHE_DIR"] =
                poclCache(for: user?.uid ?? getuid(), gid: user?.gid ?? getgid(), under: base) ?? temporary + "/.pocl"
        }
    }
}
