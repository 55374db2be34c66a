#ifndef THUGATE_CLZMA_SHIM_H
#define THUGATE_CLZMA_SHIM_H
#include <lzma.h>

/// LZMA_STREAM_INIT is a macro initialiser, which Swift does not import.
static inline lzma_stream CLZMA_streamInit(void) {
    lzma_stream s = LZMA_STREAM_INIT;
    return s;
}
#endif
