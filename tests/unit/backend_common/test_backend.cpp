// The backend base class (tools/backends/backend.hpp): the default profile() and
// profile_interleaved() run the protocol engine over prepared models, add the reference kernel
// for normalisation, and fill every recorded field. Checked with a scripted clock and a
// backend whose "device" is that clock.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "backend.hpp"

#include <nnmeter/ir/graph_builder.hpp>

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using nnmeter::backends::backend;
using nnmeter::backends::backend_error;
using nnmeter::backends::measurement_protocol;
using nnmeter::backends::prepared_model;
using nnmeter::backends::profile_result;

// A backend for the protocol machinery itself: a graph "runs" by advancing the scripted
// clock by 1 ms per node (the reference kernel by ref_ms), and every invoke is logged.
class clock_backend final : public backend {
 public:
  double now = 50.0;
  double ref_ms = 0.0;  // 0: no reference kernel (the base class's default refusal)
  std::vector<std::string> log;
  std::string refuse_op;  // prepare() throws unsupported_error for a graph with this node
  int prepared = 0;       // prepare() calls so far
  // When set, the k-th prepared copy runs extra_ms_by_copy[k % size] ms slower (memory layouts).
  std::vector<double> extra_ms_by_copy;

  clock_backend() {
    set_clock([this] { return now; });
  }
  std::string name() const override { return "clock"; }
  std::string device() const override { return "scripted clock"; }

  std::unique_ptr<prepared_model> prepare(const nnmeter::graph& g,
                                          const measurement_protocol&) override {
    for (const nnmeter::node& n : g.nodes())
      if (!refuse_op.empty() && n.name == refuse_op)
        throw nnmeter::unsupported_error("cannot execute: node '" + refuse_op + "'");
    const double extra =
        extra_ms_by_copy.empty()
            ? 0.0
            : extra_ms_by_copy[static_cast<std::size_t>(prepared) % extra_ms_by_copy.size()];
    ++prepared;
    return std::make_unique<model>(this, static_cast<double>(g.num_nodes()) + extra, g.name(0));
  }
  std::unique_ptr<prepared_model> prepare_reference(const measurement_protocol& p) override {
    if (ref_ms <= 0) return backend::prepare_reference(p);
    return std::make_unique<model>(this, ref_ms, "ref");
  }

 private:
  struct model final : prepared_model {
    clock_backend* b;
    double ms;
    std::string tag;
    model(clock_backend* owner, double duration_ms, std::string t)
        : b(owner), ms(duration_ms), tag(std::move(t)) {}
    void invoke() override {
      b->now += ms * 1e-3;
      b->log.push_back(tag);
    }
  };
};

nnmeter::graph chain(const std::string& input_name, int relus) {
  nnmeter::graph_builder b;
  nnmeter::tensor_ref x = b.input({1, 8, 8, 4}, nnmeter::dtype::f32, input_name);
  for (int i = 0; i < relus; ++i) x = b.relu(x);
  return std::move(b).build();
}

measurement_protocol quick() {
  measurement_protocol p;
  p.passes = 2;
  p.blocks = 2;
  p.invokes_per_block = 3;
  p.warmup_seconds = 0;
  p.warmup_min_invokes = 1;
  return p;
}

}  // namespace

TEST_CASE("profile() reports the minimum and fills every recorded field") {
  clock_backend be;
  const nnmeter::graph g = chain("x", 3);  // 4 nodes -> 4 ms per invoke
  const profile_result r = be.profile(g, quick());
  CHECK(r.latency_ms == doctest::Approx(4));
  CHECK(r.stats.min_ms == r.latency_ms);
  CHECK(r.stats.runs == 12);
  CHECK(r.backend == "clock");
  CHECK(r.device == "scripted clock");
  CHECK(r.protocol.invokes_per_block == 3);
  CHECK(r.pass_min_ms.size() == 2);
  CHECK(r.blocks.size() == 4);
  CHECK(r.warmup_invokes == 2);  // one per pass
  CHECK_FALSE(r.reference_ms.has_value());
  CHECK_FALSE(r.normalised.has_value());
  // 2 passes x (1 warm-up + 6 timed) x 4 ms
  CHECK(r.wall_seconds == doctest::Approx(0.056));
  REQUIRE(r.timestamp.size() == 20);
  CHECK(r.timestamp[4] == '-');
  CHECK(r.timestamp[10] == 'T');
  CHECK(r.timestamp.back() == 'Z');
}

TEST_CASE("profile_interleaved() measures passes round-robin, results in input order") {
  clock_backend be;
  const nnmeter::graph a = chain("a", 1);  // 2 ms
  const nnmeter::graph b = chain("b", 5);  // 6 ms
  const auto rs = be.profile_interleaved({&a, &b}, quick());
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].latency_ms == doctest::Approx(2));
  CHECK(rs[1].latency_ms == doctest::Approx(6));
  std::vector<std::string> expected;
  for (int p = 0; p < 2; ++p) {
    expected.insert(expected.end(), 7, "a");
    expected.insert(expected.end(), 7, "b");
  }
  CHECK(be.log == expected);
  CHECK(rs[0].wall_seconds == rs[1].wall_seconds);
}

TEST_CASE("memory layouts: each graph prepared once per layout, the latency the median of minima") {
  clock_backend be;
  be.extra_ms_by_copy = {0, 2, 1};
  const nnmeter::graph g = chain("g", 3);  // 4 nodes: copies at 4, 6 and 5 ms
  measurement_protocol p = quick();
  p.passes = 6;
  p.layouts = 3;
  const profile_result r = be.profile(g, p);
  CHECK(be.prepared == 3);
  REQUIRE(r.layout_min_ms.size() == 3);
  CHECK(r.layout_min_ms[0] == doctest::Approx(4));
  CHECK(r.layout_min_ms[1] == doctest::Approx(6));
  CHECK(r.layout_min_ms[2] == doctest::Approx(5));
  CHECK(r.latency_ms == doctest::Approx(5));
  CHECK(r.stats.min_ms == doctest::Approx(4));
  CHECK(r.pass_min_ms.size() == 6);
  CHECK(r.protocol.layouts == 3);
  // Passes not a multiple of the layouts: refused before anything is prepared.
  p.passes = 4;
  be.prepared = 0;
  CHECK_THROWS_WITH_AS(be.profile(g, p),
                       doctest::Contains("passes (4) must be a multiple of layouts (3)"),
                       backend_error);
  CHECK(be.prepared == 0);
}

TEST_CASE("normalise_by_reference measures the reference kernel interleaved") {
  clock_backend be;
  be.ref_ms = 2.5;
  const nnmeter::graph g = chain("g", 9);  // 10 ms
  measurement_protocol p = quick();
  p.normalise_by_reference = true;
  const profile_result r = be.profile(g, p);
  REQUIRE(r.reference_ms.has_value());
  REQUIRE(r.normalised.has_value());
  CHECK(*r.reference_ms == doctest::Approx(2.5));
  CHECK(*r.normalised == doctest::Approx(4));
  CHECK(r.protocol.normalise_by_reference);
  // Order: pass 1 of g, pass 1 of ref, pass 2 of g, pass 2 of ref.
  REQUIRE(be.log.size() == 28);
  CHECK(be.log[6] == "g");
  CHECK(be.log[7] == "ref");
  CHECK(be.log[14] == "g");
}

TEST_CASE("a backend without a reference kernel refuses normalisation clearly") {
  clock_backend be;
  const nnmeter::graph g = chain("g", 1);
  measurement_protocol p = quick();
  p.normalise_by_reference = true;
  CHECK_THROWS_WITH_AS(be.profile(g, p),
                       "backend 'clock' has no reference kernel: normalise_by_reference is not "
                       "available",
                       backend_error);
  CHECK(be.log.empty());
}

TEST_CASE("a graph the backend cannot run fails before anything is measured") {
  clock_backend be;
  be.refuse_op = "bad";
  const nnmeter::graph ok = chain("ok", 1);
  const nnmeter::graph bad = chain("bad", 1);
  CHECK_THROWS_AS(be.profile_interleaved({&ok, &bad}, quick()), nnmeter::unsupported_error);
  CHECK(be.log.empty());
  CHECK_THROWS_AS(be.profile_interleaved({}, quick()), backend_error);
  CHECK_THROWS_AS(be.profile_interleaved({&ok, nullptr}, quick()), backend_error);
  measurement_protocol bad_protocol = quick();
  bad_protocol.passes = 0;
  CHECK_THROWS_WITH_AS(be.profile(ok, bad_protocol),
                       "measurement protocol: passes must be >= 1 (got 0)", backend_error);
}

TEST_CASE("host description and timestamp") {
  const std::string cpu = nnmeter::backends::host_cpu_description();
  CHECK_FALSE(cpu.empty());
#if defined(__linux__)
  CHECK(cpu.find("logical CPU") != std::string::npos);
#endif
  const std::string t = nnmeter::backends::utc_timestamp();
  REQUIRE(t.size() == 20);
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u, 12u, 14u, 15u, 17u, 18u})
    CHECK(std::isdigit(static_cast<unsigned char>(t[i])));
  CHECK(t.substr(0, 2) == "20");
}
