public import ArgumentParser
import CapsizeCore
import Execution
import Foundation
import Reports
import Store
import Studies

extension BatchBackendKind: ExpressibleByArgument {}

extension SubmitCommand {
    /// `--backend` other than local (slurm): the job goes to the backend (Slurm: through sbatch, followed with
    /// scontrol) until every task ended; each state change is stored as for the local backend (run kind `submit`,
    /// the partition as the queue, the backend's times).
    func executeOnBackend(resuming: RunRecord?) async throws {
        try checkBackendOptions(resuming: resuming)
        let definition = try makeDefinition()
        let store = try openStore()
        let output = URL(fileURLWithPath: CapsizeStore.defaultPath()).deletingLastPathComponent()
            .appendingPathComponent("jobs").path
        let backend = try self.backend.make(BatchBackendContext(outputRoot: output, store: store))
        // Submitted before the run is stored: a request the backend refuses leaves no run behind.
        let submission: BatchSubmission
        do {
            submission = try await backend.submit(BatchJob(definition: definition, arraySize: array, queue: queue))
        } catch let error as InputError {
            throw error
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let run = try store.createRun(
            kind: .submit, parameters: SubmitRunParameters(arguments: ownArguments(after: "submit")),
            planned: array.map { $0 + 1 } ?? 1)
        if !json {
            say(
                "submitted \(submission.id)" + (submission.announcement.isEmpty ? "" : " \(submission.announcement)")
                    + " (run \(run.shortID)) \(submission.destination)")
        }
        let watching = watch && !json
        let clock = ContinuousClock()
        let start = clock.now
        var latest: [String: JobRecord] = [:]
        var order: [String] = []
        for await job in await backend.events(run: run.id) {
            if latest.updateValue(job, forKey: job.id) == nil { order.append(job.id) }
            guard watching else { continue }
            let time = (job.stoppedAt ?? job.runningAt ?? job.runnableAt ?? job.submittedAt).formatted(.iso8601)
            say("\(time) \(job.shortID) \(job.state.rawValue)" + (job.reasons.map { " (\($0))" } ?? ""))
        }
        let records = order.compactMap { latest[$0] }
        let warnings = await backend.warnings
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
            say(JobsText.table(records))
            say(
                "measured: \(records.count) job record(s) in \(fmtSeconds(seconds)) wall"
                    + (submission.clock.map { " (\($0))" } ?? ""))
        }
        let state = records.first { $0.id == submission.id }?.state
        if state != .succeeded {
            throw CommandFailure(
                message: "job \(submission.id)" + (submission.reference.map { " (\($0))" } ?? "")
                    + " ended \(state?.rawValue ?? "?")", code: 1)
        }
    }

    /// Refuses the local backend's options that other backends do not carry over, naming each.
    func checkBackendOptions(resuming: RunRecord?) throws {
        let localOnly: [(String, Bool)] = [
            ("--resume", resuming != nil), ("--share-identifier", shareIdentifier != nil), ("--sequential", sequential),
            ("--attempts", attempts != 1),
            ("--evaluate-on-exit", !evaluateOnExit.isEmpty), ("--depends-on", !dependsOn.isEmpty),
            ("--queues", queues != nil), ("--max-vcpus", maxVcpus != nil), ("--gpu-slots", gpuSlots != nil),
            ("--provisioning-seconds", provisioningSeconds != 0),
        ]
        if let (field, _) = localOnly.first(where: \.1) {
            let name = backend.rawValue.prefix(1).uppercased() + backend.rawValue.dropFirst()
            throw InputError(
                field: field, value: "with --backend \(backend.rawValue)",
                allowed: "only with --backend local (on \(name): --array, --vcpus, --memory, --gpus, --timeout, "
                    + "--queue as the partition, --name)")
        }
    }
}
