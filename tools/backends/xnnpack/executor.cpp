// nnmeter — XNNPACK executor (see executor.hpp and docs/xnnpack-backend.md).
// SPDX-License-Identifier: MIT
#include "xnnpack/executor.hpp"

#include <nnmeter/error.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/validate.hpp>

#include <xnnpack.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nnmeter::backends::xnnpack {

namespace {

using dim = std::int64_t;
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr std::size_t extra_floats = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);

// ------------------------------------------------------------------------------ errors

std::string op_text(const node& n) {
  std::string s(to_string(n.op));
  if (!n.type.empty() && n.type != s) s += " (" + n.type + ")";
  return s;
}

[[noreturn]] void cannot(const node& n, const std::string& why) {
  throw unsupported_error("cannot execute: op " + op_text(n) + " at node '" + n.name + "': " + why);
}

std::string shape_text(const tensor_shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.rank(); ++i) {
    if (i) t += ", ";
    t += std::to_string(s[static_cast<std::ptrdiff_t>(i)]);
  }
  return t + "]";
}

const char* status_text(xnn_status s) {
  switch (s) {
    case xnn_status_success:
      return "success";
    case xnn_status_uninitialized:
      return "uninitialized";
    case xnn_status_invalid_parameter:
      return "invalid parameter";
    case xnn_status_invalid_state:
      return "invalid state";
    case xnn_status_unsupported_parameter:
      return "unsupported parameter";
    case xnn_status_unsupported_hardware:
      return "unsupported hardware";
    case xnn_status_out_of_memory:
      return "out of memory";
  }
  return "unknown status";
}

void check_xnn(xnn_status s, const node& n, const char* call) {
  if (s != xnn_status_success)
    cannot(n, std::string("XNNPACK rejected it (") + call + ": " + status_text(s) + ")");
}

void ensure_xnnpack_initialised() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success)
    throw std::runtime_error(std::string("xnnpack executor: xnn_initialize failed: ") +
                             status_text(status));
}

// ------------------------------------------------------------------------- generation

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char ch : s) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ull;
  }
  return h;
}

// splitmix64: tiny, seedable, good enough for weights.
class rng {
 public:
  rng(std::uint64_t seed, const std::string& name, std::uint64_t stream)
      : state_(seed * 0x9e3779b97f4a7c15ull ^ fnv1a(name) ^ (stream + 1) * 0xd1b54a32d192ed03ull) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) {
    const float u = static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    return lo + (hi - lo) * u;
  }
  std::vector<float> fill(std::size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (float& x : v) x = uniform(lo, hi);
    return v;
  }

 private:
  std::uint64_t state_;
};

std::size_t count(const tensor_shape& s) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < s.rank(); ++i)
    n *= static_cast<std::size_t>(s[static_cast<std::ptrdiff_t>(i)]);
  return n;
}

dim last_dim(const tensor_shape& s) { return s.rank() == 0 ? 1 : s[-1]; }

// Sizes of a node's parameters (0 = field unused).
struct param_sizes {
  std::size_t filter = 0;
  std::size_t bias = 0;
  std::size_t channels = 0;  // bn
  std::size_t fan_in = 1;
};

bool kind_has_params(op_kind k) {
  switch (k) {
    case op_kind::conv:
    case op_kind::dwconv:
    case op_kind::conv_transpose:
    case op_kind::fc:
    case op_kind::bn:
    case op_kind::prelu:
    case op_kind::bias_add:
    case op_kind::constant:
      return true;
    default:
      return false;
  }
}

// Requires a node already checked by check_node (shapes known, ranks right).
param_sizes sizes_of(const node& n) {
  param_sizes p;
  const tensor_shape& out = n.output_shapes[0];
  const auto kh = static_cast<std::size_t>(n.attrs.kernel[0]);
  const auto kw = static_cast<std::size_t>(n.attrs.kernel[1]);
  switch (n.op) {
    case op_kind::conv:
    case op_kind::conv_transpose: {
      const auto cin = static_cast<std::size_t>(n.input_shapes[0][3]);
      const auto cout = static_cast<std::size_t>(out[3]);
      const auto g = static_cast<std::size_t>(n.attrs.groups);
      p.filter = cout * kh * kw * (cin / g);
      p.bias = n.attrs.has_bias ? cout : 0;
      p.fan_in = kh * kw * (cin / g);
      break;
    }
    case op_kind::dwconv: {
      const auto cout = static_cast<std::size_t>(out[3]);
      p.filter = kh * kw * cout;
      p.bias = n.attrs.has_bias ? cout : 0;
      p.fan_in = kh * kw;
      break;
    }
    case op_kind::fc: {
      const auto cin = static_cast<std::size_t>(last_dim(n.input_shapes[0]));
      const auto cout = static_cast<std::size_t>(last_dim(out));
      p.filter = cout * cin;
      p.bias = n.attrs.has_bias ? cout : 0;
      p.fan_in = cin;
      break;
    }
    case op_kind::bn:
      p.channels = static_cast<std::size_t>(last_dim(out));
      break;
    case op_kind::prelu:
      p.filter = static_cast<std::size_t>(last_dim(out));
      break;
    case op_kind::bias_add:
      p.bias = static_cast<std::size_t>(last_dim(out));
      break;
    case op_kind::constant:
      p.filter = count(out);
      break;
    default:
      break;
  }
  return p;
}

// attrs.extra holds JSON text; read a number ("1e-3") or the first number of an array ("[2]").
bool extra_number(const attributes& a, const char* key, double& out) {
  const std::string* t = a.find_extra(key);
  if (!t) return false;
  const char* p = t->c_str();
  while (*p == '[' || *p == ' ') ++p;
  char* end = nullptr;
  const double v = std::strtod(p, &end);
  if (end == p) return false;
  out = v;
  return true;
}

bool extra_contains(const attributes& a, const char* key, const char* word) {
  const std::string* t = a.find_extra(key);
  return t && t->find(word) != std::string::npos;
}

node_params generate(const node& n, std::uint64_t seed) {
  const param_sizes s = sizes_of(n);
  node_params p;
  const std::string key = std::string(to_string(n.op)) + "/" + n.name;
  if (n.op == op_kind::bn) {
    p.gamma = rng(seed, key, 0).fill(s.channels, 0.5f, 1.5f);
    p.beta = rng(seed, key, 1).fill(s.channels, -0.2f, 0.2f);
    p.mean = rng(seed, key, 2).fill(s.channels, -0.2f, 0.2f);
    p.var = rng(seed, key, 3).fill(s.channels, 0.5f, 1.5f);
    // The ONNX importer keeps BatchNormalization's epsilon in attrs.alpha; other sources may
    // leave it in attrs.extra["epsilon"].
    double eps = 0;
    if (n.attrs.alpha > 0.0f)
      p.epsilon = n.attrs.alpha;
    else if (extra_number(n.attrs, "epsilon", eps) && eps >= 0)
      p.epsilon = static_cast<float>(eps);
    return p;
  }
  float lo = -1.0f;
  float hi = 1.0f;
  if (n.op == op_kind::prelu) {
    lo = 0.0f;
    hi = 0.5f;
  } else if (n.op == op_kind::constant) {
    lo = 0.5f;  // positive and away from 0: safe as a divisor
    hi = 1.5f;
  } else {
    hi = std::sqrt(6.0f / static_cast<float>(s.fan_in));  // He-uniform
    lo = -hi;
  }
  p.filter = rng(seed, key, 0).fill(s.filter, lo, hi);
  p.bias = rng(seed, key, 1).fill(s.bias, -0.1f, 0.1f);
  if (n.op == op_kind::constant) {
    // nn-Meter IR keeps a constant's values in attrs.extra["constant"] (JSON numbers): use them
    // when they fill the tensor (or are one value to repeat).
    if (const std::string* t = n.attrs.find_extra("constant")) {
      std::vector<float> v;
      const char* q = t->c_str();
      while (*q) {
        if (*q == '[' || *q == ']' || *q == ',' || *q == ' ' || *q == '\n') {
          ++q;
          continue;
        }
        char* end = nullptr;
        const double d = std::strtod(q, &end);
        if (end == q) {
          v.clear();
          break;
        }
        v.push_back(static_cast<float>(d));
        q = end;
      }
      if (v.size() == p.filter.size())
        p.filter = v;
      else if (v.size() == 1)
        std::fill(p.filter.begin(), p.filter.end(), v[0]);
    }
  }
  return p;
}

void check_given(const node& n, const node_params& p) {
  const param_sizes s = sizes_of(n);
  auto expect = [&](const char* field, std::size_t got, std::size_t want) {
    if (got != want)
      throw std::invalid_argument("xnnpack executor: params of node '" + n.name + "' (" +
                                  op_text(n) + "): " + field + " has " + std::to_string(got) +
                                  " values, expected " + std::to_string(want));
  };
  if (n.op == op_kind::bn) {
    expect("gamma", p.gamma.size(), s.channels);
    expect("beta", p.beta.size(), s.channels);
    expect("mean", p.mean.size(), s.channels);
    expect("var", p.var.size(), s.channels);
    if (!(p.epsilon >= 0.0f))
      throw std::invalid_argument("xnnpack executor: params of node '" + n.name +
                                  "': epsilon must be >= 0");
    return;
  }
  expect("filter", p.filter.size(), s.filter);
  expect("bias", p.bias.size(), s.bias);
}

// Source operator types of op_kind::other that map onto an XNNPACK node one to one.
enum class other_kind { none, abs, neg, sqrt, square, floor, ceil, round, max, min, sqdiff };

other_kind other_of(const node& n) {
  if (n.op != op_kind::other) return other_kind::none;
  const std::string& t = n.type;
  if (t == "Abs") return other_kind::abs;
  if (t == "Neg") return other_kind::neg;
  if (t == "Sqrt") return other_kind::sqrt;
  if (t == "Square") return other_kind::square;
  if (t == "Floor") return other_kind::floor;
  if (t == "Ceil") return other_kind::ceil;
  if (t == "Round") return other_kind::round;  // half to even, as ONNX and TensorFlow round
  if (t == "Max" || t == "Maximum") return other_kind::max;
  if (t == "Min" || t == "Minimum") return other_kind::min;
  if (t == "SquaredDifference") return other_kind::sqdiff;
  return other_kind::none;
}
bool other_is_binary(other_kind k) {
  return k == other_kind::max || k == other_kind::min || k == other_kind::sqdiff;
}

// ---------------------------------------------------------------------------- planning

enum class step_kind { segment, concat, split, slice, shuffle };

struct step_plan {
  step_kind kind = step_kind::segment;
  std::vector<node_index> nodes;  // one node for glue steps
};

// Pads {top, bottom, left, right} of a windowed node, resolved from its mode and checked
// against its output size; ceil_mode pooling gets the extra bottom/right padding it implies.
std::array<dim, 4> window_pads(const node& n, const tensor_shape& in, const tensor_shape& out,
                               dim dil_h, dim dil_w) {
  const attributes& a = n.attrs;
  std::array<dim, 4> p = a.pads;
  const dim ins[2] = {in[1], in[2]};
  const dim outs[2] = {out[1], out[2]};
  const dim dil[2] = {dil_h, dil_w};
  for (int ax = 0; ax < 2; ++ax) {
    const dim k = a.kernel[static_cast<std::size_t>(ax)];
    const dim s = a.strides[static_cast<std::size_t>(ax)];
    const dim extent = dil[ax] * (k - 1) + 1;
    dim& pb = p[static_cast<std::size_t>(2 * ax)];
    dim& pe = p[static_cast<std::size_t>(2 * ax + 1)];
    if (a.padding == padding_mode::valid) {
      pb = pe = 0;
    } else if (a.padding == padding_mode::same || a.padding == padding_mode::same_lower) {
      const dim total = std::max<dim>(0, (outs[ax] - 1) * s + extent - ins[ax]);
      pb = a.padding == padding_mode::same ? total / 2 : total - total / 2;
      pe = total - pb;
    }
    if (pb < 0 || pe < 0) cannot(n, "negative padding");
    const dim padded = ins[ax] + pb + pe;
    if (padded < extent) cannot(n, "the window is larger than the padded input");
    dim got = (padded - extent) / s + 1;
    if (a.ceil_mode && got < outs[ax]) {
      pe += (outs[ax] - 1) * s + extent - padded;  // windows running past the end
      got = outs[ax];
    }
    if (got != outs[ax])
      throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                        " does not follow from input " + shape_text(in) + " with kernel " +
                        std::to_string(k) + ", stride " + std::to_string(s) + " and pads " +
                        std::to_string(pb) + " + " + std::to_string(pe));
  }
  return p;
}

}  // namespace

// ================================================================================== impl

struct executor::impl {
  struct tensor {
    tensor_shape shape;
    node_index producer = 0;
    int step = -1;  // producing step; -1 for graph inputs and constants
    bool constant = false;
    bool needs_buffer = false;
  };
  struct step {
    step_kind kind = step_kind::segment;
    xnn_runtime_t runtime = nullptr;
    std::vector<xnn_operator_t> ops;
  };

  const graph* src = nullptr;  // only during construction
  executor_options opts;
  std::vector<std::size_t> tid_base;  // first tensor id of each node
  std::vector<tensor> tensors;
  std::vector<int> canon;                   // tensor id -> canonical tensor id (aliases resolved)
  std::vector<std::vector<float>> buffers;  // by canonical tensor id; empty when internal
  std::deque<std::vector<float>> statics;   // folded weights, scalars: alive with the runtimes
  std::unordered_map<std::string, node_params> params;
  std::vector<bool> folded;           // bn nodes folded into their producer
  std::vector<node_index> fold_into;  // conv/dwconv/fc index -> bn folded into it (or npos)
  std::vector<std::string> folded_names;
  std::vector<step_plan> plans;
  std::vector<step> steps;
  std::size_t xnn_nodes = 0;

  struct io {
    int tid;
    tensor_shape shape;
    std::string name;
  };
  std::vector<io> inputs;
  std::vector<io> outputs;

  ~impl() {
    for (step& s : steps) {
      if (s.runtime) xnn_delete_runtime(s.runtime);
      for (xnn_operator_t op : s.ops)
        if (op) xnn_delete_operator(op);
    }
  }

  int tid(tensor_ref r) const { return static_cast<int>(tid_base[r.node] + r.output); }
  int ctid(tensor_ref r) const { return canon[static_cast<std::size_t>(tid(r))]; }
  float* buf(int t) { return buffers[static_cast<std::size_t>(t)].data(); }

  // ------------------------------------------------------------------ checks
  void check_node(const node& n) {
    if (n.elem != dtype::f32)
      cannot(n, "element type " + std::string(to_string(n.elem)) +
                    " (the executor runs float32 graphs only)");
    auto check_shape = [&](const tensor_shape& s, const char* what) {
      for (std::size_t i = 0; i < s.rank(); ++i) {
        const dim d = s[static_cast<std::ptrdiff_t>(i)];
        if (d == tensor_shape::unknown)
          throw graph_error("xnnpack executor: node '" + n.name + "' has an unknown (-1) " + what +
                            " dimension in " + shape_text(s) +
                            "; give the graph static shapes first");
        if (d <= 0)
          throw graph_error("xnnpack executor: node '" + n.name + "' has a zero-sized " + what +
                            " dimension in " + shape_text(s) + "; empty tensors cannot run");
      }
      if (s.rank() > XNN_MAX_TENSOR_DIMS)
        cannot(n, std::string(what) + " shape " + shape_text(s) + " has rank " +
                      std::to_string(s.rank()) + "; XNNPACK supports at most " +
                      std::to_string(XNN_MAX_TENSOR_DIMS));
    };
    if (n.output_shapes.empty())
      throw graph_error("xnnpack executor: node '" + n.name + "' has no output shape");
    for (const tensor_shape& s : n.output_shapes) check_shape(s, "output");
    if (n.input_shapes.size() < n.inputs.size())
      throw graph_error("xnnpack executor: node '" + n.name + "' lacks input shapes");
    for (const tensor_shape& s : n.input_shapes) check_shape(s, "input");
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const node& p = (*src)[n.inputs[i].node];
      if (p.output_shapes[n.inputs[i].output] != n.input_shapes[i])
        throw graph_error("xnnpack executor: node '" + n.name + "' declares input " +
                          std::to_string(i) + " as " + shape_text(n.input_shapes[i]) + " but '" +
                          p.name + "' produces " + shape_text(p.output_shapes[n.inputs[i].output]));
    }
    const tensor_shape& out = n.output_shapes[0];
    auto need_inputs = [&](std::size_t k) {
      if (n.inputs.size() != k)
        cannot(n, "expects " + std::to_string(k) + " data operand(s), has " +
                      std::to_string(n.inputs.size()));
    };
    auto need_rank4 = [&]() {
      if (n.input_shapes[0].rank() != 4 || out.rank() != 4)
        cannot(n, "expects rank-4 NHWC tensors, got " + shape_text(n.input_shapes[0]) + " -> " +
                      shape_text(out));
    };
    auto same_shape = [&]() {
      if (n.input_shapes[0] != out)
        throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                          " differs from its input " + shape_text(n.input_shapes[0]));
    };
    auto same_batch_channels = [&]() {
      if (out[0] != n.input_shapes[0][0] || out[3] != n.input_shapes[0][3])
        throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                          " changes the batch or channels of its input " +
                          shape_text(n.input_shapes[0]));
    };
    if (n.output_shapes.size() != 1 && n.op != op_kind::split)
      cannot(n, "has " + std::to_string(n.output_shapes.size()) + " outputs");
    switch (n.op) {
      case op_kind::input:
      case op_kind::constant:
        need_inputs(0);
        break;
      case op_kind::identity:
        need_inputs(1);
        same_shape();
        break;
      case op_kind::conv:
      case op_kind::dwconv:
      case op_kind::conv_transpose: {
        need_inputs(1);
        need_rank4();
        const dim cin = n.input_shapes[0][3];
        const dim g = n.attrs.groups;
        if (!n.attrs.has_window()) cannot(n, "has no kernel size");
        if (n.attrs.strides[0] < 1 || n.attrs.strides[1] < 1 || n.attrs.dilations[0] < 1 ||
            n.attrs.dilations[1] < 1)
          cannot(n, "strides and dilations must be >= 1");
        if (n.op == op_kind::dwconv) {
          if (out[3] % cin != 0)
            cannot(n, "depthwise output channels " + std::to_string(out[3]) +
                          " are not a multiple of the input channels " + std::to_string(cin));
        } else if (g < 1 || cin % g != 0 || out[3] % g != 0) {
          cannot(n, "groups " + std::to_string(g) + " must divide the input (" +
                        std::to_string(cin) + ") and output (" + std::to_string(out[3]) +
                        ") channels");
        }
        if (n.input_shapes[0][0] != out[0])
          throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                            " changes the batch of its input " + shape_text(n.input_shapes[0]));
        break;
      }
      case op_kind::fc: {
        need_inputs(1);
        const tensor_shape& in = n.input_shapes[0];
        if (in.rank() < 1 || out.rank() < 1) cannot(n, "needs rank >= 1 tensors");
        if (count(in) / static_cast<std::size_t>(last_dim(in)) !=
            count(out) / static_cast<std::size_t>(last_dim(out)))
          cannot(n, "input " + shape_text(in) + " and output " + shape_text(out) +
                        " have different row counts");
        break;
      }
      case op_kind::maxpool:
      case op_kind::avgpool:
        need_inputs(1);
        need_rank4();
        if (!n.attrs.has_window()) cannot(n, "has no window size");
        if (n.attrs.strides[0] < 1 || n.attrs.strides[1] < 1) cannot(n, "strides must be >= 1");
        if (n.op == op_kind::avgpool && (n.attrs.dilations[0] != 1 || n.attrs.dilations[1] != 1))
          cannot(n, "dilated average pooling has no XNNPACK operator");
        if (extra_contains(n.attrs, "count_include_pad", "1") ||
            extra_contains(n.attrs, "count_include_pad", "true"))
          cannot(n, "count_include_pad = 1 (XNNPACK averages over the valid elements only)");
        same_batch_channels();
        break;
      case op_kind::global_avgpool:
      case op_kind::global_maxpool:
        need_inputs(1);
        need_rank4();
        same_batch_channels();
        if (out[1] != 1 || out[2] != 1)
          throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                            " of a global pooling must be [N, 1, 1, C]");
        break;
      case op_kind::reduce_mean: {
        need_inputs(1);
        const tensor_shape& in = n.input_shapes[0];
        if (in.rank() != 4 || n.attrs.axes != std::vector<dim>{1, 2})
          cannot(n,
                 "only a mean over H and W (axes {1, 2}) of a rank-4 NHWC tensor runs "
                 "(as global average pooling)");
        if (count(out) != static_cast<std::size_t>(in[0] * in[3]) || last_dim(out) != in[3])
          throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                            " is not the mean over H and W of " + shape_text(in));
        break;
      }
      case op_kind::bn:
      case op_kind::bias_add:
      case op_kind::prelu:
        need_inputs(1);
        same_shape();
        break;
      case op_kind::relu:
      case op_kind::relu6:
      case op_kind::clip:
      case op_kind::sigmoid:
      case op_kind::hswish:
      case op_kind::hsigmoid:
      case op_kind::swish:
      case op_kind::tanh:
      case op_kind::leaky_relu:
      case op_kind::elu:
        need_inputs(1);
        same_shape();
        if (n.op == op_kind::clip && !(n.attrs.clip_min < n.attrs.clip_max))
          cannot(n, "clip bounds must satisfy min < max for XNNPACK's clamp");
        break;
      case op_kind::softmax:
        need_inputs(1);
        same_shape();
        if (n.attrs.axis != static_cast<dim>(out.rank()) - 1 && n.attrs.axis != -1)
          cannot(n, "softmax over axis " + std::to_string(n.attrs.axis) + " of " + shape_text(out) +
                        "; XNNPACK normalises over the last axis only");
        break;
      case op_kind::other:
        if (other_of(n) == other_kind::none) cannot(n, "no XNNPACK node or operator for it");
        if (!other_is_binary(other_of(n))) {
          need_inputs(1);
          same_shape();
          break;
        }
        [[fallthrough]];
      case op_kind::add:
      case op_kind::sub:
      case op_kind::mul:
      case op_kind::div: {
        need_inputs(2);
        const tensor_shape& sa = n.input_shapes[0];
        const tensor_shape& sb = n.input_shapes[1];
        const std::size_t r = std::max(sa.rank(), sb.rank());
        bool ok = out.rank() == r;
        for (std::size_t i = 0; ok && i < r; ++i) {
          const dim da =
              i + sa.rank() >= r ? sa[static_cast<std::ptrdiff_t>(i + sa.rank() - r)] : 1;
          const dim db =
              i + sb.rank() >= r ? sb[static_cast<std::ptrdiff_t>(i + sb.rank() - r)] : 1;
          ok = (da == db || da == 1 || db == 1) &&
               out[static_cast<std::ptrdiff_t>(i)] == std::max(da, db);
        }
        if (!ok)
          throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                            " is not the broadcast of its inputs " + shape_text(sa) + " and " +
                            shape_text(sb));
        break;
      }
      case op_kind::pad:
        need_inputs(1);
        need_rank4();
        if (n.attrs.find_extra("mode") && !extra_contains(n.attrs, "mode", "constant"))
          cannot(n,
                 "padding mode " + *n.attrs.find_extra("mode") + " (only constant padding runs)");
        if (!n.attrs.mode.empty() && n.attrs.mode != "constant")
          cannot(n, "padding mode '" + n.attrs.mode + "' (only constant padding runs)");
        if (out[0] != n.input_shapes[0][0] || out[3] != n.input_shapes[0][3])
          cannot(n, "padding of the batch or channel axis (only H and W padding runs)");
        for (dim v : n.attrs.pads)
          if (v < 0) cannot(n, "negative padding");
        if (out[1] != n.input_shapes[0][1] + n.attrs.pads[0] + n.attrs.pads[1] ||
            out[2] != n.input_shapes[0][2] + n.attrs.pads[2] + n.attrs.pads[3])
          cannot(n, "output shape does not match the pads");
        break;
      case op_kind::reshape:
      case op_kind::flatten:
      case op_kind::squeeze:
      case op_kind::unsqueeze:
        need_inputs(1);
        if (count(n.input_shapes[0]) != count(out)) cannot(n, "changes the element count");
        break;
      case op_kind::transpose: {
        need_inputs(1);
        // Runs only when it moves size-1 axes (a reshape in memory).
        std::vector<dim> order;
        std::vector<bool> seen(n.input_shapes[0].rank(), false);
        if (n.attrs.perm.size() != n.input_shapes[0].rank() || out.rank() != seen.size())
          cannot(n, "perm does not match the rank");
        for (std::size_t i = 0; i < n.attrs.perm.size(); ++i) {
          const dim p = n.attrs.perm[i];
          if (p < 0 || p >= static_cast<dim>(seen.size()) || seen[static_cast<std::size_t>(p)])
            cannot(n, "perm is not a permutation");
          seen[static_cast<std::size_t>(p)] = true;
          if (out[static_cast<std::ptrdiff_t>(i)] != n.input_shapes[0][p])
            throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                              " is not its input permuted");
        }
        for (dim p : n.attrs.perm)
          if (n.input_shapes[0][p] != 1) order.push_back(p);
        if (!std::is_sorted(order.begin(), order.end()))
          cannot(n,
                 "a transpose that moves data (perm of non-unit axes) has no operator in "
                 "this XNNPACK snapshot");
        break;
      }
      case op_kind::resize:
        need_inputs(1);
        need_rank4();
        if (n.attrs.mode != "linear" && n.attrs.mode != "bilinear")
          cannot(n, "resize mode '" + n.attrs.mode +
                        "'; XNNPACK has bilinear resize only in this snapshot");
        same_batch_channels();
        break;
      case op_kind::concat:
      case op_kind::split:
      case op_kind::channel_shuffle:
        if (n.op == op_kind::concat) {
          if (n.inputs.empty()) cannot(n, "has no operands");
        } else {
          need_inputs(1);
        }
        if (n.op == op_kind::channel_shuffle) {
          need_rank4();
          same_shape();
          if (n.attrs.groups < 1 || out[3] % n.attrs.groups != 0)
            cannot(n, "groups must divide the channels");
        } else {
          // The copies are driven by these shapes: they must tile the joined tensor exactly.
          const tensor_shape& whole = n.op == op_kind::concat ? out : n.input_shapes[0];
          const std::vector<tensor_shape> parts =
              n.op == op_kind::concat
                  ? std::vector<tensor_shape>(
                        n.input_shapes.begin(),
                        n.input_shapes.begin() + static_cast<std::ptrdiff_t>(n.inputs.size()))
                  : n.output_shapes;
          const dim ax = n.attrs.axis;
          if (ax < 0 || ax >= static_cast<dim>(whole.rank())) cannot(n, "axis out of range");
          dim sum = 0;
          for (const tensor_shape& part : parts) {
            bool ok = part.rank() == whole.rank();
            for (std::size_t d = 0; ok && d < whole.rank(); ++d)
              ok = static_cast<dim>(d) == ax ||
                   part[static_cast<std::ptrdiff_t>(d)] == whole[static_cast<std::ptrdiff_t>(d)];
            if (!ok)
              throw graph_error("xnnpack executor: node '" + n.name + "': part " +
                                shape_text(part) + " does not match " + shape_text(whole) +
                                " outside axis " + std::to_string(ax));
            sum += part[ax];
          }
          if (sum != whole[ax])
            throw graph_error("xnnpack executor: node '" + n.name + "': the parts' sizes along " +
                              "axis " + std::to_string(ax) + " sum to " + std::to_string(sum) +
                              ", not " + std::to_string(whole[ax]));
        }
        break;
      case op_kind::slice: {
        need_inputs(1);
        const dim r = static_cast<dim>(out.rank());
        double stride = 1;
        extra_number(n.attrs, "steps", stride);
        if (n.attrs.axis < 0 || n.attrs.axis >= r) cannot(n, "axis out of range");
        if (stride != 1) cannot(n, "only slices with step 1 run (copy operator)");
        if (n.input_shapes[0].rank() != out.rank() ||
            out[n.attrs.axis] > n.input_shapes[0][n.attrs.axis])
          throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                            " is no slice of " + shape_text(n.input_shapes[0]));
        if (!n.attrs.find_extra("starts")) cannot(n, "has no 'starts' attribute");
        for (dim d = 0; d < r; ++d)
          if (d != n.attrs.axis && out[d] != n.input_shapes[0][d])
            throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                              " differs from its input " + shape_text(n.input_shapes[0]) +
                              " outside the sliced axis");
        break;
      }
      case op_kind::gelu:
        cannot(n, "XNNPACK of this snapshot has no erf or f32 tanh node to express GELU exactly");
      case op_kind::matmul:
        cannot(n, "a product of two activations has no XNNPACK f32 node in this snapshot");
      default:
        cannot(n, "no XNNPACK node or operator for it");
    }
  }

  // -------------------------------------------------------------- planning
  static bool is_glue(op_kind k) {
    return k == op_kind::concat || k == op_kind::split || k == op_kind::slice ||
           k == op_kind::channel_shuffle;
  }

  void plan(const std::vector<node_index>& order) {
    const graph& gr = *src;
    const std::size_t nn = gr.num_nodes();
    tid_base.assign(nn + 1, 0);
    for (std::size_t i = 0; i < nn; ++i)
      tid_base[i + 1] = tid_base[i] + gr[static_cast<node_index>(i)].output_shapes.size();
    tensors.assign(tid_base[nn], tensor{});
    canon.resize(tensors.size());
    for (std::size_t i = 0; i < nn; ++i) {
      const node& n = gr[static_cast<node_index>(i)];
      for (std::size_t o = 0; o < n.output_shapes.size(); ++o) {
        tensor& t = tensors[tid_base[i] + o];
        t.shape = n.output_shapes[o];
        t.producer = static_cast<node_index>(i);
        t.constant = n.op == op_kind::constant;
        canon[tid_base[i] + o] = static_cast<int>(tid_base[i] + o);
      }
    }
    // bn folding: conv / dwconv / fc whose only consumer is a bn (and not a graph output).
    folded.assign(nn, false);
    fold_into.assign(nn, std::numeric_limits<node_index>::max());
    for (node_index b : order) {
      const node& n = gr[b];
      if (n.op != op_kind::bn) continue;
      const node_index p = n.inputs[0].node;
      const node& pn = gr[p];
      if ((pn.op == op_kind::conv || pn.op == op_kind::dwconv || pn.op == op_kind::fc) &&
          gr.successors(p).size() == 1 && n.output_shapes[0] == pn.output_shapes[0] &&
          fold_into[p] == std::numeric_limits<node_index>::max()) {
        folded[b] = true;
        fold_into[p] = b;
        folded_names.push_back(n.name);
      }
    }
    // Steps, aliases.
    int current = -1;
    for (node_index v : order) {
      const node& n = gr[v];
      const auto t0 = static_cast<std::size_t>(tid_base[v]);
      if (n.op == op_kind::input || n.op == op_kind::constant) continue;
      if (n.op == op_kind::identity) {
        canon[t0] = ctid(n.inputs[0]);
        continue;
      }
      if (folded[v]) {
        canon[t0] = ctid(n.inputs[0]);
        continue;
      }
      if (is_glue(n.op)) {
        step_plan sp;
        sp.kind = n.op == op_kind::concat  ? step_kind::concat
                  : n.op == op_kind::split ? step_kind::split
                  : n.op == op_kind::slice ? step_kind::slice
                                           : step_kind::shuffle;
        sp.nodes.push_back(v);
        plans.push_back(std::move(sp));
        current = -1;
        for (std::size_t o = 0; o < n.output_shapes.size(); ++o) {
          tensors[t0 + o].step = static_cast<int>(plans.size()) - 1;
          tensors[t0 + o].needs_buffer = true;
        }
        for (const tensor_ref& r : n.inputs)
          tensors[static_cast<std::size_t>(ctid(r))].needs_buffer = true;
        continue;
      }
      if (current < 0) {
        plans.emplace_back();
        current = static_cast<int>(plans.size()) - 1;
      }
      plans[static_cast<std::size_t>(current)].nodes.push_back(v);
      tensors[t0].step = current;
      for (const tensor_ref& r : n.inputs) {
        tensor& in = tensors[static_cast<std::size_t>(ctid(r))];
        if (in.step != current) in.needs_buffer = true;  // crosses steps (or a graph input)
      }
    }
    // Graph inputs and outputs.
    for (node_index v = 0; v < nn; ++v) {
      const node& n = gr[v];
      if (n.op == op_kind::input) {
        const int t = static_cast<int>(tid_base[v]);
        tensors[static_cast<std::size_t>(t)].needs_buffer = true;
        inputs.push_back(io{t, n.output_shapes[0], n.name});
      }
      if (n.op == op_kind::constant) tensors[tid_base[v]].needs_buffer = true;
      if (gr.successors(v).empty() && n.op != op_kind::constant) {
        for (std::size_t o = 0; o < n.output_shapes.size(); ++o) {
          const int t = canon[tid_base[v] + o];
          tensors[static_cast<std::size_t>(t)].needs_buffer = true;
          outputs.push_back(io{t, n.output_shapes[o], n.name});
        }
      }
    }
  }

  // ------------------------------------------------------------- memory estimate
  void check_memory() {
    // Long double throughout: absurd shapes must give a clear error, not a wrapped product.
    auto elems = [](const tensor_shape& s) {
      long double n = 1;
      for (std::size_t i = 0; i < s.rank(); ++i)
        n *= static_cast<long double>(s[static_cast<std::ptrdiff_t>(i)]);
      return n;
    };
    long double acts = 0;
    long double weights = 0;
    long double indirection = 0;  // XNNPACK's per-window pointer tables (conv, dwconv, pools)
    for (const node& n : src->nodes()) {
      for (const tensor_shape& s : n.output_shapes) acts += elems(s);
      const tensor_shape& out = n.output_shapes[0];
      const long double cout = static_cast<long double>(last_dim(out));
      const long double cin =
          n.input_shapes.empty() ? 1.0L : static_cast<long double>(last_dim(n.input_shapes[0]));
      const long double window =
          static_cast<long double>(n.attrs.kernel[0]) * static_cast<long double>(n.attrs.kernel[1]);
      const long double groups = static_cast<long double>(n.attrs.groups);
      switch (n.op) {
        case op_kind::conv:
        case op_kind::conv_transpose:
          weights += cout * window * (cin / groups) + cout;
          break;
        case op_kind::dwconv:
          weights += window * cout + cout;
          break;
        case op_kind::fc:
          weights += cout * cin + cout;
          break;
        case op_kind::bn:
          weights += 4.0L * cout;
          break;
        case op_kind::prelu:
        case op_kind::bias_add:
          weights += cout;
          break;
        case op_kind::constant:
          weights += elems(out);
          break;
        default:
          break;
      }
      if (is_windowed(n.op) && out.rank() == 4) {
        const long double pixels =
            n.op == op_kind::conv_transpose ? elems(n.input_shapes[0]) / cin : elems(out) / cout;
        indirection += pixels * window * static_cast<long double>(sizeof(void*));
      }
    }
    // Activations once (buffers or XNNPACK's arena), weights as generated, folded and packed.
    const long double bytes = 4.0L * (acts + 3.0L * weights) + indirection;
    if (bytes > static_cast<long double>(opts.memory_cap_bytes)) {
      auto mib = [](long double b) {
        if (b > 1e18L) return std::string("more than 10^12");
        return std::to_string(static_cast<unsigned long long>(b / 1048576.0L));
      };
      throw graph_error("xnnpack executor: the graph needs about " + mib(bytes) +
                        " MiB (activations " + mib(4.0L * acts) + " MiB, weights " +
                        mib(4.0L * weights) + " MiB x3 for folding and packing, window tables " +
                        mib(indirection) + " MiB), over the memory cap of " +
                        mib(static_cast<long double>(opts.memory_cap_bytes)) +
                        " MiB (executor_options::memory_cap_bytes)");
    }
  }

  // ------------------------------------------------------------- parameters
  void make_params() {
    for (const node& n : src->nodes()) {
      if (!kind_has_params(n.op)) continue;
      const auto it = opts.params.find(n.name);
      if (it != opts.params.end()) {
        check_given(n, it->second);
        params.emplace(n.name, it->second);
      } else {
        params.emplace(n.name, generate(n, opts.seed));
      }
    }
    for (const auto& kv : opts.params)
      if (!src->find(kv.first))
        throw std::invalid_argument("xnnpack executor: params given for node '" + kv.first +
                                    "', which is not in the graph");
  }

  void make_buffers() {
    buffers.resize(tensors.size());
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      if (!tensors[t].needs_buffer || canon[t] != static_cast<int>(t)) continue;
      buffers[t].assign(count(tensors[t].shape) + extra_floats, 0.0f);
      const node& n = (*src)[tensors[t].producer];
      if (n.op == op_kind::constant) {
        const std::vector<float>& v = params.at(n.name).filter;
        std::copy(v.begin(), v.end(), buffers[t].begin());
      } else if (n.op == op_kind::input) {
        rng r(opts.seed, "input/" + n.name, 0);
        const std::size_t c = count(tensors[t].shape);
        for (std::size_t i = 0; i < c; ++i) buffers[t][i] = r.uniform(-1.0f, 1.0f);
      }
    }
  }

  // ------------------------------------------------------------- segments
  struct seg {
    xnn_subgraph_t sg = nullptr;
    std::unordered_map<int, std::uint32_t> value;  // canonical tid -> value id
    std::unordered_map<int, std::uint32_t> ext;    // canonical tid -> external id
    std::vector<xnn_external_value> externals;
    ~seg() {
      if (sg) xnn_delete_subgraph(sg);
    }
  };

  static std::vector<std::size_t> dims_of(const tensor_shape& s) {
    std::vector<std::size_t> d(s.rank());
    for (std::size_t i = 0; i < s.rank(); ++i)
      d[i] = static_cast<std::size_t>(s[static_cast<std::ptrdiff_t>(i)]);
    return d;
  }

  std::uint32_t define(seg& sc, const node& n, const tensor_shape& s, const float* data,
                       std::uint32_t ext_id, std::uint32_t flags) {
    const std::vector<std::size_t> d = dims_of(s);
    std::uint32_t id = XNN_INVALID_VALUE_ID;
    check_xnn(xnn_define_tensor_value(sc.sg, xnn_datatype_fp32, d.size(), d.data(), data, ext_id,
                                      flags, &id),
              n, "xnn_define_tensor_value");
    return id;
  }
  std::uint32_t temp(seg& sc, const node& n, const tensor_shape& s) {
    return define(sc, n, s, nullptr, XNN_INVALID_VALUE_ID, 0);
  }
  std::uint32_t static_value(seg& sc, const node& n, std::vector<float> data,
                             const tensor_shape& s) {
    data.resize(data.size() + extra_floats, 0.0f);
    statics.push_back(std::move(data));
    return define(sc, n, s, statics.back().data(), XNN_INVALID_VALUE_ID, 0);
  }
  std::uint32_t scalar(seg& sc, const node& n, float v) {
    return static_value(sc, n, {v}, tensor_shape{1});
  }
  std::uint32_t in_value(seg& sc, const node& n, tensor_ref r) {
    const int t = ctid(r);
    const auto it = sc.value.find(t);
    if (it != sc.value.end()) return it->second;
    std::uint32_t id = 0;
    const tensor& ti = tensors[static_cast<std::size_t>(t)];
    if (ti.constant) {
      id = define(sc, n, ti.shape, buf(t), XNN_INVALID_VALUE_ID, 0);
    } else {
      const auto e = sc.ext.find(t);
      if (e == sc.ext.end())
        throw std::logic_error("xnnpack executor: tensor of '" + (*src)[ti.producer].name +
                               "' is not available to node '" + n.name + "'");
      id = define(sc, n, ti.shape, nullptr, e->second, XNN_VALUE_FLAG_EXTERNAL_INPUT);
    }
    sc.value.emplace(t, id);
    return id;
  }
  std::uint32_t out_value(seg& sc, const node& n, std::size_t output = 0) {
    const int t = canon[tid_base[sc_node_index(n)] + output];
    const tensor& ti = tensors[static_cast<std::size_t>(t)];
    const auto e = sc.ext.find(t);
    std::uint32_t id = 0;
    if (e != sc.ext.end())
      id = define(sc, n, ti.shape, nullptr, e->second, XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    else
      id = temp(sc, n, ti.shape);
    sc.value[t] = id;
    return id;
  }
  node_index sc_node_index(const node& n) const { return *src->find(n.name); }

  void build_segment(const step_plan& sp, step& st) {
    seg sc;
    // External values: inputs from other steps, outputs other steps or the user read.
    std::vector<int> ext_in;
    std::vector<int> ext_out;
    const int me = static_cast<int>(&sp - plans.data());
    for (node_index v : sp.nodes) {
      const node& n = (*src)[v];
      for (const tensor_ref& r : n.inputs) {
        const int t = ctid(r);
        const tensor& ti = tensors[static_cast<std::size_t>(t)];
        if (ti.step != me && !ti.constant &&
            std::find(ext_in.begin(), ext_in.end(), t) == ext_in.end())
          ext_in.push_back(t);
      }
      const int t = canon[tid_base[v]];
      const tensor& to = tensors[static_cast<std::size_t>(t)];
      if (to.needs_buffer && to.step == me) ext_out.push_back(t);
    }
    const auto n_ext = static_cast<std::uint32_t>(ext_in.size() + ext_out.size());
    const node& first = (*src)[sp.nodes.front()];
    check_xnn(xnn_create_subgraph(n_ext, 0, &sc.sg), first, "xnn_create_subgraph");
    std::uint32_t next = 0;
    for (int t : ext_in) {
      sc.ext.emplace(t, next++);
      sc.externals.push_back(xnn_external_value{sc.ext[t], buf(t)});
    }
    for (int t : ext_out) {
      sc.ext.emplace(t, next++);
      sc.externals.push_back(xnn_external_value{sc.ext[t], buf(t)});
    }
    for (node_index v : sp.nodes) lower(sc, v);
    xnn_runtime_t rt = nullptr;
    const node& last = (*src)[sp.nodes.back()];
    const xnn_status s = xnn_create_runtime_v2(sc.sg, nullptr, 0, &rt);
    if (s != xnn_status_success)
      throw unsupported_error("cannot execute: XNNPACK could not create the runtime for nodes '" +
                              first.name + "' .. '" + last.name +
                              "' (xnn_create_runtime_v2: " + status_text(s) + ")");
    st.runtime = rt;
    const xnn_status s2 = xnn_setup_runtime(rt, sc.externals.size(), sc.externals.data());
    if (s2 != xnn_status_success)
      throw unsupported_error("cannot execute: XNNPACK could not set up the runtime for nodes '" +
                              first.name + "' .. '" + last.name +
                              "' (xnn_setup_runtime: " + status_text(s2) + ")");
  }

  // Lowers one node into the segment's subgraph.
  void lower(seg& sc, node_index v) {
    const node& n = (*src)[v];
    const attributes& a = n.attrs;
    const tensor_shape& out = n.output_shapes[0];
    xnn_subgraph_t sg = sc.sg;
    auto count_node = [&](xnn_status s, const char* call) {
      check_xnn(s, n, call);
      ++xnn_nodes;
    };
    switch (n.op) {
      case op_kind::conv:
      case op_kind::dwconv:
      case op_kind::fc: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        std::vector<float> w = params.at(n.name).filter;
        std::vector<float> b = params.at(n.name).bias;
        const std::size_t cout = static_cast<std::size_t>(last_dim(out));
        const float lo = -inf;
        const float hi = inf;
        const node* outn = &n;
        if (fold_into[v] != std::numeric_limits<node_index>::max()) {
          const node& bn = (*src)[fold_into[v]];
          const node_params& bp = params.at(bn.name);
          if (b.empty()) b.assign(cout, 0.0f);
          const std::size_t per = w.size() / cout;
          for (std::size_t c = 0; c < cout; ++c) {
            const float scale = bp.gamma[c] / std::sqrt(bp.var[c] + bp.epsilon);
            if (n.op == op_kind::dwconv) {  // filter [1, KH, KW, Cout]: channel is innermost
              for (std::size_t k = 0; k < per; ++k) w[k * cout + c] *= scale;
            } else {  // [Cout, ...]: channel is outermost
              for (std::size_t k = 0; k < per; ++k) w[c * per + k] *= scale;
            }
            b[c] = (b[c] - bp.mean[c]) * scale + bp.beta[c];
          }
          outn = &bn;
        }
        // A conv with groups == input channels is a depthwise convolution (as converters emit
        // it): run it as one, with the filter [Cout, KH, KW, 1] relaid to [1, KH, KW, Cout].
        const bool as_dw = n.op == op_kind::dwconv || (n.op == op_kind::conv && a.groups > 1 &&
                                                       a.groups == n.input_shapes[0][3]);
        if (n.op == op_kind::conv && as_dw) {
          const std::size_t per = w.size() / cout;
          std::vector<float> t(w.size());
          for (std::size_t c = 0; c < cout; ++c)
            for (std::size_t k = 0; k < per; ++k) t[k * cout + c] = w[c * per + k];
          w.swap(t);
        }
        tensor_shape fshape;
        if (n.op == op_kind::conv && !as_dw) {
          fshape = {out[3], a.kernel[0], a.kernel[1], n.input_shapes[0][3] / a.groups};
        } else if (as_dw) {
          fshape = {1, a.kernel[0], a.kernel[1], out[3]};
        } else {
          fshape = {static_cast<dim>(cout), last_dim(n.input_shapes[0])};
        }
        const std::uint32_t fw = static_value(sc, n, std::move(w), fshape);
        const std::uint32_t fb =
            b.empty() ? XNN_INVALID_VALUE_ID
                      : static_value(sc, n, std::move(b), tensor_shape{static_cast<dim>(cout)});
        const std::uint32_t y = out_value(sc, *outn);
        if (n.op == op_kind::fc) {
          const std::uint32_t flags =
              out.rank() == 2 && n.input_shapes[0].rank() != 2 ? XNN_FLAG_TENSORFLOW_RESHAPE_2D : 0;
          count_node(xnn_define_fully_connected(sg, lo, hi, x, fw, fb, y, flags),
                     "xnn_define_fully_connected");
          break;
        }
        const std::array<dim, 4> p =
            window_pads(n, n.input_shapes[0], out, a.dilations[0], a.dilations[1]);
        const auto u = [](dim d) { return static_cast<std::uint32_t>(d); };
        if (!as_dw) {
          const dim g = a.groups;
          count_node(xnn_define_convolution_2d(
                         sg, u(p[0]), u(p[3]), u(p[1]), u(p[2]), u(a.kernel[0]), u(a.kernel[1]),
                         u(a.strides[0]), u(a.strides[1]), u(a.dilations[0]), u(a.dilations[1]),
                         u(g), static_cast<std::size_t>(n.input_shapes[0][3] / g),
                         static_cast<std::size_t>(out[3] / g), lo, hi, x, fw, fb, y, 0),
                     "xnn_define_convolution_2d");
        } else {
          const dim cin = n.input_shapes[0][3];
          count_node(xnn_define_depthwise_convolution_2d(
                         sg, u(p[0]), u(p[3]), u(p[1]), u(p[2]), u(a.kernel[0]), u(a.kernel[1]),
                         u(a.strides[0]), u(a.strides[1]), u(a.dilations[0]), u(a.dilations[1]),
                         u(out[3] / cin), static_cast<std::size_t>(cin), lo, hi, x, fw, fb, y, 0),
                     "xnn_define_depthwise_convolution_2d");
        }
        break;
      }
      case op_kind::conv_transpose: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const node_params& pp = params.at(n.name);
        const dim g = a.groups;
        const dim cin = n.input_shapes[0][3];
        const std::uint32_t fw =
            static_value(sc, n, pp.filter, tensor_shape{out[3], a.kernel[0], a.kernel[1], cin / g});
        const std::uint32_t fb = pp.bias.empty()
                                     ? XNN_INVALID_VALUE_ID
                                     : static_value(sc, n, pp.bias, tensor_shape{out[3]});
        double oph = 0;
        double opw = 0;
        if (const std::string* t = a.find_extra("output_padding")) {
          if (std::sscanf(t->c_str(), " [ %lf , %lf ]", &oph, &opw) != 2)
            cannot(n, "cannot read output_padding " + *t);
        }
        const std::array<dim, 4>& p = a.pads;
        const dim adj[2] = {static_cast<dim>(oph), static_cast<dim>(opw)};
        for (int ax = 0; ax < 2; ++ax) {
          const auto k = static_cast<std::size_t>(ax);
          const dim extent = a.dilations[k] * (a.kernel[k] - 1) + 1;
          const dim want = a.strides[k] * (n.input_shapes[0][ax + 1] - 1) + adj[ax] + extent -
                           p[2 * k] - p[2 * k + 1];
          if (want != out[ax + 1])
            throw graph_error("xnnpack executor: node '" + n.name + "': output " + shape_text(out) +
                              " does not follow from its pads and strides");
        }
        const auto u = [](dim d) { return static_cast<std::uint32_t>(d); };
        const std::uint32_t y = out_value(sc, n);
        count_node(xnn_define_deconvolution_2d(
                       sg, u(p[0]), u(p[3]), u(p[1]), u(p[2]), u(adj[0]), u(adj[1]), u(a.kernel[0]),
                       u(a.kernel[1]), u(a.strides[0]), u(a.strides[1]), u(a.dilations[0]),
                       u(a.dilations[1]), u(g), static_cast<std::size_t>(cin / g),
                       static_cast<std::size_t>(out[3] / g), -inf, inf, x, fw, fb, y, 0),
                   "xnn_define_deconvolution_2d");
        break;
      }
      case op_kind::maxpool:
      case op_kind::avgpool: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const dim dh = n.op == op_kind::maxpool ? a.dilations[0] : 1;
        const dim dw = n.op == op_kind::maxpool ? a.dilations[1] : 1;
        const std::array<dim, 4> p = window_pads(n, n.input_shapes[0], out, dh, dw);
        const auto u = [](dim d) { return static_cast<std::uint32_t>(d); };
        const std::uint32_t y = out_value(sc, n);
        if (a.kernel[0] * a.kernel[1] == 1) {
          // XNNPACK rejects 1x1 windows; with stride 1 and no padding the pool is a copy.
          if (a.strides[0] != 1 || a.strides[1] != 1 || p[0] || p[1] || p[2] || p[3])
            cannot(n, "1x1 pooling with stride or padding (XNNPACK rejects 1x1 windows)");
          count_node(xnn_define_clamp(sg, -inf, inf, x, y, 0), "xnn_define_clamp");
        } else if (n.op == op_kind::maxpool) {
          count_node(xnn_define_max_pooling_2d(sg, u(p[0]), u(p[3]), u(p[1]), u(p[2]),
                                               u(a.kernel[0]), u(a.kernel[1]), u(a.strides[0]),
                                               u(a.strides[1]), u(dh), u(dw), -inf, inf, x, y, 0),
                     "xnn_define_max_pooling_2d");
        } else {
          count_node(xnn_define_average_pooling_2d(sg, u(p[0]), u(p[3]), u(p[1]), u(p[2]),
                                                   u(a.kernel[0]), u(a.kernel[1]), u(a.strides[0]),
                                                   u(a.strides[1]), -inf, inf, x, y, 0),
                     "xnn_define_average_pooling_2d");
        }
        break;
      }
      case op_kind::global_avgpool:
      case op_kind::reduce_mean: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const tensor_shape& in = n.input_shapes[0];
        const tensor_shape g4{in[0], 1, 1, in[3]};
        if (out == g4) {
          count_node(xnn_define_global_average_pooling_2d(sg, -inf, inf, x, out_value(sc, n), 0),
                     "xnn_define_global_average_pooling_2d");
        } else {
          const std::uint32_t t = temp(sc, n, g4);
          count_node(xnn_define_global_average_pooling_2d(sg, -inf, inf, x, t, 0),
                     "xnn_define_global_average_pooling_2d");
          reshape(sc, n, t, out_value(sc, n), out);
        }
        break;
      }
      case op_kind::global_maxpool: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const tensor_shape& in = n.input_shapes[0];
        const std::uint32_t y = out_value(sc, n);
        if (in[1] * in[2] == 1) {
          count_node(xnn_define_clamp(sg, -inf, inf, x, y, 0), "xnn_define_clamp");
        } else {
          count_node(xnn_define_max_pooling_2d(sg, 0, 0, 0, 0, static_cast<std::uint32_t>(in[1]),
                                               static_cast<std::uint32_t>(in[2]), 1, 1, 1, 1, -inf,
                                               inf, x, y, 0),
                     "xnn_define_max_pooling_2d");
        }
        break;
      }
      case op_kind::bn: {  // standalone: y = x * scale + shift, per channel (last axis)
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const node_params& bp = params.at(n.name);
        const std::size_t c = bp.gamma.size();
        std::vector<float> scale(c);
        std::vector<float> shift(c);
        for (std::size_t i = 0; i < c; ++i) {
          scale[i] = bp.gamma[i] / std::sqrt(bp.var[i] + bp.epsilon);
          shift[i] = bp.beta[i] - bp.mean[i] * scale[i];
        }
        const tensor_shape cs{static_cast<dim>(c)};
        const std::uint32_t s = static_value(sc, n, std::move(scale), cs);
        const std::uint32_t h = static_value(sc, n, std::move(shift), cs);
        const std::uint32_t t = temp(sc, n, out);
        count_node(xnn_define_multiply2(sg, -inf, inf, x, s, t, 0), "xnn_define_multiply2");
        count_node(xnn_define_add2(sg, -inf, inf, t, h, out_value(sc, n), 0), "xnn_define_add2");
        break;
      }
      case op_kind::bias_add: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const std::uint32_t b =
            static_value(sc, n, params.at(n.name).bias, tensor_shape{last_dim(out)});
        count_node(xnn_define_add2(sg, -inf, inf, x, b, out_value(sc, n), 0), "xnn_define_add2");
        break;
      }
      case op_kind::relu:
      case op_kind::relu6:
      case op_kind::clip: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const float lo = n.op == op_kind::relu ? 0.0f : a.clip_min;
        const float hi = n.op == op_kind::relu ? inf : n.op == op_kind::relu6 ? 6.0f : a.clip_max;
        count_node(xnn_define_clamp(sg, lo, hi, x, out_value(sc, n), 0), "xnn_define_clamp");
        break;
      }
      case op_kind::sigmoid:
        count_node(xnn_define_sigmoid(sg, in_value(sc, n, n.inputs[0]), out_value(sc, n), 0),
                   "xnn_define_sigmoid");
        break;
      case op_kind::hswish:
        count_node(xnn_define_hardswish(sg, in_value(sc, n, n.inputs[0]), out_value(sc, n), 0),
                   "xnn_define_hardswish");
        break;
      case op_kind::hsigmoid: {  // clamp(alpha * x + beta, 0, 1)
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const float alpha = a.alpha == 0.0f && a.beta == 0.0f ? 1.0f / 6.0f : a.alpha;
        const float beta = a.alpha == 0.0f && a.beta == 0.0f ? 0.5f : a.beta;
        const std::uint32_t t = temp(sc, n, out);
        count_node(xnn_define_multiply2(sg, -inf, inf, x, scalar(sc, n, alpha), t, 0),
                   "xnn_define_multiply2");
        count_node(xnn_define_add2(sg, 0.0f, 1.0f, t, scalar(sc, n, beta), out_value(sc, n), 0),
                   "xnn_define_add2");
        break;
      }
      case op_kind::swish: {  // x * sigmoid(x)
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const std::uint32_t t = temp(sc, n, out);
        count_node(xnn_define_sigmoid(sg, x, t, 0), "xnn_define_sigmoid");
        count_node(xnn_define_multiply2(sg, -inf, inf, x, t, out_value(sc, n), 0),
                   "xnn_define_multiply2");
        break;
      }
      case op_kind::tanh: {  // 2 * sigmoid(2x) - 1
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const std::uint32_t t1 = temp(sc, n, out);
        const std::uint32_t t2 = temp(sc, n, out);
        const std::uint32_t t3 = temp(sc, n, out);
        count_node(xnn_define_multiply2(sg, -inf, inf, x, scalar(sc, n, 2.0f), t1, 0),
                   "xnn_define_multiply2");
        count_node(xnn_define_sigmoid(sg, t1, t2, 0), "xnn_define_sigmoid");
        count_node(xnn_define_multiply2(sg, -inf, inf, t2, scalar(sc, n, 2.0f), t3, 0),
                   "xnn_define_multiply2");
        count_node(xnn_define_add2(sg, -inf, inf, t3, scalar(sc, n, -1.0f), out_value(sc, n), 0),
                   "xnn_define_add2");
        break;
      }
      case op_kind::leaky_relu:
        count_node(
            xnn_define_leaky_relu(sg, a.alpha, in_value(sc, n, n.inputs[0]), out_value(sc, n), 0),
            "xnn_define_leaky_relu");
        break;
      case op_kind::elu:
        count_node(xnn_define_elu(sg, a.alpha, in_value(sc, n, n.inputs[0]), out_value(sc, n), 0),
                   "xnn_define_elu");
        break;
      case op_kind::prelu: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        const std::uint32_t s =
            static_value(sc, n, params.at(n.name).filter, tensor_shape{last_dim(out)});
        count_node(xnn_define_prelu(sg, x, s, out_value(sc, n), 0), "xnn_define_prelu");
        break;
      }
      case op_kind::softmax:
        count_node(xnn_define_softmax(sg, in_value(sc, n, n.inputs[0]), out_value(sc, n), 0),
                   "xnn_define_softmax");
        break;
      case op_kind::add:
      case op_kind::sub:
      case op_kind::mul:
      case op_kind::div: {
        const std::uint32_t x0 = in_value(sc, n, n.inputs[0]);
        const std::uint32_t x1 = in_value(sc, n, n.inputs[1]);
        const std::uint32_t y = out_value(sc, n);
        if (n.op == op_kind::add)
          count_node(xnn_define_add2(sg, -inf, inf, x0, x1, y, 0), "xnn_define_add2");
        else if (n.op == op_kind::sub)
          count_node(xnn_define_subtract(sg, -inf, inf, x0, x1, y, 0), "xnn_define_subtract");
        else if (n.op == op_kind::mul)
          count_node(xnn_define_multiply2(sg, -inf, inf, x0, x1, y, 0), "xnn_define_multiply2");
        else
          count_node(xnn_define_divide(sg, -inf, inf, x0, x1, y, 0), "xnn_define_divide");
        break;
      }
      case op_kind::other: {
        const other_kind k = other_of(n);
        const std::uint32_t x0 = in_value(sc, n, n.inputs[0]);
        if (other_is_binary(k)) {
          const std::uint32_t x1 = in_value(sc, n, n.inputs[1]);
          const std::uint32_t y = out_value(sc, n);
          if (k == other_kind::max)
            count_node(xnn_define_maximum2(sg, x0, x1, y, 0), "xnn_define_maximum2");
          else if (k == other_kind::min)
            count_node(xnn_define_minimum2(sg, x0, x1, y, 0), "xnn_define_minimum2");
          else
            count_node(xnn_define_squared_difference(sg, x0, x1, y, 0),
                       "xnn_define_squared_difference");
          break;
        }
        const std::uint32_t y = out_value(sc, n);
        switch (k) {
          case other_kind::abs:
            count_node(xnn_define_abs(sg, x0, y, 0), "xnn_define_abs");
            break;
          case other_kind::neg:
            count_node(xnn_define_negate(sg, x0, y, 0), "xnn_define_negate");
            break;
          case other_kind::sqrt:
            count_node(xnn_define_square_root(sg, x0, y, 0), "xnn_define_square_root");
            break;
          case other_kind::square:
            count_node(xnn_define_square(sg, x0, y, 0), "xnn_define_square");
            break;
          case other_kind::floor:
            count_node(xnn_define_floor(sg, x0, y, 0), "xnn_define_floor");
            break;
          case other_kind::ceil:
            count_node(xnn_define_ceiling(sg, x0, y, 0), "xnn_define_ceiling");
            break;
          default:
            count_node(xnn_define_bankers_rounding(sg, x0, y, 0), "xnn_define_bankers_rounding");
            break;
        }
        break;
      }
      case op_kind::pad: {
        const std::uint32_t x = in_value(sc, n, n.inputs[0]);
        double value = 0;
        extra_number(a, "value", value);
        const std::size_t pre[4] = {0, static_cast<std::size_t>(a.pads[0]),
                                    static_cast<std::size_t>(a.pads[2]), 0};
        const std::size_t post[4] = {0, static_cast<std::size_t>(a.pads[1]),
                                     static_cast<std::size_t>(a.pads[3]), 0};
        count_node(xnn_define_static_constant_pad(sg, pre, post, static_cast<float>(value), x,
                                                  out_value(sc, n), 0),
                   "xnn_define_static_constant_pad");
        break;
      }
      case op_kind::reshape:
      case op_kind::flatten:
      case op_kind::squeeze:
      case op_kind::unsqueeze:
      case op_kind::transpose:
        reshape(sc, n, in_value(sc, n, n.inputs[0]), out_value(sc, n), out);
        break;
      case op_kind::resize: {
        std::uint32_t flags = 0;
        if (extra_contains(a, "coordinate_transformation_mode", "align_corners"))
          flags = XNN_FLAG_ALIGN_CORNERS;
        else if (extra_contains(a, "coordinate_transformation_mode", "asymmetric"))
          flags = XNN_FLAG_TENSORFLOW_LEGACY_MODE;
        count_node(xnn_define_static_resize_bilinear_2d(
                       sg, static_cast<std::size_t>(out[1]), static_cast<std::size_t>(out[2]),
                       in_value(sc, n, n.inputs[0]), out_value(sc, n), flags),
                   "xnn_define_static_resize_bilinear_2d");
        break;
      }
      default:
        cannot(n, "no XNNPACK node for it");
    }
  }

  void reshape(seg& sc, const node& n, std::uint32_t x, std::uint32_t y, const tensor_shape& s) {
    const std::vector<std::size_t> d = dims_of(s);
    check_xnn(xnn_define_static_reshape(sc.sg, d.size(), d.data(), x, y, 0), n,
              "xnn_define_static_reshape");
    ++xnn_nodes;
  }

  // ------------------------------------------------------------- glue operators
  xnn_operator_t copy_op(const node& n, std::size_t channels, std::size_t in_stride,
                         std::size_t out_stride, std::size_t batch, const float* in, float* out) {
    xnn_operator_t op = nullptr;
    check_xnn(xnn_create_copy_nc_x32(channels, in_stride, out_stride, 0, &op), n,
              "xnn_create_copy_nc_x32");
    const xnn_status s = xnn_setup_copy_nc_x32(op, batch, in, out, nullptr);
    if (s != xnn_status_success) {
      xnn_delete_operator(op);
      check_xnn(s, n, "xnn_setup_copy_nc_x32");
    }
    return op;
  }

  // outer = product of the dimensions before `axis`, inner = product from `axis` on.
  static void outer_inner(const tensor_shape& s, dim axis, std::size_t& outer, std::size_t& inner) {
    outer = 1;
    inner = 1;
    for (dim i = 0; i < static_cast<dim>(s.rank()); ++i)
      (i < axis ? outer : inner) *= static_cast<std::size_t>(s[i]);
  }

  void build_glue(const step_plan& sp, step& st) {
    const node_index v = sp.nodes.front();
    const node& n = (*src)[v];
    const dim axis = n.attrs.axis;
    switch (sp.kind) {
      case step_kind::concat: {
        const int yt = canon[tid_base[v]];
        std::size_t outer = 0;
        std::size_t total = 0;
        outer_inner(n.output_shapes[0], axis, outer, total);
        std::size_t offset = 0;
        for (const tensor_ref& r : n.inputs) {
          const int t = ctid(r);
          std::size_t o = 0;
          std::size_t inner = 0;
          outer_inner(tensors[static_cast<std::size_t>(t)].shape, axis, o, inner);
          st.ops.push_back(nullptr);
          st.ops.back() = copy_op(n, inner, inner, total, outer, buf(t), buf(yt) + offset);
          offset += inner;
        }
        break;
      }
      case step_kind::split: {
        const int xt = ctid(n.inputs[0]);
        std::size_t outer = 0;
        std::size_t total = 0;
        outer_inner(n.input_shapes[0], axis, outer, total);
        std::size_t offset = 0;
        for (std::size_t o = 0; o < n.output_shapes.size(); ++o) {
          const int t = canon[tid_base[v] + o];
          std::size_t oo = 0;
          std::size_t inner = 0;
          outer_inner(n.output_shapes[o], axis, oo, inner);
          st.ops.push_back(nullptr);
          st.ops.back() = copy_op(n, inner, total, inner, outer, buf(xt) + offset, buf(t));
          offset += inner;
        }
        break;
      }
      case step_kind::slice: {
        const int xt = ctid(n.inputs[0]);
        const int yt = canon[tid_base[v]];
        const tensor_shape& in = n.input_shapes[0];
        const dim size = in[axis];
        const dim len = n.output_shapes[0][axis];
        double st0 = 0;
        extra_number(n.attrs, "starts", st0);
        dim start = static_cast<dim>(st0);
        if (start < 0) start += size;
        start = std::min(std::max<dim>(start, 0), size);
        if (start + len > size) cannot(n, "slice runs past the end of its axis");
        std::size_t outer = 0;
        std::size_t inner = 0;
        outer_inner(in, axis, outer, inner);
        const std::size_t row = inner / static_cast<std::size_t>(size);  // after the axis
        st.ops.push_back(nullptr);
        st.ops.back() = copy_op(n, static_cast<std::size_t>(len) * row, inner,
                                static_cast<std::size_t>(len) * row, outer,
                                buf(xt) + static_cast<std::size_t>(start) * row, buf(yt));
        break;
      }
      case step_kind::shuffle: {
        const int xt = ctid(n.inputs[0]);
        const int yt = canon[tid_base[v]];
        const tensor_shape& s = n.output_shapes[0];
        const auto c = static_cast<std::size_t>(s[3]);
        const auto groups = static_cast<std::size_t>(n.attrs.groups);
        const std::size_t batch = count(s) / c;
        xnn_operator_t op = nullptr;
        if (groups == 1 || groups == c) {  // the identity permutation
          op = copy_op(n, c, c, c, batch, buf(xt), buf(yt));
        } else {
          check_xnn(xnn_create_channel_shuffle_nc_x32(groups, c / groups, c, c, 0, &op), n,
                    "xnn_create_channel_shuffle_nc_x32");
          st.ops.push_back(op);
          check_xnn(xnn_setup_channel_shuffle_nc_x32(op, batch, buf(xt), buf(yt), nullptr), n,
                    "xnn_setup_channel_shuffle_nc_x32");
          break;
        }
        st.ops.push_back(op);
        break;
      }
      case step_kind::segment:
        break;
    }
  }
};

// ============================================================================== executor

namespace {

// ONNX exports ShuffleNet's channel shuffle as Reshape [N, C, H, W] -> [N, g, C/g, H, W],
// Transpose (0, 2, 1, 3, 4), Reshape back to [N, C, H, W]; imported, the rank-4 ends are NHWC
// and the rank-5 middle keeps the file's order. That transpose moves data, which this XNNPACK
// snapshot cannot do, but the triple as a whole is exactly a channel shuffle with g groups,
// which its operator API has. Returns true and fills `out` (the graph with each such triple
// replaced by one channel_shuffle node named after the last reshape) when there is one.
bool fold_channel_shuffles(const graph& g, graph& out) {
  const std::size_t n = g.num_nodes();
  const auto none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> shuffle_end(n, none);  // first reshape -> last reshape
  std::vector<char> skip(n, 0);
  auto single_successor = [&](node_index v) -> std::size_t {
    const auto succ = g.successors(v);
    if (succ.size() != 1) return none;
    return static_cast<std::size_t>(*succ.begin());
  };
  bool any = false;
  for (std::size_t v = 0; v < n; ++v) {
    const node& r1 = g[static_cast<node_index>(v)];
    if (r1.op != op_kind::reshape || r1.inputs.size() != 1 || r1.input_shapes.size() != 1 ||
        r1.output_shapes.size() != 1)
      continue;
    const tensor_shape& x = r1.input_shapes[0];
    const tensor_shape& m = r1.output_shapes[0];
    if (x.rank() != 4 || m.rank() != 5) continue;
    // x = [N, H, W, C] (NHWC), m = [N, g, C/g, H, W] (file order)
    if (m[0] != x[0] || m[3] != x[1] || m[4] != x[2] || m[1] < 1 || m[1] * m[2] != x[3]) continue;
    const std::size_t t = single_successor(static_cast<node_index>(v));
    if (t == none) continue;
    const node& tr = g[static_cast<node_index>(t)];
    if (tr.op != op_kind::transpose || tr.inputs.size() != 1 ||
        tr.attrs.perm != std::vector<dim>{0, 2, 1, 3, 4})
      continue;
    const std::size_t e = single_successor(static_cast<node_index>(t));
    if (e == none) continue;
    const node& r2 = g[static_cast<node_index>(e)];
    if (r2.op != op_kind::reshape || r2.inputs.size() != 1 || r2.output_shapes.size() != 1 ||
        r2.output_shapes[0] != x)
      continue;
    shuffle_end[v] = e;
    skip[t] = 1;
    skip[e] = 1;
    any = true;
  }
  if (!any) return false;
  std::vector<node_index> new_index(n, 0);
  for (node_index v : g.topological_order()) {
    const std::size_t vi = static_cast<std::size_t>(v);
    if (skip[vi]) continue;
    node nd = g[v];
    if (shuffle_end[vi] != none) {
      const node& last = g[static_cast<node_index>(shuffle_end[vi])];
      nd.name = last.name;
      nd.op = op_kind::channel_shuffle;
      nd.type = "channel_shuffle";
      nd.output_shapes = last.output_shapes;
      nd.attrs = attributes{};
      nd.attrs.groups = g[v].output_shapes[0][1];
    }
    for (tensor_ref& r : nd.inputs) r.node = new_index[static_cast<std::size_t>(r.node)];
    const node_index id = out.add_node(std::move(nd));
    new_index[vi] = id;
    if (shuffle_end[vi] != none) new_index[shuffle_end[vi]] = id;
  }
  return true;
}

}  // namespace

executor::executor(const graph& source, const executor_options& options)
    : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  // Shapes checked against their operators first (nnmeter::validate), then the real operand
  // shapes wherever a file declared others (nn-Meter IR keeps its own for its features).
  nnmeter::validate(source);
  graph real;
  const graph* base = &source;
  if (has_declared_input_shapes(source)) {
    real = source;
    use_operand_shapes(real);
    base = &real;
  }
  graph folded_shuffles;
  const graph& g = fold_channel_shuffles(*base, folded_shuffles) ? folded_shuffles : *base;
  m.src = &g;
  m.opts = options;
  if (g.empty()) throw graph_error("xnnpack executor: the graph is empty");
  g.validate();
  const std::vector<node_index> order = g.topological_order();
  for (node_index v : order) m.check_node(g[v]);
  m.check_memory();
  ensure_xnnpack_initialised();
  m.plan(order);
  m.make_params();
  m.make_buffers();
  m.steps.resize(m.plans.size());
  for (std::size_t i = 0; i < m.plans.size(); ++i) {
    m.steps[i].kind = m.plans[i].kind;
    if (m.plans[i].kind == step_kind::segment)
      m.build_segment(m.plans[i], m.steps[i]);
    else
      m.build_glue(m.plans[i], m.steps[i]);
  }
  m.src = nullptr;
  m.opts.params.clear();
}

executor::executor(executor&&) noexcept = default;
executor& executor::operator=(executor&&) noexcept = default;
executor::~executor() = default;

void executor::invoke() {
  for (impl::step& s : impl_->steps) {
    if (s.runtime) {
      const xnn_status st = xnn_invoke_runtime(s.runtime);
      if (st != xnn_status_success)
        throw std::runtime_error(std::string("xnnpack executor: xnn_invoke_runtime failed: ") +
                                 status_text(st));
    }
    for (xnn_operator_t op : s.ops) {
      const xnn_status st = xnn_run_operator(op, nullptr);
      if (st != xnn_status_success)
        throw std::runtime_error(std::string("xnnpack executor: xnn_run_operator failed: ") +
                                 status_text(st));
    }
  }
}

std::size_t executor::num_inputs() const noexcept { return impl_->inputs.size(); }
float* executor::input(std::size_t i) { return impl_->buf(impl_->inputs.at(i).tid); }
std::size_t executor::input_size(std::size_t i) const { return count(impl_->inputs.at(i).shape); }
const tensor_shape& executor::input_shape(std::size_t i) const { return impl_->inputs.at(i).shape; }
const std::string& executor::input_name(std::size_t i) const { return impl_->inputs.at(i).name; }

std::size_t executor::num_outputs() const noexcept { return impl_->outputs.size(); }
const float* executor::output(std::size_t i) const {
  return impl_->buffers[static_cast<std::size_t>(impl_->outputs.at(i).tid)].data();
}
std::size_t executor::output_size(std::size_t i) const { return count(impl_->outputs.at(i).shape); }
const tensor_shape& executor::output_shape(std::size_t i) const {
  return impl_->outputs.at(i).shape;
}
const std::string& executor::output_name(std::size_t i) const { return impl_->outputs.at(i).name; }

std::size_t executor::num_runtimes() const noexcept {
  std::size_t n = 0;
  for (const impl::step& s : impl_->steps) n += (s.runtime ? 1 : 0) + s.ops.size();
  return n;
}
std::size_t executor::num_xnn_nodes() const noexcept { return impl_->xnn_nodes; }
const std::vector<std::string>& executor::folded_bn() const noexcept { return impl_->folded_names; }

const node_params& executor::params(const std::string& node_name) const {
  const auto it = impl_->params.find(node_name);
  if (it == impl_->params.end())
    throw std::out_of_range("xnnpack executor: node '" + node_name + "' has no parameters");
  return it->second;
}
bool executor::has_params(const std::string& node_name) const {
  return impl_->params.count(node_name) != 0;
}

}  // namespace nnmeter::backends::xnnpack
