import Testing

@testable import Compute

@Suite(.enabled(if: Fixture.hasOpenCL)) struct CLBlastTuningTests {
    @Test("CLBlast computes the right product with a tuned Xgemm candidate on its multi-kernel path")
    func candidateIsCorrect() throws {
        let device = try Fixture.device()
        let candidate = CLBlast.xgemmCandidates[5]
        try CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: candidate)
        let context = try OpenCLContext(device: device)
        // Sizes above CLBlast's direct-GEMM threshold and not multiples of the tile, so padding runs too.
        let (m, n, k) = (700, 650, 600)
        let a = Fixture.values(m * k, seed: 11)
        let b = Fixture.values(k * n, seed: 12)
        let c = try context.buffer(bytes: m * n * 4)
        try CLBlast.sgemm(
            on: context, m: m, n: n, k: k, a: try context.buffer(a), lda: k, b: try context.buffer(b), ldb: n, c: c,
            ldc: n)
        let result = try context.readFloats(c, count: m * n)
        var expected = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                expected.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(
                        m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                        c: c.baseAddress!, ldc: n)
                }
            }
        }
        #expect(Fixture.maxRelativeError(result, expected) < 1e-4)
    }

    @Test("an incomplete parameter set is refused with an error naming CLBlastOverrideParameters")
    func incompleteParameters() throws {
        let device = try Fixture.device()
        let error = try #require(throws: OpenCLError.self) {
            try CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: ["KWG": 32])
        }
        #expect(error.call.hasPrefix("CLBlastOverrideParameters"))
    }

    @Test("every candidate names all sixteen Xgemm parameters")
    func candidatesComplete() {
        for candidate in CLBlast.xgemmCandidates {
            #expect(candidate.count == 16)
            #expect(candidate["MWG"]! % (candidate["MDIMC"]! * candidate["VWM"]!) == 0)
            #expect(candidate["NWG"]! % (candidate["NDIMC"]! * candidate["VWN"]!) == 0)
        }
    }
}
