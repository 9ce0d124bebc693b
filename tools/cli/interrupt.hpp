// nnmeter CLI — Ctrl-C for measuring commands: the first SIGINT asks the running campaign to
// stop after the measurement in flight (what was measured stays in the profile store, and a
// rerun resumes); a second one kills the process as usual.
// SPDX-License-Identifier: MIT
#pragma once

#include <csignal>

namespace nnmeter_cli {

namespace detail {
inline volatile std::sig_atomic_t g_interrupted = 0;

extern "C" inline void on_sigint(int) {
  g_interrupted = 1;
  std::signal(SIGINT, SIG_DFL);
}
}  // namespace detail

/// Installs the handler for its lifetime (and clears an earlier interruption).
struct sigint_guard {
  sigint_guard() {
    detail::g_interrupted = 0;
    previous = std::signal(SIGINT, detail::on_sigint);
  }
  ~sigint_guard() { std::signal(SIGINT, previous); }
  sigint_guard(const sigint_guard&) = delete;
  sigint_guard& operator=(const sigint_guard&) = delete;
  void (*previous)(int) = SIG_DFL;
};

/// Whether Ctrl-C was pressed since the guard was installed.
inline bool interrupted() { return detail::g_interrupted != 0; }

}  // namespace nnmeter_cli
