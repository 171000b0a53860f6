import Testing

@testable import Analysis

/// The Mann–Whitney U test against SciPy 1.17's `mannwhitneyu` (U of the first sample, two-sided p).
@Suite struct MannWhitneyTests {
    @Test("three values each, all apart: U is 0 and the exact p is 0.1, the smallest 3 against 3 can give")
    func separated() {
        let test = MannWhitney([1, 2, 3], [4, 5, 6])
        #expect(test.u == 0 && test.exact)
        #expect(abs(test.p - 0.1) < 1e-12)
        #expect(abs(test.smallestP - 0.1) < 1e-12)
        #expect(MannWhitney([4, 5, 6], [1, 2, 3]).u == 9)
    }

    @Test("SciPy's documented example: U = 17 and the exact p is 1/9")
    func scipyExample() {
        let test = MannWhitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
        #expect(test.u == 17 && test.exact)
        #expect(abs(test.p - 0.111_111_111_111_111_1) < 1e-12)
    }

    @Test("twenty values each without ties: the exact p is SciPy's 0.030411")
    func larger() {
        let first = (1...20).map(Double.init)
        let second = (5...24).map { Double($0) + 0.5 }
        let test = MannWhitney(first, second)
        #expect(test.u == 120 && test.exact)
        #expect(abs(test.p - 0.030_411_256_038_764_864) < 1e-9)
    }

    @Test("ties use the normal approximation with tie and continuity corrections: SciPy's p 0.0110997")
    func ties() {
        let first: [Double] = [1, 2, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9]
        let second: [Double] = [3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13]
        let test = MannWhitney(first, second)
        #expect(test.u == 31 && !test.exact)
        #expect(abs(test.p - 0.011_099_733_509_295_407) < 1e-9)
    }

    @Test("identical samples give p = 1")
    func identical() {
        #expect(MannWhitney([1, 1, 1], [1, 1, 1]).p == 1)
        #expect(MannWhitney([1, 2, 3], [1, 2, 3]).p == 1)
    }
}
