import Foundation

/// The animated scene of `render-frames`: a checkered ground, a central sphere and `detail - 1`
/// spheres, rounded boxes and tori orbiting it on rings of eight, under a sun with a sky.
///
/// The host computes each frame's camera, sun and object placement once (the only place that
/// uses `sin`/`cos`) and hands the packed floats to both renderers, so the OpenCL kernel and the
/// Swift renderer march exactly the same scene.
public enum RenderScene {
    /// Seconds of animation per frame: frame `f` shows time `f / 24`.
    public static let secondsPerFrame: Float = 1.0 / 24.0

    /// Primary-ray steps, shadow steps and ambient-occlusion taps: fixed caps both renderers share.
    public static let marchSteps = 128
    public static let shadowSteps = 32
    public static let occlusionSteps = 5
    /// SDF evaluations for the normal at a hit (a tetrahedron of four).
    public static let normalEvaluations = 4

    /// The most SDF evaluations one sample can make.
    public static var maxEvaluationsPerSample: Int { marchSteps + normalEvaluations + shadowSteps + occlusionSteps }

    /// Floats in the packed scene before the first object: camera origin and object count,
    /// forward (scaled by the focal length), right, up, sun direction; four floats each.
    static let headerFloats = 5 * 4
    /// Floats per object: position and kind, size parameters, rotation (cos, sin), albedo.
    static let objectFloats = 4 * 4

    /// The kind of object `index` (0 sphere, 1 rounded box, 2 torus): the kinds take turns.
    static func kind(ofObject index: Int) -> Int { index % 3 }

    /// FLOPs of one SDF evaluation of a scene with `detail` objects, counted by hand from
    /// `map` in `kernels/render.cl` (and `NativeRenderer.map`).
    ///
    /// One FLOP per add, subtract, multiply, divide, square root, abs, min, max and the
    /// nearest-object comparison; branches on the object kind are control flow and not counted.
    /// - the sample point `origin + direction * t`: 3 mul + 3 add = 6 per evaluation;
    /// - per object, the offset `p - centre`: 3 sub, and the nearest-so-far comparison: 1;
    /// - sphere: `sqrt(qx²+qy²+qz²) - r`: 3 mul, 2 add, 1 sqrt, 1 sub = 7, so 11 per sphere;
    /// - rounded box turning about y: rotation 4 mul + 2 add/sub = 6, `|r| - b` 3 abs + 3 sub = 6,
    ///   `max(d, 0)` 3, `length` 3 mul + 2 add + 1 sqrt = 6, `min(max(dx, max(dy, dz)), 0)` 3,
    ///   `outside + inside - radius` 2: 26, so 30 per box;
    /// - torus tumbling about z: rotation 6, `sqrt(rx² + qz²) - R` 5, `sqrt(ring² + ry²) - r` 5:
    ///   16, so 20 per torus.
    /// The default scene (8 objects: 3 spheres, 3 boxes, 2 tori) costs 6 + 33 + 90 + 40 = 169.
    /// - Parameter detail: the number of objects.
    /// - Returns: FLOPs per evaluation.
    public static func flopsPerEvaluation(detail: Int) -> Int {
        let perKind = [11, 30, 20]
        var total = 6
        for index in 0..<detail { total += perKind[kind(ofObject: index)] }
        return total
    }

    /// The packed scene of frame `frame` (see the layout in `kernels/render.cl`).
    /// - Parameters:
    ///   - frame: the frame index; time is `frame / 24` seconds.
    ///   - detail: the number of objects, at least 1.
    /// - Returns: `headerFloats + detail * objectFloats` floats.
    public static func packed(frame: Int, detail: Int) -> [Float] {
        let time = Float(frame) * secondsPerFrame
        let rings = (detail - 1 + 7) / 8
        var scene = [Float](repeating: 0, count: headerFloats + detail * objectFloats)

        // The camera circles the centre slowly, farther out when there are more rings.
        let distance: Float = 6.0 + 1.3 * Float(max(rings, 1) - 1)
        let angle: Float = 0.6 + 0.25 * time
        let origin = SIMD3<Float>(distance * cos(angle), 1.1 + 0.3 * distance, distance * sin(angle))
        let target = SIMD3<Float>(0, 0.55, 0)
        let forward = normalized(target - origin)
        let right = normalized(cross(forward, SIMD3<Float>(0, 1, 0)))
        let up = cross(right, forward)
        let focal: Float = 1.9
        let sun = normalized(SIMD3<Float>(0.55, 0.62, -0.40))
        put(&scene, 0, origin, Float(detail))
        put(&scene, 1, forward * focal, 0)
        put(&scene, 2, right, 0)
        put(&scene, 3, up, 0)
        put(&scene, 4, sun, 0)

        for index in 0..<detail {
            let kind = kind(ofObject: index)
            var centre: SIMD3<Float>
            var size: Float = 0.42
            let bounce: Float
            if index == 0 {
                size = 0.85
                centre = .zero
                bounce = 0.12 * (1 + sin(2.0 * time))
            } else {
                let slot = (index - 1) % 8
                let ring = (index - 1) / 8
                let radius: Float = 2.3 + 1.35 * Float(ring)
                let direction: Float = ring % 2 == 0 ? 1 : -1
                let orbit =
                    2 * Float.pi * Float(slot) / 8 + 0.4 * Float(ring) + direction * time * 0.7
                    / (1 + 0.3 * Float(ring))
                centre = SIMD3<Float>(radius * cos(orbit), 0, radius * sin(orbit))
                bounce = 0.3 * abs(sin(3.0 * time + 0.9 * Float(slot) + Float(ring)))
            }
            var shape = SIMD4<Float>(size, 0, 0, 0)
            switch kind {
            case 0:
                centre.y = size + bounce
            case 1:
                let half = size * 0.72
                shape = SIMD4<Float>(half, half, half, 0.06)
                centre.y = half + 0.06 + bounce
            default:
                shape = SIMD4<Float>(size * 0.78, size * 0.26, 0, 0)
                centre.y = shape.x + shape.y + 0.05 + bounce
            }
            let spin = 1.3 * time + Float(index)
            let colour = palette(index)
            let base = headerFloats / 4 + index * objectFloats / 4
            put(&scene, base, centre, Float(kind))
            put(&scene, base + 1, SIMD3(shape.x, shape.y, shape.z), shape.w)
            put(&scene, base + 2, SIMD3(cos(spin), sin(spin), 0), 0)
            put(&scene, base + 3, colour, 0)
        }
        return scene
    }

    /// The sub-pixel sample offset hash shared with `hash3` in `kernels/render.cl`
    /// (lowbias32 by Chris Wellons over a mix of the pixel and sample indices).
    @inline(__always)
    public static func hash(x: UInt32, y: UInt32, sample: UInt32) -> UInt32 {
        var h = x &* 1973 &+ y &* 9277 &+ sample &* 26699 &+ 0x9E37_79B9
        h ^= h >> 16
        h &*= 0x7FEB_352D
        h ^= h >> 15
        h &*= 0x846C_A68B
        h ^= h >> 16
        return h
    }

    /// A bright, distinct albedo per object; the central sphere is warm white.
    private static func palette(_ index: Int) -> SIMD3<Float> {
        if index == 0 { return SIMD3(0.80, 0.74, 0.62) }
        let phase = Float(index) * 0.137
        let tau = 2 * Float.pi
        return SIMD3(
            0.45 + 0.4 * cos(tau * phase),
            0.45 + 0.4 * cos(tau * (phase + 0.33)),
            0.45 + 0.4 * cos(tau * (phase + 0.67)))
    }

    private static func put(_ scene: inout [Float], _ slot: Int, _ xyz: SIMD3<Float>, _ w: Float) {
        scene[slot * 4] = xyz.x
        scene[slot * 4 + 1] = xyz.y
        scene[slot * 4 + 2] = xyz.z
        scene[slot * 4 + 3] = w
    }

    private static func normalized(_ v: SIMD3<Float>) -> SIMD3<Float> {
        v / (v * v).sum().squareRoot()
    }

    private static func cross(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }
}
