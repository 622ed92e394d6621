// A small C++ program for inhouse_preload_test: containers, strings,
// threads handing blocks to each other, realloc growth and aligned blocks.
// Prints deterministic results on stdout (compared with and without
// LD_PRELOAD) and, on stderr, whether liballoc is the process's malloc.
//
// With `--spawn-unpreloaded PROGRAM ARGS...` it is instead the test's
// negative control: it starts PROGRAM as a child with LD_PRELOAD removed from
// the child's environment, prints "child pid N" on stdout and exits with the
// child's status. Run preloaded with ALLOC_STATS=1, the shared stderr then
// holds a liballoc report from this process but none from the child.
#include <dlfcn.h>
#include <malloc.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

extern char** environ;

namespace {

int spawn_unpreloaded(char** argv) {
  // One allocation of our own so that this process's report counts at least one.
  char* line = static_cast<char*>(malloc(64));
  if (line == nullptr) return 1;
  unsetenv("LD_PRELOAD");
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ);
  if (rc != 0) {
    fprintf(stderr, "posix_spawn %s: %s\n", argv[0], strerror(rc));
    free(line);
    return 1;
  }
  snprintf(line, 64, "child pid %ld\n", static_cast<long>(pid));
  fputs(line, stdout);
  fflush(stdout);
  free(line);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "--spawn-unpreloaded") == 0) return spawn_unpreloaded(argv + 2);
  fprintf(stderr, "liballoc active: %s\n",
          dlsym(RTLD_DEFAULT, "alloc_get_stats") != nullptr ? "yes" : "no");
  uint64_t sum = 0;
  std::map<int, std::string> m;
  for (int i = 0; i < 200000; ++i) m[i * 7 % 200003] = std::to_string(i) + "-value";
  for (auto& kv : m) sum += kv.second.size() + static_cast<uint64_t>(kv.first);
  m.clear();
  std::unordered_map<std::string, std::vector<int>> um;
  for (int i = 0; i < 50000; ++i)
    um["k" + std::to_string(i)].assign(static_cast<size_t>(i % 100), i);
  for (auto& kv : um) sum += kv.second.size();
  std::vector<std::thread> ts;
  std::mutex mu;
  std::vector<char*> shared;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      uint64_t local = 0;
      for (int i = 0; i < 100000; ++i) {
        size_t n = static_cast<size_t>((i * 131 + t) % 3000 + 1);
        char* p = static_cast<char*>(malloc(n));
        memset(p, t, n);
        std::lock_guard<std::mutex> lock(mu);
        shared.push_back(p);
        if (shared.size() > 64) {
          char* q = shared.front();
          shared.erase(shared.begin());
          local += static_cast<unsigned char>(q[0]);
          free(q);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      sum += local * 0;  // thread interleaving decides the order; keep output deterministic
    });
  }
  for (auto& th : ts) th.join();
  for (char* p : shared) free(p);
  char* r = nullptr;
  for (size_t n = 1; n < (size_t{8} << 20); n = n * 3 / 2 + 1) {
    r = static_cast<char*>(realloc(r, n));
    r[n - 1] = static_cast<char>(n);
    sum += static_cast<unsigned char>(r[n - 1]);
  }
  free(r);
  void* a = nullptr;
  if (posix_memalign(&a, 4096, 100000) != 0 || reinterpret_cast<uintptr_t>(a) % 4096 != 0) return 1;
  free(a);
  printf("checksum %llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
