// nnmeter — a vector of trivially copyable values with inline storage for the first N (internal).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <type_traits>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace detail {

/// Holds up to N elements without allocating; spills to the heap beyond that. Used for the
/// short edge lists of kernel detection, where most nodes have one to three neighbours.
template <class T, std::size_t N>
class small_vector {
  static_assert(std::is_trivially_copyable_v<T>, "small_vector holds trivially copyable values");

 public:
  small_vector() = default;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* data() noexcept { return size_ <= N && heap_.empty() ? inline_ : heap_.data(); }
  const T* data() const noexcept { return size_ <= N && heap_.empty() ? inline_ : heap_.data(); }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& front() noexcept { return data()[0]; }
  const T& front() const noexcept { return data()[0]; }

  void clear() noexcept {
    size_ = 0;
    heap_.clear();
  }
  void push_back(T v) {
    if (heap_.empty() && size_ < N) {
      inline_[size_++] = v;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_, inline_ + size_);
    heap_.push_back(v);
    ++size_;
  }
  /// Removes the first element equal to v, keeping the order of the others.
  void erase_first(const T& v) noexcept {
    T* d = data();
    for (std::size_t i = 0; i < size_; ++i) {
      if (d[i] == v) {
        for (std::size_t j = i + 1; j < size_; ++j) d[j - 1] = d[j];
        --size_;
        if (!heap_.empty()) heap_.pop_back();
        return;
      }
    }
  }
  bool contains(const T& v) const noexcept {
    for (const T& x : *this)
      if (x == v) return true;
    return false;
  }
  std::size_t count(const T& v) const noexcept {
    std::size_t c = 0;
    for (const T& x : *this) c += x == v;
    return c;
  }

 private:
  T inline_[N] = {};
  std::vector<T> heap_;
  std::size_t size_ = 0;
};

}  // namespace detail
NNMETER_END_NAMESPACE
