import CloudModel
import Foundation
import TestSupport
import Testing

@testable import Execution

/// A user's own runtime through the Lambda Runtime API, with real processes: custom runtimes (`bootstrap` scripts in
/// bash, speaking HTTP over bash's /dev/tcp) under every cap of the function executor.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RuntimeAPITests {
    let folder = TestFolder("capsize-runtime-api")

    /// The start of every bootstrap: `request METHOD PATH [BODY]` sends one request on a new connection and leaves
    /// the status line in `$status`, the request id in `$id` and the body in `$body`.
    static let prelude = #"""
        #!/bin/bash
        export LC_ALL=C
        IFS=: read -r host port <<< "$AWS_LAMBDA_RUNTIME_API"
        request() {
          exec 3<>"/dev/tcp/$host/$port"
          printf '%s /2018-06-01/runtime/%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
            "$1" "$2" "$AWS_LAMBDA_RUNTIME_API" "${#3}" "$3" >&3
          read -r status <&3; status=${status%$'\r'}
          id=""; length=0; deadline=""
          while IFS= read -r line <&3; do
            line=${line%$'\r'}
            [[ -z $line ]] && break
            case ${line,,} in
              lambda-runtime-aws-request-id:*) id=${line#*: } ;;
              lambda-runtime-deadline-ms:*) deadline=${line#*: } ;;
              content-length:*) length=${line#*: } ;;
            esac
          done
          body=""
          ((length > 0)) && read -r -N "$length" body <&3
          exec 3<&-
        }

        """#

    /// A bootstrap that answers every event with `{"echo": EVENT, "count": N, ...}`, N counting the invocations of
    /// its environment.
    static let echo =
        prelude + #"""
            count=0
            while true; do
              request GET invocation/next
              count=$((count + 1))
              answer="{\"echo\":$body,\"count\":$count,\"deadline\":$deadline,\"name\":\"$AWS_LAMBDA_FUNCTION_NAME\"}"
              request POST "invocation/$id/response" "$answer"
            done
            """#

    func bootstrap(_ script: String) throws -> String {
        let directory = folder.path + "/code-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let path = directory + "/bootstrap"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return directory
    }

    func executor(
        code: String, memory: Int = 128, timeout: Int = 3, payload: String? = nil,
        configure: (inout FunctionExecutor.Options) -> Void = { _ in }
    ) throws -> FunctionExecutor {
        let configuration = try FunctionConfiguration(memoryMB: memory, timeoutSeconds: timeout)
        var options = FunctionExecutor.Options()
        options.userRuntime = UserRuntime(
            argv: [code + "/bootstrap"], taskRoot: code, runtimeDirectory: code, handler: "function.handler",
            functionARN: "arn:aws:lambda:us-east-1:000000000000:function:echo")
        configure(&options)
        return try FunctionExecutor(
            settings: FunctionSettings(configuration: configuration, functionName: "echo"),
            event: FunctionEvent(workload: "echo", payload: payload), options: options)
    }

    @Test(
        "the trace header has X-Ray's shape: Root=1-<8 hex seconds>-<24 hex>;Parent=<16 hex>;Sampled=0, new each time")
    func traceHeader() {
        let date = Date(timeIntervalSince1970: 0x5f00_0000)
        let first = RuntimeInvocation.newTraceId(at: date)
        #expect(first.wholeMatch(of: /Root=1-5f000000-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0/) != nil, "\(first)")
        #expect(RuntimeInvocation.newTraceId(at: date) != first)
    }

    @Test("a custom runtime gets each event from /next and its posted response is the invoke's, warm after the first")
    func customRuntimeAnswers() async throws {
        let executor = try executor(code: try bootstrap(Self.echo), payload: #"{"n":1}"#)
        let outcomes = await executor.invoke(count: 3)
        await executor.shutdown()
        try #require(outcomes.count == 3)
        #expect(outcomes.map(\.status) == [.success, .success, .success])
        #expect(outcomes.map(\.cold) == [true, false, false])
        let documents = outcomes.map {
            (try? JSONSerialization.jsonObject(with: Data(($0.response ?? "").utf8))) as? [String: Any] ?? [:]
        }
        #expect(documents.map { $0["count"] as? Int } == [1, 2, 3])
        #expect((documents[0]["echo"] as? [String: Any])?["n"] as? Int == 1)
        #expect(documents[0]["name"] as? String == "echo")
        // The deadline is the function's timeout from when the event was handed over, in epoch milliseconds: within
        // the warm invocation's own start and end, plus the timeout.
        let deadline = try #require(documents[1]["deadline"] as? Double) / 1000
        #expect(deadline >= outcomes[1].startedAt.timeIntervalSince1970 + 3 - 0.002)
        #expect(deadline <= outcomes[1].endedAt.timeIntervalSince1970 + 3 + 0.002)
        #expect(outcomes[0].initDurationMs != nil)
        #expect(outcomes[1].initDurationMs == nil)
        #expect(outcomes[0].report?.contains("Init Duration:") == true)
        #expect(outcomes[2].report?.contains("Init Duration:") == false)
        let tail = try #require(outcomes[1].logTail)
        #expect(tail.hasPrefix("START RequestId: \(outcomes[1].requestId) Version: $LATEST\n"))
        #expect(tail.contains("END RequestId: \(outcomes[1].requestId)\nREPORT RequestId: \(outcomes[1].requestId)"))
    }

    @Test("an error posted to /invocation/{id}/error fails the invoke with the runtime's type, message and document")
    func postedError() async throws {
        let script =
            Self.prelude + #"""
                while true; do
                  request GET invocation/next
                  echo "handling $id" >&2
                  request POST "invocation/$id/error" '{"errorMessage":"bad input","errorType":"ValueError","stackTrace":[]}'
                done
                """#
        let executor = try executor(code: try bootstrap(script))
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "ValueError")
        #expect(outcome.errorMessage == "bad input")
        #expect(outcome.response?.contains(#""stackTrace":[]"#) == true)
        #expect(outcome.logTail?.contains("handling \(outcome.requestId)") == true)
    }

    @Test("a runtime that posts /init/error fails its invoke with the Init error, and the next invoke starts again")
    func initError() async throws {
        let script =
            Self.prelude + #"""
                request POST init/error '{"errorMessage":"Unable to import module","errorType":"Runtime.ImportModuleError"}'
                sleep 37
                """#
        let executor = try executor(code: try bootstrap(script))
        let outcomes = await executor.invoke(count: 2)
        await executor.shutdown()
        #expect(outcomes.map(\.status) == [.error, .error])
        #expect(outcomes.map(\.errorType) == ["Runtime.ImportModuleError", "Runtime.ImportModuleError"])
        #expect(outcomes.map(\.cold) == [true, true])
        #expect(await executor.environmentsStarted == 2)
    }

    @Test("a runtime that never asks for an event is killed at the Init limit plus the timeout")
    func neverCallsNext() async throws {
        let executor = try executor(code: try bootstrap("#!/bin/sh\nexec sleep 37\n"), timeout: 1) {
            $0.initLimitSeconds = 0.2
        }
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .timeout)
        #expect(outcome.errorType == LambdaLog.timeoutErrorType)
    }

    @Test("malformed HTTP from the runtime is answered 400 and the environment goes on serving")
    func malformedRequests() async throws {
        let script =
            Self.prelude + #"""
                bad() {
                  exec 3<>"/dev/tcp/$host/$port"
                  printf "$1" >&3
                  read -r line <&3; echo -n "${line%$'\r'}|" >> "$TMPDIR/statuses"
                  exec 3<&-
                }
                bad 'GARBAGE\r\n\r\n'
                bad 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nNo colon here\r\n\r\n'
                bad 'POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n'
                bad 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                bad 'GET /other HTTP/1.1\r\n\r\n'
                request POST invocation/unknown-id/response '{}'
                echo -n "$status $body|" >> "$TMPDIR/statuses"
                head -c 20000 /dev/zero | tr '\0' 'a' > "$TMPDIR/long"
                bad "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX-Long: $(cat "$TMPDIR/long")\r\n\r\n"
                next='GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n'
                while true; do
                  request GET invocation/next
                  # While the event is handled none waits: this /next waits, and the request behind it is refused.
                  bad "$next$next"
                  request POST "invocation/$id/response" "\"$(cat "$TMPDIR/statuses")\""
                done
                """#
        let executor = try executor(code: try bootstrap(script))
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .success)
        let statuses = try #require(outcome.response).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            .split(separator: "|").map(String.init)
        #expect(statuses.count == 8)
        #expect(statuses[0] == "HTTP/1.1 400 Bad Request")
        #expect(statuses[1] == "HTTP/1.1 400 Bad Request")
        #expect(statuses[2] == "HTTP/1.1 400 Bad Request")
        #expect(statuses[3] == "HTTP/1.1 411 Length Required")
        #expect(statuses[4] == "HTTP/1.1 404 Not Found")
        #expect(statuses[5].hasPrefix("HTTP/1.1 400 Bad Request"))
        #expect(statuses[5].contains("InvalidRequestID"))
        #expect(statuses[6] == "HTTP/1.1 431 Request Header Fields Too Large")
        // A request pipelined behind a waiting GET /next.
        #expect(statuses[7] == "HTTP/1.1 400 Bad Request")
    }

    @Test("a response over 6 MB is refused with 413 and the invoke fails as Function.ResponseSizeTooLarge")
    func responseTooLarge() async throws {
        let script =
            Self.prelude + #"""
                request GET invocation/next
                exec 3<>"/dev/tcp/$host/$port"
                printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nContent-Length: 7000000\r\n\r\n' "$id" >&3
                read -r line <&3
                echo "got ${line%$'\r'}" >&2
                sleep 37
                """#
        let executor = try executor(code: try bootstrap(script))
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .error)
        #expect(outcome.errorType == "Function.ResponseSizeTooLarge")
    }

    @Test("one connection at a time may send a large body: a second is refused 400 and the first's response stands")
    func oneLargeBodyAtATime() async throws {
        let script =
            Self.prelude + #"""
                request GET invocation/next
                post() { printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nContent-Length: %d\r\n\r\n' "$id" "$1"; }
                exec 4<>"/dev/tcp/$host/$port"
                { post 100000; printf '{"a":"'; } >&4
                sleep 0.5
                exec 5<>"/dev/tcp/$host/$port"
                post 70000 >&5
                read -r line <&5; echo "second: ${line%$'\r'}" >&2
                { head -c 99992 /dev/zero | tr '\0' x; printf '"}'; } >&4
                read -r line <&4
                sleep 37
                """#
        let executor = try executor(code: try bootstrap(script))
        let outcome = await executor.invokeOnce()
        await executor.shutdown()
        #expect(outcome.status == .success, "\(outcome.errorType ?? "") \(outcome.errorMessage ?? "")")
        #expect(outcome.response?.utf8.count == 100_000)
        #expect(outcome.logTail?.contains("second: HTTP/1.1 400 Bad Request") == true, "\(outcome.logTail ?? "")")
    }

    @Test("a runtime sees Lambda's variables and the function's, and none of capsize's own")
    func environmentIsLambdas() async throws {
        setenv("CAPSIZE_RUNTIME_API_SECRET", "leak", 1)
        defer { unsetenv("CAPSIZE_RUNTIME_API_SECRET") }
        let script =
            Self.prelude + #"""
                request GET invocation/next
                vars=$(env | cut -d= -f1 | sort | tr '\n' ' ')
                request POST "invocation/$id/response" "\"$vars|$_HANDLER|$GREETING|$PWD\""
                """#
        let code = try bootstrap(script)
        let configured = try FunctionExecutor(
            settings: FunctionSettings(
                configuration: try FunctionConfiguration(memoryMB: 256, timeoutSeconds: 3),
                variables: ["GREETING": "hello"], functionName: "echo"),
            event: FunctionEvent(workload: "echo"),
            options: {
                var options = FunctionExecutor.Options()
                options.userRuntime = UserRuntime(
                    argv: [code + "/bootstrap"], taskRoot: code, runtimeDirectory: code, handler: "function.handler",
                    functionARN: "arn")
                return options
            }())
        let outcome = await configured.invokeOnce()
        await configured.shutdown()
        let text = try #require(outcome.response)
        for name in [
            "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "LAMBDA_TASK_ROOT",
            "AWS_REGION", "TZ", "_HANDLER",
        ] {
            #expect(text.contains(name + " "), "\(name) missing from \(text)")
        }
        #expect(!text.contains("CAPSIZE_RUNTIME_API_SECRET"))
        #expect(text.contains("|function.handler|hello|\(code)\""))
    }
}
