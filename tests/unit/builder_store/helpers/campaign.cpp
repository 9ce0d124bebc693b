// Test helper for tests/unit/builder_store: runs one measurement campaign of --count
// configurations through the profile store, as the builder's commands do, so the tests can
// SIGKILL it at random points, interrupt it with SIGINT, or run two at once.
// SPDX-License-Identifier: MIT
//
//   campaign --store FILE --count N [--log FILE] [--fail-every K] [--measure xnnpack|cpu]
//
// Configuration i is {"i": i, "cout": 4 + i % 13}. The measurement is real:
//   xnnpack  (default when the build has it) the project's XNNPACK backend profiles a tiny
//            graph, input 1x8x8x4 -> conv 3x3 to `cout` channels -> relu, under a short
//            protocol (no timed warm-up, 1 pass of 1 block of 5 invokes);
//   cpu      the measurement engine (measure.hpp) times a deterministic CPU-bound loop whose
//            length grows with `cout`, under the same protocol.
// --log appends "<i>\n" to FILE (O_APPEND, before the measurement starts), so the tests count
// how many times each configuration was measured across kills. --fail-every K makes the first
// attempt at every configuration with i % K == 0 fail (a store row of status failed; a later
// run measures it again). SIGINT / SIGTERM stop the campaign before the next measurement.
// Prints "measured=<n> already=<n> failed=<n> not_attempted=<n> stopped=<0|1>" and exits 0
// (2 on bad arguments, 1 on an error, whose text goes to standard error).
#include <nnmeter.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "backend.hpp"
#include "builder/store/keys.hpp"
#include "builder/store/store.hpp"
#include "measure.hpp"

namespace {

namespace nb = nnmeter::backends;
namespace bs = nnmeter::builder;

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct options {
  std::string store;
  long count = 0;
  std::string log;
  long fail_every = 0;
  std::string measure;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "campaign: " << why
            << "\nusage: campaign --store FILE --count N [--log FILE] [--fail-every K] "
               "[--measure xnnpack|cpu]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
#if NNMETER_BACKENDS_WITH_XNNPACK
  o.measure = "xnnpack";
#else
  o.measure = "cpu";
#endif
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--store")
      o.store = v;
    else if (a == "--count")
      o.count = std::strtol(v.c_str(), nullptr, 10);
    else if (a == "--log")
      o.log = v;
    else if (a == "--fail-every")
      o.fail_every = std::strtol(v.c_str(), nullptr, 10);
    else if (a == "--measure")
      o.measure = v;
    else
      usage("unknown option " + a);
  }
  if (o.store.empty() || o.count <= 0) usage("--store and a positive --count are required");
  if (o.measure != "xnnpack" && o.measure != "cpu") usage("--measure is xnnpack or cpu");
  return o;
}

void log_attempt(const std::string& file, long i) {
  if (file.empty()) return;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open the log " + file);
  const std::string line = std::to_string(i) + "\n";
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) throw std::runtime_error("cannot write the log");
}

nnmeter::graph tiny_graph(std::int64_t cout) {
  nnmeter::graph_builder b;
  auto x = b.input({1, 8, 8, 4});
  x = b.relu(b.conv(x, cout, 3, 1));
  return std::move(b).build();
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    nb::measurement_protocol p;
    p.warmup_seconds = 0;
    p.warmup_min_invokes = 1;
    p.blocks = 1;
    p.invokes_per_block = 5;
    p.passes = 1;

    std::unique_ptr<nb::backend> be;
    std::string backend = "cpu-loop";
    std::string device = "this process";
    if (o.measure == "xnnpack") {
      be = nb::make_backend("xnnpack");
      backend = be->name();
      device = be->device();
    }

    bs::profile_store store = bs::profile_store::open(o.store);
    const bs::campaign c = store.begin_campaign({"kill-test", backend, device, p});
    std::vector<bs::measurement_key> keys;
    for (long i = 0; i < o.count; ++i)
      keys.push_back(c.key(bs::measurement_purpose::kernel, "conv-bn-relu",
                           bs::canonical_json(nlohmann::json{{"i", i}, {"cout", 4 + i % 13}})));

    const auto measure = [&](const bs::measurement_key& k) -> bs::measured_model {
      const nlohmann::json cfg = nlohmann::json::parse(k.config);
      const long i = cfg.at("i").get<long>();
      const std::int64_t cout = cfg.at("cout").get<std::int64_t>();
      log_attempt(o.log, i);
      if (o.fail_every > 0 && i % o.fail_every == 0 && store.history(k).empty())
        throw nnmeter::error("injected failure of configuration " + std::to_string(i));
      const nnmeter::graph g = tiny_graph(cout);
      if (be) return bs::measured_model{be->profile(g, p), bs::graph_hash(g)};
      volatile double sink = 0;
      const auto work = [&] {
        double acc = 1;
        for (std::int64_t n = 0; n < 20000 * cout; ++n) acc = acc * 1.0000001 + 1e-9;
        sink = acc;
      };
      const nb::measurement m = nb::measure(work, p);
      nb::profile_result r = nb::make_profile_result(m, p);
      r.backend = backend;
      r.device = device;
      r.timestamp = nb::utc_timestamp();
      return bs::measured_model{r, "cpu-loop:" + std::to_string(cout)};
    };
    bs::measure_options mo;
    mo.stop = [] { return stop_requested != 0; };
    const bs::measure_report r = store.measure_all(c, keys, measure, mo);
    std::cout << "measured=" << r.measured << " already=" << r.already_stored
              << " failed=" << r.failed << " not_attempted=" << r.not_attempted
              << " stopped=" << (r.stopped ? 1 : 0) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "campaign: error: " << e.what() << "\n";
    return 1;
  }
}
