import CapsizeCore
import ArgumentParser
import Compute
import Execution
import Foundation
import Studies
import Workloads

/// `capsize worker`: the process inside an execution environment (Lambda model) or a job (Batch
/// model). It performs Init once (BLAS warm-up, OpenCL discovery), then reads invocation events
/// as JSON lines on stdin and answers each with one JSON line on stdout, keeping prepared
/// workloads (contexts, programs, buffers, data) warm between invocations.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Host workloads for the executors (JSON lines on stdin and stdout).",
        shouldDisplay: false)

    @Option(help: "Read OpenCL kernels from this directory instead of the copies inside the binary.")
    var kernels: String?

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let initStep = WorkerInit.perform()
        var worker = Worker(devices: initStep.devices, kernels: kernels)
        emit(WorkerReply.initialized(seconds: (clock.now - start).seconds, devices: initStep.devices.map(\.info), notice: initStep.notice))
        while let line = readLine(strippingNewline: true) {
            if line.isEmpty { continue }
            emit(worker.handle(line))
        }
    }

    private func emit(_ reply: WorkerReply) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = (try? encoder.encode(reply)) ?? Data(#"{"event":"result","status":"error","errorType":"Runtime.EncodingError"}"#.utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// One invocation event: which workload, its parameters as command-line words, and the device.
struct InvocationEvent: Codable, Sendable {
    var requestId: String
    var workload: String
    var arguments: [String]
    var device: String

    init(requestId: String, workload: String, arguments: [String] = [], device: String = "auto") {
        self.requestId = requestId
        self.workload = workload
        self.arguments = arguments
        self.device = device
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requestId = try c.decode(String.self, forKey: .requestId)
        workload = try c.decode(String.self, forKey: .workload)
        arguments = try c.decodeIfPresent([String].self, forKey: .arguments) ?? []
        device = try c.decodeIfPresent(String.self, forKey: .device) ?? "auto"
    }
}

/// One line the worker writes.
struct WorkerReply: Encodable {
    var event: String
    var requestId: String?
    var status: String?
    var errorType: String?
    var errorMessage: String?
    /// Init: seconds from process start to ready; result: seconds spent preparing (0 when warm).
    var initSeconds: Double?
    var prepareSeconds: Double?
    var warm: Bool?
    var device: String?
    var result: RunResult?
    var devices: [DeviceInfo]?
    var notice: String?

    static func initialized(seconds: Double, devices: [DeviceInfo], notice: String?) -> WorkerReply {
        WorkerReply(event: "init", initSeconds: seconds, devices: devices, notice: notice)
    }

    static func failure(_ requestId: String?, type: String, message: String) -> WorkerReply {
        WorkerReply(event: "result", requestId: requestId, status: "error", errorType: type, errorMessage: message)
    }
}

/// What Init does before the first invocation: the costs a cold start pays once.
enum WorkerInit {
    static func perform() -> (devices: [OpenCLDevice], notice: String?) {
        // Touch OpenBLAS so that its thread pool starts now, not inside the first invocation.
        var a: [Float] = [1, 2, 3, 4]
        var c: [Float] = [0, 0, 0, 0]
        a.withUnsafeMutableBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(m: 2, n: 2, k: 2, a: a.baseAddress!, lda: 2, b: a.baseAddress!, ldb: 2, c: c.baseAddress!, ldc: 2)
            }
        }
        // A function or job whose workload never needs OpenCL (OpenBLAS, a command) does not load the drivers:
        // PoCL alone adds ~30 ms to Init and ~60 MB to the memory the environment is charged for.
        let environment = ProcessInfo.processInfo.environment
        if FunctionExecutor.workerWithoutOpenCL.allSatisfy({ environment[$0.key] == $0.value }) { return ([], nil) }
        let (devices, notice) = discoverDevices()
        return (devices, notice)
    }
}

/// The worker's state: prepared workloads kept warm, keyed by workload, parameters and device.
struct Worker {
    let devices: [OpenCLDevice]
    let kernels: String?
    private var prepared: [String: (any PreparedWorkload, ExecutionTarget)] = [:]

    init(devices: [OpenCLDevice], kernels: String?) {
        self.devices = devices
        self.kernels = kernels
    }

    mutating func handle(_ line: String) -> WorkerReply {
        guard let event = try? JSONDecoder().decode(InvocationEvent.self, from: Data(line.utf8)) else {
            return .failure(nil, type: "Runtime.InvalidEvent", message: "not an invocation event: \(line.prefix(200))")
        }
        do {
            let key = ([event.workload, event.device] + event.arguments).joined(separator: "\u{1F}")
            let clock = ContinuousClock()
            let start = clock.now
            let warm = prepared[key] != nil
            if !warm {
                let type = try WorkloadCatalog.named(event.workload)
                let values = try ParameterValues(arguments: event.arguments, specs: type.parameters)
                let workload = try type.init(parameters: values)
                let target = try workload.resolve(try DeviceSelector(parsing: event.device), devices: devices)
                prepared[key] = (try workload.prepare(on: target, options: RunOptions(kernelsDirectory: kernels)), target)
            }
            let prepareSeconds = (clock.now - start).seconds
            let (workload, target) = prepared[key]!
            let result = try workload.run()
            let failed = (result.metrics["exit_code"] ?? 0) != 0
            return WorkerReply(
                event: "result", requestId: event.requestId, status: failed ? "error" : "success",
                errorType: failed ? "Runtime.ExitError" : nil, errorMessage: failed ? result.notes.joined(separator: "; ") : nil,
                prepareSeconds: prepareSeconds, warm: warm, device: target.label, result: result)
        } catch let error as InputError {
            return .failure(event.requestId, type: "InvalidParameterValueException", message: error.namingFlags.description)
        } catch {
            return .failure(event.requestId, type: "Runtime.Error", message: "\(error)")
        }
    }
}
