import CapsizeCore
import CloudModel
import Compute
import Execution
import Foundation
import Store
import Workloads

/// A workload run at sizes: its base arguments with the size parameter set per point, on the CPU, every run
/// recorded in run `runID` of `store`.
struct WorkloadPoints: Sendable {
    var workload: any Workload.Type
    var arguments: [String]
    var sizes: SizeList
    var store: CapsizeStore
    var runID: String

    /// The event that runs the workload at `size`.
    func event(size: Double) -> FunctionEvent {
        FunctionEvent(workload: workload.name, arguments: sizes.arguments(arguments, size: size), device: "cpu")
    }

    /// One invocation at `size` in a new execution environment (a cold start) of a function set up as `settings`,
    /// recorded under `itemKey`; its environment runs `workerCommand` (nil: this program's `capsize worker`), which
    /// loads OpenCL at Init only when the workload may use it.
    func invokeCold(size: Double, settings: FunctionSettings, itemKey: String, workerCommand: [String]? = nil)
        async throws -> InvocationOutcome
    {
        var options = FunctionExecutor.Options(workerCommand: workerCommand)
        options.store = store
        options.runID = runID
        options.itemKeyPrefix = itemKey + "/"
        options.workerUsesOpenCL = workload.usesOpenCL(.cpu, gpus: false)
        let executor = try FunctionExecutor(settings: settings, event: event(size: size), options: options)
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        try Task.checkCancellation()  // interrupted: the invocation was killed, not measured
        return outcome
    }
}

/// Runs points as Lambda-model invocations: each repetition in a new execution environment (a cold
/// start, as a one-off job would see), capped at the memory setting and the timeout.
struct FunctionPointRunner: SweepPointRunner {
    var points: WorkloadPoints
    /// The function's timeout, architecture, CPU share and variables; each point runs at its own memory.
    var settings: FunctionSettings
    var workerCommand: [String]?

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        let outcome = try await points.invokeCold(
            size: size, settings: try settings.with(memoryMB: memoryMB), itemKey: itemKey,
            workerCommand: workerCommand)
        let status: SweepSample.Status =
            switch outcome.status {
            case .success: .completed
            case .timeout: .timeout
            case .outOfMemory: .outOfMemory
            case .crash: .crash
            case .error, .throttled: .error
            }
        return SweepSample(
            memoryMB: memoryMB, size: size, repetition: 0, status: status, seconds: outcome.durationMs / 1000,
            peakMB: outcome.sampledPeakMB, initMs: outcome.initDurationMs,
            message: status == .completed
                ? nil : [outcome.errorType, outcome.errorMessage].compactMap { $0 }.joined(separator: ": "),
            phase: .step, startedAt: outcome.startedAt, endedAt: outcome.endedAt)
    }
}

/// Runs points as Batch-model jobs on the local compute environment: the memory setting is the job's
/// hard memory limit (MiB), the timeout its attempt duration; one attempt, no retries.
struct BatchPointRunner: SweepPointRunner {
    var points: WorkloadPoints
    var timeoutSeconds: Int
    var vcpus: Double
    var governsCPUShare: Bool
    /// The job's variables.
    var variables: [String: String] = [:]

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        let (workload, sizes, store) = (points.workload, points.sizes, points.store)
        let host = HostInfo.current()
        let environment = ComputeEnvironment(
            name: "local", maxVCPUs: Double(host.logicalCores), memoryMiB: Int(host.memoryAvailableBytes >> 20))
        let resources = try ResourceRequirements(vcpus: vcpus, memoryMiB: memoryMB, gpus: 0)
        let name = "\(workload.name)-\(sizes.parameter)-\(sizes.text(size))"
        let definition: JobDefinition
        if let command = try sizes.workload(workload, arguments: points.arguments, size: size) as? CommandWorkload {
            // A command job runs the program itself, as `capsize submit -- program` does: no worker around it.
            definition = JobDefinition(
                name: name, argv: command.argv, resources: resources,
                timeoutSeconds: Double(timeoutSeconds), retryStrategy: try RetryStrategy(attempts: 1),
                environment: variables)
        } else {
            definition = .worker(
                name: name, request: .invoke(requestId: itemKey, event: points.event(size: size)),
                usesOpenCL: workload.usesOpenCL(.cpu, gpus: false), resources: resources,
                timeoutSeconds: Double(timeoutSeconds), retryStrategy: try RetryStrategy(attempts: 1),
                environment: variables)
        }
        let executor = BatchExecutor(
            queue: JobQueue(environments: [environment]), runID: points.runID, sandbox: try Sandbox(), store: store,
            outputRoot: store.sibling("jobs"), terminateGrace: 2, governsCPUShare: governsCPUShare)
        let started = Date()
        let id = try await executor.submit(definition)
        let records = await executor.runUntilDone()
        guard let job = records.first(where: { $0.id == id }) else {
            throw StudyFailure.failed("the sweep's job \(id) has no record")
        }
        let status: SweepSample.Status =
            job.state == .succeeded
            ? .completed
            : job.statusReason == StatusReason.timeout
                ? .timeout : job.reason == StatusReason.outOfMemory ? .outOfMemory : .error
        return SweepSample(
            memoryMB: memoryMB, size: size, repetition: 0, status: status, seconds: job.wallSeconds ?? 0,
            peakMB: Double(job.peakRSSBytes ?? 0) / 1_048_576, initMs: nil,
            message: status == .completed ? nil : job.reasons, phase: .step, startedAt: job.runningAt ?? started,
            endedAt: job.stoppedAt ?? Date())
    }
}

/// Stands in for an executor when a finished run is analysed again: every sample must have been recorded.
struct RecordedOnlyRunner: SweepPointRunner {
    var run: String

    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample {
        throw StudyFailure.unrecorded(run: run, item: itemKey)
    }
}
