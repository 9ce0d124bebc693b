// nnmeter — is_op_graph_v (C++17) and concept op_graph (C++20), from one set of expressions.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/detail/meta.hpp>
#include <nnmeter/ir/graph_traits.hpp>

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

NNMETER_BEGIN_NAMESPACE
namespace detail {

// Each required expression is written once, here; both the trait and the concept use them.
template <class G>
using node_id_expr = typename graph_traits<G>::node_id;
template <class G>
using num_nodes_expr = decltype(graph_traits<G>::num_nodes(std::declval<const G&>()));
template <class G>
using op_expr = decltype(graph_traits<G>::op(std::declval<const G&>(),
                                             std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using predecessors_expr =
    decltype(graph_traits<G>::predecessors(std::declval<const G&>(),
                                           std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using input_shapes_expr =
    decltype(graph_traits<G>::input_shapes(std::declval<const G&>(),
                                           std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using output_shapes_expr =
    decltype(graph_traits<G>::output_shapes(std::declval<const G&>(),
                                            std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using attrs_expr = decltype(graph_traits<G>::attrs(
    std::declval<const G&>(), std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using name_expr = decltype(graph_traits<G>::name(std::declval<const G&>(),
                                                 std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using type_expr = decltype(graph_traits<G>::type(std::declval<const G&>(),
                                                 std::declval<typename graph_traits<G>::node_id>()));
template <class G>
using elem_type_expr = decltype(graph_traits<G>::elem_type(
    std::declval<const G&>(), std::declval<typename graph_traits<G>::node_id>()));

// "Iterable of T": for (auto x : r) works and yields something convertible to T.
template <class R>
using begin_expr = decltype(*std::begin(std::declval<R&>()));
template <class R>
using end_expr = decltype(std::end(std::declval<R&>()));
template <class R, class T, class = void>
struct is_iterable_of : std::false_type {};
template <class R, class T>
struct is_iterable_of<R, T, std::enable_if_t<is_detected_v<begin_expr, R> && is_detected_v<end_expr, R>>>
    : std::is_convertible<detected_t<begin_expr, R>, T> {};

template <class G, class = void>
struct is_op_graph_impl : std::false_type {};
template <class G>
struct is_op_graph_impl<G, std::enable_if_t<is_detected_v<node_id_expr, G>>>
    : std::bool_constant<
          std::is_integral_v<node_id_expr<G>> && !std::is_same_v<node_id_expr<G>, bool> &&
          is_detected_convertible_v<std::size_t, num_nodes_expr, G> &&
          is_detected_exact_v<op_kind, op_expr, G> &&
          is_iterable_of<detected_t<predecessors_expr, G>, node_id_expr<G>>::value &&
          is_iterable_of<detected_t<input_shapes_expr, G>, const tensor_shape&>::value &&
          is_iterable_of<detected_t<output_shapes_expr, G>, const tensor_shape&>::value &&
          is_detected_convertible_v<const attributes&, attrs_expr, G>> {};

}  // namespace detail

/// True when G models op_graph: graph_traits<G> provides node_id (an integral type),
/// num_nodes, op, predecessors, input_shapes, output_shapes and attrs with the documented types.
template <class G>
inline constexpr bool is_op_graph_v = detail::is_op_graph_impl<detail::remove_cvref_t<G>>::value;

namespace detail {
template <template <class...> class Op, class G>
inline constexpr bool yields_string_v =
    is_detected_v<Op, G> && std::is_constructible_v<std::string, detected_t<Op, G>>;
}  // namespace detail

/// True when graph_traits<G> provides name(g, n) returning something a std::string can be
/// built from (std::string, std::string_view, const char*).
template <class G>
inline constexpr bool has_node_names_v = detail::yields_string_v<detail::name_expr, G>;
/// True when graph_traits<G> provides type(g, n) (the source operator name), string-like.
template <class G>
inline constexpr bool has_node_types_v = detail::yields_string_v<detail::type_expr, G>;
/// True when graph_traits<G> provides elem_type(g, n) -> dtype.
template <class G>
inline constexpr bool has_elem_types_v = detail::is_detected_exact_v<dtype, detail::elem_type_expr, G>;

#if NNMETER_HAS_CONCEPTS
/// C++20 spelling of is_op_graph_v (same expressions; a test checks they agree).
template <class G>
concept op_graph = is_op_graph_v<G>;
#endif

NNMETER_END_NAMESPACE
