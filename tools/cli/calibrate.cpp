// nnmeter CLI — `nnmeter calibrate`: adapts a predictor built on one machine to this one from a
// few kernel measurements (tools/builder/calibrate; docs/calibration.md), registers it and makes
// it the registry's default.
// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/default_predictor.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_input.hpp"
#include "cli/option_ranges.hpp"
#include "cli/text_format.hpp"

#if NNMETER_WITH_BACKENDS && NNMETER_BUILDER_WITH_CALIBRATE && NNMETER_BUILDER_WITH_PACKAGE
#define NNMETER_CLI_CALIBRATE 1
#include "backend.hpp"
#include "builder/calibrate/calibrate.hpp"
#include "builder/package/atomic_file.hpp"
#include "builder/package/registry.hpp"
#include "builder/predictorbuild/predictor_build.hpp"
#else
#define NNMETER_CLI_CALIBRATE 0
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace nnmeter_cli {

namespace {

namespace fs = std::filesystem;

struct calibrate_options {
  std::string predictor;
  std::string version;
  std::string package;
  std::string backend = "xnnpack";
  double minutes = 2;
  std::size_t per_kind = 4;
  std::uint64_t seed = 7;
  std::string name;
  std::string out;
  bool no_register = false;
  bool no_default = false;
  bool json = false;
};

#if NNMETER_CLI_CALIBRATE

namespace nb = nnmeter::builder;

int run_calibrate(const calibrate_options& o) {
  // The base: named, a package, else the embedded predictor (not the registry's default, which
  // may be an earlier calibration: calibrating that again refines its scales, but by default a
  // calibration starts from the predictor built from scratch).
  nnmeter::predictor base;
  if (!o.package.empty()) {
    try {
      base = nnmeter::io::load_predictor_package(o.package);
    } catch (...) {
      rethrow_naming(o.package);
    }
  } else if (!o.predictor.empty()) {
    const nb::predictor_registry reg = nb::predictor_registry::open();
    base = reg.load(o.predictor, o.version.empty() ? std::nullopt
                                                   : std::optional<std::string>(o.version));
  } else {
    base = default_predictor("calibrate", /*embedded_only=*/true).predictor;
  }
  if (!base.golden().empty() && !base.verify().ok())
    throw nnmeter::error("calibrate: predictor " + base.info().name +
                         " does not reproduce its golden cases");

  const std::unique_ptr<nnmeter::backends::backend> be = nnmeter::backends::make_backend(o.backend);
  if (base.info().backend != be->name())
    throw nnmeter::error("calibrate: predictor " + base.info().name + " was built on backend " +
                         base.info().backend + ", not " + be->name() +
                         ": a calibration adapts a predictor to another machine of its runtime");

  const std::string name = o.name.empty() ? base.info().name + "_calibrated" : o.name;
  nb::check_predictor_name(name, "name", "calibrate");
  const fs::path out = o.out.empty() ? nb::config_dir() / "calibrated" / name : fs::path(o.out);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw nnmeter::error("calibrate: " + out.string() + ": cannot create the folder" +
                         (ec ? " (" + ec.message() + ")" : std::string()));
  nb::profile_store store = nb::profile_store::open(out / "profile_store.sqlite");

  sigint_guard guard;
  nb::calibration_options co;
  co.per_kind = o.per_kind;
  co.budget_minutes = o.minutes;
  co.seed = o.seed;
  co.stop = [] { return interrupted(); };
  co.on_event = [&](const nb::calibration_event& e) {
    if (o.json) return;
    if (e.event == nb::calibration_event::what::sampled) {
      std::cerr << "calibrating predictor " << base.info().name << " " << base.info().version
                << " (" << base.info().device << ") to " << be->device() << ": " << e.total
                << " kernel configurations, at most " << fixed(o.minutes, 1) << " min\n";
    } else if (e.measurement != nullptr && (e.index + 1) % 10 == 0) {
      std::cerr << "  " << e.index + 1 << "/" << e.total << " measured\n";
    }
  };
  const nb::calibration_report r = nb::calibrate(base, store, *be, co);

  const fs::path package = out / name;
  nnmeter::predictor adapted = r.predictor;
  nnmeter::predictor_info info = adapted.info();
  info.name = name;
  adapted.set_info(std::move(info));
  nnmeter::io::package_write_options wo;
  wo.overwrite = true;
  nnmeter::io::write_predictor_package(adapted, package.string(), wo);
  const fs::path meta_file = out / (name + ".yaml");
  const nb::predictor_meta meta = nb::meta_of_package(package, "calibrated");
  nb::write_predictor_meta(meta, meta_file);
  nb::write_file_atomically(out / "calibration.json",
                            nlohmann::ordered_json::parse(nb::calibration_json(r)).dump(2) + "\n");

  bool registered = false;
  bool made_default = false;
  if (!o.no_register) {
    nb::predictor_registry reg = nb::predictor_registry::open();
    reg.add(nb::check_package(nb::read_predictor_meta(meta_file)));
    registered = true;
    if (!o.no_default) {
      reg.set_default(meta.name, meta.version);
      made_default = true;
    }
    reg.save();
  }

  if (o.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(nb::calibration_json(r));
    j["name"] = name;
    j["version"] = meta.version;
    j["package"] = package.string();
    j["meta_file"] = meta_file.string();
    j["registered"] = registered;
    j["default"] = made_default;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "kind              samples  scale   kernel RMSPE % before  after (leave-one-out)\n";
    for (const nb::kind_calibration& k : r.kinds) {
      const std::string kind(nnmeter::to_string(k.kind));
      char buf[256];
      std::snprintf(buf, sizeof buf, "%-17s %7zu  %5s  %21s  %s", kind.c_str(), k.samples.size(),
                    fixed(k.scale, 3).c_str(), fixed(k.before.rmspe, 1).c_str(),
                    fixed(k.after.rmspe, 1).c_str());
      std::cout << buf << (k.note.empty() ? "" : "  (" + k.note + ")") << "\n";
    }
    std::cout << "all kinds: " << r.before.n << " kernels, scale " << fixed(r.pooled_scale, 3)
              << ", RMSPE " << fixed(r.before.rmspe, 1) << " % -> " << fixed(r.after.rmspe, 1)
              << " % (leave-one-out), within 10 %: " << fixed(r.before.within_10 * 100, 0)
              << " % -> " << fixed(r.after.within_10 * 100, 0) << " %; measured "
              << r.measured << " (" << r.already_stored << " stored) in "
              << fixed(r.seconds, 1) << " s\n";
    std::cout << "package: " << package.string() << "\n";
    if (made_default)
      std::cout << "registered " << name << " " << meta.version
                << " as the registry's default: `nnmeter predict` now uses it (--embedded for "
                << "the embedded one)\n";
    else if (registered)
      std::cout << "registered " << name << " " << meta.version << " (use it with --predictor "
                << name << ")\n";
    else
      std::cout << "not registered: `nnmeter register --predictor " << meta_file.string()
                << "` registers it\n";
  }
  if (r.stopped) {
    std::cerr << "nnmeter: calibration stopped by Ctrl-C; the scales were fitted on what was "
                 "measured (run the same command again to measure the rest)\n";
    return 1;
  }
  return 0;
}

#else

int run_calibrate(const calibrate_options&) {
  throw nnmeter::error(
      "calibrate: this nnmeter was built without the backends or the builder's calibrate and "
      "package parts (tools/builder/calibrate: needs SQLite, SQLiteCpp, yaml-cpp)");
}

#endif

}  // namespace

command add_calibrate_command(CLI::App& app) {
  auto o = std::make_shared<calibrate_options>();
  CLI::App* c = app.add_subcommand(
      "calibrate",
      "Adapt a predictor to this machine from a few kernel measurements, register it and make "
      "it the default of `nnmeter predict` (docs/calibration.md)");
  CLI::Option* pred = c->add_option(
      "--predictor", o->predictor,
      "the registered predictor to adapt (default: the predictor this nnmeter embeds)");
  c->add_option("--predictor-version", o->version, "its version (default: the newest)")->needs(pred);
  CLI::Option* pkg = c->add_option("--package", o->package, "a predictor package folder to adapt");
  pred->excludes(pkg);
  c->add_option("--backend", o->backend, "device backend the kernels are measured on")
      ->capture_default_str();
  add_bounded_option(c, "--minutes", o->minutes,
                     "measuring budget, minutes (every kind gets some samples first)", 0.05, 600.0,
                     "minutes");
  add_bounded_option(c, "--per-kind", o->per_kind, "kernel configurations drawn per kind",
                     std::size_t{1}, std::size_t{1000});
  c->add_option("--seed", o->seed, "seed of the drawn configurations")->capture_default_str();
  c->add_option("--name", o->name, "the adapted predictor's name (default: <base>_calibrated)");
  c->add_option("--out", o->out,
                "folder of the adapted package, its meta file, calibration.json and the profile "
                "store (default: <config dir>/calibrated/<name>)");
  CLI::Option* noreg = c->add_flag("--no-register", o->no_register, "write the package only");
  c->add_flag("--no-default", o->no_default,
              "register it, but leave the registry's default as it is")
      ->excludes(noreg);
  c->add_flag("--json", o->json, "print the calibration as JSON");
  return {c, [o] { return run_calibrate(*o); }};
}

}  // namespace nnmeter_cli
