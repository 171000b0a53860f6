import CloudModel
import Foundation
import Store
import Testing

@testable import Execution

/// The Slurm backend's pure parts, without a cluster: parsing `scontrol show job -o`, the state mapping, the
/// script. (Tests/CapsizeCLITests/SlurmTests.swift runs it on a real Slurm.)
struct SlurmBackendTests {
    static let line = """
        JobId=7 ArrayJobId=5 ArrayTaskId=2 JobName=sh UserId=root(0) JobState=FAILED Reason=JobLaunchFailure \
        Dependency=(null) ExitCode=0:9 RunTime=00:01:05 TimeLimit=00:01:00 SubmitTime=2026-11-27T13:34:17 \
        EligibleTime=2026-11-27T13:34:18 StartTime=2026-11-27T13:34:19 EndTime=2026-11-27T13:35:24 Partition=capsize \
        NodeList=vm Command=/tmp/job.sbatch
        """

    @Test("a line of scontrol show job -o is parsed: state, reason, exit code, run time, Slurm's local times")
    func parse() throws {
        let task = try #require(SlurmBackend.parse(Self.line + "\n").first)
        #expect(task.indices == [2] && task.jobID == "7" && task.state == "FAILED" && task.reason == "JobLaunchFailure")
        #expect(task.exitCode == "0:9" && task.runSeconds == 65 && task.partition == "capsize" && task.node == "vm")
        let start = try #require(task.startTime)
        let end = try #require(task.endTime)
        #expect(end.timeIntervalSince(start) == 65)
        #expect(task.submitTime! < task.eligibleTime! && task.eligibleTime! < start)
        #expect(SlurmBackend.time("Unknown") == nil)
        #expect(SlurmBackend.arrayIndices("0-3%2") == [0, 1, 2, 3] && SlurmBackend.arrayIndices("1,4-5") == [1, 4, 5])
        #expect(SlurmBackend.duration("1-00:00:02") == 86_402)
        #expect(SlurmBackend.exitCode("0:9") == 137 && SlurmBackend.exitCode("3:0") == 3)
    }

    @Test(
        "Slurm's states map to Batch's",
        arguments: [
            ("PENDING", "Resources", JobRecord.State.runnable), ("PENDING", "Priority", .runnable),
            ("PENDING", "Dependency", .pending), ("CONFIGURING", "None", .starting), ("RUNNING", "None", .running),
            ("COMPLETING", "None", .running), ("COMPLETED", "None", .succeeded), ("FAILED", "NonZeroExitCode", .failed),
            ("TIMEOUT", "TimeLimit", .failed), ("OUT_OF_MEMORY", "OutOfMemory", .failed),
            ("CANCELLED", "None", .failed),
            ("NODE_FAIL", "None", .failed),
        ])
    func states(slurm: String, reason: String, batch: JobRecord.State) {
        #expect(SlurmBackend.batchState(slurm: slurm, reason: reason) == batch)
    }

    @Test("a finished task steps through every state with Slurm's times, and a memory kill gets Batch's reason")
    func apply() throws {
        let backend = SlurmBackend(outputRoot: FileManager.default.temporaryDirectory.path)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-apply-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "slurmstepd-vm: error: StepId=7.batch exceeded memory limit (331612160 > 67108864), being killed\n"
            .write(toFile: directory + "/attempt-1.stderr", atomically: true, encoding: .utf8)
        var job = JobRecord(id: "j", runID: "r", name: "x", vcpus: 1, memoryMiB: 64, logPath: directory)
        let task = try #require(SlurmBackend.parse(Self.line).first)
        #expect(backend.apply(task, to: &job, slurmID: "5_2", worker: false))
        #expect(job.state == .failed && job.exitCode == 137 && job.queue == "capsize" && job.environmentID == "vm")
        #expect(
            job.statusReason
                == "Essential container in task exited (Slurm 5_2: FAILED (JobLaunchFailure), ExitCode 0:9)")
        #expect(job.reason == "OutOfMemoryError: Container killed due to memory usage")
        let stamps = [job.submittedAt, job.runnableAt, job.startingAt, job.runningAt, job.stoppedAt].compactMap { $0 }
        #expect(stamps.count == 5 && stamps == stamps.sorted())
        let log = try String(contentsOfFile: directory + "/attempt-1.log", encoding: .utf8)
        #expect(log.contains("--- stderr ---") && log.contains("exceeded memory limit"))
        var timedOut = JobRecord(id: "t", runID: "r", name: "x", vcpus: 1, memoryMiB: 64)
        var timeout = task
        timeout.state = "TIMEOUT"
        _ = backend.apply(timeout, to: &timedOut, slurmID: "8", worker: false)
        #expect(timedOut.statusReason?.hasPrefix(StatusReason.timeout) == true)
        #expect(timedOut.reason == nil)
        var completed = JobRecord(id: "c", runID: "r", name: "x", vcpus: 1, memoryMiB: 64)
        var done = task
        done.state = "COMPLETED"
        done.exitCode = "0:0"
        _ = backend.apply(done, to: &completed, slurmID: "9", worker: false)
        #expect(completed.state == .succeeded && completed.exitCode == 0)
        #expect(
            completed.statusReason
                == "Essential container in task exited (Slurm 9: COMPLETED (JobLaunchFailure), ExitCode 0:0)")
        var oom = task
        oom.state = "OUT_OF_MEMORY"
        var killed = JobRecord(id: "o", runID: "r", name: "x", vcpus: 1, memoryMiB: 64)
        _ = backend.apply(oom, to: &killed, slurmID: "10", worker: false)
        #expect(killed.state == .failed && killed.exitCode == 137 && killed.reason == StatusReason.outOfMemory)
    }

    @Test("the script quotes every word, turns {index} into the array task id and feeds a worker its event")
    func script() throws {
        let definition = JobDefinition(
            name: "it's", argv: ["/bin/echo", "a b", "it's {index}"], stdin: "{\"device\":\"opencl:{gpu}\"}\n",
            resources: try ResourceRequirements(vcpus: 1.5, memoryMiB: 100, gpus: 1), timeoutSeconds: 61,
            retryStrategy: try RetryStrategy())
        let text = try SlurmBackend(outputRoot: "/jobs/", partition: "gpu").script(
            for: definition, id: "ID", arraySize: 3)
        #expect(text.hasPrefix("#!/bin/bash\n#SBATCH --job-name=it_s\n"))
        for line in [
            "--cpus-per-task=2", "--mem=100M", "--time=0-00:02:00", "--gres=gpu:1", "--array=0-2",
            "--output=/jobs/ID:%a/attempt-1.log", "--partition=gpu",
        ] {
            #expect(text.contains("#SBATCH \(line)\n"), "\(line)")
        }
        #expect(text.contains("export AWS_BATCH_JOB_ARRAY_INDEX=\"$index\""))
        #expect(text.contains(#"printf '%s\n' '{"device":"gpu"}' | exec '/bin/echo' 'a b' 'it'\''s '"$index"''"#))
    }
}
