// liballoc as one translation unit, as mimalloc's static.c: the fast paths
// of internal.h inline into malloc and free, and the compiler sees every
// internal call. The files below are not compiled on their own.
//
// Compiled twice: into alloc_api (alloc_* only) and, with ALLOC_INTERPOSE
// defined, into alloc_static / alloc_shared, which also define the malloc
// family (alloc_interpose.inc, included by init.cpp).
#include "allocators/inhouse/os.cpp"
#include "allocators/inhouse/stats.cpp"
#include "allocators/inhouse/segment.cpp"
#include "allocators/inhouse/page.cpp"
#include "allocators/inhouse/heap.cpp"
#include "allocators/inhouse/debug.cpp"
#include "allocators/inhouse/alloc.cpp"
#include "allocators/inhouse/init.cpp"
