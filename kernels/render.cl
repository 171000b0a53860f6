// render-frames: ray marching of signed distance fields, LANES pixels per work-item.
//
// The scene of one frame (camera, sun, objects) is computed on the host and passed in `scene`;
// every per-pixel operation below is mirrored, in the same order, by the Swift renderer in
// Sources/Workloads/Render/NativeRenderer.swift, which is the test oracle. Keep the two in step:
// no built-in dot/length/normalize/clamp (their internal order is the driver's), every
// constant a float literal, and no contraction of a*b+c into fma. Built with -DCAPSIZE_FAST_MATH
// (`--math fast`) the kernel trades that agreement for speed: contraction and native_sqrt.
//
// Restructured for the hardware (one source, two shapes):
// - LANES (1, 2, 4, 8 or 16, set by the host per device) pixels per work-item, a TILE_W × TILE_H
//   tile held as OpenCL vectors, one lane per pixel. A CPU device (PoCL) runs a work-item on one
//   core, so the vectors are its SIMD width: the loops run while any lane is still marching, and
//   a lane that has finished keeps its values (`select`), so every lane computes exactly what the
//   one-pixel loop computes. A GPU gets LANES 1: a warp is already 32 pixels.
// - Culling by bounding spheres: an object whose bounding sphere (radius in the scene) is farther
//   than the nearest surface found so far, plus a margin that covers rounding, cannot be the
//   nearest one, so it is skipped when that holds for every live lane. A skipped object would have
//   lost the `di < d` comparison, so the distance and the nearest object are those of the full
//   loop, bit for bit: culling saves work (a square root or two and the shape) without changing a
//   pixel. A sphere's test shares its |q|² and leaves out only the square root. The objects
//   orbit in rings of eight, and a ring is skipped whole (eight tests saved) where every live lane
//   is farther from the ring's circle than d plus the ring's reach: the same argument, one level up.
// - Counters: each pixel counts its SDF evaluations, the objects it tested and the spheres, boxes
//   and tori it evaluated in full, so the host can count the FLOPs that were evaluated
//   (RenderScene.flops). Lanes that have finished (or lie outside the frame) are not
//   counted: what they compute is thrown away.
//
// scene layout (float4 each):
//   [0] camera origin xyz, object count w   [1] forward * focal length
//   [2] right                               [3] up
//   [4] sun direction (unit), ring count w
//   [5 + 4i ...] object i: position xyz + kind w (0 sphere, 1 rounded box, 2 torus),
//                size parameters, rotation (cos, sin) and culling reach z (bounding radius plus
//                margin), albedo rgb.
//   [5 + 4 * count + g] ring g (objects 1 + 8g ...): radius and height of the circle through their
//                centres, reach (the tube about the circle that holds them, plus margin), objects.

#ifdef CAPSIZE_FAST_MATH
#define SQRT native_sqrt
#else
#pragma OPENCL FP_CONTRACT OFF
#define SQRT sqrt
#endif

#ifndef LANES
#define LANES 1
#endif

#if LANES == 1
typedef float vf;
typedef int vi;
typedef uint vu;
#define CONVERT_VF(x) ((float)(x))
#define CONVERT_VI(x) ((int)(x))
#define CONVERT_VU(x) ((uint)(x))
#define ANY(m) ((m) != 0)
#define LANE_INDEX 0
#define TILE_W 1
#else
#define VECTOR_(type, n) type##n
#define VECTOR(type, n) VECTOR_(type, n)
typedef VECTOR(float, LANES) vf;
typedef VECTOR(int, LANES) vi;
typedef VECTOR(uint, LANES) vu;
#define CONVERT_VF(x) VECTOR(convert_float, LANES)(x)
#define CONVERT_VI(x) VECTOR(convert_int, LANES)(x)
#define CONVERT_VU(x) VECTOR(convert_uint, LANES)(x)
// Whether any lane of a mask (lanes all ones or all zeros) is set: OR the halves together. PoCL's
// any() tests the lanes one by one, with a branch each, which cost more than culling saved.
#define ANY(m) any_lane(m)
#if LANES == 2
#define LANE_INDEX ((vi)(0, 1))
#define TILE_W 2
#elif LANES == 4
#define LANE_INDEX ((vi)(0, 1, 2, 3))
#define TILE_W 2
#elif LANES == 8
#define LANE_INDEX ((vi)(0, 1, 2, 3, 4, 5, 6, 7))
#define TILE_W 4
#elif LANES == 16
#define LANE_INDEX ((vi)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define TILE_W 4
#else
#error "LANES must be 1, 2, 4, 8 or 16"
#endif
#endif
#define TILE_H (LANES / TILE_W)

#if LANES > 1 && defined(__has_builtin)
#if __has_builtin(__builtin_reduce_or)
#define HAVE_REDUCE_OR
#endif
#endif
#if LANES == 1
#elif defined(HAVE_REDUCE_OR)
static int any_lane(vi m) { return __builtin_reduce_or(m) != 0; }
#elif LANES == 2
static int any_lane(vi m) { return as_ulong(m) != 0ul; }
#elif LANES == 4
static int any_lane(vi m) {
    ulong2 a = as_ulong2(m);
    return (a.lo | a.hi) != 0ul;
}
#elif LANES == 8
static int any_lane(vi m) {
    ulong4 a = as_ulong4(m);
    ulong2 b = a.lo | a.hi;
    return (b.lo | b.hi) != 0ul;
}
#elif LANES == 16
static int any_lane(vi m) {
    ulong8 a = as_ulong8(m);
    ulong4 b = a.lo | a.hi;
    ulong2 c = b.lo | b.hi;
    return (c.lo | c.hi) != 0ul;
}
#endif

// Work counters per pixel, each a plane of width * height: see Counters.
#define COUNTERS 5

#define MARCH_STEPS 128
#define SHADOW_STEPS 32
#define AO_STEPS 5
#define FAR 60.0f

// The work one pixel did, lane by lane.
typedef struct {
    vu evaluations;  // SDF evaluations (calls of `map`)
    vu tests;        // objects whose bounding sphere was tested (those of culled rings are not)
    vu spheres;      // spheres evaluated in full
    vu boxes;        // rounded boxes evaluated in full
    vu tori;         // tori evaluated in full
} Counters;

typedef struct {
    vf x, y, z;
} v3;

static v3 make3(vf x, vf y, vf z) {
    v3 v;
    v.x = x;
    v.y = y;
    v.z = z;
    return v;
}

static vf dot3(v3 a, v3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

static v3 unit3(v3 a) {
    vf inverse = 1.0f / SQRT(dot3(a, a));
    return make3(a.x * inverse, a.y * inverse, a.z * inverse);
}

static vf clamp01(vf x) { return fmin(fmax(x, 0.0f), 1.0f); }

// origin + direction * t, per component.
static v3 at(v3 origin, v3 direction, vf t) {
    return make3(origin.x + direction.x * t, origin.y + direction.y * t, origin.z + direction.z * t);
}

// Object i's distance where any live lane may find it nearer than `*d`: it becomes the new `*d`
// and `*nearest` where it is (strictly) nearer, as in the one-object-at-a-time loop.
static void object(v3 p, __constant float4 *scene, int i, vi live, vu one, vf *d, vi *nearest, Counters *counted) {
    float4 a = scene[5 + 4 * i];
    float4 b = scene[6 + 4 * i];
    float4 r = scene[7 + 4 * i];
    vf qx = p.x - a.x;
    vf qy = p.y - a.y;
    vf qz = p.z - a.z;
    vf q2 = qx * qx + qy * qy + qz * qz;
    // Skip the object where its bounding sphere lies beyond d (r.z: its radius plus a margin).
    vf reach = *d + r.z;
    vi beyond = reach > 0.0f & q2 > reach * reach;
    if (!ANY(live & !beyond)) return;
    vf di;
    if (a.w < 0.5f) {
        di = SQRT(q2) - b.x;
        counted->spheres += one;
    } else if (a.w < 1.5f) {
        // A rounded box turning about the vertical axis.
        vf rx = r.x * qx + r.y * qz;
        vf rz = r.x * qz - r.y * qx;
        vf dx = fabs(rx) - b.x;
        vf dy = fabs(qy) - b.y;
        vf dz = fabs(rz) - b.z;
        vf ox = fmax(dx, 0.0f);
        vf oy = fmax(dy, 0.0f);
        vf oz = fmax(dz, 0.0f);
        vf outside = SQRT(ox * ox + oy * oy + oz * oz);
        vf inside = fmin(fmax(dx, fmax(dy, dz)), 0.0f);
        di = outside + inside - b.w;
        counted->boxes += one;
    } else {
        // A torus tumbling about the z axis.
        vf rx = r.x * qx + r.y * qy;
        vf ry = r.x * qy - r.y * qx;
        vf ring = SQRT(rx * rx + qz * qz) - b.x;
        di = SQRT(ring * ring + ry * ry) - b.y;
        counted->tori += one;
    }
    vi closer = di < *d;
    *d = select(*d, di, closer);
    *nearest = select(*nearest, (vi)i, closer);
}

// The distance from p to the nearest surface; `*id` is the nearest object (-1: the ground).
// `live` marks the lanes whose result is used: only they count, and culling asks only them.
// Objects are taken in index order, as the one-pixel loop takes them: the central one, then the
// rings of up to eight about the vertical axis, each skipped whole where every live lane is
// farther from its circle than d plus the ring's reach.
// FLOPs (one FLOP per add, sub, mul, div, sqrt, min, max, abs, compare): see RenderScene.swift.
static vf map(v3 p, __constant float4 *scene, int count, vi live, vi *id, Counters *counted) {
    vu one = select((vu)0u, (vu)1u, live);
    counted->evaluations += one;
    counted->tests += one;
    vf d = p.y;
    vi nearest = (vi)(-1);
    object(p, scene, 0, live, one, &d, &nearest, counted);
    int rings = (int)scene[4].w;
    if (rings > 0) {
        vf across = SQRT(p.x * p.x + p.z * p.z);
        int first = 1;
        for (int g = 0; g < rings; g++) {
            // ring g: radius x, height y, reach z (tube radius plus a margin), objects w.
            float4 ring = scene[5 + 4 * count + g];
            int members = (int)ring.w;
            vf dr = across - ring.x;
            vf dy = p.y - ring.y;
            vf reach = d + ring.z;
            vi beyond = reach > 0.0f & dr * dr + dy * dy > reach * reach;
            if (ANY(live & !beyond)) {
                counted->tests += select((vu)0u, (vu)(uint)members, live);
                for (int i = first; i < first + members; i++) object(p, scene, i, live, one, &d, &nearest, counted);
            }
            first += members;
        }
    }
    *id = nearest;
    return d;
}

// Lanes in `live` march toward the sun; the others return 0 (no light), as the one-pixel kernel does
// where the surface faces away.
static vf softShadow(v3 origin, float3 direction, __constant float4 *scene, int count, vi live, Counters *counted) {
    v3 sun = make3((vf)direction.x, (vf)direction.y, (vf)direction.z);
    vf result = 1.0f;
    vf t = 0.02f;
    vi id;
    vi marching = live;
    for (int i = 0; i < SHADOW_STEPS && ANY(marching); i++) {
        vf h = map(at(origin, sun, t), scene, count, marching, &id, counted);
        result = select(result, fmin(result, 8.0f * h / t), marching);
        t = select(t, t + fmin(fmax(h, 0.02f), 0.4f), marching);
        marching = marching & !(result < 0.002f | t > 16.0f);
    }
    return select((vf)0.0f, clamp01(result), live);
}

static vf occlusion(v3 p, v3 n, __constant float4 *scene, int count, vi live, Counters *counted) {
    vf occ = 0.0f;
    float scale = 1.0f;
    vi id;
    for (int i = 0; i < AO_STEPS; i++) {
        float h = 0.01f + 0.03f * (float)i;
        vf d = map(at(p, n, (vf)h), scene, count, live, &id, counted);
        occ += (h - d) * scale;
        scale *= 0.95f;
    }
    return clamp01(1.0f - 3.0f * occ);
}

static v3 sky(v3 rd, float3 sun) {
    vf y = fmax(rd.y, 0.0f);
    v3 col = make3(0.62f - 0.45f * y, 0.78f - 0.40f * y, 0.98f - 0.25f * y);
    vf h = 1.0f - y;
    vf h2 = h * h;
    vf h4 = h2 * h2;
    col = make3(col.x + 0.20f * h4, col.y + 0.16f * h4, col.z + 0.10f * h4);
    vf s = fmax(rd.x * sun.x + rd.y * sun.y + rd.z * sun.z, 0.0f);
    vf s2 = s * s;
    vf s4 = s2 * s2;
    vf s8 = s4 * s4;
    vf s16 = s8 * s8;
    vf s32 = s16 * s16;
    vf s64 = s32 * s32;
    vf s128 = s64 * s64;
    vf s256 = s128 * s128;
    vf glow = 0.25f * s8 + 2.0f * s256;
    return make3(col.x + 1.0f * glow, col.y + 0.80f * glow, col.z + 0.55f * glow);
}

// The distance along each ray to its first surface (beyond FAR: none), and that surface's object.
static vf march(v3 ro, v3 rd, vi live, __constant float4 *scene, int count, vi *id, Counters *counted) {
    vf t = 0.0f;
    *id = (vi)(-1);
    vi marching = live;
    for (int i = 0; i < MARCH_STEPS && ANY(marching); i++) {
        vi nearest;
        vf d = map(at(ro, rd, t), scene, count, marching, &nearest, counted);
        *id = select(*id, nearest, marching);
        marching = marching & !(d < 0.0005f * t | d < 0.0001f);
        t = select(t, t + d, marching);
        marching = marching & !(t > FAR);
    }
    return t;
}

static v3 radiance(v3 ro, v3 rd, vi live, __constant float4 *scene, int count, Counters *counted) {
    float3 sun = scene[4].xyz;
    vi id;
    vf t = march(ro, rd, live, scene, count, &id, counted);
    v3 background = sky(rd, sun);
    vi hit = live & !(t > FAR);
    if (!ANY(hit)) return background;

    v3 p = at(ro, rd, t);
    // The normal from four evaluations at the corners of a tetrahedron.
    const float e = 0.001f;
    vi unused;
    vf d0 = map(make3(p.x + e, p.y + (-e), p.z + (-e)), scene, count, hit, &unused, counted);
    vf d1 = map(make3(p.x + (-e), p.y + (-e), p.z + e), scene, count, hit, &unused, counted);
    vf d2 = map(make3(p.x + (-e), p.y + e, p.z + (-e)), scene, count, hit, &unused, counted);
    vf d3 = map(make3(p.x + e, p.y + e, p.z + e), scene, count, hit, &unused, counted);
    v3 n = unit3(make3(d0 - d1 - d2 + d3, -d0 - d1 + d2 + d3, -d0 + d1 - d2 + d3));

    vf fx = floor(p.x);
    vf fz = floor(p.z);
    vi light = (CONVERT_VI(fx + fz) & 1) != 0;
    v3 albedo = make3(select((vf)0.26f, (vf)0.55f, light), select((vf)0.25f, (vf)0.52f, light),
                      select((vf)0.24f, (vf)0.48f, light));
    for (int i = 0; i < count; i++) {
        float4 colour = scene[8 + 4 * i];
        vi mine = id == i;
        albedo = make3(select(albedo.x, (vf)colour.x, mine), select(albedo.y, (vf)colour.y, mine),
                       select(albedo.z, (vf)colour.z, mine));
    }

    vf dif = clamp01(n.x * sun.x + n.y * sun.y + n.z * sun.z);
    v3 lifted = make3(p.x + n.x * 0.01f, p.y + n.y * 0.01f, p.z + n.z * 0.01f);
    vf sha = softShadow(lifted, sun, scene, count, hit & dif > 0.0f, counted);
    vf occ = occlusion(p, n, scene, count, hit, counted);
    v3 halfway = unit3(make3(sun.x - rd.x, sun.y - rd.y, sun.z - rd.z));
    vf c1 = clamp01(dot3(n, halfway));
    vf c2 = c1 * c1;
    vf c4 = c2 * c2;
    vf c8 = c4 * c4;
    vf c16 = c8 * c8;
    vf c32 = c16 * c16;
    vf spe = c32 * dif * sha;
    vf amb = 0.5f + 0.5f * n.y;

    vf direct = 1.6f * dif * sha;
    vf ambient = amb * occ;
    vf glossy = 0.6f * spe;
    v3 col = make3(albedo.x * (1.30f * direct + 0.35f * ambient) + 1.0f * glossy,
                   albedo.y * (1.10f * direct + 0.45f * ambient) + 0.95f * glossy,
                   albedo.z * (0.85f * direct + 0.60f * ambient) + 0.85f * glossy);
    vf t2 = t * t;
    vf fog = t2 / (t2 + 1600.0f);
    vf clear = 1.0f - fog;
    return make3(select(background.x, col.x * clear + 0.62f * fog, hit),
                 select(background.y, col.y * clear + 0.74f * fog, hit),
                 select(background.z, col.z * clear + 0.90f * fog, hit));
}

// The same integer hash as `RenderScene.hash` in Swift (lowbias32 by Chris Wellons).
static vu hash3(vu x, vu y, uint s) {
    vu h = x * 1973u + y * 9277u + s * 26699u + 0x9E3779B9u;
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return h;
}

static uchar channel(vf value, int lane) {
    vu scaled = CONVERT_VU(value * 255.0f + 0.5f);
    return (uchar)((uint *)&scaled)[lane];
}

// One work-item per TILE_W × TILE_H tile of pixels. `counters[c * width * height + i]` holds pixel
// i's counter c (evaluations, tests, spheres, boxes, tori); with `accumulate` set the counts add to
// the previous frames' so the host reads the counters back rarely.
kernel void render(
    global uchar4 *frame, global uint *counters, __constant float4 *scene, int width, int height, int spp,
    int accumulate)
{
    vi xs = (int)get_global_id(0) * TILE_W + LANE_INDEX % TILE_W;
    vi ys = (int)get_global_id(1) * TILE_H + LANE_INDEX / TILE_W;
    vi live = xs < width & ys < height;
    if (!ANY(live)) return;
    int count = (int)scene[0].w;
    float3 origin = scene[0].xyz;
    float3 forward = scene[1].xyz;
    float3 right = scene[2].xyz;
    float3 up = scene[3].xyz;
    v3 ro = make3((vf)origin.x, (vf)origin.y, (vf)origin.z);
    float w = (float)width;
    float hgt = (float)height;

    Counters counted;
    counted.evaluations = 0u;
    counted.tests = 0u;
    counted.spheres = 0u;
    counted.boxes = 0u;
    counted.tori = 0u;
    v3 sum = make3(0.0f, 0.0f, 0.0f);
    for (int s = 0; s < spp; s++) {
        vf ox = 0.5f;
        vf oy = 0.5f;
        if (spp > 1) {
            vu h = hash3(CONVERT_VU(xs), CONVERT_VU(ys), (uint)s);
            ox = CONVERT_VF(h & 0xFFFFu) * (1.0f / 65536.0f);
            oy = CONVERT_VF(h >> 16) * (1.0f / 65536.0f);
        }
        vf u = (2.0f * (CONVERT_VF(xs) + ox) - w) / hgt;
        vf v = (hgt - 2.0f * (CONVERT_VF(ys) + oy)) / hgt;
        v3 rd = unit3(make3(forward.x + right.x * u + up.x * v, forward.y + right.y * u + up.y * v,
                            forward.z + right.z * u + up.z * v));
        v3 col = radiance(ro, rd, live, scene, count, &counted);
        sum = make3(sum.x + col.x, sum.y + col.y, sum.z + col.z);
    }
    float inverse = 1.0f / (float)spp;
    vf r = SQRT(clamp01(sum.x * inverse));
    vf g = SQRT(clamp01(sum.y * inverse));
    vf b = SQRT(clamp01(sum.z * inverse));
    for (int lane = 0; lane < LANES; lane++) {
        int x = (int)get_global_id(0) * TILE_W + lane % TILE_W;
        int y = (int)get_global_id(1) * TILE_H + lane / TILE_W;
        if (x >= width || y >= height) continue;
        int index = y * width + x;
        frame[index] = (uchar4)(channel(r, lane), channel(g, lane), channel(b, lane), (uchar)255);
        int plane = width * height;
        uint mine[COUNTERS] = {((uint *)&counted.evaluations)[lane], ((uint *)&counted.tests)[lane],
                               ((uint *)&counted.spheres)[lane], ((uint *)&counted.boxes)[lane],
                               ((uint *)&counted.tori)[lane]};
        for (int c = 0; c < COUNTERS; c++) {
            counters[c * plane + index] = (accumulate != 0 ? counters[c * plane + index] : 0u) + mine[c];
        }
    }
}
