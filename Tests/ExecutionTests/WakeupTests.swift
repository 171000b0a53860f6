import Synchronization
import Testing

@testable import Execution

/// `Wakeup`, which wakes `BatchExecutor.serve`'s loop on a submission instead of a poll.
@Suite(.timeLimit(.minutes(1))) struct WakeupTests {
    @Test("a signal before the wait is kept for it; two such signals release one wait, not two")
    func keptAndCoalesced() async throws {
        let wakeup = Wakeup()
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait()  // the kept signal (without it, the suite's time limit ends the test)
        let ended = Mutex(false)
        let waiter = Task {
            await wakeup.wait()
            ended.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(ended.withLock { !$0 }, "the second signal was not kept apart from the first")
        wakeup.signal()
        await waiter.value
        #expect(ended.withLock { $0 })
    }

    @Test("cancelling the waiting task ends its wait")
    func cancellation() async {
        let wakeup = Wakeup()
        let waiter = Task { await wakeup.wait() }
        waiter.cancel()
        await waiter.value
    }
}
