// Predictor packages: manifest + fusion rules + one XGBoost JSON forest per kernel kind.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/nnmeter_pkg_XXXXXX";
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// One tree: x[f] < t ? lo : hi.
nnmeter::forest stump(std::uint32_t n, std::uint32_t f, float t, float lo, float hi) {
  nnmeter::forest s;
  s.left = {1, -1, -1};
  s.feature = {f, 0, 0};
  s.split_value = {t, lo, hi};
  s.default_left = {0, 0, 0};
  s.tree_roots = {0};
  s.num_features = n;
  s.base_score = 0.0f;
  return s;
}

std::string manifest(int version, const std::string& kernels_json,
                     const std::string& feature_set = "nnmeter") {
  return "{\"format_version\": " + std::to_string(version) +
         ", \"name\": \"unit\", \"version\": \"1.0\", \"device\": \"test\", \"backend\": \"none\","
         " \"feature_set\": \"" + feature_set + "\", \"measurement_protocol\": {\"threads\": 1},"
         " \"fusion_rules\": \"fusion_rules.json\", \"kernels\": " + kernels_json + "}";
}

std::string error_of(const std::string& dir) {
  try {
    (void)nnmeter::io::load_predictor_package(dir);
  } catch (const nnmeter::format_mismatch& e) {
    return std::string("format_mismatch: ") + e.what();
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a predictor package loads and predicts mobilenetv3small_0") {
  const std::string dir = make_temp_dir();
  write(dir + "/fusion_rules.json",
        nnmeter::io::detail::read_file(data_dir + "/rule_tflite_cpu.json"));
  // conv kernels: 2 ms below inputh 50, else 5 ms; everything else 0.5 ms (every kind's
  // first feature is compared with a huge threshold).
  write(dir + "/conv.json", nnmeter::io::write_xgboost_json(stump(7, 0, 50.0f, 2.0f, 5.0f)));
  std::string kernels = "{\"conv-bn-relu\": \"conv.json\"";
  for (const char* kind : {"dwconv-bn-relu", "fc", "global-avgpool", "hswish", "se", "add"}) {
    const auto k = *nnmeter::parse_kernel_kind(kind);
    const auto n = static_cast<std::uint32_t>(nnmeter::feature_count(k, nnmeter::feature_set::nnmeter));
    write(dir + "/" + kind + ".json", nnmeter::io::write_xgboost_json(stump(n, 0, 1e9f, 0.5f, 0.5f)));
    kernels += std::string(", \"") + kind + "\": \"" + kind + ".json\"";
  }
  kernels += "}";
  write(dir + "/manifest.json", manifest(NNMETER_PREDICTOR_FORMAT, kernels));

  const nnmeter::predictor p = nnmeter::io::load_predictor_package(dir);
  CHECK(p.info().name == "unit");
  CHECK(p.info().features == nnmeter::feature_set::nnmeter);
  CHECK(p.info().protocol_json == R"({"threads":1})");
  CHECK(p.rules().entries().size() == 85);
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.detected.kernels.size() == 60);
  CHECK(r.complete());
  double expected = 0;
  for (const auto& k : r.detected.kernels) {
    if (k.kind == nnmeter::kernel_kind::conv_bn_relu)
      expected += *k.inputh < 50 ? 2.0 : 5.0;
    else
      expected += 0.5;
  }
  CHECK(r.latency_ms == doctest::Approx(expected).epsilon(1e-12));

  SUBCASE("a kind without a forest is reported") {
    write(dir + "/manifest.json", manifest(NNMETER_PREDICTOR_FORMAT, R"({"conv-bn-relu": "conv.json"})"));
    const nnmeter::prediction r2 = nnmeter::io::load_predictor_package(dir).predict(g);
    CHECK_FALSE(r2.complete());
    CHECK(r2.unpredicted == 60 - 24);  // 11 conv-bn + 10 conv-bn-hswish + 3 conv-bn-relu
  }
  SUBCASE("another format version is rejected naming both versions") {
    write(dir + "/manifest.json", manifest(99, "{}"));
    const std::string e = error_of(dir);
    CHECK(e.find("format_mismatch") == 0);
    CHECK(e.find("99") != std::string::npos);
    CHECK(e.find("manifest.json") != std::string::npos);
  }
  SUBCASE("a forest with the wrong number of features is rejected") {
    write(dir + "/manifest.json",
          manifest(NNMETER_PREDICTOR_FORMAT, R"({"conv-bn-relu": "conv.json"})", "extended"));
    const std::string e = error_of(dir);
    CHECK(e.find("conv.json") != std::string::npos);
    CHECK(e.find("13") != std::string::npos);
  }
  SUBCASE("unknown kernel kind, bad feature set, missing key, escaping file name") {
    write(dir + "/manifest.json", manifest(NNMETER_PREDICTOR_FORMAT, R"({"convolution": "conv.json"})"));
    CHECK(error_of(dir).find("kernels['convolution']") != std::string::npos);
    write(dir + "/manifest.json", manifest(NNMETER_PREDICTOR_FORMAT, "{}", "fancy"));
    CHECK(error_of(dir).find("feature_set") != std::string::npos);
    write(dir + "/manifest.json", R"({"format_version": 1, "name": "x"})");
    CHECK(error_of(dir).find("'version'") != std::string::npos);
    write(dir + "/manifest.json",
          manifest(NNMETER_PREDICTOR_FORMAT, R"({"conv-bn-relu": "../conv.json"})"));
    CHECK(error_of(dir).find("inside the package") != std::string::npos);
  }
  SUBCASE("the builder's build record is kept as JSON text; anything but an object is refused") {
    std::string m = manifest(NNMETER_PREDICTOR_FORMAT, R"({"conv-bn-relu": "conv.json"})");
    m.insert(m.size() - 1, R"(, "build": {"runtime": "XNNPACK x", "samples": 12})");
    write(dir + "/manifest.json", m);
    const nnmeter::predictor pb = nnmeter::io::load_predictor_package(dir);
    CHECK(pb.info().build_json == R"({"runtime":"XNNPACK x","samples":12})");
    // ... and written back by the manifest writer.
    CHECK(nnmeter::io::predictor_manifest_json(pb).find(R"("runtime": "XNNPACK x")") !=
          std::string::npos);
    CHECK(p.info().build_json.empty());  // the manifest above has none
    CHECK(nnmeter::io::predictor_manifest_json(p).find("\"build\"") == std::string::npos);
    std::string bad = manifest(NNMETER_PREDICTOR_FORMAT, R"({"conv-bn-relu": "conv.json"})");
    bad.insert(bad.size() - 1, R"(, "build": [1])");
    write(dir + "/manifest.json", bad);
    CHECK(error_of(dir).find("manifest.json: key 'build' must be an object") != std::string::npos);
  }
  SUBCASE("a missing forest file is named") {
    write(dir + "/manifest.json", manifest(NNMETER_PREDICTOR_FORMAT, R"({"fc": "nope.json"})"));
    CHECK(error_of(dir).find("nope.json") != std::string::npos);
  }
}
