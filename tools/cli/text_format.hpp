// nnmeter CLI — number formatting shared by the commands' tables and summaries.
// SPDX-License-Identifier: MIT
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace nnmeter_cli {

/// x with `digits` digits after the point ("%.*f"), or "n/a" when x is not finite (a figure
/// that has no value, e.g. an RMSPE of no model).
inline std::string fixed(double x, int digits = 4) {
  if (!std::isfinite(x)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

}  // namespace nnmeter_cli
