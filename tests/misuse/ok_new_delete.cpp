// expect-exit: 0
// Control, must not be reported: every matching pair of operator new and
// delete (plain, array, sized, aligned, nothrow), new-expressions of classes
// with virtual destructors, and standard containers.
#include <stdlib.h>

#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

struct Base {
  virtual ~Base() = default;
  int a = 0;
};
struct Derived : Base {
  char pad[60] = {};
};
struct alignas(64) Wide {
  char bytes[100];
};

}  // namespace

int main() {
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{64}, size_t{1000}, size_t{100000}, size_t{3} << 20}) {
    ::operator delete(keep(::operator new(n)));
    ::operator delete[](keep(::operator new[](n)));
    ::operator delete(keep(::operator new(n)), n);
    ::operator delete[](keep(::operator new[](n)), n);
    ::operator delete(keep(::operator new(n, std::nothrow)), std::nothrow);
    ::operator delete[](keep(::operator new[](n, std::nothrow)), std::nothrow);
    for (size_t align : {size_t{32}, size_t{128}, size_t{4096}, size_t{4} << 20}) {
      std::align_val_t al{align};
      ::operator delete(keep(::operator new(n, al)), al);
      ::operator delete[](keep(::operator new[](n, al)), al);
      ::operator delete(keep(::operator new(n, al)), n, al);
      ::operator delete[](keep(::operator new[](n, al)), n, al);
    }
  }
  Base* b = keep<Base>(new Derived());
  delete b;
  int* one = keep(new int(1));
  delete one;
  int* many = keep(new int[10]());
  delete[] many;
  Wide* w = keep(new Wide());
  delete w;
  Wide* ws = keep(new Wide[3]);
  delete[] ws;
  auto u = std::make_unique<Derived>();
  keep(u.get());
  std::vector<std::string> v;
  std::map<int, std::string> m;
  for (int i = 0; i < 2000; ++i) {
    v.push_back(std::string(static_cast<size_t>(i % 300), 'x'));
    m[i] = v.back();
  }
  void* f = keep(malloc(10));
  free(f);
  return v.size() == m.size() ? 0 : 10;
}
