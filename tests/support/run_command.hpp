// Test helper: run a command line and capture its standard output and exit status.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace nnmeter_test {

struct command_result {
  int status = -1;     // exit status, or -1 when the command could not run
  std::string output;  // standard output (standard error too when merged)
};

/// Runs `cmd` through the shell; with merge_stderr, 2>&1 is appended.
inline command_result run_command(const std::string& cmd, bool merge_stderr = false) {
  command_result r;
  const std::string full = merge_stderr ? cmd + " 2>&1" : cmd;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// Quotes a string for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace nnmeter_test
