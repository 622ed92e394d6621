// allocbench_exec: runs a command and reports its wall time and peak RSS.
//
//   allocbench_exec OUTFILE -- PROGRAM [ARGS...]
//
// Writes "wall_s=<seconds> cpu_s=<user + system seconds> peak_rss_bytes=<bytes>
// exit=<code>" to OUTFILE (cpu_s: the program and its waited-for children). A
// small process of its own, so the child's peak RSS (which Linux carries
// across exec) is the program's, not that of a large parent such as Python.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "allocators/common/platform.h"

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: allocbench_exec OUTFILE -- PROGRAM [ARGS...]\n");
    return 2;
  }
  uint64_t t0 = allocbench::platform::now_ns();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    execvp(argv[3], argv + 3);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) return 1;
  double wall = static_cast<double>(allocbench::platform::now_ns() - t0) / 1e9;
  FILE* f = std::fopen(argv[1], "w");
  if (f == nullptr) return 1;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::fprintf(f, "wall_s=%.6f cpu_s=%.6f peak_rss_bytes=%ld exit=%d\n", wall, cpu,
               ru.ru_maxrss * 1024L, code);
  std::fclose(f);
  return code;
}
