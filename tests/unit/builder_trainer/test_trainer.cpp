// Tests for tools/builder/trainer/trainer.hpp: exactness against XGBoost, nn-Meter's metrics,
// the held-out split, error rows, bad input, determinism, and accuracy on synthetic latencies.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "builder/trainer/trainer.hpp"
#include "support/run_command.hpp"
#include "unit/builder_trainer/synthetic_latency.hpp"

namespace nb = nnmeter::builder;
using nnmeter::kernel_kind;

namespace {

std::uint32_t bits(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// Sampled configurations of `kind` and their synthetic latencies.
struct dataset {
  std::vector<nb::kernel_config> configs;
  std::vector<double> latency_ms;
};
dataset synthetic(kernel_kind kind, std::size_t n, std::uint64_t seed = 1,
                  const nnmeter_test::synthetic_device& dev = {}) {
  nb::sampler_options o;
  o.seed = seed;
  dataset d;
  d.configs = nb::sample_prior(kind, n, o);
  std::mt19937_64 rng(seed + 100);
  for (const nb::kernel_config& c : d.configs)
    d.latency_ms.push_back(nnmeter_test::noisy_latency_ms(c, rng, dev));
  return d;
}

nb::training_data data_of(kernel_kind kind, std::size_t n,
                          nnmeter::feature_set set = nnmeter::feature_set::extended,
                          std::uint64_t seed = 1) {
  const dataset d = synthetic(kind, n, seed);
  return nb::make_training_data(kind, d.configs, d.latency_ms, nnmeter::default_rules(), set);
}

// XGBoost's own prediction of the JSON model for the rows, through the raw C API.
std::vector<float> xgboost_of(const std::string& json, const std::vector<float>& rows,
                              std::size_t nf) {
  BoosterHandle b = nullptr;
  REQUIRE(XGBoosterCreate(nullptr, 0, &b) == 0);
  REQUIRE(XGBoosterLoadModelFromBuffer(b, json.data(), json.size()) == 0);
  DMatrixHandle m = nullptr;
  REQUIRE(XGDMatrixCreateFromMat(rows.data(), rows.size() / nf, nf,
                                 std::numeric_limits<float>::quiet_NaN(), &m) == 0);
  bst_ulong len = 0;
  const float* out = nullptr;
  REQUIRE(XGBoosterPredict(b, m, 0, 0, 0, &len, &out) == 0);
  std::vector<float> v(out, out + len);
  XGDMatrixFree(m);
  XGBoosterFree(b);
  return v;
}

// Every row of the data, plus rows with a feature exactly on a split threshold and one float
// step below it (where < versus <= decides).
std::vector<float> probe_rows(const nb::training_data& d, const nnmeter::forest& f) {
  std::vector<float> rows;
  const std::size_t nf = d.num_features();
  for (std::size_t i = 0; i < d.rows(); ++i)
    for (std::size_t j = 0; j < nf; ++j) rows.push_back(static_cast<float>(d.row(i)[j]));
  std::mt19937 rng(3);
  for (std::size_t n = 0, added = 0; n < f.num_nodes() && added < 600; ++n) {
    if (f.left[n] < 0) continue;
    const std::size_t base = (rng() % d.rows()) * nf;
    for (float v : {f.split_value[n], std::nextafter(f.split_value[n], -INFINITY)}) {
      for (std::size_t j = 0; j < nf; ++j) rows.push_back(rows[base + j]);
      rows[rows.size() - nf + f.feature[n]] = v;
    }
    ++added;
  }
  return rows;
}

void check_exact(const nb::training_data& d, const nb::train_result& r) {
  const std::size_t nf = d.num_features();
  REQUIRE(r.forest.num_features == nf);
  const std::vector<float> rows = probe_rows(d, r.forest);
  const std::vector<float> expected = xgboost_of(r.model_json, rows, nf);
  REQUIRE(expected.size() == rows.size() / nf);
  CHECK(nb::xgboost_predict(r.model_json, rows, nf) == expected);
  const nnmeter::forest_view v = r.forest.view();
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    mismatches += bits(nnmeter::evaluate(v, rows.data() + i * nf)) != bits(expected[i]) ? 1 : 0;
  CHECK(mismatches == 0);
  CHECK(expected.size() > d.rows());
}

std::string error_of(const nb::training_data& d, const nb::train_options& o = {}) {
  try {
    (void)nb::train_kernel_model(d, o);
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("trainer: the forest predicts exactly what XGBoost predicts") {
  const nb::training_data d = data_of(kernel_kind::conv_bn_relu, 400);
  SUBCASE("boosting, exact") { check_exact(d, nb::train_kernel_model(d)); }
  SUBCASE("boosting, hist, no weights, all data") {
    nb::train_options o;
    o.params.tree_method = "hist";
    o.params.weighting = nb::sample_weighting::none;
    o.fit = nb::final_fit::all_data;
    check_exact(d, nb::train_kernel_model(d, o));
  }
  SUBCASE("random forest") {
    nb::train_options o;
    o.params.mode = nb::booster_mode::random_forest;
    o.params.rounds = 50;
    o.params.max_depth = 10;
    o.params.colsample_bynode = 0.8;
    const nb::train_result r = nb::train_kernel_model(d, o);
    CHECK(r.forest.num_trees() == 50);
    check_exact(d, r);
  }
  SUBCASE("nn-Meter's feature set, 1/y weights") {
    const nb::training_data dn =
        data_of(kernel_kind::dwconv_bn_relu, 300, nnmeter::feature_set::nnmeter);
    nb::train_options o;
    o.params.weighting = nb::sample_weighting::inverse;
    check_exact(dn, nb::train_kernel_model(dn, o));
  }
}

TEST_CASE("trainer: the predictor sums the forest's milliseconds") {
  const dataset s = synthetic(kernel_kind::relu, 300);
  const nnmeter::rule_set& rules = nnmeter::default_rules();
  const nb::training_data d = nb::make_training_data(kernel_kind::relu, s.configs, s.latency_ms,
                                                     rules, nnmeter::feature_set::extended);
  const nb::train_result r = nb::train_kernel_model(d);
  nnmeter::predictor_info info;
  info.features = nnmeter::feature_set::extended;
  nnmeter::predictor p(info, rules);
  p.set_forest(kernel_kind::relu, r.forest);
  // Two relu kernels in one graph: the model latency is their sum.
  nnmeter::graph_builder b;
  const auto x = b.input({1, 28, 28, 32});
  (void)b.relu(b.conv(b.relu(x), 32, 3));
  const nnmeter::graph g = std::move(b).build();
  const nnmeter::prediction pr = p.predict(g);
  double relu_sum = 0;
  for (std::size_t i = 0; i < pr.kernels.size(); ++i) {
    if (pr.detected.kernels[i].kind != kernel_kind::relu) continue;
    CHECK(pr.kernels[i].status == nnmeter::kernel_status::predicted);
    relu_sum += pr.kernels[i].latency_ms;
  }
  CHECK(pr.latency_ms == relu_sum);
  // On a held-out configuration the predictor gives the forest's value for its features.
  const std::size_t t = r.split.test.front();
  const nnmeter::graph kg = nb::kernel_block_for(s.configs[t], rules).graph;
  const nnmeter::prediction one = p.predict(kg);
  REQUIRE(one.kernels.size() == 1);
  std::vector<float> row;
  for (std::size_t j = 0; j < d.num_features(); ++j) row.push_back(static_cast<float>(d.row(t)[j]));
  CHECK(one.latency_ms == static_cast<double>(xgboost_of(r.model_json, row, row.size())[0]));
  CHECK(one.latency_ms == r.test_predicted_ms.front());
  CHECK(one.latency_ms == doctest::Approx(s.latency_ms[t]).epsilon(0.2));  // in ms
}

TEST_CASE("latency metrics: nn-Meter's definitions, hand-computed") {
  // Relative errors 0.1, 0.05, 0.15 and 0, each exactly the double of the threshold.
  const nb::latency_metrics m = nb::compute_metrics({11, 21, 23, 40}, {10, 20, 20, 40});
  CHECK(m.n == 4);
  CHECK(m.rmse_ms == doctest::Approx(std::sqrt((1.0 + 1 + 9 + 0) / 4)));
  CHECK(m.rmspe == doctest::Approx(100 * std::sqrt((0.01 + 0.0025 + 0.0225 + 0) / 4)));
  CHECK(m.rmse_over_mean == doctest::Approx(std::sqrt(2.75) / 22.5));
  CHECK(m.within_5 == 0.5);    // 0.05 and 0 (<= is inclusive)
  CHECK(m.within_10 == 0.75);  // and 0.1
  CHECK(m.within_15 == 1.0);
  const nb::latency_metrics off = nb::compute_metrics({11.000001, 9}, {10, 10});
  CHECK(off.within_10 == 0.5);
  const nb::latency_metrics none = nb::compute_metrics({}, {});
  CHECK(none.n == 0);
  CHECK(std::isnan(none.rmspe));
  CHECK_THROWS_WITH((void)nb::compute_metrics({1}, {1, 2}), doctest::Contains("1 predictions"));
  CHECK_THROWS_WITH((void)nb::compute_metrics({1}, {0}), doctest::Contains("not a positive"));
}

TEST_CASE("held-out split: ceil(fraction * n) rows, seeded, disjoint") {
  const nb::row_split s = nb::holdout_split(101, 0.2, 10);
  CHECK(s.test.size() == 21);  // ceil(20.2)
  CHECK(s.train.size() == 80);
  std::set<std::size_t> all(s.test.begin(), s.test.end());
  all.insert(s.train.begin(), s.train.end());
  CHECK(all.size() == 101);
  CHECK(*all.rbegin() == 100);
  CHECK(std::is_sorted(s.test.begin(), s.test.end()));
  CHECK(nb::holdout_split(101, 0.2, 10).test == s.test);
  CHECK(nb::holdout_split(101, 0.2, 11).test != s.test);
  CHECK(nb::holdout_split(5, 0.0, 1).test.empty());
  CHECK(nb::holdout_split(2, 0.5, 1).test.size() == 1);
  CHECK_THROWS_WITH((void)nb::holdout_split(1, 0.2, 1), doctest::Contains("leave no training"));
  CHECK_THROWS_WITH((void)nb::holdout_split(10, 1.0, 1), doctest::Contains("must be in [0, 1)"));
  CHECK_THROWS_AS((void)nb::holdout_split(10, -0.1, 1), nnmeter::error);
}

TEST_CASE("trainer: held-out metrics and error rows for the adaptive rounds") {
  const nb::training_data d = data_of(kernel_kind::dwconv_bn_relu, 300);
  nb::train_options o;
  o.error_threshold = 0.02;  // strict, so that some rows are over it
  const nb::train_result r = nb::train_kernel_model(d, o);
  CHECK(r.split.test.size() == 60);
  CHECK(r.test_predicted_ms.size() == 60);
  std::vector<double> y;
  for (std::size_t i : r.split.test) y.push_back(d.latency_ms(i));
  const nb::latency_metrics m = nb::compute_metrics(r.test_predicted_ms, y);
  CHECK(m.rmspe == r.holdout.rmspe);
  CHECK(m.within_10 == r.holdout.within_10);
  std::vector<std::size_t> expected;
  for (std::size_t k = 0; k < y.size(); ++k)
    if (std::abs(y[k] - r.test_predicted_ms[k]) / y[k] > 0.02) expected.push_back(r.split.test[k]);
  CHECK(!expected.empty());
  CHECK(r.error_rows == expected);
  REQUIRE(r.error_ids.size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    CHECK(r.error_ids[k] == d.id(expected[k]));
    // The ids are configuration keys: they read back for fine-grained sampling.
    const nb::kernel_config c =
        nb::parse_kernel_config(kernel_kind::dwconv_bn_relu, r.error_ids[k]);
    CHECK(!nb::sample_finegrained(c, 5).empty());
  }
  CHECK(r.train.n == 240);
  CHECK(r.train.within_10 >= r.holdout.within_10 - 0.05);
  // No held-out part: no metrics, no error rows.
  o.test_fraction = 0;
  const nb::train_result all = nb::train_kernel_model(d, o);
  CHECK(all.holdout.n == 0);
  CHECK(all.error_rows.empty());
  CHECK(all.split.train.size() == 300);
}

TEST_CASE("trainer: an explicit split is used as given, and checked") {
  const nb::training_data d = data_of(kernel_kind::fc, 120);
  nb::train_options o;
  nb::row_split s;
  for (std::size_t i = 0; i < d.rows(); ++i) (i % 4 == 3 ? s.test : s.train).push_back(i);
  std::reverse(s.test.begin(), s.test.end());  // any order; the result is sorted
  o.split = s;
  const nb::train_result r = nb::train_kernel_model(d, o);
  std::sort(s.test.begin(), s.test.end());
  CHECK(r.split.test == s.test);
  CHECK(r.split.train == s.train);
  CHECK(r.holdout.n == 30);
  // Refused: a row twice, a row missing, a row out of range, nothing to train on.
  const auto refused = [&](nb::row_split bad, const char* what) {
    nb::train_options b = o;
    b.split = std::move(bad);
    const std::string message = std::string("trainer, kind fc: explicit split: ") + what;
    CHECK_THROWS_WITH((void)nb::train_kernel_model(d, b), doctest::Contains(message.c_str()));
  };
  nb::row_split twice = s;
  twice.test.push_back(s.train.front());
  refused(twice, "row 0 appears twice");
  nb::row_split missing = s;
  missing.train.pop_back();
  refused(missing, "119 of 120 rows placed");
  nb::row_split outside = s;
  outside.test.push_back(120);
  refused(outside, "row 120 of 120 is out of range");
  nb::row_split none;
  for (std::size_t i = 0; i < d.rows(); ++i) none.test.push_back(i);
  refused(none, "the train part is empty");
}

TEST_CASE("trainer: cross-validated error rows are the out-of-fold misses of the rows given") {
  const nb::training_data d = data_of(kernel_kind::dwconv_bn_relu, 300);
  nb::train_options o;
  o.error_threshold = 0.02;  // strict, so that some rows are over it
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < 200; ++i) rows.push_back(i);
  const std::vector<std::size_t> e = nb::cross_validated_error_rows(d, rows, o, 5);
  CHECK(!e.empty());
  CHECK(e.size() < rows.size());
  CHECK(std::is_sorted(e.begin(), e.end()));
  for (std::size_t i : e) CHECK(i < 200);  // only rows of the given set
  CHECK(nb::cross_validated_error_rows(d, rows, o, 5) == e);  // deterministic
  // A looser threshold flags a subset of them.
  o.error_threshold = 0.2;
  const std::vector<std::size_t> loose = nb::cross_validated_error_rows(d, rows, o, 5);
  CHECK(loose.size() < e.size());
  CHECK(std::includes(e.begin(), e.end(), loose.begin(), loose.end()));
  CHECK_THROWS_WITH((void)nb::cross_validated_error_rows(d, rows, o, 1),
                    doctest::Contains("cross-validation: 1 fold(s)"));
  CHECK_THROWS_WITH((void)nb::cross_validated_error_rows(d, {1, 2, 3}, o, 5),
                    doctest::Contains("3 row(s) cannot make 5 folds"));
  CHECK_THROWS_WITH((void)nb::cross_validated_error_rows(d, {1, 2, 3, 4, 5, 300}, o, 5),
                    doctest::Contains("row 300 of 300 is out of range"));
}

TEST_CASE("trainer: deterministic for a seed; all-data refit differs") {
  const nb::training_data d = data_of(kernel_kind::fc, 200);
  nb::train_options o;
  const nb::train_result a = nb::train_kernel_model(d, o);
  const nb::train_result b = nb::train_kernel_model(d, o);
  CHECK(a.model_json == b.model_json);
  CHECK(a.split.test == b.split.test);
  o.seed = 2;
  const nb::train_result c = nb::train_kernel_model(d, o);
  CHECK(c.split.test != a.split.test);
  CHECK(c.model_json != a.model_json);
  o.seed = 1;
  o.fit = nb::final_fit::all_data;
  const nb::train_result e = nb::train_kernel_model(d, o);
  CHECK(e.fit == nb::final_fit::all_data);
  CHECK(e.model_json != a.model_json);
  CHECK(e.holdout.rmspe == a.holdout.rmspe);  // metrics of the train-part model
  CHECK(e.split.test == a.split.test);
  CHECK(std::string(nb::to_string(e.fit)) == "all-data");
}

TEST_CASE("trainer: bad data and options are refused, naming the kind") {
  nb::training_data empty(kernel_kind::fc);
  CHECK(error_of(empty) == "training data of kind fc: no samples");
  nb::training_data d(kernel_kind::se);
  d.add(std::vector<double>{7, 16}, 0.1, "{\"CIN\":16,\"HW\":7}");
  d.add(std::vector<double>{7, 32}, 0.2);
  d.add(std::vector<double>{14, 16}, 0.3);
  CHECK(error_of(d).empty());
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    nb::training_data b = d;
    b.add(std::vector<double>{1, 2}, bad, "cfg");
    const std::string e = error_of(b);
    CAPTURE(e);
    CHECK(e.find("training data of kind se: row 3 (cfg): latency ") == 0);
    CHECK(e.find("is not a positive finite number") != std::string::npos);
  }
  nb::training_data nanf = d;
  nanf.add(std::vector<double>{std::numeric_limits<double>::quiet_NaN(), 2}, 1.0);
  CHECK(error_of(nanf) == "training data of kind se: row 3: feature 0 is nan");
  CHECK_THROWS_WITH(d.add(std::vector<double>{1, 2, 3}, 1.0, "x"),
                    doctest::Contains("kind se: row 3 (x) has 3 features, the rows before it 2"));
  CHECK_THROWS_WITH(d.add(std::vector<double>{}, 1.0), doctest::Contains("has no features"));
  nb::training_data one(kernel_kind::relu);
  one.add(std::vector<double>{1, 2}, 1.0);
  CHECK(error_of(one).find("trainer, kind relu: held-out split: 1 sample(s)") == 0);
  auto with = [&](auto change) {
    nb::train_options o;
    change(o.params);
    return error_of(d, o);
  };
  CHECK(with([](nb::train_params& p) { p.rounds = 0; }) ==
        "trainer, kind se: rounds = 0 must be in [1, 100000]");
  CHECK(with([](nb::train_params& p) { p.learning_rate = 0; }).find("learning_rate = 0") !=
        std::string::npos);
  CHECK(with([](nb::train_params& p) { p.subsample = 1.5; }).find("subsample = 1.5") !=
        std::string::npos);
  CHECK(with([](nb::train_params& p) { p.max_depth = 0; }).find("max_depth = 0") !=
        std::string::npos);
  CHECK(with([](nb::train_params& p) { p.tree_method = "gpu_hist"; }) ==
        "trainer, kind se: tree_method 'gpu_hist' is not exact, approx or hist");
  CHECK(with([](nb::train_params& p) { p.lambda = -1; }).find("lambda = -1") != std::string::npos);
  nb::train_options o;
  o.error_threshold = -0.1;
  CHECK(error_of(d, o).find("error threshold -0.1") != std::string::npos);
  o = {};
  o.test_fraction = 1.0;
  CHECK(error_of(d, o).find("must be in [0, 1)") != std::string::npos);
  // make_training_data: sizes and kinds.
  const dataset s = synthetic(kernel_kind::relu, 5);
  CHECK_THROWS_WITH(
      (void)nb::make_training_data(kernel_kind::relu, s.configs, {1.0}, nnmeter::default_rules(),
                                   nnmeter::feature_set::extended),
      doctest::Contains("5 configurations but 1 latencies"));
  CHECK_THROWS_WITH(
      (void)nb::make_training_data(kernel_kind::bn, s.configs, s.latency_ms,
                                   nnmeter::default_rules(), nnmeter::feature_set::extended),
      doctest::Contains("configuration 0 is relu"));
  CHECK_THROWS_WITH(
      (void)nb::xgboost_predict("{", {1, 2}, 2),
      doctest::Contains("xgboost_predict: XGBoost XGBoosterLoadModelFromBuffer failed"));
  CHECK_THROWS_WITH((void)nb::xgboost_predict("{}", {1, 2, 3}, 2),
                    doctest::Contains("3 values are no whole rows of 2"));
}

TEST_CASE("trainer: names of the modes and weightings") {
  CHECK(nb::parse_booster_mode("random-forest") == nb::booster_mode::random_forest);
  CHECK(std::string(nb::to_string(nb::booster_mode::boosting)) == "boosting");
  CHECK_FALSE(nb::parse_booster_mode("rf").has_value());
  CHECK(nb::parse_sample_weighting("inverse-square") == nb::sample_weighting::inverse_square);
  CHECK(std::string(nb::to_string(nb::sample_weighting::none)) == "none");
  CHECK_FALSE(nb::parse_sample_weighting("log").has_value());
  CHECK(nb::default_train_params(kernel_kind::conv_bn_relu).max_depth == 8);
  CHECK(nb::default_train_params(kernel_kind::relu).rounds == 200);
}

// The figures of docs/builder.md ("Trainer", accuracy on synthetic latencies). Run with
// `test_builder_trainer -tc='*synthetic*' -s` to print them.
TEST_CASE("trainer study: accuracy on synthetic roofline latencies") {
  struct row {
    kernel_kind kind;
    std::size_t n;
  };
  for (const row& c : {row{kernel_kind::conv_bn_relu, 1000}, row{kernel_kind::dwconv_bn_relu, 600},
                       row{kernel_kind::fc, 300}, row{kernel_kind::relu, 300}}) {
    for (nnmeter::feature_set set :
         {nnmeter::feature_set::extended, nnmeter::feature_set::nnmeter}) {
      const nb::training_data d = data_of(c.kind, c.n, set, 7);
      nb::train_options o;
      o.params = nb::default_train_params(c.kind);
      const nb::train_result r = nb::train_kernel_model(d, o);
      o.params.weighting = nb::sample_weighting::none;
      const nb::train_result plain = nb::train_kernel_model(d, o);
      MESSAGE(nnmeter::to_string(c.kind)
              << " (" << nnmeter::to_string(set) << ", " << c.n << " samples): within 5 % "
              << 100 * r.holdout.within_5 << " %, within 10 % " << 100 * r.holdout.within_10
              << " %, RMSPE " << r.holdout.rmspe << " %; without "
              << "weights: " << 100 * plain.holdout.within_10 << " %, RMSPE " << plain.holdout.rmspe
              << " %; " << r.forest.num_nodes() << " nodes");
      // The target kinds reach 95 % within +-10 % with the project's features.
      if (set == nnmeter::feature_set::extended)
        CHECK(r.holdout.within_10 >= (c.kind == kernel_kind::relu ? 0.9 : 0.95));
      // Relative weights: smaller forests, and no loss of +-10 % accuracy beyond 3 points.
      CHECK(r.forest.num_nodes() < plain.forest.num_nodes());
      CHECK(r.holdout.within_10 >= plain.holdout.within_10 - 0.03);
    }
  }
}

TEST_CASE("trainer study program: prints its table") {
  const nnmeter_test::command_result r =
      nnmeter_test::run_command(std::string(NNMETER_TEST_HELPER_TRAINER_STUDY) + " 1 --quick");
  CHECK(r.status == 0);
  CHECK(r.output.find("| kind | features | samples | weights |") == 0);
  CHECK(r.output.find("| relu | extended | 100 | inverse-square |") != std::string::npos);
  CHECK(r.output.find("| relu | nnmeter | 100 | none |") != std::string::npos);
  const nnmeter_test::command_result bad =
      nnmeter_test::run_command(std::string(NNMETER_TEST_HELPER_TRAINER_STUDY) + " 0", true);
  CHECK(bad.status == 2);
  CHECK(bad.output.find("SEEDS must be >= 1") != std::string::npos);
}
