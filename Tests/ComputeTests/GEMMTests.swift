import Testing

@testable import Compute

/// The four transpose combinations.
private let transposes: [(Bool, Bool)] = [(false, false), (true, false), (false, true), (true, true)]

/// Shapes (m, n, k) with odd sizes, 1 included, so that every edge of OpenBLAS's blocked kernels is crossed.
private let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 130, 7), (7, 1, 33), (7, 33, 127), (33, 7, 130), (127, 130, 33), (130, 127, 1), (130, 33, 127),
]

/// These run the kernels capsize chooses: the first BLAS call loads OpenBLAS after `OpenBLASCoreType.selection`
/// has set OPENBLAS_CORETYPE in this test process, as in `capsize` (`kernelsInUse` checks it).
@Suite struct BLASTests {
    @Test(
        "OpenBLAS SGEMM under the chosen kernels matches a naive triple loop: every transpose combination, odd sizes",
        arguments: transposes, shapes)
    func sgemmMatchesNaive(transpose: (Bool, Bool), shape: (Int, Int, Int)) {
        let (transposeA, transposeB) = transpose
        let (m, n, k) = shape
        // Leading dimensions wider than the matrices, so a stride bug shows.
        let lda = (transposeA ? m : k) + 3
        let ldb = (transposeB ? k : n) + 2
        let ldc = n + 1
        let a = Fixture.values((transposeA ? k : m) * lda, seed: 1)
        let b = Fixture.values((transposeB ? n : k) * ldb, seed: 2)
        let c = Fixture.values(m * ldc, seed: 3)
        for (alpha, beta): (Float, Float) in [(1.5, 0.5), (-0.75, 1.25), (2, 0)] {
            let expected = Fixture.naiveGEMM(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            var result = c
            result.withUnsafeMutableBufferPointer { output in
                BLAS.sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: output.baseAddress!, ldc: ldc)
            }
            #expect(Fixture.maxRelativeError(result, expected) < 1e-4, "alpha \(alpha), beta \(beta)")
            // The padding between rows of C is never written.
            #expect((0..<m).allSatisfy { result[$0 * ldc + n] == c[$0 * ldc + n] })
        }
    }

    @Test("the tests run the kernels capsize chooses: OpenBLAS reports the core type selected for this process")
    func kernelsInUse() {
        let selection = OpenBLASCoreType.selection
        #expect(selection.source != .openblas || CPUFeatures.current.vendor.isEmpty)
        if let requested = selection.requested,
            OpenBLASCoreType.knownNames.contains(where: { $0.lowercased() == requested.lowercased() })
        {
            #expect(BLAS.coreType.lowercased() == requested.lowercased())
        }
        if selection.source == .cpuid {
            #expect(BLAS.coreType == OpenBLASCoreType.choose(for: .current)?.name)
        }
    }

    @Test("OpenBLAS reports its core type, thread count and configuration")
    func configuration() {
        #expect(!BLAS.coreType.isEmpty)
        #expect(BLAS.threads >= 1)
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }
}

@Suite(.enabled(if: Fixture.hasOpenCL, "needs an OpenCL device"))
struct CLBlastTests {
    @Test(
        "CLBlast SGEMM on the OpenCL device agrees with OpenBLAS, with transposes and buffer offsets",
        arguments: transposes)
    func agreesWithOpenBLAS(transposeA: Bool, transposeB: Bool) throws {
        let context = try OpenCLContext(device: Fixture.device())
        let (m, n, k) = (13, 9, 17)
        let (aOffset, bOffset, cOffset) = (5, 3, 7)
        let lda = (transposeA ? m : k) + 1
        let ldb = (transposeB ? k : n) + 2
        let ldc = n + 3
        let a = Fixture.values(aOffset + (transposeA ? k : m) * lda, seed: 11)
        let b = Fixture.values(bOffset + (transposeB ? n : k) * ldb, seed: 12)
        let c = Fixture.values(cOffset + m * ldc, seed: 13)

        var expected = c
        expected.withUnsafeMutableBufferPointer { output in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75,
                        a: a.baseAddress! + aOffset, lda: lda, b: b.baseAddress! + bOffset, ldb: ldb, beta: -1.25,
                        c: output.baseAddress! + cOffset, ldc: ldc)
                }
            }
        }
        let deviceA = try context.buffer(a)
        let deviceB = try context.buffer(b)
        let deviceC = try context.buffer(c)
        let event = try CLBlast.sgemm(
            on: context, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75,
            a: deviceA, aOffset: aOffset, lda: lda, b: deviceB, bOffset: bOffset, ldb: ldb, beta: -1.25,
            c: deviceC, cOffset: cOffset, ldc: ldc)
        #expect(try event.seconds() >= 0)
        let result = try context.readFloats(deviceC, count: c.count)
        #expect(Fixture.maxRelativeError(result, expected) < 1e-4)
        // The elements before the offset are untouched.
        #expect(Array(result.prefix(cOffset)) == Array(c.prefix(cOffset)))
    }

    @Test("a CLBlast failure names CLBlastSgemm and the CLBlast status")
    func invalidLeadingDimension() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let buffer = try context.buffer(bytes: 64 * 4)
        let error = try #require(throws: OpenCLError.self) {
            try CLBlast.sgemm(on: context, m: 8, n: 8, k: 8, a: buffer, lda: 2, b: buffer, ldb: 8, c: buffer, ldc: 8)
        }
        #expect(error.call == "CLBlastSgemm")
        #expect(error.name == "CLBlastInvalidLeadDimA")
    }
}
