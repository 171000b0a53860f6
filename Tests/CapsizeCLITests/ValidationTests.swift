import Foundation
import TestSupport
import Testing

/// Every number and word a user gives, on the command line or in a file, is checked before anything runs: bad
/// input exits 2 with one line naming the flag or the file's place, the value and what is allowed, and leaves no
/// run behind.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ValidationTests {
    static let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-validation-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `text` into a file of the tests' folder and returns its path.
    static func file(_ name: String, _ text: String) -> String {
        let path = folder + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// Runs capsize in a home of its own and expects it refused as bad input (`expectBadInput`), with no run
    /// recorded.
    func refused(_ arguments: [String], mentions: String) throws {
        let home = Self.folder + "/home-" + UUID().uuidString
        try expectBadInput(arguments, mentions: mentions, home: home)
        let runs = try capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(!runs.stdout.contains("\"id\""), "\(arguments): \(runs.stdout)")
    }

    @Test("submit --backend slurm refuses a timeout Slurm's minutes cannot hold before reaching Slurm")
    func slurmTimeout() throws {
        try refused(
            ["submit", "--backend", "slurm", "--timeout", "1e300", "--", "true"], mentions: "--timeout '1e+300'")
    }

    @Test(
        "submit refuses a program that is empty, a folder, not executable or not found",
        arguments: ["", "/tmp", "plain.txt", "no-such-program-\u{1F600}", "a\nb"])
    func submitProgram(program: String) throws {
        let plain = Self.file("plain.txt", "echo not executable\n")
        try refused(["submit", "--", program == "plain.txt" ? plain : program], mentions: "invalid command")
    }

    @Test("submit takes a relative program that exists and is executable")
    func relativeProgram() throws {
        let script = Self.file("job.sh", "#!/bin/sh\necho ran\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let process = capsizeProcess(
            ["submit", "--json", "--", "./job.sh"], environment: ["CAPSIZE_HOME": Self.folder + "/home-relative"])
        process.currentDirectoryURL = URL(fileURLWithPath: Self.folder)
        let result = try runToEnd(process)
        #expect(result.status != 2 && !result.stderr.contains("invalid"), "\(result.stderr)")
        #expect(result.stdout.contains("\"job\""), "\(result.stdout)")
    }

    @Test(
        "a queues file that is not an object or holds a number that does not fit names the file and the place",
        arguments: [
            ("[]", "queues-1.json '(an array)'"),
            (#"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 1e400}]}"#, "queues-2.json:1:"),
            (
                #"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 4, "memoryMiB": 1024.5}]}"#,
                "queues-3.json: computeEnvironments[0].memoryMiB '1024.5'"
            ),
            (
                #"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 4}], "jobQueues": [{"#
                    + #""jobQueueName": "q", "priority": 1e300}]}"#,
                "queues-4.json: jobQueues[0].priority '1e+300'"
            ),
            (#"{"computeEnvironments": [{"computeEnvironmentName": "a", "maxvCpus": 1e300}]}"#, "maxvCpus '1e+300'"),
            ("{\n  \"computeEnvironments\": [\n    x]}", "queues-6.json:3:"),
            ("", "queues-7.json"),
        ].enumerated().map { ($0.offset + 1, $0.element.0, $0.element.1) })
    func queuesFile(number: Int, text: String, mentions: String) throws {
        let path = Self.file("queues-\(number).json", text)
        try refused(["submit", "--queues", path, "--", "true"], mentions: mentions)
    }

    @Test(
        "invoke's idle timeout (at most a day) and caps' time cap scale (leaving at least 1 s) refuse what is outside",
        arguments: [
            ("invoke", "--idle-timeout", ["inf", "1e20", "nan", "0", "-1", "-inf"]),
            ("caps", "--time-cap-scale", ["1e-300", "nan", "inf", "-1", "0", "0.0001"]),
        ])
    func functionNumbers(command: String, flag: String, values: [String]) throws {
        for value in values {
            try refused([command, "command", flag, value, "--", "true"], mentions: "\(flag) '")
        }
    }

    @Test("invoke --async refuses a dead-letter directory it cannot write before invoking anything")
    func deadLetterDirectory() throws {
        let file = Self.file("not-a-folder", "")
        for directory in ["/proc/x", file, file + "/below"] {
            try refused(
                ["invoke", "command", "--async", "--dead-letter-dir", directory, "--", "false"],
                mentions: "--dead-letter-dir '\(directory)'")
        }
    }

    /// A price catalog file: the embedded one with `edit` applied to its JSON text.
    static func prices(_ name: String, replacing old: String, with new: String) throws -> String {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("data/prices.json"), encoding: .utf8)
        #expect(text.contains(old))
        return file(name, text.replacingOccurrences(of: old, with: new))
    }

    @Test(
        "recommend refuses an empty or negative list, bad runs or a price catalog it cannot use before profiling",
        arguments: [
            (["--memory", ""], "--memory ''"), (["--memory", "-1"], "--memory '-1'"),
            (["--memory", "128,,256"], "--memory ''"), (["--architectures", ""], "--architectures ''"),
            (["--architectures", "x86_64,"], "--architectures ''"), (["--runs", "-1"], "--runs '-1'"),
            (["--runs", "99999999999999999999"], "--runs"),
            (["--prices", "NO-INSTANCES"], "ec2.instances '[]'"),
            (["--prices", "GRANULARITY"], "lambda.billingGranularityMs"),
            (["--prices", "HUGE-GRANULARITY"], "lambda.billingGranularityMs '1e300'"),
            (["--prices", "STEP"], "stepGB '1e-07'"), (["--prices", "GPU-MODEL"], "gpu.model 'xxxxx"),
            (["--prices", "REGION"], "region 'us-east-1\\n"), (["--export", ""], "--export ''"),
            (["--export", "/etc/passwd/x"], "--export '/etc/passwd/x'"),
        ])
    func recommendInput(arguments: [String], mentions: String) throws {
        let files = [
            "NO-INSTANCES": try Self.prices(
                "prices-1.json", replacing: #""instances": ["#, with: #""instances": [], "x": ["#),
            "GRANULARITY": try Self.prices(
                "prices-2.json", replacing: #""billingGranularityMs": 1"#, with: #""billingGranularityMs": 1000000000"#),
            "HUGE-GRANULARITY": try Self.prices(
                "prices-3.json", replacing: #""billingGranularityMs": 1"#, with: #""billingGranularityMs": 1e300"#),
            "STEP": try Self.prices("prices-4.json", replacing: #""stepGB": 1 }"#, with: #""stepGB": 1e-7 }"#),
            "GPU-MODEL": try Self.prices(
                "prices-5.json", replacing: #""model": "#,
                with: #""model": ""# + String(repeating: "x", count: 1_000_000) + #"", "x": "#),
            "REGION": try Self.prices(
                "prices-6.json", replacing: #""region": "us-east-1""#, with: #""region": "us-east-1\nrm -rf /""#),
        ]
        let given = arguments.map { files[$0] ?? $0 }
        try refused(["recommend", "command"] + given + ["--", "true"], mentions: mentions)
    }

    @Test("bench refuses an empty --save-frames instead of writing frames into the current directory")
    func emptyFramesDirectory() throws {
        let process = capsizeProcess(
            ["bench", "render-frames", "--frames", "1", "--repeat", "1", "--warmup", "0", "--save-frames", ""],
            environment: ["CAPSIZE_HOME": Self.folder + "/home-frames"])
        let folder = Self.folder + "/frames-here"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let result = try runToEnd(process)
        #expect(result.status == 2 && result.stderr.contains("--save-frames ''"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    /// A recommendation for `/bin/true` as `recommend --json` saves it, made in `home`.
    static func recommendation(home: String) throws -> String {
        let recommend = try capsize(
            ["recommend", "command", "--runs", "10", "--json", "--", "/bin/true"], environment: ["CAPSIZE_HOME": home])
        #expect(recommend.status == 0, "\(recommend.stderr)")
        return recommend.stdout
    }

    @Test("export refuses an empty --image or --name in every format, naming the flag and what is allowed")
    func exportEmptyWords() throws {
        let home = Self.folder + "/home-export-words"
        let path = Self.file("recommendation-words.json", try Self.recommendation(home: home))
        for format in ["sam", "batch-job-definition", "cloudformation-batch", "sbatch"] {
            let option = format.hasPrefix("sam") ? [] : ["--option", "batch-c7i.large"]
            let image = try expectBadInput(
                ["export", path, "--format", format, "--image", ""] + option, mentions: "--image ''", home: home)
            #expect(image.stderr.contains("container image"))
            try expectBadInput(
                ["export", path, "--format", format, "--name", ""] + option, mentions: "--name ''", home: home)
        }
    }

    @Test(
        "the fuzz suite's findings: each refused naming its flag, before anything runs",
        arguments: [
            (["sweep", "command", "--param", "size=1..2+1e-300"], "at most 1000 sizes"),
            (["caps", "command", "--param", "size=1..2+1e-300"], "at most 1000 sizes"),
            (["submit", "--name", "a b"], "--name 'a b'"), (["submit", "--name", "_x"], "--name '_x'"),
            (["submit", "--name", String(repeating: "x", count: 129)], "--name"),
            (["submit", "--evaluate-on-exit", "RETRY:reason:["], "--evaluate-on-exit 'RETRY:reason:['"),
            (["submit", "--depends-on", "%"], "--depends-on '%'"),
            (["submit", "--backend", "slurm", "--terminate-grace", "nan"], "--terminate-grace"),
            (["invoke", "command", "--dead-letter-dir", ""], "--dead-letter-dir ''"),
            (["submit", "--env-file", "SPACE-KEY"], "--env-file"), (["submit", "--env", "1A=2"], "--env '1A=2'"),
        ])
    func fuzzFindings(arguments: [String], mentions: String) throws {
        let files = ["SPACE-KEY": Self.file("space-key.env", "A B=1\n")]
        try refused(arguments.map { files[$0] ?? $0 } + ["--", "true"], mentions: mentions)
    }

    @Test("logs and jobs refuse an empty id instead of matching the first job")
    func emptyIDs() throws {
        try refused(["logs", ""], mentions: "JOB ''")
        try refused(["jobs", ""], mentions: "RUN ''")
    }

    @Test("export refuses a saved recommendation whose runtime or memory no deployment file can hold")
    func exportRanges() throws {
        let home = Self.folder + "/home-export"
        var saved = try json(try Self.recommendation(home: home))
        var recommendation = try #require(saved["recommendation"] as? [String: Any])
        let options = try #require(recommendation["options"] as? [[String: Any]])
        let index = try #require(options.firstIndex { $0["id"] as? String == "batch-c7i.large" })
        for (key, value, mentions) in [
            ("runtime", ["seconds": 1e300, "provenance": "measured", "basis": ""] as Any, "runtime.seconds '1e+300'"),
            ("memoryMB", -1 as Any, "memoryMB '-1'"),
        ] {
            var changed = options
            changed[index][key] = value
            recommendation["options"] = changed
            saved["recommendation"] = recommendation
            let path = Self.folder + "/recommendation.json"
            try JSONSerialization.data(withJSONObject: saved).write(to: URL(fileURLWithPath: path))
            for format in ["sbatch", "batch-job-definition"] {
                try expectBadInput(
                    ["export", path, "--format", format, "--option", "batch-c7i.large"], mentions: mentions, home: home)
            }
        }
    }

    @Test("submit --backend slurm names SLURM_CONF when it cannot be read")
    func slurmConfiguration() throws {
        let result = try capsize(
            ["submit", "--backend", "slurm", "--", "true"],
            environment: ["CAPSIZE_HOME": Self.folder + "/home-slurm", "SLURM_CONF": "/nonexistent/slurm.conf"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(
            result.stderr == "capsize: invalid SLURM_CONF '/nonexistent/slurm.conf': allowed a readable Slurm "
                + "configuration file (slurm.conf), or SLURM_CONF unset\n")
    }

    @Test("submit --backend slurm gives up on an sbatch that does not answer, and says so")
    func slurmSilent() throws {
        let bin = Self.folder + "/silent-slurm"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for (name, body) in [("sbatch", "exec sleep 120"), ("scontrol", "exit 1")] {
            let path = Self.file("silent-slurm/\(name)", "#!/bin/sh\n\(body)\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let result = try capsize(
            ["submit", "--backend", "slurm", "--", "true"],
            environment: ["CAPSIZE_HOME": Self.folder + "/home-silent", "PATH": bin + ":/usr/bin:/bin"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("sbatch did not answer within 10 s"), "\(result.stderr)")
    }
}
