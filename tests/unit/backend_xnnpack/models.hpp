// Test support: well-known CNNs and their building blocks, written with graph_builder
// (NHWC, inference form: conv -> bn -> activation).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/graph_builder.hpp>

#include <string>
#include <vector>

namespace nnmeter_test::models {

using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::tensor_ref;
using dim = std::int64_t;

enum class act { none, relu, relu6, hswish };

inline tensor_ref activate(graph_builder& b, tensor_ref x, act a, const std::string& n) {
  switch (a) {
    case act::relu:
      return b.relu(x, n + "/relu");
    case act::relu6:
      return b.relu6(x, n + "/relu6");
    case act::hswish:
      return b.hswish(x, n + "/hswish");
    default:
      return x;
  }
}

// conv (no bias) -> bn -> activation
inline tensor_ref cbr(graph_builder& b, tensor_ref x, dim cout, dim k, dim s, act a,
                      const std::string& n, dim groups = 1) {
  const tensor_ref c = b.conv(x, cout, k, s, padding_mode::same, groups, 1, false, n + "/conv");
  return activate(b, b.bn(c, n + "/bn"), a, n);
}
// dwconv -> bn -> activation
inline tensor_ref dbr(graph_builder& b, tensor_ref x, dim k, dim s, act a, const std::string& n) {
  const tensor_ref c = b.dwconv(x, k, s, padding_mode::same, 1, 1, n + "/dw");
  return activate(b, b.bn(c, n + "/bn"), a, n);
}

inline dim channels(graph_builder& b, tensor_ref x) { return b.shape(x)[3]; }

// ---- blocks ----------------------------------------------------------------------------------

inline tensor_ref resnet_basic_block(graph_builder& b, tensor_ref x, dim cout, dim stride,
                                     const std::string& n) {
  tensor_ref y = cbr(b, x, cout, 3, stride, act::relu, n + "/a");
  y = cbr(b, y, cout, 3, 1, act::none, n + "/b");
  tensor_ref sc = x;
  if (stride != 1 || channels(b, x) != cout)
    sc = cbr(b, x, cout, 1, stride, act::none, n + "/proj");
  return b.relu(b.add(y, sc, n + "/add"), n + "/out");
}

inline tensor_ref mbv2_block(graph_builder& b, tensor_ref x, dim expand, dim cout, dim stride,
                             const std::string& n, dim k = 3, bool se = false, act a = act::relu6) {
  const dim cin = channels(b, x);
  tensor_ref y = x;
  if (expand != 1) y = cbr(b, y, cin * expand, 1, 1, a, n + "/expand");
  y = dbr(b, y, k, stride, a, n + "/depthwise");
  if (se) y = b.se(y, 4, n + "/se");
  y = cbr(b, y, cout, 1, 1, act::none, n + "/project");
  if (stride == 1 && cin == cout) y = b.add(x, y, n + "/add");
  return y;
}

inline tensor_ref shufflenet_unit(graph_builder& b, tensor_ref x, dim cout, dim stride,
                                  const std::string& n) {
  if (stride == 1) {
    const std::vector<tensor_ref> parts = b.split(x, dim{2}, -1, n + "/split");
    const dim half = channels(b, parts[1]);
    tensor_ref r = cbr(b, parts[1], half, 1, 1, act::relu, n + "/pw1");
    r = dbr(b, r, 3, 1, act::none, n + "/dw");
    r = cbr(b, r, half, 1, 1, act::relu, n + "/pw2");
    return b.channel_shuffle(b.concat({parts[0], r}, -1, n + "/concat"), 2, n + "/shuffle");
  }
  const dim half = cout / 2;
  tensor_ref l = dbr(b, x, 3, 2, act::none, n + "/l_dw");
  l = cbr(b, l, half, 1, 1, act::relu, n + "/l_pw");
  tensor_ref r = cbr(b, x, half, 1, 1, act::relu, n + "/r_pw1");
  r = dbr(b, r, 3, 2, act::none, n + "/r_dw");
  r = cbr(b, r, half, 1, 1, act::relu, n + "/r_pw2");
  return b.channel_shuffle(b.concat({l, r}, -1, n + "/concat"), 2, n + "/shuffle");
}

inline tensor_ref fire(graph_builder& b, tensor_ref x, dim squeeze, dim expand,
                       const std::string& n) {
  const tensor_ref s = b.relu(b.conv(x, squeeze, 1, 1, padding_mode::same, 1, 1, true, n + "/sq"));
  const tensor_ref e1 = b.relu(b.conv(s, expand, 1, 1, padding_mode::same, 1, 1, true, n + "/e1"));
  const tensor_ref e3 = b.relu(b.conv(s, expand, 3, 1, padding_mode::same, 1, 1, true, n + "/e3"));
  return b.concat({e1, e3}, -1, n + "/concat");
}

inline tensor_ref inception(graph_builder& b, tensor_ref x, dim c1, dim c3r, dim c3, dim c5r,
                            dim c5, dim pp, const std::string& n) {
  const tensor_ref b1 = cbr(b, x, c1, 1, 1, act::relu, n + "/b1");
  const tensor_ref b2 =
      cbr(b, cbr(b, x, c3r, 1, 1, act::relu, n + "/b2r"), c3, 3, 1, act::relu, n + "/b2");
  const tensor_ref b3 =
      cbr(b, cbr(b, x, c5r, 1, 1, act::relu, n + "/b3r"), c5, 5, 1, act::relu, n + "/b3");
  const tensor_ref b4 =
      cbr(b, b.maxpool(x, 3, 1, padding_mode::same, n + "/pool"), pp, 1, 1, act::relu, n + "/b4");
  return b.concat({b1, b2, b3, b4}, -1, n + "/concat");
}

inline tensor_ref dense_block(graph_builder& b, tensor_ref x, int layers, dim growth,
                              const std::string& n) {
  for (int i = 0; i < layers; ++i) {
    const std::string l = n + "/l" + std::to_string(i);
    tensor_ref y = b.relu(b.bn(x, l + "/bn1"), l + "/relu1");
    y = b.conv(y, 4 * growth, 1, 1, padding_mode::same, 1, 1, false, l + "/conv1");
    y = b.relu(b.bn(y, l + "/bn2"), l + "/relu2");
    y = b.conv(y, growth, 3, 1, padding_mode::same, 1, 1, false, l + "/conv2");
    x = b.concat({x, y}, -1, l + "/concat");
  }
  return x;
}

inline tensor_ref classifier(graph_builder& b, tensor_ref x, dim classes) {
  return b.fc(b.global_avgpool(x, "head/gap"), classes, true, "head/fc");
}

// ---- whole models ---------------------------------------------------------------------------

inline nnmeter::graph resnet18(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 64, 7, 2, act::relu, "stem");
  x = b.maxpool(x, 3, 2, padding_mode::same, "stem/pool");
  const dim widths[] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s)
    for (int i = 0; i < 2; ++i)
      x = resnet_basic_block(b, x, widths[s], (s > 0 && i == 0) ? 2 : 1,
                             "s" + std::to_string(s) + "b" + std::to_string(i));
  classifier(b, x, 1000);
  return std::move(b).build();
}

inline nnmeter::graph mobilenet_v1(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 32, 3, 2, act::relu, "stem");
  const dim cfg[][2] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                        {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  int i = 0;
  for (const auto& c : cfg) {
    const std::string n = "block" + std::to_string(i++);
    x = dbr(b, x, 3, c[1], act::relu, n + "/dw");
    x = cbr(b, x, c[0], 1, 1, act::relu, n + "/pw");
  }
  classifier(b, x, 1000);
  return std::move(b).build();
}

inline nnmeter::graph mobilenet_v2(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 32, 3, 2, act::relu6, "stem");
  const dim cfg[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int k = 0;
  for (const auto& c : cfg)
    for (dim i = 0; i < c[2]; ++i)
      x = mbv2_block(b, x, c[0], c[1], i == 0 ? c[3] : 1, "ir" + std::to_string(k++));
  x = cbr(b, x, 1280, 1, 1, act::relu6, "last");
  classifier(b, x, 1000);
  return std::move(b).build();
}

inline nnmeter::graph mobilenet_v3_small(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 16, 3, 2, act::hswish, "stem");
  // k, expanded, out, se, activation, stride (the published mobilenet_v3_small table)
  struct row {
    dim k, exp, out;
    bool se;
    act a;
    dim s;
  };
  const row cfg[] = {{3, 16, 16, true, act::relu, 2},    {3, 72, 24, false, act::relu, 2},
                     {3, 88, 24, false, act::relu, 1},   {5, 96, 40, true, act::hswish, 2},
                     {5, 240, 40, true, act::hswish, 1}, {5, 240, 40, true, act::hswish, 1},
                     {5, 120, 48, true, act::hswish, 1}, {5, 144, 48, true, act::hswish, 1},
                     {5, 288, 96, true, act::hswish, 2}, {5, 576, 96, true, act::hswish, 1},
                     {5, 576, 96, true, act::hswish, 1}};
  int i = 0;
  for (const row& r : cfg) {
    const dim cin = channels(b, x);
    const std::string n = "bneck" + std::to_string(i++);
    tensor_ref y = x;
    if (r.exp != cin) y = cbr(b, y, r.exp, 1, 1, r.a, n + "/expand");
    y = dbr(b, y, r.k, r.s, r.a, n + "/depthwise");
    if (r.se) y = b.se(y, 4, n + "/se");
    y = cbr(b, y, r.out, 1, 1, act::none, n + "/project");
    if (r.s == 1 && cin == r.out) y = b.add(x, y, n + "/add");
    x = y;
  }
  x = cbr(b, x, 576, 1, 1, act::hswish, "last");
  x = b.global_avgpool(x, "head/gap");
  x = b.hswish(b.fc(x, 1024, true, "head/fc1"), "head/hswish");
  b.fc(x, 1000, true, "head/fc2");
  return std::move(b).build();
}

inline nnmeter::graph shufflenet_v2(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 24, 3, 2, act::relu, "stem");
  x = b.maxpool(x, 3, 2, padding_mode::same, "stem/pool");
  const dim widths[] = {116, 232, 464};
  const int repeats[] = {4, 8, 4};
  for (int s = 0; s < 3; ++s)
    for (int i = 0; i < repeats[s]; ++i)
      x = shufflenet_unit(b, x, widths[s], i == 0 ? 2 : 1,
                          "stage" + std::to_string(s) + "/u" + std::to_string(i));
  x = cbr(b, x, 1024, 1, 1, act::relu, "last");
  classifier(b, x, 1000);
  return std::move(b).build();
}

inline nnmeter::graph squeezenet(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = b.relu(b.conv(x, 96, 7, 2, padding_mode::valid, 1, 1, true, "conv1"), "relu1");
  x = b.maxpool(x, 3, 2, padding_mode::valid, "pool1");
  x = fire(b, x, 16, 64, "fire2");
  x = fire(b, x, 16, 64, "fire3");
  x = fire(b, x, 32, 128, "fire4");
  x = b.maxpool(x, 3, 2, padding_mode::valid, "pool4");
  x = fire(b, x, 32, 128, "fire5");
  x = fire(b, x, 48, 192, "fire6");
  x = fire(b, x, 48, 192, "fire7");
  x = fire(b, x, 64, 256, "fire8");
  x = b.maxpool(x, 3, 2, padding_mode::valid, "pool8");
  x = fire(b, x, 64, 256, "fire9");
  x = b.relu(b.conv(x, 1000, 1, 1, padding_mode::same, 1, 1, true, "conv10"), "relu10");
  b.softmax(b.flatten(b.global_avgpool(x, "gap"), 1, "flatten"), -1, "prob");
  return std::move(b).build();
}

inline nnmeter::graph googlenet_stem_and_inception(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 64, 7, 2, act::relu, "conv1");
  x = b.maxpool(x, 3, 2, padding_mode::same, "pool1");
  x = cbr(b, x, 64, 1, 1, act::relu, "conv2");
  x = cbr(b, x, 192, 3, 1, act::relu, "conv3");
  x = b.maxpool(x, 3, 2, padding_mode::same, "pool2");
  x = inception(b, x, 64, 96, 128, 16, 32, 32, "3a");
  x = inception(b, x, 128, 128, 192, 32, 96, 64, "3b");
  x = b.maxpool(x, 3, 2, padding_mode::same, "pool3");
  x = inception(b, x, 192, 96, 208, 16, 48, 64, "4a");
  classifier(b, x, 1000);
  return std::move(b).build();
}

inline nnmeter::graph densenet_block_model(dim hw = 224) {
  graph_builder b;
  tensor_ref x = b.input({1, hw, hw, 3}, nnmeter::dtype::f32, "input");
  x = cbr(b, x, 64, 7, 2, act::relu, "conv0");
  x = b.maxpool(x, 3, 2, padding_mode::same, "pool0");
  x = dense_block(b, x, 6, 32, "dense1");
  x = b.relu(b.bn(x, "trans/bn"), "trans/relu");
  x = b.conv(x, channels(b, x) / 2, 1, 1, padding_mode::same, 1, 1, false, "trans/conv");
  x = b.avgpool(x, 2, 2, padding_mode::valid, "trans/pool");
  x = dense_block(b, x, 4, 32, "dense2");
  classifier(b, b.relu(b.bn(x, "final/bn"), "final/relu"), 1000);
  return std::move(b).build();
}

}  // namespace nnmeter_test::models
