import Foundation
import Synchronization

/// The threads supervisors run on: a thread of its own per run (the loop blocks in ppoll, which the
/// cooperative pool must not), kept after the run and handed the next one, so that a stream of short
/// runs does not create and tear down a thread each. A thread idle for `idleSeconds` ends.
final class SupervisorThreads: Sendable {
    static let shared = SupervisorThreads()
    static let idleSeconds = 10.0

    /// One thread's mailbox.
    private final class Worker: @unchecked Sendable {  // `work` is guarded by `condition`
        let condition = NSCondition()
        var work: (@Sendable () -> Void)?
    }

    private let idle = Mutex<[Worker]>([])

    /// Runs `work` on an idle supervisor thread, or on a new one.
    func run(_ work: @escaping @Sendable () -> Void) {
        if let worker = idle.withLock({ $0.popLast() }) {
            worker.condition.lock()
            worker.work = work
            worker.condition.signal()
            worker.condition.unlock()
            return
        }
        let worker = Worker()
        worker.work = work
        let thread = Thread { [self] in loop(worker) }
        thread.name = "capsize-sandbox"
        thread.start()
    }

    private func loop(_ worker: Worker) {
        while true {
            worker.condition.lock()
            while worker.work == nil {
                if !worker.condition.wait(until: Date(timeIntervalSinceNow: Self.idleSeconds)) && worker.work == nil {
                    // Idle too long: leave, unless `run` has just taken this worker and is about to hand it work.
                    let left = idle.withLock { list in
                        guard let index = list.firstIndex(where: { $0 === worker }) else { return false }
                        list.remove(at: index)
                        return true
                    }
                    if left {
                        worker.condition.unlock()
                        return
                    }
                }
            }
            let work = worker.work!
            worker.work = nil
            worker.condition.unlock()
            work()
            idle.withLock { $0.append(worker) }
        }
    }
}
