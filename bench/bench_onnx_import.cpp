// ONNX import time: fan-out scaling (always) and real models (torchvision exports from
// tools/model_zoo/export_torchvision.py, when a folder is given).
//
//   build/bench/bench_onnx_import [--benchmark_filter=...]
//   NNMETER_ONNX_MODELS=<folder> build/bench/bench_onnx_import
//
// Fan-out (issue 8: import must be linear in the number of readers of one tensor), models built
// in memory with the ONNX protobuf API, timed from the parsed ModelProto (import_onnx(model)):
//   fanout/input/<n>        one graph input x [1, 8] read by n Relu nodes (each one a graph
//                           node, inferred by ONNX shape inference on its own)
//   fanout/initializer/<n>  x read by n Mul nodes whose second operand is one shared [8]
//                           initializer, so that both tensors have n readers
// for n = 10^4, 10^5, 10^6. After the runs, the program prints the time per reader and the
// ratio of the median times of successive decades (linear: 10; the bound: <= 12).
// Each fan-out size runs 3 repetitions of one iteration; the time is the import's, its own
// tables freed included, without freeing the returned result.
//
// Models: for every <model>_op13.onnx in the folder (NNMETER_ONNX_BENCH_OPSET picks another):
//   parse/<model>             protobuf parse of the file's bytes only (onnx::ModelProto)
//   import/<model>/weights    io::import_onnx_from_memory on the file's bytes: parse + import
//   import/<model>/no_weights the same model with every float initializer of more than 64
//                             elements replaced by an all-zero *sparse* initializer of the same
//                             dims (nnmeter's structure-only form, see onnx_write_options::
//                             with_weights): same graph, same shapes, same folding work, but no
//                             weight bytes to parse or copy. Small float and all integer
//                             initializers stay dense (shape constants, clip bounds, scales).
//   predict/<model>/weights, predict/<model>/no_weights
//                             file bytes -> prediction: the import above, then the shipped
//                             default predictor's latency() (predictors/zen4cpu_xnnpack2022,
//                             or the package folder NNMETER_BENCH_PREDICTOR names)
// Bytes are read once, before timing, so the numbers exclude disk I/O. Each benchmark repeats 5
// times and reports mean / median / stddev (milliseconds). Without NNMETER_ONNX_MODELS only the
// fan-out benchmarks run.
// The program has its own main() rather than BENCHMARK_MAIN(): benchmarks are registered at run
// time, one per file found, and the fan-out ratios are printed at the end.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include <benchmark/benchmark.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

struct model_bytes {
  std::string name;
  std::string with_weights;
  std::string without_weights;
  std::size_t nodes = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Dense float initializers above 64 elements -> all-zero sparse initializers of the same dims.
std::string strip_weights(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return {};
  onnx::GraphProto* g = m.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> keep;
  for (onnx::TensorProto& t : *g->mutable_initializer()) {
    std::int64_t n = 1;
    for (auto d : t.dims()) n *= d;
    const bool is_float = t.data_type() == onnx::TensorProto::FLOAT ||
                          t.data_type() == onnx::TensorProto::FLOAT16 ||
                          t.data_type() == onnx::TensorProto::DOUBLE;
    if (!is_float || n <= 64) {
      *keep.Add() = t;
      continue;
    }
    onnx::SparseTensorProto* s = g->add_sparse_initializer();
    for (auto d : t.dims()) s->add_dims(d);
    onnx::TensorProto* v = s->mutable_values();
    v->set_name(t.name());
    v->set_data_type(t.data_type());
    v->add_dims(0);
    onnx::TensorProto* ix = s->mutable_indices();
    ix->set_name(t.name() + "/indices");
    ix->set_data_type(onnx::TensorProto::INT64);
    ix->add_dims(0);
  }
  g->mutable_initializer()->Swap(&keep);
  std::string out;
  m.SerializeToString(&out);
  return out;
}

std::vector<std::unique_ptr<model_bytes>>& models() {
  static std::vector<std::unique_ptr<model_bytes>> m;
  return m;
}

void bm_parse(benchmark::State& st, const model_bytes* m) {
  for (auto _ : st) {
    onnx::ModelProto p;
    if (!p.ParseFromString(m->with_weights)) st.SkipWithError("protobuf parse failed");
    benchmark::DoNotOptimize(p);
  }
  st.counters["MB"] = static_cast<double>(m->with_weights.size()) / 1e6;
}

void bm_import(benchmark::State& st, const model_bytes* m, bool weights) {
  const std::string& b = weights ? m->with_weights : m->without_weights;
  std::size_t nodes = 0;
  for (auto _ : st) {
    nnmeter::io::onnx_import_result r =
        nnmeter::io::import_onnx_from_memory(b.data(), b.size(), {}, m->name);
    nodes = r.graph.num_nodes();
    benchmark::DoNotOptimize(r);
  }
  st.counters["MB"] = static_cast<double>(b.size()) / 1e6;
  st.counters["nodes"] = static_cast<double>(nodes);
}

// The predictor of predict/<model>/...: the shipped default unless NNMETER_BENCH_PREDICTOR names
// another package folder. Null (with the reason) when it cannot be loaded.
const nnmeter::predictor* bench_predictor(std::string& problem) {
  static std::string why;
  static const std::unique_ptr<nnmeter::predictor> p = []() -> std::unique_ptr<nnmeter::predictor> {
    const char* env = std::getenv("NNMETER_BENCH_PREDICTOR");
    const std::string dir = env != nullptr && *env != '\0'
                                ? std::string(env)
                                : std::string(NNMETER_SOURCE_DIR) + "/predictors/zen4cpu_xnnpack2022";
    try {
      return std::make_unique<nnmeter::predictor>(nnmeter::io::load_predictor_package(dir));
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
  }();
  problem = why;
  return p.get();
}

void bm_predict(benchmark::State& st, const model_bytes* m, bool weights) {
  std::string problem;
  const nnmeter::predictor* p = bench_predictor(problem);
  if (p == nullptr) {
    st.SkipWithError(problem.c_str());
    return;
  }
  const std::string& b = weights ? m->with_weights : m->without_weights;
  nnmeter::latency_summary s;
  for (auto _ : st) {
    const nnmeter::io::onnx_import_result r =
        nnmeter::io::import_onnx_from_memory(b.data(), b.size(), {}, m->name);
    s = p->latency(r.graph);
    benchmark::DoNotOptimize(s);
  }
  st.counters["MB"] = static_cast<double>(b.size()) / 1e6;
  st.counters["kernels"] = static_cast<double>(s.kernels);
  st.counters["latency_ms"] = s.latency_ms;
}

// ------------------------------------------------------------------------------ fan-out

// x [1, 8] read by n nodes: Relu(x) (with_initializer = false) or Mul(x, w) with one shared
// initializer w [8].
std::unique_ptr<onnx::ModelProto> fanout_model(std::int64_t n, bool with_initializer) {
  auto m = std::make_unique<onnx::ModelProto>();
  m->set_ir_version(8);
  m->set_producer_name("bench_onnx_import");
  onnx::OperatorSetIdProto* o = m->add_opset_import();
  o->set_domain("");
  o->set_version(13);
  onnx::GraphProto* g = m->mutable_graph();
  g->set_name("fanout");
  onnx::ValueInfoProto* x = g->add_input();
  x->set_name("x");
  onnx::TypeProto_Tensor* tt = x->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_value(1);
  tt->mutable_shape()->add_dim()->set_dim_value(8);
  if (with_initializer) {
    onnx::TensorProto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(8);
    w->set_raw_data(std::string(8 * sizeof(float), '\0'));
  }
  for (std::int64_t i = 0; i < n; ++i) {
    onnx::NodeProto* nd = g->add_node();
    const std::string id = std::to_string(i);
    nd->set_name("reader_" + id);
    nd->set_op_type(with_initializer ? "Mul" : "Relu");
    nd->add_input("x");
    if (with_initializer) nd->add_input("w");
    nd->add_output("y_" + id);
  }
  g->add_output()->set_name("y_0");
  return m;
}

struct fanout_case {
  std::int64_t readers = 0;
  bool with_initializer = false;
  std::unique_ptr<onnx::ModelProto> model;
};

std::vector<std::unique_ptr<fanout_case>>& fanout_cases() {
  static std::vector<std::unique_ptr<fanout_case>> c;
  return c;
}

void bm_fanout(benchmark::State& st, fanout_case* c) {
  if (!c->model) c->model = fanout_model(c->readers, c->with_initializer);  // not timed
  std::size_t nodes = 0;
  for (auto _ : st) {
    auto r = std::make_unique<nnmeter::io::onnx_import_result>(
        nnmeter::io::import_onnx(*c->model, {}, "fanout.onnx"));
    benchmark::DoNotOptimize(r->graph);
    // Freeing the caller's result (10^6 graph nodes) is not import time.
    st.PauseTiming();
    nodes = r->graph.num_nodes();
    r.reset();
    st.ResumeTiming();
  }
  st.counters["readers"] = static_cast<double>(c->readers);
  st.counters["nodes"] = static_cast<double>(nodes);
}

// Collects the median real time of every fan-out run for the ratios printed at the end.
class fanout_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.aggregate_name == "median" && r.run_name.function_name.rfind("fanout/", 0) == 0)
        medians_[r.run_name.function_name] = r.GetAdjustedRealTime();  // in the run's unit
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    for (const char* kind : {"input", "initializer"}) {
      double prev = 0;
      std::int64_t prev_n = 0;
      for (std::int64_t n : {std::int64_t{10000}, std::int64_t{100000}, std::int64_t{1000000}}) {
        const auto it = medians_.find(std::string("fanout/") + kind + "/" + std::to_string(n));
        if (it == medians_.end()) continue;
        std::printf("fanout/%s: %8lld readers  %10.1f ms  %6.2f us/reader", kind,
                    static_cast<long long>(n), it->second,
                    it->second * 1e3 / static_cast<double>(n));
        if (prev > 0)
          std::printf("  ratio to %lld: %.2f", static_cast<long long>(prev_n), it->second / prev);
        std::printf("\n");
        prev = it->second;
        prev_n = n;
      }
    }
  }

 private:
  std::map<std::string, double> medians_;
};

void register_fanout() {
  for (bool init : {false, true}) {
    for (std::int64_t n : {std::int64_t{10000}, std::int64_t{100000}, std::int64_t{1000000}}) {
      auto c = std::make_unique<fanout_case>();
      c->readers = n;
      c->with_initializer = init;
      const std::string name =
          std::string("fanout/") + (init ? "initializer/" : "input/") + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), bm_fanout, c.get())
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->Repetitions(3)
          ->ReportAggregatesOnly(true);
      fanout_cases().push_back(std::move(c));
    }
  }
}

}  // namespace

namespace {

void register_models(const char* dir) {
  const char* op = std::getenv("NNMETER_ONNX_BENCH_OPSET");
  const std::string suffix = std::string("_op") + (op != nullptr && *op ? op : "13") + ".onnx";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string p = e.path().string();
    if (p.size() > suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::printf("bench_onnx_import: no *%s in %s; fan-out benchmarks only\n", suffix.c_str(), dir);
    return;
  }
  for (const std::string& f : files) {
    auto m = std::make_unique<model_bytes>();
    m->name = std::filesystem::path(f).filename().string();
    m->name = m->name.substr(0, m->name.size() - 5);
    m->with_weights = read_file(f);
    m->without_weights = strip_weights(m->with_weights);
    if (m->without_weights.empty()) {
      std::fprintf(stderr, "bench_onnx_import: cannot parse %s; skipped\n", f.c_str());
      continue;
    }
    const model_bytes* mp = m.get();
    // Large files (VGG: 530 MB) take seconds per import: one iteration per repetition.
    const bool large = m->with_weights.size() > 50'000'000;
    auto setup = [large](benchmark::internal::Benchmark* b) {
      b->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
      if (large) b->Iterations(1);
    };
    setup(benchmark::RegisterBenchmark(("parse/" + m->name).c_str(), bm_parse, mp));
    setup(benchmark::RegisterBenchmark(("import/" + m->name + "/weights").c_str(), bm_import, mp,
                                       true));
    setup(benchmark::RegisterBenchmark(("import/" + m->name + "/no_weights").c_str(), bm_import, mp,
                                       false));
    setup(benchmark::RegisterBenchmark(("predict/" + m->name + "/weights").c_str(), bm_predict,
                                       mp, true));
    setup(benchmark::RegisterBenchmark(("predict/" + m->name + "/no_weights").c_str(), bm_predict,
                                       mp, false));
    models().push_back(std::move(m));
  }
}
}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_fanout();
  const char* dir = std::getenv("NNMETER_ONNX_MODELS");
  if (dir == nullptr || *dir == '\0') {
    std::printf(
        "bench_onnx_import: NNMETER_ONNX_MODELS is not set; fan-out benchmarks only (export "
        "models with tools/model_zoo/export_torchvision.py)\n");
  } else {
    register_models(dir);
  }
  fanout_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
