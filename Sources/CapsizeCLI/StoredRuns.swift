import ArgumentParser
import CapsizeCore
import Compute
import Execution
import Store

/// A command whose interrupted run continues with `--resume RUN`: the run stores the command's own arguments, which
/// are parsed again; only how this command line prints is taken from it.
protocol ResumableCommand: InterruptibleCommand {
    /// The kind of run the command stores.
    static var runKind: RunRecord.Kind { get }
    var resume: String? { get }
    var json: Bool { get set }
    /// What `--resume` allows beside it when the command line has more; nil when it has not.
    var besideResume: String? { get }
    /// Takes how to print from `other`, the command line that resumes.
    mutating func takePrinting(from other: Self)
    /// Runs: in a new run, or in `resuming` (taken over), keeping what it recorded.
    func start(resuming: RunRecord?) async throws
}

extension ResumableCommand {
    mutating func takePrinting(from other: Self) { json = other.json }

    func run() async throws {
        guard let resume else { return try await start(resuming: nil) }
        if let allowed = besideResume { throw InputError(field: "--resume", value: resume, allowed: allowed) }
        let run = try takeOverRun(resume, kind: Self.runKind, in: try openStore())
        var original = try Self.parse(try StoredJSON.decode(StoredArguments.self, from: run.parameters).arguments)
        original.takePrinting(from: self)
        try await original.start(resuming: run)
    }
}

/// What a run stores for its command: its own arguments, to parse again on `--resume`.
struct StoredArguments: Codable {
    var arguments: [String]
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
        let resumed = try store.resume(run: run.id)
        let left = Sandbox.removeLeftoverDirectories()
        if !left.isEmpty { notice("removed \(left.count) temporary folder(s) that killed capsize processes left") }
        return resumed
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
