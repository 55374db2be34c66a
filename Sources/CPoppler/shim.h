#ifndef THUGATE_CPOPPLER_SHIM_H
#define THUGATE_CPOPPLER_SHIM_H
#include <poppler.h>
#endif
