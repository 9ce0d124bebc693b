// The prediction pipeline with forests as XGBoost really trains them: for every kernel kind, 300
// boosting rounds of max_depth 8 on 3,000 synthetic kernel configurations (nn-Meter features,
// a FLOP/byte-shaped latency with noise). Compare bench_predict, which uses complete random
// depth-8 trees (the worst case). Training happens once, before the timed loops.
// SPDX-License-Identifier: MIT
#include <benchmark/benchmark.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + XGBGetLastError());
}

// nn-Meter's fused type that feeds each kind's features.
const char* op_of(nnmeter::kernel_kind k) {
  switch (k) {
    case nnmeter::kernel_kind::global_avgpool: return "gap";
    case nnmeter::kernel_kind::addrelu: return "add-relu";
    case nnmeter::kernel_kind::bnrelu: return "bn-relu";
    default: return nnmeter::to_string(k).data();
  }
}

// A random kernel configuration of kind k and a plausible latency for it (ms).
nnmeter::kernel random_kernel(nnmeter::kernel_kind kind, std::mt19937& rng, double& latency) {
  const std::int64_t hws[] = {7, 14, 28, 56, 112, 224};
  const std::int64_t chs[] = {8, 16, 24, 32, 48, 64, 96, 120, 160, 240, 320, 480, 576, 960};
  const std::int64_t kss[] = {1, 3, 5, 7};
  std::uniform_int_distribution<int> hw_i(0, 5), ch_i(0, 13), ks_i(0, 3), s_i(1, 2);
  const std::int64_t h = hws[hw_i(rng)], cin = chs[ch_i(rng)], cout = chs[ch_i(rng)];
  const std::int64_t ks = kss[ks_i(rng)], s = s_i(rng);
  nnmeter::kernel k;
  k.op = op_of(kind);
  k.kind = kind;
  k.input_tensors = {{1, h, h, cin}};
  if (kind == nnmeter::kernel_kind::add || kind == nnmeter::kernel_kind::addrelu)
    k.input_tensors.push_back({1, h, h, cin});
  if (kind == nnmeter::kernel_kind::concat) k.input_tensors.push_back({1, h, h, cout});
  if (kind == nnmeter::kernel_kind::fc) k.input_tensors = {{1, cin}};
  if (k.input_tensors[0].rank() == 4) {
    k.inputh = h;
    k.inputw = h;
  }
  k.cin = cin;
  k.cout = kind == nnmeter::kernel_kind::dwconv_bn_relu ? cin : cout;
  k.ks = std::array<std::int64_t, 2>{ks, ks};
  k.strides = std::array<std::int64_t, 2>{s, s};
  const double hw = static_cast<double>(h * h);
  double work = hw * static_cast<double>(cin);
  if (kind == nnmeter::kernel_kind::conv_bn_relu)
    work *= static_cast<double>(cout * ks * ks) / static_cast<double>(s * s);
  if (kind == nnmeter::kernel_kind::dwconv_bn_relu) work *= static_cast<double>(ks * ks) / static_cast<double>(s * s);
  if (kind == nnmeter::kernel_kind::fc) work = static_cast<double>(cin * cout);
  std::lognormal_distribution<double> noise(0.0, 0.05);
  latency = (0.01 + work * 2e-8) * noise(rng);
  return k;
}

nnmeter::forest train(nnmeter::kernel_kind kind, std::uint32_t seed) {
  const auto nf = nnmeter::feature_count(kind, nnmeter::feature_set::nnmeter);
  std::mt19937 rng(seed);
  std::vector<float> x;
  std::vector<float> y;
  while (y.size() < 3000) {
    double lat = 0;
    const nnmeter::kernel k = random_kernel(kind, rng, lat);
    const nnmeter::feature_vector f = nnmeter::features(k, nnmeter::feature_set::nnmeter);
    if (f.size() != nf) continue;
    for (double v : f) x.push_back(static_cast<float>(v));
    y.push_back(static_cast<float>(lat));
  }
  DMatrixHandle d = nullptr;
  check(XGDMatrixCreateFromMat(x.data(), y.size(), nf, NAN, &d), "XGDMatrixCreateFromMat");
  check(XGDMatrixSetFloatInfo(d, "label", y.data(), y.size()), "XGDMatrixSetFloatInfo");
  BoosterHandle b = nullptr;
  check(XGBoosterCreate(&d, 1, &b), "XGBoosterCreate");
  const char* params[][2] = {{"max_depth", "8"}, {"eta", "0.1"}, {"nthread", "1"},
                             {"tree_method", "hist"}, {"seed", "1"}};
  for (const auto& p : params) check(XGBoosterSetParam(b, p[0], p[1]), "XGBoosterSetParam");
  for (int i = 0; i < 300; ++i) check(XGBoosterUpdateOneIter(b, i, d), "XGBoosterUpdateOneIter");
  bst_ulong len = 0;
  const char* buf = nullptr;
  check(XGBoosterSaveModelToBuffer(b, R"({"format": "json"})", &len, &buf), "SaveModelToBuffer");
  nnmeter::forest f = nnmeter::io::read_xgboost_json(std::string(buf, len), "trained");
  XGBoosterFree(b);
  XGDMatrixFree(d);
  return f;
}

struct fixture {
  nnmeter::graph g;
  nnmeter::predictor p;
  std::size_t nodes = 0;
  fixture() {
    g = nnmeter::io::load_nnmeter_ir(std::string(NNMETER_SOURCE_DIR) +
                                     "/tests/data/mobilenetv3small_0.ir.json");
    nnmeter::predictor_info info;
    info.name = "bench-trained";
    info.features = nnmeter::feature_set::nnmeter;
    p = nnmeter::predictor(info, nnmeter::default_rules());
    for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
      const auto k = static_cast<nnmeter::kernel_kind>(i);
      if (nnmeter::feature_count(k, nnmeter::feature_set::nnmeter) == 0) continue;
      nnmeter::forest f = train(k, static_cast<std::uint32_t>(i));
      nodes += f.num_nodes();
      p.set_forest(k, std::move(f));
    }
  }
};

const fixture& fx() {
  static const fixture f;
  return f;
}

void BM_predict_graph_trained(benchmark::State& state) {
  const fixture& f = fx();
  double sum = 0;
  std::size_t kernels = 0;
  for (auto _ : state) {
    const nnmeter::prediction r = f.p.predict(f.g);
    sum += r.latency_ms;
    kernels = r.detected.kernels.size();
    benchmark::DoNotOptimize(sum);
  }
  state.counters["kernels"] = static_cast<double>(kernels);
  state.counters["forest_nodes_per_kind"] = static_cast<double>(f.nodes) / 16.0;
  // Seconds per kernel (printed with an SI prefix: 2u = 2 microseconds).
  state.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_predict_graph_trained)->Unit(benchmark::kMicrosecond);

// The same prediction through predictor::latency (total only, per-thread reused workspace):
// detection + features + forests, nothing allocated once warm.
void BM_latency_graph_trained(benchmark::State& state) {
  const fixture& f = fx();
  double sum = 0;
  std::size_t kernels = 0;
  for (auto _ : state) {
    const nnmeter::latency_summary r = f.p.latency(f.g);
    sum += r.latency_ms;
    kernels = r.kernels;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["kernels"] = static_cast<double>(kernels);
  state.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_latency_graph_trained)->Unit(benchmark::kMicrosecond);

// predict(g, out): the breakdown too, into a reused prediction.
void BM_predict_into_graph_trained(benchmark::State& state) {
  const fixture& f = fx();
  nnmeter::prediction out;
  double sum = 0;
  for (auto _ : state) {
    f.p.predict(f.g, out);
    sum += out.latency_ms;
    benchmark::DoNotOptimize(sum);
  }
  const auto kernels = out.detected.kernels.size();
  state.counters["kernels"] = static_cast<double>(kernels);
  state.counters["time_per_kernel"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kernels),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_predict_into_graph_trained)->Unit(benchmark::kMicrosecond);

// Its two halves: detection in a reused kernel_detector, and features + forests of the
// detected kernels (predict(detection) on a copy of the detection, copy excluded).
void BM_detect_reused_trained(benchmark::State& state) {
  const fixture& f = fx();
  nnmeter::kernel_detector det;
  nnmeter::detect_options o;
  o.costs = false;
  std::size_t kernels = 0;
  for (auto _ : state) {
    kernels = det.run(f.g, f.p.rules(), o).kernels.size();
    benchmark::DoNotOptimize(kernels);
  }
  state.counters["kernels"] = static_cast<double>(kernels);
}
BENCHMARK(BM_detect_reused_trained)->Unit(benchmark::kMicrosecond);

void BM_features_and_forests_trained(benchmark::State& state) {
  const fixture& f = fx();
  const nnmeter::detection d = nnmeter::detect(f.g, f.p.rules());
  double sum = 0;
  for (auto _ : state) {
    state.PauseTiming();
    nnmeter::detection copy = d;
    state.ResumeTiming();
    sum += f.p.predict(std::move(copy)).latency_ms;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["kernels"] = static_cast<double>(d.kernels.size());
}
BENCHMARK(BM_features_and_forests_trained)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
