// The predictor the nnmeter program embeds (predictors/<name>/, docs/default-predictor.md):
// `nnmeter predict` without --predictor uses it, says so, and predicts exactly what its package
// predicts once registered; an nnmeter built without one asks for --predictor.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using nnmeter_test::shell_quote;

namespace {

const std::string mobilenet = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";
const std::string package = NNMETER_TEST_DEFAULT_PREDICTOR;

nnmeter_test::command_result nnmeter(const std::string& config, const std::string& args,
                                     bool merge = true) {
  return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                       shell_quote(NNMETER_CLI_PATH) + " " + args +
                                       (merge ? "" : " 2>/dev/null"),
                                   merge);
}

}  // namespace

TEST_CASE("default predictor: embedded, named, and equal to its package bit for bit") {
  const nnmeter_test::temp_dir tmp("nnmeter_default_predictor");
  const std::string config = tmp.file("config");
  if (package.empty()) {
    // Built without one (NNMETER_DEFAULT_PREDICTOR empty): predict asks for --predictor.
    const auto r = nnmeter(config, "predict --nnmeter-ir " + shell_quote(mobilenet));
    CHECK(r.status != 0);
    CHECK(r.output.find("give --predictor NAME") != std::string::npos);
    return;
  }
  const auto text = nnmeter(config, "predict --nnmeter-ir " + shell_quote(mobilenet));
  INFO(text.output);
  REQUIRE(text.status == 0);
  CHECK(text.output.find("the embedded default") != std::string::npos);

  const auto emb = nnmeter(config, "predict --json --nnmeter-ir " + shell_quote(mobilenet), false);
  INFO(emb.output);
  REQUIRE(emb.status == 0);
  const nlohmann::json e = nlohmann::json::parse(emb.output);
  const std::string name = e["predictor"]["name"];
  CHECK(name == fs::path(package).filename().string());
  CHECK(e["predictor"]["embedded"] == true);
  CHECK(e["predictor"]["package"] == "embedded");
  CHECK(e["kernels_total"].get<int>() > 50);
  CHECK(e["latency_ms"].get<double>() > 0);

  // The package registered (register verifies its golden cases) predicts the same numbers.
  const std::string meta = fs::path(package).parent_path().string() + "/" + name + ".yaml";
  const auto reg = nnmeter(config, "register --predictor " + shell_quote(meta));
  INFO(reg.output);
  REQUIRE(reg.status == 0);
  const auto pkg = nnmeter(config, "predict --json --predictor " + name + " --nnmeter-ir " +
                                       shell_quote(mobilenet),
                           false);
  INFO(pkg.output);
  REQUIRE(pkg.status == 0);
  const nlohmann::json p = nlohmann::json::parse(pkg.output);
  CHECK(p["predictor"]["embedded"] == false);
  CHECK(p["latency_ms"].get<double>() == e["latency_ms"].get<double>());
  CHECK(p["fallback_ms"].get<double>() == e["fallback_ms"].get<double>());
  REQUIRE(p["kernels"].size() == e["kernels"].size());
  for (std::size_t i = 0; i < p["kernels"].size(); ++i) {
    CAPTURE(i);
    CHECK(p["kernels"][i]["status"] == e["kernels"][i]["status"]);
    CHECK(p["kernels"][i]["latency_ms"] == e["kernels"][i]["latency_ms"]);
  }
}
