// nnmeter builder — evaluating a predictor against measured whole-model latency (evaluate.hpp).
// SPDX-License-Identifier: MIT
#include "builder/evaluate/evaluate.hpp"

#include "builder/store/keys.hpp"
#include "measure.hpp"
#include "registry/result_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace nnmeter::builder {

namespace {

namespace nb = nnmeter::backends;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Coefficient of variation (sample standard deviation / mean) of the minima a measurement's
// latency was taken from, as stored in its detail: the memory layouts' minima when it was
// measured in several layouts (the latency is their median, and what moves it is the layout),
// else the block minima (the latency is their minimum). NaN with fewer than two.
double ground_truth_cv_of(const stored_measurement& m) {
  if (m.detail_json.empty()) return nan;
  const nlohmann::json d = nlohmann::json::parse(m.detail_json, nullptr, false);
  if (d.is_discarded() || !d.is_object()) return nan;
  std::vector<double> mins;
  if (d.contains("layout_min_ms") && d["layout_min_ms"].is_array() &&
      d["layout_min_ms"].size() > 1) {
    for (const nlohmann::json& x : d["layout_min_ms"])
      if (x.is_number()) mins.push_back(x.get<double>());
  } else if (d.contains("blocks") && d["blocks"].is_array()) {
    for (const nlohmann::json& b : d["blocks"])
      if (b.is_object() && b.contains("min_ms") && b["min_ms"].is_number())
        mins.push_back(b["min_ms"].get<double>());
  }
  if (mins.size() < 2) return nan;
  double mean = 0;
  for (double x : mins) mean += x;
  mean /= static_cast<double>(mins.size());
  double ss = 0;
  for (double x : mins) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(mins.size() - 1)) / mean;
}

// Why a prediction is incomplete: how many kernels of which statuses.
std::string incomplete_reason(const nnmeter::prediction& p) {
  std::map<std::string, std::size_t> by_status;
  std::set<std::string> kinds;
  for (std::size_t i = 0; i < p.kernels.size(); ++i) {
    if (p.kernels[i].status == nnmeter::kernel_status::predicted) continue;
    ++by_status[std::string(nnmeter::to_string(p.kernels[i].status))];
    kinds.insert(std::string(nnmeter::to_string(p.detected.kernels[i].kind)));
  }
  std::string out;
  for (const auto& [status, n] : by_status)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  std::string ks;
  for (const std::string& k : kinds) ks += (ks.empty() ? "" : ", ") + k;
  return std::to_string(p.unpredicted) + " of " + std::to_string(p.kernels.size()) +
         " kernels have no latency (" + out + "; kinds " + ks + ")";
}

double median_of(std::vector<double> v) {
  if (v.empty()) return nan;
  std::sort(v.begin(), v.end());
  return nb::percentile(v, 0.5);
}

}  // namespace

const char* to_string(model_outcome o) noexcept {
  switch (o) {
    case model_outcome::evaluated: return "evaluated";
    case model_outcome::incomplete: return "incomplete";
    case model_outcome::failed: return "failed";
    default: return "not-measured";
  }
}

accuracy_figures summarize_accuracy(const std::string& group,
                                    const std::vector<const model_evaluation*>& models) {
  accuracy_figures a;
  a.group = group;
  a.models = models.size();
  double se = 0, spe = 0, sape = 0, max_ape = 0;
  std::size_t in5 = 0, in10 = 0;
  std::vector<double> cvs;
  for (const model_evaluation* m : models) {
    switch (m->outcome) {
      case model_outcome::evaluated: break;
      case model_outcome::incomplete: ++a.incomplete; continue;
      case model_outcome::failed: ++a.failed; continue;
      default: ++a.not_measured; continue;
    }
    ++a.evaluated;
    const double diff = m->prediction.latency_ms - m->measured_ms;
    const double rel = std::abs(diff) / m->measured_ms;
    se += diff * diff;
    spe += rel * rel;
    sape += rel;
    max_ape = std::max(max_ape, rel);
    // The boundaries count as inside, with a little room for the rounding of the ratio.
    if (rel <= 0.05 + 1e-12) ++in5;
    if (rel <= 0.10 + 1e-12) ++in10;
    if (std::isfinite(m->ground_truth_cv)) cvs.push_back(m->ground_truth_cv * 100);
  }
  if (a.evaluated == 0) {
    a.rmse_ms = a.rmspe = a.mean_abs_error = a.max_abs_error = a.within_5 = a.within_10 = nan;
    a.median_cv = a.max_cv = nan;
    return a;
  }
  const auto n = static_cast<double>(a.evaluated);
  a.rmse_ms = std::sqrt(se / n);
  a.rmspe = std::sqrt(spe / n) * 100;
  a.mean_abs_error = sape / n * 100;
  a.max_abs_error = max_ape * 100;
  a.within_5 = static_cast<double>(in5) / n;
  a.within_10 = static_cast<double>(in10) / n;
  a.median_cv = median_of(cvs);
  a.max_cv = cvs.empty() ? nan : *std::max_element(cvs.begin(), cvs.end());
  return a;
}

evaluation_report evaluate_models(const nnmeter::predictor& predictor, nb::backend& backend,
                                  profile_store& store,
                                  const std::vector<evaluation_model>& models,
                                  const evaluate_options& options) {
  nb::validate(options.protocol);
  {
    std::map<std::string, const evaluation_model*> seen;
    for (const evaluation_model& m : models) {
      if (m.name.empty())
        throw nnmeter::error("evaluate: a model from " + m.source + " has no name");
      const auto [it, fresh] = seen.emplace(m.name, &m);
      if (!fresh)
        throw nnmeter::error("evaluate: two models are named '" + m.name + "' (" +
                             it->second->source + " and " + m.source +
                             "): names identify the measurements in the store");
    }
  }
  evaluation_report rep;
  rep.predictor = predictor.info();
  rep.backend = backend.name();
  rep.device = backend.device();
  rep.runtime = backend.runtime();
  rep.protocol = options.protocol;
  rep.started_at = nb::utc_timestamp();

  const campaign c =
      store.begin_campaign({"evaluate", rep.backend, rep.device, options.protocol});
  // A key names the model, the content of its graph and the protocol: a model regenerated
  // differently under the same name, or measured under another protocol (other passes, memory
  // layouts, clock, ...), is measured again rather than taken from a measurement of something
  // else.
  const nlohmann::json protocol_key =
      nlohmann::json::parse(nb::protocol_to_json(options.protocol).dump());
  std::vector<measurement_key> keys;
  std::vector<std::string> hashes;  // graph_hash of each model, for its key and its row
  std::map<std::string, std::size_t> index_of;
  keys.reserve(models.size());
  hashes.reserve(models.size());
  for (std::size_t i = 0; i < models.size(); ++i) {
    hashes.push_back(graph_hash(models[i].graph));
    nlohmann::json cfg = nlohmann::json::object();
    cfg["graph"] = hashes.back();
    cfg["protocol"] = protocol_key;
    keys.push_back(c.key(measurement_purpose::model, models[i].name, canonical_json(cfg)));
    index_of[models[i].name] = i;
  }

  rep.models.resize(models.size());
  auto finish = [&](std::size_t i, const stored_measurement* row, bool resumed) {
    const evaluation_model& in = models[i];
    model_evaluation& m = rep.models[i];
    m.name = in.name;
    m.family = in.family;
    m.source = in.source;
    m.prediction = predictor.predict(in.graph);
    if (row == nullptr) {
      m.outcome = model_outcome::not_measured;
    } else if (row->status != measurement_status::ok || !row->latency_ms) {
      m.outcome = model_outcome::failed;
      m.error = row->error;
    } else {
      m.measured_ms = *row->latency_ms;
      m.runs = row->stats ? row->stats->runs : 0;
      m.ground_truth_cv = ground_truth_cv_of(*row);
      m.resumed = resumed;
      m.relative_error = m.prediction.latency_ms / m.measured_ms - 1;
      if (m.prediction.complete()) {
        m.outcome = model_outcome::evaluated;
      } else {
        m.outcome = model_outcome::incomplete;
        m.error = incomplete_reason(m.prediction);
      }
    }
    if (options.on_model) options.on_model({&m, i, models.size()});
  };

  measure_options mo;
  mo.stop = options.stop;
  mo.on_event = [&](const measure_event& e) {
    const std::size_t i = index_of.at(e.key->kind);
    finish(i, &e.row, e.what == measure_event::outcome::already_stored);
  };
  rep.measuring = store.measure_all(
      c, keys,
      [&](const measurement_key& k) {
        const std::size_t i = index_of.at(k.kind);
        const evaluation_model& m = models[i];
        const std::string& hash = hashes[i];
        try {
          // A backend runs the operands' real shapes (nn-Meter IR may declare others).
          if (nnmeter::has_declared_input_shapes(m.graph)) {
            nnmeter::graph g = m.graph;
            nnmeter::use_operand_shapes(g);
            return measured_model{backend.profile(g, options.protocol), hash};
          }
          return measured_model{backend.profile(m.graph, options.protocol), hash};
        } catch (const store_error&) {
          throw;
        } catch (const std::exception& e) {
          throw measurement_failure(hash, e.what());
        }
      },
      mo);
  // Models the campaign stopped before.
  for (std::size_t i = 0; i < models.size(); ++i)
    if (rep.models[i].name.empty()) finish(i, nullptr, false);

  std::vector<std::string> order;
  std::map<std::string, std::vector<const model_evaluation*>> groups;
  std::vector<const model_evaluation*> all;
  for (const model_evaluation& m : rep.models) {
    if (groups.find(m.family) == groups.end()) order.push_back(m.family);
    groups[m.family].push_back(&m);
    all.push_back(&m);
  }
  for (const std::string& f : order) rep.families.push_back(summarize_accuracy(f, groups[f]));
  rep.overall = summarize_accuracy("all", all);
  rep.finished_at = nb::utc_timestamp();
  return rep;
}

nb::measurement_protocol whole_model_protocol(nb::measurement_protocol p, int layouts) {
  constexpr int most = nb::measurement_protocol::max_layouts;
  if (layouts < 1 || layouts > most)
    throw nb::backend_error("whole-model protocol: layouts must be in 1.." + std::to_string(most) +
                            " (got " + std::to_string(layouts) + ")");
  p.layouts = layouts;
  p.passes = (p.passes + layouts - 1) / layouts * layouts;
  return p;
}

int context_layouts_of(const nnmeter::predictor& p) {
  if (p.info().build_json.empty()) return 1;
  const nlohmann::json b = nlohmann::json::parse(p.info().build_json, nullptr, false);
  if (b.is_discarded() || !b.is_object() || !b.contains("context") || !b["context"].is_object())
    return 1;
  const nlohmann::json& c = b["context"];
  if (!c.contains("layouts")) return 1;
  constexpr int most = nb::measurement_protocol::max_layouts;
  if (!c["layouts"].is_number_integer() || c["layouts"].get<std::int64_t>() < 1 ||
      c["layouts"].get<std::int64_t>() > most)
    throw nnmeter::error("predictor " + p.info().name + ": build.context.layouts must be an " +
                         "integer in 1.." + std::to_string(most) + " (got " + c["layouts"].dump() +
                         ")");
  return static_cast<int>(c["layouts"].get<std::int64_t>());
}

}  // namespace nnmeter::builder
