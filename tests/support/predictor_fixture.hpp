// Test helper: a small predictor with nn-Meter's TFLite CPU rules, two-stump forests for the
// kernel kinds of MobileNetV3 and golden cases recorded from nn-Meter's IR model
// (tests/data). Needs nnmeter::json and NNMETER_TEST_DATA_DIR.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nnmeter_test {

/// Two trees over feature f: x[f] < t ? lo : hi, then x[f] < 2t ? 0.25 : 0.5 (base 0.125).
inline nnmeter::forest two_stumps(std::uint32_t n, std::uint32_t f, float t, float lo, float hi) {
  nnmeter::forest s;
  s.left = {1, -1, -1, 4, -1, -1};
  s.feature = {f, 0, 0, f, 0, 0};
  s.split_value = {t, lo, hi, 2 * t, 0.25f, 0.5f};
  s.default_left = {0, 0, 0, 1, 0, 0};
  s.tree_roots = {0, 3};
  s.num_features = n;
  s.base_score = 0.125f;
  return s;
}

inline std::uint32_t nnmeter_feature_count(nnmeter::kernel_kind k) {
  return static_cast<std::uint32_t>(nnmeter::feature_count(k, nnmeter::feature_set::nnmeter));
}

/// The predictor "unit_cpu" version 1.2 (nn-Meter feature set) with 4 + 4 + 1 golden cases.
inline nnmeter::predictor make_fixture_predictor() {
  const std::string data_dir = NNMETER_TEST_DATA_DIR;
  nnmeter::predictor_info info;
  info.name = "unit_cpu";
  info.version = "1.2";
  info.device = "test device";
  info.backend = "xnnpack";
  info.features = nnmeter::feature_set::nnmeter;
  info.protocol_json = R"({"threads":1,"statistic":"min"})";
  nnmeter::predictor p(info, nnmeter::io::load_fusion_rules(data_dir + "/rule_tflite_cpu.json"));
  using K = nnmeter::kernel_kind;
  p.set_forest(K::conv_bn_relu,
               two_stumps(nnmeter_feature_count(K::conv_bn_relu), 0, 50.0f, 2.0f, 5.0f));
  for (K k : {K::dwconv_bn_relu, K::fc, K::global_avgpool, K::hswish, K::se, K::add})
    p.set_forest(k, two_stumps(nnmeter_feature_count(k), 1, 40.0f, 0.5f, 0.75f));
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::detection d = nnmeter::detect(g, p.rules());
  for (K k : {K::conv_bn_relu, K::dwconv_bn_relu, K::fc}) {
    std::vector<nnmeter::feature_vector> rows;
    for (const nnmeter::kernel& kn : d.kernels)
      if (kn.kind == k) rows.push_back(nnmeter::features(kn, nnmeter::feature_set::nnmeter));
    p.record_golden(k, rows, 4);
  }
  return p;
}

/// The fixture predictor with fallback models: "unit_fallback" has forests for conv-bn-relu,
/// dwconv-bn-relu and fc only (golden cases as the fixture's), and fallback coefficients for
/// every family but depthwise, so MobileNetV3's gap, hswish, se and add kernels are fallback
/// estimates. The coefficients are awkward doubles on purpose (exact round trips).
inline nnmeter::predictor make_fallback_fixture_predictor() {
  const nnmeter::predictor full = make_fixture_predictor();
  nnmeter::predictor_info info = full.info();
  info.name = "unit_fallback";
  nnmeter::predictor p(info, full.rules());
  using K = nnmeter::kernel_kind;
  for (K k : {K::conv_bn_relu, K::dwconv_bn_relu, K::fc})
    p.set_forest(k, nnmeter::forest::from_view(*full.forest_for(k)));
  for (const nnmeter::golden_case& g : full.golden()) p.add_golden(g);
  using F = nnmeter::kernel_family;
  p.set_fallback(F::compute, {0.1 / 3.0, 0.0123456789, 1.0 / 7.0});
  p.set_fallback(F::pooling, {2.0e-3, 0.0, 0.01 / 3.0});
  p.set_fallback(F::elementwise, {1.0 / 1024.0, 3.0e-3, 0.0217});
  p.set_fallback(F::data_movement, {0.0, 0.0, 0.0125});
  return p;
}

}  // namespace nnmeter_test
