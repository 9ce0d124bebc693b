// nnmeter register / unregister / --list-predictors / predict, end to end through the nnmeter
// program, with a hermetic registry (NNMETER_CONFIG_DIR).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/predictor_fixture.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;
using nnmeter_test::shell_quote;

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;
const std::string mobilenet = data_dir + "/mobilenetv3small_0.ir.json";

struct registry_env {
  nnmeter_test::temp_dir tmp{"nnmeter_cli_registry"};
  std::string config = tmp.file("config");

  nnmeter_test::command_result run(const std::string& args) const {
    return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                         shell_quote(NNMETER_CLI_PATH) + " " + args,
                                     true);
  }
  // The fixture predictor written as a package with its meta file; returns the meta's path.
  std::string write_package(const std::string& name = "pkg", const std::string& kinds =
                                                                 "[conv-bn-relu, fc]") const {
    const std::string dir = tmp.file(name);
    nnmeter::io::write_predictor_package(nnmeter_test::make_fixture_predictor(), dir);
    return tmp.write(name + ".yaml", "name: unit_cpu\nversion: \"1.2\"\ncategory: cpu\n"
                                     "package_location: " + name + "\nkernel_predictors: " +
                                         kinds + "\n");
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string ms_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace

TEST_CASE("registry: register, list, predict, unregister") {
  const registry_env env;
  const auto empty = env.run("--list-predictors");
  REQUIRE(empty.status == 0);
  CHECK(empty.output.empty());

  const std::string meta = env.write_package();
  const auto reg = env.run("register --predictor " + shell_quote(meta));
  INFO(reg.output);
  REQUIRE(reg.status == 0);
  CHECK(contains(reg.output, "Successfully registered predictor unit_cpu (version 1.2)"));
  CHECK(fs::is_regular_file(fs::path(env.config) / "registry.yaml"));
  const auto list = env.run("--list-predictors");
  CHECK(list.status == 0);
  CHECK(list.output == "[Predictor] unit_cpu: version=1.2\n");

  // The CLI's total is the library's prediction.
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  const nnmeter::prediction expected = p.predict(nnmeter::io::load_nnmeter_ir(mobilenet));
  REQUIRE(expected.latency_ms > 0);
  const auto pr = env.run("predict --predictor unit_cpu --nnmeter-ir " + shell_quote(mobilenet));
  INFO(pr.output);
  REQUIRE(pr.status == 0);
  CHECK(contains(pr.output, "[RESULT] predict latency for " + mobilenet + ": " +
                                ms_text(expected.latency_ms) + " ms\n"));
  CHECK(contains(pr.output, "predictor unit_cpu version 1.2 (test device, xnnpack): 60 kernels, " +
                                std::to_string(expected.unpredicted) + " without a model"));
  const auto js = env.run("predict --json --predictor unit_cpu --predictor-version 1.2 "
                          "--nnmeter-ir " + shell_quote(mobilenet) + " 2>/dev/null");
  REQUIRE(js.status == 0);
  const auto j = nlohmann::json::parse(js.output);
  CHECK(j["latency_ms"].get<double>() == expected.latency_ms);
  CHECK(j["kernels_total"].get<std::size_t>() == 60);
  CHECK(j["kernels_without_model"].get<std::size_t>() == expected.unpredicted);
  CHECK(j["predictor"]["name"] == "unit_cpu");
  REQUIRE(j["kernels"].size() == 60);
  double sum = 0;
  for (const auto& k : j["kernels"])
    if (k["status"] == "predicted") sum += k["latency_ms"].get<double>();
  CHECK(sum == doctest::Approx(expected.latency_ms).epsilon(1e-12));
  const auto verbose = env.run("predict --verbose --predictor unit_cpu --nnmeter-ir " +
                               shell_quote(mobilenet));
  CHECK(contains(verbose.output, "#\tkernel\tkind\tlatency (ms)\n1\t"));
  CHECK(contains(verbose.output, "\n60\t"));
  CHECK_FALSE(contains(verbose.output, "\n61\t"));
  CHECK(expected.unpredicted == 0);  // the fixture has a forest for every kind of the model

  // Registering again replaces the entry.
  const auto again = env.run("register --predictor " + shell_quote(meta));
  CHECK(contains(again.output, "replacing the earlier entry"));
  CHECK(env.run("--list-predictors").output == "[Predictor] unit_cpu: version=1.2\n");

  const auto wrong = env.run("predict --predictor unit_cpx --nnmeter-ir " + shell_quote(mobilenet));
  CHECK(wrong.status == 1);
  CHECK(contains(wrong.output, "nnmeter: error: predictor 'unit_cpx' is not registered (did you "
                               "mean 'unit_cpu'?); registered: unit_cpu 1.2"));

  const auto un = env.run("unregister --predictor unit_cpu");
  CHECK(un.status == 0);
  CHECK(contains(un.output, "Successfully unregistered predictor unit_cpu: 1 entry removed"));
  CHECK(env.run("--list-predictors").output.empty());
  const auto un2 = env.run("unregister --predictor unit_cpu");
  CHECK(un2.status == 1);
  CHECK(contains(un2.output, "predictor 'unit_cpu' is not registered"));
}

TEST_CASE("registry: packages that are not sound are refused, naming the meta file") {
  const registry_env env;
  SUBCASE("a listed kernel predictor the package does not have") {
    const std::string meta = env.write_package("pkg", "[conv-bn-relu, maxpool]");
    const auto r = env.run("register --predictor " + shell_quote(meta));
    CHECK(r.status == 1);
    CHECK(contains(r.output, meta + ": kernel predictor 'maxpool' is not in the package"));
  }
  SUBCASE("a package that is gone") {
    const std::string meta = env.tmp.write("ghost.yaml", "name: unit_cpu\nversion: '1.2'\n"
                                                         "package_location: nowhere\n"
                                                         "kernel_predictors: [fc]\n");
    const auto r = env.run("register --predictor " + shell_quote(meta));
    CHECK(r.status == 1);
    CHECK(contains(r.output, meta + ": its package does not load: "));
    CHECK(contains(r.output, "nowhere/manifest.json: no such file"));
  }
  SUBCASE("a damaged forest: the golden cases fail") {
    const std::string meta = env.write_package();
    const std::string conv = env.tmp.file("pkg/conv-bn-relu.json");
    nnmeter::forest f = nnmeter::io::load_xgboost_json(conv);
    f.split_value[1] += 1.0f;
    f.split_value[2] += 1.0f;
    std::ofstream(conv, std::ios::trunc) << nnmeter::io::write_xgboost_json(f);
    const auto r = env.run("register --predictor " + shell_quote(meta));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "fails 4 of its 9 golden cases; first: golden case 0 (conv-bn-relu)"));
  }
  SUBCASE("a truncated manifest") {
    const std::string meta = env.write_package();
    const std::string man = env.tmp.file("pkg/manifest.json");
    fs::resize_file(man, 40);
    const auto r = env.run("register --predictor " + shell_quote(meta));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "pkg/manifest.json"));
  }
  SUBCASE("meta files: broken YAML, unknown and missing keys name the file and line") {
    const std::string broken = env.tmp.write("b.yaml", "name: [unit\n");
    const auto b = env.run("register --predictor " + shell_quote(broken));
    CHECK(b.status == 1);
    CHECK(contains(b.output, broken + ":"));
    CHECK(contains(b.output, "not valid YAML"));
    const std::string unknown = env.tmp.write("u.yaml", "name: a\nversion: '1'\npackage_location: p\n"
                                                        "kernel_predictors: []\nkernels: 3\n");
    const auto u = env.run("register --predictor " + shell_quote(unknown));
    CHECK(contains(u.output, unknown + ":5: unknown key 'kernels'"));
    const std::string missing = env.tmp.write("m.yaml", "name: a\npackage_location: p\n");
    const auto m = env.run("register --predictor " + shell_quote(missing));
    CHECK(contains(m.output, missing + ":1: key 'version' is missing"));
    const auto none = env.run("register --predictor " + shell_quote(env.tmp.file("none.yaml")));
    CHECK(contains(none.output, "none.yaml: no such file"));
  }
  // Nothing was registered by any refusal.
  CHECK_FALSE(fs::exists(fs::path(env.config) / "registry.yaml"));
}

TEST_CASE("registry: a damaged registry or a vanished package is an error naming it") {
  const registry_env env;
  const std::string meta = env.write_package();
  REQUIRE(env.run("register --predictor " + shell_quote(meta)).status == 0);
  SUBCASE("the package was removed after registering") {
    fs::remove_all(env.tmp.file("pkg"));
    const auto r = env.run("predict --predictor unit_cpu --nnmeter-ir " + shell_quote(mobilenet));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "registry.yaml: predictor 'unit_cpu' version 1.2: its package "
                             "cannot be loaded"));
    CHECK_FALSE(contains(r.output, "[RESULT]"));
  }
  SUBCASE("registry.yaml damaged by hand") {
    const std::string file = env.config + "/registry.yaml";
    std::ofstream(file, std::ios::trunc) << "predictors:\n  - name: x\n    versio: 1\n";
    const auto r = env.run("--list-predictors");
    CHECK(r.status == 1);
    CHECK(contains(r.output, file + ":3: unknown key 'versio'"));
  }
}

TEST_CASE("registry: a default that is not registered, or malformed, is an error naming the file") {
  const registry_env env;
  const std::string meta = env.write_package();
  REQUIRE(env.run("register --predictor " + shell_quote(meta)).status == 0);
  const std::string file = env.config + "/registry.yaml";
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  SUBCASE("a default naming a registered predictor: predict uses it and says so") {
    std::ofstream(file, std::ios::trunc) << text << "default:\n  name: unit_cpu\n  version: \"1.2\"\n";
    CHECK(env.run("--list-predictors").output == "[Predictor] unit_cpu: version=1.2 (default)\n");
    const auto r = env.run("predict --nnmeter-ir " + shell_quote(mobilenet));
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(contains(r.output, "predictor unit_cpu version 1.2 (test device, xnnpack; the registry's "
                             "default)"));
  }
  SUBCASE("a default that is not registered") {
    std::ofstream(file, std::ios::trunc) << text << "default:\n  name: other\n  version: \"1.0\"\n";
    const auto r = env.run("predict --nnmeter-ir " + shell_quote(mobilenet));
    CHECK(r.status == 1);
    CHECK(contains(r.output, file + ":"));
    CHECK(contains(r.output, "default: predictor 'other' version 1.0 is not among the registered "
                             "predictors"));
  }
  SUBCASE("a default with an unknown key") {
    std::ofstream(file, std::ios::trunc) << text << "default:\n  name: unit_cpu\n  verion: 1\n";
    const auto r = env.run("--list-predictors");
    CHECK(r.status == 1);
    CHECK(contains(r.output, "default: unknown key 'verion'"));
  }
}
