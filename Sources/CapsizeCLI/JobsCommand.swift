import ArgumentParser
import CapsizeCore
import Foundation
import Reports
import Store

/// `capsize jobs [RUN] [--all] [--watch] [--json]`: the jobs of a submission with their states.
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
            guard let newest = try store.runs(limit: 200).first(where: { $0.kind == .submit }) else {
                return say("no submissions stored in \(store.path)")
            }
            record = newest
        }
        while true {
            let jobs = try store.jobs(run: record.id)
            if json { return try printJSON(jobs) }
            say("run \(record.shortID) (\(record.status.rawValue))")
            if all {
                say(table(
                    ["JOB", "NAME", "STATE", "ATTEMPT", "EXIT", "REASON"],
                    jobs.map { [$0.shortID, $0.name, $0.state.rawValue, "\($0.attempt)", $0.exitCode.map(String.init) ?? "-", $0.reasons ?? ""] }))
            } else {
                printJobs(jobs)
            }
            printModeledEnvironments(try store.environments(run: record.id))
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
