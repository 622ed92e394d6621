#include "runner/record_command.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_options.h"
#include "workloads/recorded_trace.h"

namespace allocbench {

const char* const kRecordUsage = "usage: allocbench record --out FILE -- PROGRAM [ARGS...]\n";
const char* const kTraceInfoUsage = "usage: allocbench trace-info FILE\n";

namespace {

namespace tf = tracefmt;

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// One file of a recording session, from its header.
struct SessionFile {
  std::string path;
  uint32_t pid = 0, parent_pid = 0;
  tf::Origin origin = tf::kOriginRoot;
  uint64_t bytes = 0;
};

// Reads the header of `path`; true when it is a trace of session `session`.
bool read_session_header(const std::string& path, uint64_t session, SessionFile* f) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint8_t h[tf::kHeaderFixedBytes];
  ssize_t n = read(fd, h, sizeof h);
  struct stat st;
  bool sized = fstat(fd, &st) == 0;
  close(fd);
  if (n != static_cast<ssize_t>(sizeof h) || std::memcmp(h, tf::kMagic, sizeof tf::kMagic) != 0 ||
      tf::get_u64(h + tf::kOffSession) != session) {
    return false;
  }
  f->path = path;
  f->pid = tf::get_u32(h + tf::kOffPid);
  f->parent_pid = tf::get_u32(h + tf::kOffParentPid);
  f->origin = static_cast<tf::Origin>(h[tf::kOffOrigin]);
  f->bytes = sized ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

// "<base>.<digits>" or "<base>.<digits>.<digits>".
bool is_child_name(const std::string& name, const std::string& base) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size() + 1, base + ".") != 0) {
    return false;
  }
  int dots = 0;
  char prev = '.';
  for (size_t i = base.size() + 1; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (prev == '.' || ++dots > 1) return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
    prev = c;
  }
  return prev != '.';
}

// The files session `session` wrote: `out` first, then the others by name.
std::vector<SessionFile> session_files(const std::string& out, uint64_t session) {
  std::vector<SessionFile> files;
  SessionFile root;
  if (read_session_header(out, session, &root)) files.push_back(root);
  const std::string dir = dir_of(out), base = out.substr(out.rfind('/') + 1);
  std::vector<SessionFile> others;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      SessionFile f;
      if (is_child_name(e->d_name, base) &&
          read_session_header(dir + "/" + e->d_name, session, &f)) {
        others.push_back(f);
      }
    }
    closedir(d);
  }
  std::sort(others.begin(), others.end(),
            [](const SessionFile& a, const SessionFile& b) { return a.path < b.path; });
  files.insert(files.end(), others.begin(), others.end());
  return files;
}

// The child: the recorder preloaded, then the program. An exec failure goes
// back through `report` (close-on-exec: it closes when exec succeeds).
[[noreturn]] void exec_program(const std::vector<std::string>& program, const std::string& lib,
                               const std::string& out, uint64_t session, int report) {
  const char* old = std::getenv("LD_PRELOAD");
  std::string preload = lib;
  if (old != nullptr && *old != '\0') preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("ALLOCBENCH_RECORD_OUT", out.c_str(), 1);
  setenv("ALLOCBENCH_RECORD_SESSION", fmt::format("{:x}", session).c_str(), 1);
  setenv("ALLOCBENCH_RECORD_ROOT_PID", std::to_string(getpid()).c_str(), 1);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  std::vector<char*> argv;
  for (const std::string& a : program) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  int e = errno;
  ssize_t ignored = write(report, &e, sizeof e);
  (void)ignored;
  _exit(127);
}

void print_count(const char* key, uint64_t v) { fmt::print("{:<28} {}\n", key, v); }

std::string bucket_label(unsigned b) {
  if (b == 0) return "size 0";
  uint64_t lo = 1ull << (b - 1);
  uint64_t hi = b == 64 ? UINT64_MAX : (1ull << b) - 1;
  return lo == hi ? fmt::format("size {}", lo) : fmt::format("size {}-{}", lo, hi);
}

}  // namespace

void add_record_options(CLI::App* app, RecordArgs* args) {
  add_valued(app, "--out", "FILE", "the trace file (replaced if it exists)",
             [args](const std::string& v) { args->out = v; });
}

void add_trace_info_options(CLI::App* app, TraceInfoArgs* args) {
  app->add_option("file", args->file, "a trace written by `allocbench record`")
      ->option_text("FILE");
}

int cmd_record(const RecordArgs& args, const std::vector<std::string>& program) {
  if (args.out.empty()) return usage_error("record needs --out FILE");
  if (program.empty()) return usage_error("record needs the program to run after --");
  const std::string lib = exe_dir() + "/" + kRecorderLibrary;
  if (access(lib.c_str(), R_OK) != 0) {
    return io_error("the recorder library " + lib + " is missing (build the allocbench_recorder " +
                    "target; a sanitizer build does not)");
  }
  const std::string out = absolute(args.out);
  struct stat st;
  if (stat(dir_of(out).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return usage_error("--out's directory '" + dir_of(out) + "' does not exist");
  }
  if (stat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return usage_error("--out '" + out + "' is a directory");
  }
  if (unlink(out.c_str()) != 0 && errno != ENOENT) {
    return io_error("cannot replace " + out + ": " + std::strerror(errno));
  }
  std::random_device rd;
  const uint64_t session = (static_cast<uint64_t>(rd()) << 32 ^ rd()) | 1;
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return io_error(std::string("pipe: ") + strerror(errno));
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) return io_error(std::string("fork: ") + strerror(errno));
  if (child == 0) {
    close(report[0]);
    exec_program(program, lib, out, session, report[1]);
  }
  close(report[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    std::fprintf(stderr, "allocbench: cannot run '%s': %s\n", program[0].c_str(),
                 std::strerror(exec_errno));
    return exec_errno == ENOENT ? 127 : 126;
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "allocbench: %s died of %s\n", program[0].c_str(),
                 signal_name(WTERMSIG(status)).c_str());
  }
  std::vector<SessionFile> files = session_files(out, session);
  if (files.empty() || files[0].path != out) {
    std::fprintf(stderr,
                 "allocbench: %s wrote no trace to %s: a statically linked or setuid program "
                 "does not load LD_PRELOAD libraries\n",
                 program[0].c_str(), out.c_str());
    return code != 0 ? code : kExitIo;
  }
  for (const SessionFile& f : files) {
    std::fprintf(stderr, "allocbench: trace %s: pid %u (%s", f.path.c_str(), f.pid,
                 origin_name(f.origin));
    if (f.origin != tf::kOriginRoot) std::fprintf(stderr, ", parent %u", f.parent_pid);
    std::fprintf(stderr, "), %llu bytes\n", static_cast<unsigned long long>(f.bytes));
  }
  return code;
}

int cmd_trace_info(const TraceInfoArgs& args) {
  if (args.file.empty()) return usage_error("trace-info needs a FILE");
  RecordedTrace trace;
  TraceError err = trace.read_file(args.file);
  if (err) {
    std::fprintf(stderr, "allocbench: %s\n", err.message.c_str());
    return err.kind == TraceError::Kind::kIo ? kExitIo : kExitBadTrace;
  }
  const RecordedTraceHeader& h = trace.header();
  const RecordedTraceStats& s = trace.stats();
  std::string command;
  for (const std::string& a : h.command) command += (command.empty() ? "" : " ") + a;
  fmt::print("{:<28} {}\n", "trace", args.file);
  fmt::print("{:<28} {}\n", "format",
             fmt::format("version {}, session {:x}", h.version, h.session));
  fmt::print("{:<28} {}\n", "process",
             fmt::format("pid {} ({}), parent {}", h.pid, origin_name(h.origin), h.parent_pid));
  fmt::print("{:<28} {}\n", "command", command);
  std::string ended = end_reason_name(s.end);
  if (s.end == tf::kEndSignal)
    ended += fmt::format(" {} ({})", s.end_signal, signal_name(s.end_signal));
  if (!trace.complete()) ended = "incomplete: no end marker";
  fmt::print("{:<28} {}\n", "ended", ended);
  print_count("threads", trace.threads().size());
  print_count("events", s.events);
  print_count("allocations", s.allocations);
  print_count("frees", s.frees);
  print_count("reallocs", s.reallocs);
  for (unsigned k = 1; k < tf::kKindCount; ++k) {
    print_count(("op " + std::string(tf::kKinds[k].name)).c_str(), s.by_kind[k]);
  }
  for (unsigned b = 0; b < 65; ++b) {
    if (s.size_histogram[b] != 0) print_count(bucket_label(b).c_str(), s.size_histogram[b]);
  }
  print_count("peak_live_bytes", s.peak_live_bytes);
  print_count("peak_live_objects", s.peak_live_objects);
  print_count("cross_thread_frees", s.cross_thread_frees);
  print_count("unknown_frees", s.unknown_frees);
  print_count("unknown_reallocs", s.unknown_reallocs);
  print_count("inherited_frees", s.inherited_frees);
  print_count("inherited_reallocs", s.inherited_reallocs);
  print_count("unmatched", s.unmatched);
  print_count("leaked_objects", s.leaked_objects);
  print_count("leaked_bytes", s.leaked_bytes);
  print_count("missing_seqs", s.missing_seqs);
  for (const RecordedThread& t : trace.threads()) {
    print_count(("thread " + std::to_string(t.id)).c_str(), t.events.size());
  }
  if (!trace.complete()) {
    std::fprintf(stderr,
                 "allocbench: %s has no end marker: the process was killed (SIGKILL) or is "
                 "still running, and the events it had not written yet are missing\n",
                 args.file.c_str());
  }
  return 0;
}

}  // namespace allocbench
