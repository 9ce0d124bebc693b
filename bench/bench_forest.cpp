// Forest evaluation cost: nnmeter::evaluate on a kernel-sized forest (300 trees, depth 8, 16
// features), single thread. Run: build/bench/bench_forest (prints the median of 7 repetitions).
// See docs/forests.md for the measured numbers and how they were taken.
// SPDX-License-Identifier: MIT
#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/forest.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

constexpr std::uint32_t num_features = 16;
constexpr std::size_t num_trees = 300;
constexpr int depth = 8;
constexpr std::size_t num_rows = 1024;  // a power of two: rows are cycled with a mask

/// Random forest in breadth-first layout. `complete`: every tree has 2^depth leaves (the worst
/// case for a depth-8 model, 511 nodes per tree); otherwise trees stop early at random, closer to
/// what XGBoost trains on a few thousand samples.
nnmeter::forest make_forest(bool complete, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  nnmeter::forest f;
  f.num_features = num_features;
  f.base_score = 0.5f;
  for (std::size_t t = 0; t < num_trees; ++t) {
    const auto base = f.left.size();
    f.tree_roots.push_back(static_cast<std::uint32_t>(base));
    std::vector<int> level{0};  // level of each node of this tree, in breadth-first order
    for (std::size_t i = 0; i < level.size(); ++i) {
      const bool split = level[i] < depth && (complete || level[i] < 3 || u(rng) < 0.75f);
      if (split) {
        f.left.push_back(static_cast<std::int32_t>(base + level.size()));
        f.feature.push_back(static_cast<std::uint32_t>(rng() % num_features));
        f.split_value.push_back(u(rng));
        f.default_left.push_back(static_cast<std::uint8_t>(rng() & 1u));
        level.push_back(level[i] + 1);
        level.push_back(level[i] + 1);
      } else {
        f.left.push_back(-1);
        f.feature.push_back(0);
        f.split_value.push_back(u(rng) - 0.5f);
        f.default_left.push_back(0);
      }
    }
  }
  f.validate();
  return f;
}

/// num_rows feature vectors in [0, 1); with `nan`, one missing feature per row.
std::vector<float> make_rows(bool nan) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(num_rows * num_features);
  for (float& v : x) v = u(rng);
  if (nan) {
    for (std::size_t r = 0; r < num_rows; ++r)
      x[r * num_features + r % num_features] = std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

const nnmeter::forest& complete_forest() {
  static const nnmeter::forest f = make_forest(true, 1);
  return f;
}
const nnmeter::forest& irregular_forest() {
  static const nnmeter::forest f = make_forest(false, 1);
  return f;
}

/// Average node visits (internal nodes passed + the leaf) per evaluation over the rows.
double visits_per_call(const nnmeter::forest_view& v, const std::vector<float>& rows) {
  std::size_t visits = 0;
  for (std::size_t r = 0; r < num_rows; ++r) {
    const float* x = rows.data() + r * num_features;
    for (std::size_t t = 0; t < v.num_trees; ++t) {
      std::size_t n = v.tree_roots[t];
      ++visits;
      while (v.left[n] >= 0) {
        const float xv = x[v.feature[n]];
        const bool go_left = xv < v.split_value[n] || (xv != xv && v.default_left[n] != 0);
        n = static_cast<std::size_t>(v.left[n] + (go_left ? 0 : 1));
        ++visits;
      }
    }
  }
  return static_cast<double>(visits) / static_cast<double>(num_rows);
}

/// Evaluates `f` on `rows`, cycling through them (row_mask 0: always the first row, so the
/// visited nodes stay in cache and only the walk itself is measured).
void run(benchmark::State& state, const nnmeter::forest& f, const std::vector<float>& rows,
         std::size_t row_mask) {
  const nnmeter::forest_view v = f.view();
  std::size_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nnmeter::evaluate(v, rows.data() + r * num_features));
    r = (r + 1) & row_mask;
  }
  state.counters["node_visits"] = visits_per_call(v, rows);
  state.counters["ns_per_visit"] =
      benchmark::Counter(visits_per_call(v, rows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void complete_varying_rows(benchmark::State& state) {
  static const std::vector<float> rows = make_rows(false);
  run(state, complete_forest(), rows, num_rows - 1);
}
void complete_same_row(benchmark::State& state) {
  static const std::vector<float> rows = make_rows(false);
  run(state, complete_forest(), rows, 0);
}
void complete_varying_rows_nan(benchmark::State& state) {
  static const std::vector<float> rows = make_rows(true);
  run(state, complete_forest(), rows, num_rows - 1);
}
void irregular_varying_rows(benchmark::State& state) {
  static const std::vector<float> rows = make_rows(false);
  run(state, irregular_forest(), rows, num_rows - 1);
}

void complete_varying_rows_double(benchmark::State& state) {
  static const std::vector<float> rows_f = make_rows(false);
  static const std::vector<double> rows(rows_f.begin(), rows_f.end());
  const nnmeter::forest_view v = complete_forest().view();
  std::size_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nnmeter::evaluate(v, rows.data() + r * num_features));
    r = (r + 1) & (num_rows - 1);
  }
}

/// The plain one-tree-at-a-time walk, for comparison with the interleaved evaluator.
void complete_varying_rows_tree_by_tree(benchmark::State& state) {
  static const std::vector<float> rows = make_rows(false);
  const nnmeter::forest_view v = complete_forest().view();
  std::size_t r = 0;
  for (auto _ : state) {
    const float* x = rows.data() + r * num_features;
    float acc = v.base_score;
    for (std::size_t t = 0; t < v.num_trees; ++t) acc += nnmeter::evaluate_tree(v, t, x);
    benchmark::DoNotOptimize(acc);
    r = (r + 1) & (num_rows - 1);
  }
}

/// Run-time validation of the whole complete forest (153,300 nodes).
void complete_validate(benchmark::State& state) {
  const nnmeter::forest_view v = complete_forest().view();
  for (auto _ : state) benchmark::DoNotOptimize(nnmeter::validate(v));
}

}  // namespace

#define NNMETER_FOREST_BENCH(fn) \
  BENCHMARK(fn)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kNanosecond)

NNMETER_FOREST_BENCH(complete_varying_rows);
NNMETER_FOREST_BENCH(complete_same_row);
NNMETER_FOREST_BENCH(complete_varying_rows_nan);
NNMETER_FOREST_BENCH(complete_varying_rows_double);
NNMETER_FOREST_BENCH(irregular_varying_rows);
NNMETER_FOREST_BENCH(complete_varying_rows_tree_by_tree);
BENCHMARK(complete_validate)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
