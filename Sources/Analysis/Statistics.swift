/// Summary statistics of repeated measurements, robust to the noise of shared machines.
public struct Summary: Codable, Sendable, Equatable {
    public var count: Int
    public var min: Double
    public var median: Double
    public var p90: Double
    public var max: Double
    public var mean: Double
    /// Median absolute deviation from the median.
    public var mad: Double
    /// Indices of samples whose modified z-score 0.6745·|x − median| / MAD exceeds 3.5 (Iglewicz–Hoaglin)
    /// and that lie more than 5 % from the median: with few, tight samples the MAD is tiny, and a
    /// 3 % wobble is not worth a warning.
    public var outliers: [Int]
    /// A 95 % percentile-bootstrap confidence interval of the median.
    public var medianCI95: ClosedRange<Double>

    /// Summarises `samples` (at least one).
    /// - Parameters:
    ///   - resamples: bootstrap resamples for the confidence interval.
    ///   - seed: the bootstrap's seed, so a report is reproducible.
    public init(_ samples: [Double], resamples: Int = 2000, seed: UInt64 = 0x5EED) {
        precondition(!samples.isEmpty, "a summary needs at least one sample")
        let sorted = samples.sorted()
        count = samples.count
        min = sorted.first!
        max = sorted.last!
        median = Self.quantile(sorted, 0.5)
        p90 = Self.quantile(sorted, 0.9)
        mean = samples.reduce(0, +) / Double(samples.count)
        let median = median
        mad = Self.quantile(samples.map { abs($0 - median) }.sorted(), 0.5)
        let mad = mad
        outliers =
            mad > 0
            ? samples.indices.filter {
                let distance = abs(samples[$0] - median)
                return 0.6745 * distance / mad > 3.5 && distance > 0.05 * abs(median)
            } : []
        medianCI95 = Self.bootstrapMedian(samples, resamples: resamples, seed: seed)
    }

    /// The q-quantile of sorted values, linearly interpolated between closest ranks (type 7).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    static func bootstrapMedian(_ samples: [Double], resamples: Int, seed: UInt64) -> ClosedRange<Double> {
        guard samples.count > 1 else { return samples[0]...samples[0] }
        var state = seed
        func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var resample = [Double](repeating: 0, count: samples.count)
        for _ in 0..<resamples {
            for index in resample.indices { resample[index] = samples[Int(next() % UInt64(samples.count))] }
            resample.sort()
            medians.append(quantile(resample, 0.5))
        }
        medians.sort()
        return quantile(medians, 0.025)...quantile(medians, 0.975)
    }
}
