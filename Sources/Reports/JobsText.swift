public import Execution
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

    /// A table of jobs, array children one by one.
    public static func eachJob(_ records: [JobRecord]) -> String {
        Reports.table(
            ["JOB", "NAME", "STATE", "ATTEMPT", "EXIT", "REASON"],
            records.map {
                [
                    $0.shortID, $0.name, $0.state.rawValue, "\($0.attempt)", $0.exitCode.map(String.init) ?? "-",
                    $0.reasons ?? "",
                ]
            })
    }

    /// `2026-12-06T07:00:00Z 1a2b3c4d:7 RUNNING (reason)`: one state change, at the time the job reached it.
    public static func stateChange(_ job: JobRecord) -> String {
        let time =
            job.stoppedAt ?? job.runningAt ?? job.startingAt ?? job.runnableAt ?? job.pendingAt ?? job.submittedAt
        return "\(time.formatted(.iso8601)) \(job.shortID) \(job.state.rawValue)"
            + (job.reasons.map { " (\($0))" } ?? "")
    }

    /// What a submission to the local backend says once its job is in a queue: the job, its run, the queue and
    /// its compute environments (a resumed run: how many of its jobs had ended).
    public static func accepted(_ accepted: Submit.Accepted, request: SubmitRequest, resumed: Bool) -> String {
        let environments = accepted.queue.environments.map { environment in
            "\(environment.name) (\(fmt(environment.maxVCPUs)) vCPUs, \(environment.memoryMiB) MiB, "
                + (request.gpuSlots
                    ? "\(environment.gpuDevices.count) configured GPU slot(s), not real GPUs"
                    : request.definition.resources.gpus == 0
                        ? "no GPU needed" : "\(environment.gpuDevices.count) OpenCL GPU(s)") + ")"
        }
        return (resumed ? "resumed (\(accepted.kept) job(s) already ended)" : "submitted")
            + " \(accepted.job) as run \(accepted.run.shortID) to queue \(accepted.queue.name); compute environments "
            + environments.joined(separator: ", ")
    }

    /// What a submission to another backend says once the backend took it: its id, the backend's name for it, its
    /// run and where it went.
    public static func submitted(_ submission: BatchSubmission, run: RunRecord) -> String {
        "submitted \(submission.id)" + (submission.announcement.isEmpty ? "" : " \(submission.announcement)")
            + " (run \(run.shortID)) \(submission.destination)"
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
