public import ArgumentParser
import CapsizeCore
public import Execution
import Reports
import Store
import Studies

/// `capsize submit [options] -- WORKLOAD [params] | PROGRAM [args]`: a Batch-model job (or array)
/// on the local backend, run to the end in this process with every state change recorded.
struct SubmitCommand: ResumableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a Batch-model job or array job to the local queue (or to Slurm) and run it to the end.",
        discussion: """
            After `--` comes a workload with its parameters (train-mlp, render-frames) or any program. `{index}` is \
            replaced by AWS_BATCH_JOB_ARRAY_INDEX and `{attempt}` by AWS_BATCH_JOB_ATTEMPT. Examples:
              capsize submit --array 100 --sequential -- /bin/sh -c 'echo {index}'
              capsize submit --gpus 1 --array 8 -- render-frames --frames 24
              capsize submit --queues queues.json --queue high -- /bin/sh -c 'sleep 1'
            `--queues FILE` configures job queues and compute environments in JSON named as in AWS Batch: \
            {"computeEnvironments": [{"computeEnvironmentName", "minvCpus", "maxvCpus", "memoryMiB", "gpus", \
            "provisioningSeconds", "idleTeardownSeconds"}], "jobQueues": [{"jobQueueName", "priority" (0...1000), \
            "state": "ENABLED", "computeEnvironmentOrder": [{"order", "computeEnvironment"}] (1...3)}]}. Without it: \
            one queue `default` over the local pool. Provisioning and idle teardown are modeled: recorded (labelled \
            "modeled"), never slept, never in measured times.
            `--backend slurm` submits a batch script with sbatch (its header is `capsize export --format sbatch`'s) to \
            the default partition or `--queue`, and follows every task with scontrol until it ended: PENDING is \
            RUNNABLE (PENDING while a dependency is unmet), CONFIGURING STARTING, COMPLETED SUCCEEDED, and FAILED, \
            TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL FAILED, with Batch's status reason and Slurm's state. \
            `--timeout` becomes `--time` in whole minutes. A local test cluster: sudo scripts/slurm.sh up.
            Job states, logs and output folders: `capsize jobs`, `capsize logs JOB`.
            """)
    static let runKind = RunRecord.Kind.submit

    @Option(help: "Job name (default: the workload or program).") var name: String?
    @Option(parsing: .unconditional, help: "Array job size (2...10000).") var array: Int?
    @Flag(help: "Array children run one after another (a SEQUENTIAL dependency).") var sequential = false
    @Option(parsing: .unconditional, help: "vCPUs per job (0.25...256).") var vcpus: Double = 1
    @Option(parsing: .unconditional, help: "Memory per job in MiB, a hard limit (4...4194304).") var memory: Int = 2048
    @Option(parsing: .unconditional, help: "Whole GPUs per job, exclusive (0...16).") var gpus: Int = 0
    @Option(
        parsing: .unconditional,
        help: "attemptDurationSeconds: SIGTERM at the cap, SIGKILL 30 s later (AWS demands >= 60).")
    var timeout: Double?
    @Option(parsing: .unconditional, help: "Attempts (1...10).") var attempts: Int = 1
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
    @Option(parsing: .unconditional, help: "The compute environment's maxvCpus (default: this machine's cores).")
    var maxVcpus: Double?
    @Option(
        parsing: .unconditional,
        help: "Configured GPU slots for scheduling without real GPUs (default: the OpenCL GPUs).")
    var gpuSlots: Int?
    @Option(
        parsing: .unconditional,
        help: "Modeled provisioning seconds of the compute environment (recorded, never slept).")
    var provisioningSeconds: Double = 0
    @Option(parsing: .unconditional, help: "Seconds between SIGTERM and SIGKILL at a timeout (Batch: 30).")
    var terminateGrace: Double = 30
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "How much of each of a job's stdout and stderr its log keeps, in bytes or with K, M or G (default 1M); "
                + "a cut log says where it was cut.", valueName: "SIZE"))
    var logLimit: String?
    @Option(help: "Where the job runs: local (this machine) or a cluster's scheduler.") var backend: BatchBackendKind =
        .local
    @Option(
        help: ArgumentHelp(
            "Continue an interrupted submission (its run id or a unique prefix): finished jobs are kept, the rest run.",
            valueName: "RUN"))
    var resume: String?
    @OptionGroup var environment: EnvironmentOptions
    @Flag(help: "Print every state change as it happens.") var watch = false
    @Flag(help: "Print JSON instead of tables.") var json = false
    @OptionGroup var cpuShare: CPUShareOption
    @Argument(parsing: .postTerminator, help: "WORKLOAD [params] or PROGRAM [args], after --.") var command: [String] =
        []

    var besideResume: String? { command.isEmpty ? nil : "no command after -- (the run's own is used)" }

    mutating func takePrinting(from other: SubmitCommand) {
        json = other.json
        watch = other.watch
    }

    /// Submits and runs the job: in a new run, or in `resuming` (taken over), keeping its finished jobs.
    func start(resuming: RunRecord?) async throws {
        if backend != .local { try checkBackendOptions() }
        guard !command.isEmpty else {
            throw InputError(
                field: "--", value: "", allowed: "a workload or a program after --, e.g. -- train-mlp --steps 5")
        }
        let definition = try JobDefinition(
            words: command, name: name, vcpus: vcpus, memoryMiB: memory, gpus: gpus, timeoutSeconds: timeout,
            attempts: attempts, evaluateOnExit: evaluateOnExit, variables: environment.variables,
            shareIdentifier: shareIdentifier)
        let parameters = StoredArguments(arguments: ownArguments(after: "submit"))
        let watching = watch && !json
        let report: SubmitReport
        var submission: BatchSubmission?
        if backend == .local {
            var request = try SubmitRequest(
                definition: definition, queuesFile: queues, maxVCPUs: maxVcpus,
                provisioningSeconds: provisioningSeconds, gpuSlots: gpuSlots, queue: queue, arraySize: array,
                sequential: sequential, terminateGrace: terminateGrace,
                governsCPUShare: cpuShare.governs, logLimit: logLimit)
            let store = try openStore()
            request.dependencies = try dependsOn.map { text in
                do {
                    return try AdoptedDependency(parsing: text) { try findJobs($0, in: store) }
                } catch let error as InputError where error.field == "JOB" {
                    throw InputError(setting: "dependsOn", value: text, allowed: error.allowed)
                }
            }
            report = try await Submit.run(
                request, store: store, resuming: resuming, parameters: parameters,
                observe: watching ? { @Sendable job in say(JobsText.stateChange(job)) } : nil
            ) { accepted in
                if !json { say(JobsText.accepted(accepted, request: request, resumed: resuming != nil)) }
            }
        } else {
            let submitted = try await Submit.run(
                BatchJob(definition: definition, arraySize: array, queue: queue), on: backend,
                store: try openStore(), resuming: resuming, parameters: parameters,
                onSubmitted: { submission, run in if !json { say(JobsText.submitted(submission, run: run)) } },
                observe: { job in if watching { say(JobsText.stateChange(job)) } })
            report = submitted.report
            submission = submitted.submission
        }
        if json {
            try printJSON(report)
        } else {
            for warning in report.warnings { notice(warning) }
            say(JobsText.table(report.jobs))
            say(JobsText.measured(report) + (submission?.clock.map { " (\($0))" } ?? ""))
        }
        if report.state != .succeeded {
            throw CommandFailure(
                message: "job \(report.job)" + (submission?.reference.map { " (\($0))" } ?? "")
                    + " ended \(report.state?.rawValue ?? "?")")
        }
    }

    /// Refuses the local backend's options that other backends do not carry over, naming each.
    func checkBackendOptions() throws {
        let localOnly: [(String, Bool)] = [
            ("--share-identifier", shareIdentifier != nil), ("--sequential", sequential),
            ("--attempts", attempts != 1),
            ("--evaluate-on-exit", !evaluateOnExit.isEmpty), ("--depends-on", !dependsOn.isEmpty),
            ("--queues", queues != nil), ("--max-vcpus", maxVcpus != nil), ("--gpu-slots", gpuSlots != nil),
            ("--provisioning-seconds", provisioningSeconds != 0), ("--log-limit", logLimit != nil),
            ("--terminate-grace", terminateGrace != 30),
        ]
        if let (field, _) = localOnly.first(where: \.1) {
            let name = backend.rawValue.prefix(1).uppercased() + backend.rawValue.dropFirst()
            throw InputError(
                field: field, value: "with --backend \(backend.rawValue)",
                allowed: "only with --backend local (on \(name): --array, --vcpus, --memory, --gpus, --timeout, "
                    + "--resume, --queue as the partition, --name)")
        }
    }
}

extension BatchBackendKind: ExpressibleByArgument {}
