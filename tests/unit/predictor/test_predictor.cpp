// Predictor: rules + per-kind forests + feature set -> total latency and breakdown.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include "support/small_predictor.hpp"

#include <cmath>
#include <random>
#include <cstdint>
#include <string>

namespace {

using nnmeter_test::empty_predictor;
using nnmeter_test::small_net;
using nnmeter_test::stump;

}  // namespace

TEST_CASE("latency is the sum of the kernels' forest outputs") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
  // conv features: [inputh, cin, cout, ks, s, MFLOPs/2, Mparams]: split on inputh < 20.
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(7, 0, 20.0f, 0.25f, 1.5f));
  p.set_forest(nnmeter::kernel_kind::global_avgpool, stump(2, 1, 100.0f, 0.125f, 9.0f));
  p.set_forest(nnmeter::kernel_kind::fc, stump(4, 0, 10.0f, 7.0f, 0.5f, 0.25f));
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.detected.kernels.size() == 4);  // conv-bn-relu x2, gap (gap+reshape), fc
  CHECK(r.detected.kernels[2].op == "gap");
  CHECK(r.complete());
  CHECK(r.predicted == 4);
  CHECK(r.kernels[0].latency_ms == 1.5);   // inputh 32
  CHECK(r.kernels[1].latency_ms == 0.25);  // inputh 16
  CHECK(r.kernels[2].latency_ms == 0.125);
  CHECK(r.kernels[3].latency_ms == 0.75);  // base 0.25 + 0.5 (cin 32 >= 10)
  CHECK(r.latency_ms == 1.5 + 0.25 + 0.125 + 0.75);
}

TEST_CASE("kernels without a forest are reported, never given a made-up latency") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(7, 0, 20.0f, 0.25f, 1.5f));
  const nnmeter::prediction r = p.predict(g);
  CHECK_FALSE(r.complete());
  CHECK(r.predicted == 2);
  CHECK(r.unpredicted == 2);
  CHECK(r.kernels[2].status == nnmeter::kernel_status::no_model);
  CHECK(r.kernels[3].status == nnmeter::kernel_status::no_model);
  CHECK(r.latency_ms == 1.75);
  CHECK(nnmeter::to_string(r.kernels[2].status) == "no-model");
}

TEST_CASE("a forest output that is not positive is reported, never summed") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
  // conv: -0.5 ms for inputh < 20 (the second conv), 1.5 ms else; fc: exactly 0.
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(7, 0, 20.0f, -0.5f, 1.5f));
  p.set_forest(nnmeter::kernel_kind::fc, stump(4, 0, 10.0f, 0.0f, 0.0f, 0.0f));
  p.set_forest(nnmeter::kernel_kind::global_avgpool, stump(2, 1, 100.0f, 0.125f, 9.0f));
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.kernels.size() == 4);
  CHECK(r.kernels[0].status == nnmeter::kernel_status::predicted);
  CHECK(r.kernels[1].status == nnmeter::kernel_status::non_positive);
  CHECK(r.kernels[1].latency_ms == -0.5);  // kept for diagnosis
  CHECK(r.kernels[3].status == nnmeter::kernel_status::non_positive);
  CHECK(nnmeter::to_string(r.kernels[1].status) == "non-positive");
  CHECK(r.predicted == 2);
  CHECK(r.unpredicted == 2);
  CHECK_FALSE(r.complete());
  CHECK(r.latency_ms == 1.5 + 0.125);
  // Every path agrees: the one-kernel call, latency() and predict(g, out).
  const nnmeter::kernel_latency one = p.predict_kernel(r.detected.kernels[1]);
  CHECK(one.status == nnmeter::kernel_status::non_positive);
  CHECK(one.latency_ms == -0.5);
  const nnmeter::latency_summary l = p.latency(g);
  CHECK(l.latency_ms == r.latency_ms);
  CHECK(l.unpredicted == 2);
  // A golden case must be a latency: recording one below zero is refused.
  std::vector<nnmeter::feature_vector> rows{
      nnmeter::features(r.detected.kernels[1], nnmeter::feature_set::nnmeter)};
  CHECK_THROWS_WITH(p.record_golden(nnmeter::kernel_kind::conv_bn_relu, rows, 1),
                    doctest::Contains("predicts -0.5 ms for golden row 0; a golden case must be "
                                      "a positive latency"));
}

TEST_CASE("a forest reading the wrong number of features is reported as a mismatch") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(7, 0, 20.0f, 0.25f, 1.5f));
  const nnmeter::prediction r = p.predict(g);
  CHECK(r.kernels[0].status == nnmeter::kernel_status::feature_mismatch);
  CHECK(r.latency_ms == 0.0);
  // With the extended set's length it predicts.
  const std::uint32_t n = static_cast<std::uint32_t>(
      nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu, nnmeter::feature_set::extended));
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(n, 1, 20.0f, 0.25f, 1.5f));  // inputw
  const nnmeter::prediction r2 = p.predict(g);
  CHECK(r2.kernels[0].status == nnmeter::kernel_status::predicted);
  CHECK(r2.kernels[0].latency_ms == 1.5);
}

TEST_CASE("copies of a predictor own their forests") {
  const nnmeter::graph g = small_net();
  nnmeter::predictor copy;
  {
    nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
    p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(7, 0, 20.0f, 0.25f, 1.5f));
    copy = p;
    nnmeter::predictor moved = std::move(p);
    CHECK(moved.predict(g).kernels[0].latency_ms == 1.5);
  }
  CHECK(copy.has_forest(nnmeter::kernel_kind::conv_bn_relu));
  CHECK(copy.predict(g).kernels[0].latency_ms == 1.5);
}

TEST_CASE("a constexpr forest view can back a predictor") {
  static constexpr std::int32_t left[] = {1, -1, -1};
  static constexpr std::uint32_t feature[] = {0, 0, 0};
  static constexpr float value[] = {50.0f, 2.0f, 3.0f};
  static constexpr std::uint8_t dl[] = {0, 0, 0};
  static constexpr std::uint32_t roots[] = {0};
  constexpr nnmeter::forest_view v{left, feature, value, dl, 3, roots, 1, 7, 0.0f};
  static_assert(nnmeter::validate(v));
  static_assert(nnmeter::evaluate(v, std::array<float, 7>{10, 0, 0, 0, 0, 0, 0}.data()) == 2.0f);
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, v);
  const nnmeter::prediction r = p.predict(small_net());
  CHECK(r.kernels[0].latency_ms == 2.0);
}

TEST_CASE("graph prediction equals kernel-by-kernel prediction, repeated kernels included") {
  // Random trees (right child = left + 1) over nn-Meter's 7 conv features.
  std::mt19937 rng(11);
  nnmeter::forest f;
  f.num_features = 7;
  f.base_score = 0.5f;
  std::uniform_real_distribution<float> thr(0.0f, 120.0f);
  std::uniform_int_distribution<std::uint32_t> feat(0, 6);
  for (int t = 0; t < 40; ++t) {
    const auto root = static_cast<std::int32_t>(f.left.size());
    f.tree_roots.push_back(static_cast<std::uint32_t>(root));
    for (int i = 0; i < 15; ++i) {
      const bool leaf = i >= 7;
      f.left.push_back(leaf ? -1 : root + 2 * i + 1);
      f.feature.push_back(leaf ? 0 : feat(rng));
      f.split_value.push_back(leaf ? thr(rng) / 1000.0f : thr(rng));
      f.default_left.push_back(0);
    }
  }
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::nnmeter);
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, std::move(f));
  nnmeter::graph_builder b;
  auto x = b.input({1, 56, 56, 16});
  for (int i = 0; i < 6; ++i) x = b.conv_bn_relu(x, 16, 3, 1);  // six identical kernels
  x = b.conv_bn_relu(x, 32, 3, 2);
  x = b.conv_bn_relu(x, 32, 1, 1);
  const nnmeter::graph g = std::move(b).build();
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.detected.kernels.size() == 8);
  CHECK(r.complete());
  double sum = 0;
  for (std::size_t i = 0; i < r.kernels.size(); ++i) {
    const nnmeter::kernel_latency one = p.predict_kernel(r.detected.kernels[i]);
    CHECK(one.status == nnmeter::kernel_status::predicted);
    CHECK(r.kernels[i].latency_ms == one.latency_ms);  // bit-identical
    sum += one.latency_ms;
  }
  CHECK(r.latency_ms == sum);
  CHECK(r.kernels[0].latency_ms == r.kernels[5].latency_ms);
}

TEST_CASE("latency() equals predict() bit for bit, call after call, graph after graph") {
  std::mt19937 rng(5);
  auto random_forest = [&](std::uint32_t nf, int trees) {
    // XGBoost-like unbalanced trees: leaves are split at random, children appended.
    nnmeter::forest f;
    f.num_features = nf;
    f.base_score = 0.125f;
    std::uniform_real_distribution<float> thr(0.0f, 200.0f);
    std::uniform_int_distribution<std::uint32_t> feat(0, nf - 1);
    for (int t = 0; t < trees; ++t) {
      const auto root = static_cast<std::int32_t>(f.left.size());
      f.tree_roots.push_back(static_cast<std::uint32_t>(root));
      f.left.push_back(-1);
      f.feature.push_back(0);
      f.split_value.push_back(thr(rng) / 1000.0f);
      f.default_left.push_back(0);
      const int splits = static_cast<int>(rng() % 12);
      for (int s = 0; s < splits; ++s) {
        // split a random leaf of this tree
        std::vector<std::size_t> leaves;
        for (std::size_t n = static_cast<std::size_t>(root); n < f.left.size(); ++n)
          if (f.left[n] < 0) leaves.push_back(n);
        const std::size_t n = leaves[rng() % leaves.size()];
        f.left[n] = static_cast<std::int32_t>(f.left.size());
        f.feature[n] = feat(rng);
        f.split_value[n] = thr(rng);
        for (int c = 0; c < 2; ++c) {
          f.left.push_back(-1);
          f.feature.push_back(0);
          f.split_value.push_back(thr(rng) / 1000.0f);
          f.default_left.push_back(0);
        }
      }
    }
    f.validate();
    return f;
  };
  for (nnmeter::feature_set fs : {nnmeter::feature_set::nnmeter, nnmeter::feature_set::extended,
                                  nnmeter::feature_set::lanes}) {
    nnmeter::predictor p = empty_predictor(fs);
    const auto conv_n = static_cast<std::uint32_t>(
        nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu, fs));
    const auto fc_n =
        static_cast<std::uint32_t>(nnmeter::feature_count(nnmeter::kernel_kind::fc, fs));
    p.set_forest(nnmeter::kernel_kind::conv_bn_relu, random_forest(conv_n, 45));
    p.set_forest(nnmeter::kernel_kind::fc, random_forest(fc_n, 16));
    // no forest for gap: its kernels are unpredicted in both paths
    nnmeter::graph_builder b;
    auto x = b.input({1, 56, 56, 16});
    for (int i = 0; i < 5; ++i) x = b.conv_bn_relu(x, 16 + 8 * (i % 2), 3, 1 + i % 2);
    const nnmeter::graph g2 = std::move(b).build();
    const nnmeter::graph g1 = small_net();
    for (int round = 0; round < 3; ++round) {
      for (const nnmeter::graph* g : {&g1, &g2}) {
        const nnmeter::prediction full = p.predict(*g);
        const nnmeter::latency_summary s = p.latency(*g);
        INFO("feature set " << static_cast<int>(fs) << " round " << round);
        CHECK(full.latency_ms > 0.0);
        CHECK(s.latency_ms == full.latency_ms);
        CHECK(s.kernels == full.detected.kernels.size());
        CHECK(s.predicted == full.predicted);
        CHECK(s.unpredicted == full.unpredicted);
        CHECK(s.complete() == full.complete());
      }
    }
    CHECK_FALSE(p.latency(g1).complete());  // gap has no forest
    CHECK(p.latency(g2).complete());
  }
}

TEST_CASE("predict(g, out) reuses out and equals predict(g) field for field") {
  nnmeter::predictor p = empty_predictor(nnmeter::feature_set::extended);
  const auto conv_n = static_cast<std::uint32_t>(
      nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu, nnmeter::feature_set::extended));
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, stump(conv_n, 0, 20.0f, 0.25f, 1.5f));
  nnmeter::graph_builder b;
  auto x = b.input({1, 40, 40, 8});
  for (int i = 0; i < 7; ++i) x = b.conv_bn_relu(x, 8 + 4 * i, 3, 1 + i % 2);
  const nnmeter::graph big = std::move(b).build();
  const nnmeter::graph small = small_net();
  nnmeter::prediction out;
  for (int round = 0; round < 2; ++round) {
    for (const nnmeter::graph* g : {&big, &small, &big}) {
      const nnmeter::prediction fresh = p.predict(*g);
      p.predict(*g, out);
      INFO("round " << round << ", " << fresh.detected.kernels.size() << " kernels");
      CHECK(out.latency_ms == fresh.latency_ms);
      CHECK(out.predicted == fresh.predicted);
      CHECK(out.unpredicted == fresh.unpredicted);
      CHECK(out.detected.groups == fresh.detected.groups);
      CHECK(out.detected.free_nodes == fresh.detected.free_nodes);
      REQUIRE(out.kernels.size() == fresh.kernels.size());
      REQUIRE(out.detected.kernels.size() == fresh.detected.kernels.size());
      for (std::size_t i = 0; i < fresh.kernels.size(); ++i) {
        CHECK(out.kernels[i].latency_ms == fresh.kernels[i].latency_ms);
        CHECK(out.kernels[i].status == fresh.kernels[i].status);
        CHECK(out.detected.kernels[i].name == fresh.detected.kernels[i].name);
        CHECK(out.detected.kernels[i].nodes == fresh.detected.kernels[i].nodes);
        CHECK(out.detected.kernels[i].input_tensors == fresh.detected.kernels[i].input_tensors);
        CHECK(out.detected.kernels[i].flops == fresh.detected.kernels[i].flops);
        CHECK(out.detected.kernels[i].outbounds == fresh.detected.kernels[i].outbounds);
      }
    }
  }
  CHECK(out.latency_ms > 0.0);
}
