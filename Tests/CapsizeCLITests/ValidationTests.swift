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

    @Test(
        "submit refuses a bad number or word, negative numbers included, naming its flag before anything runs",
        arguments: [
            (["--depends-on", ""], "--depends-on ''"), (["--depends-on", ":N_TO_N"], "--depends-on"),
            (["--gpu-slots=-1"], "--gpu-slots '-1'"), (["--gpu-slots", "-1"], "--gpu-slots '-1'"),
            (["--gpu-slots", "99999999999999999999"], "--gpu-slots"),
            (["--terminate-grace", "nan"], "--terminate-grace 'nan'"),
            (["--terminate-grace", "-1"], "--terminate-grace '-1"),
            (["--provisioning-seconds", "inf"], "--provisioning-seconds 'inf'"),
            (["--provisioning-seconds", "-inf"], "--provisioning-seconds '-inf'"),
            (["--memory", "-1"], "--memory '-1'"), (["--vcpus", "-1"], "--vcpus '-1"),
            (["--gpus", "-1"], "--gpus '-1'"), (["--attempts", "-1"], "--attempts '-1'"),
            (["--array", "-1"], "--array '-1'"), (["--timeout", "-1"], "--timeout '-1"),
            (["--timeout", "1e300"], "--timeout '1e+300'"), (["--timeout", "nan"], "--timeout 'nan'"),
            (["--max-vcpus", "nan"], "--max-vcpus 'nan'"), (["--max-vcpus", "-1"], "--max-vcpus '-1"),
            (["--vcpus", "1e400"], "--vcpus 'inf'"),
        ])
    func submitNumbers(arguments: [String], mentions: String) throws {
        try refused(["submit"] + arguments + ["--", "true"], mentions: mentions)
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
        "invoke refuses an idle timeout that is not a positive number of at most a day",
        arguments: ["inf", "1e20", "nan", "0", "-1", "-inf"])
    func idleTimeout(value: String) throws {
        try refused(["invoke", "command", "--idle-timeout", value, "--", "true"], mentions: "--idle-timeout")
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
}
