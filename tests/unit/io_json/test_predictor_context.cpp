// The predictor's context factor (predictor::set_context_scale): every kernel latency, forest or
// fallback, multiplied by it; the totals follow; predict and latency agree; bad factors refused;
// a package keeps it exactly (manifest key context_scale) and refuses a malformed one.
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
