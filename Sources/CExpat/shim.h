#ifndef THUGATE_CEXPAT_SHIM_H
#define THUGATE_CEXPAT_SHIM_H
/* Debian's libexpat is built with DTD support: declare its billion-laughs guard settings. */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>
#endif
