import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive advisory lock on a sibling `.lock` file, so that capsize processes updating the same
/// file (calibrations, the run store) take turns.
public enum FileLock {
    /// Creates the directory of `path` if needed, then runs `body` while holding an exclusive `flock`
    /// on `path + ".lock"`. The corresponding C function is `flock`.
    /// - Throws: `FileLockError` when the directory or the lock file cannot be created; else what `body` throws.
    public static func withExclusiveLock<T>(beside path: String, _ body: () throws -> T) throws -> T {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FileLockError(path: path, reason: error.localizedDescription)
        }
        let lock = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw FileLockError(path: path + ".lock", reason: String(cString: strerror(errno))) }
        defer { close(lock) }
        _ = flock(lock, LOCK_EX)
        return try body()
    }
}

/// The directory or lock file beside `path` cannot be created.
public struct FileLockError: Error, Equatable {
    public var path: String
    public var reason: String
}
