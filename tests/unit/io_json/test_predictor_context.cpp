// The predictor's context factor (predictor::set_context_scale): every kernel latency, forest or
// fallback, multiplied by it; the totals follow; predict and latency agree; bad factors refused;
// a package keeps it exactly (manifest key context_scale) and refuses a malformed one. The
// kinds' scales (set_kind_scale, what `nnmeter calibrate` fits) likewise, per kind.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include "support/predictor_fixture.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

namespace {

const std::string mobilenet = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";

}  // namespace

TEST_CASE("context factor: every kernel latency times the factor, forest and fallback alike") {
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(mobilenet);
  const nnmeter::predictor base = nnmeter_test::make_fallback_fixture_predictor();
  CHECK(base.context_scale() == 1.0);
  nnmeter::predictor scaled = base;
  const double s = 1.0 + 1.0 / 7.0;
  scaled.set_context_scale(s);
  CHECK(scaled.context_scale() == s);
  const nnmeter::prediction a = base.predict(g);
  const nnmeter::prediction b = scaled.predict(g);
  REQUIRE(a.kernels.size() == b.kernels.size());
  REQUIRE(a.fallback > 0);
  REQUIRE(a.predicted > 0);
  double sum = 0, fallback = 0;
  for (std::size_t i = 0; i < a.kernels.size(); ++i) {
    CAPTURE(i);
    CHECK(b.kernels[i].status == a.kernels[i].status);
    CHECK(b.kernels[i].reason == a.kernels[i].reason);
    if (a.kernels[i].status == nnmeter::kernel_status::predicted ||
        a.kernels[i].status == nnmeter::kernel_status::fallback) {
      CHECK(b.kernels[i].latency_ms == doctest::Approx(a.kernels[i].latency_ms * s));
      sum += b.kernels[i].latency_ms;
      if (b.kernels[i].status == nnmeter::kernel_status::fallback) fallback += b.kernels[i].latency_ms;
    }
  }
  CHECK(b.latency_ms == sum);  // summed in kernel order, as every path sums
  CHECK(b.fallback_ms == fallback);
  CHECK(b.latency_ms == doctest::Approx(a.latency_ms * s));
  // latency() and predict_kernel() give the same numbers, bit for bit.
  CHECK(scaled.latency(g).latency_ms == b.latency_ms);
  for (std::size_t i = 0; i < b.kernels.size(); ++i)
    CHECK(scaled.predict_kernel(b.detected.kernels[i]).latency_ms == b.kernels[i].latency_ms);
  // The golden cases check the forests, which the factor does not change.
  CHECK(scaled.verify().ok());
  // Copies and moves keep it.
  nnmeter::predictor copy(scaled);
  CHECK(copy.context_scale() == s);
  nnmeter::predictor moved(std::move(copy));
  CHECK(moved.context_scale() == s);
  nnmeter::predictor assigned;
  assigned = moved;
  CHECK(assigned.latency(g).latency_ms == b.latency_ms);
}

TEST_CASE("context factor: zero, negative, infinite and NaN factors are refused") {
  nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(p.set_context_scale(bad), doctest::Contains("context factor"),
                         nnmeter::error);
  }
  CHECK(p.context_scale() == 1.0);
}

TEST_CASE("context factor: a package keeps it exactly, has no key without it, refuses bad ones") {
  const nnmeter_test::temp_dir tmp("nnmeter_context_package");
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(mobilenet);
  nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  const std::string plain = tmp.file("plain");
  nnmeter::io::write_predictor_package(p, plain);
  CHECK(nnmeter_test::read_file(plain + "/manifest.json").find("context_scale") ==
        std::string::npos);
  CHECK(nnmeter::io::load_predictor_package(plain).context_scale() == 1.0);

  p.set_context_scale(1.0 / 3.0 + 1.0);
  const std::string dir = tmp.file("pkg");
  nnmeter::io::write_predictor_package(p, dir);
  const nnmeter::predictor q = nnmeter::io::load_predictor_package(dir);
  CHECK(q.context_scale() == p.context_scale());
  CHECK(q.latency(g).latency_ms == p.latency(g).latency_ms);

  const std::string manifest = dir + "/manifest.json";
  const nlohmann::ordered_json m = nlohmann::ordered_json::parse(nnmeter_test::read_file(manifest));
  for (const char* bad : {"0", "-1.5", "\"1.2\"", "[1]", "true"}) {
    CAPTURE(bad);
    nlohmann::ordered_json d = m;
    d["context_scale"] = nlohmann::ordered_json::parse(bad);
    std::ofstream(manifest, std::ios::trunc) << d.dump(2);
    try {
      (void)nnmeter::io::load_predictor_package(dir);
      FAIL("accepted context_scale " << bad);
    } catch (const nnmeter::error& e) {
      const std::string w = e.what();
      CHECK(w.find("manifest.json") != std::string::npos);
      CHECK(w.find("context_scale") != std::string::npos);
    }
  }
}

TEST_CASE("kind scales: a kind's latencies, forest and fallback, times its scale and the context") {
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(mobilenet);
  const nnmeter::predictor base = nnmeter_test::make_fallback_fixture_predictor();
  CHECK_FALSE(base.has_kind_scales());
  const nnmeter::prediction a = base.predict(g);
  REQUIRE(a.fallback > 0);
  REQUIRE(a.predicted > 0);
  // Scale one kind predicted by its forest and one that falls back; the context on top.
  nnmeter::kernel_kind forest_kind = nnmeter::kernel_kind::other;
  nnmeter::kernel_kind fallback_kind = nnmeter::kernel_kind::other;
  for (std::size_t i = 0; i < a.kernels.size(); ++i) {
    if (a.kernels[i].status == nnmeter::kernel_status::predicted)
      forest_kind = a.detected.kernels[i].kind;
    if (a.kernels[i].status == nnmeter::kernel_status::fallback)
      fallback_kind = a.detected.kernels[i].kind;
  }
  REQUIRE(forest_kind != nnmeter::kernel_kind::other);
  REQUIRE(fallback_kind != nnmeter::kernel_kind::other);
  REQUIRE(forest_kind != fallback_kind);
  nnmeter::predictor scaled = base;
  const double c = 1.25, sf = 0.8, sb = 1.5;
  scaled.set_context_scale(c);
  scaled.set_kind_scale(forest_kind, sf);
  scaled.set_kind_scale(fallback_kind, sb);
  CHECK(scaled.has_kind_scales());
  CHECK(scaled.kind_scale(forest_kind) == sf);
  CHECK(scaled.latency_factor(forest_kind) == c * sf);
  CHECK(scaled.latency_factor(nnmeter::kernel_kind::relu) == c);  // unscaled kinds: the context
  const nnmeter::prediction b = scaled.predict(g);
  REQUIRE(b.kernels.size() == a.kernels.size());
  for (std::size_t i = 0; i < a.kernels.size(); ++i) {
    CAPTURE(i);
    CHECK(b.kernels[i].status == a.kernels[i].status);
    if (a.kernels[i].status != nnmeter::kernel_status::predicted &&
        a.kernels[i].status != nnmeter::kernel_status::fallback)
      continue;
    const nnmeter::kernel_kind k = a.detected.kernels[i].kind;
    const double want = k == forest_kind ? c * sf : k == fallback_kind ? c * sb : c;
    CHECK(b.kernels[i].latency_ms == doctest::Approx(a.kernels[i].latency_ms * want));
    CHECK(scaled.predict_kernel(b.detected.kernels[i]).latency_ms == b.kernels[i].latency_ms);
  }
  CHECK(scaled.latency(g).latency_ms == b.latency_ms);
  CHECK(scaled.verify().ok());  // the golden cases check the forests alone
  // A scale of 1 changes nothing, bit for bit.
  nnmeter::predictor ones = base;
  ones.set_kind_scale(forest_kind, 1.0);
  CHECK_FALSE(ones.has_kind_scales());
  CHECK(ones.latency(g).latency_ms == a.latency_ms);
  // Copies keep them; bad scales are refused, naming the kind.
  const nnmeter::predictor copy(scaled);
  CHECK(copy.latency(g).latency_ms == b.latency_ms);
  for (double bad : {0.0, -2.0, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(scaled.set_kind_scale(nnmeter::kernel_kind::fc, bad),
                         doctest::Contains("scale of kind fc"), nnmeter::error);
  }
}

TEST_CASE("kind scales: a package keeps them exactly (key kind_scales) and refuses bad ones") {
  const nnmeter_test::temp_dir tmp("nnmeter_kind_scales_package");
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(mobilenet);
  nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  const std::string plain = tmp.file("plain");
  nnmeter::io::write_predictor_package(p, plain);
  CHECK(nnmeter_test::read_file(plain + "/manifest.json").find("kind_scales") == std::string::npos);

  p.set_kind_scale(nnmeter::kernel_kind::conv_bn_relu, 1.0 / 3.0);
  p.set_kind_scale(nnmeter::kernel_kind::hswish, 1.1);
  const std::string dir = tmp.file("pkg");
  nnmeter::io::write_predictor_package(p, dir);
  const nnmeter::predictor q = nnmeter::io::load_predictor_package(dir);
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    CHECK(q.kind_scale(k) == p.kind_scale(k));
  }
  CHECK(q.latency(g).latency_ms == p.latency(g).latency_ms);

  const std::string manifest = dir + "/manifest.json";
  const nlohmann::ordered_json m = nlohmann::ordered_json::parse(nnmeter_test::read_file(manifest));
  CHECK(m["kind_scales"].size() == 2);
  for (const char* bad : {R"({"conv-bn-relu": 0})", R"({"conv-bn-relu": -1})",
                          R"({"conv-bn-relu": "2"})", R"({"no-such-kind": 1.5})", "[1.5]"}) {
    CAPTURE(bad);
    nlohmann::ordered_json d = m;
    d["kind_scales"] = nlohmann::ordered_json::parse(bad);
    std::ofstream(manifest, std::ios::trunc) << d.dump(2);
    try {
      (void)nnmeter::io::load_predictor_package(dir);
      FAIL("accepted kind_scales " << bad);
    } catch (const nnmeter::error& e) {
      const std::string w = e.what();
      CHECK(w.find("manifest.json") != std::string::npos);
      CHECK(w.find("kind_scales") != std::string::npos);
    }
  }
}
