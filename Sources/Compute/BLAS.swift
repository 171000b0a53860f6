internal import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// OpenBLAS on the host CPU, row-major.
///
/// The library is not linked: it is opened with `dlopen` on first use, after `OpenBLASCoreType.selection` has put
/// the chosen `OPENBLAS_CORETYPE` in the environment, because OpenBLAS reads that variable once, when it is loaded
/// (a linked OpenBLAS loads before capsize's first line runs). Any process using Compute, tests included, so runs
/// the kernels capsize chooses, and one that never calls BLAS does not load it (nor start its threads).
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
        let transpose = (no: Int32(capsize_cblas_no_trans), yes: Int32(capsize_cblas_trans))
        OpenBLASLibrary.shared.sgemm(
            Int32(capsize_cblas_row_major), transposeA ? transpose.yes : transpose.no,
            transposeB ? transpose.yes : transpose.no,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS's build configuration, e.g. `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    public static var configuration: String { OpenBLASLibrary.shared.getConfig().map { String(cString: $0) } ?? "" }

    /// The CPU kernel family OpenBLAS runs (`openblas_get_corename`): the one `OpenBLASCoreType.selection`
    /// requested, unless OpenBLAS did not know the name.
    public static var coreType: String { OpenBLASLibrary.shared.getCoreName().map { String(cString: $0) } ?? "" }

    /// The number of threads OpenBLAS uses.
    public static var threads: Int { Int(OpenBLASLibrary.shared.getThreads()) }

    /// Sets the number of threads OpenBLAS uses.
    public static func setThreads(_ count: Int) { OpenBLASLibrary.shared.setThreads(Int32(count)) }
}

/// OpenBLAS's entry points, looked up once in `libopenblas.so.0` (Debian's libopenblas0, whichever of its
/// pthread, OpenMP or serial builds the alternatives system points to).
struct OpenBLASLibrary: @unchecked Sendable {
    let sgemm: capsize_cblas_sgemm_fn
    let getConfig: capsize_openblas_string_fn
    let getCoreName: capsize_openblas_string_fn
    let getThreads: capsize_openblas_get_int_fn
    let setThreads: capsize_openblas_set_int_fn

    static let shared: OpenBLASLibrary = {
        _ = OpenBLASCoreType.selection  // sets OPENBLAS_CORETYPE, if capsize chooses it, before OpenBLAS reads it
        var failures: [String] = []
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                failures.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            func symbol<F>(_ symbol: String, as type: F.Type) -> F {
                guard let address = dlsym(handle, symbol) else { unavailable("\(name) has no \(symbol)") }
                return unsafeBitCast(address, to: type)
            }
            return OpenBLASLibrary(
                sgemm: symbol("cblas_sgemm", as: capsize_cblas_sgemm_fn.self),
                getConfig: symbol("openblas_get_config", as: capsize_openblas_string_fn.self),
                getCoreName: symbol("openblas_get_corename", as: capsize_openblas_string_fn.self),
                getThreads: symbol("openblas_get_num_threads", as: capsize_openblas_get_int_fn.self),
                setThreads: symbol("openblas_set_num_threads", as: capsize_openblas_set_int_fn.self))
        }
        unavailable(failures.joined(separator: "; ") + " (install libopenblas0)")
    }()

    private static func unavailable(_ why: String) -> Never {
        let message = "capsize: OpenBLAS cannot be loaded: \(why)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }
}
