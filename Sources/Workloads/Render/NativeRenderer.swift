import Dispatch

/// The Swift renderer of the `render-frames` scene: the fallback when no OpenCL device exists
/// and the oracle the OpenCL frames are tested against.
///
/// Every function mirrors its namesake in `kernels/render.cl` operation for operation, in
/// `Float`, so the two agree to rounding (Swift does not fuse multiply-adds; the kernel turns
/// contraction off).
public enum NativeRenderer {
    /// Renders frame `frame` of the scene into RGBA8 pixels, rows top to bottom.
    /// - Parameters:
    ///   - frame: the frame index (time `frame / 24` seconds).
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - spp: samples per pixel; more than one jitters each sample by a hash of (x, y, sample).
    ///   - detail: the number of objects in the scene.
    /// - Returns: `width * height * 4` bytes and the number of SDF evaluations made.
    public static func render(frame: Int, width: Int, height: Int, spp: Int, detail: Int)
        -> (rgba: [UInt8], evaluations: UInt64)
    {
        let scene = RenderScene.packed(frame: frame, detail: detail)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        var rowEvaluations = [UInt64](repeating: 0, count: height)
        scene.withUnsafeBufferPointer { sceneFloats in
            rgba.withUnsafeMutableBufferPointer { pixels in
                rowEvaluations.withUnsafeMutableBufferPointer { rows in
                    let shared = SharedBuffers(scene: sceneFloats, pixels: pixels, rows: rows)
                    DispatchQueue.concurrentPerform(iterations: height) { y in
                        shared.rows[y] = renderRow(
                            y, width: width, height: height, spp: spp, scene: Scene(shared.scene),
                            into: shared.pixels)
                    }
                }
            }
        }
        return (rgba, rowEvaluations.reduce(0, +))
    }

    /// Pointers shared by the row tasks of one frame.
    private struct SharedBuffers: @unchecked Sendable {  // each task writes only its own row and row count.
        let scene: UnsafeBufferPointer<Float>
        let pixels: UnsafeMutableBufferPointer<UInt8>
        let rows: UnsafeMutableBufferPointer<UInt64>
    }

    private static func renderRow(
        _ y: Int, width: Int, height: Int, spp: Int, scene: Scene, into pixels: UnsafeMutableBufferPointer<UInt8>
    ) -> UInt64 {
        var rowEvaluations: UInt64 = 0
        let w = Float(width)
        let hgt = Float(height)
        let inverseSamples: Float = 1.0 / Float(spp)
        for x in 0..<width {
            var evaluations: UInt32 = 0
            var sum = V3(0, 0, 0)
            for s in 0..<spp {
                var ox: Float = 0.5
                var oy: Float = 0.5
                if spp > 1 {
                    let h = RenderScene.hash(x: UInt32(x), y: UInt32(y), sample: UInt32(s))
                    ox = Float(h & 0xFFFF) * (1.0 / 65536.0)
                    oy = Float(h >> 16) * (1.0 / 65536.0)
                }
                let u = (2.0 * (Float(x) + ox) - w) / hgt
                let v = (hgt - 2.0 * (Float(y) + oy)) / hgt
                let rd = unit(scene.forward + scene.right * u + scene.up * v)
                sum = sum + radiance(scene.origin, rd, scene, &evaluations)
            }
            let col = sum * inverseSamples
            let index = (y * width + x) * 4
            pixels[index] = byte(clamp01(col.x).squareRoot())
            pixels[index + 1] = byte(clamp01(col.y).squareRoot())
            pixels[index + 2] = byte(clamp01(col.z).squareRoot())
            pixels[index + 3] = 255
            rowEvaluations += UInt64(evaluations)
        }
        return rowEvaluations
    }

    @inline(__always)
    private static func byte(_ value: Float) -> UInt8 { UInt8(UInt32(value * 255.0 + 0.5)) }

    // MARK: - The scene's distance field and shading (mirrors kernels/render.cl)

    /// A view of the packed scene floats.
    struct Scene {
        let floats: UnsafeBufferPointer<Float>
        let count: Int
        let origin: V3
        let forward: V3
        let right: V3
        let up: V3
        let sun: V3

        init(_ floats: UnsafeBufferPointer<Float>) {
            self.floats = floats
            count = Int(floats[3])
            origin = V3(floats[0], floats[1], floats[2])
            forward = V3(floats[4], floats[5], floats[6])
            right = V3(floats[8], floats[9], floats[10])
            up = V3(floats[12], floats[13], floats[14])
            sun = V3(floats[16], floats[17], floats[18])
        }
    }

    /// The distance from `p` to the nearest surface and that surface's object (-1: the ground).
    @inline(__always)
    static func map(_ p: V3, _ scene: Scene) -> (distance: Float, id: Int) {
        var d = p.y
        var nearest = -1
        let f = scene.floats
        for i in 0..<scene.count {
            let o = 20 + 16 * i
            let qx = p.x - f[o]
            let qy = p.y - f[o + 1]
            let qz = p.z - f[o + 2]
            let kind = f[o + 3]
            let di: Float
            if kind < 0.5 {
                di = (qx * qx + qy * qy + qz * qz).squareRoot() - f[o + 4]
            } else if kind < 1.5 {
                let c = f[o + 8]
                let s = f[o + 9]
                let rx = c * qx + s * qz
                let rz = c * qz - s * qx
                let dx = abs(rx) - f[o + 4]
                let dy = abs(qy) - f[o + 5]
                let dz = abs(rz) - f[o + 6]
                let ox = max(dx, 0)
                let oy = max(dy, 0)
                let oz = max(dz, 0)
                let outside = (ox * ox + oy * oy + oz * oz).squareRoot()
                let inside = min(max(dx, max(dy, dz)), 0)
                di = outside + inside - f[o + 7]
            } else {
                let c = f[o + 8]
                let s = f[o + 9]
                let rx = c * qx + s * qy
                let ry = c * qy - s * qx
                let ring = (rx * rx + qz * qz).squareRoot() - f[o + 4]
                di = (ring * ring + ry * ry).squareRoot() - f[o + 5]
            }
            if di < d {
                d = di
                nearest = i
            }
        }
        return (d, nearest)
    }

    @inline(__always)
    private static func softShadow(_ origin: V3, _ direction: V3, _ scene: Scene, _ evaluations: inout UInt32) -> Float
    {
        var result: Float = 1.0
        var t: Float = 0.02
        for _ in 0..<RenderScene.shadowSteps {
            let h = map(origin + direction * t, scene).distance
            evaluations += 1
            result = min(result, 8.0 * h / t)
            t += min(max(h, 0.02), 0.4)
            if result < 0.002 || t > 16.0 { break }
        }
        return clamp01(result)
    }

    @inline(__always)
    private static func occlusion(_ p: V3, _ n: V3, _ scene: Scene, _ evaluations: inout UInt32) -> Float {
        var occ: Float = 0.0
        var scale: Float = 1.0
        for i in 0..<RenderScene.occlusionSteps {
            let h: Float = 0.01 + 0.03 * Float(i)
            let d = map(p + n * h, scene).distance
            evaluations += 1
            occ += (h - d) * scale
            scale *= 0.95
        }
        return clamp01(1.0 - 3.0 * occ)
    }

    @inline(__always)
    private static func sky(_ rd: V3, _ sun: V3) -> V3 {
        let y = max(rd.y, 0.0)
        var col = V3(0.62, 0.78, 0.98) - V3(0.45, 0.40, 0.25) * y
        let h = 1.0 - y
        let h2 = h * h
        let h4 = h2 * h2
        col = col + V3(0.20, 0.16, 0.10) * h4
        let s = max(dot(rd, sun), 0.0)
        let s2 = s * s
        let s4 = s2 * s2
        let s8 = s4 * s4
        let s16 = s8 * s8
        let s32 = s16 * s16
        let s64 = s32 * s32
        let s128 = s64 * s64
        let s256 = s128 * s128
        let glow = 0.25 * s8 + 2.0 * s256
        return col + V3(1.0, 0.80, 0.55) * glow
    }

    @inline(__always)
    private static func radiance(_ ro: V3, _ rd: V3, _ scene: Scene, _ evaluations: inout UInt32) -> V3 {
        let far: Float = 60.0
        let sun = scene.sun
        var t: Float = 0.0
        var id = -1
        for _ in 0..<RenderScene.marchSteps {
            let hit = map(ro + rd * t, scene)
            id = hit.id
            evaluations += 1
            if hit.distance < 0.0005 * t || hit.distance < 0.0001 { break }
            t += hit.distance
            if t > far { break }
        }
        if t > far { return sky(rd, sun) }

        let p = ro + rd * t
        let e: Float = 0.001
        let d0 = map(p + V3(e, -e, -e), scene).distance
        let d1 = map(p + V3(-e, -e, e), scene).distance
        let d2 = map(p + V3(-e, e, -e), scene).distance
        let d3 = map(p + V3(e, e, e), scene).distance
        evaluations += 4
        let n = unit(V3(d0 - d1 - d2 + d3, -d0 - d1 + d2 + d3, -d0 + d1 - d2 + d3))

        let albedo: V3
        if id < 0 {
            let fx = p.x.rounded(.down)
            let fz = p.z.rounded(.down)
            albedo = Int32(fx + fz) & 1 != 0 ? V3(0.55, 0.52, 0.48) : V3(0.26, 0.25, 0.24)
        } else {
            let o = 20 + 16 * id + 12
            albedo = V3(scene.floats[o], scene.floats[o + 1], scene.floats[o + 2])
        }

        let dif = clamp01(dot(n, sun))
        var sha: Float = 0.0
        if dif > 0.0 { sha = softShadow(p + n * 0.01, sun, scene, &evaluations) }
        let occ = occlusion(p, n, scene, &evaluations)
        let halfway = unit(sun - rd)
        let c1 = clamp01(dot(n, halfway))
        let c2 = c1 * c1
        let c4 = c2 * c2
        let c8 = c4 * c4
        let c16 = c8 * c8
        let c32 = c16 * c16
        let spe = c32 * dif * sha
        let amb = 0.5 + 0.5 * n.y

        let light = V3(1.30, 1.10, 0.85) * (1.6 * dif * sha) + V3(0.35, 0.45, 0.60) * (amb * occ)
        let col = albedo * light + V3(1.0, 0.95, 0.85) * (0.6 * spe)
        let t2 = t * t
        let fog = t2 / (t2 + 1600.0)
        return col * (1.0 - fog) + V3(0.62, 0.74, 0.90) * fog
    }

    @inline(__always)
    private static func clamp01(_ x: Float) -> Float { min(max(x, 0.0), 1.0) }

    @inline(__always)
    private static func dot(_ a: V3, _ b: V3) -> Float { a.x * b.x + a.y * b.y + a.z * b.z }

    @inline(__always)
    private static func unit(_ a: V3) -> V3 {
        let inverse: Float = 1.0 / dot(a, a).squareRoot()
        return a * inverse
    }
}

/// Three floats with element-wise arithmetic: a plain struct (not `SIMD3`) so that debug
/// builds stay fast and every operation is the one written.
struct V3 {
    var x: Float
    var y: Float
    var z: Float

    @inline(__always)
    init(_ x: Float, _ y: Float, _ z: Float) {
        self.x = x
        self.y = y
        self.z = z
    }

    @inline(__always)
    static func + (a: V3, b: V3) -> V3 { V3(a.x + b.x, a.y + b.y, a.z + b.z) }
    @inline(__always)
    static func - (a: V3, b: V3) -> V3 { V3(a.x - b.x, a.y - b.y, a.z - b.z) }
    @inline(__always)
    static func * (a: V3, b: V3) -> V3 { V3(a.x * b.x, a.y * b.y, a.z * b.z) }
    @inline(__always)
    static func * (a: V3, s: Float) -> V3 { V3(a.x * s, a.y * s, a.z * s) }
}
