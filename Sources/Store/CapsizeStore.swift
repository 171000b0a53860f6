import CapsizeCore
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc  // getpid, kill
#endif

/// capsize's records in one SQLite database in WAL mode: runs, invocations, jobs, environments and
/// measurements.
///
/// Each `record` call is its own write transaction, committed before it returns, so a process killed
/// with `kill -9` loses nothing it had recorded (WAL with `synchronous=NORMAL`: a power cut may lose
/// the last commits, a killed process does not). The store is a value holding a `DatabasePool`, safe
/// to share between tasks and threads; several capsize processes may write to the same file at once.
/// Calls block for the duration of one short SQLite transaction.
public struct CapsizeStore: Sendable {
    /// The database file.
    public let path: String
    /// This machine's key (`CalibrationKey.machine` in Compute): runs record it, and only runs of this machine
    /// can be found stale or resumed here.
    public let machine: String
    /// A pool of connections; a read-only queue where the store cannot be written (see `isReadOnly`).
    let pool: any DatabaseWriter
    /// Whether this process may only read the store: its file or folder is not writable by this user (another
    /// user's store, a read-only mount, an archive). Listings work; a write fails with `StoreError.readOnly`.
    public let isReadOnly: Bool

    /// Opens (creating it if needed) the store at `path` and brings its schema up to date; a store this user
    /// cannot write is opened read-only, as it is.
    /// - Parameters:
    ///   - path: the database file; nil for `capsize.sqlite` in the default directory.
    ///   - machine: the key of the machine this process runs on.
    /// - Throws: `StoreError.unopenable` or `.newerSchema`, naming the file.
    public init(path: String? = nil, machine: String) throws {
        let path = path ?? Self.defaultPath()
        self.path = path
        self.machine = machine
        var configuration = Configuration()
        configuration.label = "capsize"
        // Another capsize process may be writing: wait for it rather than fail with SQLITE_BUSY.
        configuration.busyMode = .timeout(30)
        isReadOnly = Self.cannotWrite(path)
        do {
            if isReadOnly {
                pool = try Self.openReadOnly(path, configuration)
                return
            }
            Self.createPrivately(path)
            // Two processes opening a new file at once would both try to create the schema: serialise
            // opening and migrating (writes later rely on SQLite's own locks).
            pool = try FileLock.withExclusiveLock(beside: path) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                let migrator = Schema.migrator
                if try pool.read(migrator.hasBeenSuperseded) { throw StoreError.newerSchema(path: path) }
                try migrator.migrate(pool)
                return pool
            }
        } catch let error as StoreError {
            throw error
        } catch let error as FileLockError {
            throw StoreError.unopenable(path: error.path, reason: error.reason)
        } catch {
            throw StoreError.unopenable(path: path, reason: "\(error)")
        }
    }

    /// Whether the store exists but this user cannot write it, or its folder (SQLite writes its `-wal` and `-shm`
    /// files, and capsize its lock, beside it).
    static func cannotWrite(_ path: String) -> Bool {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return access(path, F_OK) == 0 && (access(path, W_OK) != 0 || access(directory, W_OK) != 0)
    }

    /// The store as it is on disk, read-only: its schema is not migrated, and a store whose last writer ended
    /// cleanly (no `-wal` file) is read as immutable, since SQLite could not create the `-shm` it reads a WAL
    /// database through in a folder it cannot write.
    private static func openReadOnly(_ path: String, _ base: Configuration) throws -> DatabaseQueue {
        var configuration = base
        configuration.readonly = true
        let hasLog = access(path + "-wal", F_OK) == 0 && access(path + "-shm", R_OK) == 0
        let queue = try DatabaseQueue(path: hasLog ? path : "file:\(path)?immutable=1", configuration: configuration)
        if try queue.read(Schema.migrator.hasBeenSuperseded) { throw StoreError.newerSchema(path: path) }
        return queue
    }

    /// Makes the store's file readable and writable by its owner only (0600; SQLite gives its `-wal` and `-shm`
    /// files the same mode), and a directory it creates for it 0700: no other user, and no job or function
    /// (which run as other users when capsize is root, see `SandboxUser`), can read or change the records. As
    /// root a new directory is 0711 instead, so that a job can reach its own output folder below it
    /// (`jobs/ID/output`, its own) by path, without being able to list the directory.
    static func createPrivately(_ path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: geteuid() == 0 ? 0o711 : 0o700])
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
    }

    /// `capsize.sqlite` in the directory calibrations use (`CapsizeHome.directory`):
    /// `CAPSIZE_HOME`, else `$XDG_DATA_HOME/capsize`, else `~/.local/share/capsize`.
    /// - Parameter environment: the variables to read; nil for this process's environment.
    public static func defaultPath(environment: [String: String]? = nil) -> String {
        URL(fileURLWithPath: CapsizeHome.directory(environment: environment))
            .appendingPathComponent("capsize.sqlite").path
    }

    // MARK: Records

    /// Stores an invocation, replacing the one with the same request id. Committed before it returns.
    public func record(_ invocation: InvocationRecord) throws {
        try write(run: invocation.runID) { try invocation.upsert($0) }
    }

    /// Stores a job's current state, replacing the row with the same job id, so each state change
    /// updates it. Committed before it returns.
    public func record(_ job: JobRecord) throws {
        try write(run: job.runID) { try Self.upsert([job], $0) }
    }

    /// Stores the current state of many jobs in one transaction (an array's children changing state
    /// together), replacing rows by job id: one commit instead of one per job.
    /// - Throws: `StoreError.runNotFound` when a job's run does not exist; then none is stored.
    public func record(_ jobs: some Collection<JobRecord>) throws {
        do {
            try writing { db in try Self.upsert(jobs, db) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            let missing = try pool.read { db in
                try Set(jobs.map(\.runID)).sorted().first { try !RunRecord.exists(db, key: $0) }
            }
            throw StoreError.runNotFound(missing ?? "")
        }
    }

    /// Stores an execution or compute environment, replacing the one with the same id.
    /// Committed before it returns.
    public func record(_ environment: EnvironmentRecord) throws {
        try write(run: environment.runID) { try environment.upsert($0) }
    }

    /// Stores a measured item. Committed before it returns.
    /// - Throws: `StoreError.duplicateItem` when the run already holds this item key.
    public func record(_ measurement: MeasurementRecord) throws {
        do {
            try write(run: measurement.runID) { try measurement.insert($0) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StoreError.duplicateItem(run: measurement.runID, key: measurement.itemKey)
        }
    }

    // MARK: Reading a run

    /// The item keys of `run` that ended and were recorded: its measurements, its invocations with an
    /// item key, and its final (SUCCEEDED or FAILED) jobs with one. `--resume` skips these.
    public func completedItemKeys(run id: String) throws -> Set<String> {
        try pool.read { try Self.completedItemKeys(run: id, $0) }
    }

    /// How far `run` got: counts of items, measurements, invocations by status and jobs by state.
    /// - Throws: `StoreError.runNotFound` for an unknown id.
    public func summary(run id: String) throws -> RunSummary {
        try pool.read { db in
            guard let run = try RunRecord.fetchOne(db, key: id) else { throw StoreError.runNotFound(id) }
            var summary = RunSummary(planned: run.planned)
            summary.completed = try Self.completedItemKeys(run: id, db).count
            summary.measurements = try MeasurementRecord.filter(Column("runID") == id).fetchCount(db)
            summary.environments = try EnvironmentRecord.filter(Column("runID") == id).fetchCount(db)
            for row in try Row.fetchAll(
                db, sql: "SELECT status, COUNT(*) FROM invocations WHERE runID = ? GROUP BY status", arguments: [id])
            {
                if let raw = String.fromDatabaseValue(row[0]), let status = InvocationRecord.Status(rawValue: raw) {
                    summary.invocations[status] = row[1]
                }
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) FROM jobs WHERE runID = ? GROUP BY state", arguments: [id])
            {
                if let raw = String.fromDatabaseValue(row[0]), let state = JobRecord.State(rawValue: raw) {
                    summary.jobs[state] = row[1]
                }
            }
            return summary
        }
    }

    /// The measurements of `run`, in the order they started.
    public func measurements(run id: String) throws -> [MeasurementRecord] {
        try pool.read {
            try MeasurementRecord.filter(Column("runID") == id).order(Column("startedAt")).fetchReadable($0)
        }
    }

    /// The invocations of `run`, in the order they started.
    public func invocations(run id: String) throws -> [InvocationRecord] {
        try pool.read {
            try InvocationRecord.filter(Column("runID") == id).order(Column("startedAt")).fetchReadable($0)
        }
    }

    /// The jobs of `run`, in the order they were submitted (array children by index).
    public func jobs(run id: String) throws -> [JobRecord] {
        try pool.read { db in
            try JobRecord.filter(Column("runID") == id).order(Column("submittedAt"), Column("arrayIndex"))
                .fetchReadable(db)
        }
    }

    /// The environments of `run`, in the order they were created.
    public func environments(run id: String) throws -> [EnvironmentRecord] {
        try pool.read {
            try EnvironmentRecord.filter(Column("runID") == id).order(Column("createdAt")).fetchReadable($0)
        }
    }

    // MARK: Helpers

    private static func completedItemKeys(run id: String, _ db: Database) throws -> Set<String> {
        try String.fetchSet(
            db,
            sql: """
                SELECT itemKey FROM measurements WHERE runID = ?1
                UNION SELECT itemKey FROM invocations WHERE runID = ?1 AND itemKey IS NOT NULL
                UNION SELECT itemKey FROM jobs WHERE runID = ?1 AND itemKey IS NOT NULL
                    AND state IN ('SUCCEEDED', 'FAILED')
                """,
            arguments: [id])
    }

    /// One write transaction; a record whose run does not exist is reported as such.
    /// Upserts job rows like `JobRecord.upsert` (insert, or overwrite every column but the id), with
    /// one cached statement: GRDB's `upsert` composes its SQL again for every record, which cost more
    /// than the write itself at a thousand state changes a second.
    private static func upsert(_ jobs: some Collection<JobRecord>, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: jobUpsertSQL)
        for job in jobs {
            let values = try jobColumnValues(job)
            #if DEBUG
                // The hand-written encoding must stay GRDB's own (the tests run debug builds).
                let encoded = try job.databaseDictionary
                assert(
                    encoded.count == jobColumns.count
                        && zip(jobColumns, values).allSatisfy { encoded[$0.0] == $0.1.databaseValue },
                    "JobRecord's columns changed: update CapsizeStore.jobColumns and jobColumnValues")
            #endif
            try statement.execute(arguments: StatementArguments(values))
        }
    }

    /// The jobs table's columns, in the order of `jobColumnValues`.
    private static let jobColumns = [
        "id", "runID", "itemKey", "name", "queue", "arrayParentID", "arrayIndex", "dependsOn", "attempt", "state",
        "statusReason", "exitCode", "vcpus", "memoryMiB", "gpus", "environmentID", "logPath", "submittedAt",
        "pendingAt", "runnableAt", "startingAt", "runningAt", "stoppedAt", "modeledProvisioningSeconds",
        "wallSeconds", "userSeconds", "systemSeconds", "peakRSSBytes", "reason",
    ]

    private static let jobUpsertSQL =
        "INSERT INTO \(JobRecord.databaseTableName.quotedDatabaseIdentifier) "
        + "(\(jobColumns.map(\.quotedDatabaseIdentifier).joined(separator: ", "))) "
        + "VALUES (\(jobColumns.map { _ in "?" }.joined(separator: ", "))) ON CONFLICT(\"id\") DO UPDATE SET "
        + jobColumns.dropFirst().map { "\($0.quotedDatabaseIdentifier) = excluded.\($0.quotedDatabaseIdentifier)" }
        .joined(separator: ", ")

    /// A job's values as GRDB encodes them (see `StoredRecord`: dates as seconds since 1970, JSON
    /// columns through `StoredJSON`), without going through `Encodable` for every column.
    private static func jobColumnValues(_ job: JobRecord) throws -> [DatabaseValue] {
        func date(_ date: Date?) -> DatabaseValue { date?.timeIntervalSince1970.databaseValue ?? .null }
        let dependsOn = job.dependsOn.isEmpty ? "[]" : try StoredJSON.encode(job.dependsOn)
        return [
            job.id.databaseValue, job.runID.databaseValue, job.itemKey.databaseValue, job.name.databaseValue,
            job.queue.databaseValue, job.arrayParentID.databaseValue, job.arrayIndex.databaseValue,
            dependsOn.databaseValue, job.attempt.databaseValue, job.state.databaseValue,
            job.statusReason.databaseValue, job.exitCode.databaseValue, job.vcpus.databaseValue,
            job.memoryMiB.databaseValue, job.gpus.databaseValue, job.environmentID.databaseValue,
            job.logPath.databaseValue, date(job.submittedAt), date(job.pendingAt), date(job.runnableAt),
            date(job.startingAt), date(job.runningAt), date(job.stoppedAt),
            job.modeledProvisioningSeconds.databaseValue, job.wallSeconds.databaseValue, job.userSeconds.databaseValue,
            job.systemSeconds.databaseValue, job.peakRSSBytes.databaseValue, job.reason.databaseValue,
        ]
    }

    /// One write transaction, refused at once in a store opened read-only.
    func writing<T>(_ updates: (Database) throws -> T) throws -> T {
        if isReadOnly { throw StoreError.readOnly(path: path) }
        return try pool.write(updates)
    }

    private func write(run id: String, _ updates: (Database) throws -> Void) throws {
        do {
            try writing(updates)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw StoreError.runNotFound(id)
        }
    }

    /// `date` as it reads back from the store (seconds since 1970 as a Double), so that a record the
    /// store returns equals the one it stored.
    static func storable(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970)
    }

}
