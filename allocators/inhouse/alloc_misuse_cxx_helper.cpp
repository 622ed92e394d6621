// Child program of inhouse_misuse_test for the C++ operators: run with
// LD_PRELOAD=liballoc_debug.so, it performs one misuse named by argv[1]. Each
// must end in abort() with a message; "ok" (matched pairs, sized and aligned
// forms) must exit 0. Exit 3 means the misuse went undetected. The operators
// are called as functions through volatile pointers, so the compiler cannot
// pair and elide them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

namespace {

void* volatile g_sink;

void* keep(void* p) {
  g_sink = p;
  return g_sink;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* what = argv[1];
  if (strcmp(what, "ok") == 0) {
    void* a = keep(::operator new(100));
    ::operator delete(a);
    void* b = keep(::operator new[](100));
    ::operator delete[](b);
    void* c = keep(::operator new(64));
    ::operator delete(c, 64);
    void* d = keep(::operator new[](48));
    ::operator delete[](d, 48);
    void* e = keep(::operator new(256, std::align_val_t(128)));
    ::operator delete(e, 256, std::align_val_t(128));
    void* f = keep(malloc(10));
    free(f);
    int* v = new int[10];
    keep(v);
    delete[] v;
    return 0;
  }
  if (strcmp(what, "new_array_delete") == 0) {
    ::operator delete(keep(::operator new[](40)));
  } else if (strcmp(what, "new_delete_array") == 0) {
    ::operator delete[](keep(::operator new(40)));
  } else if (strcmp(what, "malloc_delete") == 0) {
    ::operator delete(keep(malloc(40)));
  } else if (strcmp(what, "new_free") == 0) {
    free(keep(::operator new(40)));
  } else if (strcmp(what, "sized_delete_wrong_size") == 0) {
    ::operator delete(keep(::operator new(64)), 32);
  } else if (strcmp(what, "sized_delete_array_wrong_size") == 0) {
    ::operator delete[](keep(::operator new[](64)), 65);
  } else {
    return 2;
  }
  fprintf(stderr, "misuse not detected: %s\n", what);
  return 3;
}
