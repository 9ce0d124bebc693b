// nnmeter — the latency predictor: rules + per-kernel forests + feature set -> latency (ms).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/evaluate_batch.hpp>
#include <nnmeter/forest/forest.hpp>
#include <nnmeter/forest/forest_view.hpp>
#include <nnmeter/fusion/detect.hpp>
#include <nnmeter/fusion/rules.hpp>
#include <nnmeter/kernels/features.hpp>
#include <nnmeter/kernels/kernel_kind.hpp>
#include <nnmeter/predictor/fallback.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// What a predictor is: its name and version, the device and backend it was built for, the
/// feature set its forests read, and the measurement protocol of its training data.
struct predictor_info {
  std::string name;
  std::string version;
  std::string device;
  std::string backend;
  feature_set features = feature_set::extended;
  /// The measurement protocol as recorded by the builder (JSON text; empty when unknown).
  std::string protocol_json;
  /// What the builder recorded about the build (JSON object text: runtime, samples and
  /// held-out accuracy per kind, profiling minutes, ...; empty when unknown).
  std::string build_json;
};

/// What a kind's forest predicts. `ms`: the latency itself (nn-Meter's forests). The others
/// predict the latency per unit of work and the predictor multiplies by the kernel's work, so a
/// tree's constant leaves follow the latency across orders of magnitude of kernel size: on this
/// machine's XNNPACK measurements, held-out conv-bn-relu kernels within ±10 % went from 69 % to
/// over 90 % (docs/builder.md). The work comes from the kernel's costs (kernel::flops,
/// kernel::bytes), so these targets need a feature set that computes them (extended).
enum class latency_target : std::uint8_t {
  ms,            ///< "ms": the forest gives milliseconds
  ms_per_mflop,  ///< "ms-per-mflop": ms / (MFLOPs + 0.001)
  ms_per_mbyte,  ///< "ms-per-mbyte": ms / (MB moved + 0.001)
};

/// "ms", "ms-per-mflop", "ms-per-mbyte".
constexpr std::string_view to_string(latency_target t) noexcept {
  switch (t) {
    case latency_target::ms: return "ms";
    case latency_target::ms_per_mflop: return "ms-per-mflop";
    default: return "ms-per-mbyte";
  }
}

/// Parses to_string's spellings.
constexpr std::optional<latency_target> parse_latency_target(std::string_view s) noexcept {
  if (s == "ms") return latency_target::ms;
  if (s == "ms-per-mflop") return latency_target::ms_per_mflop;
  if (s == "ms-per-mbyte") return latency_target::ms_per_mbyte;
  return std::nullopt;
}

/// The factor a forest's output is multiplied by to give milliseconds: 1 for `ms`, else the
/// kernel's work in millions (FLOPs, a multiply-add counting 2, or bytes moved) plus 0.001, so
/// that a kernel of no work still has a positive latency. NaN when the work is unknown.
constexpr double target_scale(latency_target t, double flops, double bytes) noexcept {
  switch (t) {
    case latency_target::ms: return 1.0;
    case latency_target::ms_per_mflop: return flops / 1e6 + 1e-3;
    default: return bytes / 1e6 + 1e-3;
  }
}

/// Why a kernel has, or has not, a predicted latency.
enum class kernel_status : std::uint8_t {
  predicted,         ///< a forest predicted it
  no_model,          ///< the predictor has no forest for the kernel's kind
  no_features,       ///< the feature set has no vector for this kernel
  feature_mismatch,  ///< the forest reads a different number of features than the set gives
  non_positive,      ///< the forest's output is not a positive latency (a forest extrapolating
                     ///< below zero): kept in latency_ms for diagnosis, never summed
  fallback,          ///< no forest latency (kernel_latency::reason says why), but the predictor's
                     ///< fallback model of the kind's family estimated it from the kernel's
                     ///< FLOPs and bytes: summed, and counted apart (prediction::fallback_ms)
};

/// Spelling of a kernel_status in reports: "predicted", "no-model", "no-features",
/// "feature-mismatch", "non-positive", "fallback".
constexpr std::string_view to_string(kernel_status s) noexcept {
  switch (s) {
    case kernel_status::predicted: return "predicted";
    case kernel_status::no_model: return "no-model";
    case kernel_status::no_features: return "no-features";
    case kernel_status::feature_mismatch: return "feature-mismatch";
    case kernel_status::fallback: return "fallback";
    default: return "non-positive";
  }
}

/// Latency of one kernel; `latency_ms` is meaningful only when status is predicted or fallback
/// (with non_positive it holds the forest's rejected output).
struct kernel_latency {
  double latency_ms = 0.0;
  kernel_status status = kernel_status::no_model;
  /// Why the forest gave no latency when status == fallback (no_model, no_features,
  /// feature_mismatch or non_positive); otherwise equal to status.
  kernel_status reason = kernel_status::no_model;
};

/// A model's predicted latency with its per-kernel breakdown.
struct prediction {
  /// Sum of the latencies of the kernels predicted by a forest and of those estimated by the
  /// fallback model, in milliseconds, in kernel order. Kernels with neither add nothing here:
  /// check complete() / unpredicted before trusting it as a model latency, and fallback_ms for
  /// how much of it is a fallback estimate.
  double latency_ms = 0.0;
  /// The detected kernels (and free nodes), in nn-Meter's order.
  detection detected;
  /// One entry per detected kernel, aligned with detected.kernels.
  std::vector<kernel_latency> kernels;
  /// Number of kernels with status == predicted (a forest), with status == fallback, and the
  /// others (no latency at all).
  std::size_t predicted = 0;
  std::size_t unpredicted = 0;
  std::size_t fallback = 0;
  /// The part of latency_ms that the fallback kernels add (summed in kernel order).
  double fallback_ms = 0.0;

  /// True when every kernel got a latency, from a forest or from the fallback model.
  bool complete() const noexcept { return unpredicted == 0; }
  /// fallback_ms / latency_ms: the share of the total that is a fallback estimate (0 when the
  /// total is 0).
  double fallback_share() const noexcept { return latency_ms > 0 ? fallback_ms / latency_ms : 0.0; }
};

/// A model's predicted latency without the breakdown (predictor::latency).
struct latency_summary {
  /// Sum of the forest-predicted and fallback kernels' latencies, in milliseconds (as
  /// prediction::latency_ms); kernels with neither add nothing: check complete().
  double latency_ms = 0.0;
  /// Number of detected kernels, of those predicted by a forest, of the others without any
  /// latency, and of those estimated by the fallback model.
  std::size_t kernels = 0;
  std::size_t predicted = 0;
  std::size_t unpredicted = 0;
  std::size_t fallback = 0;
  /// The part of latency_ms from fallback estimates.
  double fallback_ms = 0.0;

  /// True when every kernel got a latency, from a forest or from the fallback model.
  bool complete() const noexcept { return unpredicted == 0; }
  /// fallback_ms / latency_ms (0 when the total is 0).
  double fallback_share() const noexcept { return latency_ms > 0 ? fallback_ms / latency_ms : 0.0; }
};

namespace detail {
/// A latency as verify() prints it: enough digits to tell two floats apart.
inline std::string golden_number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}
}  // namespace detail

/// A golden case of a predictor: a kernel kind, a feature vector of that kind, and the latency
/// (ms) the predictor's forest gave for it when its package was written. A package carries
/// them and predictor::verify() re-runs them, so that a package that does not predict as it
/// did when it was built (a damaged forest file, a reader or evaluator change, a feature set
/// mismatch) is found before it is used.
struct golden_case {
  kernel_kind kind = kernel_kind::conv_bn_relu;
  feature_vector features;
  double latency_ms = 0.0;
  /// The factor the forest's output was multiplied by (target_scale of the kind's target and
  /// the kernel's work; 1 for `ms`).
  double scale = 1.0;
};

/// What predictor::verify() found: the cases it ran and one message per case that failed.
struct verify_result {
  std::size_t checked = 0;
  std::vector<std::string> failures;
  /// True when there were golden cases and every one reproduced.
  bool ok() const noexcept { return checked > 0 && failures.empty(); }
};

/// A device's latency predictor. Holds the fusion rules and one forest per kernel kind, either
/// owned (loaded at run time) or viewed (constexpr tables of a generated header).
class predictor {
 public:
  predictor() = default;
  predictor(predictor_info info, rule_set rules)
      : info_(std::move(info)), rules_(std::move(rules)) {}
  // Views of owned forests point into their storage, so copies re-derive them.
  predictor(const predictor& o)
      : info_(o.info_), rules_(o.rules_), owned_(o.owned_), views_(o.views_),
        targets_(o.targets_), depth_(o.depth_), golden_(o.golden_), fallback_(o.fallback_),
        context_(o.context_), kind_scale_(o.kind_scale_), factor_(o.factor_) {
    rebind();
  }
  predictor(predictor&& o) noexcept
      : info_(std::move(o.info_)), rules_(std::move(o.rules_)), owned_(std::move(o.owned_)),
        views_(o.views_), targets_(o.targets_), depth_(std::move(o.depth_)),
        golden_(std::move(o.golden_)), fallback_(o.fallback_), context_(o.context_),
        kind_scale_(o.kind_scale_), factor_(o.factor_) {
    rebind();
  }
  predictor& operator=(const predictor& o) {
    if (this != &o) {
      info_ = o.info_;
      rules_ = o.rules_;
      owned_ = o.owned_;
      views_ = o.views_;
      targets_ = o.targets_;
      depth_ = o.depth_;
      golden_ = o.golden_;
      fallback_ = o.fallback_;
      context_ = o.context_;
      kind_scale_ = o.kind_scale_;
      factor_ = o.factor_;
      rebind();
    }
    return *this;
  }
  predictor& operator=(predictor&& o) noexcept {
    info_ = std::move(o.info_);
    rules_ = std::move(o.rules_);
    owned_ = std::move(o.owned_);
    views_ = o.views_;
    targets_ = o.targets_;
    depth_ = std::move(o.depth_);
    golden_ = std::move(o.golden_);
    fallback_ = o.fallback_;
    context_ = o.context_;
    kind_scale_ = o.kind_scale_;
    factor_ = o.factor_;
    rebind();
    return *this;
  }
  ~predictor() = default;

  const predictor_info& info() const noexcept { return info_; }
  /// Replaces the description (name, version, device, protocol and build records); forests,
  /// rules, scales and golden cases stay. E.g. a predictor adapted to another machine.
  void set_info(predictor_info i) { info_ = std::move(i); }
  const rule_set& rules() const noexcept { return rules_; }

  /// Installs an owned forest for a kernel kind (replacing any previous one).
  void set_forest(kernel_kind k, forest f) {
    const auto i = index(k);
    owned_[i] = std::move(f);
    views_[i] = owned_[i]->view();
    depth_[i] = detail::forest_group_depths(*views_[i]);
  }
  /// Installs a non-owning forest view (the tables must outlive the predictor).
  void set_forest(kernel_kind k, forest_view v) {
    const auto i = index(k);
    owned_[i].reset();
    views_[i] = v;
    depth_[i] = detail::forest_group_depths(v);
  }
  /// True when the predictor has a forest for kind k.
  bool has_forest(kernel_kind k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kernel_kind_count && views_[i].has_value();
  }
  /// The forest for kind k, if any.
  std::optional<forest_view> forest_for(kernel_kind k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    if (i >= kernel_kind_count) return std::nullopt;
    return views_[i];
  }

  /// What the forest of kind k predicts (default latency_target::ms); the predictor multiplies
  /// its output by target_scale(target, kernel.flops, kernel.bytes).
  void set_target(kernel_kind k, latency_target t) { targets_[index(k)] = t; }
  latency_target target_for(kernel_kind k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kernel_kind_count ? targets_[i] : latency_target::ms;
  }
  /// The factor kernel k's forest output is multiplied by for its target (target_scale; the
  /// golden cases record it). The kernel's latency is that times latency_factor(k.kind).
  double scale_of(const kernel& k) const noexcept {
    return target_scale(target_for(k.kind), k.flops, k.bytes);
  }

  /// Sets the context factor: every kernel latency (forest or fallback) is multiplied by it.
  /// Kernels inside a whole model run slower than the same kernels measured alone (their
  /// weights and inputs no longer stay in the caches from one invoke to the next), so the sum
  /// of kernel latencies measured alone falls short of the model's; build-predictor fits this
  /// factor on models measured whole (docs/builder.md, "Context factor"). Default 1 (none).
  /// Throws nnmeter::error unless s is finite and positive.
  void set_context_scale(double s) {
    if (!(s > 0) || !(s < std::numeric_limits<double>::infinity()))
      throw error("predictor: the context factor must be a finite positive number, not " +
                  detail::golden_number(s));
    context_ = s;
    update_factors();
  }
  /// The context factor (1 when none was set).
  double context_scale() const noexcept { return context_; }

  /// Sets the scale of kind k: every latency of a kernel of kind k (forest or fallback) is
  /// multiplied by it, besides the context factor. `nnmeter calibrate` fits one per kind to
  /// adapt a predictor to another machine from a few measurements (docs/calibration.md).
  /// Default 1. Throws nnmeter::error when s is not a finite positive number or k not a kind.
  void set_kind_scale(kernel_kind k, double s) {
    if (!(s > 0) || !(s < std::numeric_limits<double>::infinity()))
      throw error(std::string("predictor: the scale of kind ") + std::string(to_string(k)) +
                  " must be a finite positive number, not " + detail::golden_number(s));
    kind_scale_[index(k)] = s;
    update_factors();
  }
  /// The scale of kind k (1 when none was set, and for an invalid kind).
  double kind_scale(kernel_kind k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kernel_kind_count ? kind_scale_[i] : 1.0;
  }
  /// True when some kind has a scale other than 1.
  bool has_kind_scales() const noexcept {
    for (double s : kind_scale_)
      if (s != 1.0) return true;
    return false;
  }
  /// What every latency of a kernel of kind k is multiplied by: context_scale() times
  /// kind_scale(k), computed once (context_scale() itself when the kind's scale is 1).
  double latency_factor(kernel_kind k) const noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kernel_kind_count ? factor_[i] : context_;
  }

  /// Installs the fallback model of family f (replacing any previous one): a kernel of a kind
  /// of f that gets no forest latency (no forest, no usable feature vector, a non-positive
  /// output) gets fallback_estimate(c, kernel.flops, kernel.bytes) with status fallback.
  /// Throws nnmeter::error when c is not valid() (a negative, NaN or infinite coefficient, or
  /// all zero) or f is not a family.
  void set_fallback(kernel_family f, const fallback_coefficients& c) {
    const auto i = static_cast<std::size_t>(f);
    if (i >= kernel_family_count) throw error("predictor: invalid kernel family");
    if (!valid(c))
      throw error("predictor: fallback coefficients of family '" + std::string(to_string(f)) +
                  "' must be finite, non-negative and not all zero (base " +
                  detail::golden_number(c.base_ms) + " ms, " + detail::golden_number(c.ms_per_mflop) +
                  " ms/MFLOP, " + detail::golden_number(c.ms_per_mbyte) + " ms/MB)");
    fallback_[i] = c;
  }
  /// Removes the fallback model of family f.
  void clear_fallback(kernel_family f) noexcept {
    const auto i = static_cast<std::size_t>(f);
    if (i < kernel_family_count) fallback_[i].reset();
  }
  /// The fallback model of family f, if any.
  std::optional<fallback_coefficients> fallback_for(kernel_family f) const noexcept {
    const auto i = static_cast<std::size_t>(f);
    return i < kernel_family_count ? fallback_[i] : std::nullopt;
  }
  /// True when some family has a fallback model.
  bool has_fallback() const noexcept {
    for (const auto& c : fallback_)
      if (c) return true;
    return false;
  }

  /// Adds a golden case (see golden_case); verify() re-runs it.
  void add_golden(golden_case c) { golden_.push_back(std::move(c)); }
  /// The golden cases, in the order they were added.
  const std::vector<golden_case>& golden() const noexcept { return golden_; }
  /// Records up to `per_kind` golden cases of kind k: the first of the given feature vectors
  /// (of that kind) with the latencies this predictor gives them now; `scales[i]` is row i's
  /// target_scale (empty: 1 for every row, as for `ms`). Throws nnmeter::error when k has no
  /// forest, a vector's length is not the forest's, or scales has another length than rows.
  void record_golden(kernel_kind k, const std::vector<feature_vector>& rows,
                     std::size_t per_kind = 8, const std::vector<double>& scales = {}) {
    const auto f = forest_for(k);
    if (!f) throw error("predictor: no forest for kind '" + std::string(to_string(k)) +
                        "' to record golden cases with");
    if (!scales.empty() && scales.size() != rows.size())
      throw error("predictor: " + std::to_string(scales.size()) + " golden scales for " +
                  std::to_string(rows.size()) + " rows of kind '" + std::string(to_string(k)) + "'");
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const feature_vector& fv = rows[r];
      if (n == per_kind) break;
      if (check_features(fv, *f) != kernel_status::predicted)
        throw error("predictor: a golden feature vector of kind '" + std::string(to_string(k)) +
                    "' has " + std::to_string(fv.size()) + " values, its forest reads " +
                    std::to_string(f->num_features));
      const double scale = scales.empty() ? 1.0 : scales[r];
      const double ms = static_cast<double>(evaluate_row(*f, fv)) * scale;
      if (!(ms > 0))
        throw error("predictor: the forest of kind '" + std::string(to_string(k)) +
                    "' predicts " + detail::golden_number(ms) + " ms for golden row " +
                    std::to_string(r) + "; a golden case must be a positive latency");
      golden_.push_back({k, fv, ms, scale});
      ++n;
    }
  }

  /// Re-runs every golden case: the forest of the case's kind must give the recorded latency
  /// exactly (as a float: the forests accumulate in float, so a faithful package reproduces
  /// the bits). Each failure names the case, its kind and both values.
  [[nodiscard]] verify_result verify() const {
    verify_result r;
    for (std::size_t i = 0; i < golden_.size(); ++i) {
      const golden_case& c = golden_[i];
      ++r.checked;
      const std::string what = "golden case " + std::to_string(i) + " (" +
                               std::string(to_string(c.kind)) + ")";
      const auto f = forest_for(c.kind);
      if (!f) {
        r.failures.push_back(what + ": the predictor has no forest for this kind");
        continue;
      }
      if (check_features(c.features, *f) != kernel_status::predicted) {
        r.failures.push_back(what + ": " + std::to_string(c.features.size()) +
                             " features, but the forest reads " +
                             std::to_string(f->num_features));
        continue;
      }
      const double got = static_cast<double>(evaluate_row(*f, c.features)) * c.scale;
      if (!(static_cast<float>(got) == static_cast<float>(c.latency_ms)))
        r.failures.push_back(what + ": predicts " + detail::golden_number(got) +
                             " ms, the package recorded " +
                             detail::golden_number(c.latency_ms) + " ms");
    }
    return r;
  }

  /// Latency of one kernel under this predictor.
  kernel_latency predict_kernel(const kernel& k) const {
    kernel_latency l = forest_latency(k);
    if (l.status != kernel_status::predicted) apply_fallback(k, l);
    return l;
  }

  /// Latencies of already detected kernels. Kernels of one kind are evaluated together
  /// (evaluate_batch), each with exactly the result predict_kernel would give.
  prediction predict(detection d) const {
    prediction p;
    eval_scratch scratch;
    evaluate_kernels(d.kernels, p.kernels, scratch);
    tally(p.kernels, p.latency_ms, p.predicted, p.unpredicted, p.fallback, p.fallback_ms);
    p.detected = std::move(d);
    return p;
  }

  /// Detects the kernels of g with this predictor's rules and predicts their latencies.
  template <class G>
  NNMETER_REQUIRES(is_op_graph_v<G>)
  prediction predict(const G& g) const {
    return predict(detect(g, rules_));
  }

  /// predict(g) into `out`, reusing out's storage (the detection's kernels, the latencies) and
  /// a per-thread detector: the same result, field for field, without allocating once `out`
  /// has held a graph as large. For NAS loops that want the breakdown. Thread-safe.
  template <class G>
  NNMETER_REQUIRES(is_op_graph_v<G>)
  void predict(const G& g, prediction& out) const {
    workspace& ws = thread_workspace();
    ws.detector.run_into(g, rules_, out.detected);
    evaluate_kernels(out.detected.kernels, out.kernels, ws.scratch);
    tally(out.kernels, out.latency_ms, out.predicted, out.unpredicted, out.fallback,
          out.fallback_ms);
  }

  /// The latency of g without the breakdown: the same kernels and the same per-kernel values
  /// as predict(g), summed in the same order, so latency_ms equals predict(g).latency_ms bit
  /// for bit. Made for calling many times (NAS): it works in a per-thread workspace that is
  /// reused from call to call, so a warm call does not allocate. Thread-safe.
  template <class G>
  NNMETER_REQUIRES(is_op_graph_v<G>)
  latency_summary latency(const G& g) const {
    workspace& ws = thread_workspace();
    detect_options options;
    // nn-Meter's vectors read no costs; the targets per unit of work and the fallback do.
    options.costs = info_.features != feature_set::nnmeter || scaled_targets() || has_fallback();
    const detection& d = ws.detector.run(g, rules_, options);
    evaluate_kernels(d.kernels, ws.latencies, ws.scratch);
    latency_summary s;
    s.kernels = d.kernels.size();
    tally(ws.latencies, s.latency_ms, s.predicted, s.unpredicted, s.fallback, s.fallback_ms);
    return s;
  }

 private:
  // Sum of the predicted and fallback latencies in kernel order (the order every path uses, so
  // the totals agree bit for bit), the fallback part alone, and the counts.
  static void tally(const std::vector<kernel_latency>& lat, double& ms, std::size_t& predicted,
                    std::size_t& unpredicted, std::size_t& fallback, double& fallback_ms) noexcept {
    ms = 0.0;
    fallback_ms = 0.0;
    predicted = 0;
    unpredicted = 0;
    fallback = 0;
    for (const kernel_latency& l : lat) {
      if (l.status == kernel_status::predicted) {
        ms += l.latency_ms;
        ++predicted;
      } else if (l.status == kernel_status::fallback) {
        ms += l.latency_ms;
        fallback_ms += l.latency_ms;
        ++fallback;
      } else {
        ++unpredicted;
      }
    }
  }

  // The forest's latency of kernel k (predict_kernel without the fallback).
  kernel_latency forest_latency(const kernel& k) const {
    const auto i = static_cast<std::size_t>(k.kind);
    if (i >= kernel_kind_count || !views_[i])
      return {0.0, kernel_status::no_model, kernel_status::no_model};
    const feature_vector f = features(k, info_.features);
    const kernel_status st = check_features(f, *views_[i]);
    if (st != kernel_status::predicted) return {0.0, st, st};
    return checked(static_cast<double>(evaluate(*views_[i], f.data())) * scale_of(k) *
                   factor_[i]);
  }

  // l is k's latency without a forest prediction: the family's fallback estimate replaces it
  // when there is one (status fallback, l's status kept as the reason); otherwise l stays.
  void apply_fallback(const kernel& k, kernel_latency& l) const noexcept {
    const auto fi = static_cast<std::size_t>(family_of(k.kind));
    if (fi >= kernel_family_count || !fallback_[fi]) return;
    if (const std::optional<double> ms = fallback_estimate(*fallback_[fi], k.flops, k.bytes))
      l = {*ms * latency_factor(k.kind), kernel_status::fallback, l.status};
  }

  // Buffers of evaluate_kernels, reusable across calls.
  struct eval_scratch {
    std::vector<std::size_t> order;
    std::vector<float> rows;
    std::vector<std::size_t> which;
    std::vector<float> out;
    std::vector<std::size_t> sorted;
    std::vector<std::size_t> slot;
    std::vector<float> unique_rows;
  };

  // What latency() and predict(g, out) reuse from call to call, one per thread.
  struct workspace {
    kernel_detector detector;
    eval_scratch scratch;
    std::vector<kernel_latency> latencies;
  };
  static workspace& thread_workspace() {
    static thread_local workspace ws;
    return ws;
  }

  // lat[i] = the latency of ks[i] (lat is resized to ks.size()).
  void evaluate_kernels(const std::vector<kernel>& ks, std::vector<kernel_latency>& lat,
                        eval_scratch& s) const {
    const std::size_t n = ks.size();
    lat.assign(n, kernel_latency{0.0, kernel_status::no_model, kernel_status::no_model});
    // Kernels grouped by kind, in kernel order within a kind (counting sort).
    std::array<std::size_t, kernel_kind_count + 1> start{};
    for (const kernel& k : ks) ++start[static_cast<std::size_t>(k.kind) + 1];
    for (std::size_t i = 0; i < kernel_kind_count; ++i) start[i + 1] += start[i];
    std::vector<std::size_t>& order = s.order;
    order.resize(n);
    {
      std::array<std::size_t, kernel_kind_count + 1> fill = start;
      for (std::size_t i = 0; i < n; ++i) order[fill[static_cast<std::size_t>(ks[i].kind)]++] = i;
    }
    std::vector<float>& rows = s.rows;
    std::vector<std::size_t>& which = s.which;
    std::vector<std::size_t>& sorted = s.sorted;
    std::vector<std::size_t>& slot = s.slot;
    std::vector<float>& unique_rows = s.unique_rows;
    for (std::size_t kind = 0; kind < kernel_kind_count; ++kind) {
      if (start[kind] == start[kind + 1] || !views_[kind]) continue;
      const forest_view& f = *views_[kind];
      rows.clear();
      which.clear();
      for (std::size_t e = start[kind]; e < start[kind + 1]; ++e) {
        const std::size_t i = order[e];
        const feature_vector fv = features(ks[i], info_.features);
        lat[i].status = check_features(fv, f);
        if (lat[i].status != kernel_status::predicted) continue;
        for (double x : fv) rows.push_back(static_cast<float>(x));
        which.push_back(i);
      }
      if (which.empty()) continue;
      // Kernels with equal feature vectors (repeated blocks) are evaluated once. Rows are
      // ordered by their bytes: a strict order even with NaN, and equal bytes give equal results.
      // Here nf > 0: rows hold only vectors whose length equals the forest's.
      const std::size_t nf = f.num_features;
      auto row_less = [&](std::size_t a, std::size_t b) {
        return std::memcmp(rows.data() + a * nf, rows.data() + b * nf, nf * sizeof(float)) < 0;
      };
      sorted.resize(which.size());
      for (std::size_t r = 0; r < which.size(); ++r) sorted[r] = r;
      std::sort(sorted.begin(), sorted.end(), row_less);
      unique_rows.clear();
      slot.resize(which.size());
      for (std::size_t e = 0; e < sorted.size(); ++e) {
        const std::size_t r = sorted[e];
        if (e == 0 || row_less(sorted[e - 1], r))
          unique_rows.insert(unique_rows.end(), rows.begin() + static_cast<std::ptrdiff_t>(r * nf),
                             rows.begin() + static_cast<std::ptrdiff_t>((r + 1) * nf));
        slot[r] = unique_rows.size() / nf - 1;
      }
      s.out.resize(unique_rows.size() / nf);
      detail::evaluate_batch_bounded(f, depth_[kind].data(), unique_rows.data(), s.out.size(), nf,
                                     s.out.data());
      for (std::size_t r = 0; r < which.size(); ++r)
        lat[which[r]] =
            checked(static_cast<double>(s.out[slot[r]]) * scale_of(ks[which[r]]) * factor_[kind]);
    }
    // Kernels the forests left without a latency get their family's fallback estimate, if
    // any; a predictor without fallback models skips this pass.
    if (has_fallback())
      for (std::size_t i = 0; i < n; ++i)
        if (lat[i].status != kernel_status::predicted) apply_fallback(ks[i], lat[i]);
  }

  // A forest's output as a kernel latency: predicted when positive (a latency), else
  // non_positive, so that no zero or negative milliseconds ever enter a total.
  static kernel_latency checked(double ms) noexcept {
    const kernel_status st = ms > 0 ? kernel_status::predicted : kernel_status::non_positive;
    return {ms, st, st};
  }

  static float evaluate_row(const forest_view& f, const feature_vector& fv) noexcept {
    std::array<float, feature_vector::capacity> row{};
    for (std::size_t j = 0; j < fv.size(); ++j) row[j] = static_cast<float>(fv[j]);
    return evaluate(f, row.data());
  }

  // Whether a kernel's feature vector can be fed to forest f.
  static kernel_status check_features(const feature_vector& fv, const forest_view& f) noexcept {
    if (fv.empty()) return kernel_status::no_features;
    if (fv.size() != f.num_features) return kernel_status::feature_mismatch;
    return kernel_status::predicted;
  }
  bool scaled_targets() const noexcept {
    for (std::size_t i = 0; i < kernel_kind_count; ++i)
      if (views_[i] && targets_[i] != latency_target::ms) return true;
    return false;
  }
  void rebind() noexcept {
    for (std::size_t i = 0; i < kernel_kind_count; ++i)
      if (owned_[i]) views_[i] = owned_[i]->view();
  }
  void update_factors() noexcept {
    for (std::size_t i = 0; i < kernel_kind_count; ++i)
      factor_[i] = kind_scale_[i] == 1.0 ? context_ : context_ * kind_scale_[i];
  }
  static std::array<double, kernel_kind_count> ones() noexcept {
    std::array<double, kernel_kind_count> a{};
    a.fill(1.0);
    return a;
  }
  static std::size_t index(kernel_kind k) {
    const auto i = static_cast<std::size_t>(k);
    if (i >= kernel_kind_count) throw error("predictor: invalid kernel kind");
    return i;
  }

  predictor_info info_;
  rule_set rules_;
  std::array<std::optional<forest>, kernel_kind_count> owned_{};
  std::array<std::optional<forest_view>, kernel_kind_count> views_{};
  std::array<latency_target, kernel_kind_count> targets_{};
  // Per kind: depth bound of each group of 8 trees (detail::forest_group_depths), for the walk.
  std::array<std::vector<std::uint32_t>, kernel_kind_count> depth_{};
  std::vector<golden_case> golden_;
  // Per family: the fallback model, if any.
  std::array<std::optional<fallback_coefficients>, kernel_family_count> fallback_{};
  // The context factor (set_context_scale), the kinds' scales (set_kind_scale), and their
  // products, the factor of each kind's latencies.
  double context_ = 1.0;
  std::array<double, kernel_kind_count> kind_scale_ = ones();
  std::array<double, kernel_kind_count> factor_ = ones();
};

NNMETER_END_NAMESPACE
