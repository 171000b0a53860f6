import Foundation

/// A law of a measured quantity (seconds, peak megabytes) versus a workload's size, fitted by least squares,
/// with prediction intervals and the inverse question "at which size does it reach a cap?".
///
/// Fits are made in a standardized coordinate u = (t(x) − center) / scale, with t(x) = ln x for the power
/// law and t(x) = x for polynomials, so that x² of sizes in the thousands does not ruin the normal equations.
public struct ScalingFit: Sendable, Codable, Equatable {
    /// The shape of the law.
    public enum Model: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
        /// y = a · x^b, fitted by least squares on ln y versus ln x (multiplicative errors).
        case powerLaw
        /// y = c0 + c1·x (+ c2·x²), degree 1 or 2, fitted by least squares on y versus x, weighted by 1/ŷ²
        /// (errors proportional to the value, like the power law's, so both are judged on the same footing).
        case polynomial(degree: Int)

        /// The number of fitted coefficients.
        public var parameterCount: Int {
            switch self {
            case .powerLaw: 2
            case .polynomial(let degree): degree + 1
            }
        }

        public var description: String {
            switch self {
            case .powerLaw: "power law"
            case .polynomial(1): "linear"
            case .polynomial(2): "quadratic"
            case .polynomial(let degree): "polynomial of degree \(degree)"
            }
        }

        /// The models ``ScalingFit/fit(sizes:values:)`` chooses from, simplest first (the order breaks ties).
        public static let candidates: [Model] = [.powerLaw, .polynomial(degree: 1), .polynomial(degree: 2)]
    }

    /// The law's shape.
    public var model: Model
    /// Power law: [a, b] of y = a·x^b; polynomial: [c0, c1, c2…] of y = c0 + c1·x + c2·x², in sizes as given.
    public var coefficients: [Double]
    /// The number of points fitted.
    public var n: Int
    /// The coefficient of determination in the space the model was fitted: ln y for the power law, y weighted by
    /// 1/ŷ² for polynomials.
    public var rSquared: Double
    /// The root mean square of ln(ŷ / y) over the fitted points: the typical relative error, comparable between
    /// models (a polynomial that predicts a non-positive value at a fitted size is not returned).
    public var relativeRMSE: Double
    /// The corrected Akaike information criterion on the relative errors, n·ln(Σ ln²(ŷ/y) / n) + 2k + 2k(k+1)/(n−k−1)
    /// with k coefficients; nil when n < k + 2. Lower is better; used to choose the model.
    public var aicc: Double?
    /// The smallest and largest sizes fitted: predictions outside it are extrapolations.
    public var sizeRange: ClosedRange<Double>

    // The fit in the standardized coordinate, for predictions and their intervals.
    var center: Double
    var scale: Double
    var standardizedCoefficients: [Double]
    var inverseGram: [Double]
    var residualSumOfSquares: Double

    /// The exponent b of a power law; nil for polynomials.
    public var exponent: Double? { model == .powerLaw ? coefficients[1] : nil }

    /// Residual degrees of freedom, n − p: the prediction intervals are undefined (infinite) at zero.
    public var degreesOfFreedom: Int { n - model.parameterCount }

    /// The law as text, e.g. "y = 0.0002 · x^2.01" or "y = 50.3 + 0.798·x".
    public var formula: String {
        func number(_ value: Double) -> String { String(format: "%.3g", value) }
        switch model {
        case .powerLaw:
            return "y = \(number(coefficients[0])) · x^\(String(format: "%.3f", coefficients[1]))"
        case .polynomial:
            var text = "y = \(number(coefficients[0]))"
            for (power, coefficient) in coefficients.enumerated().dropFirst() {
                let sign = coefficient < 0 ? " − " : " + "
                let variable = power == 1 ? "x" : power == 2 ? "x²" : "x^\(power)"
                text += sign + number(abs(coefficient)) + "·" + variable
            }
            return text
        }
    }

    /// Fits every candidate model and keeps the simplest one the data support.
    ///
    /// The choice rule: each candidate that can be fitted is scored by ``aicc``, computed on relative errors (so a
    /// model good only at the largest sizes does not win) with the small-sample correction. Among the candidates
    /// within 2 of the lowest AICc (models the data support about equally, after Burnham and Anderson) the one with
    /// the fewest coefficients is kept, and among those the lowest AICc: the quadratic's third coefficient has to
    /// earn its keep, because a needless quadratic extrapolates badly. Candidates whose AICc is undefined
    /// (n < k + 2) are not scored; when none is scored, the power law is taken (2 or 3 points: the law of fewest
    /// assumptions, which cannot predict a negative time). Relative errors below 10⁻⁹ count as exact.
    /// - Parameters:
    ///   - sizes: the workload sizes (positive, at least two distinct).
    ///   - values: the measured quantity at each size (positive: seconds, megabytes).
    /// - Returns: nil when no model can be fitted: fewer than two distinct sizes, mismatched counts, or a
    ///   size or value that is not positive and finite.
    public static func fit(sizes: [Double], values: [Double]) -> ScalingFit? {
        choose(Model.candidates.compactMap { fit(model: $0, sizes: sizes, values: values) }, margin: 2)
    }

    /// The fit with the fewest coefficients among those within `margin` of the lowest AICc (the lowest AICc among
    /// those); the power law when no fit has an AICc.
    static func choose(_ fits: [ScalingFit], margin: Double) -> ScalingFit? {
        let scored = fits.filter { $0.aicc != nil }
        guard let best = scored.map({ $0.aicc! }).min() else { return fits.first { $0.model == .powerLaw } }
        let supported = scored.filter { $0.aicc! <= best + margin }
        let fewest = supported.map(\.model.parameterCount).min()!
        return supported.filter { $0.model.parameterCount == fewest }.min { $0.aicc! < $1.aicc! }
    }

    /// Fits one model.
    /// - Returns: nil when the model cannot be fitted: fewer points than a power law's 2 or a polynomial's
    ///   degree + 2, fewer distinct sizes than coefficients, a size or value that is not positive and finite, or a
    ///   polynomial that predicts a non-positive value at one of the sizes.
    public static func fit(model: Model, sizes: [Double], values: [Double]) -> ScalingFit? {
        let p = model.parameterCount
        let minimumPoints: Int
        switch model {
        case .powerLaw: minimumPoints = 2
        case .polynomial(let degree):
            guard degree == 1 || degree == 2 else { return nil }
            minimumPoints = degree + 2
        }
        guard sizes.count == values.count, sizes.count >= minimumPoints, Set(sizes).count >= p,
            sizes.allSatisfy({ $0 > 0 && $0.isFinite }), values.allSatisfy({ $0 > 0 && $0.isFinite })
        else { return nil }

        let logarithmic = model == .powerLaw
        var weights = [Double](repeating: 1, count: sizes.count)
        let abscissa = logarithmic ? sizes.map { log($0) } : sizes
        let response = logarithmic ? values.map { log($0) } : values
        let center = abscissa.reduce(0, +) / Double(abscissa.count)
        let scale = (abscissa.max()! - abscissa.min()!) / 2
        guard scale > 0 else { return nil }
        func regressors(_ t: Double) -> [Double] {
            let u = (t - center) / scale
            return (0..<p).map { pow(u, Double($0)) }
        }
        let rows = abscissa.map(regressors)
        guard var solution = LeastSquares(rows: rows, response: response) else { return nil }
        if !logarithmic {
            // Measurements scatter in proportion to their size: weight by 1/ŷ², iterated from the plain fit.
            for _ in 0..<3 {
                let fitted = rows.map { zip($0, solution.coefficients).reduce(0) { $0 + $1.0 * $1.1 } }
                guard fitted.allSatisfy({ $0 > 0 }),
                    let weighted = LeastSquares(rows: rows, response: response, weights: fitted.map { 1 / ($0 * $0) })
                else { return nil }
                solution = weighted
                weights = fitted.map { 1 / ($0 * $0) }
            }
        }

        let d = solution.coefficients
        let coefficients: [Double]
        switch p {
        case 2 where logarithmic: coefficients = [exp(d[0] - d[1] * center / scale), d[1] / scale]
        case 2: coefficients = [d[0] - d[1] * center / scale, d[1] / scale]
        default:
            let (m, s) = (center, scale)
            coefficients = [
                d[0] - d[1] * m / s + d[2] * m * m / (s * s),
                d[1] / s - 2 * d[2] * m / (s * s),
                d[2] / (s * s),
            ]
        }

        let weightSum = weights.reduce(0, +)
        let mean = zip(response, weights).reduce(0) { $0 + $1.0 * $1.1 } / weightSum
        let total = zip(response, weights).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) }
        let rss = solution.residualSumOfSquares
        var fit = ScalingFit(
            model: model, coefficients: coefficients, n: sizes.count,
            rSquared: total > 0 ? max(0, 1 - rss / total) : 1, relativeRMSE: 0, aicc: nil,
            sizeRange: sizes.min()!...sizes.max()!, center: center, scale: scale, standardizedCoefficients: d,
            inverseGram: solution.inverseGram, residualSumOfSquares: rss)

        let predicted = sizes.map(fit.predict)
        guard predicted.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        let squaredLogErrors = zip(predicted, values).reduce(0) { $0 + pow(log($1.0 / $1.1), 2) }
        let n = Double(sizes.count)
        fit.relativeRMSE = (squaredLogErrors / n).squareRoot()
        let k = Double(p)
        if n >= k + 2 {
            fit.aicc = n * log(max(squaredLogErrors / n, 1e-18)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
        }
        return fit
    }

    /// The value the law predicts at `size` (a power law is defined for positive sizes).
    public func predict(_ size: Double) -> Double {
        let fitted = fittedSpace(size)
        return model == .powerLaw ? exp(fitted) : fitted
    }

    /// The range in which a new measurement at `size` falls with probability `level`, from the regression:
    /// ŷ ± t(level, n − p) · s · √(1 + leverage) in ln y for the power law (so the interval is asymmetric in y), and
    /// ŷ ± t(level, n − p) · s · √(ŷ² + leverage) for polynomials, whose s is a relative scatter.
    ///
    /// With no residual degrees of freedom (n = p: a line through two points) nothing is known about the scatter,
    /// and the interval is the whole range (0...∞ for a power law, −∞...∞ for a polynomial).
    /// - Parameter level: the coverage probability, in (0, 1).
    public func predictionInterval(_ size: Double, level: Double = 0.95) -> ClosedRange<Double> {
        precondition(level > 0 && level < 1, "a prediction level lies between 0 and 1, not \(level)")
        guard degreesOfFreedom > 0 else {
            return model == .powerLaw ? 0...Double.infinity : -Double.infinity...Double.infinity
        }
        return interval(size, quantile: StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(degreesOfFreedom)))
    }

    /// The smallest size ≥ 0 at which the law reaches `value`, or nil when it never does.
    ///
    /// When the law is already at or above `value` at size 0 (a polynomial with c0 ≥ value, or value ≤ 0 for a
    /// power law) the answer is 0: every size breaks. A power law with b ≤ 0 does not grow and returns nil.
    public func solve(for value: Double) -> Double? {
        switch model {
        case .powerLaw:
            let (a, b) = (coefficients[0], coefficients[1])
            guard b > 0 else { return nil }
            return value <= 0 ? 0 : exp((log(value) - log(a)) / b)
        case .polynomial:
            let c0 = coefficients[0] - value
            let c1 = coefficients[1]
            let c2 = coefficients.count > 2 ? coefficients[2] : 0
            if c0 >= 0 { return 0 }
            if c2 == 0 { return c1 > 0 ? -c0 / c1 : nil }
            let discriminant = c1 * c1 - 4 * c2 * c0
            guard discriminant >= 0 else { return nil }
            // The numerically stable pair of roots; f(0) < value, so the first positive root crosses upward.
            let q = -0.5 * (c1 + (c1 < 0 ? -1 : 1) * discriminant.squareRoot())
            let roots = [q / c2, q != 0 ? c0 / q : .nan].filter { $0 > 0 && $0.isFinite }
            return roots.min()
        }
    }

    /// The sizes at which the prediction interval's bands reach `value` (an inverse prediction, or calibration,
    /// interval): from where the upper band reaches it (a size that may already break) to where the lower band
    /// reaches it (a size that breaks with probability about (1 + level) / 2).
    ///
    /// Each end is found by bisection on its band, searching outward from ``solve(for:)``'s size.
    /// - Returns: nil when the law never reaches `value`, when there are no residual degrees of freedom, or when
    ///   the lower band does not reach `value` within 2⁶⁴ times the solved size (too little data to bound it).
    public func crossingInterval(for value: Double, level: Double = 0.95) -> ClosedRange<Double>? {
        precondition(level > 0 && level < 1, "a prediction level lies between 0 and 1, not \(level)")
        guard degreesOfFreedom > 0, let solved = solve(for: value) else { return nil }
        let t = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(degreesOfFreedom))
        let upper = { (size: Double) in interval(size, quantile: t).upperBound }
        let lower = { (size: Double) in interval(size, quantile: t).lowerBound }

        // The lower end: walk down from the solved size until the upper band is below value, then bisect.
        var lowerEnd = 0.0
        if solved > 0 {
            var (below, above) = (solved / 2, solved)
            var steps = 0
            while upper(below) >= value && steps < 64 {
                (below, above) = (below / 2, below)
                steps += 1
            }
            if upper(below) < value { lowerEnd = Self.bisect(below, above) { upper($0) >= value } }
        }

        // The upper end: walk up from the solved size until the lower band reaches value, then bisect.
        var (below, above) = (solved, solved > 0 ? solved * 2 : sizeRange.lowerBound)
        if lower(solved) >= value { return lowerEnd...solved }
        var steps = 0
        while lower(above) < value && steps < 64 {
            (below, above) = (above, above * 2)
            steps += 1
        }
        guard lower(above) >= value else { return nil }
        let upperEnd = Self.bisect(below, above) { lower($0) >= value }
        return min(lowerEnd, upperEnd)...upperEnd
    }

    /// The log-log slope of `values` versus `sizes` by least squares: the exponent b of y ∝ x^b.
    /// - Returns: nil with fewer than two distinct sizes or a size or value that is not positive and finite.
    public static func exponent(sizes: [Double], values: [Double]) -> Double? {
        fit(model: .powerLaw, sizes: sizes, values: values)?.coefficients[1]
    }

    // MARK: - Internals

    private func fittedSpace(_ size: Double) -> Double {
        let u = ((model == .powerLaw ? log(size) : size) - center) / scale
        var sum = 0.0
        var power = 1.0
        for coefficient in standardizedCoefficients {
            sum += coefficient * power
            power *= u
        }
        return sum
    }

    private func interval(_ size: Double, quantile t: Double) -> ClosedRange<Double> {
        let u = ((model == .powerLaw ? log(size) : size) - center) / scale
        let regressors = (0..<model.parameterCount).map { pow(u, Double($0)) }
        var leverage = 0.0
        for i in regressors.indices {
            for j in regressors.indices {
                leverage += regressors[i] * inverseGram[i * regressors.count + j] * regressors[j]
            }
        }
        let variance = residualSumOfSquares / Double(degreesOfFreedom)
        let fitted = fittedSpace(size)
        // A new measurement's own scatter: constant in ln y for the power law, proportional to ŷ for polynomials.
        let scatter = model == .powerLaw ? 1 : fitted * fitted
        let half = t * (variance * (scatter + leverage)).squareRoot()
        // Far outside the data the regressors overflow (or rounding makes the variance negative): nothing is known.
        guard half.isFinite, fitted.isFinite else {
            return model == .powerLaw ? 0...Double.infinity : -Double.infinity...Double.infinity
        }
        if model == .powerLaw { return exp(fitted - half)...exp(fitted + half) }
        return (fitted - half)...(fitted + half)
    }

    /// The boundary between `low` (where `reached` is false) and `high` (where it is true), to 10⁻¹² relative.
    private static func bisect(_ low: Double, _ high: Double, reached: (Double) -> Bool) -> Double {
        var (low, high) = (low, high)
        for _ in 0..<200 where high - low > 1e-12 * high {
            let middle = 0.5 * (low + high)
            if reached(middle) { high = middle } else { low = middle }
        }
        return high
    }
}

/// Compares a fitted time exponent with the exponent of the workload's analytical work over the same sizes: a
/// check that the measurements scale like the algorithm, before anyone extrapolates them to a cap.
public struct AnalyticCheck: Sendable, Codable, Equatable {
    /// The log-log slope of the measured times.
    public var fittedExponent: Double
    /// The log-log slope of the analytical work (FLOPs, bytes) over the same sizes.
    public var analyticExponent: Double
    /// The largest |fitted − analytic| that still agrees.
    public var tolerance: Double
    /// Whether |fitted − analytic| ≤ tolerance. The default tolerance, 0.25, allows for fixed overheads that
    /// flatten small sizes and for cache effects that steepen large ones, and still tells n² from n³ work.
    public var agrees: Bool

    /// Compares two exponents.
    public init(fittedExponent: Double, analyticExponent: Double, tolerance: Double = 0.25) {
        self.fittedExponent = fittedExponent
        self.analyticExponent = analyticExponent
        self.tolerance = tolerance
        agrees = abs(fittedExponent - analyticExponent) <= tolerance
    }

    /// Compares the log-log slopes of measured `seconds` and analytical `work` at the same `sizes`.
    /// - Returns: nil when either slope cannot be fitted (see ``ScalingFit/exponent(sizes:values:)``).
    public init?(sizes: [Double], seconds: [Double], work: [Double], tolerance: Double = 0.25) {
        guard let fitted = ScalingFit.exponent(sizes: sizes, values: seconds),
            let analytic = ScalingFit.exponent(sizes: sizes, values: work)
        else { return nil }
        self.init(fittedExponent: fitted, analyticExponent: analytic, tolerance: tolerance)
    }
}
