// nnmeter — non-owning struct-of-arrays view of a tree ensemble. See docs/forests.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

/// Non-owning view of a regression tree ensemble stored as struct-of-arrays: one entry per node in
/// every per-node array, one entry per tree in tree_roots. A literal aggregate, so a generated
/// header can brace-initialise it from `inline constexpr` arrays and evaluate it in a
/// `static_assert`:
///
///     inline constexpr std::int32_t  left[]         = {1, -1, -1};
///     inline constexpr std::uint32_t feature[]      = {0, 0, 0};
///     inline constexpr float         split_value[]  = {0.5f, -1.0f, 1.0f};
///     inline constexpr std::uint8_t  default_left[] = {1, 0, 0};
///     inline constexpr std::uint32_t tree_roots[]   = {0};
///     inline constexpr nnmeter::forest_view v{left, feature, split_value, default_left, 3,
///                                             tree_roots, 1, /*num_features=*/1, 0.5f};
///
/// Layout invariants (checked by nnmeter::validate, assumed by nnmeter::evaluate):
/// - tree t owns the contiguous node range [tree_roots[t], tree_roots[t + 1]) (the last tree ends
///   at num_nodes); tree_roots[0] == 0, every tree has at least one node and its root first;
/// - the two children of an internal node are stored next to each other: the left child at the
///   absolute index left[n], the right child at left[n] + 1, both inside the tree's range and
///   after their parent (left[n] > n). XGBoost allocates children that way too; it saves the walk
///   a load and lets it select the child without a branch (docs/forests.md has the numbers);
/// - a leaf has left == -1; every node of a tree but its root is the child of exactly one node
///   (so the root reaches each node exactly once, and there is no cycle);
/// - feature[n] < num_features for every node (leaves carry 0; their feature is never used but
///   the branch-free walk reads it), unless the forest has only leaves and num_features == 0;
/// - split values and base_score are finite.
///
/// Semantics (XGBoost's): at an internal node go left iff `x[feature] < split_value` (strict); a
/// NaN feature goes left iff default_left != 0. The prediction is base_score plus the leaf values,
/// added in float in tree order (see evaluate.hpp).
struct forest_view {
  /// Per node: absolute index of the left child (the right child is the next node), -1 for a leaf.
  const std::int32_t* left = nullptr;
  /// Per node: index of the split feature; 0 for a leaf.
  const std::uint32_t* feature = nullptr;
  /// Per node: split threshold of an internal node, output value of a leaf.
  const float* split_value = nullptr;
  /// Per node: nonzero when a NaN (missing) feature goes to the left child (unused for leaves).
  const std::uint8_t* default_left = nullptr;
  /// Length of every per-node array.
  std::size_t num_nodes = 0;
  /// Per tree: index of its root node; strictly increasing, starting at 0.
  const std::uint32_t* tree_roots = nullptr;
  /// Length of tree_roots.
  std::size_t num_trees = 0;
  /// Length of the feature vector an evaluation reads.
  std::uint32_t num_features = 0;
  /// Initial value of the float accumulator (XGBoost's base_score, in output units).
  float base_score = 0.0f;

  /// First node (the root) of tree `t`. Precondition: t < num_trees.
  constexpr std::size_t tree_begin(std::size_t t) const noexcept { return tree_roots[t]; }
  /// One past the last node of tree `t`. Precondition: t < num_trees.
  constexpr std::size_t tree_end(std::size_t t) const noexcept {
    return t + 1 < num_trees ? std::size_t{tree_roots[t + 1]} : num_nodes;
  }
  /// True when node `n` is a leaf. Precondition: n < num_nodes.
  constexpr bool is_leaf(std::size_t n) const noexcept { return left[n] < 0; }
};

NNMETER_END_NAMESPACE
