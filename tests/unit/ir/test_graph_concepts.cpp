// Tests for include/nnmeter/ir/graph_concepts.hpp and graph_traits.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/graph_concepts.hpp>
#include <nnmeter/ir/graph_traits.hpp>
#include <nnmeter/fusion/detect.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// ----------------------------------------------------------------------------- test types

namespace user {

// A positive type adapted through one graph_traits specialisation: a chain of layers.
struct chain {
  std::vector<nnmeter::op_kind> ops;
  std::vector<std::string> names;
};

// Positive through the member-forwarding default (it has a node_id member type).
struct member_graph {
  using node_id = std::uint16_t;
  std::size_t num_nodes() const { return 2; }
  nnmeter::op_kind op(node_id n) const {
    return n == 0 ? nnmeter::op_kind::input : nnmeter::op_kind::relu;
  }
  std::array<node_id, 1> predecessors(node_id) const { return {0}; }
  std::vector<nnmeter::tensor_shape> input_shapes(node_id) const { return {{1, 4}}; }
  const std::vector<nnmeter::tensor_shape>& output_shapes(node_id) const { return shapes_; }
  nnmeter::attributes attrs(node_id) const { return {}; }

 private:
  std::vector<nnmeter::tensor_shape> shapes_{{1, 4}};
};

// Negative types, each adapted by a specialisation that gets exactly one thing wrong.
struct missing_op {};
struct int_op {};
struct double_id {};
struct string_id {};
struct bool_id {};
struct int_predecessors {};
struct wrong_attrs {};
struct missing_shapes {};

// Everything but `op`, for the negative specialisations below.
template <class G, class Id = std::size_t>
struct almost_traits {
  using node_id = Id;
  static std::size_t num_nodes(const G&) { return 0; }
  static std::vector<Id> predecessors(const G&, Id) { return {}; }
  static std::vector<nnmeter::tensor_shape> input_shapes(const G&, Id) { return {}; }
  static std::vector<nnmeter::tensor_shape> output_shapes(const G&, Id) { return {}; }
  static nnmeter::attributes attrs(const G&, Id) { return {}; }
};

}  // namespace user

namespace nnmeter {

template <>
struct graph_traits<user::chain> {
  using node_id = std::size_t;
  static std::size_t num_nodes(const user::chain& g) { return g.ops.size(); }
  static op_kind op(const user::chain& g, node_id n) { return g.ops[n]; }
  static std::vector<node_id> predecessors(const user::chain&, node_id n) {
    if (n == 0) return {};
    return {n - 1};
  }
  static std::vector<tensor_shape> input_shapes(const user::chain&, node_id n) {
    if (n == 0) return {};
    return {tensor_shape{1, 8}};
  }
  static std::vector<tensor_shape> output_shapes(const user::chain&, node_id) {
    return {tensor_shape{1, 8}};
  }
  static attributes attrs(const user::chain&, node_id) { return {}; }
  static const std::string& name(const user::chain& g, node_id n) { return g.names[n]; }
};

template <>
struct graph_traits<user::missing_op> : user::almost_traits<user::missing_op> {};

template <>
struct graph_traits<user::int_op> : user::almost_traits<user::int_op> {
  static int op(const user::int_op&, node_id) { return 0; }
};

template <>
struct graph_traits<user::double_id> : user::almost_traits<user::double_id, double> {
  static op_kind op(const user::double_id&, node_id) { return op_kind::relu; }
};

template <>
struct graph_traits<user::string_id> {
  using node_id = std::string;
  static std::size_t num_nodes(const user::string_id&) { return 0; }
  static op_kind op(const user::string_id&, const node_id&) { return op_kind::relu; }
  static std::vector<std::string> predecessors(const user::string_id&, const node_id&) {
    return {};
  }
  static std::vector<tensor_shape> input_shapes(const user::string_id&, const node_id&) {
    return {};
  }
  static std::vector<tensor_shape> output_shapes(const user::string_id&, const node_id&) {
    return {};
  }
  static attributes attrs(const user::string_id&, const node_id&) { return {}; }
};

template <>
struct graph_traits<user::bool_id> : user::almost_traits<user::bool_id, bool> {
  static op_kind op(const user::bool_id&, node_id) { return op_kind::relu; }
};

template <>
struct graph_traits<user::int_predecessors> {
  using node_id = std::size_t;
  static std::size_t num_nodes(const user::int_predecessors&) { return 0; }
  static op_kind op(const user::int_predecessors&, node_id) { return op_kind::relu; }
  static int predecessors(const user::int_predecessors&, node_id) { return 0; }
  static std::vector<tensor_shape> input_shapes(const user::int_predecessors&, node_id) {
    return {};
  }
  static std::vector<tensor_shape> output_shapes(const user::int_predecessors&, node_id) {
    return {};
  }
  static attributes attrs(const user::int_predecessors&, node_id) { return {}; }
};

template <>
struct graph_traits<user::wrong_attrs> {
  using node_id = std::size_t;
  static std::size_t num_nodes(const user::wrong_attrs&) { return 0; }
  static op_kind op(const user::wrong_attrs&, node_id) { return op_kind::relu; }
  static std::vector<node_id> predecessors(const user::wrong_attrs&, node_id) { return {}; }
  static std::vector<tensor_shape> input_shapes(const user::wrong_attrs&, node_id) { return {}; }
  static std::vector<tensor_shape> output_shapes(const user::wrong_attrs&, node_id) { return {}; }
  static int attrs(const user::wrong_attrs&, node_id) { return 0; }
};

template <>
struct graph_traits<user::missing_shapes> {
  using node_id = std::size_t;
  static std::size_t num_nodes(const user::missing_shapes&) { return 0; }
  static op_kind op(const user::missing_shapes&, node_id) { return op_kind::relu; }
  static std::vector<node_id> predecessors(const user::missing_shapes&, node_id) { return {}; }
  static attributes attrs(const user::missing_shapes&, node_id) { return {}; }
};

}  // namespace nnmeter

// ------------------------------------------------------------------------- compile time

namespace {

struct no_traits {};

// Positive models.
static_assert(nnmeter::is_op_graph_v<nnmeter::graph>);
static_assert(nnmeter::is_op_graph_v<const nnmeter::graph&>);  // cv-ref stripped
static_assert(nnmeter::is_op_graph_v<user::chain>);
static_assert(nnmeter::is_op_graph_v<user::member_graph>);
static_assert(std::is_same_v<nnmeter::node_id_t<nnmeter::graph>, std::uint32_t>);
static_assert(std::is_same_v<nnmeter::node_id_t<user::chain>, std::size_t>);

// Negative types.
static_assert(!nnmeter::is_op_graph_v<int>);
static_assert(!nnmeter::is_op_graph_v<no_traits>);
static_assert(!nnmeter::is_op_graph_v<std::vector<int>>);
static_assert(!nnmeter::is_op_graph_v<user::missing_op>);
static_assert(!nnmeter::is_op_graph_v<user::int_op>);
static_assert(!nnmeter::is_op_graph_v<user::double_id>);
static_assert(!nnmeter::is_op_graph_v<user::string_id>);
static_assert(!nnmeter::is_op_graph_v<user::bool_id>);
static_assert(!nnmeter::is_op_graph_v<user::int_predecessors>);
static_assert(!nnmeter::is_op_graph_v<user::wrong_attrs>);
static_assert(!nnmeter::is_op_graph_v<user::missing_shapes>);

// Optional members.
static_assert(nnmeter::has_node_names_v<nnmeter::graph>);
static_assert(nnmeter::has_node_types_v<nnmeter::graph>);
static_assert(nnmeter::has_elem_types_v<nnmeter::graph>);
static_assert(nnmeter::has_node_names_v<user::chain>);
static_assert(!nnmeter::has_node_types_v<user::chain>);
static_assert(!nnmeter::has_elem_types_v<user::chain>);
static_assert(!nnmeter::has_node_names_v<user::member_graph>);

#if NNMETER_HAS_CONCEPTS
// The concept and the trait are built from the same expressions and must agree everywhere.
template <class T>
constexpr bool agree = nnmeter::op_graph<T> == nnmeter::is_op_graph_v<T>;
static_assert(agree<nnmeter::graph>);
static_assert(agree<const nnmeter::graph&>);
static_assert(agree<user::chain>);
static_assert(agree<user::member_graph>);
static_assert(agree<int>);
static_assert(agree<no_traits>);
static_assert(agree<std::vector<int>>);
static_assert(agree<user::missing_op>);
static_assert(agree<user::int_op>);
static_assert(agree<user::double_id>);
static_assert(agree<user::string_id>);
static_assert(agree<user::bool_id>);
static_assert(agree<user::int_predecessors>);
static_assert(agree<user::wrong_attrs>);
static_assert(agree<user::missing_shapes>);
static_assert(nnmeter::op_graph<user::chain>);
static_assert(!nnmeter::op_graph<int>);

// The concept constrains overloads as expected.
template <nnmeter::op_graph G>
constexpr int pick(const G&) {
  return 1;
}
template <class T>
constexpr int pick(const T&) {
  return 0;
}
static_assert(pick(user::chain{}) == 1);
static_assert(pick(0) == 0);
#endif

}  // namespace

// --------------------------------------------------------------------------------- run time

TEST_SUITE("graph_concepts") {
  TEST_CASE("free functions dispatch through graph_traits for a user type") {
    const user::chain g{{nnmeter::op_kind::input, nnmeter::op_kind::conv, nnmeter::op_kind::relu},
                        {"x", "c", "r"}};
    CHECK(nnmeter::num_nodes(g) == 3);
    CHECK(nnmeter::op(g, 1) == nnmeter::op_kind::conv);
    CHECK(nnmeter::predecessors(g, 2) == std::vector<std::size_t>{1});
    CHECK(nnmeter::predecessors(g, 0).empty());
    CHECK(nnmeter::input_shapes(g, 1).size() == 1);
    CHECK(nnmeter::output_shapes(g, 2).front() == nnmeter::tensor_shape{1, 8});
    CHECK(nnmeter::attrs(g, 0) == nnmeter::attributes{});
    CHECK(nnmeter::graph_traits<user::chain>::name(g, 2) == "r");
  }

  TEST_CASE("the member-forwarding default adapts nnmeter::graph and member-based types") {
    nnmeter::graph g;
    nnmeter::node in;
    in.name = "x";
    in.op = nnmeter::op_kind::input;
    in.output_shapes = {{1, 4}};
    g.add_node(in);
    CHECK(nnmeter::num_nodes(g) == 1);
    CHECK(nnmeter::op(g, 0) == nnmeter::op_kind::input);
    CHECK(nnmeter::graph_traits<nnmeter::graph>::name(g, 0) == "x");

    const user::member_graph m;
    CHECK(nnmeter::num_nodes(m) == 2);
    CHECK(nnmeter::op(m, 1) == nnmeter::op_kind::relu);
    CHECK(nnmeter::predecessors(m, 1)[0] == 0);
    CHECK(nnmeter::output_shapes(m, 0).size() == 1);
  }
}

namespace {
// Member-forwarding default: a class with a nested node_id is a graph only when every member
// function exists with the right type; otherwise the trait is false (no hard error).
struct members_without_op {
  using node_id = std::uint32_t;
  std::size_t num_nodes() const { return 0; }
  std::vector<node_id> predecessors(node_id) const { return {}; }
  std::vector<nnmeter::tensor_shape> input_shapes(node_id) const { return {}; }
  std::vector<nnmeter::tensor_shape> output_shapes(node_id) const { return {}; }
  nnmeter::attributes attrs(node_id) const { return {}; }
};
struct members_complete : members_without_op {
  nnmeter::op_kind op(node_id) const { return nnmeter::op_kind::relu; }
  std::string_view name(node_id) const { return "n"; }
};
struct members_wrong_op : members_without_op {
  int op(node_id) const { return 0; }
};
static_assert(!nnmeter::is_op_graph_v<members_without_op>);
static_assert(!nnmeter::is_op_graph_v<members_wrong_op>);
static_assert(nnmeter::is_op_graph_v<members_complete>);
static_assert(nnmeter::has_node_names_v<members_complete>);  // string_view names are detected
static_assert(!nnmeter::has_node_names_v<members_without_op>);
#if NNMETER_HAS_CONCEPTS
static_assert(nnmeter::op_graph<members_complete> == nnmeter::is_op_graph_v<members_complete>);
static_assert(nnmeter::op_graph<members_without_op> == nnmeter::is_op_graph_v<members_without_op>);
static_assert(nnmeter::op_graph<members_wrong_op> == nnmeter::is_op_graph_v<members_wrong_op>);
#endif
}  // namespace

TEST_CASE("member-forwarding graph_traits detects missing members without hard errors") {
  const members_complete g;
  CHECK(nnmeter::num_nodes(g) == 0);
  CHECK(nnmeter::detect_kernels(g).empty());
}
