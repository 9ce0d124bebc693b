// Tests for include/nnmeter/ir/validate.hpp and include/nnmeter/ir/shape_rules.hpp: every node
// of a graph re-derived from its operands; each class of inconsistency refused with the node and
// both shapes in the message.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using nnmeter::attributes;
using nnmeter::graph;
using nnmeter::graph_builder;
using nnmeter::graph_error;
using nnmeter::node;
using nnmeter::op_kind;
using nnmeter::padding_mode;
using nnmeter::tensor_ref;
using nnmeter::tensor_shape;

// A node whose input_shapes are its producers' outputs (as every importer writes them).
tensor_ref add(graph& g, const std::string& name, op_kind op, std::vector<tensor_ref> ins,
               std::vector<tensor_shape> outs, attributes a = {}) {
  node n;
  n.name = name;
  n.op = op;
  n.type = std::string(nnmeter::to_string(op));
  for (const tensor_ref& r : ins) n.input_shapes.push_back(g[r.node].output_shapes[r.output]);
  n.inputs = std::move(ins);
  n.output_shapes = std::move(outs);
  n.attrs = std::move(a);
  return tensor_ref{g.add_node(std::move(n)), 0};
}

tensor_ref input(graph& g, const std::string& name, tensor_shape s) {
  return add(g, name, op_kind::input, {}, {s});
}

std::string error_of(const graph& g) {
  try {
    nnmeter::validate(g);
  } catch (const graph_error& e) {
    return e.what();
  }
  return {};
}

attributes window(std::int64_t k, std::int64_t s, padding_mode p) {
  attributes a;
  a.kernel = {k, k};
  a.strides = {s, s};
  a.padding = p;
  return a;
}

}  // namespace

TEST_SUITE("validate") {
  TEST_CASE("every graph_builder graph is valid") {
    graph_builder b;
    auto x = b.input({1, 32, 32, 3});
    x = b.conv_bn_relu(x, 16, 3, 2);
    x = b.relu6(b.bn(b.dwconv(x, 3, 2, padding_mode::valid)));
    auto y = b.conv(x, 16, {1, 3}, 1, nnmeter::pads4{0, 0, 1, 1}, 2);
    x = b.add(x, y);
    x = b.se(x);
    x = b.maxpool(x, 3, 2, nnmeter::pads4(1), true);
    x = b.avgpool(x, 2, 1, padding_mode::same);
    const auto parts = b.split(x, {4, 12});
    x = b.concat({b.hswish(parts[0]), b.sigmoid(parts[1])});
    x = b.channel_shuffle(x, 2);
    x = b.pad(x, 1, 0, 0, 1);
    x = b.resize(x, 2.0, 0.5, "bilinear");
    x = b.conv_transpose(x, 8, 3, 2);
    auto t = b.transpose(x, {0, 3, 1, 2});
    t = b.reshape(t, {0, -1});
    t = b.unsqueeze(t, {1});
    t = b.squeeze(t, {1});
    auto sl = b.slice(t, 1, 2, -3, 2);
    auto m = b.reduce_mean(b.global_avgpool(x), {1, 2}, false);
    m = b.fc(m, 10);
    auto mm = b.matmul(b.input({2, 3, 4}), b.input({4, 5}));
    (void)sl;
    (void)mm;
    (void)b.softmax(b.flatten(m));
    const graph g = std::move(b).build();
    CHECK(error_of(g).empty());
  }

  TEST_CASE("a declared output that contradicts the operator: node and both shapes named") {
    graph g;  // the example: a 32x32 SAME conv declared 300x300
    const tensor_ref x = input(g, "x", {1, 32, 32, 3});
    attributes a = window(3, 1, padding_mode::same);
    add(g, "c", op_kind::conv, {x}, {{1, 300, 300, 16}}, a);
    CHECK(error_of(g) ==
          "node 'c' (conv): output 0 is declared [1, 300, 300, 16] but its input [1, 32, 32, 3] "
          "gives [1, 32, 32, 16]");
  }

  TEST_CASE("rule violations") {
    SUBCASE("kernel larger than the padded input") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 4, 4, 3});
      add(g, "c", op_kind::conv, {x}, {{1, 1, 1, 8}}, window(7, 1, padding_mode::valid));
      CHECK(error_of(g).find("node 'c' (conv): kernel height 7 (dilated extent 7) is larger than "
                             "the padded input height 4") == 0);
    }
    SUBCASE("groups that do not divide the channels") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 6});
      attributes a = window(3, 1, padding_mode::same);
      a.groups = 4;
      add(g, "c", op_kind::conv, {x}, {{1, 8, 8, 8}}, a);
      CHECK(error_of(g) == "node 'c' (conv): groups 4 does not divide the 6 input channels of "
                           "[1, 8, 8, 6]");
    }
    SUBCASE("a depthwise conv whose groups are not its channels") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 6});
      attributes a = window(3, 1, padding_mode::same);
      a.groups = 3;
      add(g, "d", op_kind::dwconv, {x}, {{1, 8, 8, 6}}, a);
      CHECK(error_of(g).find("groups (3) equal to the input channels") != std::string::npos);
    }
    SUBCASE("incompatible broadcast") {
      graph g;
      const tensor_ref a = input(g, "a", {1, 8, 8, 4});
      const tensor_ref b = input(g, "b", {1, 8, 8, 3});
      add(g, "s", op_kind::add, {a, b}, {{1, 8, 8, 4}});
      CHECK(error_of(g) == "node 's' (add): cannot broadcast [1, 8, 8, 4] with [1, 8, 8, 3] "
                           "(4 vs 3 at output axis 3)");
    }
    SUBCASE("bad transpose permutation") {
      graph g;
      const tensor_ref x = input(g, "x", {2, 3, 4});
      attributes a;
      a.perm = {0, 2, 2};
      add(g, "t", op_kind::transpose, {x}, {{2, 4, 4}}, a);
      CHECK(error_of(g) ==
            "node 't' (transpose): perm [0, 2, 2] is not a permutation of the 3 axes of [2, 3, 4]");
    }
    SUBCASE("impossible reshape") {
      graph g;
      const tensor_ref x = input(g, "x", {2, 3, 4});
      attributes a;
      a.target_shape = {5, -1};
      add(g, "r", op_kind::reshape, {x}, {{5, 5}}, a);
      CHECK(error_of(g).find("cannot reshape [2, 3, 4] (24 elements) to [5, -1]") !=
            std::string::npos);
    }
    SUBCASE("split sizes that do not add up") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 4, 4, 8});
      attributes a;
      a.axis = 3;
      a.split_sizes = {3, 4};
      add(g, "s", op_kind::split, {x}, {{1, 4, 4, 3}, {1, 4, 4, 4}}, a);
      CHECK(error_of(g).find("split sizes [3, 4] do not sum to dimension 3 of [1, 4, 4, 8]") !=
            std::string::npos);
    }
    SUBCASE("concat of mismatching shapes") {
      graph g;
      const tensor_ref a = input(g, "a", {1, 4, 4, 3});
      const tensor_ref b = input(g, "b", {1, 5, 4, 3});
      attributes at;
      at.axis = 3;
      add(g, "c", op_kind::concat, {a, b}, {{1, 4, 4, 6}}, at);
      CHECK(error_of(g).find("input 1 has shape [1, 5, 4, 3] but input 0 has [1, 4, 4, 3]") !=
            std::string::npos);
    }
    SUBCASE("a fully connected layer of rank-4 input that is not 1x1") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 2, 2, 8});
      add(g, "f", op_kind::fc, {x}, {{1, 10}});
      CHECK(error_of(g).find("must be [N, 1, 1, C]") != std::string::npos);
    }
    SUBCASE("matmul with mismatching inner dimensions") {
      graph g;
      const tensor_ref a = input(g, "a", {3, 4});
      const tensor_ref b = input(g, "b", {5, 6});
      add(g, "m", op_kind::matmul, {a, b}, {{3, 6}});
      CHECK(error_of(g).find("inner dimensions differ: [3, 4] x [5, 6]") != std::string::npos);
    }
  }

  TEST_CASE("declared input shapes must be the operands' shapes") {
    graph g;
    const tensor_ref x = input(g, "x", {1, 8, 8, 4});
    node n;
    n.name = "r";
    n.op = op_kind::relu;
    n.type = "Relu";
    n.inputs = {x};
    n.input_shapes = {{1, 4, 4, 4}};
    n.output_shapes = {{1, 4, 4, 4}};
    g.add_node(std::move(n));
    CHECK(error_of(g) ==
          "node 'r' (Relu): input 0 is declared [1, 4, 4, 4] but 'x' produces [1, 8, 8, 4]");
    // The nn-Meter IR record of the real shapes makes a declared difference explicit ...
    graph h = g;
    h.mutable_node(1).attrs.extra.emplace_back(nnmeter::attr_keys::declared_input_shapes,
                                               "[[1,8,8,4]]");
    h.mutable_node(1).output_shapes = {{1, 8, 8, 4}};
    CHECK(error_of(h).empty());
    // ... and must itself be true.
    h.mutable_node(1).attrs.extra.back().second = "[[1,8,8,5]]";
    CHECK(error_of(h).find("its operands are [[1,8,8,4]] but it records [[1,8,8,5]]") !=
          std::string::npos);
    // use_operand_shapes gives the graph a backend runs.
    graph r = h;
    r.mutable_node(1).attrs.extra.back().second = "[[1,8,8,4]]";
    nnmeter::use_operand_shapes(r);
    CHECK(r[1].input_shapes == std::vector<tensor_shape>{{1, 8, 8, 4}});
    CHECK(!nnmeter::has_declared_input_shapes(r));
    CHECK(error_of(r).empty());
  }

  TEST_CASE("unknown dimensions: only where nothing could know them") {
    SUBCASE("graph input of unknown size") {
      graph g;
      input(g, "x", {-1, 8, 8, 4});
      CHECK(error_of(g) == "node 'x' (input): graph input of unknown size [-1, 8, 8, 4] "
                           "(give its shape)");
      nnmeter::validate_options o;
      o.allow_unknown_input_dims = true;
      CHECK_NOTHROW(nnmeter::validate(g, o));
    }
    SUBCASE("a known operator with known inputs declared unknown") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 4});
      add(g, "r", op_kind::relu, {x}, {{1, -1, 8, 4}});
      CHECK(error_of(g) == "node 'r' (relu): output 0 is declared [1, -1, 8, 4] but its input "
                           "[1, 8, 8, 4] gives [1, 8, 8, 4]");
    }
    SUBCASE("data-dependent nodes, `other`, and what follows them") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 4});
      attributes dd;
      dd.extra.emplace_back(nnmeter::attr_keys::data_dependent, "true");
      const tensor_ref r = add(g, "r", op_kind::reshape, {x}, {{-1, 4}}, dd);
      const tensor_ref o = add(g, "nms", op_kind::other, {x}, {{-1, 6}});
      add(g, "s", op_kind::sigmoid, {r}, {{-1, 4}});
      add(g, "t", op_kind::relu, {o}, {{-1, 6}});
      CHECK(error_of(g).empty());
      // Without the marker the reshape has no target: its element count is still checked.
      graph h;
      const tensor_ref y = input(h, "y", {1, 8, 8, 4});
      add(h, "r", op_kind::reshape, {y}, {{3, 4}});
      CHECK(error_of(h).find("cannot reshape [1, 8, 8, 4] (256 elements) to [3, 4]") !=
            std::string::npos);
    }
  }

  TEST_CASE("source conventions the rules accept") {
    SUBCASE("a per-channel [C, 1, 1] operand against an NHWC tensor (ONNX's NCHW alignment)") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 4});
      const tensor_ref c = add(g, "c", op_kind::constant, {}, {{4, 1, 1}});
      add(g, "m", op_kind::mul, {x, c}, {{1, 8, 8, 4}});
      CHECK(error_of(g).empty());
    }
    SUBCASE("a rank-4 matmul reads its operands as NCHW") {
      graph g;  // ONNX [1, 2, 3, 4] x [1, 2, 4, 5] -> [1, 2, 3, 5], stored NHWC
      const tensor_ref a = input(g, "a", {1, 3, 4, 2});
      const tensor_ref b = input(g, "b", {1, 4, 5, 2});
      add(g, "m", op_kind::matmul, {a, b}, {{1, 3, 5, 2}});
      CHECK(error_of(g).empty());
    }
    SUBCASE("pads of every axis in the source's NCHW order") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 4, 4, 3});
      attributes a;
      a.extra.emplace_back("pads", "[0, 1, 2, -1, 0, 0, 3, 1]");  // N C H W begins, then ends
      add(g, "p", op_kind::pad, {x}, {{1, 9, 4, 4}}, a);
      CHECK(error_of(g).empty());
      graph h = g;
      h.mutable_node(1).output_shapes = {{1, 9, 4, 3}};
      CHECK(error_of(h).find("gives [1, 9, 4, 4]") != std::string::npos);
    }
    SUBCASE("resize by a float ratio: floor, round and ceil all match") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 13, 13, 8});
      attributes a;
      a.scales = {7.0f / 13.0f, 26.0f / 13.0f};
      add(g, "r", op_kind::resize, {x}, {{1, 7, 26, 8}}, a);
      CHECK(error_of(g).empty());
      graph h = g;
      h.mutable_node(1).output_shapes = {{1, 9, 26, 8}};
      CHECK(error_of(h).find("gives [1, 7, 26, 8]") != std::string::npos);
    }
    SUBCASE("squeeze across the rank-4 layout boundary checks the element count") {
      graph g;  // ONNX [1, 3, 1, 5] squeezed at axis 2: [1, 3, 5]
      const tensor_ref x = input(g, "x", {1, 1, 5, 3});
      attributes a;
      a.axes = {1};
      add(g, "s", op_kind::squeeze, {x}, {{1, 3, 5}}, a);
      CHECK(error_of(g).empty());
      graph h = g;
      h.mutable_node(1).output_shapes = {{1, 3, 6}};
      CHECK(!error_of(h).empty());
    }
    SUBCASE("multi-output nodes: MaxPool's indices, split into equal parts") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 8, 8, 4});
      add(g, "mp", op_kind::maxpool, {x}, {{1, 4, 4, 4}, {1, 4, 4, 4}}, window(2, 2, padding_mode::valid));
      attributes s;
      s.axis = -1;
      add(g, "sp", op_kind::split, {x}, {{1, 8, 8, 2}, {1, 8, 8, 2}}, s);
      CHECK(error_of(g).empty());
      graph h = g;
      h.mutable_node(1).output_shapes[1] = {1, 4, 4, 5};
      CHECK(error_of(h).find("output 1 is declared [1, 4, 4, 5]") != std::string::npos);
    }
    SUBCASE("slices with ONNX bounds") {
      graph g;
      const tensor_ref x = input(g, "x", {1, 10, 8, 4});
      attributes a;
      a.axes = {1, 3};
      a.extra = {{"starts", "[1, -3]"}, {"ends", "[9223372036854775807, 4]"}, {"steps", "[2, 1]"}};
      add(g, "s", op_kind::slice, {x}, {{1, 5, 8, 3}}, a);
      CHECK(error_of(g).empty());
    }
  }

  TEST_CASE("rederive_shapes replaces what the resolver accepts, in topological order") {
    graph g;
    const tensor_ref x = input(g, "x", {1, 8, 8, 4});
    const tensor_ref r = add(g, "r", op_kind::relu, {x}, {{1, -1, 8, 4}});
    add(g, "s", op_kind::sigmoid, {r}, {{1, -1, 8, 4}});
    g.mutable_node(2).input_shapes = {{1, -1, 8, 4}};
    std::vector<std::string> seen;
    const std::size_t n = nnmeter::rederive_shapes(g, [&](const graph& gr, const nnmeter::shape_conflict& c) {
      seen.push_back(gr[c.node].name + ":" + nnmeter::shape_rules::text(c.declared) + "->" +
                     nnmeter::shape_rules::text(c.derived));
      return true;
    });
    CHECK(n == 2);
    CHECK(seen == std::vector<std::string>{"r:[1, -1, 8, 4]->[1, 8, 8, 4]",
                                           "s:[1, -1, 8, 4]->[1, 8, 8, 4]"});
    CHECK(g[2].output_shapes[0] == tensor_shape{1, 8, 8, 4});
    // A resolver that throws stops it.
    graph h;
    const tensor_ref y = input(h, "y", {1, 8, 8, 4});
    add(h, "r", op_kind::relu, {y}, {{1, 8, 8, 5}});
    CHECK_THROWS_AS(nnmeter::rederive_shapes(h, [](const graph&, const nnmeter::shape_conflict&) -> bool {
                      throw graph_error("refused");
                    }),
                    graph_error);
  }

  TEST_CASE("an operand whose producer declares no such output is an error, not a read") {
    // graph::validate lets a node without output shapes pass; validate(), rederive_shapes and
    // use_operand_shapes must not read past its outputs (fuzz_ir_import finding).
    graph g;
    add(g, "x", op_kind::input, {}, {});
    node r;
    r.name = "r";
    r.op = op_kind::relu;
    r.type = "Relu";
    r.inputs = {tensor_ref{0, 0}};
    r.input_shapes = {{1, 4}};
    r.output_shapes = {{1, 4}};
    g.add_node(std::move(r));
    CHECK_NOTHROW(g.validate());
    const std::string expected =
        "node 'r' (Relu): operand 0 is output 0 of 'x', which declares 0 output shape(s)";
    CHECK(error_of(g) == expected);
    std::string re;
    try {
      (void)nnmeter::rederive_shapes(g, [](const graph&, const nnmeter::shape_conflict&) { return true; });
    } catch (const graph_error& e) {
      re = e.what();
    }
    CHECK(re == expected);
    std::string uo;
    try {
      nnmeter::use_operand_shapes(g);
    } catch (const graph_error& e) {
      uo = e.what();
    }
    CHECK(uo == expected);
  }

  TEST_CASE("large graphs validate in linear time (10^5-node chain, 10^5 readers of one tensor)") {
    graph chain;
    tensor_ref x = input(chain, "x", {1, 4, 4, 4});
    for (int i = 0; i < 100000; ++i) x = add(chain, "r" + std::to_string(i), op_kind::relu, {x}, {{1, 4, 4, 4}});
    CHECK(error_of(chain).empty());
    graph fan;
    const tensor_ref y = input(fan, "y", {1, 4, 4, 4});
    for (int i = 0; i < 100000; ++i) add(fan, "r" + std::to_string(i), op_kind::relu, {y}, {{1, 4, 4, 4}});
    CHECK(error_of(fan).empty());
  }
}
