import CloudModel
import Execution
import Foundation
import Testing
import Workloads

@Suite struct WorkerProtocolTests {
    static func data(_ text: String) -> Data { Data(text.utf8) }

    /// The error `decode` throws for `text`, or nil when it reads.
    static func replyError(_ text: String) -> WorkerProtocolError? {
        do {
            _ = try WorkerReply.decode(data(text))
            return nil
        } catch {
            return error
        }
    }

    @Test("a request reads back as written, keys sorted, with the payload only when there is one")
    func requestRoundTrip() throws {
        let event = FunctionEvent(workload: "train-mlp", arguments: ["--steps", "3"], device: "cpu", payload: "a/b")
        let request = WorkerRequest.invoke(requestId: "r-1", event: event)
        let text = String(decoding: request.encoded(), as: UTF8.self)
        #expect(
            text
                == #"{"arguments":["--steps","3"],"device":"cpu","payload":"a/b","requestId":"r-1","version":1,"workload":"train-mlp"}"#
        )
        #expect(try WorkerRequest.decode(request.encoded()) == request)
        #expect(request.line == text + "\n")
        let bare = WorkerRequest.invoke(requestId: "r-2", event: FunctionEvent(workload: "command"))
        #expect(!String(decoding: bare.encoded(), as: UTF8.self).contains("payload"))
    }

    @Test("a request without a version, arguments or device is version 1 with no arguments on auto")
    func requestDefaults() throws {
        let request = try WorkerRequest.decode(Self.data(#"{"requestId":"c","workload":"train-mlp"}"#))
        #expect(
            request
                == .invoke(requestId: "c", event: FunctionEvent(workload: "train-mlp", arguments: [], device: "auto")))
    }

    @Test("a reply reads back as written: ready with its devices, an answer with its result, NaN included")
    func replyRoundTrip() throws {
        let ready = WorkerReply.ready(.init(initSeconds: 0.02, devices: [], notice: "no OpenCL"))
        guard case .ready(let readBack) = try WorkerReply.decode(ready.encoded()) else {
            Issue.record("not a ready reply")
            return
        }
        #expect(readBack == WorkerReply.Ready(initSeconds: 0.02, devices: [], notice: "no OpenCL"))
        let result = RunResult(seconds: 0.5, flops: 1e9, metrics: ["loss": .nan], checksum: "abc", peakHostBytes: 7)
        let answer = WorkerReply.answer(
            .init(requestId: "r", status: .success, prepareSeconds: 0, warm: true, device: "cpu", result: result))
        let text = String(decoding: answer.encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"device":"cpu","event":"result","prepareSeconds":0,"requestId":"r","result":{"#))
        #expect(text.hasSuffix(#""status":"success","version":1,"warm":true}"#))
        guard case .answer(let back) = try WorkerReply.decode(answer.encoded()) else {
            Issue.record("not an answer")
            return
        }
        #expect(back.requestId == "r" && back.status == .success && back.warm == true && back.device == "cpu")
        #expect(back.result?.seconds == 0.5 && back.result?.checksum == "abc" && back.result?.peakHostBytes == 7)
        #expect(back.result?.metrics["loss"]?.isNaN == true)
    }

    @Test("a stand-in's bare init line and failure answer read as version 1")
    func minimalReplies() throws {
        guard case .ready(let ready) = try WorkerReply.decode(Self.data(#"{"event":"init"}"#)) else {
            Issue.record("not a ready reply")
            return
        }
        #expect(ready.initSeconds == nil && ready.devices.isEmpty)
        let failure = #"{"event":"result","status":"error","errorType":"Runtime.ExitError","errorMessage":"boom"}"#
        guard case .answer(let answer) = try WorkerReply.decode(Self.data(failure)) else {
            Issue.record("not an answer")
            return
        }
        #expect(answer.status == .error && answer.errorType == "Runtime.ExitError" && answer.errorMessage == "boom")
        #expect(answer.requestId == nil && answer.result == nil)
    }

    @Test("a line of another protocol version is refused with both versions and the line received")
    func versionMismatch() throws {
        let line = #"{"version":2,"event":"result","status":"success"}"#
        let error = try #require(Self.replyError(line))
        #expect(error.problem == .version(2))
        #expect(error.description.contains("version 2") && error.description.contains("speaks version 1"))
        #expect(error.description.hasSuffix(line))
        let request = #"{"version":3,"requestId":"x","workload":"command"}"#
        #expect(throws: WorkerProtocolError.self) { try WorkerRequest.decode(Self.data(request)) }
    }

    @Test("a reply of another shape is refused, saying what is missing or wrong and what was received")
    func otherShapes() throws {
        let cases: [(String, String)] = [
            (#"{"status":"success"}"#, #"no "event""#),
            (#"{"event":"result"}"#, #"no "status""#),
            (#"{"event":"done","status":"success"}"#, #""event" has the wrong type or value"#),
            (#"{"event":"result","status":"ok"}"#, #""status" has the wrong type or value"#),
            (#"{"event":"result","status":"success","result":{"seconds":"fast"}}"#, #""result"#),
            ("garbage", "not JSON"),
            ("[1]", "not a JSON object"),
        ]
        for (line, words) in cases {
            let error = try #require(Self.replyError(line), "\(line) was read")
            #expect(error.description.contains(words), "\(error)")
            #expect(error.description.hasPrefix("not a capsize worker reply"), "\(error)")
            #expect(error.received == line)
        }
        let long = #"{"event":"result","pad":""# + String(repeating: "x", count: 1000) + #""}"#
        #expect(Self.replyError(long)?.received.count == 301, "cut to 300 bytes and an ellipsis")
    }

    @Test("an answer read for its verdict leaves the result unread; read whole, a malformed result is refused")
    func skippingResult() throws {
        let line = Self.data(#"{"event":"result","status":"success","result":{"seconds":"fast"}}"#)
        guard case .answer(let answer) = try WorkerReply.decode(line, skippingResult: true) else {
            Issue.record("not an answer")
            return
        }
        #expect(answer.status == .success && answer.result == nil)
        #expect(throws: WorkerProtocolError.self) { try WorkerReply.decode(line) }
    }

    @Test("a job's verdict comes from the last line of the worker's output: a successful answer or nothing")
    func lastAnswer() {
        let ready = String(decoding: WorkerReply.ready(.init(initSeconds: 0)).encoded(), as: UTF8.self)
        let success = #"{"event":"result","status":"success"}"#
        #expect(WorkerReply.lastAnswer(in: ready + "\n" + success + "\n")?.status == .success)
        #expect(WorkerReply.lastAnswer(in: success + "\nnot json\n") == nil)
        #expect(WorkerReply.lastAnswer(in: ready + "\n") == nil)
        #expect(WorkerReply.lastAnswer(in: "") == nil)
    }

    @Test("a worker job runs capsize worker with its request on stdin and the OpenCL switch as asked")
    func workerJob() throws {
        let request = WorkerRequest.invoke(requestId: "{index}-{attempt}", event: FunctionEvent(workload: "train-mlp"))
        let job = JobDefinition.worker(
            name: "j", request: request, usesOpenCL: false,
            resources: try ResourceRequirements(vcpus: 1, memoryMiB: 512),
            timeoutSeconds: nil, retryStrategy: try RetryStrategy(), environment: ["A": "1"])
        #expect(job.argv.last == WorkerProtocol.subcommand && job.workerReplies)
        #expect(job.stdin == request.line)
        #expect(!WorkerProtocol.loadsOpenCL(job.environment) && job.environment["A"] == "1")
        #expect(WorkerProtocol.loadsOpenCL(WorkerProtocol.environment(usesOpenCL: true)))
    }
}
