/// Ordinary least squares for the few-parameter linear models of this module (at most a handful of columns).
struct LeastSquares {
    /// The fitted coefficients β minimising ‖y − Xβ‖².
    var coefficients: [Double]
    /// (XᵀX)⁻¹, row-major: the coefficients' covariance divided by the residual variance.
    var inverseGram: [Double]
    /// Σ w (y − Xβ)².
    var residualSumOfSquares: Double

    /// Fits `response` on the columns of `rows` (one row of regressors per observation), minimising
    /// Σ wᵢ (yᵢ − xᵢβ)² with `weights` w (all 1 when nil).
    /// - Returns: nil when the regressors are collinear (e.g. fewer distinct sizes than parameters).
    init?(rows: [[Double]], response: [Double], weights: [Double]? = nil) {
        guard let p = rows.first?.count, p > 0, rows.count == response.count, rows.count >= p,
            weights == nil || weights!.count == rows.count
        else { return nil }
        let roots = (weights ?? Array(repeating: 1, count: rows.count)).map { $0.squareRoot() }
        let rows = zip(rows, roots).map { row, root in row.map { $0 * root } }
        let response = zip(response, roots).map { $0 * $1 }
        var gram = [Double](repeating: 0, count: p * p)
        var moment = [Double](repeating: 0, count: p)
        for (row, y) in zip(rows, response) {
            for i in 0..<p {
                moment[i] += row[i] * y
                for j in 0..<p { gram[i * p + j] += row[i] * row[j] }
            }
        }
        guard let inverse = Self.invert(gram, size: p) else { return nil }
        inverseGram = inverse
        coefficients = (0..<p).map { i in (0..<p).reduce(0) { $0 + inverse[i * p + $1] * moment[$1] } }
        let beta = coefficients
        residualSumOfSquares = zip(rows, response).reduce(0) { sum, observation in
            let fitted = zip(observation.0, beta).reduce(0) { $0 + $1.0 * $1.1 }
            return sum + (observation.1 - fitted) * (observation.1 - fitted)
        }
    }

    /// Gauss–Jordan inversion with partial pivoting; nil when a pivot vanishes relative to the matrix.
    static func invert(_ matrix: [Double], size p: Int) -> [Double]? {
        var a = matrix
        var inverse = [Double](repeating: 0, count: p * p)
        for i in 0..<p { inverse[i * p + i] = 1 }
        let magnitude = matrix.map(abs).max() ?? 0
        guard magnitude > 0, magnitude.isFinite else { return nil }
        for column in 0..<p {
            let pivotRow = (column..<p).max { abs(a[$0 * p + column]) < abs(a[$1 * p + column]) }!
            guard abs(a[pivotRow * p + column]) > 1e-12 * magnitude else { return nil }
            if pivotRow != column {
                for k in 0..<p {
                    a.swapAt(pivotRow * p + k, column * p + k)
                    inverse.swapAt(pivotRow * p + k, column * p + k)
                }
            }
            let pivot = a[column * p + column]
            for k in 0..<p {
                a[column * p + k] /= pivot
                inverse[column * p + k] /= pivot
            }
            for row in 0..<p where row != column {
                let factor = a[row * p + column]
                guard factor != 0 else { continue }
                for k in 0..<p {
                    a[row * p + k] -= factor * a[column * p + k]
                    inverse[row * p + k] -= factor * inverse[column * p + k]
                }
            }
        }
        return inverse
    }
}
