import CapsizeCore
import Foundation
import GRDB
import Testing

@testable import Store

/// What a store that is not as capsize left it still does: list what it can, and say what it cannot.
@Suite(.serialized) struct StoreDegradesTests {
    @Test("a row that cannot be read is skipped and reported once, and every other row is still listed")
    func unreadableRowIsSkipped() throws {
        let (store, directory) = try Fixture.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = Fixture.run()
        let bad = Fixture.run()
        try store.insert(good)
        try store.insert(bad)
        try store.record(Fixture.job(run: good.id, id: "job-1"))
        try store.record(Fixture.job(run: good.id, id: "job-2"))
        try DatabaseQueue(path: store.path).write { db in
            try db.execute(sql: "UPDATE runs SET kind = 'bogus' WHERE id = ?", arguments: [bad.id])
            try db.execute(sql: "UPDATE jobs SET state = 5 WHERE id = 'job-2'")
        }
        _ = UnreadableRows.take()

        #expect(try store.runs().map(\.id) == [good.id])
        #expect(try store.jobs(run: good.id).map(\.id) == ["job-1"])
        #expect(try store.markStaleRunsInterrupted().isEmpty)
        let reported = UnreadableRows.take()
        #expect(reported.count == 2, "\(reported)")
        #expect(reported.contains { $0.contains(bad.id) && $0.contains("table runs") && $0.contains("\"bogus\"") })
        #expect(reported.contains { $0.contains("job-2") && $0.contains("table jobs") && !$0.contains("\n") })
        #expect(UnreadableRows.take().isEmpty)
    }

    @Test("a run whose process id now belongs to a later process is found stale, and can be resumed")
    func reusedProcessID() throws {
        let (store, directory) = try Fixture.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let parent = ProcessIdentity(pid: getppid(), startTicks: ProcessIdentity.startTicks(of: getppid()))
        let started = try #require(parent.startTicks)
        var reused = Fixture.run(pid: parent.pid)
        reused.processStart = started - 1  // the same id, an earlier process
        var owned = Fixture.run(pid: parent.pid)
        owned.processStart = started
        try store.insert(reused)
        try store.insert(owned)

        #expect(try store.markStaleRunsInterrupted(machine: "test machine") == [reused.id])
        let resumed = try store.resume(run: reused.id, machine: "test machine")
        #expect(resumed.owner == ProcessIdentity.current)
        #expect(throws: StoreError.notResumable(id: owned.id, reason: "it is still running (pid \(parent.pid))")) {
            try store.resume(run: owned.id, machine: "test machine")
        }
    }

    @Test("a new run records this process's start time as /proc says it")
    func ownerStartTime() throws {
        let (store, directory) = try Fixture.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try store.createRun(kind: .bench, parameters: ["a": 1])
        #expect(run.pid == getpid())
        #expect(run.processStart != nil && run.processStart == ProcessIdentity.startTicks(of: getpid()))
        #expect(try store.run(id: run.id).owner.isAlive)
    }
}
