import ArgumentParser
import CapsizeCore
import Compute
import Foundation
import Store
import Workloads

/// `capsize runs list [--json] [--limit N]` and `capsize runs show RUN [--json]`.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the stored runs, or show one with its records.",
        discussion: """
            Every bench, invoke, submit and sweep is a run in the store ($CAPSIZE_HOME/capsize.sqlite), each \
            record committed as it ends. A run whose process was killed shows as interrupted; \
            `capsize bench --resume RUN` continues a bench run.
            """,
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest runs first, with how far each got.")

        @Option(help: "Show at most this many runs (1...100000).") var limit = 20
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            guard (1...100_000).contains(limit) else {
                throw InputError(field: "--limit", value: "\(limit)", allowed: "an integer in 1...100000")
            }
            let store = try openStore()
            try store.markStaleRunsInterrupted()
            let entries = try store.runs(limit: limit).map { RunEntry(run: $0, summary: try store.summary(run: $0.id)) }
            if json { return try printJSON(entries) }
            if entries.isEmpty { return say("no runs stored in \(store.path)") }
            say(
                table(
                    ["RUN", "KIND", "STATUS", "CREATED", "ITEMS", "COMMAND"],
                    entries.map { entry in
                        [
                            entry.run.shortID, entry.run.kind.rawValue, entry.run.status.rawValue,
                            entry.run.createdAt.formatted(.iso8601), entry.items, entry.run.commandText(limit: 60),
                        ]
                    }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: its parameters, counts and records.")

        @Argument(
            help: ArgumentHelp("The run's id, or a unique prefix of it (see `capsize runs list`).", valueName: "RUN"))
        var id: String
        @Flag(help: "Print JSON with every record instead of text.") var json = false

        /// Rows shown per table in text; `--json` has them all.
        static let shownRows = 20

        func run() throws {
            let store = try openStore()
            try store.markStaleRunsInterrupted()
            let run = try findRun(id, in: store, field: "RUN")
            let entry = RunEntry(run: run, summary: try store.summary(run: run.id))
            let measurements = try store.measurements(run: run.id)
            let invocations = try store.invocations(run: run.id)
            let jobs = try store.jobs(run: run.id)
            let environments = try store.environments(run: run.id)
            if json {
                return try printJSON(
                    RunDetail(
                        entry: entry, measurements: measurements, invocations: invocations, jobs: jobs,
                        environments: environments))
            }
            printOverview(entry)
            printRows("measurements", measurements, ["ITEM", "SECONDS", "GFLOP/S", "CHECKSUM", "ENDED"]) {
                [
                    $0.itemKey, fmtSeconds($0.seconds),
                    $0.flops > 0 && $0.seconds > 0 ? fmt($0.flops / $0.seconds / 1e9) : "-",
                    $0.checksum ?? "-", $0.endedAt.formatted(.iso8601),
                ]
            }
            printRows(
                "invocations", invocations,
                ["REQUEST", "STATUS", "COLD", "MEMORY", "DURATION", "BILLED", "MAX USED", "COST (projected)"]
            ) {
                [
                    String($0.id.prefix(8)), $0.status.rawValue, $0.cold ? "cold" : "warm", "\($0.memoryMB) MB",
                    String(format: "%.2f ms", $0.durationMs), "\($0.billedDurationMs) ms", "\($0.maxMemoryUsedMB) MB",
                    "$" + fmt($0.costUSD),
                ]
            }
            printRows("jobs", jobs, ["JOB", "NAME", "QUEUE", "STATE", "ATTEMPT", "EXIT", "MODELED", "REASON"]) {
                [
                    $0.id, $0.name + ($0.arrayIndex.map { "[\($0)]" } ?? ""), $0.queue ?? "-", $0.state.rawValue,
                    "\($0.attempt)", $0.exitCode.map(String.init) ?? "-",
                    $0.modeledProvisioningSeconds.map { "provisioning \(fmt($0)) s" } ?? "-", $0.reasons ?? "",
                ]
            }
            printRows(
                "environments", environments,
                ["ENVIRONMENT", "KIND", "CREATED", "REAPED", "SERVED", "MODELED PROVISIONING", "MODELED TEARDOWN"]
            ) {
                [
                    $0.name ?? String($0.id.prefix(8)), $0.kind.rawValue, $0.createdAt.formatted(.iso8601),
                    $0.reapedAt?.formatted(.iso8601) ?? "-", "\($0.invocationsServed)",
                    $0.modeledProvisioningSeconds.map { "\(fmt($0)) s" } ?? "-",
                    $0.modeledTeardownAt?.formatted(.iso8601) ?? "-",
                ]
            }
        }

        private func printOverview(_ entry: RunEntry) {
            let run = entry.run
            say(
                "run \(run.id) (\(run.kind.rawValue), \(run.status.rawValue)\(run.statusReason.map { ": \($0)" } ?? ""))"
            )
            say("  command: \(run.commandText())")
            say("  parameters: \(run.parameters)")
            say("  machine: \(run.machine)")
            say(
                "  created: \(run.createdAt.formatted(.iso8601))"
                    + (run.finishedAt.map { ", finished: \($0.formatted(.iso8601))" } ?? "")
                    + (run.resumes > 0 ? ", resumed \(run.resumes) time(s)" : ""))
            let s = entry.summary
            var counts = ["items: \(entry.items) recorded", "measurements: \(s.measurements)"]
            if !s.invocations.isEmpty {
                counts.append(
                    "invocations: "
                        + s.invocations.sorted { $0.key.rawValue < $1.key.rawValue }
                        .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", "))
            }
            if !s.jobs.isEmpty {
                counts.append(
                    "jobs: "
                        + JobRecord.State.allCases.compactMap { state in
                            s.jobs[state].map { "\($0) \(state.rawValue)" }
                        }.joined(separator: ", "))
            }
            if s.environments > 0 { counts.append("environments: \(s.environments)") }
            say("  " + counts.joined(separator: "; "))
            if run.kind == .bench && run.status != .finished {
                say("  continue it with: capsize bench --resume \(run.shortID)")
            }
        }

        private func printRows<Row>(_ title: String, _ rows: [Row], _ header: [String], _ cells: (Row) -> [String]) {
            guard !rows.isEmpty else { return }
            say()
            say(
                rows.count > Self.shownRows
                    ? "\(title) (first \(Self.shownRows) of \(rows.count); --json has all):" : "\(title):")
            say(table(header, rows.prefix(Self.shownRows).map(cells)))
        }
    }
}

/// Opens the store at its default path, turning a failure into a message that names the file.
func openStore() throws -> CapsizeStore {
    do {
        return try CapsizeStore(machine: CalibrationKey.machine())
    } catch let error as StoreError {
        throw CommandFailure(message: error.description)
    }
}

/// This process's arguments after `subcommand`, stored with a run to parse again on `--resume`.
func ownArguments(after subcommand: String) -> [String] {
    Array(CommandLine.arguments.drop { $0 != subcommand }.dropFirst())
}

/// Takes over the interrupted run `id` (an id or a unique prefix) of `kind` for `--resume`.
/// - Throws: `InputError` naming `--resume` when it is unknown, of another kind, finished, or still running.
func takeOverRun(_ id: String, kind: RunRecord.Kind, in store: CapsizeStore) throws -> RunRecord {
    try store.markStaleRunsInterrupted()
    let run = try findRun(id, in: store, field: "--resume")
    guard run.kind == kind else {
        throw InputError(
            field: "--resume", value: id, allowed: "a \(kind) run (\(run.shortID) is a \(run.kind) run)")
    }
    do {
        return try store.resume(run: run.id)
    } catch StoreError.notResumable(_, let reason) {
        throw InputError(
            field: "--resume", value: id, allowed: "an unfinished run that no process is running (\(reason))")
    }
}

/// The run whose id is `id` or starts with it.
/// - Throws: `InputError` naming `field` when no run or several runs match.
func findRun(_ id: String, in store: CapsizeStore, field: String) throws -> RunRecord {
    do {
        return try store.run(id: id)
    } catch StoreError.runNotFound {
        throw InputError(
            field: field, value: id,
            allowed: "the id of a stored run or a unique prefix of it (see `capsize runs list`)")
    } catch StoreError.ambiguousRun(_, let matches) {
        let shown = matches.map { String($0.prefix(8)) }.joined(separator: ", ")
        throw InputError(
            field: field, value: id,
            allowed: "a prefix of one run only; it starts \(shown)\(matches.count >= 5 ? ", …" : "")")
    }
}

/// A run with its counts, as `runs list --json` prints it: the run's fields plus `summary`.
struct RunEntry: Encodable {
    var run: RunRecord
    var summary: RunSummary

    /// `23/50` (recorded of planned), or the recorded count when the plan's size is not known.
    var items: String { "\(summary.completed)" + (summary.planned.map { "/\($0)" } ?? "") }

    enum CodingKeys: String, CodingKey { case summary, parameters }

    func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(summary, forKey: .summary)
        // The parameters as a JSON object rather than a string holding JSON.
        if let parameters = try? StoredJSON.decode(JSONValue.self, from: run.parameters) {
            try container.encode(parameters, forKey: .parameters)
        }
    }
}

/// `runs show --json`: the run, its counts and every record.
struct RunDetail: Encodable {
    var entry: RunEntry
    var measurements: [MeasurementRecord]
    var invocations: [InvocationRecord]
    var jobs: [JobRecord]
    var environments: [EnvironmentRecord]

    enum CodingKeys: String, CodingKey { case measurements, invocations, jobs, environments }

    func encode(to encoder: any Encoder) throws {
        try entry.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(measurements, forKey: .measurements)
        try container.encode(invocations, forKey: .invocations)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(environments, forKey: .environments)
    }
}

/// Any JSON value, to re-emit stored JSON text as JSON.
private enum JSONValue: Codable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension RunRecord {
    /// The command line as typed, without the program's path, cut to `limit` characters.
    func commandText(limit: Int = .max) -> String {
        let text = (["capsize"] + commandLine.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(
            separator: " ")
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}
