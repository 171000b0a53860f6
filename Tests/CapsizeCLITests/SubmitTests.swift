import Compute
import Foundation
import Store
import TestSupport
import Testing

/// Starts `capsize arguments` with its store in `home`, kills it with SIGKILL once `ready` says enough
/// is recorded (polling the store; at most 20 s), and returns the id of the run it had stored.
func runThenKill(_ arguments: [String], home: String, when ready: (CapsizeStore, String) throws -> Bool) throws
    -> String
{
    let process = capsizeProcess(arguments, environment: ["CAPSIZE_HOME": home])
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    var run: String?
    while Date() < deadline && process.isRunning {
        // Blocking, not suspending: a loaded cooperative pool could wake a suspended poll too late.
        Thread.sleep(forTimeInterval: 0.02)
        guard let store = try? CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine()),
            let id = try store.runs().first?.id
        else { continue }
        run = id
        if try ready(store, id) { break }
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    return try #require(run)
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct SubmitTests {
    @Test("a 100-child array with a SEQUENTIAL chain and no GPU runs to SUCCEEDED with every state stored")
    func arrayChain() throws {
        let result = try capsize([
            "submit", "--array", "100", "--sequential", "--memory", "256", "--json", "--",
            "/bin/sh", "-c", "echo child {index}",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let jobs = try #require(try json(result.stdout)["jobs"] as? [[String: Any]])
        #expect(jobs.count == 101)
        #expect(jobs.allSatisfy { $0["state"] as? String == "SUCCEEDED" })
        let children = jobs.filter { $0["arrayParentID"] is String }
        #expect(children.count == 100)
        for key in ["submittedAt", "runnableAt", "startingAt", "runningAt", "stoppedAt"] {
            #expect(children.allSatisfy { $0[key] != nil }, "\(key) missing")
        }
        let run = try #require(try json(result.stdout)["run"] as? String)
        let shown = try capsize(["runs", "show", run, "--json"])
        let stored = try #require(try json(shown.stdout)["jobs"] as? [[String: Any]])
        #expect(stored.count == 101)
        let child = try #require(children.first { $0["arrayIndex"] as? Int == 42 }?["id"] as? String)
        let logs = try capsize(["logs", child])
        #expect(logs.status == 0 && logs.stdout.contains("child 42"))
    }

    @Test("logs takes the ids jobs prints: an array job's short id, each child's ID:INDEX, and whole ids")
    func logsByPrintedIDs() throws {
        let home = TestFolder("capsize-logs")
        let environment = ["CAPSIZE_HOME": home.path]
        let submitted = try capsize(
            ["submit", "--array", "3", "--json", "--", "/bin/sh", "-c", "echo child {index}"], environment: environment)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let listed = try capsize(["jobs", "--all"], environment: environment)
        let job = try #require(try json(submitted.stdout)["job"] as? String)
        let parent = String(job.prefix(8))
        let ids = listed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first }
            .filter { $0.hasPrefix(parent) }
        #expect(ids.count == 4 && ids.first == Substring(parent), "\(listed.stdout)")
        let whole = try capsize(["logs", parent], environment: environment)
        #expect(whole.status == 0 && (0..<3).allSatisfy { whole.stdout.contains("child \($0)") }, "\(whole.stderr)")
        for (index, id) in ids.dropFirst().enumerated() {
            #expect(id == "\(parent):\(index)")
            let child = try capsize(["logs", String(id)], environment: environment)
            #expect(child.status == 0, "\(child.stderr)")
            #expect(child.stdout.contains("child \(index)") && !child.stdout.contains("child \((index + 1) % 3)"))
        }
        let byWholeID = try capsize(["logs", job + ":2"], environment: environment)
        #expect(byWholeID.status == 0 && byWholeID.stdout.contains("child 2"))
        let outOfRange = try capsize(["logs", parent + ":3"], environment: environment)
        #expect(outOfRange.status == 2 && outOfRange.stderr.contains("0...2"), "\(outOfRange.stderr)")
    }

    @Test("--log-limit keeps that much of a job's output, and the log says where it was cut")
    func logLimit() throws {
        let result = try capsize([
            "submit", "--log-limit", "2K", "--json", "--", "/bin/sh", "-c", "yes capsize | head -c 100000",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let job = try #require(try json(result.stdout)["job"] as? String)
        let logs = try capsize(["logs", job])
        #expect(logs.status == 0)
        #expect(logs.stdout.contains("cut at the log limit: 2048 of 100000 bytes kept"), "\(logs.stdout.suffix(300))")
        #expect(logs.stdout.utf8.count < 2_300)
    }

    @Test("workload jobs run through the worker; a job that depends on a failed job fails without running")
    func workloadsAndDependencies() throws {
        let mlp = try capsize([
            "submit", "--array", "2", "--json", "--", "train-mlp", "--batch", "16", "--inputs", "8",
            "--hidden", "16", "--steps", "3", "--seed", "{index}",
        ])
        #expect(mlp.status == 0, "\(mlp.stderr)")
        let failing = try capsize(["submit", "--json", "--", "/bin/sh", "-c", "exit 3"])
        #expect(failing.status == 1)
        let failed = try #require(try json(failing.stdout)["job"] as? String)
        let dependent = try capsize(["submit", "--json", "--depends-on", String(failed.prefix(8)), "--", "/bin/true"])
        #expect(dependent.status == 1)
        let jobs = try #require(try json(dependent.stdout)["jobs"] as? [[String: Any]])
        let job = try #require(jobs.first { ($0["id"] as? String) != failed })
        #expect(job["state"] as? String == "FAILED")
        #expect(job["statusReason"] as? String == "Dependent Job failed")
    }

    @Test("GPU jobs share configured GPU slots and retries follow the strategy")
    func slotsAndRetries() throws {
        let gpus = try capsize([
            "submit", "--gpu-slots", "2", "--gpus", "1", "--vcpus", "0.5", "--array", "4", "--json", "--",
            "/bin/sh", "-c", "test -n \"$CAPSIZE_GPU_DEVICES\"",
        ])
        #expect(gpus.status == 0, "\(gpus.stderr)")
        let retried = try capsize([
            "submit", "--attempts", "3", "--json", "--", "/bin/sh", "-c", "test $AWS_BATCH_JOB_ATTEMPT -ge 3",
        ])
        #expect(retried.status == 0)
        let jobs = try #require(try json(retried.stdout)["jobs"] as? [[String: Any]])
        #expect(jobs.first?["attempt"] as? Int == 3)
    }

    @Test("a submission killed with SIGKILL keeps its finished jobs, and --resume runs only the rest")
    func killThenResume() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("submit-kill-\(UUID())").path
        let run = try runThenKill(
            ["submit", "--array", "40", "--sequential", "--memory", "64", "--", "/bin/sh", "-c", "sleep 0.1"],
            home: home
        ) { store, run in try store.jobs(run: run).filter { $0.state == .succeeded }.count >= 5 }
        let before = try #require(
            try json(capsize(["runs", "show", run, "--json"], environment: ["CAPSIZE_HOME": home]).stdout)["jobs"]
                as? [[String: Any]])
        let finishedBefore = before.filter { $0["state"] as? String == "SUCCEEDED" && $0["arrayParentID"] is String }
        #expect(finishedBefore.count > 0 && finishedBefore.count < 40, "\(finishedBefore.count) children had finished")
        let resumed = try capsize(
            ["submit", "--resume", String(run.prefix(8)), "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try #require(try json(resumed.stdout)["jobs"] as? [[String: Any]])
        #expect(after.count == 41 && after.allSatisfy { $0["state"] as? String == "SUCCEEDED" })
        for old in finishedBefore {
            let new = try #require(after.first { $0["id"] as? String == old["id"] as? String })
            #expect(new["stoppedAt"] as? Double == old["stoppedAt"] as? Double, "a finished child ran again")
        }
        let again = try capsize(["submit", "--resume", run, "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(again.status == 2, "a finished run cannot be resumed")
    }

    /// A queue file: one queue `q` over one environment `a`, with the members of the JSON objects `queue` and
    /// `environment` put in.
    static func queueFile(queue: String = "{}", environment: String = "{}") throws -> String {
        var environmentObject: [String: Any] = ["computeEnvironmentName": "a", "minvCpus": 0, "maxvCpus": 1]
        var queueObject: [String: Any] = [
            "jobQueueName": "q", "priority": 1, "state": "ENABLED",
            "computeEnvironmentOrder": [["order": 1, "computeEnvironment": "a"]],
        ]
        for (key, value) in try JSONSerialization.jsonObject(with: Data(environment.utf8)) as! [String: Any] {
            environmentObject[key] = value
        }
        for (key, value) in try JSONSerialization.jsonObject(with: Data(queue.utf8)) as! [String: Any] {
            queueObject[key] = value
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("queues-\(UUID()).json").path
        let file = ["computeEnvironments": [environmentObject], "jobQueues": [queueObject]]
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(
        "bad queue files exit 2 with one line naming the field",
        arguments: [
            (#"{"priority": 1001}"#, "{}", "jobQueues[0].priority"),
            (#"{"state": "DISABLED"}"#, "{}", "jobQueues[0].state"),
            (#"{"jobQueueName": "no spaces"}"#, "{}", "jobQueues[0].jobQueueName"),
            (
                #"{"computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "b"}]}"#, "{}",
                "jobQueues[0].computeEnvironmentOrder[0].computeEnvironment"
            ),
            (#"{"computeEnvironmentOrder": []}"#, "{}", "jobQueues[0].computeEnvironmentOrder"),
            ("{}", #"{"minvCpus": 2}"#, "computeEnvironments[0].minvCpus"),
            ("{}", #"{"maxvCpus": "many"}"#, "computeEnvironments[0].maxvCpus"),
            ("{}", #"{"provisioningSeconds": -5}"#, "computeEnvironments[0].provisioningSeconds"),
            ("{}", #"{"idleTeardownSeconds": -1}"#, "computeEnvironments[0].idleTeardownSeconds"),
        ])
    func badQueueFile(queue: String, environment: String, field: String) throws {
        let path = try Self.queueFile(queue: queue, environment: environment)
        try expectBadInput(["submit", "--queues", path, "--", "/bin/true"], mentions: field, home: testHome)
    }

    @Test("--queues and --queue run a job in the named queue; modeled provisioning is printed as modeled")
    func queuesFile() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("submit-queues-\(UUID())").path
        let path = try Self.queueFile(
            queue: #"{"jobQueueName": "fast", "priority": 500}"#,
            environment: #"{"provisioningSeconds": 120, "idleTeardownSeconds": 600}"#)
        let result = try capsize(
            [
                "submit", "--queues", path, "--queue", "fast", "--json", "--", "/bin/sh", "-c",
                "echo $AWS_BATCH_JQ_NAME",
            ],
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try json(result.stdout)
        let job = try #require((report["jobs"] as? [[String: Any]])?.first)
        #expect(job["queue"] as? String == "fast" && job["environmentID"] as? String == "a")
        #expect(job["modeledProvisioningSeconds"] as? Double == 120)
        #expect((report["modeledTeardowns"] as? [[String: Any]])?.first?["environment"] as? String == "a")
        let jobs = try capsize(["jobs"], environment: ["CAPSIZE_HOME": home])
        #expect(jobs.status == 0 && jobs.stdout.contains("provisioning 120 s"), "\(jobs.stdout)")
        #expect(jobs.stdout.contains("compute environment a (modeled"), "\(jobs.stdout)")
        let run = try #require(report["run"] as? String)
        let shown = try capsize(["runs", "show", run], environment: ["CAPSIZE_HOME": home])
        #expect(shown.stdout.contains("MODELED TEARDOWN"), "\(shown.stdout)")
        #expect(shown.stdout.contains("provisioning 120 s"), "\(shown.stdout)")
    }

    @Test("a refused submission stores no run")
    func refusedLeavesNoRun() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("submit-refused-\(UUID())").path
        let refused = try capsize(["submit", "--vcpus", "64", "--", "/bin/true"], environment: ["CAPSIZE_HOME": home])
        #expect(refused.status == 2)
        let list = try capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": home])
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(runs.isEmpty)
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct InvokeResumeTests {
    @Test("an invoke run killed with SIGKILL keeps its invocations, and --resume runs only the missing ones")
    func killThenResume() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("invoke-kill-\(UUID())").path
        let run = try runThenKill(
            ["invoke", "command", "--memory", "256", "--count", "40", "--", "/bin/sh", "-c", "sleep 0.1"], home: home
        ) { store, run in try store.invocations(run: run).count >= 5 }
        let before = try #require(
            try json(capsize(["runs", "show", run, "--json"], environment: ["CAPSIZE_HOME": home]).stdout)[
                "invocations"] as? [[String: Any]])
        #expect(before.count > 0 && before.count < 40, "\(before.count) invocations had finished")
        let resumed = try capsize(
            ["invoke", "--resume", String(run.prefix(8)), "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try #require(
            try json(capsize(["runs", "show", run, "--json"], environment: ["CAPSIZE_HOME": home]).stdout)[
                "invocations"] as? [[String: Any]])
        let keys = after.compactMap { $0["itemKey"] as? String }
        #expect(keys.count == 40 && Set(keys).count == 40, "\(keys.count) invocations, \(Set(keys).count) distinct")
        for old in before {
            #expect(after.contains { $0["id"] as? String == old["id"] as? String }, "an earlier invocation was lost")
        }
    }
}
