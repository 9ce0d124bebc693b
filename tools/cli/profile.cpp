// nnmeter CLI — `nnmeter profile`: measure a whole model's latency on a device backend.
// See docs/cli.md (the command) and docs/measurement.md (the protocol).
// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/model_input.hpp"
#include "cli/option_ranges.hpp"
#include "cli/text_format.hpp"

#if NNMETER_WITH_BACKENDS
#include "backend.hpp"
#include "registry/result_json.hpp"
#endif

#include <nnmeter.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

namespace nnmeter_cli {

namespace {

struct profile_options {
  model_options model;
  std::string backend = "xnnpack";
  int runs = 50;
  int blocks = 5;
  int passes = 3;
  int layouts = 1;
  double warmup = 0.2;
  int threads = 1;
  std::uint64_t seed = 1;
  std::string clock = "steady";
  bool reference = false;
  bool json = false;
};

#if NNMETER_WITH_BACKENDS

int run_profile(const profile_options& o) {
  namespace nb = nnmeter::backends;
  // Every timed invoke is stored: the product of the three counts is bounded too (each is
  // bounded on its own by its option's range).
  constexpr double max_timed_invokes = 1e8;
  const double timed = static_cast<double>(o.passes) * static_cast<double>(o.blocks) *
                       static_cast<double>(o.runs);
  if (timed > max_timed_invokes)
    throw nnmeter::error("--passes x --blocks x --runs = " + std::to_string(o.passes) + " x " +
                         std::to_string(o.blocks) + " x " + std::to_string(o.runs) + " = " +
                         fixed(timed, 0) + " timed invokes, more than the 100000000 a "
                         "measurement may hold");
  nb::measurement_protocol p;
  p.threads = o.threads;
  p.warmup_seconds = o.warmup;
  p.blocks = o.blocks;
  p.invokes_per_block = o.runs;
  p.passes = o.passes;
  p.layouts = o.layouts;
  p.normalise_by_reference = o.reference;
  p.seed = o.seed;
  p.clock = nb::parse_measurement_clock(o.clock);
  nb::validate(p);

  // The backend first: an unknown backend is reported before a model is read.
  const std::unique_ptr<nb::backend> be = nb::make_backend(o.backend);
  loaded_model m = load_model(o.model);
  for (const std::string& w : m.warnings) std::cerr << "nnmeter: warning: " << w << "\n";
  // A backend runs the operands' real shapes: nn-Meter IR keeps its own declared input shapes
  // on some nodes (attr_keys::declared_input_shapes, for nn-Meter's features).
  if (nnmeter::has_declared_input_shapes(m.graph)) nnmeter::use_operand_shapes(m.graph);
  nb::profile_result r;
  try {
    r = be->profile(m.graph, p);
  } catch (...) {
    rethrow_naming(m.path);  // the backend names the node; the message names the file too
  }

  if (o.json) {
    const nlohmann::ordered_json rj = nb::profile_result_to_json(r);
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    // Documented order: the headline fields first, the model after the device.
    for (const char* key : {"latency_ms", "statistics", "protocol", "backend", "device"})
      out[key] = rj.at(key);
    nlohmann::ordered_json model = nlohmann::ordered_json::object();
    model["path"] = m.path;
    model["type"] = m.type;
    model["nodes"] = m.graph.num_nodes();
    if (!m.accounting.is_null()) model["accounting"] = m.accounting;
    if (!m.warnings.empty()) model["warnings"] = m.warnings;
    out["model"] = std::move(model);
    for (auto it = rj.begin(); it != rj.end(); ++it)
      if (!out.contains(it.key())) out[it.key()] = it.value();
    // Names come from the model file and need not be UTF-8: invalid bytes become U+FFFD.
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
    return 0;
  }

  const nb::latency_statistics& s = r.stats;
  std::cout << "model       " << m.path << " (" << m.type << ", " << m.graph.num_nodes()
            << " nodes)\n";
  std::cout << "backend     " << r.backend << " on " << r.device << "\n";
  if (p.layouts > 1)
    std::cout << "latency     " << fixed(r.latency_ms) << " ms (median of " << p.layouts
              << " memory layouts' minima, " << s.runs << " timed runs)\n";
  else
    std::cout << "latency     " << fixed(r.latency_ms) << " ms (minimum of " << s.runs
              << " timed runs)\n";
  std::cout << "statistics  min " << fixed(s.min_ms) << "  p10 " << fixed(s.p10_ms)
            << "  median " << fixed(s.median_ms) << "  mean " << fixed(s.mean_ms) << "  max "
            << fixed(s.max_ms) << " ms  cv " << fixed(s.cv * 100, 2) << " %\n";
  std::string passes;
  for (double x : r.pass_min_ms) passes += (passes.empty() ? "" : " / ") + fixed(x);
  std::cout << "pass minima " << passes << " ms\n";
  if (!r.layout_min_ms.empty()) {
    std::string layouts;
    for (double x : r.layout_min_ms) layouts += (layouts.empty() ? "" : " / ") + fixed(x);
    std::cout << "layout minima " << layouts << " ms\n";
  }
  if (r.reference_ms)
    std::cout << "reference   " << fixed(*r.reference_ms) << " ms, latency / reference "
              << (r.normalised ? fixed(*r.normalised) : std::string("n/a")) << "\n";
  std::cout << "protocol    " << p.threads << " thread" << (p.threads == 1 ? "" : "s")
            << ", warm-up >= " << p.warmup_seconds << " s per pass, " << p.passes
            << " passes" << (p.layouts > 1 ? " over " + std::to_string(p.layouts) + " layouts" : "")
            << " x " << p.blocks << " blocks x " << p.invokes_per_block << " runs, "
            << nb::to_string(p.clock) << " clock, seed " << p.seed << "\n";
  std::cout << "measured    " << r.timestamp << " in " << fixed(r.wall_seconds, 2) << " s\n";
  return 0;
}

#else

int run_profile(const profile_options&) {
  throw nnmeter::error(
      "profile: this nnmeter was built without the backends library (nnmeter_backends); "
      "rebuild with NNMETER_BUILD_TOOLS=ON");
}

#endif

}  // namespace

command add_profile_command(CLI::App& app) {
  auto o = std::make_shared<profile_options>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "Measure a model's latency on a device backend (docs/measurement.md)");
  std::string available;
#if NNMETER_WITH_BACKENDS
  for (const std::string& n : nnmeter::backends::available_backends())
    available += (available.empty() ? "" : ", ") + n;
#endif
  cmd->add_option("--backend", o->backend,
                  "device backend (in this build: " +
                      (available.empty() ? std::string("none") : available) + ")")
      ->capture_default_str();
  add_model_options(cmd, o->model);
  // The ranges of the numeric options (option_ranges.hpp checks them, before anything runs).
  add_bounded_option(cmd, "--runs", o->runs, "timed invokes per block (N)", 1, 100000);
  add_bounded_option(cmd, "--blocks", o->blocks, "blocks of consecutive invokes per pass (K)", 1,
                     10000);
  add_bounded_option(cmd, "--passes", o->passes, "passes (P); the latency is the minimum over all",
                     1, 1000);
  add_bounded_option(cmd, "--layouts", o->layouts,
                     "memory layouts (L): prepare the model L times, pass p on copy p mod L; "
                     "the latency is the median of the copies' minima (--passes a multiple of L)",
                     1, 64);
  add_bounded_option(cmd, "--warmup", o->warmup, "time-based warm-up before each pass, seconds",
                     0.0, 600.0, "seconds");
  add_bounded_option(cmd, "--threads", o->threads,
                     "threads (1 is the protocol; the xnnpack backend runs one thread only)", 1,
                     1024);
  add_bounded_option(cmd, "--seed", o->seed, "seed of the generated weights and inputs",
                     std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max());
  cmd->add_option("--clock", o->clock,
                  "clock of the timed invokes: steady (wall time) or thread-cpu (CPU time of "
                  "the measuring thread, robust on a busy machine)")
      ->capture_default_str()
      ->check(CLI::IsMember({"steady", "thread-cpu"}));
  cmd->add_flag("--reference", o->reference,
                "also measure the backend's reference kernel, interleaved, and report "
                "latency / reference");
  cmd->add_flag("--json", o->json, "print JSON (latency_ms, statistics, protocol, ...)");
  return command{cmd, [o] { return run_profile(*o); }};
}

}  // namespace nnmeter_cli
