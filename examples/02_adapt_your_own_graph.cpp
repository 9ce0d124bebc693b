// Example 02: adapt your own graph type with one graph_traits specialisation, then detect
// its kernels and print nn-Meter's feature vectors -- no conversion to nnmeter::graph.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

// ---- The user's own IR, as a NAS code base might have it ----------------------------------

/// One layer of a searched network. Activations are square: `hw` is the input's height and
/// width; `inputs` are indices of earlier layers.
struct my_layer {
  std::string kind;  // "input", "conv", "dwconv", "bn", "relu", "hswish", "add", "gap", "fc"
  int in_ch = 0;
  int out_ch = 0;
  int k = 1;
  int stride = 1;
  int hw = 1;
  std::vector<int> inputs;
};

/// A network: layers in execution order.
struct my_net {
  std::vector<my_layer> layers;
};

// ---- The adaptation: one specialisation, nothing else ---------------------------------------

template <>
struct nnmeter::graph_traits<my_net> {
  using node_id = std::size_t;

  static std::size_t num_nodes(const my_net& g) { return g.layers.size(); }

  static nnmeter::op_kind op(const my_net& g, node_id n) {
    const std::string& kind = g.layers[n].kind;
    if (kind == "gap") return nnmeter::op_kind::global_avgpool;
    return nnmeter::parse_op_kind(kind).value_or(nnmeter::op_kind::other);
  }

  /// Producers, in operand order (int indices convert to node_id).
  static const std::vector<int>& predecessors(const my_net& g, node_id n) {
    return g.layers[n].inputs;
  }

  /// NHWC output shape; SAME padding, so spatial size = ceil(hw / stride).
  static nnmeter::tensor_shape output_shape(const my_net& g, node_id n) {
    const my_layer& l = g.layers[n];
    const int out_hw = (l.hw + l.stride - 1) / l.stride;
    if (l.kind == "fc") return {1, l.out_ch};
    if (l.kind == "gap") return {1, 1, 1, l.out_ch};
    return {1, out_hw, out_hw, l.out_ch};
  }
  static std::vector<nnmeter::tensor_shape> output_shapes(const my_net& g, node_id n) {
    return {output_shape(g, n)};
  }
  static std::vector<nnmeter::tensor_shape> input_shapes(const my_net& g, node_id n) {
    std::vector<nnmeter::tensor_shape> shapes;
    for (int p : g.layers[n].inputs) shapes.push_back(output_shape(g, static_cast<node_id>(p)));
    return shapes;
  }

  static nnmeter::attributes attrs(const my_net& g, node_id n) {
    const my_layer& l = g.layers[n];
    nnmeter::attributes a;
    if (l.kind == "conv" || l.kind == "dwconv") {
      a.kernel = {l.k, l.k};
      a.strides = {l.stride, l.stride};
      a.padding = nnmeter::padding_mode::same;
      a.groups = l.kind == "dwconv" ? l.in_ch : 1;
    }
    return a;
  }

  /// Optional: names appear in error messages.
  static std::string name(const my_net& g, node_id n) {
    return g.layers[n].kind + "_" + std::to_string(n);
  }
};

static_assert(nnmeter::is_op_graph_v<my_net>,
              "my_net must model nnmeter::op_graph through its graph_traits specialisation");

// ---- Use it ------------------------------------------------------------------------------------

int main() {
  // A small searched network: stem, one inverted-residual-like block with a skip, a 1x1
  // expansion with h-swish, and a classifier head.
  const my_net net{{
      {"input", 3, 3, 1, 1, 224, {}},      // 0
      {"conv", 3, 16, 3, 2, 224, {0}},     // 1  stem
      {"bn", 16, 16, 1, 1, 112, {1}},      // 2
      {"relu", 16, 16, 1, 1, 112, {2}},    // 3
      {"dwconv", 16, 16, 3, 1, 112, {3}},  // 4  depthwise
      {"bn", 16, 16, 1, 1, 112, {4}},      // 5
      {"relu", 16, 16, 1, 1, 112, {5}},    // 6
      {"conv", 16, 16, 1, 1, 112, {6}},    // 7  projection
      {"bn", 16, 16, 1, 1, 112, {7}},      // 8
      {"add", 16, 16, 1, 1, 112, {8, 3}},  // 9  skip connection
      {"conv", 16, 64, 1, 2, 112, {9}},    // 10 expansion, stride 2
      {"bn", 64, 64, 1, 1, 56, {10}},      // 11
      {"hswish", 64, 64, 1, 1, 56, {11}},  // 12
      {"gap", 64, 64, 1, 1, 56, {12}},     // 13
      {"fc", 64, 1000, 1, 1, 1, {13}},     // 14 classifier
  }};

  const std::vector<nnmeter::kernel> kernels =
      nnmeter::detect_kernels(net, nnmeter::default_rules());

  std::printf("%zu layers -> %zu kernels\n", net.layers.size(), kernels.size());
  for (const nnmeter::kernel& kernel : kernels) {
    std::printf("%-18s %-16s [", kernel.name.c_str(), kernel.op.c_str());
    const char* sep = "";
    for (double f : nnmeter::features(kernel, nnmeter::feature_set::nnmeter)) {
      std::printf("%s%.6g", sep, f);
      sep = ", ";
    }
    std::printf("]\n");
  }
  return 0;
}
