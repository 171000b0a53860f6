/// The items a run plans, in order; their keys name them in the store (e.g. `rep=3`, `size=512/rep=2`).
public struct RunPlan: Sendable, Equatable {
    public let keys: [String]

    /// - Parameter keys: distinct item keys, in the order they should run.
    public init(_ keys: [String]) {
        precondition(Set(keys).count == keys.count, "a run plan's item keys must be distinct")
        self.keys = keys
    }

    /// `rep=1` … `rep=count`: repetitions of one measurement.
    public static func repetitions(_ count: Int) -> RunPlan {
        RunPlan((1...max(count, 1)).prefix(count).map { "rep=\($0)" })
    }
}

/// Runs a plan's items one after another, recording each measurement as it ends, so that a run
/// interrupted at any point continues where it stopped and never repeats a recorded item.
public enum ResumableRun {
    /// What `execute` did.
    public struct Progress: Sendable, Equatable {
        /// Items recorded before this call, skipped.
        public var skipped: Int
        /// Items run and recorded by this call.
        public var executed: Int
    }

    /// Runs `body` for each item of `items` that `run` has not recorded yet, in order, and records its
    /// measurement (committed) before starting the next. Finishes the run when every item is recorded;
    /// marks it interrupted, and rethrows, when `body` throws or the task is cancelled.
    /// - Parameters:
    ///   - run: the run's id (created, or taken over with `CapsizeStore.resume`).
    ///   - body: measures one item, given its key; the run id and item key of what it returns are
    ///     set to `run` and the key.
    /// - Returns: how many items were skipped and how many run.
    @discardableResult
    public static func execute(
        store: CapsizeStore, run: String, items: RunPlan, body: (_ key: String) async throws -> MeasurementRecord
    ) async throws -> Progress {
        let completed = try store.completedItemKeys(run: run)
        var progress = Progress(skipped: 0, executed: 0)
        for key in items.keys {
            if completed.contains(key) {
                progress.skipped += 1
                continue
            }
            do {
                try Task.checkCancellation()
                var measurement = try await body(key)
                measurement.runID = run
                measurement.itemKey = key
                try store.record(measurement)
                progress.executed += 1
            } catch {
                let reason = Task.isCancelled ? "interrupted: stopped by a signal" : "item \(key) failed: \(error)"
                _ = try? store.markInterrupted(run: run, reason: reason)
                throw error
            }
        }
        try store.finish(run: run)
        return progress
    }
}
