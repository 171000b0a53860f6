public import Store

/// The runs as terminal text: `runs list`'s table and `runs show`'s overview and record tables.
public enum RunsText {
    /// Rows shown per table of `detail`; the JSON has them all.
    public static let shownRows = 20

    /// One row per run, newest first.
    public static func list(_ entries: [RunEntry]) -> String {
        table(
            ["RUN", "KIND", "STATUS", "CREATED", "ITEMS", "COMMAND"],
            entries.map { entry in
                [
                    entry.run.shortID, entry.run.shownKind, entry.run.status.rawValue,
                    entry.run.createdAt.formatted(.iso8601), entry.items, entry.run.commandText(limit: 60),
                ]
            })
    }

    /// The run's overview, then a table per kind of record it holds.
    public static func detail(_ detail: RunDetail, hints: some Hints) -> String {
        var text = overview(detail.entry, hints: hints)
        text += rows(
            "measurements", detail.measurements, hints: hints, ["ITEM", "SECONDS", "GFLOP/S", "CHECKSUM", "ENDED"]
        ) {
            [
                $0.itemKey, fmtSeconds($0.seconds),
                $0.flops > 0 && $0.seconds > 0 ? fmt($0.flops / $0.seconds / 1e9) : "-",
                $0.checksum ?? "-", $0.endedAt.formatted(.iso8601),
            ]
        }
        text += rows(
            "invocations", detail.invocations, hints: hints,
            ["REQUEST", "STATUS", "COLD", "MEMORY", "DURATION", "BILLED", "MAX USED", "COST (projected)"]
        ) {
            [
                String($0.id.prefix(8)), $0.status.rawValue, $0.cold ? "cold" : "warm", "\($0.memoryMB) MB",
                String(format: "%.2f ms", $0.durationMs), "\($0.billedDurationMs) ms", "\($0.maxMemoryUsedMB) MB",
                fmtDollars($0.costUSD),
            ]
        }
        text += rows(
            "jobs", detail.jobs, hints: hints,
            ["JOB", "NAME", "QUEUE", "STATE", "ATTEMPT", "EXIT", "MODELED", "REASON"]
        ) {
            [
                $0.id, $0.name + ($0.arrayIndex.map { "[\($0)]" } ?? ""), $0.queue ?? "-", $0.state.rawValue,
                "\($0.attempt)", $0.exitCode.map(String.init) ?? "-",
                $0.modeledProvisioningSeconds.map { "provisioning \(fmt($0)) s" } ?? "-", $0.reasons ?? "",
            ]
        }
        text += rows(
            "environments", detail.environments, hints: hints,
            ["ENVIRONMENT", "KIND", "CREATED", "REAPED", "SERVED", "MODELED PROVISIONING", "MODELED TEARDOWN"]
        ) {
            [
                $0.name ?? String($0.id.prefix(8)), $0.kind.rawValue, $0.createdAt.formatted(.iso8601),
                $0.reapedAt?.formatted(.iso8601) ?? "-", "\($0.invocationsServed)",
                $0.modeledProvisioningSeconds.map { "\(fmt($0)) s" } ?? "-",
                $0.modeledTeardownAt?.formatted(.iso8601) ?? "-",
            ]
        }
        return text
    }

    static func overview(_ entry: RunEntry, hints: some Hints) -> String {
        let run = entry.run
        var lines = [
            "run \(run.id) (\(run.shownKind), \(run.status.rawValue)\(run.statusReason.map { ": \($0)" } ?? ""))",
            "  command: \(run.commandText())",
            "  parameters: \(run.parameters)",
            "  machine: \(run.machine)",
            "  created: \(run.createdAt.formatted(.iso8601))"
                + (run.finishedAt.map { ", finished: \($0.formatted(.iso8601))" } ?? "")
                + (run.resumes > 0 ? ", resumed \(run.resumes) time(s)" : ""),
        ]
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
        lines.append("  " + counts.joined(separator: "; "))
        if run.kind == .bench && run.status != .finished {
            lines.append("  continue it with: \(hints.resumeBench) \(run.shortID)")
        }
        return lines.joined(separator: "\n")
    }

    /// A blank line, the title and a table of at most `shownRows` rows; nothing for no rows.
    static func rows<Row>(
        _ title: String, _ rows: [Row], hints: some Hints, _ header: [String], _ cells: (Row) -> [String]
    ) -> String {
        guard !rows.isEmpty else { return "" }
        let heading =
            rows.count > shownRows
            ? "\(title) (first \(shownRows) of \(rows.count); \(hints.allRecords) has all):" : "\(title):"
        return "\n\n" + heading + "\n" + table(header, rows.prefix(shownRows).map(cells))
    }
}
