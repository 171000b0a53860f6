import Foundation
import Testing

@testable import Execution

/// The Runtime API server's request parser, fed bytes as a runtime would send them.
@Suite struct HTTPRequestParserTests {
    static func parse(_ text: String, limit: Int = 100) -> [HTTPRequestParser.Outcome] {
        var parser = HTTPRequestParser { _, _ in limit }
        parser.feed(ArraySlice(text.utf8))
        var outcomes: [HTTPRequestParser.Outcome] = []
        while true {
            let outcome = parser.next()
            outcomes.append(outcome)
            guard case .request = outcome else { return outcomes }
        }
    }

    @Test("a request reads as sent: names lowercased, values trimmed, a repeated header joined, the body by length")
    func valid() throws {
        let outcomes = Self.parse(
            "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nHost: x\r\nX-Tag:  a \t\r\n"
                + "x-tag: b\r\nContent-LENGTH: 5\r\n\r\nhello")
        guard case .request(let request) = outcomes.first else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(request.method == "POST" && request.target == "/2018-06-01/runtime/invocation/abc/response")
        #expect(request.headers == ["host": "x", "x-tag": "a, b", "content-length": "5"])
        #expect(request.body == Array("hello".utf8) && request.keepAlive)
        #expect(outcomes.last == .incomplete)
    }

    @Test("two pipelined requests read one after the other; HTTP/1.0 closes unless it asks to keep alive")
    func pipelined() {
        let outcomes = Self.parse("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\nGET /c")
        guard outcomes.count == 3, case .request(let a) = outcomes[0], case .request(let b) = outcomes[1] else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(a.target == "/a" && !a.keepAlive)
        #expect(b.target == "/b" && !b.keepAlive)
        #expect(outcomes[2] == .incomplete)
    }

    @Test(
        "bad heads are refused with HTTP's status: bare LF, a lowercase method, HTTP/2, no colon, a bad name, two lengths, a long body",
        arguments: [
            ("GET / HTTP/1.1\nHost: x\r\n\r\n", 400), ("get / HTTP/1.1\r\n\r\n", 400), ("GET / HTTP/2\r\n\r\n", 505),
            ("GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400), ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413), ("GET x HTTP/1.1\r\n\r\n", 400),
        ])
    func refused(head: String, status: Int) {
        let outcomes = Self.parse(head)
        guard case .bad(let refused, _, _) = outcomes.first else {
            Issue.record("\(head): \(outcomes)")
            return
        }
        #expect(refused == status, "\(head)")
    }
}
