internal import COpenCL

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
