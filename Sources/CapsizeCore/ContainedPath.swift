public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file capsize writes under a name it did not make itself (an option's id from a price catalog, a name from a
/// saved file): the name must be one plain path component, the path must stay inside its folder once links are
/// followed, and the file is created new, never written through an existing file or link. The one helper for such
/// paths (CONTRIBUTING, "No user string reaches a shell or a path unquoted").
public enum ContainedPath {
    /// What a name may be, in words.
    public static let nameRule = "1 to 255 of A-Z a-z 0-9 . _ -, starting with a letter or digit"

    /// Whether `name` is one plain path component: `nameRule` (so never empty, `.`, `..`, absolute or with `/`).
    public static func isSafeName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, scalars.count <= 255, first.isASCIILetterOrDigit else { return false }
        return scalars.allSatisfy { $0.isASCIILetterOrDigit || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// The path of the file `name` in `directory`, checked to stay there.
    /// - Parameter setting: the setting the folder came from (`export`), named by the error.
    /// - Throws: `InputError` naming `setting` when `name` is not a safe name, or when a link already at that path
    ///   leads out of the folder (or nowhere).
    public static func path(of name: String, in directory: String, setting: String) throws(InputError) -> String {
        let folder = resolved(directory)
        guard isSafeName(name) else {
            throw InputError(
                setting: setting, value: "\(directory)/\(name)",
                allowed: "a file inside \(directory) named with \(nameRule)")
        }
        let path = (folder == "/" ? "" : folder) + "/" + name
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFLNK {
            let target = resolved(path)
            guard target.hasPrefix(folder + "/"), lstat(target, &status) == 0 else {
                throw InputError(
                    setting: setting, value: path, allowed: "a file inside \(directory) (a link there leads out)")
            }
        }
        return path
    }

    /// Writes `data` to the new file `name` in `directory` (which must exist), checked by `path(of:in:setting:)`
    /// and created with `O_EXCL | O_NOFOLLOW`: an existing file, or a link put there meanwhile, is never written.
    /// - Returns: the path written.
    /// - Throws: `InputError` naming `setting` for a name that is not safe or a path that exists already;
    ///   `POSIXError` when the file cannot be created or written.
    @discardableResult
    public static func writeNew(_ data: Data, named name: String, in directory: String, setting: String) throws
        -> String
    {
        let path = try path(of: name, in: directory, setting: setting)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            if errno == EEXIST || errno == ELOOP {
                throw InputError(
                    setting: setting, value: path, allowed: "a path that does not exist yet (never overwritten)")
            }
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        defer { close(descriptor) }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) throws in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                offset += written
            }
        }
        return path
    }

    /// Checks, before any work, that files can later be written into the folder `directory`: it is a folder, or it
    /// does not exist yet and the nearest folder above it that exists can be written to.
    /// - Throws: `InputError` naming `setting` for an empty path, a path that is a file, or one below a folder that
    ///   cannot be written to.
    public static func checkWritableFolder(_ directory: String, setting: String) throws(InputError) {
        let allowed = "a folder capsize can create or write to"
        guard !directory.isEmpty, !directory.utf8.contains(0) else {
            throw InputError(setting: setting, value: directory, allowed: allowed)
        }
        var path = URL(fileURLWithPath: directory).standardized.path
        var facts = stat()
        while stat(path, &facts) != 0 {
            guard errno == ENOENT, path != "/" else {
                throw InputError(setting: setting, value: directory, allowed: allowed)
            }
            path = (path as NSString).deletingLastPathComponent
        }
        guard facts.st_mode & S_IFMT == S_IFDIR, access(path, W_OK | X_OK) == 0 else {
            throw InputError(setting: setting, value: directory, allowed: allowed)
        }
    }

    /// `path` with every link followed (`realpath`); as `URL` standardizes it when it does not resolve.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return URL(fileURLWithPath: path).standardized.path }
        defer { free(real) }
        return String(cString: real)
    }
}
