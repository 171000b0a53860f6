import CapsizeCore
import Execution
import Foundation
import Testing

@testable import Studies

/// The worker runtime (`capsize worker`'s loop body) through its API, without a process.
@Suite struct WorkerRuntimeTests {
    static func line(_ event: FunctionEvent, id: String = "r1") -> Data {
        WorkerRequest.invoke(requestId: id, event: event).encoded()
    }

    @Test("the first request prepares the workload, the same one again runs warm, and both succeed")
    func warmSecondTime() {
        var worker = Worker(devices: [])
        let event = FunctionEvent(workload: "command", arguments: ["--", "/bin/true"], device: "cpu")
        let first = worker.handle(Self.line(event, id: "a"))
        let second = worker.handle(Self.line(event, id: "b"))
        #expect(first.status == .success && first.warm == false && first.requestId == "a")
        #expect(second.status == .success && second.warm == true && second.requestId == "b")
    }

    @Test("a program's non-zero exit is Runtime.ExitError; a bad parameter is said as the caller words it")
    func failures() {
        var worker = Worker(devices: []) { "bad " + $0.field }
        let exit = worker.handle(Self.line(FunctionEvent(workload: "command", arguments: ["--", "/bin/false"])))
        #expect(exit.status == .error && exit.errorType == "Runtime.ExitError")
        let bad = worker.handle(Self.line(FunctionEvent(workload: "train-mlp", arguments: ["--hidden", "0"])))
        #expect(bad.status == .error && bad.errorType == "InvalidParameterValueException")
        #expect(bad.errorMessage == "bad hidden")
    }

    @Test("a line of another protocol version is Runtime.InvalidEvent, saying what was received")
    func otherVersion() {
        var worker = Worker(devices: [])
        let answer = worker.handle(Data(#"{"version":2,"requestId":"x","workload":"command","arguments":[]}"#.utf8))
        #expect(answer.status == .error && answer.errorType == "Runtime.InvalidEvent")
        #expect(answer.errorMessage?.contains("version 2") == true, "\(answer.errorMessage ?? "")")
    }
}
