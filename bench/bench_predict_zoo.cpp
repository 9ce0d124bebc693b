// Prediction time on already-imported graphs of every model-zoo family with the shipped default
// predictor (predictors/zen4cpu_xnnpack2022, or the package folder NNMETER_BENCH_PREDICTOR
// names): model 0 of seed 1 of each family (tools/model_zoo), the graph built before timing.
//   latency/<family>   predictor::latency(g): detection, features, forests, the sum (what a NAS
//                      loop calls); counters: kernels, time per kernel
//   predict/<family>   predictor::predict(g, out): the same with the per-kernel breakdown, into
//                      a reused prediction
//   build/<family>/predict  the graph built by the zoo generator, then predict(g): the cost of a
//                      fresh candidate in a NAS loop that builds graphs
// Each benchmark repeats 15 times and reports mean / median / stddev.
//   build/bench/bench_predict_zoo [--benchmark_filter=latency/]
// SPDX-License-Identifier: MIT
#include <benchmark/benchmark.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "model_zoo/zoo.hpp"

#include <cstdlib>
#include <memory>
#include <string>

namespace {

namespace zoo = nnmeter::zoo;

struct fixture {
  std::unique_ptr<nnmeter::predictor> p;
  std::string problem;
  fixture() {
    const char* env = std::getenv("NNMETER_BENCH_PREDICTOR");
    const std::string dir = env != nullptr && *env != '\0'
                                ? std::string(env)
                                : std::string(NNMETER_SOURCE_DIR) + "/predictors/zen4cpu_xnnpack2022";
    try {
      p = std::make_unique<nnmeter::predictor>(nnmeter::io::load_predictor_package(dir));
    } catch (const std::exception& e) {
      problem = dir + ": " + e.what();
    }
  }
};

const fixture& fx() {
  static const fixture f;
  return f;
}

void counters(benchmark::State& st, std::size_t kernels, std::size_t nodes) {
  st.counters["kernels"] = static_cast<double>(kernels);
  st.counters["nodes"] = static_cast<double>(nodes);
  st.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(st.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void bm_latency(benchmark::State& st, zoo::family f) {
  if (!fx().p) {
    st.SkipWithError(fx().problem.c_str());
    return;
  }
  const nnmeter::graph g = zoo::generate(f, 1, 0).graph;
  nnmeter::latency_summary s;
  for (auto _ : st) {
    s = fx().p->latency(g);
    benchmark::DoNotOptimize(s);
  }
  counters(st, s.kernels, g.num_nodes());
  st.counters["latency_ms"] = s.latency_ms;
}

void bm_predict(benchmark::State& st, zoo::family f) {
  if (!fx().p) {
    st.SkipWithError(fx().problem.c_str());
    return;
  }
  const nnmeter::graph g = zoo::generate(f, 1, 0).graph;
  nnmeter::prediction out;
  for (auto _ : st) {
    fx().p->predict(g, out);
    benchmark::DoNotOptimize(out.latency_ms);
  }
  counters(st, out.detected.kernels.size(), g.num_nodes());
}

void bm_build_predict(benchmark::State& st, zoo::family f) {
  if (!fx().p) {
    st.SkipWithError(fx().problem.c_str());
    return;
  }
  nnmeter::latency_summary s;
  std::size_t nodes = 0;
  for (auto _ : st) {
    const zoo::zoo_model m = zoo::generate(f, 1, 0);
    s = fx().p->latency(m.graph);
    nodes = m.graph.num_nodes();
    benchmark::DoNotOptimize(s);
  }
  counters(st, s.kernels, nodes);
}

int register_all() {
  for (zoo::family f : zoo::families()) {
    const std::string n(zoo::to_string(f));
    for (auto* b : {benchmark::RegisterBenchmark(("latency/" + n).c_str(), bm_latency, f),
                    benchmark::RegisterBenchmark(("predict/" + n).c_str(), bm_predict, f),
                    benchmark::RegisterBenchmark(("build/" + n + "/predict").c_str(),
                                                 bm_build_predict, f)})
      b->Unit(benchmark::kMicrosecond)->Repetitions(15)->ReportAggregatesOnly(true);
  }
  return 0;
}

const int registered = register_all();

}  // namespace
