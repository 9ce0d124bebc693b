// One-op graphs through the XNNPACK executor, each checked against the plain-loop reference.
// SPDX-License-Identifier: MIT
#include "support.hpp"

using namespace nnmeter_test;
using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::pads4;
using nnmeter::tensor_ref;

TEST_CASE("conv: kernels, strides, padding modes, dilation, groups, bias") {
  struct cfg {
    const char* what;
    tensor_shape in;
    std::int64_t cout;
    nnmeter::hw_pair k, s;
    padding_mode pad;
    std::int64_t groups;
    nnmeter::hw_pair dil;
    bool bias;
  };
  const cfg cases[] = {
      {"3x3 s1 same", {1, 12, 12, 8}, 16, 3, 1, padding_mode::same, 1, 1, true},
      {"3x3 s2 same (odd size)", {1, 13, 11, 8}, 16, 3, 2, padding_mode::same, 1, 1, true},
      {"1x1", {1, 9, 9, 24}, 40, 1, 1, padding_mode::same, 1, 1, true},
      {"5x5 valid", {1, 11, 11, 4}, 6, 5, 1, padding_mode::valid, 1, 1, true},
      {"7x7 s2 stem, 3 channels", {1, 32, 32, 3}, 16, 7, 2, padding_mode::same, 1, 1, true},
      {"1x7 non-square", {1, 10, 10, 8}, 8, {1, 7}, 1, padding_mode::same, 1, 1, true},
      {"dilation 2", {1, 14, 14, 8}, 8, 3, 1, padding_mode::same, 1, 2, true},
      {"grouped g=4", {1, 10, 10, 16}, 32, 3, 1, padding_mode::same, 4, 1, true},
      {"no bias", {1, 8, 8, 8}, 8, 3, 1, padding_mode::same, 1, 1, false},
      {"batch 2", {2, 8, 8, 8}, 12, 3, 2, padding_mode::same_lower, 1, 1, true},
  };
  for (const cfg& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    graph_builder b;
    b.conv(b.input(c.in, nnmeter::dtype::f32, "x"), c.cout, c.k, c.s, c.pad, c.groups, c.dil,
           c.bias, "conv");
    check_against_reference(std::move(b).build());
  }
  SUBCASE("explicit asymmetric pads") {
    graph_builder b;
    b.conv(b.input({1, 9, 9, 4}, nnmeter::dtype::f32, "x"), 8, 3, 2, pads4{0, 1, 2, 1}, 1, 1, true,
           "conv");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("dwconv: 3x3, 5x5 s2, multiplier, dilation, explicit pads") {
  {
    graph_builder b;
    b.dwconv(b.input({1, 16, 16, 32}, nnmeter::dtype::f32, "x"), 3, 1, padding_mode::same, 1, 1,
             "dw");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.dwconv(b.input({1, 15, 15, 24}, nnmeter::dtype::f32, "x"), 5, 2, padding_mode::same, 1, 1,
             "dw");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.dwconv(b.input({1, 10, 10, 8}, nnmeter::dtype::f32, "x"), 3, 1, padding_mode::same, 2, 1,
             "dw_mult2");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.dwconv(b.input({1, 12, 12, 8}, nnmeter::dtype::f32, "x"), 3, 1, padding_mode::same, 1, 2,
             "dw_dil2");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.dwconv(b.input({1, 12, 12, 8}, nnmeter::dtype::f32, "x"), 3, 2, pads4{1, 0, 1, 0}, 1, 1,
             "dw_pads");
    check_against_reference(std::move(b).build());
  }
  for (std::int64_t mult : {1, 2}) {  // an op_kind::conv with groups == Cin (as importers may
    CAPTURE(mult);                    // leave it) runs as a depthwise convolution
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 9, 9, 8});
    nnmeter::attributes a;
    a.kernel = {3, 3};
    a.strides = {2, 2};
    a.padding = padding_mode::same;
    a.pads = {1, 1, 1, 1};
    a.groups = 8;
    const tensor_ref c = add_raw(g, "grouped", op_kind::conv, {x}, {1, 5, 5, 8 * mult}, a);
    add_raw(g, "bn", op_kind::bn, {c}, {1, 5, 5, 8 * mult});  // folded into the relaid filter
    check_against_reference(g);
  }
  {  // groups == Cin through conv(): emitted as dwconv
    graph_builder b;
    b.conv(b.input({1, 8, 8, 16}, nnmeter::dtype::f32, "x"), 16, 3, 1, padding_mode::same, 16, 1,
           true, "dw_via_conv");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("fc: rank-2 input, rank-4 [N,1,1,C] input, no bias, batch") {
  {
    graph_builder b;
    b.fc(b.input({1, 64}, nnmeter::dtype::f32, "x"), 10, true, "fc");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.fc(b.input({3, 1, 1, 48}, nnmeter::dtype::f32, "x"), 20, true, "fc");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.fc(b.input({4, 100}, nnmeter::dtype::f32, "x"), 1000, false, "fc_nobias");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("pooling: max / avg with same, valid, explicit pads, ceil mode; global pools") {
  const auto x = [](graph_builder& b) { return b.input({1, 13, 13, 8}, nnmeter::dtype::f32, "x"); };
  {
    graph_builder b;
    b.maxpool(x(b), 3, 2, padding_mode::same, "mp");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.maxpool(x(b), 2, 2, padding_mode::valid, "mp");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.maxpool(x(b), 3, 2, pads4{1, 1, 1, 1}, true, "mp_ceil");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.avgpool(x(b), 3, 1, padding_mode::same, "ap_same");  // padding excluded from the mean
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.avgpool(x(b), 2, 2, padding_mode::valid, "ap");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.avgpool(x(b), 3, 2, pads4{0, 0, 0, 0}, true, "ap_ceil");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.global_avgpool(x(b), "gap");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.global_maxpool(x(b), "gmp");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.reduce_mean(x(b), {1, 2}, false, "mean_hw");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("batch norm: standalone (rank 4 and rank 2) and folded into conv / dwconv / fc") {
  {
    graph_builder b;
    b.bn(b.input({1, 6, 6, 16}, nnmeter::dtype::f32, "x"), "bn");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.bn(b.input({2, 32}, nnmeter::dtype::f32, "x"), "bn");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref x = b.input({1, 10, 10, 8}, nnmeter::dtype::f32, "x");
    const tensor_ref c = b.conv(x, 16, 3, 1, padding_mode::same, 1, 1, false, "conv");
    const tensor_ref d =
        b.dwconv(b.relu(b.bn(c, "bn1"), "relu1"), 3, 1, padding_mode::same, 1, 1, "dw");
    const tensor_ref f = b.fc(b.global_avgpool(b.relu6(b.bn(d, "bn2"))), 10, true, "fc");
    b.bn(f, "bn3");
    const nnmeter::graph g = std::move(b).build();
    xnn::executor ex(g);
    CHECK(ex.folded_bn() == std::vector<std::string>{"bn1", "bn2", "bn3"});
    CHECK(ex.num_runtimes() == 1);
    check_against_reference(g);
  }
  {  // conv output also read elsewhere: not folded, still correct
    graph_builder b;
    const tensor_ref x = b.input({1, 6, 6, 4}, nnmeter::dtype::f32, "x");
    const tensor_ref c = b.conv(x, 4, 3, 1, padding_mode::same, 1, 1, true, "conv");
    b.add(b.bn(c, "bn"), c, "add");
    const nnmeter::graph g = std::move(b).build();
    CHECK(xnn::executor(g).folded_bn().empty());
    check_against_reference(g);
  }
}

TEST_CASE("activations: relu, relu6, clip, sigmoid, hswish, hsigmoid, swish, tanh, leaky, elu") {
  using fn = tensor_ref (*)(graph_builder&, tensor_ref);
  const fn acts[] = {
      [](graph_builder& b, tensor_ref x) { return b.relu(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.relu6(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.clip(x, -0.25, 0.5, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.sigmoid(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.hswish(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.hsigmoid(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.swish(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.tanh(x, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.leaky_relu(x, 0.1, "act"); },
      [](graph_builder& b, tensor_ref x) { return b.elu(x, 0.7, "act"); },
  };
  for (std::size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); ++i) {
    CAPTURE(i);
    // Scale the [-1, 1] input up through a conv so the activations see values past +-3 and 6.
    graph_builder b;
    const tensor_ref x = b.input({1, 7, 7, 16}, nnmeter::dtype::f32, "x");
    const tensor_ref c = b.conv(x, 16, 3, 1, padding_mode::same, 1, 1, true, "conv");
    const tensor_ref m = b.mul(c, b.constant({1}, nnmeter::dtype::f32, "k"), "scale");
    acts[i](b, m);
    xnn::executor_options o;
    o.params["k"].filter = {4.0f};
    check_against_reference(std::move(b).build(), o, 1e-4, 2e-5);
  }
}

TEST_CASE("prelu, bias_add, softmax") {
  SUBCASE("prelu (per-channel slope)") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 5, 5, 12});
    add_raw(g, "prelu", op_kind::prelu, {x}, {1, 5, 5, 12});
    check_against_reference(g);
  }
  SUBCASE("bias_add") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 5, 5, 12});
    add_raw(g, "bias", op_kind::bias_add, {x}, {1, 5, 5, 12});
    check_against_reference(g);
  }
  SUBCASE("softmax over the last axis") {
    graph_builder b;
    b.softmax(b.fc(b.input({2, 32}, nnmeter::dtype::f32, "x"), 1000, true, "fc"), -1, "softmax");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("op_kind::other with a source type XNNPACK has a node for") {
  for (const char* type : {"Abs", "Neg", "Sqrt", "Square", "Floor", "Ceil", "Round"}) {
    const std::string t = type;
    CAPTURE(t);
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 5, 5, 8});
    // Sqrt needs x >= 0: square first (also an `other`); scale so rounding sees .5 cases
    const tensor_ref k = add_raw(g, "k", op_kind::constant, {}, tensor_shape{});
    const tensor_ref s = add_raw(g, "s", op_kind::mul, {x, k}, {1, 5, 5, 8});
    tensor_ref in = s;
    if (t == "Sqrt") {
      in = add_raw(g, "sq", op_kind::other, {s}, {1, 5, 5, 8});
      g.mutable_node(in.node).type = "Square";
    }
    const tensor_ref y = add_raw(g, "op", op_kind::other, {in}, {1, 5, 5, 8});
    g.mutable_node(y.node).type = t;
    xnn::executor_options o;
    o.params["k"].filter = {2.5f};
    check_against_reference(g, o);
  }
  for (const char* type : {"Max", "Minimum", "SquaredDifference"}) {
    const std::string t = type;
    CAPTURE(t);
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 5, 5, 8});
    const tensor_ref z = add_raw(g, "z", op_kind::input, {}, {1, 1, 1, 8});
    const tensor_ref y = add_raw(g, "op", op_kind::other, {x, z}, {1, 5, 5, 8});
    g.mutable_node(y.node).type = t;
    check_against_reference(g);
  }
}

TEST_CASE("element-wise binary ops with broadcasting") {
  struct cfg {
    op_kind op;
    tensor_shape a, b;
    bool b_constant;
  };
  const cfg cases[] = {
      {op_kind::add, {1, 8, 8, 16}, {1, 8, 8, 16}, false},
      {op_kind::add, {1, 8, 8, 16}, {16}, true},
      {op_kind::mul, {1, 8, 8, 16}, {1, 1, 1, 16}, false},
      {op_kind::mul, {2, 4, 4, 8}, {2, 1, 1, 8}, false},
      {op_kind::sub, {1, 6, 6, 4}, {1, 6, 6, 4}, false},
      {op_kind::sub, {1, 6, 6, 4}, {1}, true},
      {op_kind::div, {1, 6, 6, 4}, {4}, true},
      {op_kind::div, {3, 5}, {3, 5}, true},
  };
  for (const cfg& c : cases) {
    const std::string op = std::string(nnmeter::to_string(c.op));
    CAPTURE(op);
    const std::string b_shape = shape_str(c.b);
    CAPTURE(b_shape);
    graph_builder b;
    const tensor_ref x = b.input(c.a, nnmeter::dtype::f32, "x");
    const tensor_ref y = c.b_constant ? b.constant(c.b, nnmeter::dtype::f32, "k")
                                      : b.input(c.b, nnmeter::dtype::f32, "y");
    switch (c.op) {
      case op_kind::add:
        b.add(x, y, "op");
        break;
      case op_kind::sub:
        b.sub(x, y, "op");
        break;
      case op_kind::mul:
        b.mul(x, y, "op");
        break;
      default:
        b.div(x, y, "op");
        break;
    }
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("constants: values from attrs.extra[\"constant\"], rank-0 scalars; bn epsilon") {
  graph_builder b;
  const tensor_ref x = b.input({1, 4, 4, 8}, nnmeter::dtype::f32, "x");
  const tensor_ref three = b.constant({}, nnmeter::dtype::f32, "three");      // rank 0
  const tensor_ref vec = b.constant({8}, nnmeter::dtype::f32, "vec");         // explicit values
  const tensor_ref rnd = b.constant({1, 1, 1, 8}, nnmeter::dtype::f32, "r");  // generated
  b.mul(b.add(x, three, "plus3"), b.sub(vec, rnd, "d"), "out");
  const tensor_ref n = b.bn(x, "bn");
  nnmeter::graph g = std::move(b).build();
  g.mutable_node(three.node).attrs.extra = {{"constant", "[3.0]"}};
  g.mutable_node(vec.node).attrs.extra = {{"constant", "[1, 2, 3, 4, 5, 6, 7, 8]"}};
  g.mutable_node(n.node).attrs.alpha = 0.125f;  // the ONNX importer's place for epsilon
  xnn::executor ex(g);
  CHECK(ex.params("three").filter == std::vector<float>{3.0f});
  CHECK(ex.params("vec").filter == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(ex.params("r").filter.size() == 8);
  CHECK(ex.params("bn").epsilon == 0.125f);
  check_against_reference(g);
}

TEST_CASE("shapes that contradict an op's semantics are refused") {
  nnmeter::graph g;  // nn-Meter IR files carry such shapes (a [1,1,1,16] * [] claimed 56x56)
  const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 1, 1, 16});
  const tensor_ref k = add_raw(g, "k", op_kind::constant, {}, tensor_shape{});
  add_raw(g, "mul", op_kind::mul, {x, k}, {1, 56, 56, 16});
  // nnmeter::validate refuses it before the executor looks at it.
  CHECK_THROWS_WITH_AS(xnn::executor{g},
                       doctest::Contains("node 'mul' (mul): output 0 is declared [1, 56, 56, 16] "
                                         "but its inputs [1, 1, 1, 16] and [] give [1, 1, 1, 16]"),
                       nnmeter::graph_error);
  {  // glue shapes drive raw copies: they must tile the tensor exactly
    nnmeter::graph c;
    const tensor_ref a = add_raw(c, "a", op_kind::input, {}, {1, 4, 4, 3});
    const tensor_ref b2 = add_raw(c, "b", op_kind::input, {}, {1, 4, 4, 5});
    nnmeter::attributes ax;
    ax.axis = 3;
    add_raw(c, "cat", op_kind::concat, {a, b2}, {1, 4, 4, 9}, ax);
    CHECK_THROWS_WITH_AS(xnn::executor{c}, doctest::Contains("give [1, 4, 4, 8]"),
                         nnmeter::graph_error);
    nnmeter::graph s;
    const tensor_ref z = add_raw(s, "z", op_kind::input, {}, {1, 4, 4, 8});
    nnmeter::node sp;
    sp.name = "split";
    sp.op = op_kind::split;
    sp.type = "split";
    sp.inputs = {z};
    sp.input_shapes = {{1, 4, 4, 8}};
    sp.output_shapes = {{1, 4, 4, 4}, {1, 4, 5, 4}};
    sp.attrs.axis = 3;
    s.add_node(std::move(sp));
    CHECK_THROWS_WITH_AS(xnn::executor{s},
                         doctest::Contains("output 1 is declared [1, 4, 5, 4] but its input "
                                           "[1, 4, 4, 8] gives [1, 4, 4, 4]"),
                         nnmeter::graph_error);
  }
  {
    nnmeter::graph q;
    const tensor_ref z = add_raw(q, "z", op_kind::input, {}, {1, 4, 4, 8});
    add_raw(q, "gmp", op_kind::global_maxpool, {z}, {1, 2, 2, 8});
    CHECK_THROWS_WITH_AS(xnn::executor{q}, doctest::Contains("gives [1, 1, 1, 8]"),
                         nnmeter::graph_error);
    nnmeter::graph t;
    const tensor_ref u = add_raw(t, "u", op_kind::input, {}, {1, 1, 4, 8});
    nnmeter::attributes perm;
    perm.perm = {0, 0, 2, 3};
    add_raw(t, "tr", op_kind::transpose, {u}, {1, 1, 4, 8}, perm);
    CHECK_THROWS_WITH_AS(xnn::executor{t}, doctest::Contains("not a permutation"),
                         nnmeter::graph_error);
  }
  nnmeter::graph p;
  const tensor_ref y = add_raw(p, "y", op_kind::input, {}, {1, 4, 4, 3});
  nnmeter::attributes a;
  add_raw(p, "pad_bad", op_kind::pad, {y}, {1, 4, 4, 5}, a);  // no pads say so
  CHECK_THROWS_WITH_AS(xnn::executor{p}, doctest::Contains("gives [1, 4, 4, 3]"),
                       nnmeter::graph_error);
  // Consistent (the source's NCHW pads add 2 channels) but not what XNNPACK pads.
  nnmeter::graph pc;
  const tensor_ref w = add_raw(pc, "w", op_kind::input, {}, {1, 4, 4, 3});
  nnmeter::attributes ac;
  ac.extra.emplace_back("pads", "[0, 0, 0, 0, 0, 2, 0, 0]");
  add_raw(pc, "pad_c", op_kind::pad, {w}, {1, 4, 4, 5}, ac);
  CHECK_THROWS_WITH_AS(xnn::executor{pc}, doctest::Contains("channel axis"),
                       nnmeter::unsupported_error);
}

TEST_CASE("data layout ops: pad, reshape, flatten, squeeze, unsqueeze, unit transpose, resize") {
  {
    graph_builder b;
    b.pad(b.input({1, 5, 6, 3}, nnmeter::dtype::f32, "x"), 1, 2, 0, 3, "pad");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref x = b.input({2, 4, 4, 6}, nnmeter::dtype::f32, "x");
    b.relu(b.reshape(x, {2, -1}, "reshape"), "r1");
    b.relu(b.flatten(x, 1, "flatten"), "r2");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref g = b.global_avgpool(b.input({1, 4, 4, 6}, nnmeter::dtype::f32, "x"), "gap");
    const tensor_ref s = b.squeeze(g, {1, 2}, "squeeze");
    b.unsqueeze(b.relu(s), {1}, "unsqueeze");
    b.transpose(g, {0, 3, 1, 2}, "transpose_unit");  // [1,1,1,6] -> [1,6,1,1]: no data moves
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.resize(b.input({1, 5, 7, 4}, nnmeter::dtype::f32, "x"), 2.0, 2.0, "bilinear", "resize");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("glue ops: concat, split, slice, channel shuffle (operator API)") {
  {
    graph_builder b;
    const tensor_ref x = b.input({1, 6, 6, 8}, nnmeter::dtype::f32, "x");
    const tensor_ref c1 = b.conv(x, 12, 1, 1, padding_mode::same, 1, 1, true, "c1");
    const tensor_ref c2 = b.conv(x, 5, 3, 1, padding_mode::same, 1, 1, true, "c2");
    b.concat({c1, x, c2}, -1, "concat");
    check_against_reference(std::move(b).build());
  }
  {  // along H
    graph_builder b;
    const tensor_ref x = b.input({2, 3, 4, 5}, nnmeter::dtype::f32, "x");
    const tensor_ref y = b.input({2, 2, 4, 5}, nnmeter::dtype::f32, "y");
    b.concat({x, y}, 1, "concat_h");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref x = b.input({1, 5, 5, 12}, nnmeter::dtype::f32, "x");
    const std::vector<tensor_ref> p = b.split(x, std::vector<std::int64_t>{3, 4, 5}, -1, "split");
    b.relu(p[0], "r0");
    b.sigmoid(p[2], "s2");  // p[1] unused: still written, not an output
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref x = b.input({1, 4, 6, 8}, nnmeter::dtype::f32, "x");
    b.split(x, std::int64_t{2}, 2, "split_w");  // two outputs of a node without successors
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    const tensor_ref x = b.input({1, 4, 4, 16}, nnmeter::dtype::f32, "x");
    b.slice(x, 3, 4, 12, 1, "slice_c");
    b.slice(x, 1, -2, 100, 1, "slice_h");
    check_against_reference(std::move(b).build());
  }
  for (std::int64_t groups : {1, 2, 4, 16}) {
    CAPTURE(groups);
    graph_builder b;
    b.channel_shuffle(b.input({1, 3, 3, 16}, nnmeter::dtype::f32, "x"), groups, "shuffle");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("ONNX's channel shuffle (reshape, transpose 0,2,1,3,4, reshape) runs as a channel shuffle") {
  for (std::int64_t groups : {2, 4}) {
    CAPTURE(groups);
    // As the ONNX importer gives it: rank-4 ends NHWC, the rank-5 middle in the file's order.
    graph_builder b;
    const tensor_ref x = b.input({1, 3, 5, 16}, nnmeter::dtype::f32, "x");
    tensor_ref y = b.reshape(x, {1, groups, 16 / groups, 3, 5}, "r1");
    y = b.transpose(y, {0, 2, 1, 3, 4}, "t");
    y = b.reshape(y, {1, 3, 5, 16}, "r2");
    b.relu(y, "after");
    const nnmeter::graph onnx_form = std::move(b).build();
    graph_builder c;
    c.relu(c.channel_shuffle(c.input({1, 3, 5, 16}, nnmeter::dtype::f32, "x"), groups, "r2"),
           "after");
    const nnmeter::graph native = std::move(c).build();
    xnn::executor a(onnx_form);
    xnn::executor e(native);
    REQUIRE(a.input_size(0) == e.input_size(0));
    for (std::size_t i = 0; i < a.input_size(0); ++i) {
      a.input(0)[i] = static_cast<float>(i) * 0.25f - 7.0f;
      e.input(0)[i] = a.input(0)[i];
    }
    a.invoke();
    e.invoke();
    REQUIRE(a.num_outputs() == 1);
    REQUIRE(a.output_size(0) == e.output_size(0));
    bool same = true;
    for (std::size_t i = 0; i < a.output_size(0); ++i) same = same && a.output(0)[i] == e.output(0)[i];
    CHECK(same);
    // and the shuffle really moved channels: output channel 1 is input channel 16 / groups
    CHECK(a.output(0)[1] == std::max(0.0f, a.input(0)[static_cast<std::size_t>(16 / groups)]));
  }
  // A transpose that is not part of such a triple still cannot run.
  graph_builder b;
  const tensor_ref x = b.input({1, 3, 5, 16}, nnmeter::dtype::f32, "x");
  b.transpose(b.reshape(x, {1, 2, 8, 3, 5}), {0, 2, 1, 4, 3}, "t");
  CHECK_THROWS_AS(xnn::executor(std::move(b).build()), nnmeter::unsupported_error);
}

TEST_CASE("conv_transpose") {
  {
    graph_builder b;
    b.conv_transpose(b.input({1, 5, 5, 8}, nnmeter::dtype::f32, "x"), 4, 3, 2, padding_mode::same,
                     1, 1, true, "deconv");
    check_against_reference(std::move(b).build());
  }
  {
    graph_builder b;
    b.conv_transpose(b.input({1, 4, 4, 6}, nnmeter::dtype::f32, "x"), 6, 2, 2, padding_mode::valid,
                     2, 1, true, "deconv_g2");
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("shape-preserving chain keeps one runtime and XNNPACK fuses clamps itself") {
  graph_builder b;
  const tensor_ref x = b.input({1, 8, 8, 8}, nnmeter::dtype::f32, "x");
  b.relu(b.conv(x, 8, 3, 1, padding_mode::same, 1, 1, true, "conv"), "relu");
  const nnmeter::graph g = std::move(b).build();
  xnn::executor ex(g);
  CHECK(ex.num_runtimes() == 1);
  CHECK(ex.num_xnn_nodes() == 2);  // conv + clamp, defined separately
  check_against_reference(g);
}
