import CloudModel
import Foundation
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// Starts one attempt of a job on this machine: its folders (`JobLaunch.Layout`), its user, its command and
/// environment (`JobLaunch`), its caps; runs it in the sandbox and writes its log.
struct AttemptLauncher: Sendable {
    /// One attempt to start: the job, where it was placed and what it runs.
    struct Attempt {
        var job: JobRecord
        var definition: JobDefinition
        var queue: String
        var environment: String
        var gpus: [Int]
        /// The size of the job's array (nil: not an array child).
        var arraySize: Int?
    }

    /// How an attempt ended: the sandbox's result, or why it could not start.
    struct Outcome: Sendable {
        var jobID: String
        var environment: Int
        var gpus: [Int]
        var result: SandboxResult?
        var failure: String?
        /// The attempt was stopped because the executor's task was cancelled (capsize was interrupted).
        var interrupted = false
    }

    let sandbox: Sandbox
    /// The jobs' folders' parent, absolute, without a trailing `/`.
    let outputRoot: String
    /// capsize's environment when the executor was made: every job's starts from it (reading it again per job
    /// parsed the whole environment each time).
    let baseEnvironment: [String: String]
    let terminateGrace: Double
    let governsCPUShare: Bool
    /// How much of each of stdout and stderr a log keeps.
    let logLimitBytes: Int

    /// Makes the attempt's folders and leases its user.
    /// - Returns: the attempt's run, for a child task (`environment` and `gpus` are handed back in its outcome), or
    ///   why it cannot start.
    func prepare(_ attempt: Attempt, environment: Int) -> Result<@Sendable () async -> Outcome, LaunchFailure> {
        let job = attempt.job
        let id = job.id
        let gpus = attempt.gpus
        let layout = JobLaunch.Layout(root: outputRoot, id: id)
        let directory = layout.directory
        let output = layout.output
        // Plain paths and mkdir: URLs stat the file system to tell files from folders, per job.
        if !((mkdir(directory, 0o777) == 0 || errno == EEXIST) && (mkdir(output, 0o777) == 0 || errno == EEXIST)) {
            try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        }
        // As root the job runs as a uid of its own (see SandboxUser), which owns its output folder; the job's
        // folder (its logs) can be passed through while it runs, and is closed again when it ends.
        let lease: SandboxUser.Lease?
        do {
            lease = try SandboxUser.lease()
            if let user = lease?.user {
                try user.own(output)
                if job.attempt > 1 { user.ownContents(of: output) }
                chmod(outputRoot, 0o711)
                chmod(directory, 0o711)
            }
        } catch {
            return .failure(LaunchFailure(description: "\(error)"))
        }
        let definition = attempt.definition
        let placeholders = JobLaunch.Placeholders(
            index: job.arrayIndex.map(String.init) ?? "0", attempt: "\(job.attempt)",
            gpu: gpus.first.map(String.init) ?? "")
        var variables = baseEnvironment
        for (key, value) in definition.environment { variables[key] = value }
        let batch =
            JobLaunch.batchVariables(
                job: id, attempt: "\(job.attempt)", queue: attempt.queue, computeEnvironment: attempt.environment,
                outputDirectory: output)
            + JobLaunch.arrayVariables(
                index: job.arrayIndex.map(String.init),
                size: job.arrayParentID == nil ? nil : attempt.arraySize.map(String.init))
            + JobLaunch.gpuVariables(devices: gpus, requested: definition.resources.gpus)
        for (name, value) in batch { variables[name] = value }
        var limits = SandboxLimits(
            wallSeconds: definition.timeoutSeconds, timeoutMode: .terminateThenKill(grace: terminateGrace),
            memoryBytes: UInt64(definition.resources.memoryMiB) << 20,
            threads: max(1, Int(definition.resources.vcpus.rounded(.up))),
            cpuShare: governsCPUShare ? definition.resources.vcpus : nil)
        limits.privateSharedMemory = true  // a container's /dev/shm is its own and counts as its memory
        limits.outputLimitBytes = logLimitBytes
        let argv = definition.argv.map(placeholders.fill)
        let stdin = definition.stdin.map { Data(placeholders.fill($0).utf8) }
        let sandbox = self.sandbox
        let jobVariables = variables
        let jobLimits = limits
        let log = layout.log(attempt: job.attempt)
        return .success({
            do {
                defer {
                    if lease != nil { chmod(directory, 0o700) }
                    lease?.release()
                }
                let result = try await sandbox.run(
                    argv, environment: jobVariables, limits: jobLimits, stdin: stdin, workingDirectory: output,
                    user: lease?.user)
                let text = JobLaunch.Layout.joined(stdout: result.stdout, stderr: result.stderr)
                try? text.write(to: URL(fileURLWithPath: log, isDirectory: false))
                return Outcome(jobID: id, environment: environment, gpus: gpus, result: result)
            } catch is CancellationError {
                return Outcome(jobID: id, environment: environment, gpus: gpus, interrupted: true)
            } catch {
                return Outcome(jobID: id, environment: environment, gpus: gpus, failure: "\(error)")
            }
        })
    }

    /// Why an attempt could not start (its user or folders).
    struct LaunchFailure: Error {
        var description: String
    }
}
