import Foundation
import TestSupport
import Testing

/// The Slurm configuration the tests use: `$SLURM_CONF`, else the one `scripts/slurm.sh up` writes
/// (`$CAPSIZE_SLURM_DIR/slurm.conf`, by default /tmp/capsize-slurm/slurm.conf).
let slurmConf: String = {
    let environment = ProcessInfo.processInfo.environment
    if let conf = environment["SLURM_CONF"], !conf.isEmpty { return conf }
    return (environment["CAPSIZE_SLURM_DIR"] ?? "/tmp/capsize-slurm") + "/slurm.conf"
}()

/// Runs a program (found in PATH) with `SLURM_CONF` set to the tests' cluster.
func slurmClient(_ arguments: [String]) throws -> ProcessOutput {
    try run("/usr/bin/env", ["SLURM_CONF=\(slurmConf)"] + arguments)
}

/// Why no Slurm node answers (nil when one is idle, mixed or allocated).
let slurmProblem: String? = {
    guard FileManager.default.fileExists(atPath: slurmConf) else {
        return "no \(slurmConf) (start a test cluster: sudo scripts/slurm.sh up, or make test as root)"
    }
    let sinfo: ProcessOutput
    do { sinfo = try slurmClient(["sinfo", "-h", "-N", "-o", "%T"]) } catch {
        return "env cannot start sinfo: \(error)"
    }
    let state = sinfo.stdout.split(separator: "\n").first.map(String.init) ?? ""
    if sinfo.status == 0 && ["idle", "mixed", "allocated"].contains(state) { return nil }
    return "the Slurm node of \(slurmConf) is '\(state)' (sinfo exit \(sinfo.status): \(sinfo.stderr))"
}()

/// Slurm tests skip only when not root and no cluster answers; as root (CI, `make test`) they fail instead.
let slurmRuns: Bool = {
    if slurmProblem != nil && getuid() != 0 {
        FileHandle.standardError.write(Data("SlurmTests skipped: \(slurmProblem!); not root\n".utf8))
        return false
    }
    return true
}()

/// `capsize --backend slurm` tests on a real single-node Slurm (scripts/slurm.sh: 2 fake GPUs, memory enforced by
/// sampling). The tests run side by side, a few seconds each.
@Suite(.enabled(if: slurmRuns, "needs a running Slurm (scripts/slurm.sh up) or root"), .timeLimit(.minutes(2)))
struct SlurmTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-tests-\(UUID())").path

    func submit(_ arguments: [String]) throws -> ProcessOutput {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        return try capsize(
            ["submit", "--backend", "slurm"] + arguments, environment: ["CAPSIZE_HOME": home, "SLURM_CONF": slurmConf])
    }

    /// Submits `/bin/sh -c script` (with `arguments` after it) at 64 MB with `options` and expects it to succeed: the
    /// report.
    func submitScript(_ options: [String], _ script: String, arguments: [String] = []) throws -> [String: Any] {
        let result = try submit(options + ["--memory", "64", "--json", "--", "/bin/sh", "-c", script] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try json(result.stdout)
    }

    @Test("an array of 4 ends with 5 SUCCEEDED records in Slurm's time order, each child's log holding its index")
    func array() throws {
        let report = try submitScript(["--array", "4"], "echo index {index} $AWS_BATCH_JOB_ARRAY_INDEX")
        let jobs = try #require(report["jobs"] as? [[String: Any]])
        #expect(jobs.count == 5 && jobs.allSatisfy { $0["state"] as? String == "SUCCEEDED" }, "\(jobs)")
        let children = jobs.filter { $0["arrayParentID"] is String }
        #expect(children.count == 4)
        func date(_ job: [String: Any], _ key: String) -> Date? {
            (job[key] as? String).flatMap { try? Date($0, strategy: .iso8601) }
        }
        for child in children {
            let stamps = ["submittedAt", "runnableAt", "startingAt", "runningAt", "stoppedAt"].map { date(child, $0) }
            #expect(stamps.allSatisfy { $0 != nil }, "\(child)")
            let times = stamps.compactMap { $0 }
            #expect(times == times.sorted(), "\(child)")
            #expect(child["queue"] as? String != nil && child["environmentID"] as? String != nil)
            #expect((child["statusReason"] as? String ?? "").contains("COMPLETED"))
        }
        let parent = try #require(jobs.first { !($0["arrayParentID"] is String) })
        let parentSubmitted = try #require(date(parent, "submittedAt"))
        let parentStopped = try #require(date(parent, "stoppedAt"))
        #expect(parentSubmitted <= parentStopped)
        #expect(children.allSatisfy { date($0, "stoppedAt").map { $0 <= parentStopped } ?? false })
        for index in 0..<4 {
            let id = try #require(children.first { $0["arrayIndex"] as? Int == index }?["id"] as? String)
            let logs = try capsize(["logs", id], environment: ["CAPSIZE_HOME": home])
            #expect(logs.status == 0 && logs.stdout.contains("index \(index) \(index)"), "\(logs.stdout)")
        }
        // The store has them: `runs show` and `jobs` read the same records.
        let run = try #require(report["run"] as? String)
        let shown = try capsize(["runs", "show", run, "--json"], environment: ["CAPSIZE_HOME": home])
        #expect((try json(shown.stdout)["jobs"] as? [[String: Any]])?.count == 5, "\(shown.stderr)")
        let table = try capsize(["jobs", "--all"], environment: ["CAPSIZE_HOME": home])
        #expect(
            table.status == 0 && table.stdout.components(separatedBy: "SUCCEEDED").count - 1 == 5, "\(table.stdout)")
        // The script submitted (Sbatch.header with the output paths) passes sbatch --test-only again.
        let script = try #require(parent["logPath"] as? String) + "/job.sbatch"
        let test = try slurmClient(["sbatch", "--test-only", script])
        #expect(test.status == 0 && test.stderr.contains("to start at"), "\(test.stderr)")
    }

    @Test("a --gpus 1 job gets CUDA_VISIBLE_DEVICES from Slurm; --gpus 3 and --vcpus 64 are refused with exit 2")
    func gpus() throws {
        let report = try submitScript(["--gpus", "1"], "echo gpus=$CUDA_VISIBLE_DEVICES")
        let job = try #require((report["jobs"] as? [[String: Any]])?.first)
        #expect(job["gpus"] as? Int == 1)
        let log = try String(
            contentsOfFile: try #require(job["logPath"] as? String) + "/attempt-1.log", encoding: .utf8)
        #expect(log.contains("gpus=0"), "\(log)")
        for (arguments, field) in [(["--gpus", "3"], "--gpus"), (["--vcpus", "64"], "--vcpus")] {
            let refused = try submit(arguments + ["--", "/bin/true"])
            #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.hasPrefix("capsize: invalid \(field)"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
        let runs = try capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": home])
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(stored.count == 1, "a refused submission stores no run")
    }

    @Test("a job sees --env, --pass-env, AWS_BATCH_* and Slurm's SLURM_*, not capsize's environment")
    func environment() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        let result = try capsize(
            [
                "submit", "--backend", "slurm", "--array", "2", "--memory", "64", "--env", "FOO=bar baz", "--pass-env",
                "CAPSIZE_PASS_TEST", "--json", "--", "/usr/bin/env",
            ],
            environment: [
                "CAPSIZE_HOME": home, "SLURM_CONF": slurmConf, "CAPSIZE_SECRET_TEST": "hunter2",
                "CAPSIZE_PASS_TEST": "passed-by-name",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let jobs = try #require(try json(result.stdout)["jobs"] as? [[String: Any]])
        let child = try #require(jobs.first { $0["arrayIndex"] as? Int == 1 })
        let log = try String(
            contentsOfFile: try #require(child["logPath"] as? String) + "/attempt-1.log", encoding: .utf8)
        let lines = Set(log.split(separator: "\n").map(String.init))
        #expect(!log.contains("CAPSIZE_SECRET_TEST") && !log.contains("CAPSIZE_HOME="), "\(log)")
        #expect(lines.contains("FOO=bar baz") && lines.contains("CAPSIZE_PASS_TEST=passed-by-name"), "\(log)")
        #expect(lines.contains("AWS_BATCH_JOB_ARRAY_INDEX=1") && lines.contains("AWS_BATCH_JOB_ARRAY_SIZE=2"), "\(log)")
        #expect(lines.contains { $0.hasPrefix("SLURM_JOB_ID=") } && lines.contains("LANG=C.UTF-8"), "\(log)")
        #expect(lines.contains { $0.hasPrefix("PATH=/usr/local/sbin:") }, "\(log)")
    }

    @Test("as root, a Slurm job runs as nobody and cannot write or delete the store")
    func jobCannotReachTheStore() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        guard getuid() == 0 else { return }
        let store = home + "/capsize.sqlite"
        let script =
            "id -u; (echo x >> \"$0\") 2>/dev/null && echo wrote; rm -f \"$0\" 2>/dev/null; test -e \"$0\" && echo kept"
        let report = try submitScript([], script, arguments: [store])
        let job = try #require((report["jobs"] as? [[String: Any]])?.first)
        let log = try String(
            contentsOfFile: try #require(job["logPath"] as? String) + "/attempt-1.log", encoding: .utf8)
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.first != "0" && !lines.contains("wrote") && lines.contains("kept"), "\(log)")
        #expect(try capsize(["runs", "list"], environment: ["CAPSIZE_HOME": home]).status == 0)
    }

    @Test("a job over --memory is killed by Slurm and FAILED with Batch's memory status reason")
    func memory() throws {
        let result = try submit([
            "--memory", "64", "--json", "--", "python3", "-c",
            "import time; block = bytearray(300 << 20); time.sleep(20)",
        ])
        #expect(result.status == 1, "\(result.stderr)")
        let job = try #require((try json(result.stdout)["jobs"] as? [[String: Any]])?.first)
        #expect(job["state"] as? String == "FAILED")
        #expect(job["reason"] as? String == "OutOfMemoryError: Container killed due to memory usage", "\(job)")
        #expect(job["exitCode"] as? Int == 137, "\(job)")
        let reason = job["statusReason"] as? String ?? ""
        #expect(reason.hasPrefix("Essential container in task exited"), "\(reason)")
        #expect(reason.contains("Slurm"), "\(reason)")
        let ran = (job["wallSeconds"] as? Double) ?? .infinity
        #expect(ran < 15, "killed late: \(job)")
    }

    @Test("capsize export --format sbatch (Export.sbatchHeader) is accepted by sbatch --test-only")
    func export() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        let recommend = try capsize(
            ["recommend", "command", "--runs", "10", "--json", "--", "/bin/sleep", "0.05"],
            environment: ["CAPSIZE_HOME": home])
        #expect(recommend.status == 0, "\(recommend.stderr)")
        let saved = home + "/recommendation.json"
        try recommend.stdout.write(toFile: saved, atomically: true, encoding: .utf8)
        // A one-vCPU Batch option: it fits the 2-CPU test node.
        let export = try capsize(
            ["export", saved, "--format", "sbatch", "--option", "batch-c7i.large", "--name", "capsize test"],
            environment: ["CAPSIZE_HOME": home])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("#SBATCH --array=0-9") && export.stdout.contains("#SBATCH --time="))
        let script = home + "/job.sbatch"
        try (export.stdout + "/bin/true\n").write(toFile: script, atomically: true, encoding: .utf8)
        let test = try slurmClient(["sbatch", "--test-only", script])
        #expect(test.status == 0 && test.stderr.contains("to start at"), "\(export.stdout)\n\(test.stderr)")
    }

    @Test("without sbatch in PATH, --backend slurm exits 2 naming --backend slurm and the setup command")
    func noSlurm() throws {
        let result = try capsize(
            ["submit", "--backend", "slurm", "--", "/bin/true"],
            environment: ["CAPSIZE_HOME": home, "PATH": "/nonexistent"])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("--backend 'slurm'") && result.stderr.contains("scripts/slurm.sh up"),
            "\(result.stderr)")
    }
}
