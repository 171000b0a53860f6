import Foundation
import Synchronization
import TestSupport

/// A file a fuzz case puts in its `files/` folder: text (with `HostileValues`' placeholders filled in), bytes, or a
/// JSON document with a few of its values replaced (made when the case runs, so that a thousand cases do not each
/// hold a copy).
enum FuzzFile: Sendable {
    case text(String)
    case bytes([UInt8])
    /// `document` with the values at `places` replaced by `token` (a JSON text), or removed when it is nil.
    case edited(FuzzJSON, places: [[FuzzJSON.Step]], token: String?)

    /// The file's bytes, with `fill` applied to text.
    func bytes(filling fill: (String) -> String) -> Data {
        switch self {
        case .text(let text): return Data(fill(text).utf8)
        case .bytes(let bytes): return Data(bytes)
        case .edited(let document, let places, let token):
            var changed = document
            for place in places {
                changed = token.map { changed.replacing(place, with: .raw($0)) } ?? changed.removing(place)
            }
            return Data(fill(changed.text).utf8)
        }
    }
}

/// One fuzz case: a command line (and the files it reads) with one hostile value in one place.
struct FuzzCase: Sendable {
    /// The subcommand (`submit`, `runs show`) the known failures are keyed by.
    var command: String
    /// Where the hostile value went: an option (`--memory`), a workload's parameter (`train-mlp --batch`), a file's
    /// field (`--queues jobQueues[*].priority`) or the whole file (`--queues <document>`), a positional (`<JOB>`).
    var target: String
    /// The value's class (`nan`, `newline`, `deep-nesting`): the same name for every seed.
    var valueClass: String
    /// The command line after `capsize`, with placeholders.
    var arguments: [String]
    /// Files put in the case's `files/` folder, by name, besides the fixtures every case gets.
    var files: [String: FuzzFile] = [:]
    /// A file of `files/` given as stdin (otherwise /dev/null).
    var stdin: String?
    /// Every value of this kind must be refused (exit 2).
    var mustRefuse: Bool = false
    /// What the line of a refusal must contain one of (the option, the field's key, the file's name); empty: anything.
    var mentions: [String] = []
    /// The value is a negative number, which is a value and not an option ("Missing value" is wrong for it).
    var negativeNumber = false
    /// Values that name a folder the case may write into (a `--export DIR`), relative to its working directory.
    var outputs: [String] = []
    /// Run capsize on a pseudo-terminal of its own (util-linux `script`), as from an interactive shell.
    var onTerminal = false
    /// Send SIGINT to capsize's process group (a Ctrl-C) this many seconds after it started.
    var interruptAfter: Double?
    /// Checks of its own, given the outcome and the case's `run/` folder (before it is removed).
    var verify: (@Sendable (FuzzOutcome, String) -> [FuzzFailure])?

    /// The command line as a shell would take it, placeholders left in (long values cut).
    var commandLine: String {
        (["capsize"] + arguments).map { word in
            var text = word.count > 80 ? String(word.prefix(40)) + "…(\(word.count) characters)" : word
            text = text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
            if text.isEmpty || text.contains(where: { " \t'\"$`\\;|&<>()*?#~".contains($0) }) {
                text = "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
            }
            return text
        }.joined(separator: " ")
    }
}

/// What went wrong in a case, by kind; a case can fail in several ways at once.
struct FuzzFailure: Hashable, Sendable {
    enum Kind: String, Sendable, CaseIterable {
        /// capsize died of a signal or exited 132, 134 or 139 (a Swift trap, an abort, a segfault).
        case trap
        /// It did not end within the case's time limit.
        case hang
        /// It exited with a code other than 0 (done), 1 (something it ran failed) and 2 (bad input).
        case exitCode = "exit-code"
        /// It exited 2 with other than one line on stderr (notices and warnings aside).
        case lines
        /// It answered "Missing value" for a value that was given (a negative number, a word starting with -).
        case missingValue = "missing-value"
        /// Its one line does not name the option, the parameter or the field that was wrong.
        case unnamed
        /// It accepted a value that must be refused (NaN, an infinity, a fraction for a whole number, empty).
        case accepted
        /// It created a file or folder outside the case's folders.
        case outside
        /// A command from the value ran: the marker file exists.
        case injected
        /// A process it started was still running after it ended.
        case leftover
        /// No record says how what it ran ended (a fault case).
        case record
    }

    var kind: Kind
    var detail: String
}

/// How a case ended and what the checks found.
struct FuzzOutcome: Sendable {
    var status: Int32?
    var signal: Int32?
    var timedOut = false
    var seconds = 0.0
    var stdout = ""
    var stderr = ""
    var failures: [FuzzFailure] = []

    /// The stderr lines that count: notices and warnings aside, blank lines aside.
    var errorLines: [Substring] {
        stderr.split(separator: "\n").filter { line in
            !["notice:", "warning:", "capsize: notice:", "capsize: warning:"].contains { line.hasPrefix($0) }
        }
    }

    /// The first line of stderr that says the most: a Swift runtime's fatal error, else the first error line.
    var firstLine: String {
        let lines = stderr.split(separator: "\n")
        let line = lines.first { $0.contains("Fatal error") } ?? errorLines.first ?? lines.first ?? ""
        return String(line.prefix(200))
    }

    /// How it ended, in a few words: `exit 2`, `signal 4`, `timed out after 20 s`.
    var ending: String {
        if timedOut { return "timed out after \(Int(seconds.rounded())) s" }
        if let signal { return "signal \(signal)" }
        return "exit \(status ?? -1)"
    }
}

/// Runs fuzz cases, each in a folder of its own under `root`: `run/work` (its working directory), `run/home`
/// (`CAPSIZE_HOME`, a copy of `template` when there is one), `run/user` (`HOME`), `run/tmp` (`TMPDIR`) and
/// `run/files` (its input files). Anything that appears beside `run/` or inside it beside those folders was written
/// outside the run's folders; `c<N>/fzmark` is the file an injected command would create.
struct FuzzRunner: Sendable {
    let binary: String
    let root: String
    /// A CAPSIZE_HOME with runs in it, copied into each case's home.
    var template: String?
    /// Files every case gets in `files/`.
    var fixtures: [String: FuzzFile] = [:]
    /// Seconds a case may take before it counts as a hang.
    var timeout: Double = 20
    /// Keep each case's folder (to look into it) instead of removing it.
    var keep = false
    /// Variables every case gets besides this process's (`SLURM_CONF`).
    var environment: [String: String] = [:]

    static let runFolders: Set<String> = ["work", "home", "user", "tmp", "files"]

    /// Runs `fuzzCase` as case `index` and checks it.
    func run(_ fuzzCase: FuzzCase, index: Int) -> FuzzOutcome {
        let caseRoot = root + "/c\(index)"
        let run = caseRoot + "/run"
        let marker = caseRoot + "/fzmark"
        defer { if !keep { Self.removeTree(caseRoot) } }
        let fill = { (text: String) in HostileValues.fill(text, marker: marker, caseFolder: run) }
        let manager = FileManager.default
        for folder in Self.runFolders where folder != "home" || template == nil {
            try? manager.createDirectory(atPath: run + "/" + folder, withIntermediateDirectories: true)
        }
        if let template { try? manager.copyItem(atPath: template, toPath: run + "/home") }
        for (name, file) in fixtures.merging(fuzzCase.files, uniquingKeysWith: { $1 }) {
            try? file.bytes(filling: fill).write(to: URL(fileURLWithPath: run + "/files/" + name))
        }
        try? Data([0x00, 0xFF, 0xFE, 0x0A, 0x7B]).write(to: URL(fileURLWithPath: run + "/files/garbage.bin"))
        _ = manager.createFile(
            atPath: run + "/files/unreadable", contents: Data("{}".utf8), attributes: [.posixPermissions: 0])
        try? manager.createDirectory(
            atPath: run + "/files/readonly", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o555])

        var environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
        environment["CAPSIZE_HOME"] = run + "/home"
        environment["HOME"] = run + "/user"
        environment["TMPDIR"] = run + "/tmp"
        // A trap ends at once instead of after seconds of backtracing; its "Fatal error" line is still printed.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        var argv = [binary] + fuzzCase.arguments.map(fill)
        if fuzzCase.onTerminal {
            let command = argv.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            argv = ["/usr/bin/script", "--quiet", "--return", "--command", command.joined(separator: " "), "/dev/null"]
        }
        var outcome = Self.execute(
            argv, environment: environment, directory: run + "/work",
            stdin: fuzzCase.stdin.map { run + "/files/" + $0 } ?? "/dev/null", output: caseRoot, timeout: timeout,
            interruptAfter: fuzzCase.interruptAfter)
        // The case's folder reads as the placeholder it was given as, so that messages compare across runs.
        for (path, placeholder) in [(marker, HostileValues.marker), (run, HostileValues.caseFolder)] {
            outcome.stdout = outcome.stdout.replacingOccurrences(of: path, with: placeholder)
            outcome.stderr = outcome.stderr.replacingOccurrences(of: path, with: placeholder)
        }
        outcome.failures = check(fuzzCase, outcome, caseRoot: caseRoot, marker: marker, fill: fill)
        outcome.failures += fuzzCase.verify?(outcome, run) ?? []
        return outcome
    }

    /// The checks every case must pass.
    private func check(
        _ fuzzCase: FuzzCase, _ outcome: FuzzOutcome, caseRoot: String, marker: String, fill: (String) -> String
    ) -> [FuzzFailure] {
        var failures: [FuzzFailure] = []
        let line = outcome.firstLine
        if outcome.timedOut {
            failures.append(FuzzFailure(kind: .hang, detail: outcome.ending))
        } else if outcome.signal.map({ $0 != SIGINT || fuzzCase.interruptAfter == nil }) ?? false
            || [132, 134, 139].contains(outcome.status ?? 0)
        {
            failures.append(FuzzFailure(kind: .trap, detail: "\(outcome.ending): \(line)"))
        } else if let status = outcome.status, ![0, 1, 2].contains(status) {
            failures.append(FuzzFailure(kind: .exitCode, detail: "\(outcome.ending): \(line)"))
        }
        if outcome.status == 2 {
            let lines = outcome.errorLines
            if lines.count != 1 {
                failures.append(FuzzFailure(kind: .lines, detail: "\(lines.count) lines: \(line)"))
            }
            if fuzzCase.negativeNumber, line.contains("Missing value") {
                failures.append(FuzzFailure(kind: .missingValue, detail: line))
            } else if !fuzzCase.mentions.isEmpty,
                !lines.contains(where: { line in fuzzCase.mentions.contains { line.contains($0) } })
            {
                let names = fuzzCase.mentions.joined(separator: " or ")
                failures.append(FuzzFailure(kind: .unnamed, detail: "does not name \(names): \(line)"))
            }
        } else if fuzzCase.mustRefuse, outcome.status == 0 || outcome.status == 1 {
            failures.append(FuzzFailure(kind: .accepted, detail: "\(outcome.ending): \(line)"))
        }
        if FileManager.default.fileExists(atPath: marker) {
            failures.append(FuzzFailure(kind: .injected, detail: "\(marker) exists"))
        }
        for path in outside(caseRoot: caseRoot, outputs: fuzzCase.outputs.map(fill)) {
            failures.append(FuzzFailure(kind: .outside, detail: "created \(path)"))
        }
        let left = Self.leftovers(under: caseRoot)
        if !left.isEmpty {
            failures.append(FuzzFailure(kind: .leftover, detail: left.joined(separator: "; ")))
        }
        return failures
    }

    /// Entries beside `run/` and inside it beside its folders that none of `outputs` names.
    private func outside(caseRoot: String, outputs: [String]) -> [String] {
        let run = caseRoot + "/run"
        var allowed: Set<String> = [run, caseRoot + "/stdout", caseRoot + "/stderr", caseRoot + "/fzmark"]
        for folder in Self.runFolders { allowed.insert(run + "/" + folder) }
        for output in outputs {
            // Every folder a `mkdir -p` of the path as given may make, `..` taken as it comes.
            var path = output.hasPrefix("/") ? "" : run + "/work"
            for component in output.split(separator: "/") {
                path = (path + "/" + component)
                allowed.insert(URL(fileURLWithPath: path).standardizedFileURL.path)
            }
        }
        var found: [String] = []
        for folder in [caseRoot, run] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let path = folder + "/" + name
                if !allowed.contains(path) { found.append(path) }
            }
        }
        return found
    }

    /// Where a value that escaped every case's folders would land: /tmp, the root folder, the package, the tests'
    /// working directory and home.
    static var outsidePlaces: [String] {
        ["/tmp", "/", packageRoot.path, FileManager.default.currentDirectoryPath, NSHomeDirectory()]
    }

    /// Entries of `outsidePlaces` named as hostile values name files (`fz-escape`, `fzmark`): compared
    /// before and after a run, a new one is a file written outside the run's folders (by a case the run cannot tell).
    static func strays() -> Set<String> {
        var found: Set<String> = []
        for place in outsidePlaces {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: place)) ?? []
            where name.hasPrefix("fz-") || name.hasPrefix("fzmark") {
                found.insert(place + "/" + name)
            }
        }
        return found
    }

    /// Processes whose working directory, command line or environment is under `folder`, killed after a grace of
    /// two seconds (a program's last children may take a moment to go); their descriptions.
    static func leftovers(under folder: String) -> [String] {
        var found: [(pid: pid_t, text: String)] = []
        for attempt in 0..<40 {
            found = processes(under: folder)
            if found.isEmpty { return [] }
            if attempt < 39 { usleep(50_000) }
        }
        for process in found { kill(process.pid, SIGKILL) }
        return found.map { "pid \($0.pid): \($0.text)" }
    }

    private static func processes(under folder: String) -> [(pid: pid_t, text: String)] {
        let me = getpid()
        var found: [(pid: pid_t, text: String)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), pid != me else { continue }
            let base = "/proc/\(name)"
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: base + "/cwd")) ?? ""
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: base + "/cmdline"))) ?? Data()
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: base + "/environ"))) ?? Data()
            let words = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if cwd.hasPrefix(folder) || words.contains(where: { $0.contains(folder) })
                || environ.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self).contains(folder) })
            {
                found.append((pid, words.joined(separator: " ").prefix(120).description))
            }
        }
        return found
    }

    /// Removes `path` with everything in it, whatever the modes inside.
    static func removeTree(_ path: String) {
        if let walker = FileManager.default.enumerator(atPath: path) {
            for case let name as String in walker { chmod(path + "/" + name, 0o700) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `argv` in a process group of its own with stdout and stderr in files under `output`, killing the group
    /// at `timeout`.
    static func execute(
        _ argv: [String], environment: [String: String], directory: String, stdin: String, output: String,
        timeout: Double, interruptAfter: Double? = nil
    ) -> FuzzOutcome {
        var outcome = FuzzOutcome()
        let start = Date()
        guard let pid = spawn(argv, environment: environment, directory: directory, stdin: stdin, output: output)
        else {
            outcome.status = 127
            outcome.stderr = "cannot start \(argv[0])"
            return outcome
        }
        var status: Int32 = 0
        var interrupt = interruptAfter
        while waitpid(pid, &status, WNOHANG) == 0 {
            if let after = interrupt, Date().timeIntervalSince(start) > after {
                kill(-pid, SIGINT)
                interrupt = nil
            }
            if Date().timeIntervalSince(start) > timeout {
                kill(-pid, SIGKILL)
                outcome.timedOut = true
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(5000)
        }
        outcome.seconds = Date().timeIntervalSince(start)
        if status & 0x7F == 0 {
            outcome.status = (status >> 8) & 0xFF
        } else if !outcome.timedOut {
            outcome.signal = status & 0x7F
        }
        // Whatever is left of the group (a job capsize did not end) goes now; `leftovers` reports it.
        kill(-pid, SIGKILL)
        let read = { (name: String) in
            let data = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: output + "/" + name)))?.readData(
                ofLength: 1 << 20)
            return String(decoding: data ?? Data(), as: UTF8.self)
        }
        outcome.stdout = read("stdout")
        outcome.stderr = read("stderr")
        return outcome
    }

    private static func spawn(
        _ argv: [String], environment: [String: String], directory: String, stdin: String, output: String
    ) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, output + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal: Int32 in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(Int32(POSIX_SPAWN_SETPGROUP) | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)))
        // GNU env changes directory and execs (posix_spawn_file_actions_addchdir_np is not in Swift's Glibc).
        let arguments = (["/usr/bin/env", "-C", directory] + argv).map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in arguments + variables { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, arguments, variables)
        return result == 0 ? pid : nil
    }

    /// Runs `cases` (their index in the list is their number), `jobs` at a time, on threads of their own (a case
    /// waits for a process; the tests' shared threads are not to be held).
    func runAll(_ cases: [FuzzCase], jobs: Int) -> [FuzzOutcome] {
        let next = Mutex(0)
        let results = Mutex([FuzzOutcome?](repeating: nil, count: cases.count))
        let group = DispatchGroup()
        for _ in 0..<max(1, jobs) {
            group.enter()
            Thread.detachNewThread {
                while true {
                    let index = next.withLock { value in
                        defer { value += 1 }
                        return value
                    }
                    guard index < cases.count else { break }
                    let outcome = run(cases[index], index: index)
                    results.withLock { $0[index] = outcome }
                }
                group.leave()
            }
        }
        group.wait()
        return results.withLock { $0.map { $0 ?? FuzzOutcome() } }
    }
}
