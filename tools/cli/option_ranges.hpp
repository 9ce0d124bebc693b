// nnmeter CLI: numeric options with a range, checked in one place with a readable message.
// CLI11's own range validators print the limits of the option's type (`--runs 0` gave a
// 309-digit range, `--seed -1` wrapped to 2^64-1, `--warmup 1e308` was accepted and never
// ended); every numeric option of the nnmeter program is added through add_bounded_option
// instead, so that a value outside its range is refused before the command runs with
//   --runs: must be an integer from 1 to 100000 (got '0')
// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

namespace nnmeter_cli {

namespace detail {

/// The text of a limit: integers as integers, other numbers as %g.
inline std::string limit_text(long double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1.9e19L)
    std::snprintf(buf, sizeof buf, "%.0Lf", v);
  else
    std::snprintf(buf, sizeof buf, "%Lg", v);
  return buf;
}

/// Parses `text` as an integer (an optional '-' and decimal digits only, nothing else). False
/// when it is not one or does not fit 64 bits.
inline bool parse_integer(const std::string& text, long double& out) {
  if (text.empty()) return false;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  for (std::size_t k = i; k < text.size(); ++k)
    if (text[k] < '0' || text[k] > '9') return false;
  errno = 0;
  char* end = nullptr;
  if (i == 1) {
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0') return false;
    out = static_cast<long double>(v);
  } else {
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0') return false;
    out = static_cast<long double>(v);
  }
  return true;
}

/// Parses `text` as a finite decimal number (strtod's syntax, without hexadecimal, inf, nan).
inline bool parse_number(const std::string& text, long double& out) {
  if (text.empty()) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;
  errno = 0;
  char* end = nullptr;
  const long double v = std::strtold(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  out = v;  // ERANGE underflow (1e-5000) is a finite value near 0, in or out of the range
  return true;
}

}  // namespace detail

/// The message for a value `text` outside [lo, hi] ("" when it is inside): "must be an
/// integer from 1 to 100000 (got '0')", "must be a number of seconds from 0 to 60 (got
/// '1e308')". `unit` is the plural unit of the value ("seconds") or empty.
template <class T>
std::string range_violation(const std::string& text, T lo, T hi, const std::string& unit = "") {
  constexpr bool integral = std::is_integral<T>::value;
  const std::string kind = std::string(integral ? "an integer" : "a number") +
                           (unit.empty() ? std::string() : " of " + unit);
  const std::string need =
      "must be " + kind + " from " + detail::limit_text(static_cast<long double>(lo)) + " to " +
      detail::limit_text(static_cast<long double>(hi)) + " (got '" + text + "')";
  long double v = 0;
  const bool ok = integral ? detail::parse_integer(text, v) : detail::parse_number(text, v);
  if (!ok) return need;
  if (v < static_cast<long double>(lo) || v > static_cast<long double>(hi)) return need;
  return std::string();
}

/// Adds option `name` bound to `value` (an integer or floating-point type) whose values must
/// lie in [lo, hi]; the range is shown in --help, and a value outside it (or not a number of
/// the type, e.g. `1e3` for an integer) is a usage error naming the option. The default is
/// shown too.
template <class T>
CLI::Option* add_bounded_option(CLI::App* cmd, const std::string& name, T& value,
                                const std::string& description, T lo, T hi,
                                const std::string& unit = "") {
  static_assert(std::is_arithmetic<T>::value, "add_bounded_option: numbers only");
  CLI::Validator range(
      [lo, hi, unit](std::string& text) { return range_violation<T>(text, lo, hi, unit); },
      std::string(std::is_integral<T>::value ? "INT" : "NUMBER") + " in [" +
          detail::limit_text(static_cast<long double>(lo)) + ", " +
          detail::limit_text(static_cast<long double>(hi)) + "]");
  return cmd->add_option(name, value, description)->capture_default_str()->check(range);
}

}  // namespace nnmeter_cli
