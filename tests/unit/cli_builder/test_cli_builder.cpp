// nnmeter create, store, priors and the refusals of connect / detect-rules / build-predictor,
// end to end through the nnmeter program (the measuring runs are in cli_builder_e2e).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

nnmeter_test::measured_run nnmeter(std::vector<std::string> args) {
  args.insert(args.begin(), NNMETER_CLI_PATH);
  return nnmeter_test::run_measured(args, 60);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("cli create: the three kinds of workspace, refusals and --force") {
  nnmeter_test::temp_dir tmp("nnmeter_cli_builder");
  const std::string ws = tmp.file("ws");
  const auto r = nnmeter({"create", "--xnnpack-workspace", ws});
  INFO(r.output);
  REQUIRE(r.exit_status == 0);
  CHECK(contains(r.output, "Workspace " + ws + " for the xnnpack backend has been created."));
  for (const char* f : {"backend_config.yaml", "ruletest_config.yaml", "predictorbuild_config.yaml"})
    CHECK(fs::is_regular_file(fs::path(ws) / "configs" / f));

  const auto again = nnmeter({"create", "--xnnpack-workspace", ws});
  CHECK(again.exit_status == 1);
  CHECK(contains(again.output, "nnmeter: error: " + ws + "/configs/backend_config.yaml: exists"));
  const auto force = nnmeter({"create", "--tflite-workspace", ws, "--force"});
  CHECK(force.exit_status == 0);
  CHECK(contains(force.output, "for the tflite_cpu backend has been created (config files rewritten)"));

  const auto custom = nnmeter({"create", "--customized-workspace", tmp.file("c"), "--backend", "xnnpack"});
  CHECK(custom.exit_status == 0);
  const auto typo = nnmeter({"create", "--customized-workspace", tmp.file("d"), "--backend", "xnnpak"});
  CHECK(typo.exit_status == 1);
  CHECK(contains(typo.output, "unknown backend 'xnnpak' (did you mean 'xnnpack'?)"));
  CHECK_FALSE(fs::exists(tmp.file("d")));
  const auto no_backend = nnmeter({"create", "--customized-workspace", tmp.file("e")});
  CHECK(no_backend.exit_status == 1);
  CHECK(contains(no_backend.output, "--customized-workspace needs --backend NAME"));
  const auto stray = nnmeter({"create", "--xnnpack-workspace", tmp.file("f"), "--backend", "xnnpack"});
  CHECK(stray.exit_status == 1);
  const auto none = nnmeter({"create"});
  CHECK(none.exit_status == 1);
  CHECK(contains(none.output, "give exactly one of"));
  const auto two = nnmeter({"create", "--xnnpack-workspace", tmp.file("g"), "--tflite-workspace", tmp.file("h")});
  CHECK(two.exit_status != 0);
  CHECK_FALSE(fs::exists(tmp.file("g")));
}

TEST_CASE("cli store: empty workspace, JSON, missing workspace, damaged store") {
  nnmeter_test::temp_dir tmp("nnmeter_cli_builder");
  const std::string ws = tmp.file("ws");
  REQUIRE(nnmeter({"create", "--xnnpack-workspace", ws}).exit_status == 0);
  const auto empty = nnmeter({"store", "--workspace", ws});
  CHECK(empty.exit_status == 0);
  CHECK(contains(empty.output, ws + "/profile_store.sqlite: no measurements yet"));
  const auto j = nnmeter({"store", "--workspace", ws, "--json"});
  REQUIRE(j.exit_status == 0);
  const nlohmann::json doc = nlohmann::json::parse(j.output);
  CHECK(doc.at("measured") == 0);
  CHECK(doc.at("kinds").empty());
  const auto csv = nnmeter({"store", "--workspace", ws, "--csv", tmp.file("out.csv")});
  CHECK(csv.exit_status == 1);
  CHECK(contains(csv.output, "nothing to export"));

  const auto missing = nnmeter({"store", "--workspace", tmp.file("nope")});
  CHECK(missing.exit_status == 1);
  CHECK(contains(missing.output, "nnmeter: error: " + tmp.file("nope") + ": no such workspace"));
  const auto no_flag = nnmeter({"store"});
  CHECK(no_flag.exit_status != 0);

  tmp.write("ws/profile_store.sqlite", std::string(5000, 'z'));
  const auto bad = nnmeter({"store", "--workspace", ws});
  CHECK(bad.exit_status == 1);
  CHECK(contains(bad.output, ws + "/profile_store.sqlite: is not an SQLite database"));
}

TEST_CASE("cli connect, detect-rules, build-predictor: refusals name the problem, nothing is measured") {
  nnmeter_test::temp_dir tmp("nnmeter_cli_builder");
  const std::string ws = tmp.file("ws");
  REQUIRE(nnmeter({"create", "--xnnpack-workspace", ws}).exit_status == 0);
  for (const char* verb : {"connect", "detect-rules", "build-predictor"}) {
    CAPTURE(verb);
    const auto missing = nnmeter({verb, "--workspace", tmp.file("nope")});
    CHECK(missing.exit_status == 1);
    CHECK(contains(missing.output, tmp.file("nope") + ": no such workspace"));
    const auto backend = nnmeter({verb, "--workspace", ws, "--backend", "xnnpak"});
    CHECK(backend.exit_status == 1);
    CHECK(contains(backend.output, "unknown backend 'xnnpak'"));
  }
  const auto no_rules = nnmeter({"build-predictor", "--workspace", ws});
  CHECK(no_rules.exit_status == 1);
  CHECK(contains(no_rules.output, ws + "/fusion_rule_test/results/detected_fusion_rule.json: no "
                                       "detected fusion rules: run `nnmeter detect-rules"));
  const auto bad_rules = nnmeter({"build-predictor", "--workspace", ws, "--rules", tmp.file("r.json")});
  CHECK(bad_rules.exit_status == 1);
  CHECK(contains(bad_rules.output, "--rules " + tmp.file("r.json") + ": no such file"));
  const std::string rules = std::string(NNMETER_TEST_DATA_DIR) + "/rule_tflite_cpu.json";
  const auto kind = nnmeter({"build-predictor", "--workspace", ws, "--rules", rules, "--kernels",
                             "conv-bn-relu,convolution"});
  CHECK(kind.exit_status == 1);
  CHECK(contains(kind.output, "--kernels: unknown kernel kind 'convolution' (kinds: conv-bn-relu,"));
  const auto twice = nnmeter({"build-predictor", "--workspace", ws, "--rules", rules, "--kernels",
                              "fc,fc"});
  CHECK(twice.exit_status == 1);
  CHECK(contains(twice.output, "'fc' is given twice"));
  const auto budget = nnmeter({"build-predictor", "--workspace", ws, "--budget-minutes", "-1"});
  CHECK(budget.exit_status != 0);
  CHECK(contains(budget.output, "--budget-minutes"));
  const auto name = nnmeter({"build-predictor", "--workspace", ws, "--rules", rules, "--name", "a b"});
  CHECK(name.exit_status == 1);
  CHECK(contains(name.output, "may hold only letters, digits"));
  // A broken config is named with its line before the backend runs anything.
  tmp.write("ws/configs/backend_config.yaml", "BACKEND: xnnpack\nPROTOCOL:\n  RUNZ: 3\n");
  const auto cfg = nnmeter({"connect", "--workspace", ws});
  CHECK(cfg.exit_status == 1);
  CHECK(contains(cfg.output, "backend_config.yaml:3:"));
  CHECK(contains(cfg.output, "RUNZ"));
  CHECK_FALSE(fs::exists(fs::path(ws) / "profile_store.sqlite"));
  CHECK_FALSE(fs::exists(fs::path(ws) / "predictor_build" / "results"));
}

TEST_CASE("cli priors: nn-Meter's tables from a folder of models; unreadable models are named") {
  nnmeter_test::temp_dir tmp("nnmeter_cli_priors");
  fs::create_directories(tmp.file("models"));
  fs::copy_file(std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json",
                tmp.file("models/mbv3.json"));
  const auto r = nnmeter({"priors", "--models", tmp.file("models"), "--out", tmp.file("priors")});
  INFO(r.output);
  REQUIRE(r.exit_status == 0);
  // nn-Meter lists 24 conv, 11 dwconv and 1 fc kernels for this model (docs/builder.md).
  CHECK(contains(r.output, "1 models: 24 conv, 11 dwconv, 1 fc, "));
  for (const char* f : {"conv.csv", "dwconv.csv", "fc.csv", "pooling.csv"})
    CHECK(fs::is_regular_file(fs::path(tmp.file("priors")) / f));
  const auto j = nnmeter({"priors", "--models", tmp.file("models"), "--out", tmp.file("p2"), "--json"});
  REQUIRE(j.exit_status == 0);
  const nlohmann::json doc = nlohmann::json::parse(j.output);
  CHECK(doc.at("conv") == 24);
  CHECK(doc.at("dwconv") == 11);

  tmp.write("models/zz_broken.json", "{\"a\": ");
  const auto broken = nnmeter({"priors", "--models", tmp.file("models"), "--out", tmp.file("p3")});
  CHECK(broken.exit_status == 1);
  CHECK(contains(broken.output, "zz_broken.json"));
  CHECK_FALSE(fs::exists(tmp.file("p3")));
  const auto none = nnmeter({"priors", "--models", tmp.file("nope"), "--out", tmp.file("p4")});
  CHECK(none.exit_status == 1);
  CHECK(contains(none.output, "--models " + tmp.file("nope") + ": not a folder"));
  fs::create_directories(tmp.file("empty"));
  const auto empty = nnmeter({"priors", "--models", tmp.file("empty"), "--out", tmp.file("p5")});
  CHECK(empty.exit_status == 1);
  CHECK(contains(empty.output, "no .onnx or nn-Meter IR .json file"));
}
