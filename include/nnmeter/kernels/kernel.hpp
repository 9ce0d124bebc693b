// nnmeter — a detected kernel: a group of nodes that the device runs as one operator.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/tensor_shape.hpp>
#include <nnmeter/kernels/kernel_kind.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// One kernel found by detect_kernels. Its configuration fields are those of nn-Meter's kernel
/// records (taken from the kernel's root node, i.e. its first node in topological order, or
/// for a multi-op block the block's entry node), plus what the richer feature set needs.
struct kernel {
  /// Fused type: member types joined by '-' ("conv-bn-relu", "se", "hswish", "add").
  std::string op;
  /// "<op>#<k>", k counting every group of the detection (nn-Meter's numbering).
  std::string name;
  /// Predictor kind (kernel_kind_of(op)).
  kernel_kind kind = kernel_kind::other;
  /// Member node indices (dense node ids of the source graph), root first.
  std::vector<node_index> nodes;
  /// Shapes of the root's data inputs (nn-Meter `input_tensors`).
  std::vector<tensor_shape> input_tensors;
  /// Shapes of the root's outputs (nn-Meter writes `cout` when there is one, else these). A
  /// multi-op block root gives its exit node's outputs; slices that partition a tensor give
  /// their pieces in order, as a Split node does (docs/fusion-rules.md).
  std::vector<tensor_shape> output_tensors;
  /// Window {kh, kw} and strides {sh, sw} of a windowed root (nn-Meter `ks`, `strides`).
  std::optional<std::array<std::int64_t, 2>> ks;
  std::optional<std::array<std::int64_t, 2>> strides;
  /// Split axis of a split root or of a slice partition (nn-Meter `split_dim`).
  std::optional<std::int64_t> split_dim;
  /// H and W of the first input when it has rank 4; C = its last dimension.
  std::optional<std::int64_t> inputh;
  std::optional<std::int64_t> inputw;
  std::optional<std::int64_t> cin;
  /// Last dimension of the root's only output (absent with several outputs).
  std::optional<std::int64_t> cout;
  /// Root attributes used by the richer feature set.
  std::array<std::int64_t, 2> dilations{1, 1};
  std::int64_t groups = 1;
  /// Element type of the root's output.
  dtype elem = dtype::f32;
  /// Every dimension of input_tensors and output_tensors is known (none is -1). When false
  /// the kernel has no extended feature vector, and nn-Meter's only where the fields it reads
  /// are known: an unknown size never becomes a feature.
  bool shapes_known = true;
  /// Multiply-adds counted as 2 FLOPs, summed over the member nodes; NaN when a member's
  /// shape has an unknown dimension.
  double flops = 0.0;
  /// Bytes read and written by the kernel: each tensor read from outside once, outputs read
  /// outside (or by nobody), weights (docs/fusion-rules.md, "Costs"); NaN when a
  /// member's shape has an unknown dimension.
  double bytes = 0.0;
  /// Neighbouring kernels (indices into the detection's kernel list), in nn-Meter's order;
  /// a kernel feeding another through two edges is listed twice, as nn-Meter does.
  std::vector<std::size_t> inbounds;
  std::vector<std::size_t> outbounds;
};

NNMETER_END_NAMESPACE
