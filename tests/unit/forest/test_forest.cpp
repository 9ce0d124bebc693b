// Unit tests: forest_view tables, nnmeter::forest validation, and the evaluator.
// SPDX-License-Identifier: MIT
#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/forest.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_f = std::numeric_limits<float>::infinity();

std::uint32_t bits(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

/// One node of a hand-written tree, with the child given *relative to the tree* (-1 = leaf); the
/// right child is always left + 1, as in the forest layout.
struct hand_node {
  std::int32_t left;
  std::uint32_t feature;
  float value;
  std::uint8_t default_left;
};

/// Appends a tree to `f`, translating tree-local child indices to absolute ones.
void add_tree(nnmeter::forest& f, const std::vector<hand_node>& nodes) {
  const auto base = static_cast<std::int32_t>(f.num_nodes());
  f.tree_roots.push_back(static_cast<std::uint32_t>(base));
  for (const hand_node& n : nodes) {
    f.left.push_back(n.left < 0 ? -1 : base + n.left);
    f.feature.push_back(n.feature);
    f.split_value.push_back(n.value);
    f.default_left.push_back(n.default_left);
  }
}

/// A stump on feature `feat`: x < threshold → lo, else hi; NaN → lo iff default_left.
std::vector<hand_node> stump(std::uint32_t feat, float threshold, float lo, float hi,
                             bool default_left) {
  return {{1, feat, threshold, static_cast<std::uint8_t>(default_left)},
          {-1, 0, lo, 0},
          {-1, 0, hi, 0}};
}

/// Random tree in breadth-first order (children allocated as adjacent pairs), irregular depth.
std::vector<hand_node> random_tree(std::mt19937& rng, std::uint32_t num_features, int max_depth) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<hand_node> nodes{{-1, 0, 0.0f, 0}};
  std::vector<int> depth{0};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const bool split = depth[i] < max_depth && (depth[i] < 2 || u(rng) < 0.8f);
    if (split) {
      nodes[i].left = static_cast<std::int32_t>(nodes.size());
      nodes[i].feature = static_cast<std::uint32_t>(rng() % num_features);
      nodes[i].value = u(rng);
      nodes[i].default_left = static_cast<std::uint8_t>(rng() & 1u);
      for (int k = 0; k < 2; ++k) {
        nodes.push_back({-1, 0, 0.0f, 0});
        depth.push_back(depth[i] + 1);
      }
    } else {
      nodes[i].value = u(rng) * 2.0f - 1.0f;
    }
  }
  return nodes;
}

nnmeter::forest random_forest(std::uint32_t seed, std::size_t trees, std::uint32_t num_features,
                              int max_depth) {
  std::mt19937 rng(seed);
  nnmeter::forest f;
  f.num_features = num_features;
  f.base_score = 0.5f;
  for (std::size_t t = 0; t < trees; ++t) add_tree(f, random_tree(rng, num_features, max_depth));
  return f;
}

/// The specification of the evaluator, written as plainly as possible.
float reference_sum(const nnmeter::forest_view& v, const float* x) {
  float acc = v.base_score;
  for (std::size_t t = 0; t < v.num_trees; ++t) acc += nnmeter::evaluate_tree(v, t, x);
  return acc;
}

/// Runs both validation strategies (scratch-based and memory-free) and checks they agree.
nnmeter::forest_check check_both(const nnmeter::forest& f) {
  const nnmeter::forest_check a = f.check();
  const nnmeter::forest_check b =
      nnmeter::detail::forest_validate(f.view(), nnmeter::detail::forest_scratch{});
  if (a.defect != nnmeter::forest_defect::array_size_mismatch) {
    CHECK(a.defect == b.defect);
    CHECK(a.tree == b.tree);
    CHECK(a.node == b.node);
    CHECK(a.value == b.value);
  }
  return a;
}

/// A valid two-tree forest used as the base of the malformation tests:
/// tree 0 = nodes [0, 5): 0 → (1, 2), 2 → (3, 4);  tree 1 = nodes [5, 8): stump.
nnmeter::forest two_trees() {
  nnmeter::forest f;
  f.num_features = 3;
  f.base_score = 0.25f;
  add_tree(
      f, {{1, 0, 0.5f, 1}, {-1, 0, -1.0f, 0}, {3, 2, 2.0f, 0}, {-1, 0, 3.0f, 0}, {-1, 0, 4.0f, 0}});
  add_tree(f, stump(1, 0.0f, 10.0f, 20.0f, false));
  return f;
}

std::string message_of(const nnmeter::forest& f) {
  try {
    f.validate();
  } catch (const nnmeter::parse_error& e) {
    return e.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("evaluate: strict < at the threshold, NaN follows default_left, base_score first") {
  nnmeter::forest f;
  f.num_features = 2;
  f.base_score = 0.5f;
  add_tree(f, stump(0, 1.0f, -1.0f, 1.0f, true));
  add_tree(f, stump(1, 1.0f, -10.0f, 10.0f, false));
  REQUIRE(nnmeter::validate(f.view()));
  const auto v = f.view();
  auto eval = [&](float a, float b) {
    const float x[2] = {a, b};
    return nnmeter::evaluate(v, x);
  };
  CHECK(eval(0.99f, 0.99f) == 0.5f - 1.0f - 10.0f);
  CHECK(eval(1.0f, 1.0f) == 0.5f + 1.0f + 10.0f);  // equality goes right: strict <
  CHECK(eval(std::nextafter(1.0f, 0.0f), 1.0f) == 0.5f - 1.0f + 10.0f);
  CHECK(eval(nan_f, nan_f) == 0.5f - 1.0f + 10.0f);  // tree 0 defaults left, tree 1 right
  CHECK(eval(-inf_f, inf_f) == 0.5f - 1.0f + 10.0f);
  CHECK(nnmeter::evaluate_tree(v, 0, std::vector<float>{nan_f, 0.0f}.data()) == -1.0f);
}

TEST_CASE("evaluate: NaN routing at inner levels") {
  nnmeter::forest f = two_trees();
  const auto v = f.view();
  // Tree 0: x0 < 0.5 (NaN → left) → -1; else x2 < 2 (NaN → right) → 3 or 4.
  const float left_nan[3] = {nan_f, 0.0f, 0.0f};
  const float right_then_nan[3] = {0.7f, 0.0f, nan_f};
  const float right_then_left[3] = {0.7f, 0.0f, 1.0f};
  CHECK(nnmeter::evaluate_tree(v, 0, left_nan) == -1.0f);
  CHECK(nnmeter::evaluate_tree(v, 0, right_then_nan) == 4.0f);
  CHECK(nnmeter::evaluate_tree(v, 0, right_then_left) == 3.0f);
  CHECK(nnmeter::evaluate(v, left_nan) == 0.25f - 1.0f + 20.0f);
  CHECK(nnmeter::evaluate(v, right_then_nan) == 0.25f + 4.0f + 20.0f);
}

TEST_CASE("evaluate: leaf-only trees, no features needed") {
  nnmeter::forest f;
  f.base_score = 1.0f;
  for (float leaf : {0.5f, 0.25f, -2.0f}) add_tree(f, {{-1, 0, leaf, 0}});
  REQUIRE(nnmeter::validate(f.view()));
  CHECK(nnmeter::evaluate(f.view(), static_cast<const float*>(nullptr)) == -0.25f);
  f.num_features = 4;  // with features declared, the leaves are still read the same way
  const float x[4] = {1, 2, 3, 4};
  CHECK(nnmeter::evaluate(f.view(), x) == -0.25f);
  nnmeter::forest none;
  none.base_score = 7.0f;
  REQUIRE(nnmeter::validate(none.view()));
  CHECK(nnmeter::evaluate(none.view(), x) == 7.0f);
}

TEST_CASE("evaluate: float accumulation from base_score in tree order") {
  // 2^24 absorbs 0.5 and each +1 (ties to even), so any other summation order changes the result.
  const float big = 16777216.0f;
  nnmeter::forest f;
  f.num_features = 1;
  f.base_score = 0.5f;
  add_tree(f, {{-1, 0, big, 0}});
  for (int i = 0; i < 16; ++i) add_tree(f, {{-1, 0, 1.0f, 0}});
  add_tree(f, {{-1, 0, -big, 0}});
  add_tree(f, stump(0, 0.0f, 0.0f, 0.75f, false));  // 19 trees: two lane groups and a tail
  const float x[1] = {1.0f};
  CHECK(bits(nnmeter::evaluate(f.view(), x)) == bits(0.75f));
  double wide = 0.5;
  for (std::size_t t = 0; t < f.num_trees(); ++t) wide += nnmeter::evaluate_tree(f.view(), t, x);
  CHECK(static_cast<float>(wide) != 0.75f);  // the test is sensitive to the order
}

TEST_CASE("evaluate: interleaved walk equals the one-tree-at-a-time sum, bit for bit") {
  for (std::size_t trees : {1u, 7u, 8u, 9u, 37u, 300u}) {
    const nnmeter::forest f = random_forest(static_cast<std::uint32_t>(trees), trees, 16, 8);
    REQUIRE(nnmeter::validate(f.view()));
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> u(-0.1f, 1.1f);
    for (int row = 0; row < 200; ++row) {
      float x[16];
      for (float& e : x) e = (rng() % 13 == 0) ? nan_f : u(rng);
      if (row % 5 == 0) x[rng() % 16] = 0.5f;
      CHECK(bits(nnmeter::evaluate(f.view(), x)) == bits(reference_sum(f.view(), x)));
    }
  }
}

TEST_CASE("evaluate: double features are rounded to float first") {
  for (std::uint32_t nf : {3u, 64u, 65u, 100u}) {  // both sides of the 64-feature buffer
    const nnmeter::forest f = random_forest(nf, 20, nf, 6);
    std::mt19937 rng(nf);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int row = 0; row < 50; ++row) {
      std::vector<double> xd(nf);
      std::vector<float> xf(nf);
      for (std::uint32_t i = 0; i < nf; ++i) {
        xd[i] = (row % 7 == 0 && i == 1) ? std::numeric_limits<double>::quiet_NaN() : u(rng);
        xf[i] = static_cast<float>(xd[i]);
      }
      // A double just below a float threshold must round onto it and then go right, like XGBoost.
      xd[0] = std::nextafter(static_cast<double>(f.split_value[0]), 0.0);
      xf[0] = static_cast<float>(xd[0]);
      CHECK(bits(nnmeter::evaluate(f.view(), xd.data())) ==
            bits(nnmeter::evaluate(f.view(), xf.data())));
    }
  }
}

TEST_CASE("forest: view, from_view and a valid forest") {
  const nnmeter::forest f = two_trees();
  CHECK(f.num_nodes() == 8);
  CHECK(f.num_trees() == 2);
  CHECK(f.check());
  CHECK_NOTHROW(f.validate());
  const nnmeter::forest g = nnmeter::forest::from_view(f.view());
  CHECK(g.left == f.left);
  CHECK(g.feature == f.feature);
  CHECK(g.default_left == f.default_left);
  CHECK(g.tree_roots == f.tree_roots);
  CHECK(g.base_score == f.base_score);
  CHECK(g.num_features == f.num_features);
  CHECK(std::string(nnmeter::to_string(nnmeter::forest_defect::node_reached_twice)) ==
        "node_reached_twice");
}

TEST_CASE("forest::validate: each malformation names its tree and node") {
  using nnmeter::forest_defect;
  SUBCASE("child pair outside the tree") {
    nnmeter::forest f = two_trees();
    f.left[2] = 4;  // right child would be 5, the root of tree 1
    const auto c = check_both(f);
    CHECK(c.defect == forest_defect::child_out_of_range);
    CHECK(c.tree == 0);
    CHECK(c.node == 2);
    CHECK(message_of(f) ==
          "invalid forest: tree 0, node 2 (local 2): left child 4 (right child 5) is outside "
          "the tree's nodes [0, 5)");
    f = two_trees();
    f.left[5] = 4;  // tree 1 pointing back into tree 0
    CHECK(check_both(f).defect == forest_defect::child_out_of_range);
    CHECK(message_of(f).find("tree 1, node 5 (local 0)") != std::string::npos);
    f = two_trees();
    f.left[3] = -7;
    CHECK(check_both(f).defect == forest_defect::child_out_of_range);
    CHECK(message_of(f).find("left child -7 is negative but not -1") != std::string::npos);
  }
  SUBCASE("node reached twice") {
    nnmeter::forest f;
    f.num_features = 1;
    // 0 → (1, 2); 1 → (3, 4); 2 → (3, 4): nodes 3 and 4 have two parents.
    add_tree(f, {{1, 0, 0.5f, 0}, {3, 0, 0.2f, 0}, {3, 0, 0.7f, 0}, {-1, 0, 1, 0}, {-1, 0, 2, 0}});
    const auto c = check_both(f);
    CHECK(c.defect == forest_defect::node_reached_twice);
    CHECK(c.node == 3);
    CHECK(c.value == 2);
    CHECK(message_of(f) ==
          "invalid forest: tree 0, node 3 (local 3): node is reached twice (it is also a "
          "child of node 2)");
  }
  SUBCASE("cycles: a link back to an earlier node") {
    nnmeter::forest f;
    f.num_features = 1;
    add_tree(f, {{1, 0, 0.5f, 0}, {-1, 0, 1, 0}, {-1, 0, 2, 0}});
    add_tree(
        f, {{1, 0, 0.5f, 0}, {0, 0, 0.2f, 0}, {-1, 0, 2, 0}});  // node 4 → (3, 4): root and itself
    auto c = check_both(f);
    CHECK(c.defect == forest_defect::child_before_parent);
    CHECK(c.tree == 1);
    CHECK(c.node == 4);
    CHECK(c.value == 3);
    CHECK(message_of(f) ==
          "invalid forest: tree 1, node 4 (local 1): left child 3 is not after its parent "
          "(children must follow their parent; a link back to an earlier node could form a "
          "cycle)");
    // A self-loop away from the root: 0 → (1, 2) leaves; 3 → (3, 4).
    f = nnmeter::forest{};
    f.num_features = 1;
    add_tree(f, {{1, 0, 0.5f, 0}, {-1, 0, 1, 0}, {-1, 0, 2, 0}, {3, 0, 0.1f, 0}, {-1, 0, 3, 0}});
    c = check_both(f);
    CHECK(c.defect == forest_defect::child_before_parent);
    CHECK(c.node == 3);
  }
  SUBCASE("nodes nobody reaches") {
    // An extra leaf at the end of the tree's range is an orphan.
    nnmeter::forest f;
    f.num_features = 1;
    add_tree(f, {{1, 0, 0.5f, 0}, {-1, 0, 1, 0}, {-1, 0, 2, 0}, {-1, 0, 3, 0}});
    auto c = check_both(f);
    CHECK(c.defect == forest_defect::unreachable_node);
    CHECK(c.node == 3);
    CHECK(message_of(f) ==
          "invalid forest: tree 0, node 3 (local 3): node is nobody's child, so the tree's "
          "root 0 does not reach it");
    // A subtree hanging below an orphan is reported at its first node.
    f = nnmeter::forest{};
    f.num_features = 1;
    add_tree(f, {{1, 0, 0.5f, 0},
                 {-1, 0, 1, 0},
                 {-1, 0, 2, 0},
                 {4, 0, 0.1f, 0},
                 {-1, 0, 3, 0},
                 {-1, 0, 4, 0}});
    c = check_both(f);
    CHECK(c.defect == forest_defect::unreachable_node);
    CHECK(c.node == 3);
  }
  SUBCASE("split feature out of range") {
    nnmeter::forest f = two_trees();
    f.feature[2] = 3;
    auto c = check_both(f);
    CHECK(c.defect == forest_defect::feature_out_of_range);
    CHECK(c.node == 2);
    CHECK(message_of(f) ==
          "invalid forest: tree 0, node 2 (local 2): split feature 3 >= num_features 3");
    f = two_trees();
    f.feature[7] = 9;  // leaves must hold a readable feature index too
    c = check_both(f);
    CHECK(c.defect == forest_defect::feature_out_of_range);
    CHECK(c.tree == 1);
    CHECK(c.node == 7);
  }
  SUBCASE("non-finite thresholds, leaves and base_score") {
    nnmeter::forest f = two_trees();
    f.split_value[5] = nan_f;
    auto c = check_both(f);
    CHECK(c.defect == forest_defect::non_finite_threshold);
    CHECK(c.tree == 1);
    CHECK(c.node == 5);
    CHECK(message_of(f) ==
          "invalid forest: tree 1, node 5 (local 0): split threshold is not finite");
    f = two_trees();
    f.split_value[0] = inf_f;
    CHECK(check_both(f).defect == forest_defect::non_finite_threshold);
    f = two_trees();
    f.split_value[4] = -inf_f;
    CHECK(check_both(f).defect == forest_defect::non_finite_leaf_value);
    f = two_trees();
    f.base_score = nan_f;
    CHECK(check_both(f).defect == forest_defect::non_finite_base_score);
    CHECK(message_of(f) == "invalid forest: base_score is not finite");
  }
  SUBCASE("empty trees and bad roots") {
    nnmeter::forest f = two_trees();
    f.tree_roots = {0, 5, 5};
    auto c = check_both(f);
    CHECK(c.defect == forest_defect::empty_tree);
    CHECK(c.tree == 1);
    CHECK(message_of(f) == "invalid forest: tree 1 has no node (tree_roots[1] = 5)");
    f.tree_roots = {0, 5, 8};  // last tree starts at num_nodes
    CHECK(check_both(f).defect == forest_defect::empty_tree);
    f.tree_roots = {1, 5};
    CHECK(check_both(f).defect == forest_defect::bad_tree_roots);
    f.tree_roots = {0, 5, 3};
    c = check_both(f);
    CHECK(c.defect == forest_defect::bad_tree_roots);
    CHECK(c.node == 2);
    f.tree_roots = {0, 9};
    CHECK(check_both(f).defect == forest_defect::bad_tree_roots);
    f.tree_roots.clear();
    CHECK(check_both(f).defect == forest_defect::bad_tree_roots);
    CHECK(message_of(f) == "invalid forest: 8 nodes but no tree (tree_roots is empty)");
  }
  SUBCASE("array lengths and null tables") {
    nnmeter::forest f = two_trees();
    f.default_left.pop_back();
    CHECK(f.check().defect == forest_defect::array_size_mismatch);
    CHECK_THROWS_AS(f.validate(), nnmeter::parse_error);
    nnmeter::forest_view v = two_trees().view();
    v.feature = nullptr;
    CHECK(nnmeter::validate(v).defect == forest_defect::null_array);
  }
}

// ---- compile time: a tiny forest embedded as inline constexpr tables --------------------------

namespace embedded {
// Tree 0 (nodes 0..4): x0 < 0.5 ? -1 : (x1 < 2 ? 3 : 4), NaN x0 → left, NaN x1 → right.
// Tree 1 (nodes 5..7): x1 < 0 ? 10 : 20, NaN → right.
inline constexpr std::int32_t left[] = {1, -1, 3, -1, -1, 6, -1, -1};
inline constexpr std::uint32_t feature[] = {0, 0, 1, 0, 0, 1, 0, 0};
inline constexpr float split_value[] = {0.5f, -1.0f, 2.0f, 3.0f, 4.0f, 0.0f, 10.0f, 20.0f};
inline constexpr std::uint8_t default_left[] = {1, 0, 0, 0, 0, 0, 0, 0};
inline constexpr std::uint32_t tree_roots[] = {0, 5};
inline constexpr nnmeter::forest_view view{left,       feature, split_value, default_left, 8,
                                           tree_roots, 2,       2,           0.25f};

inline constexpr float x_a[] = {0.4f, -1.0f};
inline constexpr float x_b[] = {0.5f, 2.0f};
inline constexpr float x_nan[] = {std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::quiet_NaN()};
inline constexpr double x_d[] = {0.7, 1.5};

static_assert(nnmeter::validate(view), "embedded forest is valid");
static_assert(nnmeter::evaluate(view, x_a) == 0.25f - 1.0f + 10.0f, "left, left");
static_assert(nnmeter::evaluate(view, x_b) == 0.25f + 4.0f + 20.0f,
              "strict <: equality goes right");
static_assert(nnmeter::evaluate(view, x_nan) == 0.25f - 1.0f + 20.0f, "NaN follows default_left");
static_assert(nnmeter::evaluate(view, x_d) == 0.25f + 3.0f + 20.0f, "double features");
static_assert(nnmeter::evaluate_tree(view, 1, x_a) == 10.0f, "one tree");

// A malformed table is caught at compile time too: node 1 → (3, 4) and node 2 → (3, 4).
inline constexpr std::int32_t bad_left[] = {1, 3, 3, -1, -1, 6, -1, -1};
inline constexpr nnmeter::forest_view bad_view{bad_left,   feature, split_value, default_left, 8,
                                               tree_roots, 2,       2,           0.25f};
static_assert(nnmeter::validate(bad_view).defect == nnmeter::forest_defect::node_reached_twice, "");
static_assert(nnmeter::validate(bad_view).node == 3, "");
}  // namespace embedded

TEST_CASE("constexpr: the embedded tables agree at run time") {
  CHECK(nnmeter::validate(embedded::view));
  CHECK(nnmeter::evaluate(embedded::view, embedded::x_a) == 9.25f);
  const auto c = nnmeter::validate(embedded::bad_view);
  CHECK(c.defect == nnmeter::forest_defect::node_reached_twice);
  CHECK(c.node == 3);
  CHECK(c.value == 2);
}
