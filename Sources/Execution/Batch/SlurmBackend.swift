public import CapsizeCore
import CloudModel
import Foundation
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
        /// The records of an interrupted run of this job (parent first): the ended ones are kept as they are.
        public var previous: [JobRecord] = []
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
        self.outputRoot = JobLaunch.Layout.absoluteRoot(outputRoot)
        self.partition = partition
        self.pollInterval = pollInterval
    }

    // MARK: The batch script

    /// The batch script for `definition`: `Sbatch.header` (the same header `capsize export` writes) with the
    /// output paths of `JobLaunch.Layout`, then a body that drops every variable but Slurm's (`SLURM_*`,
    /// `SLURMD_NODENAME`, `CUDA_VISIBLE_DEVICES`), sets a system `PATH`, `LANG`, `HOME` (the output folder), capsize's
    /// `WorkloadEnvironment.passedByName` variables (their values at submit), Batch's variables (`JobLaunch`) and the
    /// job definition's, and runs the program. `{index}` becomes `$SLURM_ARRAY_TASK_ID` (also exported as
    /// `AWS_BATCH_JOB_ARRAY_INDEX`), `{attempt}` 1, and a workload's `opencl:{gpu}` becomes `gpu`: the job sees only
    /// the GPUs Slurm gave it (`CUDA_VISIBLE_DEVICES`).
    ///
    /// Every value is quoted for where it goes (`Shell.quoted` in the body, `Sbatch.directiveValue` on `#SBATCH`
    /// lines); what an `#SBATCH` line cannot hold is refused.
    /// - Throws: `InputError` for a partition `Sbatch.isPartitionName` refuses (setting `queue`), a jobs folder with
    ///   a control character or a backslash, or a variable that is not a shell name (setting `env`).
    public func script(
        for definition: JobDefinition, id: String, arraySize: Int?, arrayIndices: [Int]? = nil
    ) throws(InputError) -> String {
        let folderError = InputError(
            field: "jobs folder", value: outputRoot,
            allowed: Sbatch.pathRule + "; capsize's home (CAPSIZE_HOME) holds it")
        guard let root = Sbatch.filenamePattern(literal: outputRoot) else { throw folderError }
        let layout = JobLaunch.Layout(root: root, id: id + (arraySize == nil ? "" : ":%a"))
        var extra: [String] = []
        for (option, path) in [("--output", layout.log(attempt: 1)), ("--error", layout.stderrFile(attempt: 1))] {
            guard let value = Sbatch.directiveValue(path) else { throw folderError }
            extra.append("\(option)=\(value)")
        }
        if let partition {
            guard Sbatch.isPartitionName(partition) else {
                throw InputError(setting: "queue", value: partition, allowed: Sbatch.partitionRule)
            }
            extra.append("--partition=\(partition)")
        }
        if let name = definition.environment.keys.sorted().first(where: { !Shell.isVariableName($0) }) {
            throw InputError(
                setting: "env", value: name, allowed: Shell.variableNameRule + " (the job's script exports it)")
        }
        let resources = definition.resources
        var lines = [
            Sbatch.header(
                jobName: definition.name, vcpus: resources.vcpus, memoryMiB: resources.memoryMiB, gpus: resources.gpus,
                timeSeconds: definition.timeoutSeconds, arraySize: arraySize, arrayIndices: arrayIndices, extra: extra,
                comments: ["capsize, Slurm backend: job \(id)"]),
            "index=${SLURM_ARRAY_TASK_ID:-0}",
            "job=\(Shell.quoted(id))" + (arraySize == nil ? "" : ":$index"),
            "directory=\(Shell.quoted(outputRoot))/\"$job\"",
            "mkdir -p \"$directory/output\" && cd \"$directory/output\" || exit 1",
            // Nothing of the environment sbatch was run with reaches the job but Slurm's own variables and the
            // GPUs Slurm gave it (sbatch runs with a minimal environment too, see `submit`).
            "for name in $(compgen -e); do case $name in SLURM_*|SLURMD_NODENAME|CUDA_VISIBLE_DEVICES) ;; "
                + "*) unset \"$name\" 2>/dev/null ;; esac; done",
            "export PATH=\(Shell.quoted(WorkloadEnvironment.systemPath)) LANG=C.UTF-8 HOME=\"$directory/output\"",
        ]
        for (key, value) in WorkloadEnvironment.passed().sorted(by: { $0.key < $1.key })
        where key != "CUDA_VISIBLE_DEVICES" {
            lines.append("export \(key)=\(Shell.quoted(value))")
        }
        // Batch's variables, as shell words the node fills in.
        let batch = JobLaunch.batchVariables(
            job: "\"$job\"", attempt: "1", queue: "\"$SLURM_JOB_PARTITION\"",
            computeEnvironment: "\"$SLURMD_NODENAME\"",
            outputDirectory: "\"$directory/output\"")
        let array = JobLaunch.arrayVariables(
            index: arraySize == nil ? nil : "\"$index\"", size: arraySize.map(String.init))
        for group in [batch, array, JobLaunch.gpuVariables(devices: nil, requested: resources.gpus)]
        where !group.isEmpty {
            lines.append("export " + group.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
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

    /// What the placeholders stand for in the script: `{index}` is left for the shell (`"$index"`), `{attempt}` is 1
    /// (Slurm does not retry), and a workload's `opencl:{gpu}` is `gpu`, the devices Slurm gave the job.
    static let placeholders = JobLaunch.Placeholders(index: nil, attempt: "1", gpu: "0", openCLDevice: "gpu")

    /// `text` as one shell word: single-quoted, with `{index}` as `"$index"` and the other placeholders filled.
    static func expanded(_ text: String) -> String {
        let filled = placeholders.fill(text)
        return filled.components(separatedBy: "{index}").map(Shell.quoted).joined(separator: "\"$index\"")
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
    /// - Parameter previous: the records of an interrupted run of this job (parent first): it is submitted again
    ///   under the same id, only its children that had not ended (`--array=1,4,7`).
    public func submit(_ definition: JobDefinition, arraySize: Int?, previous: [JobRecord] = []) throws -> Submission {
        if let arraySize { try BatchLimits.checkArraySize(arraySize) }
        let unfinished = previous.dropFirst().filter { !$0.state.isFinal }.compactMap(\.arrayIndex)
        guard Self.which("sbatch") != nil, Self.which("scontrol") != nil else {
            throw InputError(
                setting: "backend", value: "slurm",
                allowed: "a machine with Slurm's clients (sbatch and scontrol are not in PATH; a local test cluster: "
                    + "\(Self.setupCommand))")
        }
        if let configuration = launchEnvironment()["SLURM_CONF"],
            !FileManager.default.isReadableFile(atPath: configuration)
        {
            throw InputError(
                field: "SLURM_CONF", value: configuration,
                allowed: "a readable Slurm configuration file (slurm.conf), or SLURM_CONF unset")
        }
        let id = previous.first?.id ?? UUID().uuidString.lowercased()
        let layout = JobLaunch.Layout(root: outputRoot, id: id)
        let folder = layout.directory
        let text = try script(
            for: definition, id: id, arraySize: arraySize,
            arrayIndices: previous.isEmpty || arraySize == nil ? nil : unfinished)
        let path = layout.script
        // Slurm opens --output before the script runs, so every child's folder must exist first.
        let children = (0..<(arraySize ?? 0)).map { JobLaunch.Layout(root: outputRoot, id: "\(id):\($0)").directory }
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
        return Submission(
            id: id, slurmJobID: slurmID, script: path, arraySize: arraySize, definition: definition, previous: previous)
    }

    /// Why sbatch refused: the option that exceeds the partition's largest node, or Slurm's own words.
    func refusal(_ resources: ResourceRequirements, message: String) -> any Error {
        let unreachable = [
            "Unable to contact slurm controller", "Invalid partition", "configuration file", "did not answer within",
        ]
        if let partition, message.contains("Invalid partition") {
            return InputError(
                setting: "queue", value: partition, allowed: "a partition of the cluster (sbatch: \(message))")
        }
        if unreachable.contains(where: message.contains) {
            return Failure.unavailable(
                "Slurm: sbatch failed: \(message) (a local test cluster: \(Self.setupCommand))")
        }
        // One line per node: CPUs, memory in MB, generic resources (e.g. `gpu:2` or `(null)`).
        var arguments = ["sinfo", "-h", "-N", "-o", "%c %m %G"]
        if let partition { arguments += ["-p", partition] }
        let listed = Self.execute(arguments)
        let nodes = listed.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        // Without the nodes' sizes, no option can be said to exceed them: Slurm's own words are all there is.
        guard listed.status == 0, !nodes.isEmpty else {
            return Failure.unavailable(
                "Slurm: sbatch failed: \(message); sinfo: "
                    + listed.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let cpus = nodes.compactMap { $0.first.flatMap { Int($0) } }.max() ?? 0
        let memory = nodes.compactMap { $0.count > 1 ? Int($0[1]) : nil }.max() ?? 0
        let gpus = nodes.map { node in Self.gpuCount(node.count > 2 ? node[2] : "") }.max() ?? 0
        let place = "the largest node of partition \(partition ?? "(default)")"
        if resources.gpus > gpus {
            return InputError(
                setting: "gpus", value: "\(resources.gpus)", allowed: "at most \(gpus) (\(place); sbatch: \(message))")
        }
        if Int(resources.vcpus.rounded(.up)) > cpus {
            return InputError(
                setting: "vcpus", value: "\(resources.vcpus)", allowed: "at most \(cpus) (\(place); sbatch: \(message))"
            )
        }
        if resources.memoryMiB > memory {
            return InputError(
                setting: "memory", value: "\(resources.memoryMiB)",
                allowed: "at most \(memory) MiB (\(place); sbatch: \(message))")
        }
        return InputError(setting: "backend", value: "slurm", allowed: "a request Slurm accepts (sbatch: \(message))")
    }

    /// The GPUs in a `%G` field such as `gpu:2`, `gpu:a100:4(S:0)` or `(null)`.
    static func gpuCount(_ gres: String) -> Int {
        gres.split(separator: ",").filter { $0.hasPrefix("gpu") }.compactMap { item in
            item.split(separator: "(").first?.split(separator: ":").last.flatMap { Int($0) }
        }.reduce(0, +)
    }
}
