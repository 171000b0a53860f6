import Foundation
import Testing

/// What a job or a function sees: through the real sandbox and the built binary, no mocks. capsize is started with a
/// secret and its store's location in its environment; the program writes what it sees into a folder of the test's.
@Suite(.serialized, .timeLimit(.minutes(2))) struct EnvironmentTests {
    static let capsizeVariables = ["CAPSIZE_SECRET_TEST": "hunter2-\(getpid())", "CAPSIZE_PASS_TEST": "passed-by-name"]

    /// Runs `body` with a new store folder, a folder any user may write (the program may run as another uid) and
    /// capsize's environment (`capsizeVariables` and the store folder as `CAPSIZE_HOME`); removes both after.
    static func withFolders(
        _ name: String, _ body: (_ home: String, _ probe: String, _ environment: [String: String]) throws -> Void
    ) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "capsize-env-\(name)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let probe = base.appendingPathComponent("probe").path
        try FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        chmod(base.path, 0o755)
        chmod(probe, 0o777)
        let home = base.appendingPathComponent("home").path
        try body(home, probe, capsizeVariables.merging(["CAPSIZE_HOME": home]) { $1 })
    }

    /// `KEY=value` lines of `path` as a dictionary.
    static func variables(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            result[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return result
    }

    /// A shell script that records the environment and the uid, then (as root, where it must fail) tries to
    /// overwrite and delete the store in `home`.
    static func probe(into file: String, home: String) -> String {
        var script = "env > \(file).env; id -u > \(file).uid\n"
        if geteuid() == 0 {
            script += """
                echo overwritten > \(home)/capsize.sqlite 2>/dev/null && echo wrote-store >> \(file).uid
                rm -f \(home)/capsize.sqlite 2>/dev/null && echo removed-store >> \(file).uid

                """
        }
        return script + "true"
    }

    /// The store in `home` is intact: the run is listed and the database file is still SQLite.
    static func expectStoreIntact(_ home: String) throws {
        let header = try #require(FileManager.default.contents(atPath: home + "/capsize.sqlite")).prefix(15)
        #expect(String(decoding: header, as: UTF8.self) == "SQLite format 3")
        let runs = try capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(runs.status == 0 && runs.stdout.contains("\"id\""), "\(runs.stderr)")
    }

    @Test(
        "a function sees Lambda's variables and --env/--pass-env, not capsize's environment; as root it cannot touch the store"
    )
    func function() throws {
        try Self.withFolders("function") { home, probe, environment in
            let result = try capsize(
                [
                    "invoke", "command", "--memory", "256", "--timeout", "20", "--env", "FOO=bar=baz", "--pass-env",
                    "CAPSIZE_PASS_TEST", "--", "/bin/sh", "-c", Self.probe(into: probe + "/function", home: home),
                ],
                environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let seen = try Self.variables(probe + "/function.env")
            #expect(seen["CAPSIZE_SECRET_TEST"] == nil && seen["CAPSIZE_HOME"] == nil, "\(seen)")
            #expect(seen["CAPSIZE_PASS_TEST"] == "passed-by-name" && seen["FOO"] == "bar=baz")
            #expect(seen["AWS_LAMBDA_FUNCTION_NAME"] == "command" && seen["_HANDLER"] == "command")
            #expect(
                seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256" && seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST")
            #expect(seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/command")
            #expect(seen["AWS_LAMBDA_LOG_STREAM_NAME"]?.contains("/[$LATEST]") == true)
            #expect(seen["AWS_REGION"] == "us-east-1" && seen["AWS_DEFAULT_REGION"] == "us-east-1")
            #expect(seen["TZ"] == ":UTC" && seen["LANG"] == "en_US.UTF-8" && seen["AWS_EXECUTION_ENV"] != nil)
            #expect(seen["PATH"] == "/usr/local/bin:/usr/bin:/bin:/opt/bin")
            #expect(
                seen["LAMBDA_TASK_ROOT"] == FileManager.default.currentDirectoryPath
                    && seen["LAMBDA_RUNTIME_DIR"] != nil)
            #expect(seen["TMPDIR"] != nil && seen["HOME"] == seen["TMPDIR"])
            #expect(seen["AWS_ACCESS_KEY_ID"] == nil && seen["OPENBLAS_CORETYPE"] != nil)
            let user = try String(contentsOfFile: probe + "/function.uid", encoding: .utf8)
            if geteuid() == 0 {
                #expect(user.hasPrefix("6") && !user.hasPrefix("0\n") && !user.contains("store"), "\(user)")
            }
            try Self.expectStoreIntact(home)
        }
    }

    @Test(
        "a batch job sees its definition's variables and AWS_BATCH_*, not capsize's environment nor another job's folder"
    )
    func batchJob() throws {
        try Self.withFolders("batch") { home, probe, environment in
            // The second child tries to read the first child's output folder (written by it a moment earlier).
            let script =
                Self.probe(into: probe + "/job-{index}", home: home) + """

                    echo mine > mine.txt
                    cat "$AWS_BATCH_JOB_OUTPUT_DIR/../../${AWS_BATCH_JOB_ID%:*}:0/output/mine.txt" > \(probe)/job-{index}.other 2>&1
                    true
                    """
            let result = try capsize(
                [
                    "submit", "--array", "2", "--sequential", "--memory", "256", "--env", "FOO=bar", "--pass-env",
                    "CAPSIZE_PASS_TEST", "--json", "--", "/bin/sh", "-c", script,
                ],
                environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            for index in 0..<2 {
                let seen = try Self.variables(probe + "/job-\(index).env")
                #expect(seen["CAPSIZE_SECRET_TEST"] == nil && seen["CAPSIZE_HOME"] == nil, "\(seen)")
                #expect(seen["CAPSIZE_PASS_TEST"] == "passed-by-name" && seen["FOO"] == "bar")
                #expect(seen["AWS_BATCH_JOB_ARRAY_INDEX"] == "\(index)" && seen["AWS_BATCH_JOB_ARRAY_SIZE"] == "2")
                #expect(
                    seen["AWS_BATCH_JOB_ID"]?.hasSuffix(":\(index)") == true && seen["AWS_BATCH_JOB_ATTEMPT"] == "1")
                #expect(seen["AWS_BATCH_JQ_NAME"] == "default" && seen["AWS_BATCH_CE_NAME"] == "local")
                #expect(seen["PATH"] != nil && seen["LANG"] == "C.UTF-8" && seen["HOME"] == seen["TMPDIR"])
                #expect(seen["AWS_LAMBDA_FUNCTION_NAME"] == nil)
                if geteuid() == 0 {
                    let user = try String(contentsOfFile: probe + "/job-\(index).uid", encoding: .utf8)
                    #expect(!user.hasPrefix("0\n") && !user.contains("store"), "\(user)")
                }
            }
            if geteuid() == 0 {
                let other = try String(contentsOfFile: probe + "/job-1.other", encoding: .utf8)
                #expect(other.contains("Permission denied"), "\(other)")
            }
            try Self.expectStoreIntact(home)
        }
    }

    @Test("a function's variables over Lambda's 4 KB, a reserved name, or CAPSIZE_HOME are refused with exit 2")
    func refused() throws {
        try Self.withFolders("refused") { home, probe, _ in
            let command = ["--", "/bin/true"]
            try expectBadInput(
                ["invoke", "command", "--env", "BIG=" + String(repeating: "x", count: 4_100)] + command,
                mentions: "4096",
                home: home)
            let file = probe + "/vars.env"
            let lines = (0..<40).map { "VARIABLE_\($0)=" + String(repeating: "v", count: 100) }
            try ("# forty variables\n" + lines.joined(separator: "\n") + "\n").write(
                toFile: file, atomically: true, encoding: .utf8)
            try expectBadInput(["invoke", "command", "--env-file", file] + command, mentions: "4 KB", home: home)
            try expectBadInput(
                ["invoke", "command", "--env", "AWS_REGION=eu-west-1"] + command, mentions: "AWS_REGION", home: home)
            try expectBadInput(["invoke", "command", "--env", "1ABC=x"] + command, mentions: "1ABC", home: home)
            try expectBadInput(
                ["invoke", "command", "--pass-env", "CAPSIZE_HOME"] + command, mentions: "CAPSIZE_HOME", home: home)
            try expectBadInput(["submit", "--env", "AWS_BATCH_JOB_ID=x"] + command, mentions: "AWS_BATCH", home: home)
            try expectBadInput(["submit", "--env", "NOEQUALS"] + command, mentions: "--env", home: home)
            #expect(!FileManager.default.fileExists(atPath: home + "/jobs"))
        }
    }
}
