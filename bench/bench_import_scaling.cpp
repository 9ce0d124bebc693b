// Import time against graph size: every importer must be linear in the node count (issue 8).
// Each case generates a model of n nodes in memory (outside the timed loop) and times its
// import, for n = 10^4, 10^5, 10^6; after the runs, the program prints the ratio of the CPU
// times of consecutive sizes ("per decade", the median with --benchmark_repetitions): linear
// import gives about 10, and the acceptance bound is 12 (quadratic import gives about 100).
//
// Cases (add new importers to import_cases() below; nothing else needs to change):
//   ir_chain    nn-Meter IR: input -> relu -> relu -> ... (n nodes in a line)
//   ir_fanout   nn-Meter IR: one input read by n - 1 relu nodes (one tensor, n - 1 readers)
//
// nnmeter-bench-optional: onnx
//   (bench/CMakeLists.txt: nnmeter::onnx is linked when it exists and NNMETER_BENCH_HAVE_ONNX
//   says whether it does; ONNX cases go under #if NNMETER_BENCH_HAVE_ONNX.)
//
// Run: build/bench/bench_import_scaling [--benchmark_repetitions=3] [--benchmark_filter=ir_]
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

/// One importer on one family of generated models.
struct import_case {
  std::string name;
  /// The model of n nodes, as the importer reads it (file content, in memory).
  std::function<std::string(std::size_t n)> make;
  /// Imports the model; returns the node count of the graph (checked against n).
  std::function<std::size_t(const std::string& model)> import;
};

// ---- nn-Meter IR ------------------------------------------------------------------------------

std::string ir_node(const std::string& name, const std::string& type, const std::string& inbound,
                    const std::string& shape) {
  std::string s = "\"" + name + "\": {\"inbounds\": [";
  if (!inbound.empty()) s += "\"" + inbound + "\"";
  s += "], \"outbounds\": [], \"attr\": {\"name\": \"" + name + "\", \"type\": \"" + type +
       "\", \"input_shape\": [";
  if (!inbound.empty()) s += shape;
  s += "], \"output_shape\": [" + shape + "], \"attr\": {}}}";
  return s;
}

/// n nodes: an input, then n - 1 relus, each reading the previous node (chain) or the input
/// (fan-out).
std::string ir_model(std::size_t n, bool fanout) {
  const std::string shape = "[1, 8, 8, 16]";
  std::string t = "{\n" + ir_node("input", "Placeholder", "", shape);
  t.reserve(n * 190);
  for (std::size_t i = 1; i < n; ++i) {
    const std::string in = fanout || i == 1 ? std::string("input") : "relu_" + std::to_string(i - 1);
    t += ",\n" + ir_node("relu_" + std::to_string(i), "Relu", in, shape);
  }
  return t + "\n}\n";
}

std::size_t import_ir(const std::string& text) {
  const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(text, "generated.ir.json");
  return g.num_nodes();
}

// ---- the cases --------------------------------------------------------------------------------

std::vector<import_case> import_cases() {
  std::vector<import_case> cases;
  cases.push_back({"ir_chain", [](std::size_t n) { return ir_model(n, false); }, import_ir});
  cases.push_back({"ir_fanout", [](std::size_t n) { return ir_model(n, true); }, import_ir});
#if NNMETER_BENCH_HAVE_ONNX
  // ONNX cases: cases.push_back({"onnx_chain", make, import}); ...
#endif
  return cases;
}

constexpr std::size_t sizes[] = {10000, 100000, 1000000};

void run_case(benchmark::State& state, const import_case& c) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string model = c.make(n);
  for (auto _ : state) {
    const std::size_t nodes = c.import(model);
    benchmark::DoNotOptimize(nodes);
    if (nodes != n) {
      state.SkipWithError("the imported graph does not have n nodes");
      break;
    }
  }
  state.counters["nodes"] = static_cast<double>(n);
  state.counters["bytes"] = static_cast<double>(model.size());
  state.counters["nodes_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

/// The console reporter, plus the ratio per decade of each case's times once all ran.
class scaling_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      // Plain runs, or the median aggregate when repeated.
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      const std::string& family = r.run_name.function_name;  // the case
      const auto it = r.counters.find("nodes");
      if (it == r.counters.end()) continue;
      // CPU time: the import is single-threaded, and CPU time does not count the time a busy
      // machine gives to other processes.
      times_[family][static_cast<std::size_t>(it->second.value)] = r.GetAdjustedCPUTime();
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nratio per decade (CPU time(10n) / CPU time(n); linear ~10, bound 12):\n");
    for (const auto& [family, by_n] : times_) {
      std::printf("  %-12s", family.c_str());
      const double* prev = nullptr;
      std::size_t prev_n = 0;
      for (const auto& [n, t] : by_n) {
        if (prev != nullptr && n == prev_n * 10)
          std::printf("  %zu->%zu: %.2f%s", prev_n, n, t / *prev, t / *prev > 12.0 ? " (> 12!)" : "");
        prev = &t;
        prev_n = n;
      }
      std::printf("\n");
    }
  }

 private:
  std::map<std::string, std::map<std::size_t, double>> times_;
};

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<import_case> cases = import_cases();
  for (const import_case& c : cases) {
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
        c.name.c_str(), [&c](benchmark::State& s) { run_case(s, c); });
    for (std::size_t n : sizes) b->Arg(static_cast<std::int64_t>(n));
    b->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  scaling_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
