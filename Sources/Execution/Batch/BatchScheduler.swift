import CloudModel
import Foundation

/// Which RUNNABLE job starts next, without processes: the queues are visited by priority (index 0 first), and
/// from each the job at its head (first in, first out) is offered to `place`. A head that fits nowhere yet blocks
/// its own queue (strict FIFO, as in a Batch FIFO queue, where a RUNNABLE head holds up the jobs behind it) but not
/// lower-priority queues, which may use the shared capacity meanwhile. Work per placement is O(queues × environments),
/// independent of the number of jobs. A queue with a fair-share policy keeps one line per share identifier instead,
/// and offers the heads of its shares in order of (usage × weight factor, submission): a share's head that does not
/// fit does not hold up the other shares.
struct BatchScheduler {
    /// RUNNABLE jobs in the order they became RUNNABLE (with that sequence number), taken from the head; the
    /// taken part is dropped now and then, so taking is O(1).
    struct Line {
        struct Entry {
            var id: String
            var sequence: Int
            /// The job's vCPUs (a fair share's usage counts them).
            var vcpus: Double
        }

        private var items: [Entry] = []
        private var head = 0

        var first: Entry? { head < items.count ? items[head] : nil }

        mutating func append(_ entry: Entry) { items.append(entry) }

        mutating func removeFirst() {
            head += 1
            if head > 4096 {
                items.removeFirst(head)
                head = 0
            }
        }

        /// Takes job `id` out of the line wherever it is (O(n): for cancelling). - Returns: whether it was there.
        mutating func remove(_ id: String) -> Bool {
            guard let index = items[head...].firstIndex(where: { $0.id == id }) else { return false }
            items.remove(at: index)
            return true
        }
    }

    /// Per queue, its fair-share policy (nil: first in, first out).
    private let policies: [FairSharePolicy?]
    /// Per FIFO queue, its line.
    private var runnable: [Line]
    /// Per fair-share queue, one line per share.
    private var shareLines: [[String: Line]]
    /// Per queue, each share's vCPU-seconds of finished attempts, decayed to `at`.
    private var shareUsage: [[String: (vcpuSeconds: Double, at: Date)]]
    /// Attempts running in fair-share queues: queue, share, vCPUs and start.
    private var fairShareRunning: [String: (queue: Int, share: String, vcpus: Double, start: Date)] = [:]
    /// Jobs made RUNNABLE so far (ties between shares go to the earlier one).
    private var admissions = 0

    /// - Parameter policies: per queue, highest priority first, its fair-share policy or nil.
    init(policies: [FairSharePolicy?]) {
        self.policies = policies
        runnable = Array(repeating: Line(), count: policies.count)
        shareLines = Array(repeating: [:], count: policies.count)
        shareUsage = Array(repeating: [:], count: policies.count)
    }

    /// Puts a RUNNABLE job at the end of its queue's line (or of its share's line in a fair-share queue).
    mutating func enqueue(_ id: String, queue: Int, share: String?, vcpus: Double) {
        admissions += 1
        let entry = Line.Entry(id: id, sequence: admissions, vcpus: vcpus)
        guard policies[queue] != nil else { return runnable[queue].append(entry) }
        shareLines[queue][share ?? "", default: Line()].append(entry)
    }

    /// Takes job `id` out of its line (a cancelled job). - Returns: whether it was waiting in one.
    mutating func remove(_ id: String, queue: Int, share: String?) -> Bool {
        guard policies[queue] != nil else { return runnable[queue].remove(id) }
        return shareLines[queue][share ?? ""]?.remove(id) ?? false
    }

    /// The next RUNNABLE job that `place` finds room for now, with its placement: by queue priority; in a FIFO queue
    /// its head (which blocks the queue when it does not fit), in a fair-share queue the first share's head that
    /// fits, shares in order of usage × weight factor.
    /// - Parameters:
    ///   - now: the time a fair share's usage is counted to (read once per fair-share queue visited).
    ///   - place: takes room for job `id` in queue `queue` and says where, or nil when there is none.
    mutating func next<Placement>(
        now: () -> Date, place: (_ id: String, _ queue: Int) -> Placement?
    ) -> (id: String, placement: Placement)? {
        for queue in policies.indices {
            if let policy = policies[queue] {
                let now = now()
                let offers = shareLines[queue].compactMap { share, line -> (String, Line.Entry, Double)? in
                    guard let head = line.first else { return nil }
                    return (share, head, usage(queue: queue, share: share, at: now) * policy.weight(share))
                }.sorted { ($0.2, $0.1.sequence) < ($1.2, $1.1.sequence) }
                for (share, head, _) in offers {
                    guard let placement = place(head.id, queue) else { continue }
                    shareLines[queue][share]?.removeFirst()
                    fairShareRunning[head.id] = (queue, share, head.vcpus, now)
                    return (head.id, placement)
                }
                continue
            }
            guard let id = runnable[queue].first?.id else { continue }
            // FIFO: when the head does not fit, it waits for capacity, and so does everything behind it in this queue.
            guard let placement = place(id, queue) else { continue }
            runnable[queue].removeFirst()
            return (id, placement)
        }
        return nil
    }

    /// A share's usage in vCPU-seconds at `now`: its finished attempts' usage decayed by e^(−age/decay), plus
    /// its running attempts' vCPUs × elapsed time (and a microsecond's worth each, so that a share already
    /// running loses a tie to one that is not).
    func usage(queue: Int, share: String, at now: Date) -> Double {
        guard let policy = policies[queue] else { return 0 }
        var total = 0.0
        if let past = shareUsage[queue][share] {
            total = past.vcpuSeconds * exp(-now.timeIntervalSince(past.at) / policy.decaySeconds)
        }
        for attempt in fairShareRunning.values where attempt.queue == queue && attempt.share == share {
            total += attempt.vcpus * (max(0, now.timeIntervalSince(attempt.start)) + 1e-6)
        }
        return total
    }

    /// Moves a finished attempt's vCPU-seconds into its share's decayed usage (nothing for a FIFO queue's job).
    mutating func charge(_ id: String, now: () -> Date) {
        guard let attempt = fairShareRunning.removeValue(forKey: id), let policy = policies[attempt.queue] else {
            return
        }
        let now = now()
        var past = shareUsage[attempt.queue][attempt.share] ?? (0, now)
        past.vcpuSeconds *= exp(-now.timeIntervalSince(past.at) / policy.decaySeconds)
        past.vcpuSeconds += attempt.vcpus * now.timeIntervalSince(attempt.start)
        past.at = now
        shareUsage[attempt.queue][attempt.share] = past
    }
}
