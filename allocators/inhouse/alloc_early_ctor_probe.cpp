// For inhouse_preload_test: a program linked with alloc_early_ctor_lib, whose
// constructor allocates before an LD_PRELOADed liballoc.so has initialized.
// Prints what that constructor computed; exits 1 if an allocation failed.
#include <stdint.h>
#include <stdio.h>

extern "C" uint64_t alloc_early_ctor_sum();
extern "C" int alloc_early_ctor_failures();

int main() {
  printf("early constructor: sum %llu failures %d\n", static_cast<unsigned long long>(alloc_early_ctor_sum()),
         alloc_early_ctor_failures());
  return alloc_early_ctor_failures() == 0 ? 0 : 1;
}
