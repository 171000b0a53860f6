import Foundation
import TestSupport
import Testing

/// capsize run by a user other than root: functions and jobs cannot be given users of their own, but still get a
/// /dev/shm of their own (in a user namespace that maps the user to itself), and a PID namespace of their own, in
/// which a program cannot name its launcher: it runs under the same uid and could kill it otherwise.
@Suite(
    .serialized, .enabled(if: AnotherUser.available, "needs root, runuser, a binary `nobody` can run, user namespaces"))
struct AnotherUserTests {
    @Test("as another user, 300 MB written to /dev/shm by a 64 MiB job kill it for memory and leave nothing behind")
    func sharedMemoryAsAnotherUser() async throws {
        let file = "capsize-nobody-\(getpid())"
        let result = try await AnotherUser.runInNewHome([
            "submit", "--memory", "64", "--json", "--",
            "sh", "-c", "dd if=/dev/zero of=/dev/shm/\(file) bs=1M count=300 2>/dev/null; sleep 3",
        ])
        #expect(result.stdout.contains("OutOfMemoryError"), "\(result.stdout) \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/\(file)"))
    }

    /// A shell whose subshell kills `parent` (the shell's launcher, were it not in a PID namespace of its own),
    /// then at once double-forks ten `setsid sleep MARKER` that sleep long past the run, then sleeps itself.
    /// Without a namespace the launcher dies and the orphans, born within one sample, escape every cap.
    static func escape(_ marker: String, parent: String) -> String {
        "(kill -9 \(parent); for i in 1 2 3 4 5 6 7 8 9 10; do (setsid sleep \(marker) </dev/null >/dev/null 2>&1 &); "
            + "done; sleep 37)"
    }

    /// Processes with `marker` among their arguments that are still there after up to two seconds.
    static func left(_ marker: String) async throws -> [String] {
        for _ in 0..<200 {
            if AnotherUser.processes(withArgument: marker).isEmpty { return [] }
            try await Task.sleep(for: .milliseconds(10))
        }
        return AnotherUser.processes(withArgument: marker)
    }

    @Test(
        "as another user, a job that kills its parent and double-forks at once is held to its timeout, leaving nothing")
    func jobCannotKillItsLauncher() async throws {
        let marker = "1000.\(Int.random(in: 100_000...999_999))"
        let started = Date()
        let result = try await AnotherUser.runInNewHome([
            "submit", "--memory", "64", "--timeout", "2", "--terminate-grace", "1", "--json", "--",
            "sh", "-c", Self.escape(marker, parent: "$PPID"),
        ])
        #expect(result.stdout.contains("Job attempt duration exceeded timeout"), "\(result.stdout) \(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
        let left = try await Self.left(marker)
        #expect(left.isEmpty, "escaped: \(left)")
    }

    @Test(
        "as another user, a function that kills its environment's launcher and double-forks ends at its timeout, leaving nothing"
    )
    func functionCannotKillItsLauncher() async throws {
        let marker = "1000.\(Int.random(in: 100_000...999_999))"
        // The command's parent is the worker; the worker's parent is the launcher, or init in a namespace.
        let result = try await AnotherUser.runInNewHome([
            "invoke", "command", "--memory", "256", "--timeout", "2", "--json", "--",
            "sh", "-c", Self.escape(marker, parent: "$(cut -d' ' -f4 /proc/$PPID/stat)"),
        ])
        #expect(result.stdout.contains("Task timed out after 2.00 seconds"), "\(result.stdout) \(result.stderr)")
        let left = try await Self.left(marker)
        #expect(left.isEmpty, "escaped: \(left)")
    }

    @Test("as another user, a store that user cannot write is listed as it is, and a new run into it is refused")
    func readOnlyStore() throws {
        let home = try AnotherUser.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try AnotherUser.run(["submit", "--", "true"], home: home)
        #expect(first.status == 0, "\(first.stderr)")
        for file in (try FileManager.default.contentsOfDirectory(atPath: home)) { chmod(home + "/" + file, 0o444) }
        chmod(home, 0o555)
        defer { chmod(home, 0o755) }

        let listed = try AnotherUser.run(["runs", "list"], home: home)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("submit") && listed.stdout.contains("finished"), "\(listed.stdout)")
        let refused = try AnotherUser.run(["submit", "--", "true"], home: home)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is read-only for this user"), "\(refused.stderr)")
        #expect(try AnotherUser.run(["runs", "list"], home: home).stdout.split(separator: "\n").count == 2)
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

    /// `run` in a store folder of its own, removed after, on a thread of its own: the tests' few shared threads are
    /// not held for the seconds it takes.
    static func runInNewHome(_ arguments: [String]) async throws -> ProcessOutput {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        let home = try home()
                        defer { try? FileManager.default.removeItem(atPath: home) }
                        return try run(arguments, home: home)
                    })
            }.start()
        }
    }

    /// capsize as `nobody`, with `home` as its store and nothing else of this environment but PATH.
    static func run(_ arguments: [String], home: String) throws -> ProcessOutput {
        try launch(
            [
                runuser, "-u", "nobody", "--", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "CAPSIZE_HOME=\(home)",
                binary,
            ] + arguments)
    }

    /// Processes with `argument` among their command-line words, from /proc.
    static func processes(withArgument argument: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { name in
            guard Int32(name) != nil, let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else {
                return false
            }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == argument }
        }
    }

    static func launch(_ argv: [String]) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        return try runToEnd(process)
    }
}
