// nnmeter — FLOPs, parameter and memory-traffic formulas per node.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <cstddef>
#include <cstdint>

NNMETER_BEGIN_NAMESPACE

/// Cost of one node: FLOPs (a multiply-add counts 2) and weight elements.
struct node_cost {
  double flops = 0.0;
  double params = 0.0;
};

namespace detail {
constexpr double elems(const tensor_shape& s) noexcept {
  return static_cast<double>(s.num_elements());
}
constexpr double last_dim(const tensor_shape& s) noexcept {
  return s.rank() == 0 || s.back() < 0 ? 0.0 : static_cast<double>(s.back());
}
}  // namespace detail

/// FLOPs and parameters of a node from its kind, first input / first output shape and attributes.
/// Unknown dimensions count as 1. Data movement costs 0 FLOPs.
inline node_cost cost_of(op_kind op, const tensor_shape* in, std::size_t n_in,
                            const tensor_shape* out, std::size_t n_out,
                            const attributes& a) noexcept {
  const tensor_shape empty{};
  const tensor_shape& x = n_in > 0 ? in[0] : empty;
  const tensor_shape& y = n_out > 0 ? out[0] : empty;
  const double kh = static_cast<double>(a.kernel[0]);
  const double kw = static_cast<double>(a.kernel[1]);
  const double cin = detail::last_dim(x);
  const double cout = detail::last_dim(y);
  const double g = a.groups > 0 ? static_cast<double>(a.groups) : 1.0;
  const double bias = a.has_bias ? 1.0 : 0.0;
  node_cost c;
  switch (op) {
    case op_kind::conv:
    case op_kind::conv_transpose: {
      const double per_out = kh * kw * cin / g;
      c.params = cout * per_out + bias * cout;
      const double spatial = op == op_kind::conv ? detail::elems(y) : detail::elems(x) * cout / (cin > 0 ? cin : 1.0);
      c.flops = 2.0 * spatial * per_out;
      break;
    }
    case op_kind::dwconv:
      c.params = cout * (kh * kw + bias);
      c.flops = 2.0 * detail::elems(y) * kh * kw;
      break;
    case op_kind::fc:
      c.params = cin * cout + bias * cout;
      c.flops = 2.0 * detail::elems(y) * cin;
      break;
    case op_kind::matmul: {
      const tensor_shape& b = n_in > 1 ? in[1] : empty;
      const double k = b.rank() >= 2 && b[-2] > 0 ? static_cast<double>(b[-2]) : cin;
      c.flops = 2.0 * detail::elems(y) * k;
      break;
    }
    case op_kind::maxpool:
    case op_kind::avgpool:
      c.flops = detail::elems(y) * kh * kw;
      break;
    case op_kind::global_avgpool:
    case op_kind::global_maxpool:
    case op_kind::reduce_mean:
      c.flops = detail::elems(x);
      break;
    case op_kind::bn:
      c.params = 2.0 * detail::last_dim(y);
      c.flops = 2.0 * detail::elems(y);
      break;
    case op_kind::prelu:
      c.params = detail::last_dim(y);
      c.flops = 2.0 * detail::elems(y);
      break;
    case op_kind::hswish:
    case op_kind::swish:
    case op_kind::sigmoid:
    case op_kind::softmax:
    case op_kind::gelu:
    case op_kind::elu:
    case op_kind::tanh:
      c.flops = 4.0 * detail::elems(y);
      break;
    case op_kind::hsigmoid:
      c.flops = 3.0 * detail::elems(y);
      break;
    case op_kind::relu:
    case op_kind::relu6:
    case op_kind::clip:
    case op_kind::leaky_relu:
    case op_kind::add:
    case op_kind::sub:
    case op_kind::mul:
    case op_kind::div:
    case op_kind::bias_add:
    case op_kind::quantize:
    case op_kind::dequantize:
      c.flops = detail::elems(y);
      break;
    case op_kind::resize:
      c.flops = (a.mode == "nearest" || a.mode.empty() ? 1.0 : 4.0) * detail::elems(y);
      break;
    default:
      break;
  }
  return c;
}

NNMETER_END_NAMESPACE
