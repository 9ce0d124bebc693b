// Shared checks of the JSON fuzz targets (fuzz_ir_import, fuzz_rules_import,
// fuzz_predictor_package): a violated invariant prints what and aborts, which libFuzzer reports
// as a crash with the input that caused it.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace nnmeter_fuzz {

[[noreturn]] inline void fail(const char* target, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: invariant violated: %s: %s\n", target, what, detail.c_str());
  std::abort();
}

/// The source name every message of the readers must start with.
inline constexpr std::string_view source = "<fuzz>";

/// Errors name the file: every nnmeter::error message of a reader starts with the source.
inline void check_error_names_source(const char* target, const nnmeter::error& e) {
  if (std::string_view(e.what()).substr(0, source.size()) != source)
    fail(target, "an error message does not start with the source name", e.what());
}

/// detect() on a graph a reader accepted does not throw, and puts every node in exactly one
/// kernel or in free_nodes.
inline nnmeter::detection check_detection(const char* target, const nnmeter::graph& g,
                                          const nnmeter::rule_set& rules) {
  nnmeter::detection d;
  try {
    d = nnmeter::detect(g, rules);
  } catch (const std::exception& e) {
    fail(target, "detect() threw on an accepted graph", e.what());
  }
  std::vector<unsigned char> seen(g.num_nodes(), 0);
  auto mark = [&](nnmeter::node_index v, const char* where) {
    const auto i = static_cast<std::size_t>(v);
    if (i >= seen.size()) fail(target, "detect()", std::string(where) + " names a node out of range");
    if (seen[i]++ != 0) fail(target, "detect()", "node '" + g.name(v) + "' is in two groups");
  };
  for (const nnmeter::kernel& k : d.kernels)
    for (nnmeter::node_index v : k.nodes) mark(v, "a kernel");
  for (nnmeter::node_index v : d.free_nodes) mark(v, "free_nodes");
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (seen[i] == 0)
      fail(target, "detect()",
           "node '" + g.name(static_cast<nnmeter::node_index>(i)) + "' is in no kernel and not free");
  return d;
}

}  // namespace nnmeter_fuzz
