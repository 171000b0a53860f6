import CapsizeCore
import ArgumentParser
import Compute
import Execution
import Foundation
import Studies
import Workloads

/// `capsize worker`: the process inside an execution environment (Lambda model) or a job (Batch
/// model). It performs Init once (BLAS warm-up, OpenCL discovery), then reads requests on stdin and
/// answers each with one reply on stdout (`WorkerProtocol`), keeping prepared workloads (contexts,
/// programs, buffers, data) warm between invocations.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: WorkerProtocol.subcommand, abstract: "Host workloads for the executors (JSON lines on stdin and stdout).",
        shouldDisplay: false)

    @Option(help: "Read OpenCL kernels from this directory instead of the copies inside the binary.")
    var kernels: String?

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let initStep = WorkerInit.perform()
        var worker = Worker(devices: initStep.devices, kernels: kernels)
        emit(.ready(.init(initSeconds: (clock.now - start).seconds, devices: initStep.devices.map(\.info), notice: initStep.notice)))
        while let line = readLine(strippingNewline: true) {
            if line.isEmpty { continue }
            emit(.answer(worker.handle(line)))
        }
    }

    private func emit(_ reply: WorkerReply) {
        FileHandle.standardOutput.write(reply.encoded() + Data("\n".utf8))
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
        if !WorkerProtocol.loadsOpenCL(ProcessInfo.processInfo.environment) { return ([], nil) }
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

    mutating func handle(_ line: String) -> WorkerReply.Answer {
        let requestId: String
        let event: FunctionEvent
        do throws(WorkerProtocolError) {
            switch try WorkerRequest.decode(Data(line.utf8)) {
            case .invoke(let id, let invoked):
                requestId = id
                event = invoked
            }
        } catch {
            return .failure(nil, type: "Runtime.InvalidEvent", message: error.description)
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
            return WorkerReply.Answer(
                requestId: requestId, status: failed ? .error : .success,
                errorType: failed ? "Runtime.ExitError" : nil, errorMessage: failed ? result.notes.joined(separator: "; ") : nil,
                prepareSeconds: prepareSeconds, warm: warm, device: target.label, result: result)
        } catch let error as InputError {
            return .failure(requestId, type: "InvalidParameterValueException", message: error.namingFlags.description)
        } catch {
            return .failure(requestId, type: "Runtime.Error", message: "\(error)")
        }
    }
}
