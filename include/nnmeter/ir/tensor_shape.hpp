// nnmeter — tensor shapes.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>

NNMETER_BEGIN_NAMESPACE

/// A tensor shape of rank <= tensor_shape::max_rank, stored inline (no allocation).
/// Dimensions are >= 0, or tensor_shape::unknown (-1) for a dimension whose size is not known
/// (nn-Meter IR writes the batch of some tensors as -1). Rank 0 is a scalar.
/// Activations of rank 4 are NHWC, whatever the source layout.
class tensor_shape {
 public:
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using const_iterator = const value_type*;

  static constexpr size_type max_rank = 8;
  static constexpr value_type unknown = -1;
  /// Largest accepted dimension (2^31 - 1): anything larger is treated as corrupt input.
  static constexpr value_type max_dim = std::numeric_limits<std::int32_t>::max();

  constexpr tensor_shape() noexcept = default;
  /// Throws std::length_error when the list is longer than max_rank.
  constexpr tensor_shape(std::initializer_list<value_type> dims) {
    for (value_type d : dims) push_back(d);
  }

  constexpr size_type rank() const noexcept { return rank_; }
  constexpr size_type size() const noexcept { return rank_; }
  constexpr bool empty() const noexcept { return rank_ == 0; }
  constexpr const value_type* data() const noexcept { return dims_; }
  constexpr const_iterator begin() const noexcept { return dims_; }
  constexpr const_iterator end() const noexcept { return dims_ + rank_; }

  /// Dimension i; negative i counts from the back as in Python (-1 is the last).
  constexpr value_type operator[](std::ptrdiff_t i) const noexcept {
    return dims_[i < 0 ? static_cast<std::ptrdiff_t>(rank_) + i : i];
  }
  constexpr value_type& operator[](std::ptrdiff_t i) noexcept {
    return dims_[i < 0 ? static_cast<std::ptrdiff_t>(rank_) + i : i];
  }
  constexpr value_type back() const noexcept { return dims_[rank_ - 1]; }

  /// Appends a dimension; throws std::length_error beyond max_rank.
  constexpr void push_back(value_type d) {
    if (rank_ == max_rank) throw std::length_error("nnmeter::tensor_shape: rank above 8");
    dims_[rank_++] = d;
  }
  constexpr void clear() noexcept { rank_ = 0; }

  /// True when every dimension is known (>= 0).
  constexpr bool is_static() const noexcept {
    for (size_type i = 0; i < rank_; ++i)
      if (dims_[i] < 0) return false;
    return true;
  }

  /// True when every dimension is >= 0 or unknown and none exceeds max_dim.
  constexpr bool is_valid() const noexcept {
    for (size_type i = 0; i < rank_; ++i)
      if (dims_[i] < unknown || dims_[i] > max_dim) return false;
    return true;
  }

  /// Number of elements (1 for a scalar); unknown dimensions count as 1.
  /// Saturates at INT64_MAX instead of overflowing.
  constexpr value_type num_elements() const noexcept {
    value_type n = 1;
    for (size_type i = 0; i < rank_; ++i) {
      const value_type d = dims_[i] < 0 ? 1 : dims_[i];
      if (d != 0 && n > std::numeric_limits<value_type>::max() / d)
        return std::numeric_limits<value_type>::max();
      n *= d;
    }
    return n;
  }

  friend constexpr bool operator==(const tensor_shape& a, const tensor_shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (size_type i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }
  friend constexpr bool operator!=(const tensor_shape& a, const tensor_shape& b) noexcept {
    return !(a == b);
  }

 private:
  value_type dims_[max_rank] = {};
  size_type rank_ = 0;
};

NNMETER_END_NAMESPACE
