import Store

/// A study that could not go on, for a reason that is not bad input.
public enum StudyFailure: Error, Equatable, Sendable {
    /// A finished run was analysed again, but it has no sample at `item`: it did not finish (it can be resumed).
    case unrecorded(run: String, item: String)
    /// The task was cancelled (capsize was interrupted): `run` is marked interrupted and keeps what finished.
    case interrupted(run: String, kind: String)
    /// Anything else, said in words.
    case failed(String)
}

/// Marks `run` interrupted (its finished work kept, the rest to run on resume) and says so.
func interrupted(_ run: String, in store: CapsizeStore, kind: RunRecord.Kind = .submit) -> StudyFailure {
    _ = try? store.markInterrupted(run: run, reason: "interrupted: stopped by a signal")
    return .interrupted(run: run, kind: kind.rawValue)
}
