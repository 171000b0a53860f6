// render-frames: ray marching of signed distance fields, one work-item per pixel.
//
// The scene of one frame (camera, sun, objects) is computed on the host and passed in `scene`;
// every per-pixel operation below is mirrored, in the same order, by the Swift renderer in
// Sources/Workloads/Render/NativeRenderer.swift, which is the test oracle. Keep the two in step:
// no built-in dot/length/normalize/clamp (their internal order is the driver's), every
// constant a float literal, and no contraction of a*b+c into fma. Built with -DCAPSIZE_FAST_MATH
// (`--math fast`) the kernel trades that agreement for speed: contraction and native_sqrt.
//
// scene layout (float4 each):
//   [0] camera origin xyz, object count w   [1] forward * focal length
//   [2] right                               [3] up
//   [4] sun direction (unit)
//   [5 + 4i ...] object i: position xyz + kind w (0 sphere, 1 rounded box, 2 torus),
//                size parameters, rotation (cos, sin), albedo rgb.

#ifdef CAPSIZE_FAST_MATH
#define SQRT native_sqrt
#else
#pragma OPENCL FP_CONTRACT OFF
#define SQRT sqrt
#endif

#define MARCH_STEPS 128
#define SHADOW_STEPS 32
#define AO_STEPS 5
#define FAR 60.0f

static float dot3(float3 a, float3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

static float3 unit3(float3 a) {
    float inverse = 1.0f / SQRT(dot3(a, a));
    return a * inverse;
}

static float clamp01(float x) { return fmin(fmax(x, 0.0f), 1.0f); }

// The distance from p to the nearest surface; `*id` is the nearest object (-1: the ground).
// FLOPs (one FLOP per add, sub, mul, div, sqrt, min, max, abs, compare): see RenderScene.swift.
static float map(float3 p, __constant float4 *scene, int count, int *id) {
    float d = p.y;
    int nearest = -1;
    for (int i = 0; i < count; i++) {
        float4 a = scene[5 + 4 * i];
        float4 b = scene[6 + 4 * i];
        float4 r = scene[7 + 4 * i];
        float qx = p.x - a.x;
        float qy = p.y - a.y;
        float qz = p.z - a.z;
        float di;
        if (a.w < 0.5f) {
            di = SQRT(qx * qx + qy * qy + qz * qz) - b.x;
        } else if (a.w < 1.5f) {
            // A rounded box turning about the vertical axis.
            float rx = r.x * qx + r.y * qz;
            float rz = r.x * qz - r.y * qx;
            float dx = fabs(rx) - b.x;
            float dy = fabs(qy) - b.y;
            float dz = fabs(rz) - b.z;
            float ox = fmax(dx, 0.0f);
            float oy = fmax(dy, 0.0f);
            float oz = fmax(dz, 0.0f);
            float outside = SQRT(ox * ox + oy * oy + oz * oz);
            float inside = fmin(fmax(dx, fmax(dy, dz)), 0.0f);
            di = outside + inside - b.w;
        } else {
            // A torus tumbling about the z axis.
            float rx = r.x * qx + r.y * qy;
            float ry = r.x * qy - r.y * qx;
            float ring = SQRT(rx * rx + qz * qz) - b.x;
            di = SQRT(ring * ring + ry * ry) - b.y;
        }
        if (di < d) {
            d = di;
            nearest = i;
        }
    }
    *id = nearest;
    return d;
}

static float3 at(float3 origin, float3 direction, float t) { return origin + direction * t; }

static float softShadow(float3 origin, float3 direction, __constant float4 *scene, int count, uint *evaluations) {
    float result = 1.0f;
    float t = 0.02f;
    int id;
    for (int i = 0; i < SHADOW_STEPS; i++) {
        float h = map(at(origin, direction, t), scene, count, &id);
        *evaluations += 1;
        result = fmin(result, 8.0f * h / t);
        t += fmin(fmax(h, 0.02f), 0.4f);
        if (result < 0.002f || t > 16.0f) break;
    }
    return clamp01(result);
}

static float occlusion(float3 p, float3 n, __constant float4 *scene, int count, uint *evaluations) {
    float occ = 0.0f;
    float scale = 1.0f;
    int id;
    for (int i = 0; i < AO_STEPS; i++) {
        float h = 0.01f + 0.03f * (float)i;
        float d = map(at(p, n, h), scene, count, &id);
        *evaluations += 1;
        occ += (h - d) * scale;
        scale *= 0.95f;
    }
    return clamp01(1.0f - 3.0f * occ);
}

static float3 sky(float3 rd, float3 sun) {
    float y = fmax(rd.y, 0.0f);
    float3 col = (float3)(0.62f, 0.78f, 0.98f) - (float3)(0.45f, 0.40f, 0.25f) * y;
    float h = 1.0f - y;
    float h2 = h * h;
    float h4 = h2 * h2;
    col = col + (float3)(0.20f, 0.16f, 0.10f) * h4;
    float s = fmax(dot3(rd, sun), 0.0f);
    float s2 = s * s;
    float s4 = s2 * s2;
    float s8 = s4 * s4;
    float s16 = s8 * s8;
    float s32 = s16 * s16;
    float s64 = s32 * s32;
    float s128 = s64 * s64;
    float s256 = s128 * s128;
    float glow = 0.25f * s8 + 2.0f * s256;
    return col + (float3)(1.0f, 0.80f, 0.55f) * glow;
}

static float3 radiance(float3 ro, float3 rd, __constant float4 *scene, int count, uint *evaluations) {
    float3 sun = scene[4].xyz;
    float t = 0.0f;
    int id = -1;
    for (int i = 0; i < MARCH_STEPS; i++) {
        float d = map(at(ro, rd, t), scene, count, &id);
        *evaluations += 1;
        if (d < 0.0005f * t || d < 0.0001f) break;
        t += d;
        if (t > FAR) break;
    }
    if (t > FAR) return sky(rd, sun);

    float3 p = at(ro, rd, t);
    // The normal from four evaluations at the corners of a tetrahedron.
    const float e = 0.001f;
    int unused;
    float d0 = map(p + (float3)(e, -e, -e), scene, count, &unused);
    float d1 = map(p + (float3)(-e, -e, e), scene, count, &unused);
    float d2 = map(p + (float3)(-e, e, -e), scene, count, &unused);
    float d3 = map(p + (float3)(e, e, e), scene, count, &unused);
    *evaluations += 4;
    float3 n = unit3((float3)(d0 - d1 - d2 + d3, -d0 - d1 + d2 + d3, -d0 + d1 - d2 + d3));

    float3 albedo;
    if (id < 0) {
        float fx = floor(p.x);
        float fz = floor(p.z);
        albedo = (((int)(fx + fz)) & 1) != 0 ? (float3)(0.55f, 0.52f, 0.48f) : (float3)(0.26f, 0.25f, 0.24f);
    } else {
        albedo = scene[8 + 4 * id].xyz;
    }

    float dif = clamp01(dot3(n, sun));
    float sha = 0.0f;
    if (dif > 0.0f) sha = softShadow(p + n * 0.01f, sun, scene, count, evaluations);
    float occ = occlusion(p, n, scene, count, evaluations);
    float3 halfway = unit3(sun - rd);
    float c1 = clamp01(dot3(n, halfway));
    float c2 = c1 * c1;
    float c4 = c2 * c2;
    float c8 = c4 * c4;
    float c16 = c8 * c8;
    float c32 = c16 * c16;
    float spe = c32 * dif * sha;
    float amb = 0.5f + 0.5f * n.y;

    float3 light = (float3)(1.30f, 1.10f, 0.85f) * (1.6f * dif * sha) + (float3)(0.35f, 0.45f, 0.60f) * (amb * occ);
    float3 col = albedo * light + (float3)(1.0f, 0.95f, 0.85f) * (0.6f * spe);
    float t2 = t * t;
    float fog = t2 / (t2 + 1600.0f);
    return col * (1.0f - fog) + (float3)(0.62f, 0.74f, 0.90f) * fog;
}

// The same integer hash as `RenderScene.hash` in Swift (lowbias32 by Chris Wellons).
static uint hash3(uint x, uint y, uint s) {
    uint h = x * 1973u + y * 9277u + s * 26699u + 0x9E3779B9u;
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return h;
}

// One work-item per pixel. `evaluations[i]` counts SDF evaluations; with `accumulate` set the
// count adds to the previous frames' so the host reads the counters back rarely.
kernel void render(
    global uchar4 *frame, global uint *evaluations, __constant float4 *scene, int width, int height, int spp,
    int accumulate)
{
    int x = get_global_id(0);
    int y = get_global_id(1);
    if (x >= width || y >= height) return;
    int count = (int)scene[0].w;
    float3 ro = scene[0].xyz;
    float3 forward = scene[1].xyz;
    float3 right = scene[2].xyz;
    float3 up = scene[3].xyz;
    float w = (float)width;
    float hgt = (float)height;

    uint evals = 0;
    float3 sum = (float3)(0.0f, 0.0f, 0.0f);
    for (int s = 0; s < spp; s++) {
        float ox = 0.5f;
        float oy = 0.5f;
        if (spp > 1) {
            uint h = hash3((uint)x, (uint)y, (uint)s);
            ox = (float)(h & 0xFFFFu) * (1.0f / 65536.0f);
            oy = (float)(h >> 16) * (1.0f / 65536.0f);
        }
        float u = (2.0f * ((float)x + ox) - w) / hgt;
        float v = (hgt - 2.0f * ((float)y + oy)) / hgt;
        float3 rd = unit3(forward + right * u + up * v);
        sum = sum + radiance(ro, rd, scene, count, &evals);
    }
    float3 col = sum * (1.0f / (float)spp);
    float r = SQRT(clamp01(col.x));
    float g = SQRT(clamp01(col.y));
    float b = SQRT(clamp01(col.z));
    int index = y * width + x;
    frame[index] = (uchar4)((uchar)(uint)(r * 255.0f + 0.5f), (uchar)(uint)(g * 255.0f + 0.5f),
                            (uchar)(uint)(b * 255.0f + 0.5f), (uchar)255);
    evaluations[index] = (accumulate != 0 ? evaluations[index] : 0u) + evals;
}
