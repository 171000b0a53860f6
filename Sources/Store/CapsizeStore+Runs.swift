import CapsizeCore
public import Foundation
import GRDB

/// The runs: created, finished, interrupted, found stale and resumed; one transaction each.
extension CapsizeStore {
    /// Creates a run in the `running` state, owned by this process.
    /// - Parameters:
    ///   - parameters: what the command needs to resume the run, stored as JSON (`StoredJSON`).
    ///   - planned: how many items the run plans, when known.
    ///   - machine: the machine's key; nil for this store's `machine`.
    /// - Returns: the stored run.
    @discardableResult
    public func createRun(
        kind: RunRecord.Kind, commandLine: [String] = CommandLine.arguments, parameters: some Encodable,
        planned: Int? = nil, machine: String? = nil, createdAt: Date = Date()
    ) throws -> RunRecord {
        let owner = ProcessIdentity.current
        let run = RunRecord(
            kind: kind, commandLine: commandLine, parameters: try StoredJSON.encode(parameters),
            machine: machine ?? self.machine, pid: owner.pid, processStart: owner.startTicks,
            createdAt: Self.storable(createdAt), planned: planned)
        try insert(run)
        return run
    }

    /// Stores a new run as given (tests use it to make runs of other processes and machines).
    func insert(_ run: RunRecord) throws {
        try writing { try run.insert($0) }
    }

    /// Marks a run finished: every planned item ended and was recorded.
    /// - Throws: `StoreError.runNotFound` for an unknown id.
    @discardableResult
    public func finish(run id: String, at date: Date = Date()) throws -> RunRecord {
        try updateRun(id) { run in
            run.status = .finished
            run.finishedAt = Self.storable(date)
            run.statusReason = nil
        }
    }

    /// Marks a run interrupted, saying why; `--resume` can continue it.
    /// - Throws: `StoreError.runNotFound` for an unknown id.
    @discardableResult
    public func markInterrupted(run id: String, reason: String) throws -> RunRecord {
        try updateRun(id) { run in
            run.status = .interrupted
            run.statusReason = reason
        }
    }

    /// Marks interrupted the runs of `machine` that are still `running` although their process is gone
    /// (killed, crashed): a process cannot record its own `kill -9`, so readers of the store call this.
    /// A run from another machine is left alone: its process cannot be checked from here.
    /// - Parameter machine: the machine's key; nil for this store's `machine`.
    /// - Returns: the ids of the runs it marked.
    @discardableResult
    public func markStaleRunsInterrupted(machine: String? = nil) throws -> [String] {
        let machine = machine ?? self.machine
        if isReadOnly { return [] }  // nothing can be marked; the listing shows what the store holds
        return try writing { db in
            let running = try RunRecord.filter(Column("status") == RunRecord.Status.running)
                .filter(Column("machine") == machine).fetchReadable(db)
            var marked: [String] = []
            for var run in running where !run.owner.isAlive {
                run.status = .interrupted
                run.statusReason = "its process (pid \(run.pid)) ended before the run did"
                try run.update(db)
                marked.append(run.id)
            }
            return marked
        }
    }

    /// Takes over an unfinished run for this process: `running` again, with this process's pid.
    /// Checked and changed in one transaction, so two processes cannot resume the same run.
    /// - Throws: `StoreError.runNotFound`, or `.notResumable` when the run finished or its process
    ///   still runs.
    @discardableResult
    public func resume(run id: String, machine: String? = nil) throws -> RunRecord {
        let machine = machine ?? self.machine
        return try writing { db in
            guard var run = try RunRecord.fetchOne(db, key: id) else { throw StoreError.runNotFound(id) }
            switch run.status {
            case .finished:
                throw StoreError.notResumable(id: id, reason: "it finished")
            case .running where run.machine != machine:
                throw StoreError.notResumable(
                    id: id, reason: "it is marked running on another machine (\(run.machine))")
            case .running where run.owner.isAlive && run.owner != .current:
                throw StoreError.notResumable(id: id, reason: "it is still running (pid \(run.pid))")
            case .running, .interrupted:
                break
            }
            run.status = .running
            run.statusReason = nil
            let owner = ProcessIdentity.current
            run.pid = owner.pid
            run.processStart = owner.startTicks
            run.machine = machine
            run.resumes += 1
            try run.update(db)
            return run
        }
    }

    /// The newest runs first.
    /// - Parameter limit: at most this many; nil for all.
    public func runs(limit: Int? = nil) throws -> [RunRecord] {
        try pool.read { db in
            let request = RunRecord.order(Column("createdAt").desc)
            return try (limit.map { request.limit($0) } ?? request).fetchReadable(db)
        }
    }

    /// The run whose id is `prefix` or starts with it, like git's abbreviated commits.
    /// - Throws: `StoreError.runNotFound` when none matches, `.ambiguousRun` when several do.
    public func run(id prefix: String) throws -> RunRecord {
        let prefix = prefix.lowercased()
        // Ids are hexadecimal digits and dashes; anything else matches nothing (and keeps LIKE's
        // wildcards out of the pattern).
        guard !prefix.isEmpty, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw StoreError.runNotFound(prefix)
        }
        let matches = try pool.read { db in
            if let exact = try RunRecord.fetchOne(db, key: prefix) { return [exact] }
            return try RunRecord.filter(Column("id").like(prefix + "%")).order(Column("createdAt").desc, Column("id"))
                .limit(Self.ambiguityListLimit + 1).fetchReadable(db)
        }
        switch matches.count {
        case 0: throw StoreError.runNotFound(prefix)
        case 1: return matches[0]
        default:
            throw StoreError.ambiguousRun(prefix: prefix, matches: matches.prefix(Self.ambiguityListLimit).map(\.id))
        }
    }

    static let ambiguityListLimit = 5

    func updateRun(_ id: String, _ change: @Sendable (inout RunRecord) -> Void) throws -> RunRecord {
        try writing { db in
            guard var run = try RunRecord.fetchOne(db, key: id) else { throw StoreError.runNotFound(id) }
            change(&run)
            try run.update(db)
            return run
        }
    }
}
