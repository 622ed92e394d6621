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

ChildOutcome run_child(const std::vector<std::string>& argv, double timeout_s,
                       const volatile int* interrupt, const std::string& pid_file) {
  ChildOutcome o;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    o.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return o;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    o.spawn_error = std::string("pipe: ") + std::strerror(errno);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return o;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  uint64_t t0 = platform::now_ns();
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    o.spawn_error = std::string("fork: ") + std::strerror(errno);
    return o;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (platform::die_with_parent(parent) != 0) _exit(127);  // orphaned before it could start
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(args[0], args.data());
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
  o.started = true;

  const uint64_t deadline = t0 + static_cast<uint64_t>(timeout_s * 1e9);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  bool killed = false;
  int status = 0;
  bool reaped = false;
  while (!reaped) {
    uint64_t now = platform::now_ns();
    if (!killed && (now >= deadline || (interrupt != nullptr && *interrupt))) {
      if (now >= deadline)
        o.timed_out = true;
      else
        o.interrupted = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      killed = true;
    }
    if (open_fds > 0) {
      int rc = poll(fds, 2, 100);
      if (rc < 0 && errno != EINTR) break;
      for (pollfd& p : fds) {
        if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = read(p.fd, buf, sizeof buf);
        if (n > 0) {
          std::string& dst = p.fd == out_pipe[0] ? o.out : o.err;
          dst.append(buf, static_cast<size_t>(n));
          if (&dst == &o.err && dst.size() > 4096) dst.erase(0, dst.size() - 4096);
        } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
          close(p.fd);
          p.fd = -1;
          --open_fds;
        }
      }
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
  for (pollfd& p : fds) {
    if (p.fd >= 0) {
      // Drain what is left after exit (grandchildren may hold the pipe: bounded read).
      fcntl(p.fd, F_SETFL, O_NONBLOCK);
      ssize_t n;
      while ((n = read(p.fd, buf, sizeof buf)) > 0) {
        (p.fd == out_pipe[0] ? o.out : o.err).append(buf, static_cast<size_t>(n));
      }
      close(p.fd);
    }
  }
  if (!reaped) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
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
