// nnmeter — detection idiom and small metaprogramming helpers (internal).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <type_traits>

NNMETER_BEGIN_NAMESPACE
namespace detail {

struct nonesuch {
  nonesuch() = delete;
  ~nonesuch() = delete;
  nonesuch(const nonesuch&) = delete;
  void operator=(const nonesuch&) = delete;
};

template <class Default, class AlwaysVoid, template <class...> class Op, class... Args>
struct detector {
  using value_t = std::false_type;
  using type = Default;
};
template <class Default, template <class...> class Op, class... Args>
struct detector<Default, std::void_t<Op<Args...>>, Op, Args...> {
  using value_t = std::true_type;
  using type = Op<Args...>;
};

/// True when Op<Args...> is a valid type.
template <template <class...> class Op, class... Args>
inline constexpr bool is_detected_v = detector<nonesuch, void, Op, Args...>::value_t::value;

/// Op<Args...>, or nonesuch.
template <template <class...> class Op, class... Args>
using detected_t = typename detector<nonesuch, void, Op, Args...>::type;

/// True when Op<Args...> is valid and exactly Expected.
template <class Expected, template <class...> class Op, class... Args>
inline constexpr bool is_detected_exact_v = std::is_same_v<Expected, detected_t<Op, Args...>>;

/// True when Op<Args...> is valid and convertible to To.
template <class To, template <class...> class Op, class... Args>
inline constexpr bool is_detected_convertible_v =
    is_detected_v<Op, Args...> && std::is_convertible_v<detected_t<Op, Args...>, To>;

template <class T>
using remove_cvref_t = std::remove_cv_t<std::remove_reference_t<T>>;

template <class...>
inline constexpr bool always_false_v = false;

}  // namespace detail
NNMETER_END_NAMESPACE
