import Foundation
import TestSupport
import Testing

/// capsize run by a user other than root: functions and jobs cannot be given users of their own, but still get a
/// /dev/shm of their own (in a user namespace that maps the user to itself).
@Suite(.serialized, .enabled(if: AnotherUser.available, "needs root, runuser, a binary `nobody` can run, user namespaces"))
struct AnotherUserTests {
    @Test("as another user, 300 MB written to /dev/shm by a 64 MiB job kill it for memory and leave nothing behind")
    func sharedMemoryAsAnotherUser() throws {
        let home = try AnotherUser.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = "capsize-nobody-\(getpid())"
        let result = try AnotherUser.run([
            "submit", "--memory", "64", "--json", "--",
            "sh", "-c", "dd if=/dev/zero of=/dev/shm/\(file) bs=1M count=300 2>/dev/null; sleep 3",
        ], home: home)
        #expect(result.stdout.contains("OutOfMemoryError"), "\(result.stdout) \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/\(file)"))
    }
}

enum AnotherUser {
    static let runuser = "/usr/sbin/runuser"
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("capsize").standardizedFileURL.path

    /// Root, runuser, every folder above the binary open to others, and user namespaces for `nobody`.
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: runuser) else { return false }
        var path = URL(fileURLWithPath: binary)
        while path.path != "/" {
            path.deleteLastPathComponent()
            var info = stat()
            guard stat(path.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
        }
        return (try? launch([runuser, "-u", "nobody", "--", "unshare", "-Urm", "true"]).status) == 0
    }()

    /// A store folder `nobody` owns.
    static func home() throws -> String {
        let path = "/tmp/capsize-nobody-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chown(path, 65_534, 65_534)
        return path
    }

    /// capsize as `nobody`, with `home` as its store and nothing else of this environment but PATH.
    static func run(_ arguments: [String], home: String) throws -> ProcessOutput {
        try launch([runuser, "-u", "nobody", "--", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "CAPSIZE_HOME=\(home)",
                    binary] + arguments)
    }

    static func launch(_ argv: [String]) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        return try runToEnd(process)
    }
}
