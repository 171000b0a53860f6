import Compute
import Foundation
import Store
import TestSupport
import Testing

/// Signals sent to capsize's process group, as a terminal's Ctrl-C or a hangup is.
@Suite(.serialized, .timeLimit(.minutes(1))) struct InterruptTests {
    /// capsize in a process group of its own (Foundation's `Process` makes one for its child, and the shell execs
    /// capsize in it), with SIGINT ignored as a script's `cmd &` has it.
    private func startIgnoringSIGINT(_ arguments: [String], home: String) throws -> Process {
        let binary = capsizeProcess([]).executableURL!.path
        let process = capsizeProcess([], environment: ["CAPSIZE_HOME": home])
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' INT; exec \"$0\" \"$@\"", binary] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (at most 20 s) until the store in `home` holds a job that is RUNNING.
    private func waitForRunningJob(home: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let store = try? CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine()),
                let run = try store.runs().first?.id, try store.jobs(run: run).contains(where: { $0.state == .running })
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("no job started")
    }

    @Test("a Ctrl-C to the group of a capsize that ignores SIGINT leaves its jobs alone: they end as they would")
    func ignoredInterruptReachesNoJob() async throws {
        try await onOwnThread { try self.ignoredInterruptReachesNoJobBlocking() }
    }

    private func ignoredInterruptReachesNoJobBlocking() throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let process = try startIgnoringSIGINT(["submit", "--", "sh", "-c", "sleep 2; echo slept"], home: home)
        try waitForRunningJob(home: home)
        #expect(getpgid(process.processIdentifier) == process.processIdentifier, "capsize leads its group")
        kill(-process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let listed = try capsize(["jobs", "--json"], environment: ["CAPSIZE_HOME": home])
        let job = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(job["state"] as? String == "SUCCEEDED", "\(job)")
    }

    @Test(
        "a signal during a local array stops it: exit 130, nothing FAILED, no sandbox folder left, and --resume ends it",
        arguments: [SIGINT, SIGTERM, SIGHUP])
    func interruptedArrayResumes(signal: Int32) async throws {
        try await onOwnThread { try self.interruptedArrayResumesBlocking(signal: signal) }
    }

    private func interruptedArrayResumesBlocking(signal: Int32) throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let scratch = home + "/tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let process = capsizeProcess(
            ["submit", "--array", "4", "--", "sh", "-c", "sleep 3; echo done {index}"],
            environment: ["CAPSIZE_HOME": home, "TMPDIR": scratch])
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        try waitForRunningJob(home: home)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(said)")
        #expect(said.contains("continue it with `capsize submit --resume"), "\(said)")

        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine())
        let run = try #require(try store.runs().first)
        #expect(run.status == .interrupted)
        #expect(try store.jobs(run: run.id).allSatisfy { $0.state != .failed })
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch).filter {
            $0.hasPrefix("capsize-sandbox")
        }
        #expect(left.isEmpty, "\(left)")

        let resumed = try capsize(["submit", "--resume", run.shortID, "--json"], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try store.run(id: run.id).status == .finished)
        #expect(try store.jobs(run: run.id).allSatisfy { $0.state == .succeeded })
    }

    @Test(
        "a signal during an invoke or a bench stops it between items: exit 130, the run interrupted, --resume ends it",
        arguments: [
            ["invoke", "command", "--count", "5", "--timeout", "30", "--", "sh", "-c", "sleep 1"],
            ["bench", "command", "--repeat", "5", "--warmup", "0", "--", "sh", "-c", "sleep 1"],
        ])
    func interruptedItemsResume(arguments: [String]) async throws {
        try await onOwnThread { try self.interruptedItemsResumeBlocking(arguments: arguments) }
    }

    private func interruptedItemsResumeBlocking(arguments: [String]) throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let (store, run) = try interruptAfterFirstItem(arguments, home: home)
        let kept = try store.summary(run: run.id).completed
        #expect(kept >= 1 && kept < 5, "\(kept) items kept")

        let resumed = try capsize([arguments[0], "--resume", run.shortID], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try store.summary(run: run.id).completed == 5)
        #expect(try store.run(id: run.id).status == .finished)
    }

    @Test("a SIGINT during an invocation kills it with its environment and leaves it unrecorded, to run on --resume")
    func interruptedInvocationIsKilled() async throws {
        try await onOwnThread { try self.interruptedInvocationIsKilledBlocking() }
    }

    private func interruptedInvocationIsKilledBlocking() throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let nap = "sleep 41.\(Int.random(in: 100_000...999_999))"  // its own argv, to find it among the processes
        let process = capsizeProcess(
            ["invoke", "command", "--timeout", "60", "--", "sh", "-c", nap], environment: ["CAPSIZE_HOME": home])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func napping() -> Bool { (try? TestSupport.run("/usr/bin/pgrep", ["-f", nap]))?.status == 0 }
        let deadline = Date().addingTimeInterval(20)
        while !napping() && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(napping(), "the invocation never started")
        let interrupted = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        // Killed at once, not left to sleep its 41 s.
        #expect(Date().timeIntervalSince(interrupted) < 20 && !napping())
        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine())
        let run = try #require(try store.runs().first)
        #expect(run.status == .interrupted)
        #expect(try store.invocations(run: run.id).isEmpty, "an interrupted invocation is not recorded as done")
    }

    @Test("a SIGINT during a sweep stops it before the next point: exit 130, interrupted, and --resume finishes it")
    func interruptedSweepResumes() async throws {
        try await onOwnThread { try self.interruptedSweepResumesBlocking() }
    }

    private func interruptedSweepResumesBlocking() throws {
        let home = try temporaryDirectory("capsize-interrupt")
        let (store, run) = try interruptAfterFirstItem(
            [
                "sweep", "train-mlp", "--param", "hidden=64..1024*2", "--executor", "function", "--memory", "512",
                "--timeout", "10",
            ], home: home)
        let resumed = try capsize(["sweep", "--resume", run.shortID], environment: ["CAPSIZE_HOME": home])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try store.run(id: run.id).status == .finished)
    }

    /// Starts `capsize arguments` in `home`, sends it SIGINT once its run recorded an item, and expects exit 130 and
    /// the run interrupted; returns the store and the run.
    private func interruptAfterFirstItem(_ arguments: [String], home: String) throws -> (CapsizeStore, RunRecord) {
        let process = capsizeProcess(arguments, environment: ["CAPSIZE_HOME": home])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let store = try waitForRecordedItem(home: home)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let run = try #require(try store.runs().first)
        #expect(run.status == .interrupted)
        return (store, run)
    }

    /// Waits (at most 20 s) until the newest run in `home` has recorded an item; returns the store.
    private func waitForRecordedItem(home: String) throws -> CapsizeStore {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let store = try? CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine()),
                let run = try store.runs().first?.id, try store.summary(run: run).completed > 0
            {
                return store
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw StudyTimeout()
    }

    private struct StudyTimeout: Error {}

    @Test(
        "a SIGINT during a Slurm array cancels it in Slurm; --resume submits only the unfinished children again",
        .enabled(if: slurmRuns, "needs a running Slurm (scripts/slurm.sh up) or root"))
    func interruptedSlurmArrayResumes() async throws {
        try await onOwnThread { try self.interruptedSlurmArrayResumesBlocking() }
    }

    private func interruptedSlurmArrayResumesBlocking() throws {
        try #require(slurmProblem == nil, "\(slurmProblem ?? "")")
        let home = try temporaryDirectory("capsize-interrupt-slurm")
        let marker = "/tmp/capsize-interrupt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let environment = ["CAPSIZE_HOME": home, "SLURM_CONF": slurmConf]
        let process = capsizeProcess(
            [
                "submit", "--backend", "slurm", "--array", "3", "--",
                "sh", "-c", "[ {index} = 0 ] || [ -e \(marker) ] || sleep 60; echo child {index}",
            ], environment: environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let store = try waitUntil(home: home) { jobs in jobs.contains { $0.arrayIndex == 0 && $0.state == .succeeded } }
        let started = try #require(try store.runs().first)
        let first = try #require(try store.jobs(run: started.id).first { $0.arrayIndex == 0 })
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let run = try #require(try store.runs().first)
        #expect(run.status == .interrupted)
        let stopped = try store.jobs(run: run.id).filter { $0.arrayIndex != nil && $0.arrayIndex != 0 }
        #expect(stopped.count == 2 && stopped.allSatisfy { $0.state == .runnable }, "\(stopped.map(\.state))")
        let queued = try slurmClient(["squeue", "-h", "-n", "sh", "-o", "%i %T"])
        #expect(!queued.stdout.contains("RUNNING"), "\(queued.stdout)")

        FileManager.default.createFile(atPath: marker, contents: Data())
        let resumed = try capsize(["submit", "--resume", run.shortID], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let jobs = try store.jobs(run: run.id)
        #expect(jobs.count == 4 && jobs.allSatisfy { $0.state == .succeeded }, "\(jobs.map(\.state))")
        #expect(jobs.first { $0.arrayIndex == 0 }?.stoppedAt == first.stoppedAt, "child 0 did not run again")
        let folder = try #require(jobs.first { $0.arrayIndex == nil }?.logPath)
        let script = try String(contentsOfFile: folder + "/job.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=1,2"), "\(script)")
    }

    /// Waits (at most 30 s) until the newest run in `home` has jobs for which `ready` holds; returns the store.
    private func waitUntil(home: String, _ ready: ([JobRecord]) -> Bool) throws -> CapsizeStore {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let store = try? CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine()),
                let run = try store.runs().first?.id, ready(try store.jobs(run: run))
            {
                return store
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw StudyTimeout()
    }
}
