// Small graphs, nn-Meter kernels, whole models and bad input through the XNNPACK executor.
// SPDX-License-Identifier: MIT
#include <nnmeter/error.hpp>

#include <chrono>
#include <stdexcept>

#include "models.hpp"
#include "support.hpp"

using namespace nnmeter_test;
using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::tensor_ref;
namespace m = nnmeter_test::models;

namespace {
std::string error_of(const nnmeter::graph& g, const xnn::executor_options& o = {}) {
  try {
    xnn::executor ex(g, o);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("small graphs against the reference: blocks of real networks") {
  SUBCASE("conv-bn-relu chain") {
    graph_builder b;
    tensor_ref x = b.input({1, 16, 16, 3}, nnmeter::dtype::f32, "x");
    x = b.conv_bn_relu(x, 16, 3, 2, "cbr1");
    x = b.conv_bn_relu(x, 32, 3, 1, "cbr2");
    b.conv_bn_relu(x, 32, 1, 1, "cbr3");
    check_against_reference(std::move(b).build());
  }
  SUBCASE("resnet basic blocks (residual add, projection shortcut)") {
    graph_builder b;
    tensor_ref x = b.input({1, 12, 12, 16}, nnmeter::dtype::f32, "x");
    x = m::resnet_basic_block(b, x, 16, 1, "b0");
    m::resnet_basic_block(b, x, 32, 2, "b1");
    check_against_reference(std::move(b).build());
  }
  SUBCASE("mobilenet v2 / v3 blocks with SE and hswish") {
    graph_builder b;
    tensor_ref x = b.input({1, 14, 14, 16}, nnmeter::dtype::f32, "x");
    x = m::mbv2_block(b, x, 6, 16, 1, "ir0");
    x = m::mbv2_block(b, x, 4, 24, 2, "ir1", 5, true, m::act::hswish);
    m::mbv2_block(b, x, 3, 24, 1, "ir2", 3, true, m::act::relu);
    check_against_reference(std::move(b).build());
  }
  SUBCASE("shufflenet v2 units: split, channel shuffle, concat") {
    graph_builder b;
    tensor_ref x = b.input({1, 16, 16, 24}, nnmeter::dtype::f32, "x");
    x = m::shufflenet_unit(b, x, 48, 2, "u0");
    x = m::shufflenet_unit(b, x, 48, 1, "u1");
    m::shufflenet_unit(b, x, 48, 1, "u2");
    const nnmeter::graph g = std::move(b).build();
    xnn::executor ex(g);
    CHECK(ex.num_runtimes() > 3);  // runtimes glued by copy / shuffle operators
    check_against_reference(g);
  }
  SUBCASE("squeezenet fire modules and inception block") {
    graph_builder b;
    tensor_ref x = b.input({1, 13, 13, 32}, nnmeter::dtype::f32, "x");
    x = m::fire(b, x, 8, 16, "fire1");
    x = m::inception(b, x, 8, 8, 12, 4, 8, 8, "inc");
    m::fire(b, x, 8, 16, "fire2");
    check_against_reference(std::move(b).build());
  }
  SUBCASE("densenet block: growing concatenation") {
    graph_builder b;
    m::dense_block(b, b.input({1, 8, 8, 16}, nnmeter::dtype::f32, "x"), 3, 8, "dense");
    check_against_reference(std::move(b).build());
  }
  SUBCASE("a tensor read inside its runtime and by a later operator; constants; identity") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 6, 6, 8});
    nnmeter::attributes ca;
    ca.kernel = {3, 3};
    ca.padding = nnmeter::padding_mode::same;
    ca.pads = {1, 1, 1, 1};
    const tensor_ref c = add_raw(g, "conv", op_kind::conv, {x}, {1, 6, 6, 8}, ca);
    const tensor_ref r = add_raw(g, "relu", op_kind::relu, {c}, {1, 6, 6, 8});
    const tensor_ref k = add_raw(g, "k", op_kind::constant, {}, {1, 6, 6, 4});
    nnmeter::attributes cat;
    cat.axis = 3;
    const tensor_ref cc = add_raw(g, "concat", op_kind::concat, {c, r, k}, {1, 6, 6, 20}, cat);
    const tensor_ref id = add_raw(g, "id", op_kind::identity, {cc}, {1, 6, 6, 20});
    add_raw(g, "id2", op_kind::identity, {id}, {1, 6, 6, 20});  // output aliasing a glue buffer
    check_against_reference(g);
  }
  SUBCASE("corner cases: a runtime fed only by a constant, an unused input, a lone glue op") {
    nnmeter::graph g;
    const tensor_ref k = add_raw(g, "k", op_kind::constant, {}, {1, 3, 3, 4});
    add_raw(g, "relu_k", op_kind::relu, {k}, {1, 3, 3, 4});
    add_raw(g, "unused", op_kind::input, {}, {1, 2});  // an input nobody reads is an output too
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 3, 3, 4});
    nnmeter::attributes cat;
    cat.axis = 3;
    add_raw(g, "cat", op_kind::concat, {x, k}, {1, 3, 3, 8}, cat);
    xnn::executor ex(g);
    CHECK(ex.num_inputs() == 2);
    CHECK(ex.num_outputs() == 3);
    CHECK(ex.output_name(1) == "unused");
    check_against_reference(g);
  }
  SUBCASE("two inputs, two outputs, intermediate output also consumed") {
    graph_builder b;
    const tensor_ref x = b.input({1, 8, 8, 8}, nnmeter::dtype::f32, "x");
    const tensor_ref y = b.input({1, 8, 8, 8}, nnmeter::dtype::f32, "y");
    const tensor_ref s = b.add(x, y, "sum");
    const tensor_ref c = b.conv(s, 8, 3, 1, padding_mode::same, 1, 1, true, "conv");
    b.relu(c, "relu");
    b.sigmoid(c, "sig");
    const nnmeter::graph g = std::move(b).build();
    xnn::executor ex(g);
    CHECK(ex.num_inputs() == 2);
    CHECK(ex.num_outputs() == 2);
    CHECK(ex.output_name(0) == "relu");
    CHECK(ex.output_name(1) == "sig");
    check_against_reference(g);
  }
}

TEST_CASE("one-kernel graphs of every kernel kind the nn-Meter CPU rules produce") {
  const auto in = [](graph_builder& b) {
    return b.input({1, 14, 14, 32}, nnmeter::dtype::f32, "x");
  };
  using maker = void (*)(graph_builder&, tensor_ref);
  const std::pair<const char*, maker> kernels[] = {
      {"conv-bn-relu", [](graph_builder& b, tensor_ref x) { b.conv_bn_relu(x, 64, 3, 1, "k"); }},
      {"dwconv-bn-relu",
       [](graph_builder& b, tensor_ref x) {
         b.relu(b.bn(b.dwconv(x, 3, 1, padding_mode::same, 1, 1, "dw"), "bn"), "relu");
       }},
      {"fc", [](graph_builder& b, tensor_ref x) { b.fc(b.global_avgpool(x), 100, true, "fc"); }},
      {"maxpool", [](graph_builder& b, tensor_ref x) { b.maxpool(x, 3, 2, padding_mode::same); }},
      {"avgpool", [](graph_builder& b, tensor_ref x) { b.avgpool(x, 3, 2, padding_mode::same); }},
      {"global-avgpool", [](graph_builder& b, tensor_ref x) { b.global_avgpool(x); }},
      {"add",
       [](graph_builder& b, tensor_ref x) {
         b.add(x, b.input({1, 14, 14, 32}, nnmeter::dtype::f32, "y"));
       }},
      {"addrelu",
       [](graph_builder& b, tensor_ref x) {
         b.relu(b.add(x, b.input({1, 14, 14, 32}, nnmeter::dtype::f32, "y")));
       }},
      {"relu", [](graph_builder& b, tensor_ref x) { b.relu(x); }},
      {"hswish", [](graph_builder& b, tensor_ref x) { b.hswish(x); }},
      {"se", [](graph_builder& b, tensor_ref x) { b.se(x, 4, "se"); }},
      {"concat",
       [](graph_builder& b, tensor_ref x) {
         b.concat({x, b.input({1, 14, 14, 16}, nnmeter::dtype::f32, "y")});
       }},
      {"split", [](graph_builder& b, tensor_ref x) { b.split(x, std::int64_t{2}); }},
      {"channelshuffle", [](graph_builder& b, tensor_ref x) { b.channel_shuffle(x, 2); }},
      {"bn", [](graph_builder& b, tensor_ref x) { b.bn(x); }},
      {"bnrelu", [](graph_builder& b, tensor_ref x) { b.relu(b.bn(x)); }},
  };
  for (const auto& k : kernels) {
    const std::string kernel = k.first;
    CAPTURE(kernel);
    graph_builder b;
    k.second(b, in(b));
    check_against_reference(std::move(b).build());
  }
}

TEST_CASE("whole models run (224x224) and give finite outputs") {
  struct model {
    const char* name;
    nnmeter::graph (*make)(std::int64_t);
    std::size_t outputs;
  };
  const model models[] = {
      {"resnet18", m::resnet18, 1000},
      {"mobilenet_v1", m::mobilenet_v1, 1000},
      {"mobilenet_v2", m::mobilenet_v2, 1000},
      {"mobilenet_v3_small", m::mobilenet_v3_small, 1000},
      {"shufflenet_v2", m::shufflenet_v2, 1000},
      {"squeezenet", m::squeezenet, 1000},
      {"googlenet (stem + inception 3a, 3b, 4a)", m::googlenet_stem_and_inception, 1000},
      {"densenet blocks", m::densenet_block_model, 1000},
  };
  for (const model& md : models) {
    const std::string name = md.name;
    CAPTURE(name);
    const nnmeter::graph g = md.make(224);
    xnn::executor ex(g);
    REQUIRE(ex.num_outputs() == 1);
    CHECK(ex.output_size(0) == md.outputs);
    ex.invoke();
    CHECK(outputs_finite(ex));
    double sum = 0;
    for (std::size_t i = 0; i < ex.output_size(0); ++i) sum += std::fabs(ex.output(0)[i]);
    CHECK(sum > 0.0);  // not all zero: data flowed through
    MESSAGE(name << ": " << g.num_nodes() << " nodes, " << ex.num_runtimes()
                 << " runtimes/operators, " << ex.num_xnn_nodes() << " XNNPACK nodes, "
                 << ex.folded_bn().size() << " bn folded");
  }
}

TEST_CASE("whole models at a small input size agree with the reference") {
  // 64x64 keeps the double-precision reference quick; the same graphs as above.
  check_against_reference(m::mobilenet_v2(64), {}, 1e-4, 2e-5);
  check_against_reference(m::shufflenet_v2(64), {}, 1e-4, 2e-5);
  check_against_reference(m::squeezenet(64), {}, 1e-4, 2e-5);
}

TEST_CASE("weights and inputs are deterministic per seed; options override them") {
  const nnmeter::graph g = m::mobilenet_v3_small(64);
  xnn::executor a(g);
  xnn::executor b(g);
  xnn::executor_options o;
  o.seed = 7;
  xnn::executor c(g, o);
  a.invoke();
  b.invoke();
  c.invoke();
  CHECK(std::equal(a.output(0), a.output(0) + a.output_size(0), b.output(0)));
  CHECK_FALSE(std::equal(a.output(0), a.output(0) + a.output_size(0), c.output(0)));
  CHECK(a.params("stem/conv").filter == b.params("stem/conv").filter);
  CHECK(a.params("stem/conv").filter != c.params("stem/conv").filter);
  CHECK(a.has_params("stem/bn"));
  CHECK_FALSE(a.has_params("stem/hswish"));
  CHECK_THROWS_AS(a.params("stem/hswish"), std::out_of_range);

  SUBCASE("invoke reads the current input") {
    std::vector<float> before(a.output(0), a.output(0) + a.output_size(0));
    for (std::size_t i = 0; i < a.input_size(0); ++i) a.input(0)[i] *= 0.5f;
    a.invoke();
    CHECK_FALSE(std::equal(before.begin(), before.end(), a.output(0)));
  }
  SUBCASE("move keeps the runtimes and buffers") {
    xnn::executor moved(std::move(a));
    moved.invoke();
    CHECK(std::equal(moved.output(0), moved.output(0) + moved.output_size(0), b.output(0)));
  }
  SUBCASE("given parameters replace generated ones; sizes are checked") {
    graph_builder gb;
    gb.conv(gb.input({1, 4, 4, 2}, nnmeter::dtype::f32, "x"), 1, 1, 1, padding_mode::same, 1, 1,
            true, "conv");
    const nnmeter::graph g1 = std::move(gb).build();
    xnn::executor_options po;
    po.params["conv"].filter = {2.0f, -1.0f};
    po.params["conv"].bias = {0.5f};
    xnn::executor e(g1, po);
    for (std::size_t i = 0; i < e.input_size(0); ++i) e.input(0)[i] = static_cast<float>(i);
    e.invoke();
    for (int p = 0; p < 16; ++p)
      CHECK(e.output(0)[p] == doctest::Approx(2.0 * (2 * p) - (2 * p + 1) + 0.5));
    po.params["conv"].bias = {0.5f, 1.0f};
    CHECK_THROWS_WITH_AS(xnn::executor(g1, po), doctest::Contains("bias has 2 values, expected 1"),
                         std::invalid_argument);
    xnn::executor_options unknown;
    unknown.params["nope"].filter = {1.0f};
    CHECK_THROWS_WITH_AS(xnn::executor(g1, unknown), doctest::Contains("'nope'"),
                         std::invalid_argument);
  }
}

TEST_CASE("bad input: unsupported ops and types give 'cannot execute' errors") {
  SUBCASE("op_kind::other") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 4, 4, 8});
    nnmeter::node n;
    n.name = "weird";
    n.op = op_kind::other;
    n.type = "NonMaxSuppression";
    n.inputs = {x};
    n.input_shapes = {{1, 4, 4, 8}};
    n.output_shapes = {{1, 4, 4, 8}};
    g.add_node(std::move(n));
    const std::string e = error_of(g);
    CHECK(e.find("cannot execute: op other (NonMaxSuppression) at node 'weird'") !=
          std::string::npos);
    CHECK_THROWS_AS(xnn::executor{g}, nnmeter::unsupported_error);
  }
  SUBCASE("transpose that moves data, matmul, gelu, nearest resize, softmax over H") {
    graph_builder b;
    const tensor_ref x = b.input({1, 4, 6, 8}, nnmeter::dtype::f32, "x");
    b.transpose(x, {0, 3, 1, 2}, "nchw");
    CHECK(error_of(b.view()).find("cannot execute: op transpose at node 'nchw'") !=
          std::string::npos);
    graph_builder b2;
    const tensor_ref a = b2.input({2, 8}, nnmeter::dtype::f32, "a");
    b2.matmul(a, b2.input({8, 3}, nnmeter::dtype::f32, "w"), "mm");
    CHECK(error_of(b2.view()).find("at node 'mm'") != std::string::npos);
    graph_builder b3;
    b3.gelu(b3.input({2, 8}, nnmeter::dtype::f32, "a"), "gelu");
    CHECK(error_of(b3.view()).find("cannot execute: op gelu at node 'gelu'") != std::string::npos);
    graph_builder b4;
    b4.resize(b4.input({1, 4, 4, 2}, nnmeter::dtype::f32, "a"), 2, 2, "nearest", "up");
    CHECK(error_of(b4.view()).find("resize mode 'nearest'") != std::string::npos);
    graph_builder b5;
    b5.softmax(b5.input({1, 4, 4, 2}, nnmeter::dtype::f32, "a"), 1, "sm");
    CHECK(error_of(b5.view()).find("last axis") != std::string::npos);
  }
  SUBCASE("integer element types") {
    graph_builder b;
    b.relu(b.input({1, 4, 4, 8}, nnmeter::dtype::i8, "q"), "r");
    const std::string e = error_of(b.view());
    CHECK(e.find("element type i8") != std::string::npos);
  }
}

TEST_CASE("bad input: zero, unknown and absurd sizes are refused before allocating") {
  SUBCASE("zero-sized dimension") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 0, 4, 8});
    add_raw(g, "r", op_kind::relu, {x}, {1, 0, 4, 8});
    CHECK_THROWS_WITH_AS(xnn::executor{g}, doctest::Contains("zero-sized"), nnmeter::graph_error);
  }
  SUBCASE("unknown dimension") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {-1, 4, 4, 8});
    add_raw(g, "r", op_kind::relu, {x}, {-1, 4, 4, 8});
    CHECK_THROWS_WITH_AS(xnn::executor{g},
                         doctest::Contains("graph input of unknown size [-1, 4, 4, 8]"),
                         nnmeter::graph_error);
  }
  SUBCASE("over the memory cap") {
    graph_builder b;  // 1 x 100000 x 100000 x 64 floats: 2.56 TB
    b.relu(b.input({1, 100000, 100000, 64}, nnmeter::dtype::f32, "x"), "r");
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(xnn::executor{b.view()}, doctest::Contains("memory cap"),
                         nnmeter::graph_error);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    nnmeter::graph huge;  // 2^186 elements: the estimate must not wrap around
    const tensor_shape big{2147483647, 2147483647, 2147483647, 2147483647, 2147483647, 2147483647};
    add_raw(huge, "r", op_kind::relu, {add_raw(huge, "x", op_kind::input, {}, big)}, big);
    CHECK_THROWS_WITH_AS(xnn::executor{huge}, doctest::Contains("more than 10^12 MiB"),
                         nnmeter::graph_error);
    graph_builder small;
    small.conv(small.input({1, 64, 64, 64}, nnmeter::dtype::f32, "x"), 64, 3);
    xnn::executor_options o;
    o.memory_cap_bytes = 1 << 20;  // 1 MiB
    CHECK_THROWS_WITH_AS(xnn::executor(small.view(), o), doctest::Contains("memory cap of 1 MiB"),
                         nnmeter::graph_error);
  }
  SUBCASE("inconsistent shapes") {
    nnmeter::graph g;
    const tensor_ref x = add_raw(g, "x", op_kind::input, {}, {1, 8, 8, 4});
    nnmeter::attributes a;
    a.kernel = {3, 3};
    a.strides = {1, 1};
    a.padding = nnmeter::padding_mode::valid;
    add_raw(g, "c", op_kind::conv, {x}, {1, 8, 8, 4}, a);  // valid 3x3 would give 6x6
    CHECK_THROWS_WITH_AS(
        xnn::executor{g},
        doctest::Contains("node 'c' (conv): output 0 is declared [1, 8, 8, 4] but its input "
                          "[1, 8, 8, 4] gives [1, 6, 6, 4]"),
        nnmeter::graph_error);
  }
  SUBCASE("empty graph") { CHECK_THROWS_AS(xnn::executor{nnmeter::graph{}}, nnmeter::graph_error); }
}
