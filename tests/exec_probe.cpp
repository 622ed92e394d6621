// exec_probe: a small real program for the `allocbench exec` tests
// (tests/exec_test.cpp). It writes the path of the file that defines malloc
// in it to stderr (so a test can see which allocator it ran on) and, unless
// told otherwise, prints one fixed line on stdout.
//
//   exec_probe alloc MIB        holds MIB MiB at once (64 KiB blocks, every page
//                               written), frees them, prints "exec_probe done"
//   exec_probe crash-under NAME as `alloc 8`, but raises SIGSEGV first when
//                               malloc's file has NAME in its path
//   exec_probe sleep MS         holds 8 MiB for MS milliseconds, then as `alloc 8`
//   exec_probe hang             sleeps forever
//   exec_probe differ           prints malloc's file on stdout (differs per allocator)
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

const char* malloc_file() {
  Dl_info info;
  void* sym = dlsym(RTLD_DEFAULT, "malloc");
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

// Allocates `mib` MiB in 64 KiB blocks, writing every page, and returns them.
std::vector<char*> hold(long mib) {
  std::vector<char*> blocks;
  for (long i = 0; i < mib * 16; ++i) {
    char* p = static_cast<char*>(std::malloc(64 << 10));
    if (p == nullptr) std::exit(3);
    for (size_t off = 0; off < (64u << 10); off += 4096) p[off] = static_cast<char>(i);
    blocks.push_back(p);
  }
  return blocks;
}

int alloc_and_print(long mib) {
  for (char* p : hold(mib)) std::free(p);
  std::printf("exec_probe done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "malloc from %s\n", malloc_file());
  const char* mode = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : "";
  if (std::strcmp(mode, "alloc") == 0) return alloc_and_print(std::atol(arg));
  if (std::strcmp(mode, "crash-under") == 0) {
    if (std::strstr(malloc_file(), arg) != nullptr) raise(SIGSEGV);
    return alloc_and_print(8);
  }
  if (std::strcmp(mode, "sleep") == 0) {
    std::vector<char*> held = hold(8);
    usleep(static_cast<useconds_t>(std::atol(arg) * 1000));
    for (char* p : held) std::free(p);
    return alloc_and_print(8);
  }
  if (std::strcmp(mode, "hang") == 0) {
    for (;;) pause();
  }
  if (std::strcmp(mode, "differ") == 0) {
    std::printf("%s\n", malloc_file());
    return 0;
  }
  std::fprintf(stderr,
               "usage: exec_probe alloc MIB | crash-under NAME | sleep MS | hang | differ\n");
  return 2;
}
