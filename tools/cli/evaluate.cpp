// nnmeter CLI — `nnmeter evaluate`: a predictor against measured whole-model latency, per model
// family (tools/builder/evaluate; docs/evaluation.md).
// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/default_predictor.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_input.hpp"
#include "cli/option_ranges.hpp"
#include "cli/text_format.hpp"

#if NNMETER_WITH_BACKENDS && NNMETER_BUILDER_WITH_EVALUATE && NNMETER_BUILDER_WITH_PACKAGE && \
    NNMETER_WITH_MODEL_ZOO
#define NNMETER_CLI_EVALUATE 1
#include "backend.hpp"
#include "builder/evaluate/evaluate.hpp"
#include "builder/package/registry.hpp"
#include "model_zoo/zoo.hpp"
#include "registry/result_json.hpp"
#else
#define NNMETER_CLI_EVALUATE 0
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnmeter_cli {

namespace {

namespace fs = std::filesystem;

struct evaluate_options {
  std::string predictor;
  std::string version;
  std::string package;
  std::string backend = "xnnpack";
  std::vector<std::string> zoo;
  std::uint64_t seed = 1;
  std::string models;
  std::string out;
  // Protocol overrides (default: the predictor's own protocol).
  int runs = 0, blocks = 0, passes = 0, layouts = 0;
  double warmup = 0;
  std::string clock;
  bool runs_given = false, blocks_given = false, passes_given = false, layouts_given = false,
       warmup_given = false;
  std::size_t worst = 10;
  double budget_minutes = 0;
  bool json = false;
};

#if NNMETER_CLI_EVALUATE

namespace nb = nnmeter::builder;
namespace be = nnmeter::backends;
namespace zoo = nnmeter::zoo;

// "F:N" -> the first N models of family F (or of every family for "all").
void add_zoo_models(const std::string& spec, std::uint64_t seed,
                    std::vector<nb::evaluation_model>& out) {
  const std::size_t colon = spec.rfind(':');
  const std::string fam = spec.substr(0, colon);
  const std::string count = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
  const std::string bad = range_violation<std::size_t>(count, 1, 100000);
  if (colon == std::string::npos || fam.empty() || !bad.empty())
    throw nnmeter::error("--zoo '" + spec + "': expected FAMILY:COUNT (e.g. resnet:20 or all:20)" +
                         (bad.empty() || colon == std::string::npos ? "" : "; the count " + bad));
  std::vector<zoo::family> fams;
  if (fam == "all") {
    fams = zoo::families();
  } else if (const auto f = zoo::parse_family(fam)) {
    fams.push_back(*f);
  } else {
    std::string names;
    for (zoo::family g : zoo::families()) names += (names.empty() ? "" : ", ") + std::string(zoo::to_string(g));
    throw nnmeter::error("--zoo '" + spec + "': '" + fam + "' is not a family (" + names +
                         ", or all)");
  }
  const std::size_t n = std::stoul(count);
  for (zoo::family f : fams) {
    for (std::size_t i = 0; i < n; ++i) {
      zoo::zoo_model m = zoo::generate(f, seed, i);
      nb::evaluation_model e;
      e.name = m.name;
      e.family = std::string(zoo::to_string(f));
      e.source = "zoo " + e.family + " seed " + std::to_string(seed) + " index " + std::to_string(i);
      e.graph = std::move(m.graph);
      out.push_back(std::move(e));
    }
  }
}

// The families zoo.csv (written by `nnmeter zoo`) gives the files of `dir`: file -> family.
std::map<std::string, std::string> zoo_csv_families(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::ifstream in(dir / "zoo.csv");
  if (!in) return out;
  std::string line;
  std::getline(in, line);  // header: name,family,seed,index,nodes,file,config
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::size_t pos = 0;
    for (int c = 0; c < 6 && pos <= line.size(); ++c) {
      const std::size_t comma = std::min(line.find(',', pos), line.size());
      cells.push_back(line.substr(pos, comma - pos));
      pos = comma + 1;
    }
    if (cells.size() == 6) out[cells[5]] = cells[1];
  }
  return out;
}

// Every model file of `dir` (.onnx, .ir.json, .json), sorted by name; the family from zoo.csv,
// else from a zoo-style name ("resnet_0007"), else "models".
void add_dir_models(const std::string& dir, std::vector<nb::evaluation_model>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw nnmeter::error("--models " + dir + ": not a folder");
  const std::map<std::string, std::string> families = zoo_csv_families(dir);
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    auto ends = [&](const std::string& s) {
      return n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (e.is_regular_file() && (ends(".onnx") || ends(".json"))) files.push_back(e.path());
  }
  if (ec) throw nnmeter::error("--models " + dir + ": cannot list the folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw nnmeter::error("--models " + dir + ": no model files (.onnx, .ir.json, .json) in it");
  for (const fs::path& f : files) {
    const std::string file = f.filename().string();
    const bool onnx = f.extension() == ".onnx";
    model_options mo;
    (onnx ? mo.onnx : mo.nnmeter_ir) = f.string();
    loaded_model m = load_model(mo);
    for (const std::string& w : m.warnings) std::cerr << "nnmeter: warning: " << f.string() << ": " << w << "\n";
    nb::evaluation_model e;
    std::string stem = file;
    for (const std::string ext : {".ir.json", ".onnx", ".json"}) {
      if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0) {
        stem.resize(stem.size() - ext.size());
        break;
      }
    }
    e.name = stem;
    if (const auto it = families.find(file); it != families.end()) {
      e.family = it->second;
    } else {
      const std::size_t us = stem.rfind('_');
      const auto fam = us == std::string::npos ? std::nullopt : zoo::parse_family(stem.substr(0, us));
      e.family = fam ? std::string(zoo::to_string(*fam)) : std::string("models");
    }
    e.source = f.string();
    e.graph = std::move(m.graph);
    out.push_back(std::move(e));
  }
}

int run_evaluate(const evaluate_options& o) {
  if (o.zoo.empty() && o.models.empty())
    throw nnmeter::error("evaluate: give the models with --zoo FAMILY:COUNT and/or --models DIR");
  // The predictor first: an unknown name is reported before anything is generated or measured.
  nnmeter::predictor pred;
  if (!o.package.empty()) {
    try {
      pred = nnmeter::io::load_predictor_package(o.package);
    } catch (...) {
      rethrow_naming(o.package);
    }
  } else if (!o.predictor.empty()) {
    const nb::predictor_registry reg = nb::predictor_registry::open();
    pred = reg.load(o.predictor, o.version.empty() ? std::nullopt
                                                   : std::optional<std::string>(o.version));
  } else {
    pred = default_predictor("evaluate").predictor;  // the default of `nnmeter predict` too
  }
  if (!pred.golden().empty()) {
    const nnmeter::verify_result v = pred.verify();
    if (!v.ok())
      throw nnmeter::error("evaluate: predictor " + pred.info().name + " does not reproduce its "
                           "golden cases (" + std::to_string(v.failures.size()) + " of " +
                           std::to_string(v.checked) + " fail; first: " +
                           (v.failures.empty() ? std::string() : v.failures.front()) + ")");
  }

  // The protocol: the predictor's, with the options given on top.
  be::measurement_protocol p;
  if (!pred.info().protocol_json.empty()) {
    const nlohmann::json pj = nlohmann::json::parse(pred.info().protocol_json, nullptr, false);
    p = be::protocol_from_json(pj, "predictor " + pred.info().name);
  }
  if (o.runs_given) p.invokes_per_block = o.runs;
  if (o.blocks_given) p.blocks = o.blocks;
  // Whole models in the memory layouts the predictor's context factor was fitted with (or
  // --layouts), the passes rounded up to a multiple of them unless --passes says otherwise.
  p = nb::whole_model_protocol(p, o.layouts_given ? o.layouts : nb::context_layouts_of(pred));
  if (o.passes_given) p.passes = o.passes;
  if (o.warmup_given) p.warmup_seconds = o.warmup;
  if (!o.clock.empty()) p.clock = be::parse_measurement_clock(o.clock);
  be::validate(p);

  const std::unique_ptr<be::backend> backend = be::make_backend(o.backend);
  std::vector<nb::evaluation_model> models;
  for (const std::string& spec : o.zoo) add_zoo_models(spec, o.seed, models);
  if (!o.models.empty()) add_dir_models(o.models, models);

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out))
    throw nnmeter::error("evaluate: --out " + o.out + ": cannot create the folder" +
                         (ec ? " (" + ec.message() + ")" : std::string()));
  nb::profile_store store = nb::profile_store::open(fs::path(o.out) / "profile_store.sqlite");

  sigint_guard guard;
  const auto start = std::chrono::steady_clock::now();
  bool budget_hit = false;
  nb::evaluate_options eo;
  eo.protocol = p;
  eo.stop = [&] {
    if (interrupted()) return true;
    if (o.budget_minutes > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
            o.budget_minutes * 60) {
      budget_hit = true;
      return true;
    }
    return false;
  };
  eo.on_model = [&](const nb::evaluation_event& e) {
    const nb::model_evaluation& m = *e.model;
    std::cerr << "[" << e.index + 1 << "/" << e.total << "] " << m.name << ": ";
    switch (m.outcome) {
      case nb::model_outcome::evaluated:
        std::cerr << "measured " << fixed(m.measured_ms, 4) << " ms" << (m.resumed ? " (stored)" : "")
                  << ", predicted " << fixed(m.prediction.latency_ms, 4) << " ms ("
                  << (m.relative_error >= 0 ? "+" : "") << fixed(m.relative_error * 100, 1)
                  << " %)\n";
        break;
      case nb::model_outcome::incomplete:
        std::cerr << "measured " << fixed(m.measured_ms, 4) << " ms" << (m.resumed ? " (stored)" : "")
                  << "; prediction incomplete: "
                  << m.error << "\n";
        break;
      case nb::model_outcome::failed: std::cerr << "measurement failed: " << m.error << "\n"; break;
      default: std::cerr << "not measured\n";
    }
  };
  std::cerr << "evaluating predictor " << pred.info().name << " " << pred.info().version << " on "
            << models.size() << " model(s), backend " << backend->name() << " ("
            << backend->device() << ")\n";
  const nb::evaluation_report rep = nb::evaluate_models(pred, *backend, store, models, eo);
  const nb::evaluation_files files = nb::write_evaluation_report(rep, o.out, o.worst);

  if (o.json) {
    std::ifstream in(files.json);
    std::cout << in.rdbuf();
  } else {
    std::cout << "family          models  evaluated  within 5%  within 10%   RMSPE %   GT CV %\n";
    auto row = [](const nb::accuracy_figures& a) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%-14s %7zu %10zu %10s %11s %9s %9s\n", a.group.c_str(),
                    a.models, a.evaluated, fixed(a.within_5 * 100, 1).c_str(),
                    fixed(a.within_10 * 100, 1).c_str(), fixed(a.rmspe, 2).c_str(),
                    fixed(a.median_cv, 2).c_str());
      return std::string(buf);
    };
    for (const nb::accuracy_figures& f : rep.families) std::cout << row(f);
    std::cout << row(rep.overall);
    std::cout << "report: " << files.markdown.string() << " (CSV, JSON and plots beside it)\n";
  }
  if (rep.measuring.stopped) {
    std::cerr << "nnmeter: evaluation stopped " << (budget_hit ? "at the budget" : "by Ctrl-C")
              << " with " << rep.overall.not_measured
              << " model(s) not measured; run the same command again to resume\n";
    return 1;
  }
  return rep.overall.evaluated == 0 ? 1 : 0;
}

#else

int run_evaluate(const evaluate_options&) {
  throw nnmeter::error(
      "evaluate: this nnmeter was built without the backends, the model zoo or the builder's "
      "evaluate and package parts (tools/builder/evaluate: needs SQLite, SQLiteCpp, yaml-cpp)");
}

#endif

}  // namespace

command add_evaluate_command(CLI::App& app) {
  auto o = std::make_shared<evaluate_options>();
  CLI::App* c = app.add_subcommand(
      "evaluate",
      "Measure models whole on a backend and compare with a predictor's predictions, per model "
      "family (docs/evaluation.md)");
  CLI::Option* pred = c->add_option(
      "--predictor", o->predictor,
      "a registered predictor's name (default: the registry's default, else the predictor this "
      "nnmeter embeds)");
  c->add_option("--predictor-version", o->version, "its version (default: the newest)")->needs(pred);
  CLI::Option* pkg = c->add_option("--package", o->package, "a predictor package folder");
  pred->excludes(pkg);
  c->add_option("--backend", o->backend, "device backend the models are measured on")
      ->capture_default_str();
  c->add_option("--zoo", o->zoo,
                "FAMILY:COUNT (repeatable): the first COUNT zoo models of FAMILY (or of every "
                "family: all:COUNT)");
  c->add_option("--seed", o->seed, "seed of the zoo models")->capture_default_str();
  c->add_option("--models", o->models,
                "a folder of models (.onnx, .ir.json); zoo.csv in it names their families");
  c->add_option("--out", o->out,
                "report folder: report.md, models.csv, kernels.csv, report.json, plots/, and "
                "the profile store that lets a rerun resume")
      ->required();
  CLI::Option* runs = add_bounded_option(c, "--runs", o->runs,
                                         "timed invokes per block (default: the predictor's "
                                         "protocol)",
                                         1, 100000);
  CLI::Option* blocks =
      add_bounded_option(c, "--blocks", o->blocks, "blocks per pass (default: the predictor's)", 1, 10000);
  CLI::Option* passes =
      add_bounded_option(c, "--passes", o->passes, "passes (default: the predictor's)", 1, 1000);
  CLI::Option* layouts = add_bounded_option(
      c, "--layouts", o->layouts,
      "memory layouts per model (default: those the predictor's context factor was fitted "
      "with, else 1): each model prepared L times, the latency the median of the copies' "
      "minima; the passes are rounded up to a multiple unless --passes is given",
      1, 64);
  CLI::Option* warmup = add_bounded_option(c, "--warmup", o->warmup,
                                           "warm-up per pass, seconds (default: the predictor's)",
                                           0.0, 600.0, "seconds");
  c->add_option("--clock", o->clock, "steady or thread-cpu (default: the predictor's)")
      ->check(CLI::IsMember({"steady", "thread-cpu"}));
  add_bounded_option(c, "--worst", o->worst, "worst models listed with their kernels",
                     std::size_t{0}, std::size_t{100000});
  add_bounded_option(c, "--budget-minutes", o->budget_minutes,
                     "measuring time budget, minutes; 0 = none (a rerun resumes)", 0.0, 1e6,
                     "minutes");
  c->add_flag("--json", o->json, "print report.json instead of the table");
  return {c, [o, runs, blocks, passes, layouts, warmup] {
            o->runs_given = runs->count() > 0;
            o->blocks_given = blocks->count() > 0;
            o->passes_given = passes->count() > 0;
            o->layouts_given = layouts->count() > 0;
            o->warmup_given = warmup->count() > 0;
            return run_evaluate(*o);
          }};
}

}  // namespace nnmeter_cli
