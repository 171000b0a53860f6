#if canImport(Glibc)
    import Glibc
#endif

/// Holds a process tree to a share of the CPU: at most `share` CPU-seconds per second of wall time, the
/// way Lambda gives a function memory / 1,769 MB of a vCPU and Fargate a task its fractional vCPUs.
///
/// A credit (in CPU-seconds) grows by `share` per elapsed second, up to `burstSeconds`, and shrinks by the
/// CPU time the tree used. When it is overdrawn the supervisor stops the tree (SIGSTOP) and continues it
/// (SIGCONT) at `resumeAt`, when the credit is back to zero. No cgroup is made or moved: the supervisors
/// already read the tree's CPU time from /proc every few milliseconds. Pure: the caller reads the clock and
/// the tree and sends the signals.
struct CPUGovernor: Sendable {
    enum Action: Equatable {
        case none, stop, resume

        /// What the tree is sent: SIGSTOP, SIGCONT, or nothing.
        var signal: Int32? {
            switch self {
            case .none: nil
            case .stop: SIGSTOP
            case .resume: SIGCONT
            }
        }
    }

    /// CPU-seconds the tree may use per second of wall time (0.0724 at 128 MB, 6 at 10,240 MB).
    let share: Double
    /// The most credit a tree that used less than its share can bank (as a CFS quota does not carry over
    /// more than a period): a tree idle for a minute may not then run a minute at full speed.
    let burstSeconds: Double
    private(set) var credit = 0.0
    private(set) var stopped = false
    /// Wall seconds the tree has been held stopped, and how many times.
    private(set) var stoppedSeconds = 0.0
    private(set) var stops = 0
    private var lastTime: Double
    private var lastUsed: Double
    private var stoppedAt = 0.0

    /// The credit a tree may bank: a tenth of a second at its share, and never less than two clock ticks of
    /// CPU (the resolution of the readings), so that a reading's step does not look like an overdraft.
    static func burst(share: Double) -> Double { max(share * 0.1, 0.02) }

    /// - Parameters:
    ///   - share: CPU-seconds per second, > 0.
    ///   - now: the monotonic clock, in seconds.
    ///   - used: the tree's CPU seconds so far (the baseline; only what it uses from now on counts).
    init(share: Double, now: Double, used: Double) {
        self.share = share
        burstSeconds = Self.burst(share: share)
        lastTime = now
        lastUsed = used
    }

    /// Takes a reading and says what to do with the tree.
    /// - Parameters:
    ///   - now: the monotonic clock, in seconds.
    ///   - used: the tree's CPU seconds so far. It may step back a little (a process read just before its
    ///     parent reaped it counts twice for one reading); the next reading corrects that.
    mutating func update(now: Double, used: Double) -> Action {
        let elapsed = max(0, now - lastTime)
        credit = min(credit + share * elapsed, burstSeconds) - (used - lastUsed)
        lastTime = now
        lastUsed = used
        if !stopped && credit < 0 {
            stopped = true
            stops += 1
            stoppedAt = now
            return .stop
        }
        if stopped && credit >= 0 {
            return release(now: now)
        }
        return .none
    }

    /// When a stopped tree's credit is back to zero (it uses nothing while stopped); nil while it runs.
    var resumeAt: Double? { stopped ? lastTime + max(0, -credit) / share : nil }

    /// Lets a stopped tree go for good (the run is ending or no longer governed).
    /// - Returns: `.resume` when the tree was stopped.
    mutating func release(now: Double) -> Action {
        guard stopped else { return .none }
        stopped = false
        stoppedSeconds += max(0, now - stoppedAt)
        return .resume
    }
}
