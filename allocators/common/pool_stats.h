/* Statistics and options shared by the multi-size pools (pool_tls,
   pool_sharded, pool_lockfree). C-compatible. Every statistics field is a
   snapshot taken without stopping other threads. */
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_POOL_STATS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_POOL_STATS_H_

#include <stddef.h>
#include <stdint.h>

typedef struct pool_family_stats {
  size_t allocated_blocks;       /* Blocks handed out and not freed (size-class and fallback). */
  size_t allocated_bytes;        /* Their sizes: class size of each class block, usable bytes of
                                    each fallback block. */
  size_t cached_blocks;          /* Free class blocks private to a thread (thread caches,
                                    owner-local lists). */
  size_t shared_free_blocks;     /* Free class blocks any thread can take (central lists,
                                    shards, remote-free lists). */
  size_t mapped_bytes;           /* Bytes mapped from the OS now (segments and fallback blocks). */
  size_t fallback_live_blocks;   /* Live blocks of the fallback path (> 256 KiB). */
  uint64_t fallback_allocations; /* Fallback allocations ever made. */
  size_t fallback_cached_bytes;  /* Freed fallback blocks kept mapped for reuse (counted in
                                    mapped_bytes; bounded by the pool's large_cache_bytes). */
} pool_family_stats_t;

/* Options of pool_tls_create_ex and pool_lockfree_create_ex (pool_sharded's
   add a shard count). */
typedef struct pool_family_options {
  size_t max_bytes;         /* Most bytes mapped at once (0: unlimited). Exhaustion returns NULL. */
  size_t large_cache_bytes; /* Most bytes of freed fallback blocks kept for reuse (0: 256 MiB;
                               a value below 256 KiB keeps none). */
} pool_family_options_t;

/* The C API every multi-size pool has, for `P_t` (struct P) and options
   `P_options_t`: POOL_FAMILY_C_API(pool_tls) declares
     P_t* P_create(void);
     P_t* P_create_ex(const P_options_t* options);    NULL options: defaults
     void* P_alloc(P_t* pool, size_t size);            16-aligned, 0 allowed; NULL when out of memory
     void* P_alloc_aligned(P_t* pool, size_t size, size_t alignment);  power of two up to 2 MiB
     void P_free(P_t* pool, void* ptr);                from any thread; NULL ignored
     size_t P_usable_size(P_t* pool, const void* ptr);
     size_t P_trim(P_t* pool);                         unmaps cached fallback blocks; bytes given back
     void P_destroy(P_t* pool);
     int P_stats(P_t* pool, pool_family_stats_t* out);
   Use inside extern "C". */
#define POOL_FAMILY_C_API(P)                                            \
  typedef struct P P##_t;                                               \
  P##_t* P##_create(void);                                              \
  P##_t* P##_create_ex(const P##_options_t* options);                   \
  void* P##_alloc(P##_t* pool, size_t size);                            \
  void* P##_alloc_aligned(P##_t* pool, size_t size, size_t alignment);  \
  void P##_free(P##_t* pool, void* ptr);                                \
  size_t P##_usable_size(P##_t* pool, const void* ptr);                 \
  size_t P##_trim(P##_t* pool);                                         \
  void P##_destroy(P##_t* pool);                                        \
  int P##_stats(P##_t* pool, pool_family_stats_t* out);

#endif /* ALLOCBENCH_ALLOCATORS_COMMON_POOL_STATS_H_ */
