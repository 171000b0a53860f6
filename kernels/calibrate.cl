// Calibration kernels: FP32 FMA peak, global-memory bandwidth and launch latency.
// Used by Sources/Compute/Calibration/DeviceCalibrator.swift, which counts the work they do:
// an fma is 2 FLOPs per lane; a copy moves its bytes twice (one read, one write).

// FMA peak. Each work-item runs 16 independent fma chains for `iterations` rounds, so the
// FMA units never wait on one result (latency 4-6 cycles, 2 units per core on a CPU; many
// warps hide it on a GPU). `multiplier` and `addend` are kernel arguments, so the compiler
// cannot fold the chains; with multiplier just below 1 the values stay finite. The result
// is stored so the chains are not dead code.
//
// Variants: `float` suits GPUs (one lane per work-item, the hardware packs work-items);
// PoCL on a CPU vectorises best when a work-item already holds a whole SIMD register,
// hence float8 (AVX2) and float16 (AVX-512). The host runs each and keeps the fastest.
#define FMA16(T)                                                                                      \
    x0 = fma(x0, m, c); x1 = fma(x1, m, c); x2 = fma(x2, m, c); x3 = fma(x3, m, c);                   \
    x4 = fma(x4, m, c); x5 = fma(x5, m, c); x6 = fma(x6, m, c); x7 = fma(x7, m, c);                   \
    x8 = fma(x8, m, c); x9 = fma(x9, m, c); x10 = fma(x10, m, c); x11 = fma(x11, m, c);               \
    x12 = fma(x12, m, c); x13 = fma(x13, m, c); x14 = fma(x14, m, c); x15 = fma(x15, m, c);

#define FMA_PEAK_KERNEL(NAME, T)                                                                      \
    kernel void NAME(global T *out, const int iterations, const float multiplier, const float addend) { \
        const size_t id = get_global_id(0);                                                           \
        const T m = (T)(multiplier);                                                                  \
        const T c = (T)(addend);                                                                      \
        const T base = (T)((float)(id & 1023) * 1.0e-3f);                                             \
        T x0 = base + (T)(0.0f), x1 = base + (T)(0.1f), x2 = base + (T)(0.2f), x3 = base + (T)(0.3f); \
        T x4 = base + (T)(0.4f), x5 = base + (T)(0.5f), x6 = base + (T)(0.6f), x7 = base + (T)(0.7f); \
        T x8 = base + (T)(0.8f), x9 = base + (T)(0.9f), x10 = base + (T)(1.0f), x11 = base + (T)(1.1f); \
        T x12 = base + (T)(1.2f), x13 = base + (T)(1.3f), x14 = base + (T)(1.4f), x15 = base + (T)(1.5f); \
        for (int i = 0; i < iterations; ++i) {                                                        \
            FMA16(T)                                                                                  \
        }                                                                                             \
        out[id] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7))                                   \
                + ((x8 + x9) + (x10 + x11)) + ((x12 + x13) + (x14 + x15));                            \
    }

FMA_PEAK_KERNEL(fma_peak_float, float)
FMA_PEAK_KERNEL(fma_peak_float4, float4)
FMA_PEAK_KERNEL(fma_peak_float8, float8)
FMA_PEAK_KERNEL(fma_peak_float16, float16)

// Global-memory bandwidth: one float4 read and one float4 write per work-item.
kernel void copy_float4(global const float4 *restrict source, global float4 *restrict destination) {
    const size_t id = get_global_id(0);
    destination[id] = source[id];
}

// Launch latency: a kernel that does nothing.
kernel void empty(void) {}
