// `nnmeter kernels --onnx`: ONNX models written by the project's writer, the accounting
// section, user-given input shapes and clear errors.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#include <nnmeter/io/onnx.hpp>

#include "support/run_command.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using nnmeter_test::run_command;
using nnmeter_test::shell_quote;

const std::string cli = shell_quote(NNMETER_CLI_PATH);

std::string temp_path(const std::string& name) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/nnmeter_cli_onnx_" +
         std::to_string(::getpid()) + "_" + name;
}

// A small MobileNet-like network: conv-bn-relu, dwconv-bn-relu, a residual add, gap, fc.
nnmeter::graph small_net() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 3}, nnmeter::dtype::f32, "input");
  x = b.conv_bn_relu(x, 16, 3, 2);
  auto y = b.dwconv(x, 3, 1, nnmeter::padding_mode::same);
  y = b.bn(y);
  y = b.relu(y);
  y = b.conv(y, 16, 1, 1);
  x = b.add(x, y);
  x = b.global_avgpool(x);
  x = b.reshape(x, {1, 16});
  b.fc(x, 10);
  return std::move(b).build();
}

// A model whose input has a symbolic batch dimension "N".
std::string symbolic_model() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("symbolic");
  onnx::ValueInfoProto* in = g->add_input();
  in->set_name("image");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  for (int d : {3, 8, 8}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  onnx::NodeProto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu0");
  relu->add_input("image");
  relu->add_output("out");
  g->add_output()->set_name("out");
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto_DataType_FLOAT);
  return m.SerializeAsString();
}

}  // namespace

TEST_CASE("kernels --onnx --json: the writer's model gives the built graph's kernels") {
  const nnmeter::graph g = small_net();
  const std::string path = temp_path("small.onnx");
  nnmeter::io::write_onnx(g, path);
  const auto r = run_command(cli + " kernels --json --onnx " + shell_quote(path));
  std::remove(path.c_str());
  REQUIRE(r.status == 0);
  const nlohmann::json out = nlohmann::json::parse(r.output);
  CHECK(out["model_type"] == "onnx");
  const nnmeter::detection expect = nnmeter::detect(g, nnmeter::default_rules());
  REQUIRE(out["kernels"].size() == expect.kernels.size());
  for (std::size_t i = 0; i < expect.kernels.size(); ++i) {
    INFO("kernel " << i);
    CHECK(out["kernels"][i]["op"] == expect.kernels[i].op);
  }
  const nlohmann::json& a = out["accounting"];
  CHECK(a["opset"] == 13);
  // Every node of the file is accounted for, and every graph node is in a kernel or free.
  CHECK(a["nodes_in_file"].get<std::size_t>() ==
        a["imported"].get<std::size_t>() + a["folded"].get<std::size_t>() +
            a["aliased"].get<std::size_t>() + a["constants"].get<std::size_t>());
  CHECK(a["other"] == 0);
  CHECK(a["in_kernels"].get<std::size_t>() + a["free"].get<std::size_t>() ==
        a["nodes"].get<std::size_t>());
  CHECK(a["imported"].get<std::size_t>() > 0);
}

TEST_CASE("kernels --onnx: text output starts with the import accounting") {
  const std::string path = temp_path("small_text.onnx");
  nnmeter::io::write_onnx(small_net(), path);
  const auto r = run_command(cli + " kernels --onnx " + shell_quote(path));
  std::remove(path.c_str());
  REQUIRE(r.status == 0);
  CHECK(r.output.find("ONNX opset 13") != std::string::npos);
  CHECK(r.output.find("conv-bn-relu") != std::string::npos);
}

TEST_CASE("symbolic input dims: a clear error naming the input, fixed by --input-shape") {
  const std::string path = temp_path("symbolic.onnx");
  std::ofstream(path, std::ios::binary) << symbolic_model();
  const auto bad = run_command(cli + " kernels --onnx " + shell_quote(path), true);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("image") != std::string::npos);
  CHECK(bad.output.find("N") != std::string::npos);
  const auto good =
      run_command(cli + " kernels --json --input-shape image:2,3,8,8 --onnx " + shell_quote(path));
  CHECK(good.status == 0);
  if (good.status == 0) {
    const nlohmann::json out = nlohmann::json::parse(good.output);
    REQUIRE(out["kernels"].size() == 1);
    CHECK(out["kernels"][0]["op"] == "relu");
    // NCHW [2,3,8,8] in the file is NHWC [2,8,8,3] in the kernel
    CHECK(out["kernels"][0]["input_tensors"][0] == nlohmann::json::array({2, 8, 8, 3}));
  }
  for (const char* shape : {"image", "image:", "image:2,x,8,8", "image:2,-3,8,8", ":1,2"}) {
    const auto r = run_command(cli + " kernels --input-shape " + shell_quote(shape) + " --onnx " +
                                   shell_quote(path),
                               true);
    INFO(shape << ": " << r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("--input-shape") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("bad ONNX input: missing file, garbage bytes, both model options") {
  const auto missing = run_command(cli + " kernels --onnx /nonexistent/model.onnx", true);
  CHECK(missing.status == 1);
  CHECK(missing.output.find("/nonexistent/model.onnx") != std::string::npos);
  const std::string path = temp_path("garbage.onnx");
  std::ofstream(path, std::ios::binary) << "this is not a protobuf \xff\xfe\x01";
  const auto garbage = run_command(cli + " kernels --onnx " + shell_quote(path), true);
  CHECK(garbage.status == 1);
  CHECK(garbage.output.find(path) != std::string::npos);
  std::remove(path.c_str());
  const auto both = run_command(cli + " kernels --onnx a.onnx --nnmeter-ir b.json", true);
  CHECK(both.status != 0);
  const auto shape_without_onnx =
      run_command(cli + " kernels --input-shape x:1 --nnmeter-ir b.json", true);
  CHECK(shape_without_onnx.status != 0);
}
