import Foundation
import GRDB
import TestSupport
import Testing

@testable import Store

@Suite struct CapsizeStoreTests {
    /// Each test's own store, in a folder removed after it.
    let folder = TestFolder("capsize-store")
    let store: CapsizeStore

    init() throws { store = try CapsizeStore(path: folder.path + "/capsize.sqlite", machine: "test machine") }

    /// A run inserted in the store, for the records of a test.
    func insertedRun() throws -> RunRecord {
        let run = Fixture.run()
        try store.insert(run)
        return run
    }

    @Test("opening a new file creates the five tables, their columns and an index on each run id")
    func schema() throws {
        let db = try DatabaseQueue(path: store.path)
        try db.read { db in
            for table in ["runs", "invocations", "jobs", "environments", "measurements"] {
                #expect(try db.tableExists(table), "\(table)")
            }
            let runColumns = Set(try db.columns(in: "runs").map(\.name))
            #expect(
                runColumns.isSuperset(of: [
                    "id", "kind", "commandLine", "parameters", "machine", "createdAt",
                    "finishedAt", "status", "planned",
                ]))
            let jobColumns = Set(try db.columns(in: "jobs").map(\.name))
            #expect(
                jobColumns.isSuperset(of: [
                    "state", "submittedAt", "pendingAt", "runnableAt", "startingAt",
                    "runningAt", "stoppedAt", "exitCode", "arrayParentID", "arrayIndex", "modeledProvisioningSeconds",
                    "reason",
                ]))
            let environmentColumns = Set(try db.columns(in: "environments").map(\.name))
            #expect(environmentColumns.isSuperset(of: ["name", "modeledProvisioningSeconds", "modeledTeardownAt"]))
            for table in ["invocations", "jobs", "environments", "measurements"] {
                let indexed = try db.indexes(on: table).contains { $0.columns.first == "runID" }
                #expect(indexed, "\(table) has no index starting with runID")
            }
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").count == 5)
        }
    }

    @Test("the store file and its WAL are 0600, and a directory made for it 0700 (0711 as root, for job folders)")
    func privateFiles() throws {
        let parent = try temporaryDirectory("capsize-store")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let store = try CapsizeStore(path: parent + "/home/capsize.sqlite", machine: "test machine")
        _ = try store.createRun(kind: .invoke, parameters: ["memory": 128])
        func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode(parent + "/home/capsize.sqlite") == 0o600)
        #expect(try mode(parent + "/home/capsize.sqlite-wal") == 0o600)
        #expect(try mode(parent + "/home") == (geteuid() == 0 ? 0o711 : 0o700))
    }

    @Test("the database is in WAL mode, on disk and for every new connection")
    func walMode() throws {
        try store.createRun(kind: .bench, parameters: ["size": 1])
        let mode = try DatabaseQueue(path: store.path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Bytes 18 and 19 of an SQLite file are its read and write versions: 2 means WAL.
        let header = try #require(FileHandle(forReadingAtPath: store.path)).readData(ofLength: 20)
        #expect(header[18] == 2 && header[19] == 2)
    }

    @Test("runs, invocations, jobs, environments and measurements read back equal, from a reopened store")
    func roundTrip() throws {
        let run = try insertedRun()
        let created = try store.createRun(
            kind: .bench, commandLine: ["capsize", "bench", "command"], parameters: ["repeat": 5], planned: 5)
        let invocation = Fixture.invocation(run: run.id)
        let job = Fixture.job(run: run.id)
        let environment = EnvironmentRecord(
            runID: run.id, kind: .function, createdAt: Fixture.date(0.5), reapedAt: Fixture.date(9),
            invocationsServed: 3, initDurationMs: 41.5)
        let measurement = Fixture.measurement(run: run.id, item: "size=512/rep=2")
        try store.record(invocation)
        try store.record(job)
        try store.record(environment)
        try store.record(measurement)

        let reopened = try CapsizeStore(path: store.path, machine: "test machine")
        #expect(try reopened.run(id: run.id) == run)
        #expect(try reopened.run(id: created.id) == created)
        #expect(try reopened.invocations(run: run.id) == [invocation])
        #expect(try reopened.jobs(run: run.id) == [job])
        #expect(try reopened.environments(run: run.id) == [environment])
        let stored = try reopened.measurements(run: run.id)
        #expect(stored.count == 1)
        #expect(stored.first?.metrics["odd"] == .infinity)
        #expect(stored == [measurement])
        #expect(try StoredJSON.decode([String: Int].self, from: created.parameters) == ["repeat": 5])
        #expect(try reopened.runs().map(\.id) == [created.id, run.id])
        #expect(try reopened.runs(limit: 1).map(\.id) == [created.id])
    }

    @Test(
        "recording a job again replaces its row: the state changes, every state keeps its timestamp, the container reason is kept"
    )
    func jobUpsert() throws {
        let run = try insertedRun()
        var job = Fixture.job(run: run.id)
        try store.record(job)
        let states: [JobRecord.State] = [.pending, .runnable, .starting, .running, .failed]
        for (offset, state) in states.enumerated() {
            job.enter(
                state, at: Fixture.date(Double(offset + 2)),
                reason: state == .failed ? "Essential container in task exited" : nil)
            if state == .failed {
                job.exitCode = 137
                job.reason = "OutOfMemoryError: Container killed due to memory usage"
            }
            try store.record(job)
        }
        let stored = try store.jobs(run: run.id)
        #expect(stored.count == 1)
        let final = try #require(stored.first)
        #expect(final.state == .failed)
        #expect(final.exitCode == 137)
        #expect(final.statusReason == "Essential container in task exited")
        #expect(final.reason == "OutOfMemoryError: Container killed due to memory usage")
        #expect(final.enteredAt(.submitted) == Fixture.date(1))
        #expect(final.enteredAt(.running) == Fixture.date(5))
        #expect(final.enteredAt(.failed) == Fixture.date(6))
        #expect(final.enteredAt(.succeeded) == nil)
    }

    @Test("many jobs recorded together are stored in one transaction, or none when one names an unknown run")
    func jobBatch() throws {
        let run = try insertedRun()
        var children = (0..<100).map { Fixture.job(run: run.id, id: "array-1:\($0)") }
        try store.record(children)
        for index in children.indices { children[index].enter(.runnable, at: Fixture.date(2)) }
        try store.record(children)
        #expect(try store.summary(run: run.id).jobs == [.runnable: 100])
        var stray = Fixture.job(run: "nope", id: "stray")
        stray.enter(.running)
        for index in children.indices { children[index].enter(.running) }
        #expect(throws: StoreError.runNotFound("nope")) { try store.record(children + [stray]) }
        #expect(try store.summary(run: run.id).jobs == [.runnable: 100])
    }

    @Test("a run is found by its id or a unique prefix; an unknown or ambiguous prefix is an error naming it")
    func prefixLookup() throws {
        let first = Fixture.run(id: "abc12345-0000-4000-8000-000000000001")
        let second = Fixture.run(id: "abd12345-0000-4000-8000-000000000002")
        try store.insert(first)
        try store.insert(second)
        #expect(try store.run(id: first.id) == first)
        #expect(try store.run(id: "abc") == first)
        #expect(try store.run(id: "ABD1") == second)
        #expect(throws: StoreError.ambiguousRun(prefix: "ab", matches: [first.id, second.id].sorted())) {
            _ = try store.run(id: "ab").id
        }
        #expect(throws: StoreError.runNotFound("abe")) { try store.run(id: "abe") }
        #expect(throws: StoreError.runNotFound("a%")) { try store.run(id: "a%") }
        #expect(throws: StoreError.runNotFound("")) { try store.run(id: "") }
    }

    @Test("completed item keys: every measurement, invocations with a key, and only final jobs")
    func completedItems() throws {
        let run = try insertedRun()
        try store.record(Fixture.measurement(run: run.id, item: "rep=1"))
        try store.record(Fixture.invocation(run: run.id, item: "rep=2", status: .timeout))
        try store.record(Fixture.invocation(run: run.id))
        var running = Fixture.job(run: run.id, id: "job-3", item: "rep=3")
        running.enter(.running)
        try store.record(running)
        var succeeded = Fixture.job(run: run.id, id: "job-4", item: "rep=4")
        succeeded.enter(.succeeded)
        try store.record(succeeded)
        #expect(try store.completedItemKeys(run: run.id) == ["rep=1", "rep=2", "rep=4"])

        let summary = try store.summary(run: run.id)
        #expect(summary.planned == 3)
        #expect(summary.completed == 3)
        #expect(summary.measurements == 1)
        #expect(summary.invocations == [.timeout: 1, .success: 1])
        #expect(summary.jobs == [.running: 1, .succeeded: 1])
        #expect(summary.environments == 0)
    }

    @Test("recording an item twice, or a record of an unknown run, is refused and changes nothing")
    func refusals() throws {
        let run = try insertedRun()
        try store.record(Fixture.measurement(run: run.id, item: "rep=1", seconds: 1))
        #expect(throws: StoreError.duplicateItem(run: run.id, key: "rep=1")) {
            try store.record(Fixture.measurement(run: run.id, item: "rep=1", seconds: 2))
        }
        #expect(try store.measurements(run: run.id).map(\.seconds) == [1])
        #expect(throws: StoreError.runNotFound("nope")) { try store.record(Fixture.invocation(run: "nope")) }
        #expect(throws: StoreError.runNotFound("nope")) { try store.summary(run: "nope") }
        #expect(throws: StoreError.runNotFound("nope")) { try store.finish(run: "nope") }
    }

    @Test("many tasks recording at once lose nothing")
    func concurrentRecords() async throws {
        let run = try insertedRun()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for index in 0..<50 {
                        try store.record(Fixture.measurement(run: run.id, item: "task=\(task)/rep=\(index)"))
                        try store.record(Fixture.invocation(run: run.id))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.completedItemKeys(run: run.id).count == 200)
        #expect(try store.summary(run: run.id).invocations == [.success: 200])
    }

    @Test("a running run whose process is gone is marked interrupted; resume takes it over, once")
    func staleRunsAndResume() throws {
        let finishedChild = Process()
        finishedChild.executableURL = URL(fileURLWithPath: "/bin/true")
        try finishedChild.run()
        finishedChild.waitUntilExit()
        let dead = Fixture.run(pid: finishedChild.processIdentifier)
        let live = Fixture.run(pid: getppid())
        let elsewhere = Fixture.run(pid: finishedChild.processIdentifier, machine: "another machine")
        for run in [dead, live, elsewhere] { try store.insert(run) }

        #expect(try store.markStaleRunsInterrupted(machine: "test machine") == [dead.id])
        #expect(try store.run(id: dead.id).status == .interrupted)
        #expect(try store.run(id: live.id).status == .running)
        #expect(try store.run(id: elsewhere.id).status == .running)

        let resumed = try store.resume(run: dead.id, machine: "test machine")
        #expect(resumed.status == .running && resumed.pid == getpid() && resumed.resumes == 1)
        #expect(throws: StoreError.notResumable(id: live.id, reason: "it is still running (pid \(getppid()))")) {
            try store.resume(run: live.id, machine: "test machine")
        }
        #expect(throws: StoreError.self) { try store.resume(run: elsewhere.id, machine: "test machine") }
        try store.finish(run: dead.id)
        #expect(throws: StoreError.notResumable(id: dead.id, reason: "it finished")) {
            try store.resume(run: dead.id, machine: "test machine")
        }
    }

    @Test("a store that cannot be created, or that a newer capsize wrote, is reported by path and left alone")
    func unopenable() throws {
        let underFile = store.path + "/inside/capsize.sqlite"
        #expect {
            try CapsizeStore(path: underFile, machine: "test machine")
        } throws: { error in
            guard case .unopenable(let path, _) = error as? StoreError else { return false }
            return path == underFile
        }
        try DatabaseQueue(path: store.path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        #expect(throws: StoreError.newerSchema(path: store.path)) {
            try CapsizeStore(path: store.path, machine: "test machine")
        }
    }

    @Test("the default path follows CAPSIZE_HOME, then XDG_DATA_HOME, like the calibrations")
    func defaultPath() {
        #expect(CapsizeStore.defaultPath(environment: ["CAPSIZE_HOME": "/x"]) == "/x/capsize.sqlite")
        #expect(CapsizeStore.defaultPath(environment: ["XDG_DATA_HOME": "/d"]) == "/d/capsize/capsize.sqlite")
        #expect(CapsizeStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/capsize/capsize.sqlite")
    }
}
