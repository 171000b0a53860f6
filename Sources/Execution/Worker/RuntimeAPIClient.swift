public import Foundation

/// The runtime's side of the Lambda Runtime API (2018-06-01), as `capsize worker` speaks it inside an execution
/// environment: one keep-alive HTTP/1.1 connection to `AWS_LAMBDA_RUNTIME_API`, blocking, a request at a time
/// (`GET /runtime/invocation/next`, then the answer's `POST …/response` or `…/error`). The same API a user's
/// `bootstrap` or awslambdaric speaks, so an executor has one protocol with everything it runs
/// (docs/aws-reference.md; AWS: "Using the Lambda runtime API for custom runtimes").
public struct RuntimeAPIClient {
    /// An invocation handed out by `GET /next`.
    public struct Invocation: Sendable {
        /// `Lambda-Runtime-Aws-Request-Id`.
        public var requestId: String
        /// `Lambda-Runtime-Deadline-Ms`: when it times out, milliseconds since the epoch (nil when absent).
        public var deadlineMs: Int64?
        /// The event.
        public var body: Data
    }

    /// The Runtime API could not be reached, or answered what this client cannot read.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The longest header block and body read back (the API's events are at most 6 MB).
    static let headerLimit = 64 * 1024
    static let bodyLimit = 7 * 1_048_576

    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    /// Bytes read and not yet taken.
    private var pending: [UInt8] = []
    /// Where the bytes not yet taken start in `pending`.
    private var taken = 0
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    /// - Parameter address: `AWS_LAMBDA_RUNTIME_API`, `host:port`.
    public init(address: String) throws(Failure) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]),
            colon != address.startIndex
        else {
            throw Failure(
                description: "the Runtime API address AWS_LAMBDA_RUNTIME_API is not host:port: \(address.prefix(100))")
        }
        host = String(address[..<colon])
        self.port = port
    }

    /// Waits for the next invocation (the first call ends Init).
    public mutating func next() throws(Failure) -> Invocation {
        let response = try exchange("GET", "invocation/next", body: Data(), headers: [])
        guard response.status == 200, let id = response.headers["lambda-runtime-aws-request-id"], !id.isEmpty else {
            throw Failure(description: "GET /runtime/invocation/next answered \(response.status)")
        }
        return Invocation(
            requestId: id, deadlineMs: response.headers["lambda-runtime-deadline-ms"].flatMap { Int64($0) },
            body: response.body)
    }

    /// Posts the invocation's response.
    public mutating func respond(to requestId: String, _ body: Data) throws(Failure) {
        try post("invocation/\(try Self.checked(requestId))/response", body, headers: [])
    }

    /// Posts the invocation's error: `body` is the error document (`errorType`, `errorMessage`, …).
    public mutating func fail(_ requestId: String, errorType: String, _ body: Data) throws(Failure) {
        try post(
            "invocation/\(try Self.checked(requestId))/error", body,
            headers: [("Lambda-Runtime-Function-Error-Type", Self.headerValue(errorType))])
    }

    /// Posts an Init failure (before the first `next`).
    public mutating func failInit(errorType: String, _ body: Data) throws(Failure) {
        try post("init/error", body, headers: [("Lambda-Runtime-Function-Error-Type", Self.headerValue(errorType))])
    }

    /// Closes the connection.
    public mutating func close() {
        Posix.close(&fd)
        pending = []
        taken = 0
    }

    // MARK: HTTP

    private mutating func post(_ path: String, _ body: Data, headers: [(String, String)]) throws(Failure) {
        let response = try exchange("POST", path, body: body, headers: headers)
        // 202 accepted; 413 (a response too large) is the API's to judge, the invocation is over either way.
        guard response.status == 202 || response.status == 413 else {
            throw Failure(description: "POST /runtime/\(path) answered \(response.status)")
        }
    }

    /// A request id as a path segment: the API's ids are UUIDs; anything that could leave the segment is refused.
    private static func checked(_ id: String) throws(Failure) -> String {
        guard !id.isEmpty, id.utf8.count <= 200, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else { throw Failure(description: "a request id that is not a path segment: \(id.prefix(100))") }
        return id
    }

    private static func headerValue(_ text: String) -> String {
        String(text.prefix(200).map { $0.isASCII && !$0.isNewline ? $0 : "?" })
    }

    struct Response {
        var status: Int
        /// Names in lower case.
        var headers: [String: String]
        var body: Data
        var closes: Bool
    }

    /// Sends one request and reads its response, on the kept connection (made again once if the server closed it
    /// between requests).
    private mutating func exchange(_ method: String, _ path: String, body: Data, headers: [(String, String)])
        throws(Failure) -> Response
    {
        var head = "\(method) /2018-06-01/runtime/\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method == "POST" { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        for attempt in 0..<2 {
            if fd < 0 {
                do { fd = try Posix.connect(host: host, port: port) } catch {
                    throw Failure(description: "cannot connect to the Runtime API at \(host):\(port): \(error)")
                }
            }
            do throws(Failure) {
                try send(request)
                let response = try receive()
                if response.closes { close() }
                return response
            } catch {
                close()
                // A kept connection the server closed meanwhile fails at once: once more on a new one.
                if attempt == 1 { throw error }
            }
        }
        throw Failure(description: "unreachable")
    }

    private func send(_ bytes: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { try? Posix.write(fd, from: $0) }
            guard case .bytes(let count) = result else {
                throw Failure(description: "the Runtime API connection closed while sending")
            }
            sent += count
        }
    }

    /// Reads more into `pending`. - Throws: at the end of the connection.
    private mutating func fill() throws(Failure) {
        if taken > 0 {
            pending.removeFirst(taken)
            taken = 0
        }
        let result = chunk.withUnsafeMutableBytes { try? Posix.read(fd, into: $0) }
        guard case .bytes(let count) = result else {
            throw Failure(description: "the Runtime API connection closed while reading")
        }
        pending += chunk[..<count]
    }

    /// Reads one response, in bytes (a header's name compared without case, its value without the spaces around it).
    private mutating func receive() throws(Failure) -> Response {
        var end = taken
        while true {
            while end + 3 < pending.count
                && !(pending[end] == 13 && pending[end + 1] == 10 && pending[end + 2] == 13 && pending[end + 3] == 10)
            {
                end += 1
            }
            if end + 3 < pending.count { break }
            guard pending.count - taken <= Self.headerLimit else {
                throw Failure(description: "a header block over 64 KiB")
            }
            end -= taken
            try fill()
            end = max(0, end - 3)
        }
        let lines = pending[taken..<end].split(separator: 10).map { $0.last == 13 ? $0.dropLast() : $0 }
        let statusWords = lines.first?.split(separator: 32) ?? []
        let version = statusWords.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard statusWords.count >= 2, version.hasPrefix("HTTP/1."),
            let status = Int(String(decoding: statusWords[1], as: UTF8.self))
        else {
            throw Failure(
                description:
                    "not an HTTP/1.1 response: \(String(decoding: (lines.first ?? []).prefix(100), as: UTF8.self))")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58) else { continue }
            headers[HTTPHeaderLine.name(line[..<colon])] = String(
                decoding: HTTPHeaderLine.value(line[(colon + 1)...]), as: UTF8.self)
        }
        let length = Int(headers["content-length"] ?? "0") ?? -1
        guard (0...Self.bodyLimit).contains(length) else {
            throw Failure(description: "a Content-Length this client does not read: \(headers["content-length"] ?? "")")
        }
        taken = end + 4
        while pending.count - taken < length { try fill() }
        let body = Data(pending[taken..<(taken + length)])
        taken += length
        let closes = headers["connection"]?.lowercased() == "close" || version == "HTTP/1.0"
        return Response(status: status, headers: headers, body: body, closes: closes)
    }
}
