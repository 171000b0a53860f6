// OpenBLAS's C interface as function types (Compute loads the library with dlopen and looks these up by name),
// and CPUID/XGETBV for choosing OpenBLAS's kernels from the CPU's features.
#ifndef CAPSIZE_COPENBLAS_SHIM_H
#define CAPSIZE_COPENBLAS_SHIM_H

/// CBLAS's enum values, fixed by the CBLAS standard (cblas.h: CblasRowMajor, CblasNoTrans, CblasTrans).
enum { capsize_cblas_row_major = 101, capsize_cblas_no_trans = 111, capsize_cblas_trans = 112 };

/// `cblas_sgemm` as built by Debian (32-bit `blasint`, not ILP64).
typedef void (*capsize_cblas_sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha,
                                       const float *a, int lda, const float *b, int ldb, float beta, float *c,
                                       int ldc);
/// `openblas_get_config`, `openblas_get_corename`.
typedef char *(*capsize_openblas_string_fn)(void);
/// `openblas_get_num_threads`.
typedef int (*capsize_openblas_get_int_fn)(void);
/// `openblas_set_num_threads`.
typedef void (*capsize_openblas_set_int_fn)(int);

/// The CPUID and XGETBV words capsize reads to choose OpenBLAS's kernels (all zero off x86).
struct capsize_cpu_words {
    unsigned vendor[3];    ///< leaf 0: EBX, EDX, ECX (the 12-byte vendor string)
    unsigned leaf1_ecx;    ///< leaf 1 ECX: sse3 (0), ssse3 (9), fma (12), sse4_2 (20), osxsave (27), avx (28)
    unsigned leaf7_ebx;    ///< leaf 7.0 EBX: avx2 (5), avx512f (16), avx512dq (17), avx512cd (28), avx512bw (30), avx512vl (31)
    unsigned leaf7_1_eax;  ///< leaf 7.1 EAX: avx_vnni (4), avx512_bf16 (5)
    unsigned long long xcr0; ///< XGETBV(0), only when the OS set OSXSAVE: which register state the OS saves
};

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// Reads the words above with CPUID and XGETBV.
static inline void capsize_read_cpu_words(struct capsize_cpu_words *words) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    *words = (struct capsize_cpu_words){{0, 0, 0}, 0, 0, 0, 0};
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf == 0) return;
    __cpuid(0, a, b, c, d);
    words->vendor[0] = b;
    words->vendor[1] = d;
    words->vendor[2] = c;
    __cpuid(1, a, b, c, d);
    words->leaf1_ecx = c;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        words->leaf7_ebx = b;
        unsigned subleaves = a;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            words->leaf7_1_eax = a;
        }
    }
    if (words->leaf1_ecx & (1u << 27)) {  // OSXSAVE: XGETBV is allowed
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        words->xcr0 = ((unsigned long long)hi << 32) | lo;
    }
}
#else
static inline void capsize_read_cpu_words(struct capsize_cpu_words *words) {
    *words = (struct capsize_cpu_words){{0, 0, 0}, 0, 0, 0, 0};
}
#endif

#endif
