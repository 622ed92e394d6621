// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// An int from new deleted twice.
#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  int* p = keep(new int(7));
  delete p;
  delete p;
  return allocbench::misuse::not_detected("double_free_delete");
}
