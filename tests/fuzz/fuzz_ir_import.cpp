// libFuzzer target for the nn-Meter IR reader: import_nnmeter_ir on arbitrary bytes, then
// kernel detection, features and a write-read round trip on every graph it accepts. See
// docs/ir-json.md, "Fuzzing".
//
// The whole input is the document; the reader options come from its size (so that a seed can
// pick them with trailing white space, which JSON ignores):
//   size bit 0: allow_unknown_ops, size bit 1: allow_dangling_inbounds.
// nnmeter::error (its message starting with the source name) and std::bad_alloc are expected
// outcomes for malformed input. Findings are crashes, sanitizer reports, leaks, timeouts, any
// other exception (a raw nlohmann or standard-library exception is a bug), and these
// invariants, which abort():
//   - every warning starts with the source name;
//   - detect() does not throw and puts every node in exactly one kernel or in free_nodes;
//   - features() of every kernel, in both feature sets, do not throw;
//   - write_nnmeter_ir(g) reads back, with the same options, to a graph equal node by node.
// With NNMETER_FUZZ_VERBOSE set, each input's outcome is printed to stderr.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "fuzz_json_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <string_view>

namespace {

constexpr const char* target = "fuzz_ir_import";
using nnmeter_fuzz::fail;

void check(const nnmeter::io::ir_import_result& r, const nnmeter::io::ir_read_options& o) {
  for (const std::string& w : r.warnings)
    if (std::string_view(w).substr(0, nnmeter_fuzz::source.size()) != nnmeter_fuzz::source &&
        w.find("more warnings like") == std::string::npos)
      fail(target, "a warning does not start with the source name", w);
  const nnmeter::graph& g = r.graph;
  const nnmeter::detection d = nnmeter_fuzz::check_detection(target, g, nnmeter::default_rules());
  for (const nnmeter::kernel& k : d.kernels) {
    try {
      (void)nnmeter::features(k, nnmeter::feature_set::nnmeter);
      (void)nnmeter::features(k, nnmeter::feature_set::extended);
    } catch (const std::exception& e) {
      fail(target, "features() threw on a detected kernel", k.name + ": " + e.what());
    }
  }
  std::string text;
  try {
    text = nnmeter::io::write_nnmeter_ir(g, -1);
  } catch (const std::exception& e) {
    fail(target, "write_nnmeter_ir threw on an imported graph", e.what());
  }
  nnmeter::graph h;
  try {
    h = nnmeter::io::read_nnmeter_ir(text, "<fuzz:written>", o);
  } catch (const std::exception& e) {
    fail(target, "the written graph does not read back", std::string(e.what()) + "\n" + text);
  }
  if (h.num_nodes() != g.num_nodes())
    fail(target, "round trip", std::to_string(g.num_nodes()) + " nodes became " +
                                   std::to_string(h.num_nodes()));
  for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i)
    if (!(h[i] == g[i])) fail(target, "round trip changed a node", g.name(i) + "\n" + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("NNMETER_FUZZ_VERBOSE") != nullptr;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nnmeter::io::ir_read_options o;
  o.allow_unknown_ops = (size & 1U) != 0;
  o.allow_dangling_inbounds = (size & 2U) != 0;
  try {
    const nnmeter::io::ir_import_result r =
        nnmeter::io::import_nnmeter_ir(text, nnmeter_fuzz::source, o);
    check(r, o);
    if (verbose)
      std::fprintf(stderr, "imported: %zu nodes, %zu warnings\n", r.graph.num_nodes(),
                   r.warnings.size());
  } catch (const nnmeter::error& e) {
    nnmeter_fuzz::check_error_names_source(target, e);
    if (verbose) std::fprintf(stderr, "nnmeter::error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    if (verbose) std::fprintf(stderr, "std::bad_alloc\n");
  } catch (const std::exception& e) {
    fail(target, "an exception other than nnmeter::error escaped", e.what());
  }
  return 0;
}
