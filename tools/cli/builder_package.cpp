// nnmeter CLI — the predictor registry and predictions: `nnmeter register`, `nnmeter
// unregister`, `nnmeter --list-predictors`, `nnmeter predict` (tools/builder/package;
// docs/cli.md).
// SPDX-License-Identifier: MIT
#include "cli/builder_commands.hpp"
#include "cli/default_predictor.hpp"
#include "cli/model_input.hpp"

#if NNMETER_BUILDER_WITH_PACKAGE
#include "builder/package/registry.hpp"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace nnmeter_cli {

namespace {

#if NNMETER_BUILDER_WITH_PACKAGE
namespace nb = nnmeter::builder;

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// Kernels whose forest gave no positive latency: unpredicted (status non-positive), or
// estimated by a fallback model instead (status fallback, reason non-positive).
std::size_t non_positive_count(const nnmeter::prediction& r) {
  std::size_t n = 0;
  for (const nnmeter::kernel_latency& l : r.kernels)
    if (l.status == nnmeter::kernel_status::non_positive ||
        (l.status == nnmeter::kernel_status::fallback &&
         l.reason == nnmeter::kernel_status::non_positive))
      ++n;
  return n;
}

// "12.3 %": a share as a percentage.
std::string share_text(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * share);
  return buf;
}

std::string ms_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}
#else
[[noreturn]] void no_package_part() {
  throw nnmeter::error(
      "this nnmeter was built without the builder's package part (tools/builder/package: "
      "needs yaml-cpp, Debian libyaml-cpp-dev)");
}
#endif

struct register_options {
  std::string meta;
};

struct unregister_options {
  std::string name;
  std::string version;
};

struct predict_options {
  model_options model;
  std::string predictor;
  std::string version;
  bool embedded = false;
  bool verbose = false;
  bool json = false;
};

}  // namespace

command add_register_command(CLI::App& app) {
  auto o = std::make_shared<register_options>();
  CLI::App* c = app.add_subcommand(
      "register", "Register a built predictor from its <name>.yaml meta file (docs/builder.md)");
  c->add_option("--predictor", o->meta, "the predictor's meta file (<name>.yaml)")->required();
  return {c, [o]() -> int {
#if NNMETER_BUILDER_WITH_PACKAGE
            const nb::predictor_meta m = nb::read_predictor_meta(o->meta);
            (void)nb::check_package(m);
            nb::predictor_registry reg = nb::predictor_registry::open();
            const bool replaced = reg.add(m);
            reg.save();
            std::cout << "Successfully registered predictor " << m.name << " (version "
                      << m.version << ")" << (replaced ? ", replacing the earlier entry" : "")
                      << " in " << reg.file().string() << "\n";
            return 0;
#else
            no_package_part();
#endif
          }};
}

command add_unregister_command(CLI::App& app) {
  auto o = std::make_shared<unregister_options>();
  CLI::App* c = app.add_subcommand("unregister", "Remove a predictor from the registry");
  c->add_option("--predictor", o->name, "the predictor's name")->required();
  c->add_option("--predictor-version", o->version, "only this version (default: every version)");
  return {c, [o]() -> int {
#if NNMETER_BUILDER_WITH_PACKAGE
            nb::predictor_registry reg = nb::predictor_registry::open();
            const bool had_default = reg.default_predictor().has_value();
            const std::size_t n = reg.remove(o->name, opt(o->version));
            reg.save();
            std::cout << "Successfully unregistered predictor " << o->name
                      << (o->version.empty() ? "" : " (version " + o->version + ")") << ": " << n
                      << " entr" << (n == 1 ? "y" : "ies") << " removed\n";
            if (had_default && !reg.default_predictor())
              std::cout << "It was the default: `nnmeter predict` now uses the embedded "
                           "predictor\n";
            return 0;
#else
            no_package_part();
#endif
          }};
}

int list_predictors() {
#if NNMETER_BUILDER_WITH_PACKAGE
  const nb::predictor_registry reg = nb::predictor_registry::open();
  const auto& d = reg.default_predictor();
  for (const nb::predictor_meta& m : reg.entries())
    std::cout << "[Predictor] " << m.name << ": version=" << m.version
              << (d && d->name == m.name && d->version == m.version ? " (default)" : "") << "\n";
  return 0;
#else
  no_package_part();
#endif
}

command add_predict_command(CLI::App& app) {
  auto o = std::make_shared<predict_options>();
  CLI::App* c = app.add_subcommand(
      "predict",
      "Predict a model's latency with a registered predictor, or the embedded default one "
      "(docs/cli.md)");
  CLI::Option* pred = c->add_option(
      "--predictor", o->predictor,
      "the registered predictor's name (default: the registry's default, set by `nnmeter "
      "calibrate`, else the predictor this nnmeter embeds)");
  c->add_option("--predictor-version", o->version, "its version (default: the newest)")
      ->needs(pred);
  c->add_flag("--embedded", o->embedded,
              "use the embedded predictor even when the registry has a default")
      ->excludes(pred);
  add_model_options(c, o->model);
  c->add_flag("--verbose", o->verbose, "print every kernel with its predicted latency");
  c->add_flag("--json", o->json, "print JSON (total under latency_ms, kernels, predictor)");
  return {c, [o]() -> int {
#if NNMETER_BUILDER_WITH_PACKAGE
            // The registered predictor asked for, else the registry's default, else the
            // embedded one.
            nnmeter::predictor p;
            std::string package;  // where it came from, for --json
            std::string label;    // how it was chosen, when not by name
            bool embedded = false;
            if (o->predictor.empty()) {
              chosen_predictor d = default_predictor("predict", o->embedded);
              p = std::move(d.predictor);
              package = std::move(d.package);
              label = std::move(d.label);
              embedded = d.embedded;
            } else {
              const nb::predictor_registry reg = nb::predictor_registry::open();
              package = reg.find(o->predictor, opt(o->version)).package_location.string();
              p = reg.load(o->predictor, opt(o->version));
            }
            const cpu_match cpu =
                p.info().backend == "xnnpack" ? same_cpu(p.info().device) : cpu_match::unknown;
            const loaded_model m = load_model(o->model);
            nnmeter::prediction r;
            try {
              r = p.predict(m.graph);
            } catch (...) {
              rethrow_naming(m.path);
            }
            if (o->json) {
              nlohmann::ordered_json j = nlohmann::ordered_json::object();
              j["model"] = m.path;
              j["latency_ms"] = r.latency_ms;
              j["predictor"] = {{"name", p.info().name},
                                {"version", p.info().version},
                                {"device", p.info().device},
                                {"backend", p.info().backend},
                                {"package", package},
                                {"embedded", embedded},
                                {"default", !label.empty()}};
              if (cpu != cpu_match::unknown) j["predictor"]["this_cpu"] = cpu == cpu_match::same;
              j["kernels_total"] = r.detected.kernels.size();
              j["kernels_predicted"] = r.predicted;
              j["kernels_fallback"] = r.fallback;
              j["kernels_without_model"] = r.unpredicted;
              j["kernels_non_positive"] = non_positive_count(r);
              j["fallback_ms"] = r.fallback_ms;
              j["fallback_share"] = r.fallback_share();
              nlohmann::ordered_json ks = nlohmann::ordered_json::array();
              for (std::size_t i = 0; i < r.detected.kernels.size(); ++i) {
                const nnmeter::kernel& k = r.detected.kernels[i];
                nlohmann::ordered_json e = nlohmann::ordered_json::object();
                e["name"] = k.name;
                e["kind"] = std::string(nnmeter::to_string(k.kind));
                const nnmeter::kernel_latency& l = r.kernels[i];
                e["status"] = std::string(nnmeter::to_string(l.status));
                if (l.status == nnmeter::kernel_status::predicted ||
                    l.status == nnmeter::kernel_status::fallback)
                  e["latency_ms"] = l.latency_ms;
                else
                  e["latency_ms"] = nullptr;
                if (l.status == nnmeter::kernel_status::fallback) {
                  e["fallback_reason"] = std::string(nnmeter::to_string(l.reason));
                  e["fallback_family"] = std::string(nnmeter::to_string(nnmeter::family_of(k.kind)));
                }
                ks.push_back(std::move(e));
              }
              j["kernels"] = std::move(ks);
              j["warnings"] = m.warnings;
              std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                        << "\n";
              return 0;
            }
            for (const std::string& w : m.warnings) std::cerr << "nnmeter: warning: " << w << "\n";
            if (o->verbose) {
              std::cout << "#\tkernel\tkind\tlatency (ms)\n";
              for (std::size_t i = 0; i < r.detected.kernels.size(); ++i) {
                const nnmeter::kernel& k = r.detected.kernels[i];
                const nnmeter::kernel_latency& l = r.kernels[i];
                std::cout << i + 1 << "\t" << k.name << "\t" << nnmeter::to_string(k.kind) << "\t"
                          << (l.status == nnmeter::kernel_status::predicted
                                  ? ms_text(l.latency_ms)
                              : l.status == nnmeter::kernel_status::fallback
                                  ? ms_text(l.latency_ms) + " (fallback: " +
                                        std::string(nnmeter::to_string(l.reason)) + ")"
                                  : std::string(nnmeter::to_string(l.status)))
                          << "\n";
              }
            }
            std::cout << "[RESULT] predict latency for " << m.path << ": " << ms_text(r.latency_ms)
                      << " ms\n";
            std::cout << "predictor " << p.info().name << " version " << p.info().version << " ("
                      << p.info().device << ", " << p.info().backend
                      << (label.empty() ? "" : "; " + label) << "): "
                      << r.detected.kernels.size() << " kernels, " << r.unpredicted
                      << " without a model" << (r.unpredicted ? " (not counted in the total)" : "")
                      << "\n";
            if (r.fallback != 0)
              std::cout << "fallback: " << r.fallback << " kernel(s) estimated from their FLOPs "
                        << "and bytes, " << ms_text(r.fallback_ms) << " ms = "
                        << share_text(r.fallback_share()) << " of the total\n";
            if (cpu == cpu_match::different)
              std::cerr << "nnmeter: warning: predictor " << p.info().name << " was built on "
                        << p.info().device << "; this machine is " << this_cpu()
                        << ": the latencies are that CPU's (adapt it to this one with `nnmeter "
                        << "calibrate`, or build one: docs/calibration.md)\n";
            if (const std::size_t bad = non_positive_count(r); bad != 0)
              std::cerr << "nnmeter: warning: " << bad << " of them got a non-positive latency "
                        << "from their kind's forest (status non-positive, or fallback with "
                        << "reason non-positive, in --verbose and --json)\n";
            return 0;
#else
            no_package_part();
#endif
          }};
}

}  // namespace nnmeter_cli
