import CloudModel
import Foundation
public import Store

extension SlurmBackend {
    // MARK: Tracking

    /// Records the submission's jobs (an array parent and its children, or one job), then polls Slurm until
    /// every task ended, recording each state change with Slurm's times.
    /// - Returns: the final records, parent first.
    public func track(
        _ submission: Submission, runID: String, store: CapsizeStore?,
        observe: (@Sendable (JobRecord) -> Void)? = nil
    ) async -> (records: [JobRecord], warnings: [String]) {
        let definition = submission.definition
        func newRecord(_ id: String, index: Int?) -> JobRecord {
            var record = JobRecord(
                id: id, runID: runID, itemKey: id, name: definition.name, queue: partition,
                arrayParentID: index == nil ? nil : submission.id, arrayIndex: index,
                vcpus: definition.resources.vcpus, memoryMiB: definition.resources.memoryMiB,
                gpus: definition.resources.gpus, logPath: JobLaunch.Layout(root: outputRoot, id: id).directory)
            record.statusReason = "Slurm \(submission.slurmJobID): submitted"
            return record
        }
        // A resumed job keeps its children that ended; the others start again from SUBMITTED.
        let ended = Dictionary(
            submission.previous.filter(\.state.isFinal).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var parent = newRecord(submission.id, index: nil)
        var children = (0..<(submission.arraySize ?? 0)).map {
            ended["\(submission.id):\($0)"] ?? newRecord("\(submission.id):\($0)", index: $0)
        }
        var warnings: [String] = []
        func record(_ changed: [JobRecord]) {
            guard !changed.isEmpty else { return }
            for job in changed { observe?(job) }
            do {
                try store?.record(changed)
            } catch {
                warnings.append("the store refused \(changed.count) job record(s): \(error)")
            }
        }
        if submission.arraySize != nil { parent.enter(.pending, at: parent.submittedAt) }
        record([parent] + children.filter { ended[$0.id] == nil })
        var failures = 0
        while true {
            if Task.isCancelled {
                // Interrupted: the job is cancelled where it runs, and what had not ended is RUNNABLE again.
                _ = Self.execute(["scancel", submission.slurmJobID])
                var stopped: [JobRecord] = []
                for index in [parent] + children where !index.state.isFinal {
                    var job = index
                    job.enter(.runnable, reason: StatusReason.interrupted)
                    stopped.append(job)
                }
                record(stopped)
                return (stopped, warnings)
            }
            let result = Self.execute(["scontrol", "show", "job", "-o", submission.slurmJobID])
            let tasks = result.status == 0 ? Self.parse(result.stdout) : []
            if tasks.isEmpty {
                failures += 1
                if failures >= 40 {
                    warnings.append(
                        "scontrol show job \(submission.slurmJobID) failed \(failures) times: "
                            + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
                    break
                }
            } else {
                failures = 0
            }
            var changed: [JobRecord] = []
            for task in tasks {
                if submission.arraySize == nil {
                    if apply(task, to: &parent, slurmID: task.jobID, worker: definition.workerReplies) {
                        changed.append(parent)
                    }
                    continue
                }
                for index in task.indices ?? [] where children.indices.contains(index) && !children[index].state.isFinal
                {
                    let slurmID = "\(submission.slurmJobID)_\(index)"
                    if apply(task, to: &children[index], slurmID: slurmID, worker: definition.workerReplies) {
                        changed.append(children[index])
                    }
                }
            }
            if submission.arraySize != nil, !parent.state.isFinal, children.allSatisfy(\.state.isFinal) {
                let failed = children.contains { $0.state == .failed }
                parent.exitCode = failed ? children.compactMap(\.exitCode).first { $0 != 0 } : 0
                parent.queue = children.first?.queue ?? parent.queue
                parent.enter(
                    failed ? .failed : .succeeded, at: children.compactMap(\.stoppedAt).max() ?? Date(),
                    reason: failed
                        ? "\(StatusReason.arrayChildFailed) (Slurm \(submission.slurmJobID): an array task failed)"
                        : "Slurm \(submission.slurmJobID): every array task COMPLETED")
                changed.append(parent)
            } else if submission.arraySize != nil, let first = children.map(\.submittedAt).min(),
                parent.submittedAt != first
            {
                parent.submittedAt = first
                parent.pendingAt = parent.submittedAt
                changed.append(parent)
            }
            record(changed)
            if parent.state.isFinal { break }
            // A big array prints a line per task on every poll (about 1.5 KB each): poll it less often, at most
            // every 2 s.
            try? await Task.sleep(for: min(.seconds(2), pollInterval * max(1, tasks.count / 400)))
        }
        return ([parent] + children, warnings)
    }

    /// Moves `job` to the Batch state for `task` (through the states it skipped, each stamped with Slurm's time
    /// for it). - Returns: whether anything changed.
    func apply(_ task: TaskState, to job: inout JobRecord, slurmID: String, worker: Bool) -> Bool {
        guard !job.state.isFinal else { return false }
        let before = job
        let target = Self.batchState(slurm: task.state, reason: task.reason)
        if let partition = task.partition { job.queue = partition }
        if let node = task.node, node != "(null)", !node.isEmpty { job.environmentID = node }
        let submitted = task.submitTime ?? job.submittedAt
        job.submittedAt = submitted
        let rank = Self.rank(target)
        let slurmText = "Slurm \(slurmID): \(task.state)" + (task.reason == "None" ? "" : " (\(task.reason))")
        if target == .pending && job.state == .submitted { job.enter(.pending, at: submitted) }
        if rank >= 2 && job.runnableAt == nil { job.enter(.runnable, at: task.eligibleTime ?? submitted) }
        if rank >= 3, let start = task.startTime ?? (target == .starting ? Date() : nil), job.startingAt == nil {
            job.enter(.starting, at: start)
        }
        if rank >= 4, let start = task.startTime, job.runningAt == nil { job.enter(.running, at: start) }
        if rank == 5 {
            let log = finishLog(job.logPath)
            var state = target
            // Batch's words (docs/aws-reference.md): the container exited, whatever its code; a memory kill is
            // exit code 137 with the container reason OutOfMemoryError; a timeout has a reason of its own.
            var reason: String? = StatusReason.essentialContainerExited
            job.reason = nil
            let exit = Self.exitCode(task.exitCode)
            job.exitCode = exit
            if task.state == "TIMEOUT" {
                reason = StatusReason.timeout
            } else if task.state == "OUT_OF_MEMORY" || (state == .failed && Self.memoryKilled(log)) {
                job.reason = StatusReason.outOfMemory
                job.exitCode = Int(StatusReason.outOfMemoryExitCode)
            } else if state == .succeeded && worker
                && WorkerReply.lastAnswer(in: Self.stdout(of: log))?.status != .success
            {
                state = .failed
                job.exitCode = 1
            } else if state == .failed && task.state != "FAILED" {
                reason = nil  // CANCELLED, NODE_FAIL...: Slurm's own words only
            }
            if let start = task.startTime, let end = task.endTime {
                job.wallSeconds = task.runSeconds ?? end.timeIntervalSince(start)
            }
            let text = slurmText + ", ExitCode \(task.exitCode)"
            job.enter(state, at: task.endTime ?? Date())
            job.statusReason = reason.map { "\($0) (\(text))" } ?? text
        } else {
            job.statusReason = slurmText
        }
        return job != before
    }

    /// How far along Batch's states `state` is: SUBMITTED 0 ... RUNNING 4, SUCCEEDED and FAILED 5.
    static func rank(_ state: JobRecord.State) -> Int {
        switch state {
        case .submitted: 0
        case .pending: 1
        case .runnable: 2
        case .starting: 3
        case .running: 4
        case .succeeded, .failed: 5
        }
    }

    /// Appends the job's stderr file to its log (after a `--- stderr ---` line, as the local backend does) and
    /// returns the log's text.
    func finishLog(_ directory: String?) -> String {
        guard let directory else { return "" }
        let layout = JobLaunch.Layout(directory: directory)
        let log = layout.log(attempt: 1)
        let errors = layout.stderrFile(attempt: 1)
        var text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if let stderr = try? String(contentsOfFile: errors, encoding: .utf8) {
            if !stderr.isEmpty { text += JobLaunch.Layout.stderrSeparator + stderr }
            if (try? text.write(toFile: log, atomically: true, encoding: .utf8)) != nil {
                try? FileManager.default.removeItem(atPath: errors)
            }
        }
        return text
    }

    /// The stdout part of a finished log.
    static func stdout(of log: String) -> String { JobLaunch.Layout.stdout(ofLog: log) }

    /// Whether Slurm's memory enforcement (jobacct_gather's OverMemoryKill) killed the job: slurmstepd says so
    /// in the job's stderr.
    static func memoryKilled(_ log: String) -> Bool {
        log.contains("exceeded memory limit") || log.contains("Exceeded job memory limit")
            || log.contains("oom-kill event")
    }
}
