import Foundation
import Testing

@testable import Store

@Suite struct ResumableRunTests {
    struct Failure: Error {}

    @Test("a failing item marks the run interrupted and keeps the earlier items; resuming runs only the rest")
    func resumeAfterFailure() async throws {
        let (store, directory) = try Fixture.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try store.createRun(kind: .sweep, parameters: ["sizes": [1, 2]], planned: 5)
        let plan = RunPlan.repetitions(5)
        var ran: [String] = []
        await #expect(throws: Failure.self) {
            try await ResumableRun.execute(store: store, run: run.id, items: plan) { key in
                if key == "rep=3" { throw Failure() }
                ran.append(key)
                return Fixture.measurement(run: "", item: "")
            }
        }
        #expect(ran == ["rep=1", "rep=2"])
        let interrupted = try store.run(id: run.id)
        #expect(interrupted.status == .interrupted)
        #expect(interrupted.statusReason?.contains("rep=3") == true)

        try store.resume(run: run.id)
        ran = []
        let progress = try await ResumableRun.execute(store: store, run: run.id, items: plan) { key in
            ran.append(key)
            return Fixture.measurement(run: "", item: "")
        }
        #expect(ran == ["rep=3", "rep=4", "rep=5"])
        #expect(progress == .init(skipped: 2, executed: 3))
        #expect(try store.measurements(run: run.id).map(\.itemKey).sorted() == plan.keys)
        let finished = try store.run(id: run.id)
        #expect(finished.status == .finished && finished.finishedAt != nil)
    }

    @Test("a plan's repetitions are named rep=1 … rep=N")
    func repetitions() {
        #expect(RunPlan.repetitions(3).keys == ["rep=1", "rep=2", "rep=3"])
        #expect(RunPlan.repetitions(0).keys == [])
    }
}
