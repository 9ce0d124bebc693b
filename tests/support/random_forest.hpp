// Test helper: random but valid forests (breadth-first trees, children as adjacent pairs, after
// their parent), optionally with thresholds taken from sample feature rows so that real feature
// vectors take both branches.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace nnmeter_test {

/// A forest of `trees` trees of depth at most `max_depth` (each node above depth 2 splits with
/// probability 0.8) over `num_features` features. A split on feature j takes its threshold from
/// a random row of `rows` (its j-th value times a random factor in [0.5, 1.5)) when rows are
/// given, else uniformly from [0, 1). Leaf values are in [0, leaf_scale); default_left is random.
inline nnmeter::forest random_forest(std::mt19937& rng, std::size_t trees,
                                     std::uint32_t num_features, int max_depth,
                                     const std::vector<nnmeter::feature_vector>& rows = {},
                                     float leaf_scale = 0.05f) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  nnmeter::forest f;
  f.num_features = num_features;
  f.base_score = u(rng) * leaf_scale;
  for (std::size_t t = 0; t < trees; ++t) {
    const auto base = static_cast<std::int32_t>(f.num_nodes());
    f.tree_roots.push_back(static_cast<std::uint32_t>(base));
    std::vector<int> depth{0};
    f.left.push_back(-1);
    f.feature.push_back(0);
    f.split_value.push_back(0.0f);
    f.default_left.push_back(0);
    for (std::size_t i = 0; i < depth.size(); ++i) {
      const std::size_t n = static_cast<std::size_t>(base) + i;
      const bool split =
          num_features != 0 && depth[i] < max_depth && (depth[i] < 2 || u(rng) < 0.8f);
      if (!split) {
        f.split_value[n] = u(rng) * leaf_scale;
        continue;
      }
      const auto j = static_cast<std::uint32_t>(rng() % num_features);
      f.left[n] = static_cast<std::int32_t>(f.num_nodes());
      f.feature[n] = j;
      f.split_value[n] = rows.empty()
                             ? u(rng)
                             : static_cast<float>(rows[rng() % rows.size()][j]) * (0.5f + u(rng));
      f.default_left[n] = static_cast<std::uint8_t>(rng() & 1u);
      for (int k = 0; k < 2; ++k) {
        f.left.push_back(-1);
        f.feature.push_back(0);
        f.split_value.push_back(0.0f);
        f.default_left.push_back(0);
        depth.push_back(depth[i] + 1);
      }
    }
  }
  f.validate();
  return f;
}

}  // namespace nnmeter_test
