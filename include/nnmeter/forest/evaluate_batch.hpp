// nnmeter — evaluation of one forest on many feature vectors at once.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

/// Predictions of forest `f` for `rows` feature vectors stored row after row, `stride` floats
/// apart (stride >= f.num_features), written to out[0 .. rows). Each result equals
/// evaluate(f, row) bit for bit: every row has its own float accumulator, started at base_score
/// and fed the leaves in tree order. The loop runs trees outside and rows inside, so a tree's
/// nodes are fetched from memory once for all rows (a model's kernels of one kind share a
/// forest); that is what makes predicting a whole graph cheap.
inline void evaluate_batch(const forest_view& f, const float* x, std::size_t rows,
                           std::size_t stride, float* out) noexcept {
  constexpr std::size_t block_rows = 64;  // accumulators and NaN flags kept on the stack
  for (std::size_t r0 = 0; r0 < rows; r0 += block_rows) {
    const std::size_t nr = rows - r0 < block_rows ? rows - r0 : block_rows;
    bool has_nan[block_rows] = {};
    float acc[block_rows];
    for (std::size_t r = 0; r < nr; ++r) {
      const float* row = x + (r0 + r) * stride;
      for (std::uint32_t i = 0; i < f.num_features; ++i)
        has_nan[r] = has_nan[r] || detail::forest_is_nan(row[i]);
      acc[r] = f.base_score;
    }
    std::size_t t = 0;
    if (f.num_features != 0) {
      for (; t + detail::forest_lanes <= f.num_trees; t += detail::forest_lanes) {
        for (std::size_t r = 0; r < nr; ++r) {
          const float* row = x + (r0 + r) * stride;
          acc[r] = has_nan[r] ? detail::forest_walk8<float, true>(f, row, t, acc[r])
                              : detail::forest_walk8<float, false>(f, row, t, acc[r]);
        }
      }
    }
    for (; t < f.num_trees; ++t)
      for (std::size_t r = 0; r < nr; ++r)
        acc[r] += f.split_value[detail::forest_leaf(f, t, x + (r0 + r) * stride)];
    for (std::size_t r = 0; r < nr; ++r) out[r0 + r] = acc[r];
  }
}

NNMETER_END_NAMESPACE
