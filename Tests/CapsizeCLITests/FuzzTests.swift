import Foundation
import TestSupport
import Testing

// The fuzz suite: every option of every subcommand (read from `capsize <sub> --experimental-dump-help`), every
// workload parameter (from `capsize workloads`), the program after `--`, and every field of every input file
// (`submit --queues`, `recommend --prices`, `export FILE`, `--env-file`, `invoke --payload`, the worker's stdin) get
// hostile values one at a time (Fuzz/HostileValues.swift), on a command line that is cheap when valid. Each case
// runs in folders of its own (Fuzz/FuzzRunner.swift) and must: not trap (no signal, no exit 132/134/139), end within
// its time limit, exit 0, 1 or 2, print exactly one line on stderr besides notices and warnings when it exits 2 (a
// line naming the option or field, not "Missing value" for a value that was given), refuse what no option may take
// (NaN, infinities, a fraction for a whole number, empty), create nothing outside its folders, run nothing injected,
// and leave no process behind. A second test runs faulty programs (segfault, abort, one that ignores SIGTERM, one
// that daemonizes, one that floods stdout, one that reads /dev/tty) through submit, bench and invoke.
//
// By default it runs 400 cases of seed 1 (about 80 s on 2 cores, debug build), every group of cases at least
// once. Environment variables:
//   CAPSIZE_FUZZ_CASES=N     run N cases (a longer campaign: 2000; the first N of a seed are always the same)
//   CAPSIZE_FUZZ_SEED=S      another seed (it is printed with every failure)
//   CAPSIZE_FUZZ_FILTER=TEXT run every case whose "command target class" contains TEXT, or any of TEXT|TEXT…
//                            (to replay one case, or the classes of a knownFailures line)
//   CAPSIZE_FUZZ_JOBS=J      cases at once (default 2: more slows the timing-sensitive suites beside it)
//   CAPSIZE_FUZZ_TIMEOUT=T   seconds a case may take before it counts as a hang (default 20)
//   CAPSIZE_FUZZ_REPORT=FILE write every failure, known or not, as a Markdown list to FILE
//   CAPSIZE_FUZZ_KEEP=1      keep each case's folder under $TMPDIR/capsize-fuzz-*

/// A failure capsize is known to have today. The fuzz tests pass while every failure they see is listed here and
/// fail on any other; a fix removes its entries (a listed failure a run no longer sees is printed as fixed).
struct KnownFailure: Sendable {
    /// The subcommand (`submit`, `runs show`, `submit --backend slurm`); `*` for any.
    var command: String
    /// The option, parameter, field or fault (`--gpu-slots`, `train-mlp --batch`, `--prices ec2.instances`);
    /// `*` for any, and a trailing `*` matches any suffix.
    var target: String
    /// The value classes (`HostileValues`) it fails on; `*` for any.
    var classes: [String]
    var kind: FuzzFailure.Kind
    /// What it does today.
    var observed: String
    /// A piece of what the failure says (its first stderr line): the mark of one cause across many targets.
    var says: String?

    init(
        _ command: String, _ target: String, _ classes: [String], _ kind: FuzzFailure.Kind, _ observed: String,
        says: String? = nil
    ) {
        self.command = command
        self.target = target
        self.classes = classes
        self.kind = kind
        self.observed = observed
        self.says = says
    }

    /// Whether the entry is about `fuzzCase` (whatever happened to it).
    func covers(_ fuzzCase: FuzzCase) -> Bool {
        let targetMatches =
            target.hasSuffix("*") ? fuzzCase.target.hasPrefix(target.dropLast()) : fuzzCase.target == target
        return (command == "*" || command == fuzzCase.command) && targetMatches
            && (classes.contains("*") || classes.contains(fuzzCase.valueClass))
    }

    /// Whether the entry is `failure` of `fuzzCase`.
    func matches(_ fuzzCase: FuzzCase, _ failure: FuzzFailure) -> Bool {
        failure.kind == kind && covers(fuzzCase) && (says.map { failure.detail.contains($0) } ?? true)
    }
}

/// The classes of a negative number given as the word after its option.
private let negativeNumbers = ["negative", "negative-zero", "-1e300", "-inf", "int-min", "nan"]

/// The failures the fuzz tests still see in today's capsize (the 73 lines of the first campaign are down to these;
/// each line that no case fails any more is reported as fixed, and then removed). A case failing in a way not listed
/// here fails the test.
let knownFailures: [KnownFailure] = [
    KnownFailure(
        "*", "*", negativeNumbers, .missingValue, "`--memory -1`: Missing value for '--memory <memory>'",
        says: "Missing value for"),
    KnownFailure(
        "export", "<FILE>", ["leading-dash"], .unnamed, "`export -x`: Missing expected argument '<FILE>'",
        says: "Missing expected argument '<FILE>'"),
]

/// The fuzz tests' settings, from the environment (see the top of this file).
struct FuzzSettings {
    var cases = 400
    var seed: UInt64 = 1
    var filter: String?
    var jobs = 2
    var timeout = 20.0
    var report: String?
    var keep = false

    init() {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["CAPSIZE_FUZZ_CASES"], let value = Int(text) { cases = value }
        if let text = environment["CAPSIZE_FUZZ_SEED"], let value = UInt64(text) { seed = value }
        if let text = environment["CAPSIZE_FUZZ_FILTER"], !text.isEmpty { filter = text }
        if let text = environment["CAPSIZE_FUZZ_JOBS"], let value = Int(text) { jobs = value }
        if let text = environment["CAPSIZE_FUZZ_TIMEOUT"], let value = Double(text) { timeout = value }
        report = environment["CAPSIZE_FUZZ_REPORT"]
        keep = environment["CAPSIZE_FUZZ_KEEP"] == "1"
    }
}

/// The parameters that keep a train-mlp run to milliseconds.
private let fuzzMLP = ["--steps", "1", "--batch", "4", "--inputs", "4", "--hidden", "4"]

/// A CAPSIZE_HOME with one run of each kind in it (so that `jobs`, `logs`, `runs show` and `--resume` find
/// something), and a saved recommendation for `export`.
struct FuzzTemplate {
    let home: String
    let run: String
    /// The bench run (`compare` compares it with itself: no change, exit 0).
    let bench: String
    /// A suite run of `FuzzTemplate.suite` (for `report`).
    let suite: String
    /// A suite that takes a second: one bench of /bin/true.
    static let suite = """
        name: fuzz
        benchmarks:
          - name: true
            workload: command
            command: [/bin/true]
            executor: bench
            repeat: 1
            warmup: 0
        """
    let job: String
    let recommendation: String

    init(root: String) throws {
        home = root + "/template"
        let environment = ["CAPSIZE_HOME": home]
        for arguments in [
            ["submit", "--array", "2", "--", "/bin/true"],
            ["bench", "command", "--repeat", "1", "--warmup", "0", "--", "/bin/true"],
            ["invoke", "command", "--", "/bin/true"],
            [
                "caps", "command", "--param", "size=1,2", "--only-listed", "--memory", "128", "--refine", "0", "--",
                "/bin/true",
            ],
        ] {
            let result = try capsize(arguments, environment: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        try Self.suite.write(toFile: root + "/suite.yaml", atomically: true, encoding: .utf8)
        let suiteRun = try capsize(["run", root + "/suite.yaml", "--out", root + "/report"], environment: environment)
        #expect(suiteRun.status == 0, "\(suiteRun.stderr)")
        let recommend = try capsize(
            ["recommend", "command", "--runs", "10", "--json", "--", "/bin/true"], environment: environment)
        #expect(recommend.status == 0, "\(recommend.stderr)")
        recommendation = recommend.stdout
        let runs = try JSONSerialization.jsonObject(
            with: Data(try capsize(["runs", "list", "--json"], environment: environment).stdout.utf8))
        run = ((runs as? [[String: Any]])?.first?["id"] as? String) ?? "none"
        bench = ((runs as? [[String: Any]])?.first { $0["kind"] as? String == "bench" }?["id"] as? String) ?? "none"
        suite = ((runs as? [[String: Any]])?.first { $0["kind"] as? String == "suite" }?["id"] as? String) ?? "none"
        let jobs = try JSONSerialization.jsonObject(
            with: Data(try capsize(["jobs", "--json"], environment: environment).stdout.utf8))
        job = ((jobs as? [[String: Any]])?.first?["id"] as? String) ?? "none"
    }
}

@Suite(.serialized) struct FuzzTests {
    static let binary = capsizeProcess([]).executableURL!.path

    /// The command lines each subcommand's cases start from (several: a case takes one by turns).
    static func bases(_ template: FuzzTemplate) -> [String: [FuzzBase]] {
        let program = ["--", "/bin/true"]
        let once = ["--repeat", "1", "--warmup", "0"]
        let recommendation = "@CASE@/files/recommendation.json"
        return [
            "devices": [FuzzBase(options: ["--json"])],
            "workloads": [FuzzBase()],
            "bench": [
                FuzzBase(head: ["train-mlp"], options: ["--device", "cpu"] + once, tail: fuzzMLP),
                FuzzBase(head: ["command"], options: once, tail: program),
                FuzzBase(
                    head: ["render-frames"], options: once, tail: ["--width", "16", "--height", "16", "--frames", "1"]),
            ],
            "invoke": [FuzzBase(head: ["command"], tail: program), FuzzBase(head: ["train-mlp"], tail: fuzzMLP)],
            "submit": [FuzzBase(tail: program), FuzzBase(tail: ["--", "train-mlp"] + fuzzMLP)]
                // Every submit option once more on the test cluster, where there is one (scripts/slurm.sh up).
                + (slurmProblem == nil
                    ? [FuzzBase(options: ["--backend", "slurm"], tail: program, label: "submit --backend slurm")] : []),
            "jobs": [FuzzBase()],
            "logs": [FuzzBase(head: [template.job])],
            "compare": [FuzzBase(head: [template.bench, template.bench])],
            "run": [FuzzBase(head: ["@CASE@/files/suite.yaml"], options: ["--out", "@CASE@/work/report", "--quiet"])],
            "report": [FuzzBase(head: [template.suite], options: ["--out", "@CASE@/work/report"])],
            "runs list": [FuzzBase()],
            "runs show": [FuzzBase(head: [template.run])],
            "sweep": [FuzzBase(head: ["command"], options: ["--param", "size=1,2"], tail: program)],
            "caps": [
                FuzzBase(
                    head: ["command"],
                    options: ["--param", "size=1,2", "--only-listed", "--memory", "128", "--refine", "0"],
                    tail: program)
            ],
            "recommend": [
                // --placeholder: an --export of its own (a fuzzed folder) needs an image or a placeholder.
                FuzzBase(head: ["command"], options: ["--runs", "10", "--placeholder"], tail: program),
                FuzzBase(
                    head: ["command"], options: ["--runs", "10", "--export", "out", "--placeholder"], tail: program),
            ],
            "export": [
                FuzzBase(head: [recommendation], options: ["--format", "sam", "--placeholder"]),
                FuzzBase(head: [recommendation], options: ["--format", "sbatch", "--option", "batch-c7i.large"]),
            ],
            "worker": [FuzzBase()],
            "function create": [
                FuzzBase(head: ["fz"], options: ["--code", "@CASE@/files", "--handler", "app.handler", "--replace"])
            ],
            "function list": [FuzzBase(options: ["--json"])],
            "function get": [FuzzBase(head: ["fz"])],
            "function delete": [FuzzBase(head: ["fz"])],
            // An address of the documentation range (TEST-NET-1), never this host's: binding it fails at once (exit 1),
            // so a valid value of any option ends the case instead of serving.
            "serve": [FuzzBase(options: ["--listen", "192.0.2.1", "--port", "0", "--gpu-slots", "0"])],
        ]
    }

    /// What an option takes, from its value name, default and help; nil leaves it out (slow by design).
    static func kind(_ command: CLISurface.Command, _ argument: CLISurface.Argument) -> FuzzValueKind? {
        if argument.isFlag { return command.name == "devices" && argument.name == "--calibrate" ? nil : .choice }
        switch (argument.valueName, argument.name) {
        case ("parameters", _), ("subcommands", _): return nil
        case ("FILE", _): return .inputFile
        case ("DIR", _), (_, "--save-frames"), (_, "--dead-letter-dir"), (_, "--kernels"): return .directory
        case ("LIST", "--architectures"): return .wordList
        case ("LIST", _): return .numberList
        case ("NAME=SIZES", _): return .sizes
        case ("K=V", _): return .keyValue
        case (_, "--pass-env"): return .variableName
        case ("RUN", _), ("JOB", _), ("ID", _), ("NAME", _), (_, "--depends-on"): return .identifier
        case ("workload", _), (_, "--evaluate-on-exit"): return .choice
        case (_, "--name"), (_, "--image"): return .text
        case (_, "--max-vcpus"), (_, "--timeout"): return .number
        case (_, "--gpu-slots"): return .integer
        default: break
        }
        if !argument.allValues.isEmpty { return .choice }
        if let value = argument.defaultValue {
            if value.contains(",") { return .numberList }
            if Int(value) != nil { return .integer }
            if Double(value) != nil { return .number }
            return .choice
        }
        if let range = argument.abstract.firstMatch(of: /\((-?[0-9.]+)\.\.\.(-?[0-9.]+)\)/) {
            return (range.1 + range.2).contains(".") ? .number : .integer
        }
        return .text
    }

    /// Values some options are given besides those of their kind.
    static let extras: [String: [HostileValue]] = [
        "--evaluate-on-exit": [
            HostileValue("RETRY:exitCode:", "empty-glob"), HostileValue("::", "empty-parts"),
            HostileValue("RETRY:reason:[", "bad-glob"), HostileValue("RETRY:exitCode:1:x", "extra-part"),
        ],
        "--depends-on": [
            HostileValue("x:N_TO_N", "unknown-job-n-to-n"), HostileValue("SEQUENTIAL", "sequential"),
        ],
        "--param": [HostileValue("size=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "many-sizes")],
    ]

    /// What no program after `--` can be: each must be refused before anything runs.
    static let programs: [HostileValue] = [
        HostileValue("", "empty", refuse: true),
        HostileValue("@CASE@/files", "a-directory", refuse: true),
        HostileValue("fz-no-such-program", "not-on-path", refuse: true),
        HostileValue("./fz-relative", "relative", refuse: true),
        HostileValue("@CASE@/files/garbage.bin", "not-executable", refuse: true),
        HostileValue("/dev/null", "a-device", refuse: true),
        HostileValue("-x", "leading-dash", refuse: true),
        HostileValue("$(touch @MARK@)", "command-substitution", refuse: true),
        HostileValue("x\ntouch @MARK@", "newline", refuse: true),
    ]

    /// Contents of an `--env-file` (K=V lines).
    static let environmentFiles: [HostileValue] = [
        HostileValue("A=1\nB\n", "no-equals", refuse: true),
        HostileValue("=1\n", "empty-key", refuse: true),
        HostileValue("A B=1\n", "space-in-key", refuse: true),
        HostileValue("export A=1\n", "export"),
        HostileValue("A=\"quoted\"\n", "quotes"),
        HostileValue("A=1\u{0}B=2\n", "nul"),
        HostileValue("A=1\r\nB=2\r\n", "crlf"),
        HostileValue("CAPSIZE_HOME=@CASE@/../fz-home\n", "capsize-home"),
        HostileValue("A=@HUGE@\n", "huge-line"),
        HostileValue("Ä=1\n", "unicode-key"),
        HostileValue("# only a comment\n\n", "comments-only"),
        HostileValue("A=$(touch @MARK@)\n", "command-substitution"),
    ]

    /// Contents of an `invoke --payload` file.
    static let payloads: [HostileValue] = [
        HostileValue("@HUGE@", "over-the-limit", refuse: true),
        HostileValue("not json", "not-json"),
        HostileValue("@DEEP@", "deep-nesting"),
        HostileValue("", "empty"),
    ]

    /// The input files and the command lines that read them.
    static func inputFiles(_ template: FuzzTemplate) throws -> [FuzzInputFile] {
        let queues = #"""
            {"computeEnvironments": [
              {"computeEnvironmentName": "a", "minvCpus": 0, "maxvCpus": 1, "memoryMiB": 2048, "gpus": 0,
               "provisioningSeconds": 1, "idleTeardownSeconds": 1}],
             "jobQueues": [
              {"jobQueueName": "q", "priority": 10, "state": "ENABLED",
               "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "a"}]},
              {"jobQueueName": "fair", "priority": 1, "state": "ENABLED",
               "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "a"}],
               "fairsharePolicy": {"shareDecaySeconds": 60,
                 "shareDistribution": [{"shareIdentifier": "alice", "weightFactor": 0.5}]}}]}
            """#
        let prices = try String(contentsOf: packageRoot.appendingPathComponent("data/prices.json"), encoding: .utf8)
        let event =
            #"{"version":1,"requestId":"r","workload":"train-mlp","arguments":["--steps","1","--batch","4"],"device":"cpu"}"#
        return [
            FuzzInputFile(
                command: "submit", option: "--queues", name: "queues.json", document: queues,
                arguments: ["submit", "--queues", "FILE", "--", "/bin/true"],
                integers: ["memoryMiB", "gpus", "order", "priority"], alsoNamed: ["computeEnvironmentOrder"]),
            FuzzInputFile(
                command: "recommend", option: "--prices", name: "prices.json", document: prices,
                arguments: ["recommend", "command", "--runs", "10", "--prices", "FILE", "--", "/bin/true"],
                integers: ["billingGranularityMs", "memoryPresetsMB", "count", "vcpus"]),
            FuzzInputFile(
                command: "export", option: "<FILE>", name: "recommendation.json", document: template.recommendation,
                arguments: ["export", "FILE", "--format", "sbatch", "--option", "batch-c7i.large"], strict: false,
                skipping: ["recommendation.bestOfEach[*].option.", "recommendation.pick."], alsoNamed: ["--option"]),
            FuzzInputFile(
                command: "worker", option: "stdin", name: "event.json", document: event, arguments: ["worker"],
                isStdin: true, namesFields: false),
        ]
    }

    /// Every case of today's capsize, grouped.
    static func plan(_ template: FuzzTemplate) throws -> FuzzPlan {
        let surface = try CLISurface(binary: binary)
        let bases = Self.bases(template)
        for command in surface.commands where bases[command.name] == nil {
            Issue.record("no base command line for `capsize \(command.name)`: add one to FuzzTests.bases")
        }
        var plan = FuzzPlan()
        plan.addOptions(surface: surface, bases: bases, kind: kind, extras: extras)
        for (command, base) in [
            ("submit", FuzzBase(tail: ["--", "/bin/true"])), ("bench", bases["bench"]![1]),
            ("invoke", bases["invoke"]![0]), ("sweep", bases["sweep"]![0]), ("recommend", bases["recommend"]![0]),
        ] {
            plan.addPrograms(programs, command: command, base: base)
        }
        for file in try inputFiles(template) { plan.addFile(file) }
        plan.addContents(
            command: "submit", option: "--env-file", name: "variables.env",
            arguments: ["submit", "--env-file", "FILE", "--", "/bin/true"], contents: environmentFiles, refuse: true)
        plan.addContents(
            command: "invoke", option: "--payload", name: "payload.json",
            arguments: ["invoke", "command", "--payload", "FILE", "--", "/bin/true"], contents: payloads,
            refuse: true)
        return plan
    }

    @Test(
        "hostile values in every option, parameter and input file: no trap, no hang, one line on exit 2, nothing outside"
    )
    func hostileInputs() throws {
        let settings = FuzzSettings()
        let root = try temporaryDirectory("capsize-fuzz")
        defer { if !settings.keep { FuzzRunner.removeTree(root) } }
        let template = try FuzzTemplate(root: root)
        let plan = try Self.plan(template)
        var cases = plan.cases(count: settings.cases, seed: settings.seed)
        if let filter = settings.filter {
            let alternatives = filter.split(separator: "|")
            cases = plan.groups.flatMap(\.cases).filter { fuzzCase in
                let name = "\(fuzzCase.command) \(fuzzCase.target) \(fuzzCase.valueClass)"
                return alternatives.contains { name.contains($0) }
            }
        }
        let fixtures: [String: FuzzFile] = [
            "recommendation.json": .text(template.recommendation), "variables.env": .text("A=1\n"),
            "suite.yaml": .text(FuzzTemplate.suite),
        ]
        let runner = FuzzRunner(
            binary: Self.binary, root: root, template: template.home, fixtures: fixtures, timeout: settings.timeout,
            keep: settings.keep, environment: ["SLURM_CONF": slurmConf])
        let start = Date()
        let strays = FuzzRunner.strays()
        let outcomes = runner.runAll(cases, jobs: settings.jobs)
        let escaped = FuzzRunner.strays().subtracting(strays)
        #expect(escaped.isEmpty, "written outside every case's folders during the run: \(escaped.sorted())")
        let report = FuzzReport(cases: cases, outcomes: outcomes, known: knownFailures, settings: settings)
        print(
            "fuzz: \(cases.count) of \(plan.total) cases (\(plan.groups.count) groups), seed \(settings.seed), "
                + "\(settings.jobs) at a time, \(Int(Date().timeIntervalSince(start).rounded())) s")
        report.finish()
    }

    /// A program that misbehaves, as the words after `--`.
    static let faults: [(name: String, argv: [String], fails: Bool)] = [
        ("segfault", ["/bin/sh", "-c", "kill -SEGV $$"], true),
        ("abort", ["/bin/sh", "-c", "kill -ABRT $$"], true),
        ("ignores-sigterm", ["/bin/sh", "-c", "trap '' TERM; sleep 60"], true),
        (
            "daemonizes",
            ["/bin/sh", "-c", "(setsid /bin/sh -c 'sleep 120; : @MARK@' </dev/null >/dev/null 2>&1 &); echo started"],
            false
        ),
        ("floods-stdout", ["/bin/sh", "-c", "yes | head -c 50000000"], false),
        ("reads-tty", ["/bin/sh", "-c", "read x </dev/tty"], true),
    ]

    @Test("a program that crashes, hangs on SIGTERM, daemonizes, floods or reads the terminal ends with a record")
    func faultyPrograms() throws {
        let settings = FuzzSettings()
        let root = try temporaryDirectory("capsize-faults")
        defer { if !settings.keep { FuzzRunner.removeTree(root) } }
        var cases: [FuzzCase] = []
        for fault in Self.faults {
            // A job ignoring SIGTERM meets its timeout; a bench has none and is interrupted instead (Ctrl-C).
            let timeout = fault.name == "ignores-sigterm"
            for (command, options) in [
                ("submit", ["submit", "--json"] + (timeout ? ["--timeout", "1", "--terminate-grace", "1"] : [])),
                ("bench", ["bench", "command", "--repeat", "1", "--warmup", "0", "--json"]),
                ("invoke", ["invoke", "command", "--json"] + (timeout ? ["--timeout", "1"] : [])),
            ] {
                var fuzzCase = FuzzCase(
                    command: command, target: "fault", valueClass: fault.name,
                    arguments: options + ["--"] + fault.argv)
                fuzzCase.onTerminal = fault.name == "reads-tty"
                fuzzCase.interruptAfter = timeout && command == "bench" ? 1.5 : nil
                let interrupted = fuzzCase.interruptAfter != nil
                fuzzCase.verify = { outcome, run in
                    FaultRecord.check(
                        command: command, outcome: outcome, fails: fault.fails, interrupted: interrupted, run: run)
                }
                cases.append(fuzzCase)
            }
        }
        let runner = FuzzRunner(binary: Self.binary, root: root, timeout: 30, keep: settings.keep)
        let outcomes = runner.runAll(cases, jobs: settings.jobs)
        FuzzReport(cases: cases, outcomes: outcomes, known: knownFailures, settings: settings).finish()
    }
}

/// What a fault case must leave: a record of how the program ended, and the exit code scripts trust (1 when it
/// failed, 0 when it did not; an interrupted run neither 0 nor 2, and stored as interrupted).
enum FaultRecord {
    static func check(command: String, outcome: FuzzOutcome, fails: Bool, interrupted: Bool, run: String)
        -> [FuzzFailure]
    {
        var failures: [FuzzFailure] = []
        let expected: Int32 = fails ? 1 : 0
        if interrupted {
            // Ended by the Ctrl-C (SIGINT, as a shell's 130) or by an exit code of its own, but not as done or refused.
            if outcome.status == 0 || outcome.status == 2 {
                failures.append(FuzzFailure(kind: .exitCode, detail: "interrupted, \(outcome.ending)"))
            }
            let listed = try? capsize(["runs", "list", "--json"], environment: ["CAPSIZE_HOME": run + "/home"])
            let runs = (try? JSONSerialization.jsonObject(with: Data((listed?.stdout ?? "").utf8))) as? [[String: Any]]
            let status = runs?.first?["status"] as? String
            if status != "interrupted" {
                failures.append(FuzzFailure(kind: .record, detail: "the run is \(status ?? "not stored")"))
            }
            return failures
        }
        if outcome.timedOut || outcome.signal != nil { return [] }
        if outcome.status != expected {
            failures.append(
                FuzzFailure(kind: .exitCode, detail: "\(outcome.ending), expected \(expected): \(outcome.firstLine)"))
        }
        // Through a terminal, stdout is the terminal's text: the JSON is between its first { and last }.
        let text = outcome.stdout
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close,
            let report = (try? JSONSerialization.jsonObject(with: Data(text[open...close].utf8))) as? [String: Any]
        else {
            return failures + [FuzzFailure(kind: .record, detail: "no JSON report: \(outcome.firstLine)")]
        }
        let record: [String: Any]?
        let ended: Bool
        switch command {
        case "submit":
            record = (report["jobs"] as? [[String: Any]])?.first
            let state = record?["state"] as? String
            ended = fails ? state == "FAILED" && record?["statusReason"] != nil : state == "SUCCEEDED"
        case "bench":
            record = (report["runs"] as? [[String: Any]])?.first
            let metrics = record?["metrics"] as? [String: Double] ?? [:]
            ended = fails ? metrics["exit_code"] != 0 || metrics["signal"] != nil : metrics["exit_code"] == 0
        default:
            record = (report["invocations"] as? [[String: Any]])?.first
            let status = record?["status"] as? String
            ended = fails ? status != nil && status != "success" : status == "success"
        }
        if !ended {
            failures.append(
                FuzzFailure(kind: .record, detail: "the record does not say it \(fails ? "failed" : "succeeded")"))
        }
        return failures
    }
}
