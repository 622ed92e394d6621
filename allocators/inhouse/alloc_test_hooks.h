// Test-only hooks of liballoc. They exist only in the alloc_api_hooks test
// library (compiled with ALLOC_TEST_HOOKS); liballoc.so, liballoc.a and
// alloc_api have none. A hook runs on the calling thread at a fixed point of
// an operation, so a test can stall that thread there and force one exact
// interleaving with the owner of the memory.
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_TEST_HOOKS_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_TEST_HOOKS_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef struct alloc_test_hooks_t {
  /* free of another heap's block on an armed page (a full page or a large
   * span): runs after this thread claimed the owner's notification and
   * before the block is visible to the owner. Argument: the block. */
  void (*remote_claimed)(void* block);
  /* an allocation or free counted on the process-wide atomic counters
   * (g_other_*), because the calling thread has no heap of its own: two
   * locked adds on shared cache lines. Argument: nullptr. */
  void (*shared_count)(void* block);
} alloc_test_hooks_t;

/* Set by tests before the threads they hook start; read with no lock. */
extern alloc_test_hooks_t alloc_test_hooks;

#ifdef __cplusplus
}
#endif

#endif  // ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_TEST_HOOKS_H_
