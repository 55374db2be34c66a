#ifndef THUGATE_CZLIB_SHIM_H
#define THUGATE_CZLIB_SHIM_H
#include <zlib.h>
#endif
