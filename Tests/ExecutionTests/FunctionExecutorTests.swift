import CapsizeCore
import CloudModel
import Foundation
import Store
import TestSupport
import Testing

@testable import Execution

/// The Lambda model with real `capsize worker` environments (the `capsize` built next to the test bundle).
@Suite(.serialized, .timeLimit(.minutes(1))) struct FunctionExecutorTests {
    /// Each test's own folder, removed after it.
    let folder = TestFolder("capsize-fn")

    static let capsize = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("capsize").path

    static func executor(
        _ argv: [String], memory: Int = 512, timeout: Int = 3, reserved: Int? = nil, payload: String? = nil,
        governsCPUShare: Bool = true, configure: (inout FunctionExecutor.Options) -> Void = { _ in }
    ) throws -> FunctionExecutor {
        let configuration = try FunctionConfiguration(
            memoryMB: memory, timeoutSeconds: timeout, reservedConcurrency: reserved)
        var options = FunctionExecutor.Options(workerCommand: [capsize, "worker"])
        configure(&options)
        return try FunctionExecutor(
            settings: FunctionSettings(configuration: configuration, governsCPUShare: governsCPUShare),
            event: FunctionEvent(workload: "command", arguments: ["--"] + argv, payload: payload), options: options)
    }

    /// The parsers in the wild (docs/aws-reference.md).
    static func billed(_ report: String) -> Int? {
        report.firstMatch(of: /\tBilled Duration: (\d+) ms/).flatMap { Int($0.1) }
    }
    static func initDuration(_ report: String) -> Double? {
        report.firstMatch(of: /\tInit Duration: (\d+\.\d+) ms/).flatMap { Double($0.1) }
    }
    static func maxMemory(_ report: String) -> Int? {
        report.firstMatch(of: /Max\s+Memory\s+Used:\s+(\d+)\s+MB/).flatMap { Int($0.1) }
    }

    @Test("a cold then a warm invoke print Lambda's REPORT line, with Init Duration only on the first")
    func coldThenWarm() async throws {
        let (store, run) = try Fixture.store(in: folder, run: .invoke, planned: 2)
        let executor = try Self.executor(["true"]) {
            $0.store = store
            $0.runID = run.id
        }
        let outcomes = await executor.invoke(count: 2)
        await executor.shutdown()
        #expect(outcomes.map(\.status) == [.success, .success])
        #expect(outcomes.map(\.cold) == [true, false])
        let (first, second) = (try #require(outcomes[0].report), try #require(outcomes[1].report))
        #expect(first.hasPrefix("REPORT RequestId: \(outcomes[0].requestId)\tDuration: "))
        #expect(
            first.wholeMatch(
                of:
                    /REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t/
            ) != nil)
        #expect(
            second.wholeMatch(
                of:
                    /REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\t/
            ) != nil)
        let initMs = try #require(Self.initDuration(first))
        #expect(initMs > 0 && initMs < 10_000)
        #expect(Self.initDuration(second) == nil)
        // Billed = Init + Duration, rounded up to 1 ms.
        #expect(Self.billed(second) == Int((outcomes[1].durationMs).rounded(.up)))
        // The worker alone holds tens of MB: Max Memory Used is the tree's, not zero.
        #expect((Self.maxMemory(second) ?? 0) > 10)
        #expect(outcomes[1].costUSD["x86_64"]! > outcomes[1].costUSD["arm64"]!)
        let recorded = try store.invocations(run: run.id)
        #expect(Set(recorded.map(\.id)) == Set(outcomes.map(\.requestId)))
        #expect(try store.environments(run: run.id).count == 1)
    }

    @Test(
        "capsize worker speaks the Runtime API: a failing command is posted to /error with its answer, and the environment stays warm"
    )
    func workerPostsErrors() async throws {
        let executor = try Self.executor(["/bin/sh", "-c", "echo out; exit 3"])
        let outcomes = await executor.invoke(count: 2)
        await executor.shutdown()
        #expect(outcomes.map(\.status) == [.error, .error])
        #expect(outcomes.map(\.cold) == [true, false], "a handled error keeps the environment, as on Lambda")
        #expect(outcomes[0].errorType == "Runtime.ExitError")
        #expect(outcomes[0].report?.contains("Status:") == false, "the runtime did not exit")
        // The error document is the worker's whole answer: Lambda's two fields and the workload's result.
        guard case .answer(let answer)? = try? WorkerReply.decode(Data((outcomes[0].response ?? "").utf8)) else {
            Issue.record("not a worker answer: \(outcomes[0].response ?? "nil")")
            return
        }
        #expect(answer.status == .error && answer.errorType == "Runtime.ExitError")
        #expect(answer.result?.metrics["exit_code"] == 3)
        #expect(answer.requestId == outcomes[0].requestId)
        #expect(outcomes.allSatisfy { $0.logTail == nil }, "a log tail is a user function's, not a workload's")
    }

    @Test(
        "an invoke past the timeout is killed at the cap with Lambda's texts (Duration = the timeout), and the next invoke is cold"
    )
    func timeoutResetsTheEnvironment() async throws {
        let executor = try Self.executor(["sleep", "5"], timeout: 1)
        let start = Date()
        let outcome = await executor.invokeOnce()
        let elapsedMs = Date().timeIntervalSince(start) * 1000
        #expect(outcome.status == .timeout)
        #expect(outcome.errorType == "Sandbox.Timedout")
        let text = try #require(outcome.logLines.first)
        #expect(
            text.wholeMatch(
                of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9a-f-]{36} Task timed out after 1\.00 seconds/) != nil,
            "\(text)")
        #expect(text.contains(" \(outcome.requestId) "))
        // As Lambda reports it today: Duration is the timeout, Billed Duration the timeout plus Init.
        let report = try #require(outcome.report)
        let initMs = try #require(outcome.initDurationMs)
        #expect(outcome.durationMs == 1000)
        #expect(
            report.contains("\tDuration: 1000.00 ms\tBilled Duration: \(Int((1000 + initMs).rounded(.up))) ms\t"),
            "\(report)")
        #expect(report.hasSuffix("\tInit Duration: \(String(format: "%.2f", initMs)) ms\tStatus: timeout"), "\(report)")
        // Killed at the cap, long before the program's own end (how soon after the cap is a benchmark).
        #expect(elapsedMs - initMs < 4000, "\(elapsedMs) ms with \(initMs) ms of Init")
        #expect(await executor.idleEnvironments == 0)
        let next = await executor.invokeOnce()
        #expect(next.cold)
        #expect(await executor.environmentsStarted == 2)
        await executor.shutdown()
    }

    @Test("an environment that grows past its memory is killed as Runtime.OutOfMemory at Memory Size")
    func outOfMemory() async throws {
        let allocate = "import time\nb=[]\nwhile len(b)<300:\n b.append(bytearray(b'\\x01')*(1<<20)); time.sleep(0.002)"
        let executor = try Self.executor(["/usr/bin/python3", "-c", allocate], memory: 128, timeout: 10)
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .outOfMemory)
        #expect(outcome.errorType == "Runtime.OutOfMemory")
        let exited = "RequestId: \(outcome.requestId) Error: Runtime exited with error: signal: killed"
        #expect(outcome.errorMessage == exited)
        #expect(outcome.logLines == [exited, "Runtime.ExitError"])
        #expect(outcome.maxMemoryUsedMB == 128)
        let report = try #require(outcome.report)
        #expect(Self.maxMemory(report) == 128)
        #expect(
            report.wholeMatch(
                of:
                    /REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: \d+\.\d\d ms\tStatus: error\tError Type: Runtime\.OutOfMemory/
            ) != nil, "\(report)")
        // Killed at the first reading above the cap: ~1 MB per 2 ms at a 5 ms interval overshoots by a few MB.
        #expect(outcome.sampledPeakMB > 128 && outcome.sampledPeakMB < 128 * 1.05)
        #expect(outcome.durationMs < 5_000)
    }

    @Test("the worker's fork before exec is not counted twice: a 128 MB function runs a small command every time")
    func forkIsNotDoubleCounted() async throws {
        let executor = try Self.executor(["/bin/sh", "-c", "exit 0"], memory: 128)
        let outcomes = await executor.invoke(count: 40)
        await executor.shutdown()
        #expect(outcomes.allSatisfy { $0.status == .success })
        #expect(outcomes.allSatisfy { $0.maxMemoryUsedMB < 128 })
    }

    @Test("parallel invokes without a limit start one environment each, and later invokes reuse them warm")
    func parallelEnvironments() async throws {
        let executor = try Self.executor(["sleep", "0.2"])
        let first = await executor.invoke(count: 3, concurrency: 3)
        let second = await executor.invoke(count: 3, concurrency: 3)
        await executor.shutdown()
        #expect(first.allSatisfy { $0.status == .success && $0.cold })
        #expect(second.allSatisfy { $0.status == .success && !$0.cold })
        #expect(Set(second.compactMap(\.environmentID)) == Set(first.compactMap(\.environmentID)))
        #expect(await executor.environmentsStarted == 3)
    }

    @Test("synchronous invokes beyond the reserved concurrency are throttled, not run")
    func throttling() async throws {
        let executor = try Self.executor(["sleep", "0.3"], reserved: 1)
        let outcomes = await executor.invoke(count: 3, concurrency: 3)
        await executor.shutdown()
        #expect(outcomes.filter { $0.status == .success }.count == 1)
        let throttled = outcomes.filter { $0.status == .throttled }
        #expect(throttled.count == 2)
        #expect(throttled.allSatisfy { $0.errorType == "TooManyRequestsException" && $0.report == nil })
        #expect(await executor.environmentsStarted == 1)
    }

    @Test("a failing asynchronous event is tried 1 + retries times, then lands in the dead-letter directory")
    func asyncRetriesAndDeadLetter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-dlq-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executor = try Self.executor(["false"]) {
            $0.retries = 2
            $0.retryDelays = [0.05, 0.1]
            $0.deadLetterDirectory = directory
        }
        let outcome = await executor.invokeOnce(type: .asynchronous)
        await executor.shutdown()
        #expect(outcome.status == .error)
        #expect(outcome.attempts == 3)
        let path = try #require(outcome.deadLetterPath)
        let letter = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(letter["requestId"] as? String == outcome.requestId)
        #expect(letter["approximateInvokeCount"] as? Int == 3)
        #expect(letter["condition"] as? String == "RetriesExhausted")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1)
    }

    @Test(
        "requests over 6 MB (synchronous) or 1 MB (asynchronous) are rejected with Lambda's RequestEntityTooLargeException texts"
    )
    func payloadLimits() async throws {
        let large = try Self.executor(["true"], payload: String(repeating: "x", count: 6 * 1_048_576))
        let sync = await large.invokeOnce()
        #expect(sync.errorType == "RequestEntityTooLargeException")
        #expect(sync.errorMessage == "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
        let medium = try Self.executor(["true"], payload: String(repeating: "x", count: 1_048_576))
        let async = await medium.invokeOnce(type: .asynchronous)
        #expect(async.errorType == "RequestEntityTooLargeException")
        let bytes = FunctionExecutor.payloadBytes(of: await medium.event)
        #expect(
            async.errorMessage
                == "\(bytes) byte payload is too large for the Event invocation type (limit 1048576 bytes)")
        let started = await large.environmentsStarted + medium.environmentsStarted
        #expect(started == 0)
    }

    /// A stand-in runtime in place of `capsize worker` (bash over the Runtime API, `RuntimeAPITests.prelude`): its
    /// Init, then the first event from `/next` (its id in `$id`), then `answer`.
    static func standIn(
        _ answer: String, initialize: String = "", initLimit: Double = FunctionConfiguration.initLimitSeconds
    ) throws -> FunctionExecutor {
        let script = RuntimeAPITests.prelude + initialize + "\nrequest GET invocation/next\n" + answer
        let configuration = try FunctionConfiguration(memoryMB: 512, timeoutSeconds: 3)
        var options = FunctionExecutor.Options(workerCommand: ["/bin/bash", "-c", script])
        options.initLimitSeconds = initLimit
        return try FunctionExecutor(
            settings: FunctionSettings(configuration: configuration), event: FunctionEvent(workload: "command"),
            options: options)
    }

    @Test("a runtime that exits with a code ends as Runtime.ExitError 'exit status N', with Status: error in REPORT")
    func exitStatus() async throws {
        let executor = try Self.standIn("exit 3")
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .crash)
        let exited = "RequestId: \(outcome.requestId) Error: Runtime exited with error: exit status 3"
        #expect(outcome.errorMessage == exited)
        #expect(outcome.logLines == [exited, "Runtime.ExitError"])
        #expect(outcome.report?.hasSuffix("\tStatus: error\tError Type: Runtime.ExitError") == true)
    }

    @Test(
        "a response over 6,291,556 bytes is Function.ResponseSizeTooLarge with Lambda's text; one at the limit passes")
    func responseLimit() async throws {
        // The posted response: {"pad":"xxx..."} padded to the length asked; then the runtime waits to be reaped.
        func answer(_ length: Int) -> String {
            let head = #"{"pad":""#
            let tail = #""}"#
            return #"""
                exec 3<>"/dev/tcp/$host/$port"
                { printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nContent-Length: %d\r\n\r\n' "$id" \#(length)
                  printf '%s' '\#(head)'; head -c \#(length - head.utf8.count - tail.utf8.count) /dev/zero | tr '\0' x
                  printf '%s' '\#(tail)'; } >&3
                read -r status <&3
                sleep 37
                """#
        }
        let over = try Self.standIn(answer(6_291_557))
        let outcome = await over.invokeOnce()
        await over.shutdown()
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "Function.ResponseSizeTooLarge")
        #expect(outcome.errorMessage == "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
        #expect(outcome.report?.contains("Status:") == false, "the runtime did not exit: no Status in REPORT")
        let at = try Self.standIn(answer(6_291_556))
        let fits = await at.invokeOnce()
        await at.shutdown()
        #expect(fits.status == .success, "\(fits.errorType ?? "") \(fits.errorMessage ?? "")")
    }

    @Test(
        "a function that returns while a background process runs succeeds at once; the process is frozen with the environment and killed when it is reaped"
    )
    func backgroundProcess() async throws {
        let seconds = "29.\(Int.random(in: 100_000...999_999))"  // a sleep no other process runs
        let executor = try Self.executor(["/bin/sh", "-c", "sleep \(seconds) & echo done"], timeout: 2)
        let outcome = await executor.invokeOnce()
        #expect(outcome.status == .success, "\(outcome.errorType ?? "") \(outcome.errorMessage ?? "")")
        #expect(outcome.durationMs < 1_000, "answered without waiting for the background process")
        // The background process, or the shell's fork of it if the environment was frozen before its exec.
        let pid = try #require(Fixture.processes(mentioning: seconds).first, "the background process runs on")
        #expect(try await Fixture.state(of: pid, awaiting: "T") == "T", "frozen (SIGSTOP) with its environment")
        let next = await executor.invokeOnce()
        #expect(next.status == .success && !next.cold)
        await executor.shutdown()
        for _ in 0..<200 {
            if Fixture.processes(mentioning: seconds).allSatisfy({
                Fixture.state(of: $0) == nil || Fixture.state(of: $0) == "Z"
            }) {
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let left = Fixture.processes(mentioning: seconds).filter {
            Fixture.state(of: $0) != nil && Fixture.state(of: $0) != "Z"
        }
        #expect(left.isEmpty, "killed when the environment was reaped: \(left)")
    }

    @Test("an environment idle longer than the idle timeout is reaped; the next invoke is cold")
    func idleReaping() async throws {
        let executor = try Self.executor(["true"]) { $0.idleTimeoutSeconds = 0.2 }
        _ = await executor.invokeOnce()
        #expect(await executor.idleEnvironments == 1)
        try await Task.sleep(for: .milliseconds(500))
        #expect(await executor.idleEnvironments == 0)
        #expect(await executor.invokeOnce().cold)
        await executor.shutdown()
    }

    @Test("an idle environment is frozen (SIGSTOP) and thawed for the next invoke")
    func frozenBetweenInvokes() async throws {
        let executor = try Self.executor(["true"])
        _ = await executor.invokeOnce()
        let pid = try #require(await executor.idleProcessIDs.first)
        // SIGSTOP takes effect when the worker is next scheduled: look for up to a second.
        var state: Substring?
        for _ in 0..<100 {
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            state = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ").first
            if state == "T" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(state == "T")
        let next = await executor.invokeOnce()
        #expect(next.status == .success && !next.cold)
        #expect(await executor.idleProcessIDs == [pid])
        await executor.shutdown()
    }

    @Test("a worker killed by a signal ends the invocation as a crash and resets the environment")
    func crashResets() async throws {
        // The command's parent is the worker: a SIGKILL from outside the sandbox is the runtime dying.
        let executor = try Self.executor(["/bin/sh", "-c", "kill -KILL $PPID; sleep 1"])
        let outcome = await executor.invokeOnce()
        #expect(outcome.status == .crash)
        #expect(outcome.errorType == "Runtime.ExitError")
        #expect(
            outcome.errorMessage == "RequestId: \(outcome.requestId) Error: Runtime exited with error: signal: killed")
        #expect(
            outcome.report?.hasSuffix("\tStatus: error\tError Type: Runtime.ExitError") == true,
            "\(outcome.report ?? "")")
        #expect(outcome.durationMs < 900)
        #expect(await executor.idleEnvironments == 0)
        await executor.shutdown()
    }

    /// One invocation of a command that puts 600 MB in /tmp and then runs `then`, expected to fail for the 512 MB of
    /// ephemeral storage: its outcome, and the executor, shut down.
    static func overfillTmp(then: String) async throws -> (outcome: InvocationOutcome, executor: FunctionExecutor) {
        let executor = try Self.executor(["/bin/sh", "-c", "fallocate -l 600M \"$TMPDIR/big\"" + then])
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .error)
        #expect(outcome.errorMessage?.contains("ephemeral storage (/tmp) exceeded 512 MB") == true)
        return (outcome, executor)
    }

    @Test("an environment whose /tmp grows past the ephemeral storage is killed and reset")
    func ephemeralStorage() async throws {
        let (outcome, _) = try await Self.overfillTmp(then: " && sleep 2")
        #expect(outcome.durationMs < 1_500)
    }

    @Test("a short invoke that leaves /tmp over the ephemeral storage is caught when it answers")
    func ephemeralStorageShortInvoke() async throws {
        let (_, executor) = try await Self.overfillTmp(then: "")
        #expect(await executor.idleEnvironments == 0)
    }

    @Test("every attempt of an asynchronous event is recorded in the store")
    func asyncAttemptsRecorded() async throws {
        let (store, run) = try Fixture.store(in: folder, run: .invoke, planned: 1)
        let executor = try Self.executor(["false"]) {
            $0.retries = 1
            $0.retryDelays = [0.01]
            $0.store = store
            $0.runID = run.id
        }
        let outcome = await executor.invokeOnce(type: .asynchronous)
        await executor.shutdown()
        let recorded = try store.invocations(run: run.id)
        #expect(outcome.attempts == 2)
        #expect(Set(recorded.compactMap(\.itemKey)) == ["invocation=0/attempt=1", "invocation=0/attempt=2"])
        #expect(recorded.allSatisfy { $0.status == .error && $0.report.contains(outcome.requestId) })
    }

    @Test("Init beyond the init limit goes on under the timeout and is counted into the first Duration")
    func slowInit() async throws {
        // A stand-in runtime: Init takes 0.4 s (the limit is 0.1 s), then it answers every event.
        let answers = #"""
            while true; do
              request POST "invocation/$id/response" '{}'
              request GET invocation/next
            done
            """#
        let executor = try Self.standIn(answers, initialize: "sleep 0.4", initLimit: 0.1)
        let outcomes = await executor.invoke(count: 2)
        await executor.shutdown()
        #expect(outcomes.map(\.status) == [.success, .success])
        #expect(outcomes[0].cold && outcomes[0].initDurationMs == nil)
        #expect(outcomes[0].report?.contains("Init Duration") == false)
        #expect(outcomes[0].durationMs >= 300)
        #expect(outcomes[1].durationMs < 100)
    }

    @Test("a worker that cannot start ends the invocation as a crash naming the problem")
    func workerMissing() async throws {
        let configuration = try FunctionConfiguration(memoryMB: 512, timeoutSeconds: 3)
        let options = FunctionExecutor.Options(workerCommand: ["/nonexistent/capsize", "worker"])
        let executor = try FunctionExecutor(
            settings: FunctionSettings(configuration: configuration), event: FunctionEvent(workload: "command"),
            options: options)
        let outcome = await executor.invokeOnce()
        #expect(outcome.status == .crash)
        #expect(outcome.errorMessage?.contains("Runtime exited with error") == true)
        #expect(outcome.errorMessage?.contains("/nonexistent/capsize") == true)
    }

    @Test("bad asynchronous options are rejected as InputError naming the field and Lambda's range")
    func badOptions() throws {
        #expect { _ = try Self.executor(["true"]) { $0.retries = 3 } } throws: {
            ($0 as? InputError)?.field == "retries" && "\($0)".contains("0...2")
        }
        #expect { _ = try Self.executor(["true"]) { $0.maximumEventAgeSeconds = 59 } } throws: {
            ($0 as? InputError)?.field == "maximumEventAge"
        }
    }

    /// A python program that burns `argv[1]` CPU-seconds (its own process time) and exits.
    static let burner = [
        Fixture.python, "-c",
        "import sys, time\nt = time.process_time()\nwhile time.process_time() - t < float(sys.argv[1]): pass", "0.1",
    ]

    @Test(
        "at 128 MB an invocation is held to 0.0724 of a CPU: 0.1 s of CPU takes over 1.2 s; --no-cpu-share does not hold it"
    )
    func invocationHeldToShare() async throws {
        let governed = try Self.executor(Self.burner, memory: 128, timeout: 30)
        let held = await governed.invokeOnce()
        await governed.shutdown()
        let free = try Self.executor(Self.burner, memory: 128, timeout: 30, governsCPUShare: false)
        let unheld = await free.invokeOnce()
        await free.shutdown()
        #expect(held.status == .success && unheld.status == .success)
        #expect(held.heldToCPUShare == FunctionConfiguration.vcpuShare(memoryMB: 128))
        #expect(unheld.heldToCPUShare == nil)
        // 0.1 s of the handler's CPU at 128 / 1,769 of a CPU: at least 1.38 s (10 % allowed for tick resolution).
        #expect(held.durationMs >= 0.9 * 100 / FunctionConfiguration.vcpuShare(memoryMB: 128), "\(held.durationMs) ms")
        #expect(unheld.durationMs < held.durationMs / 2, "\(unheld.durationMs) ms against \(held.durationMs) ms held")
    }

    @Test("Max Memory Used is the environment's highest so far: a warm invoke after a big one reports the big one's")
    func maxMemoryUsedIsTheEnvironments() async throws {
        // Only the first invocation in the environment (its /tmp persists) touches 100 MB, briefly.
        let script =
            "if [ ! -e \"$TMPDIR/done\" ]; then touch \"$TMPDIR/done\"; "
            + "\(Fixture.python) -c 'import time; b = bytearray(b\"\\x01\") * (100 << 20); time.sleep(0.2)'; fi"
        let executor = try Self.executor(["sh", "-c", script], memory: 512, timeout: 10)
        let outcomes = await executor.invoke(count: 2)
        await executor.shutdown()
        #expect(outcomes.map(\.status) == [.success, .success])
        #expect(outcomes.map(\.cold) == [true, false])
        #expect(outcomes[0].maxMemoryUsedMB >= 100)
        #expect(outcomes[1].sampledPeakMB < 100, "the second invocation itself stays small")
        #expect(outcomes[1].maxMemoryUsedMB >= outcomes[0].maxMemoryUsedMB)
    }
}
