/// Amdahl's law fitted to times measured at several thread (vCPU) counts: T(p) = T1 · (s + (1 − s) / p).
///
/// Lambda gives a function a share of vCPUs proportional to its memory (memory / 1,769 MB), so the law is
/// extended below one vCPU: with p < 1 the whole program, serial part included, runs at a fraction p of one core,
/// T(p) = T1 / p (e.g. 0.29 vCPU at 512 MB takes T1 / 0.29). Both branches give T1 at p = 1.
public struct AmdahlFit: Sendable, Codable, Equatable {
    /// The serial fraction s, clamped to 0...1 (a fit outside is refitted with s at the bound).
    public var serialFraction: Double
    /// T1, the fitted time on one thread.
    public var oneThreadSeconds: Double
    /// The coefficient of determination of the fitted times (in seconds).
    public var rSquared: Double
    /// The number of measurements fitted.
    public var n: Int

    /// Fits T(p) = A·max(1, 1/p) + B/p by linear least squares (A = T1·s, B = T1·(1 − s); for p ≥ 1 this is a line
    /// in 1/p), then clamps s = A / (A + B) to 0...1, refitting T1 alone when it clamps.
    /// - Parameters:
    ///   - threads: thread or vCPU counts p (positive; fractions allowed).
    ///   - seconds: the measured times (positive).
    /// - Returns: nil with mismatched counts, a non-positive or non-finite value, or thread counts that cannot
    ///   separate the serial part (fewer than two distinct counts, or none above 1).
    public static func fit(threads: [Double], seconds: [Double]) -> AmdahlFit? {
        guard threads.count == seconds.count, threads.count >= 2,
            threads.allSatisfy({ $0 > 0 && $0.isFinite }), seconds.allSatisfy({ $0 > 0 && $0.isFinite })
        else { return nil }
        let serialRegressor = threads.map { max(1, 1 / $0) }
        let parallelRegressor = threads.map { 1 / $0 }
        let rows = zip(serialRegressor, parallelRegressor).map { [$0, $1] }
        guard let solution = LeastSquares(rows: rows, response: seconds) else { return nil }
        let (a, b) = (solution.coefficients[0], solution.coefficients[1])

        var serialFraction = a + b > 0 ? a / (a + b) : (b > 0 ? 0 : 1)
        var oneThreadSeconds = a + b
        // Clamped: T = T1·x with x the parallel (s = 0) or serial (s = 1) regressor, so T1 = Σ T·x / Σ x².
        func oneParameter(_ x: [Double]) -> Double {
            zip(seconds, x).reduce(0) { $0 + $1.0 * $1.1 } / x.reduce(0) { $0 + $1 * $1 }
        }
        if serialFraction <= 0 {
            serialFraction = 0
            oneThreadSeconds = oneParameter(parallelRegressor)
        } else if serialFraction >= 1 {
            serialFraction = 1
            oneThreadSeconds = oneParameter(serialRegressor)
        }

        var fit = AmdahlFit(
            serialFraction: serialFraction, oneThreadSeconds: oneThreadSeconds, rSquared: 0, n: threads.count)
        let mean = seconds.reduce(0, +) / Double(seconds.count)
        let total = seconds.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let residual = zip(threads, seconds).reduce(0) { sum, point in
            let error = point.1 - fit.seconds(threads: point.0)
            return sum + error * error
        }
        fit.rSquared = total > 0 ? 1 - residual / total : 1
        return fit
    }

    /// The predicted time on `threads` vCPUs: T1·(s + (1 − s)/p) for p ≥ 1, T1/p for a fractional share p < 1.
    public func seconds(threads: Double) -> Double {
        threads < 1 ? oneThreadSeconds / threads : oneThreadSeconds * (serialFraction + (1 - serialFraction) / threads)
    }

    /// The predicted speedup over one thread, T1 / T(p); at most 1 / s.
    public func speedup(threads: Double) -> Double {
        oneThreadSeconds / seconds(threads: threads)
    }
}
