import ArgumentParser
import CapsizeCore
import Foundation
import Reports
import Store

/// `capsize jobs [RUN] [--all] [--watch] [--json]`: the jobs of a submission (or of a `capsize serve`) with their
/// states.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Show the jobs of a submission (the newest by default) and their states.")

    @Argument(help: ArgumentHelp("A submit run's id or unique prefix.", valueName: "RUN")) var runID: String?
    @Flag(help: "List array children one by one.") var all = false
    @Flag(help: "Redraw every second until every job is SUCCEEDED or FAILED.") var watch = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let store = try openStore()
        let record: RunRecord
        if let runID {
            record = try findRun(runID, in: store, field: "RUN")
        } else {
            guard let newest = try store.runs(limit: 200).first(where: \.holdsJobs) else {
                return say("no submissions stored in \(store.path)")
            }
            record = newest
        }
        while true {
            let jobs = try store.jobs(run: record.id)
            if json { return try printJSON(jobs) }
            say("run \(record.shortID) (\(record.status.rawValue))")
            say(all ? JobsText.eachJob(jobs) : JobsText.table(jobs))
            for line in JobsText.modeledEnvironments(try store.environments(run: record.id)) { say(line) }
            if !watch || jobs.allSatisfy(\.state.isFinal) { return }
            Thread.sleep(forTimeInterval: 1)
        }
    }
}

/// `capsize logs JOB`: the captured output of every attempt of a job.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print the output of a job's attempts (stdout, then stderr).")

    @Argument(help: ArgumentHelp("A job id or unique prefix; `ID:INDEX` for an array child.", valueName: "JOB"))
    var job: String

    func run() throws {
        let store = try openStore()
        let jobs = try findJobs(job, in: store)
        let target = jobs.count > 1 ? jobs.dropFirst() : jobs[...]
        for record in target {
            guard let directory = record.logPath else { continue }
            let attempts = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasPrefix("attempt-") }.sorted()
            say("== \(record.id) \(record.state.rawValue) (output folder \(directory)/output)")
            if attempts.isEmpty { say("(no attempt has run)") }
            for file in attempts {
                say("-- \(file)")
                say((try? String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)) ?? "")
            }
        }
    }
}

/// The stored job whose id is `id` or starts with it, with its array children (parent first); for `PREFIX:INDEX`
/// (an array child, as `capsize jobs --all` prints it, or its whole id) that child alone.
func findJobs(_ id: String, in store: CapsizeStore) throws -> [JobRecord] {
    let unknown = InputError(
        field: "JOB", value: id,
        allowed: "the id of a submitted job or a unique prefix, and :INDEX for an array child (see `capsize jobs`)")
    let parts = id.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let prefix = String(parts[0])
    let index = parts.count > 1 ? Int(parts[1]) : nil
    guard !prefix.isEmpty, parts.count == 1 || index != nil else { throw unknown }
    for run in try store.runs(limit: 200) where run.holdsJobs {
        let jobs = try store.jobs(run: run.id)
        let matches = jobs.filter { $0.arrayParentID == nil && $0.id.hasPrefix(prefix) }
        if matches.count > 1 {
            throw InputError(field: "JOB", value: id, allowed: "a prefix of one job only")
        }
        guard let job = matches.first else { continue }
        let children = jobs.filter { $0.arrayParentID == job.id }.sorted { ($0.arrayIndex ?? 0) < ($1.arrayIndex ?? 0) }
        guard let index else { return [job] + children }
        if let child = children.first(where: { $0.arrayIndex == index }) { return [child] }
        throw InputError(
            field: "JOB", value: id,
            allowed: children.isEmpty
                ? "\(job.shortID) alone (it is not an array job)"
                : "an index of the array job \(job.shortID): 0...\(children.count - 1)")
    }
    throw unknown
}

extension RunRecord {
    /// Whether the run's items are Batch jobs: a submission's, or those submitted to `capsize serve`.
    var holdsJobs: Bool { kind == .submit || kind == .serve }
}
