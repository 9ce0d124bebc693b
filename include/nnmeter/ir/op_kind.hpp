// nnmeter — operator kinds of the graph IR.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

NNMETER_BEGIN_NAMESPACE

/// Kind of a graph node. Covers the common ONNX / TFLite / TensorFlow operator set; `other`
/// keeps the source operator's name in `node::type`, so nothing is ever dropped.
enum class op_kind : std::uint8_t {
  input,            ///< graph input (Placeholder)
  constant,         ///< constant tensor (Const, ONNX Constant / initializer node)
  identity,         ///< identity / alias (Identity, Dropout at inference)
  conv,             ///< 2-D convolution, dense or grouped (groups < channels)
  dwconv,           ///< depthwise 2-D convolution (groups == input channels)
  conv_transpose,   ///< transposed 2-D convolution
  fc,               ///< fully connected: activation x constant weight (+ bias)
  matmul,           ///< matrix product of two activations
  maxpool,          ///< 2-D max pooling
  avgpool,          ///< 2-D average pooling
  global_avgpool,   ///< global average pooling over H and W
  global_maxpool,   ///< global max pooling over H and W
  reduce_mean,      ///< mean over the axes in attributes::axes
  bn,               ///< batch normalisation (inference form)
  bias_add,         ///< TensorFlow BiasAdd
  relu,             ///< max(x, 0)
  relu6,            ///< min(max(x, 0), 6)
  clip,             ///< clamp to [attributes::clip_min, attributes::clip_max]
  sigmoid,          ///< 1 / (1 + exp(-x))
  hswish,           ///< x * relu6(x + 3) / 6
  hsigmoid,         ///< relu6(x + 3) / 6 (ONNX HardSigmoid with alpha, beta)
  swish,            ///< x * sigmoid(x)
  tanh,             ///< tanh(x)
  leaky_relu,       ///< x < 0 ? alpha * x : x
  prelu,            ///< x < 0 ? slope * x : x, slope per channel
  elu,              ///< exponential linear unit
  gelu,             ///< Gaussian error linear unit
  softmax,          ///< softmax over attributes::axis
  add,              ///< element-wise addition (broadcasting)
  sub,              ///< element-wise subtraction
  mul,              ///< element-wise multiplication
  div,              ///< element-wise division
  pad,              ///< spatial padding
  reshape,          ///< reshape to attributes::target_shape
  flatten,          ///< flatten to 2-D from attributes::axis
  squeeze,          ///< remove size-1 axes
  unsqueeze,        ///< insert size-1 axes
  transpose,        ///< permute axes by attributes::perm
  concat,           ///< concatenate along attributes::axis
  split,            ///< split along attributes::axis into several outputs
  slice,            ///< strided slice
  channel_shuffle,  ///< ShuffleNet channel shuffle with attributes::groups
  resize,           ///< spatial resize (nearest / bilinear)
  gather,           ///< gather along an axis
  cast,             ///< element-type conversion
  quantize,         ///< float -> int8/uint8 (QuantizeLinear)
  dequantize,       ///< int8/uint8 -> float (DequantizeLinear)
  other,            ///< anything else; node::type holds the source operator name
  count_            ///< number of kinds (sentinel)
};

/// Number of op kinds, `other` included.
inline constexpr std::size_t op_kind_count = static_cast<std::size_t>(op_kind::count_);

namespace detail {
struct op_kind_info {
  op_kind kind;
  std::string_view name;       ///< our spelling (snake_case), used in files and messages
  std::string_view rule_type;  ///< nn-Meter's normalised type, used by fusion rules
};

// rule_type reproduces nn-Meter's op normalisation (relu6/clip -> relu, global pooling and
// reduce-mean -> gap, slice -> split, flatten -> reshape, BiasAdd kept as is, dummies keep
// their TensorFlow names), so nn-Meter rule files apply unchanged.
inline constexpr op_kind_info op_kind_table[] = {
    {op_kind::input, "input", "Placeholder"},
    {op_kind::constant, "constant", "Const"},
    {op_kind::identity, "identity", "Identity"},
    {op_kind::conv, "conv", "conv"},
    {op_kind::dwconv, "dwconv", "dwconv"},
    {op_kind::conv_transpose, "conv_transpose", "convtrans"},
    {op_kind::fc, "fc", "fc"},
    {op_kind::matmul, "matmul", "matmul"},
    {op_kind::maxpool, "maxpool", "maxpool"},
    {op_kind::avgpool, "avgpool", "avgpool"},
    {op_kind::global_avgpool, "global_avgpool", "gap"},
    {op_kind::global_maxpool, "global_maxpool", "gmp"},
    {op_kind::reduce_mean, "reduce_mean", "gap"},
    {op_kind::bn, "bn", "bn"},
    {op_kind::bias_add, "bias_add", "BiasAdd"},
    {op_kind::relu, "relu", "relu"},
    {op_kind::relu6, "relu6", "relu"},
    {op_kind::clip, "clip", "relu"},
    {op_kind::sigmoid, "sigmoid", "sigmoid"},
    {op_kind::hswish, "hswish", "hswish"},
    {op_kind::hsigmoid, "hsigmoid", "hardsigmoid"},
    {op_kind::swish, "swish", "swish"},
    {op_kind::tanh, "tanh", "tanh"},
    {op_kind::leaky_relu, "leaky_relu", "leakyrelu"},
    {op_kind::prelu, "prelu", "prelu"},
    {op_kind::elu, "elu", "elu"},
    {op_kind::gelu, "gelu", "gelu"},
    {op_kind::softmax, "softmax", "softmax"},
    {op_kind::add, "add", "add"},
    {op_kind::sub, "sub", "sub"},
    {op_kind::mul, "mul", "mul"},
    {op_kind::div, "div", "div"},
    {op_kind::pad, "pad", "pad"},
    {op_kind::reshape, "reshape", "reshape"},
    {op_kind::flatten, "flatten", "reshape"},
    {op_kind::squeeze, "squeeze", "squeeze"},
    {op_kind::unsqueeze, "unsqueeze", "unsqueeze"},
    {op_kind::transpose, "transpose", "transpose"},
    {op_kind::concat, "concat", "concat"},
    {op_kind::split, "split", "split"},
    {op_kind::slice, "slice", "split"},
    {op_kind::channel_shuffle, "channel_shuffle", "channelshuffle"},
    {op_kind::resize, "resize", "resize"},
    {op_kind::gather, "gather", "gather"},
    {op_kind::cast, "cast", "cast"},
    {op_kind::quantize, "quantize", "quantize"},
    {op_kind::dequantize, "dequantize", "dequantize"},
    {op_kind::other, "other", "other"},
};

constexpr bool op_kind_table_is_complete() {
  if (sizeof(op_kind_table) / sizeof(op_kind_table[0]) != op_kind_count) return false;
  for (std::size_t i = 0; i < op_kind_count; ++i) {
    if (static_cast<std::size_t>(op_kind_table[i].kind) != i) return false;
    if (op_kind_table[i].name.empty() || op_kind_table[i].rule_type.empty()) return false;
  }
  return true;
}
static_assert(op_kind_table_is_complete(), "op_kind_table must list every op_kind in order");
}  // namespace detail

/// Our spelling of an op kind ("conv", "global_avgpool", ...).
constexpr std::string_view to_string(op_kind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < op_kind_count ? detail::op_kind_table[i].name : std::string_view("invalid");
}

/// nn-Meter's normalised type for an op kind ("relu" for relu6, "gap" for global pooling, ...).
/// For `other` the node's own type string is used instead (see rule_type(op_kind, type)).
constexpr std::string_view nnmeter_type(op_kind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < op_kind_count ? detail::op_kind_table[i].rule_type : std::string_view("invalid");
}

/// Parses our spelling back to an op kind.
constexpr std::optional<op_kind> parse_op_kind(std::string_view s) noexcept {
  for (const auto& e : detail::op_kind_table) {
    if (e.name == s) return e.kind;
  }
  return std::nullopt;
}

/// True for node kinds that never become a kernel of their own (nn-Meter's DUMMY_TYPES).
constexpr bool is_dummy(op_kind k) noexcept {
  return k == op_kind::input || k == op_kind::constant || k == op_kind::identity;
}

/// True for kinds with a 2-D sliding window (kernel, strides, pads).
constexpr bool is_windowed(op_kind k) noexcept {
  return k == op_kind::conv || k == op_kind::dwconv || k == op_kind::conv_transpose ||
         k == op_kind::maxpool || k == op_kind::avgpool;
}

/// True for element-wise binary kinds (with broadcasting).
constexpr bool is_elementwise_binary(op_kind k) noexcept {
  return k == op_kind::add || k == op_kind::sub || k == op_kind::mul || k == op_kind::div;
}

/// True for element-wise unary activations.
constexpr bool is_activation(op_kind k) noexcept {
  switch (k) {
    case op_kind::relu:
    case op_kind::relu6:
    case op_kind::clip:
    case op_kind::sigmoid:
    case op_kind::hswish:
    case op_kind::hsigmoid:
    case op_kind::swish:
    case op_kind::tanh:
    case op_kind::leaky_relu:
    case op_kind::prelu:
    case op_kind::elu:
    case op_kind::gelu:
      return true;
    default:
      return false;
  }
}

NNMETER_END_NAMESPACE
