// The builder's whole workflow through the nnmeter program on this machine's CPU (XNNPACK),
// on a small budget: create -> connect -> detect-rules -> build-predictor -> register ->
// --list-predictors -> predict -> codegen -> compile the header -> the embedded predictor
// predicts what the registered one did, with a hermetic registry (NNMETER_CONFIG_DIR). Slow (a
// few minutes): run in one CI configuration only (label cli_builder_e2e).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/embedded_program.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;
using nnmeter_test::shell_quote;

namespace {

const std::string mobilenet = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";

struct workflow_env {
  nnmeter_test::temp_dir tmp{"nnmeter_builder_e2e"};
  std::string config = tmp.file("config");
  std::string ws = tmp.file("ws");

  // Runs nnmeter; with merge, stderr joins stdout, else it goes to `stderr_file` (progress
  // lines), which the checks below print when one fails.
  nnmeter_test::command_result run(const std::string& args, bool merge = true) const {
    return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                         shell_quote(NNMETER_CLI_PATH) + " " + args +
                                         (merge ? "" : " 2>" + shell_quote(stderr_file)),
                                     merge);
  }
  std::string stderr_text() const {
    std::ifstream f(stderr_file);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::string stderr_file = tmp.file("stderr.txt");
  void write_config(const std::string& file, const std::string& text) const {
    std::ofstream(fs::path(ws) / "configs" / file, std::ios::trunc) << text;
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

nlohmann::json json_of(const nnmeter_test::command_result& r) {
  try {
    return nlohmann::json::parse(r.output);
  } catch (const std::exception& e) {
    FAIL("not JSON (" << e.what() << "):\n" << r.output);
  }
  return nullptr;
}

}  // namespace

TEST_CASE("builder workflow on XNNPACK: create, connect, detect-rules, build-predictor, register, predict, codegen") {
  const workflow_env env;
  const auto created = env.run("create --xnnpack-workspace " + shell_quote(env.ws));
  INFO(created.output);
  REQUIRE(created.status == 0);

  // A light protocol (the kernels here run in microseconds) measured on the thread's CPU
  // clock, which survives a busy machine; the three pairs the issue names, on small tensors
  // (as the rule-tester e2e test). Keys left out keep their defaults.
  env.write_config("backend_config.yaml",
                   "BACKEND: xnnpack\nPROTOCOL:\n  WARMUP_SECONDS: 0.02\n  BLOCKS: 3\n"
                   "  RUNS: 10\n  PASSES: 1\n  CLOCK: thread-cpu\n");
  env.write_config("ruletest_config.yaml",
                   "HW: 28\nCIN: 8\nCOUT: 32\nREPEATS: 5\n"
                   "BASIC_TESTCASES: [conv_relu, add_relu, conv_add]\nOTHER_TESTCASES: []\n");
  // Four kinds, a few hundred samples; small layers (MAX_MFLOPS) keep it to minutes. The context
  // factor from one zoo model per family, in 2 memory layouts (the defaults, 4 and 4, would
  // measure 52 models 4 times each: minutes of CI for a figure this test does not check).
  env.write_config("predictorbuild_config.yaml", "SEED: 3\nMAX_MFLOPS: 40\nMAX_MBYTES: 8\n"
                                          "CONTEXT_MODELS: 1\nCONTEXT_LAYOUTS: 2\n"
                                          "KERNELS:\n"
                                          "  conv-bn-relu:\n    INIT_SAMPLE_NUM: 160\n"
                                          "    FINEGRAINED_SAMPLE_NUM: 5\n    ITERATION: 2\n"
                                          "    ROUNDS: 150\n"
                                          "  dwconv-bn-relu:\n    INIT_SAMPLE_NUM: 100\n"
                                          "    ITERATION: 1\n    ROUNDS: 150\n"
                                          "  fc:\n    INIT_SAMPLE_NUM: 60\n    ITERATION: 1\n"
                                          "  global-avgpool:\n    INIT_SAMPLE_NUM: 40\n"
                                          "    ITERATION: 1\n");

  // connect: the device, the runtime, a latency.
  const auto conn = env.run("connect --workspace " + shell_quote(env.ws));
  INFO(conn.output);
  REQUIRE(conn.status == 0);
  CHECK(contains(conn.output, "backend:  xnnpack"));
  CHECK(contains(conn.output, "runtime:  XNNPACK"));
  CHECK(contains(conn.output, "latency:  "));
  const auto cj = env.run("connect --workspace " + shell_quote(env.ws) + " --json", false);
  REQUIRE(cj.status == 0);
  CHECK(json_of(cj).at("latency_ms").get<double>() > 0);

  // detect-rules: the rule file, every test decided or honestly undetermined.
  const auto rules = env.run("detect-rules --workspace " + shell_quote(env.ws) + " --json", false);
  INFO(rules.output);
  INFO(env.stderr_text());
  REQUIRE(rules.status == 0);
  const nlohmann::json rj = json_of(rules);
  CHECK(rj.at("complete") == true);
  CHECK(rj.at("rules").size() == 3);
  const fs::path rules_file =
      fs::path(env.ws) / "fusion_rule_test" / "results" / "detected_fusion_rule.json";
  REQUIRE(fs::is_regular_file(rules_file));
  CHECK(rj.at("rules_file") == rules_file.string());
  (void)nnmeter::io::load_fusion_rules(rules_file.string());  // readable as rules

  // build-predictor: a package and its meta file, no renaming by hand.
  const auto built = env.run("build-predictor --workspace " + shell_quote(env.ws) +
                                 " --name e2e_cpu --json",
                             false);
  INFO(built.output);
  INFO(env.stderr_text());
  REQUIRE(built.status == 0);
  const nlohmann::json bj = json_of(built);
  CHECK(bj.at("complete") == true);
  REQUIRE(bj.at("kinds").size() == 4);
  for (const nlohmann::json& k : bj.at("kinds")) {
    CAPTURE(k.dump());
    CHECK(k.at("status") == "built");
    CHECK(k.at("samples").get<int>() >= 20);
    CHECK(k.at("holdout").at("n").get<int>() > 0);
  }
  // The context factor: 13 models (one per family) measured, each in the configured 2 layouts;
  // with four kinds and no fallback model for their other kernels, no model has a complete
  // prediction, so no factor is fitted, and the note says why.
  CHECK(bj.at("context").at("layouts") == 2);
  CHECK(bj.at("context").at("models_measured") == 13);
  CHECK(bj.at("context").at("scale").is_null());
  CHECK(contains(bj.at("context").at("note").get<std::string>(), "13 incomplete"));
  const std::string meta = bj.at("meta_file");
  CHECK(meta == (fs::path(env.ws) / "predictor_build" / "results" / "e2e_cpu.yaml").string());
  REQUIRE(fs::is_regular_file(meta));

  // Again: everything is in the store, nothing is measured twice.
  const auto again = env.run("build-predictor --workspace " + shell_quote(env.ws) +
                                 " --name e2e_cpu --json",
                             false);
  REQUIRE(again.status == 0);
  CHECK(json_of(again).at("measured") == 0);

  // register, list, predict.
  const auto reg = env.run("register --predictor " + shell_quote(meta));
  INFO(reg.output);
  REQUIRE(reg.status == 0);
  const auto list = env.run("--list-predictors");
  CHECK(list.output == "[Predictor] e2e_cpu: version=1.0\n");
  const auto pr = env.run("predict --predictor e2e_cpu --nnmeter-ir " + shell_quote(mobilenet) +
                              " --json",
                          false);
  INFO(pr.output);
  REQUIRE(pr.status == 0);
  const nlohmann::json pj = json_of(pr);
  CHECK(pj.at("latency_ms").get<double>() > 0);
  CHECK(pj.at("predictor").at("name") == "e2e_cpu");
  CHECK(pj.at("kernels_predicted").get<int>() > 0);
  // MobileNetV3 has kernels of kinds not built here (hswish, se, ...): counted, not guessed.
  CHECK(pj.at("kernels_without_model").get<int>() > 0);
  const auto text = env.run("predict --predictor e2e_cpu --nnmeter-ir " + shell_quote(mobilenet));
  CHECK(contains(text.output, "[RESULT] predict latency for " + mobilenet + ": "));

  // codegen: the registered predictor as a header; a program built with it predicts the same
  // model, bit for bit, with the package gone (it reads no file but the model).
  const std::string header = env.tmp.file("e2e_cpu.hpp");
  const auto cg = env.run("codegen --predictor e2e_cpu --out " + shell_quote(header));
  INFO(cg.output);
  REQUIRE(cg.status == 0);
  const nnmeter_test::command_result compiled =
      nnmeter_test::build_embedded_program(env.tmp.path(), header, "nnmeter_devices::e2e_cpu");
  INFO(compiled.output);
  REQUIRE(compiled.status == 0);
  const fs::path package = fs::path(env.ws) / "predictor_build" / "results" / "e2e_cpu";
  REQUIRE(fs::is_regular_file(package / "manifest.json"));
  fs::remove_all(package);
  const auto embedded = nnmeter_test::run_command(
      shell_quote(env.tmp.file("embedded")) + " " + shell_quote(mobilenet), true);
  INFO(embedded.output);
  REQUIRE(embedded.status == 0);
  std::size_t constexpr_checked = 0;
  CHECK(nnmeter_test::compare_with_predict_json(embedded.output, pj, constexpr_checked) == "");
  CHECK(constexpr_checked == pj.at("kernels_predicted").get<std::size_t>());
}
