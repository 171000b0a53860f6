import Testing

@testable import Analysis

@Suite struct ScalingFitTests {
    static let sizes: [Double] = stride(from: 100.0, through: 1000, by: 100).map { $0 }
    static func time(_ size: Double) -> Double { 2e-4 * size * size }
    static func memory(_ size: Double) -> Double { 50 + 0.8 * size }
    /// Where the noise-free laws reach a 900 s timeout and a 3,008 MB memory size.
    static let timeBreak = (900 / 2e-4).squareRoot()
    static let memoryBreak = (3008 - 50) / 0.8

    static func noisy(_ law: (Double) -> Double, seed: UInt64) -> [Double] {
        var noise = SeededNoise(seed: seed)
        return sizes.map { law($0) * noise.factor() }
    }

    @Test("a power law with 3 % noise is chosen as a power law with exponent 2 and predicts the break within 10 %")
    func powerLaw() throws {
        let fit = try #require(ScalingFit.fit(sizes: Self.sizes, values: Self.noisy(Self.time, seed: 1)))
        #expect(fit.model == .powerLaw)
        let exponent = try #require(fit.exponent)
        #expect(abs(exponent - 2) <= 0.1)
        #expect(fit.n == 10 && fit.degreesOfFreedom == 8 && fit.rSquared > 0.99)
        #expect(fit.relativeRMSE < 0.03)

        let predicted = try #require(fit.solve(for: 900))
        #expect(abs(predicted - Self.timeBreak) / Self.timeBreak < 0.1)
        #expect(abs(fit.predict(predicted) - 900) < 1e-6)
        #expect(fit.predictionInterval(Self.timeBreak).contains(900))
        #expect(fit.predictionInterval(500).contains(Self.time(500)))
        let crossing = try #require(fit.crossingInterval(for: 900))
        #expect(crossing.contains(Self.timeBreak) && crossing.contains(predicted))
        // The bands cross where they should: the upper band at the lower end, the lower band at the upper end.
        #expect(abs(fit.predictionInterval(crossing.lowerBound).upperBound - 900) < 1e-6)
        #expect(abs(fit.predictionInterval(crossing.upperBound).lowerBound - 900) < 1e-6)
    }

    @Test("an affine memory law with 3 % noise is chosen as linear, not as a power law")
    func affine() throws {
        let values = Self.noisy(Self.memory, seed: 2)
        let fit = try #require(ScalingFit.fit(sizes: Self.sizes, values: values))
        #expect(fit.model == .polynomial(degree: 1))
        #expect(abs(fit.coefficients[1] - 0.8) < 0.05)
        let powerLaw = try #require(ScalingFit.fit(model: .powerLaw, sizes: Self.sizes, values: values))
        #expect((powerLaw.aicc ?? -.infinity) > (fit.aicc ?? .infinity))
        let predicted = try #require(fit.solve(for: 3008))
        #expect(abs(predicted - Self.memoryBreak) / Self.memoryBreak < 0.1)
        #expect(fit.predictionInterval(Self.memoryBreak).contains(3008))
        #expect(fit.crossingInterval(for: 3008)?.contains(Self.memoryBreak) == true)
    }

    @Test("a quadratic with a large constant is chosen as quadratic")
    func quadratic() throws {
        var noise = SeededNoise(seed: 3)
        let sizes: [Double] = stride(from: 10.0, through: 300, by: 20).map { $0 }
        let values = sizes.map { (100 + 0.5 * $0 + 0.01 * $0 * $0) * noise.factor(0.01) }
        let fit = try #require(ScalingFit.fit(sizes: sizes, values: values))
        #expect(fit.model == .polynomial(degree: 2))
        let predicted = try #require(fit.solve(for: 2000))
        let truth = (-0.5 + (0.25 + 4 * 0.01 * 1900).squareRoot()) / 0.02
        #expect(abs(predicted - truth) / truth < 0.05)
    }

    @Test("exact laws are recovered, and an exact power law is not beaten by the quadratic that also fits it")
    func exact() throws {
        let fit = try #require(ScalingFit.fit(sizes: Self.sizes, values: Self.sizes.map(Self.time)))
        #expect(fit.model == .powerLaw)
        #expect(abs(fit.coefficients[0] - 2e-4) < 1e-12 && abs(fit.coefficients[1] - 2) < 1e-9)
        #expect(fit.formula == "y = 0.0002 · x^2.000")
        let line = try #require(ScalingFit.fit(sizes: Self.sizes, values: Self.sizes.map(Self.memory)))
        #expect(line.model == .polynomial(degree: 1))
        #expect(line.formula == "y = 50 + 0.8·x")
        let quadratic = try #require(
            ScalingFit.fit(model: .polynomial(degree: 2), sizes: [1, 2, 3, 4], values: [4, 2, 3, 7]))
        #expect(quadratic.formula == "y = 9 − 6.5·x + 1.5·x²")
        #expect(quadratic.solve(for: 5) == 0)
    }

    @Test("two points fit a power law whose intervals honestly say nothing")
    func twoPoints() throws {
        let fit = try #require(ScalingFit.fit(sizes: [10, 20], values: [1, 4]))
        #expect(fit.model == .powerLaw && fit.degreesOfFreedom == 0 && fit.aicc == nil)
        #expect(abs((fit.solve(for: 9) ?? .nan) - 30) < 1e-9)
        #expect(fit.predictionInterval(15) == 0...Double.infinity)
        #expect(fit.crossingInterval(for: 9) == nil)
    }

    @Test("a law that does not grow never reaches a cap above it")
    func neverReaches() throws {
        let falling = try #require(ScalingFit.fit(model: .powerLaw, sizes: [1, 2, 4, 8], values: [8, 4.1, 2, 1]))
        #expect(falling.solve(for: 10) == nil && falling.crossingInterval(for: 10) == nil)
        let line = try #require(ScalingFit.fit(model: .polynomial(degree: 1), sizes: [1, 2, 3], values: [3, 2, 1.01]))
        #expect(line.solve(for: 5) == nil)
        #expect(line.solve(for: 3.5) == 0)
    }

    @Test(
        "degenerate input gives nil, not a crash",
        arguments: [
            ([5.0], [1.0]), ([], []), ([3, 3, 3], [1, 2, 3]), ([1, 2, 3], [1, 0, 3]), ([1, 2, 3], [1, -2, 3]),
            ([-1, 2, 3], [1, 2, 3]), ([0, 2, 3], [1, 2, 3]), ([1, 2], [1]), ([1, 2, .nan], [1, 2, 3]),
            ([1, 2, 3], [1, 2, .infinity]),
        ])
    func degenerate(sizes: [Double], values: [Double]) {
        #expect(ScalingFit.fit(sizes: sizes, values: values) == nil)
        #expect(ScalingFit.exponent(sizes: sizes, values: values) == nil)
        for model in ScalingFit.Model.candidates {
            #expect(ScalingFit.fit(model: model, sizes: sizes, values: values) == nil)
        }
    }

    @Test("the fitted time exponent is checked against the exponent of the analytical work")
    func analyticCheck() throws {
        var noise = SeededNoise(seed: 4)
        let sizes: [Double] = [256, 512, 1024, 2048]
        let seconds = sizes.map { 1e-9 * $0 * $0 * $0 * noise.factor() }
        let cubic = try #require(AnalyticCheck(sizes: sizes, seconds: seconds, work: sizes.map { 2 * $0 * $0 * $0 }))
        #expect(cubic.agrees && abs(cubic.analyticExponent - 3) < 1e-9 && abs(cubic.fittedExponent - 3) < 0.05)
        let square = try #require(AnalyticCheck(sizes: sizes, seconds: seconds, work: sizes.map { $0 * $0 }))
        #expect(!square.agrees)
        #expect(AnalyticCheck(sizes: [1], seconds: [1], work: [1]) == nil)
    }
}

extension ScalingFitTests {
    @Test("over 100 noise seeds the chooser nearly always picks the law that made the data, and predicts its break")
    func chooserRates() {
        var powerLaws = 0
        var lines = 0
        var timeWithin = 0
        var memoryWithin = 0
        var covered = 0
        for seed in UInt64(1000)..<1100 {
            guard let time = ScalingFit.fit(sizes: Self.sizes, values: Self.noisy(Self.time, seed: seed)),
                let memory = ScalingFit.fit(sizes: Self.sizes, values: Self.noisy(Self.memory, seed: seed + 5000))
            else { continue }
            if time.model == .powerLaw { powerLaws += 1 }
            if memory.model == .polynomial(degree: 1) { lines += 1 }
            if let size = time.solve(for: 900), abs(size - Self.timeBreak) / Self.timeBreak < 0.1 { timeWithin += 1 }
            if let size = memory.solve(for: 3008), abs(size - Self.memoryBreak) / Self.memoryBreak < 0.1 {
                memoryWithin += 1
            }
            if memory.predictionInterval(Self.memoryBreak).contains(3008) { covered += 1 }
        }
        #expect(powerLaws >= 90 && lines >= 90)
        #expect(timeWithin >= 95 && memoryWithin >= 95)
        #expect(covered >= 85)  // a 95 % interval, checked loosely
    }
}
