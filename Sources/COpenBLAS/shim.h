#ifndef CAPSIZE_COPENBLAS_SHIM_H
#define CAPSIZE_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
