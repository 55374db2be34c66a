#ifndef THUGATE_CMAGIC_SHIM_H
#define THUGATE_CMAGIC_SHIM_H
#include <magic.h>
#endif
