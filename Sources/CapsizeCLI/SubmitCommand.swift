import ArgumentParser
import CapsizeCore
import CloudModel
import Compute
import Execution
import Foundation
import Reports
import Store
import Studies
import Workloads

/// `capsize submit [options] -- WORKLOAD [params] | PROGRAM [args]`: a Batch-model job (or array)
/// on the local backend, run to the end in this process with every state change recorded.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a Batch-model job or array job to the local queue (or to Slurm) and run it to the end.",
        discussion: """
            After `--` comes a workload with its parameters (train-mlp, render-frames) or any program. \
            `{index}` is replaced by AWS_BATCH_JOB_ARRAY_INDEX and `{attempt}` by AWS_BATCH_JOB_ATTEMPT. \
            Examples:
              capsize submit --array 100 --sequential -- /bin/sh -c 'echo {index}'
              capsize submit --gpus 1 --array 8 -- render-frames --frames 24
              capsize submit --queues queues.json --queue high -- /bin/sh -c 'sleep 1'
            `--queues FILE` configures job queues and compute environments in JSON named as in AWS Batch: \
            {"computeEnvironments": [{"computeEnvironmentName", "minvCpus", "maxvCpus", "memoryMiB", "gpus", \
            "provisioningSeconds", "idleTeardownSeconds"}], "jobQueues": [{"jobQueueName", "priority" (0...1000), \
            "state": "ENABLED", "computeEnvironmentOrder": [{"order", "computeEnvironment"}] (1...3)}]}. \
            Without it: one queue `default` over the local pool. Provisioning and idle teardown are modeled: \
            recorded (labelled "modeled"), never slept, never in measured times.
            `--backend slurm` submits a batch script with sbatch (its header is `capsize export --format sbatch`'s) \
            to the default partition or `--queue`, and follows every task with scontrol until it ended: PENDING is \
            RUNNABLE (PENDING while a dependency is unmet), CONFIGURING STARTING, COMPLETED SUCCEEDED, and FAILED, \
            TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL FAILED, with Batch's status reason and Slurm's state. \
            `--timeout` becomes `--time` in whole minutes. A local test cluster: sudo scripts/slurm.sh up.
            Job states, logs and output folders: `capsize jobs`, `capsize logs JOB`.
            """)

    @Option(help: "Job name (default: the workload or program).") var name: String?
    @Option(help: "Array job size (2...10000).") var array: Int?
    @Flag(help: "Array children run one after another (a SEQUENTIAL dependency).") var sequential = false
    @Option(help: "vCPUs per job (0.25...256).") var vcpus: Double = 1
    @Option(help: "Memory per job in MiB, a hard limit (4...4194304).") var memory: Int = 2048
    @Option(help: "Whole GPUs per job, exclusive (0...16).") var gpus: Int = 0
    @Option(help: "attemptDurationSeconds: SIGTERM at the cap, SIGKILL 30 s later (AWS demands >= 60).")
    var timeout: Double?
    @Option(help: "Attempts (1...10).") var attempts: Int = 1
    @Option(
        name: .customLong("evaluate-on-exit"),
        help: "ACTION:FIELD:GLOB, e.g. EXIT:exitCode:2 or RETRY:reason:OutOfMemoryError* (at most 5).")
    var evaluateOnExit: [String] = []
    @Option(
        name: .customLong("depends-on"),
        help: "JOB or JOB:N_TO_N of an earlier submission (at most 20). SEQUENTIAL names no job: see --sequential.")
    var dependsOn: [String] = []
    @Option(help: ArgumentHelp("Job queues and compute environments (JSON, see above).", valueName: "FILE"))
    var queues: String?
    @Option(help: ArgumentHelp("The job queue (default: the highest-priority one).", valueName: "NAME"))
    var queue: String?
    @Option(
        name: .customLong("share-identifier"),
        help: ArgumentHelp(
            "The job's share in a fair-share queue (required there, refused in a FIFO queue).", valueName: "ID"))
    var shareIdentifier: String?
    @Option(help: "The compute environment's maxvCpus (default: this machine's cores).") var maxVcpus: Double?
    @Option(help: "Configured GPU slots for scheduling without real GPUs (default: the OpenCL GPUs).")
    var gpuSlots: Int?
    @Option(help: "Modeled provisioning seconds of the compute environment (recorded, never slept).")
    var provisioningSeconds: Double = 0
    @Option(help: "Seconds between SIGTERM and SIGKILL at a timeout (Batch: 30).") var terminateGrace: Double = 30
    @Option(help: "Where the job runs: local (this machine) or a cluster's scheduler.") var backend: BatchBackendKind =
        .local
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted submission (its run id or a unique prefix): finished jobs are kept, the rest run.",
            valueName: "RUN"))
    var resume: String?
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Print every state change as it happens.") var watch = false
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .postTerminator, help: "WORKLOAD [params] or PROGRAM [args], after --.") var command: [String] =
        []

    func run() async throws {
        guard let resume else { return try await execute(resuming: nil) }
        guard command.isEmpty else {
            throw InputError(field: "--resume", value: resume, allowed: "no command after -- (the run's own is used)")
        }
        let store = try openStore()
        let run = try takeOverRun(resume, kind: .submit, in: store)
        let stored = try StoredJSON.decode(SubmitRunParameters.self, from: run.parameters)
        var original = try SubmitCommand.parse(stored.arguments)
        original.json = json
        original.watch = watch
        try await original.execute(resuming: run)
    }

    /// Submits and runs the job: in a new run, or in `resuming` (taken over), keeping its finished jobs.
    func execute(resuming: RunRecord?) async throws {
        guard backend == .local else { return try await executeOnBackend(resuming: resuming) }
        let definition = try makeDefinition()
        let host = HostInfo.current()
        let configuration = try queues.map { path throws(InputError) in try BatchConfiguration.load(path: path) }
        if configuration != nil, maxVcpus != nil || provisioningSeconds != 0 {
            throw InputError(
                field: maxVcpus != nil ? "--max-vcpus" : "--provisioning-seconds", value: "with --queues",
                allowed: "only without --queues (set maxvCpus and provisioningSeconds in the file)")
        }
        // OpenCL discovery loads every driver (PoCL alone adds ~70 MB): only when GPUs are asked for.
        let wantsGPUs = gpus > 0 || (configuration?.computeEnvironments ?? []).contains { ($0.gpus ?? 0) > 0 }
        let gpuDevices =
            gpuSlots.map { Array(0..<$0) }
            ?? (!wantsGPUs ? [] : discoverDevices().devices.filter { $0.info.kind == .gpu }.map(\.info.index))
        if let gpuSlots, !(0...64).contains(gpuSlots) {
            throw InputError(field: "--gpu-slots", value: "\(gpuSlots)", allowed: "0...64")
        }
        var jobQueues = [
            JobQueue(environments: [
                ComputeEnvironment(
                    name: "local", maxVCPUs: maxVcpus ?? Double(host.logicalCores),
                    memoryMiB: Int(host.memoryAvailableBytes >> 20), gpuDevices: gpuDevices,
                    provisioningSeconds: provisioningSeconds)
            ])
        ]
        var configurationWarnings: [String] = []
        if let configuration {
            (jobQueues, configurationWarnings) = try configuration.resolve(
                cores: host.logicalCores, memoryMiB: Int(host.memoryAvailableBytes >> 20), gpuDevices: gpuDevices)
        }
        let store = try openStore()
        let request = SubmitRequest(
            definition: definition, queues: jobQueues, queue: queue, arraySize: array, sequential: sequential,
            dependencies: try adoptedDependencies(store: store),
            outputRoot: URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("jobs")
                .path,
            terminateGrace: terminateGrace, governsCPUShare: cpuShare.governs)
        let printsChanges = watch && !json
        let observe: (@Sendable (JobRecord) -> Void)? =
            printsChanges ? { @Sendable job in say(JobsText.stateChange(job)) } : nil
        let report = try await Submit.run(
            request, sandbox: try makeSandbox(), store: store, resuming: resuming,
            parameters: SubmitRunParameters(arguments: ownArguments(after: "submit")), observe: observe
        ) { accepted in
            guard !json else { return }
            let environments = accepted.queue.environments.map { environment in
                "\(environment.name) (\(fmt(environment.maxVCPUs)) vCPUs, \(environment.memoryMiB) MiB, "
                    + (gpuSlots != nil
                        ? "\(environment.gpuDevices.count) configured GPU slot(s), not real GPUs"
                        : gpus == 0 ? "no GPU needed" : "\(environment.gpuDevices.count) OpenCL GPU(s)") + ")"
            }
            say(
                (resuming == nil ? "submitted" : "resumed (\(accepted.kept) job(s) already ended)")
                    + " \(accepted.job) as run \(accepted.run.shortID) to queue \(accepted.queue.name); compute environments "
                    + environments.joined(separator: ", "))
        }
        var withWarnings = report
        withWarnings.warnings = configurationWarnings + report.warnings
        if json {
            try printJSON(withWarnings)
        } else {
            for warning in withWarnings.warnings { notice(warning) }
            say(JobsText.table(report.jobs))
            say(JobsText.measured(report))
        }
        if report.jobs.first(where: { $0.id == report.job })?.state != .succeeded {
            throw CommandFailure(
                message: "job \(report.job) ended \(report.jobs.first { $0.id == report.job }?.state.rawValue ?? "?")",
                code: 1)
        }
    }

    /// The job definition from the options and the words after `--`.
    func makeDefinition() throws -> JobDefinition {
        guard let first = command.first else {
            throw InputError(
                field: "--", value: "", allowed: "a workload or a program after --, e.g. -- train-mlp --steps 5")
        }
        var rules: [EvaluateOnExit] = []
        for text in evaluateOnExit {
            let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3, let action = EvaluateOnExit.Action(rawValue: parts[0].uppercased()),
                ["exitCode", "reason", "statusReason"].contains(parts[1])
            else {
                throw InputError(
                    field: "--evaluate-on-exit", value: text,
                    allowed: "ACTION:FIELD:GLOB with ACTION RETRY or EXIT and FIELD exitCode, reason or statusReason")
            }
            rules.append(
                try EvaluateOnExit(
                    action: action, onExitCode: parts[1] == "exitCode" ? parts[2] : nil,
                    onReason: parts[1] == "reason" ? parts[2] : nil,
                    onStatusReason: parts[1] == "statusReason" ? parts[2] : nil))
        }
        let resources = try ResourceRequirements(vcpus: vcpus, memoryMiB: memory, gpus: gpus)
        let retry = try RetryStrategy(attempts: attempts, evaluateOnExit: rules)
        let variables = try environmentOptions.batchVariables()
        if let type = try? WorkloadCatalog.named(first), !type.takesProgram {
            // Validate the parameters now (with {index} standing in as 0), so a typo fails at submit.
            let arguments = Array(command.dropFirst())
            _ = try type.init(
                parameters: try ParameterValues(
                    arguments: arguments.map { $0.replacingOccurrences(of: "{index}", with: "0") },
                    specs: type.parameters))
            let event = FunctionEvent(workload: first, arguments: arguments, device: gpus > 0 ? "opencl:{gpu}" : "cpu")
            return .worker(
                name: name ?? first, request: .invoke(requestId: "{index}-{attempt}", event: event),
                usesOpenCL: type.usesOpenCL(gpus > 0 ? .gpu : .cpu, gpus: gpus > 0), resources: resources,
                timeoutSeconds: timeout, retryStrategy: retry, environment: variables, shareIdentifier: shareIdentifier)
        }
        var argv = command
        if first == CommandWorkload.name { argv.removeFirst() }
        guard let program = argv.first, CommandWorkload.locate(program) != nil else {
            throw InputError(
                field: "command", value: argv.first ?? "", allowed: "an executable file, or a program found in PATH")
        }
        return JobDefinition(
            name: name ?? URL(fileURLWithPath: program).lastPathComponent, argv: argv, resources: resources,
            timeoutSeconds: timeout, retryStrategy: retry, environment: variables, shareIdentifier: shareIdentifier)
    }

    /// Dependencies on jobs of earlier submissions, found in the store.
    func adoptedDependencies(store: CapsizeStore) throws -> [AdoptedDependency] {
        try dependsOn.map { text in
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            let type = parts.count == 2 ? DependencyType(rawValue: parts[1]) : nil
            if parts.count == 2 && type != .nToN {
                throw InputError(
                    field: "--depends-on", value: text,
                    allowed: "JOB or JOB:N_TO_N (a SEQUENTIAL dependency names no job: --sequential chains an "
                        + "array's children)")
            }
            return AdoptedDependency(jobs: try findJobs(parts[0], in: store), type: type)
        }
    }

    func makeSandbox() throws -> Sandbox {
        do {
            return try Sandbox()
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}

/// What a submit run stores: its own arguments.
struct SubmitRunParameters: Codable {
    var arguments: [String]
}
