#ifndef THUGATE_CCLAMAV_SHIM_H
#define THUGATE_CCLAMAV_SHIM_H
#include <clamav.h>

/// CL_DB_STDOPT is an OR of macros, which Swift does not import.
static inline unsigned int CClamAV_dbOptions(void) {
    return CL_DB_PHISHING | CL_DB_PHISHING_URLS | CL_DB_BYTECODE;
}
#endif
