import Foundation
import TestSupport
import Testing

/// `capsize invoke`, end to end through the built binary.
@Suite(.serialized, .timeLimit(.minutes(1))) struct InvokeCommandTests {
    static let payloadFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-payload-\(getpid())").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x78, count: 7 * 1_048_576))
        return path
    }()
    static let asyncPayloadFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-payload-async-\(getpid())")
            .path
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x78, count: 1_048_576 + 1))
        return path
    }()

    @Test(
        "a payload over Lambda's limit (6 MB, 1 MB for an event) exits 2 naming --payload before invoking",
        arguments: [(["--payload", payloadFile]), (["--async", "--payload", asyncPayloadFile])])
    func payloadTooLarge(arguments: [String]) throws {
        let result = try capsize(["invoke", "command"] + arguments + ["--", "true"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("capsize: invalid --payload "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("a command function reads the payload on its stdin, and /dev/null without one, never the worker's requests")
    func payloadOnStdin() throws {
        let folder = TestFolder("capsize-payload-stdin")
        let payload = folder.path + "/event.json"
        try #"{"key": "a b"}"#.write(toFile: payload, atomically: true, encoding: .utf8)
        let check = ["--", "/bin/sh", "-c", #"[ "$(cat)" = '{"key": "a b"}' ]"#]
        let given = try capsize(["invoke", "command", "--count", "2", "--payload", payload, "--json"] + check)
        #expect(given.status == 0, "\(given.stdout) \(given.stderr)")
        // Without a payload the same check fails at once (stdin is empty), where reading the worker's stdin would
        // have waited for the next request until the timeout.
        let none = try capsize(["invoke", "command", "--timeout", "30", "--json"] + check)
        #expect(none.status == 1, "\(none.stderr)")
        let outcome = try #require((try json(none.stdout)["invocations"] as? [[String: Any]])?.first)
        #expect(outcome["status"] as? String == "error", "\(outcome)")
        #expect((outcome["durationMs"] as? Double ?? .infinity) < 10_000, "\(outcome)")
    }

    @Test("a cold then a warm invoke print REPORT lines (Init Duration on the first only) and a projected summary")
    func coldThenWarm() throws {
        let result = try capsize(["invoke", "command", "--memory", "256", "--count", "3", "--", "true"])
        #expect(result.status == 0)
        let reports = result.stdout.split(separator: "\n").filter { $0.hasPrefix("REPORT RequestId: ") }
        #expect(reports.count == 3)
        #expect(reports.map { $0.contains("\tInit Duration: ") } == [true, false, false])
        #expect(reports.allSatisfy { $0.firstMatch(of: /\tBilled Duration: (\d+) ms/) != nil })
        #expect(result.stdout.contains("summary: 3 invocation(s), 1 cold, 2 warm; success 3"))
        #expect(result.stdout.contains("cost (projected"))
    }

    @Test("a BLAS-only function's Init loads no OpenCL driver; a render function's Init does, and renders on PoCL")
    func initLoadsOnlyWhatTheHandlerNeeds() throws {
        func first(_ arguments: [String]) throws -> [String: Any] {
            let result = try capsize(["invoke"] + arguments + ["--memory", "1769", "--timeout", "60", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require((try json(result.stdout)["invocations"] as? [[String: Any]])?.first)
        }
        let blas = try first(["train-mlp", "--batch", "32", "--inputs", "32", "--hidden", "32", "--steps", "1"])
        // PoCL alone is ~60 MB of the environment's memory; without it the worker stays well under that.
        #expect((blas["maxMemoryUsedMB"] as? Int ?? 999) < 64, "\(blas)")
        let render = try first(["render-frames", "--width", "32", "--height", "18", "--frames", "1"])
        let reply = try json(try #require(render["response"] as? String))
        #expect(reply["device"] as? String == (hasOpenCL ? "opencl:0" : "native"), "\(reply)")
        #expect((render["maxMemoryUsedMB"] as? Int ?? 0) > (blas["maxMemoryUsedMB"] as? Int ?? 0))
    }

    @Test("train-mlp past --timeout 1 ends in Lambda's timeout text and a REPORT with Status: timeout")
    func trainMLPTimeout() throws {
        let result = try capsize([
            "invoke", "train-mlp", "--batch", "64", "--inputs", "64", "--hidden", "64", "--layers", "2",
            "--steps", "10000000", "--device", "cpu", "--memory", "512", "--timeout", "1", "--json",
        ])
        #expect(result.status == 1, "a timed-out invocation is a failed run")
        let object = try json(result.stdout)
        let invocation = try #require((object["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["status"] as? String == "timeout")
        let lines = try #require(invocation["logLines"] as? [String])
        #expect(lines.first?.hasSuffix(" Task timed out after 1.00 seconds") == true)
        #expect((invocation["report"] as? String)?.hasSuffix("\tStatus: timeout") == true)
        #expect(
            invocation["durationMs"] as? Double == 1000, "a timed-out invocation reports the timeout as its Duration")
    }

    @Test("train-mlp that needs more than --memory 128 ends as Runtime.OutOfMemory with Max Memory Used = Memory Size")
    func trainMLPOutOfMemory() throws {
        let result = try capsize([
            "invoke", "train-mlp", "--batch", "256", "--inputs", "512", "--hidden", "4096", "--layers", "2",
            "--steps", "2", "--device", "cpu", "--memory", "128", "--timeout", "30",
            // At 128 MB's 0.0724 of a CPU the weights take longer to fill than the timeout: this is about memory.
            "--no-cpu-share",
        ])
        #expect(result.status == 1, "a killed invocation is a failed run")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let report = try #require(lines.first { $0.hasPrefix("REPORT ") })
        let requestId = try #require(report.firstMatch(of: /RequestId: ([0-9a-f-]+)/)).1
        #expect(lines.contains("RequestId: \(requestId) Error: Runtime exited with error: signal: killed"))
        // Lambda's log says Runtime.ExitError; only the REPORT line names the memory kill.
        #expect(lines.contains("Runtime.ExitError"))
        #expect(report.contains("\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t"))
        #expect(report.hasSuffix("\tStatus: error\tError Type: Runtime.OutOfMemory"), "\(report)")
        #expect(result.stdout.contains("outOfMemory 1"))
    }
}
