// Small parsing helpers shared by the CLI and the cell process.
#ifndef ALLOCBENCH_RUNNER_CLI_UTIL_H_
#define ALLOCBENCH_RUNNER_CLI_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace allocbench {

// Strict decimal parsing: digits only, no sign, no overflow.
bool parse_u64(const std::string& s, uint64_t* out);
bool parse_u32(const std::string& s, uint32_t* out);

// A non-negative decimal number of seconds ("0.05", "2", "1e-3" is refused),
// at most one day.
bool parse_seconds(const std::string& s, double* out);

// Splits "a,b,c" (empty items dropped).
std::vector<std::string> split(const std::string& s, char sep);

// "a,b,c" from a list.
std::string join(const std::vector<std::string>& v, const char* sep);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CLI_UTIL_H_
