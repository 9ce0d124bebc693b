// `nnmeter evaluate` end to end on this machine's CPU (XNNPACK), on a tiny budget: zoo models
// and a folder of models measured whole, predicted, reported; a rerun resumes from the profile
// store without measuring again; bad requests refused before anything is measured. The
// accuracy figures themselves are a benchmark (docs/accuracy.md), not checked here.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/read_file.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using nnmeter_test::shell_quote;

namespace {

const std::string package =
    std::string(NNMETER_SOURCE_DIR) + "/examples/03_embedded_predictor/synthetic_cpu";
// The smallest protocol that still has two blocks (a ground-truth CV).
const std::string tiny = " --runs 2 --blocks 2 --passes 1 --warmup 0";

nnmeter_test::command_result nnmeter(const std::string& args) {
  return nnmeter_test::run_command(shell_quote(NNMETER_CLI_PATH) + " " + args, true);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("nnmeter evaluate: zoo models measured, predicted, reported, then resumed") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_cli");
  const std::string out = tmp.file("report");
  const std::string cmd = "evaluate --package " + shell_quote(package) +
                          " --zoo mobilenetv3:1 --zoo nasbench201:1 --out " + shell_quote(out) +
                          tiny;
  const auto r = nnmeter(cmd);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(contains(r.output, "[1/2] mobilenetv3_0000: measured "));
  CHECK(contains(r.output, "report: "));
  for (const char* f : {"report.md", "models.csv", "kernels.csv", "report.json",
                        "profile_store.sqlite", "plots/all.svg", "plots/family_mobilenetv3.svg",
                        "plots/family_nasbench201.svg"}) {
    CAPTURE(f);
    CHECK(fs::exists(fs::path(out) / f));
  }
  const nlohmann::json j = nlohmann::json::parse(nnmeter_test::read_file(fs::path(out) / "report.json"));
  CHECK(j["predictor"]["name"] == "synthetic_cpu");
  CHECK(j["backend"] == "xnnpack");
  CHECK(j["protocol"]["invokes_per_block"] == 2);
  CHECK(j["measuring"]["measured"] == 2);
  REQUIRE(j["models"].size() == 2);
  for (const auto& m : j["models"]) {
    CAPTURE(m.dump());
    CHECK(m["measured_ms"].get<double>() > 0);
    CHECK(m["predicted_ms"].get<double>() > 0);
    CHECK(m["ground_truth_cv"].is_number());
    // The example predictor has no forest for nasbench201's avgpool: incomplete, not a number.
    if (m["name"] == "nasbench201_0000") {
      CHECK(m["outcome"] == "incomplete");
      CHECK(m["relative_error"].is_null());
      CHECK(contains(m["error"].get<std::string>(), "avgpool"));
    } else {
      CHECK(m["outcome"] == "evaluated");
      CHECK(m["relative_error"].is_number());
    }
  }
  CHECK(j["overall"]["evaluated"] == 1);
  CHECK(j["overall"]["incomplete"] == 1);

  // The rerun measures nothing.
  const auto again = nnmeter(cmd + " --json");
  INFO(again.output);
  REQUIRE(again.status == 0);
  CHECK(contains(again.output, "mobilenetv3_0000: measured "));
  CHECK(contains(again.output, " (stored)"));
  const nlohmann::json j2 = nlohmann::json::parse(nnmeter_test::read_file(fs::path(out) / "report.json"));
  CHECK(j2["measuring"]["measured"] == 0);
  CHECK(j2["measuring"]["from_store"] == 2);
  CHECK(j2["models"][0]["measured_ms"] == j["models"][0]["measured_ms"]);
}

TEST_CASE("nnmeter evaluate --models: a folder written by nnmeter zoo, families from zoo.csv") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_dir");
  const std::string models = tmp.file("models");
  const auto z = nnmeter("zoo --family mobilenetv1 --count 2 --seed 3 --format ir --out " +
                         shell_quote(models));
  INFO(z.output);
  REQUIRE(z.status == 0);
  const std::string out = tmp.file("report");
  const auto r = nnmeter("evaluate --package " + shell_quote(package) + " --models " +
                         shell_quote(models) + " --out " + shell_quote(out) + tiny);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string csv = nnmeter_test::read_file(fs::path(out) / "models.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);
  CHECK(contains(csv, "\nmobilenetv1_0000,mobilenetv1,"));
  CHECK(contains(csv, "\nmobilenetv1_0001,mobilenetv1,"));
}

TEST_CASE("nnmeter evaluate: bad requests are refused before anything is measured") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_bad");
  const std::string out = " --out " + shell_quote(tmp.file("r"));
  const std::string pkg = " --package " + shell_quote(package);
  struct refusal {
    std::string args;
    std::string says;
  };
  const refusal cases[] = {
      {pkg + out, "--zoo FAMILY:COUNT and/or --models DIR"},
      {pkg + " --zoo resnet" + out, "expected FAMILY:COUNT"},
      {pkg + " --zoo resnet:0" + out, "expected FAMILY:COUNT"},
      {pkg + " --zoo lenet:2" + out, "'lenet' is not a family"},
      {pkg + " --models " + shell_quote(tmp.file("nowhere")) + out, "not a folder"},
      {" --package " + shell_quote(tmp.file("nopkg")) + " --zoo resnet:1" + out, "nopkg"},
      {pkg + " --zoo resnet:1 --backend nosuch" + out, "nosuch"},
  };
  for (const refusal& c : cases) {
    CAPTURE(c.args);
    const auto r = nnmeter("evaluate" + c.args);
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(contains(r.output, c.says));
    CHECK_FALSE(fs::exists(fs::path(tmp.file("r")) / "profile_store.sqlite"));
  }
}
