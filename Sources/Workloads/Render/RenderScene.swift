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
    /// Floats per object: position and kind, size parameters, rotation (cos, sin) and culling reach
    /// (bounding radius plus `cullingMargin`), albedo.
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

    /// FLOPs of the SDF work the OpenCL kernel counted, which culls rings and objects by bounding
    /// volumes (see `map` in `kernels/render.cl`; the costs are those of `flopsPerEvaluation`):
    /// - per evaluation, the sample point: 6; with rings, the distance from the vertical axis
    ///   (2 mul, 1 add, 1 sqrt: 4) and each ring's test (`across - radius`, `y - height`, their
    ///   squares and sum, `reach = d + tube`, `reach²`, two comparisons: 9);
    /// - per object tested (the central one, and those of rings not culled): the offset `p - centre` 3,
    ///   `|q|²` 5, `reach = d + radius` 1, `reach²` 1 and two comparisons: 12;
    /// - per sphere evaluated after its test: the square root, the radius and the nearest-so-far
    ///   comparison: 3 (11 less the offset and `|q|²`, which the test shares);
    /// - per box evaluated after its test: 30 less the offset = 27; per torus: 20 - 3 = 17.
    /// Were nothing culled, this would exceed `flopsPerEvaluation` by the ring tests, 4 per sphere and
    /// 9 per box or torus; each culled sphere saves 3, box 27, torus 17, and ring its objects' tests.
    /// - Parameters:
    ///   - counts: the summed per-pixel counters of the kernel.
    ///   - detail: the number of objects.
    /// - Returns: FLOPs evaluated.
    public static func flops(of counts: RenderCounts, detail: Int) -> Double {
        let rings = rings(detail: detail)
        let perEvaluation = 6 + (rings > 0 ? 4 + 9 * rings : 0)
        return Double(counts.evaluations) * Double(perEvaluation) + Double(counts.tests) * 12
            + Double(counts.spheres) * 3 + Double(counts.boxes) * 27 + Double(counts.tori) * 17
    }

    /// Room added to each bounding radius so that float rounding can never cull an object that the
    /// full comparison would have chosen (the rounding of `|q|` and of an SDF is below 1e-4 anywhere
    /// in the scene, which ends 60 units out).
    static let cullingMargin: Float = 0.01

    /// The packed scene of frame `frame` (see the layout in `kernels/render.cl`).
    /// - Parameters:
    ///   - frame: the frame index; time is `frame / 24` seconds.
    ///   - detail: the number of objects, at least 1.
    /// - Returns: `floats(detail:)` floats.
    public static func packed(frame: Int, detail: Int) -> [Float] {
        let time = Float(frame) * secondsPerFrame
        let rings = rings(detail: detail)
        var scene = [Float](repeating: 0, count: floats(detail: detail))
        // Each object's centre and the radius of a sphere about it that holds the whole object.
        var bounds: [(centre: SIMD3<Float>, radius: Double)] = []

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
        put(&scene, 4, sun, Float(rings))

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
            // The radius of a sphere about the centre that holds the whole object.
            var bound = Double(size)
            switch kind {
            case 0:
                centre.y = size + bounce
            case 1:
                let half = size * 0.72
                shape = SIMD4<Float>(half, half, half, 0.06)
                centre.y = half + 0.06 + bounce
                bound = (3 * Double(half) * Double(half)).squareRoot() + Double(shape.w)
            default:
                shape = SIMD4<Float>(size * 0.78, size * 0.26, 0, 0)
                centre.y = shape.x + shape.y + 0.05 + bounce
                bound = Double(shape.x) + Double(shape.y)
            }
            let reach = Float(bound).nextUp + cullingMargin
            bounds.append((centre, bound))
            let spin = 1.3 * time + Float(index)
            let colour = palette(index)
            let base = headerFloats / 4 + index * objectFloats / 4
            put(&scene, base, centre, Float(kind))
            put(&scene, base + 1, SIMD3(shape.x, shape.y, shape.z), shape.w)
            put(&scene, base + 2, SIMD3(cos(spin), sin(spin), reach), 0)
            put(&scene, base + 3, colour, 0)
        }
        for ring in 0..<rings {
            let members = bounds[(1 + ring * 8)..<min(1 + (ring + 1) * 8, detail)]
            // The circle through the ring's centres, at the middle of their heights; every object of the
            // ring lies within `reach` of it (computed in Double from the stored Floats, rounded up).
            let radius: Float = 2.3 + 1.35 * Float(ring)
            let heights = members.map { $0.centre.y }
            let height = (heights.min()! + heights.max()!) / 2
            var tube = 0.0
            for member in members {
                let across =
                    (Double(member.centre.x) * Double(member.centre.x)
                    + Double(member.centre.z) * Double(member.centre.z)).squareRoot() - Double(radius)
                let up = Double(member.centre.y) - Double(height)
                tube = max(tube, (across * across + up * up).squareRoot() + member.radius)
            }
            let slot = headerFloats / 4 + detail * objectFloats / 4 + ring
            put(&scene, slot, SIMD3(radius, height, Float(tube).nextUp + cullingMargin), Float(members.count))
        }
        return scene
    }

    /// The rings of up to eight objects about the central one.
    static func rings(detail: Int) -> Int { (detail - 1 + 7) / 8 }

    /// Floats in the packed scene of `detail` objects: the header, the objects, the rings.
    static func floats(detail: Int) -> Int { headerFloats + detail * objectFloats + rings(detail: detail) * 4 }

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

/// The work counters of the OpenCL kernel, summed over pixels (and frames).
public struct RenderCounts: Sendable, Equatable {
    /// SDF evaluations (calls of `map`).
    public var evaluations: UInt64 = 0
    /// Objects whose bounding sphere was tested: the central one at every evaluation, and the objects
    /// of every ring that its own test did not cull.
    public var tests: UInt64 = 0
    /// Spheres evaluated in full (their test did not cull them for every lane).
    public var spheres: UInt64 = 0
    /// Rounded boxes evaluated in full.
    public var boxes: UInt64 = 0
    /// Tori evaluated in full.
    public var tori: UInt64 = 0

    public init(evaluations: UInt64 = 0, tests: UInt64 = 0, spheres: UInt64 = 0, boxes: UInt64 = 0, tori: UInt64 = 0) {
        self.evaluations = evaluations
        self.tests = tests
        self.spheres = spheres
        self.boxes = boxes
        self.tori = tori
    }

    /// The counters in the kernel's order.
    init(_ fields: [UInt64]) {
        self.init(evaluations: fields[0], tests: fields[1], spheres: fields[2], boxes: fields[3], tori: fields[4])
    }

    /// Objects evaluated in full, of any kind.
    public var objects: UInt64 { spheres + boxes + tori }

    static func + (a: RenderCounts, b: RenderCounts) -> RenderCounts {
        RenderCounts(
            evaluations: a.evaluations + b.evaluations, tests: a.tests + b.tests, spheres: a.spheres + b.spheres,
            boxes: a.boxes + b.boxes, tori: a.tori + b.tori)
    }
}
