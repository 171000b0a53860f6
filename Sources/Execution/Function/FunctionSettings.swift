public import CapsizeCore
public import CloudModel

/// How a function is set up, as one value: Lambda's configuration (memory, timeout, ephemeral storage,
/// architecture, reserved concurrency), whether it is held to its vCPU share, its name and its variables.
/// A command builds it from its flags; sweeps, the profiler and the executor pass it on as it is.
public struct FunctionSettings: Sendable, Equatable {
    public var configuration: FunctionConfiguration
    /// Hold each invocation to the function's vCPU share (memory / 1,769 MB of a CPU, at most 6), as
    /// Lambda does; false runs it at this machine's full speed (`--no-cpu-share`).
    public var governsCPUShare: Bool
    /// The function's configured environment variables (`--env`, `--env-file`, `--pass-env`), checked as
    /// Lambda checks them (`LambdaEnvironment.validate`). Nothing else of capsize's environment reaches the
    /// function but `WorkloadEnvironment.passedByName`.
    public var variables: [String: String]
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`); capsize uses the workload's.
    public var functionName: String

    public init(
        configuration: FunctionConfiguration, governsCPUShare: Bool = true, variables: [String: String] = [:],
        functionName: String = "capsize-function"
    ) {
        self.configuration = configuration
        self.governsCPUShare = governsCPUShare
        self.variables = variables
        self.functionName = functionName
    }

    /// The same function at another memory size (and timeout): a sweep's point, a profiler's rung.
    /// - Throws: `InputError` when the memory or the timeout is outside Lambda's range.
    public func with(memoryMB: Int, timeoutSeconds: Int? = nil) throws(InputError) -> FunctionSettings {
        var settings = self
        settings.configuration = try FunctionConfiguration(
            memoryMB: memoryMB, timeoutSeconds: timeoutSeconds ?? configuration.timeoutSeconds,
            ephemeralStorageMB: configuration.ephemeralStorageMB, architecture: configuration.architecture,
            reservedConcurrency: configuration.reservedConcurrency)
        return settings
    }

    /// The vCPU share an invocation is held to; nil when it runs at this machine's full speed.
    public var heldToCPUShare: Double? { governsCPUShare ? configuration.vcpuShare : nil }

    /// - Throws: `InputError` for variables Lambda would refuse.
    public func validate() throws(InputError) {
        try LambdaEnvironment.validate(variables)
    }
}
