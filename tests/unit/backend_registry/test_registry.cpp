// The backend registry and the real xnnpack backend (tools/backends/registry/): models built
// with graph_builder run through XNNPACK and are timed with the real clock.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "backend.hpp"
#if NNMETER_BACKENDS_WITH_JSON
#include "registry/result_json.hpp"
#endif

#include <nnmeter/ir/graph_builder.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#if NNMETER_BACKENDS_WITH_XNNPACK
#include "xnnpack/backend_adapter.hpp"
#endif

namespace {

namespace nb = nnmeter::backends;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

#if NNMETER_BACKENDS_WITH_XNNPACK
nb::measurement_protocol quick() {
  nb::measurement_protocol p;
  p.passes = 2;
  p.blocks = 2;
  p.invokes_per_block = 5;
  p.warmup_seconds = 0.01;
  return p;
}

// conv 3x3 s2 -> relu6 -> dwconv 3x3 -> relu6 -> global average pool -> fc: the noise
// study's small test graph.
nnmeter::graph small_net(nnmeter::graph_builder::dim width = 32) {
  nnmeter::graph_builder b;
  auto x = b.input({1, 112, 112, 3});
  x = b.clip(b.conv(x, width, 3, 2), 0, 6);
  x = b.clip(b.dwconv(x, 3), 0, 6);
  x = b.fc(b.global_avgpool(x), 100);
  return std::move(b).build();
}
#endif

}  // namespace

TEST_CASE("unknown backends are refused with the list of available ones") {
  const std::string msg = message_of([] { nb::make_backend("tpu9000"); });
  std::string expected = "unknown backend 'tpu9000'; available backends: ";
#if NNMETER_BACKENDS_WITH_XNNPACK
  expected += "xnnpack";
#else
  expected += "none";
#endif
  CHECK(msg == expected);
  CHECK_THROWS_AS(nb::make_backend(""), nb::backend_error);
}

#if NNMETER_BACKENDS_WITH_XNNPACK

TEST_CASE("xnnpack is available and describes this machine") {
  const auto names = nb::available_backends();
  CHECK(std::find(names.begin(), names.end(), "xnnpack") != names.end());
  const auto be = nb::make_backend("xnnpack");
  REQUIRE(be);
  CHECK(be->name() == "xnnpack");
  CHECK(be->device() == nb::host_cpu_description());
}

TEST_CASE("xnnpack: profile() measures a real model under the protocol") {
  const auto be = nb::make_backend("xnnpack");
  const nnmeter::graph g = small_net();
  const nb::profile_result r = be->profile(g, quick());
  CHECK(r.latency_ms > 0);
  CHECK(r.latency_ms == r.stats.min_ms);
  CHECK(r.stats.runs == 20);
  CHECK(r.stats.min_ms <= r.stats.p10_ms);
  CHECK(r.stats.p10_ms <= r.stats.median_ms);
  CHECK(r.stats.median_ms <= r.stats.max_ms);
  CHECK(r.stats.mean_ms >= r.stats.min_ms);
  CHECK(r.stats.cv >= 0);
  CHECK(r.backend == "xnnpack");
  CHECK(r.device == be->device());
  REQUIRE(r.pass_min_ms.size() == 2);
  CHECK(std::min(r.pass_min_ms[0], r.pass_min_ms[1]) == r.latency_ms);
  CHECK(r.blocks.size() == 4);
  CHECK(r.warmup_seconds >= 2 * 0.01);  // warm-up before each of the 2 passes
  CHECK(r.warmup_invokes >= 2);
  CHECK(r.wall_seconds > 0);
  CHECK(r.timestamp.size() == 20);
}

TEST_CASE("xnnpack: the thread-cpu clock measures the same work") {
  const auto be = nb::make_backend("xnnpack");
  const nnmeter::graph g = small_net();
  nb::measurement_protocol p = quick();
  p.clock = nb::measurement_clock::thread_cpu;
  const nb::profile_result cpu = be->profile(g, p);
  CHECK(cpu.latency_ms > 0);
  CHECK(cpu.protocol.clock == nb::measurement_clock::thread_cpu);
  p.clock = nb::measurement_clock::steady;
  const nb::profile_result wall = be->profile(g, p);
  // Both are minima of the same invokes; CPU time cannot exceed wall time by more than the
  // clocks' granularity and noise.
  CHECK(cpu.latency_ms < 1.5 * wall.latency_ms);
  CHECK(cpu.latency_ms > 0.5 * wall.latency_ms);
}

TEST_CASE("xnnpack: more work takes longer, and interleaved results keep their order") {
  const auto be = nb::make_backend("xnnpack");
  // conv 3x3 at 56x56x64 -> 64 (~0.46 GFLOP) against a depthwise 3x3 on the same input
  // (~1/64 of the multiply-adds): the study measured 7.0 ms against 0.16 ms.
  nnmeter::graph_builder big;
  big.conv(big.input({1, 56, 56, 64}), 64, 3);
  nnmeter::graph_builder little;
  little.dwconv(little.input({1, 56, 56, 64}), 3);
  const nnmeter::graph gb = std::move(big).build();
  const nnmeter::graph gl = std::move(little).build();
  const auto rs = be->profile_interleaved({&gl, &gb}, quick());
  REQUIRE(rs.size() == 2);
  CHECK(rs[1].latency_ms > 5 * rs[0].latency_ms);
}

TEST_CASE("xnnpack: normalisation by the reference kernel") {
  const auto be = nb::make_backend("xnnpack");
  const nnmeter::graph ref = nb::xnnpack_reference_graph();
  CHECK(ref.num_nodes() == 2);
  nb::measurement_protocol p = quick();
  p.normalise_by_reference = true;
  // The reference kernel itself, normalised by itself, is close to 1 (two measurements of
  // the same work; the minimum is stable to a few per cent, allow 25 % for a noisy host).
  const nb::profile_result r = be->profile(ref, p);
  REQUIRE(r.reference_ms.has_value());
  REQUIRE(r.normalised.has_value());
  CHECK(*r.reference_ms > 0);
  CHECK(*r.normalised == doctest::Approx(r.latency_ms / *r.reference_ms));
  CHECK(*r.normalised > 0.75);
  CHECK(*r.normalised < 1.25);
}

TEST_CASE("xnnpack: one thread only, and graphs it cannot run fail clearly") {
  const auto be = nb::make_backend("xnnpack");
  const nnmeter::graph g = small_net(8);
  nb::measurement_protocol p = quick();
  p.threads = 2;
  const std::string msg = message_of([&] { be->profile(g, p); });
  CHECK(msg.find("backend 'xnnpack' runs one thread only") != std::string::npos);

  nnmeter::graph_builder b;
  b.gelu(b.input({1, 16}), "the_gelu");
  const nnmeter::graph bad = std::move(b).build();
  CHECK_THROWS_AS(be->profile(bad, quick()), nnmeter::unsupported_error);
  const std::string why = message_of([&] { be->profile(bad, quick()); });
  CHECK(why.find("cannot execute") != std::string::npos);
  CHECK(why.find("the_gelu") != std::string::npos);
}

#if NNMETER_BACKENDS_WITH_JSON
TEST_CASE("xnnpack: a profile result as JSON") {
  const auto be = nb::make_backend("xnnpack");
  nb::measurement_protocol p = quick();
  p.passes = 1;
  const nb::profile_result r = be->profile(small_net(8), p);
  const nlohmann::ordered_json j = nb::profile_result_to_json(r);
  CHECK(j.begin().key() == "latency_ms");
  CHECK(j["latency_ms"].get<double>() == r.latency_ms);
  CHECK(j["statistics"]["min_ms"].get<double>() == r.latency_ms);
  CHECK(j["statistics"]["runs"].get<std::size_t>() == 10);
  CHECK(j["protocol"]["invokes_per_block"] == 5);
  CHECK(j["protocol"]["threads"] == 1);
  CHECK(j["protocol"]["clock"] == "steady");
  CHECK(j["backend"] == "xnnpack");
  CHECK(j["pass_min_ms"].size() == 1);
  CHECK(j["blocks"].size() == 2);
  CHECK(j["reference_ms"].is_null());
  CHECK(j["normalised"].is_null());
  // One layout: no layouts key in the protocol (its bytes as before layouts existed), none in
  // the result.
  CHECK_FALSE(j["protocol"].contains("layouts"));
  CHECK_FALSE(j.contains("layout_min_ms"));
}

TEST_CASE("xnnpack: two memory layouts, the latency the median of their minima, as JSON") {
  const auto be = nb::make_backend("xnnpack");
  nb::measurement_protocol p = quick();
  p.passes = 2;
  p.layouts = 2;
  const nb::profile_result r = be->profile(small_net(8), p);
  REQUIRE(r.layout_min_ms.size() == 2);
  CHECK(r.latency_ms == doctest::Approx((r.layout_min_ms[0] + r.layout_min_ms[1]) / 2));
  CHECK(r.stats.min_ms == std::min(r.layout_min_ms[0], r.layout_min_ms[1]));
  const nlohmann::ordered_json j = nb::profile_result_to_json(r);
  CHECK(j["protocol"]["layouts"] == 2);
  CHECK(j["layout_min_ms"].size() == 2);
  // The protocol reads back, layouts included; a bad layouts value names the key.
  const nb::measurement_protocol back = nb::protocol_from_json(j["protocol"], "test");
  CHECK(back.layouts == 2);
  CHECK(back.passes == 2);
  nlohmann::ordered_json bad = j["protocol"];
  bad["layouts"] = "two";
  CHECK(message_of([&] { (void)nb::protocol_from_json(bad, "pkg/manifest.json"); }) ==
        "pkg/manifest.json: measurement protocol key 'layouts' must be an integer");
  bad["layouts"] = 3;
  CHECK(message_of([&] { (void)nb::protocol_from_json(bad, "pkg/manifest.json"); })
            .find("pkg/manifest.json: measurement protocol: passes (2) must be a multiple of "
                  "layouts (3)") == 0);
}
#endif

#else

TEST_CASE("xnnpack is not in this build, and says why") {
  const std::string msg = message_of([] { nb::make_backend("xnnpack"); });
  CHECK(msg.find("XNNPACK") != std::string::npos);
  CHECK(msg.find("was not found") != std::string::npos);
}

#endif
