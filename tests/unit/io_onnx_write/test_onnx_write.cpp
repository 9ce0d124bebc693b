// ONNX writer: every builder op written at several opsets passes onnx::checker, ONNX shape
// inference reproduces our shapes (in NCHW), and graph -> writer -> importer gives the graph back.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx_write.hpp>

#include <doctest/doctest.h>
#include <onnx/common/file_utils.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "unit/io_onnx_write/onnx_test_support.hpp"

#if __has_include(<nnmeter/io/onnx_import.hpp>)
#include <nnmeter/io/onnx_import.hpp>
#define NNMETER_TEST_HAVE_IMPORTER 1
#else
#define NNMETER_TEST_HAVE_IMPORTER 0
#endif

namespace {

using nnmeter::graph;
using nnmeter::graph_builder;
using nnmeter::hw_pair;
using nnmeter::op_kind;
using nnmeter::padding_mode;
using nnmeter::pads4;
using nnmeter::tensor_ref;
namespace io = nnmeter::io;
using namespace nnmeter_test;

// One test graph; `expected` (optional) builds what the importer must return when an op has
// no single ONNX operator and is written as a small subgraph (opset passed in).
struct graph_case {
  const char* name;
  std::function<void(graph_builder&)> build;
  std::function<void(graph_builder&, std::int64_t)> expected;
};

std::vector<graph_case> cases() {
  std::vector<graph_case> v;
  auto in = [](graph_builder& b, nnmeter::tensor_shape s = {1, 16, 16, 8}) {
    return b.input(s, nnmeter::dtype::f32, "x");
  };
  v.push_back({"conv variants",
               [in](graph_builder& b) {
                 auto x = in(b);
                 auto c1 = b.conv(x, 16, 3, 2, padding_mode::same, 1, 1, true, "c_same_s2");
                 b.conv(x, 8, 3, 1, padding_mode::valid, 1, 1, true, "c_valid");
                 b.conv(x, 8, {1, 7}, 1, pads4{0, 0, 3, 3}, 1, 1, true, "c_1x7");
                 b.conv(x, 8, 3, 2, pads4{1, 0, 1, 0}, 1, 1, true, "c_asym");
                 b.conv(x, 8, 3, 1, padding_mode::same, 1, 2, true, "c_dil2");
                 b.conv(x, 16, 3, 1, padding_mode::same, 2, 1, true, "c_group2");
                 b.conv(c1, 4, 1, 1, padding_mode::same, 1, 1, false, "c_nobias");
                 b.conv(x, 8, 3, 2, padding_mode::same_lower, 1, 1, true, "c_same_lower");
               },
               nullptr});
  v.push_back({"dwconv variants",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.dwconv(x, 3, 1, padding_mode::same, 1, 1, "dw_same");
                 b.dwconv(x, 5, 2, pads4(2), 1, 1, "dw_s2");
                 b.dwconv(x, 3, 1, padding_mode::same, 2, 1, "dw_mult2");
                 b.conv(x, 8, 3, 1, padding_mode::same, 8, 1, true, "dw_via_conv");
               },
               nullptr});
  v.push_back({"conv_transpose",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.conv_transpose(x, 4, 3, 2, padding_mode::valid, 1, 1, true, "ct_valid");
                 b.conv_transpose(x, 4, 3, 2, pads4(1), hw_pair{1, 1}, 1, 1, true, "ct_pads");
                 b.conv_transpose(x, 4, 2, 2, pads4(0), hw_pair{0, 0}, 2, 1, false, "ct_g2");
               },
               nullptr});
  v.push_back({"fc on rank 2",
               [in](graph_builder& b) {
                 auto x = in(b, {2, 32});
                 auto y = b.fc(x, 10, true, "fc1");
                 b.fc(y, 5, false, "fc2");
               },
               nullptr});
  v.push_back({"fc after global pooling (Flatten + Gemm)",
               [in](graph_builder& b) {
                 auto x = in(b);
                 auto g = b.global_avgpool(x, "gap");
                 b.fc(g, 10, true, "fc");
               },
               [in](graph_builder& b, std::int64_t) {
                 auto x = in(b);
                 auto g = b.global_avgpool(x, "gap");
                 auto f = b.flatten(g, 1, "fc/flatten");
                 b.fc(f, 10, true, "fc");
               }});
  v.push_back({"matmul",
               [in](graph_builder& b) {
                 auto a = in(b, {2, 3, 4});
                 auto c = b.input({4, 5}, nnmeter::dtype::f32, "y");
                 auto m = b.matmul(a, c, "mm");
                 auto d = b.input({2, 5, 6}, nnmeter::dtype::f32, "z");
                 b.matmul(m, d, "mm_batched");
               },
               nullptr});
  v.push_back({"pooling",
               [in](graph_builder& b) {
                 auto x = in(b, {1, 15, 15, 8});
                 b.maxpool(x, 3, 2, padding_mode::valid, "mp_valid");
                 b.maxpool(x, 3, 2, padding_mode::same, "mp_same");
                 b.maxpool(x, 3, 2, pads4(1), false, "mp_pads");
                 b.maxpool(x, 3, 2, pads4(0), true, "mp_ceil");
                 b.avgpool(x, 2, 2, padding_mode::valid, "ap_valid");
                 b.avgpool(x, 3, 1, pads4(1), false, "ap_pads");
                 b.global_avgpool(x, "gap");
                 b.global_maxpool(x, "gmp");
               },
               nullptr});
  v.push_back({"reduce_mean",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.reduce_mean(x, {1, 2}, true, "rm_hw_keep");
                 b.reduce_mean(x, {1, 2}, false, "rm_hw");
                 b.reduce_mean(x, {3}, false, "rm_c");
                 auto r = b.input({2, 6, 5}, nnmeter::dtype::f32, "r3");
                 b.reduce_mean(r, {-1}, true, "rm_rank3");
               },
               nullptr});
  v.push_back({"activations",
               [in](graph_builder& b) {
                 auto x = in(b);
                 auto y = b.bn(x, "bn");
                 b.relu(y, "relu");
                 b.relu6(y, "relu6");
                 b.clip(y, -1.0, 1.5, "clip");
                 b.sigmoid(y, "sigmoid");
                 b.hsigmoid(y, "hsigmoid");
                 b.tanh(y, "tanh");
                 b.leaky_relu(y, 0.2, "leaky");
                 b.elu(y, 0.5, "elu");
               },
               nullptr});
  v.push_back({"hswish", [in](graph_builder& b) { b.hswish(in(b), "hs"); },
               [in](graph_builder& b, std::int64_t opset) {
                 auto x = in(b);
                 if (opset >= 14) {
                   b.hswish(x, "hs");
                 } else {
                   auto h = b.hsigmoid(x, "hs/hsigmoid");
                   b.mul(x, h, "hs");
                 }
               }});
  v.push_back({"swish (Sigmoid + Mul)", [in](graph_builder& b) { b.swish(in(b), "sw"); },
               [in](graph_builder& b, std::int64_t) {
                 auto x = in(b);
                 b.mul(x, b.sigmoid(x, "sw/sigmoid"), "sw");
               }});
  v.push_back({"softmax",
               [in](graph_builder& b) {
                 auto x = in(b, {2, 10});
                 b.softmax(x, -1, "sm");
               },
               nullptr});
  v.push_back({"element-wise with broadcasting and constants",
               [in](graph_builder& b) {
                 auto x = in(b);
                 auto y = b.input({1, 1, 1, 8}, nnmeter::dtype::f32, "y");
                 b.add(x, y, "add_bc");
                 b.sub(x, x, "sub");
                 auto c = b.constant({}, nnmeter::dtype::f32, "three");
                 b.mul(x, c, "mul_scalar");
                 auto c4 = b.constant({1, 16, 16, 8}, nnmeter::dtype::f32, "c4");
                 b.div(x, c4, "div_c4");
               },
               nullptr});
  v.push_back({"concat and split",
               [in](graph_builder& b) {
                 auto x = in(b);
                 auto y = b.conv(x, 4, 1, 1, padding_mode::same, 1, 1, true, "c");
                 b.concat({x, y, x}, -1, "cat_c");
                 b.concat({x, x}, 1, "cat_h");
                 auto parts = b.split(x, 2, -1, "split_c");
                 b.relu(parts[0], "r0");
                 b.relu(parts[1], "r1");
                 auto uneven = b.split(x, std::vector<std::int64_t>{4, 12}, 2, "split_w");
                 b.add(uneven[0], uneven[0], "a0");
                 b.add(uneven[1], uneven[1], "a1");
               },
               nullptr});
  v.push_back({"slice",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.slice(x, 3, 2, 8, 2, "sl_c");
                 b.slice(x, 1, -8, 1000, 1, "sl_h");
                 b.slice(x, 2, 10, 0, -3, "sl_w_neg");
               },
               nullptr});
  v.push_back({"channel shuffle (Reshape-Transpose-Reshape)",
               [in](graph_builder& b) { b.channel_shuffle(in(b), 2, "cs"); },
               [in](graph_builder& b, std::int64_t) {
                 auto x = in(b);
                 auto r = b.reshape(x, {1, 2, 4, 16, 16}, "cs/reshape");
                 auto t = b.transpose(r, {0, 2, 1, 3, 4}, "cs/transpose");
                 b.reshape(t, {1, 16, 16, 8}, "cs");
               }});
  v.push_back({"pad, reshape, flatten, transpose, squeeze, unsqueeze",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.pad(x, 1, 2, 0, 3, "pad");
                 b.reshape(x, {1, -1}, "rs_flat");
                 b.reshape(x, {1, 8, 32, 8}, "rs_4d");
                 b.flatten(x, 1, "flat");
                 b.transpose(x, {0, 3, 1, 2}, "tr4");
                 auto g = b.global_avgpool(x, "gap");
                 auto s = b.squeeze(g, {1, 2}, "sq");
                 b.unsqueeze(s, {1, 2}, "unsq");
                 auto r3 = b.input({2, 3, 4}, nnmeter::dtype::f32, "r3");
                 b.transpose(r3, {2, 0, 1}, "tr3");
                 b.reshape(s, {1, 1, 1, 8}, "rs_to4");
               },
               nullptr});
  v.push_back({"resize",
               [in](graph_builder& b) {
                 auto x = in(b);
                 b.resize(x, 2.0, 2.0, "nearest", "up_nearest");
                 b.resize(x, 0.5, 0.5, "linear", "down_linear");
               },
               nullptr});
  v.push_back({"blocks: se, conv_bn_relu, inverted residual",
               [in](graph_builder& b) {
                 auto x = in(b, {1, 28, 28, 16});
                 auto y = b.conv_bn_relu(x, 32, 3, 2, "stem");
                 auto e = b.conv(y, 96, 1, 1, padding_mode::same, 1, 1, true, "expand");
                 e = b.relu6(b.bn(e, "expand_bn"), "expand_relu6");
                 auto d = b.dwconv(e, 3, 1, padding_mode::same, 1, 1, "dw");
                 d = b.relu6(b.bn(d, "dw_bn"), "dw_relu6");
                 d = b.se(d, 4, "se");
                 auto p = b.conv(d, 32, 1, 1, padding_mode::same, 1, 1, true, "project");
                 p = b.bn(p, "project_bn");
                 b.add(y, p, "residual");
               },
               nullptr});
  v.push_back({"float16 network",
               [](graph_builder& b) {
                 auto x = b.input({1, 16, 16, 8}, nnmeter::dtype::f16, "x");
                 auto y = b.relu6(
                     b.bn(b.conv(x, 16, 3, 2, padding_mode::same, 1, 1, true, "c"), "bn"), "r6");
                 y = b.clip(b.dwconv(y, 3, 1, padding_mode::same, 1, 1, "dw"), -2.0, 2.0, "cl");
                 y = b.resize(y, 2.0, 2.0, "nearest", "up");
                 auto k = b.constant({}, nnmeter::dtype::f16, "k");
                 b.fc(b.reduce_mean(b.mul(y, k, "m"), {1, 2}, false, "rm"), 10, true, "fc");
               },
               nullptr});
  return v;
}

graph build_case(const graph_case& c) {
  graph_builder b;
  c.build(b);
  return std::move(b).build();
}

constexpr std::int64_t opsets[] = {10, 11, 12, 13, 14, 15, 16, 17};

}  // namespace

TEST_CASE("onnx writer: every builder op passes check_model and shape inference at opsets 10-17") {
  for (const graph_case& c : cases()) {
    const graph g = build_case(c);
    for (std::int64_t opset : opsets) {
      CAPTURE(c.name);
      CAPTURE(opset);
      io::onnx_write_options o;
      o.opset = opset;
      onnx::ModelProto m = io::to_onnx_model(g, o);
      CHECK(m.opset_import(0).version() == opset);
      std::map<std::string, dims_t> shapes;
      REQUIRE_NOTHROW(shapes = check_and_infer(m));
      CHECK_MESSAGE(shape_mismatches(g, shapes).empty(), shape_mismatches(g, shapes));
    }
  }
}

TEST_CASE("onnx writer: gelu is written as Div-Erf-Add-Mul-Mul with our shapes") {
  graph_builder b;
  auto x = b.input({1, 4, 4, 3}, nnmeter::dtype::f32, "x");
  b.gelu(x, "g");
  const graph g = std::move(b).build();
  onnx::ModelProto m = io::to_onnx_model(g);
  const auto shapes = check_and_infer(m);
  CHECK(shape_mismatches(g, shapes).empty());
  std::string ops;
  for (const auto& n : m.graph().node()) ops += n.op_type() + " ";
  CHECK(ops == "Div Erf Add Mul Mul ");
  CHECK(m.graph().node(4).name() == "g");
}

TEST_CASE("onnx writer: operator forms follow the opset") {
  graph_builder b;
  auto x = b.input({1, 8, 8, 4}, nnmeter::dtype::f32, "x");
  auto r = b.relu6(x, "r6");
  auto parts = b.split(r, 2, -1, "split");
  auto g = b.global_avgpool(parts[0], "gap");
  b.squeeze(g, {1, 2}, "sq");
  b.hswish(parts[1], "hs");
  const graph gr = std::move(b).build();
  auto node_named = [](const onnx::ModelProto& m, const std::string& n) {
    for (const auto& p : m.graph().node())
      if (p.name() == n) return p;
    FAIL("no node " << n);
    return onnx::NodeProto{};
  };
  io::onnx_write_options o;
  o.opset = 11;
  const auto m11 = io::to_onnx_model(gr, o);
  o.opset = 13;
  const auto m13 = io::to_onnx_model(gr, o);
  o.opset = 14;
  const auto m14 = io::to_onnx_model(gr, o);
  // Clip bounds are inputs from opset 11 on.
  CHECK(node_named(m11, "r6").input_size() == 3);
  // Split sizes and Squeeze axes: attributes before 13, inputs from 13 on.
  CHECK(node_named(m11, "split").input_size() == 1);
  CHECK(node_named(m11, "split").attribute_size() == 2);
  CHECK(node_named(m13, "split").input_size() == 2);
  CHECK(node_named(m11, "sq").input_size() == 1);
  CHECK(node_named(m13, "sq").input_size() == 2);
  // The split's outputs are "<name>:k".
  CHECK(node_named(m13, "split").output(1) == "split:1");
  // HardSwish exists from opset 14; below it is HardSigmoid + Mul.
  CHECK(node_named(m13, "hs").op_type() == "Mul");
  CHECK(node_named(m13, "hs/hsigmoid").op_type() == "HardSigmoid");
  CHECK(node_named(m14, "hs").op_type() == "HardSwish");
  CHECK(m11.ir_version() == 6);
  CHECK(m13.ir_version() == 7);
  CHECK(m11.producer_name() == "nnmeter");
}

TEST_CASE("onnx writer: NCHW layout of inputs, weights and attributes") {
  graph_builder b;
  auto x = b.input({1, 20, 30, 3}, nnmeter::dtype::f32, "x");
  auto c = b.conv(x, 16, {3, 5}, {2, 1}, pads4{1, 2, 3, 4}, 1, 1, true, "conv");
  auto d = b.dwconv(c, 3, 1, padding_mode::same, 1, 1, "dw");
  auto t = b.transpose(d, {0, 2, 1, 3}, "swap_hw");
  b.concat({t, t}, 3, "cat");
  const graph g = std::move(b).build();
  const onnx::ModelProto m = io::to_onnx_model(g);
  const auto& in = m.graph().input(0);
  CHECK(in.name() == "x");
  dims_t d_in;
  for (const auto& dd : in.type().tensor_type().shape().dim()) d_in.push_back(dd.dim_value());
  CHECK(d_in == dims_t{1, 3, 20, 30});
  std::map<std::string, dims_t> init;
  for (const auto& tp : m.graph().initializer())
    init[tp.name()] = dims_t(tp.dims().begin(), tp.dims().end());
  CHECK(init["conv/W"] == dims_t{16, 3, 3, 5});
  CHECK(init["conv/B"] == dims_t{16});
  CHECK(init["dw/W"] == dims_t{16, 1, 3, 3});
  for (const auto& p : m.graph().node()) {
    for (const auto& a : p.attribute()) {
      const dims_t ints(a.ints().begin(), a.ints().end());
      if (p.name() == "conv" && a.name() == "pads") CHECK(ints == dims_t{1, 3, 2, 4});
      if (p.name() == "conv" && a.name() == "strides") CHECK(ints == dims_t{2, 1});
      if (p.name() == "dw" && a.name() == "group") CHECK(a.i() == 16);
      if (p.name() == "dw" && a.name() == "auto_pad") CHECK(a.s() == "SAME_UPPER");
      // NHWC perm {0, 2, 1, 3} (swap H and W) is NCHW perm {0, 1, 3, 2}.
      if (p.name() == "swap_hw" && a.name() == "perm") CHECK(ints == dims_t{0, 1, 3, 2});
      if (p.name() == "cat" && a.name() == "axis") CHECK(a.i() == 1);
    }
  }
}

TEST_CASE("onnx writer: weights are deterministic per seed, structure-only models stay valid") {
  graph_builder b;
  auto x = b.input({1, 32, 32, 16}, nnmeter::dtype::f32, "x");
  auto y = b.conv_bn_relu(x, 64, 3, 1, "cbr");
  b.fc(b.global_avgpool(y, "gap"), 100, true, "fc");
  const graph g = std::move(b).build();
  io::onnx_write_options o;
  const std::string a1 = io::to_onnx_bytes(g, o);
  const std::string a2 = io::to_onnx_bytes(g, o);
  CHECK(a1 == a2);
  o.seed = 2;
  const std::string b1 = io::to_onnx_bytes(g, o);
  CHECK(b1.size() == a1.size());
  CHECK(b1 != a1);
  // Conv weights lie in +-1/sqrt(fan_in); BN variances are positive.
  const onnx::ModelProto m = io::to_onnx_model(g);
  for (const auto& tp : m.graph().initializer()) {
    REQUIRE(tp.data_type() == onnx::TensorProto::FLOAT);
    const std::string& raw = tp.raw_data();
    std::size_t n = 1;
    for (auto dd : tp.dims()) n *= static_cast<std::size_t>(dd);
    REQUIRE(raw.size() == 4 * n);
    std::vector<float> v(n);
    std::memcpy(v.data(), raw.data(), raw.size());
    float lo = v[0];
    float hi = v[0];
    for (float f : v) {
      lo = std::min(lo, f);
      hi = std::max(hi, f);
    }
    CAPTURE(tp.name());
    if (tp.name() == "cbr/conv/W") {
      const float bound = 1.0f / std::sqrt(16.0f * 9.0f);
      CHECK(lo >= -bound);
      CHECK(hi <= bound);
      CHECK(hi - lo > bound);  // not constant
    }
    if (tp.name() == "cbr/bn/var") CHECK(lo > 0.0f);
  }
  // Structure only: weights are all-zero sparse initializers with the same dims: far smaller,
  // still valid.
  o = io::onnx_write_options{};
  o.with_weights = false;
  onnx::ModelProto s = io::to_onnx_model(g, o);
  std::string sbytes;
  REQUIRE(s.SerializeToString(&sbytes));
  CHECK(sbytes.size() * 20 < a1.size());
  bool found = false;
  for (const auto& sp : s.graph().sparse_initializer()) {
    if (sp.values().name() == "cbr/conv/W") {
      CHECK(dims_t(sp.dims().begin(), sp.dims().end()) == dims_t{64, 16, 3, 3});
      CHECK(sp.values().dims(0) == 0);
      found = true;
    }
  }
  CHECK(found);
  for (const auto& tp : s.graph().initializer()) CHECK(tp.name() != "cbr/conv/W");
  CHECK_NOTHROW(onnx::checker::check_model(s));
  const auto shapes = check_and_infer(s, /*check_type=*/false);
  CHECK(shape_mismatches(g, shapes).empty());
}

TEST_CASE("onnx writer: write_onnx writes a loadable file, bad paths throw") {
  graph_builder b;
  auto x = b.input({1, 8, 8, 3}, nnmeter::dtype::f32, "x");
  b.relu(b.conv(x, 4, 3, 1, padding_mode::same, 1, 1, true, "c"), "r");
  const graph g = std::move(b).build();
  const std::string path = "nnmeter_test_onnx_write.onnx";
  io::write_onnx(g, path);
  onnx::ModelProto m;
  REQUIRE_NOTHROW(onnx::LoadProtoFromPath(path, m));
  CHECK(m.graph().node_size() == 2);
  CHECK_NOTHROW(onnx::checker::check_model(path));
  std::remove(path.c_str());
  CHECK_THROWS_AS(io::write_onnx(g, "/nonexistent-dir/x.onnx"), nnmeter::error);
}

TEST_CASE("onnx writer: clear errors for what ONNX cannot express") {
  auto throws_with = [](const graph& g, std::int64_t opset, const std::string& needle) {
    io::onnx_write_options o;
    o.opset = opset;
    try {
      (void)io::to_onnx_model(g, o);
      FAIL("no exception; expected one mentioning '" << needle << "'");
    } catch (const nnmeter::unsupported_error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, std::string(e.what()));
    }
  };
  {
    graph_builder b;
    b.relu(b.input({1, 4, 4, 3}, nnmeter::dtype::f32, "x"), "r");
    const graph g = std::move(b).build();
    throws_with(g, 9, "opset 9");
    throws_with(g, 18, "opset 18");
  }
  {  // an op of kind `other`
    graph_builder b;
    b.input({1, 4, 4, 3}, nnmeter::dtype::f32, "x");
    graph g = std::move(b).build();
    nnmeter::node n;
    n.name = "mystery";
    n.op = op_kind::other;
    n.type = "FancyOp";
    n.inputs = {tensor_ref{0, 0}};
    n.input_shapes = {nnmeter::tensor_shape{1, 4, 4, 3}};
    n.output_shapes = {nnmeter::tensor_shape{1, 4, 4, 3}};
    g.add_node(n);
    throws_with(g, 13, "node 'mystery' (other 'FancyOp')");
  }
  {  // matmul of NHWC tensors
    graph_builder b;
    auto x = b.input({1, 2, 4, 4}, nnmeter::dtype::f32, "x");
    b.matmul(x, x, "mm4");
    const graph g = std::move(b).build();
    throws_with(g, 13, "node 'mm4'");
  }
  {  // softmax over channels needs opset 13 (opset 11 would normalise over C, H and W)
    graph_builder b;
    auto x = b.input({1, 2, 2, 4}, nnmeter::dtype::f32, "x");
    b.softmax(x, 3, "sm");
    const graph g = std::move(b).build();
    throws_with(g, 11, "node 'sm'");
    io::onnx_write_options o;
    o.opset = 13;
    onnx::ModelProto m = io::to_onnx_model(g, o);
    CHECK(shape_mismatches(g, check_and_infer(m)).empty());
  }
  {  // reduce over H only without keepdims: [N, W, C] vs NCHW's [N, C, W]
    graph_builder b;
    auto x = b.input({1, 2, 3, 4}, nnmeter::dtype::f32, "x");
    b.reduce_mean(x, {1}, false, "rm_h");
    const graph g = std::move(b).build();
    throws_with(g, 13, "node 'rm_h'");
  }
  {  // a rank-1 activation broadcast against NHWC
    graph_builder b;
    auto x = b.input({1, 2, 3, 4}, nnmeter::dtype::f32, "x");
    auto v = b.input({4}, nnmeter::dtype::f32, "v");
    b.add(x, v, "add_vec");
    const graph g = std::move(b).build();
    throws_with(g, 13, "node 'add_vec'");
  }
  {  // a generated name collides with a node name
    graph_builder b;
    auto x = b.input({1, 4, 4, 3}, nnmeter::dtype::f32, "c/W");
    b.conv(x, 4, 3, 1, padding_mode::same, 1, 1, true, "c");
    const graph g = std::move(b).build();
    throws_with(g, 13, "collides");
  }
}

TEST_CASE("onnx writer: a rank-1 constant broadcast against NHWC is written as [1, C, 1, 1]") {
  graph_builder b;
  auto x = b.input({1, 5, 6, 4}, nnmeter::dtype::f32, "x");
  auto c = b.constant({4}, nnmeter::dtype::f32, "scale");
  b.mul(x, c, "m");
  const graph g = std::move(b).build();
  onnx::ModelProto m = io::to_onnx_model(g);
  for (const auto& tp : m.graph().initializer())
    if (tp.name() == "scale")
      CHECK(dims_t(tp.dims().begin(), tp.dims().end()) == dims_t{1, 4, 1, 1});
  CHECK(shape_mismatches(g, check_and_infer(m)).empty());
}

#if NNMETER_TEST_HAVE_IMPORTER
TEST_CASE("onnx writer: graph -> writer -> importer gives the graph back") {
  for (const graph_case& c : cases()) {
    const graph g = build_case(c);
    for (std::int64_t opset : {10, 11, 13, 14, 17}) {
      CAPTURE(c.name);
      CAPTURE(opset);
      graph want = importer_normal_form(g);
      if (c.expected) {
        graph_builder e;
        c.expected(e, opset);
        want = importer_normal_form(std::move(e).build());
      }
      io::onnx_write_options o;
      o.opset = opset;
      const std::string bytes = io::to_onnx_bytes(g, o);
      io::onnx_import_result r;
      REQUIRE_NOTHROW(r = io::import_onnx_from_memory(bytes.data(), bytes.size(), {}, c.name));
      const std::string diff = graph_differences(want, r.graph);
      CHECK_MESSAGE(diff.empty(), diff);
      CHECK(r.accounting.other == 0);
      CHECK(r.accounting.nodes_in_file == r.accounting.imported + r.accounting.folded +
                                              r.accounting.aliased + r.accounting.constants);
      CHECK(r.info.opset == opset);
      CHECK(r.info.producer_name == "nnmeter");
    }
  }
}

TEST_CASE("onnx writer: a structure-only model (sparse zero weights) imports to the same graph") {
  for (const graph_case& c : cases()) {
    if (c.expected) continue;
    CAPTURE(c.name);
    const graph g = build_case(c);
    io::onnx_write_options o;
    o.with_weights = false;
    const onnx::ModelProto m = io::to_onnx_model(g, o);
    io::onnx_import_result r;
    REQUIRE_NOTHROW(r = io::import_onnx(m, {}, c.name));
    const std::string diff = graph_differences(importer_normal_form(g), r.graph);
    CHECK_MESSAGE(diff.empty(), diff);
  }
}
#else
TEST_CASE("onnx writer: round trip needs the importer") {
  FAIL(
      "include/nnmeter/io/onnx_import.hpp is missing: the graph -> writer -> importer round "
      "trip is not tested");
}
#endif

TEST_CASE("onnx writer: a gather whose constant indices are not operands gets zero indices") {
  graph_builder b;
  b.input({5, 3}, nnmeter::dtype::f32, "x");
  graph g = std::move(b).build();
  nnmeter::node n;
  n.name = "gather";
  n.op = op_kind::gather;
  n.type = "Gather";
  n.inputs = {tensor_ref{0, 0}};
  n.input_shapes = {nnmeter::tensor_shape{5, 3}};
  n.output_shapes = {nnmeter::tensor_shape{4, 6, 3}};  // indices [4, 6] along axis 0
  n.attrs.axis = 0;
  g.add_node(n);
  onnx::ModelProto m = io::to_onnx_model(g);
  bool found = false;
  for (const auto& tp : m.graph().initializer()) {
    if (tp.name() != "gather/indices") continue;
    found = true;
    CHECK(dims_t(tp.dims().begin(), tp.dims().end()) == dims_t{4, 6});
    CHECK(tp.data_type() == onnx::TensorProto::INT64);
  }
  CHECK(found);
  CHECK(shape_mismatches(g, check_and_infer(m)).empty());
  n.name = "bad_gather";
  n.output_shapes = {nnmeter::tensor_shape{4, 6, 7}};
  g.add_node(n);
  CHECK_THROWS_AS(io::to_onnx_model(g), nnmeter::unsupported_error);
}

TEST_CASE("onnx writer: with_value_info records every intermediate tensor in NCHW") {
  graph_builder b;
  auto x = b.input({1, 8, 8, 4}, nnmeter::dtype::f32, "x");
  auto y = b.relu(b.conv(x, 6, 3, 2, padding_mode::same, 1, 1, true, "c"), "r");
  b.global_avgpool(y, "gap");
  const graph g = std::move(b).build();
  io::onnx_write_options o;
  o.with_value_info = true;
  onnx::ModelProto m = io::to_onnx_model(g, o);
  std::map<std::string, dims_t> vi;
  for (const auto& v : m.graph().value_info()) {
    dims_t d;
    for (const auto& dd : v.type().tensor_type().shape().dim()) d.push_back(dd.dim_value());
    vi[v.name()] = d;
  }
  CHECK(vi.size() == 2);  // c and r; gap is a graph output, x a graph input
  CHECK(vi["c"] == dims_t{1, 6, 4, 4});
  CHECK(vi["r"] == dims_t{1, 6, 4, 4});
  CHECK(shape_mismatches(g, check_and_infer(m)).empty());
  o.with_value_info = false;
  CHECK(io::to_onnx_model(g, o).graph().value_info_size() == 0);
}
