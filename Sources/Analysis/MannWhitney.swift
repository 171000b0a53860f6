import Foundation

/// The Mann–Whitney U test (Wilcoxon rank-sum) of two independent samples: whether values of one tend to be larger
/// than values of the other, without assuming a distribution. Benchmark times are skewed and have outliers, which
/// a t-test handles badly.
public struct MannWhitney: Codable, Sendable, Equatable {
    /// U of the first sample: how many (first, second) pairs have the first value larger (ties count one half).
    public var u: Double
    /// The two-sided p-value.
    public var p: Double
    /// Whether `p` is exact (small samples without ties) or from the normal approximation (with tie and continuity
    /// corrections), as SciPy's `mannwhitneyu` computes them.
    public var exact: Bool
    /// The smallest two-sided p-value these sample sizes can give: with 3 against 3 it is 0.1, so no difference
    /// can reach p < 0.05 however clear it is.
    public var smallestP: Double

    /// Samples up to this many values each, without ties, get the exact distribution of U.
    public static let exactLimit = 50

    /// Tests `first` against `second` (each at least one value).
    public init(_ first: [Double], _ second: [Double]) {
        precondition(!first.isEmpty && !second.isEmpty, "the Mann–Whitney test needs a value in each sample")
        let n1 = first.count
        let n2 = second.count
        let ranks = Self.midranks(first + second)
        let rankSum = ranks.prefix(n1).reduce(0, +)
        u = rankSum - Double(n1 * (n1 + 1)) / 2
        let pairs = Double(n1 * n2)
        let ties = Self.tieTerm(first + second)
        exact = ties == 0 && n1 <= Self.exactLimit && n2 <= Self.exactLimit
        if exact {
            let counts = Self.uCounts(n1, n2)
            let total = counts.reduce(0, +)
            // P(U ≥ the larger of U and pairs − U), doubled: the distribution is symmetric.
            let larger = Int(max(u, pairs - u).rounded())
            let upper = counts[larger...].reduce(0, +)
            p = min(1, 2 * upper / total)
            smallestP = min(1, 2 * counts[counts.count - 1] / total)
        } else {
            let n = Double(n1 + n2)
            let variance = pairs / 12 * ((n + 1) - ties / (n * (n - 1)))
            let deviation = abs(u - pairs / 2)
            p = variance > 0 ? min(1, 2 * Self.upperNormal((deviation - 0.5) / variance.squareRoot())) : 1
            let allApart = pairs / 2 - 0.5
            let noTies = pairs / 12 * (n + 1)
            smallestP = min(1, 2 * Self.upperNormal(allApart / noTies.squareRoot()))
        }
    }

    /// Ranks from 1, tied values sharing the mean of their ranks.
    static func midranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = rank }
            start = end + 1
        }
        return ranks
    }

    /// Σ (t³ − t) over groups of t tied values: 0 without ties.
    static func tieTerm(_ values: [Double]) -> Double {
        var groups: [Double: Int] = [:]
        for value in values { groups[value, default: 0] += 1 }
        var sum = 0.0
        for count in groups.values where count > 1 { sum += Double(count * count * count - count) }
        return sum
    }

    /// How many orderings of n1 + n2 distinct values give each U from 0 to n1·n2 (as Doubles: they outgrow Int).
    static func uCounts(_ n1: Int, _ n2: Int) -> [Double] {
        // counts[m][u] for m of the first sample among j values of the second, built up one value of the second
        // sample at a time: f(m, j, u) = f(m − 1, j, u − j) + f(m, j − 1, u).
        var table = [[Double]](repeating: [1], count: n1 + 1)
        for j in 1...n2 {
            var next = [[Double]](repeating: [], count: n1 + 1)
            next[0] = [1]
            for m in 1...n1 {
                var row = [Double](repeating: 0, count: m * j + 1)
                for (value, count) in table[m].enumerated() { row[value] += count }
                for (value, count) in next[m - 1].enumerated() where value + j < row.count { row[value + j] += count }
                next[m] = row
            }
            table = next
        }
        return table[n1]
    }

    /// P(Z > z) for a standard normal Z.
    static func upperNormal(_ z: Double) -> Double { erfc(z / 2.0.squareRoot()) / 2 }
}
