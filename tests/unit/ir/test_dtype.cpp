// Tests for include/nnmeter/ir/dtype.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/dtype.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

static_assert(nnmeter::size_of(nnmeter::dtype::f32) == 4);
static_assert(nnmeter::parse_dtype("i8") == nnmeter::dtype::i8);

TEST_SUITE("dtype") {
  TEST_CASE("sizes") {
    using nnmeter::dtype;
    CHECK(nnmeter::size_of(dtype::f32) == 4);
    CHECK(nnmeter::size_of(dtype::f16) == 2);
    CHECK(nnmeter::size_of(dtype::i8) == 1);
    CHECK(nnmeter::size_of(dtype::u8) == 1);
    CHECK(nnmeter::size_of(dtype::i32) == 4);
    CHECK(nnmeter::size_of(dtype::i64) == 8);
    CHECK(nnmeter::size_of(dtype::count_) == 0);
  }

  TEST_CASE("names round-trip and unknown names are rejected") {
    for (std::size_t i = 0; i < static_cast<std::size_t>(nnmeter::dtype::count_); ++i) {
      const auto t = static_cast<nnmeter::dtype>(i);
      CAPTURE(std::string(nnmeter::to_string(t)));
      CHECK(nnmeter::to_string(t) != "invalid");
      const auto back = nnmeter::parse_dtype(nnmeter::to_string(t));
      REQUIRE(back.has_value());
      CHECK(*back == t);
    }
    CHECK(nnmeter::to_string(nnmeter::dtype::count_) == "invalid");
    CHECK_FALSE(nnmeter::parse_dtype("float32").has_value());
    CHECK_FALSE(nnmeter::parse_dtype("").has_value());
    CHECK_FALSE(nnmeter::parse_dtype("invalid").has_value());
  }
}
