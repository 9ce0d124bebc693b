// Predictor packages written by write_predictor_package, golden cases and predictor::verify().
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "support/read_file.hpp"
#include "support/predictor_fixture.hpp"
#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;

using nnmeter_test::two_stumps;

std::uint32_t count_of(nnmeter::kernel_kind k) { return nnmeter_test::nnmeter_feature_count(k); }

nnmeter::predictor make_predictor() { return nnmeter_test::make_fixture_predictor(); }

using nnmeter_test::read_file;

}  // namespace

TEST_CASE("golden cases: recorded from the forests, verify() re-runs them") {
  const nnmeter::predictor p = make_predictor();
  REQUIRE(p.golden().size() == 4 + 4 + 1);  // one fc kernel in MobileNetV3-small
  const nnmeter::verify_result ok = p.verify();
  CHECK(ok.ok());
  CHECK(ok.checked == 9);
  CHECK(ok.failures.empty());

  SUBCASE("a changed latency is a failure naming the case and both values") {
    nnmeter::predictor q = p;
    nnmeter::golden_case c = q.golden()[0];
    c.latency_ms += 1.0;
    q.add_golden(c);
    const nnmeter::verify_result r = q.verify();
    CHECK_FALSE(r.ok());
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].find("golden case 9 (conv-bn-relu): predicts ") == 0);
    CHECK(r.failures[0].find("the package recorded") != std::string::npos);
  }
  SUBCASE("a case of a kind without a forest, or of another length") {
    nnmeter::predictor q = p;
    q.add_golden({nnmeter::kernel_kind::maxpool, {1, 2, 3}, 1.0});
    nnmeter::golden_case c = q.golden()[0];
    c.features.push_back(7.0);
    q.add_golden(c);
    const nnmeter::verify_result r = q.verify();
    REQUIRE(r.failures.size() == 2);
    CHECK(r.failures[0] == "golden case 9 (maxpool): the predictor has no forest for this kind");
    CHECK(r.failures[1].find("golden case 10 (conv-bn-relu): ") == 0);
    CHECK(r.failures[1].find("features, but the forest reads") != std::string::npos);
  }
  SUBCASE("no golden cases: verify() is not ok (nothing was checked)") {
    nnmeter::predictor q(p.info(), p.rules());
    const nnmeter::verify_result r = q.verify();
    CHECK(r.checked == 0);
    CHECK_FALSE(r.ok());
  }
  SUBCASE("recording needs a forest and vectors of its length") {
    nnmeter::predictor q = p;
    CHECK_THROWS_WITH_AS(q.record_golden(nnmeter::kernel_kind::maxpool, {{1, 2}}),
                         "predictor: no forest for kind 'maxpool' to record golden cases with",
                         nnmeter::error);
    CHECK_THROWS_AS(q.record_golden(nnmeter::kernel_kind::fc, {{1, 2}}), nnmeter::error);
  }
}

TEST_CASE("write_predictor_package: reads back equal, predicts the same, verifies") {
  nnmeter_test::temp_dir tmp("nnmeter_pkg_write");
  const nnmeter::predictor p = make_predictor();
  const std::string dir = tmp.file("unit_cpu");
  nnmeter::io::write_predictor_package(p, dir);
  for (const char* f : {"manifest.json", "fusion_rules.json", "golden_cases.json",
                        "conv-bn-relu.json", "dwconv-bn-relu.json", "fc.json", "add.json"})
    CHECK_MESSAGE(fs::is_regular_file(fs::path(dir) / f), f);
  // Nothing but the package is left in the parent folder (the temporary folder is renamed).
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);

  const nnmeter::predictor q = nnmeter::io::load_predictor_package(dir);
  CHECK(q.info().name == "unit_cpu");
  CHECK(q.info().version == "1.2");
  CHECK(q.info().backend == "xnnpack");
  CHECK(q.info().features == nnmeter::feature_set::nnmeter);
  CHECK(q.info().protocol_json == p.info().protocol_json);
  CHECK(q.rules().entries().size() == p.rules().entries().size());
  REQUIRE(q.golden().size() == p.golden().size());
  for (std::size_t i = 0; i < p.golden().size(); ++i) {
    CHECK(q.golden()[i].kind == p.golden()[i].kind);
    CHECK(q.golden()[i].latency_ms == p.golden()[i].latency_ms);
    REQUIRE(q.golden()[i].features.size() == p.golden()[i].features.size());
    for (std::size_t j = 0; j < p.golden()[i].features.size(); ++j)
      CHECK(q.golden()[i].features[j] == p.golden()[i].features[j]);
  }
  CHECK(q.verify().ok());
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const nnmeter::prediction a = p.predict(g);
  const nnmeter::prediction b = q.predict(g);
  CHECK(a.latency_ms == b.latency_ms);
  CHECK(a.unpredicted == b.unpredicted);

  SUBCASE("an existing package is not written over, unless overwrite") {
    CHECK_THROWS_WITH_AS(nnmeter::io::write_predictor_package(p, dir),
                         doctest::Contains((dir + ": exists").c_str()), nnmeter::error);
    nnmeter::io::package_write_options o;
    o.overwrite = true;
    nnmeter::predictor p2 = p;
    p2.set_forest(nnmeter::kernel_kind::relu, two_stumps(count_of(nnmeter::kernel_kind::relu), 0,
                                                         1.0f, 0.1f, 0.2f));
    nnmeter::io::write_predictor_package(p2, dir, o);
    CHECK(fs::is_regular_file(fs::path(dir) / "relu.json"));
    CHECK(nnmeter::io::load_predictor_package(dir).has_forest(nnmeter::kernel_kind::relu));
  }
  SUBCASE("a damaged forest is found by verify()") {
    // Move one leaf of the conv forest: the file still reads, but no longer predicts as built.
    const std::string conv = dir + "/conv-bn-relu.json";
    nnmeter::forest f = nnmeter::io::load_xgboost_json(conv);
    f.split_value[1] += 1.0f;
    f.split_value[2] += 1.0f;
    std::ofstream(conv, std::ios::trunc) << nnmeter::io::write_xgboost_json(f);
    const nnmeter::verify_result r = nnmeter::io::load_predictor_package(dir).verify();
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.failures.empty());
  }
  SUBCASE("golden-case files: bad content names the file and the case") {
    const std::string gc = dir + "/golden_cases.json";
    const std::string good = read_file(gc);
    auto error_with = [&](const std::string& text) {
      std::ofstream(gc, std::ios::trunc) << text;
      try {
        (void)nnmeter::io::load_predictor_package(dir);
      } catch (const nnmeter::error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    CHECK(error_with("[]").find(gc + ": a golden-case file is a JSON object") == 0);
    CHECK(error_with(R"({"cases": [{"kernel": "warp", "features": [], "latency_ms": 1}]})")
              .find(gc + ": cases[0]: unknown kernel kind \"warp\"") == 0);
    CHECK(error_with(R"({"cases": [{"kernel": "fc", "features": [1, "a"], "latency_ms": 1}]})")
              .find("cases[0]: 'features' holds \"a\"") != std::string::npos);
    CHECK(error_with(R"({"cases": [{"kernel": "fc", "features": [1], "latency_ms": 0}]})")
              .find("cases[0]: key 'latency_ms' must be a positive number, found 0") !=
          std::string::npos);
    CHECK(error_with(good).empty());
  }
}

TEST_CASE("write_predictor_package: an unwritable destination leaves nothing behind") {
  nnmeter_test::temp_dir tmp("nnmeter_pkg_write_err");
  const nnmeter::predictor p = make_predictor();
  // The parent is a regular file: the folder cannot be created.
  const std::string file = tmp.write("plain", "x");
  CHECK_THROWS_AS(nnmeter::io::write_predictor_package(p, file + "/pkg"), nnmeter::error);
  nnmeter::predictor unnamed(nnmeter::predictor_info{}, p.rules());
  CHECK_THROWS_WITH_AS(nnmeter::io::write_predictor_package(unnamed, tmp.file("u")),
                       doctest::Contains("the predictor has no name"), nnmeter::error);
  CHECK_FALSE(fs::exists(tmp.file("u")));
#ifdef __linux__
  // A full disk while writing (/dev/full takes no bytes): refused, naming the file; no
  // temporary folder is left.
  REQUIRE(fs::exists("/dev/full"));
  CHECK_THROWS_WITH_AS(nnmeter::io::detail::write_text_file("/dev/full", "{}"),
                       doctest::Contains("/dev/full: cannot write the file"), nnmeter::error);
#endif
}
