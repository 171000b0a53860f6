import Compute
import Foundation
import Store
import TestSupport
import Testing

/// `capsize run` and `capsize report`: a suite run end to end, its report directory read back and compared with the
/// store, its progress on a terminal and off it, its errors, and an interrupted suite resumed.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RunCommandTests {
    /// A name with everything that could break HTML, Markdown or CSV.
    static let hostile = "<script>alert(1)</script> | a, \"b\" `c` \\ 'd'\nline two"

    /// A tiny suite: a bench with a hostile name, and two invocations.
    static let suite = """
        name: "tiny <b>suite</b>, | \\"quoted\\""
        benchmarks:
          - name: "<script>alert(1)</script> | a, \\"b\\" `c` \\\\ 'd'\\nline two"
            workload: train-mlp
            params: {batch: 8, hidden: 16, steps: 1}
            devices: [cpu]
            repeat: 3
            warmup: 0
          - name: =SUM(A1)
            workload: train-mlp
            params: {batch: 8, hidden: 16, steps: 1}
            executor: function
            memory: [256]
            timeout: 10
            repeat: 2
        """

    private func runSuite(_ text: String = suite, _ extra: [String] = [], environment: [String: String] = [:])
        throws -> (home: String, out: String, result: ProcessOutput)
    {
        let home = try temporaryDirectory("capsize-run")
        try text.write(toFile: home + "/suite.yaml", atomically: true, encoding: .utf8)
        let out = home + "/report"
        var env = environment
        env["CAPSIZE_HOME"] = home
        let result = try capsize(["run", home + "/suite.yaml", "--out", out] + extra, environment: env)
        return (home, out, result)
    }

    private func store(_ home: String) throws -> CapsizeStore {
        try CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine())
    }

    /// The part of results.json that other tools (`capsize compare`) rely on.
    struct Results: Decodable {
        struct Benchmark: Decodable {
            var name: String
            var unit: String
            var measurements: [Measurement]
        }
        struct Measurement: Decodable {
            var seconds: Double
            var run: String
            var item: String
        }
        var schema: String
        var status: String
        var benchmarks: [Benchmark]
    }

    /// RFC 4180: fields separated by commas, quoted fields with doubled quotes and line breaks inside.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                row.append(field)
                field = ""
            } else if character == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(character)
            }
        }
        return rows
    }

    @Test("results.json and results.csv hold the measurements the store holds, and capsize report writes them again")
    func resultsMatchTheStore() async throws {
        try await onOwnThread { try self.resultsMatchTheStoreBlocking() }
    }

    private func resultsMatchTheStoreBlocking() throws {
        let (home, out, result) = try runSuite()
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))
        let results = try JSONDecoder().decode(Results.self, from: data)
        #expect(results.schema == "capsize.results/1")
        #expect(results.benchmarks.map(\.name) == [Self.hostile, "=SUM(A1)"])
        let store = try store(home)
        var fromJSON: [String: Double] = [:]
        for benchmark in results.benchmarks {
            #expect(benchmark.unit == "s")
            for measurement in benchmark.measurements {
                fromJSON[measurement.item] = measurement.seconds
                let stored =
                    try store.measurements(run: measurement.run).first { $0.itemKey == measurement.item }?.seconds
                    ?? store.invocations(run: measurement.run).first { $0.id == measurement.item }.map {
                        $0.durationMs / 1_000
                    }
                #expect(stored == measurement.seconds, "\(measurement)")
            }
        }
        #expect(fromJSON.count == 5)

        let csv = Self.parseCSV(try String(contentsOfFile: out + "/results.csv", encoding: .utf8))
        let header = try #require(csv.first)
        let rows = csv.dropFirst()
        #expect(rows.count == 5)
        #expect(Set(rows.map { $0[0] }) == [Self.hostile, "'=SUM(A1)"], "a formula is not run by a spreadsheet")
        let item = try #require(header.firstIndex(of: "item"))
        let seconds = try #require(header.firstIndex(of: "seconds"))
        for row in rows { #expect(Double(row[seconds]) == fromJSON[row[item]], "\(row)") }

        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<b>suite</b>"))
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(!markdown.contains("<script>"))
        let row = try #require(markdown.split(separator: "\n").first { $0.contains("alert") })
        let cells = row.split(separator: "|", omittingEmptySubsequences: false).filter { !$0.hasSuffix("\\") }
        #expect(cells.count == 9, "seven cells, the hostile name's | escaped: \(row)")

        // In a real browser: the charts are drawn (skipped where no Chromium is installed).
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../scripts/report-check.sh"
        ).standardizedFileURL.path
        let check = try TestSupport.run("/bin/bash", [script, out, "2"], mergingStderr: true)
        #expect(check.status == 0 || check.status == 77, "\(check.stdout)")

        let suiteRun = try #require(try store.runs().first { $0.kind == .suite })
        let again = try capsize(
            ["report", suiteRun.shortID, "--out", home + "/again"], environment: ["CAPSIZE_HOME": home])
        #expect(again.status == 0, "\(again.stderr)")
        for file in ["results.json", "results.csv", "report.md", "report.html"] {
            #expect(
                FileManager.default.contents(atPath: out + "/" + file)
                    == FileManager.default.contents(atPath: home + "/again/" + file), "\(file)")
        }
    }

    @Test("a suite with a bad value exits 2 with its file, line and column, and nothing runs")
    func badSuiteRunsNothing() throws {
        let (home, _, result) = try runSuite(
            "name: s\nbenchmarks:\n  - name: fn\n    workload: train-mlp\n    executor: function\n    memory: [64]\n")
        #expect(result.status == 2)
        #expect(result.stderr.contains("suite.yaml:6:13: benchmarks[0].memory '64'"), "\(result.stderr)")
        #expect(try store(home).runs().isEmpty)
        let bench = try capsize(
            ["bench", "train-mlp", "--batch", "8", "--hidden", "16", "--steps", "1", "--repeat", "1", "--json"],
            environment: ["CAPSIZE_HOME": home])
        let run = try #require(try store(home).runs().first)
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try capsize(["report", run.shortID], environment: ["CAPSIZE_HOME": home])
        #expect(report.status == 2 && report.stderr.contains("allowed a suite run"), "\(report.stderr)")
    }

    @Test("off a terminal each step is one plain line with the total; --quiet prints only where the report is")
    func plainProgress() throws {
        let (_, _, result) = try runSuite()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("[1/2] bench"), "\(result.stdout)")
        #expect(result.stdout.contains("[2/2] invoke"), "\(result.stdout)")
        #expect(!(result.stdout + result.stderr).contains("\u{1B}"), "no escape codes off a terminal")
        #expect(!(result.stdout + result.stderr).contains("<script>alert(1)</script> | a, \"b\" `c` \\ 'd'\nline"))
        let (_, _, quiet) = try runSuite(Self.suite, ["--quiet"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout.split(separator: "\n").count == 1 && quiet.stdout.hasPrefix("report: "), "\(quiet.stdout)")
    }

    /// Runs `capsize arguments` in `script`'s pseudo-terminal and returns what appeared on it.
    private func onTerminal(_ arguments: [String], home: String, environment: [String: String]) throws -> ProcessOutput
    {
        let binary = capsizeProcess([]).executableURL!.path
        let command = ([binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        var env = environment
        env["CAPSIZE_HOME"] = home
        let process = capsizeProcess([], environment: env)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["--quiet", "--return", "--command", command, "/dev/null"]
        return try runToEnd(process)
    }

    @Test("on a terminal a coloured bar shows the steps done of the total and the time left; NO_COLOR drops the colour")
    func terminalProgress() async throws {
        try await onOwnThread { try self.terminalProgressBlocking() }
    }

    private func terminalProgressBlocking() throws {
        let home = try temporaryDirectory("capsize-run-tty")
        try Self.suite.write(toFile: home + "/suite.yaml", atomically: true, encoding: .utf8)
        let arguments = ["run", home + "/suite.yaml", "--out", home + "/out"]
        let coloured = try onTerminal(arguments, home: home, environment: ["TERM": "xterm", "NO_COLOR": ""])
        #expect(coloured.status == 0, "\(coloured.stdout)")
        #expect(coloured.stdout.contains("█") || coloured.stdout.contains("░"), "\(coloured.stdout)")
        #expect(coloured.stdout.contains("/2 · ETA "), "\(coloured.stdout)")
        #expect(coloured.stdout.contains("\u{1B}[32m"), "\(coloured.stdout)")
        let plain = try onTerminal(arguments, home: home, environment: ["TERM": "xterm", "NO_COLOR": "1"])
        #expect(plain.status == 0, "\(plain.stdout)")
        #expect(plain.stdout.contains("░") && !plain.stdout.contains("\u{1B}[32m"), "\(plain.stdout)")
    }

    @Test(
        "a SIGINT during a suite keeps the finished steps and study runs: exit 130, --resume continues where it stopped"
    )
    func interruptedSuiteResumes() async throws {
        try await onOwnThread { try self.interruptedSuiteResumesBlocking() }
    }

    private func interruptedSuiteResumesBlocking() throws {
        let home = try temporaryDirectory("capsize-run-interrupt")
        let mark = home + "/go"
        let text = """
            name: interrupted
            benchmarks:
              - name: quick
                workload: train-mlp
                params: {batch: 8, hidden: 16, steps: 1}
                devices: [cpu]
                repeat: 2
              - name: slow until marked
                workload: command
                command: [sh, -c, "test -f \(mark) || sleep 3"]
                repeat: 3
                warmup: 0
            """
        try text.write(toFile: home + "/suite.yaml", atomically: true, encoding: .utf8)
        let process = capsizeProcess(
            ["run", home + "/suite.yaml", "--out", home + "/out"], environment: ["CAPSIZE_HOME": home])
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var suiteRun: RunRecord?
        while Date() < deadline {
            if let store = try? store(home), let run = try? store.runs().first(where: { $0.kind == .suite }),
                (try? store.summary(run: run.id).completed) == 2
            {
                suiteRun = run
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let run = try #require(suiteRun, "the first step ended")
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(said)")
        #expect(said.contains("capsize run --resume \(run.shortID)"), "\(said)")
        let store = try store(home)
        #expect(try store.run(id: run.id).status == .interrupted)
        let partial = try JSONDecoder().decode(
            Results.self, from: try Data(contentsOf: URL(fileURLWithPath: home + "/out/results.json")))
        #expect(partial.status == "interrupted" && partial.benchmarks.first?.measurements.count == 2)
        #expect(partial.benchmarks.last?.measurements.isEmpty == true)
        let quickRuns = { try store.runs().filter { $0.kind == .bench && $0.parameters.contains("train-mlp") } }
        let quick = try #require(try quickRuns().first)

        let interruptedSlow = try #require(
            try store.runs().first { $0.kind == .bench && $0.status == .interrupted }, "the slow bench was interrupted")
        // The repetition in flight got the Ctrl-C too: it is not a measurement, and runs again on --resume.
        #expect(try store.measurements(run: interruptedSlow.id).isEmpty, "the interrupted repetition not kept")
        FileManager.default.createFile(atPath: mark, contents: Data())
        let resumed = try capsize(["run", "--resume", run.shortID], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("1 recorded before"), "the quick step kept: \(resumed.stdout)")
        #expect(try store.run(id: run.id).status == .finished)
        #expect(try quickRuns().map(\.id) == [quick.id], "the quick bench kept, not run again")
        let results = try JSONDecoder().decode(
            Results.self, from: try Data(contentsOf: URL(fileURLWithPath: home + "/out/results.json")))
        let first = try #require(results.benchmarks.first?.measurements)
        #expect(first.count == 2)
        let slow = try #require(results.benchmarks.last?.measurements)
        #expect(slow.count == 3 && Set(slow.map(\.run)) == [interruptedSlow.id], "the interrupted bench continued")
        #expect(try store.run(id: interruptedSlow.id).resumes == 1)
        #expect(first.allSatisfy { $0.run == quick.id })
    }
}

extension SlurmTests {
    @Test("a suite's batch benchmark runs on Slurm with --backend slurm, each array child a measurement")
    func suiteOnSlurm() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let suite = """
            name: on slurm
            benchmarks:
              - name: echo jobs
                workload: command
                command: [/bin/sh, -c, "echo child"]
                executor: batch
                memory: [64]
                timeout: 60
                repeat: 2
            """
        try suite.write(toFile: home + "/suite.yaml", atomically: true, encoding: .utf8)
        let result = try capsize(
            ["run", home + "/suite.yaml", "--backend", "slurm", "--out", home + "/out"],
            environment: ["CAPSIZE_HOME": home, "SLURM_CONF": slurmConf])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let results = try JSONDecoder().decode(
            RunCommandTests.Results.self, from: try Data(contentsOf: URL(fileURLWithPath: home + "/out/results.json")))
        #expect(results.benchmarks.first?.measurements.count == 2)
    }
}
