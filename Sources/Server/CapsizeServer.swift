import CapsizeCore
public import Execution
import Foundation
import Hummingbird
import Logging
public import Store
public import Studies
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `capsize serve`: the AWS Batch API and the Lambda Invoke API over HTTP, for AWS's own clients (boto3, the AWS
/// CLI) pointed at it with `--endpoint-url`. Batch jobs run on one long-lived local `BatchExecutor`, recorded in a
/// run of kind `serve`; Lambda calls go to a `LambdaFunctions`, when one is given.
public struct CapsizeServer: Sendable {
    /// Where it listens: an address (127.0.0.1 unless the user named another) and a port (0: any free one).
    public var host: String
    public var port: Int
    /// The Batch API's job queues (the first, by priority, is the default's), over this host's compute environments.
    public var queues: [JobQueue]
    public var store: CapsizeStore
    /// What the Invoke API calls; nil: every Lambda route answers ResourceNotFoundException.
    public var functions: (any LambdaFunctions)?
    /// What the run stores (the command's arguments).
    public var parameters: [String]

    public init(
        host: String, port: Int, queues: [JobQueue], store: CapsizeStore, functions: (any LambdaFunctions)?,
        parameters: [String]
    ) {
        self.host = host
        self.port = port
        self.queues = queues
        self.store = store
        self.functions = functions
        self.parameters = parameters
    }

    /// Whether `host` is an address `--listen` takes: IPv4 or IPv6 in numbers, or `localhost` (no name is looked up).
    public static func isAddress(_ host: String) -> Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return host == "localhost" || inet_pton(AF_INET, host, &ipv4) == 1 || inet_pton(AF_INET6, host, &ipv6) == 1
    }

    /// Whether `host` is a loopback address (only this machine's users reach it).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Serves until the task is cancelled (capsize was interrupted): then no new job starts, the jobs in flight are
    /// stopped and stored RUNNABLE again (as `submit`'s are), and the run is marked interrupted when some job had
    /// not ended, finished otherwise.
    /// - Parameter onReady: called once the server listens, with its URL (`http://HOST:PORT`).
    /// - Throws: `StudyFailure` when the sandbox cannot be used here; the server's error when it cannot listen.
    public func run(onReady: @escaping @Sendable (String) -> Void) async throws {
        let sandbox: Sandbox
        do {
            sandbox = try Sandbox()
        } catch {
            throw StudyFailure.failed("\(error)")
        }
        let run = try store.createRun(kind: .serve, parameters: parameters)
        let executor = BatchExecutor(
            queues: queues, runID: run.id, sandbox: sandbox, store: store, outputRoot: store.sibling("jobs"))
        let batch = await BatchService(
            executor: executor, definitions: JobDefinitionFiles(directory: store.sibling("job-definitions")))
        let routes = Routes(batch: batch, functions: functions)
        let router = Router()
        routes.add(to: router)
        // Quiet: its info is said by `onReady`, and a cancelled connection at shutdown is no error here.
        var logger = Logger(label: "capsize.serve")
        logger.logLevel = .critical
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let listening = Atomic(false)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                listening.store(true, ordering: .relaxed)
                onReady("http://\(shownHost):\(channel.localAddress?.port ?? port)")
            },
            logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = await executor.serve() }
                group.addTask { try await application.run() }
                // Whichever ends first (the server on an error, or both at a cancellation) ends the other.
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch  where !Task.isCancelled {
            _ = try? store.markInterrupted(run: run.id, reason: "the server failed: \(error)")
            if !listening.load(ordering: .relaxed) {
                throw StudyFailure.failed("cannot listen on \(shownHost):\(port): \(error)")
            }
            throw error
        }
        let jobs = try store.jobs(run: run.id)
        if jobs.allSatisfy(\.state.isFinal) {
            _ = try store.finish(run: run.id)
        } else {
            _ = try store.markInterrupted(run: run.id, reason: "interrupted: the server was stopped by a signal")
        }
    }
}
