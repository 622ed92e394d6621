// A shared library whose constructor allocates, for inhouse_preload_test.
// A program linked with it runs this constructor before the constructors of
// an LD_PRELOADed liballoc.so (glib's does the same in every GTK or perf
// process): liballoc's malloc must then work with nothing of its own start-up
// done yet. The probe program prints what the constructor computed.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

uint64_t g_early_sum = 0;
int g_early_failures = 0;

// Every size class up to 2 KiB, a large block, calloc, realloc growth and an
// aligned block; the sum of bytes read back is deterministic.
__attribute__((constructor)) void allocate_before_main() {
  void* blocks[128];
  for (int i = 0; i < 128; ++i) {
    size_t n = static_cast<size_t>(i) * 16 + 1;
    blocks[i] = malloc(n);
    if (blocks[i] == nullptr) {
      ++g_early_failures;
      continue;
    }
    memset(blocks[i], i, n);
  }
  for (int i = 0; i < 128; ++i) {
    if (blocks[i] != nullptr) g_early_sum += static_cast<unsigned char*>(blocks[i])[0];
    free(blocks[i]);
  }
  auto* z = static_cast<unsigned char*>(calloc(1000, 3));
  if (z == nullptr) ++g_early_failures;
  for (int i = 0; z != nullptr && i < 3000; ++i) g_early_sum += z[i];  // zeros
  free(z);
  char* r = static_cast<char*>(malloc(8));
  for (size_t n = 16; r != nullptr && n <= (size_t{1} << 20); n *= 2) {
    r[n / 2 - 1] = 'x';
    char* grown = static_cast<char*>(realloc(r, n));
    if (grown == nullptr) break;
    r = grown;
  }
  if (r == nullptr) ++g_early_failures;
  free(r);
  void* a = nullptr;
  if (posix_memalign(&a, 4096, 100000) != 0 || reinterpret_cast<uintptr_t>(a) % 4096 != 0) ++g_early_failures;
  free(a);
  void* big = malloc(size_t{300} << 10);
  if (big == nullptr) ++g_early_failures;
  free(big);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) uint64_t alloc_early_ctor_sum() { return g_early_sum; }
extern "C" __attribute__((visibility("default"))) int alloc_early_ctor_failures() { return g_early_failures; }
