// ONNX import time of real models (torchvision exports from tools/model_zoo/export_torchvision.py).
//
//   NNMETER_ONNX_MODELS=<folder> build/bench/bench_onnx_import [--benchmark_filter=...]
//
// For every <model>_op13.onnx in the folder (NNMETER_ONNX_BENCH_OPSET picks another opset):
//   parse/<model>             protobuf parse of the file's bytes only (onnx::ModelProto)
//   import/<model>/weights    io::import_onnx_from_memory on the file's bytes: parse + import
//   import/<model>/no_weights the same model with every float initializer of more than 64
//                             elements replaced by an all-zero *sparse* initializer of the same
//                             dims (nnmeter's structure-only form, see onnx_write_options::
//                             with_weights): same graph, same shapes, same folding work, but no
//                             weight bytes to parse or copy. Small float and all integer
//                             initializers stay dense (shape constants, clip bounds, scales).
// Bytes are read once, before timing, so the numbers exclude disk I/O. Each benchmark repeats 5
// times and reports mean / median / stddev (milliseconds). Without NNMETER_ONNX_MODELS, or with
// no model in the folder, it prints a note and exits 0.
// The program has its own main() rather than BENCHMARK_MAIN(): benchmarks are registered at run
// time, one per file found.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include <benchmark/benchmark.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
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

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* dir = std::getenv("NNMETER_ONNX_MODELS");
  if (dir == nullptr || *dir == '\0') {
    std::printf(
        "bench_onnx_import: NNMETER_ONNX_MODELS is not set; nothing to measure (export "
        "models with tools/model_zoo/export_torchvision.py)\n");
    return 0;
  }
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
    std::printf("bench_onnx_import: no *%s in %s; nothing to measure\n", suffix.c_str(), dir);
    return 0;
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
    models().push_back(std::move(m));
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
