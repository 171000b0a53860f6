import Foundation
import Store

/// Hands a run's job state changes to observers and the store, and keeps the warnings the run reports (the store's
/// refusals among them). A final state (SUCCEEDED, FAILED) is committed at once, together with every intermediate
/// state waiting; intermediate states alone are written in batches of 256, or when the executor's tick comes
/// (`latency`) — so other readers see them within half a second, and a kill -9 can lose a RUNNABLE or RUNNING stamp
/// but never a finished job.
struct JobRecorder {
    let store: CapsizeStore?
    /// Empty for a dry run: compute environment episodes are not stored then.
    let runID: String
    private(set) var observers: [@Sendable (JobRecord) -> Void] = []
    /// What the run reports besides its records, in order.
    var warnings: [String] = []
    /// Intermediate states waiting to be written, newest per job.
    private var unwritten: [String: JobRecord] = [:]

    init(store: CapsizeStore?, runID: String) {
        self.store = store
        self.runID = runID
    }

    /// How long an intermediate state may wait to be written.
    static let latency = Duration.milliseconds(500)

    /// Whether some state change waits to be written.
    var hasUnwritten: Bool { !unwritten.isEmpty }

    /// Calls `observer` with every state change, in order.
    mutating func observe(_ observer: @escaping @Sendable (JobRecord) -> Void) { observers.append(observer) }

    /// Hands state changes to the observers and the store.
    mutating func record(_ records: [JobRecord]) {
        guard !records.isEmpty else { return }
        for observer in observers { for record in records { observer(record) } }
        for record in records { unwritten[record.id] = record }
        if records.contains(where: \.state.isFinal) || unwritten.count >= 256 { flush() }
    }

    /// Commits every waiting state change in one transaction.
    mutating func flush() {
        guard !unwritten.isEmpty else { return }
        do {
            try store?.record(Array(unwritten.values))
            unwritten.removeAll(keepingCapacity: true)
        } catch {
            warnings.append("the store refused \(unwritten.count) job record(s): \(error)")
        }
    }

    /// Stores a compute environment's episode (rare: one write when it starts and one when it ends).
    mutating func record(_ episode: EnvironmentRecord) {
        guard !runID.isEmpty else { return }
        do {
            try store?.record(episode)
        } catch {
            warnings.append("the store refused compute environment record \(episode.id): \(error)")
        }
    }
}
