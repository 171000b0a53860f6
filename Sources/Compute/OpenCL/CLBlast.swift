internal import COpenCL
import Foundation

/// CLBlast, a tuned BLAS for any OpenCL device.
public enum CLBlast {
    /// C = alpha · op(A) · op(B) + beta · C in row-major order, on `context`'s queue.
    /// The corresponding C function is `CLBlastSgemm`.
    /// - Returns: the event of the GEMM's last kernel (time it with `seconds()`).
    @discardableResult
    public static func sgemm(
        on context: OpenCLContext,
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: OpenCLBuffer, aOffset: Int = 0, lda: Int,
        b: OpenCLBuffer, bOffset: Int = 0, ldb: Int,
        beta: Float = 0,
        c: OpenCLBuffer, cOffset: Int = 0, ldc: Int
    ) throws(OpenCLError) -> OpenCLEvent {
        var queue: cl_command_queue? = context.queue
        var event: cl_event?
        let status = CLBlastSgemm(
            CLBlastLayoutRowMajor,
            transposeA ? CLBlastTransposeYes : CLBlastTransposeNo,
            transposeB ? CLBlastTransposeYes : CLBlastTransposeNo,
            m, n, k, alpha, a.mem, aOffset, lda, b.mem, bOffset, ldb, beta, c.mem, cOffset, ldc, &queue, &event)
        if status != CLBlastSuccess { throw OpenCLError(call: "CLBlastSgemm", code: status.rawValue) }
        return OpenCLEvent(event!)
    }
}

extension CLBlast {
    /// y = alpha · op(A) · x + beta · y with A `m × n` in row-major order, on `context`'s queue.
    /// The corresponding C function is `CLBlastSgemv`.
    @discardableResult
    public static func sgemv(
        on context: OpenCLContext, transposeA: Bool = false, m: Int, n: Int, alpha: Float = 1,
        a: OpenCLBuffer, lda: Int, x: OpenCLBuffer, beta: Float = 0, y: OpenCLBuffer
    ) throws(OpenCLError) -> OpenCLEvent {
        var queue: cl_command_queue? = context.queue
        var event: cl_event?
        let status = CLBlastSgemv(
            CLBlastLayoutRowMajor, transposeA ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, alpha,
            a.mem, 0, lda, x.mem, 0, 1, beta, y.mem, 0, 1, &queue, &event)
        if status != CLBlastSuccess { throw OpenCLError(call: "CLBlastSgemv", code: status.rawValue) }
        return OpenCLEvent(event!)
    }

    /// Replaces CLBlast's tuning parameters of `kernel` (e.g. `Xgemm`) in single precision for `device`,
    /// for the rest of this process. Every parameter the kernel has must be given.
    /// The corresponding C function is `CLBlastOverrideParameters`.
    public static func overrideParameters(
        device: OpenCLDevice, kernel: String, parameters: [String: Int]
    ) throws(OpenCLError) {
        let names = parameters.keys.sorted()
        var values = names.map { parameters[$0]! }
        var pointers = names.map { UnsafePointer<CChar>(strdup($0)) }
        defer { for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) } }
        let status = kernel.withCString { kernelName in
            CLBlastOverrideParameters(
                device.id, kernelName, CLBlastPrecisionSingle, names.count, &pointers, &values)
        }
        if status != CLBlastSuccess {
            throw OpenCLError(call: "CLBlastOverrideParameters(\(kernel))", code: status.rawValue)
        }
    }

    /// Xgemm parameter sets tried by `devices --calibrate` on GPUs that CLBlast's database does not
    /// know (such as the H100): entries of CLBlast's own database for other NVIDIA GPUs, and two
    /// 8×8-outputs-per-thread tilings. Values are GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB,
    /// NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN.
    public static let xgemmCandidates: [[String: Int]] = [
        [0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 1, 1, 0, 0, 4, 1],  // TITAN X (Pascal)
        [0, 1, 16, 2, 32, 16, 64, 16, 8, 128, 1, 1, 0, 1, 2, 8],  // GTX 1080 Ti
        [0, 1, 16, 2, 32, 16, 128, 32, 8, 128, 1, 1, 1, 0, 4, 1],  // GTX 1070
        [0, 1, 16, 2, 16, 16, 64, 16, 8, 128, 1, 1, 1, 0, 4, 8],  // GTX 980
        [0, 1, 16, 2, 8, 16, 128, 8, 8, 128, 1, 1, 1, 1, 4, 8],  // GTX TITAN X (Maxwell)
        [0, 1, 32, 2, 16, 16, 128, 16, 16, 128, 1, 1, 1, 1, 4, 4],  // 8×8 per thread, 32-deep
        [0, 1, 16, 2, 16, 16, 128, 16, 16, 128, 1, 1, 1, 1, 4, 4],  // 8×8 per thread, 16-deep
    ].map { values in
        Dictionary(
            uniqueKeysWithValues: zip(
                [
                    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB", "STRM",
                    "STRN", "VWM", "VWN",
                ], values))
    }
}
