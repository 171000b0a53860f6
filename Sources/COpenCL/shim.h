#ifndef CAPSIZE_COPENCL_SHIM_H
#define CAPSIZE_COPENCL_SHIM_H
// OpenCL 1.2 entry points run on every driver we target (PoCL, NVIDIA, AMD, Intel).
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <clblast_c.h>
#endif
