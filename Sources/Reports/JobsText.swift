import Foundation
public import Store
public import Studies

/// Jobs as terminal text.
public enum JobsText {
    /// A table of jobs: array parents with counts of their children by state, single jobs as they are. The
    /// MODELED column is the compute environment's modeled provisioning delay (children summed for arrays).
    public static func table(_ records: [JobRecord]) -> String {
        let children = Dictionary(grouping: records.filter { $0.arrayParentID != nil }, by: { $0.arrayParentID! })
        let rows = records.filter { $0.arrayParentID == nil }.map { job -> [String] in
            let kids = children[job.id] ?? []
            let counts = Dictionary(grouping: kids, by: \.state).map { "\($0.key.rawValue) \($0.value.count)" }.sorted()
            let seconds = job.runningAt.flatMap { start in job.stoppedAt.map { $0.timeIntervalSince(start) } }
            let modeled = ([job] + kids).compactMap(\.modeledProvisioningSeconds)
            return [
                job.shortID, job.name, job.queue ?? "-", kids.isEmpty ? "-" : "\(kids.count)", job.state.rawValue,
                "\(job.attempt)", job.exitCode.map(String.init) ?? "-", seconds.map(fmtSeconds) ?? "-",
                modeled.isEmpty ? "-" : "provisioning \(fmt(modeled.reduce(0, +))) s",
                kids.isEmpty ? (job.reasons ?? "") : counts.joined(separator: ", "),
            ]
        }
        return Reports.table(
            [
                "JOB", "NAME", "QUEUE", "ARRAY", "STATE", "ATTEMPT", "EXIT", "RAN (measured)", "MODELED",
                "REASON / CHILDREN",
            ],
            rows)
    }

    /// `2026-12-06T07:00:00Z 1a2b3c4d:7 RUNNING (reason)`: one state change, as `--watch` prints it.
    public static func stateChange(_ job: JobRecord) -> String {
        let time = (job.stoppedAt ?? job.runningAt ?? Date()).formatted(.iso8601)
        return "\(time) \(job.shortID) \(job.state.rawValue)" + (job.reasons.map { " (\($0))" } ?? "")
    }

    /// What a submission measured (its wall time) and modeled (provisioning and teardown, never slept).
    public static func measured(_ report: SubmitReport) -> String {
        let modeled = report.modeledProvisioningSeconds
        let teardowns = report.modeledTeardowns
        return "measured: \(report.jobs.count) job record(s) in \(fmtSeconds(report.seconds)) wall"
            + (modeled.isEmpty
                ? ""
                : "; modeled provisioning (not slept, not in measured times): "
                    + modeled.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt($0.value)) s" }.joined(separator: ", "))
            + (teardowns.isEmpty
                ? ""
                : "; modeled teardown: "
                    + teardowns.map { "\($0.environment) at \($0.at.formatted(.iso8601))" }.joined(separator: ", "))
    }

    /// One line per provisioning of a compute environment: its modeled provisioning and teardown.
    public static func modeledEnvironments(_ environments: [EnvironmentRecord]) -> [String] {
        environments.filter { $0.kind == .compute }.map { environment in
            ("compute environment \(environment.name ?? environment.id) (modeled, not slept, not in measured times): "
                + "provisioning \(fmt(environment.modeledProvisioningSeconds ?? 0)) s for its first job at "
                + environment.createdAt.formatted(.iso8601) + ", \(environment.invocationsServed) job(s), "
                + (environment.modeledTeardownAt.map { "torn down at \($0.formatted(.iso8601))" }
                    ?? "kept to the end of the run"))
        }
    }
}

extension JobRecord {
    /// The first 8 characters of the id (and `:index` for array children).
    public var shortID: String {
        let parts = id.split(separator: ":", maxSplits: 1)
        return String(parts[0].prefix(8)) + (parts.count > 1 ? ":\(parts[1])" : "")
    }
}
