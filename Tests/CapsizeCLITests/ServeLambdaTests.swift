import Foundation
import Store
import TestSupport
import Testing

/// `capsize serve`'s Lambda side, end to end: a Python handler as it would be deployed to AWS, run through
/// awslambdaric, invoked by the AWS CLI and boto3, and by a file landing in a watched directory.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: boto3Python != nil && awsCommand != nil, "boto3 or the AWS CLI is missing: run scripts/setup.sh"),
    .enabled(if: awslambdaricInstalled, "awslambdaric is not installed (scripts/setup.sh installs it)"))
struct ServeLambdaTests {
    /// The handler, unchanged from what would be deployed: it echoes its event, counts its invocations in a module
    /// global (kept by a warm environment), and sleeps, allocates or raises when the event asks; an S3 event that is
    /// not the record of `report one.txt` (5 bytes) landing in bucket `inbox` fails it.
    static let handler = """
        import os, time
        COUNT = 0

        def handler(event, context):
            global COUNT
            COUNT += 1
            print("invocation", COUNT, "of", context.function_name)
            for record in event.get("Records", []):
                assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put", record
                assert record["s3"]["bucket"]["name"] == "inbox", record
                assert record["s3"]["object"]["key"] == "report+one.txt", record
                assert record["s3"]["object"]["size"] == 5, record
            if event.get("sleep"):
                time.sleep(event["sleep"])
            if event.get("allocate_mb"):
                block = bytearray(event["allocate_mb"] * 1048576)
                for i in range(0, len(block), 4096):
                    block[i] = 1
            if event.get("fail"):
                raise ValueError(event["fail"])
            return {"echo": event, "count": COUNT, "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}

        """

    /// Defines function `name` from the handler in `home`.
    static func define(_ name: String, home: String, options: [String] = []) throws {
        let code = home + "/code-\(name)"
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        try handler.write(toFile: code + "/app.py", atomically: true, encoding: .utf8)
        let created = try capsize(
            ["function", "create", name, "--code", code, "--handler", "app.handler"] + options,
            environment: ["CAPSIZE_HOME": home])
        #expect(created.status == 0, "\(created.stderr)")
    }

    @Test("the AWS CLI invokes a Python handler through awslambdaric: its response, a log tail with REPORT, warm reuse")
    func awsCLIInvoke() async throws {
        try await onOwnThread {
            let aws = try #require(awsCommand)
            let served = try Served { home in try Self.define("echo", home: home, options: ["--memory", "256"]) }
            func invoke(_ payload: String) throws -> (response: [String: Any], log: String) {
                let out = served.home + "/out-\(UUID().uuidString).json"
                let process = Process()
                process.executableURL = URL(fileURLWithPath: aws)
                process.arguments = [
                    "lambda", "invoke", "--function-name", "echo", "--payload", payload, "--log-type", "Tail",
                    "--endpoint-url", served.url, "--output", "json", out,
                ]
                process.environment = ProcessInfo.processInfo.environment.merging([
                    "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                ]) { _, new in new }
                let output = try runToEnd(process)
                #expect(output.status == 0, "\(output.stderr)")
                let metadata = try json(output.stdout)
                #expect(metadata["StatusCode"] as? Int == 200)
                let tail = try #require(metadata["LogResult"] as? String)
                let log = String(decoding: try #require(Data(base64Encoded: tail)), as: UTF8.self)
                return (try json(try String(contentsOfFile: out, encoding: .utf8)), log)
            }
            let cold = try invoke(#"{"hello": "world"}"#)
            #expect((cold.response["echo"] as? [String: Any])?["hello"] as? String == "world", "\(cold.response)")
            #expect(cold.response["name"] as? String == "echo")
            #expect(cold.log.contains("invocation 1 of echo"), "\(cold.log)")
            #expect(cold.log.contains("REPORT RequestId: ") && cold.log.contains("Init Duration: "), "\(cold.log)")
            let warm = try invoke("{}")
            #expect(warm.response["count"] as? Int == 2, "a warm environment keeps the module: \(warm.response)")
            #expect(warm.log.contains("REPORT RequestId: ") && !warm.log.contains("Init Duration"), "\(warm.log)")
        }
    }

    @Test("boto3 invokes: an exception, a timeout and a memory kill come back as Lambda's function errors")
    func boto3Errors() async throws {
        try await onOwnThread {
            let served = try Served { home in
                try Self.define("small", home: home, options: ["--memory", "128", "--timeout", "1"])
                // Touching 300 MB at 128 MB's CPU share (0.07 vCPU) takes seconds: a timeout of its own.
                try Self.define("memory", home: home, options: ["--memory", "128", "--timeout", "60"])
            }
            let result = try served.python(
                """
                def call(event, name='small'):
                    response = awslambda.invoke(FunctionName=name, Payload=json.dumps(event), LogType='Tail')
                    return {'status': response['StatusCode'], 'error': response.get('FunctionError'),
                            'payload': json.loads(response['Payload'].read() or b'null'),
                            'log': base64.b64decode(response.get('LogResult', '')).decode()}

                result['raised'] = call({'fail': 'bad input'})
                result['timeout'] = call({'sleep': 3})
                result['memory'] = call({'allocate_mb': 300}, 'memory')
                result['after'] = call({})
                result['missing'] = error_of(lambda: awslambda.invoke(FunctionName='nope', Payload=b'{}'))
                """)
            let raised = try #require(result["raised"] as? [String: Any])
            #expect(raised["error"] as? String == "Unhandled", "\(raised)")
            let raisedPayload = try #require(raised["payload"] as? [String: Any])
            #expect(raisedPayload["errorType"] as? String == "ValueError", "\(raisedPayload)")
            #expect(raisedPayload["errorMessage"] as? String == "bad input", "\(raisedPayload)")
            let timeout = try #require(result["timeout"] as? [String: Any])
            #expect(timeout["error"] as? String == "Unhandled", "\(timeout)")
            #expect("\(timeout["payload"] ?? "")".contains("Task timed out after 1"), "\(timeout)")
            let memory = try #require(result["memory"] as? [String: Any])
            #expect(memory["error"] as? String == "Unhandled", "\(memory)")
            #expect("\(memory["log"] ?? "")".contains("Max Memory Used: 128 MB"), "\(memory)")
            #expect("\(memory["log"] ?? "")".contains("Runtime.OutOfMemory"), "\(memory)")
            let after = try #require(result["after"] as? [String: Any])
            #expect(after["error"] == nil || after["error"] is NSNull, "the function serves again: \(after)")
            let missing = try #require(result["missing"] as? [Any])
            #expect(missing.first as? String == "ResourceNotFoundException", "\(missing)")
        }
    }

    @Test("boto3 is throttled with TooManyRequestsException while a function's reserved concurrency is in use")
    func throttled() async throws {
        try await onOwnThread {
            let served = try Served { home in
                try Self.define("one", home: home, options: ["--reserved-concurrency", "1", "--timeout", "10"])
            }
            let result = try served.python(
                """
                import threading
                awslambda.invoke(FunctionName='one', Payload=b'{}')  # a warm environment, so that Init is not timed

                def slow_invoke():
                    # Retried if one of the probes below holds the only environment at that moment.
                    while error_of(lambda: awslambda.invoke(FunctionName='one', Payload=b'{"sleep": 3}')):
                        time.sleep(0.01)

                slow = threading.Thread(target=slow_invoke)
                slow.start()
                # Probes until one meets the slow invocation in flight (no guess at when it starts); a probe that ran
                # first answered 200.
                result['during'] = None
                while slow.is_alive() and result['during'] is None:
                    result['during'] = error_of(lambda: awslambda.invoke(FunctionName='one', Payload=b'{}'))
                    time.sleep(0.02)
                slow.join()
                result['after'] = awslambda.invoke(FunctionName='one', Payload=b'{}')['StatusCode']
                result['concurrency'] = awslambda.get_function(FunctionName='one').get('Concurrency')
                """)
            let during = try #require(result["during"] as? [Any], "\(result)")
            #expect(during.first as? String == "TooManyRequestsException", "\(during)")
            #expect(during.last as? Int == 429, "\(during)")
            #expect(result["after"] as? Int == 200)
            #expect((result["concurrency"] as? [String: Any])?["ReservedConcurrentExecutions"] as? Int == 1)
        }
    }

    @Test("a file written into a watched directory invokes the function once, with S3's ObjectCreated:Put record")
    func fileLandsOnce() async throws {
        try await onOwnThread {
            let inbox = try temporaryDirectory("capsize-inbox")
            defer { try? FileManager.default.removeItem(atPath: inbox) }
            let served = try Served(arguments: ["--watch", "echo=" + inbox, "--bucket", "inbox"]) { home in
                try Self.define("echo", home: home)
            }
            try "hello".write(toFile: inbox + "/report one.txt", atomically: false, encoding: .utf8)
            let store = try CapsizeStore(path: served.home + "/capsize.sqlite", machine: "test machine")
            var invocations: [InvocationRecord] = []
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let runs = try store.runs().filter { $0.commandLine.contains("echo") }
                invocations = try runs.flatMap { try store.invocations(run: $0.id) }
                if !invocations.isEmpty { break }
                usleep(50_000)
            }
            usleep(1_000_000)  // a second delivery of the same file would have come by now
            let runs = try store.runs().filter { $0.commandLine.contains("echo") }
            invocations = try runs.flatMap { try store.invocations(run: $0.id) }
            #expect(invocations.count == 1, "\(invocations.map(\.status))")
            #expect(invocations.first?.status == .success)
            let stopped = served.stop()
            #expect(stopped.status == 0, "\(stopped.stderr)")
        }
    }

    @Test("serve refuses a trigger of an unknown function or with a bad schedule, naming the flag")
    func badTriggers() throws {
        let home = try temporaryDirectory("capsize-serve-triggers")
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Self.define("echo", home: home)
        for (arguments, mentions) in [
            (["--watch", "nope=/tmp"], "--watch 'nope=/tmp'"), (["--watch", "echo"], "--watch 'echo'"),
            (["--bucket", ""], "--bucket ''"), (["--watch", "echo=/tmp", "--bucket", ""], "--bucket ''"),
            (["--schedule", "echo=rate(1 minutes)"], "--schedule"),
            (["--schedule", "echo=cron(0 * * * * *)"], "--schedule"),
        ] {
            try expectBadInput(["serve", "--port", "0"] + arguments, mentions: mentions, home: home)
        }
    }
}
