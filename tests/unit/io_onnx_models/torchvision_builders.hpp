// torchvision 0.14 classifiers rebuilt with nnmeter::graph_builder, as torch.onnx.export
// (eval mode, constant folding) writes them: BatchNorm folded into the preceding Conv (so every
// conv has a bias), Dropout gone, ReLU6 = Clip(0, 6), Hardswish (opset < 14) = HardSigmoid + Mul,
// adaptive average pooling to 1x1 = GlobalAveragePool, torch.flatten = Flatten. Node names are
// our own; operand order and node order follow the exported graphs (forward order).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <string>
#include <vector>

namespace nnmeter_test::tv {

using nnmeter::graph;
using nnmeter::graph_builder;
using nnmeter::pads4;
using nnmeter::tensor_ref;
using dim = std::int64_t;

// Conv with PyTorch padding p on every side, bias (BN folded).
inline tensor_ref conv(graph_builder& b, tensor_ref x, dim cout, dim k, dim s, dim p,
                       dim groups = 1) {
  return b.conv(x, cout, k, s, pads4(p), groups, 1, true);
}

// torchvision's _make_divisible(v, 8).
inline dim make_divisible(double v, dim divisor = 8) {
  dim nv = static_cast<dim>(v + static_cast<double>(divisor) / 2.0) / divisor * divisor;
  if (nv < divisor) nv = divisor;
  if (static_cast<double>(nv) < 0.9 * v) nv += divisor;
  return nv;
}

inline tensor_ref classifier_head(graph_builder& b, tensor_ref x, dim classes) {
  const tensor_ref g = b.global_avgpool(x);
  return b.fc(b.flatten(g, 1), classes);
}

// ------------------------------------------------------------------------------ resnet18
inline graph resnet18() {
  graph_builder b;
  tensor_ref x = b.input({1, 224, 224, 3}, nnmeter::dtype::f32, "input");
  x = b.relu(conv(b, x, 64, 7, 2, 3));
  x = b.maxpool(x, 3, 2, pads4(1));
  dim inplanes = 64;
  const dim planes[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      const dim stride = (stage > 0 && block == 0) ? 2 : 1;
      const tensor_ref identity = x;
      tensor_ref y = b.relu(conv(b, x, planes[stage], 3, stride, 1));
      y = conv(b, y, planes[stage], 3, 1, 1);
      tensor_ref sc = identity;
      if (stride != 1 || inplanes != planes[stage])
        sc = conv(b, identity, planes[stage], 1, stride, 0);
      x = b.relu(b.add(y, sc));
      inplanes = planes[stage];
    }
  }
  classifier_head(b, x, 1000);
  return std::move(b).build();
}

// --------------------------------------------------------------------------- mobilenet_v2
inline graph mobilenet_v2() {
  graph_builder b;
  tensor_ref x = b.input({1, 224, 224, 3}, nnmeter::dtype::f32, "input");
  x = b.relu6(conv(b, x, 32, 3, 2, 1));
  dim in_c = 32;
  const dim cfg[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& c : cfg) {
    for (dim i = 0; i < c[2]; ++i) {
      const dim stride = i == 0 ? c[3] : 1;
      const dim hidden = in_c * c[0];
      tensor_ref y = x;
      if (c[0] != 1) y = b.relu6(conv(b, y, hidden, 1, 1, 0));
      y = b.relu6(conv(b, y, hidden, 3, stride, 1, hidden));
      y = conv(b, y, c[1], 1, 1, 0);
      if (stride == 1 && in_c == c[1]) y = b.add(x, y);
      x = y;
      in_c = c[1];
    }
  }
  x = b.relu6(conv(b, x, 1280, 1, 1, 0));
  classifier_head(b, x, 1000);
  return std::move(b).build();
}

// --------------------------------------------------------------------- mobilenet_v3_small
// Hardswish as exported below opset 14: Mul(x, HardSigmoid(x)).
inline tensor_ref hardswish(graph_builder& b, tensor_ref x) { return b.mul(x, b.hsigmoid(x)); }

inline graph mobilenet_v3_small() {
  graph_builder b;
  tensor_ref x = b.input({1, 224, 224, 3}, nnmeter::dtype::f32, "input");
  x = hardswish(b, conv(b, x, 16, 3, 2, 1));
  struct bneck {
    dim in, k, exp, out;
    bool se, hs;
    dim stride;
  };
  const bneck cfg[] = {
      {16, 3, 16, 16, true, false, 2},  {16, 3, 72, 24, false, false, 2},
      {24, 3, 88, 24, false, false, 1}, {24, 5, 96, 40, true, true, 2},
      {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
      {40, 5, 120, 48, true, true, 1},  {48, 5, 144, 48, true, true, 1},
      {48, 5, 288, 96, true, true, 2},  {96, 5, 576, 96, true, true, 1},
      {96, 5, 576, 96, true, true, 1},
  };
  for (const bneck& c : cfg) {
    auto act = [&](tensor_ref t) { return c.hs ? hardswish(b, t) : b.relu(t); };
    tensor_ref y = x;
    if (c.exp != c.in) y = act(conv(b, y, c.exp, 1, 1, 0));
    y = act(conv(b, y, c.exp, c.k, c.stride, (c.k - 1) / 2, c.exp));
    if (c.se) {
      const dim sq = make_divisible(static_cast<double>(c.exp / 4));
      tensor_ref s = b.global_avgpool(y);
      s = b.relu(conv(b, s, sq, 1, 1, 0));
      s = b.hsigmoid(conv(b, s, c.exp, 1, 1, 0));
      y = b.mul(s, y);  // torchvision: scale * input
    }
    y = conv(b, y, c.out, 1, 1, 0);
    if (c.stride == 1 && c.in == c.out) y = b.add(y, x);
    x = y;
  }
  x = hardswish(b, conv(b, x, 576, 1, 1, 0));
  x = b.flatten(b.global_avgpool(x), 1);
  x = hardswish(b, b.fc(x, 1024));
  b.fc(x, 1000);
  return std::move(b).build();
}

// --------------------------------------------------------------------- shufflenet_v2_x1_0
inline graph shufflenet_v2_x1_0() {
  graph_builder b;
  tensor_ref x = b.input({1, 224, 224, 3}, nnmeter::dtype::f32, "input");
  x = b.relu(conv(b, x, 24, 3, 2, 1));
  x = b.maxpool(x, 3, 2, pads4(1));
  dim in_c = 24;
  const dim repeats[] = {4, 8, 4};
  const dim outs[] = {116, 232, 464};
  for (int st = 0; st < 3; ++st) {
    for (dim i = 0; i < repeats[st]; ++i) {
      const dim bf = outs[st] / 2;
      tensor_ref y;
      if (i == 0) {  // stride 2: both branches see x
        tensor_ref b1 = conv(b, x, in_c, 3, 2, 1, in_c);
        b1 = b.relu(conv(b, b1, bf, 1, 1, 0));
        tensor_ref b2 = b.relu(conv(b, x, bf, 1, 1, 0));
        b2 = conv(b, b2, bf, 3, 2, 1, bf);
        b2 = b.relu(conv(b, b2, bf, 1, 1, 0));
        y = b.concat({b1, b2}, -1);
      } else {  // x.chunk(2, dim=1): two slices
        const dim c = b.shape(x)[3];
        const tensor_ref x1 = b.slice(x, 3, 0, c / 2);
        const tensor_ref x2 = b.slice(x, 3, c / 2, c);
        tensor_ref b2 = b.relu(conv(b, x2, bf, 1, 1, 0));
        b2 = conv(b, b2, bf, 3, 1, 1, bf);
        b2 = b.relu(conv(b, b2, bf, 1, 1, 0));
        y = b.concat({x1, b2}, -1);
      }
      x = b.channel_shuffle(y, 2);
      in_c = outs[st];
    }
  }
  x = b.relu(conv(b, x, 1024, 1, 1, 0));
  x = b.reduce_mean(x, {1, 2}, false);
  b.fc(x, 1000);
  return std::move(b).build();
}

// -------------------------------------------------------------------------- squeezenet1_0
inline graph squeezenet1_0() {
  graph_builder b;
  tensor_ref x = b.input({1, 224, 224, 3}, nnmeter::dtype::f32, "input");
  x = b.relu(conv(b, x, 96, 7, 2, 0));
  auto pool = [&](tensor_ref t) { return b.maxpool(t, 3, 2, pads4(0), true); };
  auto fire = [&](tensor_ref t, dim sq, dim e1, dim e3) {
    const tensor_ref s = b.relu(conv(b, t, sq, 1, 1, 0));
    const tensor_ref a = b.relu(conv(b, s, e1, 1, 1, 0));
    const tensor_ref c = b.relu(conv(b, s, e3, 3, 1, 1));
    return b.concat({a, c}, -1);
  };
  x = pool(x);
  x = fire(x, 16, 64, 64);
  x = fire(x, 16, 64, 64);
  x = fire(x, 32, 128, 128);
  x = pool(x);
  x = fire(x, 32, 128, 128);
  x = fire(x, 48, 192, 192);
  x = fire(x, 48, 192, 192);
  x = fire(x, 64, 256, 256);
  x = pool(x);
  x = fire(x, 64, 256, 256);
  x = b.relu(conv(b, x, 1000, 1, 1, 0));
  b.flatten(b.global_avgpool(x), 1);
  return std::move(b).build();
}

}  // namespace nnmeter_test::tv
