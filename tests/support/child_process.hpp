// Test helper: run a program (no shell) and measure it: exit status, merged standard output and
// error, peak resident set size and wall time of the child process (wait4's rusage), with a
// timeout after which the child is killed.
// SPDX-License-Identifier: MIT
#pragma once

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nnmeter_test {

struct measured_run {
  bool started = false;      // false when the program could not be started at all
  int exit_status = -1;      // exit status, or -1 when the child was killed by a signal
  int signal = 0;            // the signal that ended the child, or 0
  bool timed_out = false;    // the child was killed after the timeout
  std::string output;        // standard output and standard error, interleaved
  long peak_rss_kib = -1;    // ru_maxrss of the child (KiB on Linux)
  double seconds = 0.0;      // wall time
};

/// Runs argv[0] with arguments argv[1..] (looked up as a path, not through PATH or a shell),
/// standard input from /dev/null, and measures it. Kills the child after `timeout_s` seconds.
inline measured_run run_measured(const std::vector<std::string>& argv, double timeout_s = 120.0) {
  measured_run r;
  if (argv.empty()) return r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  r.started = true;
  char buf[4096];
  for (;;) {
    const double left =
        timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left * 1000.0) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timeout: checked at the top
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output
    r.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.peak_rss_kib = ru.ru_maxrss;
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace nnmeter_test
