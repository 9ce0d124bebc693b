// nnmeter — loop evaluator for tree ensembles, usable in constant expressions. See docs/forests.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

namespace detail {

/// True for NaN without <cmath> (std::isnan is not constexpr in C++17). Wrong under -ffast-math,
/// which the library does not support.
template <class Real>
constexpr bool forest_is_nan(Real v) noexcept {
  return v != v;
}

/// Feature `i` as the float the trees compare against: double features are rounded to float,
/// exactly as XGBoost stores its input matrix.
template <class Real>
constexpr float forest_feature(const Real* x, std::size_t i) noexcept {
  return static_cast<float>(x[i]);
}

/// 1 when the walk leaves node `i` to the right for feature value `xv`, else 0. XGBoost's rule:
/// left iff xv < split (strict); NaN compares false, so it goes right unless default_left says
/// otherwise. Integer arithmetic, not `?:`, so no compiler turns it into a branch.
template <bool WithNaN>
constexpr std::int32_t forest_go_right(const forest_view& f, std::size_t i, float xv) noexcept {
  std::int32_t right = static_cast<std::int32_t>(!(xv < f.split_value[i]));
  if constexpr (WithNaN) {
    const auto nan_left = static_cast<std::int32_t>(forest_is_nan(xv)) &
                          static_cast<std::int32_t>(f.default_left[i] != 0);
    right &= 1 - nan_left;
  }
  return right;
}

/// Moves lane node `n` one level down; a lane on a leaf stays there. `all` accumulates the AND of
/// the `left` entries seen, so it is negative once every lane of a group sits on a leaf.
template <class Real, bool WithNaN>
constexpr void forest_step(const forest_view& f, const Real* x, std::int32_t& n,
                           std::int32_t& all) noexcept {
  const auto i = static_cast<std::size_t>(n);
  const std::int32_t l = f.left[i];
  // On a leaf this reads x[feature] for nothing (the layout keeps that index valid): cheaper than
  // a branch or a mask.
  const float xv = forest_feature(x, f.feature[i]);
  const std::int32_t child = l + forest_go_right<WithNaN>(f, i, xv);
  // Children come after their parent, and on a leaf child is -1 or 0, both <= n: the maximum is
  // the next node either way. A max compiles to a conditional move, where `l < 0 ? n : child`
  // became a branch (gcc) that mispredicts whenever trees end at different depths.
  n = n < child ? child : n;
  all &= l;
}

/// Number of trees walked together. Eight independent walks hide most of the load-to-use latency
/// of one node visit (node → feature → x[feature] → compare → child) that a one-tree-at-a-time
/// walk pays in full, and still fit the x86-64 registers; see docs/forests.md for the numbers.
inline constexpr std::size_t forest_lanes = 8;

/// Walks trees [t, t + 8) in lockstep, then adds their leaves to `acc` in tree order.
template <class Real, bool WithNaN>
constexpr float forest_walk8(const forest_view& f, const Real* x, std::size_t t,
                             float acc) noexcept {
  // Eight named scalars rather than an array: with an array gcc 12's SLP vectoriser packed the
  // lanes into SSE registers, and the extract/insert shuffles made the walk slower (1.3x).
  std::int32_t n0 = static_cast<std::int32_t>(f.tree_roots[t + 0]);
  std::int32_t n1 = static_cast<std::int32_t>(f.tree_roots[t + 1]);
  std::int32_t n2 = static_cast<std::int32_t>(f.tree_roots[t + 2]);
  std::int32_t n3 = static_cast<std::int32_t>(f.tree_roots[t + 3]);
  std::int32_t n4 = static_cast<std::int32_t>(f.tree_roots[t + 4]);
  std::int32_t n5 = static_cast<std::int32_t>(f.tree_roots[t + 5]);
  std::int32_t n6 = static_cast<std::int32_t>(f.tree_roots[t + 6]);
  std::int32_t n7 = static_cast<std::int32_t>(f.tree_roots[t + 7]);
  for (;;) {
    std::int32_t all = -1;
    forest_step<Real, WithNaN>(f, x, n0, all);
    forest_step<Real, WithNaN>(f, x, n1, all);
    forest_step<Real, WithNaN>(f, x, n2, all);
    forest_step<Real, WithNaN>(f, x, n3, all);
    forest_step<Real, WithNaN>(f, x, n4, all);
    forest_step<Real, WithNaN>(f, x, n5, all);
    forest_step<Real, WithNaN>(f, x, n6, all);
    forest_step<Real, WithNaN>(f, x, n7, all);
    if (all < 0) break;
  }
  // Tree order: this is what keeps the sum bit-exact with XGBoost.
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

/// Leaf reached by tree `t` walked alone (never reads x on a leaf-only tree).
template <class Real>
constexpr std::size_t forest_leaf(const forest_view& f, std::size_t t, const Real* x) noexcept {
  std::size_t n = f.tree_roots[t];
  while (f.left[n] >= 0) {
    const float xv = forest_feature(x, f.feature[n]);
    n = static_cast<std::size_t>(f.left[n] + forest_go_right<true>(f, n, xv));
  }
  return n;
}

/// The evaluator proper, for one NaN policy.
template <class Real, bool WithNaN>
constexpr float forest_sum(const forest_view& f, const Real* x) noexcept {
  // Exactness: XGBoost 1.7 initialises its float prediction with base_score and adds the trees'
  // leaves one by one in tree order. Float addition is not associative, so any other order (or
  // adding base_score last) changes the last bits. The lanes reorder the walks, not the sums.
  float acc = f.base_score;
  std::size_t t = 0;
  if (f.num_features != 0) {  // without features every valid tree is a single leaf
    for (; t + forest_lanes <= f.num_trees; t += forest_lanes) {
      acc = forest_walk8<Real, WithNaN>(f, x, t, acc);
    }
  }
  for (; t < f.num_trees; ++t) acc += f.split_value[forest_leaf(f, t, x)];
  return acc;
}

/// Picks the NaN-free walk when no feature is NaN: it never reads default_left.
template <class Real>
constexpr float forest_evaluate(const forest_view& f, const Real* x) noexcept {
  bool any_nan = false;
  for (std::uint32_t i = 0; i < f.num_features; ++i) {
    any_nan = any_nan || forest_is_nan(x[i]);
  }
  return any_nan ? forest_sum<Real, true>(f, x) : forest_sum<Real, false>(f, x);
}

}  // namespace detail

/// Prediction of forest `f` for the feature vector `x` (f.num_features floats; NaN = missing).
/// Bit-exact with XGBoost 1.7's own prediction for the same trees and base_score: a float
/// accumulator starts at base_score and the leaf values are added in tree order. Usable in
/// constant expressions (keep those forests tiny). Precondition: validate(f) succeeds.
constexpr float evaluate(const forest_view& f, const float* x) noexcept {
  return detail::forest_evaluate(f, x);
}

/// Prediction for features computed in double: each feature is rounded to float first, as
/// XGBoost does with its input matrix, then evaluated exactly as the float overload.
constexpr float evaluate(const forest_view& f, const double* x) noexcept {
  // Rounding the features once, into a small buffer, keeps the conversion out of the walk. Wider
  // inputs round at every node visit instead, which yields the same floats.
  constexpr std::uint32_t capacity = 64;
  if (f.num_features <= capacity) {
    float buf[capacity] = {};
    for (std::uint32_t i = 0; i < f.num_features; ++i) buf[i] = static_cast<float>(x[i]);
    return detail::forest_evaluate(f, static_cast<const float*>(buf));
  }
  return detail::forest_evaluate(f, x);
}

/// Output (leaf value) of tree `t` alone for features `x`. Precondition: t < f.num_trees.
constexpr float evaluate_tree(const forest_view& f, std::size_t t, const float* x) noexcept {
  return f.split_value[detail::forest_leaf(f, t, x)];
}

NNMETER_END_NAMESPACE
