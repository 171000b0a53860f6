import Foundation

/// One HTTP/1.1 request as the Runtime API reads it: the method, the target, the headers (names lowercased) and
/// the body.
struct HTTPRequest: Sendable, Equatable {
    var method: String
    var target: String
    var headers: [String: String]
    var body: [UInt8]
    /// Whether the connection stays open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`).
    var keepAlive: Bool
    /// Whether the client waits for `100 Continue` before it sends the body.
    var expectsContinue = false
}

/// A small, strict, incremental HTTP/1.1 request parser for the Runtime API's server: the runtime is user code, so
/// everything it sends is bounded and checked. A request line and headers of at most `headLimit` bytes, CRLF line
/// ends, `Content-Length` bodies of at most the limit the caller sets for the target (no chunked bodies, which
/// Lambda's runtime clients do not send). Anything else is an error the server answers with 400 (or 413, 411, 505)
/// and then closes the connection.
struct HTTPRequestParser {
    /// What the bytes fed so far make.
    enum Outcome: Equatable {
        /// More bytes are needed.
        case incomplete
        /// The request's head is complete and it announced `Expect: 100-continue`: answer `100 Continue`, then feed on.
        case wantsContinue
        case request(HTTPRequest)
        /// A request the server refuses: the status to answer and why, and its target when its head was read; the
        /// connection is then closed.
        case bad(status: Int, message: String, target: String? = nil)

        /// Whether the request is over: read whole, or refused.
        var isFinal: Bool {
            switch self {
            case .request, .bad: true
            case .incomplete, .wantsContinue: false
            }
        }
    }

    /// The most the request line and the headers may take together.
    static let headLimit = 16 * 1024
    /// The most headers a request may have.
    static let headerCountLimit = 64

    /// The largest body accepted for a method and target; a larger `Content-Length` is refused with 413.
    let bodyLimit: (_ method: String, _ target: String) -> Int
    private var buffer: [UInt8] = []
    private var head: HTTPRequest?
    private var bodyLength = 0
    private var continued = false

    init(bodyLimit: @escaping (_ method: String, _ target: String) -> Int) {
        self.bodyLimit = bodyLimit
    }

    /// Whether bytes of a request not yet complete are held.
    var isMidRequest: Bool { !buffer.isEmpty || head != nil }

    /// Adds bytes read from the connection.
    mutating func feed(_ bytes: ArraySlice<UInt8>) { buffer += bytes }

    /// The next request the bytes fed hold, if complete (call again: a pipelined request may follow).
    mutating func next() -> Outcome {
        if head == nil {
            guard let end = Self.headEnd(in: buffer) else {
                return buffer.count > Self.headLimit
                    ? .bad(status: 431, message: "the request's head is longer than \(Self.headLimit) bytes")
                    : .incomplete
            }
            guard end <= Self.headLimit else {
                return .bad(status: 431, message: "the request's head is longer than \(Self.headLimit) bytes")
            }
            switch Self.parseHead(buffer[..<end]) {
            case .failure(let failure): return .bad(status: failure.status, message: failure.message)
            case .success(var request):
                buffer.removeFirst(end + 4)
                let length: Int
                if request.headers["transfer-encoding"] != nil {
                    return .bad(status: 411, message: "Transfer-Encoding is not supported; send Content-Length")
                }
                if let text = request.headers["content-length"] {
                    guard let value = Int(text), value >= 0, text.allSatisfy(\.isASCII),
                        text.allSatisfy({ $0.isNumber })
                    else {
                        return .bad(status: 400, message: "Content-Length is not a number: \(text.prefix(40))")
                    }
                    length = value
                } else {
                    length = 0
                }
                let limit = bodyLimit(request.method, request.target)
                if length > limit {
                    return .bad(
                        status: 413, message: "the body (\(length) bytes) is longer than \(limit) bytes",
                        target: request.target)
                }
                request.expectsContinue = request.headers["expect"]?.lowercased() == "100-continue"
                head = request
                bodyLength = length
                continued = false
            }
        }
        guard var request = head else { return .incomplete }
        guard buffer.count >= bodyLength else {
            if request.expectsContinue && !continued {
                continued = true
                return .wantsContinue
            }
            return .incomplete
        }
        request.body = Array(buffer[..<bodyLength])
        buffer.removeFirst(bodyLength)
        head = nil
        return .request(request)
    }

    /// Where the head's CRLF CRLF starts.
    private static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = 0
        let last = bytes.count - 4
        while index <= last {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            index += 1
        }
        return nil
    }

    struct Failure: Error {
        var status: Int
        var message: String
    }

    /// The request line and the headers (without the blank line), read as bytes: two requests per invocation go
    /// through here, and Foundation's string splitting and trimming cost ~45 µs of each.
    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<HTTPRequest, Failure> {
        // Only visible ASCII, spaces, tabs and CRLF line ends: no bare CR or LF, no NUL, no bytes above 127.
        for byte in bytes where !(byte == 9 || (32...126).contains(byte) || byte == 13 || byte == 10) {
            return .failure(
                Failure(status: 400, message: "the request's head holds a byte \(byte) HTTP does not allow"))
        }
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == 13 && index + 1 < bytes.endIndex && bytes[index + 1] == 10 {
                lines.append(bytes[start..<index])
                index += 2
                start = index
            } else if bytes[index] == 13 || bytes[index] == 10 {
                return .failure(Failure(status: 400, message: "a line of the request's head does not end in CRLF"))
            } else {
                index += 1
            }
        }
        lines.append(bytes[start..<bytes.endIndex])
        let parts = lines[0].split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ (65...90).contains($0) }),
            parts[1].first == UInt8(ascii: "/")
        else {
            return .failure(Failure(status: 400, message: "not an HTTP request line: \(text(lines[0].prefix(80)))"))
        }
        let version = text(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(Failure(status: 505, message: "HTTP version \(version.prefix(20)) is not supported"))
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard headers.count < headerCountLimit else {
                return .failure(Failure(status: 431, message: "more than \(headerCountLimit) headers"))
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(Failure(status: 400, message: "a header line has no colon: \(text(line.prefix(80)))"))
            }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                return .failure(Failure(status: 400, message: "a header name is not a token: \(text(name.prefix(80)))"))
            }
            let key = HTTPHeaderLine.name(name)
            let value = HTTPHeaderLine.value(line[(colon + 1)...])
            if let earlier = headers[key] {
                // A repeated Content-Length (request smuggling's way in) is refused; other headers are joined.
                guard key != "content-length" && key != "transfer-encoding" else {
                    return .failure(Failure(status: 400, message: "\(text(name)) is given twice"))
                }
                headers[key] = earlier + ", " + text(value)
            } else {
                headers[key] = text(value)
            }
        }
        let connection = headers["connection"]?.lowercased() ?? ""
        let keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        return .success(
            HTTPRequest(
                method: text(parts[0]), target: text(parts[1]), headers: headers, body: [], keepAlive: keepAlive))
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A byte of an HTTP token (RFC 9110 `tchar`): letters, digits and ``!#$%&'*+-.^_`|~``.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte) || tokenSymbols.contains(byte)
    }

    private static let tokenSymbols = Array("!#$%&'*+-.^_`|~".utf8)
}

/// A header line's two parts as both sides of the Runtime API read them (the server's parser, the worker's client).
enum HTTPHeaderLine {
    /// The name, in ASCII lower case.
    static func name(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// The value without the spaces and tabs around it.
    static func value(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var value = bytes
        while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
        while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
        return value
    }
}

/// An HTTP/1.1 response the Runtime API's server writes.
struct HTTPResponse {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var closes = false

    static func json(_ status: Int, _ text: String, closes: Bool = false) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8), closes: closes)
    }

    /// Lambda's error document, `{"errorMessage":…,"errorType":…}`.
    static func error(_ status: Int, type: String, message: String, closes: Bool = false) -> HTTPResponse {
        let document = ["errorMessage": message, "errorType": type]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return json(status, body, closes: closes)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 411: "Length Required"
        case 413: "Request Entity Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }

    /// The bytes on the wire.
    var encoded: [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if closes { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}
