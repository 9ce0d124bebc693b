// nnmeter codegen through the nnmeter program: register -> predict a model -> codegen -> compile
// the header -> the embedded predictor predicts what `nnmeter predict` printed, bit for bit; and
// the errors, each naming the file. Hermetic registry (NNMETER_CONFIG_DIR).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/read_file.hpp"
#include "support/embedded_program.hpp"
#include "support/predictor_fixture.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nnmeter_test::shell_quote;

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;
const std::string mobilenet = data_dir + "/mobilenetv3small_0.ir.json";

struct codegen_env {
  nnmeter_test::temp_dir tmp{"nnmeter_cli_codegen"};
  std::string config = tmp.file("config");

  nnmeter_test::command_result run(const std::string& args) const {
    return nnmeter_test::run_command("NNMETER_CONFIG_DIR=" + shell_quote(config) + " " +
                                         shell_quote(NNMETER_CLI_PATH) + " " + args,
                                     true);
  }
  // The fixture predictor as package `name` with its meta file; returns the meta's path.
  std::string write_package(const std::string& name = "pkg") const {
    nnmeter::io::write_predictor_package(nnmeter_test::make_fixture_predictor(), tmp.file(name));
    return tmp.write(name + ".yaml",
                     "name: unit_cpu\nversion: \"1.2\"\ncategory: cpu\n"
                     "package_location: " +
                         name + "\nkernel_predictors: [conv-bn-relu, fc]\n");
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

using nnmeter_test::read_file;

}  // namespace

TEST_CASE(
    "codegen: register, predict, codegen, compile: the embedded predictor predicts the same") {
  const codegen_env env;
  const std::string meta = env.write_package();
  REQUIRE(env.run("register --predictor " + shell_quote(meta)).status == 0);
  REQUIRE(env.run("--list-predictors").output == "[Predictor] unit_cpu: version=1.2\n");
  const auto pr = env.run("predict --json --predictor unit_cpu --nnmeter-ir " +
                          shell_quote(mobilenet) + " 2>/dev/null");
  REQUIRE(pr.status == 0);
  const nlohmann::json predicted = nlohmann::json::parse(pr.output);

  const std::string header = env.tmp.file("out/unit_cpu.hpp");
  const auto cg = env.run("codegen --predictor unit_cpu --out " + shell_quote(header));
  INFO(cg.output);
  REQUIRE(cg.status == 0);
  CHECK(contains(cg.output, "Wrote " + header + ": predictor unit_cpu version 1.2, "));
  const std::string text = read_file(header);
  CHECK(contains(text, "// source:         registered predictor unit_cpu, version 1.2\n"));
  CHECK_FALSE(contains(text, env.tmp.path()));  // no machine path in the header

  const nnmeter_test::command_result built =
      nnmeter_test::build_embedded_program(env.tmp.path(), header, "nnmeter_devices::unit_cpu");
  INFO(built.output);
  REQUIRE(built.status == 0);
  fs::remove_all(env.tmp.file("pkg"));  // the program reads no package
  const auto run = nnmeter_test::run_command(
      shell_quote(env.tmp.file("embedded")) + " " + shell_quote(mobilenet), true);
  INFO(run.output);
  REQUIRE(run.status == 0);

  // The program's kernels and total equal `nnmeter predict --json`'s, bit for bit.
  std::size_t constexpr_checked = 0;
  CHECK(nnmeter_test::compare_with_predict_json(run.output, predicted, constexpr_checked) == "");
  // The fixture's forests are all constexpr: every kernel's constexpr value was checked.
  CHECK(constexpr_checked == predicted["kernels"].size());
}

TEST_CASE("codegen: a package folder, options, and the same header as from the registry") {
  const codegen_env env;
  const std::string meta = env.write_package();
  REQUIRE(env.run("register --predictor " + shell_quote(meta)).status == 0);
  const auto a = env.run("codegen --predictor unit_cpu --predictor-version 1.2 --out " +
                         shell_quote(env.tmp.file("a.hpp")));
  REQUIRE(a.status == 0);
  const auto b = env.run("codegen --package " + shell_quote(env.tmp.file("pkg") + "/") + " --out " +
                         shell_quote(env.tmp.file("b.hpp")));
  INFO(b.output);
  REQUIRE(b.status == 0);
  std::string ta = read_file(env.tmp.file("a.hpp"));
  std::string tb = read_file(env.tmp.file("b.hpp"));
  CHECK(contains(tb, "// source:         package pkg\n"));
  // Apart from the source line, the two headers are the same bytes.
  const auto drop_source = [](std::string& t) {
    const std::size_t s = t.find("// source:");
    t.erase(s, t.find('\n', s) - s);
  };
  drop_source(ta);
  drop_source(tb);
  CHECK(ta == tb);

  const auto c = env.run("codegen --package " + shell_quote(env.tmp.file("pkg")) +
                         " --namespace dev::cpu --include-guard DEV_CPU_HPP --static-asserts 0"
                         " --constexpr-nodes 0 --out " +
                         shell_quote(env.tmp.file("c.hpp")));
  REQUIRE(c.status == 0);
  const std::string tc = read_file(env.tmp.file("c.hpp"));
  CHECK(contains(tc, "namespace dev::cpu {"));
  CHECK(contains(tc, "#ifndef DEV_CPU_HPP"));
  CHECK(contains(tc, "namespace blobs {"));
  CHECK_FALSE(contains(tc, "static_assert(static_cast<float>"));
}

TEST_CASE("codegen: bad input is an error naming the file, and writes nothing") {
  const codegen_env env;
  const std::string out = env.tmp.file("out.hpp");
  SUBCASE("neither a predictor nor a package") {
    const auto r = env.run("codegen --out " + shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "nnmeter: error: codegen: give --predictor NAME or --package DIR"));
  }
  SUBCASE("--out is required") {
    const auto r = env.run("codegen --predictor unit_cpu");
    CHECK(r.status != 0);
    CHECK(contains(r.output, "--out is required"));
  }
  SUBCASE("a predictor that is not registered") {
    REQUIRE(env.run("register --predictor " + shell_quote(env.write_package())).status == 0);
    const auto r = env.run("codegen --predictor unit_cpx --out " + shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "predictor 'unit_cpx' is not registered (did you mean 'unit_cpu'?)"));
    const auto v =
        env.run("codegen --predictor unit_cpu --predictor-version 9 --out " + shell_quote(out));
    CHECK(v.status == 1);
    CHECK(contains(v.output, "unit_cpu"));
    CHECK(contains(v.output, "9"));
  }
  SUBCASE("a registered package that is gone") {
    REQUIRE(env.run("register --predictor " + shell_quote(env.write_package())).status == 0);
    fs::remove_all(env.tmp.file("pkg"));
    const auto r = env.run("codegen --predictor unit_cpu --out " + shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output,
                   "registry.yaml: predictor 'unit_cpu' version 1.2: its package "
                   "cannot be loaded"));
  }
  SUBCASE("a missing package folder") {
    const auto r = env.run("codegen --package " + shell_quote(env.tmp.file("nowhere")) + " --out " +
                           shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "nowhere/manifest.json: no such file"));
  }
  SUBCASE("a corrupt package: a truncated forest file") {
    env.write_package();
    const std::string conv = env.tmp.file("pkg/conv-bn-relu.json");
    fs::resize_file(conv, fs::file_size(conv) / 2);
    const auto r = env.run("codegen --package " + shell_quote(env.tmp.file("pkg")) + " --out " +
                           shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output, "pkg/conv-bn-relu.json"));
  }
  SUBCASE("a package whose forest was altered: the golden cases fail") {
    env.write_package();
    const std::string conv = env.tmp.file("pkg/conv-bn-relu.json");
    nnmeter::forest f = nnmeter::io::load_xgboost_json(conv);
    f.split_value[1] += 1.0f;
    f.split_value[2] += 1.0f;
    std::ofstream(conv, std::ios::trunc) << nnmeter::io::write_xgboost_json(f);
    const auto r = env.run("codegen --package " + shell_quote(env.tmp.file("pkg")) + " --out " +
                           shell_quote(out));
    CHECK(r.status == 1);
    CHECK(contains(r.output, env.tmp.file("pkg") + ": codegen of predictor 'unit_cpu': verify() "
                                                   "fails: golden case 0 (conv-bn-relu)"));
  }
  SUBCASE("an output path that cannot be written") {
    env.write_package();
    const std::string blocker = env.tmp.write("file", "x");
    const auto r = env.run("codegen --package " + shell_quote(env.tmp.file("pkg")) + " --out " +
                           shell_quote(blocker + "/out.hpp"));
    CHECK(r.status == 1);
    CHECK(contains(r.output, blocker + "/out.hpp: cannot create its folder"));
    const auto d = env.run("codegen --package " + shell_quote(env.tmp.file("pkg")) + " --out " +
                           shell_quote(env.tmp.file("pkg")));
    CHECK(d.status == 1);
    CHECK(contains(d.output, env.tmp.file("pkg") + ": is a directory, not a file"));
  }
  SUBCASE("a write that fails half-way (a file size limit, as a full disk would)") {
    env.write_package();
    const std::string old = env.tmp.write("old.hpp", "// the previous header\n");
    // RLIMIT_FSIZE of 8 blocks with SIGXFSZ ignored: write() fails with EFBIG after a few KB.
    const auto r = nnmeter_test::run_command(
        "sh -c \"trap '' XFSZ; ulimit -f 8; exec " + shell_quote(NNMETER_CLI_PATH) +
            " codegen --package " + shell_quote(env.tmp.file("pkg")) + " --out " +
            shell_quote(old) + "\"",
        true);
    CHECK(r.status == 1);
    CHECK(contains(r.output, old + ": cannot write the file ("));
    CHECK(contains(r.output, "); it is unchanged"));
    CHECK(read_file(old) == "// the previous header\n");
    for (const auto& e : fs::directory_iterator(env.tmp.path()))
      CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  }
  SUBCASE("bad options, found before the package is read") {
    const auto n = env.run("codegen --package " + shell_quote(env.tmp.file("nowhere")) +
                           " --namespace std::x --out " + shell_quote(out));
    CHECK(n.status == 1);
    CHECK(contains(n.output, "--namespace: namespace 'std::x'"));
    const auto g = env.run("codegen --package " + shell_quote(env.tmp.file("nowhere")) +
                           " --include-guard 1X --out " + shell_quote(out));
    CHECK(g.status == 1);
    CHECK(contains(g.output, "--include-guard: include guard '1X'"));
  }
  CHECK_FALSE(fs::exists(out));
}
