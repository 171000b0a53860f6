import Testing

@testable import Analysis

@Suite struct AmdahlTests {
    static let threads: [Double] = [1, 2, 4, 8, 16]

    @Test("a serial fraction of 0.1 is recovered within 0.02 from times with 3 % noise")
    func recover() throws {
        var noise = SeededNoise(seed: 5)
        let seconds = Self.threads.map { 100 * (0.1 + 0.9 / $0) * noise.factor() }
        let fit = try #require(AmdahlFit.fit(threads: Self.threads, seconds: seconds))
        #expect(abs(fit.serialFraction - 0.1) <= 0.02)
        #expect(abs(fit.oneThreadSeconds - 100) / 100 < 0.05)
        #expect(fit.n == 5 && fit.rSquared > 0.99)
        #expect(fit.speedup(threads: 1e9) <= 1 / fit.serialFraction + 1e-6)
    }

    @Test("a perfectly (even slightly super-linearly) parallel job clamps its serial fraction at 0")
    func parallel() throws {
        let seconds = Self.threads.map { 100 / $0 * (1 - 0.01 * $0.squareRoot()) }
        let fit = try #require(AmdahlFit.fit(threads: Self.threads, seconds: seconds))
        #expect(fit.serialFraction == 0)
        #expect(abs(fit.oneThreadSeconds - 99) < 1)
        let serial = try #require(AmdahlFit.fit(threads: Self.threads, seconds: [10, 10.2, 10.1, 10.3, 10.4]))
        #expect(serial.serialFraction == 1)
    }

    @Test("a fractional vCPU share runs the whole program at that fraction of one core")
    func fractional() throws {
        let fit = try #require(AmdahlFit.fit(threads: [0.5, 1, 2, 4], seconds: [20, 10, 5.5, 3.25]))
        #expect(abs(fit.serialFraction - 0.1) < 1e-9 && abs(fit.oneThreadSeconds - 10) < 1e-9)
        #expect(abs(fit.seconds(threads: 0.29) - 10 / 0.29) < 1e-9)
        #expect(abs(fit.seconds(threads: 1) - 10) < 1e-9)
        #expect(abs(fit.speedup(threads: 2) - 10 / 5.5) < 1e-9)
    }

    @Test("thread counts that cannot separate the serial part give nil")
    func degenerate() {
        #expect(AmdahlFit.fit(threads: [4, 4, 4], seconds: [1, 1.1, 0.9]) == nil)
        #expect(AmdahlFit.fit(threads: [0.5, 1], seconds: [2, 1]) == nil)
        #expect(AmdahlFit.fit(threads: [1], seconds: [1]) == nil)
        #expect(AmdahlFit.fit(threads: [1, 2], seconds: [1, 0]) == nil)
        #expect(AmdahlFit.fit(threads: [0, 2], seconds: [1, 1]) == nil)
    }
}
