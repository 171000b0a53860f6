// zlib (Debian's zlib1g-dev): the deflate streams of the PNG frames render-frames writes.
#ifndef CAPSIZE_CZLIB_SHIM_H
#define CAPSIZE_CZLIB_SHIM_H
#include <zlib.h>
#endif
