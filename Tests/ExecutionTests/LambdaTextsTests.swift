import CapsizeCore
import CloudModel
import Foundation
import Testing

@testable import Execution

/// What Lambda says of an invocation, from the facts alone: no process, no clock, no store.
@Suite struct LambdaTextsTests {
    static let requestId = "8f5c0b2a-3d4e-4f60-8a1b-2c3d4e5f6a7b"
    static let started = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z
    static let ended = Date(timeIntervalSince1970: 1_704_067_203)  // 3 s later

    static func texts(memory: Int = 128, timeout: Int = 3, governs: Bool = true, cores: Int = 2) throws -> LambdaTexts {
        let configuration = try FunctionConfiguration(memoryMB: memory, timeoutSeconds: timeout)
        return LambdaTexts(
            settings: FunctionSettings(configuration: configuration, governsCPUShare: governs), machineCores: cores,
            prices: .embedded)
    }

    static func facts(_ end: InvocationFacts.End, measuredMs: Double = 26.73, megabytes: UInt64 = 75) -> InvocationFacts
    {
        var facts = InvocationFacts(requestId: requestId, type: .synchronous, startedAt: started)
        facts.end = end
        facts.measuredMs = measuredMs
        facts.maxMemoryBytes = megabytes << 20
        facts.sampledPeakBytes = megabytes << 20
        facts.environmentID = "environment"
        facts.endedAt = ended
        return facts
    }

    static func answer(_ json: String) -> InvocationFacts.End { .responded(Data(json.utf8)) }

    @Test("a successful answer is Lambda's plain REPORT line, no log lines, and the answer as the response")
    func success() throws {
        let line = #"{"event":"result","status":"success","result":{"seconds":0.02}}"#
        let outcome = try Self.texts().outcome(Self.facts(Self.answer(line)))
        #expect(outcome.status == .success)
        #expect(outcome.errorType == nil && outcome.errorMessage == nil)
        #expect(
            outcome.report
                == "REPORT RequestId: \(Self.requestId)\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\t"
                + "Max Memory Used: 75 MB\t")
        #expect(outcome.logLines.isEmpty)
        #expect(outcome.response == line)
        #expect(outcome.billedDurationMs == 27)
        #expect(outcome.maxMemoryUsedMB == 75 && outcome.sampledPeakMB == 75)
        #expect(outcome.environmentID == "environment" && outcome.attempts == 1)
        #expect(outcome.startedAt == Self.started && outcome.endedAt == Self.ended)
    }

    @Test("a cold start's REPORT line has Init Duration, and the bill counts Init with the Duration")
    func coldStart() throws {
        var facts = Self.facts(Self.answer(#"{"status":"success"}"#))
        facts.cold = true
        facts.initMs = 166.62
        let outcome = try Self.texts().outcome(facts)
        #expect(outcome.cold && outcome.initDurationMs == 166.62)
        #expect(outcome.report?.hasSuffix("\tMax Memory Used: 75 MB\tInit Duration: 166.62 ms\t") == true)
        #expect(outcome.billedDurationMs == 194)  // 26.73 + 166.62 = 193.35, rounded up
    }

    @Test("an error the runtime posted keeps its error type and message, and the REPORT line has no Status")
    func errorAnswer() throws {
        let line =
            #"{"event":"result","status":"error","errorType":"Workload.InvalidParameter","errorMessage":"--batch must be positive"}"#
        let posted = InvocationFacts.End.failed(
            errorType: "Workload.InvalidParameter", message: "--batch must be positive", payload: Data(line.utf8))
        let outcome = try Self.texts().outcome(Self.facts(posted))
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "Workload.InvalidParameter")
        #expect(outcome.errorMessage == "--batch must be positive")
        #expect(outcome.report?.contains("Status") == false)
        #expect(outcome.logLines.isEmpty)
        #expect(outcome.response == line)
    }

    @Test("an answer over the response limit is Function.ResponseSizeTooLarge with Lambda's text and no response")
    func responseTooLarge() throws {
        var texts = try Self.texts()
        texts.responseLimit = 10
        let outcome = texts.outcome(Self.facts(Self.answer(#"{"status":"success"}"#)))
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "Function.ResponseSizeTooLarge")
        #expect(outcome.errorMessage == "Response payload size exceeded maximum allowed payload size (10 bytes).")
        #expect(outcome.response == nil)
    }

    @Test("a timeout reports the timeout itself as its Duration, Lambda's timed-out line and Status: timeout")
    func timeout() throws {
        let outcome = try Self.texts(timeout: 3).outcome(Self.facts(.ended(.timeout), measuredMs: 3_004.2))
        let line = "2024-01-01T00:00:03.000Z \(Self.requestId) Task timed out after 3.00 seconds"
        #expect(outcome.status == .timeout)
        #expect(outcome.errorType == "Sandbox.Timedout")
        #expect(outcome.errorMessage == line)
        #expect(outcome.logLines == [line])
        #expect(outcome.durationMs == 3_000 && outcome.billedDurationMs == 3_000)
        #expect(
            outcome.report
                == "REPORT RequestId: \(Self.requestId)\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
                + "Memory Size: 128 MB\tMax Memory Used: 75 MB\tStatus: timeout")
        #expect(outcome.response == nil)
    }

    @Test("a memory kill is Runtime.OutOfMemory at Memory Size, while the response and the log say Runtime.ExitError")
    func outOfMemory() throws {
        let outcome = try Self.texts().outcome(Self.facts(.ended(.outOfMemory), megabytes: 131))
        let line = "RequestId: \(Self.requestId) Error: Runtime exited with error: signal: killed"
        #expect(outcome.status == .outOfMemory)
        #expect(outcome.errorType == "Runtime.OutOfMemory")
        #expect(outcome.errorMessage == line)
        #expect(outcome.logLines == [line, "Runtime.ExitError"])
        #expect(outcome.maxMemoryUsedMB == 128)
        #expect(outcome.sampledPeakMB == 131)
        #expect(
            outcome.report
                == "REPORT RequestId: \(Self.requestId)\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\t"
                + "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory")
    }

    @Test("a runtime that crashed is Runtime.ExitError naming how it ended, in the response, the log and REPORT")
    func crash() throws {
        let outcome = try Self.texts().outcome(Self.facts(.ended(.exited(how: "signal: segmentation fault"))))
        let line = "RequestId: \(Self.requestId) Error: Runtime exited with error: signal: segmentation fault"
        #expect(outcome.status == .crash)
        #expect(outcome.errorType == "Runtime.ExitError")
        #expect(outcome.errorMessage == line)
        #expect(outcome.logLines == [line, "Runtime.ExitError"])
        #expect(outcome.durationMs == 26.73)
        #expect(
            outcome.report?.hasSuffix("\tMax Memory Used: 75 MB\tStatus: error\tError Type: Runtime.ExitError") == true)
    }

    @Test("/tmp past the ephemeral storage is an error naming the limit, as a runtime exit")
    func storageExceeded() throws {
        let outcome = try Self.texts().outcome(Self.facts(.ended(.storageExceeded)))
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "Runtime.ExitError")
        #expect(
            outcome.errorMessage
                == "RequestId: \(Self.requestId) Error: Runtime exited with error: ephemeral storage (/tmp) exceeded 512 MB"
        )
    }

    @Test("an environment's ending reads as Lambda's exit text: a signal by its name, else the exit status")
    func endings() {
        #expect(RuntimeEnding(nil) == nil)
        #expect(RuntimeEnding(.timeout) == .timeout)
        #expect(RuntimeEnding(.outOfMemory) == .outOfMemory)
        #expect(RuntimeEnding(.storageExceeded) == .storageExceeded)
        #expect(RuntimeEnding(.closed) == .exited(how: "the environment was shut down"))
        #expect(RuntimeEnding(.exited(code: nil, signal: SIGKILL, message: nil)) == .exited(how: "signal: killed"))
        #expect(RuntimeEnding(.exited(code: 3, signal: nil, message: nil)) == .exited(how: "exit status 3"))
        #expect(
            RuntimeEnding(.exited(code: 1, signal: nil, message: "no such file"))
                == .exited(how: "exit status 1 (no such file)"))
        #expect(RuntimeEnding.signalName(SIGSEGV) == "segmentation fault")
        #expect(RuntimeEnding.signalName(40) == "signal 40")
    }

    @Test("a worker that never started ends with the starter's message, unless a cap or a signal ended it")
    func initFailures() {
        #expect(RuntimeEnding(initFailure: nil, message: "no such file") == .exited(how: "no such file"))
        #expect(RuntimeEnding(initFailure: .timeout, message: "x") == .timeout)
        #expect(RuntimeEnding(initFailure: .outOfMemory, message: "x") == .outOfMemory)
        #expect(
            RuntimeEnding(initFailure: .exited(code: nil, signal: SIGABRT, message: nil), message: "x")
                == .exited(how: "signal: aborted"))
        #expect(
            RuntimeEnding(initFailure: .exited(code: 2, signal: nil, message: nil), message: "exit status 2; usage")
                == .exited(how: "exit status 2; usage"))
    }

    @Test(
        "the held CPU share is reported only when the function is held to it; a share past this machine's cores is a shortfall"
    )
    func cpuShare() throws {
        let facts = Self.facts(Self.answer(#"{"status":"success"}"#))
        let held = try Self.texts(memory: 10_240, cores: 2).outcome(facts)
        #expect(held.heldToCPUShare == FunctionConfiguration.vcpuShare(memoryMB: 10_240))
        #expect(abs((held.cpuShortfallVCPUs ?? 0) - (FunctionConfiguration.vcpuShare(memoryMB: 10_240) - 2)) < 1e-9)
        let free = try Self.texts(memory: 128, governs: false, cores: 2).outcome(facts)
        #expect(free.heldToCPUShare == nil && free.cpuShortfallVCPUs == nil)
    }

    @Test("a throttled request is not billed and has no REPORT line, only its error as a log line")
    func throttled() throws {
        let outcome = try Self.texts().throttled(requestId: Self.requestId, type: .synchronous, at: Self.started)
        #expect(outcome.status == .throttled)
        #expect(outcome.errorType == "TooManyRequestsException" && outcome.errorMessage == "Rate Exceeded.")
        #expect(outcome.report == nil)
        #expect(outcome.logLines == ["TooManyRequestsException: Rate Exceeded."])
        #expect(outcome.billedDurationMs == 0 && outcome.costUSD == ["x86_64": 0, "arm64": 0])
        #expect(outcome.attempts == 1 && outcome.memoryMB == 128)
    }

    @Test("a request over the payload limit is RequestEntityTooLargeException, worded for its invocation type")
    func tooLarge() throws {
        let texts = try Self.texts()
        let sync = texts.tooLarge(
            requestId: Self.requestId, type: .synchronous, bytes: 6_291_500, limit: 6_291_456, at: Self.started)
        #expect(sync.status == .error && sync.errorType == "RequestEntityTooLargeException")
        #expect(sync.errorMessage == "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
        let event = texts.tooLarge(
            requestId: Self.requestId, type: .asynchronous, bytes: 1_048_700, limit: 1_048_576, at: Self.started)
        #expect(
            event.errorMessage
                == "1048700 byte payload is too large for the Event invocation type (limit 1048576 bytes)")
        #expect(sync.attempts == 0 && event.attempts == 0 && sync.report == nil && sync.billedDurationMs == 0)
    }

    @Test("Max Memory Used rounds bytes up to whole MB and never passes Memory Size")
    func megabytes() {
        #expect(LambdaTexts.megabytes(0, cap: 128) == 0)
        #expect(LambdaTexts.megabytes(1, cap: 128) == 1)
        #expect(LambdaTexts.megabytes(1 << 20, cap: 128) == 1)
        #expect(LambdaTexts.megabytes((1 << 20) + 1, cap: 128) == 2)
        #expect(LambdaTexts.megabytes(200 << 20, cap: 128) == 128)
    }
}
