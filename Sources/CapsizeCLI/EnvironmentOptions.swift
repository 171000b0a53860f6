import ArgumentParser
import CapsizeCore
import Studies
import Workloads

/// `--env K=V`, `--env-file FILE` and `--pass-env NAME`: the variables a user gives a function or a job. Nothing
/// else of capsize's environment reaches it but `WorkloadEnvironment.passedByName`.
struct EnvironmentOptions: ParsableArguments {
    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("A variable for the function or job (repeatable).", valueName: "K=V"))
    var assignments: [String] = []
    @Option(
        name: .customLong("env-file"),
        help: ArgumentHelp(
            "Variables from a file: K=V lines; blank lines and # comments are skipped (repeatable).", valueName: "FILE")
    )
    var files: [String] = []
    @Option(
        name: .customLong("pass-env"),
        help: ArgumentHelp(
            "Pass this variable of capsize's environment, when set (repeatable; never CAPSIZE_HOME).", valueName: "NAME"
        ))
    var passed: [String] = []

    /// The variables as given.
    var variables: UserVariables { UserVariables(assignments: assignments, files: files, passed: passed) }
}

/// `--no-cpu-share`, for every command that starts functions or jobs.
struct CPUShareOption: ParsableArguments {
    @Flag(
        name: .customLong("no-cpu-share"),
        help:
            "Run functions and jobs at this machine's full speed instead of holding them to their vCPU share (Lambda: memory / 1,769 MB of a CPU; Batch: --vcpus)."
    )
    var noCPUShare = false

    /// Whether functions and jobs are held to their share.
    var governs: Bool { !noCPUShare }
}

/// The workload a command runs, by name, and its parameters (then `-- argv` for command).
struct WorkloadArguments: ParsableArguments {
    @Argument(help: ArgumentHelp(WorkloadCatalog.namesInWords + ".")) var workload: String?
    @Argument(parsing: .allUnrecognized, help: "Workload parameters, then `-- argv` for command.")
    var parameters: [String] = []

    /// Whether the command line names a workload or parameters.
    var given: Bool { workload != nil || !parameters.isEmpty }

    /// What `--resume` allows beside it when the command line names a workload; nil when it does not.
    var besideResume: String? { given ? "no workload beside it (the run's own is used)" : nil }

    /// The workload's name.
    /// - Throws: `InputError` naming `WORKLOAD` when none is given.
    func name() throws -> String {
        guard let workload else {
            throw InputError(field: "WORKLOAD", value: "", allowed: WorkloadCatalog.namesInWords + ", or --resume RUN")
        }
        return workload
    }
}
