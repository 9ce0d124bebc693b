// nnmeter — multi-op fusion patterns (nn-Meter's "fusion units").
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Type of a pattern vertex that matches any node and is not part of the fused block
/// (nn-Meter's `dummy`): it pins where the block's input comes from.
inline constexpr std::string_view pattern_wildcard = "dummy";

/// One vertex of a compile-time pattern: an nn-Meter normalised op type and up to two inputs,
/// given as indices of earlier vertices (-1 = none).
struct pattern_node {
  std::string_view type;
  std::int8_t in0 = -1;
  std::int8_t in1 = -1;
};

/// One variant of a built-in block: a view of pattern_node entries in topological order.
struct pattern_variant {
  const pattern_node* nodes;
  std::size_t size;
};

/// A built-in multi-op block and its variants, in matching order.
struct builtin_block {
  std::string_view type;
  const pattern_variant* variants;
  std::size_t variant_count;
};

/// Compile-time check of a pattern: non-empty types, inputs point at earlier vertices, at
/// least one vertex that is not a wildcard, and every vertex is connected to the others.
constexpr bool valid_pattern(const pattern_node* v, std::size_t n) noexcept {
  if (n == 0 || n > 64) return false;
  bool has_real = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (v[i].type.empty()) return false;
    if (v[i].type != pattern_wildcard) has_real = true;
    const std::int8_t ins[2] = {v[i].in0, v[i].in1};
    for (std::int8_t in : ins)
      if (in < -1 || (in >= 0 && static_cast<std::size_t>(in) >= i)) return false;
    if (i > 0) {
      bool linked = v[i].in0 >= 0 || v[i].in1 >= 0;
      for (std::size_t j = i + 1; j < n && !linked; ++j)
        linked = static_cast<std::size_t>(v[j].in0) == i || static_cast<std::size_t>(v[j].in1) == i;
      if (!linked) return false;
    }
  }
  return has_real;
}

namespace detail {
// nn-Meter's built-in fusion units (kernel_detector/fusion_lib/*_fusionunit.json, MIT,
// Copyright (c) Microsoft Corporation), re-expressed as edge lists over normalised types.
// Wildcard inputs are listed where the original pattern connects its `dummy_input`.

// hswish: x * relu6(x + 3) / 6 as TensorFlow and ONNX export it.
inline constexpr pattern_node hswish_tf[] = {
    {"dummy"}, {"add", 0}, {"relu", 1}, {"mul", 2}, {"mul", 3, 0}};
inline constexpr pattern_node hswish_onnx[] = {
    {"dummy"}, {"add", 0}, {"relu", 1}, {"div", 2}, {"mul", 0, 3}};
inline constexpr pattern_node hswish_tf_free[] = {{"add"}, {"relu", 0}, {"mul", 1}, {"mul", 2}};
inline constexpr pattern_node hswish_onnx_free[] = {{"add"}, {"relu", 0}, {"div", 1}, {"mul", 2}};
// Not in nn-Meter: torch.onnx exports nn.Hardswish below opset 14 as x * HardSigmoid(x)
// (alpha 1/6, beta 0.5), which nn-Meter leaves as two kernels it cannot predict. Matched last.
inline constexpr pattern_node hswish_hardsigmoid[] = {{"dummy"}, {"hardsigmoid", 0}, {"mul", 0, 1}};
inline constexpr pattern_variant hswish_variants[] = {
    {hswish_tf, 5}, {hswish_onnx, 5}, {hswish_tf_free, 4}, {hswish_onnx_free, 4},
    {hswish_hardsigmoid, 3}};

// se: squeeze-and-excitation.
inline constexpr pattern_node se_tf[] = {
    {"dummy"}, {"avgpool", 0}, {"conv", 1}, {"BiasAdd", 2}, {"relu", 3}, {"conv", 4},
    {"BiasAdd", 5}, {"add", 6}, {"relu", 7}, {"mul", 8}, {"mul", 9, 0}};
inline constexpr pattern_node se_onnx[] = {
    {"dummy"}, {"gap", 0}, {"conv", 1}, {"relu", 2}, {"conv", 3}, {"hardsigmoid", 4},
    {"mul", 0, 5}};
inline constexpr pattern_node se_onnx_reducemean[] = {
    {"gap"}, {"gap", 0}, {"conv", 1}, {"relu", 2}, {"conv", 3},
    {"add", 4}, {"relu", 5}, {"div", 6}, {"mul", 4, 7}, {"mul", 8}};
inline constexpr pattern_variant se_variants[] = {
    {se_tf, 11}, {se_onnx, 7}, {se_onnx_reducemean, 10}};

// channelshuffle: reshape -> transpose -> reshape; the TensorFlow export computes the target
// shapes with StridedSlice -> Pack pairs.
inline constexpr pattern_node channelshuffle_tf[] = {
    {"StridedSlice"}, {"Pack", 0}, {"reshape", 1}, {"transpose", 2},
    {"StridedSlice"}, {"Pack", 4}, {"reshape", 3, 5}};
inline constexpr pattern_node channelshuffle_onnx[] = {
    {"reshape"}, {"transpose", 0}, {"reshape", 1}};
inline constexpr pattern_variant channelshuffle_variants[] = {
    {channelshuffle_tf, 7}, {channelshuffle_onnx, 3}};

// gap: global mean followed by the reshape/flatten to [N, C].
inline constexpr pattern_node gap_reshape[] = {{"gap"}, {"reshape", 0}};
inline constexpr pattern_variant gap_variants[] = {{gap_reshape, 2}};

constexpr bool valid_variants(const pattern_variant* v, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (!valid_pattern(v[i].nodes, v[i].size)) return false;
  return n > 0;
}
}  // namespace detail

/// nn-Meter's built-in multi-op blocks in the order it applies them (after the chain units
/// built from 3-op BF rules).
inline constexpr builtin_block builtin_blocks[] = {
    {"se", detail::se_variants, 3},
    {"hswish", detail::hswish_variants, 5},
    {"channelshuffle", detail::channelshuffle_variants, 2},
    {"gap", detail::gap_variants, 1},
};

constexpr bool valid_builtin_blocks() noexcept {
  for (const builtin_block& b : builtin_blocks)
    if (b.type.empty() || !detail::valid_variants(b.variants, b.variant_count)) return false;
  return true;
}
static_assert(valid_builtin_blocks(), "a built-in fusion pattern is malformed");

/// A pattern at run time: vertices in topological order, each with its input vertices.
struct pattern_vertex {
  std::string type;
  std::vector<int> inputs;
};
struct pattern {
  std::vector<pattern_vertex> vertices;
};

/// Converts a compile-time pattern variant to its run-time form.
inline pattern to_pattern(const pattern_variant& v) {
  pattern p;
  for (std::size_t i = 0; i < v.size; ++i) {
    pattern_vertex pv{std::string(v.nodes[i].type), {}};
    if (v.nodes[i].in0 >= 0) pv.inputs.push_back(v.nodes[i].in0);
    if (v.nodes[i].in1 >= 0) pv.inputs.push_back(v.nodes[i].in1);
    p.vertices.push_back(std::move(pv));
  }
  return p;
}

NNMETER_END_NAMESPACE
