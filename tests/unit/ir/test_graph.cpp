// Tests for include/nnmeter/ir/graph.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/graph.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using nnmeter::graph;
using nnmeter::graph_error;
using nnmeter::node;
using nnmeter::op_kind;
using nnmeter::tensor_ref;
using nnmeter::tensor_shape;

node make(std::string name, op_kind op, std::vector<tensor_ref> ins = {},
          std::vector<tensor_shape> outs = {tensor_shape{1, 8, 8, 4}}) {
  node n;
  n.name = std::move(name);
  n.op = op;
  n.type = std::string(nnmeter::to_string(op));
  n.inputs = std::move(ins);
  n.output_shapes = std::move(outs);
  return n;
}

// The message of the graph_error `f` throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const graph_error& e) {
    return e.what();
  }
  return {};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// in -> a -> b, in -> b (b reads a and in).
graph diamond() {
  graph g;
  g.add_node(make("in", op_kind::input));
  g.add_node(make("a", op_kind::relu, {{0, 0}}));
  g.add_node(make("b", op_kind::add, {{1, 0}, {0, 0}}));
  return g;
}

}  // namespace

TEST_SUITE("graph") {
  TEST_CASE("add_node, lookups and adjacency") {
    graph g = diamond();
    CHECK(g.num_nodes() == 3);
    CHECK_FALSE(g.empty());
    CHECK(g.op(1) == op_kind::relu);
    CHECK(g.name(2) == "b");
    CHECK(g.type(2) == "add");
    CHECK(g.elem_type(0) == nnmeter::dtype::f32);
    CHECK(g.at(1).name == "a");
    CHECK(g[2].inputs.size() == 2);
    CHECK(g.inputs(2) == std::vector<tensor_ref>{{1, 0}, {0, 0}});
    CHECK(g.predecessors(2) == std::vector<graph::node_id>{1, 0});
    CHECK(g.predecessors(0).empty());
    CHECK(g.successors(0) == std::vector<graph::node_id>{1, 2});
    CHECK(g.successors(1) == std::vector<graph::node_id>{2});
    CHECK(g.successors(2).empty());
    CHECK(g.find("a") == graph::node_id{1});
    CHECK_FALSE(g.find("zzz").has_value());
    CHECK(g.output_shapes(0) == std::vector<tensor_shape>{{1, 8, 8, 4}});
    CHECK(g.nodes().size() == 3);
    CHECK(g.topological_order() == std::vector<graph::node_id>{0, 1, 2});
    CHECK_NOTHROW(g.validate());
  }

  TEST_CASE("repeated operands appear once per operand") {
    graph g;
    g.add_node(make("x", op_kind::input));
    g.add_node(make("sq", op_kind::mul, {{0, 0}, {0, 0}}));
    CHECK(g.successors(0) == std::vector<graph::node_id>{1, 1});
    CHECK(g.predecessors(1) == std::vector<graph::node_id>{0, 0});
    CHECK(g.topological_order() == std::vector<graph::node_id>{0, 1});
  }

  TEST_CASE("duplicate and empty names are rejected") {
    graph g = diamond();
    const std::string dup = error_of([&] { g.add_node(make("a", op_kind::relu, {{0, 0}})); });
    CHECK(has(dup, "duplicate node name 'a'"));
    CHECK(has(error_of([&] { g.add_node(make("", op_kind::relu)); }), "empty name"));
    CHECK(g.num_nodes() == 3);  // nothing was added
    CHECK(g.successors(0).size() == 2);
  }

  TEST_CASE("dangling inputs are rejected") {
    {
      graph g = diamond();
      const std::string msg = error_of([&] { g.add_node(make("c", op_kind::relu, {{7, 0}})); });
      CHECK(has(msg, "'c'"));
      CHECK(has(msg, "#7"));
    }
    {
      graph g = diamond();
      CHECK(has(error_of([&] { g.set_inputs(1, {{3, 0}}); }), "#3"));
      CHECK(g.inputs(1) == std::vector<tensor_ref>{{0, 0}});  // unchanged after the error
      CHECK(g.successors(0) == std::vector<graph::node_id>{1, 2});
      CHECK(has(error_of([&] { g.set_inputs(9, {}); }), "no node #9"));
      CHECK(has(error_of([&] { (void)g.at(3); }), "no node #3"));
      CHECK(has(error_of([&] { (void)g.mutable_node(5); }), "no node #5"));
    }
  }

  TEST_CASE("add_node with a dangling input adds nothing (strong guarantee)") {
    graph g = diamond();
    CHECK_THROWS_AS(g.add_node(make("c", op_kind::relu, {{7, 0}})), graph_error);
    CHECK(g.num_nodes() == 3);
    CHECK_FALSE(g.find("c").has_value());
    // The name is still free afterwards.
    CHECK_NOTHROW(g.add_node(make("c", op_kind::relu, {{0, 0}})));
  }

  TEST_CASE("set_inputs rewires successor lists") {
    graph g = diamond();
    g.set_inputs(2, {{0, 0}, {0, 0}});
    CHECK(g.successors(0) == std::vector<graph::node_id>{1, 2, 2});
    CHECK(g.successors(1).empty());
    g.set_inputs(2, {});
    CHECK(g.successors(0) == std::vector<graph::node_id>{1});
  }

  TEST_CASE("nodes can be connected out of order; topological order follows the edges") {
    graph g;
    g.add_node(make("late", op_kind::relu));  // reads "early", connected below
    g.add_node(make("early", op_kind::input));
    g.set_inputs(0, {{1, 0}});
    CHECK(g.topological_order() == std::vector<graph::node_id>{1, 0});
    CHECK_NOTHROW(g.validate());
  }

  TEST_CASE("ready nodes are taken in index order") {
    graph g;
    g.add_node(make("i0", op_kind::input));
    g.add_node(make("i1", op_kind::input));
    g.add_node(make("r1", op_kind::relu, {{1, 0}}));
    g.add_node(make("r0", op_kind::relu, {{0, 0}}));
    CHECK(g.topological_order() == std::vector<graph::node_id>{0, 1, 2, 3});
  }

  TEST_CASE("a cycle made through set_inputs is reported") {
    graph g = diamond();
    g.set_inputs(1, {{2, 0}});  // a reads b, b reads a
    const std::string msg = error_of([&] { (void)g.topological_order(); });
    CHECK(has(msg, "cycle"));
    CHECK((has(msg, "'a'") || has(msg, "'b'")));
    CHECK(has(error_of([&] { g.validate(); }), "cycle"));

    graph self;
    self.add_node(make("loop", op_kind::relu));
    self.set_inputs(0, {{0, 0}});
    CHECK(has(error_of([&] { self.validate(); }), "'loop'"));
  }

  TEST_CASE("validate: output index beyond the producer's outputs") {
    graph g;
    g.add_node(make("x", op_kind::input));
    g.add_node(
        make("s", op_kind::split, {{0, 0}}, {tensor_shape{1, 8, 8, 2}, tensor_shape{1, 8, 8, 2}}));
    g.add_node(make("ok", op_kind::relu, {{1, 1}}));
    CHECK_NOTHROW(g.validate());
    g.add_node(make("bad", op_kind::relu, {{1, 2}}));
    const std::string msg = error_of([&] { g.validate(); });
    CHECK(has(msg, "'bad'"));
    CHECK(has(msg, "output 2"));
    CHECK(has(msg, "'s'"));
    CHECK(has(msg, "2 output(s)"));
  }

  TEST_CASE("validate: negative and absurd dimensions") {
    {
      graph g;
      g.add_node(make("x", op_kind::input, {}, {tensor_shape{-1, 1024}}));
      CHECK_NOTHROW(g.validate());  // -1 = unknown is allowed
    }
    {
      graph g;
      g.add_node(make("neg", op_kind::input, {}, {tensor_shape{1, -5, 4, 4}}));
      const std::string msg = error_of([&] { g.validate(); });
      CHECK(has(msg, "'neg'"));
      CHECK(has(msg, "-5"));
    }
    {
      graph g;
      g.add_node(make("huge", op_kind::input, {}, {tensor_shape{1, 1LL << 40}}));
      const std::string msg = error_of([&] { g.validate(); });
      CHECK(has(msg, "'huge'"));
      CHECK(has(msg, std::to_string(1LL << 40)));
    }
    {
      graph g;
      g.add_node(make("x", op_kind::input));
      node n = make("in_bad", op_kind::relu, {{0, 0}});
      n.input_shapes = {tensor_shape{1, -3}};
      g.add_node(std::move(n));
      const std::string msg = error_of([&] { g.validate(); });
      CHECK(has(msg, "'in_bad'"));
      CHECK(has(msg, "input dimension"));
    }
  }

  TEST_CASE("mutable_node edits everything but the edges; equality compares nodes") {
    graph g = diamond();
    g.mutable_node(1).attrs.alpha = 0.5f;
    CHECK(g.attrs(1).alpha == 0.5f);
    graph h = diamond();
    CHECK(g.at(0) == h.at(0));
    CHECK(g.at(1) != h.at(1));
  }
}
