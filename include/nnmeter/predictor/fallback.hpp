// nnmeter — fallback estimates: a kernel latency from the kernel's work when its kind has no
// usable forest, one linear model of FLOPs and bytes per family of kernel kinds.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>
#include <nnmeter/kernels/kernel_kind.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

NNMETER_BEGIN_NAMESPACE

/// A family of kernel kinds that share one fallback estimate: kinds whose latency grows with
/// the same costs at the same rates on a device (docs/predictor-format.md, "Fallback").
enum class kernel_family : std::uint8_t {
  compute,        ///< dense arithmetic: conv-bn-relu, fc, matmul, se ("compute")
  depthwise,      ///< depthwise convolution: dwconv-bn-relu ("depthwise"); far fewer FLOPs per
                  ///< byte than a dense convolution, and much slower per FLOP
  pooling,        ///< windowed and global reductions: maxpool, avgpool, global-avgpool ("pooling")
  elementwise,    ///< one value out per value in: relu, hswish, sigmoid, hardsigmoid, add,
                  ///< addrelu, mul, bn, bnrelu, softmax, resize, quantize, dequantize ("elementwise")
  data_movement,  ///< copies without arithmetic: split, channelshuffle, concat, pad,
                  ///< data-movement, other ("data-movement")
  count_
};

/// Number of kernel families.
inline constexpr std::size_t kernel_family_count = static_cast<std::size_t>(kernel_family::count_);

/// "compute", "depthwise", "pooling", "elementwise", "data-movement".
constexpr std::string_view to_string(kernel_family f) noexcept {
  switch (f) {
    case kernel_family::compute: return "compute";
    case kernel_family::depthwise: return "depthwise";
    case kernel_family::pooling: return "pooling";
    case kernel_family::elementwise: return "elementwise";
    case kernel_family::data_movement: return "data-movement";
    default: return "invalid";
  }
}

/// Parses to_string's spellings.
constexpr std::optional<kernel_family> parse_kernel_family(std::string_view s) noexcept {
  for (std::size_t i = 0; i < kernel_family_count; ++i)
    if (to_string(static_cast<kernel_family>(i)) == s) return static_cast<kernel_family>(i);
  return std::nullopt;
}

/// The family of a kernel kind (see kernel_family); `other` goes with data movement, as it
/// has no arithmetic the library knows of.
constexpr kernel_family family_of(kernel_kind k) noexcept {
  switch (k) {
    case kernel_kind::conv_bn_relu:
    case kernel_kind::fc:
    case kernel_kind::matmul:
    case kernel_kind::se:
      return kernel_family::compute;
    case kernel_kind::dwconv_bn_relu:
      return kernel_family::depthwise;
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
    case kernel_kind::global_avgpool:
      return kernel_family::pooling;
    case kernel_kind::relu:
    case kernel_kind::hswish:
    case kernel_kind::sigmoid:
    case kernel_kind::hardsigmoid:
    case kernel_kind::add:
    case kernel_kind::addrelu:
    case kernel_kind::mul:
    case kernel_kind::bn:
    case kernel_kind::bnrelu:
    case kernel_kind::softmax:
    case kernel_kind::resize:
    case kernel_kind::quantize:
    case kernel_kind::dequantize:
      return kernel_family::elementwise;
    default:
      return kernel_family::data_movement;
  }
}

/// A family's fallback model: latency_ms = base_ms + ms_per_mflop * MFLOPs + ms_per_mbyte * MB,
/// with the kernel's FLOPs (a multiply-add counts 2) and bytes moved (kernel::flops,
/// kernel::bytes) in millions. Every coefficient is non-negative: more work never makes a
/// kernel faster. The builder fits them per family on the device's own measurements.
struct fallback_coefficients {
  double base_ms = 0.0;       ///< fixed cost of a kernel, ms
  double ms_per_mflop = 0.0;  ///< ms per million FLOPs
  double ms_per_mbyte = 0.0;  ///< ms per million bytes moved
};

/// True when every coefficient is finite and non-negative and at least one is positive.
constexpr bool valid(const fallback_coefficients& c) noexcept {
  auto ok = [](double x) { return x == x && x >= 0.0 && x <= 1.0e300; };
  return ok(c.base_ms) && ok(c.ms_per_mflop) && ok(c.ms_per_mbyte) &&
         (c.base_ms > 0.0 || c.ms_per_mflop > 0.0 || c.ms_per_mbyte > 0.0);
}

/// The fallback latency (ms) of a kernel of work `flops` and `bytes` under coefficients c.
/// Empty when the work is unknown — a NaN or infinite count, a negative one, or bytes == 0:
/// every kernel reads or writes something, so 0 bytes means the costs were not computed
/// (detect_options::costs off) — or when the estimate is not a positive latency. Never a
/// made-up number: no work, no estimate. Usable in constant expressions.
constexpr std::optional<double> fallback_estimate(const fallback_coefficients& c, double flops,
                                                  double bytes) noexcept {
  // Compared rather than computed: NaN arithmetic ends a constant evaluation under clang.
  if (!(flops >= 0.0 && flops <= 1.0e300) || !(bytes > 0.0 && bytes <= 1.0e300)) return std::nullopt;
  const double ms = c.base_ms + c.ms_per_mflop * (flops / 1e6) + c.ms_per_mbyte * (bytes / 1e6);
  if (!(ms > 0.0)) return std::nullopt;
  return ms;
}

NNMETER_END_NAMESPACE
