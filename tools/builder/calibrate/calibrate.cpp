// nnmeter builder — calibrating a predictor to this machine (calibrate.hpp).
// SPDX-License-Identifier: MIT
#include "builder/calibrate/calibrate.hpp"

#include "builder/predictorbuild/predictor_build.hpp"
#include "builder/sampler/sampling.hpp"
#include "builder/store/keys.hpp"
#include "registry/result_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cmath>
#include <map>
#include <utility>

namespace nnmeter::builder {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::ordered_json figures_json(const latency_metrics& e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["n"] = e.n;
  j["rmspe"] = std::isfinite(e.rmspe) ? nlohmann::ordered_json(e.rmspe) : nlohmann::ordered_json();
  j["within_10"] =
      std::isfinite(e.within_10) ? nlohmann::ordered_json(e.within_10) : nlohmann::ordered_json();
  return j;
}

// The one kernel of `kind` that predicting the block graph gives, or none.
std::optional<nnmeter::kernel_latency> kernel_of(const nnmeter::prediction& r,
                                                 nnmeter::kernel_kind kind) {
  std::optional<nnmeter::kernel_latency> found;
  for (std::size_t i = 0; i < r.detected.kernels.size(); ++i) {
    if (r.detected.kernels[i].kind != kind) continue;
    if (found) return std::nullopt;
    found = r.kernels[i];
  }
  return found;
}

}  // namespace

kind_scale_fit fit_kind_scales(const std::vector<std::vector<double>>& log_ratios,
                               double min_between_variance, double prior_dof) {
  kind_scale_fit f;
  const std::size_t groups = log_ratios.size();
  std::vector<double> mean(groups, 0.0);
  std::vector<double> squares(groups, 0.0);
  double mu = 0;
  std::size_t with = 0;
  double within = 0;
  std::size_t dof = 0;
  for (std::size_t k = 0; k < groups; ++k) {
    const std::vector<double>& r = log_ratios[k];
    if (r.empty()) continue;
    for (double x : r) mean[k] += x;
    mean[k] /= static_cast<double>(r.size());
    for (double x : r) squares[k] += (x - mean[k]) * (x - mean[k]);
    within += squares[k];
    dof += r.size() - 1;
    mu += mean[k];
    ++with;
  }
  f.own.assign(groups, 1.0);
  f.scales.assign(groups, 1.0);
  f.kind_variance.assign(groups, 0.0);
  if (with == 0) return f;
  mu /= static_cast<double>(with);
  f.within_variance = dof > 0 ? within / static_cast<double>(dof) : 0.0;
  // The prior of a kind's noise: the median of the kinds' sample variances (robust to the few
  // kinds whose forests are far off for tiny kernels), the pooled variance when fewer than
  // three kinds have two samples.
  std::vector<double> variances;
  for (std::size_t k = 0; k < groups; ++k)
    if (log_ratios[k].size() >= 2)
      variances.push_back(squares[k] / static_cast<double>(log_ratios[k].size() - 1));
  double prior_variance = f.within_variance;
  if (variances.size() >= 3) {
    std::sort(variances.begin(), variances.end());
    const std::size_t h = variances.size() / 2;
    prior_variance = variances.size() % 2 == 1 ? variances[h]
                                               : 0.5 * (variances[h - 1] + variances[h]);
  }
  f.prior_variance = prior_variance;
  // Each kind's own noise: its sample variance, with prior_dof pseudo-samples of the prior.
  double noise_of_means = 0;
  for (std::size_t k = 0; k < groups; ++k) {
    const std::size_t n = log_ratios[k].size();
    if (n == 0) continue;
    const double d = static_cast<double>(n - 1);
    f.kind_variance[k] = d + prior_dof > 0
                             ? (squares[k] + prior_dof * prior_variance) / (d + prior_dof)
                             : 0.0;
    noise_of_means += f.kind_variance[k] / static_cast<double>(n);
  }
  noise_of_means /= static_cast<double>(with);
  double spread = 0;
  for (std::size_t k = 0; k < groups; ++k)
    if (!log_ratios[k].empty()) spread += (mean[k] - mu) * (mean[k] - mu);
  spread = with > 1 ? spread / static_cast<double>(with - 1) : 0.0;
  f.between_variance = std::max(spread - noise_of_means, min_between_variance);
  f.pooled = std::exp(mu);
  for (std::size_t k = 0; k < groups; ++k) {
    const std::size_t n = log_ratios[k].size();
    if (n == 0) {
      f.own[k] = f.pooled;
      f.scales[k] = f.pooled;
      continue;
    }
    const double w = f.between_variance /
                     (f.between_variance + f.kind_variance[k] / static_cast<double>(n));
    f.own[k] = std::exp(mean[k]);
    f.scales[k] = std::exp(mu + w * (mean[k] - mu));
  }
  return f;
}

calibration_report calibrate(const nnmeter::predictor& base, profile_store& store,
                             nnmeter::backends::backend& be, const calibration_options& options) {
  if (options.per_kind == 0) throw nnmeter::error("calibrate: per_kind must be at least 1");
  calibration_report rep;
  rep.base_name = base.info().name;
  rep.base_version = base.info().version;
  rep.base_device = base.info().device;
  rep.backend = be.name();
  rep.device = be.device();

  nnmeter::backends::measurement_protocol protocol;
  if (options.protocol) {
    protocol = *options.protocol;
  } else if (!base.info().protocol_json.empty()) {
    protocol = nnmeter::backends::protocol_from_json(
        nlohmann::json::parse(base.info().protocol_json),
        "predictor " + base.info().name + ": measurement_protocol");
  }
  const nnmeter::rule_set& rules = base.rules();

  sampler_options so;
  so.seed = options.seed;
  so.caps.max_mflops = options.max_mflops;
  so.caps.max_mbytes = options.max_mbytes;

  // Each kind with a forest: its configurations and its block, or why it has none.
  struct kind_plan {
    kind_calibration result;
    std::string block;
    std::vector<kernel_config> configs;
    std::vector<kernel_block> blocks;  // configs[j]'s block, built once
  };
  std::vector<kind_plan> plans;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto kind = static_cast<nnmeter::kernel_kind>(i);
    if (!base.has_forest(kind)) continue;
    kind_plan plan;
    plan.result.kind = kind;
    try {
      (void)sampler_for(kind);
      // The prior may draw a configuration twice: each is measured and counted once.
      for (kernel_config& c : sample_prior(kind, options.per_kind, so))
        if (std::find(plan.configs.begin(), plan.configs.end(), c) == plan.configs.end())
          plan.configs.push_back(std::move(c));
      if (plan.configs.empty()) throw nnmeter::error("the sampler drew no configuration");
      for (const kernel_config& c : plan.configs) plan.blocks.push_back(kernel_block_for(c, rules));
      plan.block = plan.blocks.front().block;
      try {
        (void)be.prepare(plan.blocks.front().graph, protocol);
      } catch (const nnmeter::unsupported_error&) {
        throw;  // the backend cannot run the kind at all
      } catch (const std::exception&) {
        // Anything else is the measurement's business: it is recorded as a failure there.
      }
    } catch (const nnmeter::error& e) {  // unsupported_error included
      plan.result.note = e.what();
      plan.configs.clear();
      plan.blocks.clear();
    }
    plans.push_back(std::move(plan));
  }

  // The keys, kind by kind in turn: a budget that runs out leaves every kind some samples.
  const campaign camp = store.begin_campaign({"calibrate", be.name(), be.device(), protocol});
  std::vector<measurement_key> keys;
  std::map<std::pair<std::string, std::string>, std::pair<std::size_t, std::size_t>> where;
  for (std::size_t j = 0; j < options.per_kind; ++j)
    for (std::size_t p = 0; p < plans.size(); ++p) {
      if (j >= plans[p].configs.size()) continue;
      keys.push_back(kernel_sample_key(camp, plans[p].configs[j], plans[p].block));
      where.emplace(std::make_pair(keys.back().kind, keys.back().config), std::make_pair(p, j));
    }
  if (options.on_event) {
    calibration_event e;
    e.event = calibration_event::what::sampled;
    e.total = keys.size();
    options.on_event(e);
  }

  const double budget_s = options.budget_minutes * 60.0;
  const auto t0 = std::chrono::steady_clock::now();
  measure_options mo;
  mo.stop = [&] {
    if (options.stop && options.stop()) {
      rep.stopped = true;
      return true;
    }
    if (budget_s > 0 && seconds_since(t0) >= budget_s) {
      rep.budget_exhausted = true;
      return true;
    }
    return false;
  };
  mo.on_event = [&](const measure_event& m) {
    if (!options.on_event) return;
    calibration_event e;
    e.event = calibration_event::what::measured;
    e.index = m.index;
    e.total = m.total;
    e.measurement = &m;
    options.on_event(e);
  };
  const measure_report mr = store.measure_all(
      camp, keys,
      [&](const measurement_key& key) {
        const auto [p, j] = where.at({key.kind, key.config});
        const kernel_block& b = plans[p].blocks[j];
        const std::string hash = graph_hash(b.graph);
        // As build-predictor: the key names the kind's block, so a configuration the rules make
        // another block is a failure, never a sample of the wrong block.
        if (b.block != plans[p].block)
          throw measurement_failure(hash, "the rules make this configuration a '" + b.block +
                                              "' block, not '" + plans[p].block + "'");
        try {
          return measured_model{be.profile(b.graph, protocol), hash};
        } catch (const std::exception& e) {
          throw measurement_failure(hash, e.what());
        }
      },
      mo);
  rep.measured = mr.measured;
  rep.already_stored = mr.already_stored;
  rep.failed = mr.failed;
  rep.seconds = mr.seconds;

  // The samples: measured alone, and the base's forest of the kernel alone.
  bool any_sample = false;
  for (kind_plan& plan : plans) {
    kind_calibration& kc = plan.result;
    for (std::size_t j = 0; j < plan.configs.size(); ++j) {
      const kernel_config& c = plan.configs[j];
      const measurement_key key = kernel_sample_key(camp, c, plan.block);
      const std::optional<stored_measurement> s = store.lookup(key);
      if (!s) {
        if (!store.history(key).empty()) ++kc.failed;
        continue;
      }
      if (!s->latency_ms) continue;
      const nnmeter::prediction r = base.predict(plan.blocks[j].graph);
      const std::optional<nnmeter::kernel_latency> l = kernel_of(r, c.kind);
      if (!l || l->status != nnmeter::kernel_status::predicted) {
        ++kc.failed;
        if (kc.note.empty())
          kc.note = c.describe() + ": the predictor's forest gives it no latency";
        continue;
      }
      kc.samples.push_back({c, l->latency_ms / base.context_scale(), *s->latency_ms});
    }
    if (kc.samples.empty() && kc.note.empty())
      kc.note = rep.stopped || rep.budget_exhausted
                    ? std::string(rep.stopped ? "stopped" : "the budget ran out") +
                          " before any of its configurations was measured"
                    : "every measurement failed";
    any_sample = any_sample || !kc.samples.empty();
  }
  if (!any_sample) {
    std::string why = "no kernel kind got a calibration sample";
    for (const kind_plan& plan : plans)
      if (!plan.result.note.empty()) {
        why += " (" + std::string(nnmeter::to_string(plan.result.kind)) + ": " + plan.result.note +
               ")";
        break;
      }
    throw nnmeter::error("calibrate: " + why);
  }

  // The scales, and their leave-one-out errors: each sample predicted with the scales fitted
  // on every other sample.
  std::vector<std::vector<double>> logs(plans.size());
  for (std::size_t p = 0; p < plans.size(); ++p)
    for (const calibration_sample& s : plans[p].result.samples)
      logs[p].push_back(std::log(s.measured_ms / s.predicted_ms));
  const kind_scale_fit fit = fit_kind_scales(logs);
  rep.pooled_scale = fit.pooled;
  rep.between_variance = fit.between_variance;
  rep.within_variance = fit.within_variance;
  // Predicted (before: the base; after: leave-one-out scales) and measured, every kind's.
  std::vector<double> before_all;
  std::vector<double> after_all;
  std::vector<double> measured_all;
  nnmeter::predictor adapted = base;
  std::vector<bool> calibrated(nnmeter::kernel_kind_count, false);
  for (std::size_t p = 0; p < plans.size(); ++p) {
    kind_calibration& kc = plans[p].result;
    kc.own_scale = fit.own[p];
    kc.scale = fit.scales[p];
    std::vector<double> before;
    std::vector<double> after;
    std::vector<double> measured;
    for (std::size_t i = 0; i < kc.samples.size(); ++i) {
      const calibration_sample& s = kc.samples[i];
      std::vector<std::vector<double>> without = logs;
      without[p].erase(without[p].begin() + static_cast<std::ptrdiff_t>(i));
      const double scale = fit_kind_scales(without).scales[p];
      before.push_back(s.predicted_ms);
      after.push_back(scale * s.predicted_ms);
      measured.push_back(s.measured_ms);
    }
    kc.before = compute_metrics(before, measured);
    kc.after = compute_metrics(after, measured);
    before_all.insert(before_all.end(), before.begin(), before.end());
    after_all.insert(after_all.end(), after.begin(), after.end());
    measured_all.insert(measured_all.end(), measured.begin(), measured.end());
    if (!kc.samples.empty()) {
      adapted.set_kind_scale(kc.kind, base.kind_scale(kc.kind) * kc.scale);
      calibrated[static_cast<std::size_t>(kc.kind)] = true;
    }
    rep.kinds.push_back(std::move(kc));
  }
  rep.before = compute_metrics(before_all, measured_all);
  rep.after = compute_metrics(after_all, measured_all);
  // Every other kind (no samples, no forest: its kernels fall back) gets the pooled scale.
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i)
    if (!calibrated[i]) {
      const auto k = static_cast<nnmeter::kernel_kind>(i);
      adapted.set_kind_scale(k, base.kind_scale(k) * rep.pooled_scale);
    }

  nnmeter::predictor_info info = adapted.info();
  info.device = be.device();
  {
    // The protocol its scales were fitted under (a calibration with another thread count
    // adapts the predictor to that).
    nlohmann::ordered_json pj = nnmeter::backends::protocol_to_json(protocol);
    pj["statistic"] = "min";
    info.protocol_json = pj.dump();
  }
  nlohmann::ordered_json build = info.build_json.empty()
                                     ? nlohmann::ordered_json::object()
                                     : nlohmann::ordered_json::parse(info.build_json);
  if (!build.is_object()) build = nlohmann::ordered_json::object();
  build["calibration"] = nlohmann::ordered_json::parse(calibration_json(rep));
  info.build_json = build.dump();
  adapted.set_info(std::move(info));
  rep.predictor = std::move(adapted);
  return rep;
}

std::string calibration_json(const calibration_report& r) {
  using json = nlohmann::ordered_json;
  json j = json::object();
  j["base"] = {{"name", r.base_name}, {"version", r.base_version}, {"device", r.base_device}};
  j["backend"] = r.backend;
  j["device"] = r.device;
  j["pooled_scale"] = r.pooled_scale;
  j["between_variance"] = r.between_variance;
  j["within_variance"] = r.within_variance;
  j["measured"] = r.measured;
  j["already_stored"] = r.already_stored;
  j["failed"] = r.failed;
  j["measuring_seconds"] = r.seconds;
  j["stopped"] = r.stopped;
  j["budget_exhausted"] = r.budget_exhausted;
  j["before"] = figures_json(r.before);
  j["after_leave_one_out"] = figures_json(r.after);
  json kinds = json::array();
  for (const kind_calibration& k : r.kinds) {
    json e = json::object();
    e["kind"] = std::string(nnmeter::to_string(k.kind));
    e["samples"] = k.samples.size();
    e["failed"] = k.failed;
    e["own_scale"] = k.own_scale;
    e["scale"] = k.scale;
    e["before"] = figures_json(k.before);
    e["after_leave_one_out"] = figures_json(k.after);
    if (!k.note.empty()) e["note"] = k.note;
    kinds.push_back(std::move(e));
  }
  j["kinds"] = std::move(kinds);
  return j.dump();
}

}  // namespace nnmeter::builder
