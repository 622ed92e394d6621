// The unit g++ compiles for gxx_cc1plus.trace (make_traces.sh).
#include <map>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> index_words(const std::vector<std::string>& words) {
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < static_cast<int>(words.size()); ++i) m[words[i]].push_back(i);
  return m;
}
