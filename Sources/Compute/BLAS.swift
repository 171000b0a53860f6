internal import COpenBLAS

/// OpenBLAS on the host CPU, row-major.
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C (row-major). The C function is `cblas_sgemm`.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// OpenBLAS's build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The CPU kernel family OpenBLAS chose (`OPENBLAS_CORETYPE` overrides it).
    public static var coreType: String { String(cString: openblas_get_corename()) }

    /// The number of threads OpenBLAS uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses.
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }
}
