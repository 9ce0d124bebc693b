// Tests for include/nnmeter/ir/op_kind.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/op_kind.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace {

constexpr nnmeter::op_kind kind_at(std::size_t i) { return static_cast<nnmeter::op_kind>(i); }

// The table check is usable in constant expressions, so a missing row breaks the build.
static_assert(nnmeter::detail::op_kind_table_is_complete());
static_assert(nnmeter::op_kind_count == static_cast<std::size_t>(nnmeter::op_kind::count_));
static_assert(nnmeter::to_string(nnmeter::op_kind::conv) == "conv");
static_assert(nnmeter::parse_op_kind("dwconv") == nnmeter::op_kind::dwconv);
static_assert(nnmeter::nnmeter_type(nnmeter::op_kind::global_avgpool) == "gap");

}  // namespace

TEST_SUITE("op_kind") {
  TEST_CASE("every kind has a row, in enum order, with both spellings") {
    REQUIRE(sizeof(nnmeter::detail::op_kind_table) / sizeof(nnmeter::detail::op_kind_table[0]) ==
            nnmeter::op_kind_count);
    for (std::size_t i = 0; i < nnmeter::op_kind_count; ++i) {
      CAPTURE(i);
      const auto& row = nnmeter::detail::op_kind_table[i];
      CHECK(row.kind == kind_at(i));
      CHECK_FALSE(row.name.empty());
      CHECK_FALSE(row.rule_type.empty());
      CHECK(nnmeter::to_string(kind_at(i)) != "invalid");
      CHECK(nnmeter::nnmeter_type(kind_at(i)) != "invalid");
    }
    CHECK(nnmeter::to_string(nnmeter::op_kind::other) == "other");
  }

  TEST_CASE("names are unique snake_case and round-trip through parse_op_kind") {
    for (std::size_t i = 0; i < nnmeter::op_kind_count; ++i) {
      const std::string_view name = nnmeter::to_string(kind_at(i));
      CAPTURE(std::string(name));
      for (char ch : name)
        CHECK(((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'));
      const auto back = nnmeter::parse_op_kind(name);
      REQUIRE(back.has_value());
      CHECK(*back == kind_at(i));
      for (std::size_t j = i + 1; j < nnmeter::op_kind_count; ++j)
        CHECK(nnmeter::to_string(kind_at(j)) != name);
    }
  }

  TEST_CASE("parse_op_kind rejects unknown spellings") {
    CHECK_FALSE(nnmeter::parse_op_kind("").has_value());
    CHECK_FALSE(nnmeter::parse_op_kind("Conv").has_value());          // source spelling, not ours
    CHECK_FALSE(nnmeter::parse_op_kind("conv-bn-relu").has_value());  // a kernel, not an op
    CHECK_FALSE(nnmeter::parse_op_kind("count_").has_value());
    CHECK_FALSE(nnmeter::parse_op_kind("invalid").has_value());
  }

  TEST_CASE("out-of-range values are reported as invalid, not read past the table") {
    CHECK(nnmeter::to_string(nnmeter::op_kind::count_) == "invalid");
    CHECK(nnmeter::nnmeter_type(nnmeter::op_kind::count_) == "invalid");
    CHECK(nnmeter::to_string(static_cast<nnmeter::op_kind>(200)) == "invalid");
  }

  TEST_CASE("rule types reproduce nn-Meter's normalisation") {
    using nnmeter::nnmeter_type;
    using nnmeter::op_kind;
    CHECK(nnmeter_type(op_kind::input) == "Placeholder");
    CHECK(nnmeter_type(op_kind::constant) == "Const");
    CHECK(nnmeter_type(op_kind::identity) == "Identity");
    CHECK(nnmeter_type(op_kind::conv) == "conv");
    CHECK(nnmeter_type(op_kind::dwconv) == "dwconv");
    CHECK(nnmeter_type(op_kind::fc) == "fc");
    CHECK(nnmeter_type(op_kind::bn) == "bn");
    // Relu, Relu6 and Clip all normalise to relu.
    CHECK(nnmeter_type(op_kind::relu) == "relu");
    CHECK(nnmeter_type(op_kind::relu6) == "relu");
    CHECK(nnmeter_type(op_kind::clip) == "relu");
    // Mean, GlobalAveragePool and ReduceMean normalise to gap.
    CHECK(nnmeter_type(op_kind::global_avgpool) == "gap");
    CHECK(nnmeter_type(op_kind::reduce_mean) == "gap");
    CHECK(nnmeter_type(op_kind::hsigmoid) == "hardsigmoid");
    CHECK(nnmeter_type(op_kind::flatten) == "reshape");
    CHECK(nnmeter_type(op_kind::reshape) == "reshape");
    CHECK(nnmeter_type(op_kind::slice) == "split");
    CHECK(nnmeter_type(op_kind::split) == "split");
    CHECK(nnmeter_type(op_kind::channel_shuffle) == "channelshuffle");
    // nn-Meter's alias table spells it "Biasadd", so TF's BiasAdd is never normalised.
    CHECK(nnmeter_type(op_kind::bias_add) == "BiasAdd");
    CHECK(nnmeter_type(op_kind::add) == "add");
    CHECK(nnmeter_type(op_kind::mul) == "mul");
    CHECK(nnmeter_type(op_kind::concat) == "concat");
    CHECK(nnmeter_type(op_kind::maxpool) == "maxpool");
    CHECK(nnmeter_type(op_kind::avgpool) == "avgpool");
    CHECK(nnmeter_type(op_kind::hswish) == "hswish");
    CHECK(nnmeter_type(op_kind::pad) == "pad");
    CHECK(nnmeter_type(op_kind::transpose) == "transpose");
  }

  TEST_CASE("rule types never contain '_' (nn-Meter rule names split on it)") {
    for (std::size_t i = 0; i < nnmeter::op_kind_count; ++i) {
      const std::string_view t = nnmeter::nnmeter_type(kind_at(i));
      CAPTURE(std::string(t));
      CHECK(t.find('_') == std::string_view::npos);
    }
  }

  TEST_CASE("classification predicates") {
    using nnmeter::op_kind;
    std::size_t dummies = 0;
    for (std::size_t i = 0; i < nnmeter::op_kind_count; ++i)
      if (nnmeter::is_dummy(kind_at(i))) ++dummies;
    CHECK(dummies == 3);
    CHECK(nnmeter::is_dummy(op_kind::input));
    CHECK(nnmeter::is_dummy(op_kind::constant));
    CHECK(nnmeter::is_dummy(op_kind::identity));
    CHECK_FALSE(nnmeter::is_dummy(op_kind::other));

    CHECK(nnmeter::is_windowed(op_kind::conv));
    CHECK(nnmeter::is_windowed(op_kind::dwconv));
    CHECK(nnmeter::is_windowed(op_kind::conv_transpose));
    CHECK(nnmeter::is_windowed(op_kind::maxpool));
    CHECK(nnmeter::is_windowed(op_kind::avgpool));
    CHECK_FALSE(nnmeter::is_windowed(op_kind::global_avgpool));
    CHECK_FALSE(nnmeter::is_windowed(op_kind::fc));

    for (op_kind k : {op_kind::add, op_kind::sub, op_kind::mul, op_kind::div})
      CHECK(nnmeter::is_elementwise_binary(k));
    CHECK_FALSE(nnmeter::is_elementwise_binary(op_kind::concat));
    CHECK_FALSE(nnmeter::is_elementwise_binary(op_kind::matmul));

    for (op_kind k : {op_kind::relu, op_kind::relu6, op_kind::clip, op_kind::sigmoid,
                      op_kind::hswish, op_kind::hsigmoid, op_kind::swish, op_kind::tanh,
                      op_kind::leaky_relu, op_kind::prelu, op_kind::elu, op_kind::gelu})
      CHECK(nnmeter::is_activation(k));
    CHECK_FALSE(nnmeter::is_activation(op_kind::softmax));
    CHECK_FALSE(nnmeter::is_activation(op_kind::bn));
    CHECK_FALSE(nnmeter::is_activation(op_kind::count_));
  }
}
