// The measurement protocol engine (tools/backends/measure.hpp): statistics, validation and the
// protocol's control flow, checked exactly with a scripted clock.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "measure.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using nnmeter::backends::backend_error;
using nnmeter::backends::compute_statistics;
using nnmeter::backends::latency_statistics;
using nnmeter::backends::measure;
using nnmeter::backends::measure_interleaved;
using nnmeter::backends::measurement;
using nnmeter::backends::measurement_protocol;
using nnmeter::backends::percentile;

// Time that passes only when a scripted invoker says so; reading it costs nothing.
struct scripted_time {
  double now = 1000.0;  // seconds; not 0, so nothing relies on a zero origin
  nnmeter::backends::clock_function clock() {
    return [this] { return now; };
  }
  // An invoker whose k-th call takes durations_ms[k % size] milliseconds; logs its tag.
  std::function<void()> invoker(std::vector<double> durations_ms, std::string tag,
                                std::vector<std::string>* log = nullptr) {
    auto k = std::make_shared<std::size_t>(0);
    return [this, durations_ms, tag, log, k] {
      now += durations_ms[(*k)++ % durations_ms.size()] * 1e-3;
      if (log) log->push_back(tag);
    };
  }
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const backend_error& e) {
    return e.what();
  }
  return "(no backend_error)";
}

measurement_protocol quick(int passes, int blocks, int invokes) {
  measurement_protocol p;
  p.passes = passes;
  p.blocks = blocks;
  p.invokes_per_block = invokes;
  p.warmup_seconds = 0;
  p.warmup_min_invokes = 0;
  return p;
}

}  // namespace

TEST_CASE("statistics of known samples") {
  const latency_statistics s = compute_statistics({5, 1, 4, 2, 3});
  CHECK(s.runs == 5);
  CHECK(s.min_ms == 1);
  CHECK(s.max_ms == 5);
  CHECK(s.median_ms == 3);
  CHECK(s.p10_ms == doctest::Approx(1.4));  // position 0.4 between 1 and 2
  CHECK(s.mean_ms == doctest::Approx(3));
  CHECK(s.cv == doctest::Approx(std::sqrt(2.5) / 3));  // sample std (n - 1)

  const latency_statistics even = compute_statistics({4, 1, 3, 2});
  CHECK(even.median_ms == doctest::Approx(2.5));
  CHECK(even.p10_ms == doctest::Approx(1.3));

  const latency_statistics one = compute_statistics({7.5});
  CHECK(one.min_ms == 7.5);
  CHECK(one.p10_ms == 7.5);
  CHECK(one.median_ms == 7.5);
  CHECK(one.max_ms == 7.5);
  CHECK(one.cv == 0);
  CHECK(one.runs == 1);
}

TEST_CASE("percentile interpolates linearly and rejects bad input") {
  const std::vector<double> v{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
  CHECK(percentile(v, 0.0) == 10);
  CHECK(percentile(v, 0.1) == doctest::Approx(20));
  CHECK(percentile(v, 0.5) == doctest::Approx(60));
  CHECK(percentile(v, 0.95) == doctest::Approx(105));
  CHECK(percentile(v, 1.0) == 110);
  CHECK_THROWS_AS(percentile({}, 0.5), backend_error);
  CHECK_THROWS_AS(percentile(v, 1.5), backend_error);
  CHECK_THROWS_AS(percentile(v, std::nan("")), backend_error);
}

TEST_CASE("statistics reject no samples and invalid samples") {
  CHECK(message_of([] { compute_statistics({}); }).find("no runs") != std::string::npos);
  CHECK(message_of([] { compute_statistics({1, -2}); }).find("invalid sample -2") !=
        std::string::npos);
  CHECK_THROWS_AS(compute_statistics({1, std::numeric_limits<double>::infinity()}),
                  backend_error);
}

TEST_CASE("protocol validation names the field and the value") {
  using nnmeter::backends::validate;
  CHECK_NOTHROW(validate(measurement_protocol{}));
  measurement_protocol p;
  p.blocks = 0;
  CHECK(message_of([&] { validate(p); }) ==
        "measurement protocol: blocks must be >= 1 (got 0)");
  p = {};
  p.invokes_per_block = -3;
  CHECK(message_of([&] { validate(p); }) ==
        "measurement protocol: invokes_per_block must be >= 1 (got -3)");
  p = {};
  p.passes = 0;
  CHECK(message_of([&] { validate(p); }).find("passes must be >= 1") != std::string::npos);
  p = {};
  p.threads = 0;
  CHECK(message_of([&] { validate(p); }).find("threads must be >= 1") != std::string::npos);
  p = {};
  p.warmup_min_invokes = -1;
  CHECK(message_of([&] { validate(p); }).find("warmup_min_invokes") != std::string::npos);
  p = {};
  p.warmup_seconds = -0.5;
  CHECK(message_of([&] { validate(p); }).find("warmup_seconds must be a finite number >= 0") !=
        std::string::npos);
  p.warmup_seconds = std::nan("");
  CHECK_THROWS_AS(validate(p), backend_error);
  p = {};
  p.blocks = 100000;
  p.invokes_per_block = 100000;
  CHECK(message_of([&] { validate(p); }).find("timed invokes per model") != std::string::npos);
  // threads > 1 is a valid protocol (backends decide whether they offer it).
  p = {};
  p.threads = 2;
  CHECK_NOTHROW(validate(p));
}

TEST_CASE("warm-up is time-based: invokes until warmup_seconds passed") {
  scripted_time t;
  measurement_protocol p = quick(1, 2, 3);
  p.warmup_seconds = 0.1;
  p.warmup_min_invokes = 1;
  const measurement m = measure(t.invoker({30}, "a"), p, t.clock());
  // 30 ms per invoke: 0.03, 0.06, 0.09 < 0.1 s, the 4th reaches 0.12 s.
  CHECK(m.warmup_invokes == 4);
  CHECK(m.warmup_seconds == doctest::Approx(0.12));
  REQUIRE(m.samples_ms.size() == 6);
  for (double x : m.samples_ms) CHECK(x == doctest::Approx(30));
  CHECK(m.stats.runs == 6);
  CHECK(m.stats.cv == doctest::Approx(0).epsilon(1e-9));
}

TEST_CASE("warm-up honours warmup_min_invokes, and can be switched off") {
  scripted_time t;
  measurement_protocol p = quick(1, 1, 1);
  p.warmup_seconds = 0.001;
  p.warmup_min_invokes = 5;
  CHECK(measure(t.invoker({30}, "a"), p, t.clock()).warmup_invokes == 5);  // count wins
  p.warmup_seconds = 0;
  p.warmup_min_invokes = 0;
  const measurement none = measure(t.invoker({30}, "a"), p, t.clock());
  CHECK(none.warmup_invokes == 0);
  CHECK(none.warmup_seconds == 0);
}

TEST_CASE("passes are interleaved round-robin, warm-up before each pass by default") {
  scripted_time t;
  std::vector<std::string> log;
  measurement_protocol p = quick(2, 1, 2);
  p.warmup_min_invokes = 1;
  const auto ms = measure_interleaved({t.invoker({1}, "A", &log), t.invoker({1}, "B", &log)}, p,
                                      t.clock());
  const std::vector<std::string> expected{"A", "A", "A", "B", "B", "B",   // pass 1: warm + 2
                                          "A", "A", "A", "B", "B", "B"};  // pass 2
  CHECK(log == expected);
  CHECK(ms[0].warmup_invokes == 2);

  log.clear();
  p.warmup_every_pass = false;
  measure_interleaved({t.invoker({1}, "A", &log), t.invoker({1}, "B", &log)}, p, t.clock());
  const std::vector<std::string> first_only{"A", "A", "A", "B", "B", "B",  // warm-up in pass 1
                                            "A", "A", "B", "B"};           // none in pass 2
  CHECK(log == first_only);
}

TEST_CASE("blocks, passes and the reported minimum from scripted durations") {
  scripted_time t;
  // passes = 2, blocks = 2, invokes = 3, no warm-up: 12 invokes of model A, 12 of model B.
  const measurement_protocol p = quick(2, 2, 3);
  const std::vector<double> a{10, 12, 11,  9, 13, 10,     // pass 1: blocks {10,12,11} {9,13,10}
                              11, 8.5, 12, 10, 10, 14};  // pass 2: blocks {11,8.5,12} {10,10,14}
  const std::vector<double> b{2, 2, 2, 3, 3, 3, 4, 4, 4, 1, 5, 9};
  const auto ms = measure_interleaved({t.invoker(a, "A"), t.invoker(b, "B")}, p, t.clock());
  REQUIRE(ms.size() == 2);

  const measurement& ma = ms[0];
  REQUIRE(ma.samples_ms.size() == 12);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(ma.samples_ms[i] == doctest::Approx(a[i]));
  REQUIRE(ma.pass_min_ms.size() == 2);
  CHECK(ma.pass_min_ms[0] == doctest::Approx(9));
  CHECK(ma.pass_min_ms[1] == doctest::Approx(8.5));
  REQUIRE(ma.blocks.size() == 4);
  CHECK(ma.blocks[0].pass == 0);
  CHECK(ma.blocks[0].block == 0);
  CHECK(ma.blocks[0].min_ms == doctest::Approx(10));
  CHECK(ma.blocks[0].median_ms == doctest::Approx(11));
  CHECK(ma.blocks[3].pass == 1);
  CHECK(ma.blocks[3].block == 1);
  CHECK(ma.blocks[3].min_ms == doctest::Approx(10));
  CHECK(ma.blocks[3].median_ms == doctest::Approx(10));
  CHECK(ma.stats.min_ms == doctest::Approx(8.5));
  CHECK(ma.stats.max_ms == doctest::Approx(14));
  CHECK(ma.stats.runs == 12);
  // sorted: 8.5 9 10 10 10 10 11 11 12 12 13 14; median (10 + 11) / 2, p10 at position 1.1
  CHECK(ma.stats.median_ms == doctest::Approx(10.5));
  CHECK(ma.stats.p10_ms == doctest::Approx(9.1));

  const measurement& mb = ms[1];
  CHECK(mb.pass_min_ms[0] == doctest::Approx(2));
  CHECK(mb.pass_min_ms[1] == doctest::Approx(1));
  CHECK(mb.stats.min_ms == doctest::Approx(1));
  CHECK(mb.stats.mean_ms == doctest::Approx(42.0 / 12));

  const auto r = nnmeter::backends::make_profile_result(ma, p);
  CHECK(r.latency_ms == doctest::Approx(8.5));
  CHECK(r.stats.min_ms == r.latency_ms);
  CHECK(r.protocol.passes == 2);
  CHECK(r.pass_min_ms == ma.pass_min_ms);
  CHECK(r.blocks.size() == 4);
  CHECK_FALSE(r.reference_ms.has_value());
}

TEST_CASE("engine errors: no invokers, an empty invoker, a clock running backwards") {
  scripted_time t;
  const measurement_protocol p = quick(1, 1, 2);
  CHECK(message_of([&] { measure_interleaved({}, p, t.clock()); }).find("no models") !=
        std::string::npos);
  CHECK(message_of([&] {
          measure_interleaved({t.invoker({1}, "A"), std::function<void()>{}}, p, t.clock());
        }).find("invoker #1 is empty") != std::string::npos);
  CHECK(message_of([&] {
          measure(t.invoker({1}, "A"), p, [] {
            static double x = 10;
            return x -= 1;
          });
        }).find("clock ran backwards") != std::string::npos);
  measurement_protocol bad = p;
  bad.blocks = 0;
  CHECK(message_of([&] { measure(t.invoker({1}, "A"), bad, t.clock()); })
            .find("blocks must be >= 1") != std::string::npos);
}

TEST_CASE("an invoker's exception propagates") {
  scripted_time t;
  int calls = 0;
  const auto failing = [&] {
    if (++calls == 3) throw std::runtime_error("device lost");
    t.now += 0.001;
  };
  CHECK_THROWS_WITH_AS(measure(failing, quick(1, 1, 5), t.clock()), "device lost",
                       std::runtime_error);
  CHECK(calls == 3);
}

TEST_CASE("the real steady clock measures a busy loop") {
  measurement_protocol p = quick(2, 3, 4);
  p.warmup_seconds = 0.005;
  volatile double sink = 0;
  const measurement m = measure(
      [&] {
        double acc = 0;
        for (int i = 0; i < 20000; ++i) acc += std::sqrt(static_cast<double>(i));
        sink = sink + acc;
      },
      p);
  CHECK(m.stats.runs == 24);
  CHECK(m.samples_ms.size() == 24);
  CHECK(m.stats.min_ms > 0);
  CHECK(m.stats.min_ms <= m.stats.p10_ms);
  CHECK(m.stats.p10_ms <= m.stats.median_ms);
  CHECK(m.stats.median_ms <= m.stats.max_ms);
  CHECK(m.warmup_seconds >= 2 * 0.005);
  CHECK(m.warmup_invokes >= 2);
}

TEST_CASE("measurement clocks: names, validation, and what the thread-cpu clock counts") {
  using nnmeter::backends::measurement_clock;
  using nnmeter::backends::parse_measurement_clock;
  CHECK(std::string(to_string(measurement_clock::steady)) == "steady");
  CHECK(std::string(to_string(measurement_clock::thread_cpu)) == "thread-cpu");
  CHECK(parse_measurement_clock("thread-cpu") == measurement_clock::thread_cpu);
  CHECK(parse_measurement_clock("steady") == measurement_clock::steady);
  CHECK(message_of([] { parse_measurement_clock("tsc"); }) ==
        "unknown measurement clock 'tsc' (steady, thread-cpu)");

  measurement_protocol p;
  p.clock = measurement_clock::thread_cpu;
  CHECK_NOTHROW(nnmeter::backends::validate(p));
  p.threads = 2;
  CHECK(message_of([&] { nnmeter::backends::validate(p); })
            .find("thread-cpu clock times the calling thread only") != std::string::npos);

  // Sleeping takes wall time but no CPU time.
  const auto steady = nnmeter::backends::steady_clock_seconds();
  const auto cpu = nnmeter::backends::thread_cpu_clock_seconds();
  const double s0 = steady();
  const double c0 = cpu();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const double ds = steady() - s0;
  const double dc = cpu() - c0;
  CHECK(ds >= 0.059);
  CHECK(dc < 0.02);
  CHECK(dc >= 0);

  // The engine uses the protocol's clock: a sleeping invoker measures ~0 ms of CPU time.
  measurement_protocol q = quick(1, 1, 2);
  q.clock = measurement_clock::thread_cpu;
  const measurement m =
      measure([] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }, q);
  CHECK(m.stats.max_ms < 10);
  q.clock = measurement_clock::steady;
  const measurement w =
      measure([] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }, q);
  CHECK(w.stats.min_ms >= 19.5);
}

TEST_CASE("memory layouts: pass p runs layout p mod L, the latency is the median of their minima") {
  scripted_time t;
  std::vector<std::string> log;
  measurement_protocol p = quick(6, 1, 2);  // 6 passes over 3 layouts: each layout runs 2
  p.layouts = 3;
  // Layout 0 runs at 10 ms, layout 1 at 14 ms, layout 2 at 12 ms (1 ms faster in its 2nd pass).
  const auto ms = nnmeter::backends::measure_layouts(
      {{t.invoker({10}, "A0", &log), t.invoker({14}, "A1", &log),
        t.invoker({12, 12, 11, 11}, "A2", &log)},
       {t.invoker({1}, "B0", &log), t.invoker({1}, "B1", &log), t.invoker({1}, "B2", &log)}},
      p, t.clock());
  const std::vector<std::string> expected{"A0", "A0", "B0", "B0", "A1", "A1", "B1", "B1",
                                          "A2", "A2", "B2", "B2", "A0", "A0", "B0", "B0",
                                          "A1", "A1", "B1", "B1", "A2", "A2", "B2", "B2"};
  CHECK(log == expected);
  REQUIRE(ms.size() == 2);
  const measurement& a = ms[0];
  const std::vector<double> pass_minima{10, 14, 12, 10, 14, 11};
  REQUIRE(a.pass_min_ms.size() == pass_minima.size());
  for (std::size_t i = 0; i < pass_minima.size(); ++i)
    CHECK(a.pass_min_ms[i] == doctest::Approx(pass_minima[i]));
  REQUIRE(a.layout_min_ms.size() == 3);
  CHECK(a.layout_min_ms[0] == doctest::Approx(10));
  CHECK(a.layout_min_ms[1] == doctest::Approx(14));
  CHECK(a.layout_min_ms[2] == doctest::Approx(11));
  CHECK(a.stats.min_ms == doctest::Approx(10));
  CHECK(nnmeter::backends::reported_latency(a, p) == doctest::Approx(11));
  const auto r = nnmeter::backends::make_profile_result(a, p);
  CHECK(r.latency_ms == doctest::Approx(11));
  CHECK(r.stats.min_ms == doctest::Approx(10));
  CHECK(r.layout_min_ms == a.layout_min_ms);

  // One layout: the plain minimum, and no layout minima in the result.
  const measurement_protocol one = quick(2, 1, 2);
  const auto single = measure_interleaved({t.invoker({5, 5, 4, 4}, "C")}, one, t.clock());
  CHECK(nnmeter::backends::reported_latency(single[0], one) == doctest::Approx(4));
  CHECK(nnmeter::backends::make_profile_result(single[0], one).layout_min_ms.empty());

  // A model without one invoker per layout, passes not a multiple of layouts, too many layouts.
  CHECK(message_of([&] {
          nnmeter::backends::measure_layouts({{t.invoker({1}, "D0"), t.invoker({1}, "D1")}}, p,
                                             t.clock());
        }).find("model #0 has 2 invokers, the protocol's 3 memory layouts need one each") !=
        std::string::npos);
  measurement_protocol bad = p;
  bad.passes = 4;
  CHECK(message_of([&] { nnmeter::backends::validate(bad); }) ==
        "measurement protocol: passes (4) must be a multiple of layouts (3), so that every "
        "memory layout runs as many passes");
  bad = p;
  bad.layouts = 0;
  CHECK(message_of([&] { nnmeter::backends::validate(bad); }).find("layouts must be >= 1") !=
        std::string::npos);
  bad.layouts = 65;
  bad.passes = 65;
  CHECK(message_of([&] { nnmeter::backends::validate(bad); }).find("layouts must be at most 64") !=
        std::string::npos);
}
