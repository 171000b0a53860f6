import Foundation
import TestSupport
import Testing

/// `capsize submit --backend slurm` on the real single-node Slurm (scripts/slurm.sh, as SlurmTests) with what an
/// attacker put in `--queue` and `CAPSIZE_HOME`.
@Suite(.enabled(if: slurmRuns, "needs a running Slurm (scripts/slurm.sh up) or root"), .timeLimit(.minutes(2)))
struct SlurmQuotingTests {
    @Test(
        "a CAPSIZE_HOME with spaces, quotes, $(…), % and unicode works; a hostile --queue or a newline exits 2"
    )
    func hostile() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        let scratch = try Scratch("slurm-quoting")
        let base = scratch.path
        // Writable by all: an injected command would create the marker even as the jobs' user (nobody, as root).
        chmod(base, 0o1777)
        let marker = scratch.marker
        let home = base + "/home with 'q' \"d\" $(touch \(marker)) `touch \(marker)` 50%a #ü"
        func submit(_ arguments: [String], home: String) throws -> ProcessOutput {
            try capsize(
                ["submit", "--backend", "slurm", "--memory", "64"] + arguments,
                environment: ["CAPSIZE_HOME": home, "SLURM_CONF": slurmConf])
        }
        let result = try submit(
            ["--array", "2", "--json", "--", "/bin/sh", "-c", "echo index $AWS_BATCH_JOB_ARRAY_INDEX"], home: home)
        #expect(result.status == 0, "\(result.stderr)")
        let jobs = try #require(try json(result.stdout)["jobs"] as? [[String: Any]])
        #expect(jobs.count == 3 && jobs.allSatisfy { $0["state"] as? String == "SUCCEEDED" }, "\(jobs)")
        for index in 0..<2 {
            let job = try #require(jobs.first { $0["arrayIndex"] as? Int == index })
            let folder = try #require(job["logPath"] as? String)
            #expect(folder.hasPrefix(home + "/jobs/"), "\(folder)")
            let log = try String(contentsOfFile: folder + "/attempt-1.log", encoding: .utf8)
            #expect(log.contains("index \(index)"), "\(log)")
        }

        let refusedHome = base + "/refused"
        for queue in hostileValues(marker: marker) {
            let refused = try submit(["--queue", queue, "--", "/bin/true"], home: refusedHome)
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.hasPrefix("capsize: invalid --queue '"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
        let runs = try capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": refusedHome])
        let stored = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [Any]
        #expect(stored?.isEmpty == true, "no run is stored: \(runs.stdout)")
        #expect(!FileManager.default.fileExists(atPath: refusedHome + "/jobs"), "no job folder, no script")

        let newline = base + "/x\ntouch \(marker)\n"
        let refused = try submit(["--", "/bin/true"], home: newline)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("capsize: invalid jobs folder '"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: newline + "/jobs"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
