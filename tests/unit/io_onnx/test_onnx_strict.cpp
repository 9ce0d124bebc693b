// ONNX import, strict graphs (issue 8): weights checked against the shapes they must fit, the
// imported graph validated (nnmeter::validate), element types nnmeter cannot hold refused,
// external-data references checked, files read with bounded resources, hints that name the
// options of the caller, and the shape parameters validate() needs recorded on the nodes.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "onnx_test_model.hpp"
#include "support/temp_dir.hpp"

using nnmeter::op_kind;
using nnmeter::tensor_shape;
using onnx_test::attr;
using onnx_test::id;
using onnx_test::model_builder;

namespace {

namespace io = nnmeter::io;

// The message of the E that f() throws ("" and a failed check when it throws nothing or
// something else), checked to contain every fragment.
template <class E, class F>
std::string expect_error(F&& f, std::initializer_list<std::string> fragments) {
  std::string msg;
  bool thrown = false;
  try {
    f();
  } catch (const E& e) {
    thrown = true;
    msg = e.what();
  }
  INFO("message: " << msg);
  CHECK(thrown);
  for (const std::string& frag : fragments) {
    INFO("expected fragment: " << frag);
    CHECK(msg.find(frag) != std::string::npos);
  }
  return msg;
}

bool has_extra(const nnmeter::graph& g, const std::string& node, const std::string& key,
               const std::string& value) {
  const std::string* v = g[id(g, node)].attrs.find_extra(key);
  return v != nullptr && *v == value;
}

bool data_dependent(const io::onnx_import_result& r, const std::string& node) {
  const auto& dd = r.accounting.data_dependent_nodes;
  return has_extra(r.graph, node, nnmeter::attr_keys::data_dependent, "true") &&
         std::find(dd.begin(), dd.end(), node) != dd.end();
}

// x [1, c, 32, 32] -> Conv with weight w of `wdims` (group `group`), output y.
model_builder conv_model(std::int64_t c, const onnx_test::dims_t& wdims, std::int64_t group = 1,
                         const char* op = "Conv") {
  model_builder b(13);
  b.input("x", {1, c, 32, 32}).output("y");
  b.weight("W", wdims);
  auto& n = b.node(op, {"x", "W"}, {"y"}, "conv");
  if (group != 1) attr(n, "group", group);
  return b;
}

}  // namespace

// ------------------------------------------------------------------ class 2: weights vs shapes

TEST_CASE("Conv: a weight of 5 input channels on a 3-channel input is an error naming both") {
  const model_builder b = conv_model(3, {16, 5, 3, 3});
  expect_error<nnmeter::graph_error>(
      [&] { (void)b.import(); },
      {"test.onnx: node 'conv' (Conv): weight 'W' [16, 5, 3, 3] has 5 input channels per group",
       "input 'x' [1, 3, 32, 32] has 3 channels"});
  // The consistent model imports.
  const auto r = conv_model(3, {16, 3, 3, 3}).import();
  CHECK(r.graph.output_shapes(id(r.graph, "conv"))[0] == tensor_shape{1, 30, 30, 16});
}

TEST_CASE("Conv: group must divide the input and the output channels") {
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)conv_model(6, {8, 2, 3, 3}, 4).import();
      },
      {"node 'conv' (Conv)", "group 4 does not divide the 6 channels", "input 'x' [1, 6, 32, 32]"});
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)conv_model(6, {7, 2, 3, 3}, 3).import();
      },
      {"group 3 does not divide the 7 output channels", "weight 'W' [7, 2, 3, 3]"});
  // Channels per group: 6 channels in 3 groups need 2 per group, not 3.
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)conv_model(6, {6, 3, 3, 3}, 3).import();
      },
      {"weight 'W' [6, 3, 3, 3] has 3 input channels per group",
       "6 channels in 3 groups (2 per group)"});
  const auto ok = conv_model(6, {6, 1, 3, 3}, 6).import();
  CHECK(ok.graph.op(id(ok.graph, "conv")) == op_kind::dwconv);
}

TEST_CASE("Conv: bias length, kernel_shape and a kernel larger than the padded input") {
  SUBCASE("bias") {
    model_builder b = conv_model(3, {16, 3, 3, 3});
    b.weight("B", {15});
    b.graph().mutable_node(0)->add_input("B");
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"node 'conv' (Conv)", "bias 'B' [15] has 15 entries",
                                        "16 output channels of weight 'W' [16, 3, 3, 3]"});
  }
  SUBCASE("kernel_shape contradicting the weight") {
    model_builder b = conv_model(3, {16, 3, 3, 3});
    attr(*b.graph().mutable_node(0), "kernel_shape", {5, 5});
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); }, {"kernel_shape [5, 5] contradicts weight 'W' [16, 3, 3, 3]"});
  }
  SUBCASE("kernel larger than the padded input") {
    model_builder b(13);
    b.input("x", {1, 3, 4, 4}).output("y");
    b.weight("W", {8, 3, 7, 7});
    attr(b.node("Conv", {"x", "W"}, {"y"}, "conv"), "pads", {1, 1, 1, 1});
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); }, {"test.onnx: node 'conv' (Conv)", "larger than the padded input",
                                    "4 + pads 1 + 1 = 6", "input 'x' [1, 3, 4, 4]"});
  }
  SUBCASE("a pool window larger than its input") {
    model_builder b(13);
    b.input("x", {1, 3, 4, 4}).output("y");
    attr(b.node("MaxPool", {"x"}, {"y"}, "pool"), "kernel_shape", {5, 5});
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"node 'pool' (MaxPool)", "larger than the padded input"});
  }
}

TEST_CASE("ConvTranspose, QLinearConv, ConvInteger: weights checked like Conv's") {
  SUBCASE("ConvTranspose weight [C, M/group, k...] for the wrong C") {
    model_builder b = conv_model(3, {4, 8, 3, 3}, 1, "ConvTranspose");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); },
        {"node 'conv' (ConvTranspose)", "weight 'W' [4, 8, 3, 3] is for 4 input channels",
         "input 'x' [1, 3, 32, 32] has 3"});
    const auto ok = conv_model(3, {3, 8, 3, 3}, 1, "ConvTranspose").import();
    CHECK(ok.graph.output_shapes(id(ok.graph, "conv"))[0] == tensor_shape{1, 34, 34, 8});
  }
  SUBCASE("QLinearConv") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}, onnx::TensorProto::UINT8).output("y");
    b.floats("xs", {0.1f}, true).scalar("xz", onnx::TensorProto::UINT8, 0);
    b.weight("W", {4, 2, 3, 3}, onnx::TensorProto::UINT8);
    b.floats("ws", {0.1f}, true).scalar("wz", onnx::TensorProto::UINT8, 0);
    b.floats("ys", {0.1f}, true).scalar("yz", onnx::TensorProto::UINT8, 0);
    b.node("QLinearConv", {"x", "xs", "xz", "W", "ws", "wz", "ys", "yz"}, {"y"}, "qconv");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); },
        {"node 'qconv' (QLinearConv)", "weight 'W' [4, 2, 3, 3] has 2 input channels",
         "input 'x' [1, 3, 8, 8]"});
  }
  SUBCASE("ConvInteger") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}, onnx::TensorProto::UINT8).output("y");
    b.weight("W", {4, 5, 3, 3}, onnx::TensorProto::UINT8);
    b.node("ConvInteger", {"x", "W"}, {"y"}, "iconv");
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"node 'iconv' (ConvInteger)", "weight 'W' [4, 5, 3, 3]"});
  }
}

TEST_CASE("Gemm and MatMul: the weight fits the input, transA / transB honoured") {
  auto gemm = [](const onnx_test::dims_t& a, const onnx_test::dims_t& w, int ta, int tb) {
    model_builder b(13);
    b.input("a", a).output("y");
    b.weight("B", w);
    auto& n = b.node("Gemm", {"a", "B"}, {"y"}, "fc");
    if (ta) attr(n, "transA", std::int64_t{1});
    if (tb) attr(n, "transB", std::int64_t{1});
    return b;
  };
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)gemm({1, 64}, {32, 10}, 0, 0).import();
      },
      {"test.onnx: node 'fc' (Gemm)", "weight 'B' [32, 10] takes 32 input features",
       "input 'a' [1, 64] has 64"});
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)gemm({1, 64}, {64, 10}, 0, 1).import();
      },
      {"weight 'B' [64, 10] (transB 1) takes 10 input features"});
  const auto tb = gemm({1, 64}, {10, 64}, 0, 1).import();
  CHECK(tb.graph.op(id(tb.graph, "fc")) == op_kind::fc);
  CHECK(tb.graph.output_shapes(id(tb.graph, "fc"))[0] == tensor_shape{1, 10});
  const auto ta = gemm({64, 1}, {64, 10}, 1, 0).import();
  CHECK(ta.graph.output_shapes(id(ta.graph, "fc"))[0] == tensor_shape{1, 10});
  expect_error<nnmeter::graph_error>(
      [&] {
        (void)gemm({1, 64}, {64, 10}, 1, 0).import();
      },
      {"input 'a' [1, 64] (transA 1) has 1"});
  SUBCASE("Gemm bias that does not broadcast to [M, N]") {
    model_builder b = gemm({2, 64}, {64, 10}, 0, 0);
    b.weight("C", {3, 10});
    b.graph().mutable_node(0)->add_input("C");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); }, {"bias 'C' [3, 10] does not broadcast to the [2, 10] product"});
  }
  SUBCASE("MatMul") {
    model_builder b(13);
    b.input("a", {2, 8}).output("y");
    b.weight("B", {7, 4});
    b.node("MatMul", {"a", "B"}, {"y"}, "mm");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); },
        {"node 'mm' (MatMul)", "weight 'B' [7, 4] takes 7 input features",
         "input 'a' [2, 8] has 8"});
  }
}

TEST_CASE("BatchNormalization and PRelu: parameter lengths fit the channels") {
  SUBCASE("BatchNormalization") {
    for (int bad = 1; bad <= 4; ++bad) {
      model_builder b(13);
      b.input("x", {1, 8, 4, 4}).output("y");
      const char* names[] = {"scale", "bias", "mean", "var"};
      for (int k = 0; k < 4; ++k) b.weight(names[k], {k + 1 == bad ? 7 : 8});
      b.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn");
      INFO("bad parameter " << names[bad - 1]);
      expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                         {"node 'bn' (BatchNormalization)",
                                          "'" + std::string(names[bad - 1]) + "' [7] has 7 entries",
                                          "8 channels of input 'x' [1, 8, 4, 4]"});
    }
  }
  SUBCASE("PRelu") {
    auto prelu = [](const onnx_test::dims_t& slope) {
      model_builder b(13);
      b.input("x", {1, 3, 8, 8}).output("y");
      b.weight("slope", slope);
      b.node("PRelu", {"x", "slope"}, {"y"}, "prelu");
      return b;
    };
    expect_error<nnmeter::graph_error>(
        [&] {
          (void)prelu({4, 1, 1}).import();
        },
        {"node 'prelu' (PRelu)", "slope 'slope' [4, 1, 1] does not broadcast",
         "input 'x' [1, 3, 8, 8]"});
    const auto r = prelu({3, 1, 1}).import();
    CHECK(r.graph.op(id(r.graph, "prelu")) == op_kind::prelu);
  }
}

TEST_CASE("validate() refuses what shape inference could not give a shape to") {
  SUBCASE("incompatible broadcast of two graph inputs") {
    model_builder b(13);
    b.input("a", {1, 3, 8, 8}).input("c", {1, 4, 8, 8}).output("y");
    b.node("Add", {"a", "c"}, {"y"}, "add");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); }, {"test.onnx: node 'add' (Add)", "[1, 8, 8, 3]", "[1, 8, 8, 4]"});
  }
  SUBCASE("an impossible Reshape") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}).output("y");
    b.ints("shape", {5, -1});
    b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"test.onnx: node 'reshape' (Reshape)", "[1, 8, 8, 3]"});
  }
  SUBCASE("a Transpose permutation that is no permutation") {
    model_builder b(13);
    b.input("x", {2, 3, 4}).output("y");
    attr(b.node("Transpose", {"x"}, {"y"}, "tr"), "perm", {0, 0, 1});
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"test.onnx: node 'tr' (Transpose)"});
  }
  SUBCASE("Split sizes that do not add up to the axis") {
    model_builder b(13);
    b.input("x", {2, 5}).output("p").output("q");
    b.ints("sizes", {2, 2});
    attr(b.node("Split", {"x", "sizes"}, {"p", "q"}, "split"), "axis", std::int64_t{1});
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); },
                                       {"test.onnx: node 'split' (Split)"});
    model_builder c(13);
    c.input("x", {2, 5}).output("p").output("q");
    c.ints("sizes", {2, 3});
    attr(c.node("Split", {"x", "sizes"}, {"p", "q"}, "split"), "axis", std::int64_t{1});
    const auto r = c.import();
    CHECK(r.graph[id(r.graph, "split")].attrs.split_sizes == std::vector<std::int64_t>{2, 3});
    CHECK(r.graph.output_shapes(id(r.graph, "split"))[1] == tensor_shape{2, 3});
  }
  SUBCASE("Pad pads of the wrong length") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}).output("y");
    b.ints("pads", {1, 1, 1, 1});
    b.node("Pad", {"x", "pads"}, {"y"}, "pad");
    expect_error<nnmeter::graph_error>(
        [&] { (void)b.import(); },
        {"node 'pad' (Pad)", "pads [1, 1, 1, 1] has 4 entries", "needs 8"});
  }
}

// ------------------------------------------------------ the shape parameters validate() needs

TEST_CASE("shape parameters that are not constants mark the node data-dependent") {
  SUBCASE("Pad by pads given as a graph input") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}).input("pads", {8}, onnx::TensorProto::INT64).output("y");
    b.node("Pad", {"x", "pads"}, {"y"}, "pad");
    const auto r = b.import();
    CHECK(data_dependent(r, "pad"));
    // The unknown output is said, not hidden.
    REQUIRE(!r.warnings.empty());
    CHECK(r.warnings.back().find("depends on tensor values") != std::string::npos);
    CHECK(r.warnings.back().find("'pad'") != std::string::npos);
  }
  SUBCASE("Reshape whose shape is a graph input, output declared by the file") {
    model_builder b(13);
    b.input("x", {2, 6}).input("shape", {2}, onnx::TensorProto::INT64).output("y");
    b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    auto* tt = b.graph().mutable_output(0)->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(3);
    tt->mutable_shape()->add_dim()->set_dim_value(4);
    const auto r = b.import();
    CHECK(data_dependent(r, "reshape"));
    CHECK(r.graph.output_shapes(id(r.graph, "reshape"))[0] == tensor_shape{3, 4});
    // A constant shape is no data dependence.
    model_builder c(13);
    c.input("x", {2, 6}).output("y");
    c.ints("shape", {3, 4});
    c.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
    const auto rc = c.import();
    CHECK_FALSE(data_dependent(rc, "reshape"));
    CHECK(rc.graph[id(rc.graph, "reshape")].attrs.find_extra(nnmeter::attr_keys::data_dependent) ==
          nullptr);
  }
  SUBCASE("Squeeze, Unsqueeze, Split and Slice by graph inputs, Resize by computed scales") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8})
        .input("axes", {1}, onnx::TensorProto::INT64)
        .input("sizes", {2}, onnx::TensorProto::INT64)
        .input("starts", {1}, onnx::TensorProto::INT64)
        .input("scales", {4})
        .output("sq")
        .output("us")
        .output("p")
        .output("sl")
        .output("rs");
    b.node("Squeeze", {"x", "axes"}, {"sq"}, "squeeze");
    b.node("Unsqueeze", {"x", "axes"}, {"us"}, "unsqueeze");
    attr(b.node("Split", {"x", "sizes"}, {"p", "p2"}, "split"), "axis", std::int64_t{1});
    b.ints("ends", {2});
    b.node("Slice", {"x", "starts", "ends"}, {"sl"}, "slice");
    b.node("Resize", {"x", "", "scales"}, {"rs"}, "resize");
    const auto r = b.import();
    for (const char* n : {"squeeze", "unsqueeze", "split", "slice", "resize"}) {
      INFO(n);
      CHECK(data_dependent(r, n));
    }
  }
}

TEST_CASE("Gemm as matmul keeps transA / transB; validate() honours them") {
  model_builder b(13);
  b.input("a", {3, 4}).input("b", {5, 3}).output("y");
  auto& n = b.node("Gemm", {"a", "b"}, {"y"}, "gemm");
  attr(n, "transA", std::int64_t{1});
  attr(n, "transB", std::int64_t{1});
  const auto r = b.import();
  const nnmeter::node_index g = id(r.graph, "gemm");
  CHECK(r.graph.op(g) == op_kind::matmul);
  CHECK(has_extra(r.graph, "gemm", "transA", "1"));
  CHECK(has_extra(r.graph, "gemm", "transB", "1"));
  CHECK(r.graph.output_shapes(g)[0] == tensor_shape{4, 5});
  CHECK(r.graph[g].inputs.size() == 2);
}

TEST_CASE("QLinearMatMul / MatMulInteger / QLinearConv: scales and zero points are no operands") {
  SUBCASE("QLinearMatMul with every parameter a graph input") {
    model_builder b(13);
    b.input("a", {2, 4}, onnx::TensorProto::UINT8)
        .input("as", {1})
        .input("az", {1}, onnx::TensorProto::UINT8)
        .input("b", {4, 3}, onnx::TensorProto::UINT8)
        .input("bs", {1})
        .input("bz", {1}, onnx::TensorProto::UINT8)
        .input("ys", {1})
        .input("yz", {1}, onnx::TensorProto::UINT8)
        .output("y");
    b.node("QLinearMatMul", {"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"y"}, "qmm");
    const auto r = b.import();
    const nnmeter::node& n = r.graph[id(r.graph, "qmm")];
    REQUIRE(n.inputs.size() == 2);
    CHECK(r.graph.name(n.inputs[0].node) == "a");
    CHECK(r.graph.name(n.inputs[1].node) == "b");
    CHECK(n.output_shapes[0] == tensor_shape{2, 3});
  }
  SUBCASE("MatMulInteger with zero points as graph inputs") {
    model_builder b(13);
    b.input("a", {4, 3}, onnx::TensorProto::UINT8)
        .input("b", {3, 2}, onnx::TensorProto::UINT8)
        .input("az", {1}, onnx::TensorProto::UINT8)
        .input("bz", {1}, onnx::TensorProto::UINT8)
        .output("y");
    b.node("MatMulInteger", {"a", "b", "az", "bz"}, {"y"}, "imm");
    const auto r = b.import();
    CHECK(r.graph[id(r.graph, "imm")].inputs.size() == 2);
  }
  SUBCASE("QLinearConv with scales as graph inputs") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}, onnx::TensorProto::UINT8)
        .input("xs", {})
        .input("ws", {4})
        .input("ys", {})
        .output("y");
    b.scalar("xz", onnx::TensorProto::UINT8, 0);
    b.weight("W", {4, 3, 1, 1}, onnx::TensorProto::UINT8);
    b.scalar("wz", onnx::TensorProto::UINT8, 0);
    b.scalar("yz", onnx::TensorProto::UINT8, 0);
    b.node("QLinearConv", {"x", "xs", "xz", "W", "ws", "wz", "ys", "yz"}, {"y"}, "qconv");
    const auto r = b.import();
    const nnmeter::node& n = r.graph[id(r.graph, "qconv")];
    REQUIRE(n.inputs.size() == 1);
    CHECK(r.graph.name(n.inputs[0].node) == "x");
  }
}

TEST_CASE("Reshape allowzero = 1 is recorded; validate() accepts the zero-sized dim") {
  model_builder b(14);
  b.input("x", {0, 3, 4}).output("y");
  b.ints("shape", {3, 4, 0});
  attr(b.node("Reshape", {"x", "shape"}, {"y"}, "reshape"), "allowzero", std::int64_t{1});
  const auto r = b.import();
  CHECK(has_extra(r.graph, "reshape", "allowzero", "1"));
  CHECK(r.graph.output_shapes(id(r.graph, "reshape"))[0] == tensor_shape{3, 4, 0});
}

// ----------------------------------------------------------- class 3: element types of inputs

TEST_CASE("inputs of element types nnmeter cannot hold are refused, naming input and type") {
  const std::pair<int, const char*> refused[] = {{onnx::TensorProto::STRING, "STRING"},
                                                 {onnx::TensorProto::COMPLEX64, "COMPLEX64"},
                                                 {onnx::TensorProto::COMPLEX128, "COMPLEX128"},
                                                 {0, "UNDEFINED (0)"},
                                                 {99, "unknown type 99"}};
  for (const auto& entry : refused) {
    const std::string name = entry.second;  // not a structured binding: INFO captures it
    model_builder b(13);
    b.input("text", {1, 4}, entry.first).output("y");
    b.node("Identity", {"text"}, {"y"}, "id");
    INFO(name);
    expect_error<nnmeter::unsupported_error>(
        [&] { (void)b.import(); },
        {"test.onnx: input 'text' has element type " + name, "cannot represent"});
  }
  SUBCASE("BOOL imports as u8, DOUBLE as f32 with a warning") {
    model_builder b(13);
    b.input("mask", {1, 4}, onnx::TensorProto::BOOL)
        .input("d", {1, 4}, onnx::TensorProto::DOUBLE)
        .output("y")
        .output("z");
    b.node("Not", {"mask"}, {"y"}, "not");
    b.node("Relu", {"d"}, {"z"}, "relu");
    const auto r = b.import();
    CHECK(r.graph[id(r.graph, "mask")].elem == nnmeter::dtype::u8);
    CHECK(r.graph[id(r.graph, "d")].elem == nnmeter::dtype::f32);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("input 'd' is DOUBLE") != std::string::npos);
  }
}

// -------------------------------------------------------------- class 3: ONNX external data

namespace {

// A model whose initializer W [4, 3, 1, 1] (float: 48 bytes) lives in external data.
model_builder external_model(const std::string& location, std::int64_t offset = -1,
                             std::int64_t length = -1) {
  model_builder b(13);
  b.input("x", {1, 3, 8, 8}).output("y");
  auto* t = b.graph().add_initializer();
  t->set_name("W");
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : {4, 3, 1, 1}) t->add_dims(d);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  if (offset >= 0) add("offset", std::to_string(offset));
  if (length >= 0) add("length", std::to_string(length));
  b.node("Conv", {"x", "W"}, {"y"}, "conv");
  return b;
}

// Writes the model into dir/model.onnx and imports it from there.
io::onnx_import_result import_in(const nnmeter_test::temp_dir& dir, const model_builder& b,
                                 const io::onnx_import_options& o = {}) {
  const std::string path = dir.write("model.onnx", b.bytes());
  return io::import_onnx(path, o);
}

}  // namespace

TEST_CASE("external data: a sound reference imports; its file is checked, never read") {
  const nnmeter_test::temp_dir dir("nnmeter_onnx_ext");
  dir.write("weights.bin", std::string(64, '\0'));
  std::filesystem::create_directory(dir.file("sub"));
  dir.write("sub/w.bin", std::string(48, '\0'));
  for (const auto& b :
       {external_model("weights.bin"), external_model("weights.bin", 16, 48),
        external_model("sub/w.bin", 0, 48), external_model("./sub/../weights.bin")}) {
    const auto r = import_in(dir, b);
    CHECK(r.graph.output_shapes(id(r.graph, "conv"))[0] == tensor_shape{1, 8, 8, 4});
    CHECK(r.warnings.empty());
  }
}

TEST_CASE("external data: missing, absolute, outside the folder, not a regular file, too short") {
  const nnmeter_test::temp_dir dir("nnmeter_onnx_ext");
  const std::string model = dir.file("model.onnx");
  dir.write("short.bin", std::string(40, '\0'));
  dir.write("weights.bin", std::string(64, '\0'));
  SUBCASE("missing file: an error naming the tensor and the path, or a warning when allowed") {
    const model_builder b = external_model("nowhere.bin");
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, b); },
        {model + ": initializer 'W': external data 'nowhere.bin' does not exist",
         dir.file("nowhere.bin"), "allow_missing_external_data"});
    io::onnx_import_options o;
    o.allow_missing_external_data = true;
    const auto r = import_in(dir, b, o);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("initializer 'W': external data 'nowhere.bin' does not exist") !=
          std::string::npos);
    CHECK(r.graph.output_shapes(id(r.graph, "conv"))[0] == tensor_shape{1, 8, 8, 4});
  }
  SUBCASE("absolute path") {
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, external_model("/etc/passwd")); },
        {"initializer 'W': external data '/etc/passwd' is an absolute path"});
  }
  SUBCASE("escaping the model's folder with ..") {
    for (const char* loc : {"../weights.bin", "sub/../../weights.bin", ".."}) {
      INFO(loc);
      expect_error<nnmeter::parse_error>(
          [&] { (void)import_in(dir, external_model(loc)); },
          {"initializer 'W': external data '" + std::string(loc) + "'",
           "not a file inside the model's folder"});
    }
  }
  SUBCASE("a symbolic link leading out of the folder") {
    const nnmeter_test::temp_dir outside("nnmeter_onnx_ext_out");
    outside.write("secret.bin", std::string(64, '\0'));
    std::filesystem::create_symlink(outside.file("secret.bin"), dir.file("link.bin"));
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, external_model("link.bin")); },
        {"external data 'link.bin' leads out of the model's folder"});
  }
  SUBCASE("a device, a directory, a pipe") {
    std::filesystem::create_symlink("/dev/zero", dir.file("zero.bin"));
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, external_model("zero.bin")); },
        {"external data 'zero.bin' is a character device, not a regular file"});
    std::filesystem::create_directory(dir.file("folder"));
    expect_error<nnmeter::parse_error>([&] { (void)import_in(dir, external_model("folder")); },
                                       {"external data 'folder' is a directory"});
    REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
    expect_error<nnmeter::parse_error>([&] { (void)import_in(dir, external_model("fifo")); },
                                       {"external data 'fifo' is a pipe"});
  }
  SUBCASE("offset + length beyond the file, a file too short, a wrong length, bad numbers") {
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, external_model("weights.bin", 32, 48)); },
        {"initializer 'W': external data 'weights.bin' is 64 bytes, too short for bytes 32..80"});
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, external_model("short.bin")); },
        {"external data 'short.bin' is 40 bytes, too short for bytes 0..48"});
    expect_error<nnmeter::graph_error>(
        [&] { (void)import_in(dir, external_model("weights.bin", 0, 40)); },
        {"external data 'weights.bin' gives length 40 bytes, but dims [4, 3, 1, 1] of FLOAT take "
         "48"});
    model_builder b = external_model("weights.bin");
    auto* e = b.graph().mutable_initializer(0)->add_external_data();
    e->set_key("offset");
    e->set_value("-8");
    expect_error<nnmeter::parse_error>([&] { (void)import_in(dir, b); },
                                       {"external data offset '-8' is not a byte count"});
  }
  SUBCASE("no location") {
    model_builder b = external_model("x");
    b.graph().mutable_initializer(0)->clear_external_data();
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, b); },
        {"initializer 'W': its data is EXTERNAL but external_data gives no location"});
  }
  SUBCASE("a Constant node's tensor in external data") {
    model_builder b(13);
    b.input("x", {1, 4}).output("y");
    auto& k = b.node("Constant", {}, {"k"}, "konst");
    auto* a = k.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a->mutable_t()->add_dims(4);
    a->mutable_t()->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = a->mutable_t()->add_external_data();
    e->set_key("location");
    e->set_value("../k.bin");
    b.node("Add", {"x", "k"}, {"y"}, "add");
    expect_error<nnmeter::parse_error>(
        [&] { (void)import_in(dir, b); },
        {"node 'konst' (Constant): attribute 'value': external data '../k.bin'"});
  }
}

TEST_CASE("external data imported from memory: the form is checked, the files are not") {
  const model_builder ok = external_model("weights.bin");
  const std::string bytes = ok.bytes();
  const auto r = io::import_onnx_from_memory(bytes.data(), bytes.size(), {}, "mem.onnx");
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("mem.onnx: 1 tensor keeps its data in external files") !=
        std::string::npos);
  CHECK(r.warnings[0].find("were not checked") != std::string::npos);
  // The form still is: an absolute path is refused without a folder too.
  const std::string abs = external_model("/dev/zero").bytes();
  expect_error<nnmeter::parse_error>(
      [&] { (void)io::import_onnx_from_memory(abs.data(), abs.size(), {}, "mem.onnx"); },
      {"mem.onnx: initializer 'W': external data '/dev/zero' is an absolute path"});
  // With external_data_dir, the files are checked as for a file.
  const nnmeter_test::temp_dir dir("nnmeter_onnx_ext");
  io::onnx_import_options o;
  o.external_data_dir = dir.path();
  expect_error<nnmeter::parse_error>(
      [&] { (void)io::import_onnx_from_memory(bytes.data(), bytes.size(), o, "mem.onnx"); },
      {"mem.onnx: initializer 'W': external data 'weights.bin' does not exist"});
  dir.write("weights.bin", std::string(48, '\0'));
  CHECK(io::import_onnx_from_memory(bytes.data(), bytes.size(), o, "mem.onnx").warnings.empty());
}

// ------------------------------------------------------ class 5: bounded reading of the file

TEST_CASE("import_onnx(path): directories, devices, text and files above the limit are refused") {
  const nnmeter_test::temp_dir dir("nnmeter_onnx_read");
  expect_error<nnmeter::parse_error>([&] { (void)io::import_onnx(dir.path()); },
                                     {dir.path() + ": is a directory, not an ONNX model"});
  expect_error<nnmeter::parse_error>(
      [&] { (void)io::import_onnx("/dev/zero"); },
      {"/dev/zero: not an ONNX model (its first byte 0x00 starts no field of an ONNX ModelProto)"});
  const std::string text = dir.write("notes.onnx", "these are notes, not a model\n");
  expect_error<nnmeter::parse_error>([&] { (void)io::import_onnx(text); },
                                     {text + ": not an ONNX model (its first byte 0x74"});
  const std::string model = dir.write("model.onnx", conv_model(3, {4, 3, 3, 3}).bytes());
  io::onnx_import_options o;
  o.max_file_bytes = 100;
  expect_error<nnmeter::parse_error>(
      [&] { (void)io::import_onnx(model, o); },
      {model + ": ", "is larger than the 100 bytes accepted for an ONNX model"});
  o.max_file_bytes = io::default_max_onnx_bytes;
  CHECK(io::import_onnx(model, o).graph.num_nodes() == 2);
}

// ------------------------------------------------------------- class 6: hints for the caller

TEST_CASE("hints name the library's fields, or the nnmeter program's flags") {
  model_builder b(13);
  b.input("images", {-1, 3, 16, 16}).output("y");
  b.node("Relu", {"images"}, {"y"}, "relu");
  expect_error<nnmeter::unsupported_error>(
      [&] { (void)b.import(); },
      {"onnx_import_options::input_shapes, e.g. input_shapes[\"images\"] = {1, 3, 16, 16}"});
  io::onnx_import_options cli;
  cli.hints = io::onnx_hint_style::cli;
  const std::string msg = expect_error<nnmeter::unsupported_error>(
      [&] { (void)b.import(cli); }, {"give it with --input-shape images:1,3,16,16"});
  CHECK(msg.find("onnx_import_options") == std::string::npos);
  cli.input_shapes["nope"] = {1};
  expect_error<nnmeter::graph_error>([&] { (void)b.import(cli); },
                                     {"--input-shape names 'nope', which is not an input"});
  model_builder o18(18);
  o18.input("x", {1, 2}).output("y");
  o18.node("Relu", {"x"}, {"y"}, "relu");
  expect_error<nnmeter::unsupported_error>([&] { (void)o18.import(); },
                                           {"onnx_import_options::allow_any_opset"});
  io::onnx_import_options cli2;
  cli2.hints = io::onnx_hint_style::cli;
  expect_error<nnmeter::unsupported_error>(
      [&] { (void)o18.import(cli2); },
      {"opset 18 is outside the supported range 7..17 (--allow-any-opset"});
}

TEST_CASE("non-UTF-8 node names import unchanged (the CLI escapes them in JSON)") {
  model_builder b(13);
  b.input("x", {1, 4}).output("y");
  const std::string name = std::string("relu_\xff\xfe", 7);
  b.node("Relu", {"x"}, {"y"}, name);
  const auto r = b.import();
  CHECK(r.graph.find(name));
}
