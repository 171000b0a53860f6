import Foundation
import TestSupport
import Testing

/// A Python with boto3 (`.venv-tools`, which scripts/setup.sh fills, else python3 on PATH); nil when there is none.
let boto3Python: String? = {
    let candidates = [packageRoot.appendingPathComponent(".venv-tools/bin/python3").path, "/usr/bin/env"]
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        let arguments = candidate == "/usr/bin/env" ? ["python3", "-c", "import boto3"] : ["-c", "import boto3"]
        if let result = try? run(candidate, arguments), result.status == 0 {
            return candidate == "/usr/bin/env" ? "python3" : candidate
        }
    }
    return nil
}()

/// The AWS CLI beside that Python, else `aws` on PATH.
let awsCommand: String? = {
    let beside = packageRoot.appendingPathComponent(".venv-tools/bin/aws").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    let found = try? run("/bin/sh", ["-c", "command -v aws"])
    return found?.status == 0 ? found?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
}()

/// `capsize serve --port 0 ARGUMENTS` in a home of its own (made ready by `prepare`), with one configured GPU slot;
/// stopped with SIGTERM by `stop`, or killed when the test drops it.
final class Served: @unchecked Sendable {
    let process: Process
    let home: String
    let url: String
    private let errors = Pipe()

    /// - Parameter existing: a home to serve again (an earlier server's); nil: a new one.
    init(
        environment: [String: String] = [:], arguments: [String] = [], home existing: String? = nil,
        prepare: (String) throws -> Void = { _ in }
    ) throws {
        home = try existing ?? temporaryDirectory("capsize-serve")
        try prepare(home)
        process = capsizeProcess(
            ["serve", "--port", "0", "--gpu-slots", "1"] + arguments,
            environment: environment.merging(["CAPSIZE_HOME": home]) { _, home in home })
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let line = String(decoding: firstLine(of: output), as: UTF8.self)
        guard let start = line.range(of: "http://") else {
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ServeFailure(message: "capsize serve did not say where it listens: \(line) \(stderr)")
        }
        url = String(line[start.lowerBound...].prefix { !$0.isWhitespace })
    }

    /// SIGTERM, as a service manager stops it; returns its exit status and what it said on stderr.
    func stop() -> (status: Int32, stderr: String) {
        kill(process.processIdentifier, SIGTERM)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    /// capsize's own command, on the server's store.
    func capsize(_ arguments: [String]) throws -> ProcessOutput {
        try CapsizeCLITests.capsize(arguments, environment: ["CAPSIZE_HOME": home])
    }

    /// Runs `body` (Python, after a prelude defining `batch`, `awslambda`, `wait`, `error_of` and `result`) against
    /// the server; returns the JSON object the script printed as its last line.
    func python(_ body: String) throws -> [String: Any] {
        let script = home + "/client-\(UUID().uuidString).py"
        try (Self.prelude + body + "\nprint(json.dumps(result))\n").write(
            toFile: script, atomically: true, encoding: .utf8)
        let python = boto3Python ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.hasPrefix("/") ? python : "/usr/bin/env")
        process.arguments = (python.hasPrefix("/") ? [] : [python]) + [script]
        process.environment = ProcessInfo.processInfo.environment.merging(["ENDPOINT": url]) { _, new in new }
        let output = try runToEnd(process)
        guard output.status == 0, let last = output.stdout.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else {
            throw ServeFailure(
                message: "the boto3 script failed (\(output.status)): \(output.stdout)\n\(output.stderr)")
        }
        return object
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: home)
    }

    static let prelude = """
        import base64, json, os, time, urllib.error, urllib.request
        import boto3, botocore.exceptions
        args = dict(endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1', aws_access_key_id='x',
                    aws_secret_access_key='x')
        batch = boto3.client('batch', **args)
        awslambda = boto3.client('lambda', **args)
        result = {}

        def wait(ids, states=('SUCCEEDED', 'FAILED'), seconds=60):
            deadline = time.time() + seconds
            while True:
                jobs = batch.describe_jobs(jobs=ids)['jobs']
                if len(jobs) == len(ids) and all(job['status'] in states for job in jobs):
                    return {job['jobId']: job for job in jobs}
                if time.time() > deadline:
                    raise SystemExit('timed out: %s' % [(job['jobId'], job['status']) for job in jobs])
                time.sleep(0.05)

        def error_of(call):
            try:
                call()
                return None
            except botocore.exceptions.ClientError as error:
                return [error.response['Error']['Code'], error.response['Error']['Message'],
                        error.response['ResponseMetadata']['HTTPStatusCode']]

        def shell_definition(name='shell'):
            return batch.register_job_definition(
                jobDefinitionName=name, type='container',
                containerProperties={'image': 'public.ecr.aws/docker/library/busybox:latest', 'command': ['true'],
                                     'resourceRequirements': [{'type': 'VCPU', 'value': '0.25'},
                                                              {'type': 'MEMORY', 'value': '64'}]})

        """
}

struct ServeFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: boto3Python != nil, "boto3 is missing: run scripts/setup.sh (it installs boto3 into .venv-tools)"))
struct ServeTests {
    /// Runs `body` (Python, see `Served.python`) against a new server on a thread of its own, then `check` with the
    /// server and the object the script printed.
    static func script(
        environment: [String: String] = [:], _ body: String,
        check: @escaping @Sendable (Served, [String: Any]) throws -> Void
    ) async throws {
        try await onOwnThread {
            let served = try Served(environment: environment)
            try check(served, try served.python(body))
        }
    }

    @Test("a boto3 script written for AWS Batch runs its job here, parameters substituted, its output in its log")
    func boto3JobRuns() async throws {
        try await Self.script(
            environment: ["CAPSIZE_SERVE_SECRET": "kept-from-jobs"],
            """
            definition = batch.register_job_definition(
                jobDefinitionName='hello', type='container', parameters={'greeting': 'hello'},
                containerProperties={
                    'image': 'public.ecr.aws/docker/library/python:3.12',
                    'command': ['sh', '-c', 'echo "$0 from $AWS_BATCH_JOB_ID on $AWS_BATCH_JQ_NAME"; env',
                                'Ref::greeting'],
                    'resourceRequirements': [{'type': 'VCPU', 'value': '1'}, {'type': 'MEMORY', 'value': '256'}]})
            job = batch.submit_job(jobName='greet', jobQueue='capsize-default', jobDefinition='hello',
                                   parameters={'greeting': 'bonjour'})
            done = wait([job['jobId']])[job['jobId']]
            result['definition'] = definition
            result['job'] = job['jobId']
            result['status'] = done['status']
            result['image'] = done['container']['image']
            result['command'] = done['container']['command']
            result['exitCode'] = done['container'].get('exitCode')
            result['jobDefinition'] = done['jobDefinition']
            described = batch.describe_job_definitions(jobDefinitionName='hello')['jobDefinitions']
            result['described'] = [(d['revision'], d['status'], d['containerProperties']['image']) for d in described]
            """
        ) { served, result in
            let job = try #require(result["job"] as? String)
            #expect(result["status"] as? String == "SUCCEEDED", "\(result)")
            #expect(result["image"] as? String == "public.ecr.aws/docker/library/python:3.12")
            #expect((result["command"] as? [String])?.last == "bonjour", "Ref::greeting became the submitted value")
            #expect(result["exitCode"] as? Int == 0)
            #expect(
                result["jobDefinition"] as? String
                    == "arn:aws:batch:us-east-1:000000000000:job-definition/hello:1")
            #expect((result["described"] as? [[Any]])?.first?.count == 3, "\(result)")

            let logs = try served.capsize(["logs", job])
            #expect(logs.stdout.contains("bonjour from \(job) on capsize-default"), "\(logs.stdout)\(logs.stderr)")
            #expect(!logs.stdout.contains("kept-from-jobs"), "a job saw capsize's environment")
            let listed = try served.capsize(["jobs", "--json"])
            #expect(listed.stdout.contains(job), "capsize jobs shows the server's jobs")

            let stopped = served.stop()
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(stopped.stderr.contains("capsize serve: stopped"), "\(stopped.stderr)")
        }
    }

    @Test("an array job's children see their index, and a job depending on the array starts after every child")
    func arrayAndDependency() async throws {
        try await Self.script(
            """
            shell_definition()
            queue = batch.describe_job_queues()['jobQueues'][0]['jobQueueArn']
            array = batch.submit_job(
                jobName='frames', jobQueue=queue, jobDefinition='shell', arrayProperties={'size': 3},
                containerOverrides={'command': ['sh', '-c', 'sleep 0.2; echo child $AWS_BATCH_JOB_ARRAY_INDEX']})
            after = batch.submit_job(
                jobName='after', jobQueue='capsize-default', jobDefinition='shell:1',
                dependsOn=[{'jobId': array['jobId']}], containerOverrides={'command': ['echo', 'after']})
            jobs = wait([array['jobId'], after['jobId']])
            children = batch.list_jobs(arrayJobId=array['jobId'], jobStatus='SUCCEEDED')['jobSummaryList']
            result['array'] = array['jobId']
            result['parent'] = jobs[array['jobId']]['status']
            result['summary'] = jobs[array['jobId']]['arrayProperties']
            result['children'] = sorted((c['jobId'], c['arrayProperties']['index'], c['stoppedAt']) for c in children)
            result['after'] = [jobs[after['jobId']]['status'], jobs[after['jobId']]['startedAt']]
            """
        ) { served, result in
            #expect(result["parent"] as? String == "SUCCEEDED", "\(result)")
            let summary = try #require(result["summary"] as? [String: Any])
            #expect(summary["size"] as? Int == 3)
            #expect((summary["statusSummary"] as? [String: Int])?["SUCCEEDED"] == 3, "\(summary)")
            let children = try #require(result["children"] as? [[Any]])
            #expect(children.map { $0[1] as? Int } == [0, 1, 2])
            let after = try #require(result["after"] as? [Any])
            #expect(after.first as? String == "SUCCEEDED")
            let lastChild = children.compactMap { $0[2] as? Int }.max() ?? .max
            #expect((after.last as? Int ?? 0) >= lastChild, "the dependent job started before a child ended")
            let array = try #require(result["array"] as? String)
            let logs = try served.capsize(["logs", array])
            for index in 0..<3 { #expect(logs.stdout.contains("child \(index)"), "\(logs.stdout)") }
        }
    }

    @Test(
        "what Batch refuses is a ClientException naming it: a job that can never fit, an unknown queue, bad JSON; the server keeps serving"
    )
    func refusalsKeepServing() async throws {
        try await Self.script(
            """
            shell_definition()
            def submit(**extra):
                request = dict(jobName='j', jobQueue='capsize-default', jobDefinition='shell')
                request.update(extra)
                return lambda: batch.submit_job(**request)
            result['gpu'] = error_of(submit(containerOverrides={'resourceRequirements': [{'type': 'GPU', 'value': '2'}]}))
            result['vcpu'] = error_of(submit(containerOverrides={'resourceRequirements': [{'type': 'VCPU', 'value': '256'}]}))
            result['queue'] = error_of(submit(jobQueue='no-such-queue'))
            result['definition'] = error_of(submit(jobDefinition='no-such-definition'))
            result['dependency'] = error_of(submit(dependsOn=[{'jobId': 'no-such-job'}]))
            def post(body):
                request = urllib.request.Request(os.environ['ENDPOINT'] + '/v1/submitjob', data=body, method='POST')
                try:
                    urllib.request.urlopen(request)
                    return None
                except urllib.error.HTTPError as error:
                    return [error.code, error.headers.get('x-amzn-ErrorType'), json.loads(error.read())]
            result['malformed'] = post(b'{"jobName": ')
            result['mistyped'] = post(b'{"jobName": 5, "jobQueue": "capsize-default", "jobDefinition": "shell"}')
            result['function'] = error_of(lambda: awslambda.invoke(FunctionName='nope', Payload=b'{}', LogType='Tail'))
            result['getFunction'] = error_of(lambda: awslambda.get_function(FunctionName='nope'))
            result['queues'] = [(q['jobQueueName'], q['state'], q['status'], len(q['computeEnvironmentOrder']))
                                for q in batch.describe_job_queues()['jobQueues']]
            environments = batch.describe_compute_environments()['computeEnvironments']
            result['environments'] = [(e['computeEnvironmentName'], e['computeResources']['maxvCpus'], e['tags'])
                                      for e in environments]
            job = batch.submit_job(jobName='still', jobQueue='capsize-default', jobDefinition='shell')
            result['after'] = wait([job['jobId']])[job['jobId']]['status']
            """
        ) { served, result in
            let gpu = try #require(result["gpu"] as? [Any], "a job asking 2 GPUs of 1 was accepted")
            #expect(gpu[0] as? String == "ClientException")
            #expect((gpu[1] as? String)?.contains("GPU") == true, "\(gpu)")
            #expect(gpu[2] as? Int == 400)
            #expect(((result["vcpu"] as? [Any])?[1] as? String)?.contains("VCPU") == true, "\(result)")
            #expect(((result["queue"] as? [Any])?[1] as? String)?.contains("no-such-queue") == true, "\(result)")
            #expect(((result["definition"] as? [Any])?[1] as? String)?.contains("no-such-definition") == true)
            #expect((result["dependency"] as? [Any])?[0] as? String == "ClientException", "\(result)")
            let malformed = try #require(result["malformed"] as? [Any])
            #expect(malformed[0] as? Int == 400)
            #expect(malformed[1] as? String == "ClientException")
            #expect((malformed[2] as? [String: Any])?["__type"] as? String == "ClientException")
            let mistyped = try #require(result["mistyped"] as? [Any])
            #expect(((mistyped[2] as? [String: Any])?["message"] as? String)?.contains("jobName") == true)
            #expect((result["function"] as? [Any])?[0] as? String == "ResourceNotFoundException", "\(result)")
            #expect((result["function"] as? [Any])?[2] as? Int == 404)
            #expect((result["getFunction"] as? [Any])?[0] as? String == "ResourceNotFoundException")
            let queues = try #require(result["queues"] as? [[Any]])
            #expect(queues.first?[0] as? String == "capsize-default")
            #expect(queues.first?[1] as? String == "ENABLED")
            let environment = try #require((result["environments"] as? [[Any]])?.first)
            #expect((environment[1] as? Int ?? 0) >= 1)
            #expect((environment[2] as? [String: String])?["capsize:gpus"] == "1")
            #expect(result["after"] as? String == "SUCCEEDED", "the server stopped serving after bad requests")
        }
    }

    @Test(
        "CancelJob fails a waiting job, TerminateJob stops a running one; ListJobs lists them FAILED; a signal stores a running job RUNNABLE"
    )
    func cancelAndTerminate() async throws {
        try await Self.script(
            """
            shell_definition()
            long = batch.submit_job(jobName='long', jobQueue='capsize-default', jobDefinition='shell',
                                    containerOverrides={'command': ['sleep', '60']})['jobId']
            waiting = batch.submit_job(jobName='waiting', jobQueue='capsize-default', jobDefinition='shell',
                                       dependsOn=[{'jobId': long}])['jobId']
            wait([long], states=('RUNNING',))
            result['running'] = [j['jobId'] for j in batch.list_jobs(jobQueue='capsize-default')['jobSummaryList']]
            batch.cancel_job(jobId=waiting, reason='not needed')
            batch.terminate_job(jobId=long, reason='too long')
            jobs = wait([long, waiting], seconds=20)
            result['long'] = [jobs[long]['status'], jobs[long]['statusReason'], jobs[long]['isTerminated']]
            result['waiting'] = [jobs[waiting]['status'], jobs[waiting]['statusReason'], jobs[waiting]['isCancelled']]
            failed = batch.list_jobs(jobQueue='capsize-default', jobStatus='FAILED')['jobSummaryList']
            result['failed'] = sorted(j['jobId'] for j in failed)
            result['ids'] = sorted([long, waiting])
            last = batch.submit_job(jobName='cut', jobQueue='capsize-default', jobDefinition='shell',
                                    containerOverrides={'command': ['sleep', '60']})['jobId']
            wait([last], states=('RUNNING',))
            result['last'] = last
            """
        ) { served, result in
            #expect((result["running"] as? [String])?.count == 1, "ListJobs without a status lists RUNNING jobs")
            let long = try #require(result["long"] as? [Any])
            #expect(long[0] as? String == "FAILED" && long[1] as? String == "too long", "\(long)")
            #expect(long[2] as? Bool == true, "isTerminated")
            let waiting = try #require(result["waiting"] as? [Any])
            #expect(waiting[0] as? String == "FAILED" && waiting[1] as? String == "not needed", "\(waiting)")
            #expect(waiting[2] as? Bool == true, "isCancelled")
            #expect(result["failed"] as? [String] == result["ids"] as? [String])
            let last = try #require(result["last"] as? String)
            let stopped = served.stop()
            #expect(stopped.status == 0, "\(stopped.stderr)")
            let listed = try served.capsize(["jobs", "--json"])
            let jobs = try #require(
                try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let cut = try #require(jobs.first { $0["id"] as? String == last })
            #expect(cut["state"] as? String == "RUNNABLE", "\(cut)")
        }
    }

    @Test(
        "registered job definitions outlive the server: the next one describes their revisions and runs them; an unreadable file is refused by name"
    )
    func definitionsPersist() async throws {
        try await onOwnThread {
            let first = try Served()
            _ = try first.python(
                """
                shell_definition('kept')
                shell_definition('kept')
                batch.deregister_job_definition(jobDefinition='kept:1')
                """)
            #expect(first.stop().status == 0)
            try "not json".write(toFile: first.home + "/job-definitions/broken.json", atomically: true, encoding: .utf8)
            let second = try Served(home: first.home)
            let result = try second.python(
                """
                kept = batch.describe_job_definitions(jobDefinitionName='kept')['jobDefinitions']
                result['kept'] = [[d['revision'], d['status']] for d in kept]
                job = batch.submit_job(jobName='again', jobQueue='capsize-default', jobDefinition='kept')['jobId']
                result['job'] = wait([job])[job]['status']
                result['third'] = shell_definition('kept')['revision']
                result['broken'] = error_of(lambda: shell_definition('broken'))
                """)
            #expect(second.stop().status == 0)
            #expect(result["kept"] as? [[AnyHashable]] == [[1, "INACTIVE"], [2, "ACTIVE"]], "\(result)")
            #expect(result["job"] as? String == "SUCCEEDED")
            #expect(result["third"] as? Int == 3)
            let broken = try #require(result["broken"] as? [Any])
            #expect((broken[1] as? String)?.contains("job-definitions/broken.json") == true, "\(broken)")
            #expect(
                try String(contentsOfFile: first.home + "/job-definitions/broken.json", encoding: .utf8) == "not json",
                "left as it was")
        }
    }

    @Test("the AWS CLI submits a job and describes it to SUCCEEDED with --endpoint-url")
    func awsCLI() async throws {
        try await onOwnThread {
            let aws = try #require(awsCommand, "the AWS CLI is missing: run scripts/setup.sh")
            let served = try Served()
            let environment = [
                "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
            ]
            func call(_ arguments: [String]) throws -> [String: Any] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: aws)
                process.arguments = ["batch"] + arguments + ["--endpoint-url", served.url, "--output", "json"]
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
                let output = try runToEnd(process)
                guard output.status == 0,
                    let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
                else { throw ServeFailure(message: "aws \(arguments): \(output.stdout) \(output.stderr)") }
                return object
            }
            _ = try call([
                "register-job-definition", "--job-definition-name", "cli", "--type", "container",
                "--container-properties",
                #"{"image": "busybox", "command": ["echo", "from the cli"], "resourceRequirements": "#
                    + #"[{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]}"#,
            ])
            let submitted = try call([
                "submit-job", "--job-name", "cli-job", "--job-queue", "capsize-default", "--job-definition", "cli",
            ])
            let id = try #require(submitted["jobId"] as? String)
            var status = ""
            let deadline = Date().addingTimeInterval(60)
            while !["SUCCEEDED", "FAILED"].contains(status) && Date() < deadline {
                let described = try call(["describe-jobs", "--jobs", id])
                status = ((described["jobs"] as? [[String: Any]])?.first?["status"] as? String) ?? ""
            }
            #expect(status == "SUCCEEDED")
            #expect(try served.capsize(["logs", id]).stdout.contains("from the cli"))
        }
    }
}

/// `capsize serve`'s own options, without a client.
@Suite struct ServeCommandTests {
    @Test("--listen takes an address, not a name; a non-loopback one is warned about before it is tried")
    func listenAddresses() throws {
        let home = TestFolder("capsize-serve-listen")
        try expectBadInput(
            ["serve", "--listen", "example.com", "--gpu-slots", "0"], mentions: "--listen", home: home.path)
        // TEST-NET-1 is never this host's: the warning comes, then the bind fails.
        let result = try capsize(
            ["serve", "--listen", "192.0.2.1", "--port", "0", "--gpu-slots", "0"],
            environment: ["CAPSIZE_HOME": home.path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("NOT ON LOOPBACK"), "\(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 192.0.2.1:0"), "\(result.stderr)")
    }
}
