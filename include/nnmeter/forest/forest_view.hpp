// nnmeter — non-owning struct-of-arrays view of a tree ensemble. See docs/forests.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

/// Non-owning view of a regression tree ensemble stored as struct-of-arrays (one entry per node in
/// every per-node array). It is a literal aggregate, so a generated header can brace-initialise it
/// from `inline constexpr` arrays and evaluate it inside a `static_assert`:
///
///     inline constexpr std::int32_t left[] = {1, -1, -1};
///     ...
///     inline constexpr nnmeter::forest_view v{left, right, feature, split_value, default_left,
///                                             std::size(left), tree_roots, std::size(tree_roots),
///                                             /*num_features=*/2, /*base_score=*/0.5f};
///
/// Layout invariants (checked by `nnmeter::validate`, assumed by `nnmeter::evaluate`):
/// - tree `t` owns the contiguous node range [tree_roots[t], tree_roots[t + 1]) (the last tree ends
///   at num_nodes); tree_roots[0] == 0 and every tree has at least one node, its root first;
/// - children are *absolute* node indices into the arrays (not relative to the tree) and lie in
///   the tree's own range; every node of the range is reached from the root exactly once;
/// - a leaf has left == right == -1; an internal node has a split feature < num_features and a
///   finite split value; every leaf value is finite.
///
/// Semantics (XGBoost's): at an internal node go left iff `x[feature] < split_value` (strict); a
/// NaN feature goes left iff default_left != 0. The prediction is base_score plus the leaf values,
/// added in float in tree order (see evaluate.hpp).
struct forest_view {
  /// Per node: absolute index of the left child, or -1 for a leaf.
  const std::int32_t* left = nullptr;
  /// Per node: absolute index of the right child, or -1 for a leaf.
  const std::int32_t* right = nullptr;
  /// Per node: index of the split feature (ignored for leaves).
  const std::uint32_t* feature = nullptr;
  /// Per node: split threshold for an internal node, output value for a leaf.
  const float* split_value = nullptr;
  /// Per node: nonzero when a NaN (missing) feature goes to the left child (ignored for leaves).
  const std::uint8_t* default_left = nullptr;
  /// Length of every per-node array.
  std::size_t num_nodes = 0;
  /// Per tree: index of its root node, strictly increasing, starting at 0.
  const std::uint32_t* tree_roots = nullptr;
  /// Length of tree_roots.
  std::size_t num_trees = 0;
  /// Length of the feature vector an evaluation reads.
  std::uint32_t num_features = 0;
  /// Initial value of the float accumulator (XGBoost's base_score, in output units).
  float base_score = 0.0f;

  /// First node of tree `t` (its root). Precondition: t < num_trees.
  constexpr std::size_t tree_begin(std::size_t t) const noexcept { return tree_roots[t]; }
  /// One past the last node of tree `t`. Precondition: t < num_trees.
  constexpr std::size_t tree_end(std::size_t t) const noexcept {
    return t + 1 < num_trees ? std::size_t{tree_roots[t + 1]} : num_nodes;
  }
  /// True when node `n` is a leaf. Precondition: n < num_nodes.
  constexpr bool is_leaf(std::size_t n) const noexcept { return left[n] < 0; }
};

NNMETER_END_NAMESPACE
