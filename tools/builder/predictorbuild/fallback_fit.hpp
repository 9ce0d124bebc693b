// nnmeter builder — fitting the fallback models of a predictor (nnmeter::fallback_coefficients,
// one per kernel family) on the device's own kernel measurements: a non-negative least-squares
// fit of latency = base + b * MFLOPs + c * MB, relative errors weighted so each kind of a
// family counts equally, with held-out and leave-one-kind-out quality (docs/builder.md,
// "Fallback estimates"). Part of nnmeter_builder_predictorbuild (Eigen, private).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nnmeter::builder {

/// One measured kernel: its kind, its work (nnmeter::kernel::flops / bytes of the detected
/// kernel) and its measured latency.
struct fallback_sample {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  double flops = 0;
  double bytes = 0;
  double latency_ms = 0;
};

/// How close fallback estimates come to measured latencies: of n samples, the shares (%) with
/// |estimate - measured| / measured <= 25 % and <= 50 %, and the median of that relative
/// error (%). NaN when n == 0.
struct fallback_metrics {
  std::size_t n = 0;
  double within_25 = std::numeric_limits<double>::quiet_NaN();
  double within_50 = std::numeric_limits<double>::quiet_NaN();
  double median_abs_error = std::numeric_limits<double>::quiet_NaN();
};

/// fallback_metrics of coefficients c on samples rows[i] for i in `which` (all when empty).
[[nodiscard]] fallback_metrics fallback_quality(const nnmeter::fallback_coefficients& c,
                                                const std::vector<fallback_sample>& rows,
                                                const std::vector<std::size_t>& which = {});

/// The non-negative least-squares fit of latency = base_ms + ms_per_mflop * MFLOPs +
/// ms_per_mbyte * MB on samples rows[i] (i in `which`, all when empty), minimising
/// sum_i w_i ((latency_i - estimate_i) / latency_i)^2 with every coefficient >= 0.
/// `weights` (one per row of `rows`, or empty for 1) lets each kind count equally. Exact: every
/// support of the three coefficients is solved as an ordinary weighted least-squares problem
/// (Eigen's column-pivoting QR) and the best solution with no negative coefficient is kept —
/// the KKT conditions make it the NNLS optimum. Empty when no support gives a valid() model
/// (e.g. no rows). Throws nnmeter::error for a row whose work or latency is not a positive
/// finite number (FLOPs may be 0).
[[nodiscard]] std::optional<nnmeter::fallback_coefficients> fit_fallback_coefficients(
    const std::vector<fallback_sample>& rows, const std::vector<std::size_t>& which = {},
    const std::vector<double>& weights = {});

/// Options of fit_fallback.
struct fallback_fit_options {
  /// Share of each family's samples held out for its metrics (ceil, seeded shuffle); the
  /// shipped coefficients are fitted on the rest, so the figures describe them. 0: none.
  double holdout_fraction = 0.2;
  std::uint64_t seed = 1;
  /// A family needs this many samples (train part) for a model.
  std::size_t min_samples = 10;
};

/// The fit of one kernel family.
struct fallback_family_fit {
  nnmeter::kernel_family family = nnmeter::kernel_family::compute;
  /// The kinds of the family that had samples, in kernel_kind order.
  std::vector<nnmeter::kernel_kind> kinds;
  std::size_t samples = 0;
  /// The fitted model (empty: too few samples, or no valid model; see note).
  std::optional<nnmeter::fallback_coefficients> coefficients;
  fallback_metrics train;
  fallback_metrics holdout;
  /// Per kind of a family with several kinds: the quality on that kind's samples of a model
  /// fitted on the family's other kinds only — what a kind without a forest can expect.
  struct kind_quality {
    nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
    fallback_metrics metrics;
  };
  std::vector<kind_quality> leave_kind_out;
  std::string note;
};

/// Fits every family that has samples (families without any are left out). Samples of a kind
/// weigh 1 / (samples of the kind), so a kind with many samples does not drown the others.
[[nodiscard]] std::vector<fallback_family_fit> fit_fallback(
    const std::vector<fallback_sample>& samples, const fallback_fit_options& options = {});

}  // namespace nnmeter::builder
