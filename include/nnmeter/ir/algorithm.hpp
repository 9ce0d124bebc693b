// nnmeter — graph algorithms, generic over graph_traits.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/detail/meta.hpp>
#include <nnmeter/error.hpp>
#include <nnmeter/ir/graph_concepts.hpp>
#include <nnmeter/ir/graph_traits.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace detail {

// "'name'" when graph_traits<G> provides a name convertible to std::string, else "#index".
template <class G>
std::string algo_node_label(const G& g, std::size_t i) {
  if constexpr (is_detected_v<name_expr, G>) {
    if constexpr (std::is_constructible_v<std::string, detected_t<name_expr, G>>) {
      return "'" + std::string(graph_traits<G>::name(g, static_cast<node_id_t<G>>(i))) + "'";
    }
  }
  return "#" + std::to_string(i);
}

// The dense index of node id `p`, a predecessor of node `v`; throws when it is out of range.
template <class G, class Id>
std::size_t algo_checked_index(const G& g, Id p, std::size_t n, std::size_t v) {
  bool ok = true;
  if constexpr (std::is_signed_v<Id>) ok = p >= 0;
  if (ok && static_cast<std::size_t>(p) < n) return static_cast<std::size_t>(p);
  throw graph_error("graph: node " + algo_node_label(g, v) + " has predecessor #" +
                    std::to_string(p) + ", which does not exist (" + std::to_string(n) + " nodes)");
}

template <class G>
std::vector<std::vector<node_id_t<G>>> successors_impl(const G& g) {
  using id = node_id_t<G>;
  const std::size_t n = graph_traits<G>::num_nodes(g);
  std::vector<std::vector<id>> out(n);
  for (std::size_t v = 0; v < n; ++v) {
    for (auto p : graph_traits<G>::predecessors(g, static_cast<id>(v)))
      out[algo_checked_index(g, p, n, v)].push_back(static_cast<id>(v));
  }
  return out;
}

template <class G>
std::vector<node_id_t<G>> topological_order_impl(const G& g) {
  using id = node_id_t<G>;
  const std::size_t n = graph_traits<G>::num_nodes(g);
  const std::vector<std::vector<id>> succ = successors_impl(g);
  // indegree counts operands, so a node reading one producer twice waits for both edges.
  std::vector<std::size_t> indegree(n, 0);
  for (const auto& consumers : succ)
    for (id s : consumers) ++indegree[static_cast<std::size_t>(s)];
  // Ready nodes form a min-heap on the index: among ready nodes the smallest index goes first,
  // which is nnmeter::graph::topological_order's order.
  auto later = [](std::size_t a, std::size_t b) { return a > b; };
  std::vector<std::size_t> ready;
  for (std::size_t v = 0; v < n; ++v)
    if (indegree[v] == 0) ready.push_back(v);
  std::make_heap(ready.begin(), ready.end(), later);
  std::vector<id> order;
  order.reserve(n);
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), later);
    const std::size_t v = ready.back();
    ready.pop_back();
    order.push_back(static_cast<id>(v));
    for (id s : succ[v]) {
      const auto si = static_cast<std::size_t>(s);
      if (--indegree[si] == 0) {
        ready.push_back(si);
        std::push_heap(ready.begin(), ready.end(), later);
      }
    }
  }
  if (order.size() == n) return order;
  // Every node left has a predecessor that is also left, so walking predecessors from any of
  // them for n steps ends on a cycle; then list that cycle (at most 8 names).
  std::size_t v = 0;
  while (indegree[v] == 0) ++v;
  auto left_pred = [&](std::size_t x) {
    for (auto p : graph_traits<G>::predecessors(g, static_cast<id>(x))) {
      const auto pi = static_cast<std::size_t>(p);
      if (indegree[pi] != 0) return pi;
    }
    return x;  // unreachable: x has an unprocessed predecessor
  };
  for (std::size_t i = 0; i < n; ++i) v = left_pred(v);
  std::vector<std::size_t> cycle{v};
  for (std::size_t u = left_pred(v); u != v; u = left_pred(u)) cycle.push_back(u);
  std::string text;
  for (std::size_t i = cycle.size(); i-- > 0;) {  // predecessors were walked: reverse to edges
    if (cycle.size() - 1 - i == 8) {
      text += " -> ...";
      break;
    }
    text += (text.empty() ? "" : " -> ") + algo_node_label(g, cycle[i]);
  }
  throw graph_error("graph: cycle " + text + " -> " + algo_node_label(g, cycle.back()));
}

}  // namespace detail

/// Consumers of every node: element v lists the nodes that read an output of v, in increasing
/// index order, one entry per consuming operand. O(V + E). Throws graph_error when a
/// predecessor id is not a node.
template <class G>
NNMETER_REQUIRES(op_graph<G>)
auto successors_of(const G& g) {
  static_assert(is_op_graph_v<G>,
                "G does not model nnmeter::op_graph: specialise nnmeter::graph_traits<G> "
                "(docs/concepts.md)");
  if constexpr (is_op_graph_v<G>) {
    return detail::successors_impl(g);
  } else {
    return std::vector<std::vector<std::size_t>>{};
  }
}

/// The nodes in a topological order (Kahn's algorithm; among ready nodes the smallest index
/// first, so a graph whose nodes are already in order is returned unchanged). O((V + E) log V).
/// Throws graph_error listing the nodes of a cycle, or naming a node whose predecessor id is
/// out of range.
template <class G>
NNMETER_REQUIRES(op_graph<G>)
auto topological_order(const G& g) {
  static_assert(is_op_graph_v<G>,
                "G does not model nnmeter::op_graph: specialise nnmeter::graph_traits<G> "
                "(docs/concepts.md)");
  if constexpr (is_op_graph_v<G>) {
    return detail::topological_order_impl(g);
  } else {
    return std::vector<std::size_t>{};
  }
}

NNMETER_END_NAMESPACE
