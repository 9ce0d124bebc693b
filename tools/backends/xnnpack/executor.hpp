// nnmeter — runs an nnmeter::graph on this CPU through XNNPACK (one thread, generated weights).
// SPDX-License-Identifier: MIT
//
// docs/xnnpack-backend.md describes what runs how (op -> XNNPACK node or operator), the weight
// layouts, batch-norm folding, the limits and the errors.
#pragma once

#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace nnmeter::backends::xnnpack {

/// Parameters of one node, in the executor's (NHWC, XNNPACK) layouts. Which fields a kind uses:
/// - conv:     filter [Cout, KH, KW, Cin / groups] (OHWI), bias [Cout];
/// - dwconv:   filter [1, KH, KW, C * multiplier] (output channel c * multiplier + m reads
///             input channel c), bias [C * multiplier];
/// - conv_transpose: filter [Cout, KH, KW, Cin / groups], bias [Cout];
/// - fc:       filter [Cout, Cin] (row per output feature), bias [Cout];
/// - bn:       gamma, beta, mean, var [C] and epsilon; y = (x - mean) / sqrt(var + eps) * gamma +
/// beta;
/// - prelu:    filter = slope [C] (C = last dimension);
/// - constant: filter = the tensor's values, row-major in its shape.
/// A kind without a bias (attributes::has_bias == false) has an empty bias.
struct node_params {
  std::vector<float> filter;
  std::vector<float> bias;
  std::vector<float> gamma;
  std::vector<float> beta;
  std::vector<float> mean;
  std::vector<float> var;
  float epsilon = 1e-5f;
};

/// Options of an executor.
struct executor_options {
  /// Seed of the generated weights and inputs. A node's parameters depend only on the seed and
  /// the node's name, kind and shapes, so the same layer gets the same weights in every graph.
  std::uint64_t seed = 1;
  /// Upper bound on the memory the executor may need: every activation tensor, the weights
  /// (as generated and as XNNPACK packs them). A graph over it is refused before anything big
  /// is allocated.
  std::size_t memory_cap_bytes = std::size_t(2) << 30;
  /// Parameters to use instead of generated ones, by node name. Sizes are checked against the
  /// node (std::invalid_argument naming the node and the expected size on a mismatch).
  std::unordered_map<std::string, node_params> params;
};

/// Builds XNNPACK runtimes (subgraph API) and glue operators (operator API: concat, split,
/// slice, channel shuffle) for a graph and runs them, in one thread.
///
/// The graph is lowered in topological order into steps: maximal runs of nodes the subgraph
/// API can express become one xnn_runtime each; concat / split / slice / channel_shuffle are
/// operator-API steps between them. Batch normalisation directly after a conv / dwconv / fc
/// (whose output feeds nothing else) is folded into that op's weights.
///
/// Errors (thrown by the constructor, before any large allocation):
/// - nnmeter::unsupported_error "cannot execute: op <kind> (<type>) at node '<name>': <why>"
///   for an op, attribute or element type XNNPACK cannot run here;
/// - nnmeter::graph_error for unknown (-1) or zero dimensions, shapes that contradict an op
///   (window arithmetic, broadcasting, concat / split sizes, ...), or a graph whose memory
///   estimate exceeds executor_options::memory_cap_bytes;
/// - std::invalid_argument for executor_options::params of the wrong size;
/// - std::runtime_error when XNNPACK itself fails to initialise.
class executor {
 public:
  explicit executor(const nnmeter::graph& g, const executor_options& options = {});
  executor(executor&&) noexcept;
  executor& operator=(executor&&) noexcept;
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;
  ~executor();

  /// Runs the whole graph once, single-threaded. Throws std::runtime_error if XNNPACK fails.
  void invoke();

  /// Graph inputs (op_kind::input nodes) in graph order; NHWC, row-major, float32. They are
  /// filled with generated values in [-1, 1] at construction.
  std::size_t num_inputs() const noexcept;
  float* input(std::size_t i);
  std::size_t input_size(std::size_t i) const;
  const nnmeter::tensor_shape& input_shape(std::size_t i) const;
  const std::string& input_name(std::size_t i) const;

  /// Graph outputs: every output of every node without successors (constants excepted), in
  /// graph order. Valid after invoke().
  std::size_t num_outputs() const noexcept;
  const float* output(std::size_t i) const;
  std::size_t output_size(std::size_t i) const;
  const nnmeter::tensor_shape& output_shape(std::size_t i) const;
  /// Name of the node producing output i.
  const std::string& output_name(std::size_t i) const;

  /// Number of XNNPACK runtimes plus operator-API operators the graph was lowered to.
  std::size_t num_runtimes() const noexcept;
  /// Number of XNNPACK subgraph nodes defined over all runtimes (before XNNPACK's own fusion).
  std::size_t num_xnn_nodes() const noexcept;
  /// Names of the batch-norm nodes folded into the preceding conv / dwconv / fc.
  const std::vector<std::string>& folded_bn() const noexcept;

  /// Parameters used for a node (as given in the options or generated; before bn folding).
  /// Throws std::out_of_range when the node has no parameters.
  const node_params& params(const std::string& node_name) const;
  /// True when the node has parameters.
  bool has_params(const std::string& node_name) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace nnmeter::backends::xnnpack
