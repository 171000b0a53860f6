public import CapsizeCore
public import Compute
public import Execution
public import Foundation
public import Workloads

/// What Init does before the first invocation: the costs a cold start pays once.
public enum WorkerInit {
    public static func perform() -> (devices: [OpenCLDevice], notice: String?) {
        // Touch OpenBLAS so that its thread pool starts now, not inside the first invocation.
        var a: [Float] = [1, 2, 3, 4]
        var c: [Float] = [0, 0, 0, 0]
        a.withUnsafeMutableBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                BLAS.sgemm(
                    m: 2, n: 2, k: 2, a: a.baseAddress!, lda: 2, b: a.baseAddress!, ldb: 2, c: c.baseAddress!, ldc: 2)
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
public struct Worker {
    let devices: [OpenCLDevice]
    let options: RunOptions
    /// How a bad parameter is said in the answer (the CLI names settings by their flags).
    let describe: (InputError) -> String
    private var prepared: [String: (any PreparedWorkload, ExecutionTarget)] = [:]

    /// - Parameters:
    ///   - devices: the OpenCL devices Init found.
    ///   - options: what every run is prepared with (a directory of OpenCL kernels to use instead of the embedded
    ///     ones, how the calibration is named).
    ///   - describe: the text of a bad-parameter answer.
    public init(
        devices: [OpenCLDevice], options: RunOptions = RunOptions(),
        describe: @escaping (InputError) -> String = \.description
    ) {
        self.devices = devices
        self.options = options
        self.describe = describe
    }

    /// Serves invocations through the Lambda Runtime API at `address` (`AWS_LAMBDA_RUNTIME_API`) until its
    /// environment ends: each event is a request, each answer posted as its response, or as its error when it failed
    /// (the answer is then the error document: its `errorType` and `errorMessage` are Lambda's fields).
    /// - Throws: `RuntimeAPIClient.Failure` when the API cannot be reached or answers what it should not.
    public mutating func serve(runtimeAPI address: String) throws(RuntimeAPIClient.Failure) {
        var client = try RuntimeAPIClient(address: address)
        while true {
            let invocation = try client.next()
            let answer = handle(invocation.body)
            let body = WorkerReply.answer(answer).encoded()
            if answer.status == .success {
                try client.respond(to: invocation.requestId, body)
            } else {
                try client.fail(invocation.requestId, errorType: answer.errorType ?? "Runtime.Error", body)
            }
        }
    }

    /// Answers one request (a line, or a Runtime API event): runs its workload (prepared once per workload,
    /// parameters and device, then warm).
    public mutating func handle(_ request: Data) -> WorkerReply.Answer {
        let requestId: String
        let event: FunctionEvent
        do throws(WorkerProtocolError) {
            switch try WorkerRequest.decode(request) {
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
                prepared[key] = (
                    try workload.prepare(on: target, options: options), target
                )
            }
            let prepareSeconds = (clock.now - start).seconds
            let (workload, target) = prepared[key]!
            let result = try workload.run(input: event.payload.map { Data($0.utf8) })
            let failed = (result.metrics["exit_code"] ?? 0) != 0
            return WorkerReply.Answer(
                requestId: requestId, status: failed ? .error : .success,
                errorType: failed ? "Runtime.ExitError" : nil,
                errorMessage: failed ? result.notes.joined(separator: "; ") : nil,
                prepareSeconds: prepareSeconds, warm: warm, device: target.label, result: result)
        } catch let error as InputError {
            return .failure(requestId, type: "InvalidParameterValueException", message: describe(error))
        } catch {
            return .failure(requestId, type: "Runtime.Error", message: "\(error)")
        }
    }
}
