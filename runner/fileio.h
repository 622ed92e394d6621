// Durable file writes and the output directory's lock. Every function
// reports failures with the path and the errno text, never silently.
#ifndef ALLOCBENCH_RUNNER_FILEIO_H_
#define ALLOCBENCH_RUNNER_FILEIO_H_

#include <string>

namespace allocbench {

// Writes all of `text` to `fd` and fsyncs it (ENOSPC and EIO can surface
// only there). Returns "" or "cannot write WHAT: <errno text>".
std::string write_all_durably(int fd, const std::string& text, const std::string& what);

// Replaces `path` with `text`: writes path.tmp, fsyncs and closes it
// (checking each), renames it over `path` and fsyncs the directory. A failure
// leaves the old `path` as it was. Returns "" or the error with the errno.
std::string write_file_atomically(const std::string& path, const std::string& text);

// Appends `text` to `path` (created if missing) durably. If the file is
// missing or empty, `header` is written first, so a file whose first write
// failed still gets its header with its first row.
std::string append_with_header(const std::string& path, const std::string& header,
                               const std::string& text);

// Takes an exclusive lock (flock) on DIR/.allocbench.lock for the life of
// the process and writes this process's pid into it. Returns the lock's file
// descriptor (close-on-exec, so cell children never hold it), or -1 with
// *err set; *busy is true when another process holds the lock (then *err
// names its pid).
int lock_out_dir(const std::string& dir, std::string* err, bool* busy);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_FILEIO_H_
