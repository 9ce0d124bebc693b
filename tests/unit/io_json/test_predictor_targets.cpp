// Latency targets (nnmeter::latency_target): forests of latency per unit of work, the factor
// the predictor multiplies them by, every prediction path agreeing, golden cases with their
// scale, and the package's `targets` (format 2) with its refusals.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "support/predictor_fixture.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <string>
#include <vector>

namespace {

using K = nnmeter::kernel_kind;
const std::string data_dir = NNMETER_TEST_DATA_DIR;

// A predictor in the extended feature set: conv-bn-relu per MFLOP, dwconv-bn-relu per MB, fc
// in ms (the default).
nnmeter::predictor make_scaled_predictor() {
  nnmeter::predictor_info info;
  info.name = "scaled";
  info.version = "1";
  info.features = nnmeter::feature_set::extended;
  nnmeter::predictor p(info, nnmeter::io::load_fusion_rules(data_dir + "/rule_tflite_cpu.json"));
  for (K k : {K::conv_bn_relu, K::dwconv_bn_relu, K::fc}) {
    const auto n = static_cast<std::uint32_t>(nnmeter::feature_count(k, nnmeter::feature_set::extended));
    p.set_forest(k, nnmeter_test::two_stumps(n, 2, 40.0f, 0.5f, 0.75f));
  }
  p.set_target(K::conv_bn_relu, nnmeter::latency_target::ms_per_mflop);
  p.set_target(K::dwconv_bn_relu, nnmeter::latency_target::ms_per_mbyte);
  return p;
}

}  // namespace

TEST_CASE("latency targets: spellings and the scale") {
  for (auto t : {nnmeter::latency_target::ms, nnmeter::latency_target::ms_per_mflop,
                 nnmeter::latency_target::ms_per_mbyte})
    CHECK(nnmeter::parse_latency_target(nnmeter::to_string(t)) == t);
  CHECK_FALSE(nnmeter::parse_latency_target("ms-per-flop").has_value());
  CHECK(nnmeter::target_scale(nnmeter::latency_target::ms, 5e6, 7e6) == 1.0);
  CHECK(nnmeter::target_scale(nnmeter::latency_target::ms_per_mflop, 5e6, 7e6) == 5.001);
  CHECK(nnmeter::target_scale(nnmeter::latency_target::ms_per_mbyte, 5e6, 7e6) == 7.001);
  CHECK(nnmeter::target_scale(nnmeter::latency_target::ms_per_mflop, 0, 0) == 0.001);
}

TEST_CASE("latency targets: each kernel's forest output times its work, on every path") {
  const nnmeter::predictor p = make_scaled_predictor();
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::prediction r = p.predict(g);
  std::size_t seen[3] = {0, 0, 0};
  double total = 0;
  for (std::size_t i = 0; i < r.detected.kernels.size(); ++i) {
    const nnmeter::kernel& k = r.detected.kernels[i];
    if (r.kernels[i].status != nnmeter::kernel_status::predicted) continue;
    const nnmeter::feature_vector f = nnmeter::features(k, nnmeter::feature_set::extended);
    const double raw = static_cast<double>(nnmeter::evaluate(*p.forest_for(k.kind), f.data()));
    double expected = raw;
    if (k.kind == K::conv_bn_relu) {
      expected = raw * (k.flops / 1e6 + 1e-3);
      ++seen[0];
    } else if (k.kind == K::dwconv_bn_relu) {
      expected = raw * (k.bytes / 1e6 + 1e-3);
      ++seen[1];
    } else {
      ++seen[2];
    }
    CAPTURE(k.name);
    CHECK(r.kernels[i].latency_ms == expected);
    CHECK(p.predict_kernel(k).latency_ms == expected);
    total += r.kernels[i].latency_ms;
  }
  CHECK(seen[0] > 0);
  CHECK(seen[1] > 0);
  CHECK(r.latency_ms == total);
  CHECK(p.latency(g).latency_ms == r.latency_ms);
}

TEST_CASE("latency targets: golden cases carry their scale; the package keeps the targets") {
  nnmeter::predictor p = make_scaled_predictor();
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::detection d = nnmeter::detect(g, p.rules());
  std::vector<nnmeter::feature_vector> rows;
  std::vector<double> scales;
  for (const nnmeter::kernel& k : d.kernels)
    if (k.kind == K::conv_bn_relu) {
      rows.push_back(nnmeter::features(k, nnmeter::feature_set::extended));
      scales.push_back(p.scale_of(k));
      // The golden latency is the kernel's prediction.
    }
  p.record_golden(K::conv_bn_relu, rows, 3, scales);
  REQUIRE(p.golden().size() == 3);
  CHECK(p.golden()[0].scale == scales[0]);
  CHECK(p.golden()[0].latency_ms == p.predict_kernel(d.kernels[0]).latency_ms);
  CHECK(p.verify().ok());
  CHECK_THROWS_WITH_AS(p.record_golden(K::conv_bn_relu, rows, 3, {1.0}),
                       "predictor: 1 golden scales for 24 rows of kind 'conv-bn-relu'",
                       nnmeter::error);

  const nnmeter_test::temp_dir tmp("nnmeter_targets");
  const std::string dir = tmp.file("pkg");
  nnmeter::io::write_predictor_package(p, dir);
  const std::string manifest = nnmeter::io::detail::read_file(dir + "/manifest.json");
  CHECK(manifest.find("\"format_version\": 2") != std::string::npos);
  CHECK(manifest.find("\"conv-bn-relu\": \"ms-per-mflop\"") != std::string::npos);
  CHECK(manifest.find("\"fc\": \"ms\"") == std::string::npos);  // the default is not written
  const nnmeter::predictor back = nnmeter::io::load_predictor_package(dir);
  CHECK(back.target_for(K::conv_bn_relu) == nnmeter::latency_target::ms_per_mflop);
  CHECK(back.target_for(K::dwconv_bn_relu) == nnmeter::latency_target::ms_per_mbyte);
  CHECK(back.target_for(K::fc) == nnmeter::latency_target::ms);
  CHECK(back.verify().ok());
  CHECK(back.predict(g).latency_ms == p.predict(g).latency_ms);

  // A damaged scale no longer reproduces.
  nnmeter::predictor damaged = back;
  nnmeter::golden_case c = damaged.golden()[0];
  c.scale *= 2;
  damaged.add_golden(c);
  CHECK_FALSE(damaged.verify().ok());

  auto error_of = [&](const std::string& text) {
    std::ofstream(dir + "/manifest.json", std::ios::trunc) << text;
    try {
      (void)nnmeter::io::load_predictor_package(dir);
    } catch (const nnmeter::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto with = [&](std::string from, const std::string& to) {
    const std::size_t at = manifest.find(from);
    REQUIRE(at != std::string::npos);
    std::string m = manifest;
    m.replace(at, from.size(), to);
    return m;
  };
  CHECK(error_of(with("\"format_version\": 2", "\"format_version\": 1"))
            .find("key 'targets' needs format_version 2 or later") != std::string::npos);
  CHECK(error_of(with("\"ms-per-mflop\"", "\"ms-per-flop\"")).find(
            "targets['conv-bn-relu']: must be \"ms\", \"ms-per-mflop\" or \"ms-per-mbyte\"") !=
        std::string::npos);
  CHECK(error_of(with("\"conv-bn-relu\": \"ms-per-mflop\"", "\"hswish\": \"ms-per-mflop\""))
            .find("targets['hswish']: the package has no forest of this kind") !=
        std::string::npos);
  CHECK(error_of(with("\"feature_set\": \"extended\"", "\"feature_set\": \"nnmeter\""))
            .find("the forest reads 13 features, but kind 'conv-bn-relu' has 7") != std::string::npos);
}
