// expect-signal: ABRT
// expect-stderr: alloc: sized delete with a size other than the one allocated at pointer 0x
// A derived object deleted through a base pointer without a virtual destructor:
// the compiler passes the size of the base.
#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

struct Base {
  int a = 0;
};
struct Derived : Base {
  char pad[60] = {};
};

}  // namespace

int main() {
  Base* b = keep<Base>(new Derived());
  delete b;
  return allocbench::misuse::not_detected("sized_delete_base_without_virtual_dtor");
}
