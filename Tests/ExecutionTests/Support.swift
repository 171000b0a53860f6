import Foundation
import Store
import TestSupport
import Testing

@testable import Execution

/// Shared fixtures for ExecutionTests.
enum Fixture {
    /// The sandbox under test, with the launcher that `swift build` put next to the test bundle.
    /// With `CAPSIZE_TEST_LAUNCH_SERVER=1` every run goes through the resident launcher, so the whole
    /// suite can be run in that mode too. `pidNamespace` overrides `Sandbox.pidNamespaceByDefault`.
    static func sandbox(recordsMemoryTimeline: Bool = false, pidNamespace: Bool? = nil) throws -> Sandbox {
        var sandbox = try Sandbox(recordsMemoryTimeline: recordsMemoryTimeline)
        sandbox.usesLaunchServer = ProcessInfo.processInfo.environment["CAPSIZE_TEST_LAUNCH_SERVER"] == "1"
        if let pidNamespace { sandbox.usesPIDNamespace = pidNamespace }
        return sandbox
    }

    /// A store in `folder`, with one run of `kind` that plans `planned` items.
    static func store(in folder: TestFolder, run kind: RunRecord.Kind, planned: Int) throws
        -> (store: CapsizeStore, run: RunRecord)
    {
        let store = try CapsizeStore(path: folder.path + "/capsize.sqlite", machine: "test machine")
        let run = try store.createRun(
            kind: kind, commandLine: ["test"], parameters: [String: String](), planned: planned)
        return (store, run)
    }

    /// Debian's python3 (a pyenv shim, if that is all there is, adds a shell to every start).
    static let python =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// A python program that touches 1 MB more memory every millisecond, forever.
    static let steadyAllocator = """
        import time
        blocks = []
        while True:
            blocks.append(bytearray(b'\\x01') * (1 << 20))
            time.sleep(0.001)
        """

    /// A python program that touches `argv[1]` MB, says so on stdout, then sleeps.
    static let holder = """
        import sys, time
        block = bytearray(b'\\x01') * (int(sys.argv[1]) << 20)
        print('held', flush=True)
        time.sleep(100)
        """

    /// The state letter of a process (`S`, `T`, `Z`...), from /proc; nil when it is gone.
    static func state(of pid: Int32) -> Substring? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first
    }

    /// The state of a process once it is `wanted`, or as it is after a second of waiting for that.
    static func state(of pid: Int32, awaiting wanted: Substring) async throws -> Substring? {
        var state = Self.state(of: pid)
        for _ in 0..<100 where state != wanted {
            try await Task.sleep(for: .milliseconds(10))
            state = Self.state(of: pid)
        }
        return state
    }

    /// Whether a process with this id exists (a zombie counts).
    static func exists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Processes whose process group is `group`, from /proc.
    static func members(ofGroup group: Int32) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[2]) == group ? pid : nil
        }
    }

    /// Processes whose command line mentions `text` anywhere (a forked shell that has not yet run `exec` still has
    /// its parent's command line), from /proc.
    static func processes(mentioning text: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline")
            else { return nil }
            return String(decoding: data, as: UTF8.self).contains(text) ? pid : nil
        }
    }

    /// Processes with `argument` among their command-line words, from /proc.
    static func processes(withArgument argument: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline")
            else { return nil }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.contains(argument) ? pid : nil
        }
    }
}

enum PIDNamespace {
    /// Whether this process may make PID namespaces (as root, or with user namespaces), asked of util-linux.
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments =
            (geteuid() == 0 ? [] : ["--user", "--map-current-user"]) + ["--pid", "--fork", "--mount-proc", "true"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}
