import Foundation
import TestSupport
import Testing

/// Whether awslambdaric can run Python handlers here (`scripts/setup.sh` installs it into `.venv-lambda`).
let awslambdaricInstalled: Bool = {
    if let python = ProcessInfo.processInfo.environment["CAPSIZE_LAMBDA_PYTHON"] {
        return FileManager.default.isExecutableFile(atPath: python)
    }
    return FileManager.default.isExecutableFile(atPath: packageRoot.path + "/.venv-lambda/bin/python3")
}()

/// `capsize function` and `capsize invoke NAME`: the user's own Lambda function, unchanged, through the built binary.
@Suite(.serialized, .timeLimit(.minutes(2))) struct FunctionCommandTests {
    let folder = TestFolder("capsize-functions")
    var home: String { folder.path + "/home" }

    /// A Python handler module: a module-level counter (Init runs once per environment), and handlers that fail,
    /// sleep, allocate or show their environment.
    static let handler = """
        import json, os, time
        count = 0
        print("init", flush=True)

        def handler(event, context):
            global count
            count += 1
            print("handling", json.dumps(event))
            return {"count": count, "event": event, "request": context.aws_request_id}

        def fails(event, context):
            raise ValueError("bad input: " + str(event.get("n")))

        def sleeps(event, context):
            time.sleep(10)

        def allocates(event, context):
            block = bytearray(300 << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            return len(block)

        def environment(event, context):
            return {"names": sorted(os.environ), "greeting": os.environ.get("GREETING"),
                    "task_root": os.environ.get("LAMBDA_TASK_ROOT"), "cwd": os.getcwd()}
        """

    func code(_ files: [String: String], executable: Set<String> = []) throws -> String {
        let directory = folder.path + "/code-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            if executable.contains(name) {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/" + name)
            }
        }
        return directory
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> ProcessOutput {
        try capsize(arguments, environment: ["CAPSIZE_HOME": home])
    }

    func create(_ name: String, handler: String, memory: Int = 128, timeout: Int = 3, extra: [String] = []) throws {
        let directory = try code(["app.py": Self.handler])
        let result = try run(
            [
                "function", "create", name, "--code", directory, "--handler", handler, "--memory", "\(memory)",
                "--timeout", "\(timeout)",
            ] + extra)
        #expect(result.status == 0, "\(result.stderr)")
    }

    func payload(_ text: String) throws -> String {
        let path = folder.path + "/event-\(UUID().uuidString.prefix(8)).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The `--json` invocations of an invoke.
    func invocations(_ result: ProcessOutput) throws -> [[String: Any]] {
        try #require(try json(result.stdout)["invocations"] as? [[String: Any]])
    }

    @Test("a custom runtime function is created, listed, shown and deleted, its code a copy")
    func createListGetDelete() throws {
        let directory = try code(["bootstrap": "#!/bin/sh\nexit 0\n"], executable: ["bootstrap"])
        let created = try run(
            ["function", "create", "tool", "--code", directory, "--handler", "run", "--memory", "512", "--env", "A=1"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("tool: provided.al2023, handler run, 512 MB"))
        let listed = try run(["function", "list", "--json"])
        let functions = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(functions.map { $0["name"] as? String } == ["tool"])
        let codeDirectory = try #require(functions.first?["codeDirectory"] as? String)
        #expect(codeDirectory == home + "/functions/tool/code")
        #expect(FileManager.default.isExecutableFile(atPath: codeDirectory + "/bootstrap"))
        #expect(try json(try run(["function", "get", "tool"]).stdout)["runtime"] as? String == "provided.al2023")
        // Creating it again is a conflict unless it replaces it.
        try expectBadInput(
            ["function", "create", "tool", "--code", directory, "--handler", "run"],
            mentions: "ResourceConflictException",
            home: home)
        #expect(
            try run(["function", "create", "tool", "--code", directory, "--handler", "run", "--replace"]).status == 0)
        #expect(try run(["function", "delete", "tool"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: home + "/functions/tool"))
        try expectBadInput(["function", "delete", "tool"], mentions: "ResourceNotFoundException", home: home)
    }

    @Test(
        "bad function settings exit 2 with one line naming the field",
        arguments: [
            (["bad name!"], "--name"), (["f", "--memory", "127"], "--memory"),
            (["f", "--timeout", "901"], "--timeout"),
            (["f", "--ephemeral-storage", "511"], "--ephemeral-storage"), (["f", "--runtime", "ruby3.3"], "--runtime"),
            (["f", "--architecture", "sparc"], "--architecture"), (["f", "--env", "AWS_REGION=x"], "--env"),
            (["f", "--runtime", "provided.al2023"], "--code"), (["command"], "--name"),
        ])
    func badSettings(arguments: [String], field: String) throws {
        let directory = try code(["app.py": Self.handler])
        try expectBadInput(
            ["function", "create"] + [arguments[0], "--code", directory, "--handler", "app.handler"]
                + arguments.dropFirst(),
            mentions: "invalid \(field) ", home: home)
    }

    @Test("a handler that is not module.function and code with a link out of it are refused")
    func badHandlerAndLink() throws {
        let directory = try code(["app.py": Self.handler])
        try expectBadInput(
            ["function", "create", "f", "--code", directory, "--handler", "app"], mentions: "invalid --handler ",
            home: home)
        try FileManager.default.createSymbolicLink(atPath: directory + "/passwd", withDestinationPath: "/etc/passwd")
        try expectBadInput(
            ["function", "create", "f", "--code", directory, "--handler", "app.handler"], mentions: "invalid --code ",
            home: home)
    }

    @Test(
        "a Python handler through awslambdaric answers with its response, warm invokes skip Init",
        .enabled(if: awslambdaricInstalled, "awslambdaric is not installed (scripts/setup.sh installs it)"))
    func pythonHandler() throws {
        try create("hello", handler: "app.handler", memory: 256)
        let result = try run(["invoke", "hello", "--payload", try payload(#"{"n": 7}"#), "--count", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let outcomes = try invocations(result)
        try #require(outcomes.count == 3)
        #expect(outcomes.map { $0["cold"] as? Bool } == [true, false, false])
        #expect(outcomes[0]["initDurationMs"] != nil)
        #expect(outcomes[1]["initDurationMs"] == nil)
        let responses = try outcomes.map { try json(try #require($0["response"] as? String)) }
        // The module-level counter: Init ran once, in the first environment.
        #expect(responses.map { $0["count"] as? Int } == [1, 2, 3])
        #expect((responses[0]["event"] as? [String: Any])?["n"] as? Int == 7)
        #expect(responses[0]["request"] as? String == outcomes[0]["requestId"] as? String)
        let tail = try #require(outcomes[1]["logTail"] as? String)
        #expect(tail.contains("handling {\"n\": 7}"))
        #expect(tail.contains("\nREPORT RequestId: "))
        // The text output: the log and the response.
        let text = try run(["invoke", "hello", "--payload", try payload("{}")])
        #expect(text.stdout.contains("START RequestId: "))
        #expect(text.stdout.contains("Init Duration: "))
        #expect(text.stdout.contains(#"response: {"count": 1, "event": {}"#))
    }

    /// A handler of `handler` that fails: how its function is made and invoked, and what Lambda says of it.
    struct PythonFailure: Sendable, CustomTestStringConvertible {
        /// The handler's name in `handler` (and the function's).
        var handler: String
        var timeout = 3
        /// The event, when the handler reads one.
        var event: String?
        /// The outcome's fields that must read so.
        var fields: [String: String]
        /// What its REPORT line must hold, where that is what says it.
        var report: String?

        var testDescription: String { handler }
    }

    @Test(
        "a Python handler that raises, times out or allocates 300 MB in 128 MB fails the invoke as Lambda says it",
        .enabled(if: awslambdaricInstalled, "awslambdaric is not installed (scripts/setup.sh installs it)"),
        arguments: [
            PythonFailure(
                handler: "fails", event: #"{"n": 3}"#,
                fields: ["status": "error", "errorType": "ValueError", "errorMessage": "bad input: 3"]),
            PythonFailure(handler: "sleeps", timeout: 1, fields: ["status": "timeout"], report: "Status: timeout"),
            PythonFailure(handler: "allocates", fields: ["status": "outOfMemory", "errorType": "Runtime.OutOfMemory"]),
        ])
    func pythonFailure(_ failure: PythonFailure) throws {
        try create(failure.handler, handler: "app." + failure.handler, memory: 128, timeout: failure.timeout)
        let event = try failure.event.map { ["--payload", try payload($0)] } ?? []
        let result = try run(["invoke", failure.handler] + event + ["--json"])
        #expect(result.status == 1)
        let outcome = try #require(try invocations(result).first)
        for (field, value) in failure.fields.sorted(by: { $0.key < $1.key }) {
            #expect(outcome[field] as? String == value, "\(field)")
        }
        if let report = failure.report {
            #expect((outcome["report"] as? String)?.contains(report) == true)
        }
    }

    @Test(
        "a Python handler sees Lambda's variables and its own, and none of capsize's environment",
        .enabled(if: awslambdaricInstalled, "awslambdaric is not installed (scripts/setup.sh installs it)"))
    func pythonEnvironment() throws {
        try create("environment", handler: "app.environment", extra: ["--env", "GREETING=hi"])
        let result = try capsize(
            ["invoke", "environment", "--json"], environment: ["CAPSIZE_HOME": home, "CAPSIZE_SECRET_TEST": "leak"])
        #expect(result.status == 0, "\(result.stderr)")
        let outcome = try #require(try invocations(result).first)
        let document = try json(try #require(outcome["response"] as? String))
        let names = try #require(document["names"] as? [String])
        for name in [
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_REGION",
        ] {
            #expect(names.contains(name), "\(name) missing")
        }
        #expect(!names.contains("CAPSIZE_SECRET_TEST"))
        #expect(!names.contains("CAPSIZE_HOME"))
        #expect(document["greeting"] as? String == "hi")
        #expect(document["cwd"] as? String == document["task_root"] as? String)
    }

    @Test("invoking a defined function with a configuration flag is refused: the function has its own")
    func configurationFlagsRefused() throws {
        let directory = try code(["bootstrap": "#!/bin/sh\nexit 0\n"], executable: ["bootstrap"])
        #expect(try run(["function", "create", "tool", "--code", directory, "--handler", "run"]).status == 0)
        try expectBadInput(["invoke", "tool", "--memory", "512"], mentions: "invalid --memory ", home: home)
    }
}
