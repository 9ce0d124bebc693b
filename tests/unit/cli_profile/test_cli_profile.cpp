// End-to-end tests of `nnmeter profile` (tools/cli/profile.cpp): the built CLI measures real
// models through the xnnpack backend.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "support/run_command.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace {

using nnmeter_test::run_command;
using nnmeter_test::shell_quote;

const std::string cli = shell_quote(NNMETER_CLI_PATH);
// Short protocol for tests: 1 pass x 2 blocks x 5 runs after 0.01 s of warm-up.
const std::string quick = " --blocks 2 --runs 5 --warmup 0.01 --passes 1";

std::string temp_file_path(const std::string& name) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
         "/nnmeter_cli_profile_test_" + std::to_string(getpid()) + "_" + name;
}

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = temp_file_path(name);
  std::ofstream(path) << content;
  return path;
}

// A small MobileNetV3-like model built in code and written as nn-Meter IR: conv-bn-hswish,
// an inverted residual block with squeeze-and-excitation, global pooling, fc.
// (nn-Meter's own tests/data/mobilenetv3small_0.ir.json is profiled once, below: its declared
// shapes need the reader's repairs.)
std::string small_model_path() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 64, 64, 3}, nnmeter::dtype::f32, "input");
  x = b.hswish(b.bn(b.conv(x, 16, 3, 2)));
  auto y = b.relu(b.bn(b.conv(x, 48, 1)));
  y = b.relu(b.bn(b.dwconv(y, 3)));
  y = b.se(y);
  y = b.bn(b.conv(y, 16, 1));
  x = b.add(x, y);
  x = b.fc(b.global_avgpool(x), 10);
  return temp_file("small_mobilenet.json", nnmeter::io::write_nnmeter_ir(std::move(b).build()));
}
const std::string small_path = small_model_path();
const std::string mobilenet = shell_quote(small_path);

}  // namespace

TEST_CASE("profile --help lists the protocol options") {
  const auto h = run_command(cli + " profile --help");
  REQUIRE(h.status == 0);
  for (const char* opt : {"--backend", "--nnmeter-ir", "--runs", "--blocks", "--passes",
                          "--warmup", "--threads", "--seed", "--clock", "--reference", "--json"})
    CHECK_MESSAGE(h.output.find(opt) != std::string::npos, opt);
}

TEST_CASE("profile --json: structure, latency is the minimum statistic") {
  const auto r = run_command(cli + " profile --backend xnnpack --json --nnmeter-ir " + mobilenet +
                             quick);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto j = nlohmann::json::parse(r.output);
  for (const char* key : {"latency_ms", "statistics", "protocol", "backend", "device", "model"})
    CHECK_MESSAGE(j.contains(key), key);
  const double latency = j["latency_ms"].get<double>();
  CHECK(latency > 0);
  const auto& s = j["statistics"];
  CHECK(s["min_ms"].get<double>() == latency);
  CHECK(s["p10_ms"].get<double>() >= latency);
  CHECK(s["median_ms"].get<double>() >= s["p10_ms"].get<double>());
  CHECK(s["max_ms"].get<double>() >= s["median_ms"].get<double>());
  CHECK(s["mean_ms"].get<double>() >= latency);
  CHECK(s["cv"].get<double>() >= 0);
  CHECK(s["runs"] == 10);
  const auto& p = j["protocol"];
  CHECK(p["threads"] == 1);
  CHECK(p["blocks"] == 2);
  CHECK(p["invokes_per_block"] == 5);
  CHECK(p["passes"] == 1);
  CHECK(p["warmup_seconds"].get<double>() == doctest::Approx(0.01));
  CHECK(p["normalise_by_reference"] == false);
  CHECK(p["clock"] == "steady");
  CHECK(j["backend"] == "xnnpack");
  CHECK_FALSE(j["device"].get<std::string>().empty());
  CHECK(j["model"]["path"] == small_path);
  CHECK(j["model"]["type"] == "nnmeter-ir");
  CHECK(j["model"]["nodes"] == nnmeter::io::load_nnmeter_ir(small_path).num_nodes());
  CHECK(j["pass_min_ms"].size() == 1);
  CHECK(j["blocks"].size() == 2);
  CHECK(j["reference_ms"].is_null());
}

TEST_CASE("profile: text output and the reference kernel") {
  const auto r = run_command(cli + " profile --reference --nnmeter-ir " + mobilenet + quick);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.find("backend     xnnpack on ") != std::string::npos);
  CHECK(r.output.find("(minimum of 10 timed runs)") != std::string::npos);
  CHECK(r.output.find("statistics  min ") != std::string::npos);
  CHECK(r.output.find("reference   ") != std::string::npos);
  CHECK(r.output.find("1 passes x 2 blocks x 5 runs, steady clock") != std::string::npos);

  const auto j = nlohmann::json::parse(
      run_command(cli + " profile --reference --json --nnmeter-ir " + mobilenet + quick).output);
  CHECK(j["protocol"]["normalise_by_reference"] == true);
  REQUIRE(j["reference_ms"].is_number());
  CHECK(j["reference_ms"].get<double>() > 0);
  CHECK(j["normalised"].get<double>() ==
        doctest::Approx(j["latency_ms"].get<double>() / j["reference_ms"].get<double>()));
}

TEST_CASE("profile --clock thread-cpu") {
  const auto r = run_command(cli + " profile --clock thread-cpu --json --nnmeter-ir " +
                             mobilenet + quick);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["protocol"]["clock"] == "thread-cpu");
  CHECK(j["latency_ms"].get<double>() > 0);
  const auto bad = run_command(cli + " profile --clock tsc --nnmeter-ir " + mobilenet, true);
  CHECK(bad.status != 0);
  CHECK(bad.output.find("--clock") != std::string::npos);
}

TEST_CASE("profile: a model built in code, exported as IR, runs") {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 8});
  x = b.relu(b.conv(x, 16, 3));
  b.fc(b.global_avgpool(x), 10);
  const std::string path =
      temp_file("small.json", nnmeter::io::write_nnmeter_ir(std::move(b).build()));
  const auto r = run_command(cli + " profile --json --nnmeter-ir " + shell_quote(path) + quick);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(nlohmann::json::parse(r.output)["latency_ms"].get<double>() > 0);
}

TEST_CASE("profile: errors exit 1 with a clear message") {
  SUBCASE("unknown backend") {
    const auto r = run_command(cli + " profile --backend tpu9000 --nnmeter-ir " + mobilenet +
                                   quick,
                               true);
    CHECK(r.status == 1);
    CHECK(r.output.find("nnmeter: error: unknown backend 'tpu9000'; available backends: "
                        "xnnpack") != std::string::npos);
  }
  SUBCASE("missing model file") {
    const auto r =
        run_command(cli + " profile --nnmeter-ir /nonexistent/model.json" + quick, true);
    CHECK(r.status == 1);
    CHECK(r.output.find("/nonexistent/model.json: no such file") != std::string::npos);
  }
  SUBCASE("a model with an op XNNPACK cannot run") {
    nnmeter::graph_builder b;
    b.gelu(b.input({1, 64}), "act/gelu");
    const std::string path =
        temp_file("gelu.json", nnmeter::io::write_nnmeter_ir(std::move(b).build()));
    const auto r = run_command(cli + " profile --nnmeter-ir " + shell_quote(path) + quick, true);
    CHECK(r.status == 1);
    CHECK(r.output.find("nnmeter: error: " + path + ": cannot execute: op gelu") !=
          std::string::npos);
    CHECK(r.output.find("'act/gelu'") != std::string::npos);
  }
  SUBCASE("more than one thread on the xnnpack backend") {
    const auto r = run_command(cli + " profile --threads 2 --nnmeter-ir " + mobilenet + quick,
                               true);
    CHECK(r.status == 1);
    CHECK(r.output.find("runs one thread only") != std::string::npos);
  }
  SUBCASE("a protocol value out of range is a usage error naming the option") {
    const auto r = run_command(cli + " profile --runs 0 --nnmeter-ir " + mobilenet, true);
    CHECK(r.status != 0);
    CHECK(r.output.find("--runs") != std::string::npos);
    const auto w = run_command(cli + " profile --warmup -1 --nnmeter-ir " + mobilenet, true);
    CHECK(w.status != 0);
    CHECK(w.output.find("--warmup") != std::string::npos);
  }
}

TEST_CASE("profile: nn-Meter's own IR runs on the shapes its operators give, with warnings") {
  const std::string path = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";
  const auto r = run_command(cli + " profile --json --nnmeter-ir " + shell_quote(path) + quick +
                                 " 2>" + shell_quote(temp_file("mnv3.err", "")));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["latency_ms"].get<double>() > 0);
  std::ifstream err(temp_file_path("mnv3.err"));
  const std::string warnings((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK(warnings.find("nnmeter: warning: " + path + ": 9 outputs of broadcast operators") !=
        std::string::npos);
  CHECK(warnings.find("issue #111") != std::string::npos);
}
