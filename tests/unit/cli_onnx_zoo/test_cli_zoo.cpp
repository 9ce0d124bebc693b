// `nnmeter zoo`: files for every requested family, byte-identical for equal seeds, readable by
// `nnmeter kernels` in both formats, and clear refusals.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include "support/read_file.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

using nnmeter_test::run_command;
using nnmeter_test::shell_quote;
namespace fs = std::filesystem;

const std::string cli = shell_quote(NNMETER_CLI_PATH);

using nnmeter_test::read_file;

}  // namespace

TEST_CASE("nnmeter zoo: ONNX and IR files, byte-identical for one seed, read by kernels") {
  const nnmeter_test::temp_dir tmp("nnmeter_cli_zoo");
  const std::string a = tmp.file("a"), b = tmp.file("b"), ir = tmp.file("ir");
  const std::string args = " --family resnet --family shufflenetv2 --count 2 --seed 5 --out ";
  const auto r1 = run_command(cli + " zoo" + args + shell_quote(a), true);
  INFO(r1.output);
  REQUIRE(r1.status == 0);
  CHECK(r1.output.find("wrote 4 model(s)") != std::string::npos);
  REQUIRE(run_command(cli + " zoo" + args + shell_quote(b), true).status == 0);
  for (const char* name : {"resnet_0000.onnx", "resnet_0001.onnx", "shufflenetv2_0000.onnx",
                           "shufflenetv2_0001.onnx", "zoo.csv"}) {
    CAPTURE(name);
    REQUIRE(fs::exists(fs::path(a) / name));
    CHECK(read_file(fs::path(a) / name) == read_file(fs::path(b) / name));
  }
  CHECK(read_file(fs::path(a) / "resnet_0000.onnx") != read_file(fs::path(a) / "resnet_0001.onnx"));
  const auto k = run_command(cli + " kernels --onnx " + shell_quote(a + "/shufflenetv2_0001.onnx"), true);
  INFO(k.output);
  CHECK(k.status == 0);
  CHECK(k.output.find("channelshuffle") != std::string::npos);
  // nn-Meter IR: the same models, read back by `kernels --nnmeter-ir`.
  const auto r2 = run_command(cli + " zoo" + args + shell_quote(ir) + " --format ir --json", true);
  INFO(r2.output);
  REQUIRE(r2.status == 0);
  CHECK(r2.output.find("\"family\": \"shufflenetv2\"") != std::string::npos);
  const auto k2 = run_command(cli + " kernels --nnmeter-ir " + shell_quote(ir + "/resnet_0001.ir.json"), true);
  INFO(k2.output);
  CHECK(k2.status == 0);
  CHECK(k2.output.find("conv-bn-relu") != std::string::npos);
  // The list: a header and one row per model.
  const std::string csv = read_file(fs::path(a) / "zoo.csv");
  CHECK(csv.rfind("name,family,seed,index,nodes,file,config\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
}

TEST_CASE("nnmeter zoo: an unknown family or format is refused") {
  const nnmeter_test::temp_dir tmp("nnmeter_cli_zoo_bad");
  const auto r = run_command(cli + " zoo --family lenet --out " + shell_quote(tmp.file("x")), true);
  CHECK(r.status == 1);
  CHECK(r.output.find("--family 'lenet' is not a family (alexnet, vgg") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.file("x") + "/zoo.csv"));
  const auto f = run_command(cli + " zoo --family vgg --format tflite --out " + shell_quote(tmp.file("y")), true);
  CHECK(f.status != 0);
  CHECK(f.output.find("--format") != std::string::npos);
}
