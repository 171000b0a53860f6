import ArgumentParser
import CapsizeCore
import Foundation
import Server
import Studies

/// `capsize serve [--port PORT] [--listen ADDRESS]`: the AWS Batch API and the Lambda Invoke API over HTTP, for
/// AWS's own clients pointed at it with `--endpoint-url`, until a signal stops it.
struct ServeCommand: InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the AWS Batch API and the Lambda Invoke API here, for boto3 and the AWS CLI (--endpoint-url).",
        discussion: """
            Batch (REST-JSON, POST /v1/...): RegisterJobDefinition, DescribeJobDefinitions, DeregisterJobDefinition, \
            SubmitJob (arrays, dependencies, retryStrategy, resourceRequirements, timeout, Ref:: parameters), \
            DescribeJobs, ListJobs, CancelJob, TerminateJob, DescribeJobQueues, DescribeComputeEnvironments. Jobs run \
            in capsize's sandbox on this host, in queue `capsize-default` over this machine's cores, memory and GPUs \
            (or the queues of --queues FILE, as `capsize submit` reads it); a job definition's image is recorded and \
            shown, never pulled. Lambda: Invoke, ListFunctions, GetFunction, for the functions `capsize function create` \
            defined, run under their caps in environments kept warm between calls; --watch and --schedule invoke \
            them as S3 and EventBridge would. Signatures are not checked: the server \
            listens on 127.0.0.1 unless --listen names another address. Jobs are stored in a run of kind `serve`: \
            `capsize jobs`, `capsize logs JOB`. Example:
              capsize serve --port 9001 &
              aws batch describe-job-queues --endpoint-url http://127.0.0.1:9001
              capsize serve --watch thumbnail=./inbox --schedule 'report=rate(5 minutes)'
            """)

    @Option(help: "The port to listen on (0: any free one; the URL printed says which).") var port: Int = 9001
    @Option(
        help: ArgumentHelp(
            "The address to listen on (default 127.0.0.1). Another one lets whoever reaches it run commands as you.",
            valueName: "ADDRESS"))
    var listen: String?
    @Option(
        help: ArgumentHelp(
            "Job queues and compute environments (JSON, as `capsize submit --queues`).", valueName: "FILE"))
    var queues: String?
    @Option(
        parsing: .unconditional,
        help: "Configured GPU slots for scheduling without real GPUs (default: the OpenCL GPUs).")
    var gpuSlots: Int?
    @OptionGroup var triggerOptions: TriggerOptions

    func run() async throws {
        try InputError.check(port, setting: "port", in: 0...65_535)
        let host = listen ?? "127.0.0.1"
        guard CapsizeServer.isAddress(host) else {
            throw InputError(
                setting: "listen", value: host,
                allowed: "an IPv4 or IPv6 address (127.0.0.1, ::1, 0.0.0.0) or localhost")
        }
        let (queues, warnings) = try SubmitRequest.localQueues(
            file: queues, name: "capsize-default", gpuSlots: gpuSlots)
        let functions = FunctionStore()
        let triggers = try triggerOptions.triggers(functions: functions)
        let store = try openStore()
        for warning in warnings { notice(warning) }
        if !CapsizeServer.isLoopback(host) {
            FileHandle.standardError.write(
                Data(
                    ("warning: capsize serve listens on \(host), NOT ON LOOPBACK. It checks no signature and no "
                        + "password: anyone who can reach \(host):\(port) can run any command as this user.\n").utf8))
        }
        let service = FunctionService(functions: functions, store: store)
        let runner = try TriggerRunner(triggers: triggers, functions: service) { say(TriggerOptions.describe($0)) }
        let server = CapsizeServer(
            host: host, port: port, queues: queues, store: store, functions: service,
            parameters: ownArguments(after: "serve"))
        let events = Task { await runner.run() }
        do {
            try await server.run { url in
                say("capsize serve: listening on \(url) (AWS Batch and Lambda APIs; Ctrl-C stops it)")
            }
        } catch {
            events.cancel()
            await service.shutdown()
            throw error
        }
        events.cancel()
        await events.value
        await service.shutdown()
        FileHandle.standardError.write(Data("capsize serve: stopped\n".utf8))
    }
}
