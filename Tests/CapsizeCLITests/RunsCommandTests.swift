import Compute
import Foundation
import TestSupport
import Testing

@testable import Store

/// `capsize runs` and `capsize bench --resume` against stores made for each test.
@Suite struct RunsCommandTests {
    /// This test's CAPSIZE_HOME, removed after it, and its store.
    let testFolder = TestFolder("capsize-runs")
    let store: CapsizeStore
    var home: String { testFolder.path }

    init() throws {
        store = try CapsizeStore(path: testFolder.path + "/capsize.sqlite", machine: CalibrationKey.machine())
    }

    /// The pid of a process that has exited.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("bench records its run; runs list shows it newest first, and a killed run as interrupted")
    func list() throws {
        let bench = try capsize(
            ["bench", "command", "--repeat", "2", "--warmup", "0", "--json", "--", "/bin/true"],
            environment: ["CAPSIZE_HOME": home])
        #expect(bench.status == 0, "\(bench.stderr)")
        let benchRun = try #require(try json(bench.stdout)["run"] as? String)
        let machine = try store.run(id: benchRun).machine
        let killed = RunRecord(
            kind: .sweep, commandLine: ["capsize", "sweep"], parameters: "{}", machine: machine,
            pid: try Self.deadPID(), createdAt: Date().addingTimeInterval(60), planned: 4)
        try store.insert(killed)

        let text = try capsize(["runs", "list"], environment: ["CAPSIZE_HOME": home])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix(killed.shortID) && lines[1].contains("interrupted") && lines[1].contains("0/4"))
        #expect(
            lines[2].hasPrefix(String(benchRun.prefix(8))) && lines[2].contains("finished") && lines[2].contains("2/2"))

        let listed = try capsize(["runs", "list", "--json", "--limit", "1"], environment: ["CAPSIZE_HOME": home])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["id"] as? String == killed.id)
        #expect(entries.first?["status"] as? String == "interrupted")
        #expect((entries.first?["summary"] as? [String: Any])?["planned"] as? Int == 4)
    }

    @Test("runs list and runs show name caps and recommend runs as such, and a sweep as a sweep")
    func studyKinds() throws {
        let environment = ["CAPSIZE_HOME": home]
        var kinds: [String: String] = [:]
        for arguments in [
            ["caps", "command", "--param", "size=1,2", "--memory", "128"],
            ["sweep", "command", "--param", "size=1,2", "--executor", "function", "--memory", "128"],
            ["recommend", "command", "--runs", "10"],
        ] {
            let result = try capsize(arguments + ["--json", "--", "/bin/true"], environment: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let id = try #require(try store.runs().first?.id)
            kinds[arguments[0]] = id
            let shown = try capsize(["runs", "show", id], environment: environment)
            #expect(shown.stdout.hasPrefix("run \(id) (\(arguments[0]), finished)"), "\(shown.stdout)")
        }
        let listed = try capsize(["runs", "list"], environment: environment)
        for (kind, id) in kinds {
            let line = listed.stdout.split(separator: "\n").first { $0.hasPrefix(id.prefix(8)) }
            #expect(line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == Substring(kind))
        }
    }

    @Test("runs show prints a run's parameters, counts and records by id prefix; JSON has every record")
    func show() throws {
        let bench = try capsize(
            ["bench", "command", "--repeat", "3", "--warmup", "0", "--json", "--", "/bin/true"],
            environment: ["CAPSIZE_HOME": home])
        let id = try #require(try json(bench.stdout)["run"] as? String)
        let text = try capsize(["runs", "show", String(id.prefix(6))], environment: ["CAPSIZE_HOME": home])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("run \(id) (bench, finished)"))
        #expect(text.stdout.contains("items: 3/3 recorded"))
        #expect(text.stdout.contains("rep=3"))
        #expect(!text.stdout.contains("--resume"))

        let detail = try json(try capsize(["runs", "show", id, "--json"], environment: ["CAPSIZE_HOME": home]).stdout)
        #expect((detail["measurements"] as? [Any])?.count == 3)
        let parameters = try #require(detail["parameters"] as? [String: Any])
        #expect(parameters["argv"] as? [String] == ["/bin/true"])
        #expect(try store.measurements(run: id).count == 3)
    }

    @Test(
        "an unknown or ambiguous run id, or a run that cannot be resumed, exits 2 with one line naming the field",
        arguments: [
            (["runs", "show", "fff"], "invalid RUN 'fff'"),
            (
                ["runs", "show", "abc"],
                "invalid RUN 'abc': allowed a prefix of one run only; it starts abc00003, abc00002, abc00001"
            ),
            (["runs", "show", "not-hex"], "invalid RUN"),
            (["bench", "--resume", "abc00001"], "invalid --resume 'abc00001': allowed a bench run"),
            (["bench", "--resume", "abc00002"], "it finished"),
            (["bench", "--resume", "abc00003"], "it is still running"),
            (["bench", "--resume", "abc00002", "--repeat", "9"], "only --json beside it"),
            (["bench", "--resume", "fff"], "invalid --resume 'fff'"),
            (["bench"], "WORKLOAD"),
        ])
    func badRunIDs(arguments: [String], mentions: String) throws {
        let machine = try store.createRun(kind: .sweep, parameters: [String: String]()).machine
        for (suffix, kind, status, pid) in [
            ("1", RunRecord.Kind.invoke, RunRecord.Status.interrupted, getpid()),
            ("2", .bench, .finished, getpid()), ("3", .bench, .running, getppid()),
        ] {
            try store.insert(
                RunRecord(
                    id: "abc0000\(suffix)-0000-4000-8000-000000000000", kind: kind, commandLine: ["capsize"],
                    parameters: "{}", machine: machine, pid: pid, status: status))
        }
        let result = try capsize(arguments, environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
    }
}
