// nnmeter — owning tree ensemble and structural validation. See docs/forests.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <string>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// What is wrong with a forest, as found by validate(); `none` for a valid one.
enum class forest_defect : std::uint8_t {
  none,                   ///< valid
  array_size_mismatch,    ///< per-node arrays of an owning forest differ in length
  null_array,             ///< a table pointer is null while its length is not zero
  too_many_nodes,         ///< more nodes than an int32 child index can address
  non_finite_base_score,  ///< base_score is NaN or infinite
  bad_tree_roots,         ///< tree_roots does not start at 0, decreases, or points past the nodes
  empty_tree,             ///< a tree owns no node
  child_out_of_range,     ///< a child index (or child pair) leaves the tree's node range
  feature_out_of_range,   ///< a split feature >= num_features
  non_finite_threshold,   ///< an internal node's split value is NaN or infinite
  non_finite_leaf_value,  ///< a leaf value is NaN or infinite
  child_before_parent,    ///< a child index is not after its parent's (this rules out cycles)
  node_reached_twice,     ///< a node is the child of two internal nodes
  unreachable_node,  ///< a node of the tree's range is nobody's child (not reached from the root)
  count_
};

/// Stable name of a defect, e.g. "node_reached_twice".
constexpr const char* to_string(forest_defect d) noexcept {
  constexpr const char* names[] = {"none",
                                   "array_size_mismatch",
                                   "null_array",
                                   "too_many_nodes",
                                   "non_finite_base_score",
                                   "bad_tree_roots",
                                   "empty_tree",
                                   "child_out_of_range",
                                   "feature_out_of_range",
                                   "non_finite_threshold",
                                   "non_finite_leaf_value",
                                   "child_before_parent",
                                   "node_reached_twice",
                                   "unreachable_node"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<std::size_t>(forest_defect::count_),
                "one name per forest_defect");
  return d < forest_defect::count_ ? names[static_cast<std::size_t>(d)] : "unknown";
}

/// Result of validate(): the first defect found (trees in order, nodes in index order), with
/// where it is. Converts to true when the forest is valid, so `static_assert(validate(v))` works.
struct forest_check {
  /// The defect, or forest_defect::none.
  forest_defect defect = forest_defect::none;
  /// Tree index the defect is in (0 for forest-level defects).
  std::size_t tree = 0;
  /// Absolute node index the defect is at (for tree_roots defects: the tree_roots index).
  std::size_t node = 0;
  /// The offending value: left child index, feature index, the other parent (node_reached_twice),
  /// tree_roots entry or array length.
  std::int64_t value = 0;

  /// True when no defect was found.
  constexpr explicit operator bool() const noexcept { return defect == forest_defect::none; }
};

namespace detail {

/// Finite test usable in constant expressions (inf - inf and NaN - NaN are NaN).
constexpr bool forest_is_finite(float v) noexcept { return v - v == 0.0f; }

/// A check result for defect `d` at tree `tree`, node `node`, offending value `value`.
constexpr forest_check forest_defect_at(forest_defect d, std::size_t tree, std::size_t node,
                                        std::int64_t value) noexcept {
  forest_check c;
  c.defect = d;
  c.tree = tree;
  c.node = node;
  c.value = value;
  return c;
}

/// Optional O(n) bookkeeping for the parent checks; without it (constant evaluation, or no
/// memory) the same answers come from rescanning the tree, O(n^2) per tree.
struct forest_scratch {
  /// Per node: 1 once the node is known to have a parent; length num_nodes, all 0 on entry.
  std::uint8_t* has_parent = nullptr;
};

/// Parent of node `c` among the internal nodes [b, limit) (the left child is `left`, the right
/// child `left + 1`), or -1 when there is none.
constexpr std::int64_t forest_scan_parent(const forest_view& v, std::size_t b, std::size_t limit,
                                          std::size_t c) noexcept {
  const auto ci = static_cast<std::int64_t>(c);
  for (std::size_t m = b; m < limit; ++m) {
    const std::int64_t l = v.left[m];
    if (l >= 0 && (l == ci || l + 1 == ci)) return static_cast<std::int64_t>(m);
  }
  return -1;
}

/// Checks one node's fields: children inside the tree and after the node, feature, finite value.
constexpr forest_check forest_check_node(const forest_view& v, std::size_t t, std::size_t b,
                                         std::size_t e, std::size_t n) noexcept {
  const std::int64_t l = v.left[n];
  const float value = v.split_value[n];
  if (l < 0) {
    if (l != -1) return forest_defect_at(forest_defect::child_out_of_range, t, n, l);
    if (v.num_features != 0 && v.feature[n] >= v.num_features) {
      return forest_defect_at(forest_defect::feature_out_of_range, t, n, v.feature[n]);
    }
    if (!forest_is_finite(value))
      return forest_defect_at(forest_defect::non_finite_leaf_value, t, n, 0);
    return forest_check{};
  }
  // Both children, left and left + 1, must lie in the tree's own range...
  if (l < static_cast<std::int64_t>(b) || l + 1 >= static_cast<std::int64_t>(e)) {
    return forest_defect_at(forest_defect::child_out_of_range, t, n, l);
  }
  // ...and after their parent: then child links cannot form a cycle, and the evaluator may
  // compute "stay on a leaf" as max(node, child) without a branch.
  if (l <= static_cast<std::int64_t>(n))
    return forest_defect_at(forest_defect::child_before_parent, t, n, l);
  if (v.feature[n] >= v.num_features) {
    return forest_defect_at(forest_defect::feature_out_of_range, t, n, v.feature[n]);
  }
  if (!forest_is_finite(value))
    return forest_defect_at(forest_defect::non_finite_threshold, t, n, 0);
  return forest_check{};
}

/// Tree `t` = [b, e) is a tree: every node but the root has exactly one parent. With children
/// after their parents (checked before), following parents from any node ends at the root, so
/// this is the whole structural check.
constexpr forest_check forest_check_links(const forest_view& v, std::size_t t, std::size_t b,
                                          std::size_t e, forest_scratch s) noexcept {
  for (std::size_t n = b; n < e; ++n) {  // edges in node order, left child first
    const std::int64_t l = v.left[n];
    if (l < 0) continue;
    for (std::int64_t k = 0; k < 2; ++k) {
      const auto c = static_cast<std::size_t>(l + k);
      bool taken = false;
      if (s.has_parent != nullptr) {
        taken = s.has_parent[c] != 0;
        s.has_parent[c] = 1;
      } else {
        taken = forest_scan_parent(v, b, n, c) >= 0;
      }
      if (taken)
        return forest_defect_at(forest_defect::node_reached_twice, t, c,
                                static_cast<std::int64_t>(n));
    }
  }
  for (std::size_t u = b + 1; u < e; ++u) {  // parents precede their children
    const bool orphan =
        s.has_parent != nullptr ? s.has_parent[u] == 0 : forest_scan_parent(v, b, u, u) < 0;
    if (orphan) return forest_defect_at(forest_defect::unreachable_node, t, u, 0);
  }
  return forest_check{};
}

/// Whole validation; `s` is optional scratch (see forest_scratch).
constexpr forest_check forest_validate(const forest_view& v, forest_scratch s) noexcept {
  if (v.num_nodes > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    return forest_defect_at(forest_defect::too_many_nodes, 0, 0,
                            static_cast<std::int64_t>(v.num_nodes));
  }
  if (!forest_is_finite(v.base_score))
    return forest_defect_at(forest_defect::non_finite_base_score, 0, 0, 0);
  if (v.num_trees == 0) {
    if (v.num_nodes != 0) {  // nodes that belong to no tree
      return forest_defect_at(forest_defect::bad_tree_roots, 0, 0,
                              static_cast<std::int64_t>(v.num_nodes));
    }
    return forest_check{};
  }
  if (v.tree_roots[0] != 0)
    return forest_defect_at(forest_defect::bad_tree_roots, 0, 0, v.tree_roots[0]);
  for (std::size_t t = 0; t < v.num_trees; ++t) {
    const std::size_t b = v.tree_roots[t];
    if (b > v.num_nodes)
      return forest_defect_at(forest_defect::bad_tree_roots, t, t, v.tree_roots[t]);
    if (t + 1 < v.num_trees && (v.tree_roots[t + 1] < b || v.tree_roots[t + 1] > v.num_nodes)) {
      return forest_defect_at(forest_defect::bad_tree_roots, t + 1, t + 1, v.tree_roots[t + 1]);
    }
    const std::size_t e = v.tree_end(t);
    if (e == b) return forest_defect_at(forest_defect::empty_tree, t, b, 0);
    for (std::size_t n = b; n < e; ++n) {
      const forest_check c = forest_check_node(v, t, b, e, n);
      if (!c) return c;
    }
    const forest_check c = forest_check_links(v, t, b, e, s);
    if (!c) return c;
  }
  return forest_check{};
}

/// Run-time validation with O(n) scratch memory (falls back to the scan when allocation fails).
inline forest_check forest_validate_runtime(const forest_view& v) noexcept {
  // Only here, not in forest_validate: comparing the address of an inline constexpr table with
  // null is not a constant expression under -fsanitize (gcc), and in a constant expression a
  // null table fails to compile anyway.
  if ((v.num_nodes != 0 && (v.left == nullptr || v.feature == nullptr || v.split_value == nullptr ||
                            v.default_left == nullptr)) ||
      (v.num_trees != 0 && v.tree_roots == nullptr)) {
    return forest_defect_at(forest_defect::null_array, 0, 0, 0);
  }
  try {
    std::vector<std::uint8_t> has_parent(v.num_nodes, 0);
    return forest_validate(v, forest_scratch{has_parent.data()});
  } catch (const std::bad_alloc&) {
    return forest_validate(v, forest_scratch{});
  }
}

/// True during constant evaluation when the compiler can tell (gcc >= 9, clang >= 9).
constexpr bool forest_in_constant_evaluation() noexcept {
#if defined(__has_builtin)
#if __has_builtin(__builtin_is_constant_evaluated)
  return __builtin_is_constant_evaluated();
#else
  return true;
#endif
#else
  return true;
#endif
}

}  // namespace detail

/// Checks every layout invariant of forest_view (see there) and reports the first defect.
/// In a constant expression it works without memory (quadratic in the nodes of a tree: keep
/// those forests small); at run time it takes O(nodes) time and memory. Never throws.
constexpr forest_check validate(const forest_view& v) noexcept {
  if (detail::forest_in_constant_evaluation())
    return detail::forest_validate(v, detail::forest_scratch{});
  return detail::forest_validate_runtime(v);
}

/// One-line description of a check result, e.g.
/// "tree 3, node 517 (local 7): left child 2000 is outside the tree's nodes [510, 1021)".
inline std::string describe(const forest_check& c, const forest_view& v) {
  using std::to_string;
  const std::string where = "tree " + to_string(c.tree) + ", node " + to_string(c.node) +
                            (c.tree < v.num_trees && c.node >= v.tree_begin(c.tree)
                                 ? " (local " + to_string(c.node - v.tree_begin(c.tree)) + ")"
                                 : std::string());
  const std::string range = c.tree < v.num_trees ? "[" + to_string(v.tree_begin(c.tree)) + ", " +
                                                       to_string(v.tree_end(c.tree)) + ")"
                                                 : std::string("[]");
  switch (c.defect) {
    case forest_defect::none:
      return "valid forest";
    case forest_defect::array_size_mismatch:
      return "per-node arrays differ in length: left has " + to_string(v.num_nodes) +
             " entries, another array " + to_string(c.value);
    case forest_defect::null_array:
      return "a table pointer is null although its length is not zero";
    case forest_defect::too_many_nodes:
      return to_string(c.value) + " nodes exceed the int32 child index range";
    case forest_defect::non_finite_base_score:
      return "base_score is not finite";
    case forest_defect::bad_tree_roots:
      if (v.num_trees == 0)
        return to_string(v.num_nodes) + " nodes but no tree (tree_roots is empty)";
      return "tree_roots[" + to_string(c.node) + "] = " + to_string(c.value) +
             " breaks the rule: starts at 0, never decreases, at most num_nodes = " +
             to_string(v.num_nodes);
    case forest_defect::empty_tree:
      return "tree " + to_string(c.tree) + " has no node (tree_roots[" + to_string(c.tree) +
             "] = " + to_string(c.node) + ")";
    case forest_defect::child_out_of_range:
      return where + ": left child " + to_string(c.value) +
             (c.value < 0 ? " is negative but not -1 (leaf)"
                          : " (right child " + to_string(c.value + 1) +
                                ") is outside the tree's nodes " + range);
    case forest_defect::feature_out_of_range:
      return where + ": split feature " + to_string(c.value) + " >= num_features " +
             to_string(v.num_features);
    case forest_defect::non_finite_threshold:
      return where + ": split threshold is not finite";
    case forest_defect::non_finite_leaf_value:
      return where + ": leaf value is not finite";
    case forest_defect::child_before_parent:
      return where + ": left child " + to_string(c.value) +
             " is not after its parent (children must follow their parent; a link back to an "
             "earlier node could form a cycle)";
    case forest_defect::node_reached_twice:
      return where + ": node is reached twice (it is also a child of node " + to_string(c.value) +
             ")";
    case forest_defect::unreachable_node:
      return where + ": node is nobody's child, so the tree's root " +
             to_string(v.tree_begin(c.tree)) + " does not reach it";
    case forest_defect::count_:
      break;
  }
  return where + ": unknown defect";
}

/// Owning tree ensemble: the tables of a forest_view in std::vectors (same meaning, same
/// invariants). Built by the loaders in io/ and by the trainer; `view()` feeds evaluate().
struct forest {
  /// Per node: absolute index of the left child (right child = left + 1), -1 for a leaf.
  std::vector<std::int32_t> left;
  /// Per node: split feature index; 0 for a leaf.
  std::vector<std::uint32_t> feature;
  /// Per node: split threshold (internal node) or output value (leaf).
  std::vector<float> split_value;
  /// Per node: nonzero when a NaN feature goes left.
  std::vector<std::uint8_t> default_left;
  /// Per tree: root node index; strictly increasing, starting at 0.
  std::vector<std::uint32_t> tree_roots;
  /// Length of the feature vector an evaluation reads.
  std::uint32_t num_features = 0;
  /// Initial value of the float accumulator.
  float base_score = 0.0f;

  /// Number of nodes (length of the per-node arrays).
  std::size_t num_nodes() const noexcept { return left.size(); }
  /// Number of trees.
  std::size_t num_trees() const noexcept { return tree_roots.size(); }

  /// Non-owning view of the tables; valid until the vectors are modified or destroyed.
  forest_view view() const noexcept {
    forest_view v;
    v.left = left.data();
    v.feature = feature.data();
    v.split_value = split_value.data();
    v.default_left = default_left.data();
    v.num_nodes = left.size();
    v.tree_roots = tree_roots.data();
    v.num_trees = tree_roots.size();
    v.num_features = num_features;
    v.base_score = base_score;
    return v;
  }

  /// Checks the invariants (see forest_view); returns the first defect or a valid result.
  forest_check check() const noexcept {
    const std::size_t n = left.size();
    for (std::size_t size : {feature.size(), split_value.size(), default_left.size()}) {
      if (size != n) {
        return detail::forest_defect_at(forest_defect::array_size_mismatch, 0, 0,
                                        static_cast<std::int64_t>(size));
      }
    }
    return detail::forest_validate_runtime(view());
  }

  /// Throws nnmeter::parse_error naming the tree and node of the first defect.
  void validate() const {
    const forest_check c = check();
    if (!c) throw parse_error("invalid forest: " + describe(c, view()));
  }

  /// Copy of the tables a view refers to.
  static forest from_view(const forest_view& v) {
    forest f;
    f.left.assign(v.left, v.left + v.num_nodes);
    f.feature.assign(v.feature, v.feature + v.num_nodes);
    f.split_value.assign(v.split_value, v.split_value + v.num_nodes);
    f.default_left.assign(v.default_left, v.default_left + v.num_nodes);
    f.tree_roots.assign(v.tree_roots, v.tree_roots + v.num_trees);
    f.num_features = v.num_features;
    f.base_score = v.base_score;
    return f;
  }
};

NNMETER_END_NAMESPACE
