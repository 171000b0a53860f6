import CapsizeCore
import CloudModel
import Compute
public import Execution
import Foundation
public import Store
import Workloads

extension JobDefinition {
    /// The job that runs `words`: a workload and its parameters (through `capsize worker`, the parameters checked
    /// now with `{index}` as 0, on the job's GPU when it has one), or a program and its arguments (after
    /// `command` or not).
    /// - Parameter evaluateOnExit: rules as `ACTION:FIELD:GLOB`, e.g. `EXIT:exitCode:2`.
    /// - Throws: `InputError` naming the setting: `evaluateOnExit`, the resources' (`vcpus`, `memory`, `gpus`),
    ///   `attempts`, the variables', the workload's parameters; or the field `command` for a program not found.
    public init(
        words: [String], name: String?, vcpus: Double, memoryMiB: Int, gpus: Int, timeoutSeconds: Double?,
        attempts: Int, evaluateOnExit: [String], variables: UserVariables, shareIdentifier: String?
    ) throws {
        if let name { try BatchLimits.checkJobName(name) }
        let rules = try evaluateOnExit.map { text throws(InputError) in try EvaluateOnExit(parsing: text) }
        let resources = try ResourceRequirements(vcpus: vcpus, memoryMiB: memoryMiB, gpus: gpus)
        let retry = try RetryStrategy(attempts: attempts, evaluateOnExit: rules)
        if let timeoutSeconds { try BatchLimits.checkTimeout(timeoutSeconds) }
        let environment = try variables.forJob()
        let first = words.first ?? ""
        if let type = try? WorkloadCatalog.named(first), !type.takesProgram {
            let arguments = Array(words.dropFirst())
            _ = try type.init(
                parameters: try ParameterValues(
                    arguments: arguments.map { $0.replacingOccurrences(of: "{index}", with: "0") },
                    specs: type.parameters))
            let event = FunctionEvent(workload: first, arguments: arguments, device: gpus > 0 ? "opencl:{gpu}" : "cpu")
            self = .worker(
                name: name ?? first, request: .invoke(requestId: "{index}-{attempt}", event: event),
                usesOpenCL: type.usesOpenCL(gpus > 0 ? .gpu : .cpu, gpus: gpus > 0), resources: resources,
                timeoutSeconds: timeoutSeconds, retryStrategy: retry, environment: environment,
                shareIdentifier: shareIdentifier)
            return
        }
        let argv = first == CommandWorkload.name ? Array(words.dropFirst()) : words
        guard let program = argv.first, CommandWorkload.locate(program) != nil else {
            throw InputError(
                field: "command", value: argv.first ?? "", allowed: "an executable file, or a program found in PATH")
        }
        self.init(
            name: name ?? URL(fileURLWithPath: program).lastPathComponent, argv: argv, resources: resources,
            timeoutSeconds: timeoutSeconds, retryStrategy: retry, environment: environment,
            shareIdentifier: shareIdentifier)
    }
}

extension EvaluateOnExit {
    /// `ACTION:FIELD:GLOB`: `RETRY` or `EXIT` when `exitCode`, `reason` or `statusReason` matches the pattern.
    /// - Throws: `InputError` naming the setting `evaluateOnExit`, or the field of a pattern Batch refuses.
    init(parsing text: String) throws(InputError) {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, let action = Action(rawValue: parts[0].uppercased()),
            ["exitCode", "reason", "statusReason"].contains(parts[1])
        else {
            throw InputError(
                setting: "evaluateOnExit", value: text,
                allowed: "ACTION:FIELD:GLOB with ACTION RETRY or EXIT and FIELD exitCode, reason or statusReason")
        }
        do {
            try self.init(
                action: action, onExitCode: parts[1] == "exitCode" ? parts[2] : nil,
                onReason: parts[1] == "reason" ? parts[2] : nil,
                onStatusReason: parts[1] == "statusReason" ? parts[2] : nil)
        } catch {
            throw InputError(setting: "evaluateOnExit", value: text, allowed: "a GLOB of \(error.allowed)")
        }
    }
}

extension AdoptedDependency {
    /// `JOB` or `JOB:N_TO_N`: a job of an earlier submission, its records found by `find` (an id or a prefix).
    /// - Throws: `InputError` naming the setting `dependsOn` for another type, and what `find` throws.
    public init(parsing text: String, find: (String) throws -> [JobRecord]) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let type = parts.count == 2 ? DependencyType(rawValue: parts[1]) : nil
        if parts[0].isEmpty || (parts.count == 2 && type != .nToN) {
            throw InputError(
                setting: "dependsOn", value: text,
                allowed: "JOB or JOB:N_TO_N (a SEQUENTIAL dependency names no job: \(InputError.mention("sequential")) "
                    + "chains an array's children)")
        }
        self.init(jobs: try find(parts[0]), type: type)
    }
}

extension SubmitRequest {
    /// A submission to the local backend: `definition` in the queues of a configuration file, or in one queue
    /// `default` over this machine (its cores or `maxVCPUs`, its available memory, modeled provisioning). The
    /// environments' GPUs are `gpuSlots` configured slots, or else the OpenCL GPUs (looked for only when a job or
    /// an environment asks for GPUs: the drivers are large). It depends on no job until `dependencies` are set.
    /// - Parameter queuesFile: a configuration of job queues and compute environments (`BatchConfiguration`).
    /// - Throws: `InputError` naming the setting (`maxVcpus` or `provisioningSeconds` beside a file, `gpuSlots`), or
    ///   the place in the file.
    public init(
        definition: JobDefinition, queuesFile: String?, maxVCPUs: Double?, provisioningSeconds: Double,
        gpuSlots: Int?, queue: String?, arraySize: Int?, sequential: Bool, terminateGrace: Double,
        governsCPUShare: Bool, logLimit: String? = nil
    ) throws {
        let host = HostInfo.current()
        let configuration = try queuesFile.map { path throws(InputError) in try BatchConfiguration.load(path: path) }
        if configuration != nil, maxVCPUs != nil || provisioningSeconds != 0 {
            throw InputError(
                setting: maxVCPUs != nil ? "maxVcpus" : "provisioningSeconds",
                value: "with \(InputError.mention("queues"))",
                allowed:
                    "only without \(InputError.mention("queues")) (set maxvCpus and provisioningSeconds in the file)")
        }
        let wantsGPUs =
            definition.resources.gpus > 0 || (configuration?.computeEnvironments ?? []).contains { ($0.gpus ?? 0) > 0 }
        if let gpuSlots { try InputError.check(gpuSlots, setting: "gpuSlots", in: 0...64) }
        if let maxVCPUs { try InputError.check(maxVCPUs, setting: "maxVcpus", in: BatchConfiguration.maxVCPUsRange) }
        try InputError.check(
            provisioningSeconds, setting: "provisioningSeconds", in: BatchConfiguration.provisioningRange,
            unit: "seconds")
        try InputError.check(terminateGrace, setting: "terminateGrace", in: 0...3_600, unit: "seconds")
        let logLimitBytes = try logLimit.map { text throws(InputError) in
            try InputError.bytes(text, setting: "logLimit", in: JobLaunch.logLimitRange)
        }
        let gpuDevices =
            gpuSlots.map { Array(0..<$0) }
            ?? (!wantsGPUs ? [] : discoverDevices().devices.filter { $0.info.kind == .gpu }.map(\.info.index))
        let (queues, warnings) = try Self.queues(
            configuration: configuration, name: "default", maxVCPUs: maxVCPUs,
            provisioningSeconds: provisioningSeconds, gpuDevices: gpuDevices, host: host)
        self.init(
            definition: definition, queues: queues, warnings: warnings, gpuSlots: gpuSlots != nil, queue: queue,
            arraySize: arraySize, sequential: sequential, terminateGrace: terminateGrace,
            governsCPUShare: governsCPUShare)
        if let logLimitBytes { self.logLimitBytes = logLimitBytes }
    }

    /// The job queues `capsize serve` offers: those of a configuration file (`BatchConfiguration`), or one queue
    /// `name` over this machine (its cores, its available memory, and `gpuSlots` configured GPU slots or else its
    /// OpenCL GPUs), with what the configuration warned about.
    /// - Throws: `InputError` naming the setting `gpuSlots`, or the place in the file.
    public static func localQueues(file: String?, name: String, gpuSlots: Int?) throws -> (
        queues: [JobQueue], warnings: [String]
    ) {
        let configuration = try file.map { path throws(InputError) in try BatchConfiguration.load(path: path) }
        if let gpuSlots { try InputError.check(gpuSlots, setting: "gpuSlots", in: 0...64) }
        let gpuDevices =
            gpuSlots.map { Array(0..<$0) }
            ?? discoverDevices().devices.filter { $0.info.kind == .gpu }.map(\.info.index)
        return try queues(
            configuration: configuration, name: name, maxVCPUs: nil, provisioningSeconds: 0, gpuDevices: gpuDevices,
            host: HostInfo.current())
    }

    /// A configuration's queues, or one queue `name` over this machine's environment `local`.
    private static func queues(
        configuration: BatchConfiguration?, name: String, maxVCPUs: Double?, provisioningSeconds: Double,
        gpuDevices: [Int], host: HostInfo
    ) throws(InputError) -> ([JobQueue], [String]) {
        let memoryMiB = Int(host.memoryAvailableBytes >> 20)
        if let configuration {
            return try configuration.resolve(cores: host.logicalCores, memoryMiB: memoryMiB, gpuDevices: gpuDevices)
        }
        let environment = ComputeEnvironment(
            name: "local", maxVCPUs: maxVCPUs ?? Double(host.logicalCores), memoryMiB: memoryMiB,
            gpuDevices: gpuDevices, provisioningSeconds: provisioningSeconds)
        return ([JobQueue(name: name, environments: [environment])], [])
    }
}
