import CapsizeCore
import CloudModel
public import Foundation
import Planning
public import Store

/// The `slurm` backend of the Batch model: a job (or array) submitted with `sbatch` to a real Slurm cluster,
/// polled with `scontrol show job -o` until every task ended, its states mapped to Batch's and recorded as
/// `JobRecord`s stamped with Slurm's own times.
///
/// Each job gets `outputRoot/<job id>/` (array children `outputRoot/<job id>:<index>/`) with its log
/// `attempt-1.log` (stdout, then stderr, as the local backend writes it) and an `output/` folder it runs in;
/// the submitted script is `outputRoot/<job id>/job.sbatch`.
public struct SlurmBackend: Sendable {
    /// A submitted job: capsize's id (the array parent's for arrays) and Slurm's.
    public struct Submission: Sendable {
        public var id: String
        public var slurmJobID: String
        public var script: String
        public var arraySize: Int?
        public var definition: JobDefinition
    }

    /// One line of `scontrol show job -o`: a job or an array task, or a pending array's unsplit tasks.
    public struct TaskState: Sendable, Equatable {
        /// The array indices this line stands for (nil for a single job).
        public var indices: [Int]?
        public var jobID: String
        public var state: String
        public var reason: String
        public var exitCode: String
        public var runSeconds: Double?
        public var partition: String?
        public var node: String?
        public var submitTime: Date?
        public var eligibleTime: Date?
        public var startTime: Date?
        public var endTime: Date?
    }

    public enum Failure: Error, CustomStringConvertible {
        /// A Slurm client is missing or the controller does not answer.
        case unavailable(String)

        public var description: String {
            switch self {
            case .unavailable(let message): message
            }
        }
    }

    /// What makes a local test cluster (scripts/slurm.sh says why each line is there).
    public static let setupCommand = "sudo scripts/slurm.sh up && eval $(scripts/slurm.sh env)"

    public let outputRoot: String
    /// `--partition`; nil: the cluster's default partition.
    public let partition: String?
    /// Between two polls of `scontrol show job` (longer for arrays of more than 800 tasks).
    public let pollInterval: Duration

    public init(outputRoot: String, partition: String? = nil, pollInterval: Duration = .milliseconds(250)) {
        let path = URL(fileURLWithPath: outputRoot).path
        self.outputRoot = path.hasSuffix("/") ? String(path.dropLast()) : path
        self.partition = partition
        self.pollInterval = pollInterval
    }

    // MARK: The batch script

    /// The batch script for `definition`: `Export.sbatchHeader` (the same header `capsize export` writes)
    /// with the output paths, then a body that drops every variable but Slurm's (`SLURM_*`, `SLURMD_NODENAME`,
    /// `CUDA_VISIBLE_DEVICES`), sets a system `PATH`, `LANG`, `HOME` (the output folder), capsize's
    /// `WorkloadEnvironment.passedByName` variables (their values at submit), Batch's variables and the job
    /// definition's, and runs the program. `{index}` becomes
    /// `$SLURM_ARRAY_TASK_ID` (also exported as `AWS_BATCH_JOB_ARRAY_INDEX`), `{attempt}` 1, and a workload's
    /// `opencl:{gpu}` becomes `gpu`: the job sees only the GPUs Slurm gave it (`CUDA_VISIBLE_DEVICES`).
    public func script(for definition: JobDefinition, id: String, arraySize: Int?) -> String {
        let directory = outputRoot + "/" + id + (arraySize == nil ? "" : ":%a")
        var extra = ["--output=\(directory)/attempt-1.log", "--error=\(directory)/attempt-1.stderr"]
        if let partition { extra.append("--partition=\(partition)") }
        let resources = definition.resources
        var lines = [
            Export.sbatchHeader(
                jobName: definition.name, vcpus: resources.vcpus, memoryMiB: resources.memoryMiB, gpus: resources.gpus,
                timeSeconds: definition.timeoutSeconds, arraySize: arraySize, extra: extra,
                comments: ["capsize submit --backend slurm: job \(id)"]),
            "index=${SLURM_ARRAY_TASK_ID:-0}",
            "job=\(Self.quoted(id))" + (arraySize == nil ? "" : ":$index"),
            "directory=\(Self.quoted(outputRoot))/\"$job\"",
            "mkdir -p \"$directory/output\" && cd \"$directory/output\" || exit 1",
            // Nothing of the environment sbatch was run with reaches the job but Slurm's own variables and the
            // GPUs Slurm gave it (sbatch runs with a minimal environment too, see `submit`).
            "for name in $(compgen -e); do case $name in SLURM_*|SLURMD_NODENAME|CUDA_VISIBLE_DEVICES) ;; "
                + "*) unset \"$name\" 2>/dev/null ;; esac; done",
            "export PATH=\(Self.quoted(WorkloadEnvironment.systemPath)) LANG=C.UTF-8 HOME=\"$directory/output\"",
        ]
        for (key, value) in WorkloadEnvironment.passed().sorted(by: { $0.key < $1.key })
        where key != "CUDA_VISIBLE_DEVICES" {
            lines.append("export \(key)=\(Self.quoted(value))")
        }
        lines.append(
            "export AWS_BATCH_JOB_ID=\"$job\" AWS_BATCH_JOB_ATTEMPT=1 AWS_BATCH_JQ_NAME=\"$SLURM_JOB_PARTITION\" "
                + "AWS_BATCH_CE_NAME=\"$SLURMD_NODENAME\" AWS_BATCH_JOB_OUTPUT_DIR=\"$directory/output\"")
        if let arraySize {
            lines.append("export AWS_BATCH_JOB_ARRAY_INDEX=\"$index\" AWS_BATCH_JOB_ARRAY_SIZE=\(arraySize)")
        }
        if resources.gpus == 0 { lines.append("export CAPSIZE_HIDE_GPUS=1") }
        for (key, value) in definition.environment.sorted(by: { $0.key < $1.key }) {
            lines.append("export \(key)=\(Self.expanded(value))")
        }
        let command = "exec " + definition.argv.map(Self.expanded).joined(separator: " ")
        if let stdin = definition.stdin {
            let text = stdin.hasSuffix("\n") ? String(stdin.dropLast()) : stdin
            lines.append("printf '%s\\n' \(Self.expanded(text)) | \(command)")
        } else {
            lines.append(command + " </dev/null")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as one shell word: single-quoted, with `{index}` as `"$index"` and the other placeholders filled.
    static func expanded(_ text: String) -> String {
        let filled = text.replacingOccurrences(of: "opencl:{gpu}", with: "gpu")
            .replacingOccurrences(of: "{gpu}", with: "0").replacingOccurrences(of: "{attempt}", with: "1")
        return filled.components(separatedBy: "{index}").map(quoted).joined(separator: "\"$index\"")
    }

    /// `text` single-quoted for the shell.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: Submitting

    /// Who Slurm jobs run as when capsize is root: `nobody` (sbatch `--uid`/`--gid`, which only root may give), so
    /// that a job cannot reach the store, as the local backend's jobs cannot. Slurm needs an account the node knows,
    /// so the local backend's uids of their own (which have none) cannot be used; jobs share this one.
    static let jobUser: SandboxUser? = {
        guard SandboxUser.isRequired, let account = getpwnam("nobody") else { return nil }
        return SandboxUser(uid: account.pointee.pw_uid, gid: account.pointee.pw_gid)
    }()

    /// Writes the script and submits it with `sbatch --parsable`.
    /// - Throws: `InputError` naming the option (`--vcpus`, `--memory`, `--gpus`, `--queue`) when Slurm refuses
    ///   a request the partition can never satisfy; `Failure.unavailable` when sbatch is missing or fails else.
    public func submit(_ definition: JobDefinition, arraySize: Int?) throws -> Submission {
        if let arraySize { try BatchLimits.checkArraySize(arraySize) }
        guard Self.which("sbatch") != nil, Self.which("scontrol") != nil else {
            throw InputError(
                field: "--backend", value: "slurm",
                allowed: "a machine with Slurm's clients (sbatch and scontrol are not in PATH; a local test cluster: "
                    + "\(Self.setupCommand))")
        }
        let id = UUID().uuidString.lowercased()
        let folder = outputRoot + "/" + id
        let text = script(for: definition, id: id, arraySize: arraySize)
        let path = folder + "/job.sbatch"
        // Slurm opens --output before the script runs, so every child's folder must exist first.
        let children = (0..<(arraySize ?? 0)).map { "\(folder):\($0)" }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for child in children where mkdir(child, 0o777) != 0 && errno != EEXIST {
                try FileManager.default.createDirectory(atPath: child, withIntermediateDirectories: true)
            }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            // The job writes its logs and output there, as that user; capsize (root) reads them.
            for directory in [folder] + children { try Self.jobUser?.own(directory) }
        } catch {
            throw Failure.unavailable("cannot write the batch script \(path): \(error)")
        }
        // sbatch exports its own environment into the job (--export=ALL); --export=NONE would instead load the
        // user's login environment on the node (--get-user-env). So it runs with only what it needs.
        let own = launchEnvironment()
        var minimal = ["PATH": own["PATH"] ?? WorkloadEnvironment.systemPath]
        for name in ["SLURM_CONF", "HOME", "USER"] { minimal[name] = own[name] }
        var arguments = ["sbatch", "--parsable"]
        if let user = Self.jobUser { arguments += ["--uid=\(user.uid)", "--gid=\(user.gid)"] }
        let result = Self.execute(arguments + [path], environment: minimal)
        guard result.status == 0 else {
            let message = result.stderr.split(separator: "\n").map {
                $0.replacingOccurrences(of: "sbatch: error: ", with: "")
            }
            .joined(separator: "; ")
            for directory in [folder] + children { try? FileManager.default.removeItem(atPath: directory) }
            throw refusal(definition.resources, message: message)
        }
        // --parsable prints `ID` or `ID;CLUSTER`.
        let slurmID = String(result.stdout.split(separator: "\n").first?.split(separator: ";").first ?? "")
        guard !slurmID.isEmpty else { throw Failure.unavailable("sbatch printed no job id: \(result.stdout)") }
        return Submission(id: id, slurmJobID: slurmID, script: path, arraySize: arraySize, definition: definition)
    }

    /// Why sbatch refused: the option that exceeds the partition's largest node, or Slurm's own words.
    func refusal(_ resources: ResourceRequirements, message: String) -> any Error {
        let unreachable = ["Unable to contact slurm controller", "Invalid partition", "configuration file"]
        if let partition, message.contains("Invalid partition") {
            return InputError(
                field: "--queue", value: partition, allowed: "a partition of the cluster (sbatch: \(message))")
        }
        if unreachable.contains(where: message.contains) {
            return Failure.unavailable(
                "--backend slurm: sbatch failed: \(message) (a local test cluster: \(Self.setupCommand))")
        }
        // One line per node: CPUs, memory in MB, generic resources (e.g. `gpu:2` or `(null)`).
        var arguments = ["sinfo", "-h", "-N", "-o", "%c %m %G"]
        if let partition { arguments += ["-p", partition] }
        let nodes = Self.execute(arguments).stdout.split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        let cpus = nodes.compactMap { $0.first.flatMap { Int($0) } }.max() ?? 0
        let memory = nodes.compactMap { $0.count > 1 ? Int($0[1]) : nil }.max() ?? 0
        let gpus = nodes.map { node in Self.gpuCount(node.count > 2 ? node[2] : "") }.max() ?? 0
        let place = "the largest node of partition \(partition ?? "(default)")"
        if resources.gpus > gpus {
            return InputError(
                field: "--gpus", value: "\(resources.gpus)", allowed: "at most \(gpus) (\(place); sbatch: \(message))")
        }
        if Int(resources.vcpus.rounded(.up)) > cpus {
            return InputError(
                field: "--vcpus", value: "\(resources.vcpus)", allowed: "at most \(cpus) (\(place); sbatch: \(message))"
            )
        }
        if resources.memoryMiB > memory {
            return InputError(
                field: "--memory", value: "\(resources.memoryMiB)",
                allowed: "at most \(memory) MiB (\(place); sbatch: \(message))")
        }
        return InputError(field: "--backend", value: "slurm", allowed: "a request Slurm accepts (sbatch: \(message))")
    }

    /// The GPUs in a `%G` field such as `gpu:2`, `gpu:a100:4(S:0)` or `(null)`.
    static func gpuCount(_ gres: String) -> Int {
        gres.split(separator: ",").filter { $0.hasPrefix("gpu") }.compactMap { item in
            item.split(separator: "(").first?.split(separator: ":").last.flatMap { Int($0) }
        }.reduce(0, +)
    }

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
                gpus: definition.resources.gpus, logPath: outputRoot + "/" + id)
            record.statusReason = "Slurm \(submission.slurmJobID): submitted"
            return record
        }
        var parent = newRecord(submission.id, index: nil)
        var children = (0..<(submission.arraySize ?? 0)).map { newRecord("\(submission.id):\($0)", index: $0) }
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
        record([parent] + children)
        var failures = 0
        while true {
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
                for index in task.indices ?? [] where children.indices.contains(index) {
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
            } else if submission.arraySize != nil,
                parent.submittedAt != children.map(\.submittedAt).min() ?? parent.submittedAt
            {
                parent.submittedAt = children.map(\.submittedAt).min()!
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
        let rank: [JobRecord.State: Int] = [
            .submitted: 0, .pending: 1, .runnable: 2, .starting: 3, .running: 4, .succeeded: 5, .failed: 5,
        ]
        let slurmText = "Slurm \(slurmID): \(task.state)" + (task.reason == "None" ? "" : " (\(task.reason))")
        if target == .pending && job.state == .submitted { job.enter(.pending, at: submitted) }
        if rank[target]! >= 2 && job.runnableAt == nil { job.enter(.runnable, at: task.eligibleTime ?? submitted) }
        if rank[target]! >= 3, let start = task.startTime ?? (target == .starting ? Date() : nil), job.startingAt == nil
        {
            job.enter(.starting, at: start)
        }
        if rank[target]! >= 4, let start = task.startTime, job.runningAt == nil { job.enter(.running, at: start) }
        if rank[target]! == 5 {
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
            } else if state == .succeeded && worker && WorkerReply.lastAnswer(in: Self.stdout(of: log))?.status != .success {
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

    /// Appends the job's stderr file to its log (after a `--- stderr ---` line, as the local backend does) and
    /// returns the log's text.
    func finishLog(_ directory: String?) -> String {
        guard let directory else { return "" }
        let log = directory + "/attempt-1.log"
        let errors = directory + "/attempt-1.stderr"
        var text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if let stderr = try? String(contentsOfFile: errors, encoding: .utf8) {
            if !stderr.isEmpty { text += "\n--- stderr ---\n" + stderr }
            if (try? text.write(toFile: log, atomically: true, encoding: .utf8)) != nil {
                try? FileManager.default.removeItem(atPath: errors)
            }
        }
        return text
    }

    /// The stdout part of a finished log.
    static func stdout(of log: String) -> String {
        log.components(separatedBy: "\n--- stderr ---\n").first ?? log
    }

    /// Whether Slurm's memory enforcement (jobacct_gather's OverMemoryKill) killed the job: slurmstepd says so
    /// in the job's stderr.
    static func memoryKilled(_ log: String) -> Bool {
        log.contains("exceeded memory limit") || log.contains("Exceeded job memory limit")
            || log.contains("oom-kill event")
    }

    /// Batch's state for a Slurm job state (`JobState`) and reason: PENDING waiting on a dependency is
    /// PENDING, else RUNNABLE (Resources, Priority...); CONFIGURING is STARTING; RUNNING, COMPLETING,
    /// SUSPENDED are RUNNING; COMPLETED is SUCCEEDED; every other final state FAILED.
    public static func batchState(slurm state: String, reason: String) -> JobRecord.State {
        switch state {
        case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT":
            reason.hasPrefix("Dependency") ? .pending : .runnable
        case "CONFIGURING", "RESIZING": .starting
        case "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT": .running
        case "COMPLETED": .succeeded
        default: .failed  // FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, BOOT_FAIL, DEADLINE, PREEMPTED
        }
    }

    /// Batch's exit code for Slurm's `EXIT:SIGNAL`: the exit status, or 128 + the signal that ended it.
    static func exitCode(_ text: String) -> Int? {
        let parts = text.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let status = parts[0], let signal = parts[1] else { return nil }
        return signal > 0 ? 128 + signal : status
    }

    /// The lines of `scontrol show job -o`.
    public static func parse(_ output: String) -> [TaskState] {
        output.split(separator: "\n").compactMap { line -> TaskState? in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                let key = String(word[..<equals])
                if fields[key] == nil { fields[key] = String(word[equals...].dropFirst()) }
            }
            guard let jobID = fields["JobId"], let state = fields["JobState"] else { return nil }
            return TaskState(
                indices: fields["ArrayTaskId"].map(arrayIndices), jobID: jobID, state: state,
                reason: fields["Reason"] ?? "None", exitCode: fields["ExitCode"] ?? "",
                runSeconds: fields["RunTime"].flatMap(duration), partition: fields["Partition"],
                node: fields["NodeList"], submitTime: fields["SubmitTime"].flatMap(time),
                eligibleTime: fields["EligibleTime"].flatMap(time), startTime: fields["StartTime"].flatMap(time),
                endTime: fields["EndTime"].flatMap(time))
        }
    }

    /// `ArrayTaskId`: `3`, or a pending array's `0-99`, `1,3-5` or `0-99%4` (`%` is the throttle).
    static func arrayIndices(_ text: String) -> [Int] {
        let list = text.split(separator: "%").first ?? ""
        return list.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
    }

    /// `RunTime`: `[D-]HH:MM:SS` in seconds.
    static func duration(_ text: String) -> Double? {
        let dayParts = text.split(separator: "-")
        let days = dayParts.count == 2 ? Double(dayParts[0]) ?? 0 : 0
        let clock = (dayParts.last ?? "").split(separator: ":").compactMap { Double($0) }
        guard clock.count == 3 else { return nil }
        return days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
    }

    /// Slurm's local times, `YYYY-MM-DDTHH:MM:SS` (nil for `Unknown` or `None`).
    static func time(_ text: String) -> Date? {
        let numbers = text.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        let components = DateComponents(
            year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4],
            second: numbers[5])
        return Calendar.current.date(from: components)
    }

    // MARK: Processes

    /// The path of `program` in PATH.
    static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Runs a Slurm client to the end.
    static func execute(
        _ arguments: [String], environment: [String: String]? = nil
    ) -> (status: Int32, stdout: String, stderr: String) {
        guard let program = which(arguments[0]) else { return (127, "", "\(arguments[0]): not found in PATH") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (127, "", "\(arguments[0]): \(error)")
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }
}
