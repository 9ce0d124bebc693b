// nnmeter builder — sampling kernel configurations: nn-Meter's prior samplers (inverse-CDF draws
// from the prior tables, snapped to allowed values) and its fine-grained sampling around a
// configuration, seeded and deterministic (docs/builder.md, "Kernel sampler").
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "builder/sampler/kernel_config.hpp"
#include "builder/sampler/priors.hpp"

namespace nnmeter::builder {

/// The random source of every sampler: std::mt19937_64 (whose output sequence the C++
/// standard fixes) with uniform doubles, bounded integers and shuffles computed here rather
/// than by std::uniform_real_distribution / std::shuffle, whose algorithms differ between
/// standard libraries. The same seed gives the same numbers on every platform.
class sample_rng {
 public:
  explicit sample_rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, 1): the top 53 bits of one engine output.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n >= 1 (rejection sampling, no modulo bias).
  std::uint64_t below(std::uint64_t n);
  /// Fisher-Yates shuffle (from the back, j = below(i + 1)), as Python's random.shuffle.
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(below(i));
      using std::swap;
      swap(v[i - 1], v[j]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

/// A seed for one purpose derived from a user seed: splitmix64 of the seed mixed with the
/// FNV-1a hash of `purpose` (e.g. a kernel kind's name), so the kinds of one campaign draw from
/// independent streams with one SEED.
[[nodiscard]] std::uint64_t derive_seed(std::uint64_t seed, std::string_view purpose) noexcept;

/// nn-Meter's inverse_transform_sampling: a density histogram of `data` with `bins` equal bins
/// over [min, max] (numpy.histogram: the last bin includes max; a constant column uses
/// [v - 0.5, v + 0.5]), the cumulative sum at the bin edges, and the inverse CDF interpolated
/// linearly between edges. Throws nnmeter::error for empty data or bins < 1.
class inverse_cdf {
 public:
  explicit inverse_cdf(const std::vector<std::int64_t>& data, int bins = 40);
  /// The value at cumulative probability u in [0, 1): edge[i] + (u - cdf[i]) / (cdf[i+1] -
  /// cdf[i]) * (edge[i+1] - edge[i]) for the bin with cdf[i] <= u < cdf[i+1].
  [[nodiscard]] double operator()(double u) const;
  /// One draw truncated to an integer, as nn-Meter's int(): floor(value) (values are >= 0).
  [[nodiscard]] std::int64_t draw(sample_rng& rng) const;
  /// `n` draws.
  [[nodiscard]] std::vector<std::int64_t> draws(sample_rng& rng, std::size_t n) const;
  /// The bin edges (bins + 1 values) and the CDF at each edge (cdf().front() == 0,
  /// cdf().back() == 1 up to rounding).
  const std::vector<double>& edges() const noexcept { return edges_; }
  const std::vector<double>& cdf() const noexcept { return cdf_; }

 private:
  std::vector<double> edges_;
  std::vector<double> cdf_;
};

/// nn-Meter's data_validation for one value: the allowed value nearest to v; on a tie the
/// earlier entry of `allowed` (nn-Meter's lists are ascending: the smaller one). Throws
/// nnmeter::error when `allowed` is empty.
[[nodiscard]] std::int64_t snap(std::int64_t v, const std::vector<std::int64_t>& allowed);

/// The procedure that samples a kind (nn-Meter's samplers and the project's for the kinds it
/// adds). docs/builder.md describes each.
enum class sampler_kind {
  conv,            ///< nn-Meter's ConvSampler (conv-bn-relu)
  dwconv,          ///< DwConvSampler (dwconv-bn-relu)
  fc,              ///< FCSampler
  pooling,         ///< PoolingSampler (maxpool, avgpool)
  hw_cin,          ///< HwCinSampler (hswish, relu, add, addrelu, bn, bnrelu; project: sigmoid,
                   ///< hardsigmoid, data-movement)
  cin_even,        ///< CinEvenSampler (split, channelshuffle, se)
  global_avgpool,  ///< GlobalAvgPoolSampler
  concat,          ///< ConcatSampler
  mul,             ///< project: hw_cin + BROADCAST
  pad,             ///< project: hw_cin + PAD
  resize,          ///< project: hw_cin at smaller sizes + SCALE
  softmax,         ///< project: hw_cin, half of it at HW 1 (classifier heads)
  matmul,          ///< project: M = HW^2 tokens, CIN and COUT from the conv channels
};
/// "conv", "dwconv", "fc", "pooling", "hw_cin", "cin_even", "global_avgpool", "concat", "mul",
/// "pad", "resize", "softmax", "matmul".
[[nodiscard]] const char* to_string(sampler_kind s) noexcept;
/// The sampler of a kind; throws nnmeter::unsupported_error for quantize, dequantize, other.
[[nodiscard]] sampler_kind sampler_for(nnmeter::kernel_kind kind);

/// Size limits that keep every sample quick to measure on this machine. A sampled
/// configuration whose block (cost_of) exceeds a cap, or that `accept` refuses, gets its
/// channel parameters (CIN, COUT, CINi) redrawn from the same prior, up to max_redraws times;
/// then its channels are halved until it fits. Its spatial size, window and stride are never
/// changed, so the samplers' shares of those hold exactly. A cap <= 0 disables it.
struct sampling_caps {
  /// FLOPs of the block, millions (1000 MFLOPs: about 20-45 ms on one core of this machine).
  double max_mflops = 1000;
  /// Bytes moved by the block (inputs, outputs, weights), millions.
  double max_mbytes = 64;
  /// Redraws of the channels before halving them.
  int max_redraws = 200;
  /// An extra test a configuration must pass, applied like the caps (empty: none). For costs
  /// that FLOPs and bytes do not show, e.g. a backend whose 7x7 depthwise convolution is slow
  /// (XNNPACK on this machine: about 0.2 GFLOP/s against 16 for 3x3, docs/builder.md).
  std::function<bool(const kernel_config&)> accept;
};
/// True when `c` is within `caps` (and caps.accept, if set, accepts it).
[[nodiscard]] bool within_caps(const kernel_config& c, const sampling_caps& caps);

/// Options of the samplers.
struct sampler_options {
  /// The campaign's seed (predictorbuild_config.yaml SEED). Each call derives its stream from
  /// it and the kind (derive_seed): equal seeds give equal configurations, byte for byte.
  std::uint64_t seed = 1;
  sampling_caps caps;
};

/// `n` configurations of `kind` from the prior tables, as nn-Meter's sampler for the kind
/// draws them, within options.caps. Exactly `n` (nn-Meter returns up to two fewer where its
/// shares round down; the difference is drawn from the prior). Conv configurations are sorted
/// by nn-Meter's (FLOPs, params), dwconv and fc by FLOPs; the others stay in draw order.
/// Duplicates are possible, as in nn-Meter (the profile store measures each key once). Throws
/// nnmeter::error when a table the sampler reads is empty, and unsupported_error for kinds
/// without a sampler.
[[nodiscard]] std::vector<kernel_config> sample_prior(
    nnmeter::kernel_kind kind, std::size_t n, const sampler_options& options = {},
    const prior_tables& priors = nnmeter_priors());

/// nn-Meter's fine-grained sampling around `around`: `n` channel values drawn without
/// replacement from [max(1, floor(0.5 C)), floor(1.2 C)) (the whole range, shuffled, when it
/// has at most n values); conv-bn-relu, fc and matmul vary CIN and COUT jointly (paired, cut to
/// the shorter list), concat each present CINi, every other kind CIN only, keeping the other
/// parameters; split, channelshuffle and se bump odd channels to even. Configurations over
/// options.caps are dropped, so the result may hold fewer than n. The stream is
/// derive_seed(options.seed, kind + around.key()).
[[nodiscard]] std::vector<kernel_config> sample_finegrained(const kernel_config& around,
                                                            std::size_t n,
                                                            const sampler_options& options = {});

/// sample_finegrained for each configuration of `around`, concatenated in order (nn-Meter's
/// FINEGRAINED_SAMPLE_NUM per large-error configuration). Use a different options.seed per
/// adaptive round (e.g. SEED + round) for fresh draws around a configuration seen before.
[[nodiscard]] std::vector<kernel_config> sample_finegrained(
    const std::vector<kernel_config>& around, std::size_t n_each,
    const sampler_options& options = {});

}  // namespace nnmeter::builder
