import Compute
import Foundation

/// CLBlast's Xgemm parameters chosen per GEMM shape. CLBlast holds one parameter set per device and
/// kernel (`CLBlastOverrideParameters`) and caches one compiled program per set, so switching sets
/// between the GEMMs of a step costs a database update once every set has been compiled.
///
/// Only candidates are compared, never CLBlast's own defaults: its C API cannot read them back, so once
/// a candidate was applied the defaults could not be restored for the shapes they would win.
final class XgemmShapeTuning {
    /// What CLBlast's choice of kernel and the best tiling depend on: the transposes and the sizes.
    struct Shape: Hashable, CustomStringConvertible {
        var transposeA = false
        var transposeB = false
        var m: Int
        var n: Int
        var k: Int

        var description: String { "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)×\(n)×\(k)" }
    }

    let device: OpenCLDevice
    /// The fastest candidate of each tuned shape.
    private(set) var chosen: [Shape: [String: Int]] = [:]
    /// The set applied last, so that a GEMM of the same set applies nothing.
    private var applied: [String: Int]?

    /// GEMMs of fewer multiply-adds than this (m·n·k) run CLBlast's direct kernel, which Xgemm's
    /// parameters do not touch (CLBlast's default XGEMM_MIN_INDIRECT_SIZE is 384 on most devices).
    static let indirectVolume = 384 * 384 * 384

    /// Times every candidate on every shape of at least `minimumVolume` multiply-adds (on zero-filled
    /// buffers of the shape's size; the best of three after a warm-up, wall time around the GEMM and
    /// clFinish because CLBlast's event covers only its last kernel) and keeps each shape's fastest.
    /// A candidate this device cannot run (local memory, work-group size) is skipped.
    init(
        context: OpenCLContext, device: OpenCLDevice, shapes: [Shape], candidates: [[String: Int]],
        minimumVolume: Int = XgemmShapeTuning.indirectVolume
    ) throws {
        self.device = device
        let clock = ContinuousClock()
        for shape in Set(shapes) where shape.m * shape.n * shape.k >= minimumVolume {
            let a = try context.buffer([Float](repeating: 0, count: shape.m * shape.k), access: .readOnly)
            let b = try context.buffer([Float](repeating: 0, count: shape.k * shape.n), access: .readOnly)
            let c = try context.buffer([Float](repeating: 0, count: shape.m * shape.n))
            var best: (seconds: Double, parameters: [String: Int])?
            for candidate in candidates {
                do {
                    try CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: candidate)
                    var fastest = Double.infinity
                    for attempt in 0..<4 {
                        let start = clock.now
                        try CLBlast.sgemm(
                            on: context, transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m,
                            n: shape.n, k: shape.k, a: a, lda: shape.transposeA ? shape.m : shape.k, b: b,
                            ldb: shape.transposeB ? shape.k : shape.n, c: c, ldc: shape.n)
                        try context.finish()
                        if attempt > 0 { fastest = min(fastest, (clock.now - start).seconds) }
                    }
                    if fastest < (best?.seconds ?? .infinity) { best = (fastest, candidate) }
                } catch {
                    continue
                }
            }
            if let best { chosen[shape] = best.parameters }
        }
    }

    /// Applies the set chosen for `shape` before a GEMM of that shape, unless it is applied already.
    func prepare(_ shape: Shape) throws {
        guard let parameters = chosen[shape], parameters != applied else { return }
        try CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: parameters)
        applied = parameters
    }

    /// Forgets which set is applied: after something else (a calibration's set) replaced it.
    func invalidate() { applied = nil }
}
