// Tests for include/nnmeter/ir/graph_builder.hpp.
// SPDX-License-Identifier: MIT
#include <nnmeter/ir/graph_builder.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

using nnmeter::dtype;
using nnmeter::graph_builder;
using nnmeter::graph_error;
using nnmeter::op_kind;
using nnmeter::padding_mode;
using nnmeter::pads4;
using nnmeter::tensor_ref;
using nnmeter::tensor_shape;
using dim = std::int64_t;

constexpr dim max_dim = tensor_shape::max_dim;
constexpr dim i64_max = std::numeric_limits<dim>::max();
constexpr dim i64_min = std::numeric_limits<dim>::min();

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs f, which must throw graph_error mentioning every part, and must leave the builder's
// graph unchanged (strong guarantee).
template <class F>
void expect_error(const graph_builder& b, F&& f, std::initializer_list<const char*> parts) {
  const std::size_t before = b.view().num_nodes();
  std::string msg;
  try {
    f();
  } catch (const graph_error& e) {
    msg = e.what();
  }
  CAPTURE(msg);
  REQUIRE_FALSE(msg.empty());
  CHECK(has(msg, "graph_builder: "));
  for (const char* p : parts) {
    CAPTURE(p);
    CHECK(has(msg, p));
  }
  CHECK(b.view().num_nodes() == before);
}

const nnmeter::node& node_of(const graph_builder& b, tensor_ref t) { return b.view().at(t.node); }
const nnmeter::attributes& attrs_of(const graph_builder& b, tensor_ref t) {
  return node_of(b, t).attrs;
}

}  // namespace

TEST_SUITE("graph_builder") {
  TEST_CASE("input and constant") {
    graph_builder b;
    const tensor_ref x = b.input({1, 224, 224, 3});
    const tensor_ref y = b.input({1, 16}, dtype::i8, "ids");
    const tensor_ref k = b.constant({}, dtype::f32);
    CHECK(b.shape(x) == tensor_shape{1, 224, 224, 3});
    CHECK(b.shape(k) == tensor_shape{});
    const auto& n = node_of(b, x);
    CHECK(n.name == "input_0");
    CHECK(n.op == op_kind::input);
    CHECK(n.type == "input");
    CHECK(n.elem == dtype::f32);
    CHECK(n.inputs.empty());
    CHECK(n.input_shapes.empty());
    CHECK(n.output_shapes == std::vector<tensor_shape>{{1, 224, 224, 3}});
    CHECK(node_of(b, y).name == "ids");
    CHECK(node_of(b, y).elem == dtype::i8);
    CHECK(node_of(b, k).name == "constant_0");
    CHECK(node_of(b, k).op == op_kind::constant);
    CHECK(x == tensor_ref{0, 0});
    CHECK(k == tensor_ref{2, 0});
  }

  TEST_CASE("input errors: zero, negative, huge sizes and overflowing element counts") {
    graph_builder b;
    expect_error(b,
                 [&] {
                   b.input({1, 0, 4, 4}, dtype::f32, "z");
                 },
                 {"input 'z'", "dimension 1", "[1, 0, 4, 4]", "is 0", "2147483647"});
    expect_error(b, [&] { b.input({-1, 8}); }, {"input 'input_", "[-1, 8]", "is -1"});
    expect_error(b, [&] { b.input({1, max_dim + 1}); }, {"2147483648", "[1, 2147483648]"});
    expect_error(b, [&] { b.input({max_dim, max_dim, 3}); }, {"more elements"});
    // (2^31-1)^2 elements fit in int64, their bytes as i64 do not.
    expect_error(b, [&] { b.input({max_dim, max_dim}, dtype::i64); }, {"more bytes", "i64"});
    CHECK_NOTHROW(b.input({max_dim, max_dim}, dtype::i8));
    b.input({1}, dtype::f32, "dup");
    expect_error(b, [&] { b.input({1}, dtype::f32, "dup"); }, {"'dup'", "already exists"});
  }

  TEST_CASE("automatic names count per prefix and skip taken names") {
    graph_builder b;
    const tensor_ref x = b.input({1, 4, 4, 8});
    b.relu(x, "relu_0");  // taken by the user before the counter gets there
    const tensor_ref r1 = b.relu(x);
    const tensor_ref r2 = b.relu(x);
    const tensor_ref c0 = b.conv(x, 8, 1);
    const tensor_ref d0 = b.conv(x, 8, 3, 1, padding_mode::same, 8);  // depthwise
    const tensor_ref c1 = b.conv(x, 8, 1);
    CHECK(node_of(b, r1).name == "relu_1");
    CHECK(node_of(b, r2).name == "relu_2");
    CHECK(node_of(b, c0).name == "conv_0");
    CHECK(node_of(b, d0).name == "dwconv_0");
    CHECK(node_of(b, c1).name == "conv_1");
  }

  TEST_CASE("every node records its producers' shapes and element type") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 4}, dtype::i8);
    const tensor_ref s = b.input({1, 1, 1, 4}, dtype::i8);
    const tensor_ref m = b.mul(x, s);
    const auto& n = node_of(b, m);
    CHECK(n.type == "mul");
    CHECK(n.elem == dtype::i8);
    CHECK(n.inputs == std::vector<tensor_ref>{x, s});
    CHECK(n.input_shapes == std::vector<tensor_shape>{{1, 8, 8, 4}, {1, 1, 1, 4}});
    CHECK(node_of(b, b.conv(x, 4, 3)).elem == dtype::i8);
  }

  TEST_CASE("bad tensor references") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 4});
    const auto parts = b.split(x, 2);
    expect_error(b,
                 [&] {
                   b.relu(tensor_ref{9, 0}, "r");
                 },
                 {"relu 'r'", "operand 0", "node #9", "does not exist"});
    expect_error(b,
                 [&] {
                   b.relu(tensor_ref{parts[0].node, 2});
                 },
                 {"output 2", "'split_0'", "2 output(s)"});
    expect_error(b, [&] { b.add(x, tensor_ref{0, 1}); }, {"operand 1", "output 1"});
    expect_error(b, [&] { b.conv(tensor_ref{42, 0}, 8, 3); }, {"conv", "node #42"});
    CHECK_THROWS_AS((void)b.shape(tensor_ref{5, 0}), graph_error);
    CHECK_THROWS_WITH((void)b.shape(tensor_ref{0, 3}),
                      "graph_builder: no tensor #0:3 (the builder has 2 nodes)");
  }

  TEST_CASE("conv: SAME, VALID, explicit pads, dilation, non-square windows") {
    graph_builder b;
    const tensor_ref x = b.input({1, 224, 224, 3});
    // SAME: ceil(in / stride), pads split with the extra one at the end.
    const tensor_ref c = b.conv(x, 16, 3, 2);
    CHECK(b.shape(c) == tensor_shape{1, 112, 112, 16});
    const auto& a = attrs_of(b, c);
    CHECK(node_of(b, c).op == op_kind::conv);
    CHECK(node_of(b, c).type == "conv");
    CHECK(a.kernel == std::array<dim, 2>{3, 3});
    CHECK(a.strides == std::array<dim, 2>{2, 2});
    CHECK(a.dilations == std::array<dim, 2>{1, 1});
    CHECK(a.padding == padding_mode::same);
    CHECK(a.pads == std::array<dim, 4>{0, 1, 0, 1});  // total 1: SAME_UPPER puts it at the end
    CHECK(a.groups == 1);
    CHECK(a.has_bias);
    // same_lower puts the odd padding first.
    CHECK(attrs_of(b, b.conv(x, 16, 3, 2, padding_mode::same_lower)).pads ==
          std::array<dim, 4>{1, 0, 1, 0});
    // Odd size, SAME, stride 2: ceil(7 / 2) = 4.
    const tensor_ref s7 = b.input({1, 7, 7, 8});
    CHECK(b.shape(b.conv(s7, 8, 3, 2)) == tensor_shape{1, 4, 4, 8});
    CHECK(b.shape(b.conv(s7, 8, 5, 1, padding_mode::same, 1, 2)) == tensor_shape{1, 7, 7, 8});
    // VALID: floor((in - dilation * (k - 1) - 1) / stride) + 1.
    CHECK(b.shape(b.conv(x, 16, 3, 2, padding_mode::valid)) == tensor_shape{1, 111, 111, 16});
    const tensor_ref d = b.conv(s7, 4, 3, 1, padding_mode::valid, 1, 2);  // extent 5
    CHECK(b.shape(d) == tensor_shape{1, 3, 3, 4});
    CHECK(attrs_of(b, d).dilations == std::array<dim, 2>{2, 2});
    CHECK(attrs_of(b, d).pads == std::array<dim, 4>{0, 0, 0, 0});
    // Explicit pads (ONNX): floor((in + top + bottom - extent) / stride) + 1.
    const tensor_ref e = b.conv(x, 64, 7, 2, pads4{3, 3, 3, 3});
    CHECK(b.shape(e) == tensor_shape{1, 112, 112, 64});
    CHECK(attrs_of(b, e).padding == padding_mode::explicit_pads);
    CHECK(attrs_of(b, e).pads == std::array<dim, 4>{3, 3, 3, 3});
    CHECK(b.shape(b.conv(s7, 8, 3, 1, pads4{1, 0, 2, 0})) == tensor_shape{1, 6, 7, 8});
    CHECK(b.shape(b.conv(s7, 8, 3, 1, pads4(1))) == tensor_shape{1, 7, 7, 8});
    // Non-square kernel and stride.
    const tensor_ref ns = b.conv(x, 8, {1, 7}, {1, 2}, padding_mode::valid);
    CHECK(b.shape(ns) == tensor_shape{1, 224, 109, 8});
    CHECK(attrs_of(b, ns).kernel == std::array<dim, 2>{1, 7});
    CHECK(attrs_of(b, ns).strides == std::array<dim, 2>{1, 2});
  }

  TEST_CASE("conv: groups and nn-Meter's depthwise rule") {
    graph_builder b;
    const tensor_ref x = b.input({1, 28, 28, 32});
    const tensor_ref g = b.conv(x, 64, 3, 1, padding_mode::same, 4);  // 1 < groups < cin
    CHECK(node_of(b, g).op == op_kind::conv);
    CHECK(attrs_of(b, g).groups == 4);
    const tensor_ref dw = b.conv(x, 32, 3, 2, padding_mode::same, 32);  // groups == cin == cout
    CHECK(node_of(b, dw).op == op_kind::dwconv);
    CHECK(node_of(b, dw).type == "dwconv");
    CHECK(attrs_of(b, dw).groups == 32);
    CHECK(b.shape(dw) == tensor_shape{1, 14, 14, 32});
    const tensor_ref dm = b.conv(x, 64, 3, 1, padding_mode::same, 32);  // multiplier 2
    CHECK(node_of(b, dm).op == op_kind::dwconv);
    CHECK(b.shape(dm) == tensor_shape{1, 28, 28, 64});
    const tensor_ref gray = b.input({1, 28, 28, 1});
    CHECK(node_of(b, b.conv(gray, 8, 3)).op == op_kind::conv);  // dense conv of 1 channel
  }

  TEST_CASE("conv: bias flag and a string literal in the bias position") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 4});
    const tensor_ref nb = b.conv(x, 4, 3, 1, padding_mode::same, 1, 1, false, "nobias");
    CHECK_FALSE(attrs_of(b, nb).has_bias);
    CHECK(node_of(b, nb).name == "nobias");
    const tensor_ref named = b.conv(x, 4, 3, 1, padding_mode::same, 1, 1, "named");
    CHECK(node_of(b, named).name == "named");
    CHECK(attrs_of(b, named).has_bias);
    const tensor_ref named2 = b.conv(x, 4, 3, 1, pads4(1), 1, 1, "named2");
    CHECK(node_of(b, named2).name == "named2");
    CHECK(attrs_of(b, named2).has_bias);
  }

  TEST_CASE("conv errors") {
    graph_builder b;
    const tensor_ref x = b.input({1, 5, 5, 6});
    expect_error(b, [&] { b.conv(x, 8, 7, 1, padding_mode::valid, 1, 1, true, "big"); },
                 {"conv 'big'", "kernel height 7", "dilated extent 7",
                  "larger than the padded input height 5"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, padding_mode::valid, 1, 3); },
                 {"dilated extent 7", "input height 5"});
    expect_error(b,
                 [&] {
                   b.conv(x, 8, 9, 1, pads4{1, 1, 1, 1});
                 },
                 {"kernel height 9", "padded input height 7", "pads 1 + 1"});
    expect_error(b, [&] { b.conv(x, 8, {3, 9}, 1, padding_mode::valid); }, {"kernel width 9"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, padding_mode::same, 4); },
                 {"groups 4", "6 input channels"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, padding_mode::same, 3); },
                 {"groups 3", "8 output channels"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, padding_mode::same, 0); }, {"groups 0"});
    expect_error(b, [&] { b.conv(x, 0, 3); }, {"output channels 0"});
    expect_error(b, [&] { b.conv(x, -4, 3); }, {"output channels -4"});
    expect_error(b, [&] { b.conv(x, max_dim + 1, 1); }, {"output channels 2147483648"});
    expect_error(b, [&] { b.conv(x, 8, 0); }, {"kernel 0x0"});
    expect_error(b, [&] { b.conv(x, 8, 3, {1, 0}); }, {"stride 1x0"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, padding_mode::same, 1, -1); }, {"dilation -1x-1"});
    expect_error(b, [&] { b.conv(x, 8, 3, 1, pads4{0, -1, 0, 0}); }, {"pads {0, -1, 0, 0}"});
    const tensor_ref flat = b.input({1, 30});
    expect_error(b, [&] { b.conv(flat, 8, 1); }, {"rank-4 NHWC", "[1, 30]"});
    // The output would hold more bytes than int64 can count.
    const tensor_ref wide = b.input({1, 46341, 46341, 1}, dtype::f32);
    expect_error(b, [&] { b.conv(wide, max_dim, 1); }, {"more bytes"});
  }

  TEST_CASE("dwconv") {
    graph_builder b;
    const tensor_ref x = b.input({1, 56, 56, 24});
    const tensor_ref d = b.dwconv(x, 3);
    CHECK(node_of(b, d).op == op_kind::dwconv);
    CHECK(node_of(b, d).name == "dwconv_0");
    CHECK(b.shape(d) == tensor_shape{1, 56, 56, 24});
    CHECK(attrs_of(b, d).groups == 24);
    CHECK(attrs_of(b, d).has_bias);
    CHECK(b.shape(b.dwconv(x, 5, 2)) == tensor_shape{1, 28, 28, 24});
    CHECK(b.shape(b.dwconv(x, 3, 1, padding_mode::same, 2)) == tensor_shape{1, 56, 56, 48});
    CHECK(b.shape(b.dwconv(x, 3, 2, padding_mode::valid)) == tensor_shape{1, 27, 27, 24});
    CHECK(b.shape(b.dwconv(x, 3, 2, pads4{1, 1, 1, 1})) == tensor_shape{1, 28, 28, 24});
    const tensor_ref one = b.input({1, 8, 8, 1});
    CHECK(node_of(b, b.dwconv(one, 3)).op == op_kind::dwconv);  // asked for explicitly
    expect_error(b, [&] { b.dwconv(x, 3, 1, padding_mode::same, 0, 1, "m"); },
                 {"dwconv 'm'", "multiplier 0"});
    expect_error(b, [&] { b.dwconv(x, 57, 1, padding_mode::valid); }, {"kernel height 57"});
    const tensor_ref flat = b.input({4, 4});
    expect_error(b, [&] { b.dwconv(flat, 3); }, {"rank-4"});
  }

  TEST_CASE("conv_transpose") {
    graph_builder b;
    const tensor_ref x = b.input({1, 7, 7, 32});
    const tensor_ref s = b.conv_transpose(x, 16, 3, 2);  // SAME: in * stride
    CHECK(b.shape(s) == tensor_shape{1, 14, 14, 16});
    CHECK(node_of(b, s).op == op_kind::conv_transpose);
    CHECK(attrs_of(b, s).pads == std::array<dim, 4>{0, 1, 0, 1});  // 2*6 + 3 - 14 = 1
    CHECK(attrs_of(b, s).extra.empty());
    // VALID: stride * (in - 1) + extent.
    CHECK(b.shape(b.conv_transpose(x, 16, 3, 2, padding_mode::valid)) ==
          tensor_shape{1, 15, 15, 16});
    // Explicit pads: 2 * 7 + 4 - 1 - 1 = 16 for in 8.
    const tensor_ref x8 = b.input({1, 8, 8, 4});
    CHECK(b.shape(b.conv_transpose(x8, 4, 4, 2, pads4(1))) == tensor_shape{1, 16, 16, 4});
    // With output padding (PyTorch k3 s2 p1 op1 doubles the size).
    const tensor_ref op = b.conv_transpose(x8, 4, 3, 2, pads4(1), 1);
    CHECK(b.shape(op) == tensor_shape{1, 16, 16, 4});
    REQUIRE(attrs_of(b, op).find_extra("output_padding") != nullptr);
    CHECK(*attrs_of(b, op).find_extra("output_padding") == "[1, 1]");
    // SAME with kernel extent < stride: the gap becomes output padding.
    const tensor_ref gap = b.conv_transpose(x8, 4, 1, 2);
    CHECK(b.shape(gap) == tensor_shape{1, 16, 16, 4});
    CHECK(attrs_of(b, gap).pads == std::array<dim, 4>{0, 0, 0, 0});
    CHECK(*attrs_of(b, gap).find_extra("output_padding") == "[1, 1]");
    // Grouped, no bias, named through a literal in the bias position.
    const tensor_ref g = b.conv_transpose(x, 8, 2, 2, padding_mode::same, 4, 1, "up");
    CHECK(node_of(b, g).name == "up");
    CHECK(attrs_of(b, g).groups == 4);
    CHECK(attrs_of(b, b.conv_transpose(x, 8, 2, 2, padding_mode::same, 1, 1, false)).has_bias ==
          false);

    expect_error(b, [&] { b.conv_transpose(x8, 4, 3, 2, pads4(1), 2); },
                 {"output padding 2x2", "stride 2x2"});
    expect_error(b, [&] { b.conv_transpose(x, 16, 3, 2, padding_mode::same, 3); }, {"groups 3"});
    const tensor_ref one = b.input({1, 1, 1, 4});
    expect_error(b,
                 [&] {
                   b.conv_transpose(one, 4, 1, 1, pads4{1, 1, 0, 0});
                 },
                 {"remove the whole output height"});
    expect_error(b, [&] { b.conv_transpose(x, 0, 3); }, {"output channels 0"});
    expect_error(b, [&] { b.conv_transpose(x, 4, 3, 0); }, {"stride 0x0"});
    const tensor_ref flat = b.input({4, 4});
    expect_error(b, [&] { b.conv_transpose(flat, 4, 3); }, {"rank-4"});
  }

  TEST_CASE("fc") {
    graph_builder b;
    const tensor_ref x2 = b.input({1, 1024});
    const tensor_ref f = b.fc(x2, 1000);
    CHECK(b.shape(f) == tensor_shape{1, 1000});
    CHECK(node_of(b, f).op == op_kind::fc);
    CHECK(attrs_of(b, f).has_bias);
    const tensor_ref x4 = b.input({8, 1, 1, 512});
    CHECK(b.shape(b.fc(x4, 10)) == tensor_shape{8, 10});  // [N, 1, 1, C] is read as C features
    CHECK_FALSE(attrs_of(b, b.fc(x2, 10, false)).has_bias);
    const tensor_ref named = b.fc(x2, 10, "logits");  // a literal in the bias position
    CHECK(node_of(b, named).name == "logits");
    CHECK(attrs_of(b, named).has_bias);
    const tensor_ref map = b.input({1, 7, 7, 512});
    expect_error(b, [&] { b.fc(map, 10, true, "head"); },
                 {"fc 'head'", "[N, 1, 1, C]", "[1, 7, 7, 512]"});
    const tensor_ref seq = b.input({1, 16, 64});
    CHECK(b.shape(b.fc(seq, 10)) == tensor_shape{1, 16, 10});  // [..., C] -> [..., cout]
    expect_error(b, [&] { b.fc(x2, 0); }, {"output features 0"});
  }

  TEST_CASE("matmul") {
    graph_builder b;
    const tensor_ref a = b.input({2, 3});
    const tensor_ref m = b.matmul(a, b.input({3, 4}));
    CHECK(b.shape(m) == tensor_shape{2, 4});
    CHECK(node_of(b, m).op == op_kind::matmul);
    CHECK(b.shape(b.matmul(b.input({5, 1, 2, 3}), b.input({4, 3, 6}))) == tensor_shape{5, 4, 2, 6});
    CHECK(b.shape(b.matmul(b.input({3}), b.input({3, 4}))) == tensor_shape{4});
    CHECK(b.shape(b.matmul(a, b.input({3}))) == tensor_shape{2});
    CHECK(b.shape(b.matmul(b.input({3}), b.input({3}))) == tensor_shape{});
    const tensor_ref w42 = b.input({4, 2});
    expect_error(b, [&] { b.matmul(a, w42, "mm"); },
                 {"matmul 'mm'", "inner dimensions", "[2, 3] x [4, 2]", "3 vs 4"});
    const tensor_ref s = b.input({2, 2, 3});
    const tensor_ref s3 = b.input({3, 3, 4});
    expect_error(b, [&] { b.matmul(s, s3); }, {"cannot broadcast", "[2]", "[3]"});
    const tensor_ref scalar = b.constant({});
    expect_error(b, [&] { b.matmul(scalar, a); }, {"rank >= 1"});
    const tensor_ref q = b.input({3, 4}, dtype::i8);
    expect_error(b, [&] { b.matmul(a, q); }, {"operand 1 is i8", "operand 0 is f32"});
  }

  TEST_CASE("max and average pooling") {
    graph_builder b;
    const tensor_ref x = b.input({1, 112, 112, 64});
    const tensor_ref m = b.maxpool(x, 2, 2);
    CHECK(b.shape(m) == tensor_shape{1, 56, 56, 64});
    CHECK(node_of(b, m).op == op_kind::maxpool);
    CHECK(attrs_of(b, m).padding == padding_mode::valid);
    CHECK(attrs_of(b, m).kernel == std::array<dim, 2>{2, 2});
    CHECK_FALSE(attrs_of(b, m).has_bias);
    CHECK(b.shape(b.maxpool(x, 3, 2)) == tensor_shape{1, 55, 55, 64});
    CHECK(b.shape(b.maxpool(x, 3, 2, padding_mode::same)) == tensor_shape{1, 56, 56, 64});
    CHECK(b.shape(b.maxpool(x, 3, 2, pads4(1))) == tensor_shape{1, 56, 56, 64});
    const tensor_ref a = b.avgpool(x, 7, 1, padding_mode::same);
    CHECK(node_of(b, a).op == op_kind::avgpool);
    CHECK(b.shape(a) == tensor_shape{1, 112, 112, 64});
    CHECK(b.shape(b.avgpool(x, {2, 4}, {2, 4})) == tensor_shape{1, 56, 28, 64});
    // ceil_mode rounds up ...
    const tensor_ref x6 = b.input({1, 6, 6, 1});
    const tensor_ref cm = b.maxpool(x6, 3, 2, pads4(0), true);
    CHECK(b.shape(cm) == tensor_shape{1, 3, 3, 1});
    CHECK(attrs_of(b, cm).ceil_mode);
    CHECK(b.shape(b.maxpool(x6, 3, 2, pads4(0))) == tensor_shape{1, 2, 2, 1});
    // ... but drops a last window that would start in the padding: in 5, k 3, s 3, pads 1.
    const tensor_ref x5 = b.input({1, 5, 5, 1});
    CHECK(b.shape(b.avgpool(x5, 3, 3, pads4(1), true)) == tensor_shape{1, 2, 2, 1});
    // String literals in the ceil_mode position are names.
    CHECK(node_of(b, b.maxpool(x, 3, 2, pads4(1), "mp")).name == "mp");
    CHECK_FALSE(attrs_of(b, b.avgpool(x, 3, 2, pads4(1), "ap")).ceil_mode);
    CHECK(node_of(b, b.maxpool(x, 3, 2, padding_mode::same, "mp_same")).name == "mp_same");

    expect_error(b, [&] { b.maxpool(x5, 7, 1, padding_mode::valid, "p"); },
                 {"maxpool 'p'", "kernel height 7", "input height 5"});
    expect_error(b, [&] { b.avgpool(x5, 3, 0); }, {"avgpool", "stride 0x0"});
    const tensor_ref flat = b.input({5, 5});
    expect_error(b, [&] { b.avgpool(flat, 3, 1); }, {"rank-4"});
  }

  TEST_CASE("global pooling and reduce_mean") {
    graph_builder b;
    const tensor_ref x = b.input({1, 7, 7, 576});
    const tensor_ref g = b.global_avgpool(x);
    CHECK(b.shape(g) == tensor_shape{1, 1, 1, 576});
    CHECK(node_of(b, g).op == op_kind::global_avgpool);
    CHECK(node_of(b, g).name == "global_avgpool_0");
    const tensor_ref gm = b.global_maxpool(x);
    CHECK(b.shape(gm) == tensor_shape{1, 1, 1, 576});
    CHECK(node_of(b, gm).op == op_kind::global_maxpool);
    const tensor_ref flat = b.input({1, 576});
    expect_error(b, [&] { b.global_avgpool(flat); }, {"rank-4"});

    const tensor_ref r = b.reduce_mean(x, {2, 1});
    CHECK(b.shape(r) == tensor_shape{1, 1, 1, 576});
    CHECK(attrs_of(b, r).axes == std::vector<dim>{1, 2});
    CHECK(attrs_of(b, r).keepdims);
    CHECK(node_of(b, r).op == op_kind::reduce_mean);
    const tensor_ref r2 = b.reduce_mean(x, {-3, -2}, false);
    CHECK(b.shape(r2) == tensor_shape{1, 576});
    CHECK(attrs_of(b, r2).axes == std::vector<dim>{1, 2});
    CHECK_FALSE(attrs_of(b, r2).keepdims);
    CHECK(b.shape(b.reduce_mean(x, {})) == tensor_shape{1, 1, 1, 1});
    CHECK(b.shape(b.reduce_mean(x, {}, false)) == tensor_shape{});
    CHECK(node_of(b, b.reduce_mean(x, {1, 2}, "mean")).name == "mean");
    expect_error(b, [&] { b.reduce_mean(x, {4}); }, {"axis 4", "rank 4"});
    expect_error(b, [&] { b.reduce_mean(x, {-5}); }, {"axis -5"});
    expect_error(b, [&] { b.reduce_mean(x, {1, -3}); }, {"axis 1 is repeated"});
  }

  TEST_CASE("normalisation and activations preserve the shape") {
    graph_builder b;
    const tensor_ref x = b.input({1, 14, 14, 40});
    const tensor_shape s{1, 14, 14, 40};
    struct row {
      tensor_ref t;
      op_kind op;
    };
    const row rows[] = {{b.bn(x), op_kind::bn},
                        {b.relu(x), op_kind::relu},
                        {b.relu6(x), op_kind::relu6},
                        {b.clip(x, -1.0, 1.0), op_kind::clip},
                        {b.sigmoid(x), op_kind::sigmoid},
                        {b.hswish(x), op_kind::hswish},
                        {b.hsigmoid(x), op_kind::hsigmoid},
                        {b.swish(x), op_kind::swish},
                        {b.tanh(x), op_kind::tanh},
                        {b.leaky_relu(x), op_kind::leaky_relu},
                        {b.elu(x), op_kind::elu},
                        {b.gelu(x), op_kind::gelu},
                        {b.softmax(x), op_kind::softmax}};
    for (const row& r : rows) {
      CAPTURE(std::string(nnmeter::to_string(r.op)));
      CHECK(b.shape(r.t) == s);
      CHECK(node_of(b, r.t).op == r.op);
      CHECK(node_of(b, r.t).type == nnmeter::to_string(r.op));
      CHECK(node_of(b, r.t).name == std::string(nnmeter::to_string(r.op)) + "_0");
      CHECK(node_of(b, r.t).inputs == std::vector<tensor_ref>{x});
    }
    CHECK(attrs_of(b, rows[2].t).clip_min == 0.0f);
    CHECK(attrs_of(b, rows[2].t).clip_max == 6.0f);
    CHECK(attrs_of(b, rows[3].t).clip_min == -1.0f);
    CHECK(attrs_of(b, rows[3].t).clip_max == 1.0f);
    CHECK(attrs_of(b, rows[6].t).alpha == doctest::Approx(1.0 / 6.0));
    CHECK(attrs_of(b, rows[6].t).beta == 0.5f);
    CHECK(attrs_of(b, rows[9].t).alpha == doctest::Approx(0.01));
    CHECK(attrs_of(b, b.leaky_relu(x, 0.2)).alpha == doctest::Approx(0.2));
    CHECK(attrs_of(b, rows[10].t).alpha == 1.0f);
    CHECK(attrs_of(b, rows[12].t).axis == 3);  // stored non-negative
    CHECK(attrs_of(b, b.softmax(x, 1)).axis == 1);

    expect_error(b, [&] { b.clip(x, 2.0, 1.0, "c"); }, {"clip 'c'", "lo <= hi"});
    expect_error(b, [&] { b.clip(x, std::nan(""), 1.0); }, {"finite"});
    expect_error(b, [&] { b.softmax(x, 4); }, {"softmax", "axis 4"});
    expect_error(b, [&] { b.relu(tensor_ref{99, 0}); }, {"relu", "node #99"});
  }

  TEST_CASE("element-wise binary ops broadcast like numpy") {
    graph_builder b;
    const tensor_ref x = b.input({1, 56, 56, 16});
    const tensor_ref s = b.input({1, 1, 1, 16});
    const tensor_ref m = b.mul(x, s);
    CHECK(b.shape(m) == tensor_shape{1, 56, 56, 16});
    CHECK(b.shape(b.mul(s, x)) == tensor_shape{1, 56, 56, 16});
    CHECK(b.shape(b.add(x, b.input({16}))) == tensor_shape{1, 56, 56, 16});
    CHECK(b.shape(b.sub(x, b.constant({}))) == tensor_shape{1, 56, 56, 16});
    CHECK(b.shape(b.div(b.input({4, 1}), b.input({1, 5}))) == tensor_shape{4, 5});
    CHECK(node_of(b, b.add(x, x)).op == op_kind::add);
    CHECK(node_of(b, b.sub(x, x)).op == op_kind::sub);
    CHECK(node_of(b, b.div(x, x)).op == op_kind::div);
    CHECK(node_of(b, m).op == op_kind::mul);
    const tensor_ref y = b.input({1, 28, 28, 16});
    expect_error(
        b, [&] { b.add(x, y, "sum"); },
        {"add 'sum'", "cannot broadcast [1, 56, 56, 16] with [1, 28, 28, 16]", "56 vs 28"});
    const tensor_ref q = b.input({1, 56, 56, 16}, dtype::u8);
    expect_error(b, [&] { b.mul(x, q); }, {"operand 1 is u8"});
  }

  TEST_CASE("concat") {
    graph_builder b;
    const tensor_ref a = b.input({1, 8, 8, 16});
    const tensor_ref c = b.input({1, 8, 8, 24});
    const tensor_ref cat = b.concat({a, c, a});
    CHECK(b.shape(cat) == tensor_shape{1, 8, 8, 56});
    CHECK(attrs_of(b, cat).axis == 3);
    CHECK(node_of(b, cat).inputs == std::vector<tensor_ref>{a, c, a});
    CHECK(node_of(b, cat).input_shapes.size() == 3);
    const tensor_ref h = b.input({1, 4, 8, 16});
    CHECK(b.shape(b.concat({a, h}, 1)) == tensor_shape{1, 12, 8, 16});
    CHECK(b.shape(b.concat({a, h}, -3)) == tensor_shape{1, 12, 8, 16});
    CHECK(b.shape(b.concat({a})) == tensor_shape{1, 8, 8, 16});
    expect_error(b, [&] { b.concat({}, -1, "e"); }, {"concat 'e'", "at least one input"});
    expect_error(b,
                 [&] {
                   b.concat({a, c}, 1);
                 },
                 {"input 1 has shape [1, 8, 8, 24]", "all dimensions except axis 1"});
    const tensor_ref r3 = b.input({1, 8, 16});
    expect_error(b, [&] { b.concat({a, r3}); }, {"input 1"});
    expect_error(b, [&] { b.concat({a, c}, 4); }, {"axis 4"});
    const tensor_ref q = b.input({1, 8, 8, 16}, dtype::i8);
    expect_error(b, [&] { b.concat({a, q}); }, {"i8"});
    const tensor_ref big = b.input({1, max_dim - 10});
    expect_error(b, [&] { b.concat({big, big}); }, {"[1, 4294967274]", "2147483647"});
  }

  TEST_CASE("split") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 24});
    const auto parts = b.split(x, {16, 8});
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].node == parts[1].node);
    CHECK(parts[0].output == 0);
    CHECK(parts[1].output == 1);
    CHECK(b.shape(parts[0]) == tensor_shape{1, 8, 8, 16});
    CHECK(b.shape(parts[1]) == tensor_shape{1, 8, 8, 8});
    const auto& n = node_of(b, parts[0]);
    CHECK(n.op == op_kind::split);
    CHECK(n.output_shapes.size() == 2);
    CHECK(n.attrs.axis == 3);
    CHECK(n.attrs.split_sizes == std::vector<dim>{16, 8});
    const auto thirds = b.split(x, 3);
    REQUIRE(thirds.size() == 3);
    for (const tensor_ref& t : thirds) CHECK(b.shape(t) == tensor_shape{1, 8, 8, 8});
    CHECK(node_of(b, thirds[2]).attrs.split_sizes == std::vector<dim>{8, 8, 8});
    const auto rows = b.split(x, 2, 1);
    CHECK(b.shape(rows[1]) == tensor_shape{1, 4, 8, 24});
    CHECK(b.shape(b.split(x, std::vector<dim>{24})[0]) == tensor_shape{1, 8, 8, 24});
    // The consumers of both halves read distinct outputs of one node.
    const tensor_ref r = b.add(parts[1], parts[1]);
    CHECK(node_of(b, r).inputs == std::vector<tensor_ref>{parts[1], parts[1]});

    expect_error(b,
                 [&] {
                   b.split(x, {16, 4}, -1, "s");
                 },
                 {"split 's'", "[16, 4]", "do not sum", "(24)"});
    expect_error(b, [&] { b.split(x, {24, 0}); }, {"must each be >= 1"});
    expect_error(b, [&] { b.split(x, {12, -2, 14}); }, {"must each be >= 1"});
    expect_error(b, [&] { b.split(x, std::vector<dim>{}); }, {"at least one"});
    expect_error(b, [&] { b.split(x, 5); }, {"size 24", "5 equal parts"});
    expect_error(b, [&] { b.split(x, 0); }, {"0 equal parts"});
    expect_error(b, [&] { b.split(x, 2, 7); }, {"axis 7"});
  }

  TEST_CASE("slice") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 24});
    const tensor_ref s = b.slice(x, 3, 0, 8);
    CHECK(b.shape(s) == tensor_shape{1, 8, 8, 8});
    CHECK(node_of(b, s).op == op_kind::slice);
    CHECK(attrs_of(b, s).axis == 3);
    CHECK(attrs_of(b, s).axes == std::vector<dim>{3});
    CHECK(*attrs_of(b, s).find_extra("starts") == "[0]");
    CHECK(*attrs_of(b, s).find_extra("ends") == "[8]");
    CHECK(*attrs_of(b, s).find_extra("steps") == "[1]");
    CHECK(b.shape(b.slice(x, -1, -8, i64_max)) == tensor_shape{1, 8, 8, 8});
    CHECK(b.shape(b.slice(x, 3, 1, 24, 2)) == tensor_shape{1, 8, 8, 12});
    CHECK(b.shape(b.slice(x, 3, 0, 100, i64_max)) == tensor_shape{1, 8, 8, 1});
    CHECK(b.shape(b.slice(x, 1, -1, i64_min, -1)) == tensor_shape{1, 8, 8, 24});  // reverse
    CHECK(b.shape(b.slice(x, 1, 7, 2, -2)) == tensor_shape{1, 3, 8, 24});         // 7, 5, 3
    CHECK(b.shape(b.slice(x, 1, i64_min, i64_max)) == tensor_shape{1, 8, 8, 24});
    CHECK(b.shape(b.slice(x, 1, 7, -100, i64_min)) == tensor_shape{1, 1, 8, 24});  // index 7
    expect_error(b, [&] { b.slice(x, 1, 0, 8, i64_min); }, {"is empty"});  // backwards from 0
    expect_error(b, [&] { b.slice(x, 3, 0, 8, 0, "sl"); }, {"slice 'sl'", "step must not be 0"});
    expect_error(b, [&] { b.slice(x, 3, 10, 5); }, {"[10:5:1]", "is empty"});
    expect_error(b, [&] { b.slice(x, 3, 30, 40); }, {"is empty"});
    expect_error(b, [&] { b.slice(x, 4, 0, 1); }, {"axis 4"});
  }

  TEST_CASE("channel_shuffle and pad") {
    graph_builder b;
    const tensor_ref x = b.input({1, 28, 28, 116});
    const tensor_ref c = b.channel_shuffle(x, 2);
    CHECK(b.shape(c) == tensor_shape{1, 28, 28, 116});
    CHECK(node_of(b, c).op == op_kind::channel_shuffle);
    CHECK(attrs_of(b, c).groups == 2);
    expect_error(b, [&] { b.channel_shuffle(x, 3, "cs"); },
                 {"channel_shuffle 'cs'", "groups 3", "116 channels"});
    expect_error(b, [&] { b.channel_shuffle(x, 0); }, {"groups 0"});
    const tensor_ref flat = b.input({1, 116});
    expect_error(b, [&] { b.channel_shuffle(flat, 2); }, {"rank-4"});

    const tensor_ref p = b.pad(x, 1, 2, 3, 4);
    CHECK(b.shape(p) == tensor_shape{1, 31, 35, 116});
    CHECK(node_of(b, p).op == op_kind::pad);
    CHECK(attrs_of(b, p).pads == std::array<dim, 4>{1, 2, 3, 4});
    CHECK(b.shape(b.pad(x, 0, 0, 0, 0)) == tensor_shape{1, 28, 28, 116});
    expect_error(b, [&] { b.pad(x, 0, -1, 0, 0, "pp"); }, {"pad 'pp'", "{0, -1, 0, 0}"});
    expect_error(b, [&] { b.pad(x, max_dim, 0, 0, 0); }, {"sizes must be in"});
    const tensor_ref vec = b.input({4});
    expect_error(b, [&] { b.pad(vec, 1, 1, 1, 1); }, {"rank-4"});
  }

  TEST_CASE("reshape with ONNX semantics, flatten") {
    graph_builder b;
    const tensor_ref x = b.input({1, 7, 7, 64});
    const tensor_ref r = b.reshape(x, {0, -1});
    CHECK(b.shape(r) == tensor_shape{1, 3136});
    CHECK(node_of(b, r).op == op_kind::reshape);
    CHECK(attrs_of(b, r).target_shape == std::vector<dim>{0, -1});  // kept as given
    CHECK(b.shape(b.reshape(x, {-1, 64})) == tensor_shape{49, 64});
    CHECK(b.shape(b.reshape(x, {1, 49, 64})) == tensor_shape{1, 49, 64});
    CHECK(b.shape(b.reshape(x, {0, 0, 0, 0})) == tensor_shape{1, 7, 7, 64});
    CHECK(b.shape(b.reshape(b.input({6}), {2, 1, 3})) == tensor_shape{2, 1, 3});
    expect_error(b, [&] { b.reshape(x, {-1, -1}, "rs"); }, {"reshape 'rs'", "more than one -1"});
    expect_error(b,
                 [&] {
                   b.reshape(x, {1, 3000});
                 },
                 {"[1, 7, 7, 64] (3136 elements)", "[1, 3000] (3000 elements)"});
    expect_error(b, [&] { b.reshape(x, {-1, 100}); }, {"not a multiple of 100"});
    expect_error(b, [&] { b.reshape(x, {0, 0, 0, 0, 0}); }, {"copies dimension 4", "rank 4"});
    expect_error(b, [&] { b.reshape(x, {-2, 1568}); }, {"dimension -2"});
    expect_error(b, [&] { b.reshape(x, {1, 1, 1, 1, 1, 1, 1, 1, 3136}); }, {"target rank 9"});
    expect_error(b, [&] { b.reshape(x, {max_dim, max_dim, max_dim}); }, {"overflows"});

    const tensor_ref f = b.flatten(x);
    CHECK(b.shape(f) == tensor_shape{1, 3136});
    CHECK(node_of(b, f).op == op_kind::flatten);
    CHECK(attrs_of(b, f).axis == 1);
    CHECK(b.shape(b.flatten(x, 0)) == tensor_shape{1, 3136});
    CHECK(b.shape(b.flatten(x, 3)) == tensor_shape{49, 64});
    CHECK(b.shape(b.flatten(x, 4)) == tensor_shape{3136, 1});
    CHECK(b.shape(b.flatten(x, -1)) == tensor_shape{49, 64});
    CHECK(attrs_of(b, b.flatten(x, -4)).axis == 0);
    expect_error(b, [&] { b.flatten(x, 5); }, {"flatten", "axis 5", "[-4, 4]"});
  }

  TEST_CASE("transpose, squeeze, unsqueeze") {
    graph_builder b;
    const tensor_ref x = b.input({1, 28, 14, 3});
    const tensor_ref t = b.transpose(x, {0, 3, 1, 2});
    CHECK(b.shape(t) == tensor_shape{1, 3, 28, 14});
    CHECK(node_of(b, t).op == op_kind::transpose);
    CHECK(attrs_of(b, t).perm == std::vector<dim>{0, 3, 1, 2});
    const tensor_ref rev = b.transpose(x, {});
    CHECK(b.shape(rev) == tensor_shape{3, 14, 28, 1});
    CHECK(attrs_of(b, rev).perm == std::vector<dim>{3, 2, 1, 0});
    expect_error(b,
                 [&] {
                   b.transpose(x, {0, 1, 1, 2}, "tp");
                 },
                 {"transpose 'tp'", "perm [0, 1, 1, 2]", "4 axes"});
    expect_error(b, [&] { b.transpose(x, {0, 1, 2}); }, {"perm [0, 1, 2]"});
    expect_error(b, [&] { b.transpose(x, {0, 1, 2, 4}); }, {"perm [0, 1, 2, 4]"});
    expect_error(b, [&] { b.transpose(x, {0, 1, 2, -1}); }, {"perm [0, 1, 2, -1]"});

    const tensor_ref g = b.input({1, 1, 1, 512});
    const tensor_ref sq = b.squeeze(g, {1, 2});
    CHECK(b.shape(sq) == tensor_shape{1, 512});
    CHECK(node_of(b, sq).op == op_kind::squeeze);
    CHECK(attrs_of(b, sq).axes == std::vector<dim>{1, 2});
    CHECK(b.shape(b.squeeze(g)) == tensor_shape{512});
    CHECK(attrs_of(b, b.squeeze(g)).axes == std::vector<dim>{0, 1, 2});
    CHECK(b.shape(b.squeeze(g, {-2})) == tensor_shape{1, 1, 512});
    expect_error(b, [&] { b.squeeze(g, {3}, "sq"); }, {"squeeze 'sq'", "axis 3 of size 512"});
    expect_error(b, [&] { b.squeeze(g, {1, 1}); }, {"repeated"});

    const tensor_ref v = b.input({1, 512});
    const tensor_ref us = b.unsqueeze(v, {1, 2});
    CHECK(b.shape(us) == tensor_shape{1, 1, 1, 512});
    CHECK(node_of(b, us).op == op_kind::unsqueeze);
    CHECK(b.shape(b.unsqueeze(v, {-1})) == tensor_shape{1, 512, 1});
    CHECK(b.shape(b.unsqueeze(v, {0, 3})) == tensor_shape{1, 1, 512, 1});
    // Axes index the output (rank 4 here), so -1 is 3.
    const tensor_ref u2 = b.unsqueeze(v, {-1, 0});
    CHECK(b.shape(u2) == tensor_shape{1, 1, 512, 1});
    CHECK(attrs_of(b, u2).axes == std::vector<dim>{0, 3});
    expect_error(b, [&] { b.unsqueeze(v, {}); }, {"at least one axis"});
    expect_error(b, [&] { b.unsqueeze(v, {0, 1, 2, 3, 4, 5, 6}); }, {"output rank 9"});
    expect_error(b, [&] { b.unsqueeze(v, {3}); }, {"axis 3"});
  }

  TEST_CASE("resize") {
    graph_builder b;
    const tensor_ref x = b.input({1, 14, 7, 32});
    const tensor_ref r = b.resize(x, 2, 2);
    CHECK(b.shape(r) == tensor_shape{1, 28, 14, 32});
    CHECK(node_of(b, r).op == op_kind::resize);
    CHECK(attrs_of(b, r).mode == "nearest");
    CHECK(attrs_of(b, r).scales == std::array<float, 2>{2.0f, 2.0f});
    CHECK(b.shape(b.resize(x, 0.5, 1.5, "bilinear")) == tensor_shape{1, 7, 10, 32});
    CHECK(attrs_of(b, b.resize(x, 1, 1, "linear")).mode == "linear");
    CHECK(attrs_of(b, b.resize(x, 1, 1, "cubic", "rz")).mode == "cubic");
    expect_error(b, [&] { b.resize(x, 2, 2, "up", "r"); }, {"resize 'r'", "unknown mode 'up'"});
    expect_error(b, [&] { b.resize(x, 0, 2); }, {"height 14 scaled by 0"});
    expect_error(b, [&] { b.resize(x, 2, -1); }, {"width 7"});
    expect_error(b, [&] { b.resize(x, 0.01, 1); }, {"no size in [1,"});
    expect_error(b, [&] { b.resize(x, std::nan(""), 1); }, {"height"});
    expect_error(b, [&] { b.resize(x, 1e12, 1); }, {"height"});
    const tensor_ref flat = b.input({1, 14});
    expect_error(b, [&] { b.resize(flat, 2, 2); }, {"rank-4"});
  }

  TEST_CASE("se block has nn-Meter's ONNX se structure") {
    graph_builder b;
    const tensor_ref x = b.input({1, 56, 56, 16});
    const tensor_ref y = b.se(x);
    const nnmeter::graph& g = b.view();
    REQUIRE(g.num_nodes() == 7);
    const std::vector<op_kind> ops{op_kind::input, op_kind::global_avgpool, op_kind::conv,
                                   op_kind::relu,  op_kind::conv,           op_kind::hsigmoid,
                                   op_kind::mul};
    const std::vector<std::string> names{"input_0",    "se_0/gap",      "se_0/conv1", "se_0/relu",
                                         "se_0/conv2", "se_0/hsigmoid", "se_0/mul"};
    for (nnmeter::node_index i = 0; i < 7; ++i) {
      CAPTURE(i);
      CHECK(g.op(i) == ops[i]);
      CHECK(g.name(i) == names[i]);
    }
    // dummy -> gap -> conv -> relu -> conv -> hardsigmoid -> mul, plus dummy -> mul.
    CHECK(g.predecessors(1) == std::vector<nnmeter::node_index>{0});
    CHECK(g.predecessors(2) == std::vector<nnmeter::node_index>{1});
    CHECK(g.predecessors(3) == std::vector<nnmeter::node_index>{2});
    CHECK(g.predecessors(4) == std::vector<nnmeter::node_index>{3});
    CHECK(g.predecessors(5) == std::vector<nnmeter::node_index>{4});
    CHECK(g.predecessors(6) == std::vector<nnmeter::node_index>{0, 5});
    CHECK(g.output_shapes(2)[0] == tensor_shape{1, 1, 1, 4});  // 16 / 4
    CHECK(g.output_shapes(4)[0] == tensor_shape{1, 1, 1, 16});
    CHECK(g.attrs(2).kernel == std::array<dim, 2>{1, 1});
    CHECK(g.input_shapes(6) == std::vector<tensor_shape>{{1, 56, 56, 16}, {1, 1, 1, 16}});
    CHECK(b.shape(y) == tensor_shape{1, 56, 56, 16});
    CHECK(y.node == 6);

    const tensor_ref z = b.se(y, 8, "block3");
    CHECK(node_of(b, z).name == "block3/mul");
    CHECK(g.output_shapes(*g.find("block3/conv1"))[0] == tensor_shape{1, 1, 1, 2});
    CHECK(node_of(b, b.se(y)).name == "se_1/mul");
    CHECK(b.shape(tensor_ref{*g.find("se_1/conv1"), 0}) == tensor_shape{1, 1, 1, 4});
    // A reduction above C still leaves one channel.
    const tensor_ref w = b.se(y, 64, "wide");
    CHECK(b.shape(tensor_ref{*g.find("wide/conv1"), 0}) == tensor_shape{1, 1, 1, 1});
    CHECK(b.shape(w) == tensor_shape{1, 56, 56, 16});

    expect_error(b, [&] { b.se(y, 0, "bad"); }, {"se 'bad'", "reduction 0"});
    const tensor_ref flat = b.input({1, 16});
    expect_error(b, [&] { b.se(flat); }, {"rank-4"});
    b.relu(y, "taken/relu");
    expect_error(b, [&] { b.se(y, 4, "taken"); }, {"'taken/relu' already exists"});
    // Automatic names skip a prefix whose children are taken.
    b.relu(y, "se_3/gap");
    CHECK(node_of(b, b.se(y)).name == "se_4/mul");
  }

  TEST_CASE("conv_bn_relu") {
    graph_builder b;
    const tensor_ref x = b.input({1, 224, 224, 3});
    const tensor_ref y = b.conv_bn_relu(x, 32, 3, 2);
    const nnmeter::graph& g = b.view();
    REQUIRE(g.num_nodes() == 4);
    CHECK(g.name(1) == "conv_bn_relu_0/conv");
    CHECK(g.name(2) == "conv_bn_relu_0/bn");
    CHECK(g.name(3) == "conv_bn_relu_0/relu");
    CHECK(g.op(1) == op_kind::conv);
    CHECK(g.op(2) == op_kind::bn);
    CHECK(g.op(3) == op_kind::relu);
    CHECK(g.attrs(1).padding == padding_mode::same);
    CHECK(b.shape(y) == tensor_shape{1, 112, 112, 32});
    const tensor_ref z = b.conv_bn_relu(y, 64, {1, 3}, 1, "stem");
    CHECK(node_of(b, z).name == "stem/relu");
    CHECK(b.shape(z) == tensor_shape{1, 112, 112, 64});
    expect_error(b, [&] { b.conv_bn_relu(y, 0, 3, 1, "c"); },
                 {"conv 'c/conv'", "output channels 0"});
    expect_error(b, [&] { b.conv_bn_relu(y, 8, 3, 1, "stem"); }, {"'stem/conv' already exists"});
    const tensor_ref flat = b.input({1, 3});
    expect_error(b, [&] { b.conv_bn_relu(flat, 8, 3); }, {"rank-4"});
    const tensor_ref wide = b.input({1, 46341, 46341, 1});
    expect_error(b, [&] { b.conv_bn_relu(wide, max_dim, 1); }, {"more bytes"});
  }

  TEST_CASE("view, build() const& and build() &&") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 4});
    b.relu(x);
    CHECK(b.view().num_nodes() == 2);
    const nnmeter::graph copy = b.build();
    CHECK(copy.num_nodes() == 2);
    b.relu(x);  // still usable after a copy
    CHECK(b.view().num_nodes() == 3);
    CHECK(copy.num_nodes() == 2);
    nnmeter::graph moved = std::move(b).build();
    CHECK(moved.num_nodes() == 3);
    CHECK(moved.name(2) == "relu_1");
    CHECK(b.view().num_nodes() == 0);  // NOLINT(bugprone-use-after-move): documented reset
    CHECK(node_of(b, b.input({1})).name == "input_0");  // counters restart
  }

  TEST_CASE("a built network validates and is already in topological order") {
    graph_builder b;
    tensor_ref x = b.input({1, 224, 224, 3}, dtype::f32, "image");
    x = b.conv_bn_relu(x, 16, 3, 2);
    const tensor_ref skip = x;
    x = b.dwconv(x, 3);
    x = b.bn(x);
    x = b.relu6(x);
    x = b.se(x);
    x = b.conv(x, 16, 1);
    x = b.add(x, skip);
    const auto halves = b.split(x, 2);
    x = b.concat({b.relu(halves[0]), halves[1]});
    x = b.channel_shuffle(x, 2);
    x = b.maxpool(x, 3, 2, padding_mode::same);
    x = b.hswish(x);
    x = b.global_avgpool(x);
    x = b.fc(x, 1000, "logits");
    x = b.softmax(x);
    const nnmeter::graph g = std::move(b).build();
    CHECK_NOTHROW(g.validate());
    const auto order = g.topological_order();
    for (std::size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
    for (const nnmeter::node& n : g.nodes()) {
      CAPTURE(n.name);
      CHECK(n.type == nnmeter::to_string(n.op));
      CHECK(n.input_shapes.size() == n.inputs.size());
      for (std::size_t i = 0; i < n.inputs.size(); ++i)
        CHECK(n.input_shapes[i] == g[n.inputs[i].node].output_shapes[n.inputs[i].output]);
      for (const tensor_shape& s : n.output_shapes) CHECK(s.is_static());
    }
    CHECK(g.output_shapes(*g.find("logits"))[0] == tensor_shape{1, 1000});
  }
}
