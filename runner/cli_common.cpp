#include "runner/cli_common.h"

#include <cstdio>

namespace allocbench {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "allocbench: %s\n", msg.c_str());
  std::fprintf(stderr, "Try 'allocbench --help'.\n");
  return kExitUsage;
}

int io_error(const std::string& msg) {
  std::fprintf(stderr, "allocbench: %s\n", msg.c_str());
  return kExitIo;
}

}  // namespace allocbench
