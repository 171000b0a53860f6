import ArgumentParser
import CapsizeCore
import Compute
import Foundation
import Reports
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
            let entries = try store.entries(limit: limit)
            if json { return try printJSON(entries) }
            say(entries.isEmpty ? "no runs stored in \(store.path)" : RunsText.list(entries))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: its parameters, counts and records.")

        @Argument(
            help: ArgumentHelp("The run's id, or a unique prefix of it (see `capsize runs list`).", valueName: "RUN"))
        var id: String
        @Flag(help: "Print JSON with every record instead of text.") var json = false

        func run() throws {
            let store = try openStore()
            try store.markStaleRunsInterrupted()
            let detail = try store.detail(of: try findRun(id, in: store, field: "RUN"))
            if json { return try printJSON(detail) }
            say(RunsText.detail(detail, hints: .commandLine))
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
