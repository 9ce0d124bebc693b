// nnmeter builder — fitting the fallback models of a predictor (fallback_fit.hpp).
// SPDX-License-Identifier: MIT
#include "builder/predictorbuild/fallback_fit.hpp"

#include "builder/sampler/sampling.hpp"
#include "builder/trainer/trainer.hpp"
#include "measure.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace nnmeter::builder {

namespace {

// The three regressors of a sample, in coefficient order: 1, MFLOPs, MB.
std::array<double, 3> regressors(const fallback_sample& s) {
  return {1.0, s.flops / 1e6, s.bytes / 1e6};
}

nnmeter::fallback_coefficients from_array(const std::array<double, 3>& c) {
  return {c[0], c[1], c[2]};
}

std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

void check_sample(const fallback_sample& s, std::size_t i) {
  const bool ok = std::isfinite(s.flops) && s.flops >= 0 && std::isfinite(s.bytes) && s.bytes > 0 &&
                  std::isfinite(s.latency_ms) && s.latency_ms > 0;
  if (!ok)
    throw nnmeter::error("fallback fit: sample " + std::to_string(i) + " of kind " +
                         std::string(nnmeter::to_string(s.kind)) + " has FLOPs " +
                         std::to_string(s.flops) + ", bytes " + std::to_string(s.bytes) +
                         " and latency " + std::to_string(s.latency_ms) +
                         " ms; the work must be known (bytes > 0) and the latency positive");
}

}  // namespace

fallback_metrics fallback_quality(const nnmeter::fallback_coefficients& c,
                                  const std::vector<fallback_sample>& rows,
                                  const std::vector<std::size_t>& which) {
  const std::vector<std::size_t> idx = which.empty() ? all_rows(rows.size()) : which;
  fallback_metrics m;
  m.n = idx.size();
  if (idx.empty()) return m;
  std::vector<double> err;
  err.reserve(idx.size());
  std::size_t in25 = 0, in50 = 0;
  for (std::size_t i : idx) {
    const fallback_sample& s = rows.at(i);
    const std::optional<double> e = nnmeter::fallback_estimate(c, s.flops, s.bytes);
    // No estimate counts as the worst error there is (it never happens for checked samples).
    const double r = e ? std::abs(*e - s.latency_ms) / s.latency_ms
                       : std::numeric_limits<double>::infinity();
    err.push_back(r);
    if (r <= 0.25) ++in25;
    if (r <= 0.5) ++in50;
  }
  std::sort(err.begin(), err.end());
  m.within_25 = 100.0 * static_cast<double>(in25) / static_cast<double>(idx.size());
  m.within_50 = 100.0 * static_cast<double>(in50) / static_cast<double>(idx.size());
  m.median_abs_error = 100.0 * nnmeter::backends::percentile(err, 0.5);
  return m;
}

std::optional<nnmeter::fallback_coefficients> fit_fallback_coefficients(
    const std::vector<fallback_sample>& rows, const std::vector<std::size_t>& which,
    const std::vector<double>& weights) {
  const std::vector<std::size_t> idx = which.empty() ? all_rows(rows.size()) : which;
  if (!weights.empty() && weights.size() != rows.size())
    throw nnmeter::error("fallback fit: " + std::to_string(weights.size()) + " weights for " +
                         std::to_string(rows.size()) + " samples");
  if (idx.empty()) return std::nullopt;
  const auto n = static_cast<Eigen::Index>(idx.size());
  // Row i of the relative problem: sqrt(w_i) * x_i / y_i against sqrt(w_i) (the estimate's
  // ratio to the measurement should be 1).
  Eigen::MatrixXd x(n, 3);
  Eigen::VectorXd t(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    const std::size_t i = idx[static_cast<std::size_t>(r)];
    const fallback_sample& s = rows.at(i);
    check_sample(s, i);
    const double w = weights.empty() ? 1.0 : weights[i];
    if (!(w > 0) || !std::isfinite(w))
      throw nnmeter::error("fallback fit: weight " + std::to_string(w) + " of sample " +
                           std::to_string(i) + " is not a positive number");
    const double sw = std::sqrt(w);
    const std::array<double, 3> a = regressors(s);
    for (Eigen::Index j = 0; j < 3; ++j) x(r, j) = sw * a[static_cast<std::size_t>(j)] / s.latency_ms;
    t(r) = sw;
  }
  std::optional<nnmeter::fallback_coefficients> best;
  double best_residual = std::numeric_limits<double>::infinity();
  for (unsigned support = 1; support < 8; ++support) {
    std::vector<Eigen::Index> cols;
    for (Eigen::Index j = 0; j < 3; ++j)
      if ((support >> j) & 1U) cols.push_back(j);
    Eigen::MatrixXd xs(n, static_cast<Eigen::Index>(cols.size()));
    for (std::size_t k = 0; k < cols.size(); ++k) xs.col(static_cast<Eigen::Index>(k)) = x.col(cols[k]);
    const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(xs);
    if (qr.rank() < xs.cols()) continue;  // a column of zeros (e.g. no FLOPs at all)
    const Eigen::VectorXd sol = qr.solve(t);
    std::array<double, 3> c{0.0, 0.0, 0.0};
    bool feasible = true;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const double v = sol(static_cast<Eigen::Index>(k));
      if (!(v >= 0) || !std::isfinite(v)) feasible = false;
      c[static_cast<std::size_t>(cols[k])] = v;
    }
    if (!feasible) continue;
    const nnmeter::fallback_coefficients fc = from_array(c);
    if (!nnmeter::valid(fc)) continue;
    const double residual = (xs * sol - t).squaredNorm();
    if (residual < best_residual) {
      best_residual = residual;
      best = fc;
    }
  }
  return best;
}

std::vector<fallback_family_fit> fit_fallback(const std::vector<fallback_sample>& samples,
                                              const fallback_fit_options& options) {
  for (std::size_t i = 0; i < samples.size(); ++i) check_sample(samples[i], i);
  std::vector<fallback_family_fit> out;
  for (std::size_t fi = 0; fi < nnmeter::kernel_family_count; ++fi) {
    const auto family = static_cast<nnmeter::kernel_family>(fi);
    // The family's samples, and how many of each kind.
    std::vector<std::size_t> rows;
    std::map<nnmeter::kernel_kind, std::size_t> per_kind;
    for (std::size_t i = 0; i < samples.size(); ++i)
      if (nnmeter::family_of(samples[i].kind) == family) {
        rows.push_back(i);
        ++per_kind[samples[i].kind];
      }
    if (rows.empty()) continue;
    fallback_family_fit fit;
    fit.family = family;
    fit.samples = rows.size();
    for (const auto& [k, count] : per_kind) fit.kinds.push_back(k);
    // Each kind weighs as much as any other in the family (its rows 1 / its count).
    std::vector<double> weights(samples.size(), 1.0);
    for (std::size_t i : rows) weights[i] = 1.0 / static_cast<double>(per_kind[samples[i].kind]);
    // Held-out rows: a seeded split of the family's rows.
    const row_split split = holdout_split(
        rows.size(), options.holdout_fraction,
        derive_seed(options.seed, "fallback " + std::string(nnmeter::to_string(family))));
    std::vector<std::size_t> train, test;
    for (std::size_t r : split.train) train.push_back(rows[r]);
    for (std::size_t r : split.test) test.push_back(rows[r]);
    std::sort(train.begin(), train.end());
    std::sort(test.begin(), test.end());
    if (train.size() < options.min_samples) {
      fit.note = "only " + std::to_string(train.size()) + " training sample(s), at least " +
                 std::to_string(options.min_samples) + " are needed";
      out.push_back(std::move(fit));
      continue;
    }
    fit.coefficients = fit_fallback_coefficients(samples, train, weights);
    if (!fit.coefficients) {
      fit.note = "no non-negative model fits the samples";
      out.push_back(std::move(fit));
      continue;
    }
    fit.train = fallback_quality(*fit.coefficients, samples, train);
    if (!test.empty()) fit.holdout = fallback_quality(*fit.coefficients, samples, test);
    // Leave one kind out: the model of the other kinds on this kind's samples.
    if (per_kind.size() > 1) {
      for (const auto& [k, count] : per_kind) {
        std::vector<std::size_t> others, mine;
        for (std::size_t i : rows) (samples[i].kind == k ? mine : others).push_back(i);
        if (others.size() < options.min_samples) continue;
        const auto c = fit_fallback_coefficients(samples, others, weights);
        if (!c) continue;
        fit.leave_kind_out.push_back({k, fallback_quality(*c, samples, mine)});
      }
    }
    out.push_back(std::move(fit));
  }
  return out;
}

}  // namespace nnmeter::builder
