// nnmeter builder — calibrating a predictor to the machine it runs on (`nnmeter calibrate`,
// docs/calibration.md): a few configurations of every kernel kind the predictor has a forest
// for, drawn from the prior tables, measured alone on this machine's backend through the
// profile store, compared with what the predictor's forests say of them; one scale per kind
// (empirical Bayes: each kind's mean log ratio shrunk towards the mean of all kinds as much as
// its own samples' noise calls for), which the adapted predictor multiplies its kernel latencies by
// (predictor::set_kind_scale). Target nnmeter_builder_calibrate.
// SPDX-License-Identifier: MIT
//
//   namespace nb = nnmeter::builder;
//   nb::profile_store store = nb::profile_store::open("calibration/profile_store.sqlite");
//   auto be = nnmeter::backends::make_backend("xnnpack");
//   nb::calibration_options o;                      // per kind, minutes, seed, stop ...
//   const nb::calibration_report r = nb::calibrate(base, store, *be, o);
//   r.predictor;                                    // base with this machine's kind scales
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backend.hpp"
#include "builder/sampler/kernel_config.hpp"
#include "builder/store/store.hpp"
#include "builder/trainer/trainer.hpp"

namespace nnmeter::builder {

/// One measured calibration sample: a configuration of a kind, what the base predictor's
/// forest says of it (without the context factor, which calibration keeps: a kernel measured
/// alone is compared with the forest's kernel alone) and what this machine measured.
struct calibration_sample {
  kernel_config config;
  double predicted_ms = 0;  ///< the base's latency of the kernel alone, its kind scale included
  double measured_ms = 0;
};

/// The calibration of one kind.
struct kind_calibration {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  /// Why the kind has no samples of its own (the backend cannot run it, no sampler, the rules
  /// never make its block one kernel, every measurement failed); empty when it has some.
  std::string note;
  std::vector<calibration_sample> samples;
  std::size_t failed = 0;
  /// The scale of the kind's own samples (the geometric mean of measured / predicted), and
  /// the one it gets (kind_scale_fit::scales); the pooled scale when it has no samples.
  double own_scale = 1.0;
  double scale = 1.0;
  /// The kernels' error before (the base) and after (leave-one-out: each sample predicted
  /// with the scale fitted without it, so the figure is not flattered by the fit); the
  /// trainer's figures (RMSPE, shares within ±5/10/15 %).
  latency_metrics before;
  latency_metrics after;
};

struct calibration_event {
  enum class what {
    sampled,   ///< the configurations are drawn (total = to measure)
    measured,  ///< one configuration measured, found in the store, or failed
  };
  what event = what::sampled;
  std::size_t index = 0;
  std::size_t total = 0;
  const measure_event* measurement = nullptr;
};

struct calibration_options {
  /// Configurations drawn per kind (a few: calibration is few-shot).
  std::size_t per_kind = 4;
  /// Measuring budget, minutes (0 = none); configurations are measured kind by kind in turn,
  /// so a budget that runs out leaves every kind some samples.
  double budget_minutes = 2;
  /// The seed of the draws (derive_seed per kind). Calibration's own: not a build's SEED.
  std::uint64_t seed = 7;
  /// The measurement protocol; default the base predictor's own (its measurement_protocol).
  std::optional<nnmeter::backends::measurement_protocol> protocol;
  /// Size caps of the drawn configurations (kept small: each is measured in a fraction of a
  /// second).
  double max_mflops = 250;
  double max_mbytes = 32;
  /// Asked before each measurement: true stops there (what was measured stays in the store).
  std::function<bool()> stop;
  std::function<void(const calibration_event&)> on_event;
};

struct calibration_report {
  std::string base_name;
  std::string base_version;
  std::string base_device;
  std::string backend;
  std::string device;  ///< this machine, as the backend describes it
  std::vector<kind_calibration> kinds;
  /// The scale of every kind together (fit_kind_scales' pooled scale), and how much the kinds
  /// really differ against the noise of one sample (its between and within variances).
  double pooled_scale = 1.0;
  double between_variance = 0;
  double within_variance = 0;
  /// Every sample, before and after (leave-one-out per kind, as kind_calibration::after).
  latency_metrics before;
  latency_metrics after;
  std::size_t measured = 0;        ///< configurations measured in this run
  std::size_t already_stored = 0;  ///< found in the store
  std::size_t failed = 0;
  double seconds = 0;              ///< time spent measuring
  bool stopped = false;
  bool budget_exhausted = false;
  /// The base with the fitted kind scales: info().device is this machine, protocol_json the
  /// calibration's protocol, build_json the base's with a "calibration" object
  /// (calibration_json) added.
  nnmeter::predictor predictor;
};

/// Calibrates `base` (a predictor of backend be.name()'s runtime) to the machine `be` runs on;
/// see the file comment. Measures through `store` (purpose kernel, the keys build-predictor
/// uses, so a store shared with a build reuses its rows). Throws nnmeter::error when no kind
/// got a sample (nothing to fit on), naming the first kind's reason.
[[nodiscard]] calibration_report calibrate(const nnmeter::predictor& base, profile_store& store,
                                           nnmeter::backends::backend& be,
                                           const calibration_options& options = {});

/// Scales of groups of samples (the kinds), from each sample's log(measured / predicted):
/// a normal model of the log ratios, kind k's true log scale mu_k drawn around a common mu with
/// variance tau^2, kind k's samples around mu_k with variance sigma_k^2.
///   mu         the mean of the kinds' mean log ratios (every kind with samples counts once)
///   sigma^2    the pooled within-kind variance (sum of squared deviations from the kinds' means
///              over sum(n_k - 1)); 0 when no kind has two samples
///   s0^2       the prior of a kind's variance: the median of the sample variances of the kinds
///              with two samples or more (sigma^2 when fewer than three kinds have them)
///   sigma_k^2  kind k's own variance with prior_dof pseudo-samples of s0^2:
///              (SS_k + prior_dof s0^2) / (n_k - 1 + prior_dof). A kind whose forest is
///              accurate (a conv) keeps its small noise; a noisy one (tiny elementwise
///              kernels) is not trusted more than its samples warrant, and does not make the
///              others' scales noisier
///   tau^2      the variance of the kinds' means minus the mean of sigma_k^2 / n_k, at least
///              min_between_variance
///   scale_k    exp(mu + w_k (mean_k - mu)), w_k = tau^2 / (tau^2 + sigma_k^2 / n_k)
/// So a kind whose samples agree with each other and differ from the rest keeps its own scale,
/// and one whose difference is within its noise gets nearly the common one. A group without
/// samples gets exp(mu); with no sample at all every scale is 1.
struct kind_scale_fit {
  double pooled = 1.0;  ///< exp(mu)
  double between_variance = 0;  ///< tau^2
  double within_variance = 0;   ///< sigma^2
  double prior_variance = 0;    ///< s0^2
  std::vector<double> kind_variance;  ///< per group: sigma_k^2 (0 when empty)
  std::vector<double> own;     ///< per group: exp(mean_k) (the pooled scale when empty)
  std::vector<double> scales;  ///< per group: the scale it gets
};
/// `log_ratios[k]`: the log(measured / predicted) of group k's samples (finite numbers).
[[nodiscard]] kind_scale_fit fit_kind_scales(const std::vector<std::vector<double>>& log_ratios,
                                             double min_between_variance = 1e-4,
                                             double prior_dof = 1.0);

/// The report as JSON text (what the "calibration" object of the adapted predictor's build
/// record holds, with the per-kind figures).
[[nodiscard]] std::string calibration_json(const calibration_report& r);

}  // namespace nnmeter::builder
