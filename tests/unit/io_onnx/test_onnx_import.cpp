// ONNX import: op mapping, layout, folding of shape subgraphs, aliases, accounting.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include "onnx_test_model.hpp"

#include <algorithm>
#include <string>
#include <vector>

using nnmeter::op_kind;
using nnmeter::tensor_shape;
using onnx_test::attr;
using onnx_test::id;
using onnx_test::model_builder;

namespace {

// conv(3x3, s2, pad 1) -> bn -> relu -> maxpool -> identity -> gap -> flatten -> gemm, as a
// torchvision classifier exports it.
model_builder tiny_classifier() {
  model_builder b(13);
  b.input("input", {1, 3, 32, 32}).output("logits");
  b.weight("w", {16, 3, 3, 3}).weight("cb", {16});
  b.weight("s", {16}).weight("bb", {16}).weight("mean", {16}).weight("var", {16});
  b.weight("fcw", {10, 16}).weight("fcb", {10});
  auto& c = b.node("Conv", {"input", "w", "cb"}, {"c"}, "Conv_0");
  attr(c, "kernel_shape", {3, 3});
  attr(c, "strides", {2, 2});
  attr(c, "pads", {1, 1, 1, 1});
  b.node("BatchNormalization", {"c", "s", "bb", "mean", "var"}, {"bn"}, "BN_1");
  b.node("Relu", {"bn"}, {"r"}, "Relu_2");
  auto& mp = b.node("MaxPool", {"r"}, {"mp"}, "MaxPool_3");
  attr(mp, "kernel_shape", {3, 3});
  attr(mp, "strides", {2, 2});
  attr(mp, "pads", {1, 1, 1, 1});
  b.node("Identity", {"mp"}, {"id"}, "Identity_4");
  b.node("GlobalAveragePool", {"id"}, {"gap"}, "GAP_5");
  b.node("Flatten", {"gap"}, {"flat"}, "Flatten_6");
  auto& g = b.node("Gemm", {"flat", "fcw", "fcb"}, {"logits"}, "Gemm_7");
  attr(g, "transB", std::int64_t{1});
  return b;
}

}  // namespace

TEST_CASE("a torchvision-style classifier imports with kinds, NHWC shapes and attributes") {
  const auto r = tiny_classifier().import();
  const nnmeter::graph& g = r.graph;
  CHECK(onnx_test::balanced(r.accounting));
  CHECK(r.accounting.nodes_in_file == 8);
  CHECK(r.accounting.imported == 7);
  CHECK(r.accounting.aliased == 1);
  CHECK(r.accounting.other == 0);
  CHECK(g.num_nodes() == 8);  // input + 7 ops
  CHECK(g.op(id(g, "input")) == op_kind::input);
  CHECK(g.output_shapes(id(g, "input"))[0] == tensor_shape{1, 32, 32, 3});
  const auto conv = id(g, "Conv_0");
  CHECK(g.op(conv) == op_kind::conv);
  CHECK(g.type(conv) == "Conv");
  CHECK(g.output_shapes(conv)[0] == tensor_shape{1, 16, 16, 16});
  CHECK(g.input_shapes(conv)[0] == tensor_shape{1, 32, 32, 3});
  CHECK(g.attrs(conv).kernel == std::array<std::int64_t, 2>{3, 3});
  CHECK(g.attrs(conv).strides == std::array<std::int64_t, 2>{2, 2});
  CHECK(g.attrs(conv).pads == std::array<std::int64_t, 4>{1, 1, 1, 1});
  CHECK(g.attrs(conv).groups == 1);
  CHECK(g.attrs(conv).has_bias);
  CHECK(g.inputs(conv).size() == 1);  // weights are not operands
  CHECK(g.op(id(g, "BN_1")) == op_kind::bn);
  CHECK(g.op(id(g, "Relu_2")) == op_kind::relu);
  CHECK(g.op(id(g, "MaxPool_3")) == op_kind::maxpool);
  CHECK(g.output_shapes(id(g, "MaxPool_3"))[0] == tensor_shape{1, 8, 8, 16});
  // The Identity is an alias: the GAP reads the maxpool directly.
  const auto gap = id(g, "GAP_5");
  CHECK(g.op(gap) == op_kind::global_avgpool);
  CHECK(g.predecessors(gap) == std::vector<nnmeter::node_index>{id(g, "MaxPool_3")});
  CHECK(g.output_shapes(gap)[0] == tensor_shape{1, 1, 1, 16});
  CHECK(g.op(id(g, "Flatten_6")) == op_kind::flatten);
  CHECK(g.output_shapes(id(g, "Flatten_6"))[0] == tensor_shape{1, 16});
  const auto fc = id(g, "Gemm_7");
  CHECK(g.op(fc) == op_kind::fc);
  CHECK(g.attrs(fc).has_bias);
  CHECK(g.output_shapes(fc)[0] == tensor_shape{1, 10});
  REQUIRE(r.outputs.size() == 1);
  CHECK(r.outputs[0].name == "logits");
  CHECK(r.outputs[0].shape == tensor_shape{1, 10});
  CHECK(r.outputs[0].shape_known);
  CHECK(r.info.opset == 13);
  CHECK(r.info.ir_version == 8);
  CHECK(r.info.producer_name == "nnmeter-test");
  CHECK(r.info.graph_name == "test_graph");
  // Kernel detection runs on the import.
  const auto kernels = nnmeter::detect_kernels(g, nnmeter::default_rules());
  CHECK(!kernels.empty());
}

TEST_CASE("depthwise, grouped and SAME-padded convolutions") {
  model_builder b(13);
  b.input("x", {1, 8, 15, 15}).output("dw").output("gc").output("same");
  b.weight("wdw", {8, 1, 3, 3}).weight("wg", {16, 4, 1, 1}).weight("ws", {4, 8, 3, 3});
  auto& dw = b.node("Conv", {"x", "wdw"}, {"dw"}, "dw");
  attr(dw, "group", std::int64_t{8});
  attr(dw, "pads", {1, 1, 1, 1});
  auto& gc = b.node("Conv", {"x", "wg"}, {"gc"}, "gc");
  attr(gc, "group", std::int64_t{2});
  auto& sm = b.node("Conv", {"x", "ws"}, {"same"}, "same");
  onnx_test::attr_s(sm, "auto_pad", "SAME_UPPER");
  attr(sm, "strides", {2, 2});
  const auto r = b.import();
  const auto& g = r.graph;
  const auto d = id(g, "dw");
  CHECK(g.op(d) == op_kind::dwconv);
  CHECK(g.attrs(d).groups == 8);
  CHECK_FALSE(g.attrs(d).has_bias);
  CHECK(g.output_shapes(d)[0] == tensor_shape{1, 15, 15, 8});
  const auto c = id(g, "gc");
  CHECK(g.op(c) == op_kind::conv);
  CHECK(g.attrs(c).groups == 2);
  CHECK(g.attrs(c).kernel == std::array<std::int64_t, 2>{1, 1});  // from the weight's dims
  CHECK(g.output_shapes(c)[0] == tensor_shape{1, 15, 15, 16});
  const auto s = id(g, "same");
  CHECK(g.attrs(s).padding == nnmeter::padding_mode::same);
  CHECK(g.attrs(s).pads == std::array<std::int64_t, 4>{1, 1, 1, 1});  // resolved
  CHECK(g.output_shapes(s)[0] == tensor_shape{1, 8, 8, 4});
}

TEST_CASE("pooling: ceil_mode, SAME_UPPER, global pooling and ReduceMean over H, W") {
  model_builder b(13);
  b.input("x", {1, 4, 10, 10}).output("mp").output("ap").output("gmp").output("rm");
  auto& mp = b.node("MaxPool", {"x"}, {"mp"}, "mp");
  attr(mp, "kernel_shape", {3, 3});
  attr(mp, "strides", {2, 2});
  attr(mp, "ceil_mode", std::int64_t{1});
  auto& ap = b.node("AveragePool", {"x"}, {"ap"}, "ap");
  attr(ap, "kernel_shape", {3, 3});
  attr(ap, "strides", {3, 3});
  onnx_test::attr_s(ap, "auto_pad", "SAME_UPPER");
  b.node("GlobalMaxPool", {"x"}, {"gmp"}, "gmp");
  auto& rm = b.node("ReduceMean", {"x"}, {"rm"}, "rm");
  attr(rm, "axes", {2, 3});
  attr(rm, "keepdims", std::int64_t{0});
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(g.op(id(g, "mp")) == op_kind::maxpool);
  CHECK(g.attrs(id(g, "mp")).ceil_mode);
  CHECK(g.output_shapes(id(g, "mp"))[0] == tensor_shape{1, 5, 5, 4});
  CHECK(g.op(id(g, "ap")) == op_kind::avgpool);
  CHECK(g.attrs(id(g, "ap")).padding == nnmeter::padding_mode::same);
  CHECK(g.output_shapes(id(g, "ap"))[0] == tensor_shape{1, 4, 4, 4});
  CHECK(g.op(id(g, "gmp")) == op_kind::global_maxpool);
  CHECK(g.output_shapes(id(g, "gmp"))[0] == tensor_shape{1, 1, 1, 4});
  const auto m = id(g, "rm");
  CHECK(g.op(m) == op_kind::reduce_mean);
  CHECK(g.attrs(m).axes == std::vector<std::int64_t>{1, 2});  // H, W in NHWC
  CHECK_FALSE(g.attrs(m).keepdims);
  CHECK(g.output_shapes(m)[0] == tensor_shape{1, 4});
}

TEST_CASE("activations: Clip forms, HardSigmoid, HardSwish, x * HardSigmoid(x)") {
  SUBCASE("Clip with attributes at opset 10 is relu6 or clip") {
    model_builder b(10);
    b.input("x", {1, 4, 8, 8}).output("a").output("c");
    auto& a = b.node("Clip", {"x"}, {"a"}, "a");
    onnx_test::attr_f(a, "min", 0.0f);
    onnx_test::attr_f(a, "max", 6.0f);
    auto& c = b.node("Clip", {"a"}, {"c"}, "c");
    onnx_test::attr_f(c, "min", -1.0f);
    onnx_test::attr_f(c, "max", 1.0f);
    const auto r = b.import();
    CHECK(r.graph.op(id(r.graph, "a")) == op_kind::relu6);
    const auto c_id = id(r.graph, "c");
    CHECK(r.graph.op(c_id) == op_kind::clip);
    CHECK(r.graph.attrs(c_id).clip_min == -1.0f);
    CHECK(r.graph.attrs(c_id).clip_max == 1.0f);
  }
  SUBCASE("Clip with inputs at opset 13: Constant bounds, initializer bounds, only a min") {
    model_builder b(13);
    b.input("x", {1, 4, 8, 8}).output("a").output("c");
    b.floats("lo", {0.0f}, true).floats("hi", {6.0f}, true);
    onnx_test::attr_ints_tensor(b.node("Constant", {}, {"k"}, "k"), {0});
    b.node("Clip", {"x", "lo", "hi"}, {"a"}, "a");
    b.node("Clip", {"a", "lo"}, {"c"}, "c");
    const auto r = b.import();
    CHECK(r.graph.op(id(r.graph, "a")) == op_kind::relu6);
    CHECK(r.graph.inputs(id(r.graph, "a")).size() == 1);  // bounds are parameters
    CHECK(r.graph.op(id(r.graph, "c")) == op_kind::clip);
    CHECK(r.graph.attrs(id(r.graph, "c")).clip_min == 0.0f);
    CHECK(r.accounting.constants == 1);
  }
  SUBCASE("HardSigmoid, HardSwish and the x * HardSigmoid(x) pattern") {
    model_builder b(14);
    b.input("x", {1, 16, 8, 8}).output("m").output("hs");
    auto& h = b.node("HardSigmoid", {"x"}, {"h"}, "h");
    onnx_test::attr_f(h, "alpha", 1.0f / 6.0f);
    b.node("Mul", {"x", "h"}, {"m"}, "m");
    b.node("HardSwish", {"x"}, {"hs"}, "hs");
    const auto r = b.import();
    const auto& g = r.graph;
    CHECK(g.op(id(g, "h")) == op_kind::hsigmoid);
    CHECK(g.attrs(id(g, "h")).alpha == doctest::Approx(1.0 / 6.0));
    CHECK(g.attrs(id(g, "h")).beta == 0.5f);
    CHECK(g.op(id(g, "m")) == op_kind::mul);
    CHECK(g.inputs(id(g, "m")).size() == 2);
    CHECK(g.op(id(g, "hs")) == op_kind::hswish);
  }
  SUBCASE("other activations") {
    model_builder b(13);
    b.input("x", {2, 5}).output("s").output("t").output("l").output("p").output("e").output("sm");
    b.weight("slope", {5});
    b.node("Sigmoid", {"x"}, {"s"}, "s");
    b.node("Tanh", {"x"}, {"t"}, "t");
    onnx_test::attr_f(b.node("LeakyRelu", {"x"}, {"l"}, "l"), "alpha", 0.2f);
    b.node("PRelu", {"x", "slope"}, {"p"}, "p");
    b.node("Elu", {"x"}, {"e"}, "e");
    b.node("Softmax", {"x"}, {"sm"}, "sm");
    const auto r = b.import();
    const auto& g = r.graph;
    CHECK(g.op(id(g, "s")) == op_kind::sigmoid);
    CHECK(g.op(id(g, "t")) == op_kind::tanh);
    CHECK(g.op(id(g, "l")) == op_kind::leaky_relu);
    CHECK(g.attrs(id(g, "l")).alpha == 0.2f);
    CHECK(g.op(id(g, "p")) == op_kind::prelu);
    CHECK(g.inputs(id(g, "p")).size() == 1);
    CHECK(g.op(id(g, "e")) == op_kind::elu);
    CHECK(g.op(id(g, "sm")) == op_kind::softmax);
    CHECK(g.attrs(id(g, "sm")).axis == 1);
  }
}

TEST_CASE("layout: rank-4 axes, perms and pads are remapped to NHWC, other ranks keep ONNX order") {
  model_builder b(13);
  b.input("x", {1, 8, 6, 6}).input("v", {2, 3, 4}).output("cat").output("t").output("sp0").output("sp1")
      .output("pd").output("sq").output("un").output("cv").output("ga");
  auto& cat = b.node("Concat", {"x", "x"}, {"cat"}, "cat");
  attr(cat, "axis", std::int64_t{1});
  auto& t = b.node("Transpose", {"x"}, {"t"}, "t");
  attr(t, "perm", {0, 1, 3, 2});  // swap H and W
  b.ints("split", {3, 5});
  auto& sp = b.node("Split", {"x", "split"}, {"sp0", "sp1"}, "sp");
  attr(sp, "axis", std::int64_t{1});
  b.ints("pads", {0, 0, 1, 2, 0, 0, 3, 4});
  b.node("Pad", {"x", "pads"}, {"pd"}, "pd");
  b.ints("ax", {1});
  b.node("Squeeze", {"sp0_1", "ax"}, {"sq"}, "sq");
  auto& cv = b.node("Concat", {"v", "v"}, {"cv"}, "cv");
  attr(cv, "axis", std::int64_t{-1});
  b.node("Unsqueeze", {"v", "ax"}, {"un"}, "un");
  b.ints("idx", {0, 2});
  auto& ga = b.node("Gather", {"x", "idx"}, {"ga"}, "ga");
  attr(ga, "axis", std::int64_t{1});
  // sq reads a slice of x with one channel: Slice(x, [0], [1], axes [1]).
  b.ints("s0", {0}).ints("s1", {1});
  b.node("Slice", {"x", "s0", "s1", "ax"}, {"sp0_1"}, "slice");
  // the Slice is listed after its consumer: the importer sorts topologically.
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(g.attrs(id(g, "cat")).axis == 3);
  CHECK(g.output_shapes(id(g, "cat"))[0] == tensor_shape{1, 6, 6, 16});
  CHECK(g.attrs(id(g, "t")).perm == std::vector<std::int64_t>{0, 2, 1, 3});
  CHECK(g.output_shapes(id(g, "t"))[0] == tensor_shape{1, 6, 6, 8});
  const auto s = id(g, "sp");
  CHECK(g.op(s) == op_kind::split);
  CHECK(g.attrs(s).axis == 3);
  CHECK(g.attrs(s).split_sizes == std::vector<std::int64_t>{3, 5});
  CHECK(g.output_shapes(s).size() == 2);
  CHECK(g.output_shapes(s)[1] == tensor_shape{1, 6, 6, 5});
  const auto p = id(g, "pd");
  CHECK(g.op(p) == op_kind::pad);
  CHECK(g.attrs(p).pads == std::array<std::int64_t, 4>{1, 3, 2, 4});
  CHECK(g.output_shapes(p)[0] == tensor_shape{1, 10, 12, 8});
  const auto sl = id(g, "slice");
  CHECK(g.op(sl) == op_kind::slice);
  CHECK(g.attrs(sl).axes == std::vector<std::int64_t>{3});
  CHECK(g.output_shapes(sl)[0] == tensor_shape{1, 6, 6, 1});
  CHECK(g.output_shapes(id(g, "sq"))[0] == tensor_shape{1, 6, 6});  // rank 3: ONNX order
  CHECK(g.attrs(id(g, "cv")).axis == 2);
  CHECK(g.output_shapes(id(g, "cv"))[0] == tensor_shape{2, 3, 8});
  CHECK(g.op(id(g, "un")) == op_kind::unsqueeze);
  CHECK(g.attrs(id(g, "un")).axes == std::vector<std::int64_t>{3});  // axis 1 of a rank-4 output
  CHECK(g.output_shapes(id(g, "un"))[0] == tensor_shape{2, 3, 4, 1});
  CHECK(g.attrs(id(g, "ga")).axis == 3);
  CHECK(g.output_shapes(id(g, "ga"))[0] == tensor_shape{1, 6, 6, 2});
  for (const auto& o : r.outputs) CHECK(o.shape_known);
  CHECK(nnmeter::io::shape_to_onnx(r.outputs[0].shape) == std::vector<std::int64_t>{1, 16, 6, 6});
}

TEST_CASE("Resize, Upsample, Cast, Flatten, MatMul and Gemm forms") {
  model_builder b(13);
  b.input("x", {1, 4, 5, 5}).input("a", {3, 7}).input("c", {7, 2})
      .output("rs").output("ca").output("mm").output("fc").output("g2");
  b.floats("scales", {1.0f, 1.0f, 2.0f, 3.0f});
  auto& rs = b.node("Resize", {"x", "", "scales"}, {"rs"}, "rs");
  onnx_test::attr_s(rs, "mode", "linear");
  auto& ca = b.node("Cast", {"x"}, {"ca"}, "ca");
  attr(ca, "to", std::int64_t{onnx::TensorProto::FLOAT16});
  b.node("MatMul", {"a", "c"}, {"mm"}, "mm");  // two activations
  b.weight("w", {7, 9});
  b.node("MatMul", {"a", "w"}, {"fc"}, "fc");
  b.weight("w2", {7, 4});
  b.node("Gemm", {"a", "w2"}, {"g2"}, "g2");
  const auto r = b.import();
  const auto& g = r.graph;
  const auto z = id(g, "rs");
  CHECK(g.op(z) == op_kind::resize);
  CHECK(g.attrs(z).mode == "linear");
  CHECK(g.attrs(z).scales == std::array<float, 2>{2.0f, 3.0f});
  CHECK(g.output_shapes(z)[0] == tensor_shape{1, 10, 15, 4});
  CHECK(g.op(id(g, "ca")) == op_kind::cast);
  CHECK(g.elem_type(id(g, "ca")) == nnmeter::dtype::f16);
  CHECK(g.op(id(g, "mm")) == op_kind::matmul);
  CHECK(g.inputs(id(g, "mm")).size() == 2);
  CHECK(g.op(id(g, "fc")) == op_kind::fc);
  CHECK_FALSE(g.attrs(id(g, "fc")).has_bias);
  CHECK(g.output_shapes(id(g, "fc"))[0] == tensor_shape{3, 9});
  CHECK(g.op(id(g, "g2")) == op_kind::fc);
  CHECK_FALSE(g.attrs(id(g, "g2")).has_bias);

  model_builder u(9);
  u.input("x", {1, 2, 3, 3}).output("y");
  u.floats("s", {1.0f, 1.0f, 2.0f, 2.0f});
  u.node("Upsample", {"x", "s"}, {"y"}, "up");
  const auto ru = u.import();
  CHECK(ru.graph.op(id(ru.graph, "up")) == op_kind::resize);
  CHECK(ru.graph.output_shapes(id(ru.graph, "up"))[0] == tensor_shape{1, 6, 6, 2});
}

TEST_CASE("shape subgraphs fold: ShuffleNet's chunk and channel shuffle") {
  // x.chunk(2, dim=1) as torch 1.13 exports it at opset 13, then the channel shuffle
  // Reshape -> Transpose -> Reshape with shapes computed by Shape -> Gather -> Unsqueeze -> Concat.
  model_builder b(13);
  b.input("x", {1, 116, 28, 28}).output("out");
  b.node("Shape", {"x"}, {"shp"}, "Shape_0");
  onnx_test::attr_ints_tensor(b.node("Constant", {}, {"c1"}, "Constant_1"), {1});
  b.node("Gather", {"shp", "c1"}, {"ch"}, "Gather_2");
  onnx_test::attr_ints_tensor(b.node("Constant", {}, {"one"}, "Constant_3"), {1});
  b.node("Add", {"ch", "one"}, {"ch1"}, "Add_4");
  onnx_test::attr_ints_tensor(b.node("Constant", {}, {"two"}, "Constant_5"), {2});
  b.node("Div", {"ch1", "two"}, {"half"}, "Div_6");
  onnx_test::attr_ints_tensor(b.node("Constant", {}, {"k1"}, "Constant_7"), {1});
  b.node("Mul", {"half", "k1"}, {"end1"}, "Mul_8");
  b.ints("zero", {0}).ints("axis1", {1});
  b.node("Slice", {"x", "zero", "end1", "axis1"}, {"left"}, "Slice_9");
  b.ints("big", {9223372036854775807LL});
  b.node("Slice", {"x", "end1", "big", "axis1"}, {"right"}, "Slice_10");
  b.node("Relu", {"right"}, {"rr"}, "Relu_11");
  auto& cat = b.node("Concat", {"left", "rr"}, {"cat"}, "Concat_12");
  attr(cat, "axis", std::int64_t{1});
  // channel shuffle: Reshape(cat, [N, 2, C/2, H, W]) with N, H, W from Shape.
  b.node("Shape", {"cat"}, {"s2"}, "Shape_13");
  b.ints("i0", {0}, true).ints("i2", {2}, true).ints("i3", {3}, true);
  b.node("Gather", {"s2", "i0"}, {"n"}, "Gather_14");
  b.node("Gather", {"s2", "i2"}, {"h"}, "Gather_15");
  b.node("Gather", {"s2", "i3"}, {"w"}, "Gather_16");
  b.ints("ax0", {0});
  b.node("Unsqueeze", {"n", "ax0"}, {"n1"}, "Unsqueeze_17");
  b.node("Unsqueeze", {"h", "ax0"}, {"h1"}, "Unsqueeze_18");
  b.node("Unsqueeze", {"w", "ax0"}, {"w1"}, "Unsqueeze_19");
  b.ints("g", {2}).ints("cg", {58});
  auto& c5 = b.node("Concat", {"n1", "g", "cg", "h1", "w1"}, {"shape5"}, "Concat_20");
  attr(c5, "axis", std::int64_t{0});
  b.node("Reshape", {"cat", "shape5"}, {"r5"}, "Reshape_21");
  auto& tr = b.node("Transpose", {"r5"}, {"t5"}, "Transpose_22");
  attr(tr, "perm", {0, 2, 1, 3, 4});
  b.ints("back", {1, -1, 28, 28});
  b.node("Reshape", {"t5", "back"}, {"out"}, "Reshape_23");
  const auto r = b.import();
  const auto& g = r.graph;
  const auto& a = r.accounting;
  CHECK(onnx_test::balanced(a));
  CHECK(a.constants == 4);
  CHECK(a.folded == 13);  // Shape x2, Gather x4, Add, Div, Mul, Unsqueeze x3, Concat_20
  CHECK(a.imported == 7);  // Slice x2, Relu, Concat, Reshape x2, Transpose
  CHECK(a.data_dependent_nodes.empty());
  CHECK(a.other == 0);
  CHECK(g.output_shapes(id(g, "Slice_9"))[0] == tensor_shape{1, 28, 28, 58});
  CHECK(g.output_shapes(id(g, "Slice_10"))[0] == tensor_shape{1, 28, 28, 58});
  CHECK(g.output_shapes(id(g, "Concat_12"))[0] == tensor_shape{1, 28, 28, 116});
  CHECK(g.output_shapes(id(g, "Reshape_21"))[0] == tensor_shape{1, 2, 58, 28, 28});
  CHECK(g.attrs(id(g, "Reshape_21")).target_shape == std::vector<std::int64_t>{1, 2, 58, 28, 28});
  CHECK(g.output_shapes(id(g, "Transpose_22"))[0] == tensor_shape{1, 58, 2, 28, 28});
  CHECK(g.attrs(id(g, "Transpose_22")).perm == std::vector<std::int64_t>{0, 2, 1, 3, 4});
  CHECK(g.output_shapes(id(g, "Reshape_23"))[0] == tensor_shape{1, 28, 28, 116});
  CHECK(g.attrs(id(g, "Reshape_23")).target_shape == std::vector<std::int64_t>{1, 28, 28, 116});
  for (const auto& n : g.nodes())
    for (const auto& s : n.output_shapes) CHECK_MESSAGE(s.is_static(), n.name);
  // The Slice reads only x: starts / ends are parameters.
  CHECK(g.predecessors(id(g, "Slice_10")) == std::vector<nnmeter::node_index>{id(g, "x")});
  // nn-Meter's channelshuffle pattern (reshape -> transpose -> reshape) is found.
  bool shuffle = false;
  for (const auto& k : nnmeter::detect_kernels(g, nnmeter::default_rules()))
    shuffle = shuffle || k.op == "channelshuffle";
  CHECK(shuffle);
}

TEST_CASE("aliases, constants as operands, constant subgraphs") {
  model_builder b(13);
  b.input("x", {1, 4, 4, 4}).output("y").output("z");
  b.weight("w", {4, 4, 1, 1});
  b.node("Identity", {"w"}, {"w_id"}, "Identity_w");  // torch's de-duplicated initializer
  b.node("Conv", {"x", "w_id"}, {"c"}, "conv");
  auto& d = b.node("Dropout", {"c"}, {"dr"}, "drop");
  (void)d;
  onnx::NodeProto& k = b.node("Constant", {}, {"three"}, "three");
  auto* a = k.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  a->mutable_t()->add_float_data(3.0f);
  b.node("Add", {"dr", "three"}, {"y"}, "add");
  b.weight("bias", {1, 4, 1, 1});
  b.node("Mul", {"x", "bias"}, {"z"}, "mul");
  const auto r = b.import();
  const auto& g = r.graph;
  const auto& acc = r.accounting;
  CHECK(onnx_test::balanced(acc));
  CHECK(acc.aliased == 2);
  CHECK(acc.constants == 1);
  CHECK(acc.imported == 3);
  CHECK(g.op(id(g, "conv")) == op_kind::conv);
  CHECK(g.attrs(id(g, "conv")).kernel == std::array<std::int64_t, 2>{1, 1});
  const auto add = id(g, "add");
  REQUIRE(g.inputs(add).size() == 2);
  CHECK(g.inputs(add)[0].node == id(g, "conv"));  // through the Dropout alias
  const auto k3 = g.inputs(add)[1].node;
  CHECK(g.op(k3) == op_kind::constant);
  CHECK(g.name(k3) == "three");
  CHECK(g.output_shapes(k3)[0].rank() == 0);
  const auto mul = id(g, "mul");
  REQUIRE(g.inputs(mul).size() == 2);
  CHECK(g.op(g.inputs(mul)[1].node) == op_kind::constant);
  CHECK(g.output_shapes(g.inputs(mul)[1].node)[0] == tensor_shape{1, 1, 1, 4});
  CHECK(g.input_shapes(mul)[1] == tensor_shape{1, 1, 1, 4});
  CHECK(g.num_nodes() == 6);  // x, conv, add, mul and two constants
}

TEST_CASE("unknown ops stay as other and data-dependent ops do not stop the import") {
  model_builder b(13);
  b.input("x", {1, 3, 8, 8}).output("y").output("top").output("z");
  auto* d = b.model().add_opset_import();
  d->set_domain("com.example");
  d->set_version(1);
  auto& c = b.node("MyOp", {"x"}, {"m"}, "custom");
  c.set_domain("com.example");
  b.node("Relu", {"m"}, {"y"}, "after_custom");
  b.node("NonZero", {"x"}, {"nz"}, "nonzero");
  b.node("Transpose", {"nz"}, {"nzt"}, "nz_t");
  b.node("Shape", {"nzt"}, {"nzs"}, "nz_shape");
  attr(b.node("Cast", {"nzs"}, {"z"}, "nz_cast"), "to", std::int64_t{onnx::TensorProto::INT32});
  b.weight("flat", {1, 192});
  b.node("Flatten", {"x"}, {"fl"}, "flat");
  b.ints("k", {5});
  b.node("TopK", {"fl", "k"}, {"top", "topi"}, "topk");
  const auto r = b.import();
  const auto& g = r.graph;
  const auto& a = r.accounting;
  CHECK(onnx_test::balanced(a));
  CHECK(g.op(id(g, "custom")) == op_kind::other);
  CHECK(g.type(id(g, "custom")) == "MyOp");
  CHECK(g.op(id(g, "after_custom")) == op_kind::relu);
  CHECK(g.op(id(g, "nonzero")) == op_kind::other);
  CHECK(g.op(id(g, "nz_shape")) == op_kind::other);  // cannot be folded: data-dependent
  CHECK(g.output_shapes(id(g, "nonzero"))[0] == tensor_shape{4, -1});
  const auto& dd = a.data_dependent_nodes;
  CHECK(std::find(dd.begin(), dd.end(), "nonzero") != dd.end());
  CHECK(std::find(dd.begin(), dd.end(), "topk") == dd.end());  // K is a constant
  CHECK(g.output_shapes(id(g, "topk"))[0] == tensor_shape{1, 5});
  CHECK(a.other >= 4);
  CHECK(a.other == a.other_nodes.size());
  CHECK(std::find(a.other_nodes.begin(), a.other_nodes.end(), "custom") != a.other_nodes.end());
  CHECK(r.outputs[2].shape == tensor_shape{2});  // the rank of NonZero's output is known
  CHECK_FALSE(r.outputs[2].constant);
}

TEST_CASE("float shape arithmetic folds: a detection transform's padding to a multiple of 32") {
  // size = ceil(max(320.) / 32) * 32 as torchvision's batch_images computes it, then
  // Pad(x, [0, 0, 0, 0, 0, 0, size - 300, size - 300]).
  model_builder b(13);
  b.input("x", {1, 3, 300, 300}).output("y");
  b.floats("sizes", {300.0f, 320.0f});
  attr(b.node("ReduceMax", {"sizes"}, {"mx"}, "reduce_max"), "keepdims", std::int64_t{0});
  b.floats("stride", {32.0f}, true);
  b.node("Div", {"mx", "stride"}, {"q"}, "div");
  b.node("Ceil", {"q"}, {"cq"}, "ceil");
  b.node("Mul", {"cq", "stride"}, {"sz"}, "mul");
  attr(b.node("Cast", {"sz"}, {"szi"}, "cast"), "to", std::int64_t{onnx::TensorProto::INT64});
  b.ints("in_size", {300}, true);
  b.node("Sub", {"szi", "in_size"}, {"extra"}, "sub");
  b.ints("ax0", {0});
  b.node("Unsqueeze", {"extra", "ax0"}, {"e1"}, "unsq");
  b.ints("zeros6", {0, 0, 0, 0, 0, 0});
  attr(b.node("Concat", {"zeros6", "e1", "e1"}, {"pads"}, "concat"), "axis", std::int64_t{0});
  b.node("Pad", {"x", "pads"}, {"y"}, "pad");
  const auto r = b.import();
  CHECK(onnx_test::balanced(r.accounting));
  CHECK(r.accounting.folded == 8);
  CHECK(r.accounting.imported == 1);
  const auto p = id(r.graph, "pad");
  CHECK(r.graph.output_shapes(p)[0] == tensor_shape{1, 320, 320, 3});
  CHECK(r.graph.attrs(p).pads == std::array<std::int64_t, 4>{0, 20, 0, 20});
  CHECK(r.accounting.data_dependent_nodes.empty());
}

TEST_CASE("a custom op's declared value_info shape is used and flows downstream") {
  model_builder b(13);
  b.input("x", {1, 3, 8, 8}).output("y");
  auto* d = b.model().add_opset_import();
  d->set_domain("com.example");
  d->set_version(1);
  b.node("Fancy", {"x"}, {"f"}, "fancy").set_domain("com.example");
  b.node("Relu", {"f"}, {"y"}, "relu");
  auto* vi = b.graph().add_value_info();
  vi->set_name("f");
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (std::int64_t v : {1, 6, 4, 4})
    vi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(v);
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(g.op(id(g, "fancy")) == op_kind::other);
  CHECK(g.output_shapes(id(g, "fancy"))[0] == tensor_shape{1, 4, 4, 6});
  CHECK(g.output_shapes(id(g, "relu"))[0] == tensor_shape{1, 4, 4, 6});  // inferred from it
  CHECK(r.accounting.other_nodes == std::vector<std::string>{"fancy"});
}

TEST_CASE("ConvTranspose keeps output_padding and infers the upsampled shape") {
  model_builder b(13);
  b.input("x", {1, 8, 5, 5}).output("y");
  b.weight("w", {8, 4, 3, 3}).weight("bias", {4});
  auto& t = b.node("ConvTranspose", {"x", "w", "bias"}, {"y"}, "deconv");
  attr(t, "strides", {2, 2});
  attr(t, "pads", {1, 1, 1, 1});
  attr(t, "output_padding", {1, 1});
  const auto r = b.import();
  const auto d = id(r.graph, "deconv");
  CHECK(r.graph.op(d) == op_kind::conv_transpose);
  CHECK(r.graph.attrs(d).kernel == std::array<std::int64_t, 2>{3, 3});
  CHECK(r.graph.attrs(d).strides == std::array<std::int64_t, 2>{2, 2});
  CHECK(r.graph.attrs(d).has_bias);
  REQUIRE(r.graph.attrs(d).find_extra("output_padding") != nullptr);
  CHECK(*r.graph.attrs(d).find_extra("output_padding") == "[1, 1]");
  CHECK(r.graph.output_shapes(d)[0] == tensor_shape{1, 10, 10, 4});  // 2*(5-1) + 1 + 3 - 2
}
