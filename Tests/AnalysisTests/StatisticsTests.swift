import Testing

@testable import Analysis

@Suite struct StatisticsTests {
    @Test("quantiles interpolate between ranks like R's type 7")
    func quantiles() {
        let sorted: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        #expect(Summary.quantile(sorted, 0.5) == 5.5)
        #expect(abs(Summary.quantile(sorted, 0.9) - 9.1) < 1e-12)
        #expect(Summary.quantile(sorted, 0) == 1)
        #expect(Summary.quantile(sorted, 1) == 10)
    }

    @Test("min, median, p90 and max of a sample")
    func summary() {
        let s = Summary([5, 1, 4, 2, 3])
        #expect(s.min == 1 && s.max == 5 && s.median == 3 && s.count == 5)
        #expect(abs(s.p90 - 4.6) < 1e-12)
        #expect(s.mean == 3)
    }

    @Test("a sample far from the rest is flagged as a MAD outlier, ordinary jitter is not")
    func outliers() {
        let samples: [Double] = [10.0, 10.1, 9.9, 10.2, 9.8, 10.05, 30.0]
        let s = Summary(samples)
        #expect(s.outliers == [6])
        #expect(Summary([10.0, 10.1, 9.9, 10.2, 9.8]).outliers.isEmpty)
        // Three tight runs and one 3 % slower: a large z-score, but not worth a warning.
        #expect(Summary([221, 222, 229]).outliers.isEmpty)
        #expect(Summary([221, 222, 223, 229 * 2]).outliers == [3])
    }

    @Test("the bootstrap interval contains the median, is reproducible and narrows with more samples")
    func bootstrap() {
        var state: UInt64 = 1
        let noisy = (0..<200).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 100 + Double(state >> 44) / Double(1 << 20)
        }
        let small = Summary(Array(noisy.prefix(10)))
        let large = Summary(noisy)
        #expect(small.medianCI95.contains(small.median))
        #expect(large.medianCI95.contains(large.median))
        #expect(Summary(noisy).medianCI95 == large.medianCI95)
        let width = { (r: ClosedRange<Double>) in r.upperBound - r.lowerBound }
        #expect(width(large.medianCI95) < width(small.medianCI95))
    }

    @Test("a single sample summarises to itself")
    func single() {
        let s = Summary([2.5])
        #expect(s.median == 2.5 && s.p90 == 2.5 && s.medianCI95 == 2.5...2.5 && s.outliers.isEmpty)
    }
}
