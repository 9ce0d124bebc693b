// nnmeter predict with a predictor that has fallback models: fallback kernels labelled in the
// text, --verbose and --json outputs, with their share of the total.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/predictor_fixture.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

using nnmeter_test::shell_quote;

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;
const std::string mobilenet = data_dir + "/mobilenetv3small_0.ir.json";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string ms_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace

TEST_CASE("predict: fallback kernels are labelled, with their share of the total") {
  const nnmeter_test::temp_dir tmp("nnmeter_cli_fallback");
  const std::string config = tmp.file("config");
  auto run = [&](const std::string& args) {
    return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                         shell_quote(NNMETER_CLI_PATH) + " " + args,
                                     true);
  };
  const nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  nnmeter::io::write_predictor_package(p, tmp.file("pkg"));
  const std::string meta =
      tmp.write("pkg.yaml", "name: unit_fallback\nversion: \"1.2\"\ncategory: cpu\n"
                            "package_location: pkg\nkernel_predictors: [conv-bn-relu]\n");
  REQUIRE(run("register --predictor " + shell_quote(meta)).status == 0);
  const nnmeter::prediction expected = p.predict(nnmeter::io::load_nnmeter_ir(mobilenet));
  REQUIRE(expected.fallback > 0);
  REQUIRE(expected.unpredicted == 0);

  const auto js = run("predict --json --predictor unit_fallback --nnmeter-ir " +
                      shell_quote(mobilenet) + " 2>/dev/null");
  INFO(js.output);
  REQUIRE(js.status == 0);
  const auto j = nlohmann::json::parse(js.output);
  CHECK(j["latency_ms"].get<double>() == expected.latency_ms);
  CHECK(j["kernels_fallback"].get<std::size_t>() == expected.fallback);
  CHECK(j["kernels_predicted"].get<std::size_t>() == expected.predicted);
  CHECK(j["kernels_without_model"].get<std::size_t>() == 0);
  CHECK(j["fallback_ms"].get<double>() == expected.fallback_ms);
  CHECK(j["fallback_share"].get<double>() == expected.fallback_share());
  REQUIRE(j["kernels"].size() == expected.kernels.size());
  double fallback_sum = 0;
  std::size_t fallback_kernels = 0;
  for (std::size_t i = 0; i < expected.kernels.size(); ++i) {
    const auto& k = j["kernels"][i];
    const nnmeter::kernel_latency& l = expected.kernels[i];
    CHECK(k["status"] == std::string(nnmeter::to_string(l.status)));
    if (l.status != nnmeter::kernel_status::fallback) {
      CHECK_FALSE(k.contains("fallback_reason"));
      continue;
    }
    ++fallback_kernels;
    CHECK(k["latency_ms"].get<double>() == l.latency_ms);
    CHECK(k["fallback_reason"] == "no-model");
    CHECK(k["fallback_family"] ==
          std::string(nnmeter::to_string(nnmeter::family_of(expected.detected.kernels[i].kind))));
    fallback_sum += l.latency_ms;
  }
  CHECK(fallback_kernels == expected.fallback);
  CHECK(fallback_sum == expected.fallback_ms);

  const auto text = run("predict --predictor unit_fallback --nnmeter-ir " + shell_quote(mobilenet));
  INFO(text.output);
  REQUIRE(text.status == 0);
  CHECK(contains(text.output, "[RESULT] predict latency for " + mobilenet + ": " +
                                  ms_text(expected.latency_ms) + " ms\n"));
  char share[32];
  std::snprintf(share, sizeof share, "%.1f %%", 100.0 * expected.fallback_share());
  CHECK(contains(text.output, "fallback: " + std::to_string(expected.fallback) +
                                  " kernel(s) estimated from their FLOPs and bytes, " +
                                  ms_text(expected.fallback_ms) + " ms = " + share +
                                  " of the total\n"));
  const auto verbose = run("predict --verbose --predictor unit_fallback --nnmeter-ir " +
                           shell_quote(mobilenet));
  CHECK(contains(verbose.output, " (fallback: no-model)\n"));
  for (std::size_t i = 0; i < expected.kernels.size(); ++i)
    if (expected.kernels[i].status == nnmeter::kernel_status::fallback) {
      const nnmeter::kernel& k = expected.detected.kernels[i];
      CHECK(contains(verbose.output, std::to_string(i + 1) + "\t" + k.name + "\t" +
                                         std::string(nnmeter::to_string(k.kind)) + "\t" +
                                         ms_text(expected.kernels[i].latency_ms) +
                                         " (fallback: no-model)\n"));
      break;
    }
  // A predictor without fallback models prints no fallback line.
  nnmeter::io::write_predictor_package(nnmeter_test::make_fixture_predictor(), tmp.file("plain"));
  const std::string plain_meta =
      tmp.write("plain.yaml", "name: unit_cpu\nversion: \"1.2\"\ncategory: cpu\n"
                              "package_location: plain\nkernel_predictors: [conv-bn-relu]\n");
  REQUIRE(run("register --predictor " + shell_quote(plain_meta)).status == 0);
  const auto plain = run("predict --predictor unit_cpu --nnmeter-ir " + shell_quote(mobilenet));
  INFO(plain.output);
  CHECK_FALSE(contains(plain.output, "fallback:"));
  const auto pj = nlohmann::json::parse(
      run("predict --json --predictor unit_cpu --nnmeter-ir " + shell_quote(mobilenet)).output);
  CHECK(pj["kernels_fallback"] == 0);
  CHECK(pj["fallback_ms"] == 0.0);
}
