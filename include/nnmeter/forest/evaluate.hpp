// nnmeter — loop evaluator for tree ensembles, usable in constant expressions. See docs/forests.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

namespace detail {

/// True for NaN without <cmath>: std::isnan is not constexpr in C++17. (Wrong under -ffast-math,
/// which the library does not support.)
template <class Real>
constexpr bool forest_is_nan(Real v) noexcept {
  return v != v;
}

/// Feature `i` as the float the trees compare against (features in double are rounded first).
template <class Real>
constexpr float forest_feature(const Real* x, std::size_t i) noexcept {
  return static_cast<float>(x[i]);
}

/// Moves lane node `n` one level down; a lane on a leaf stays put. Returns true when it moved.
/// Branch-free on purpose: both children and the feature are loaded, then selected, so the walk
/// never mispredicts and the loads of several lanes overlap.
template <class Real, bool WithNaN>
constexpr bool forest_step(const forest_view& f, const Real* x, std::int32_t& n) noexcept {
  const auto i = static_cast<std::size_t>(n);
  const std::int32_t l = f.left[i];
  const std::int32_t r = f.right[i];
  // All ones on a leaf (left == -1), zero on an internal node.
  const std::uint32_t leaf_mask = static_cast<std::uint32_t>(l >> 31);
  // A leaf's feature field is unspecified, so read x[0] there instead (num_features >= 1 here).
  const std::uint32_t feat = f.feature[i] & ~leaf_mask;
  const float xv = forest_feature(x, feat);
  std::uint32_t go_left = static_cast<std::uint32_t>(xv < f.split_value[i]);
  if constexpr (WithNaN) {
    go_left |= static_cast<std::uint32_t>(forest_is_nan(xv)) & static_cast<std::uint32_t>(f.default_left[i] != 0);
  }
  // Masks rather than ?: so that the compiler cannot turn the selection into branches.
  const std::uint32_t ul = static_cast<std::uint32_t>(l);
  const std::uint32_t ur = static_cast<std::uint32_t>(r);
  const std::uint32_t child = ur ^ ((ul ^ ur) & (0u - go_left));
  const std::uint32_t next = (child & ~leaf_mask) | (static_cast<std::uint32_t>(n) & leaf_mask);
  n = static_cast<std::int32_t>(next);
  return leaf_mask == 0;
}

/// Walks trees [t, t + 8) together and returns the eight leaves in `leaf`. Eight independent
/// dependency chains hide the load-to-use latency of one node visit (feature → x[feature] →
/// compare → child) that a one-tree-at-a-time walk pays in full.
template <class Real, bool WithNaN>
constexpr void forest_walk8(const forest_view& f, const Real* x, std::size_t t,
                            std::int32_t* leaf) noexcept {
  std::int32_t n0 = static_cast<std::int32_t>(f.tree_roots[t + 0]);
  std::int32_t n1 = static_cast<std::int32_t>(f.tree_roots[t + 1]);
  std::int32_t n2 = static_cast<std::int32_t>(f.tree_roots[t + 2]);
  std::int32_t n3 = static_cast<std::int32_t>(f.tree_roots[t + 3]);
  std::int32_t n4 = static_cast<std::int32_t>(f.tree_roots[t + 4]);
  std::int32_t n5 = static_cast<std::int32_t>(f.tree_roots[t + 5]);
  std::int32_t n6 = static_cast<std::int32_t>(f.tree_roots[t + 6]);
  std::int32_t n7 = static_cast<std::int32_t>(f.tree_roots[t + 7]);
  bool moved = true;
  while (moved) {
    const bool m0 = forest_step<Real, WithNaN>(f, x, n0);
    const bool m1 = forest_step<Real, WithNaN>(f, x, n1);
    const bool m2 = forest_step<Real, WithNaN>(f, x, n2);
    const bool m3 = forest_step<Real, WithNaN>(f, x, n3);
    const bool m4 = forest_step<Real, WithNaN>(f, x, n4);
    const bool m5 = forest_step<Real, WithNaN>(f, x, n5);
    const bool m6 = forest_step<Real, WithNaN>(f, x, n6);
    const bool m7 = forest_step<Real, WithNaN>(f, x, n7);
    moved = m0 || m1 || m2 || m3 || m4 || m5 || m6 || m7;
  }
  leaf[0] = n0;
  leaf[1] = n1;
  leaf[2] = n2;
  leaf[3] = n3;
  leaf[4] = n4;
  leaf[5] = n5;
  leaf[6] = n6;
  leaf[7] = n7;
}

/// Leaf reached by tree `t`, walked alone.
template <class Real>
constexpr std::size_t forest_leaf(const forest_view& f, std::size_t t, const Real* x) noexcept {
  std::size_t n = f.tree_roots[t];
  while (f.left[n] >= 0) {
    const float xv = forest_feature(x, f.feature[n]);
    const bool go_left =
        xv < f.split_value[n] || (forest_is_nan(xv) && f.default_left[n] != 0);
    n = static_cast<std::size_t>(go_left ? f.left[n] : f.right[n]);
  }
  return n;
}

/// The evaluator proper.
template <class Real, bool WithNaN>
constexpr float forest_sum(const forest_view& f, const Real* x) noexcept {
  // Exactness: XGBoost 1.7 initialises its float prediction with base_score and adds each tree's
  // leaf in tree order; float addition is not associative, so any other order (or adding
  // base_score last) changes the last bits. The lanes only reorder the *walks*, not the sums.
  float acc = f.base_score;
  std::size_t t = 0;
  if (f.num_features != 0) {  // with no features every valid tree is a single leaf
    std::int32_t leaf[8] = {};
    for (; t + 8 <= f.num_trees; t += 8) {
      forest_walk8<Real, WithNaN>(f, x, t, leaf);
      for (std::int32_t n : leaf) acc += f.split_value[static_cast<std::size_t>(n)];
    }
  }
  for (; t < f.num_trees; ++t) acc += f.split_value[forest_leaf(f, t, x)];
  return acc;
}

/// Evaluates with the NaN-free fast path when no feature is NaN.
template <class Real>
constexpr float forest_evaluate(const forest_view& f, const Real* x) noexcept {
  bool any_nan = false;
  for (std::uint32_t i = 0; i < f.num_features; ++i) any_nan = any_nan || forest_is_nan(x[i]);
  // Without NaN the default_left table is never read: one load fewer per node visit.
  return any_nan ? forest_sum<Real, true>(f, x) : forest_sum<Real, false>(f, x);
}

}  // namespace detail

/// Prediction of forest `f` for the feature vector `x` (f.num_features floats; NaN = missing).
/// Bit-exact with XGBoost 1.7's own prediction for the same trees and base_score: float
/// accumulator starting at base_score, leaf values added in tree order. Usable in constant
/// expressions (keep those forests tiny). Precondition: validate(f) succeeds.
constexpr float evaluate(const forest_view& f, const float* x) noexcept {
  return detail::forest_evaluate(f, x);
}

/// Prediction for features computed in double: each one is rounded to float first, as XGBoost
/// does with its input matrix, then evaluated as above.
constexpr float evaluate(const forest_view& f, const double* x) noexcept {
  // Rounding all features once into a small buffer keeps the conversion out of the walk; wider
  // inputs round at each node visit instead, which gives the same floats.
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
