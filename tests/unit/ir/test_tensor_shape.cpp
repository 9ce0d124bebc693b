// Tests for include/nnmeter/ir/tensor_shape.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/tensor_shape.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace {

using nnmeter::tensor_shape;

// tensor_shape is a literal type: shapes can be built and inspected at compile time.
constexpr tensor_shape nhwc{1, 56, 56, 24};
static_assert(nhwc.rank() == 4);
static_assert(nhwc[-1] == 24 && nhwc[1] == 56);
static_assert(nhwc.num_elements() == 56 * 56 * 24);
static_assert(nhwc == tensor_shape{1, 56, 56, 24});
static_assert(tensor_shape{}.num_elements() == 1);
static_assert(tensor_shape::max_dim == 2147483647);

}  // namespace

TEST_SUITE("tensor_shape") {
  TEST_CASE("construction, size and access") {
    const tensor_shape empty;
    CHECK(empty.rank() == 0);
    CHECK(empty.empty());
    CHECK(empty.begin() == empty.end());

    tensor_shape s{1, 224, 224, 3};
    CHECK(s.rank() == 4);
    CHECK(s.size() == 4);
    CHECK_FALSE(s.empty());
    CHECK(s[0] == 1);
    CHECK(s[3] == 3);
    CHECK(s[-1] == 3);  // Python-style negative index
    CHECK(s[-4] == 1);
    CHECK(s.back() == 3);
    CHECK(s.data()[1] == 224);
    s[-1] = 16;
    CHECK(s[3] == 16);

    std::vector<std::int64_t> dims(s.begin(), s.end());
    CHECK(dims == std::vector<std::int64_t>{1, 224, 224, 16});
  }

  TEST_CASE("push_back up to max_rank, then std::length_error") {
    tensor_shape s;
    for (std::size_t i = 0; i < tensor_shape::max_rank; ++i) s.push_back(2);
    CHECK(s.rank() == tensor_shape::max_rank);
    CHECK_THROWS_AS(s.push_back(2), std::length_error);
    CHECK(s.rank() == tensor_shape::max_rank);
    CHECK_THROWS_AS((tensor_shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), std::length_error);
    s.clear();
    CHECK(s.empty());
  }

  TEST_CASE("static and valid") {
    CHECK(tensor_shape{1, 2, 3}.is_static());
    CHECK_FALSE(tensor_shape{-1, 1024}.is_static());
    CHECK(tensor_shape{-1, 1024}.is_valid());  // unknown batch, as nn-Meter IR writes it
    CHECK(tensor_shape{0, 4}.is_valid());      // zero-sized tensors are representable
    CHECK_FALSE(tensor_shape{-2, 4}.is_valid());
    CHECK(tensor_shape{tensor_shape::max_dim}.is_valid());
    CHECK_FALSE(tensor_shape{tensor_shape::max_dim + 1}.is_valid());
    CHECK(tensor_shape{}.is_static());
    CHECK(tensor_shape{}.is_valid());
  }

  TEST_CASE("num_elements: unknown counts as 1, zero gives 0, overflow saturates") {
    CHECK(tensor_shape{1, 56, 56, 16}.num_elements() == 50176);
    CHECK(tensor_shape{-1, 1024}.num_elements() == 1024);
    CHECK(tensor_shape{4, 0, 7}.num_elements() == 0);
    const auto big = tensor_shape::max_dim;
    CHECK(tensor_shape{big, big, big}.num_elements() == std::numeric_limits<std::int64_t>::max());
    CHECK(tensor_shape{big, big}.num_elements() == big * big);
  }

  TEST_CASE("equality compares rank and every dimension") {
    CHECK(tensor_shape{1, 2} == tensor_shape{1, 2});
    CHECK(tensor_shape{1, 2} != tensor_shape{1, 2, 1});
    CHECK(tensor_shape{1, 2} != tensor_shape{2, 1});
    CHECK(tensor_shape{} == tensor_shape{});
    // Dimensions past the rank do not take part.
    tensor_shape a{1, 2, 3};
    a.clear();
    a.push_back(1);
    CHECK(a == tensor_shape{1});
  }
}
