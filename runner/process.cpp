#include "runner/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "allocators/common/platform.h"

namespace allocbench {

namespace {

void close_pair(int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

// Forks and executes argv in its own process group, with stdout and stderr on
// pipes; returns the child's pid (the read ends in out_fd and err_fd), or -1
// with o->spawn_error set.
// This process's environment with `env` (NAME=VALUE entries) replacing
// variables of the same names; the pointers stay valid while `env` lives.
std::vector<char*> child_environment(const std::vector<std::string>& env) {
  std::vector<char*> out;
  for (char** e = environ; *e != nullptr; ++e) {
    bool replaced = false;
    for (const std::string& v : env) {
      const size_t eq = v.find('=');
      if (std::strncmp(*e, v.c_str(), eq + 1) == 0) replaced = true;
    }
    if (!replaced) out.push_back(*e);
  }
  for (const std::string& v : env) out.push_back(const_cast<char*>(v.c_str()));
  out.push_back(nullptr);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& pid_file,
            const std::vector<std::string>& env, ChildOutcome* o, int* out_fd, int* err_fd) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    o->spawn_error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    o->spawn_error = std::string("pipe: ") + std::strerror(errno);
    close_pair(out_pipe);
    return -1;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp = child_environment(env);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    o->spawn_error = std::string("fork: ") + std::strerror(errno);
    close_pair(out_pipe);
    close_pair(err_pipe);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (platform::die_with_parent(parent) != 0) _exit(127);  // orphaned before it could start
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(args[0], args.data(), envp.data());
    const char msg[] = "allocbench: cannot execute cell binary\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // Also from the parent, so the group exists before any kill.
  if (!pid_file.empty()) {
    FILE* f = std::fopen(pid_file.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "%d\n", static_cast<int>(pid));
      std::fclose(f);
    }
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  *out_fd = out_pipe[0];
  *err_fd = err_pipe[0];
  return pid;
}

// Reads what is ready on fds into o->out / o->err (stderr keeps its last 4
// KiB); closes a pipe at its end. Returns the pipes still open.
int read_ready(pollfd fds[2], int out_fd, ChildOutcome* o) {
  int open_fds = 0;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    pollfd& p = fds[i];
    if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n > 0) {
        std::string& dst = p.fd == out_fd ? o->out : o->err;
        dst.append(buf, static_cast<size_t>(n));
        if (&dst == &o->err && dst.size() > 4096) dst.erase(0, dst.size() - 4096);
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(p.fd);
        p.fd = -1;
      }
    }
    if (p.fd >= 0) ++open_fds;
  }
  return open_fds;
}

// Drains what is left after exit (grandchildren may hold the pipe: bounded
// read) and closes the pipes.
void drain(pollfd fds[2], int out_fd, ChildOutcome* o) {
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    pollfd& p = fds[i];
    if (p.fd < 0) continue;
    fcntl(p.fd, F_SETFL, O_NONBLOCK);
    ssize_t n;
    while ((n = read(p.fd, buf, sizeof buf)) > 0) {
      (p.fd == out_fd ? o->out : o->err).append(buf, static_cast<size_t>(n));
    }
    close(p.fd);
  }
}

// Collects the child's output until it exits, killing its group at the
// deadline or on *interrupt; returns its wait status.
int wait_child(pid_t pid, int out_fd, int err_fd, uint64_t deadline,
               const volatile int* interrupt, ChildOutcome* o) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  bool killed = false;
  int status = 0;
  bool reaped = false;
  while (!reaped) {
    uint64_t now = platform::now_ns();
    if (!killed && (now >= deadline || (interrupt != nullptr && *interrupt))) {
      if (now >= deadline)
        o->timed_out = true;
      else
        o->interrupted = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      killed = true;
    }
    if (open_fds > 0) {
      int rc = poll(fds, 2, 100);
      if (rc < 0 && errno != EINTR) break;
      open_fds = read_ready(fds, out_fd, o);
    } else {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        reaped = true;
      } else if (w < 0 && errno != EINTR) {
        break;
      } else {
        usleep(20000);
      }
      continue;
    }
    if (waitpid(pid, &status, WNOHANG) == pid) reaped = true;
  }
  drain(fds, out_fd, o);
  if (!reaped) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return status;
}

}  // namespace

ChildOutcome run_child(const std::vector<std::string>& argv, double timeout_s,
                       const volatile int* interrupt, const std::string& pid_file,
                       const std::vector<std::string>& env) {
  ChildOutcome o;
  const uint64_t t0 = platform::now_ns();
  int out_fd = -1, err_fd = -1;
  const pid_t pid = spawn(argv, pid_file, env, &o, &out_fd, &err_fd);
  if (pid < 0) return o;
  o.started = true;
  const uint64_t deadline = t0 + static_cast<uint64_t>(timeout_s * 1e9);
  const int status = wait_child(pid, out_fd, err_fd, deadline, interrupt, &o);
  kill(-pid, SIGKILL);  // Any grandchildren left in the group.
  if (!pid_file.empty()) unlink(pid_file.c_str());
  o.seconds = static_cast<double>(platform::now_ns() - t0) / 1e9;
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  return o;
}

std::string kill_recorded_child(const std::string& pid_file) {
  std::ifstream in(pid_file);
  if (!in) return "";
  long pid = 0;
  in >> pid;
  in.close();
  unlink(pid_file.c_str());
  if (pid <= 1) return "";
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
  std::stringstream ss;
  ss << cmd.rdbuf();
  if (ss.str().find("allocbench_cell") == std::string::npos) return "";  // gone, or pid reused
  kill(-static_cast<pid_t>(pid), SIGKILL);
  kill(static_cast<pid_t>(pid), SIGKILL);
  return "killed cell process " + std::to_string(pid) + " left running by the interrupted run";
}

}  // namespace allocbench
