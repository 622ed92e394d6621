// misuse_run: runs one misuse program in a child process and checks how it
// ends.
//
//   misuse_run (--signal ABRT|SEGV | --exit N) [--stderr SUBSTRING]
//              [--env K=V]... [--timeout SECONDS] -- PROGRAM ARGS...
//
// The child gets the inherited environment without ALLOC_DEBUG and
// LD_PRELOAD (the test states them with --env), plus each --env; its core
// dumps are off. Exit 0 when the ending and the stderr substring match;
// otherwise what was expected and what happened (status, stderr), exit 1.
// Exit 2 on a usage or spawn error.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace {

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {{"ABRT", SIGABRT}, {"SEGV", SIGSEGV}};

const char* signal_name(int sig) {
  for (const SignalName& s : kSignals) {
    if (s.number == sig) return s.name;
  }
  return nullptr;
}

struct Options {
  int signal = 0;      // expected terminating signal, or 0
  int exit_code = -1;  // expected exit status, or -1
  const char* stderr_substring = nullptr;
  std::vector<std::string> env;  // K=V added to the child's environment
  int timeout_s = 20;
  char** argv = nullptr;  // PROGRAM ARGS..., null-terminated
};

int usage(const char* why) {
  fprintf(stderr,
          "misuse_run: %s\nusage: misuse_run (--signal ABRT|SEGV | --exit N) [--stderr SUBSTRING] "
          "[--env K=V]... [--timeout SECONDS] -- PROGRAM ARGS...\n",
          why);
  return 2;
}

// Returns 0, or the exit code of a usage error.
int parse(int argc, char** argv, Options* o) {
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; ++i) {
    const char* opt = argv[i];
    if (i + 1 >= argc) return usage("missing value");
    const char* val = argv[++i];
    if (strcmp(opt, "--signal") == 0) {
      for (const SignalName& s : kSignals) {
        if (strcmp(s.name, val) == 0) o->signal = s.number;
      }
      if (o->signal == 0) return usage("unknown signal");
    } else if (strcmp(opt, "--exit") == 0) {
      char* end;
      long v = strtol(val, &end, 10);
      if (*end != '\0' || v < 0 || v > 255) return usage("bad exit status");
      o->exit_code = static_cast<int>(v);
    } else if (strcmp(opt, "--stderr") == 0) {
      o->stderr_substring = val;
    } else if (strcmp(opt, "--env") == 0) {
      if (strchr(val, '=') == nullptr) return usage("--env wants K=V");
      o->env.push_back(val);
    } else if (strcmp(opt, "--timeout") == 0) {
      o->timeout_s = atoi(val);
      if (o->timeout_s <= 0) return usage("bad timeout");
    } else {
      return usage("unknown option");
    }
  }
  if ((o->signal != 0) == (o->exit_code >= 0)) return usage("give one of --signal and --exit");
  if (i + 1 >= argc) return usage("no program after --");
  o->argv = argv + i + 1;
  return 0;
}

bool has_key(const char* entry, const char* key, size_t key_len) {
  return strncmp(entry, key, key_len) == 0 && entry[key_len] == '=';
}

// The inherited environment without ALLOC_DEBUG, LD_PRELOAD and the keys
// that `extra` sets, followed by `extra`.
std::vector<std::string> child_env(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    bool drop = has_key(*e, "ALLOC_DEBUG", 11) || has_key(*e, "LD_PRELOAD", 10);
    for (const std::string& x : extra) drop = drop || has_key(*e, x.c_str(), x.find('='));
    if (!drop) out.push_back(*e);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::string describe_status(int status) {
  char buf[64];
  if (WIFEXITED(status)) {
    snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const char* name = signal_name(WTERMSIG(status));
    if (name != nullptr) {
      snprintf(buf, sizeof buf, "signal %s", name);
    } else {
      snprintf(buf, sizeof buf, "signal %d", WTERMSIG(status));
    }
  } else {
    snprintf(buf, sizeof buf, "status 0x%x", status);
  }
  return buf;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = parse(argc, argv, &o)) return rc;

  // An aborting child must not spend seconds writing a core file.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  std::vector<std::string> env = child_env(o.env);
  std::vector<char*> envp;
  for (std::string& s : env) envp.push_back(&s[0]);
  envp.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) {
    perror("misuse_run: pipe");
    return 2;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, o.argv[0], &fa, nullptr, o.argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    fprintf(stderr, "misuse_run: cannot start %s: %s\n", o.argv[0], strerror(rc));
    close(fds[0]);
    return 2;
  }

  // Read stderr until the child closes it, or kill the child at the deadline.
  std::string err;
  bool timed_out = false;
  const double deadline = now_s() + o.timeout_s;
  for (;;) {
    int left_ms = static_cast<int>((deadline - now_s()) * 1000);
    if (left_ms <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int n = poll(&pfd, 1, left_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    err.append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  const bool ending_ok = o.signal != 0 ? WIFSIGNALED(status) && WTERMSIG(status) == o.signal
                                       : WIFEXITED(status) && WEXITSTATUS(status) == o.exit_code;
  const bool stderr_ok =
      o.stderr_substring == nullptr || err.find(o.stderr_substring) != std::string::npos;
  std::string expected = o.signal != 0 ? std::string("signal ") + signal_name(o.signal)
                                       : "exit " + std::to_string(o.exit_code);
  if (o.stderr_substring != nullptr) {
    expected += std::string(", stderr containing \"") + o.stderr_substring + "\"";
  }
  if (ending_ok && stderr_ok && !timed_out) {
    printf("ok: %s: %s\n", o.argv[0], expected.c_str());
    if (!err.empty()) printf("stderr:\n%s", err.c_str());
    return 0;
  }
  printf("FAIL: %s\n  expected: %s\n  got:      %s%s\n  stderr:%s\n%s", o.argv[0], expected.c_str(),
         describe_status(status).c_str(), timed_out ? " (killed after the timeout)" : "",
         err.empty() ? " (empty)" : "", err.c_str());
  return 1;
}
