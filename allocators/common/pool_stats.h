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

#endif /* ALLOCBENCH_ALLOCATORS_COMMON_POOL_STATS_H_ */
