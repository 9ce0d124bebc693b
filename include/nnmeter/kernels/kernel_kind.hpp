// nnmeter — kernel kinds: the closed set of predictor kinds a device's tables are indexed by.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

NNMETER_BEGIN_NAMESPACE

/// Kind of a kernel as far as latency prediction is concerned: one forest per kind. The first
/// sixteen are nn-Meter's predictor names; the rest are what real models need beyond them.
enum class kernel_kind : std::uint8_t {
  conv_bn_relu,    ///< any dense or grouped convolution kernel ("conv-bn-relu")
  dwconv_bn_relu,  ///< any depthwise convolution kernel ("dwconv-bn-relu")
  fc,              ///< fully connected ("fc")
  global_avgpool,  ///< global average pooling ("global-avgpool")
  hswish,          ///< hard swish ("hswish")
  relu,            ///< standalone relu / relu6 / clip ("relu")
  se,              ///< squeeze-and-excitation block ("se")
  split,           ///< split / slice ("split")
  add,             ///< element-wise add ("add")
  addrelu,         ///< add followed by relu ("addrelu")
  maxpool,         ///< max pooling ("maxpool")
  avgpool,         ///< average pooling ("avgpool")
  bn,              ///< standalone batch norm ("bn")
  bnrelu,          ///< batch norm + relu ("bnrelu")
  channelshuffle,  ///< channel shuffle ("channelshuffle")
  concat,          ///< concatenation ("concat")
  sigmoid,         ///< sigmoid / swish activations ("sigmoid")
  mul,             ///< element-wise mul / sub / div ("mul")
  hardsigmoid,     ///< hard sigmoid ("hardsigmoid")
  pad,             ///< padding ("pad")
  matmul,          ///< activation x activation matrix product ("matmul")
  softmax,         ///< softmax ("softmax")
  resize,          ///< spatial resize ("resize")
  quantize,        ///< float -> int8/uint8 ("quantize")
  dequantize,      ///< int8/uint8 -> float ("dequantize")
  data_movement,   ///< reshape / flatten / transpose / squeeze / gather / cast ("data-movement")
  other,           ///< anything else ("other")
  count_
};

/// Number of kernel kinds.
inline constexpr std::size_t kernel_kind_count = static_cast<std::size_t>(kernel_kind::count_);

namespace detail {
inline constexpr std::string_view kernel_kind_names[] = {
    "conv-bn-relu", "dwconv-bn-relu", "fc",          "global-avgpool", "hswish",
    "relu",         "se",             "split",       "add",            "addrelu",
    "maxpool",      "avgpool",        "bn",          "bnrelu",         "channelshuffle",
    "concat",       "sigmoid",        "mul",         "hardsigmoid",    "pad",
    "matmul",       "softmax",        "resize",      "quantize",       "dequantize",
    "data-movement", "other"};
static_assert(sizeof(kernel_kind_names) / sizeof(kernel_kind_names[0]) == kernel_kind_count,
              "kernel_kind_names must name every kernel_kind");
}  // namespace detail

/// nn-Meter's spelling of a kernel kind ("conv-bn-relu", "global-avgpool", ...); it names the
/// forest files of a predictor package.
constexpr std::string_view to_string(kernel_kind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < kernel_kind_count ? detail::kernel_kind_names[i] : std::string_view("invalid");
}

/// Parses the spelling of to_string(kernel_kind).
constexpr std::optional<kernel_kind> parse_kernel_kind(std::string_view s) noexcept {
  for (std::size_t i = 0; i < kernel_kind_count; ++i)
    if (detail::kernel_kind_names[i] == s) return static_cast<kernel_kind>(i);
  return std::nullopt;
}

namespace detail {
constexpr bool contains(std::string_view s, std::string_view part) noexcept {
  return s.find(part) != std::string_view::npos;
}
}  // namespace detail

/// Maps a detected kernel's fused type (e.g. "conv-bn-hswish", "se-relu") to the kind whose
/// forest predicts it, with nn-Meter's merging (every conv kernel shares "conv-bn-relu", every
/// depthwise one "dwconv-bn-relu") and renaming rules, extended to the kinds nn-Meter lacks.
constexpr kernel_kind kernel_kind_of(std::string_view op) noexcept {
  using detail::contains;
  if (contains(op, "dwconv")) return kernel_kind::dwconv_bn_relu;
  if (contains(op, "conv")) return kernel_kind::conv_bn_relu;
  if (op == "fc" || op == "fc-relu" || contains(op, "fc")) return kernel_kind::fc;
  // A pooling with a fused relu (rules under which the runtime clamps the pool's output, as
  // XNNPACK does) is predicted by its pooling's forest: the clamp costs nothing apart.
  if (op == "maxpool" || op == "max-pool" || op == "maxpool-relu") return kernel_kind::maxpool;
  if (op == "avgpool" || op == "avg-pool" || op == "avgpool-relu") return kernel_kind::avgpool;
  if (op == "gap" || op == "global-pool" || op == "global-avgpool" || op == "gap-reshape")
    return kernel_kind::global_avgpool;
  if (op == "channelshuffle" || op == "channel_shuffle") return kernel_kind::channelshuffle;
  if (op == "bn-relu") return kernel_kind::bnrelu;
  if (op == "bn") return kernel_kind::bn;
  if (op == "add-relu") return kernel_kind::addrelu;
  if (op == "add") return kernel_kind::add;
  if (op == "se" || op == "SE" || op == "se-relu" || op == "SE-relu") return kernel_kind::se;
  if (op == "hswish") return kernel_kind::hswish;
  if (op == "relu" || op == "relu-relu") return kernel_kind::relu;
  if (op == "split") return kernel_kind::split;
  if (op == "concat") return kernel_kind::concat;
  if (op == "sigmoid" || op == "swish") return kernel_kind::sigmoid;
  if (op == "mul" || op == "sub" || op == "div") return kernel_kind::mul;
  if (op == "hardsigmoid") return kernel_kind::hardsigmoid;
  if (op == "pad") return kernel_kind::pad;
  if (op == "matmul") return kernel_kind::matmul;
  if (op == "softmax") return kernel_kind::softmax;
  if (op == "resize") return kernel_kind::resize;
  if (op == "quantize") return kernel_kind::quantize;
  if (op == "dequantize") return kernel_kind::dequantize;
  if (op == "reshape" || op == "transpose" || op == "squeeze" || op == "unsqueeze" ||
      op == "gather" || op == "cast" || op == "reshape-reshape")
    return kernel_kind::data_movement;
  return kernel_kind::other;
}

NNMETER_END_NAMESPACE
