// Fallback estimates: kernels without a forest latency get their family's FLOPs/bytes model,
// labelled as fallback and counted apart; unknown costs stay unpredicted.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include "support/small_predictor.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace {

using nnmeter_test::empty_predictor;
using nnmeter_test::small_net;
using nnmeter_test::stump;

constexpr nnmeter::fallback_coefficients compute_fit{0.01, 0.002, 0.003};
constexpr nnmeter::fallback_coefficients pooling_fit{0.004, 0.0, 0.05};

double expected(const nnmeter::fallback_coefficients& c, const nnmeter::kernel& k) {
  return c.base_ms + c.ms_per_mflop * (k.flops / 1e6) + c.ms_per_mbyte * (k.bytes / 1e6);
}

}  // namespace

TEST_CASE("kernel families: every kind has one, spellings round trip") {
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const nnmeter::kernel_family f = nnmeter::family_of(static_cast<nnmeter::kernel_kind>(i));
    CHECK(static_cast<std::size_t>(f) < nnmeter::kernel_family_count);
  }
  for (std::size_t i = 0; i < nnmeter::kernel_family_count; ++i) {
    const auto f = static_cast<nnmeter::kernel_family>(i);
    CHECK(nnmeter::parse_kernel_family(nnmeter::to_string(f)) == f);
  }
  CHECK_FALSE(nnmeter::parse_kernel_family("dense").has_value());
  static_assert(nnmeter::family_of(nnmeter::kernel_kind::matmul) == nnmeter::kernel_family::compute);
  static_assert(nnmeter::family_of(nnmeter::kernel_kind::dwconv_bn_relu) ==
                nnmeter::kernel_family::depthwise);
  static_assert(nnmeter::family_of(nnmeter::kernel_kind::global_avgpool) ==
                nnmeter::kernel_family::pooling);
  static_assert(nnmeter::family_of(nnmeter::kernel_kind::quantize) ==
                nnmeter::kernel_family::elementwise);
  static_assert(nnmeter::family_of(nnmeter::kernel_kind::other) ==
                nnmeter::kernel_family::data_movement);
  static_assert(nnmeter::to_string(nnmeter::kernel_family::data_movement) == "data-movement");
}

TEST_CASE("fallback_estimate: the linear model, and no estimate without the work") {
  constexpr nnmeter::fallback_coefficients c{0.5, 0.25, 2.0};
  static_assert(*nnmeter::fallback_estimate(c, 2e6, 1e6) == 0.5 + 0.5 + 2.0);
  static_assert(nnmeter::valid(c));
  static_assert(!nnmeter::valid(nnmeter::fallback_coefficients{}));  // all zero
  static_assert(!nnmeter::valid(nnmeter::fallback_coefficients{-1.0, 1.0, 1.0}));
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf = std::numeric_limits<double>::infinity();
  static_assert(!nnmeter::valid(nnmeter::fallback_coefficients{nan, 1.0, 1.0}));
  static_assert(!nnmeter::valid(nnmeter::fallback_coefficients{1.0, inf, 1.0}));
  static_assert(!nnmeter::fallback_estimate(c, nan, 1e6).has_value());
  static_assert(!nnmeter::fallback_estimate(c, 1e6, nan).has_value());
  static_assert(!nnmeter::fallback_estimate(c, -1.0, 1e6).has_value());
  // 0 bytes: costs not computed (detect_options::costs off), not a kernel that moves nothing.
  static_assert(!nnmeter::fallback_estimate(c, 0.0, 0.0).has_value());
  // Zero FLOPs with known bytes (data movement) is a work.
  static_assert(*nnmeter::fallback_estimate(c, 0.0, 1e6) == 2.5);
}

TEST_CASE("set_fallback refuses coefficients that are no model, naming the family") {
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  CHECK_THROWS_WITH(p.set_fallback(nnmeter::kernel_family::pooling, {0.1, -0.5, 0.0}),
                    doctest::Contains("family 'pooling' must be finite, non-negative"));
  CHECK_THROWS_WITH(p.set_fallback(nnmeter::kernel_family::compute, {}),
                    doctest::Contains("not all zero"));
  CHECK_FALSE(p.has_fallback());
  p.set_fallback(nnmeter::kernel_family::compute, compute_fit);
  CHECK(p.has_fallback());
  REQUIRE(p.fallback_for(nnmeter::kernel_family::compute).has_value());
  CHECK(p.fallback_for(nnmeter::kernel_family::compute)->ms_per_mbyte == 0.003);
  CHECK_FALSE(p.fallback_for(nnmeter::kernel_family::pooling).has_value());
  p.clear_fallback(nnmeter::kernel_family::compute);
  CHECK_FALSE(p.has_fallback());
}

TEST_CASE("kernels without a forest get their family's fallback, labelled, with its share") {
  const nnmeter::graph g = small_net();
  for (nnmeter::feature_set fs : {nnmeter::feature_set::nnmeter, nnmeter::feature_set::extended,
                                  nnmeter::feature_set::lanes}) {
    INFO("feature set " << nnmeter::to_string(fs));
    nnmeter::predictor p = empty_predictor(fs);
    const auto conv_n = static_cast<std::uint32_t>(
        nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu, fs));
    p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(conv_n, 0, 20.0f, 0.25f, 1.5f));
    // Without fallback models: as before, gap and fc have no latency.
    const nnmeter::prediction before = p.predict(g);
    CHECK(before.predicted == 2);
    CHECK(before.unpredicted == 2);
    CHECK(before.fallback == 0);
    CHECK(before.fallback_ms == 0.0);
    CHECK(before.latency_ms == 1.75);
    CHECK(before.kernels[3].status == nnmeter::kernel_status::no_model);

    p.set_fallback(nnmeter::kernel_family::compute, compute_fit);  // fc
    p.set_fallback(nnmeter::kernel_family::pooling, pooling_fit);  // gap
    const nnmeter::prediction r = p.predict(g);
    REQUIRE(r.kernels.size() == 4);
    CHECK(r.predicted == 2);
    CHECK(r.fallback == 2);
    CHECK(r.unpredicted == 0);
    CHECK(r.complete());
    const nnmeter::kernel& gap = r.detected.kernels[2];
    const nnmeter::kernel& fc = r.detected.kernels[3];
    CHECK(gap.kind == nnmeter::kernel_kind::global_avgpool);
    CHECK(fc.kind == nnmeter::kernel_kind::fc);
    CHECK(r.kernels[2].status == nnmeter::kernel_status::fallback);
    CHECK(r.kernels[2].reason == nnmeter::kernel_status::no_model);
    CHECK(r.kernels[2].latency_ms == expected(pooling_fit, gap));
    CHECK(r.kernels[3].status == nnmeter::kernel_status::fallback);
    CHECK(r.kernels[3].latency_ms == expected(compute_fit, fc));
    CHECK(nnmeter::to_string(r.kernels[3].status) == "fallback");
    // Forest kernels keep their status as their reason.
    CHECK(r.kernels[0].status == nnmeter::kernel_status::predicted);
    CHECK(r.kernels[0].reason == nnmeter::kernel_status::predicted);
    // The total sums both kinds of latency in kernel order; fallback_ms is the fallback part.
    CHECK(r.latency_ms == ((1.5 + 0.25) + r.kernels[2].latency_ms) + r.kernels[3].latency_ms);
    CHECK(r.fallback_ms == r.kernels[2].latency_ms + r.kernels[3].latency_ms);
    CHECK(r.fallback_share() == r.fallback_ms / r.latency_ms);
    CHECK(r.fallback_share() > 0.0);
    CHECK(r.fallback_share() < 1.0);
    // Every path agrees bit for bit: predict_kernel, latency(), predict(g, out).
    const nnmeter::kernel_latency one = p.predict_kernel(fc);
    CHECK(one.status == nnmeter::kernel_status::fallback);
    CHECK(one.reason == nnmeter::kernel_status::no_model);
    CHECK(one.latency_ms == r.kernels[3].latency_ms);
    for (int round = 0; round < 2; ++round) {
      const nnmeter::latency_summary s = p.latency(g);
      CHECK(s.latency_ms == r.latency_ms);
      CHECK(s.fallback_ms == r.fallback_ms);
      CHECK(s.fallback == 2);
      CHECK(s.predicted == 2);
      CHECK(s.unpredicted == 0);
      CHECK(s.kernels == 4);
      CHECK(s.fallback_share() == r.fallback_share());
      nnmeter::prediction out;
      p.predict(g, out);
      CHECK(out.latency_ms == r.latency_ms);
      CHECK(out.fallback_ms == r.fallback_ms);
      CHECK(out.fallback == r.fallback);
      REQUIRE(out.kernels.size() == 4);
      CHECK(out.kernels[2].reason == nnmeter::kernel_status::no_model);
    }
    // A family without a model leaves its kinds unpredicted.
    p.clear_fallback(nnmeter::kernel_family::pooling);
    const nnmeter::prediction part = p.predict(g);
    CHECK(part.kernels[2].status == nnmeter::kernel_status::no_model);
    CHECK(part.fallback == 1);
    CHECK(part.unpredicted == 1);
    CHECK(p.latency(g).latency_ms == part.latency_ms);
  }
}

TEST_CASE("a non-positive forest output and a feature mismatch fall back, keeping the reason") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  const auto conv_n = static_cast<std::uint32_t>(
      nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu, nnmeter::feature_set::extended));
  // conv: -0.5 ms for the second conv (inputh 16 < 20); fc: a forest of the wrong length.
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(conv_n, 0, 20.0f, -0.5f, 1.5f));
  p.set_forest(nnmeter::kernel_kind::fc, stump(3, 0, 10.0f, 1.0f, 1.0f));
  p.set_fallback(nnmeter::kernel_family::compute, compute_fit);
  const nnmeter::prediction r = p.predict(g);
  CHECK(r.kernels[0].status == nnmeter::kernel_status::predicted);
  CHECK(r.kernels[1].status == nnmeter::kernel_status::fallback);
  CHECK(r.kernels[1].reason == nnmeter::kernel_status::non_positive);
  CHECK(r.kernels[1].latency_ms == expected(compute_fit, r.detected.kernels[1]));
  CHECK(r.kernels[2].status == nnmeter::kernel_status::no_model);  // gap: no pooling model
  CHECK(r.kernels[3].status == nnmeter::kernel_status::fallback);
  CHECK(r.kernels[3].reason == nnmeter::kernel_status::feature_mismatch);
  CHECK(r.predicted == 1);
  CHECK(r.fallback == 2);
  CHECK(r.unpredicted == 1);
  CHECK_FALSE(r.complete());
  CHECK(p.latency(g).latency_ms == r.latency_ms);
  CHECK(p.latency(g).fallback_ms == r.fallback_ms);
}

TEST_CASE("a kernel of unknown costs and no forest stays unpredicted, never zero or invented") {
  // An unknown batch dimension: the kernel's FLOPs and bytes are NaN.
  nnmeter::graph_builder b;
  auto x = b.input({1, 8, 8, 4});
  x = b.global_avgpool(x);
  nnmeter::graph g = std::move(b).build();
  for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i) {
    nnmeter::node& n = g.mutable_node(i);
    for (nnmeter::tensor_shape& s : n.input_shapes) s = {-1, s[1], s[2], s[3]};
    for (nnmeter::tensor_shape& s : n.output_shapes) s = {-1, s[1], s[2], s[3]};
  }
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  for (std::size_t i = 0; i < nnmeter::kernel_family_count; ++i)
    p.set_fallback(static_cast<nnmeter::kernel_family>(i), compute_fit);
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.kernels.size() == 1);
  CHECK(std::isnan(r.detected.kernels[0].flops));
  CHECK(r.kernels[0].status == nnmeter::kernel_status::no_model);
  CHECK(r.unpredicted == 1);
  CHECK(r.fallback == 0);
  CHECK(r.latency_ms == 0.0);
  CHECK(p.latency(g).unpredicted == 1);
  // Costs not computed (detection without costs: 0 FLOPs, 0 bytes) are no work either.
  const nnmeter::graph g2 = small_net();
  const nnmeter::prediction r2 =
      p.predict(nnmeter::detect(g2, p.rules(), nnmeter::detect_options{false}));
  CHECK(r2.fallback == 0);
  CHECK(r2.unpredicted == 4);
  CHECK(p.predict(g2).fallback == 4);  // with costs, every kernel has an estimate
}

TEST_CASE("copies and moves keep the fallback models") {
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  p.set_fallback(nnmeter::kernel_family::pooling, pooling_fit);
  const nnmeter::predictor c = p;
  CHECK(c.fallback_for(nnmeter::kernel_family::pooling)->ms_per_mbyte == 0.05);
  nnmeter::predictor a = empty_predictor(nnmeter::feature_set::extended);
  a = c;
  CHECK(a.has_fallback());
  nnmeter::predictor m = std::move(a);
  CHECK(m.has_fallback());
  nnmeter::predictor n = empty_predictor(nnmeter::feature_set::extended);
  n = std::move(m);
  CHECK(n.fallback_for(nnmeter::kernel_family::pooling)->base_ms == 0.004);
}
