// nnmeter create and nnmeter store, end to end through the nnmeter program.
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
