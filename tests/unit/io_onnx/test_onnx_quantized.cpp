// ONNX import of quantized models: QOperator (QLinearConv, QLinearMatMul, ConvInteger,
// MatMulInteger) and QDQ (QuantizeLinear / DequantizeLinear around float ops).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include "onnx_test_model.hpp"

using nnmeter::dtype;
using nnmeter::op_kind;
using nnmeter::tensor_shape;
using onnx_test::attr;
using onnx_test::id;
using onnx_test::model_builder;

TEST_CASE("QOperator model: quantize -> QLinearConv (dense, depthwise) -> QLinearMatMul -> dequantize") {
  model_builder b(13);
  const int u8 = onnx::TensorProto::UINT8;
  b.input("x", {1, 8, 10, 10}).output("y");
  b.floats("s", {0.1f}, true).scalar("zp", u8, 128);
  b.weight("w", {16, 8, 3, 3}, u8).weight("wdw", {16, 1, 3, 3}, u8);
  b.weight("bias", {16}, onnx::TensorProto::INT32);
  b.node("QuantizeLinear", {"x", "s", "zp"}, {"xq"}, "quant");
  auto& c = b.node("QLinearConv", {"xq", "s", "zp", "w", "s", "zp", "s", "zp", "bias"}, {"c"}, "qconv");
  attr(c, "pads", {1, 1, 1, 1});
  auto& d = b.node("QLinearConv", {"c", "s", "zp", "wdw", "s", "zp", "s", "zp"}, {"d"}, "qdw");
  attr(d, "group", std::int64_t{16});
  b.ints("flat_shape", {1, -1});
  b.node("Reshape", {"d", "flat_shape"}, {"f"}, "flat");
  b.weight("wfc", {1024, 10}, u8);
  b.node("QLinearMatMul", {"f", "s", "zp", "wfc", "s", "zp", "s", "zp"}, {"m"}, "qfc");
  b.node("DequantizeLinear", {"m", "s", "zp"}, {"y"}, "dequant");
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(onnx_test::balanced(r.accounting));
  CHECK(r.accounting.other == 0);
  CHECK(g.op(id(g, "quant")) == op_kind::quantize);
  CHECK(g.elem_type(id(g, "quant")) == dtype::u8);
  CHECK(g.inputs(id(g, "quant")).size() == 1);  // scale and zero point are parameters
  const auto qc = id(g, "qconv");
  CHECK(g.op(qc) == op_kind::conv);
  CHECK(g.type(qc) == "QLinearConv");
  CHECK(g.elem_type(qc) == dtype::u8);
  CHECK(g.attrs(qc).has_bias);
  CHECK(g.attrs(qc).kernel == std::array<std::int64_t, 2>{3, 3});
  CHECK(g.inputs(qc).size() == 1);
  CHECK(g.output_shapes(qc)[0] == tensor_shape{1, 10, 10, 16});
  const auto qd = id(g, "qdw");
  CHECK(g.op(qd) == op_kind::dwconv);
  CHECK(g.attrs(qd).groups == 16);
  CHECK_FALSE(g.attrs(qd).has_bias);
  CHECK(g.output_shapes(qd)[0] == tensor_shape{1, 8, 8, 16});
  const auto fc = id(g, "qfc");
  CHECK(g.op(fc) == op_kind::fc);
  CHECK(g.elem_type(fc) == dtype::u8);
  CHECK(g.output_shapes(fc)[0] == tensor_shape{1, 10});
  CHECK(g.op(id(g, "dequant")) == op_kind::dequantize);
  CHECK(g.elem_type(id(g, "dequant")) == dtype::f32);
}

TEST_CASE("ConvInteger and MatMulInteger") {
  model_builder b(13);
  const int u8 = onnx::TensorProto::UINT8;
  b.input("x", {1, 4, 6, 6}, u8).input("a", {2, 5}, onnx::TensorProto::INT8).output("c").output("m").output("mm");
  b.weight("w", {8, 4, 1, 1}, u8).weight("b", {5, 3}, onnx::TensorProto::INT8);
  b.node("ConvInteger", {"x", "w"}, {"c"}, "ci");
  b.node("MatMulInteger", {"a", "b"}, {"m"}, "mi");
  b.node("MatMulInteger", {"a", "a_t"}, {"mm"}, "mi2");
  auto& t = b.node("Transpose", {"a"}, {"a_t"}, "tr");
  (void)t;
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(g.op(id(g, "ci")) == op_kind::conv);
  CHECK(g.elem_type(id(g, "ci")) == dtype::u8);
  CHECK(g.output_shapes(id(g, "ci"))[0] == tensor_shape{1, 6, 6, 8});
  CHECK(g.op(id(g, "mi")) == op_kind::fc);
  CHECK(g.elem_type(id(g, "mi")) == dtype::i8);
  CHECK(g.op(id(g, "mi2")) == op_kind::matmul);
  CHECK(g.inputs(id(g, "mi2")).size() == 2);
  CHECK(g.output_shapes(id(g, "mi2"))[0] == tensor_shape{2, 2});
  CHECK(g.elem_type(id(g, "a")) == dtype::i8);
}

TEST_CASE("QDQ model: weight DequantizeLinear folds, activation Q/DQ are imported") {
  model_builder b(13);
  const int i8 = onnx::TensorProto::INT8;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.floats("s", {0.05f}, true).scalar("zp", i8, 0);
  b.weight("wq", {4, 3, 3, 3}, i8);
  b.node("QuantizeLinear", {"x", "s", "zp"}, {"xq"}, "q");
  b.node("DequantizeLinear", {"xq", "s", "zp"}, {"xd"}, "dq");
  b.node("DequantizeLinear", {"wq", "s", "zp"}, {"wd"}, "dq_w");
  b.node("Conv", {"xd", "wd"}, {"y"}, "conv");
  const auto r = b.import();
  const auto& g = r.graph;
  CHECK(onnx_test::balanced(r.accounting));
  CHECK(r.accounting.folded == 1);  // dq_w: a constant of known shape
  CHECK(r.accounting.imported == 3);
  CHECK_FALSE(g.find("dq_w"));
  CHECK(g.op(id(g, "q")) == op_kind::quantize);
  CHECK(g.elem_type(id(g, "q")) == dtype::i8);
  CHECK(g.op(id(g, "dq")) == op_kind::dequantize);
  const auto c = id(g, "conv");
  CHECK(g.op(c) == op_kind::conv);
  CHECK(g.inputs(c).size() == 1);
  CHECK(g.attrs(c).kernel == std::array<std::int64_t, 2>{3, 3});
  CHECK(g.output_shapes(c)[0] == tensor_shape{1, 6, 6, 4});
}
