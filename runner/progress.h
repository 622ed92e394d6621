// The progress line of `allocbench run` on stderr: one line per finished
// cell, rewritten in place on a terminal, with the elapsed time and an ETA.
#ifndef ALLOCBENCH_RUNNER_PROGRESS_H_
#define ALLOCBENCH_RUNNER_PROGRESS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "runner/plan.h"

namespace allocbench {

// "H:MM:SS" of a number of seconds, rounded.
std::string hms(double seconds);

// Owner thread only.
class Progress {
 public:
  // `todo`: the cells this invocation will run.
  explicit Progress(size_t todo);

  // Reports a finished cell and its row (status, mops, error).
  void cell_done(const Cell& cell, const std::map<std::string, std::string>& row);

  // Ends the in-place line on a terminal.
  void finish() const;

  size_t ran() const { return ran_; }
  // "ok=3 skipped=1": how many cells ended with each status.
  std::string summary() const;

 private:
  size_t todo_;                        // Cells to run in all.
  size_t ran_ = 0;                     // Cells run so far.
  uint64_t start_ns_;                  // When the first cell started.
  bool tty_;                           // stderr is a terminal: rewrite one line.
  std::map<std::string, int> counts_;  // Status -> cells.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_PROGRESS_H_
