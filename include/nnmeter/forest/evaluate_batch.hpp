// nnmeter — evaluation of one forest on many feature vectors at once.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

NNMETER_BEGIN_NAMESPACE

namespace detail {

/// Depth bound of every group of forest_lanes consecutive trees (the walk's groups): entry g is
/// the longest root-to-leaf path, in edges, of trees [8g, 8g + 8). Trailing trees that fill no
/// group get no entry. Precondition: validate(f) succeeds (children come after their parents).
inline std::vector<std::uint32_t> forest_group_depths(const forest_view& f) {
  std::vector<std::uint32_t> depth(f.num_nodes, 0);
  for (std::size_t n = 0; n < f.num_nodes; ++n) {
    const std::int64_t l = f.left[n];
    if (l <= static_cast<std::int64_t>(n) || static_cast<std::size_t>(l) + 1 >= f.num_nodes) continue;
    depth[static_cast<std::size_t>(l)] = depth[n] + 1;
    depth[static_cast<std::size_t>(l) + 1] = depth[n] + 1;
  }
  std::vector<std::uint32_t> groups(f.num_trees / forest_lanes, 0);
  for (std::size_t t = 0; t < groups.size() * forest_lanes; ++t) {
    std::uint32_t& g = groups[t / forest_lanes];
    for (std::size_t n = f.tree_begin(t); n < f.tree_end(t); ++n) g = depth[n] > g ? depth[n] : g;
  }
  return groups;
}

/// One level of a walk with a known depth bound: like forest_step, without the leaf test.
template <bool WithNaN>
inline void forest_step_bounded(const forest_view& f, const float* x, std::ptrdiff_t& n) noexcept {
  const auto i = static_cast<std::size_t>(n);
  const std::ptrdiff_t l = f.left[i];
  const float xv = x[f.feature[i]];
  const std::ptrdiff_t child = l + forest_go_right<WithNaN>(f, i, xv);
  n = n < child ? child : n;
}

/// forest_walk8 for a forest whose trees are at most `depth` levels deep: it walks exactly
/// `depth` levels (a lane on a leaf stays there), so no step tests whether all lanes are done.
template <bool WithNaN>
inline float forest_walk8_bounded(const forest_view& f, const float* x, std::size_t t,
                                  std::uint32_t depth, float acc) noexcept {
  std::ptrdiff_t n0 = f.tree_roots[t + 0], n1 = f.tree_roots[t + 1];
  std::ptrdiff_t n2 = f.tree_roots[t + 2], n3 = f.tree_roots[t + 3];
  std::ptrdiff_t n4 = f.tree_roots[t + 4], n5 = f.tree_roots[t + 5];
  std::ptrdiff_t n6 = f.tree_roots[t + 6], n7 = f.tree_roots[t + 7];
  for (std::uint32_t d = 0; d < depth; ++d) {
    forest_step_bounded<WithNaN>(f, x, n0);
    forest_step_bounded<WithNaN>(f, x, n1);
    forest_step_bounded<WithNaN>(f, x, n2);
    forest_step_bounded<WithNaN>(f, x, n3);
    forest_step_bounded<WithNaN>(f, x, n4);
    forest_step_bounded<WithNaN>(f, x, n5);
    forest_step_bounded<WithNaN>(f, x, n6);
    forest_step_bounded<WithNaN>(f, x, n7);
  }
  // Tree order, as in forest_walk8: the sum stays bit-exact with XGBoost.
  acc += f.split_value[static_cast<std::size_t>(n0)];
  acc += f.split_value[static_cast<std::size_t>(n1)];
  acc += f.split_value[static_cast<std::size_t>(n2)];
  acc += f.split_value[static_cast<std::size_t>(n3)];
  acc += f.split_value[static_cast<std::size_t>(n4)];
  acc += f.split_value[static_cast<std::size_t>(n5)];
  acc += f.split_value[static_cast<std::size_t>(n6)];
  acc += f.split_value[static_cast<std::size_t>(n7)];
  return acc;
}

/// The row-blocked loop of evaluate_batch: trees outside, rows inside, a float accumulator per
/// row started at base_score. `walk8(t, row, has_nan, acc)` walks trees [t, t + 8) for one row
/// and returns acc plus their leaves in tree order; the tail of fewer than 8 trees is walked
/// one tree at a time.
template <class Walk8>
inline void evaluate_rows(const forest_view& f, const float* x, std::size_t rows,
                          std::size_t stride, float* out, Walk8&& walk8) noexcept {
  constexpr std::size_t block_rows = 64;  // accumulators and NaN flags kept on the stack
  for (std::size_t r0 = 0; r0 < rows; r0 += block_rows) {
    const std::size_t nr = rows - r0 < block_rows ? rows - r0 : block_rows;
    bool has_nan[block_rows] = {};
    float acc[block_rows];
    for (std::size_t r = 0; r < nr; ++r) {
      const float* row = x + (r0 + r) * stride;
      for (std::uint32_t i = 0; i < f.num_features; ++i)
        has_nan[r] = has_nan[r] || forest_is_nan(row[i]);
      acc[r] = f.base_score;
    }
    std::size_t t = 0;
    if (f.num_features != 0) {
      for (; t + forest_lanes <= f.num_trees; t += forest_lanes)
        for (std::size_t r = 0; r < nr; ++r)
          acc[r] = walk8(t, x + (r0 + r) * stride, has_nan[r], acc[r]);
    }
    for (; t < f.num_trees; ++t)
      for (std::size_t r = 0; r < nr; ++r)
        acc[r] += f.split_value[forest_leaf(f, t, x + (r0 + r) * stride)];
    for (std::size_t r = 0; r < nr; ++r) out[r0 + r] = acc[r];
  }
}

/// evaluate_batch with the depth of every group of trees known (group_depth as computed by
/// forest_group_depths(f), e.g. cached by a predictor); same results bit for bit.
inline void evaluate_batch_bounded(const forest_view& f, const std::uint32_t* group_depth,
                                   const float* x, std::size_t rows, std::size_t stride,
                                   float* out) noexcept {
  evaluate_rows(f, x, rows, stride, out,
                [&](std::size_t t, const float* row, bool has_nan, float acc) {
                  const std::uint32_t depth = group_depth[t / forest_lanes];
                  return has_nan ? forest_walk8_bounded<true>(f, row, t, depth, acc)
                                 : forest_walk8_bounded<false>(f, row, t, depth, acc);
                });
}

}  // namespace detail

/// Predictions of forest `f` for `rows` feature vectors stored row after row, `stride` floats
/// apart (stride >= f.num_features), written to out[0 .. rows). Each result equals
/// evaluate(f, row) bit for bit: every row has its own float accumulator, started at base_score
/// and fed the leaves in tree order. The loop runs trees outside and rows inside, so a tree's
/// nodes are fetched from memory once for all rows (a model's kernels of one kind share a
/// forest); that is what makes predicting a whole graph cheap.
inline void evaluate_batch(const forest_view& f, const float* x, std::size_t rows,
                           std::size_t stride, float* out) noexcept {
  detail::evaluate_rows(f, x, rows, stride, out,
                        [&](std::size_t t, const float* row, bool has_nan, float acc) {
                          return has_nan ? detail::forest_walk8<float, true>(f, row, t, acc)
                                         : detail::forest_walk8<float, false>(f, row, t, acc);
                        });
}

NNMETER_END_NAMESPACE
