import CapsizeCore
import CloudModel
import Execution
import Foundation
import Store
import TestSupport
import Testing

@testable import Studies

/// `FunctionService`, the user's functions as the Invoke API calls them, with real custom runtimes.
@Suite(.serialized, .timeLimit(.minutes(1))) struct FunctionServiceTests {
    let folder = TestFolder("capsize-function-service")

    /// A custom runtime in Python: answers each event with `{"count": N, "event": EVENT}`, or fails when the event
    /// has `"fail"`, or sleeps `"sleep"` seconds first; prints a line in its Init and a log line per event.
    static let bootstrap = #"""
        #!/usr/bin/python3
        import http.client, json, os, time
        host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
        connection = http.client.HTTPConnection(host, int(port))
        count = 0
        print("init done", flush=True)
        while True:
            connection.request("GET", "/2018-06-01/runtime/invocation/next")
            response = connection.getresponse()
            request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
            event = json.loads(response.read())
            count += 1
            print("event", count, flush=True)
            time.sleep(event.get("sleep", 0))
            if event.get("fail"):
                body = json.dumps({"errorMessage": "asked to fail", "errorType": "Failure", "stackTrace": []})
                path = f"/2018-06-01/runtime/invocation/{request_id}/error"
            else:
                body = json.dumps({"count": count, "event": event})
                path = f"/2018-06-01/runtime/invocation/{request_id}/response"
            connection.request("POST", path, body=body)
            connection.getresponse().read()
        """#

    func service(reservedConcurrency: Int? = nil) throws -> FunctionService {
        let code = folder.path + "/code"
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        try Self.bootstrap.write(toFile: code + "/bootstrap", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: code + "/bootstrap")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        let functions = FunctionStore(home: folder.path + "/home")
        var definition = try functions.create(
            .init(name: "counter", code: code, handler: "counter", memoryMB: 256, timeoutSeconds: 5))
        if let reservedConcurrency {
            definition.configuration.reservedConcurrency = reservedConcurrency
            try FunctionStore.encoder.encode(definition).write(
                to: URL(fileURLWithPath: functions.directory + "/counter/function.json"))
        }
        let store = try CapsizeStore(path: folder.path + "/capsize.sqlite", machine: "test machine")
        return FunctionService(functions: functions, store: store)
    }

    @Test("RequestResponse answers 200 with the function's response, warm after the first, with the log tail")
    func requestResponse() async throws {
        let service = try service()
        let first = try await service.invoke(
            "counter", payload: Data(#"{"n":1}"#.utf8), type: .requestResponse, logTail: true)
        let second = try await service.invoke(
            "counter", payload: Data(#"{"n":2}"#.utf8), type: .requestResponse, logTail: true)
        await service.shutdown()
        #expect(first.statusCode == 200 && first.functionError == nil)
        #expect(String(decoding: first.payload, as: UTF8.self) == #"{"count": 1, "event": {"n": 1}}"#)
        #expect(String(decoding: second.payload, as: UTF8.self) == #"{"count": 2, "event": {"n": 2}}"#)
        let tail = try #require(second.logTail)
        #expect(tail.contains("event 2\n"))
        #expect(tail.contains("REPORT RequestId: \(second.requestId)\tDuration: "))
        #expect(!tail.contains("Init Duration"))
        #expect(first.logTail?.contains("Init Duration") == true)
        // Init's output opens the cold invocation's log, before its START (as in CloudWatch), and only that one's.
        #expect(
            first.logTail?.hasPrefix("init done\nSTART RequestId: \(first.requestId)") == true, "\(first.logTail ?? "")"
        )
        #expect(!tail.contains("init done"))
        #expect(try await service.functions().map(\.name) == ["counter"])
    }

    @Test("a function error answers its error document with Unhandled; Event is 202 and DryRun 204")
    func errorsEventsAndDryRuns() async throws {
        let service = try service()
        let failed = try await service.invoke(
            "counter", payload: Data(#"{"fail":true}"#.utf8), type: .requestResponse, logTail: false)
        #expect(failed.statusCode == 200 && failed.functionError == "Unhandled")
        let document = try #require(try JSONSerialization.jsonObject(with: failed.payload) as? [String: Any])
        #expect(document["errorType"] as? String == "Failure")
        #expect(document["errorMessage"] as? String == "asked to fail")
        #expect(failed.logTail == nil)
        let event = try await service.invoke("counter", payload: Data("{}".utf8), type: .event, logTail: false)
        #expect(event.statusCode == 202 && event.payload.isEmpty)
        let dryRun = try await service.invoke("counter", payload: Data(), type: .dryRun, logTail: false)
        #expect(dryRun.statusCode == 204)
        // The event runs in the background under the request id its 202 named.
        let store = try CapsizeStore(path: folder.path + "/capsize.sqlite", machine: "test machine")
        var recorded: [String] = []
        for _ in 0..<400 where !recorded.contains(event.requestId) {
            try await Task.sleep(for: .milliseconds(50))
            recorded = try store.runs().flatMap { try store.invocations(run: $0.id) }.map(\.id)
        }
        await service.shutdown()
        #expect(recorded.contains(event.requestId), "\(event.requestId) not in \(recorded)")
    }

    @Test("an unknown function is 404, a payload over 6 MB is 413, both in AWS's error types")
    func refusals() async throws {
        let service = try service()
        await #expect(throws: LambdaAPIError.notFound(function: "missing")) {
            _ = try await service.invoke("missing", payload: Data(), type: .requestResponse, logTail: false)
        }
        do {
            _ = try await service.invoke(
                "counter", payload: Data(count: 6 * 1_048_576 + 1), type: .requestResponse, logTail: false)
            Issue.record("a payload over 6 MB was accepted")
        } catch let error as LambdaAPIError {
            #expect(error.statusCode == 413 && error.type == "RequestTooLargeException")
        }
        await service.shutdown()
    }

    @Test("invokes beyond the reserved concurrency are throttled with 429 TooManyRequestsException")
    func throttles() async throws {
        let service = try service(reservedConcurrency: 1)
        let slow = Data(#"{"sleep":1}"#.utf8)
        async let first = service.invoke("counter", payload: slow, type: .requestResponse, logTail: false)
        try await Task.sleep(for: .milliseconds(300))
        do {
            _ = try await service.invoke("counter", payload: slow, type: .requestResponse, logTail: false)
            Issue.record("the second invoke was not throttled")
        } catch let error as LambdaAPIError {
            #expect(error.statusCode == 429 && error.type == "TooManyRequestsException")
        }
        #expect(try await first.statusCode == 200)
        await service.shutdown()
    }
}
