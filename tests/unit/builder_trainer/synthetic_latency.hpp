// Test helper of builder_trainer: a synthetic but realistic latency for a kernel configuration,
// so the trainer can be measured without a device. A roofline: time = max(FLOPs / compute rate,
// bytes / memory bandwidth) + a launch overhead, with what makes real CPU kernels irregular —
// compute efficiency that drops when channels are not a multiple of the vector tile (the
// sawtooth of XNNPACK's GEMM micro-kernels), for 1x1 windows and for small outputs, bandwidth
// that depends on whether the working set fits in L2 / L3 — and multiplicative log-normal
// measurement noise (CV 2 %, the measurement protocol's repeatability). Latencies range from
// about 2 µs to 30 ms over the sampler's configurations.
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "builder/sampler/sampler.hpp"

namespace nnmeter_test {

struct synthetic_device {
  double gflops = 60;          ///< peak compute rate of a dense conv, GFLOP/s
  double dw_gflops = 10;       ///< depthwise / pooling compute rate, GFLOP/s
  double l2_gbs = 60;          ///< bandwidth when the working set fits in 1 MB
  double l3_gbs = 25;          ///< ... in 16 MB
  double dram_gbs = 10;        ///< beyond
  double overhead_ms = 0.002;  ///< per kernel
  double noise_cv = 0.02;      ///< log-normal noise sigma
};

namespace detail {
// Share of the vector tile used by c channels (c / ceil(c / tile) / tile).
inline double tile_use(double c, double tile) { return c / (std::ceil(c / tile) * tile); }
inline double bandwidth_gbs(const synthetic_device& d, double mbytes) {
  return mbytes <= 1 ? d.l2_gbs : mbytes <= 16 ? d.l3_gbs : d.dram_gbs;
}
}  // namespace detail

/// Noise-free latency of `c`, ms.
inline double synthetic_latency_ms(const nnmeter::builder::kernel_config& c,
                                   const synthetic_device& d = {}) {
  using nnmeter::kernel_kind;
  const nnmeter::builder::kernel_cost cost = nnmeter::builder::cost_of(c);
  const double mem_ms = cost.mbytes / detail::bandwidth_gbs(d, cost.mbytes);  // MB / (GB/s) = ms
  double eff = 1;
  double rate = d.gflops;
  switch (c.kind) {
    case kernel_kind::conv_bn_relu: {
      const double hw_out =
          std::ceil(static_cast<double>(c.at("HW")) / static_cast<double>(c.at("STRIDES")));
      eff = 0.55 * detail::tile_use(static_cast<double>(c.at("COUT")), 16) *
            detail::tile_use(static_cast<double>(c.at("CIN")), 4) *
            (c.at("KERNEL_SIZE") == 1 ? 0.8 : 1.0) * std::min(1.0, 0.4 + hw_out * hw_out / 200);
      break;
    }
    case kernel_kind::matmul:
      eff = 0.5 * detail::tile_use(static_cast<double>(c.at("COUT")), 16);
      break;
    case kernel_kind::fc:
      eff = 0.3 * detail::tile_use(static_cast<double>(c.at("COUT")), 8);
      break;
    case kernel_kind::dwconv_bn_relu:
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      rate = d.dw_gflops;
      eff = detail::tile_use(static_cast<double>(c.at("CIN")), 8);
      break;
    case kernel_kind::se:
      rate = d.dw_gflops;
      eff = 0.5;
      break;
    default:
      rate = d.dw_gflops;
      break;
  }
  const double compute_ms = cost.mflops / (rate * eff) / 1e3;  // MFLOP / (GFLOP/s) = ms / 1e3
  return d.overhead_ms + std::max(compute_ms, mem_ms) + 0.15 * std::min(compute_ms, mem_ms);
}

/// synthetic_latency_ms with multiplicative log-normal noise from `rng`.
inline double noisy_latency_ms(const nnmeter::builder::kernel_config& c, std::mt19937_64& rng,
                               const synthetic_device& d = {}) {
  std::normal_distribution<double> noise(0.0, d.noise_cv);
  return synthetic_latency_ms(c, d) * std::exp(noise(rng));
}

/// A kernel kind and how many configurations of it the helper programs sample.
struct kind_rows {
  nnmeter::kernel_kind kind;
  std::size_t n;
};

/// The kinds of MobileNet-like models, with the sample counts of trainer_study and
/// synthetic_predictor (nn-Meter's order of magnitude: conv the most, small kinds 200-300).
inline std::vector<kind_rows> mobilenet_like_kinds() {
  using nnmeter::kernel_kind;
  return {{kernel_kind::conv_bn_relu, 1000}, {kernel_kind::dwconv_bn_relu, 600},
          {kernel_kind::fc, 300},            {kernel_kind::relu, 300},
          {kernel_kind::add, 300},           {kernel_kind::hswish, 300},
          {kernel_kind::se, 300},            {kernel_kind::global_avgpool, 200},
          {kernel_kind::maxpool, 300},       {kernel_kind::concat, 300}};
}

}  // namespace nnmeter_test
