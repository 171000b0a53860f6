import Testing

@testable import Analysis

@Suite struct StudentTTests {
    @Test(
        "the 97.5 % quantile matches tables for 1, 5 and 30 degrees of freedom and tends to the normal's 1.960",
        arguments: [(1.0, 12.706), (2, 4.303), (5, 2.571), (30, 2.042), (1e6, 1.960), (.infinity, 1.960)])
    func tableValues(degreesOfFreedom: Double, expected: Double) {
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: degreesOfFreedom) - expected) < 1e-3)
    }

    @Test("quantiles are symmetric and invert the distribution function")
    func inverse() {
        for df in [1.0, 3, 7.5, 120] {
            for p in [0.001, 0.05, 0.3, 0.9, 0.995] {
                let t = StudentT.quantile(p, degreesOfFreedom: df)
                #expect(abs(StudentT.cdf(t, degreesOfFreedom: df) - p) < 1e-9)
                #expect(abs(StudentT.quantile(1 - p, degreesOfFreedom: df) + t) < 1e-9 * max(1, abs(t)))
            }
        }
        #expect(StudentT.quantile(0.5, degreesOfFreedom: 4) == 0)
        #expect(abs(StudentT.quantile(0.995, degreesOfFreedom: 10) - 3.169) < 1e-3)
        #expect(StudentT.quantile(0.9, degreesOfFreedom: 0).isNaN)
    }
}
