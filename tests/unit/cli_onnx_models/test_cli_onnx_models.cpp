// Whole-model execution of the torchvision ONNX exports on the local device:
// `nnmeter profile --backend xnnpack --onnx <export>` runs every classifier (ssdlite's
// data-dependent post-processing is refused with a clear error). The models come from the
// onnx_models ctest fixture (tests/onnx_models/), which sets NNMETER_ONNX_MODELS.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter/io/json.hpp>

#include "support/run_command.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using nnmeter_test::run_command;
using nnmeter_test::shell_quote;

const std::string cli = shell_quote(NNMETER_CLI_PATH);

const char* models_dir() { return std::getenv("NNMETER_ONNX_MODELS"); }

std::string model_path(const std::string& model, int opset) {
  return std::string(models_dir()) + "/" + model + "_op" + std::to_string(opset) + ".onnx";
}

// One quick measurement (1 pass, 1 block, 1 run, no warm-up): this checks execution, not speed.
void check_runs(const std::string& model) {
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: skipped");
    return;
  }
  for (int opset : {11, 13}) {
    const std::string path = model_path(model, opset);
    INFO(path);
    REQUIRE(std::ifstream(path, std::ios::binary).good());
    const auto r = run_command(cli + " profile --backend xnnpack --runs 1 --blocks 1 --passes 1 " +
                                   "--warmup 0 --json --onnx " + shell_quote(path),
                               true);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
    const double ms = j.at("latency_ms").get<double>();
    CHECK(std::isfinite(ms));
    CHECK(ms > 0.0);
    CHECK(j.at("model").at("type") == "onnx");
  }
}

}  // namespace

#define NNMETER_PROFILE_CASE(name) \
  TEST_CASE("profile --onnx runs the torchvision export " #name) { check_runs(#name); }

NNMETER_PROFILE_CASE(resnet18)
NNMETER_PROFILE_CASE(resnet50)
NNMETER_PROFILE_CASE(mobilenet_v2)
NNMETER_PROFILE_CASE(mobilenet_v3_small)
NNMETER_PROFILE_CASE(mobilenet_v3_large)
NNMETER_PROFILE_CASE(mnasnet1_0)
NNMETER_PROFILE_CASE(shufflenet_v2_x1_0)
NNMETER_PROFILE_CASE(squeezenet1_0)
NNMETER_PROFILE_CASE(googlenet)
NNMETER_PROFILE_CASE(densenet121)
NNMETER_PROFILE_CASE(vgg11)
NNMETER_PROFILE_CASE(alexnet)
NNMETER_PROFILE_CASE(efficientnet_b0)
NNMETER_PROFILE_CASE(regnet_x_400mf)

TEST_CASE("profile --onnx refuses ssdlite's data-dependent post-processing by node") {
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: skipped");
    return;
  }
  const std::string path = model_path("ssdlite320_mobilenet_v3_large", 13);
  const auto r = run_command(cli + " profile --runs 1 --blocks 1 --passes 1 --warmup 0 --onnx " +
                                 shell_quote(path),
                             true);
  CHECK(r.status == 1);
  CHECK(r.output.find("cannot execute") != std::string::npos);
  CHECK(r.output.find("at node '") != std::string::npos);
}
