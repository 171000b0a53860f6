import ArgumentParser
import CapsizeCore
import Compute
import Execution
import Foundation
import Studies
import Workloads

/// `capsize worker`: the process inside an execution environment (Lambda model) or a job (Batch model). It performs
/// Init once (BLAS warm-up, OpenCL discovery), then answers requests (`WorkerProtocol`), keeping prepared workloads
/// (contexts, programs, buffers, data) warm between invocations. In an execution environment it speaks the Lambda
/// Runtime API (`AWS_LAMBDA_RUNTIME_API`), as a user's own runtime does; in a Batch job, which is a command, it reads
/// its request on stdin and writes its answer as the last line of stdout.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: WorkerProtocol.subcommand,
        abstract: "Host workloads for the executors (the Lambda Runtime API, or a request on stdin).",
        shouldDisplay: false)

    @Option(help: "Read OpenCL kernels from this directory instead of the copies inside the binary.")
    var kernels: String?

    /// The kernels' folder: one that exists, checked before Init.
    static func checkFolder(_ path: String) throws(InputError) -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw InputError(setting: "kernels", value: path, allowed: "a folder of OpenCL kernel sources")
        }
        return path
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let initStep = WorkerInit.perform()
        var worker = Worker(
            devices: initStep.devices,
            options: RunOptions(kernelsDirectory: try kernels.map(Self.checkFolder), calibration: calibrationInNotes)
        ) { $0.namingFlags.description }
        if let address = ProcessInfo.processInfo.environment["AWS_LAMBDA_RUNTIME_API"] {
            do throws(RuntimeAPIClient.Failure) {
                try worker.serve(runtimeAPI: address)
            } catch {
                FileHandle.standardError.write(Data("capsize worker: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        emit(
            .ready(
                .init(
                    initSeconds: (clock.now - start).seconds, devices: initStep.devices.map(\.info),
                    notice: initStep.notice)))
        while let line = readLine(strippingNewline: true) {
            if line.isEmpty { continue }
            emit(.answer(worker.handle(Data(line.utf8))))
        }
    }

    private func emit(_ reply: WorkerReply) {
        FileHandle.standardOutput.write(reply.encoded() + Data("\n".utf8))
    }
}
