/// A study that could not go on, for a reason that is not bad input.
public enum StudyFailure: Error, Equatable, Sendable {
    /// A finished run was analysed again, but it has no sample at `item`: it did not finish (it can be resumed).
    case unrecorded(run: String, item: String)
    /// Anything else, said in words.
    case failed(String)
}
