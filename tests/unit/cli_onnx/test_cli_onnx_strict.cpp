// `nnmeter kernels --onnx` on inconsistent and unusual models (issue 8): errors name the file,
// the node and the shapes; hints name the program's flags (--input-shape, --allow-any-opset,
// --allow-missing-external-data), which exist and work; non-UTF-8 names do not break --json.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "unit/io_onnx/onnx_test_model.hpp"

namespace {

using nnmeter_test::measured_run;
using nnmeter_test::run_measured;
using nnmeter_test::temp_dir;
using onnx_test::attr;
using onnx_test::model_builder;

const std::string cli = NNMETER_CLI_PATH;

measured_run kernels(const std::vector<std::string>& args) {
  std::vector<std::string> argv{cli, "kernels"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_measured(argv, 120.0);
}

void check_error(const measured_run& r, const std::vector<std::string>& fragments) {
  INFO("output: " << r.output);
  REQUIRE(r.started);
  CHECK(r.signal == 0);
  CHECK(r.exit_status == 1);
  CHECK(r.output.find("nnmeter: error: ") != std::string::npos);
  for (const std::string& f : fragments) {
    INFO("expected: " << f);
    CHECK(r.output.find(f) != std::string::npos);
  }
  CHECK(r.output.find("onnx_import_options") == std::string::npos);  // library names stay out
}

}  // namespace

TEST_CASE("a Conv weight that does not fit its input: the file, the node and both shapes") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("x", {1, 3, 32, 32}).output("y");
  b.weight("W", {16, 5, 3, 3});
  b.node("Conv", {"x", "W"}, {"y"}, "conv");
  const std::string path = dir.write("conv.onnx", b.bytes());
  check_error(kernels({"--onnx", path}),
              {"nnmeter: error: " + path +
               ": node 'conv' (Conv): weight 'W' [16, 5, 3, 3] has 5 "
               "input channels per group, but input 'x' [1, 3, 32, 32] has 3 channels"});
}

TEST_CASE("an incompatible broadcast is refused by validate(), naming the file and the node") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("a", {1, 3, 8, 8}).input("c", {1, 4, 8, 8}).output("y");
  b.node("Add", {"a", "c"}, {"y"}, "add");
  const std::string path = dir.write("add.onnx", b.bytes());
  check_error(kernels({"--json", "--onnx", path}), {path + ": node 'add' (Add)"});
}

TEST_CASE("a STRING input is refused, naming the input and its type") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("text", {1, 4}, onnx::TensorProto::STRING).output("y");
  b.node("Identity", {"text"}, {"y"}, "id");
  const std::string path = dir.write("string.onnx", b.bytes());
  check_error(kernels({"--onnx", path}),
              {path + ": input 'text' has element type STRING, which nnmeter cannot represent"});
}

TEST_CASE("hints name the flags, and the flags work") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  SUBCASE("symbolic dims: --input-shape with the dims to give") {
    model_builder b(13);
    b.input("image", {-1, 3, 8, 8}).output("y");
    b.node("Relu", {"image"}, {"y"}, "relu");
    const std::string path = dir.write("symbolic.onnx", b.bytes());
    check_error(kernels({"--onnx", path}),
                {path + ": input 'image' has symbolic or unknown dims [N, 3, 8, 8]",
                 "give it with --input-shape image:1,3,8,8"});
    const measured_run ok = kernels({"--input-shape", "image:1,3,8,8", "--onnx", path});
    INFO(ok.output);
    CHECK(ok.exit_status == 0);
  }
  SUBCASE("opset 18: --allow-any-opset") {
    model_builder b(18);
    b.input("x", {1, 8}).output("y");
    b.node("Relu", {"x"}, {"y"}, "relu");
    const std::string path = dir.write("opset18.onnx", b.bytes());
    check_error(kernels({"--onnx", path}),
                {path + ": opset 18 is outside the supported range 7..17 (--allow-any-opset "
                        "imports it on a best-effort basis)"});
    const measured_run ok = kernels({"--allow-any-opset", "--onnx", path});
    INFO(ok.output);
    CHECK(ok.exit_status == 0);
    CHECK(ok.output.find("nnmeter: warning: " + path + ": opset 18") != std::string::npos);
    CHECK(ok.output.find("relu") != std::string::npos);
  }
  SUBCASE("missing external data: --allow-missing-external-data") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}).output("y");
    auto* t = b.graph().add_initializer();
    t->set_name("W");
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (std::int64_t d : {4, 3, 1, 1}) t->add_dims(d);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value("weights.bin");
    b.node("Conv", {"x", "W"}, {"y"}, "conv");
    const std::string path = dir.write("external.onnx", b.bytes());
    check_error(kernels({"--onnx", path}),
                {path + ": initializer 'W': external data 'weights.bin' does not exist",
                 "--allow-missing-external-data imports the model without it"});
    const measured_run ok = kernels({"--allow-missing-external-data", "--onnx", path});
    INFO(ok.output);
    CHECK(ok.exit_status == 0);
    CHECK(ok.output.find("nnmeter: warning: " + path + ": initializer 'W'") != std::string::npos);
    dir.write("weights.bin", std::string(48, '\0'));
    const measured_run with_file = kernels({"--onnx", path});
    INFO(with_file.output);
    CHECK(with_file.exit_status == 0);
    CHECK(with_file.output.find("warning") == std::string::npos);
  }
}

TEST_CASE("a non-UTF-8 node name does not break --json") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("x", {1, 8}).output("y");
  b.node("Relu", {"x"}, {"y"}, std::string("relu_\xff\xfe_", 8));
  const std::string path = dir.write("latin.onnx", b.bytes());
  const measured_run json = kernels({"--json", "--onnx", path});
  INFO(json.output);
  REQUIRE(json.exit_status == 0);
  nlohmann::json out;
  CHECK_NOTHROW(out = nlohmann::json::parse(json.output));
  REQUIRE(out.contains("kernels"));
  REQUIRE(out["kernels"].size() == 1);
  // The invalid bytes are replaced by U+FFFD, the rest of the name kept.
  const std::string nodes = out["kernels"][0]["nodes"].dump();
  CHECK(nodes.find("relu_\xEF\xBF\xBD\xEF\xBF\xBD_") != std::string::npos);
  const measured_run text = kernels({"--onnx", path});
  CHECK(text.exit_status == 0);
}

TEST_CASE("data-dependent shapes are said: a warning, and the node listed in the accounting") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("x", {1, 3, 8, 8}).input("pads", {8}, onnx::TensorProto::INT64).output("y");
  b.node("Pad", {"x", "pads"}, {"y"}, "pad");
  const std::string path = dir.write("pad.onnx", b.bytes());
  const measured_run text = kernels({"--onnx", path});
  INFO(text.output);
  REQUIRE(text.exit_status == 0);
  CHECK(text.output.find("nnmeter: warning: " + path +
                         ": 1 node has an output shape that "
                         "depends on tensor values unknown at import (e.g. 'pad')") !=
        std::string::npos);
  const measured_run json = kernels({"--json", "--onnx", path});
  REQUIRE(json.exit_status == 0);
  const nlohmann::json out = nlohmann::json::parse(json.output);
  CHECK(out["accounting"]["data_dependent_nodes"] == nlohmann::json::array({"pad"}));
  REQUIRE(out["warnings"].size() == 1);
}

TEST_CASE("a valid model's peak RSS (the baseline of the refusals in cli_errors)") {
  const temp_dir dir("nnmeter_cli_onnx_strict");
  model_builder b(13);
  b.input("x", {1, 3, 32, 32}).output("y");
  b.weight("W", {16, 3, 3, 3});
  b.node("Conv", {"x", "W"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"y"}, "relu");
  const std::string path = dir.write("ok.onnx", b.bytes());
  const measured_run r = kernels({"--onnx", path});
  INFO(r.output);
  CHECK(r.exit_status == 0);
  MESSAGE("kernels --onnx on a 2-node model: peak RSS " << r.peak_rss_kib << " KiB");
  CHECK(r.peak_rss_kib > 0);
  CHECK(r.peak_rss_kib <= 64 * 1024);
}
