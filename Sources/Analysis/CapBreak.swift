/// One invocation of a size sweep under one executor configuration, as measured.
public struct SweepPoint: Sendable, Codable, Equatable {
    /// How the invocation ended.
    public enum Outcome: String, Sendable, Codable {
        case completed
        /// Killed at the time cap: its seconds are censored (≈ the timeout, a lower bound of the true time).
        case timeout
        /// Killed at the memory cap: its peak is censored (≈ the cap, a lower bound of the true peak).
        case outOfMemory
        /// Failed for another reason: neither a pass nor a cap break.
        case error
    }

    public var size: Double
    public var outcome: Outcome
    /// The measured wall duration.
    public var seconds: Double
    /// The measured peak memory of the process tree.
    public var peakMemoryMB: Double

    public init(size: Double, outcome: Outcome, seconds: Double, peakMemoryMB: Double) {
        self.size = size
        self.outcome = outcome
        self.seconds = seconds
        self.peakMemoryMB = peakMemoryMB
    }
}

/// A cap of a short-function service.
public enum Cap: String, Sendable, Codable {
    case time
    case memory
}

/// The smallest size at which an invocation really was stopped at a cap.
public struct ObservedBreak: Sendable, Codable, Equatable {
    public var size: Double
    /// The cap that stopped most of the size's stopped repetitions (time on a tie).
    public var cap: Cap
}

/// Where a fitted law crosses a cap.
public struct PredictedBreak: Sendable, Codable, Equatable {
    public var cap: Cap
    /// The size where the fit reaches the cap (``ScalingFit/solve(for:)``).
    public var size: Double
    /// The 95 % crossing interval (``ScalingFit/crossingInterval(for:level:)``); nil when the data cannot bound it.
    public var interval: ClosedRange<Double>?
    /// Whether the size lies beyond the largest size fitted.
    public var extrapolated: Bool
}

/// Where the caps of one executor configuration (a timeout and a memory size) break for a workload: observed in a
/// sweep of sizes, and predicted from fits of time and memory versus size.
///
/// Feasibility at a cap: Lambda stops an invocation when its duration reaches the timeout, so an invocation
/// reported as completed with `seconds ≥ timeoutSeconds` is counted as a timeout (it could not have completed).
/// Memory is a limit on what may be used, so a completed invocation with `peakMemoryMB == memoryMB` is a pass, and
/// only `peakMemoryMB > memoryMB` turns a completed invocation into an out-of-memory one.
///
/// Censoring: a timed-out invocation's seconds and a memory-killed invocation's peak are lower bounds, not
/// measurements. The fits use per-size medians in which such repetitions rank above every measured one: a size
/// whose median is censored (half or more of its repetitions stopped at that cap) is left out of that fit, and no
/// censored number ever enters a fit. Memory peaks of timed-out invocations and times of memory-killed ones are
/// left out too (the invocation was stopped before its end); errors are left out of everything.
public struct CapBreakAnalysis: Sendable, Codable, Equatable {
    public var timeoutSeconds: Double
    public var memoryMB: Double
    /// The largest size, below the smallest failing size, whose every repetition completed.
    public var largestPassingSize: Double?
    /// The smallest size at which a repetition timed out or was killed for memory.
    public var observed: ObservedBreak?
    /// Median seconds versus size, over sizes whose median is measured, within the fit window.
    public var timeFit: ScalingFit?
    /// Median peak megabytes versus size, over sizes whose median is measured.
    public var memoryFit: ScalingFit?
    /// Where ``timeFit`` reaches the timeout.
    public var predictedTime: PredictedBreak?
    /// Where ``memoryFit`` reaches the memory size.
    public var predictedMemory: PredictedBreak?
    /// The cap whose predicted break comes at the smaller size (time on a tie).
    public var predictedFirst: Cap?
    /// The cap that breaks first: the observed one when a sweep reached it, else the predicted one.
    public var firstCap: Cap?
    /// The relative error |predicted − observed| / observed of the predicted break of the observed cap.
    public var agreement: Double?
    /// Whether that prediction agrees with the observation. An observed break at size S after a largest passing
    /// size P (0 when none) says the true break lies in (P, S]; the prediction agrees when it lies in that bracket
    /// widened by 10 % on both sides, [0.9·P, 1.1·S]. Nil when there is no observed break or no prediction of its cap.
    public var predictionAgrees: Bool?

    /// Analyses one sweep.
    /// - Parameters:
    ///   - points: every invocation, repetitions included, in any order.
    ///   - timeoutSeconds: the configuration's timeout.
    ///   - memoryMB: the configuration's memory size.
    ///   - fitWindow: fit time only on the measured sizes within this factor of the largest one, and at least the
    ///     largest three: the law near the time cap, where start-up costs and the noise of tiny runs no longer bend
    ///     it; nil fits every size. Memory is always fitted on every size.
    public init(points: [SweepPoint], timeoutSeconds: Double, memoryMB: Double, fitWindow: Double? = 4) {
        self.timeoutSeconds = timeoutSeconds
        self.memoryMB = memoryMB
        let points = points.map { Self.effective($0, timeoutSeconds: timeoutSeconds, memoryMB: memoryMB) }
        let bySize = Dictionary(grouping: points, by: \.size)
        let sizes = bySize.keys.sorted()

        func stopped(_ outcome: SweepPoint.Outcome) -> Bool { outcome == .timeout || outcome == .outOfMemory }
        if let size = sizes.first(where: { bySize[$0]!.contains { stopped($0.outcome) } }) {
            let timeouts = bySize[size]!.filter { $0.outcome == .timeout }.count
            let kills = bySize[size]!.filter { $0.outcome == .outOfMemory }.count
            observed = ObservedBreak(size: size, cap: timeouts >= kills ? .time : .memory)
        }
        let breakSize = observed?.size ?? .infinity
        largestPassingSize = sizes.last { $0 < breakSize && bySize[$0]!.allSatisfy { $0.outcome == .completed } }

        // Per-size medians, censored repetitions ranked as +∞.
        func medians(_ value: (SweepPoint) -> Double?) -> (sizes: [Double], values: [Double]) {
            var result: (sizes: [Double], values: [Double]) = ([], [])
            for size in sizes {
                let values = bySize[size]!.compactMap(value).sorted()
                guard !values.isEmpty else { continue }
                // Not Summary.quantile: its interpolation turns a +∞ neighbour into NaN even at weight 0.
                let middle = values.count / 2
                let median = values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
                guard median.isFinite else { continue }
                result.sizes.append(size)
                result.values.append(median)
            }
            return result
        }
        let times = medians {
            switch $0.outcome {
            case .completed: $0.seconds
            case .timeout: .infinity
            case .outOfMemory, .error: nil
            }
        }
        let peaks = medians {
            switch $0.outcome {
            case .completed: $0.peakMemoryMB
            case .outOfMemory: .infinity
            case .timeout, .error: nil
            }
        }
        // The law near the caps, not the start-up costs of tiny sizes: fit the sizes within `fitWindow` of the
        // largest one measured, and at least the largest three.
        func window(_ series: (sizes: [Double], values: [Double])) -> (sizes: [Double], values: [Double]) {
            guard let fitWindow, let top = series.sizes.last else { return series }
            let start = min(series.sizes.firstIndex { $0 >= top / fitWindow } ?? 0, max(0, series.sizes.count - 3))
            return (Array(series.sizes[start...]), Array(series.values[start...]))
        }
        // Memory is fitted on every size: its constant (the runtime's own memory) is part of the law, not noise.
        let fittedTimes = window(times)
        timeFit = ScalingFit.fit(sizes: fittedTimes.sizes, values: fittedTimes.values)
        memoryFit = ScalingFit.fit(sizes: peaks.sizes, values: peaks.values)

        func prediction(_ fit: ScalingFit?, cap: Cap, limit: Double) -> PredictedBreak? {
            guard let fit, let size = fit.solve(for: limit) else { return nil }
            return PredictedBreak(
                cap: cap, size: size, interval: fit.crossingInterval(for: limit),
                extrapolated: size > fit.sizeRange.upperBound)
        }
        predictedTime = prediction(timeFit, cap: .time, limit: timeoutSeconds)
        predictedMemory = prediction(memoryFit, cap: .memory, limit: memoryMB)
        switch (predictedTime, predictedMemory) {
        case (let time?, let memory?): predictedFirst = time.size <= memory.size ? .time : .memory
        case (.some, nil): predictedFirst = .time
        case (nil, .some): predictedFirst = .memory
        case (nil, nil): predictedFirst = nil
        }
        firstCap = observed?.cap ?? predictedFirst

        if let observed, let predicted = observed.cap == .time ? predictedTime : predictedMemory {
            agreement = abs(predicted.size - observed.size) / observed.size
            let passing = largestPassingSize ?? 0
            predictionAgrees = predicted.size >= 0.9 * passing && predicted.size <= 1.1 * observed.size
        }
    }

    /// The point as the caps judge it: a completed invocation that reached the timeout or exceeded the memory
    /// size could not have completed under them.
    static func effective(_ point: SweepPoint, timeoutSeconds: Double, memoryMB: Double) -> SweepPoint {
        guard point.outcome == .completed else { return point }
        var point = point
        if point.seconds >= timeoutSeconds {
            point.outcome = .timeout
        } else if point.peakMemoryMB > memoryMB {
            point.outcome = .outOfMemory
        }
        return point
    }
}
