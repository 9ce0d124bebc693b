// Fallback coefficients in predictor packages: written, read back exactly, absent when there
// are none, and refused with the file and key when malformed.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include "support/predictor_fixture.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <string>

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;

// Kernels and total of two predictors on one graph, field for field, bit for bit.
void check_same_predictions(const nnmeter::predictor& a, const nnmeter::predictor& b,
                            const nnmeter::graph& g) {
  const nnmeter::prediction x = a.predict(g);
  const nnmeter::prediction y = b.predict(g);
  CHECK(x.latency_ms == y.latency_ms);
  CHECK(x.fallback_ms == y.fallback_ms);
  CHECK(x.fallback == y.fallback);
  CHECK(x.predicted == y.predicted);
  CHECK(x.unpredicted == y.unpredicted);
  REQUIRE(x.kernels.size() == y.kernels.size());
  for (std::size_t i = 0; i < x.kernels.size(); ++i) {
    CHECK(x.kernels[i].latency_ms == y.kernels[i].latency_ms);
    CHECK(x.kernels[i].status == y.kernels[i].status);
    CHECK(x.kernels[i].reason == y.kernels[i].reason);
  }
  CHECK(a.latency(g).latency_ms == b.latency(g).latency_ms);
}

}  // namespace

TEST_CASE("fallback coefficients: a package round trip keeps them exactly") {
  nnmeter_test::temp_dir tmp("nnmeter_pkg_fallback");
  const nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  const std::string dir = tmp.file("unit_fallback");
  nnmeter::io::write_predictor_package(p, dir);
  const nlohmann::json m = nlohmann::json::parse(nnmeter_test::read_file(dir + "/manifest.json"));
  REQUIRE(m.contains("fallback"));
  CHECK(m["format_version"] == 2);  // an optional key: no format change
  CHECK(m["fallback"].size() == 4);
  CHECK_FALSE(m["fallback"].contains("depthwise"));
  CHECK(m["fallback"]["compute"]["ms_per_mflop"].get<double>() == 0.0123456789);

  const nnmeter::predictor q = nnmeter::io::load_predictor_package(dir);
  for (std::size_t i = 0; i < nnmeter::kernel_family_count; ++i) {
    const auto f = static_cast<nnmeter::kernel_family>(i);
    INFO("family " << nnmeter::to_string(f));
    const auto a = p.fallback_for(f);
    const auto b = q.fallback_for(f);
    REQUIRE(a.has_value() == b.has_value());
    if (!a) continue;
    CHECK(a->base_ms == b->base_ms);
    CHECK(a->ms_per_mflop == b->ms_per_mflop);
    CHECK(a->ms_per_mbyte == b->ms_per_mbyte);
  }
  CHECK(q.verify().ok());
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::prediction r = q.predict(g);
  CHECK(r.fallback > 0);
  CHECK(r.fallback_ms > 0.0);
  CHECK(r.unpredicted == 0);
  check_same_predictions(p, q, g);
}

TEST_CASE("fallback coefficients: a package without them has no key and no fallback") {
  nnmeter_test::temp_dir tmp("nnmeter_pkg_nofallback");
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  const std::string dir = tmp.file("unit_cpu");
  nnmeter::io::write_predictor_package(p, dir);
  const nlohmann::json m = nlohmann::json::parse(nnmeter_test::read_file(dir + "/manifest.json"));
  CHECK_FALSE(m.contains("fallback"));
  const nnmeter::predictor q = nnmeter::io::load_predictor_package(dir);
  CHECK_FALSE(q.has_fallback());
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  CHECK(q.predict(g).fallback == 0);
  check_same_predictions(p, q, g);
  // "fallback": null reads as none.
  nlohmann::ordered_json mo =
      nlohmann::ordered_json::parse(nnmeter_test::read_file(dir + "/manifest.json"));
  mo["fallback"] = nullptr;
  std::ofstream(dir + "/manifest.json", std::ios::trunc) << mo.dump(2);
  CHECK_FALSE(nnmeter::io::load_predictor_package(dir).has_fallback());
}

TEST_CASE("fallback coefficients: malformed ones are refused naming the file and key") {
  nnmeter_test::temp_dir tmp("nnmeter_pkg_badfallback");
  const std::string dir = tmp.file("unit_fallback");
  nnmeter::io::write_predictor_package(nnmeter_test::make_fallback_fixture_predictor(), dir);
  const std::string manifest = dir + "/manifest.json";
  const nlohmann::ordered_json good = nlohmann::ordered_json::parse(nnmeter_test::read_file(manifest));
  auto error_with = [&](const nlohmann::ordered_json& fb) {
    nlohmann::ordered_json m = good;
    m["fallback"] = fb;
    std::ofstream(manifest, std::ios::trunc) << m.dump(2);
    try {
      (void)nnmeter::io::load_predictor_package(dir);
    } catch (const nnmeter::parse_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const nlohmann::ordered_json ok = {{"base_ms", 0.1}, {"ms_per_mflop", 0.0}, {"ms_per_mbyte", 0.2}};
  CHECK(error_with(nlohmann::ordered_json::array()) ==
        manifest + ": key 'fallback' must be an object");
  CHECK(error_with({{"dense", ok}}).find(manifest + ": fallback['dense']: unknown kernel family") ==
        0);
  CHECK(error_with({{"pooling", 3}}) == manifest + ": fallback['pooling'] must be an object");
  nlohmann::ordered_json neg = ok;
  neg["ms_per_mflop"] = -0.5;
  CHECK(error_with({{"compute", neg}}) ==
        manifest + ": fallback['compute']: key 'ms_per_mflop' must be a finite non-negative "
                   "number, found -0.5");
  nlohmann::ordered_json missing = ok;
  missing.erase("base_ms");
  CHECK(error_with({{"compute", missing}}) ==
        manifest + ": fallback['compute']: key 'base_ms' must be a finite non-negative number");
  nlohmann::ordered_json text = ok;
  text["ms_per_mbyte"] = "0.2";
  CHECK(error_with({{"elementwise", text}}).find("key 'ms_per_mbyte' must be a finite") !=
        std::string::npos);
  const nlohmann::ordered_json zero = {{"base_ms", 0}, {"ms_per_mflop", 0}, {"ms_per_mbyte", 0}};
  CHECK(error_with({{"compute", zero}}) ==
        manifest + ": fallback['compute']: the coefficients are all zero (no model)");
  CHECK(error_with({{"compute", ok}}).empty());
}
