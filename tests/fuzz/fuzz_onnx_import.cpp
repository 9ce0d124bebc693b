// libFuzzer target for the ONNX importer: import_onnx_from_memory on arbitrary bytes, then
// kernel detection on every graph it accepts. See docs/onnx.md, "Fuzzing".
//
// The whole input is the model: the options are derived from its last byte (without consuming
// it), so every seed in tests/fuzz/corpus/onnx_import/ is a plain .onnx file that ONNX tools
// can open. (make_corpus.cpp ends most seeds with an unknown protobuf field whose last byte
// is the mode it wants.)
//   bit 0: allow_any_opset = true
//   bit 1: input_shapes gets an entry for one graph input (bits 2-3 pick which, bits 4-7 pick
//          the dims; a few patterns are invalid on purpose: wrong rank, negative dim, no such
//          input)
// nnmeter::error and std::exception are expected outcomes for malformed input. Findings are
// crashes, sanitizer reports, leaks, timeouts and the invariants below, which abort():
//   - accounting: nodes_in_file == imported + folded + aliased + constants, other <= imported,
//     other_nodes.size() == other;
//   - the graph has at least `imported` nodes;
//   - detect() on the imported graph does not throw, and puts every node in exactly one kernel
//     or in free_nodes.
// With the environment variable NNMETER_FUZZ_VERBOSE set, each input's outcome is printed to
// stderr (useful when adding seeds: a seed that every mode rejects early covers little).
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_onnx_import: invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

// A shape for graph input `index` of the model (NCHW, the file's layout): its declared dims,
// with symbolic / missing dims replaced by small sizes picked from `sel`. Patterns 13-15 are
// invalid on purpose (the importer must reject them with an nnmeter::error).
void add_input_shape(const std::uint8_t* data, std::size_t size, unsigned index, unsigned sel,
                     nnmeter::io::onnx_import_options& opt) {
  onnx::ModelProto m;
  if (size > static_cast<std::size_t>(INT32_MAX) ||
      !m.ParseFromArray(data, static_cast<int>(size)) || !m.has_graph())
    return;
  const onnx::GraphProto& g = m.graph();
  if (sel == 15) {
    opt.input_shapes["\x01no such input"] = {1};
    return;
  }
  if (g.input_size() == 0) return;
  const onnx::ValueInfoProto& in =
      g.input(static_cast<int>(index % static_cast<unsigned>(g.input_size())));
  std::vector<std::int64_t> dims;
  if (in.type().has_tensor_type() && in.type().tensor_type().has_shape()) {
    const onnx::TensorShapeProto& s = in.type().tensor_type().shape();
    for (int i = 0; i < s.dim_size() && i < 16; ++i) {
      const onnx::TensorShapeProto_Dimension& d = s.dim(i);
      if (d.has_dim_value() && d.dim_value() > 0 && d.dim_value() <= 4096)
        dims.push_back(d.dim_value());
      else
        dims.push_back(1 + static_cast<std::int64_t>((sel + static_cast<unsigned>(i)) % 8));
    }
  } else {
    dims = {1, 3, 8, 8};
  }
  if (sel == 13) dims.push_back(2);                     // wrong rank
  if (sel == 14 && !dims.empty()) dims.back() = -3;     // negative dim
  if (sel < 4 && !dims.empty()) dims.back() = 1 + sel;  // override a static dim
  opt.input_shapes[in.name()] = std::move(dims);
}

void check(const nnmeter::io::onnx_import_result& r) {
  const nnmeter::io::onnx_accounting& a = r.accounting;
  if (a.nodes_in_file != a.imported + a.folded + a.aliased + a.constants)
    fail("accounting", std::to_string(a.nodes_in_file) +
                           " nodes in file != " + std::to_string(a.imported) + " imported + " +
                           std::to_string(a.folded) + " folded + " + std::to_string(a.aliased) +
                           " aliased + " + std::to_string(a.constants) + " constants");
  if (a.other > a.imported || a.other_nodes.size() != a.other)
    fail("accounting", std::to_string(a.other) + " other nodes (" +
                           std::to_string(a.other_nodes.size()) + " names), " +
                           std::to_string(a.imported) + " imported");
  const nnmeter::graph& g = r.graph;
  if (g.num_nodes() < a.imported)
    fail("graph size",
         std::to_string(g.num_nodes()) + " nodes < " + std::to_string(a.imported) + " imported");

  nnmeter::detection d;
  try {
    d = nnmeter::detect(g, nnmeter::default_rules());
  } catch (const std::exception& e) {
    fail("detect() threw on an imported graph", e.what());
  }
  std::vector<unsigned char> seen(g.num_nodes(), 0);
  auto mark = [&](nnmeter::node_index v, const char* where) {
    const auto i = static_cast<std::size_t>(v);
    if (i >= seen.size()) fail("detect()", std::string(where) + " names a node out of range");
    if (seen[i]++ != 0) fail("detect()", "node '" + g.name(v) + "' is in two groups");
  };
  for (const nnmeter::kernel& k : d.kernels)
    for (nnmeter::node_index v : k.nodes) mark(v, "a kernel");
  for (nnmeter::node_index v : d.free_nodes) mark(v, "free_nodes");
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (seen[i] == 0)
      fail("detect()", "node '" + g.name(static_cast<nnmeter::node_index>(i)) +
                           "' is in no kernel and not free");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("NNMETER_FUZZ_VERBOSE") != nullptr;
  nnmeter::io::onnx_import_options opt;
  const unsigned mode = size == 0 ? 0U : static_cast<unsigned>(data[size - 1]);
  opt.allow_any_opset = (mode & 1U) != 0;
  try {
    if ((mode & 2U) != 0) add_input_shape(data, size, (mode >> 2) & 3U, mode >> 4, opt);
    const nnmeter::io::onnx_import_result r =
        nnmeter::io::import_onnx_from_memory(data, size, opt, "<fuzz>");
    check(r);
    if (verbose)
      std::fprintf(stderr, "mode %u: imported, %zu nodes in file, %zu graph nodes\n", mode,
                   r.accounting.nodes_in_file, r.graph.num_nodes());
  } catch (const nnmeter::error& e) {
    // malformed or unsupported input, reported as documented
    if (verbose) std::fprintf(stderr, "mode %u: nnmeter::error: %s\n", mode, e.what());
  } catch (const std::exception& e) {
    // std::bad_alloc and the like: not a finding by themselves (ASan reports real overruns)
    if (verbose) std::fprintf(stderr, "mode %u: std::exception: %s\n", mode, e.what());
  }
  return 0;
}
