import Foundation

/// Student's t distribution, for the prediction intervals of least-squares fits.
public enum StudentT {
    /// The p-quantile of Student's t distribution: the t with P(T ≤ t) = p.
    ///
    /// Found by bisection on the regularized incomplete beta function (to double precision, not an
    /// approximation); an infinite number of degrees of freedom gives the standard normal quantile.
    /// - Parameters:
    ///   - p: the probability, in (0, 1).
    ///   - degreesOfFreedom: ν > 0 (need not be an integer).
    /// - Returns: the quantile; ±∞ for p = 0 or 1, NaN for p or ν outside their ranges.
    public static func quantile(_ p: Double, degreesOfFreedom: Double) -> Double {
        let df = degreesOfFreedom
        guard p >= 0, p <= 1, df > 0 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: df) }
        if df.isInfinite || df > 1e7 { return normalQuantile(p) }
        // P(|T| > t) = I_x(ν/2, 1/2) with x = ν / (ν + t²), increasing in x: bisect on x.
        let target = 2 * (1 - p)
        var low = 0.0
        var high = 1.0
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if middle == low || middle == high { break }
            if regularizedBeta(middle, df / 2, 0.5) < target { low = middle } else { high = middle }
        }
        let x = 0.5 * (low + high)
        return (df * (1 - x) / x).squareRoot()
    }

    /// The cumulative distribution function P(T ≤ t) with `degreesOfFreedom` ν.
    public static func cdf(_ t: Double, degreesOfFreedom: Double) -> Double {
        let df = degreesOfFreedom
        if df.isInfinite || df > 1e7 { return 0.5 * erfc(-t / 2.0.squareRoot()) }
        let tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5)
        return t > 0 ? 1 - tail : tail
    }

    /// The standard normal quantile, by bisection on the complementary error function.
    static func normalQuantile(_ p: Double) -> Double {
        var low = -40.0
        var high = 40.0
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if middle == low || middle == high { break }
            if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
        }
        return 0.5 * (low + high)
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz).
    static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        // The continued fraction converges fast only below the mean; above it use I_x(a, b) = 1 − I_{1−x}(b, a).
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x, a, b) / a
        }
        return 1 - exp(logFront) * continuedFraction(1 - x, b, a) / b
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        func guarded(_ value: Double) -> Double { abs(value) < tiny ? tiny : value }
        var c = 1.0
        var d = 1 / guarded(1 - (a + b) * x / (a + 1))
        var result = d
        // Convergence takes O(√max(a, b)) terms; ν up to 10⁷ stays well inside this bound.
        for m in 1...100_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 / guarded(1 + even * d)
            c = guarded(1 + even / c)
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 / guarded(1 + odd * d)
            c = guarded(1 + odd / c)
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return result
    }
}
