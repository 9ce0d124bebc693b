// kernel_detector: a reused detector gives exactly what a fresh detect() gives, whatever it
// detected before.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <string>
#include <vector>

namespace {

void check_same(const nnmeter::detection& a, const nnmeter::detection& b) {
  CHECK(a.groups == b.groups);
  CHECK(a.free_nodes == b.free_nodes);
  REQUIRE(a.kernels.size() == b.kernels.size());
  for (std::size_t i = 0; i < a.kernels.size(); ++i) {
    const nnmeter::kernel& x = a.kernels[i];
    const nnmeter::kernel& y = b.kernels[i];
    INFO("kernel " << i << " " << x.name << " / " << y.name);
    CHECK(x.op == y.op);
    CHECK(x.name == y.name);
    CHECK(x.kind == y.kind);
    CHECK(x.nodes == y.nodes);
    CHECK(x.input_tensors == y.input_tensors);
    CHECK(x.output_tensors == y.output_tensors);
    CHECK(x.ks == y.ks);
    CHECK(x.strides == y.strides);
    CHECK(x.split_dim == y.split_dim);
    CHECK(x.inputh == y.inputh);
    CHECK(x.inputw == y.inputw);
    CHECK(x.cin == y.cin);
    CHECK(x.cout == y.cout);
    CHECK(x.dilations == y.dilations);
    CHECK(x.groups == y.groups);
    CHECK(x.elem == y.elem);
    CHECK(x.flops == y.flops);
    CHECK(x.bytes == y.bytes);
    CHECK(x.inbounds == y.inbounds);
    CHECK(x.outbounds == y.outbounds);
  }
}

// A MobileNetV3-like stack: conv-bn-hswish, SE blocks, residual adds, a split.
nnmeter::graph net_a() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 64, 64, 3});
  x = b.conv_bn_relu(x, 16, 3, 2);
  x = b.hswish(x);
  auto y = b.dwconv(x, 3, 1);
  y = b.se(y, 4);
  y = b.conv(y, 16, 1, 1);
  x = b.add(x, y);
  x = b.maxpool(x, 2, 2);
  x = b.global_avgpool(x);
  x = b.reshape(x, {1, 16});
  b.fc(x, 10);
  return std::move(b).build();
}

// Something else entirely: pooling, concat, an unknown operator, more kernels than net_a.
nnmeter::graph net_b() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 8});
  auto p = b.conv_bn_relu(x, 8, 1, 1);
  auto q = b.conv_bn_relu(x, 8, 3, 1);
  auto r = b.avgpool(x, 3, 1, nnmeter::padding_mode::same);
  auto c = b.concat({p, q, r}, 3);
  for (int i = 0; i < 12; ++i) c = b.conv_bn_relu(c, 24, 3, 1);
  b.sigmoid(c);
  return std::move(b).build();
}

}  // namespace

TEST_CASE("a reused kernel_detector equals a fresh detect() on every graph, in any order") {
  const nnmeter::graph a = net_a();
  const nnmeter::graph b = net_b();
  const nnmeter::detection fresh_a = nnmeter::detect(a, nnmeter::default_rules());
  const nnmeter::detection fresh_b = nnmeter::detect(b, nnmeter::default_rules());
  REQUIRE(fresh_a.kernels.size() != fresh_b.kernels.size());
  nnmeter::kernel_detector d;
  for (int round = 0; round < 2; ++round) {
    check_same(d.run(a, nnmeter::default_rules()), fresh_a);
    check_same(d.run(b, nnmeter::default_rules()), fresh_b);
    check_same(d.run(b, nnmeter::default_rules()), fresh_b);
    check_same(d.run(a, nnmeter::default_rules()), fresh_a);
  }
  check_same(d.result(), fresh_a);
  const nnmeter::detection taken = d.take();
  check_same(taken, fresh_a);
  check_same(d.run(b, nnmeter::default_rules()), fresh_b);  // usable after take()
}

TEST_CASE("detect_options::costs = false leaves flops and bytes at 0 and changes nothing else") {
  const nnmeter::graph a = net_a();
  const nnmeter::detection full = nnmeter::detect(a, nnmeter::default_rules());
  nnmeter::detect_options o;
  o.costs = false;
  nnmeter::detection lean = nnmeter::detect(a, nnmeter::default_rules(), o);
  bool any_cost = false;
  for (std::size_t i = 0; i < lean.kernels.size(); ++i) {
    CHECK(lean.kernels[i].flops == 0.0);
    CHECK(lean.kernels[i].bytes == 0.0);
    any_cost = any_cost || full.kernels[i].flops > 0.0;
    lean.kernels[i].flops = full.kernels[i].flops;
    lean.kernels[i].bytes = full.kernels[i].bytes;
  }
  CHECK(any_cost);
  check_same(lean, full);
}

TEST_CASE("a reused kernel_detector reports a cycle and recovers on the next graph") {
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
  nnmeter::kernel_detector d;
  const nnmeter::graph good = net_a();
  d.run(good, nnmeter::default_rules());
  CHECK_THROWS_AS(d.run(g, nnmeter::default_rules()), nnmeter::graph_error);
  check_same(d.run(good, nnmeter::default_rules()), nnmeter::detect(good, nnmeter::default_rules()));
}
