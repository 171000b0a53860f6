public import Foundation
public import Store

/// One measured repetition at one point of a sweep (a memory setting and a size).
public struct SweepSample: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case completed, timeout, outOfMemory, error, crash

        /// Whether the run ended at one of the caps (the time or the memory cap).
        public var isCapBreak: Bool { self == .timeout || self == .outOfMemory }
    }

    /// Why the point was run: stepping up the size list, confirming a break, or narrowing it down.
    public enum Phase: String, Codable, Sendable { case step, confirm, refine }

    public var memoryMB: Int
    public var size: Double
    public var repetition: Int
    public var status: Status
    /// Measured duration of the invocation or job (Init not included), seconds.
    public var seconds: Double
    /// Measured peak memory of the process tree, MB (MiB).
    public var peakMB: Double
    /// Measured Init Duration of a cold start, ms (function executor).
    public var initMs: Double?
    public var message: String?
    public var phase: Phase
    public var startedAt: Date
    public var endedAt: Date

    /// The sample's item key in its run: `memory=512/size=1024/rep=0`.
    public static func itemKey(memoryMB: Int, size: String, repetition: Int) -> String {
        "memory=\(memoryMB)/size=\(size)/rep=\(repetition)"
    }

    public init(
        memoryMB: Int, size: Double, repetition: Int, status: Status, seconds: Double, peakMB: Double, initMs: Double?,
        message: String?, phase: Phase, startedAt: Date, endedAt: Date
    ) {
        self.memoryMB = memoryMB
        self.size = size
        self.repetition = repetition
        self.status = status
        self.seconds = seconds
        self.peakMB = peakMB
        self.initMs = initMs
        self.message = message
        self.phase = phase
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// Runs one repetition of one point under an executor.
public protocol SweepPointRunner: Sendable {
    /// - Parameter itemKey: the sample's key; the executor's own records carry it as their prefix.
    func run(memoryMB: Int, size: Double, itemKey: String) async throws -> SweepSample
}

/// The points of one memory setting: sizes stepped up until a cap breaks, one point past the break to
/// confirm it, then (when asked) the break narrowed down by bisection.
public struct SweepSeries: Codable, Sendable {
    public var memoryMB: Int
    public var timeoutSeconds: Double
    public var samples: [SweepSample]
    /// The largest size whose repetitions all completed, below the first break.
    public var largestPassing: Double?
    /// The smallest size at which a repetition ended at a cap (after refinement, if any).
    public var firstBreak: Double?
    /// Whether the point after the first break broke too (nil when there was none to run).
    public var confirmed: Bool?
    /// Why the series stopped: `cap`, `sizes` (the list ran out), or `error: …` (a failure that is not a cap).
    public var stoppedBy: String
}

/// Steps a workload through sizes under one executor configuration per memory setting, recording every
/// sample in the store as it ends; samples already recorded (a resumed run) are reused, not run again.
public struct SweepEngine {
    public var sizes: SizeList
    public var repeats: Int
    /// Narrow a break down until the bracket (largest passing, first break) is at most this wide,
    /// relatively (0.1 = 10 %); nil to stop at the confirmation point.
    public var refine: Double?
    public var runner: any SweepPointRunner
    /// Where each sample is recorded as it ends; nil to record nothing (a search on its own).
    public var store: CapsizeStore?
    public var runID: String
    /// Samples recorded before, by item key: taken instead of run again.
    public var recorded: [String: SweepSample] = [:]
    /// Called as each point starts and each sample ends.
    public var onEvent: (SweepEvent) -> Void

    public init(
        sizes: SizeList, repeats: Int, refine: Double?, runner: any SweepPointRunner, store: CapsizeStore?,
        runID: String, onEvent: @escaping (SweepEvent) -> Void = { _ in }
    ) {
        self.sizes = sizes
        self.repeats = repeats
        self.refine = refine
        self.runner = runner
        self.store = store
        self.runID = runID
        self.onEvent = onEvent
    }

    /// One memory setting's series: sizes stepped up to the first break and one past it, then the break narrowed.
    public mutating func series(memoryMB: Int, timeoutSeconds: Double) async throws -> SweepSeries {
        var result = SweepSeries(
            memoryMB: memoryMB, timeoutSeconds: timeoutSeconds, samples: [], stoppedBy: "sizes")
        for size in sizes.sizes {
            let phase: SweepSample.Phase = result.firstBreak == nil ? .step : .confirm
            let point = try await runPoint(memoryMB: memoryMB, size: size, phase: phase)
            result.samples += point
            if let failure = point.first(where: { $0.status == .error || $0.status == .crash }) {
                result.stoppedBy =
                    "error: \(failure.status.rawValue) at \(sizes.parameter)=\(sizes.text(size))"
                    + (failure.message.map { " (\($0))" } ?? "")
                if result.firstBreak == nil { return result }
                break
            }
            let broke = point.contains { $0.status.isCapBreak }
            if result.firstBreak == nil {
                if broke {
                    result.firstBreak = size
                    result.stoppedBy = "cap"
                } else {
                    result.largestPassing = size
                }
            } else {
                result.confirmed = broke
                break
            }
        }
        guard let refine, var low = result.largestPassing, var high = result.firstBreak else { return result }
        while high / low > 1 + refine {
            var middle = (low * high).squareRoot()
            if sizes.integral { middle = middle.rounded() }
            guard middle > low && middle < high else { break }
            let point = try await runPoint(memoryMB: memoryMB, size: middle, phase: .refine)
            result.samples += point
            if point.contains(where: { $0.status == .error || $0.status == .crash }) { break }
            if point.contains(where: \.status.isCapBreak) { high = middle } else { low = middle }
        }
        result.largestPassing = low
        result.firstBreak = high
        return result
    }

    /// Runs (or takes from an earlier attempt of this run) every repetition at one point.
    private mutating func runPoint(memoryMB: Int, size: Double, phase: SweepSample.Phase) async throws -> [SweepSample]
    {
        var samples: [SweepSample] = []
        for repetition in 0..<repeats {
            let key = SweepSample.itemKey(memoryMB: memoryMB, size: sizes.text(size), repetition: repetition)
            if let sample = recorded[key] {
                samples.append(sample)
                onEvent(.sample(sample, reused: true))
                continue
            }
            try Task.checkCancellation()  // interrupted: no new point starts; the run is resumed from here
            onEvent(.starting(memoryMB: memoryMB, size: sizes.text(size), repetition: repetition, of: repeats))
            var sample = try await runner.run(memoryMB: memoryMB, size: size, itemKey: key)
            sample.repetition = repetition
            sample.phase = phase
            try store?.record(
                MeasurementRecord(
                    runID: runID, itemKey: key,
                    metrics: [
                        "size": size, "memory_mb": Double(memoryMB), "peak_mb": sample.peakMB,
                        "cap_break": sample.status.isCapBreak ? 1 : 0,
                    ],
                    seconds: sample.seconds, details: try StoredJSON.encode(sample), startedAt: sample.startedAt,
                    endedAt: sample.endedAt))
            recorded[key] = sample
            samples.append(sample)
            onEvent(.sample(sample, reused: false))
        }
        return samples
    }

    /// The samples a run recorded before (for a resumed run), by item key.
    public static func recordedSamples(run: String, store: CapsizeStore) throws -> [String: SweepSample] {
        var result: [String: SweepSample] = [:]
        for measurement in try store.measurements(run: run) {
            guard let details = measurement.details,
                let sample = try? StoredJSON.decode(SweepSample.self, from: details)
            else { continue }
            result[measurement.itemKey] = sample
        }
        return result
    }
}
