import Foundation

/// Timing and summary helpers shared by the calibrators.
enum CalibrationSupport {
    /// Wall-clock seconds that `body` takes, on the monotonic clock.
    static func seconds<E: Error>(_ body: () throws(E) -> Void) throws(E) -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// The median of `values` (the mean of the middle two for an even count); 0 when empty.
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Now, to the whole second, so that a calibration survives a round trip through ISO 8601 JSON unchanged.
    static func timestamp() -> Date {
        Date(timeIntervalSince1970: Foundation.floor(Date().timeIntervalSince1970))
    }

    /// Fills `values` with deterministic pseudo-random floats in [-1, 1) (a 64-bit LCG), so
    /// runs are repeatable and no value is denormal or zero-heavy.
    static func fillRandom(_ values: UnsafeMutableBufferPointer<Float>, seed: UInt64) {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        for index in values.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[index] = Float(Int32(truncatingIfNeeded: state >> 32)) * (1 / 2_147_483_648)
        }
    }

    /// The bytes of the last-level cache of CPU 0 (from sysfs), or 0 when unknown.
    static func lastLevelCacheBytes() -> Int {
        var largest = 0
        for index in 0..<8 {
            let path = "/sys/devices/system/cpu/cpu0/cache/index\(index)/size"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let scale: Int =
                trimmed.hasSuffix("K")
                ? 1024 : trimmed.hasSuffix("M") ? 1024 * 1024 : trimmed.hasSuffix("G") ? 1 << 30 : 1
            if let value = Int(trimmed.trimmingCharacters(in: .letters)) { largest = max(largest, value * scale) }
        }
        return largest
    }
}

/// How busy other processes keep the CPUs while a calibration runs, from Linux's /proc, so that a
/// peak measured on a loaded machine says so instead of passing for the machine's peak.
struct CPULoadMonitor {
    /// CPU time in clock ticks: all CPUs busy, all CPUs in total, and this process's own.
    typealias Sample = (busy: UInt64, total: UInt64, own: UInt64)

    private let start: Sample?

    init() { start = Self.sample() }

    /// The share of all CPU time since `init` that other processes used (0 to 1); nil when /proc is unreadable.
    func othersShare() -> Double? {
        guard let start, let end = Self.sample() else { return nil }
        return Self.othersShare(from: start, to: end)
    }

    /// The share of all CPU time between two samples that was busy but not this process's own.
    static func othersShare(from start: Sample, to end: Sample) -> Double? {
        guard end.total > start.total else { return nil }
        let busy = Double(end.busy &- start.busy)
        let own = Double(end.own &- start.own)
        return min(1, max(0, (busy - own) / Double(end.total &- start.total)))
    }

    /// A note for the calibration's `notes` when others used more than a tenth of the CPUs.
    func note() -> String? { othersShare().flatMap(Self.note(share:)) }

    static func note(share: Double) -> String? {
        guard share > 0.1 else { return nil }
        return "Other processes kept \(Int((share * 100).rounded())) % of the CPUs busy during this calibration, "
            + "so its numbers may be low; calibrate again on an idle machine."
    }

    /// Busy and total ticks of all CPUs (`/proc/stat`) and this process's own (`/proc/self/stat`).
    static func sample() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu "),
            let own = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = own.lastIndex(of: ")")
        else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already inside user).
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard fields.count == 8 else { return nil }
        let idle = fields[3] + fields[4]
        let total = fields.reduce(0, +)
        // After the command name: state is field 3, utime and stime are fields 14 and 15.
        let rest = own[own.index(after: close)...].split(separator: " ")
        guard rest.count > 13, let user = UInt64(rest[11]), let system = UInt64(rest[12]) else { return nil }
        return (total - idle, total, user + system)
    }
}
