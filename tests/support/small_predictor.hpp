// Test helpers for predictor tests without files: a one-tree forest, a four-kernel network and
// an empty predictor under nn-Meter's default rules.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstdint>
#include <utility>

namespace nnmeter_test {

/// One tree: feature `f` < `threshold` ? lo : hi, plus base score.
inline nnmeter::forest stump(std::uint32_t num_features, std::uint32_t f, float threshold,
                             float lo, float hi, float base = 0.0f) {
  nnmeter::forest t;
  t.left = {1, -1, -1};
  t.feature = {f, 0, 0};
  t.split_value = {threshold, lo, hi};
  t.default_left = {1, 0, 0};
  t.tree_roots = {0};
  t.num_features = num_features;
  t.base_score = base;
  t.validate();
  return t;
}

/// conv-bn-relu on 32x32, conv-bn-relu on 16x16, gap (gap + reshape), fc: four kernels.
inline nnmeter::graph small_net() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 3});
  auto y = b.conv_bn_relu(x, 16, 3, 2);
  y = b.conv_bn_relu(y, 32, 3, 1);
  y = b.global_avgpool(y);
  y = b.reshape(y, {1, 32});
  b.fc(y, 10);
  return std::move(b).build();
}

/// A predictor "test" 1 without forests, nn-Meter's default rules, feature set `fs`.
inline nnmeter::predictor empty_predictor(nnmeter::feature_set fs) {
  nnmeter::predictor_info info;
  info.name = "test";
  info.version = "1";
  info.device = "unit-test";
  info.backend = "none";
  info.features = fs;
  return nnmeter::predictor(info, nnmeter::default_rules());
}

}  // namespace nnmeter_test
