import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An invocation as the Runtime API hands it to a runtime's `GET /runtime/invocation/next`.
struct RuntimeInvocation: Sendable {
    var requestId: String
    /// The event, the answer's body.
    var body: Data
    /// When the invocation times out, milliseconds since the epoch (`Lambda-Runtime-Deadline-Ms`).
    var deadlineMs: Int64
    var functionARN: String
    /// `Lambda-Runtime-Trace-Id` (X-Ray's `Root=…;Parent=…;Sampled=0`).
    var traceId: String
    var clientContext: String? = nil
    var cognitoIdentity: String? = nil

    /// An X-Ray trace header of the shape Lambda sends.
    static func newTraceId(at date: Date = Date()) -> String {
        // Three random words, not a random draw per digit (a system call each).
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        let seconds = String(UInt32(truncatingIfNeeded: Int(date.timeIntervalSince1970)), radix: 16)
        let trace =
            hex(UInt64.random(in: 0...UInt64.max) >> 32, digits: 8) + hex(.random(in: 0...UInt64.max), digits: 16)
        return "Root=1-\(seconds)-\(trace);Parent=\(hex(.random(in: 0...UInt64.max), digits: 16));Sampled=0"
    }
}

/// What a runtime said through the Runtime API that its environment's owner acts on.
enum RuntimeAPIEvent: Equatable {
    /// Its first `GET /next`: Init is over.
    case ready
    /// `POST /invocation/{id}/response`.
    case response(requestId: String, body: [UInt8])
    /// `POST /invocation/{id}/error`, with the error type it named (the body's `errorType`, else the header).
    case error(requestId: String, errorType: String, errorMessage: String, body: [UInt8])
    /// `POST /init/error`.
    case initError(errorType: String, errorMessage: String, body: [UInt8])
    /// A response longer than Lambda's limit, answered 413: the invocation fails with `Function.ResponseSizeTooLarge`.
    case responseTooLarge(requestId: String, bytes: Int)
}

/// The server side of the Lambda Runtime API (2018-06-01) for one execution environment, on 127.0.0.1 at a port of
/// its own: the runtime long-polls `GET /2018-06-01/runtime/invocation/next` for each event and posts the answer to
/// `/invocation/{id}/response` or `/error`, or an Init failure to `/init/error` (docs/aws-reference.md).
///
/// Not thread-safe: only the environment's supervising thread touches it, from its `ppoll` loop (`descriptors`, then
/// `handle` for each ready one). Non-blocking throughout; the runtime is user code, so each connection's bytes are
/// bounded (`HTTPRequestParser`), a bad request is answered 400 and its connection closed, at most
/// `connectionLimit` connections are kept, and only one of them at a time may send a body over `smallBodyLimit`: what
/// a hostile runtime can make capsize hold is one response (6 MB) and 16 small ones, not 16 responses.
final class RuntimeAPIServer {
    static let prefix = "/2018-06-01/runtime/"
    /// Connections kept open at once; more are closed as soon as they are accepted.
    static let connectionLimit = 16
    /// The largest body a connection may send while another sends a larger one (an error document fits).
    static let smallBodyLimit = 64 * 1024

    final class Connection {
        let fd: Int32
        var parser: HTTPRequestParser
        var output: [UInt8] = []
        /// Closed once `output` is written (a refused request, or `Connection: close`).
        var closing = false
        /// A `GET /next` waits on it for an event.
        var waitsForNext = false
        /// That `GET /next` asked for `Connection: close`.
        var closesAfterNext = false

        init(fd: Int32, parser: HTTPRequestParser) {
            self.fd = fd
            self.parser = parser
        }
    }

    private(set) var listener: Int32
    let port: UInt16
    let responseLimit: Int
    private(set) var connections: [Int32: Connection] = [:]
    /// Connections whose `GET /next` waits, the first first.
    private var waiting: [Int32] = []
    /// An event no `GET /next` has taken yet.
    private var queued: RuntimeInvocation?
    /// The request id handed to the runtime and not yet answered.
    private(set) var current: String?
    /// Whether the runtime has asked for its first event (Init is over), or reported an Init failure.
    private(set) var initialized = false
    /// The connection whose POST may send up to `responseLimit` bytes now (nil: none has claimed it).
    private var largeBodyReader: Int32?
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    /// - Parameter responseLimit: the longest response a runtime may post (Lambda: 6 MB); longer ones get 413.
    /// - Throws: `SystemCallError` when no socket can be opened on 127.0.0.1.
    init(responseLimit: Int) throws(SystemCallError) {
        (listener, port) = try Posix.listenOnLoopback()
        self.responseLimit = responseLimit
    }

    deinit { closeAll() }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    var address: String { "127.0.0.1:\(port)" }

    /// What to wait for: the listening socket's connections, each connection's bytes and, while it has bytes to
    /// write, its room for them.
    func descriptors() -> [(fd: Int32, events: Int16)] {
        var list: [(fd: Int32, events: Int16)] = []
        if listener >= 0 { list.append((listener, Int16(POLLIN))) }
        for connection in connections.values {
            var events = Int16(POLLIN)
            if !connection.output.isEmpty { events |= Int16(POLLOUT) }
            if connection.closing { events = connection.output.isEmpty ? 0 : Int16(POLLOUT) }
            list.append((connection.fd, events))
        }
        return list
    }

    /// Whether the runtime waits on a `GET /next` (it is done with the last event).
    var waitsForNext: Bool { waiting.contains { connections[$0]?.waitsForNext == true } }

    /// Whether `fd` is one of the server's.
    func owns(_ fd: Int32) -> Bool { fd == listener || connections[fd] != nil }

    /// Takes what is ready on `fd` and answers what can be answered now.
    /// - Returns: what the runtime said that its owner acts on, in order.
    func handle(_ fd: Int32, events: Int16) -> [RuntimeAPIEvent] {
        if fd == listener {
            acceptAll()
            return []
        }
        guard let connection = connections[fd] else { return [] }
        var said: [RuntimeAPIEvent] = []
        if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !connection.closing {
            said = read(connection)
        }
        flush(connection)
        return said
    }

    /// Hands `invocation` to the runtime: to a waiting `GET /next` now, or to the next one.
    func enqueue(_ invocation: RuntimeInvocation) {
        queued = invocation
        current = invocation.requestId
        dispatch()
    }

    /// Forgets the event handed out (its invocation ended without an answer: a timeout kills the environment).
    func abandon() {
        queued = nil
        current = nil
    }

    func closeAll() {
        for fd in Array(connections.keys) { drop(fd) }
        Posix.close(&listener)
    }

    // MARK: Connections

    private func acceptAll() {
        while let fd = try? Posix.accept(listener) {
            guard connections.count < Self.connectionLimit else {
                var extra = fd
                Posix.close(&extra)
                continue
            }
            connections[fd] = Connection(
                fd: fd,
                parser: HTTPRequestParser { [unowned self] method, _ in
                    guard method == "POST" else { return 0 }
                    guard largeBodyReader == nil || largeBodyReader == fd else { return Self.smallBodyLimit }
                    largeBodyReader = fd
                    return responseLimit
                })
        }
    }

    private func read(_ connection: Connection) -> [RuntimeAPIEvent] {
        var said: [RuntimeAPIEvent] = []
        while !connection.closing {
            let result = chunk.withUnsafeMutableBytes { try? Posix.read(connection.fd, into: $0) }
            switch result {
            case .bytes(let count):
                connection.parser.feed(chunk[..<count])
                said += serve(connection)
            case .wouldBlock:
                return said
            case .end, nil:
                drop(connection.fd)
                return said
            }
        }
        return said
    }

    /// Answers every complete request the connection holds.
    private func serve(_ connection: Connection) -> [RuntimeAPIEvent] {
        var said: [RuntimeAPIEvent] = []
        while !connection.closing {
            let outcome = connection.parser.next()
            let readsLargeBody = largeBodyReader == connection.fd
            // Its request is read (or refused): another connection may send a large body.
            if readsLargeBody && outcome.isFinal { largeBodyReader = nil }
            switch outcome {
            case .incomplete:
                return said
            case .wantsContinue:
                connection.output += Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            case .bad(413, _, _) where !readsLargeBody && largeBodyReader != nil:
                // Over the small limit while another connection sends its body: refused, the invocation goes on.
                respond(
                    connection,
                    .error(
                        400, type: "InvalidRequest",
                        message: "another connection is sending a body; send one at a time",
                        closes: true))
                return said
            case .bad(let status, let message, let target):
                if status == 413, let id = responseRequestId(target), id == current {
                    current = nil
                    said.append(.responseTooLarge(requestId: id, bytes: 0))
                    respond(
                        connection,
                        .error(
                            413, type: "RequestEntityTooLarge",
                            message: "Exceeded maximum allowed payload size (\(responseLimit) bytes).", closes: true))
                } else {
                    respond(connection, .error(status, type: "InvalidRequest", message: message, closes: true))
                }
                return said
            case .request(let request):
                if let event = route(request, on: connection) { said.append(event) }
            }
        }
        return said
    }

    /// The request id of a `POST …/invocation/{id}/response` target.
    private func responseRequestId(_ target: String?) -> String? {
        guard let target, let path = Self.path(target), path.count == 3, path[0] == "invocation",
            path[2] == "response"
        else { return nil }
        return path[1]
    }

    /// The target's segments after `/2018-06-01/runtime/`; nil for any other target.
    private static func path(_ target: String) -> [String]? {
        let withoutQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard withoutQuery.hasPrefix(prefix) else { return nil }
        return withoutQuery.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(
            String.init)
    }

    private func route(_ request: HTTPRequest, on connection: Connection) -> RuntimeAPIEvent? {
        let closes = !request.keepAlive
        // A request pipelined behind a waiting `GET /next` would be answered before it: refused, as HTTP/1.1 answers
        // in order (and a flood of them cannot pile up).
        guard !connection.waitsForNext else {
            connection.waitsForNext = false
            waiting.removeAll { $0 == connection.fd }
            respond(
                connection,
                .error(400, type: "InvalidRequest", message: "a request sent while GET /next waits", closes: true))
            return nil
        }
        guard let path = Self.path(request.target) else {
            respond(connection, .error(404, type: "NotFound", message: "No such endpoint", closes: closes))
            return nil
        }
        switch (request.method, path.count, path.first) {
        case ("GET", 2, "invocation") where path[1] == "next":
            connection.waitsForNext = true
            connection.closesAfterNext = closes
            waiting.append(connection.fd)
            let first = !initialized
            initialized = true
            dispatch()
            return first ? .ready : nil
        case ("POST", 3, "invocation") where path[2] == "response" || path[2] == "error":
            let id = path[1]
            guard id == current, queued == nil else {
                respond(
                    connection, .error(400, type: "InvalidRequestID", message: "Invalid request ID", closes: closes))
                return nil
            }
            current = nil
            respond(connection, .json(202, #"{"status":"OK"}"#, closes: closes))
            if path[2] == "response" { return .response(requestId: id, body: request.body) }
            let (type, message) = Self.errorFields(request)
            return .error(requestId: id, errorType: type, errorMessage: message, body: request.body)
        case ("POST", 2, "init") where path[1] == "error":
            guard !initialized else {
                respond(
                    connection,
                    .error(
                        403, type: "InvalidStateTransition", message: "Init has already ended", closes: closes))
                return nil
            }
            initialized = true
            respond(connection, .json(202, #"{"status":"OK"}"#, closes: closes))
            let (type, message) = Self.errorFields(request)
            return .initError(errorType: type, errorMessage: message, body: request.body)
        default:
            respond(connection, .error(404, type: "NotFound", message: "No such endpoint", closes: closes))
            return nil
        }
    }

    /// The error type and message of a posted error: the body's `errorType` and `errorMessage`, else the
    /// `Lambda-Runtime-Function-Error-Type` header, else `Runtime.Unknown` (Lambda's names).
    static func errorFields(_ request: HTTPRequest) -> (type: String, message: String) {
        struct Posted: Decodable {
            var errorType: String?
            var errorMessage: String?
        }
        let document = try? JSONDecoder().decode(Posted.self, from: Data(request.body))
        let type =
            (document?.errorType).flatMap { $0.isEmpty ? nil : $0 }
            ?? request.headers["lambda-runtime-function-error-type"] ?? "Runtime.Unknown"
        let message = document?.errorMessage ?? String(decoding: request.body.prefix(1000), as: UTF8.self)
        return (String(type.prefix(200)), message)
    }

    /// Answers the first waiting `GET /next` with the queued event.
    private func dispatch() {
        guard let invocation = queued else { return }
        while let fd = waiting.first {
            waiting.removeFirst()
            guard let connection = connections[fd], connection.waitsForNext else { continue }
            connection.waitsForNext = false
            var headers: [(String, String)] = [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", invocation.requestId),
                ("Lambda-Runtime-Deadline-Ms", "\(invocation.deadlineMs)"),
                ("Lambda-Runtime-Invoked-Function-Arn", invocation.functionARN),
                ("Lambda-Runtime-Trace-Id", invocation.traceId),
            ]
            if let context = invocation.clientContext { headers.append(("Lambda-Runtime-Client-Context", context)) }
            if let identity = invocation.cognitoIdentity {
                headers.append(("Lambda-Runtime-Cognito-Identity", identity))
            }
            queued = nil
            respond(
                connection,
                HTTPResponse(
                    status: 200, headers: headers, body: [UInt8](invocation.body), closes: connection.closesAfterNext))
            return
        }
    }

    private func respond(_ connection: Connection, _ response: HTTPResponse) {
        connection.output += response.encoded
        if response.closes { connection.closing = true }
        flush(connection)
    }

    /// Writes what the connection can take now; closes it once a closing one has written everything.
    private func flush(_ connection: Connection) {
        guard connections[connection.fd] != nil else { return }
        while !connection.output.isEmpty {
            let result = connection.output.withUnsafeBytes { try? Posix.write(connection.fd, from: $0) }
            switch result {
            case .bytes(let count): connection.output.removeFirst(count)
            case .wouldBlock: return
            case .end, nil:
                drop(connection.fd)
                return
            }
        }
        if connection.closing { drop(connection.fd) }
    }

    private func drop(_ fd: Int32) {
        guard let connection = connections.removeValue(forKey: fd) else { return }
        if largeBodyReader == fd { largeBodyReader = nil }
        waiting.removeAll { $0 == fd }
        var closed = connection.fd
        Posix.close(&closed)
    }
}
