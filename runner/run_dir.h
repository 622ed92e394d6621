// The output directory of a run (`allocbench run`, `allocbench exec`): made
// ready for a new run under its lock, and its results.csv opened for rows.
#ifndef ALLOCBENCH_RUNNER_RUN_DIR_H_
#define ALLOCBENCH_RUNNER_RUN_DIR_H_

#include <string>

namespace allocbench {

// Returned by the steps of a command to mean "go on" (any other value is
// the exit status).
constexpr int kContinue = -1;

bool file_exists(const std::string& p);
bool is_dir(const std::string& p);

// Locks `dir` into *fd; a lock held by another run is a usage error.
int lock_dir(const std::string& dir, int* fd);

// Readies `dir` for a new run and locks it (*lock_fd, held until the process
// exits): its parent must exist; an existing `dir` is locked before anything
// in it is looked at, so two runs cannot both find it free; one that holds a
// run (results.csv or run.json) is refused with `refusal` unless `force`,
// which moves it to DIR.prev (replacing an older one there). Returns
// kContinue or the exit status.
int prepare_run_dir(const std::string& dir, bool force, const std::string& refusal, int* lock_fd);

// Opens results.csv for appending (writing its header into a new file).
int open_results(const std::string& csv_path, int* fd);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_DIR_H_
