// libFuzzer target for the predictor-package reader: read_predictor_package on a package held
// in memory, and read_xgboost_json on its forest. See docs/predictor-format.md.
//
// The input is up to three JSON texts separated by NUL bytes (which no JSON text holds):
//   <manifest> \0 <fusion rules> \0 <forest>
// The package's files come from the input: the file the manifest names as `fusion_rules` (any
// name containing "rule") reads as the second part, every other file (each kernel's forest) as
// the third. No disk is touched, so the target runs at parser speed.
// nnmeter::error (its message starting with the source name) and std::bad_alloc are expected
// outcomes for malformed input. Findings are crashes, sanitizer reports, leaks, timeouts, any
// other exception, and these invariants, which abort():
//   - a package that reads predicts a fixed graph: predict(g) and latency(g) agree bit for bit
//     and in their counts, and every predicted kernel latency is finite;
//   - a forest that reads passes forest::check(), evaluates to a finite value on a few inputs,
//     and write_xgboost_json reads back to the same tables.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "fuzz_json_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* target = "fuzz_predictor_package";
using nnmeter_fuzz::fail;

const nnmeter::graph& sample_graph() {
  static const nnmeter::graph g = [] {
    nnmeter::graph_builder b;
    auto x = b.input({1, 16, 16, 8});
    x = b.conv_bn_relu(x, 16, 3, 1);
    auto y = b.relu6(b.bn(b.dwconv(x, 3)));
    y = b.se(y);
    x = b.add(x, b.hswish(b.bn(b.conv(y, 16, 1))));
    x = b.avgpool(b.maxpool(x, 2, 2), 2, 2);
    x = b.fc(b.reshape(b.global_avgpool(x), {1, 16}), 10);
    return std::move(b).build();
  }();
  return g;
}

void check_predictor(const nnmeter::predictor& p) {
  const nnmeter::prediction r = p.predict(sample_graph());
  const nnmeter::latency_summary s = p.latency(sample_graph());
  if (!(r.latency_ms == s.latency_ms) && !(std::isnan(r.latency_ms) && std::isnan(s.latency_ms)))
    fail(target, "predict() and latency() disagree",
         std::to_string(r.latency_ms) + " vs " + std::to_string(s.latency_ms));
  if (r.predicted != s.predicted || r.unpredicted != s.unpredicted ||
      r.detected.kernels.size() != s.kernels)
    fail(target, "predict() and latency() count differently", "");
  for (const nnmeter::kernel_latency& k : r.kernels)
    if (k.status == nnmeter::kernel_status::predicted && !std::isfinite(k.latency_ms))
      fail(target, "a predicted kernel latency is not finite", std::to_string(k.latency_ms));
}

void check_forest(const nnmeter::forest& f) {
  const nnmeter::forest_check c = f.check();
  if (!c) fail(target, "a forest that read does not pass check()", "");
  const std::size_t n = f.view().num_features;
  const float inputs[] = {0.0f, -1.0f, 1.0f, 3.5f, 1e30f, NAN};
  for (float v : inputs) {
    const std::vector<float> x(n == 0 ? 1 : n, v);
    (void)nnmeter::evaluate(f.view(), x.data());
  }
  nnmeter::forest g;
  try {
    g = nnmeter::io::read_xgboost_json(nnmeter::io::write_xgboost_json(f), "<fuzz:written>");
  } catch (const std::exception& e) {
    fail(target, "a written forest does not read back", e.what());
  }
  if (g.left != f.left || g.feature != f.feature || g.default_left != f.default_left ||
      g.tree_roots != f.tree_roots || g.num_features != f.num_features)
    fail(target, "forest round trip", "the tables changed");
  for (std::size_t i = 0; i < f.split_value.size(); ++i)
    if (std::memcmp(&f.split_value[i], &g.split_value[i], sizeof(float)) != 0)
      fail(target, "forest round trip", "a split value changed bits");
  if (std::memcmp(&f.base_score, &g.base_score, sizeof(float)) != 0)
    fail(target, "forest round trip", "base_score changed bits");
}

template <class F>
void expect_clean(F&& f, bool verbose, const char* what) {
  try {
    f();
    if (verbose) std::fprintf(stderr, "%s: read\n", what);
  } catch (const nnmeter::error& e) {
    nnmeter_fuzz::check_error_names_source(target, e);
    if (verbose) std::fprintf(stderr, "%s: nnmeter::error: %s\n", what, e.what());
  } catch (const std::bad_alloc&) {
    if (verbose) std::fprintf(stderr, "%s: std::bad_alloc\n", what);
  } catch (const std::exception& e) {
    fail(target, "an exception other than nnmeter::error escaped", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("NNMETER_FUZZ_VERBOSE") != nullptr;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = i < 2 ? std::min(in.find('\0', start), in.size()) : in.size();
    parts[i] = in.substr(std::min(start, in.size()), end - std::min(start, in.size()));
    start = end + 1;
  }
  expect_clean(
      [&] {
        const nnmeter::predictor p = nnmeter::io::read_predictor_package(
            parts[0], std::string(nnmeter_fuzz::source), [&](const std::string& name) {
              return std::string(name.find("rule") != std::string::npos ? parts[1] : parts[2]);
            });
        check_predictor(p);
      },
      verbose, "package");
  expect_clean(
      [&] { check_forest(nnmeter::io::read_xgboost_json(parts[2], nnmeter_fuzz::source)); },
      verbose, "forest");
  return 0;
}
