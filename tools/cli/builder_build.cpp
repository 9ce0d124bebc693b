// nnmeter CLI — the measuring verbs of the builder: `nnmeter connect` (is the device there?),
// `nnmeter detect-rules` (the fusion-rule tester), `nnmeter build-predictor` (the kernel
// models), and `nnmeter priors` (prior tables from a set of models). docs/builder.md, docs/cli.md.
// SPDX-License-Identifier: MIT
#include "cli/builder_commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_input.hpp"
#include "cli/option_ranges.hpp"
#include "cli/text_format.hpp"

#if NNMETER_WITH_BACKENDS && NNMETER_BUILDER_WITH_WORKSPACE
#include "backend.hpp"
#include "builder/workspace/workspace.hpp"
#include "registry/result_json.hpp"
#define NNMETER_CLI_CONNECT 1
#endif
#if NNMETER_CLI_CONNECT && NNMETER_BUILDER_WITH_STORE && NNMETER_BUILDER_WITH_TESTCASES
#include "builder/store/store.hpp"
#include "builder/testcases/campaign.hpp"
#define NNMETER_CLI_DETECT_RULES 1
#endif
#if NNMETER_CLI_CONNECT && NNMETER_BUILDER_WITH_PREDICTORBUILD
#include "builder/predictorbuild/predictor_build.hpp"
#define NNMETER_CLI_BUILD_PREDICTOR 1
#endif
#if NNMETER_BUILDER_WITH_SAMPLER
#include "builder/sampler/priors.hpp"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace nnmeter_cli {

namespace {

namespace fs = std::filesystem;

std::string percent(double share) {
  return share == share ? fixed(100.0 * share, 1) + "%" : std::string("-");
}

// RMSPE is a percentage already (trainer.hpp: 100 * sqrt(mean(((y - yhat) / y)^2))).
std::string rmspe_text(double rmspe) {
  return rmspe == rmspe ? fixed(rmspe, 1) + "%" : std::string("-");
}

std::string duration_text(double seconds) {
  if (!(seconds >= 0)) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 < 10 ? "0" : "") +
         std::to_string(s % 3600 / 60) + "m";
}

// Left-aligned columns; numbers are right-aligned by the caller's padding where it matters.
std::string table_text(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

#if NNMETER_CLI_CONNECT

namespace nb = nnmeter::backends;
namespace bw = nnmeter::builder;

// The workspace and the backend a measuring verb runs on: --backend, else the workspace's
// BACKEND. The backend is made (and so checked) before anything is measured.
struct device_session {
  bw::workspace ws;
  std::unique_ptr<nb::backend> be;
};

device_session open_device(const std::string& dir, const std::string& backend) {
  device_session s;
  s.ws = bw::load_workspace(dir);
  const std::string name = backend.empty() ? s.ws.backend.backend : backend;
  s.be = nb::make_backend(name);
  return s;
}

// The tiny model `nnmeter connect` runs: a 3x3 convolution and its relu on a 28x28x16 input.
nnmeter::graph connect_model() {
  nnmeter::graph_builder b;
  const nnmeter::tensor_ref x = b.input({1, 28, 28, 16}, nnmeter::dtype::f32, "input");
  b.relu(b.conv(x, 16, 3, 1, nnmeter::padding_mode::same, 1, 1, "conv"), "relu");
  return std::move(b).build();
}

struct connect_options {
  std::string workspace;
  std::string backend;
  bool json = false;
};

int run_connect(const connect_options& o) {
  device_session s = open_device(o.workspace, o.backend);
  const nnmeter::graph g = connect_model();
  nb::profile_result r;
  try {
    r = s.be->profile(g, s.ws.backend.protocol);
  } catch (const std::exception& e) {
    throw nnmeter::error("connect: backend " + s.be->name() + " could not run the test model " +
                         "(conv 3x3, 16 channels, 28x28, then relu): " + e.what());
  }
  const std::string runtime = s.be->runtime().empty() ? "(not reported)" : s.be->runtime();
  if (o.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["backend"] = s.be->name();
    j["device"] = s.be->device();
    j["runtime"] = s.be->runtime();
    j["model"] = "conv 3x3 16->16 on 1x28x28x16, relu";
    j["latency_ms"] = r.latency_ms;
    const nlohmann::ordered_json rj = nb::profile_result_to_json(r);
    j["statistics"] = rj.at("statistics");
    j["protocol"] = rj.at("protocol");
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "backend:  " << s.be->name() << "\n"
            << "device:   " << s.be->device() << "\n"
            << "runtime:  " << runtime << "\n"
            << "model:    conv 3x3 16->16 on 1x28x28x16, relu\n"
            << "latency:  " << fixed(r.latency_ms, 4) << " ms (minimum of " << r.stats.runs
            << " timed runs; median " << fixed(r.stats.median_ms, 4) << " ms, CV "
            << fixed(100 * r.stats.cv, 1) << "%)\n";
  return 0;
}

#endif  // NNMETER_CLI_CONNECT

// ---------------------------------------------------------------------------------------------
// Progress: a bar redrawn in place on a terminal, plain lines otherwise (logs, pipes).

class progress_line {
 public:
  progress_line() : tty_(::isatty(STDERR_FILENO) == 1) {}
  ~progress_line() { clear(); }
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  bool tty() const noexcept { return tty_; }

  /// A bar for `label`: done of total, with an ETA from the rate since start().
  void start(std::string label, std::size_t total) {
    label_ = std::move(label);
    total_ = total;
    done_ = 0;
    next_plain_ = 0;
    t0_ = std::chrono::steady_clock::now();
    if (!tty_) {
      std::cerr << label_ << ": " << total_ << " to measure\n";
      next_plain_ = 1;
    }
    draw();
  }
  void advance(std::size_t done) {
    done_ = done;
    draw();
  }
  /// A line of its own (the bar is redrawn below it).
  void say(const std::string& line) {
    clear();
    std::cerr << line << "\n";
  }
  void clear() {
    if (tty_ && shown_) {
      std::cerr << "\r\033[K" << std::flush;
      shown_ = false;
    }
  }

 private:
  void draw() {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double eta = done_ > 0 ? elapsed / static_cast<double>(done_) *
                                       static_cast<double>(total_ - std::min(done_, total_))
                                 : -1;
    if (tty_) {
      constexpr std::size_t width = 30;
      const std::size_t filled = total_ == 0 ? width : width * std::min(done_, total_) / total_;
      std::cerr << "\r\033[K" << label_ << " [" << std::string(filled, '#')
                << std::string(width - filled, '.') << "] " << done_ << "/" << total_
                << "  ETA " << (done_ > 0 ? duration_text(eta) : std::string("?")) << std::flush;
      shown_ = true;
      return;
    }
    // Plain: a line at every tenth of the way.
    if (total_ == 0 || done_ < next_plain_ * total_ / 10 || done_ == 0) return;
    while (next_plain_ <= 10 && done_ >= next_plain_ * total_ / 10) ++next_plain_;
    std::cerr << label_ << ": " << done_ << "/" << total_ << " (ETA " << duration_text(eta)
              << ")\n";
  }

  bool tty_;
  bool shown_ = false;
  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t next_plain_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

#if NNMETER_CLI_DETECT_RULES

struct detect_rules_options {
  std::string workspace;
  std::string backend;
  bool json = false;
};

bw::rule_test_config rule_config_of(const bw::ruletest_config& r) {
  bw::rule_test_config c;
  c.hw = r.hw;
  c.cin = r.cin;
  c.shape_1d = r.shape_1d;
  c.cout = r.cout;
  c.kernel_size = r.kernel_size;
  c.padding = r.padding;
  c.strides = r.strides;
  c.pool_strides = r.pool_strides;
  c.emp_alpha = r.emp_alpha;
  c.basic_testcases = r.basic_testcases;
  c.other_testcases = r.other_testcases;
  c.layers_1d = r.layers_1d;
  c.detail = r.detail;
  c.repeats = r.repeats;
  c.noise_sigmas = r.noise_sigmas;
  return c;
}

std::string declared_text(const std::optional<bool>& d) {
  if (!d) return "-";
  return *d ? "fused" : "not fused";
}

int run_detect_rules(const detect_rules_options& o) {
  device_session s = open_device(o.workspace, o.backend);
  bw::profile_store store = bw::profile_store::open(s.ws.store_file());
  const bw::rule_test_config cfg = rule_config_of(s.ws.ruletest);
  const fs::path rules_file = s.ws.detected_rules_file();
  progress_line bar;
  sigint_guard guard;
  bw::rule_test_run run;
  run.protocol = s.ws.backend.protocol;
  run.stop = interrupted;
  bool started = false;
  run.on_event = [&](const bw::measure_event& e) {
    if (!started) {
      bar.start("detect-rules on " + s.be->name(), e.total);
      started = true;
    }
    bar.advance(e.index + 1);
  };
  const bw::rule_test_report rep = bw::run_rule_tests(store, *s.be, cfg, run, rules_file);
  bar.clear();
  if (o.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["backend"] = s.be->name();
    j["device"] = s.be->device();
    j["complete"] = rep.complete;
    j["rules_file"] = rep.rules_file.string();
    j["measured"] = rep.measurements.measured;
    j["already_stored"] = rep.measurements.already_stored;
    j["failed"] = rep.measurements.failed;
    nlohmann::ordered_json rs = nlohmann::ordered_json::array();
    for (const bw::rule_result& r : rep.results) {
      nlohmann::ordered_json e = nlohmann::ordered_json::object();
      e["test"] = r.name;
      e["rule"] = r.rule_name;
      e["verdict"] = bw::to_string(r.verdict);
      e["margin_ms"] = r.margin_ms;
      e["margin_se_ms"] = r.margin_se_ms;
      if (!r.mon_case.empty()) e["mon_case"] = r.mon_case;
      e["declared"] = r.declared ? nlohmann::ordered_json(*r.declared) : nlohmann::ordered_json(nullptr);
      e["obey"] = r.obey ? nlohmann::ordered_json(*r.obey) : nlohmann::ordered_json(nullptr);
      e["note"] = r.note;
      rs.push_back(std::move(e));
    }
    j["rules"] = std::move(rs);
    std::cout << j.dump(2) << "\n";
    return rep.complete ? 0 : 1;
  }
  std::vector<std::vector<std::string>> rows{
      {"test", "verdict", "margin ms", "+-2 SE ms", "declared", "agree", "obey"}};
  std::size_t agree = 0, disagree = 0;
  for (const bw::rule_result& r : rep.results) {
    std::string ag = "-";
    if (r.declared && (r.verdict == bw::rule_verdict::fused || r.verdict == bw::rule_verdict::not_fused)) {
      const bool same = *r.declared == (r.verdict == bw::rule_verdict::fused);
      ag = same ? "yes" : "NO";
      ++(same ? agree : disagree);
    }
    std::string verdict = bw::to_string(r.verdict);
    if (!r.mon_case.empty()) verdict += " (" + r.mon_case + ")";
    rows.push_back({r.name, verdict, fixed(r.margin_ms, 4),
                    fixed(cfg.noise_sigmas * r.margin_se_ms, 4), declared_text(r.declared), ag,
                    r.obey ? (*r.obey ? "true" : "false") : "unset"});
  }
  std::cout << table_text(rows);
  std::cout << "\n" << rep.measurements.measured << " measured, "
            << rep.measurements.already_stored << " already in the store, "
            << rep.measurements.failed << " failed";
  if (agree + disagree > 0)
    std::cout << "; timing and the backend's declaration agree on " << agree << " of "
              << agree + disagree << " decided pairs";
  std::cout << "\n";
  if (!rep.complete) {
    std::cout << "stopped before every test was measured: run the command again to go on "
                 "(nothing measured is lost)\n";
    return 1;
  }
  if (!rep.rules_file.empty()) std::cout << "rules written to " << rep.rules_file.string() << "\n";
  return 0;
}

#endif  // NNMETER_CLI_DETECT_RULES

#if NNMETER_CLI_BUILD_PREDICTOR

struct build_options {
  std::string workspace;
  std::string backend;
  std::vector<std::string> kernels;
  double budget_minutes = 0;
  bool budget_given = false;  // else the config's BUDGET_MINUTES
  std::string name;
  std::string version = "1.0";
  std::string rules;
  bool no_fallback = false;
  bool no_context = false;
  bool json = false;
};

// What a kind's final forest does below zero, for the warning lines.
std::string non_positive_text(const bw::kernel_build_result& k) {
  return "its forest gives no positive latency for " + std::to_string(k.holdout_non_positive) +
         " held-out sample(s) and " + std::to_string(k.probe_non_positive) + " of " +
         std::to_string(k.probe_configs) +
         " fresh prior configurations; nnmeter predict gives such kernels their family's "
         "fallback estimate (labelled fallback), or reports them as non-positive (not counted) "
         "without one, so measure more of them (INIT_SAMPLE_NUM) or try TARGET ms";
}

int run_build_predictor(const build_options& o) {
  device_session s = open_device(o.workspace, o.backend);
  bw::predictor_build_options po;
  po.name = o.name;
  po.version = o.version;
  po.fallback = !o.no_fallback;
  po.context = !o.no_context;
  for (const std::string& k : o.kernels) {
    const auto kind = nnmeter::parse_kernel_kind(k);
    if (!kind || *kind == nnmeter::kernel_kind::other) {
      std::string all;
      for (std::size_t i = 0; i + 1 < nnmeter::kernel_kind_count; ++i)
        all += std::string(i ? ", " : "") +
               std::string(nnmeter::to_string(static_cast<nnmeter::kernel_kind>(i)));
      throw nnmeter::error("build-predictor: --kernels: unknown kernel kind '" + k +
                           "' (kinds: " + all + ")");
    }
    if (std::find(po.kinds.begin(), po.kinds.end(), *kind) != po.kinds.end())
      throw nnmeter::error("build-predictor: --kernels: '" + k + "' is given twice");
    po.kinds.push_back(*kind);
  }
  if (o.budget_given) po.budget_minutes = o.budget_minutes;
  const fs::path rules_file = o.rules.empty() ? s.ws.detected_rules_file() : fs::path(o.rules);
  std::error_code ec;
  if (!fs::exists(rules_file, ec)) {
    if (o.rules.empty())
      throw nnmeter::error("build-predictor: " + rules_file.string() +
                           ": no detected fusion rules: run `nnmeter detect-rules --workspace " +
                           o.workspace + "` first, or give --rules FILE");
    throw nnmeter::error("build-predictor: --rules " + o.rules + ": no such file");
  }
  po.rules = nnmeter::io::load_fusion_rules(rules_file.string());

  progress_line bar;
  sigint_guard guard;
  po.stop = interrupted;
  std::string kind_label;
  po.on_event = [&](const bw::build_event& e) {
    using w = bw::build_event::what;
    const std::string kn(nnmeter::to_string(e.kind));
    switch (e.event) {
      case w::kind_started:
        kind_label = "[" + std::to_string(e.kind_index + 1) + "/" + std::to_string(e.kinds) + "] " + kn;
        break;
      case w::round_started:
        if (e.total > 0)
          bar.start(kind_label + (e.round == 0 ? " prior" : " finegrained" + std::to_string(e.round)),
                    e.total);
        break;
      case w::measured:
        bar.advance(e.index + 1);
        break;
      case w::trained: {
        const bw::kernel_round& r = e.result->rounds.back();
        bar.say(kind_label + " round " + std::to_string(r.round) + ": " +
                std::to_string(r.rows) + " samples, held-out +-10% " +
                percent(r.holdout.within_10) + ", RMSPE " + rmspe_text(r.holdout.rmspe) + ", " +
                std::to_string(r.error_configs) + " above the error threshold" +
                (r.refine_configs > 0
                     ? ", refining around " + std::to_string(r.refine_configs) + " train configs"
                     : std::string()));
        break;
      }
      case w::kind_done:
        bar.say(kind_label + ": " + bw::to_string(e.result->status) +
                (e.result->note.empty() ? "" : " (" + e.result->note + ")"));
        if (e.result->probe_non_positive + e.result->holdout_non_positive > 0)
          bar.say(kind_label + ": warning: " + non_positive_text(*e.result));
        break;
      case w::context_model:
        if (e.index == 0) bar.start("context factor: zoo models measured whole", e.total);
        bar.advance(e.index + 1);
        break;
    }
  };
  // Everything that can be refused is, before the store is opened (or created).
  if (!po.name.empty()) bw::check_predictor_name(po.name, "name");
  bw::check_predictor_name(po.version, "version");
  bw::profile_store store = bw::profile_store::open(s.ws.store_file());
  const bw::predictor_build_report rep = bw::build_predictor(s.ws, store, *s.be, po);
  bar.clear();
  if (o.json) {
    std::cout << bw::build_report_json(rep);
    return rep.complete ? 0 : 1;
  }
  std::vector<std::vector<std::string>> rows{{"kernel", "status", "target", "samples", "failed",
                                              "rounds", "+-5%", "+-10%", "RMSPE", "profiling",
                                              "note"}};
  for (const bw::kernel_build_result& k : rep.kinds) {
    const bool model = k.status == bw::kernel_build_status::built ||
                       k.status == bw::kernel_build_status::partial;
    rows.push_back({std::string(nnmeter::to_string(k.kind)), bw::to_string(k.status),
                    std::string(nnmeter::to_string(k.target)), std::to_string(k.samples), std::to_string(k.failures),
                    std::to_string(k.rounds.size()), model ? percent(k.holdout.within_5) : "-",
                    model ? percent(k.holdout.within_10) : "-",
                    model ? rmspe_text(k.holdout.rmspe) : "-", duration_text(k.profiling_seconds),
                    k.note.size() > 70 ? k.note.substr(0, 67) + "..." : k.note});
  }
  std::cout << table_text(rows) << "\n";
  for (const bw::kernel_build_result& k : rep.kinds)
    if (k.probe_non_positive + k.holdout_non_positive > 0)
      std::cout << "warning: " << nnmeter::to_string(k.kind) << ": " << non_positive_text(k)
                << "\n";
  if (!rep.fallback.empty()) {
    // The fallback models: per family, the coefficients and their held-out quality.
    std::vector<std::vector<std::string>> fb{{"fallback", "kinds", "samples", "base ms",
                                              "ms/MFLOP", "ms/MB", "+-25%", "+-50%",
                                              "median err"}};
    auto num = [](double x) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3g", x);
      return std::string(buf);
    };
    for (const bw::fallback_family_fit& f : rep.fallback) {
      std::string kinds;
      for (nnmeter::kernel_kind k : f.kinds)
        kinds += (kinds.empty() ? "" : ",") + std::string(nnmeter::to_string(k));
      const bool m = f.coefficients.has_value();
      fb.push_back({std::string(nnmeter::to_string(f.family)), kinds, std::to_string(f.samples),
                    m ? num(f.coefficients->base_ms) : "-", m ? num(f.coefficients->ms_per_mflop) : "-",
                    m ? num(f.coefficients->ms_per_mbyte) : "-",
                    m ? percent(f.holdout.within_25 / 100.0) : "-",
                    m ? percent(f.holdout.within_50 / 100.0) : "-",
                    m ? percent(f.holdout.median_abs_error / 100.0) : f.note});
    }
    std::cout << table_text(fb) << "\n";
  }
  if (rep.context) {
    const bw::context_fit& c = *rep.context;
    std::cout << "context factor " << fixed(c.scale, 4) << " on " << c.before.evaluated
              << " zoo models measured whole (seed " << rep.context_seed << "): within +-10% "
              << percent(c.before.within_10) << " of them without it, " << percent(c.after.within_10)
              << " with it; each family with the factor of the others: "
              << percent(c.leave_one_family_out.within_10) << "\n";
  } else {
    std::cout << "context factor: " << rep.context_note << "\n";
  }
  std::cout << rep.measured << " configurations measured in this run; profiling "
            << duration_text(rep.profiling_seconds) << ", training "
            << duration_text(rep.training_seconds) << ", total " << duration_text(rep.wall_seconds)
            << "\n";
  if (rep.stopped) std::cout << "stopped (Ctrl-C): run the command again to go on\n";
  if (rep.budget_exhausted)
    std::cout << "the budget of " << rep.budget_minutes
              << " profiling minutes ran out: run the command again to go on\n";
  if (rep.meta_file.empty()) {
    std::cout << "no kernel model was trained, so no predictor was written\n";
    return 1;
  }
  std::cout << "predictor " << rep.name << " " << rep.version << ": " << rep.package_dir.string()
            << "\nregister it with: nnmeter register --predictor " << rep.meta_file.string()
            << "\n";
  return rep.complete ? 0 : 1;
}

#endif  // NNMETER_CLI_BUILD_PREDICTOR

// ---------------------------------------------------------------------------------------------
// nnmeter priors: nn-Meter's four prior tables (conv, dwconv, fc, pooling) from a set of models.

struct priors_options {
  std::string models;
  std::string out;
  std::string rules;
  bool json = false;
};

#if NNMETER_BUILDER_WITH_SAMPLER

int run_priors(const priors_options& o) {
  namespace bs = nnmeter::builder;
  std::error_code ec;
  if (!fs::is_directory(o.models, ec))
    throw nnmeter::error("priors: --models " + o.models + ": not a folder");
  // Every .onnx and nn-Meter IR .json file of the folder, in name order (deterministic).
  std::vector<fs::path> files;
  for (fs::directory_iterator it(o.models, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (!it->is_regular_file(ec)) continue;
    if (p.extension() == ".onnx" || p.extension() == ".json") files.push_back(p);
  }
  if (ec) throw nnmeter::error("priors: --models " + o.models + ": cannot list it (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw nnmeter::error("priors: --models " + o.models + ": no .onnx or nn-Meter IR .json file in it");
  const nnmeter::rule_set rules =
      o.rules.empty() ? nnmeter::default_rules() : nnmeter::io::load_fusion_rules(o.rules);
  std::vector<nnmeter::graph> graphs;
  std::vector<std::string> names;
  std::vector<std::string> warnings;
  graphs.reserve(files.size());
  for (const fs::path& f : files) {
    model_options m;
    (f.extension() == ".onnx" ? m.onnx : m.nnmeter_ir) = f.string();
    loaded_model lm = load_model(m);  // errors name the file
    for (std::string& w : lm.warnings) warnings.push_back(std::move(w));  // they name it too
    graphs.push_back(std::move(lm.graph));
    names.push_back(f.stem().string());
  }
  std::vector<bs::prior_source> sources;
  for (std::size_t i = 0; i < graphs.size(); ++i) sources.push_back({names[i], &graphs[i]});
  const bs::prior_tables t = bs::extract_priors(sources, rules);
  bs::write_prior_tables(t, o.out);
  if (o.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["models"] = files.size();
    j["out"] = o.out;
    j["conv"] = t.conv.size();
    j["dwconv"] = t.dwconv.size();
    j["fc"] = t.fc.size();
    j["pooling"] = t.pooling.size();
    j["skipped"] = t.skipped;
    j["warnings"] = warnings;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << files.size() << " models: " << t.conv.size() << " conv, " << t.dwconv.size()
            << " dwconv, " << t.fc.size() << " fc, " << t.pooling.size()
            << " pooling rows written to " << o.out << " (conv.csv, dwconv.csv, fc.csv, pooling.csv)\n";
  for (const std::string& sk : t.skipped) std::cout << "skipped: " << sk << "\n";
  for (const std::string& w : warnings) std::cerr << "nnmeter: warning: " << w << "\n";
  return 0;
}

#else

int run_priors(const priors_options&) {
  throw nnmeter::error("priors: this nnmeter was built without the builder's sampler (tools/builder/sampler)");
}

#endif

#if !NNMETER_CLI_CONNECT
struct connect_options {
  std::string workspace;
  std::string backend;
  bool json = false;
};
int run_connect(const connect_options&) {
  throw nnmeter::error("connect: this nnmeter was built without the backends or the builder's workspace library");
}
#endif
#if !NNMETER_CLI_DETECT_RULES
struct detect_rules_options {
  std::string workspace;
  std::string backend;
  bool json = false;
};
int run_detect_rules(const detect_rules_options&) {
  throw nnmeter::error(
      "detect-rules: this nnmeter was built without the builder's store or testcases library "
      "(apt-get install libsqlitecpp-dev libsqlite3-dev libssl-dev libyaml-cpp-dev)");
}
#endif
#if !NNMETER_CLI_BUILD_PREDICTOR
struct build_options {
  std::string workspace;
  std::string backend;
  std::vector<std::string> kernels;
  double budget_minutes = 0;
  bool budget_given = false;
  std::string name;
  std::string version = "1.0";
  std::string rules;
  bool no_fallback = false;
  bool no_context = false;
  bool json = false;
};
int run_build_predictor(const build_options&) {
  throw nnmeter::error(
      "build-predictor: this nnmeter was built without the builder's predictorbuild library "
      "(it needs XGBoost, SQLite and yaml-cpp: scripts/install-deps.sh installs them)");
}
#endif

}  // namespace

command add_connect_command(CLI::App& app) {
  auto o = std::make_shared<connect_options>();
  CLI::App* cmd = app.add_subcommand(
      "connect", "Profile one tiny model on a workspace's backend and print the device, the "
                 "runtime and the measured latency");
  cmd->add_option("--workspace", o->workspace, "the workspace folder")->required();
  cmd->add_option("--backend", o->backend, "the backend (default: BACKEND of backend_config.yaml)");
  cmd->add_flag("--json", o->json, "print JSON");
  return command{cmd, [o] { return run_connect(*o); }};
}

command add_detect_rules_command(CLI::App& app) {
  auto o = std::make_shared<detect_rules_options>();
  CLI::App* cmd = app.add_subcommand(
      "detect-rules",
      "Test the device's fusion rules (ruletest_config.yaml) through the profile store and write "
      "fusion_rule_test/results/detected_fusion_rule.json");
  cmd->add_option("--workspace", o->workspace, "the workspace folder")->required();
  cmd->add_option("--backend", o->backend, "the backend (default: BACKEND of backend_config.yaml)");
  cmd->add_flag("--json", o->json, "print JSON");
  return command{cmd, [o] { return run_detect_rules(*o); }};
}

command add_build_predictor_command(CLI::App& app) {
  auto o = std::make_shared<build_options>();
  CLI::App* cmd = app.add_subcommand(
      "build-predictor",
      "Sample, profile and train the kernel models of predictorbuild_config.yaml and write a "
      "ready-to-register predictor under predictor_build/results/");
  cmd->add_option("--workspace", o->workspace, "the workspace folder")->required();
  cmd->add_option("--backend", o->backend, "the backend (default: BACKEND of backend_config.yaml)");
  cmd->add_option("--kernels", o->kernels,
                  "kernel kinds to build, in this order (default: KERNELS of the config)")
      ->delimiter(',');
  CLI::Option* budget = add_bounded_option(cmd, "--budget-minutes", o->budget_minutes,
                     "profiling time budget of this run, minutes; 0 = none (default: "
                     "BUDGET_MINUTES)",
                     0.0, 1e6);
  cmd->add_option("--name", o->name, "predictor name (default: <backend>_<workspace folder>)");
  cmd->add_option("--predictor-version", o->version, "predictor version (default: 1.0)");
  cmd->add_option("--rules", o->rules,
                  "fusion-rule file (default: the workspace's detected_fusion_rule.json)");
  cmd->add_flag("--no-fallback", o->no_fallback,
                "fit no fallback models (kernels without a usable forest then get no latency)");
  cmd->add_flag("--no-context", o->no_context,
                "fit no context factor (measures no zoo models whole; CONTEXT_MODELS: 0 does the "
                "same)");
  cmd->add_flag("--json", o->json, "print the build report as JSON");
  return command{cmd, [o, budget] {
                   o->budget_given = budget->count() > 0;
                   return run_build_predictor(*o);
                 }};
}

command add_priors_command(CLI::App& app) {
  auto o = std::make_shared<priors_options>();
  CLI::App* cmd = app.add_subcommand(
      "priors",
      "Extract nn-Meter's prior tables (conv, dwconv, fc, pooling .csv) from the .onnx and "
      "nn-Meter IR .json models of a folder");
  cmd->add_option("--models", o->models, "folder of models")->required();
  cmd->add_option("--out", o->out, "folder to write conv.csv, dwconv.csv, fc.csv, pooling.csv")
      ->required();
  cmd->add_option("--rules", o->rules, "fusion-rule file (default: nn-Meter's TFLite CPU rules)");
  cmd->add_flag("--json", o->json, "print JSON");
  return command{cmd, [o] { return run_priors(*o); }};
}

}  // namespace nnmeter_cli
