/// Why the store could not do what was asked.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The database cannot be opened or created.
    case unopenable(path: String, reason: String)
    /// The store is read-only for this user: it can be listed, not written.
    case readOnly(path: String)
    /// The database was written by a newer capsize, with migrations this one does not know.
    case newerSchema(path: String)
    /// No run has this id or id prefix.
    case runNotFound(String)
    /// Several runs start with this prefix (the newest few are listed).
    case ambiguousRun(prefix: String, matches: [String])
    /// The run cannot be resumed.
    case notResumable(id: String, reason: String)
    /// The run already holds a measurement with this item key.
    case duplicateItem(run: String, key: String)

    public var description: String {
        switch self {
        case .unopenable(let path, let reason):
            "The store \(path) cannot be opened (\(reason)); check the directory's permissions or set CAPSIZE_HOME "
                + "to a writable directory."
        case .readOnly(let path):
            "The store \(path) is read-only for this user: it can be listed, not written; set CAPSIZE_HOME to a "
                + "writable directory to record new runs."
        case .newerSchema(let path):
            "The store \(path) was written by a newer capsize; use that version, or set CAPSIZE_HOME elsewhere."
        case .runNotFound(let id):
            "No run has the id '\(id)'; `capsize runs list` shows the stored runs."
        case .ambiguousRun(let prefix, let matches):
            "The id prefix '\(prefix)' matches several runs (\(matches.joined(separator: ", "))); give more characters."
        case .notResumable(let id, let reason):
            "Run \(id) cannot be resumed: \(reason)."
        case .duplicateItem(let run, let key):
            "Run \(run) already holds a measurement of item '\(key)'."
        }
    }
}
