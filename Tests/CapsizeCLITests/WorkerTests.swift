import Foundation
import Testing

/// Runs `capsize worker` with `lines` on stdin and returns its stdout lines as JSON objects.
func worker(_ lines: [String], environment: [String: String] = [:]) throws -> [[String: Any]] {
    let process = capsizeProcess(["worker"], environment: environment)
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

@Suite(.serialized) struct WorkerTests {
    let event =
        #"{"requestId":"%@","workload":"train-mlp","arguments":["--batch","16","--inputs","8","--hidden","16","--steps","3"],"device":"cpu"}"#

    @Test("the worker reports Init once, then answers each event; the second invocation is warm")
    func warmReuse() throws {
        let replies = try worker([
            event.replacingOccurrences(of: "%@", with: "a"), event.replacingOccurrences(of: "%@", with: "b"),
        ])
        #expect(replies.count == 3)
        #expect(replies[0]["event"] as? String == "init")
        #expect((replies[0]["initSeconds"] as? Double ?? -1) >= 0)
        #expect(replies[1]["requestId"] as? String == "a" && replies[1]["status"] as? String == "success")
        #expect(replies[1]["warm"] as? Bool == false)
        #expect(replies[2]["warm"] as? Bool == true)
        let first = try #require(replies[1]["result"] as? [String: Any])
        let second = try #require(replies[2]["result"] as? [String: Any])
        #expect(first["checksum"] as? String == second["checksum"] as? String)
    }

    @Test("bad events and bad parameters are answered as errors, and the worker keeps serving")
    func errors() throws {
        let replies = try worker([
            "garbage", #"{"requestId":"c","workload":"train-mlp","arguments":["--batch","0"]}"#,
            event.replacingOccurrences(of: "%@", with: "d"),
        ])
        #expect(replies.count == 4)
        #expect(replies[1]["errorType"] as? String == "Runtime.InvalidEvent")
        #expect(replies[2]["errorType"] as? String == "InvalidParameterValueException")
        #expect((replies[2]["errorMessage"] as? String ?? "").contains("--batch"))
        #expect(replies[3]["status"] as? String == "success")
    }

    @Test("every reply carries the protocol version; a request of another version is refused naming it")
    func versions() throws {
        let replies = try worker([#"{"version":2,"requestId":"e","workload":"train-mlp"}"#])
        #expect(replies.count == 2)
        #expect(replies.allSatisfy { $0["version"] as? Int == 1 })
        #expect(replies[1]["errorType"] as? String == "Runtime.InvalidEvent")
        #expect((replies[1]["errorMessage"] as? String ?? "").contains("protocol version 2"))
    }

    @Test(
        "with AWS_LAMBDA_RUNTIME_API set the worker speaks the Runtime API: an address it cannot use ends it with exit 1 naming it"
    )
    func runtimeAPIAddress() throws {
        for address in ["no-port-here", "127.0.0.1:1"] {
            let result = try capsize(["worker"], environment: ["AWS_LAMBDA_RUNTIME_API": address])
            #expect(result.status == 1, "\(address): \(result.stderr)")
            #expect(result.stdout.isEmpty, "no line of the stdin protocol: \(result.stdout)")
            #expect(
                result.stderr.contains("capsize worker:") && result.stderr.contains("Runtime API"), "\(result.stderr)")
        }
    }
}
