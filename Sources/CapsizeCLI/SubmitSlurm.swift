import CapsizeCore
import Execution
import Foundation
import Reports
import Store

extension SubmitCommand {
    /// `--backend slurm`: the job goes to a real Slurm cluster through sbatch and is followed with scontrol
    /// until every task ended; each state change is stored as for the local backend (run kind `submit`, the
    /// partition as the queue, Slurm's times).
    func executeOnSlurm(resuming: RunRecord?) async throws {
        try checkSlurmOptions(resuming: resuming)
        let definition = try makeDefinition()
        let store = try openStore()
        let output = URL(fileURLWithPath: CapsizeStore.defaultPath()).deletingLastPathComponent()
            .appendingPathComponent("jobs").path
        let backend = SlurmBackend(outputRoot: output, partition: queue)
        // Submitted before the run is stored: a request Slurm refuses leaves no run behind.
        let submission: SlurmBackend.Submission
        do {
            submission = try backend.submit(definition, arraySize: array)
        } catch let failure as SlurmBackend.Failure {
            throw CommandFailure(message: failure.description)
        }
        let run = try store.createRun(
            kind: .submit, parameters: SubmitRunParameters(arguments: ownArguments(after: "submit")),
            planned: array.map { $0 + 1 } ?? 1)
        if !json {
            say(
                "submitted \(submission.id) as Slurm job \(submission.slurmJobID) (run \(run.shortID)) to partition "
                    + (queue ?? "(the default)") + "; batch script \(submission.script)")
        }
        let watching = watch && !json
        let clock = ContinuousClock()
        let start = clock.now
        let (records, warnings) = await backend.track(submission, runID: run.id, store: store) { job in
            guard watching else { return }
            let time = (job.stoppedAt ?? job.runningAt ?? job.runnableAt ?? job.submittedAt).formatted(.iso8601)
            say("\(time) \(job.shortID) \(job.state.rawValue)" + (job.reasons.map { " (\($0))" } ?? ""))
        }
        let seconds = (clock.now - start).seconds
        _ = try store.finish(run: run.id)
        if json {
            try printJSON(
                SubmitReport(
                    run: run.id, job: submission.id, seconds: seconds, warnings: warnings,
                    modeledProvisioningSeconds: [:],
                    modeledTeardowns: [], jobs: records))
        } else {
            for warning in warnings { notice(warning) }
            printJobs(records)
            say(
                "measured: \(records.count) job record(s) in \(fmtSeconds(seconds)) wall (Slurm's times, whole seconds)"
            )
        }
        if records.first?.state != .succeeded {
            let state = records.first?.state.rawValue ?? "?"
            throw CommandFailure(message: "job \(submission.id) (Slurm \(submission.slurmJobID)) ended \(state)", code: 1)
        }
    }

    /// Refuses the local backend's options that Slurm's backend does not carry over, naming each.
    func checkSlurmOptions(resuming: RunRecord?) throws {
        let localOnly: [(String, Bool)] = [
            ("--resume", resuming != nil), ("--share-identifier", shareIdentifier != nil), ("--sequential", sequential), ("--attempts", attempts != 1),
            ("--evaluate-on-exit", !evaluateOnExit.isEmpty), ("--depends-on", !dependsOn.isEmpty),
            ("--queues", queues != nil), ("--max-vcpus", maxVcpus != nil), ("--gpu-slots", gpuSlots != nil),
            ("--provisioning-seconds", provisioningSeconds != 0),
        ]
        if let (field, _) = localOnly.first(where: \.1) {
            throw InputError(
                field: field, value: "with --backend slurm",
                allowed: "only with --backend local (on Slurm: --array, --vcpus, --memory, --gpus, --timeout, --queue "
                    + "as the partition, --name)")
        }
    }
}
