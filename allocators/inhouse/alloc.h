/* liballoc: the in-house general-purpose malloc (issue 4).
 *
 * The alloc_* functions below work without interposing anything: link
 * `alloc_api` (no malloc replacement) or `alloc_static` / `alloc_shared`
 * (which additionally define malloc, free, operator new, ...).
 *
 * Semantics follow glibc's malloc family (see docs/inhouse_malloc.md):
 * every pointer is aligned to alignof(max_align_t) (16); alloc_malloc(0)
 * returns a unique freeable pointer; alloc_realloc(p, 0) frees p and returns
 * NULL; sizes above PTRDIFF_MAX and overflowing alloc_calloc products return
 * NULL with errno = ENOMEM; alloc_free preserves errno.
 *
 * Thread-safe: every function may be called from any thread; a block may be
 * freed by a thread other than the one that allocated it.
 */
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ALLOC_API __attribute__((visibility("default")))
#else
#define ALLOC_API
#endif

/* Core C API (the seed's names). */
ALLOC_API void* alloc_malloc(size_t size);
ALLOC_API void alloc_free(void* p);
ALLOC_API void* alloc_calloc(size_t count, size_t size);
ALLOC_API void* alloc_realloc(void* p, size_t size);

/* Aligned allocation: `alignment` must be a power of two; any such alignment
 * is honoured (those of 4 MiB and more are mapped directly, and fail with
 * errno = ENOMEM when the address space cannot be found). A non-power-of-two
 * alignment returns NULL with errno = EINVAL. */
ALLOC_API void* alloc_aligned(size_t alignment, size_t size);

/* Bytes usable at `p` (at least the requested size; stable until p is freed
 * or reallocated). 0 for NULL. In debug mode: exactly the requested size. */
ALLOC_API size_t alloc_usable_size(const void* p);

/* Gives the calling thread's empty cached pages back to the OS, and collects
 * every heap of an exited thread (or, after fork, of a thread that does not
 * exist in the child). Returns 1 if anything was released. (malloc_trim maps
 * here.) */
ALLOC_API int alloc_trim(void);

/* Process-wide statistics. Counters are summed over every thread heap with
 * relaxed loads, so a snapshot taken while other threads allocate is
 * approximate (each counter is exact once they are quiet). */
typedef struct alloc_stats_t {
  uint64_t allocations;     /* successful allocations (realloc that moves counts one) */
  uint64_t frees;           /* blocks freed */
  uint64_t bytes_in_use;    /* usable bytes of live blocks */
  uint64_t bytes_mapped;    /* address space mapped from the OS (segments + huge blocks) */
  uint64_t bytes_active;    /* bytes of pages/spans/huge blocks holding live blocks or free cells */
  uint64_t bytes_purged;    /* total bytes given back with decommit (cumulative) */
  uint64_t segments;        /* 4 MiB segments currently mapped (in use or cached) */
  uint64_t huge_blocks;     /* live blocks above 2 MiB (mapped directly) */
  uint64_t heaps;           /* thread heaps ever created */
  uint64_t heaps_abandoned; /* heaps of exited threads waiting for adoption */
  double fragmentation;     /* 1 - bytes_in_use / bytes_active, in [0, 1] */
} alloc_stats_t;

ALLOC_API void alloc_get_stats(alloc_stats_t* out);

/* What the allocator really holds, read from its own structures rather than
 * from call counters: every heap's page queues and cross-thread lists, and
 * the segments and mappings behind them. For leak checks and tools. Walks
 * other threads' heaps without their owners' cooperation, so call it only
 * while no other thread allocates or frees (after joining them); the
 * result is exact then. */
typedef struct alloc_census_t {
  uint64_t heaps_active;        /* heaps owned by a running thread */
  uint64_t heaps_abandoned;     /* heaps waiting for adoption or reclamation */
  uint64_t segments;            /* 4 MiB segments mapped (owned by a heap or cached) */
  uint64_t segments_owned;      /* segments owned by some heap */
  uint64_t segments_cached;     /* empty segments in the global cache */
  uint64_t spans;               /* spans in use: class pages plus large blocks */
  uint64_t pages_queued;        /* class pages on a class queue (have or may get free blocks) */
  uint64_t pages_full;          /* class pages on a heap's full queue */
  uint64_t large_spans;         /* live large blocks (64 KiB - 2 MiB) */
  uint64_t blocks_live;         /* blocks handed out and not yet back on a page (includes
                                   blocks on cross-thread lists) */
  uint64_t blocks_remote;       /* blocks on pages' cross-thread free lists */
  uint64_t blocks_delayed;      /* blocks on heaps' delayed-free lists */
  uint64_t huge_live;           /* live huge blocks (above 2 MiB, or aligned to 4 MiB+) */
  uint64_t huge_cached;         /* freed huge mappings kept for reuse */
  uint64_t bytes_active;        /* bytes of spans in use plus live huge mappings */
  uint64_t bytes_dirty_free;    /* free slots of owned segments that may be resident */
  uint64_t bytes_mapped;        /* address space mapped from the OS */
  uint64_t blocks_cached;       /* other heaps' blocks a thread freed and keeps in its
                                   remote-free cache (counted in blocks_live) */
} alloc_census_t;

ALLOC_API void alloc_census(alloc_census_t* out);

/* Writes the statistics as text to file descriptor `fd` with write(2); does
 * not allocate. The first line names the process: "alloc stats (liballoc)
 * pid PID exe PATH". ALLOC_STATS=1 in the environment calls this on stderr
 * at process exit. */
ALLOC_API void alloc_print_stats(int fd);

/* Debug mode only (0 at once otherwise): checks every block liballoc holds,
 * in every thread's heap: the header and canary of each live block, the
 * poison of each free or quarantined block. Each problem is reported on
 * stderr like any misuse, and aborts unless ALLOC_DEBUG_ABORT=0; returns the
 * number reported. Safe while other threads run: their allocations and
 * frees wait for the check (which may take milliseconds). */
ALLOC_API int alloc_check_heap(void);

/* 1 if debug checks are active (ALLOC_DEBUG build or ALLOC_DEBUG=1 in the
 * environment at start-up), else 0. */
ALLOC_API int alloc_debug_enabled(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_H_ */
