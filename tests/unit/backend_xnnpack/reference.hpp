// Test support: a plain-loop reference evaluator of nnmeter graphs (double accumulation),
// independent of XNNPACK, fed with an executor's generated inputs and parameters.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/graph.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "xnnpack/executor.hpp"

namespace nnmeter_test {

using nnmeter::attributes;
using nnmeter::node;
using nnmeter::op_kind;
using nnmeter::tensor_shape;
namespace xnn = nnmeter::backends::xnnpack;
using dim = std::int64_t;

struct ref_tensor {
  tensor_shape shape;
  std::vector<double> v;
};

inline std::size_t elements(const tensor_shape& s) {
  std::size_t n = 1;
  for (dim d : s) n *= static_cast<std::size_t>(d);
  return n;
}

// Row-major strides of a shape.
inline std::vector<std::size_t> strides_of(const tensor_shape& s) {
  std::vector<std::size_t> st(s.rank(), 1);
  for (std::size_t i = s.rank(); i-- > 1;)
    st[i - 1] = st[i] * static_cast<std::size_t>(s[static_cast<std::ptrdiff_t>(i)]);
  return st;
}

inline double read_extra(const attributes& a, const char* key, double fallback) {
  const std::string* t = a.find_extra(key);
  if (!t) return fallback;
  const char* p = t->c_str();
  while (*p == '[' || *p == ' ') ++p;
  return std::strtod(p, nullptr);
}

// Pads of one spatial axis from the padding mode (as TensorFlow / ONNX define them).
inline void ref_pads(const attributes& a, int ax, dim in, dim out, dim dil, dim& pb, dim& pe) {
  const dim k = a.kernel[static_cast<std::size_t>(ax)];
  const dim s = a.strides[static_cast<std::size_t>(ax)];
  const dim extent = dil * (k - 1) + 1;
  switch (a.padding) {
    case nnmeter::padding_mode::valid:
      pb = pe = 0;
      return;
    case nnmeter::padding_mode::explicit_pads:
      pb = a.pads[static_cast<std::size_t>(2 * ax)];
      pe = a.pads[static_cast<std::size_t>(2 * ax + 1)];
      return;
    default: {
      const dim total = std::max<dim>(0, (out - 1) * s + extent - in);
      pb = a.padding == nnmeter::padding_mode::same ? total / 2 : total - total / 2;
      pe = total - pb;
    }
  }
}

class reference {
 public:
  reference(const nnmeter::graph& g, xnn::executor& ex) : g_(g), ex_(ex) {}

  // Evaluates every node; returns the outputs of nodes without successors (constants
  // excepted), in the executor's output order.
  std::vector<ref_tensor> run() {
    vals_.assign(g_.num_nodes(), {});
    std::map<std::string, std::size_t> input_index;
    for (std::size_t i = 0; i < ex_.num_inputs(); ++i) input_index[ex_.input_name(i)] = i;
    for (nnmeter::node_index v : g_.topological_order()) {
      const node& n = g_[v];
      std::vector<ref_tensor>& out = vals_[v];
      out.resize(n.output_shapes.size());
      for (std::size_t o = 0; o < out.size(); ++o) {
        out[o].shape = n.output_shapes[o];
        out[o].v.assign(elements(n.output_shapes[o]), 0.0);
      }
      if (n.op == op_kind::input) {
        const float* p = ex_.input(input_index.at(n.name));
        for (std::size_t i = 0; i < out[0].v.size(); ++i) out[0].v[i] = p[i];
        continue;
      }
      eval(n, out);
    }
    std::vector<ref_tensor> res;
    for (nnmeter::node_index v = 0; v < g_.num_nodes(); ++v) {
      if (!g_.successors(v).empty() || g_[v].op == op_kind::constant) continue;
      for (const ref_tensor& t : vals_[v]) res.push_back(t);
    }
    return res;
  }

 private:
  const ref_tensor& in(const node& n, std::size_t i) const {
    return vals_[n.inputs[i].node][n.inputs[i].output];
  }

  void eval(const node& n, std::vector<ref_tensor>& outs) {
    ref_tensor& y = outs[0];
    const attributes& a = n.attrs;
    switch (n.op) {
      case op_kind::constant: {
        const std::vector<float>& f = ex_.params(n.name).filter;
        for (std::size_t i = 0; i < f.size(); ++i) y.v[i] = f[i];
        return;
      }
      case op_kind::identity:
      case op_kind::reshape:
      case op_kind::flatten:
      case op_kind::squeeze:
      case op_kind::unsqueeze:
        y.v = in(n, 0).v;
        return;
      case op_kind::transpose: {
        const ref_tensor& x = in(n, 0);
        const auto xs = strides_of(x.shape);
        const auto ys = strides_of(y.shape);
        for (std::size_t i = 0; i < y.v.size(); ++i) {
          std::size_t rem = i;
          std::size_t src = 0;
          for (std::size_t d = 0; d < y.shape.rank(); ++d) {
            const std::size_t c = rem / ys[d];
            rem %= ys[d];
            src += c * xs[static_cast<std::size_t>(a.perm[d])];
          }
          y.v[i] = x.v[src];
        }
        return;
      }
      case op_kind::conv:
      case op_kind::dwconv:
        conv(n, y);
        return;
      case op_kind::conv_transpose:
        deconv(n, y);
        return;
      case op_kind::fc: {
        const ref_tensor& x = in(n, 0);
        const xnn::node_params& p = ex_.params(n.name);
        const auto cin = static_cast<std::size_t>(x.shape[-1]);
        const auto cout = static_cast<std::size_t>(y.shape[-1]);
        const std::size_t rows = x.v.size() / cin;
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t o = 0; o < cout; ++o) {
            double s = p.bias.empty() ? 0.0 : p.bias[o];
            for (std::size_t i = 0; i < cin; ++i) s += x.v[r * cin + i] * p.filter[o * cin + i];
            y.v[r * cout + o] = s;
          }
        return;
      }
      case op_kind::maxpool:
      case op_kind::avgpool:
        pool(n, y);
        return;
      case op_kind::global_avgpool:
      case op_kind::global_maxpool:
      case op_kind::reduce_mean: {
        const ref_tensor& x = in(n, 0);
        const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
        for (dim b = 0; b < N; ++b)
          for (dim c = 0; c < C; ++c) {
            double s = 0;
            double m = -std::numeric_limits<double>::infinity();
            for (dim i = 0; i < H * W; ++i) {
              const double v = x.v[static_cast<std::size_t>((b * H * W + i) * C + c)];
              s += v;
              m = std::max(m, v);
            }
            y.v[static_cast<std::size_t>(b * C + c)] =
                n.op == op_kind::global_maxpool ? m : s / static_cast<double>(H * W);
          }
        return;
      }
      case op_kind::bn: {
        const ref_tensor& x = in(n, 0);
        const xnn::node_params& p = ex_.params(n.name);
        const std::size_t C = p.gamma.size();
        for (std::size_t i = 0; i < x.v.size(); ++i) {
          const std::size_t c = i % C;
          y.v[i] = (x.v[i] - p.mean[c]) / std::sqrt(static_cast<double>(p.var[c]) + p.epsilon) *
                       p.gamma[c] +
                   p.beta[c];
        }
        return;
      }
      case op_kind::bias_add: {
        const ref_tensor& x = in(n, 0);
        const std::vector<float>& b = ex_.params(n.name).bias;
        for (std::size_t i = 0; i < x.v.size(); ++i) y.v[i] = x.v[i] + b[i % b.size()];
        return;
      }
      case op_kind::prelu: {
        const ref_tensor& x = in(n, 0);
        const std::vector<float>& s = ex_.params(n.name).filter;
        for (std::size_t i = 0; i < x.v.size(); ++i)
          y.v[i] = x.v[i] < 0 ? x.v[i] * s[i % s.size()] : x.v[i];
        return;
      }
      case op_kind::softmax: {
        const ref_tensor& x = in(n, 0);
        const auto C = static_cast<std::size_t>(x.shape[-1]);
        for (std::size_t r = 0; r < x.v.size() / C; ++r) {
          double m = -std::numeric_limits<double>::infinity();
          for (std::size_t c = 0; c < C; ++c) m = std::max(m, x.v[r * C + c]);
          double s = 0;
          for (std::size_t c = 0; c < C; ++c) s += std::exp(x.v[r * C + c] - m);
          for (std::size_t c = 0; c < C; ++c) y.v[r * C + c] = std::exp(x.v[r * C + c] - m) / s;
        }
        return;
      }
      case op_kind::add:
      case op_kind::sub:
      case op_kind::mul:
      case op_kind::div:
        binary(n, y);
        return;
      case op_kind::other:
        if (n.inputs.size() == 2) {
          binary(n, y);
          return;
        }
        break;
      case op_kind::pad: {
        const ref_tensor& x = in(n, 0);
        const double value = read_extra(a, "value", 0.0);
        std::fill(y.v.begin(), y.v.end(), value);
        const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
        const dim OH = y.shape[1], OW = y.shape[2];
        for (dim b = 0; b < N; ++b)
          for (dim h = 0; h < H; ++h)
            for (dim w = 0; w < W; ++w)
              for (dim c = 0; c < C; ++c)
                y.v[static_cast<std::size_t>(((b * OH + h + a.pads[0]) * OW + w + a.pads[2]) * C +
                                             c)] =
                    x.v[static_cast<std::size_t>(((b * H + h) * W + w) * C + c)];
        return;
      }
      case op_kind::resize:
        resize(n, y);
        return;
      case op_kind::concat: {
        const dim ax = a.axis;
        std::size_t outer = 1;
        for (dim d = 0; d < ax; ++d) outer *= static_cast<std::size_t>(y.shape[d]);
        const std::size_t total = y.v.size() / outer;
        std::size_t off = 0;
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
          const ref_tensor& x = in(n, i);
          const std::size_t inner = x.v.size() / outer;
          for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t k = 0; k < inner; ++k) y.v[o * total + off + k] = x.v[o * inner + k];
          off += inner;
        }
        return;
      }
      case op_kind::split: {
        const ref_tensor& x = in(n, 0);
        const dim ax = a.axis;
        std::size_t outer = 1;
        for (dim d = 0; d < ax; ++d) outer *= static_cast<std::size_t>(x.shape[d]);
        const std::size_t total = x.v.size() / outer;
        std::size_t off = 0;
        for (ref_tensor& o : outs) {
          const std::size_t inner = o.v.size() / outer;
          for (std::size_t r = 0; r < outer; ++r)
            for (std::size_t k = 0; k < inner; ++k) o.v[r * inner + k] = x.v[r * total + off + k];
          off += inner;
        }
        return;
      }
      case op_kind::slice: {
        const ref_tensor& x = in(n, 0);
        const dim ax = a.axis;
        dim start = static_cast<dim>(read_extra(a, "starts", 0));
        if (start < 0) start += x.shape[ax];
        std::size_t outer = 1;
        for (dim d = 0; d < ax; ++d) outer *= static_cast<std::size_t>(x.shape[d]);
        const std::size_t row = x.v.size() / outer / static_cast<std::size_t>(x.shape[ax]);
        const auto len = static_cast<std::size_t>(y.shape[ax]);
        for (std::size_t o = 0; o < outer; ++o)
          for (std::size_t k = 0; k < len * row; ++k)
            y.v[o * len * row + k] =
                x.v[(o * static_cast<std::size_t>(x.shape[ax]) + static_cast<std::size_t>(start)) *
                        row +
                    k];
        return;
      }
      case op_kind::channel_shuffle: {
        const ref_tensor& x = in(n, 0);
        const auto C = static_cast<std::size_t>(x.shape[3]);
        const auto g = static_cast<std::size_t>(a.groups);
        const std::size_t per = C / g;
        for (std::size_t r = 0; r < x.v.size() / C; ++r)
          for (std::size_t gi = 0; gi < g; ++gi)
            for (std::size_t k = 0; k < per; ++k)
              y.v[r * C + k * g + gi] = x.v[r * C + gi * per + k];
        return;
      }
      default:
        break;
    }
    // Unary element-wise.
    const ref_tensor& x = in(n, 0);
    for (std::size_t i = 0; i < x.v.size(); ++i) y.v[i] = unary(n, x.v[i]);
  }

  static double unary(const node& n, double x) {
    const attributes& a = n.attrs;
    switch (n.op) {
      case op_kind::relu:
        return std::max(0.0, x);
      case op_kind::relu6:
        return std::min(6.0, std::max(0.0, x));
      case op_kind::clip:
        return std::min<double>(a.clip_max, std::max<double>(a.clip_min, x));
      case op_kind::sigmoid:
        return 1.0 / (1.0 + std::exp(-x));
      case op_kind::hswish:
        return x * std::min(6.0, std::max(0.0, x + 3.0)) / 6.0;
      case op_kind::hsigmoid:
        return std::min(1.0, std::max(0.0, a.alpha * x + a.beta));
      case op_kind::swish:
        return x / (1.0 + std::exp(-x));
      case op_kind::tanh:
        return std::tanh(x);
      case op_kind::leaky_relu:
        return x < 0 ? a.alpha * x : x;
      case op_kind::elu:
        return x < 0 ? a.alpha * (std::exp(x) - 1.0) : x;
      case op_kind::other:
        if (n.type == "Abs") return std::fabs(x);
        if (n.type == "Neg") return -x;
        if (n.type == "Sqrt") return std::sqrt(x);
        if (n.type == "Square") return x * x;
        if (n.type == "Floor") return std::floor(x);
        if (n.type == "Ceil") return std::ceil(x);
        if (n.type == "Round") return std::nearbyint(x);  // default mode: half to even
        break;
      default:
        break;
    }
    throw std::logic_error("reference: no implementation for node '" + n.name + "'");
  }

  void conv(const node& n, ref_tensor& y) const {
    const ref_tensor& x = in(n, 0);
    const attributes& a = n.attrs;
    const xnn::node_params& p = ex_.params(n.name);
    const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const dim OH = y.shape[1], OW = y.shape[2], CO = y.shape[3];
    const dim KH = a.kernel[0], KW = a.kernel[1];
    const bool dw = n.op == op_kind::dwconv;
    const dim G = dw ? C : a.groups;
    const dim cig = C / G;   // input channels per group
    const dim cog = CO / G;  // output channels per group
    dim pt = 0, pb = 0, pl = 0, pr = 0;
    ref_pads(a, 0, H, OH, a.dilations[0], pt, pb);
    ref_pads(a, 1, W, OW, a.dilations[1], pl, pr);
    for (dim b = 0; b < N; ++b)
      for (dim oh = 0; oh < OH; ++oh)
        for (dim ow = 0; ow < OW; ++ow)
          for (dim oc = 0; oc < CO; ++oc) {
            const dim grp = oc / cog;
            double s = p.bias.empty() ? 0.0 : p.bias[static_cast<std::size_t>(oc)];
            for (dim kh = 0; kh < KH; ++kh) {
              const dim ih = oh * a.strides[0] - pt + kh * a.dilations[0];
              if (ih < 0 || ih >= H) continue;
              for (dim kw = 0; kw < KW; ++kw) {
                const dim iw = ow * a.strides[1] - pl + kw * a.dilations[1];
                if (iw < 0 || iw >= W) continue;
                for (dim ic = 0; ic < cig; ++ic) {
                  const dim c = grp * cig + ic;
                  const double xv = x.v[static_cast<std::size_t>(((b * H + ih) * W + iw) * C + c)];
                  const std::size_t wi =
                      dw ? static_cast<std::size_t>((kh * KW + kw) * CO + oc)
                         : static_cast<std::size_t>(((oc * KH + kh) * KW + kw) * cig + ic);
                  s += xv * p.filter[wi];
                }
              }
            }
            y.v[static_cast<std::size_t>(((b * OH + oh) * OW + ow) * CO + oc)] = s;
          }
  }

  void deconv(const node& n, ref_tensor& y) const {
    const ref_tensor& x = in(n, 0);
    const attributes& a = n.attrs;
    const xnn::node_params& p = ex_.params(n.name);
    const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const dim OH = y.shape[1], OW = y.shape[2], CO = y.shape[3];
    const dim KH = a.kernel[0], KW = a.kernel[1];
    const dim G = a.groups, cig = C / G, cog = CO / G;
    for (dim b = 0; b < N; ++b)
      for (dim oh = 0; oh < OH; ++oh)
        for (dim ow = 0; ow < OW; ++ow)
          for (dim oc = 0; oc < CO; ++oc)
            y.v[static_cast<std::size_t>(((b * OH + oh) * OW + ow) * CO + oc)] =
                p.bias.empty() ? 0.0 : p.bias[static_cast<std::size_t>(oc)];
    for (dim b = 0; b < N; ++b)
      for (dim ih = 0; ih < H; ++ih)
        for (dim iw = 0; iw < W; ++iw)
          for (dim oc = 0; oc < CO; ++oc) {
            const dim grp = oc / cog;
            for (dim kh = 0; kh < KH; ++kh) {
              const dim oh = ih * a.strides[0] - a.pads[0] + kh * a.dilations[0];
              if (oh < 0 || oh >= OH) continue;
              for (dim kw = 0; kw < KW; ++kw) {
                const dim ow = iw * a.strides[1] - a.pads[2] + kw * a.dilations[1];
                if (ow < 0 || ow >= OW) continue;
                double s = 0;
                for (dim ic = 0; ic < cig; ++ic)
                  s += x.v[static_cast<std::size_t>(((b * H + ih) * W + iw) * C + grp * cig + ic)] *
                       p.filter[static_cast<std::size_t>(((oc * KH + kh) * KW + kw) * cig + ic)];
                y.v[static_cast<std::size_t>(((b * OH + oh) * OW + ow) * CO + oc)] += s;
              }
            }
          }
  }

  void pool(const node& n, ref_tensor& y) const {
    const ref_tensor& x = in(n, 0);
    const attributes& a = n.attrs;
    const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const dim OH = y.shape[1], OW = y.shape[2];
    const bool mx = n.op == op_kind::maxpool;
    const dim dh = mx ? a.dilations[0] : 1;
    const dim dwl = mx ? a.dilations[1] : 1;
    dim pt = 0, pb = 0, pl = 0, pr = 0;
    ref_pads(a, 0, H, OH, dh, pt, pb);
    ref_pads(a, 1, W, OW, dwl, pl, pr);
    for (dim b = 0; b < N; ++b)
      for (dim oh = 0; oh < OH; ++oh)
        for (dim ow = 0; ow < OW; ++ow)
          for (dim c = 0; c < C; ++c) {
            double s = 0;
            double m = -std::numeric_limits<double>::infinity();
            dim cnt = 0;
            for (dim kh = 0; kh < a.kernel[0]; ++kh) {
              const dim ih = oh * a.strides[0] - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (dim kw = 0; kw < a.kernel[1]; ++kw) {
                const dim iw = ow * a.strides[1] - pl + kw * dwl;
                if (iw < 0 || iw >= W) continue;
                const double v = x.v[static_cast<std::size_t>(((b * H + ih) * W + iw) * C + c)];
                s += v;
                m = std::max(m, v);
                ++cnt;
              }
            }
            y.v[static_cast<std::size_t>(((b * OH + oh) * OW + ow) * C + c)] =
                mx ? m : s / static_cast<double>(cnt);
          }
  }

  void binary(const node& n, ref_tensor& y) const {
    const ref_tensor& x0 = in(n, 0);
    const ref_tensor& x1 = in(n, 1);
    const std::size_t r = y.shape.rank();
    auto index = [&](const ref_tensor& t, std::size_t flat) {
      // Map an output index to t's index (right-aligned numpy broadcasting).
      const auto ys = strides_of(y.shape);
      const auto ts = strides_of(t.shape);
      std::size_t src = 0;
      for (std::size_t d = 0; d < r; ++d) {
        const std::size_t c =
            (flat / ys[d]) % static_cast<std::size_t>(y.shape[static_cast<std::ptrdiff_t>(d)]);
        if (d + t.shape.rank() < r) continue;
        const std::size_t td = d + t.shape.rank() - r;
        if (t.shape[static_cast<std::ptrdiff_t>(td)] != 1) src += c * ts[td];
      }
      return src;
    };
    for (std::size_t i = 0; i < y.v.size(); ++i) {
      const double a = x0.v[index(x0, i)];
      const double b = x1.v[index(x1, i)];
      switch (n.op) {
        case op_kind::add:
          y.v[i] = a + b;
          break;
        case op_kind::sub:
          y.v[i] = a - b;
          break;
        case op_kind::mul:
          y.v[i] = a * b;
          break;
        case op_kind::div:
          y.v[i] = a / b;
          break;
        default:  // op_kind::other, by source type
          if (n.type == "Max" || n.type == "Maximum")
            y.v[i] = std::max(a, b);
          else if (n.type == "Min" || n.type == "Minimum")
            y.v[i] = std::min(a, b);
          else if (n.type == "SquaredDifference")
            y.v[i] = (a - b) * (a - b);
          else
            throw std::logic_error("reference: no binary op for node '" + n.name + "'");
          break;
      }
    }
  }

  void resize(const node& n, ref_tensor& y) const {  // bilinear, half-pixel centres
    const ref_tensor& x = in(n, 0);
    const dim N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
    const dim OH = y.shape[1], OW = y.shape[2];
    const double sh = static_cast<double>(H) / static_cast<double>(OH);
    const double sw = static_cast<double>(W) / static_cast<double>(OW);
    for (dim b = 0; b < N; ++b)
      for (dim oh = 0; oh < OH; ++oh)
        for (dim ow = 0; ow < OW; ++ow) {
          const double fy = std::max(0.0, (static_cast<double>(oh) + 0.5) * sh - 0.5);
          const double fx = std::max(0.0, (static_cast<double>(ow) + 0.5) * sw - 0.5);
          const dim y0 = std::min<dim>(static_cast<dim>(fy), H - 1);
          const dim x0 = std::min<dim>(static_cast<dim>(fx), W - 1);
          const dim y1 = std::min<dim>(y0 + 1, H - 1);
          const dim x1 = std::min<dim>(x0 + 1, W - 1);
          const double ly = fy - static_cast<double>(y0);
          const double lx = fx - static_cast<double>(x0);
          for (dim c = 0; c < C; ++c) {
            auto at = [&](dim hh, dim ww) {
              return x.v[static_cast<std::size_t>(((b * H + hh) * W + ww) * C + c)];
            };
            const double top = at(y0, x0) * (1 - lx) + at(y0, x1) * lx;
            const double bot = at(y1, x0) * (1 - lx) + at(y1, x1) * lx;
            y.v[static_cast<std::size_t>(((b * OH + oh) * OW + ow) * C + c)] =
                top * (1 - ly) + bot * ly;
          }
        }
  }

  const nnmeter::graph& g_;
  xnn::executor& ex_;
  std::vector<std::vector<ref_tensor>> vals_;
};

// Largest violation of |got - want| <= rtol * |want| + atol_scale * max|want| over a tensor, as
// a ratio (<= 1 passes), and the index where it happens.
struct compare_result {
  double worst_ratio = 0;
  std::size_t worst_index = 0;
  double got = 0;
  double want = 0;
  bool finite = true;
};

inline compare_result compare(const float* got, const std::vector<double>& want, double rtol = 1e-4,
                              double atol_scale = 1e-5) {
  compare_result r;
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  const double atol = atol_scale * std::max(1.0, scale);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) r.finite = false;
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double ratio = err / (rtol * std::fabs(want[i]) + atol);
    if (!(ratio <= r.worst_ratio)) {
      r.worst_ratio = ratio;
      r.worst_index = i;
      r.got = got[i];
      r.want = want[i];
    }
  }
  return r;
}

}  // namespace nnmeter_test
