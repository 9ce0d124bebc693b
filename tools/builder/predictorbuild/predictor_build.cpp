// nnmeter builder — building a device predictor (predictor_build.hpp).
// SPDX-License-Identifier: MIT
#include "builder/predictorbuild/predictor_build.hpp"

#include "builder/package/atomic_file.hpp"
#include "builder/package/registry.hpp"
#include "builder/sampler/sampling.hpp"
#include "builder/store/keys.hpp"
#include "model_zoo/zoo.hpp"
#include "measure.hpp"
#include "registry/result_json.hpp"

#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace nnmeter::builder {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// A kind needs this many successful measurements before a forest is trained on them.
constexpr std::size_t min_training_rows = 10;
// Golden cases recorded per kind.
constexpr std::size_t golden_per_kind = 8;
// Fresh prior configurations per kind on which the final forest's sign is probed.
constexpr std::size_t probe_per_kind = 1000;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string kind_name(nnmeter::kernel_kind k) { return std::string(nnmeter::to_string(k)); }

std::string number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

// NaN metrics (no held-out part) become null in JSON.
nlohmann::ordered_json metric(double x) {
  return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json fallback_metrics_json(const fallback_metrics& m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["n"] = m.n;
  j["within_25"] = metric(m.within_25);
  j["within_50"] = metric(m.within_50);
  j["median_abs_error"] = metric(m.median_abs_error);
  return j;
}

nlohmann::ordered_json figures_json(const accuracy_figures& a) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["models"] = a.evaluated;
  j["within_5"] = metric(a.within_5);
  j["within_10"] = metric(a.within_10);
  j["rmspe"] = metric(a.rmspe);
  j["max_abs_error"] = metric(a.max_abs_error);
  return j;
}

// The context factor's record (manifest build.context and the report): the factor, the models
// it was fitted on and the figures without and with it; null factor when not fitted.
nlohmann::ordered_json context_json(const predictor_build_report& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["scale"] = r.context ? nlohmann::ordered_json(r.context->scale) : nlohmann::ordered_json(nullptr);
  if (!r.context_note.empty()) j["note"] = r.context_note;
  j["zoo_seed"] = r.context_seed;
  j["models_per_family"] = r.context_per_family;
  j["layouts"] = r.context_layouts;
  j["models_measured"] = r.context_models.size();
  j["measuring_seconds"] = r.context_seconds;
  if (r.context) {
    j["before"] = figures_json(r.context->before);
    j["after"] = figures_json(r.context->after);
    j["leave_one_family_out"] = figures_json(r.context->leave_one_family_out);
    j["ground_truth_cv_median"] = metric(r.context->after.median_cv);
  }
  return j;
}

// The fallback fits as JSON: family -> kinds, samples, coefficients (null without a model),
// held-out / train quality, leave-one-kind-out quality, note.
nlohmann::ordered_json fallback_json(const std::vector<fallback_family_fit>& fits) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["model"] = "base_ms + ms_per_mflop * MFLOPs + ms_per_mbyte * MB";
  nlohmann::ordered_json families = nlohmann::ordered_json::object();
  for (const fallback_family_fit& f : fits) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    nlohmann::ordered_json kinds = nlohmann::ordered_json::array();
    for (nnmeter::kernel_kind k : f.kinds) kinds.push_back(kind_name(k));
    e["kinds"] = std::move(kinds);
    e["samples"] = f.samples;
    if (f.coefficients)
      e["coefficients"] = {{"base_ms", f.coefficients->base_ms},
                           {"ms_per_mflop", f.coefficients->ms_per_mflop},
                           {"ms_per_mbyte", f.coefficients->ms_per_mbyte}};
    else
      e["coefficients"] = nullptr;
    e["holdout"] = fallback_metrics_json(f.holdout);
    e["train"] = fallback_metrics_json(f.train);
    nlohmann::ordered_json lko = nlohmann::ordered_json::object();
    for (const fallback_family_fit::kind_quality& q : f.leave_kind_out)
      lko[kind_name(q.kind)] = fallback_metrics_json(q.metrics);
    e["leave_kind_out"] = std::move(lko);
    if (!f.note.empty()) e["note"] = f.note;
    families[std::string(nnmeter::to_string(f.family))] = std::move(e);
  }
  j["families"] = std::move(families);
  return j;
}

nlohmann::ordered_json metrics_json(const latency_metrics& m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["n"] = m.n;
  j["rmse_ms"] = metric(m.rmse_ms);
  j["rmspe"] = metric(m.rmspe);
  j["within_5"] = metric(m.within_5);
  j["within_10"] = metric(m.within_10);
  j["within_15"] = metric(m.within_15);
  return j;
}

std::string category_of(const std::string& backend) {
  if (backend == "xnnpack" || backend == "tflite_cpu" || backend == "litert") return "cpu";
  if (backend == "tflite_gpu") return "gpu";
  return backend;
}

train_params params_of(const kernel_build_config& k) {
  train_params p = default_train_params(k.kind);
  p.mode = k.trainer == trainer_mode::boosting ? booster_mode::boosting
                                               : booster_mode::random_forest;
  p.rounds = k.rounds;
  p.max_depth = k.max_depth;
  p.learning_rate = k.learning_rate;
  p.subsample = k.subsample;
  p.colsample_bynode = k.colsample_bynode;
  return p;
}

// The CSV files of one kind (nn-Meter's collection/Data_<kind>.csv and TestResult_<kind>.csv).
void write_collection(const fs::path& dir, nnmeter::kernel_kind kind, const training_data& d,
                      const train_result& r) {
  const std::string kn = kind_name(kind);
  std::string header;
  for (std::size_t j = 0; j < d.num_features(); ++j) header += "f" + std::to_string(j) + ",";
  std::string data = header + "latency_ms,config\n";
  for (std::size_t i = 0; i < d.rows(); ++i) {
    for (std::size_t j = 0; j < d.num_features(); ++j) data += number(d.row(i)[j]) + ",";
    // The configuration is JSON with commas: quoted, quotes doubled (RFC 4180).
    std::string id;
    for (char c : d.id(i)) id += c == '"' ? std::string("\"\"") : std::string(1, c);
    data += number(d.latency_ms(i)) + ",\"" + id + "\"\n";
  }
  write_file_atomically(dir / ("Data_" + kn + ".csv"), data);
  std::string test = header + "True,Pred,Error\n";
  for (std::size_t t = 0; t < r.split.test.size(); ++t) {
    const std::size_t i = r.split.test[t];
    const double y = d.latency_ms(i);
    const double yh = r.test_predicted_ms[t];
    for (std::size_t j = 0; j < d.num_features(); ++j) test += number(d.row(i)[j]) + ",";
    test += number(y) + "," + number(yh) + "," + number((yh - y) / y) + "\n";
  }
  write_file_atomically(dir / ("TestResult_" + kn + ".csv"), test);
}

// Everything one kind needs while it is built.
struct kind_state {
  nnmeter::kernel_kind kind;
  kernel_build_config config;
  std::vector<kernel_config> configs;          // distinct, in the order first drawn
  std::set<std::string> seen;                  // their key()s
  std::map<std::string, std::size_t> by_key;   // key() -> index in configs
  std::map<std::string, training_sample> samples;  // key() -> training features and scale
  nnmeter::latency_target target = nnmeter::latency_target::ms;
  // The held-out configurations, drawn from the prior round's rows once and kept for every
  // later round: the metrics of each round describe the same configurations, drawn as real
  // models' layers are, and fine-grained samples only ever train.
  std::optional<std::set<std::string>> holdout_ids;
  // Centres of the next fine-grained round: train-part configurations with a large
  // out-of-fold error (never the held-out ones, which would then steer the sampling).
  std::vector<std::string> refine_ids;
};

// Folds of the cross-validation that picks the fine-grained centres.
constexpr int refine_folds = 5;

}  // namespace

const char* to_string(kernel_build_status s) noexcept {
  switch (s) {
    case kernel_build_status::built: return "built";
    case kernel_build_status::partial: return "partial";
    case kernel_build_status::not_started: return "not-started";
    case kernel_build_status::skipped: return "skipped";
    default: return "failed";
  }
}

void check_predictor_name(const std::string& name, const std::string& what,
                          const std::string& who) {
  if (name.empty() || name.size() > 100 || name.front() == '.' || name.front() == '-')
    throw nnmeter::error(who + ": the predictor " + what + " '" + name +
                         "' must be 1 to 100 characters, not starting with '.' or '-'");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok)
      throw nnmeter::error(who + ": the predictor " + what + " '" + name +
                           "' may hold only letters, digits, '_', '-' and '.' (it names files)");
  }
}

measurement_key kernel_sample_key(const campaign& c, const kernel_config& config,
                                  const std::string& block) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : config.params) j[name] = value;
  j["BLOCK"] = block;
  return c.key(measurement_purpose::kernel, kind_name(config.kind), canonical_json(j));
}

std::string build_report_json(const predictor_build_report& r) {
  using json = nlohmann::ordered_json;
  json j = json::object();
  j["name"] = r.name;
  j["version"] = r.version;
  j["backend"] = r.backend;
  j["device"] = r.device;
  j["runtime"] = r.runtime;
  j["feature_set"] = std::string(nnmeter::to_string(r.features));
  j["package"] = r.package_dir.string();
  j["meta_file"] = r.meta_file.string();
  j["complete"] = r.complete;
  j["stopped"] = r.stopped;
  j["budget_exhausted"] = r.budget_exhausted;
  j["budget_minutes"] = r.budget_minutes;
  j["profiling_minutes"] = r.profiling_seconds / 60;
  j["sample_profiling_minutes"] = r.sample_seconds / 60;
  j["training_minutes"] = r.training_seconds / 60;
  j["wall_minutes"] = r.wall_seconds / 60;
  j["measured"] = r.measured;
  j["samples"] = r.samples;
  json kinds = json::array();
  for (const kernel_build_result& k : r.kinds) {
    json e = json::object();
    e["kind"] = kind_name(k.kind);
    e["status"] = to_string(k.status);
    e["block"] = k.block;
    e["target"] = std::string(nnmeter::to_string(k.target));
    e["note"] = k.note;
    e["samples"] = k.samples;
    e["failures"] = k.failures;
    e["median_latency_ms"] = k.median_latency_ms;
    e["holdout_non_positive"] = k.holdout_non_positive;
    e["probe_configs"] = k.probe_configs;
    e["probe_non_positive"] = k.probe_non_positive;
    e["holdout"] = metrics_json(k.holdout);
    e["train"] = metrics_json(k.train);
    e["trees"] = k.trees;
    e["nodes"] = k.nodes;
    e["profiling_seconds"] = k.profiling_seconds;
    e["training_seconds"] = k.training_seconds;
    json rounds = json::array();
    for (const kernel_round& x : k.rounds) {
      json o = json::object();
      o["round"] = x.round;
      o["mark"] = x.mark;
      o["sampled"] = x.sampled;
      o["distinct"] = x.distinct;
      o["measured"] = x.measured;
      o["already_stored"] = x.already_stored;
      o["failed"] = x.failed;
      o["not_attempted"] = x.not_attempted;
      o["rows"] = x.rows;
      o["holdout"] = metrics_json(x.holdout);
      o["holdout_rows"] = x.holdout_rows;
      o["error_configs"] = x.error_configs;
      o["refine_configs"] = x.refine_configs;
      o["profiling_seconds"] = x.profiling_seconds;
      o["training_seconds"] = x.training_seconds;
      rounds.push_back(std::move(o));
    }
    e["rounds"] = std::move(rounds);
    kinds.push_back(std::move(e));
  }
  j["kinds"] = std::move(kinds);
  j["fallback"] = fallback_json(r.fallback);
  j["context"] = context_json(r);
  return j.dump(2) + "\n";
}

predictor_build_report build_predictor(const workspace& ws, profile_store& store,
                                       nnmeter::backends::backend& be,
                                       const predictor_build_options& options) {
  const auto t_start = clock_type::now();
  const predictorbuild_config& pb = ws.predictorbuild;
  if (!options.rules)
    throw nnmeter::error(
        "build-predictor: no fusion rules: run `nnmeter detect-rules` on the workspace first "
        "(it writes " + ws.detected_rules_file().string() + "), or give a rule file");
  const nnmeter::rule_set& rules = *options.rules;
  if (pb.batch_size != 1)
    throw config_error(ws.predictorbuild_config_file().string(), "BATCH_SIZE", 0, 0,
                       std::to_string(pb.batch_size) +
                           ": only 1 is supported (the kernel models are built with batch 1, "
                           "as nn-Meter's predictors are)");
  const std::string name =
      options.name.empty() ? be.name() + "_" + ws.root.filename().string() : options.name;
  check_predictor_name(name, "name");
  check_predictor_name(options.version, "version");

  predictor_build_report rep;
  rep.name = name;
  rep.version = options.version;
  rep.backend = be.name();
  rep.device = be.device();
  rep.runtime = be.runtime();
  rep.features = options.features.value_or(pb.feature_set);
  rep.budget_minutes = options.budget_minutes.value_or(pb.budget_minutes);
  const nnmeter::backends::measurement_protocol protocol =
      options.protocol.value_or(ws.backend.protocol);
  nnmeter::backends::validate(protocol);
  const fs::path results = options.results_dir.value_or(ws.predictor_build_dir() / "results");

  // The kinds, in order.
  std::vector<kernel_build_config> kinds;
  if (options.kinds.empty()) {
    kinds = pb.kernels;
  } else {
    for (nnmeter::kernel_kind k : options.kinds) {
      const kernel_build_config* c = pb.find(k);
      kinds.push_back(c ? *c : predictorbuild_config::default_kernel(k));
    }
  }

  const campaign camp = store.begin_campaign({"build-predictor", be.name(), be.device(), protocol});
  const double budget_s = rep.budget_minutes * 60.0;
  // Profiling time of this run so far; the budget stop checks it before every measurement.
  double profiling_s = 0;
  clock_type::time_point round_t0 = clock_type::now();
  bool in_round = false;
  auto spent = [&] { return profiling_s + (in_round ? seconds_since(round_t0) : 0.0); };
  auto stop_now = [&] {
    if (options.stop && options.stop()) {
      rep.stopped = true;
      return true;
    }
    if (budget_s > 0 && spent() >= budget_s) {
      rep.budget_exhausted = true;
      return true;
    }
    return false;
  };

  sampling_caps caps;
  caps.max_mflops = pb.max_mflops;
  caps.max_mbytes = pb.max_mbytes;

  nnmeter::predictor_info info;
  info.name = name;
  info.version = options.version;
  info.device = be.device();
  info.backend = be.name();
  info.features = rep.features;
  {
    nlohmann::ordered_json pj = nnmeter::backends::protocol_to_json(protocol);
    pj["statistic"] = "min";  // the minimum over every timed invoke (docs/measurement.md)
    info.protocol_json = pj.dump();
  }
  nnmeter::predictor pred(info, rules);
  bool any_forest = false;
  // The samples of every kind with a forest, with their work: the fallback models' data.
  std::vector<fallback_sample> fallback_samples;
  const fs::path collection = results / "collection";

  for (std::size_t ki = 0; ki < kinds.size(); ++ki) {
    kind_state st;
    st.kind = kinds[ki].kind;
    st.config = kinds[ki];
    st.target = st.config.target.value_or(default_target(st.kind, rep.features));
    if (st.target != nnmeter::latency_target::ms && rep.features == nnmeter::feature_set::nnmeter)
      throw config_error(ws.predictorbuild_config_file().string(),
                         "KERNELS." + kind_name(st.kind) + ".TARGET", 0, 0,
                         std::string(nnmeter::to_string(st.target)) +
                             ": needs the kernels' costs, which FEATURE_SET nnmeter does not "
                             "compute (use ms, or FEATURE_SET extended)");
    kernel_build_result res;
    res.kind = st.kind;
    res.target = st.target;
    auto emit = [&](build_event::what w, int round, std::size_t index, std::size_t total,
                    const measure_event* m) {
      if (!options.on_event) return;
      build_event e;
      e.event = w;
      e.kind = st.kind;
      e.kind_index = ki;
      e.kinds = kinds.size();
      e.round = round;
      e.index = index;
      e.total = total;
      e.measurement = m;
      e.result = &res;
      options.on_event(e);
    };
    emit(build_event::what::kind_started, 0, ki, kinds.size(), nullptr);
    auto finish = [&](kernel_build_status s, std::string note) {
      res.status = s;
      res.profiling_seconds = 0;
      for (const kernel_round& kr : res.rounds) res.profiling_seconds += kr.profiling_seconds;
      if (!note.empty()) res.note = std::move(note);
      emit(build_event::what::kind_done, 0, 0, 0, nullptr);
      rep.kinds.push_back(std::move(res));
    };

    sampler_options so;
    so.seed = pb.seed;
    so.caps = caps;
    // Round 0's configurations, the block, and whether the backend runs the kind at all.
    std::vector<kernel_config> drawn;
    try {
      (void)sampler_for(st.kind);
      drawn = sample_prior(st.kind, static_cast<std::size_t>(st.config.init_sample_num), so);
    } catch (const nnmeter::unsupported_error& e) {
      finish(kernel_build_status::skipped, std::string("no sampler: ") + e.what());
      continue;
    } catch (const nnmeter::error& e) {
      finish(kernel_build_status::failed, std::string("sampling failed: ") + e.what());
      continue;
    }
    if (drawn.empty()) {
      finish(kernel_build_status::failed, "the sampler drew no configuration");
      continue;
    }
    try {
      res.block = kernel_block_for(drawn.front(), rules).block;
    } catch (const nnmeter::error& e) {
      finish(kernel_build_status::skipped,
             std::string("the fusion rules never run it as one kernel: ") + e.what());
      continue;
    }
    try {
      (void)be.prepare(kernel_block_for(drawn.front(), rules).graph, protocol);
    } catch (const nnmeter::unsupported_error& e) {
      finish(kernel_build_status::skipped,
             "backend " + be.name() + " cannot run it: " + std::string(e.what()));
      continue;
    } catch (const std::exception&) {
      // Anything else is the measurement's business: it is recorded as a failure there.
    }

    train_options to;
    to.params = params_of(st.config);
    to.test_fraction = pb.holdout_fraction;
    to.seed = derive_seed(pb.seed, "train " + kind_name(st.kind));
    to.error_threshold = st.config.error_threshold;
    std::optional<train_result> last;
    std::optional<training_data> last_data;
    bool cut = false;  // the budget or a stop ended a round early
    for (int round = 0; round < st.config.iteration; ++round) {
      kernel_round kr;
      kr.round = round;
      kr.mark = round == 0 ? "prior" : "finegrained" + std::to_string(round);
      if (round > 0) {
        std::vector<kernel_config> around;
        for (const std::string& id : st.refine_ids) around.push_back(st.configs[st.by_key.at(id)]);
        if (around.empty() || st.config.finegrained_sample_num == 0) break;  // nothing to refine
        sampler_options fo = so;
        fo.seed = derive_seed(pb.seed, "finegrained " + std::to_string(round));
        drawn = sample_finegrained(around, static_cast<std::size_t>(st.config.finegrained_sample_num),
                                   fo);
      }
      kr.sampled = drawn.size();
      std::vector<measurement_key> keys;
      std::map<std::string, std::size_t> config_of_key;  // store config text -> index
      for (const kernel_config& c : drawn) {
        const std::string k = c.key();
        if (!st.seen.insert(k).second) continue;
        st.by_key[k] = st.configs.size();
        st.configs.push_back(c);
        ++kr.distinct;
        keys.push_back(kernel_sample_key(camp, c, res.block));
        config_of_key[keys.back().config] = st.configs.size() - 1;
      }
      emit(build_event::what::round_started, round, 0, keys.size(), nullptr);
      measure_options mo;
      mo.stop = stop_now;
      mo.on_event = [&](const measure_event& e) {
        // What the samples cost to measure, whichever run measured them.
        if (e.what != measure_event::outcome::failed && e.row.status == measurement_status::ok)
          rep.sample_seconds += e.row.seconds;
        emit(build_event::what::measured, round, e.index, e.total, &e);
      };
      round_t0 = clock_type::now();
      in_round = true;
      const measure_report mr = store.measure_all(
          camp, keys,
          [&](const measurement_key& key) {
            const kernel_config& c = st.configs[config_of_key.at(key.config)];
            const kernel_block b = kernel_block_for(c, rules);
            const std::string hash = graph_hash(b.graph);
            if (b.block != res.block)
              throw measurement_failure(hash, "the rules make this configuration a '" + b.block +
                                                  "' block, not '" + res.block + "'");
            try {
              return measured_model{be.profile(b.graph, protocol), hash};
            } catch (const std::exception& e) {
              throw measurement_failure(hash, e.what());
            }
          },
          mo);
      in_round = false;
      kr.profiling_seconds = mr.seconds;
      profiling_s += mr.seconds;
      kr.measured = mr.measured;
      kr.already_stored = mr.already_stored;
      kr.failed = mr.failed;
      kr.not_attempted = mr.not_attempted;
      rep.measured += mr.measured;
      if (mr.stopped) cut = true;

      // Every successful measurement of the kind so far, in draw order.
      training_data d(st.kind);
      std::size_t failures = 0;
      std::string first_failure;
      for (const kernel_config& c : st.configs) {
        const measurement_key key = kernel_sample_key(camp, c, res.block);
        const std::optional<stored_measurement> s = store.lookup(key);
        if (!s || !s->latency_ms) {
          const std::vector<stored_measurement> h = store.history(key);
          if (!h.empty()) {
            ++failures;
            if (first_failure.empty()) first_failure = c.describe() + ": " + h.back().error;
          }
          continue;
        }
        auto f = st.samples.find(c.key());
        if (f == st.samples.end())
          f = st.samples
                  .emplace(c.key(), training_sample_of(c, rules, rep.features, st.target))
                  .first;
        d.add(f->second.features, *s->latency_ms, c.key(), f->second.scale);
      }
      res.failures = failures;
      kr.rows = d.rows();
      if (d.rows() < min_training_rows) {
        res.rounds.push_back(kr);
        if (!last) {
          if (cut) {
            finish(d.rows() == 0 ? kernel_build_status::not_started : kernel_build_status::partial,
                   (rep.stopped ? "stopped" : "the budget ran out") + std::string(" after ") +
                       std::to_string(d.rows()) + " successful measurement(s); run again to go on");
          } else {
            finish(kernel_build_status::failed,
                   "only " + std::to_string(d.rows()) + " successful measurement(s) of " +
                       std::to_string(st.configs.size()) + " (at least " +
                       std::to_string(min_training_rows) + " are needed)" +
                       (first_failure.empty() ? "" : "; first failure: " + first_failure));
          }
        }
        break;
      }
      const auto t_train = clock_type::now();
      if (!st.holdout_ids) {
        st.holdout_ids.emplace();
        for (std::size_t i : holdout_split(d.rows(), pb.holdout_fraction, to.seed).test)
          st.holdout_ids->insert(d.id(i));
      }
      row_split split;
      for (std::size_t i = 0; i < d.rows(); ++i)
        (st.holdout_ids->count(d.id(i)) != 0 ? split.test : split.train).push_back(i);
      to.split = split;
      train_result tr = train_kernel_model(d, to);
      st.refine_ids.clear();
      if (round + 1 < st.config.iteration && !cut && st.config.finegrained_sample_num > 0 &&
          split.train.size() >= static_cast<std::size_t>(refine_folds)) {
        for (std::size_t i : cross_validated_error_rows(d, split.train, to, refine_folds))
          st.refine_ids.push_back(d.id(i));
      }
      kr.training_seconds = seconds_since(t_train);
      res.training_seconds += kr.training_seconds;
      rep.training_seconds += kr.training_seconds;
      kr.holdout_rows = split.test.size();
      kr.holdout = tr.holdout;
      kr.error_configs = tr.error_ids.size();
      kr.refine_configs = st.refine_ids.size();
      res.rounds.push_back(kr);
      last = std::move(tr);
      last_data = std::move(d);
      emit(build_event::what::trained, round, 0, 0, nullptr);
      if (cut) break;
    }
    if (!last) {
      // finish() was called when the rows ran short; a kind with zero rounds cannot happen
      // (ITERATION >= 1), but keep the report whole.
      if (rep.kinds.size() == ki) finish(kernel_build_status::not_started, "no round ran");
      continue;
    }
    // The last forest trained is the kind's model.
    const train_result& tr = *last;
    const training_data& d = *last_data;
    res.samples = d.rows();
    res.holdout = tr.holdout;
    res.train = tr.train;
    res.trees = tr.forest.view().num_trees;
    res.nodes = tr.forest.view().num_nodes;
    std::vector<double> y;
    for (std::size_t i = 0; i < d.rows(); ++i) y.push_back(d.latency_ms(i));
    std::sort(y.begin(), y.end());
    res.median_latency_ms = nnmeter::backends::percentile(y, 0.5);  // d has >= 10 rows here
    pred.set_forest(st.kind, tr.forest);
    pred.set_target(st.kind, st.target);
    // The final forest's output for a training sample, ms.
    const auto forest_ms = [&](const training_sample& t) {
      return static_cast<double>(nnmeter::evaluate(tr.forest.view(), t.features.data())) *
             t.scale;
    };
    for (double p : tr.test_predicted_ms)
      if (!(p > 0)) ++res.holdout_non_positive;
    // Fresh configurations of the priors, never measured: where does the forest leave the
    // positive latencies? (A kernel there would be reported non-positive, not predicted.)
    {
      sampler_options po = so;
      po.seed = derive_seed(pb.seed, "non-positive probe");
      for (const kernel_config& c : sample_prior(st.kind, probe_per_kind, po)) {
        try {
          const training_sample t = training_sample_of(c, rules, rep.features, st.target);
          ++res.probe_configs;
          if (!(forest_ms(t) > 0)) ++res.probe_non_positive;
        } catch (const nnmeter::error&) {
          // A configuration the rules make another block: not this forest's input.
        }
      }
    }
    // Golden cases from the held-out rows (rows the forest never saw), else the first rows;
    // only rows the forest gives a positive latency (a golden case is a latency).
    std::vector<nnmeter::feature_vector> golden;
    std::vector<double> golden_scales;
    const std::vector<std::size_t>& rows_for_golden = tr.split.test.empty() ? tr.split.train
                                                                             : tr.split.test;
    for (std::size_t i : rows_for_golden) {
      if (golden.size() == golden_per_kind) break;
      const training_sample& t = st.samples.at(d.id(i));
      if (!(forest_ms(t) > 0)) continue;
      golden.push_back(t.features);
      golden_scales.push_back(t.scale);
    }
    pred.record_golden(st.kind, golden, golden_per_kind, golden_scales);
    any_forest = true;
    for (std::size_t i = 0; i < d.rows(); ++i) {
      const training_sample& t = st.samples.at(d.id(i));
      // A sample whose work is unknown cannot inform a model of the work (it cannot happen
      // for the sampler's static blocks).
      if (std::isfinite(t.flops) && t.flops >= 0 && std::isfinite(t.bytes) && t.bytes > 0)
        fallback_samples.push_back({st.kind, t.flops, t.bytes, d.latency_ms(i)});
    }
    write_collection(collection, st.kind, d, tr);
    rep.samples += d.rows();
    finish(cut ? kernel_build_status::partial : kernel_build_status::built,
           cut ? (rep.stopped ? std::string("stopped") : std::string("the budget ran out")) +
                     " during round " + std::to_string(res.rounds.size() - 1) +
                     "; the forest is trained on what was measured; run again to go on"
               : std::string());
  }

  rep.complete = std::all_of(rep.kinds.begin(), rep.kinds.end(), [](const kernel_build_result& k) {
    return k.status == kernel_build_status::built || k.status == kernel_build_status::skipped;
  });
  rep.profiling_seconds = profiling_s;
  rep.wall_seconds = seconds_since(t_start);
  if (!any_forest) return rep;
  if (options.fallback) {
    fallback_fit_options fo;
    fo.holdout_fraction = pb.holdout_fraction;
    fo.seed = pb.seed;
    rep.fallback = fit_fallback(fallback_samples, fo);
  }

  // The predictor as it ships (forests, targets, golden cases, fallback models) under `info`.
  auto assemble = [&](const nnmeter::predictor_info& with_info) {
    nnmeter::predictor q(with_info, rules);
    for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
      const auto k = static_cast<nnmeter::kernel_kind>(i);
      if (const auto v = pred.forest_for(k)) {
        q.set_forest(k, nnmeter::forest::from_view(*v));
        q.set_target(k, pred.target_for(k));
      }
    }
    for (const nnmeter::golden_case& g : pred.golden()) q.add_golden(g);
    for (const fallback_family_fit& f : rep.fallback)
      if (f.coefficients) q.set_fallback(f.family, *f.coefficients);
    return q;
  };

  rep.context_per_family = pb.context_models;
  rep.context_seed = pb.context_seed;
  rep.context_layouts = pb.context_layouts;
  // The context factor: zoo models of every family measured whole (through the store, so a
  // rerun measures nothing again), predicted by the predictor as assembled, one factor fitted.
  if (!options.context) {
    rep.context_note = "off (--no-context)";
  } else if (pb.context_models == 0) {
    rep.context_note = "off (CONTEXT_MODELS: 0)";
  } else if (rep.stopped || rep.budget_exhausted) {
    rep.context_note = "not fitted: the build stopped before it (run again to go on)";
  } else {
    const nnmeter::predictor staged = assemble(pred.info());
    std::vector<evaluation_model> models;
    for (nnmeter::zoo::family f : nnmeter::zoo::families()) {
      for (std::size_t i = 0; i < pb.context_models; ++i) {
        nnmeter::zoo::zoo_model m = nnmeter::zoo::generate(f, pb.context_seed, i);
        evaluation_model e;
        e.family = std::string(nnmeter::zoo::to_string(f));
        e.name = "context/" + m.name + "/seed" + std::to_string(pb.context_seed);
        e.source = "zoo " + e.family + " seed " + std::to_string(pb.context_seed) + " index " +
                   std::to_string(i);
        e.graph = std::move(m.graph);
        models.push_back(std::move(e));
      }
    }
    evaluate_options eo;
    eo.protocol = whole_model_protocol(protocol, pb.context_layouts);
    eo.stop = stop_now;
    eo.on_model = [&](const evaluation_event& e) {
      if (!options.on_event) return;
      build_event ev;
      ev.event = build_event::what::context_model;
      ev.index = e.index;
      ev.total = e.total;
      ev.model = e.model;
      options.on_event(ev);
    };
    const auto t0 = clock_type::now();
    round_t0 = t0;  // the budget counts this measuring too
    in_round = true;
    const evaluation_report er = evaluate_models(staged, be, store, models, eo);
    in_round = false;
    rep.context_seconds = seconds_since(t0);
    profiling_s += rep.context_seconds;
    rep.profiling_seconds = profiling_s;
    rep.context_models = er.models;
    if (er.measuring.stopped) {
      rep.context_note = "not fitted: the build stopped while measuring its models (run again "
                         "to go on)";
    } else if (er.overall.evaluated == 0) {
      rep.context_note = "not fitted: no training model was evaluated (" +
                         std::to_string(er.overall.failed) + " failed, " +
                         std::to_string(er.overall.incomplete) + " incomplete)";
    } else {
      rep.context = fit_context(er.models);
    }
  }

  // The build record, in the manifest.
  nlohmann::ordered_json build = nlohmann::ordered_json::object();
  build["nnmeter"] = nnmeter::version_string;
  build["built_at"] = nnmeter::backends::utc_timestamp();
  build["runtime"] = rep.runtime;
  build["seed"] = pb.seed;
  build["complete"] = rep.complete;
  build["profiling_minutes"] = rep.profiling_seconds / 60;
  build["sample_profiling_minutes"] = rep.sample_seconds / 60;
  build["training_minutes"] = rep.training_seconds / 60;
  build["samples"] = rep.samples;
  nlohmann::ordered_json per_kind = nlohmann::ordered_json::object();
  for (const kernel_build_result& k : rep.kinds) {
    if (k.status != kernel_build_status::built && k.status != kernel_build_status::partial)
      continue;
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["status"] = to_string(k.status);
    e["block"] = k.block;
    e["target"] = std::string(nnmeter::to_string(k.target));
    e["samples"] = k.samples;
    e["rounds"] = k.rounds.size();
    e["median_latency_ms"] = k.median_latency_ms;
    e["holdout"] = metrics_json(k.holdout);
    e["trees"] = k.trees;
    e["nodes"] = k.nodes;
    per_kind[kind_name(k.kind)] = std::move(e);
  }
  build["kernels"] = std::move(per_kind);
  if (options.fallback) build["fallback"] = fallback_json(rep.fallback);
  build["context"] = context_json(rep);
  nnmeter::predictor_info final_info = pred.info();
  final_info.build_json = build.dump();
  nnmeter::predictor out = assemble(final_info);
  if (rep.context) out.set_context_scale(rep.context->scale);

  rep.package_dir = results / name;
  nnmeter::io::package_write_options wo;
  wo.overwrite = options.overwrite;
  nnmeter::io::write_predictor_package(out, rep.package_dir.string(), wo);
  predictor_meta meta = meta_of_package(rep.package_dir, category_of(be.name()));
  rep.meta_file = results / (name + ".yaml");
  write_predictor_meta(meta, rep.meta_file);
  rep.report_file = results / (name + ".report.json");
  rep.wall_seconds = seconds_since(t_start);
  write_file_atomically(rep.report_file, build_report_json(rep));
  return rep;
}

}  // namespace nnmeter::builder
