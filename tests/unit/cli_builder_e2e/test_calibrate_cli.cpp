// `nnmeter calibrate` end to end on this machine's CPU (XNNPACK), one configuration per kind:
// the shipped predictor adapted, written, registered as the registry's default; `nnmeter
// predict` then uses it and says so, `--embedded` still gives the embedded one, and
// unregistering it brings the embedded one back. A hermetic registry (NNMETER_CONFIG_DIR).
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

const std::string package =
    std::string(NNMETER_SOURCE_DIR) + "/predictors/zen4cpu_xnnpack2022";
const std::string mobilenet = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("nnmeter calibrate: adapted, registered as the default, used by predict, removable") {
  const nnmeter_test::temp_dir tmp("nnmeter_calibrate_cli");
  const std::string config = tmp.file("config");
  auto run = [&](const std::string& args) {
    return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                         shell_quote(NNMETER_CLI_PATH) + " " + args,
                                     true);
  };
  const auto c = run("calibrate --package " + shell_quote(package) +
                     " --per-kind 1 --minutes 2 --name here_cpu --json");
  INFO(c.output);
  REQUIRE(c.status == 0);
  const std::size_t brace = c.output.find('{');
  REQUIRE(brace != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(c.output.substr(brace));
  CHECK(j["name"] == "here_cpu");
  CHECK(j["base"]["name"] == "zen4cpu_xnnpack2022");
  CHECK(j["registered"] == true);
  CHECK(j["default"] == true);
  CHECK(j["measured"].get<int>() > 10);  // one configuration of each kind it has a forest for
  CHECK(j["pooled_scale"].get<double>() > 0);
  const fs::path pkg = fs::path(config) / "calibrated" / "here_cpu" / "here_cpu";
  CHECK(fs::is_regular_file(pkg / "manifest.json"));
  CHECK(fs::is_regular_file(pkg.parent_path() / "calibration.json"));
  CHECK(fs::is_regular_file(pkg.parent_path() / "here_cpu.yaml"));

  // predict without --predictor: the registry's default, said in text and JSON.
  const auto p = run("predict --nnmeter-ir " + shell_quote(mobilenet) + " --json");
  REQUIRE(p.status == 0);
  const nlohmann::json pj = nlohmann::json::parse(p.output.substr(p.output.find('{')));
  CHECK(pj["predictor"]["name"] == "here_cpu");
  CHECK(pj["predictor"]["embedded"] == false);
  CHECK(pj["predictor"]["default"] == true);
  CHECK(pj["predictor"]["this_cpu"] == true);  // its device is this machine
  const auto text = run("predict --nnmeter-ir " + shell_quote(mobilenet));
  CHECK(contains(text.output, "predictor here_cpu version 1.0 ("));
  CHECK(contains(text.output, "; the registry's default): "));
  CHECK_FALSE(contains(text.output, "warning: predictor"));
  const auto e = run("predict --embedded --nnmeter-ir " + shell_quote(mobilenet) + " --json");
  REQUIRE(e.status == 0);
  const nlohmann::json ej = nlohmann::json::parse(e.output.substr(e.output.find('{')));
  CHECK(ej["predictor"]["name"] == "zen4cpu_xnnpack2022");
  CHECK(ej["predictor"]["embedded"] == true);
  // The calibrated latency is the embedded one rescaled per kind: not the same number.
  CHECK(pj["latency_ms"].get<double>() != ej["latency_ms"].get<double>());
  CHECK(run("--list-predictors").output == "[Predictor] here_cpu: version=1.0 (default)\n");

  // Another backend's predictor is refused.
  const auto synthetic =
      run("calibrate --package " +
          shell_quote(std::string(NNMETER_SOURCE_DIR) + "/examples/03_embedded_predictor/synthetic_cpu"));
  CHECK(synthetic.status != 0);
  CHECK(contains(synthetic.output, "was built on backend synthetic, not xnnpack"));

  // Unregistering the default brings the embedded predictor back.
  const auto u = run("unregister --predictor here_cpu");
  REQUIRE(u.status == 0);
  CHECK(contains(u.output, "It was the default"));
  const auto back = run("predict --nnmeter-ir " + shell_quote(mobilenet) + " --json");
  REQUIRE(back.status == 0);
  const nlohmann::json bj = nlohmann::json::parse(back.output.substr(back.output.find('{')));
  CHECK(bj["predictor"]["embedded"] == true);
}
