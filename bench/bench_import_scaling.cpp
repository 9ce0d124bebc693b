// Import time against graph size: every importer must be linear in the node count (issue 8).
// Each case generates a model of n nodes in memory (outside the timed loop) and times its
// import, for n = 10^4, 10^5, 10^6; after the runs, the program prints the ratio of the CPU
// times of consecutive sizes ("per decade", the median with --benchmark_repetitions): linear
// import gives about 10, and the acceptance bound is 12 (quadratic import gives about 100).
//
// Cases (add new importers to import_cases() below; nothing else needs to change):
//   ir_chain    nn-Meter IR: input -> relu -> relu -> ... (n nodes in a line)
//   ir_fanout   nn-Meter IR: one input read by n - 1 relu nodes (one tensor, n - 1 readers)
//   onnx_chain  ONNX (opset 13): graph input x [1, 8, 8, 16] -> Relu -> Relu -> ... (n Relu
//               nodes; x is a graph input, not a node, so the graph has n + 1 nodes)
//   onnx_fanout ONNX (opset 13): x read by n Relu nodes (n + 1 graph nodes)
// The ONNX models are serialized once and imported from the bytes (import_onnx_from_memory:
// protobuf parse, ONNX shape inference, the project's import), as `--onnx` reads a file.
//
// nnmeter-bench-optional: onnx
//   (bench/CMakeLists.txt: nnmeter::onnx is linked when it exists and NNMETER_BENCH_HAVE_ONNX
//   says whether it does; ONNX cases go under #if NNMETER_BENCH_HAVE_ONNX.)
//
// Run: build/bench/bench_import_scaling [--benchmark_repetitions=3] [--benchmark_filter=ir_]
//      build/bench/bench_import_scaling --write-models=<dir>
//        writes every case's models to <dir>/<case>_<n><ext> (e.g. ir_chain_100000.ir.json,
//        onnx_fanout_1000000.onnx) and exits without timing anything, so that the same models
//        can be given to the `nnmeter` program (bench/import_peak_rss.sh measures its peak RSS).
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#if NNMETER_BENCH_HAVE_ONNX
#include <nnmeter/io/onnx_import.hpp>
#include <onnx/onnx_pb.h>
#endif

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
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
  /// The file name extension of the model (--write-models).
  std::string ext;
  /// The model of n nodes, as the importer reads it (file content, in memory).
  std::function<std::string(std::size_t n)> make;
  /// Imports the model; returns the node count of the graph (checked against `nodes(n)`).
  std::function<std::size_t(const std::string& model)> import;
  /// The node count the imported graph must have.
  std::size_t (*nodes)(std::size_t n) = [](std::size_t n) { return n; };
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

// ---- ONNX -------------------------------------------------------------------------------------

#if NNMETER_BENCH_HAVE_ONNX
/// n Relu nodes on x [1, 8, 8, 16], each reading the previous one (chain) or x (fan-out),
/// serialized.
std::string onnx_model(std::size_t n, bool fanout) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("bench_import_scaling");
  onnx::OperatorSetIdProto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(fanout ? "fanout" : "chain");
  onnx::ValueInfoProto* x = g->add_input();
  x->set_name("x");
  onnx::TypeProto_Tensor* tt = x->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : {1, 8, 8, 16}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  for (std::size_t i = 0; i < n; ++i) {
    onnx::NodeProto* nd = g->add_node();
    const std::string id = std::to_string(i);
    nd->set_name("relu_" + id);
    nd->set_op_type("Relu");
    nd->add_input(fanout || i == 0 ? std::string("x") : "y_" + std::to_string(i - 1));
    nd->add_output("y_" + id);
  }
  g->add_output()->set_name("y_" + std::to_string(n - 1));
  std::string bytes;
  m.SerializeToString(&bytes);
  return bytes;
}

std::size_t import_onnx_bytes(const std::string& bytes) {
  const nnmeter::io::onnx_import_result r =
      nnmeter::io::import_onnx_from_memory(bytes.data(), bytes.size(), {}, "generated.onnx");
  return r.graph.num_nodes();
}
#endif

// ---- the cases --------------------------------------------------------------------------------

std::vector<import_case> import_cases() {
  std::vector<import_case> cases;
  cases.push_back({"ir_chain", ".ir.json", [](std::size_t n) { return ir_model(n, false); }, import_ir});
  cases.push_back({"ir_fanout", ".ir.json", [](std::size_t n) { return ir_model(n, true); }, import_ir});
#if NNMETER_BENCH_HAVE_ONNX
  // The graph input is a node of the imported graph: n Relus give n + 1 nodes.
  const auto plus_input = [](std::size_t n) { return n + 1; };
  cases.push_back({"onnx_chain", ".onnx", [](std::size_t n) { return onnx_model(n, false); },
                   import_onnx_bytes, plus_input});
  cases.push_back({"onnx_fanout", ".onnx", [](std::size_t n) { return onnx_model(n, true); },
                   import_onnx_bytes, plus_input});
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
    if (nodes != c.nodes(n)) {
      state.SkipWithError("the imported graph does not have the expected node count");
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

/// --write-models=<dir>: every case's model of every size, as a file.
int write_models(const std::string& dir) {
  for (const import_case& c : import_cases())
    for (std::size_t n : sizes) {
      const std::string path = dir + "/" + c.name + "_" + std::to_string(n) + c.ext;
      const std::string model = c.make(n);
      std::FILE* f = std::fopen(path.c_str(), "wb");
      bool ok = f != nullptr && std::fwrite(model.data(), 1, model.size(), f) == model.size();
      if (f != nullptr && std::fclose(f) != 0) ok = false;
      if (!ok) {
        std::fprintf(stderr, "bench_import_scaling: cannot write %s\n", path.c_str());
        return 1;
      }
      std::printf("%s  %zu bytes\n", path.c_str(), model.size());
    }
  return 0;
}

int main(int argc, char** argv) {
  const std::string write_flag = "--write-models=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(write_flag, 0) == 0)
      return write_models(std::string(argv[i]).substr(write_flag.size()));
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
