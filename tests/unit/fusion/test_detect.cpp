// Kernel detection on built graphs: nn-Meter's semantics, every node accounted for, errors.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

namespace {

using nnmeter::graph_builder;
using nnmeter::padding_mode;

std::vector<std::string> ops(const std::vector<nnmeter::kernel>& ks) {
  std::vector<std::string> out;
  for (const auto& k : ks) out.push_back(k.op);
  return out;
}

nnmeter::rule_set pairs(std::initializer_list<const char*> names) {
  std::vector<nnmeter::rule_entry> e;
  for (const char* n : names) e.push_back({n, nnmeter::rule_obey::yes, {}});
  return nnmeter::rule_set::from_entries(std::move(e));
}

void check_accounting(const nnmeter::graph& g, const nnmeter::detection& d) {
  std::vector<int> seen(g.num_nodes(), 0);
  for (const auto& k : d.kernels)
    for (auto n : k.nodes) ++seen[n];
  for (auto n : d.free_nodes) ++seen[n];
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO("node " << g.name(static_cast<nnmeter::node_index>(i)));
    CHECK(seen[i] == 1);
  }
}

}  // namespace

TEST_CASE("conv-bn-relu chains fuse under the default rules") {
  graph_builder b;
  auto x = b.input({1, 56, 56, 16});
  auto y = b.conv_bn_relu(x, 32, 3, 2);
  auto z = b.dwconv(y, 3, 1);
  z = b.relu(b.bn(z));
  const nnmeter::graph g = std::move(b).build();
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  CHECK(ops(d.kernels) == std::vector<std::string>{"conv-bn-relu", "dwconv-bn-relu"});
  REQUIRE(d.kernels.size() == 2);
  const nnmeter::kernel& k = d.kernels[0];
  CHECK(k.kind == nnmeter::kernel_kind::conv_bn_relu);
  CHECK(k.name == "conv-bn-relu#1");  // group #0 is the input
  CHECK(k.inputh == 56);
  CHECK(k.cin == 16);
  CHECK(k.cout == 32);
  CHECK(k.ks == std::array<std::int64_t, 2>{3, 3});
  CHECK(k.strides == std::array<std::int64_t, 2>{2, 2});
  CHECK(k.nodes.size() == 3);
  CHECK(d.kernels[1].kind == nnmeter::kernel_kind::dwconv_bn_relu);
  CHECK(d.kernels[0].outbounds == std::vector<std::size_t>{1});
  CHECK(d.kernels[1].inbounds == std::vector<std::size_t>{0});
  CHECK(d.free_nodes.size() == 1);
  check_accounting(g, d);
  // FLOPs: 28*28*32 outputs x 3*3*16 MACs x 2.
  CHECK(k.flops >= 2.0 * 28 * 28 * 32 * 3 * 3 * 16);
  CHECK(k.bytes > 0);
}

TEST_CASE("the pair test uses the kernel's root type, as nn-Meter does") {
  graph_builder b;
  auto x = b.input({1, 8, 8, 4});
  b.relu(b.bn(b.conv(x, 4, 1)));
  const nnmeter::graph g = std::move(b).build();
  // (conv, bn) and (bn, relu) fusible but not (conv, relu): conv-bn + relu.
  CHECK(ops(nnmeter::detect_kernels(g, pairs({"BF_conv_bn", "BF_bn_relu"}))) ==
        std::vector<std::string>{"conv-bn", "relu"});
  CHECK(ops(nnmeter::detect_kernels(g, pairs({"BF_conv_bn", "BF_conv_relu"}))) ==
        std::vector<std::string>{"conv-bn-relu"});
  CHECK(ops(nnmeter::detect_kernels(g, pairs({}))) ==
        std::vector<std::string>{"conv", "bn", "relu"});
}

TEST_CASE("no fusion across a fork unless MON is true") {
  graph_builder b;
  auto x = b.input({1, 8, 8, 4});
  auto c = b.conv(x, 4, 1);
  auto r = b.relu(c);
  b.add(c, r);
  const nnmeter::graph g = std::move(b).build();
  CHECK(ops(nnmeter::detect_kernels(g, pairs({"BF_conv_relu"}))) ==
        std::vector<std::string>{"conv", "relu", "add"});
  std::vector<nnmeter::rule_entry> e{{"BF_conv_relu", nnmeter::rule_obey::yes, {}},
                                     {"MON", nnmeter::rule_obey::yes, {}}};
  const auto mon1 = nnmeter::rule_set::from_entries(e);
  CHECK(mon1.mon() == 1);
  CHECK(ops(nnmeter::detect_kernels(g, mon1)) == std::vector<std::string>{"conv-relu", "add"});
}

TEST_CASE("se blocks in nn-Meter's ONNX form are one kernel") {
  graph_builder b;
  auto x = b.input({1, 28, 28, 24});
  auto y = b.se(b.dwconv(x, 3), 4);
  b.conv(y, 40, 1);
  const nnmeter::graph g = std::move(b).build();
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  CHECK(ops(d.kernels) == std::vector<std::string>{"dwconv", "se", "conv"});
  REQUIRE(d.kernels.size() == 3);
  const nnmeter::kernel& se = d.kernels[1];
  CHECK(se.kind == nnmeter::kernel_kind::se);
  CHECK(se.nodes.size() == 6);
  CHECK(se.input_tensors.at(0) == nnmeter::tensor_shape{1, 28, 28, 24});
  const auto f = nnmeter::features(se, nnmeter::feature_set::nnmeter);
  REQUIRE(f.size() == 2);
  CHECK(f[0] == 28);
  CHECK(f[1] == 24);
  check_accounting(g, d);
}

TEST_CASE("hswish written out as x * relu6(x + 3) / 6 is one kernel") {
  graph_builder b;
  auto x = b.input({1, 14, 14, 8});
  auto c = b.bn(b.conv(x, 8, 1));
  auto three = b.constant({});
  auto six = b.constant({});
  auto h = b.mul(c, b.div(b.relu6(b.add(c, three)), six));
  b.conv(h, 8, 1);
  const nnmeter::graph g = std::move(b).build();
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  // (conv, hswish) is fusible in nn-Meter's CPU rules.
  CHECK(ops(d.kernels) == std::vector<std::string>{"conv-bn-hswish", "conv"});
  check_accounting(g, d);
}

TEST_CASE("hswish as torch.onnx exports it, x * hardsigmoid(x), is one kernel like hswish") {
  auto build = [](bool written_out) {
    graph_builder b;
    auto x = b.input({1, 14, 14, 8});
    auto c = b.bn(b.conv(x, 8, 1));
    auto h = written_out ? b.mul(c, b.hsigmoid(c)) : b.hswish(c);
    b.conv(h, 8, 1);
    return std::move(b).build();
  };
  const nnmeter::graph g = build(true);
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  CHECK(ops(d.kernels) == std::vector<std::string>{"conv-bn-hswish", "conv"});
  check_accounting(g, d);
  const nnmeter::detection native = nnmeter::detect(build(false), nnmeter::default_rules());
  REQUIRE(native.kernels.size() == d.kernels.size());
  for (std::size_t i = 0; i < d.kernels.size(); ++i) {
    CHECK(d.kernels[i].kind == native.kernels[i].kind);
    const auto fa = nnmeter::features(d.kernels[i], nnmeter::feature_set::nnmeter);
    const auto fb = nnmeter::features(native.kernels[i], nnmeter::feature_set::nnmeter);
    CHECK(std::vector<double>(fa.begin(), fa.end()) == std::vector<double>(fb.begin(), fb.end()));
  }
  // An SE gate (hardsigmoid of a different tensor, then mul) is not an hswish.
  graph_builder b;
  auto x = b.input({1, 14, 14, 8});
  auto gate = b.hsigmoid(b.conv(x, 8, 1));
  b.mul(x, gate);
  const nnmeter::graph se_like = std::move(b).build();
  const nnmeter::detection s = nnmeter::detect(se_like, nnmeter::default_rules());
  for (const auto& k : s.kernels) CHECK(k.op.find("hswish") == std::string::npos);
}

TEST_CASE("unknown operators become kernels of their own, never dropped") {
  nnmeter::graph g;
  nnmeter::node in;
  in.name = "x";
  in.op = nnmeter::op_kind::input;
  in.type = "input";
  in.output_shapes = {{1, 4}};
  g.add_node(in);
  nnmeter::node odd;
  odd.name = "odd";
  odd.op = nnmeter::op_kind::other;
  odd.type = "MysteryOp";
  odd.inputs = {{0, 0}};
  odd.input_shapes = {{1, 4}};
  odd.output_shapes = {{1, 4}};
  g.add_node(odd);
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  REQUIRE(d.kernels.size() == 1);
  CHECK(d.kernels[0].op == "MysteryOp");
  CHECK(d.kernels[0].kind == nnmeter::kernel_kind::other);
  CHECK(nnmeter::features(d.kernels[0], nnmeter::feature_set::nnmeter).empty());
  CHECK(nnmeter::features(d.kernels[0], nnmeter::feature_set::extended).size() ==
        nnmeter::feature_count(nnmeter::kernel_kind::other, nnmeter::feature_set::extended));
}

TEST_CASE("a cycle is reported naming a node") {
  nnmeter::graph g;
  nnmeter::node a;
  a.name = "a";
  a.op = nnmeter::op_kind::relu;
  a.output_shapes = {{1, 4}};
  g.add_node(a);
  nnmeter::node b = a;
  b.name = "b";
  b.inputs = {{0, 0}};
  g.add_node(b);
  g.set_inputs(0, {{1, 0}});
  bool thrown = false;
  try {
    (void)nnmeter::detect_kernels(g);
  } catch (const nnmeter::graph_error& e) {
    thrown = std::string(e.what()).find("cycle") != std::string::npos;
  }
  CHECK(thrown);
}

TEST_CASE("CPython small-int set order is reproduced") {
  nnmeter::detail::py_int_set s;
  s.add(63);
  s.add(66);
  CHECK(s.items() == std::vector<std::int64_t>{66, 63});  // slots 2 and 7 of 8
  nnmeter::detail::py_int_set t;
  t.add(8);
  t.add(16);  // collides with 8 at slot 0: probes to (0*5+1+0)&7 = 1
  CHECK(t.items() == std::vector<std::int64_t>{8, 16});
  nnmeter::detail::py_int_set u;
  for (std::int64_t k : {40, 33, 26, 19, 12}) u.add(k);  // fifth insert grows the table to 32
  CHECK(u.size() == 5);
  CHECK(u.items() == std::vector<std::int64_t>{33, 40, 12, 19, 26});
}

namespace {
// CPU seconds of one detection of `g` (process CPU time: a busy machine does not decide).
double detect_seconds(const nnmeter::graph& g) {
  const std::clock_t t0 = std::clock();
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  const double s = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  CHECK(d.kernels.size() + d.free_nodes.size() == g.num_nodes());
  return s;
}

nnmeter::graph fanout(int readers) {
  graph_builder b;
  const auto x = b.input({1, 4, 4, 4});
  for (int i = 0; i < readers; ++i) (void)b.relu(x);
  return std::move(b).build();
}
}  // namespace

TEST_CASE("detection is linear in the readers of one tensor (ten times the readers, not 100 times the time)") {
  // The topological sort searched the reader list of a tensor for each new reader: F readers
  // cost F^2 / 2 steps (`nnmeter kernels` on 10^6 readers: 176 s; linear: 10 s). Best of
  // three runs each.
  const nnmeter::graph small = fanout(10000);
  const nnmeter::graph large = fanout(100000);
  double t_small = 1e9;
  double t_large = 1e9;
  for (int i = 0; i < 3; ++i) t_small = std::min(t_small, detect_seconds(small));
  for (int i = 0; i < 3; ++i) t_large = std::min(t_large, detect_seconds(large));
  MESSAGE("10^4 readers: " << t_small << " s, 10^5 readers: " << t_large << " s, ratio "
                           << t_large / t_small);
  CHECK(t_large / t_small < 30.0);
}
