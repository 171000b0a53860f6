import CapsizeCore
import Execution
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file that landed in a watched directory: closed after being written, or renamed in.
public struct LandedFile: Sendable, Equatable {
    /// Its path relative to the directory, `/` between folders.
    public var key: String
    /// Its size in bytes, as read.
    public var size: Int
    /// The MD5 of what was read, 32 lowercase hex digits.
    public var md5: String
    /// Its modification time.
    public var modified: Date
    /// Greater for each file the watcher reports (nanoseconds since 1970, made strictly increasing).
    public var sequence: UInt64
}

/// Watches a directory with inotify and reports each file that lands in it, once: a file written and closed
/// (`IN_CLOSE_WRITE`) or renamed in (`IN_MOVED_TO`), in the directory or any folder below it. A file still open
/// for writing is not reported until it is closed; files already there when the watch starts are not reported
/// (as S3 notifies nothing for objects that existed before the notification).
///
/// The watch is in place when `init` returns: a file closed after that is reported, whatever moment of the start
/// it began being written in. A folder made (or moved in) later is watched as soon as inotify says so, then listed,
/// so that files landing in it before its watch are reported too; one reported both by that listing and by its
/// own event is reported once (the same inode, size and times), and one the listing finds still open for writing
/// (a read lease is refused) is left to its close's event. After an inotify queue overflow every folder is listed
/// again the same way. Where leases are not allowed (another user's file), a file written into a new folder in the
/// instant before its watch starts may be reported before it is complete, then again.
public final class DirectoryWatcher: Sendable {
    /// What ends `files` when the watched directory itself is removed, moved away or unmounted.
    public struct Gone: Error, Equatable, CustomStringConvertible {
        public var directory: String
        public var description: String { "the watched directory \(directory) went away (removed, moved or unmounted)" }
    }

    /// The watched directory, as given.
    public let directory: String
    private let stop: StopFlag
    /// Each landed file, in the order inotify reported them; finishes with an error when the directory goes away
    /// or inotify fails. Watching stops when the consumer stops iterating or when the watcher is released: keep
    /// the watcher while iterating.
    public let files: AsyncThrowingStream<LandedFile, any Error>

    /// Starts watching `directory` and its folders (`recursive`).
    /// - Throws: `InputError` naming `setting` when `directory` is not a directory; `SystemCallError` when
    ///   inotify cannot watch it (e.g. `ENOSPC`: `fs.inotify.max_user_watches` is reached).
    public init(directory: String, recursive: Bool = true, setting: String = "directory") throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw InputError(setting: setting, value: directory, allowed: "an existing directory") }
        self.directory = directory
        var start = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &start)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError(call: "inotify_init1", code: errno) }
        var loop = WatchLoop(fd: fd, root: directory, recursive: recursive, startedAt: start)
        do {
            try loop.add(folder: "", listing: .baseline)
        } catch {
            _ = close(fd)
            throw error
        }
        let stop = StopFlag()
        self.stop = stop
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: LandedFile.self)
        files = stream
        continuation.onTermination = { _ in stop.stopped.store(true, ordering: .relaxed) }
        let running = loop
        Thread.detachNewThread {
            var loop = running
            loop.run(continuation, stop: stop)
        }
    }

    /// Stops the watching thread, also when nothing iterated `files` (whose end would have stopped it).
    deinit { stop.stopped.store(true, ordering: .relaxed) }
}

/// Set when the stream ends, for the watching thread (which looks at least every `checkEvery` milliseconds).
private final class StopFlag: Sendable {
    static let checkEvery: Int32 = 200
    let stopped = Atomic<Bool>(false)
}

/// A file's inode, size and times: a file reported with the same identity is not reported again.
private struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    var modified: timespec
    var changed: timespec

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int(status.st_size)
        modified = status.st_mtim
        changed = status.st_ctim
    }

    static func == (a: Self, b: Self) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
            && a.modified.tv_nsec == b.modified.tv_nsec && a.changed.tv_sec == b.changed.tv_sec
            && a.changed.tv_nsec == b.changed.tv_nsec
    }
}

/// The watching thread's state: the inotify descriptor, the watched folders, what was there and what was sent.
private struct WatchLoop: Sendable {
    enum Listing {
        /// At the start: remember what is there, report nothing.
        case baseline
        /// A folder that appeared, or after an overflow: report what is new.
        case report
    }

    let fd: Int32
    let root: String
    let recursive: Bool
    /// When the watch started (the kernel's coarse clock, which stamps files): a file changed since may be
    /// reported by its event and is not part of the baseline.
    let startedAt: timespec
    /// Watch descriptor → folder relative to the root ("" for the root).
    var folders: [Int32: String] = [:]
    var rootWatch: Int32 = -1
    /// Files there at the start (changed before it), by key.
    var baseline: [String: FileIdentity] = [:]
    /// The last version reported of each key.
    var reported: [String: FileIdentity] = [:]
    var lastSequence: UInt64 = 0
    /// Files to report once the events read are handled: by key, whether a listing found it (rather than its
    /// own event).
    var found: [(key: String, listed: Bool)] = []

    init(fd: Int32, root: String, recursive: Bool, startedAt: timespec) {
        self.fd = fd
        self.root = root
        self.recursive = recursive
        self.startedAt = startedAt
    }

    func path(_ key: String) -> String { key.isEmpty ? root : root + "/" + key }

    /// Watches `folder`, then lists it (and, recursively, its folders).
    mutating func add(folder: String, listing: Listing) throws(SystemCallError) {
        var mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_MOVE_SELF)
        if recursive { mask |= UInt32(IN_CREATE | IN_MOVED_FROM) }
        let watch = inotify_add_watch(fd, path(folder), mask)
        guard watch >= 0 else {
            // A folder removed or replaced before its watch is no failure; the root is.
            if folder.isEmpty || (errno != ENOENT && errno != ENOTDIR) {
                throw SystemCallError(call: "inotify_add_watch", code: errno)
            }
            return
        }
        folders[watch] = folder
        if folder.isEmpty { rootWatch = watch }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path(folder))) ?? []
        for name in names.sorted() {
            let key = folder.isEmpty ? name : folder + "/" + name
            var status = stat()
            guard lstat(path(key), &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR where recursive: try add(folder: key, listing: listing)
            case S_IFREG:
                switch listing {
                case .baseline where Self.before(status.st_ctim, startedAt): baseline[key] = FileIdentity(status)
                case .baseline: break
                case .report: found.append((key, true))
                }
            default: break
            }
        }
    }

    /// Whether some process has the file `fd` reads open for writing: Linux refuses a read lease (`F_SETLEASE`)
    /// with `EAGAIN` then. The lease, when granted, is dropped at once; a writer opening the file meanwhile breaks
    /// it with a signal, set to SIGWINCH (ignored unless handled) rather than SIGIO, which would end capsize. Where
    /// leases are not allowed (another user's file, leases disabled) the answer is no.
    static func openForWriting(_ fd: Int32) -> Bool {
        let setLease: Int32 = 1024  // F_SETLEASE
        let setSignal: Int32 = 10  // F_SETSIG
        guard fcntl(fd, setSignal, SIGWINCH) == 0 else { return false }
        if fcntl(fd, setLease, Int32(F_RDLCK)) == 0 {
            _ = fcntl(fd, setLease, Int32(F_UNLCK))
            return false
        }
        return errno == EAGAIN
    }

    static func before(_ a: timespec, _ b: timespec) -> Bool {
        a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec)
    }

    /// Reads inotify's events until the stream ends or the root goes away.
    mutating func run(_ continuation: AsyncThrowingStream<LandedFile, any Error>.Continuation, stop: StopFlag) {
        defer { _ = close(fd) }
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        var polls = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            if stop.stopped.load(ordering: .relaxed) { return continuation.finish() }
            let ready = poll(&polls, 1, StopFlag.checkEvery)
            if ready < 0 {
                if errno == EINTR { continue }
                return continuation.finish(throwing: SystemCallError(call: "poll", code: errno))
            }
            if ready == 0 { continue }
            let count = read(fd, buffer.baseAddress, capacity)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return continuation.finish(throwing: SystemCallError(call: "read", code: errno))
            }
            var offset = 0
            while offset + 16 <= count {
                let watch = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 16)..<(offset + 16 + length)])
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                offset += 16 + length
                if mask & UInt32(IN_IGNORED | IN_MOVE_SELF) != 0, watch == rootWatch {
                    return continuation.finish(throwing: DirectoryWatcher.Gone(directory: root))
                }
                handle(watch: watch, mask: mask, name: name)
            }
            for (key, listed) in found {
                if let file = land(key, listed: listed) { continuation.yield(file) }
            }
            found.removeAll()
        }
    }

    mutating func handle(watch: Int32, mask: UInt32, name: String) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // Watching a folder again gives its watch back: every folder is listed, reporting what is new.
            try? add(folder: "", listing: .report)
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            folders[watch] = nil
            return
        }
        guard let folder = folders[watch], !name.isEmpty else { return }
        let key = folder.isEmpty ? name : folder + "/" + name
        if mask & UInt32(IN_ISDIR) != 0 {
            if mask & UInt32(IN_MOVED_FROM) != 0 {
                for (watch, watched) in folders where watched == key || watched.hasPrefix(key + "/") {
                    inotify_rm_watch(fd, watch)
                    folders[watch] = nil
                }
            } else if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                try? add(folder: key, listing: .report)
            }
        } else if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
            found.append((key, false))
        }
    }

    /// Reads `key` for its size and MD5; nil when it is gone, not a plain file, or reported in this version, or
    /// when a listing found it still open for writing (its close is an event to come).
    mutating func land(_ key: String, listed: Bool) -> LandedFile? {
        let file = open(path(key), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard file >= 0 else { return nil }
        defer { _ = close(file) }
        var status = stat()
        guard fstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let identity = FileIdentity(status)
        if reported[key] == identity || baseline[key] == identity { return nil }
        if listed, Self.openForWriting(file) { return nil }
        var digest = MD5()
        var size = 0
        let chunk = 1 << 20
        var bytes = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress, chunk) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            digest.update(bytes[0..<count])
            size += count
        }
        reported[key] = identity
        baseline[key] = nil
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        lastSequence = max(lastSequence + 1, UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
        let modified = Date(
            timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec) + TimeInterval(status.st_mtim.tv_nsec) / 1e9)
        return LandedFile(key: key, size: size, md5: digest.hexDigest(), modified: modified, sequence: lastSequence)
    }
}
