// Throughput of the whole prediction pipeline: kernel detection + feature extraction + forest
// evaluation on nn-Meter's mobilenetv3small_0 (302 nodes, 60 kernels), with a forest of 300
// trees of depth 8 per kernel kind. Single thread.
// SPDX-License-Identifier: MIT
#include <benchmark/benchmark.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

// A complete random tree of the given depth, appended to f (right child = left + 1).
void add_random_tree(nnmeter::forest& f, int depth, std::uint32_t num_features, std::mt19937& rng) {
  std::uniform_real_distribution<float> thr(0.0f, 300.0f);
  std::uniform_real_distribution<float> leaf(0.0f, 0.01f);
  std::uniform_int_distribution<std::uint32_t> feat(0, num_features - 1);
  const auto root = static_cast<std::int32_t>(f.left.size());
  f.tree_roots.push_back(static_cast<std::uint32_t>(root));
  // Breadth-first: node i of the tree (0-based) has children 2i+1, 2i+2.
  const int internal = (1 << depth) - 1;
  const int total = (1 << (depth + 1)) - 1;
  for (int i = 0; i < total; ++i) {
    if (i < internal) {
      f.left.push_back(root + 2 * i + 1);
      f.feature.push_back(feat(rng));
      f.split_value.push_back(thr(rng));
      f.default_left.push_back(1);
    } else {
      f.left.push_back(-1);
      f.feature.push_back(0);
      f.split_value.push_back(leaf(rng));
      f.default_left.push_back(0);
    }
  }
}

nnmeter::forest random_forest(std::uint32_t num_features, std::uint32_t seed) {
  std::mt19937 rng(seed);
  nnmeter::forest f;
  f.num_features = num_features;
  f.base_score = 0.5f;
  for (int t = 0; t < 300; ++t) add_random_tree(f, 8, num_features, rng);
  f.validate();
  return f;
}

struct fixture {
  nnmeter::graph g;
  nnmeter::predictor p;
  fixture() {
    g = nnmeter::io::load_nnmeter_ir(std::string(NNMETER_SOURCE_DIR) +
                                     "/tests/data/mobilenetv3small_0.ir.json");
    nnmeter::predictor_info info;
    info.name = "bench";
    info.features = nnmeter::feature_set::nnmeter;
    p = nnmeter::predictor(info, nnmeter::default_rules());
    for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
      const auto k = static_cast<nnmeter::kernel_kind>(i);
      const auto n = nnmeter::feature_count(k, nnmeter::feature_set::nnmeter);
      if (n > 0) p.set_forest(k, random_forest(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(i)));
    }
  }
};

const fixture& fx() {
  static const fixture f;
  return f;
}

void per_kernel_counter(benchmark::State& state, std::size_t kernels) {
  state.counters["kernels"] = static_cast<double>(kernels);
  // Seconds per kernel (printed with an SI prefix: 5u = 5 microseconds).
  state.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_predict_graph(benchmark::State& state) {
  const fixture& f = fx();
  double sum = 0;
  std::size_t kernels = 0;
  for (auto _ : state) {
    const nnmeter::prediction r = f.p.predict(f.g);
    sum += r.latency_ms;
    kernels = r.detected.kernels.size();
    benchmark::DoNotOptimize(sum);
  }
  per_kernel_counter(state, kernels);
}
BENCHMARK(BM_predict_graph)->Unit(benchmark::kMicrosecond);

void BM_latency_graph(benchmark::State& state) {
  const fixture& f = fx();
  double sum = 0;
  std::size_t kernels = 0;
  for (auto _ : state) {
    const nnmeter::latency_summary r = f.p.latency(f.g);
    sum += r.latency_ms;
    kernels = r.kernels;
    benchmark::DoNotOptimize(sum);
  }
  per_kernel_counter(state, kernels);
}
BENCHMARK(BM_latency_graph)->Unit(benchmark::kMicrosecond);

void BM_detect_only(benchmark::State& state) {
  const fixture& f = fx();
  const nnmeter::rule_set& rules = f.p.rules();
  std::size_t kernels = 0;
  for (auto _ : state) {
    const nnmeter::detection d = nnmeter::detect(f.g, rules);
    kernels = d.kernels.size();
    benchmark::DoNotOptimize(kernels);
  }
  per_kernel_counter(state, kernels);
}
BENCHMARK(BM_detect_only)->Unit(benchmark::kMicrosecond);

void BM_features_and_forests(benchmark::State& state) {
  const fixture& f = fx();
  const nnmeter::detection d = nnmeter::detect(f.g, f.p.rules());
  double sum = 0;
  for (auto _ : state) {
    for (const nnmeter::kernel& k : d.kernels) sum += f.p.predict_kernel(k).latency_ms;
    benchmark::DoNotOptimize(sum);
  }
  per_kernel_counter(state, d.kernels.size());
}
BENCHMARK(BM_features_and_forests)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
