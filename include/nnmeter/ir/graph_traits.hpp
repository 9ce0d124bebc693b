// nnmeter — graph_traits: the one customisation point for graph types.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/detail/meta.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

NNMETER_BEGIN_NAMESPACE

/// How the library reads a graph type G. Specialise it for your own graph (see
/// docs/concepts.md and examples/02_adapt_your_own_graph.cpp). The primary template is empty,
/// which means "G is not a graph"; the partial specialisation below forwards to G's member
/// functions, which is how nnmeter::graph is adapted.
///
/// Required static members (n is a node_id; node ids are the dense indices 0..num_nodes-1,
/// and that order breaks ties wherever an algorithm needs an order):
///   using node_id = <unsigned integral type>;
///   std::size_t num_nodes(const G&);
///   op_kind op(const G&, node_id);
///   <iterable of node_id> predecessors(const G&, node_id);   // producers, operand order
///   <iterable of tensor_shape> input_shapes(const G&, node_id);
///   <iterable of tensor_shape> output_shapes(const G&, node_id);  // NHWC for rank 4
///   <attributes or const attributes&> attrs(const G&, node_id);
/// Optional: name(g, n) (string-like; default "n<index>"), type(g, n) (the source operator
/// name; needed for op_kind::other), elem_type(g, n) -> dtype (default f32).
template <class G, class = void>
struct graph_traits {};

template <class G>
struct graph_traits<G, std::void_t<typename G::node_id>> {
  using node_id = typename G::node_id;
  // Each member is a template with a trailing return type, so a G that lacks one of the member
  // functions makes only that expression ill-formed: is_op_graph_v<G> is then false, not a
  // hard error.
  template <class GG = G>
  static auto num_nodes(const GG& g) -> decltype(g.num_nodes()) {
    return g.num_nodes();
  }
  template <class GG = G>
  static auto op(const GG& g, node_id n) -> decltype(g.op(n)) {
    return g.op(n);
  }
  template <class GG = G>
  static auto predecessors(const GG& g, node_id n) -> decltype(g.predecessors(n)) {
    return g.predecessors(n);
  }
  template <class GG = G>
  static auto input_shapes(const GG& g, node_id n) -> decltype(g.input_shapes(n)) {
    return g.input_shapes(n);
  }
  template <class GG = G>
  static auto output_shapes(const GG& g, node_id n) -> decltype(g.output_shapes(n)) {
    return g.output_shapes(n);
  }
  template <class GG = G>
  static auto attrs(const GG& g, node_id n) -> decltype(g.attrs(n)) {
    return g.attrs(n);
  }
  template <class GG = G>
  static auto name(const GG& g, node_id n) -> decltype(g.name(n)) {
    return g.name(n);
  }
  template <class GG = G>
  static auto type(const GG& g, node_id n) -> decltype(g.type(n)) {
    return g.type(n);
  }
  template <class GG = G>
  static auto elem_type(const GG& g, node_id n) -> decltype(g.elem_type(n)) {
    return g.elem_type(n);
  }
};

/// The node id type of graph G.
template <class G>
using node_id_t = typename graph_traits<G>::node_id;

// Graph-first free functions over graph_traits. The trailing return types keep them
// SFINAE-friendly, so the detection traits in graph_concepts.hpp never hit a hard error.

template <class G>
auto num_nodes(const G& g) -> decltype(graph_traits<G>::num_nodes(g)) {
  return graph_traits<G>::num_nodes(g);
}
template <class G>
auto op(const G& g, node_id_t<G> n) -> decltype(graph_traits<G>::op(g, n)) {
  return graph_traits<G>::op(g, n);
}
template <class G>
auto predecessors(const G& g, node_id_t<G> n) -> decltype(graph_traits<G>::predecessors(g, n)) {
  return graph_traits<G>::predecessors(g, n);
}
template <class G>
auto input_shapes(const G& g, node_id_t<G> n) -> decltype(graph_traits<G>::input_shapes(g, n)) {
  return graph_traits<G>::input_shapes(g, n);
}
template <class G>
auto output_shapes(const G& g, node_id_t<G> n)
    -> decltype(graph_traits<G>::output_shapes(g, n)) {
  return graph_traits<G>::output_shapes(g, n);
}
template <class G>
auto attrs(const G& g, node_id_t<G> n) -> decltype(graph_traits<G>::attrs(g, n)) {
  return graph_traits<G>::attrs(g, n);
}

NNMETER_END_NAMESPACE
