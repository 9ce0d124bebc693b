// nnmeter backends — the measurement protocol engine (measure.hpp) and the backend defaults.
// SPDX-License-Identifier: MIT
#include "measure.hpp"

#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <string>
#include <utility>

namespace nnmeter::backends {

namespace {

std::string number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

void require_at_least(const char* field, long long value, long long least) {
  if (value < least)
    throw backend_error("measurement protocol: " + std::string(field) + " must be >= " +
                        std::to_string(least) + " (got " + std::to_string(value) + ")");
}

}  // namespace

const char* to_string(measurement_clock c) noexcept {
  switch (c) {
    case measurement_clock::steady:
      return "steady";
    case measurement_clock::thread_cpu:
      return "thread-cpu";
  }
  return "?";
}

measurement_clock parse_measurement_clock(const std::string& text) {
  if (text == "steady") return measurement_clock::steady;
  if (text == "thread-cpu") return measurement_clock::thread_cpu;
  throw backend_error("unknown measurement clock '" + text + "' (steady, thread-cpu)");
}

void validate(const measurement_protocol& p) {
  require_at_least("threads", p.threads, 1);
  require_at_least("blocks", p.blocks, 1);
  require_at_least("invokes_per_block", p.invokes_per_block, 1);
  require_at_least("passes", p.passes, 1);
  require_at_least("layouts", p.layouts, 1);
  if (p.layouts > measurement_protocol::max_layouts)
    throw backend_error("measurement protocol: layouts must be at most " +
                        std::to_string(measurement_protocol::max_layouts) + " (got " +
                        std::to_string(p.layouts) + ")");
  if (p.passes % p.layouts != 0)
    throw backend_error("measurement protocol: passes (" + std::to_string(p.passes) +
                        ") must be a multiple of layouts (" + std::to_string(p.layouts) +
                        "), so that every memory layout runs as many passes");
  require_at_least("warmup_min_invokes", p.warmup_min_invokes, 0);
  if (!std::isfinite(p.warmup_seconds) || p.warmup_seconds < 0)
    throw backend_error("measurement protocol: warmup_seconds must be a finite number >= 0 (got " +
                        number(p.warmup_seconds) + ")");
  // A warm-up is a fraction of a second to a few seconds; an hour bounds typos such as 1e308,
  // which would never end.
  constexpr double max_warmup_seconds = 3600;
  if (p.warmup_seconds > max_warmup_seconds)
    throw backend_error("measurement protocol: warmup_seconds must be at most " +
                        number(max_warmup_seconds) + " (got " + number(p.warmup_seconds) + ")");
  if (p.clock == measurement_clock::thread_cpu && p.threads != 1)
    throw backend_error(
        "measurement protocol: the thread-cpu clock times the calling thread "
        "only, so it needs threads = 1 (got " +
        std::to_string(p.threads) + ")");
  if (p.clock != measurement_clock::steady && p.clock != measurement_clock::thread_cpu)
    throw backend_error("measurement protocol: invalid clock " +
                        std::to_string(static_cast<int>(p.clock)));
  // Every timed invoke is stored; keep P x K x N within what a vector of doubles can hold
  // without surprise (10^8 samples = 800 MB is already absurd for one model).
  constexpr double max_runs = 1e8;
  const double runs = static_cast<double>(p.blocks) * static_cast<double>(p.invokes_per_block) *
                      static_cast<double>(p.passes);
  if (runs > max_runs)
    throw backend_error(
        "measurement protocol: passes x blocks x invokes_per_block = " + number(runs) +
        " timed invokes per model, more than the limit of " + number(max_runs));
}

clock_function steady_clock_seconds() {
  return [] {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
  };
}

clock_function thread_cpu_clock_seconds() {
  return [] {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
      throw backend_error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
}

clock_function protocol_clock(const measurement_protocol& p) {
  return p.clock == measurement_clock::thread_cpu ? thread_cpu_clock_seconds()
                                                  : steady_clock_seconds();
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw backend_error("percentile of no values");
  if (!(q >= 0.0 && q <= 1.0))
    throw backend_error("percentile: q must be in [0, 1] (got " + number(q) + ")");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

latency_statistics compute_statistics(std::vector<double> samples_ms) {
  if (samples_ms.empty()) throw backend_error("latency statistics of no runs");
  for (double x : samples_ms)
    if (!std::isfinite(x) || x < 0)
      throw backend_error("latency statistics: invalid sample " + number(x) + " ms");
  std::sort(samples_ms.begin(), samples_ms.end());
  latency_statistics s;
  s.runs = samples_ms.size();
  s.min_ms = samples_ms.front();
  s.max_ms = samples_ms.back();
  s.p10_ms = percentile(samples_ms, 0.10);
  s.median_ms = percentile(samples_ms, 0.50);
  double sum = 0;
  for (double x : samples_ms) sum += x;
  s.mean_ms = sum / static_cast<double>(s.runs);
  if (s.runs > 1 && s.mean_ms > 0) {
    double ss = 0;
    for (double x : samples_ms) ss += (x - s.mean_ms) * (x - s.mean_ms);
    s.cv = std::sqrt(ss / static_cast<double>(s.runs - 1)) / s.mean_ms;
  }
  return s;
}

std::vector<measurement> measure_layouts(
    const std::vector<std::vector<std::function<void()>>>& invokers, const measurement_protocol& p,
    const clock_function& clock_in) {
  validate(p);
  if (invokers.empty()) throw backend_error("measure: no models to measure");
  const auto n_layouts = static_cast<std::size_t>(p.layouts);
  for (std::size_t i = 0; i < invokers.size(); ++i) {
    if (invokers[i].size() != n_layouts)
      throw backend_error("measure: model #" + std::to_string(i) + " has " +
                          std::to_string(invokers[i].size()) + " invokers, the protocol's " +
                          std::to_string(n_layouts) + " memory layouts need one each");
    for (std::size_t l = 0; l < n_layouts; ++l)
      if (!invokers[i][l])
        throw backend_error("measure: invoker #" + std::to_string(i) +
                            (n_layouts > 1 ? " (layout " + std::to_string(l) + ")" : "") +
                            " is empty");
  }
  const clock_function clock = clock_in ? clock_in : protocol_clock(p);

  const auto n_blocks = static_cast<std::size_t>(p.blocks);
  const auto n_invokes = static_cast<std::size_t>(p.invokes_per_block);
  const auto n_passes = static_cast<std::size_t>(p.passes);
  std::vector<measurement> out(invokers.size());
  for (measurement& m : out) {
    m.samples_ms.reserve(n_passes * n_blocks * n_invokes);
    m.pass_min_ms.reserve(n_passes);
    m.layout_min_ms.assign(n_layouts, std::numeric_limits<double>::infinity());
    m.blocks.reserve(n_passes * n_blocks);
  }

  std::vector<double> stamps(n_invokes + 1);
  std::vector<double> block(n_invokes);
  for (std::size_t pass = 0; pass < n_passes; ++pass) {
    for (std::size_t i = 0; i < invokers.size(); ++i) {
      const std::function<void()>& invoke = invokers[i][pass % n_layouts];
      measurement& m = out[i];

      if (pass == 0 || p.warmup_every_pass) {
        const double start = clock();
        double now = start;
        std::size_t n = 0;
        while (n < static_cast<std::size_t>(p.warmup_min_invokes) ||
               now - start < p.warmup_seconds) {
          invoke();
          ++n;
          now = clock();
        }
        m.warmup_invokes += n;
        m.warmup_seconds += now - start;
      }

      double pass_min = std::numeric_limits<double>::infinity();
      for (std::size_t b = 0; b < n_blocks; ++b) {
        // One clock read between consecutive invokes: invoke k took stamps[k+1] - stamps[k].
        stamps[0] = clock();
        for (std::size_t k = 0; k < n_invokes; ++k) {
          invoke();
          stamps[k + 1] = clock();
        }
        for (std::size_t k = 0; k < n_invokes; ++k) {
          const double ms = (stamps[k + 1] - stamps[k]) * 1e3;
          if (!(ms >= 0))
            throw backend_error("measure: the clock ran backwards (" + number(ms) +
                                " ms for one invoke)");
          block[k] = ms;
        }
        m.samples_ms.insert(m.samples_ms.end(), block.begin(), block.end());
        std::sort(block.begin(), block.end());
        block_summary s;
        s.pass = static_cast<int>(pass);
        s.block = static_cast<int>(b);
        s.min_ms = block.front();
        s.median_ms = percentile(block, 0.5);
        m.blocks.push_back(s);
        pass_min = std::min(pass_min, s.min_ms);
      }
      m.pass_min_ms.push_back(pass_min);
      double& layout_min = m.layout_min_ms[pass % n_layouts];
      layout_min = std::min(layout_min, pass_min);
    }
  }
  for (measurement& m : out) m.stats = compute_statistics(m.samples_ms);
  return out;
}

std::vector<measurement> measure_interleaved(const std::vector<std::function<void()>>& invokers,
                                             const measurement_protocol& p,
                                             const clock_function& clock) {
  std::vector<std::vector<std::function<void()>>> laid_out;
  laid_out.reserve(invokers.size());
  for (const std::function<void()>& f : invokers)
    laid_out.emplace_back(static_cast<std::size_t>(std::max(p.layouts, 1)), f);
  return measure_layouts(laid_out, p, clock);
}

measurement measure(const std::function<void()>& invoker, const measurement_protocol& p,
                    const clock_function& clock) {
  return measure_interleaved({invoker}, p, clock).front();
}

double reported_latency(const measurement& m, const measurement_protocol& p) {
  if (p.layouts <= 1 || m.layout_min_ms.size() <= 1) return m.stats.min_ms;
  std::vector<double> sorted = m.layout_min_ms;
  std::sort(sorted.begin(), sorted.end());
  return percentile(sorted, 0.5);
}

profile_result make_profile_result(const measurement& m, const measurement_protocol& p) {
  profile_result r;
  r.latency_ms = reported_latency(m, p);
  r.stats = m.stats;
  r.protocol = p;
  r.pass_min_ms = m.pass_min_ms;
  if (p.layouts > 1) r.layout_min_ms = m.layout_min_ms;
  r.blocks = m.blocks;
  r.warmup_invokes = m.warmup_invokes;
  r.warmup_seconds = m.warmup_seconds;
  return r;
}

// ---- backend defaults ------------------------------------------------------------------------

std::unique_ptr<prepared_model> backend::prepare_reference(const measurement_protocol&) {
  throw backend_error("backend '" + name() +
                      "' has no reference kernel: normalise_by_reference is not available");
}

profile_result backend::profile(const nnmeter::graph& g, const measurement_protocol& p) {
  return profile_interleaved({&g}, p).front();
}

std::vector<profile_result> backend::profile_interleaved(
    const std::vector<const nnmeter::graph*>& graphs, const measurement_protocol& p) {
  validate(p);
  if (graphs.empty()) throw backend_error("profile: no graphs to profile");
  const clock_function clock = clock_ ? clock_ : protocol_clock(p);
  const clock_function wall_clock = clock_ ? clock_ : steady_clock_seconds();
  const std::string stamp = utc_timestamp();
  const double start = wall_clock();

  // models[i][l]: graph i (the reference last) in memory layout l, every copy prepared anew and
  // all alive together, so that each has buffers of its own.
  const auto n_layouts = static_cast<std::size_t>(p.layouts);
  std::vector<std::vector<std::unique_ptr<prepared_model>>> models(
      graphs.size() + (p.normalise_by_reference ? 1 : 0));
  for (std::size_t i = 0; i < graphs.size(); ++i)
    if (!graphs[i]) throw backend_error("profile: graph #" + std::to_string(i) + " is null");
  for (std::size_t l = 0; l < n_layouts; ++l) {
    for (std::size_t i = 0; i < graphs.size(); ++i) {
      models[i].push_back(prepare(*graphs[i], p));
      if (!models[i].back())
        throw backend_error("backend '" + name() + "' prepared nothing for graph #" +
                            std::to_string(i));
    }
    if (p.normalise_by_reference) {
      models.back().push_back(prepare_reference(p));
      if (!models.back().back())
        throw backend_error("backend '" + name() + "' prepared no reference kernel");
    }
  }

  std::vector<std::vector<std::function<void()>>> invokers(models.size());
  for (std::size_t i = 0; i < models.size(); ++i)
    for (auto& m : models[i]) {
      prepared_model* raw = m.get();
      invokers[i].emplace_back([raw] { raw->invoke(); });
    }
  const std::vector<measurement> ms = measure_layouts(invokers, p, clock);
  const double wall = wall_clock() - start;

  const std::string dev = device();
  const std::string be = name();
  std::vector<profile_result> out;
  out.reserve(graphs.size());
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    profile_result r = make_profile_result(ms[i], p);
    r.backend = be;
    r.device = dev;
    r.timestamp = stamp;
    r.wall_seconds = wall;
    if (p.normalise_by_reference) {
      const double ref = reported_latency(ms.back(), p);
      r.reference_ms = ref;
      if (ref > 0) r.normalised = r.latency_ms / ref;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// ---- host description --------------------------------------------------------------------------

std::string host_cpu_description() {
  std::string model;
  std::string family;
  std::string number;
  std::size_t cpus = 0;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    value = first == std::string::npos ? std::string() : value.substr(first);
    if (key == "processor") ++cpus;
    if (model.empty() && (key == "model name" || key == "Model" || key == "Hardware"))
      model = value;
    if (family.empty() && key == "cpu family") family = value;
    if (number.empty() && key == "model") number = value;
  }
  if (model.empty()) model = "unknown CPU";
  // Marketing names can be generic ("AMD EPYC"); family and model tell the generation.
  std::string detail;
  if (!family.empty()) detail = "family " + family + (number.empty() ? "" : ", model " + number);
  if (cpus > 0)
    detail += (detail.empty() ? "" : "; ") + std::to_string(cpus) + " logical CPU" +
              (cpus == 1 ? "" : "s");
  std::string out = model;
  if (!detail.empty()) out += " (" + detail + ")";
  struct utsname u {};
  if (uname(&u) == 0) out += std::string(", ") + u.machine;
  return out;
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace nnmeter::backends
