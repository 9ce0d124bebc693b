// Tests for include/nnmeter/ir/algorithm.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/algorithm.hpp>
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/graph_builder.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace user {

// An adjacency-list graph with signed ids and no names: predecessors[v] lists v's producers.
struct adjacency {
  std::vector<std::vector<int>> preds;
};

}  // namespace user

namespace nnmeter {
template <>
struct graph_traits<user::adjacency> {
  using node_id = int;
  static std::size_t num_nodes(const user::adjacency& g) { return g.preds.size(); }
  static op_kind op(const user::adjacency&, node_id) { return op_kind::relu; }
  static const std::vector<int>& predecessors(const user::adjacency& g, node_id n) {
    return g.preds[static_cast<std::size_t>(n)];
  }
  static std::vector<tensor_shape> input_shapes(const user::adjacency&, node_id) { return {}; }
  static std::vector<tensor_shape> output_shapes(const user::adjacency&, node_id) { return {}; }
  static attributes attrs(const user::adjacency&, node_id) { return {}; }
};
}  // namespace nnmeter

static_assert(nnmeter::is_op_graph_v<user::adjacency>);

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nnmeter::graph_error& e) {
    return e.what();
  }
  return {};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("algorithm") {
  TEST_CASE("topological_order on a user type: edges first, then smallest index") {
    // 0 <- 2, 1 <- 0, 3 (no producers), 2 (no producers)
    const user::adjacency g{{{2}, {0}, {}, {}}};
    const std::vector<int> order = nnmeter::topological_order(g);
    CHECK(order == std::vector<int>{2, 0, 1, 3});
    const auto succ = nnmeter::successors_of(g);
    REQUIRE(succ.size() == 4);
    CHECK(succ[0] == std::vector<int>{1});
    CHECK(succ[1].empty());
    CHECK(succ[2] == std::vector<int>{0});
    CHECK(succ[3].empty());
  }

  TEST_CASE("repeated operands count once per operand") {
    const user::adjacency g{{{}, {0, 0}, {1, 0}}};
    CHECK(nnmeter::topological_order(g) == std::vector<int>{0, 1, 2});
    const auto succ = nnmeter::successors_of(g);
    CHECK(succ[0] == std::vector<int>{1, 1, 2});
  }

  TEST_CASE("empty graph") {
    const user::adjacency g;
    CHECK(nnmeter::topological_order(g).empty());
    CHECK(nnmeter::successors_of(g).empty());
  }

  TEST_CASE("agrees with nnmeter::graph's own order and successor lists") {
    nnmeter::graph_builder b;
    auto x = b.input({1, 16, 16, 8});
    auto a = b.conv(x, 8, 3);
    auto s = b.split(a, 2);
    auto c = b.concat({b.relu(s[1]), b.sigmoid(s[0])});
    auto y = b.add(c, x);
    (void)b.mul(y, b.se(y));
    nnmeter::graph g = std::move(b).build();
    CHECK(nnmeter::topological_order(g) == g.topological_order());
    const auto succ = nnmeter::successors_of(g);
    for (nnmeter::node_index v = 0; v < g.num_nodes(); ++v) {
      std::vector<nnmeter::node_index> expected = g.successors(v);
      std::sort(expected.begin(), expected.end());
      CHECK(succ[v] == expected);
    }
  }

  TEST_CASE("out-of-order nodes") {
    nnmeter::graph g;
    for (const char* name : {"c", "b", "a"}) {
      nnmeter::node n;
      n.name = name;
      n.op = nnmeter::op_kind::relu;
      n.output_shapes = {{1}};
      g.add_node(n);
    }
    g.set_inputs(0, {{1, 0}});  // c reads b
    g.set_inputs(1, {{2, 0}});  // b reads a
    CHECK(nnmeter::topological_order(g) == std::vector<nnmeter::node_index>{2, 1, 0});
    CHECK(nnmeter::topological_order(g) == g.topological_order());
  }

  TEST_CASE("cycles are reported with the nodes on the cycle") {
    nnmeter::graph g;
    for (const char* name : {"in", "a", "b", "c", "tail"}) {
      nnmeter::node n;
      n.name = name;
      n.op = nnmeter::op_kind::relu;
      n.output_shapes = {{1}};
      g.add_node(n);
    }
    g.set_inputs(1, {{0, 0}, {3, 0}});  // a reads in and c
    g.set_inputs(2, {{1, 0}});          // b reads a
    g.set_inputs(3, {{2, 0}});          // c reads b
    g.set_inputs(4, {{3, 0}});          // tail reads c (downstream of the cycle, not on it)
    const std::string msg = error_of([&] { (void)nnmeter::topological_order(g); });
    CAPTURE(msg);
    CHECK(has(msg, "graph: cycle "));
    CHECK(has(msg, "'a'"));
    CHECK(has(msg, "'b'"));
    CHECK(has(msg, "'c'"));
    CHECK_FALSE(has(msg, "'tail'"));
    CHECK_FALSE(has(msg, "'in'"));

    // A self-loop in a graph without names is reported by index.
    const user::adjacency self{{{}, {1}}};
    CHECK(error_of([&] { (void)nnmeter::topological_order(self); }) == "graph: cycle #1 -> #1");
    // Edges are listed in the direction data flows.
    const user::adjacency two{{{1}, {0}}};
    const std::string m2 = error_of([&] { (void)nnmeter::topological_order(two); });
    CHECK((m2 == "graph: cycle #0 -> #1 -> #0" || m2 == "graph: cycle #1 -> #0 -> #1"));
  }

  TEST_CASE("long cycles are abbreviated") {
    user::adjacency ring;
    for (int i = 0; i < 20; ++i) ring.preds.push_back({(i + 19) % 20});
    const std::string msg = error_of([&] { (void)nnmeter::topological_order(ring); });
    CAPTURE(msg);
    CHECK(has(msg, " -> ... -> "));
  }

  TEST_CASE("predecessor ids out of range") {
    const user::adjacency high{{{}, {5}}};
    const std::string m1 = error_of([&] { (void)nnmeter::topological_order(high); });
    CHECK(m1 == "graph: node #1 has predecessor #5, which does not exist (2 nodes)");
    const user::adjacency negative{{{-1}}};
    CHECK(has(error_of([&] { (void)nnmeter::successors_of(negative); }), "predecessor #-1"));
  }
}
