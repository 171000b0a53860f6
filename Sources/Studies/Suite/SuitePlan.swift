public import CapsizeCore
public import Compute
public import Execution
import Foundation
import Workloads

/// One study of a suite: a bench on one device, invocations at one memory size, a batch job (array), a sweep, a caps
/// study or a recommendation, with the request the existing commands would build for it.
public struct SuiteStep {
    public enum Work {
        case bench(BenchRequest)
        case invoke(InvokeRequest)
        case batch(SubmitRequest)
        /// A batch job on a backend other than this machine's executor (Slurm).
        case backend(BatchJob, BatchBackendKind)
        case sweep(SweepRequest)
        case caps(SweepRequest, timeout: Int)
        /// A recommendation, its deployment files written beside the report when `export`.
        case recommend(RecommendRequest, export: Bool)
    }

    /// The item's key in the suite's run: `b2/invoke/1769`, stable between a run and its resume.
    public var key: String
    /// The benchmark's index in the suite.
    public var benchmark: Int
    public var kind: SuiteStepResult.Kind
    /// What distinguishes it among the benchmark's steps: a device, a memory size.
    public var label: String
    /// What the plan decided for it and the report should say (a PoCL device standing in for a GPU).
    public var notes: [String] = []
    /// In a GPU-vs-CPU pair: which side.
    public var side: SuiteStepResult.Side?
    public var work: Work
}

/// A suite's steps, in order, each request built and checked as its command would, before anything runs.
public struct SuitePlan {
    public var suite: Suite
    public var steps: [SuiteStep]

    /// - Parameters:
    ///   - devices: the OpenCL devices found (a GPU-vs-CPU pair needs one; PoCL stands in for a GPU).
    ///   - backend: where batch benchmarks run.
    /// - Throws: `InputError` at the place in the suite of the first value a command would refuse.
    public init(_ suite: Suite, devices: [DeviceInfo], backend: BatchBackendKind) throws(InputError) {
        self.suite = suite
        steps = []
        for (index, benchmark) in suite.benchmarks.enumerated() {
            do {
                steps += try Self.steps(benchmark, index: index, devices: devices, backend: backend)
            } catch {
                throw suite.places.error(error, benchmark: index)
            }
        }
    }

    /// The GPU side of a pair: the first GPU, else the first OpenCL device (PoCL on the CPU), said so.
    static func gpuSide(_ devices: [DeviceInfo]) -> (device: String, note: String)? {
        if let gpu = devices.first(where: { $0.kind == .gpu }) {
            return ("opencl:\(gpu.index)", "GPU: \(gpu.name) (opencl:\(gpu.index))")
        }
        guard let device = devices.first else { return nil }
        return (
            "opencl:\(device.index)",
            "no GPU on this machine: the OpenCL CPU device \(device.name) (\(device.platform), opencl:\(device.index)) "
                + "stands in for one"
        )
    }

    static func steps(
        _ benchmark: SuiteBenchmark, index: Int, devices: [DeviceInfo], backend: BatchBackendKind
    ) throws(InputError) -> [SuiteStep] {
        let base = "b\(index)"
        var steps: [SuiteStep] = []
        let words = benchmark.parameters
        let memoryList = benchmark.memory.map(String.init).joined(separator: ",")
        try InputError.check(benchmark.repeats, setting: "repeat", in: 1...10_000)
        switch benchmark.executor {
        case .bench:
            var devicesToRun = benchmark.devices.map { ($0, SuiteStepResult.Side?.none, [String]()) }
            if benchmark.gpuVsCPU {
                let type = try WorkloadCatalog.named(benchmark.workload)
                let cpu = type.usesOpenCL(.cpu, gpus: false) ? "native" : "cpu"
                devicesToRun = [(cpu, .cpu, ["CPU: \(cpu == "native" ? "native Swift code" : "OpenBLAS")"])]
                if let gpu = gpuSide(devices) {
                    devicesToRun.append((gpu.device, .gpu, [gpu.note]))
                } else {
                    devicesToRun[0].2.append("no OpenCL device on this machine: no GPU side to compare with")
                }
            }
            for (number, (device, side, notes)) in devicesToRun.enumerated() {
                let request = try catchingAny {
                    try BenchRequest(
                        workload: benchmark.workload, parameters: words, device: device, repeats: benchmark.repeats,
                        warmup: benchmark.warmup, options: RunOptions(calibration: "devices --calibrate"))
                }
                steps.append(
                    SuiteStep(
                        key: "\(base)/bench/\(number)", benchmark: index, kind: .bench, label: device, notes: notes,
                        side: side, work: .bench(request)))
            }
        case .function:
            for memory in benchmark.memory {
                let request = try catchingAny {
                    try InvokeRequest(
                        workload: benchmark.workload, parameters: words, memory: memory, timeout: benchmark.timeout,
                        ephemeralStorage: 512, architecture: "x86_64", reservedConcurrency: nil, device: "auto",
                        payload: nil, count: benchmark.repeats, concurrency: 1, asynchronous: false, retries: 2,
                        maximumEventAge: 21_600, retryDelays: "60,120", idleTimeout: 60, deadLetterDirectory: nil,
                        variables: UserVariables(), governsCPUShare: true)
                }
                steps.append(
                    SuiteStep(
                        key: "\(base)/invoke/\(memory)", benchmark: index, kind: .invoke, label: "\(memory) MB",
                        work: .invoke(request)))
            }
        case .batch:
            let jobWords =
                benchmark.workload == "command"
                ? Array(words.drop { $0 != "--" }.dropFirst()) : [benchmark.workload] + words
            for memory in benchmark.memory {
                let work = try catchingAny { () throws -> SuiteStep.Work in
                    let definition = try JobDefinition(
                        words: jobWords, name: nil, vcpus: 1, memoryMiB: memory, gpus: 0,
                        timeoutSeconds: Double(benchmark.timeout), attempts: 1, evaluateOnExit: [],
                        variables: UserVariables(), shareIdentifier: nil)
                    let arraySize = benchmark.repeats >= 2 ? benchmark.repeats : nil
                    if backend != .local {
                        return .backend(BatchJob(definition: definition, arraySize: arraySize), backend)
                    }
                    return .batch(
                        try SubmitRequest(
                            definition: definition, queuesFile: nil, maxVCPUs: nil, provisioningSeconds: 0,
                            gpuSlots: nil, queue: nil, arraySize: arraySize, sequential: arraySize != nil,
                            terminateGrace: 30, governsCPUShare: true))
                }
                steps.append(
                    SuiteStep(
                        key: "\(base)/batch/\(memory)", benchmark: index, kind: .batch, label: "\(memory) MiB",
                        work: work))
            }
        }
        if let sweep = benchmark.sweep {
            let request = try SweepRequest(
                workload: benchmark.workload, parameters: words, sizes: "\(sweep.param)=\(sweep.values)",
                memoryList: memoryList, repeats: 1, executor: benchmark.executor == .batch ? .batch : .function,
                timeout: benchmark.timeout, vcpus: 1, architecture: "x86_64", governsCPUShare: true,
                variables: UserVariables())
            steps.append(
                SuiteStep(key: "\(base)/sweep", benchmark: index, kind: .sweep, label: "sweep", work: .sweep(request)))
        }
        if let caps = benchmark.caps {
            let study = CapsRequest(
                workload: benchmark.workload, parameters: words, sizes: caps.sizes, memoryList: memoryList,
                onlyListed: true, timeout: caps.timeout, timeCapScale: caps.timeCapScale, repeats: 1,
                refine: caps.refine, architecture: "x86_64", governsCPUShare: true)
            steps.append(
                SuiteStep(
                    key: "\(base)/caps", benchmark: index, kind: .caps, label: "caps",
                    work: .caps(try study.sweep(), timeout: caps.timeout)))
        }
        if let recommend = benchmark.recommend {
            var sized = words
            if let size = recommend.size {
                // The benchmark's own size word replaced (words are `--name=value`, see `SuiteReader`).
                let name = "--" + (try WorkloadCatalog.named(benchmark.workload)).sizeParameter
                let end = sized.firstIndex(of: "--") ?? sized.endIndex
                if let at = sized[..<end].firstIndex(where: { $0.hasPrefix(name + "=") }) { sized.remove(at: at) }
                sized.insert(name + "=" + size, at: sized.firstIndex(of: "--") ?? sized.endIndex)
            }
            let request = try RecommendRequest(
                workload: benchmark.workload, parameters: sized, runs: recommend.runs, strategy: recommend.strategy,
                memoryList: recommend.memory?.map(String.init).joined(separator: ","), architectures: "x86_64,arm64",
                prices: nil, export: nil, exportOption: nil, governsCPUShare: true, variables: UserVariables())
            steps.append(
                SuiteStep(
                    key: "\(base)/recommend", benchmark: index, kind: .recommend, label: "recommend",
                    work: .recommend(request, export: recommend.export)))
        }
        return steps
    }

    /// Runs a request's initialiser that is declared `throws`, keeping its `InputError` and turning anything else
    /// into one about the benchmark.
    static func catchingAny<T>(_ body: () throws -> T) throws(InputError) -> T {
        do {
            return try body()
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(field: "benchmark", value: "", allowed: "a benchmark the commands accept (\(error))")
        }
    }
}
