// nnmeter model zoo: the 13 family generators (zoo.hpp).
// SPDX-License-Identifier: MIT
#include "model_zoo/zoo.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <utility>

#include "builder/sampler/sampling.hpp"  // sample_rng, derive_seed

namespace nnmeter::zoo {

namespace {

using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::tensor_ref;
using dim = graph_builder::dim;

constexpr std::array<std::string_view, 13> family_names = {
    "alexnet",     "vgg",          "densenet",    "resnet",  "squeezenet",
    "googlenet",   "mobilenetv1",  "mobilenetv2", "mobilenetv3", "shufflenetv2",
    "mnasnet",     "proxylessnas", "nasbench201"};

// The random choices of one model, and their record (a compact JSON object).
class variant {
 public:
  explicit variant(std::uint64_t seed) : rng_(seed) {}

  // Uniform integer in [lo, hi].
  dim range(dim lo, dim hi) {
    return lo + static_cast<dim>(rng_.below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  template <class T>
  T pick(const std::vector<T>& from) {
    return from[static_cast<std::size_t>(rng_.below(from.size()))];
  }
  bool chance(double p) { return rng_.uniform() < p; }

  // Records key: value (an integer, a number or a list of integers).
  void note(const std::string& key, dim v) { add(key, std::to_string(v)); }
  void note(const std::string& key, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    add(key, buf);
  }
  void note(const std::string& key, const std::vector<dim>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    add(key, s + "]");
  }
  std::string config() const { return "{" + text_ + "}"; }

 private:
  void add(const std::string& key, const std::string& value) {
    text_ += (text_.empty() ? "\"" : ",\"") + key + "\":" + value;
  }
  nnmeter::builder::sample_rng rng_;
  std::string text_;
};

// Channel counts: `base * mult` rounded (at least 4), or made divisible by 8 as the mobile
// families do (torchvision's _make_divisible: never more than 10 % below).
dim width(double base, double mult) {
  return std::max<dim>(4, static_cast<dim>(std::lround(base * mult)));
}
dim divisible(double v, dim by = 8) {
  dim r = std::max<dim>(by, static_cast<dim>(v + static_cast<double>(by) / 2) / by * by);
  if (static_cast<double>(r) < 0.9 * v) r += by;
  return r;
}

enum class act { none, relu, relu6, hswish };

tensor_ref activate(graph_builder& b, tensor_ref x, act a) {
  switch (a) {
    case act::relu: return b.relu(x);
    case act::relu6: return b.relu6(x);
    case act::hswish: return b.hswish(x);
    default: return x;
  }
}
// conv (SAME) -> bn -> activation.
tensor_ref cba(graph_builder& b, tensor_ref x, dim cout, dim k, dim s, act a) {
  return activate(b, b.bn(b.conv(x, cout, k, s)), a);
}
// dwconv (SAME) -> bn -> activation.
tensor_ref dba(graph_builder& b, tensor_ref x, dim k, dim s, act a) {
  return activate(b, b.bn(b.dwconv(x, k, s)), a);
}
dim channels(const graph_builder& b, tensor_ref x) { return b.shape(x).back(); }

const std::vector<dim> resolutions = {160, 192, 224};

// Classifier head: global average pool -> fc.
void head(graph_builder& b, tensor_ref x, dim classes = 1000) { b.fc(b.global_avgpool(x), classes); }

// ---- alexnet: five convolutions (no batch norm, as the original), three max pools, three fc.
void alexnet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const dim k1 = v.pick<dim>({7, 9, 11}), k2 = v.pick<dim>({3, 5});
  const std::vector<double> m = {0.5, 0.75, 1.0, 1.25, 1.5};
  std::vector<dim> w;
  for (double base : {64.0, 192.0, 384.0, 256.0, 256.0}) w.push_back(width(base, v.pick(m)));
  const dim fc = width(4096, v.pick<double>({0.25, 0.5, 0.75, 1.0}));
  v.note("resolution", res);
  v.note("kernels", std::vector<dim>{k1, k2, 3, 3, 3});
  v.note("widths", w);
  v.note("fc", fc);
  tensor_ref x = b.input({1, res, res, 3});
  x = b.relu(b.conv(x, w[0], k1, 4));
  x = b.maxpool(x, 3, 2);
  x = b.relu(b.conv(x, w[1], k2));
  x = b.maxpool(x, 3, 2);
  x = b.relu(b.conv(x, w[2], 3));
  x = b.relu(b.conv(x, w[3], 3));
  x = b.relu(b.conv(x, w[4], 3));
  x = b.maxpool(x, 3, 2);
  x = b.flatten(x);
  x = b.relu(b.fc(x, fc));
  x = b.relu(b.fc(x, fc));
  b.fc(x, 1000);
}

// ---- vgg: 11/13/16/19 layers in five stages (conv + relu), max pool after each, three fc.
void vgg(graph_builder& b, variant& v) {
  const dim res = v.pick<dim>({128, 160, 192, 224});
  const dim depth = v.pick<dim>({11, 13, 16, 19});
  const std::vector<dim> per_stage = depth == 11   ? std::vector<dim>{1, 1, 2, 2, 2}
                                     : depth == 13 ? std::vector<dim>{2, 2, 2, 2, 2}
                                     : depth == 16 ? std::vector<dim>{2, 2, 3, 3, 3}
                                                   : std::vector<dim>{2, 2, 4, 4, 4};
  const std::vector<double> m = {0.25, 0.5, 0.75, 1.0};
  std::vector<dim> widths, kernels;
  tensor_ref x = b.input({1, res, res, 3});
  const std::array<double, 5> base = {64, 128, 256, 512, 512};
  for (std::size_t st = 0; st < 5; ++st) {
    for (dim i = 0; i < per_stage[st]; ++i) {
      const dim w = width(base[st], v.pick(m));
      const dim k = v.chance(0.8) ? 3 : 5;
      widths.push_back(w);
      kernels.push_back(k);
      x = b.relu(b.conv(x, w, k));
    }
    x = b.maxpool(x, 2, 2);
  }
  const dim fc = width(4096, v.pick<double>({0.25, 0.5, 1.0}));
  v.note("resolution", res);
  v.note("depth", depth);
  v.note("widths", widths);
  v.note("kernels", kernels);
  v.note("fc", fc);
  x = b.flatten(x);
  x = b.relu(b.fc(x, fc));
  x = b.relu(b.fc(x, fc));
  b.fc(x, 1000);
}

// ---- resnet: basic blocks (18/34-like) or bottlenecks (50-like), sampled depths and widths.
void resnet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const bool bottleneck = v.chance(0.5);
  const std::array<dim, 4> max_depth = {3, 4, 6, 3};  // ResNet-34 / -50
  const dim stem_k = v.pick<dim>({3, 5, 7});
  const dim stem_w = v.pick<dim>({32, 48, 64});
  std::vector<dim> depths, widths, kernels;
  for (std::size_t st = 0; st < 4; ++st) {
    depths.push_back(v.range(1, max_depth[st]));
    widths.push_back(width(64.0 * static_cast<double>(1 << st), v.pick<double>({0.5, 0.75, 1.0, 1.25})));
    kernels.push_back(v.chance(0.75) ? 3 : 5);
  }
  v.note("resolution", res);
  v.note("block", static_cast<dim>(bottleneck ? 3 : 2));
  v.note("stem_kernel", stem_k);
  v.note("stem_width", stem_w);
  v.note("depths", depths);
  v.note("widths", widths);
  v.note("kernels", kernels);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, stem_w, stem_k, 2, act::relu);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (std::size_t st = 0; st < 4; ++st) {
    for (dim i = 0; i < depths[st]; ++i) {
      const dim s = (i == 0 && st > 0) ? 2 : 1;
      const dim w = widths[st];
      const dim out = bottleneck ? 4 * w : w;
      tensor_ref y = x;
      if (bottleneck) {
        y = cba(b, y, w, 1, 1, act::relu);
        y = cba(b, y, w, kernels[st], s, act::relu);
        y = cba(b, y, out, 1, 1, act::none);
      } else {
        y = cba(b, y, w, kernels[st], s, act::relu);
        y = cba(b, y, w, kernels[st], 1, act::none);
      }
      const tensor_ref shortcut =
          (s != 1 || channels(b, x) != out) ? cba(b, x, out, 1, s, act::none) : x;
      x = b.relu(b.add(y, shortcut));
    }
  }
  head(b, x);
}

// ---- densenet: dense blocks of pre-activation bottlenecks (bn-relu-conv1x1-bn-relu-conv3x3)
// whose outputs are concatenated, transitions (bn-relu-conv1x1-avgpool) between them.
void densenet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const dim growth = v.pick<dim>({12, 16, 24, 32});
  const std::array<dim, 4> base = {6, 12, 24, 16};
  std::vector<dim> depths;
  for (dim d : base) depths.push_back(v.range(2, std::max<dim>(2, d / 2)));
  const dim k = v.chance(0.8) ? 3 : 5;
  v.note("resolution", res);
  v.note("growth", growth);
  v.note("depths", depths);
  v.note("kernel", k);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 2 * growth, 7, 2, act::relu);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (std::size_t st = 0; st < depths.size(); ++st) {
    for (dim i = 0; i < depths[st]; ++i) {
      tensor_ref y = b.relu(b.bn(x));
      y = b.conv(y, 4 * growth, 1);
      y = b.relu(b.bn(y));
      y = b.conv(y, growth, k);
      x = b.concat({x, y});
    }
    if (st + 1 < depths.size()) {
      x = b.relu(b.bn(x));
      x = b.conv(x, std::max<dim>(growth, channels(b, x) / 2), 1);
      x = b.avgpool(x, 2, 2);
    }
  }
  head(b, b.relu(b.bn(x)));
}

// ---- squeezenet (1.1): fire modules (squeeze 1x1 -> expand 1x1 | expand kxk, concatenated),
// max pools after fire 2 and 4, a 1x1 classifier convolution and global pooling; no bn.
void squeezenet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const dim fires = v.range(6, 8);
  const dim stem = width(64, v.pick<double>({0.5, 0.75, 1.0, 1.5}));
  const std::array<double, 8> squeeze = {16, 16, 32, 32, 48, 48, 64, 64};
  std::vector<dim> sq, kernels;
  for (dim i = 0; i < fires; ++i) {
    sq.push_back(width(squeeze[static_cast<std::size_t>(i)], v.pick<double>({0.5, 0.75, 1.0, 1.25, 1.5})));
    kernels.push_back(v.chance(0.75) ? 3 : 5);
  }
  v.note("resolution", res);
  v.note("stem", stem);
  v.note("squeeze", sq);
  v.note("kernels", kernels);
  tensor_ref x = b.input({1, res, res, 3});
  x = b.relu(b.conv(x, stem, 3, 2));
  x = b.maxpool(x, 3, 2);
  for (dim i = 0; i < fires; ++i) {
    const dim s = sq[static_cast<std::size_t>(i)];
    const tensor_ref q = b.relu(b.conv(x, s, 1));
    const tensor_ref e1 = b.relu(b.conv(q, 4 * s, 1));
    const tensor_ref e3 = b.relu(b.conv(q, 4 * s, kernels[static_cast<std::size_t>(i)]));
    x = b.concat({e1, e3});
    if (i == 1 || i == 3) x = b.maxpool(x, 3, 2);
  }
  x = b.relu(b.conv(x, 1000, 1));
  b.global_avgpool(x);
}

// ---- googlenet: inception modules of four branches (1x1 | 1x1-3x3 | 1x1-kxk | pool-1x1).
void googlenet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const double m = v.pick<double>({0.5, 0.75, 1.0, 1.25});
  const dim k3 = v.pick<dim>({3, 5});
  // torchvision's table: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5 (3x3 there), pool proj.
  struct module_widths {
    double b1, b2r, b2, b3r, b3, b4;
  };
  const std::vector<module_widths> stage3 = {{64, 96, 128, 16, 32, 32}, {128, 128, 192, 32, 96, 64}};
  const std::vector<module_widths> stage4 = {{192, 96, 208, 16, 48, 64},
                                             {160, 112, 224, 24, 64, 64},
                                             {128, 128, 256, 24, 64, 64},
                                             {112, 144, 288, 32, 64, 64},
                                             {256, 160, 320, 32, 128, 128}};
  const std::vector<module_widths> stage5 = {{256, 160, 320, 32, 128, 128},
                                             {384, 192, 384, 48, 128, 128}};
  const dim n4 = v.range(2, 5);
  v.note("resolution", res);
  v.note("width", m);
  v.note("kernel", k3);
  v.note("stage4_modules", n4);
  const auto inception = [&](tensor_ref x, const module_widths& w) {
    const tensor_ref a = cba(b, x, width(w.b1, m), 1, 1, act::relu);
    const tensor_ref c = cba(b, cba(b, x, width(w.b2r, m), 1, 1, act::relu), width(w.b2, m), 3, 1,
                             act::relu);
    const tensor_ref d = cba(b, cba(b, x, width(w.b3r, m), 1, 1, act::relu), width(w.b3, m), k3,
                             1, act::relu);
    const tensor_ref e =
        cba(b, b.maxpool(x, 3, 1, padding_mode::same), width(w.b4, m), 1, 1, act::relu);
    return b.concat({a, c, d, e});
  };
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, width(64, m), 7, 2, act::relu);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  x = cba(b, x, width(64, m), 1, 1, act::relu);
  x = cba(b, x, width(192, m), 3, 1, act::relu);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (const module_widths& w : stage3) x = inception(x, w);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (dim i = 0; i < n4; ++i) x = inception(x, stage4[static_cast<std::size_t>(i)]);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (const module_widths& w : stage5) x = inception(x, w);
  head(b, x);
}

// ---- mobilenetv1: a strided conv, 13 depthwise-separable blocks (dw kxk-bn-relu,
// conv 1x1-bn-relu), global pool, fc.
void mobilenetv1(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const std::vector<double> m = {0.5, 0.75, 1.0, 1.25, 1.5};
  struct layer {
    double c;
    dim s;
  };
  const std::vector<layer> table = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},
                                    {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
                                    {512, 1}, {1024, 2}, {1024, 1}};
  std::vector<dim> widths, kernels;
  const dim stem = divisible(32 * v.pick(m));
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, stem, 3, 2, act::relu);
  for (const layer& l : table) {
    const dim k = v.pick<dim>({3, 3, 5, 7});
    const dim w = divisible(l.c * v.pick(m));
    kernels.push_back(k);
    widths.push_back(w);
    x = dba(b, x, k, l.s, act::relu);
    x = cba(b, x, w, 1, 1, act::relu);
  }
  v.note("resolution", res);
  v.note("stem", stem);
  v.note("widths", widths);
  v.note("kernels", kernels);
  head(b, x);
}

// One inverted residual (MobileNetV2 / MnasNet / ProxylessNAS / MobileNetV3 block): expand
// 1x1 (when t > 1), depthwise kxk, optional squeeze-and-excitation, project 1x1; residual add
// when the shape is kept.
tensor_ref inverted_residual(graph_builder& b, tensor_ref x, dim t, dim k, dim s, dim out,
                             act a, bool se) {
  const dim cin = channels(b, x);
  tensor_ref y = x;
  if (t != 1) y = cba(b, y, divisible(static_cast<double>(cin * t)), 1, 1, a);
  y = dba(b, y, k, s, a);
  if (se) y = b.se(y, 4);
  y = cba(b, y, out, 1, 1, act::none);
  return (s == 1 && cin == out) ? b.add(x, y) : y;
}

struct ir_stage {
  dim t;   // expansion
  double c;  // output channels
  dim n;   // blocks
  dim s;   // stride of the first block
  dim k;   // the original kernel size (variants sample theirs)
};

// Stages of inverted residuals with sampled expansions (per block), kernel sizes (per block),
// depths (per stage, 1 .. n) and widths (per stage).
// Their record's keys start with `prefix`.
tensor_ref ir_stages(graph_builder& b, variant& v, const std::string& prefix, tensor_ref x,
                     const std::vector<ir_stage>& st, const std::vector<dim>& expansions,
                     const std::vector<dim>& ks, act a, const std::vector<bool>& se) {
  std::vector<dim> depths, widths, ts, kernels;
  for (std::size_t i = 0; i < st.size(); ++i) {
    const dim n = v.range(std::max<dim>(1, st[i].n - 2), st[i].n);
    const dim out = divisible(st[i].c * v.pick<double>({0.5, 0.75, 1.0, 1.25, 1.5}));
    depths.push_back(n);
    widths.push_back(out);
    for (dim j = 0; j < n; ++j) {
      const dim t = st[i].t == 1 ? 1 : v.pick(expansions);
      const dim k = v.pick(ks);
      ts.push_back(t);
      kernels.push_back(k);
      x = inverted_residual(b, x, t, k, j == 0 ? st[i].s : 1, out, a, !se.empty() && se[i]);
    }
  }
  v.note(prefix + "depths", depths);
  v.note(prefix + "widths", widths);
  v.note(prefix + "expansions", ts);
  v.note(prefix + "kernels", kernels);
  return x;
}

// ---- mobilenetv2: torchvision's (t, c, n, s) table, relu6.
void mobilenetv2(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  v.note("resolution", res);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 32, 3, 2, act::relu6);
  x = ir_stages(b, v, "", x,
                {{1, 16, 1, 1, 3}, {6, 24, 2, 2, 3}, {6, 32, 3, 2, 3}, {6, 64, 4, 2, 3},
                 {6, 96, 3, 1, 3}, {6, 160, 3, 2, 3}, {6, 320, 1, 1, 3}},
                {3, 4, 6}, {3, 5, 7}, act::relu6, {});
  x = cba(b, x, 1280, 1, 1, act::relu6);
  head(b, x);
}

// ---- mobilenetv3 (large): squeeze-and-excitation in the stages that have it, hswish in the
// later ones, the 1280-wide head.
void mobilenetv3(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  v.note("resolution", res);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 16, 3, 2, act::hswish);
  // Stages of MobileNetV3-Large grouped by (activation, SE).
  x = ir_stages(b, v, "a_", x, {{1, 16, 1, 1, 3}, {4, 24, 2, 2, 3}}, {3, 4}, {3, 5}, act::relu,
                {});
  x = ir_stages(b, v, "b_", x, {{3, 40, 3, 2, 5}}, {3, 4}, {3, 5, 7}, act::relu, {true});
  x = ir_stages(b, v, "c_", x, {{6, 80, 4, 2, 3}}, {3, 4, 6}, {3, 5, 7}, act::hswish, {false});
  x = ir_stages(b, v, "d_", x, {{6, 112, 2, 1, 3}, {6, 160, 3, 2, 5}}, {3, 4, 6}, {3, 5, 7},
                act::hswish, {true, true});
  x = cba(b, x, divisible(static_cast<double>(channels(b, x) * 6)), 1, 1, act::hswish);
  x = b.hswish(b.fc(b.global_avgpool(x), 1280));
  b.fc(x, 1000);
}

// ---- shufflenetv2: channel split, a (conv1x1 - dw kxk - conv1x1) branch, concat, channel
// shuffle; downsampling units with two branches.
void shufflenetv2(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  const std::vector<std::array<dim, 3>> width_sets = {{48, 96, 192}, {116, 232, 464},
                                                      {176, 352, 704}, {244, 488, 976}};
  const std::array<dim, 3> w = v.pick(width_sets);
  const std::array<dim, 3> base = {4, 8, 4};
  std::vector<dim> depths, kernels;
  for (dim d : base) depths.push_back(v.range(2, d));
  v.note("resolution", res);
  v.note("widths", std::vector<dim>{w[0], w[1], w[2]});
  v.note("depths", depths);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 24, 3, 2, act::relu);
  x = b.maxpool(x, 3, 2, padding_mode::same);
  for (std::size_t st = 0; st < 3; ++st) {
    const dim half = w[st] / 2;
    for (dim i = 0; i < depths[st]; ++i) {
      const dim k = v.pick<dim>({3, 3, 5, 7});
      kernels.push_back(k);
      if (i == 0) {
        const tensor_ref b1 = cba(b, dba(b, x, k, 2, act::none), half, 1, 1, act::relu);
        tensor_ref b2 = cba(b, x, half, 1, 1, act::relu);
        b2 = cba(b, dba(b, b2, k, 2, act::none), half, 1, 1, act::relu);
        x = b.concat({b1, b2});
      } else {
        const std::vector<tensor_ref> parts = b.split(x, 2);
        tensor_ref y = cba(b, parts[1], half, 1, 1, act::relu);
        y = cba(b, dba(b, y, k, 1, act::none), half, 1, 1, act::relu);
        x = b.concat({parts[0], y});
      }
      x = b.channel_shuffle(x, 2);
    }
  }
  v.note("kernels", kernels);
  x = cba(b, x, 1024, 1, 1, act::relu);
  head(b, x);
}

// ---- mnasnet (B1): a depthwise-separable first block, then inverted residuals, relu.
void mnasnet(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  v.note("resolution", res);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 32, 3, 2, act::relu);
  x = cba(b, dba(b, x, 3, 1, act::relu), 16, 1, 1, act::none);
  x = ir_stages(b, v, "", x,
                {{3, 24, 3, 2, 3}, {3, 40, 3, 2, 5}, {6, 80, 3, 2, 5}, {6, 96, 2, 1, 3},
                 {6, 192, 4, 2, 5}, {6, 320, 1, 1, 3}},
                {3, 6}, {3, 5}, act::relu, {});
  x = cba(b, x, 1280, 1, 1, act::relu);
  head(b, x);
}

// ---- proxylessnas (mobile): per block a searched kernel size and expansion, blocks after the
// first of a stage may be skipped (zero op), relu6.
void proxylessnas(graph_builder& b, variant& v) {
  const dim res = v.pick(resolutions);
  v.note("resolution", res);
  tensor_ref x = b.input({1, res, res, 3});
  x = cba(b, x, 32, 3, 2, act::relu6);
  x = inverted_residual(b, x, 1, 3, 1, 16, act::relu6, false);
  struct stage {
    double c;
    dim s;
  };
  std::vector<dim> blocks, kernels, ts;
  for (const stage& st : {stage{32, 2}, stage{40, 2}, stage{80, 2}, stage{96, 1}, stage{192, 2},
                          stage{320, 1}}) {
    const dim out = divisible(st.c * v.pick<double>({0.75, 1.0, 1.25}));
    const dim n = st.c == 320 ? 1 : 4;
    dim kept = 0;
    for (dim j = 0; j < n; ++j) {
      if (j > 0 && v.chance(0.3)) continue;  // the zero op: the block is skipped
      const dim k = v.pick<dim>({3, 5, 7});
      const dim t = v.pick<dim>({3, 6});
      kernels.push_back(k);
      ts.push_back(t);
      x = inverted_residual(b, x, t, k, j == 0 ? st.s : 1, out, act::relu6, false);
      ++kept;
    }
    blocks.push_back(kept);
  }
  v.note("blocks", blocks);
  v.note("kernels", kernels);
  v.note("expansions", ts);
  x = cba(b, x, 1280, 1, 1, act::relu6);
  head(b, x);
}

// ---- nasbench201: a CIFAR-sized stem, three stages of N cells joined by residual reduction
// blocks; each cell is a 4-node DAG whose 6 edges carry one of none, skip, relu-conv1x1-bn,
// relu-conv3x3-bn, avgpool3x3 (NAS-Bench-201's search space), summed at each node.
void nasbench201(graph_builder& b, variant& v) {
  const dim res = v.pick<dim>({32, 48, 64});
  const dim c = v.pick<dim>({8, 16, 24, 32});
  const dim n = v.range(1, 5);
  // Edge ops, edges ordered (0,1), (0,2), (1,2), (0,3), (1,3), (2,3); 0 = none, 1 = skip,
  // 2 = conv1x1, 3 = conv3x3, 4 = avgpool. Every node keeps at least one input that is not none.
  std::vector<dim> ops;
  for (;;) {
    ops.clear();
    for (int e = 0; e < 6; ++e) ops.push_back(v.range(0, 4));
    if (ops[0] != 0 && (ops[1] != 0 || ops[2] != 0) && (ops[3] != 0 || ops[4] != 0 || ops[5] != 0))
      break;
  }
  v.note("resolution", res);
  v.note("channels", c);
  v.note("cells", n);
  v.note("ops", ops);
  const auto edge = [&](tensor_ref x, dim op) -> std::optional<tensor_ref> {
    switch (op) {
      case 1: return x;
      case 2: return b.bn(b.conv(b.relu(x), channels(b, x), 1));
      case 3: return b.bn(b.conv(b.relu(x), channels(b, x), 3));
      case 4: return b.avgpool(x, 3, 1, padding_mode::same);
      default: return std::nullopt;
    }
  };
  const auto cell = [&](tensor_ref x0) {
    std::vector<tensor_ref> node = {x0};
    std::size_t e = 0;
    for (std::size_t j = 1; j < 4; ++j) {
      std::optional<tensor_ref> sum;
      for (std::size_t i = 0; i < j; ++i, ++e) {
        const std::optional<tensor_ref> y = edge(node[i], ops[e]);
        if (!y) continue;
        sum = sum ? b.add(*sum, *y) : *y;
      }
      node.push_back(*sum);  // at least one edge is not none (checked above)
    }
    return node[3];
  };
  tensor_ref x = b.input({1, res, res, 3});
  x = b.bn(b.conv(x, c, 3));
  for (dim st = 0; st < 3; ++st) {
    if (st > 0) {  // residual reduction block
      const dim out = channels(b, x) * 2;
      tensor_ref y = b.bn(b.conv(b.relu(x), out, 3, 2));
      y = b.bn(b.conv(b.relu(y), out, 3));
      const tensor_ref sc = b.conv(b.avgpool(x, 2, 2), out, 1);
      x = b.add(y, sc);
    }
    for (dim i = 0; i < n; ++i) x = cell(x);
  }
  head(b, b.relu(b.bn(x)), 10);
}

using generator = void (*)(graph_builder&, variant&);
constexpr std::array<generator, 13> generators = {
    alexnet,     vgg,          densenet,    resnet,  squeezenet,
    googlenet,   mobilenetv1,  mobilenetv2, mobilenetv3, shufflenetv2,
    mnasnet,     proxylessnas, nasbench201};

}  // namespace

const std::vector<family>& families() {
  static const std::vector<family> all = [] {
    std::vector<family> v;
    for (std::size_t i = 0; i < family_names.size(); ++i) v.push_back(static_cast<family>(i));
    return v;
  }();
  return all;
}

std::string_view to_string(family f) noexcept {
  const auto i = static_cast<std::size_t>(f);
  return i < family_names.size() ? family_names[i] : std::string_view("?");
}

std::optional<family> parse_family(std::string_view name) noexcept {
  for (std::size_t i = 0; i < family_names.size(); ++i)
    if (family_names[i] == name) return static_cast<family>(i);
  return std::nullopt;
}

zoo_model generate(family f, std::uint64_t seed, std::size_t index) {
  zoo_model m;
  m.fam = f;
  m.seed = seed;
  m.index = index;
  char id[32];
  std::snprintf(id, sizeof id, "_%04zu", index);
  m.name = std::string(to_string(f)) + id;
  variant v(nnmeter::builder::derive_seed(seed, "zoo " + m.name));
  graph_builder b;
  generators[static_cast<std::size_t>(f)](b, v);
  m.config = v.config();
  m.graph = std::move(b).build();
  return m;
}

std::vector<zoo_model> generate_family(family f, std::size_t count, std::uint64_t seed) {
  std::vector<zoo_model> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(generate(f, seed, i));
  return out;
}

}  // namespace nnmeter::zoo
