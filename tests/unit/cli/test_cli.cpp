// End-to-end tests of the nnmeter command-line tool.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "support/run_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using nnmeter_test::run_command;
using nnmeter_test::shell_quote;

const std::string cli = shell_quote(NNMETER_CLI_PATH);
const std::string data_dir = NNMETER_TEST_DATA_DIR;

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/nnmeter_cli_test_" + name;
  std::ofstream(path) << content;
  return path;
}

}  // namespace

TEST_CASE("--version and --help") {
  const auto v = run_command(cli + " --version");
  CHECK(v.status == 0);
  CHECK(v.output.find(std::string("nnmeter ") + nnmeter::version_string) != std::string::npos);
  const auto h = run_command(cli + " --help");
  CHECK(h.status == 0);
  CHECK(h.output.find("kernels") != std::string::npos);
  const auto kh = run_command(cli + " kernels --help");
  CHECK(kh.status == 0);
  CHECK(kh.output.find("--nnmeter-ir") != std::string::npos);
  CHECK(kh.output.find("--rules") != std::string::npos);
  CHECK(kh.output.find("--json") != std::string::npos);
}

TEST_CASE("no subcommand or a missing required option is a usage error") {
  CHECK(run_command(cli, true).status != 0);
  const auto r = run_command(cli + " kernels", true);
  CHECK(r.status != 0);
  CHECK(r.output.find("--nnmeter-ir") != std::string::npos);
}

TEST_CASE("kernels: text output lists every kernel") {
  const auto r = run_command(cli + " kernels --nnmeter-ir " +
                             shell_quote(data_dir + "/mobilenetv3small_0.ir.json"));
  REQUIRE(r.status == 0);
  CHECK(r.output.find("302 nodes, 60 kernels") != std::string::npos);
  CHECK(r.output.find("conv-bn-hswish#55") != std::string::npos);
  CHECK(r.output.find("fc#114") != std::string::npos);
}

TEST_CASE("kernels: bad input is an error naming the file and node, exit status 1") {
  SUBCASE("missing file") {
    const auto r = run_command(cli + " kernels --nnmeter-ir /nonexistent/model.json", true);
    CHECK(r.status == 1);
    CHECK(r.output.find("/nonexistent/model.json: no such file") != std::string::npos);
  }
  SUBCASE("unknown op type, then allowed") {
    const std::string path = temp_file(
        "unknown_op.json",
        R"({"x": {"inbounds": [], "attr": {"type": "Warp9", "output_shape": [[1, 4]]}}})");
    const auto r = run_command(cli + " kernels --nnmeter-ir " + shell_quote(path), true);
    CHECK(r.status == 1);
    CHECK(r.output.find("node 'x'") != std::string::npos);
    CHECK(r.output.find("Warp9") != std::string::npos);
    const auto ok =
        run_command(cli + " kernels --allow-unknown-ops --json --nnmeter-ir " + shell_quote(path));
    REQUIRE(ok.status == 0);
    const auto j = nlohmann::json::parse(ok.output);
    CHECK(j["kernels"].size() == 1);
    CHECK(j["kernels"][0]["op"] == "Warp9");
    CHECK(j["kernels"][0]["kind"] == "other");
    std::remove(path.c_str());
  }
  SUBCASE("malformed rules file") {
    const std::string path = temp_file("bad_rules.json", R"({"BF_conv": {"obey": true}})");
    const auto r = run_command(cli + " kernels --nnmeter-ir " +
                                   shell_quote(data_dir + "/mobilenetv3small_0.ir.json") +
                                   " --rules " + shell_quote(path),
                               true);
    CHECK(r.status == 1);
    CHECK(r.output.find("BF_conv") != std::string::npos);
    std::remove(path.c_str());
  }
}
