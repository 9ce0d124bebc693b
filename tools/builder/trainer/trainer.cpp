// nnmeter builder — the trainer (trainer.hpp), over XGBoost's C API.
// SPDX-License-Identifier: MIT
#include "builder/trainer/trainer.hpp"

#include <nnmeter/io/json_xgboost.hpp>

#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <utility>

#include "builder/sampler/sampling.hpp"  // sample_rng, derive_seed

namespace nnmeter::builder {
namespace {

std::string kind_name(nnmeter::kernel_kind k) { return std::string(nnmeter::to_string(k)); }

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// `where` prefixes the message: "trainer, kind conv-bn-relu".
void check_xgb(int rc, const char* call, const std::string& where) {
  if (rc != 0) throw nnmeter::error(where + ": XGBoost " + call + " failed: " + XGBGetLastError());
}
std::string trainer_of(nnmeter::kernel_kind k) { return "trainer, kind " + kind_name(k); }

// Owning handles.
class dmatrix {
 public:
  dmatrix(const std::vector<float>& x, std::size_t rows, std::size_t cols, std::string where)
      : where_(std::move(where)) {
    check_xgb(
        XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(rows), static_cast<bst_ulong>(cols),
                               std::numeric_limits<float>::quiet_NaN(), &h_),
        "XGDMatrixCreateFromMat", where_);
  }
  ~dmatrix() {
    if (h_) XGDMatrixFree(h_);
  }
  dmatrix(const dmatrix&) = delete;
  dmatrix& operator=(const dmatrix&) = delete;
  void set(const char* field, const std::vector<float>& v) {
    check_xgb(XGDMatrixSetFloatInfo(h_, field, v.data(), static_cast<bst_ulong>(v.size())),
              "XGDMatrixSetFloatInfo", where_);
  }
  DMatrixHandle get() const noexcept { return h_; }

 private:
  DMatrixHandle h_ = nullptr;
  std::string where_;
};

class booster {
 public:
  booster(const DMatrixHandle* cache, bst_ulong n, std::string where) : where_(std::move(where)) {
    check_xgb(XGBoosterCreate(cache, n, &h_), "XGBoosterCreate", where_);
  }
  ~booster() {
    if (h_) XGBoosterFree(h_);
  }
  booster(const booster&) = delete;
  booster& operator=(const booster&) = delete;
  void set(const char* key, const std::string& value) {
    check_xgb(XGBoosterSetParam(h_, key, value.c_str()), "XGBoosterSetParam", where_);
  }
  void update(int iteration, const dmatrix& d) {
    check_xgb(XGBoosterUpdateOneIter(h_, iteration, d.get()), "XGBoosterUpdateOneIter", where_);
  }
  std::string json() const {
    bst_ulong len = 0;
    const char* buf = nullptr;
    check_xgb(XGBoosterSaveModelToBuffer(h_, R"({"format": "json"})", &len, &buf),
              "XGBoosterSaveModelToBuffer", where_);
    return std::string(buf, len);
  }
  void load(const std::string& json) {
    check_xgb(XGBoosterLoadModelFromBuffer(h_, json.data(), static_cast<bst_ulong>(json.size())),
              "XGBoosterLoadModelFromBuffer", where_);
  }
  std::vector<float> predict(const dmatrix& d) const {
    bst_ulong len = 0;
    const float* out = nullptr;
    // option_mask 0, ntree_limit 0 (all trees), training 0.
    check_xgb(XGBoosterPredict(h_, d.get(), 0, 0, 0, &len, &out), "XGBoosterPredict", where_);
    return {out, out + len};
  }

 private:
  BoosterHandle h_ = nullptr;
  std::string where_;
};

void check_params(const train_params& p, nnmeter::kernel_kind kind) {
  auto bad = [&](const std::string& what) {
    throw nnmeter::error("trainer, kind " + kind_name(kind) + ": " + what);
  };
  if (p.rounds < 1 || p.rounds > 100000)
    bad("rounds = " + std::to_string(p.rounds) + " must be in [1, 100000]");
  if (p.max_depth < 1 || p.max_depth > 30)
    bad("max_depth = " + std::to_string(p.max_depth) + " must be in [1, 30]");
  if (!(p.learning_rate > 0 && p.learning_rate <= 1))
    bad("learning_rate = " + number(p.learning_rate) + " must be in (0, 1]");
  if (!(p.subsample > 0 && p.subsample <= 1))
    bad("subsample = " + number(p.subsample) + " must be in (0, 1]");
  if (!(p.colsample_bynode > 0 && p.colsample_bynode <= 1))
    bad("colsample_bynode = " + number(p.colsample_bynode) + " must be in (0, 1]");
  if (!(p.min_child_weight >= 0 && std::isfinite(p.min_child_weight)))
    bad("min_child_weight = " + number(p.min_child_weight) + " must be >= 0");
  if (!(p.lambda >= 0 && std::isfinite(p.lambda)))
    bad("lambda = " + number(p.lambda) + " must be >= 0");
  if (!(p.gamma >= 0 && std::isfinite(p.gamma)))
    bad("gamma = " + number(p.gamma) + " must be >= 0");
  if (p.tree_method != "exact" && p.tree_method != "approx" && p.tree_method != "hist")
    bad("tree_method '" + p.tree_method + "' is not exact, approx or hist");
  if (p.threads < 1) bad("threads = " + std::to_string(p.threads) + " must be >= 1");
}

// The rows `rows` of `data` as floats (the predictor's cast), their labels and weights.
struct xgb_rows {
  std::vector<float> x;
  std::vector<float> y;
  std::vector<float> w;
  float base_score = 0;
};

xgb_rows gather(const training_data& d, const std::vector<std::size_t>& rows,
                sample_weighting weighting) {
  xgb_rows r;
  const std::size_t nf = d.num_features();
  r.x.reserve(rows.size() * nf);
  std::vector<double> w;
  for (std::size_t i : rows) {
    for (std::size_t j = 0; j < nf; ++j) r.x.push_back(static_cast<float>(d.row(i)[j]));
    // The label is what the forest predicts: the latency divided by the row's scale (1 for a
    // forest of milliseconds); relative errors of the one are those of the other.
    const double y = d.latency_ms(i) / d.scale(i);
    r.y.push_back(static_cast<float>(y));
    w.push_back(weighting == sample_weighting::none      ? 1.0
                : weighting == sample_weighting::inverse ? 1.0 / y
                                                         : 1.0 / (y * y));
  }
  // Weights normalised to mean 1 (min_child_weight and lambda then count average rows); the
  // base score is the weighted mean latency, the best constant under the weighted objective.
  double sw = 0, swy = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    sw += w[k];
    swy += w[k] * d.latency_ms(rows[k]) / d.scale(rows[k]);
  }
  const double mean_w = sw / static_cast<double>(w.size());
  for (double v : w) r.w.push_back(static_cast<float>(v / mean_w));
  r.base_score = static_cast<float>(swy / sw);
  return r;
}

struct trained {
  nnmeter::forest forest;
  std::string json;
};

// Trains one booster on `rows` and returns its forest, checked against XGBoost on those rows.
trained fit(const training_data& d, const std::vector<std::size_t>& rows, const train_options& o) {
  const nnmeter::kernel_kind kind = d.kind();
  const train_params& p = o.params;
  const xgb_rows r = gather(d, rows, p.weighting);
  dmatrix m(r.x, rows.size(), d.num_features(), trainer_of(kind));
  m.set("label", r.y);
  m.set("weight", r.w);
  const DMatrixHandle cache[1] = {m.get()};
  booster b(cache, 1, trainer_of(kind));
  const bool rf = p.mode == booster_mode::random_forest;
  b.set("verbosity", "0");
  b.set("booster", "gbtree");
  b.set("objective", "reg:squarederror");
  b.set("base_score", number(r.base_score));
  b.set("nthread", std::to_string(p.threads));
  b.set("seed", std::to_string(o.seed % 2147483647ULL));
  b.set("tree_method", p.tree_method);
  b.set("max_depth", std::to_string(p.max_depth));
  b.set("eta", rf ? "1" : number(p.learning_rate));
  b.set("subsample", number(p.subsample));
  b.set("colsample_bynode", number(p.colsample_bynode));
  b.set("min_child_weight", number(p.min_child_weight));
  b.set("lambda", number(p.lambda));
  b.set("gamma", number(p.gamma));
  if (rf) b.set("num_parallel_tree", std::to_string(p.rounds));
  const int iterations = rf ? 1 : p.rounds;
  for (int i = 0; i < iterations; ++i) b.update(i, m);
  trained t;
  t.json = b.json();
  t.forest = nnmeter::io::read_xgboost_json(t.json, "trainer model of " + kind_name(kind));
  // The forest must be XGBoost's model exactly: compare on every training row.
  const std::vector<float> expected = b.predict(m);
  const std::size_t nf = d.num_features();
  const nnmeter::forest_view v = t.forest.view();
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const float got = nnmeter::evaluate(v, r.x.data() + k * nf);
    if (std::memcmp(&got, &expected[k], sizeof got) != 0)
      throw nnmeter::error("trainer, kind " + kind_name(kind) +
                           ": the forest read from XGBoost's "
                           "JSON predicts " +
                           number(got) + " for row " + std::to_string(rows[k]) +
                           " where XGBoost predicts " + number(expected[k]));
  }
  return t;
}

std::vector<double> predict_rows(const nnmeter::forest& f, const training_data& d,
                                 const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  std::vector<float> x(d.num_features());
  const nnmeter::forest_view v = f.view();
  for (std::size_t i : rows) {
    for (std::size_t j = 0; j < x.size(); ++j) x[j] = static_cast<float>(d.row(i)[j]);
    // As nnmeter::predictor does: the forest's output (float) times the row's scale.
    out.push_back(static_cast<double>(nnmeter::evaluate(v, x.data())) * d.scale(i));
  }
  return out;
}

std::vector<double> labels(const training_data& d, const std::vector<std::size_t>& rows) {
  std::vector<double> y;
  for (std::size_t i : rows) y.push_back(d.latency_ms(i));
  return y;
}

}  // namespace

void training_data::add(const nnmeter::feature_vector& f, double latency_ms, std::string id,
                        double scale) {
  add(std::vector<double>(f.begin(), f.end()), latency_ms, std::move(id), scale);
}

void training_data::add(const std::vector<double>& f, double latency_ms, std::string id,
                        double scale) {
  if (f.empty())
    throw nnmeter::error("training data of kind " + kind_name(kind_) + ": row " +
                         std::to_string(rows()) + (id.empty() ? "" : " (" + id + ")") +
                         " has no features");
  if (rows() == 0) {
    num_features_ = f.size();
  } else if (f.size() != num_features_) {
    throw nnmeter::error("training data of kind " + kind_name(kind_) + ": row " +
                         std::to_string(rows()) + (id.empty() ? "" : " (" + id + ")") + " has " +
                         std::to_string(f.size()) + " features, the rows before it " +
                         std::to_string(num_features_));
  }
  features_.insert(features_.end(), f.begin(), f.end());
  latency_.push_back(latency_ms);
  scale_.push_back(scale);
  ids_.push_back(std::move(id));
}

void training_data::validate() const {
  const std::string where = "training data of kind " + kind_name(kind_);
  if (rows() == 0) throw nnmeter::error(where + ": no samples");
  for (std::size_t i = 0; i < rows(); ++i) {
    const std::string row_name =
        "row " + std::to_string(i) + (ids_[i].empty() ? "" : " (" + ids_[i] + ")");
    const double y = latency_[i];
    if (!(std::isfinite(y) && y > 0))
      throw nnmeter::error(where + ": " + row_name + ": latency " + number(y) +
                           " ms is not a positive finite number (a failed or unparsed "
                           "measurement is no latency)");
    if (!(std::isfinite(scale_[i]) && scale_[i] > 0))
      throw nnmeter::error(where + ": " + row_name + ": scale " + number(scale_[i]) +
                           " is not a positive finite number (the kernel's work is unknown)");
    for (std::size_t j = 0; j < num_features_; ++j)
      if (!std::isfinite(row(i)[j]))
        throw nnmeter::error(where + ": " + row_name + ": feature " + std::to_string(j) + " is " +
                             number(row(i)[j]));
  }
}

training_data make_training_data(nnmeter::kernel_kind kind,
                                 const std::vector<kernel_config>& configs,
                                 const std::vector<double>& latencies_ms,
                                 const nnmeter::rule_set& rules, nnmeter::feature_set set) {
  if (configs.size() != latencies_ms.size())
    throw nnmeter::error("training data of kind " + kind_name(kind) + ": " +
                         std::to_string(configs.size()) + " configurations but " +
                         std::to_string(latencies_ms.size()) + " latencies");
  training_data d(kind);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    if (configs[i].kind != kind)
      throw nnmeter::error("training data of kind " + kind_name(kind) + ": configuration " +
                           std::to_string(i) + " is " + configs[i].describe());
    d.add(training_features(configs[i], rules, set), latencies_ms[i], configs[i].key());
  }
  return d;
}

const char* to_string(booster_mode m) noexcept {
  return m == booster_mode::boosting ? "boosting" : "random-forest";
}
std::optional<booster_mode> parse_booster_mode(std::string_view s) noexcept {
  if (s == "boosting") return booster_mode::boosting;
  if (s == "random-forest") return booster_mode::random_forest;
  return std::nullopt;
}

const char* to_string(sample_weighting w) noexcept {
  switch (w) {
    case sample_weighting::none:
      return "none";
    case sample_weighting::inverse:
      return "inverse";
    default:
      return "inverse-square";
  }
}
std::optional<sample_weighting> parse_sample_weighting(std::string_view s) noexcept {
  if (s == "none") return sample_weighting::none;
  if (s == "inverse") return sample_weighting::inverse;
  if (s == "inverse-square") return sample_weighting::inverse_square;
  return std::nullopt;
}

const char* to_string(final_fit f) noexcept {
  return f == final_fit::train_part ? "train-part" : "all-data";
}

train_params default_train_params(nnmeter::kernel_kind k) {
  train_params p;
  switch (k) {
    case nnmeter::kernel_kind::conv_bn_relu:
    case nnmeter::kernel_kind::dwconv_bn_relu:
    case nnmeter::kernel_kind::matmul:
    case nnmeter::kernel_kind::concat:
      p.rounds = 400;
      p.max_depth = 8;
      break;
    default:
      p.rounds = 200;
      p.max_depth = 6;
      break;
  }
  return p;
}

row_split holdout_split(std::size_t rows, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction >= 0 && test_fraction < 1))
    throw nnmeter::error("held-out split: test fraction " + number(test_fraction) +
                         " must be in [0, 1)");
  const auto n_test =
      static_cast<std::size_t>(std::ceil(test_fraction * static_cast<double>(rows)));
  if (rows == 0 || n_test >= rows)
    throw nnmeter::error("held-out split: " + std::to_string(rows) + " sample(s) with test " +
                         "fraction " + number(test_fraction) + " leave no training sample");
  std::vector<std::size_t> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  sample_rng rng(derive_seed(seed, "holdout-split"));
  rng.shuffle(order);
  row_split s;
  s.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
  s.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  std::sort(s.test.begin(), s.test.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

latency_metrics compute_metrics(const std::vector<double>& pred, const std::vector<double>& y) {
  if (pred.size() != y.size())
    throw nnmeter::error("latency metrics: " + std::to_string(pred.size()) + " predictions for " +
                         std::to_string(y.size()) + " measurements");
  latency_metrics m;
  m.n = y.size();
  if (y.empty()) return m;
  double se = 0, spe = 0, sum_y = 0;
  std::size_t a5 = 0, a10 = 0, a15 = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!(std::isfinite(y[i]) && y[i] > 0))
      throw nnmeter::error("latency metrics: measurement " + std::to_string(i) + " is " +
                           number(y[i]) + " ms, not a positive finite latency");
    const double d = y[i] - pred[i];
    const double rel = d / y[i];
    se += d * d;
    spe += rel * rel;
    sum_y += y[i];
    const double a = std::abs(rel);
    a5 += a <= 0.05 ? 1 : 0;
    a10 += a <= 0.10 ? 1 : 0;
    a15 += a <= 0.15 ? 1 : 0;
  }
  const auto n = static_cast<double>(y.size());
  m.rmse_ms = std::sqrt(se / n);
  m.rmspe = 100 * std::sqrt(spe / n);
  m.rmse_over_mean = m.rmse_ms / (sum_y / n);
  m.within_5 = static_cast<double>(a5) / n;
  m.within_10 = static_cast<double>(a10) / n;
  m.within_15 = static_cast<double>(a15) / n;
  return m;
}

namespace {

// An explicit split, sorted, after checking that it covers every row once and trains on some.
row_split checked_split(const row_split& given, std::size_t rows) {
  std::vector<char> seen(rows, 0);
  for (const std::vector<std::size_t>* part : {&given.train, &given.test}) {
    for (std::size_t i : *part) {
      if (i >= rows)
        throw nnmeter::error("explicit split: row " + std::to_string(i) + " of " +
                             std::to_string(rows) + " is out of range");
      if (seen[i]++)
        throw nnmeter::error("explicit split: row " + std::to_string(i) + " appears twice");
    }
  }
  if (given.train.size() + given.test.size() != rows)
    throw nnmeter::error("explicit split: " +
                         std::to_string(given.train.size() + given.test.size()) + " of " +
                         std::to_string(rows) + " rows placed; every row must be in one part");
  if (given.train.empty()) throw nnmeter::error("explicit split: the train part is empty");
  row_split s = given;
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  return s;
}

}  // namespace

train_result train_kernel_model(const training_data& data, const train_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const nnmeter::kernel_kind kind = data.kind();
  data.validate();
  check_params(o.params, kind);
  if (!(o.error_threshold >= 0 && std::isfinite(o.error_threshold)))
    throw nnmeter::error("trainer, kind " + kind_name(kind) + ": error threshold " +
                         number(o.error_threshold) + " must be >= 0");
  train_result r;
  r.kind = kind;
  r.fit = o.fit;
  try {
    r.split = o.split ? checked_split(*o.split, data.rows())
                      : holdout_split(data.rows(), o.test_fraction, o.seed);
  } catch (const nnmeter::error& e) {
    throw nnmeter::error("trainer, kind " + kind_name(kind) + ": " + e.what());
  }
  trained part = fit(data, r.split.train, o);
  r.test_predicted_ms = predict_rows(part.forest, data, r.split.test);
  const std::vector<double> test_y = labels(data, r.split.test);
  r.holdout = compute_metrics(r.test_predicted_ms, test_y);
  r.train =
      compute_metrics(predict_rows(part.forest, data, r.split.train), labels(data, r.split.train));
  for (std::size_t k = 0; k < r.split.test.size(); ++k) {
    if (std::abs(test_y[k] - r.test_predicted_ms[k]) / test_y[k] > o.error_threshold) {
      r.error_rows.push_back(r.split.test[k]);
      r.error_ids.push_back(data.id(r.split.test[k]));
    }
  }
  if (o.fit == final_fit::all_data) {
    std::vector<std::size_t> all(data.rows());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    part = fit(data, all, o);
  }
  r.forest = std::move(part.forest);
  r.model_json = std::move(part.json);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<std::size_t> cross_validated_error_rows(const training_data& data,
                                                    const std::vector<std::size_t>& rows,
                                                    const train_options& o, int folds) {
  const nnmeter::kernel_kind kind = data.kind();
  const auto fail = [&](const std::string& what) {
    throw nnmeter::error("trainer, kind " + kind_name(kind) + ": cross-validation: " + what);
  };
  if (folds < 2) fail(std::to_string(folds) + " fold(s); at least 2 are needed");
  if (rows.size() < static_cast<std::size_t>(folds))
    fail(std::to_string(rows.size()) + " row(s) cannot make " + std::to_string(folds) + " folds");
  for (std::size_t i : rows)
    if (i >= data.rows())
      fail("row " + std::to_string(i) + " of " + std::to_string(data.rows()) + " is out of range");
  data.validate();
  check_params(o.params, kind);
  std::vector<std::size_t> order = rows;
  sample_rng rng(derive_seed(o.seed, "cross-validation folds"));
  rng.shuffle(order);
  std::vector<std::size_t> errors;
  for (int f = 0; f < folds; ++f) {
    std::vector<std::size_t> train, test;
    for (std::size_t j = 0; j < order.size(); ++j)
      (j % static_cast<std::size_t>(folds) == static_cast<std::size_t>(f) ? test : train)
          .push_back(order[j]);
    const trained part = fit(data, train, o);
    const std::vector<double> predicted = predict_rows(part.forest, data, test);
    const std::vector<double> y = labels(data, test);
    for (std::size_t k = 0; k < test.size(); ++k)
      if (std::abs(y[k] - predicted[k]) / y[k] > o.error_threshold) errors.push_back(test[k]);
  }
  std::sort(errors.begin(), errors.end());
  return errors;
}

std::vector<float> xgboost_predict(const std::string& model_json, const std::vector<float>& rows,
                                   std::size_t num_features) {
  if (num_features == 0 || rows.size() % num_features != 0)
    throw nnmeter::error("xgboost_predict: " + std::to_string(rows.size()) +
                         " values are no whole rows of " + std::to_string(num_features));
  booster b(nullptr, 0, "xgboost_predict");
  b.load(model_json);
  const dmatrix m(rows, rows.size() / num_features, num_features, "xgboost_predict");
  return b.predict(m);
}

}  // namespace nnmeter::builder
