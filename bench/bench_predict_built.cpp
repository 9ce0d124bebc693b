// The prediction pipeline with a predictor the builder really built on this machine
// (`nnmeter build-predictor` on XNNPACK, docs/builder.md "A full local build"): its forests,
// targets and feature set, on nn-Meter's MobileNetV3-small. The package is read from the folder
// named by NNMETER_BENCH_PREDICTOR (a results/<name>/ folder of a workspace); without it every
// benchmark reports an error saying so.
//   NNMETER_BENCH_PREDICTOR=ws/predictor_build/results/xnnpack_full build/bench/bench_predict_built
// SPDX-License-Identifier: MIT
#include <benchmark/benchmark.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

struct fixture {
  std::optional<nnmeter::predictor> p;
  nnmeter::graph g;
  std::string problem;
  fixture() {
    const char* dir = std::getenv("NNMETER_BENCH_PREDICTOR");
    if (dir == nullptr || *dir == '\0') {
      problem = "set NNMETER_BENCH_PREDICTOR to a built predictor package folder "
                "(<workspace>/predictor_build/results/<name>)";
      return;
    }
    try {
      p = nnmeter::io::load_predictor_package(dir);
      g = nnmeter::io::load_nnmeter_ir(std::string(NNMETER_SOURCE_DIR) +
                                       "/tests/data/mobilenetv3small_0.ir.json");
    } catch (const std::exception& e) {
      problem = e.what();
      p.reset();
    }
  }
};

const fixture& fx() {
  static const fixture f;
  return f;
}

void per_kernel_counter(benchmark::State& state, std::size_t kernels, std::size_t predicted) {
  state.counters["kernels"] = static_cast<double>(kernels);
  state.counters["predicted"] = static_cast<double>(predicted);
  state.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_latency_graph_built(benchmark::State& state) {
  const fixture& f = fx();
  if (!f.p) {
    state.SkipWithError(f.problem.c_str());
    return;
  }
  nnmeter::latency_summary s;
  for (auto _ : state) {
    s = f.p->latency(f.g);
    benchmark::DoNotOptimize(s.latency_ms);
  }
  per_kernel_counter(state, s.kernels, s.predicted);
  state.counters["latency_ms"] = s.latency_ms;
}
BENCHMARK(BM_latency_graph_built)->Unit(benchmark::kMicrosecond);

void BM_predict_graph_built(benchmark::State& state) {
  const fixture& f = fx();
  if (!f.p) {
    state.SkipWithError(f.problem.c_str());
    return;
  }
  std::size_t kernels = 0, predicted = 0;
  for (auto _ : state) {
    const nnmeter::prediction r = f.p->predict(f.g);
    kernels = r.detected.kernels.size();
    predicted = r.predicted;
    benchmark::DoNotOptimize(r.latency_ms);
  }
  per_kernel_counter(state, kernels, predicted);
}
BENCHMARK(BM_predict_graph_built)->Unit(benchmark::kMicrosecond);

}  // namespace
