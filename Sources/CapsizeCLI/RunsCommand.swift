import ArgumentParser
import CapsizeCore
import Foundation
import Reports
import Store

/// `capsize runs list [--json] [--limit N]` and `capsize runs show RUN [--json]`.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the stored runs, or show one with its records.",
        discussion: """
            Every bench, invoke, submit and sweep is a run in the store ($CAPSIZE_HOME/capsize.sqlite), each record \
            committed as it ends. A run whose process was killed shows as interrupted; `capsize bench --resume RUN` \
            continues a bench run.
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
