// XGBoost 1.7 agreement: models trained through the C API, loaded with read_xgboost_json, must
// predict exactly (same float bits) what XGBoosterPredict does; written models must load back in
// XGBoost; loader errors must name the file and the JSON key.
// SPDX-License-Identifier: MIT
#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/forest.hpp>
#include <nnmeter/io/json_xgboost.hpp>

#include <doctest/doctest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/read_file.hpp"

namespace {

namespace fs = std::filesystem;

constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();

#define XGB_REQUIRE(call)                     \
  do {                                        \
    const int rc_ = (call);                   \
    INFO(#call << ": " << XGBGetLastError()); \
    REQUIRE(rc_ == 0);                        \
  } while (false)

std::uint32_t bits(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

/// A directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ =
        fs::temp_directory_path() / ("nnmeter_xgb_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

using nnmeter_test::read_file;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// Row-major float matrix with NaN marking missing values.
struct matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> x;
  const float* row(std::size_t r) const { return x.data() + r * cols; }
};

/// Features in [0, 1) with about 1/17 of the rows holding a NaN; a nonlinear label.
matrix make_features(std::size_t rows, std::size_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  matrix m{rows, cols, std::vector<float>(rows * cols)};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) m.x[r * cols + c] = u(rng);
    if (r % 17 == 3) m.x[r * cols + rng() % cols] = nan_f;
  }
  return m;
}
std::vector<float> make_labels(const matrix& m, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> y(m.rows);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const float* x = m.row(r);
    auto v = [&](std::size_t c) { return std::isnan(x[c]) ? 0.5f : x[c]; };
    y[r] = 3.0f * v(0) + 2.0f * v(1) * v(2) + (v(3) > 0.5f ? 1.5f : -0.5f) + std::sin(6.0f * v(4)) +
           noise(rng);
  }
  return y;
}

class dmatrix {
 public:
  explicit dmatrix(const matrix& m) {
    XGB_REQUIRE(XGDMatrixCreateFromMat(m.x.data(), static_cast<bst_ulong>(m.rows),
                                       static_cast<bst_ulong>(m.cols), nan_f, &h_));
  }
  ~dmatrix() { XGDMatrixFree(h_); }
  dmatrix(const dmatrix&) = delete;
  dmatrix& operator=(const dmatrix&) = delete;
  DMatrixHandle get() const { return h_; }

 private:
  DMatrixHandle h_ = nullptr;
};

class booster {
 public:
  booster(const DMatrixHandle* train, bst_ulong n) { XGB_REQUIRE(XGBoosterCreate(train, n, &h_)); }
  ~booster() { XGBoosterFree(h_); }
  booster(const booster&) = delete;
  booster& operator=(const booster&) = delete;
  BoosterHandle get() const { return h_; }
  void set(const char* key, const std::string& value) {
    XGB_REQUIRE(XGBoosterSetParam(h_, key, value.c_str()));
  }
  std::vector<float> predict(const dmatrix& d) const {
    bst_ulong len = 0;
    const float* out = nullptr;
    XGB_REQUIRE(XGBoosterPredict(h_, d.get(), 0, 0, 0, &len, &out));
    return {out, out + len};
  }

 private:
  BoosterHandle h_ = nullptr;
};

using params = std::vector<std::pair<const char*, std::string>>;

/// Trains on 2000 rows x 8 features and saves the model as JSON to `path`.
void train_and_save(const params& p, int rounds, const std::string& path,
                    bool logistic_labels = false) {
  const matrix m = make_features(2000, 8, 1);
  std::vector<float> y = make_labels(m, 2);
  if (logistic_labels) {
    for (float& v : y) v = v > 3.0f ? 1.0f : 0.0f;
  }
  const dmatrix d(m);
  XGB_REQUIRE(XGDMatrixSetFloatInfo(d.get(), "label", y.data(), static_cast<bst_ulong>(y.size())));
  const DMatrixHandle train[1] = {d.get()};
  booster b(train, 1);
  b.set("nthread", "1");
  b.set("seed", "7");
  for (const auto& [k, v] : p) b.set(k, v);
  for (int i = 0; i < rounds; ++i) XGB_REQUIRE(XGBoosterUpdateOneIter(b.get(), i, d.get()));
  XGB_REQUIRE(XGBoosterSaveModel(b.get(), path.c_str()));
}

/// 1200 test rows: fresh random rows (with NaNs, some all-NaN), plus rows whose values sit exactly
/// on the forest's thresholds and one float step below them, where `<` versus `<=` matters.
matrix make_test_rows(const nnmeter::forest& f) {
  matrix m = make_features(1200, f.num_features, 3);
  std::mt19937 rng(4);
  std::vector<std::pair<std::uint32_t, float>> splits;
  for (std::size_t n = 0; n < f.num_nodes(); ++n) {
    if (f.left[n] >= 0) splits.emplace_back(f.feature[n], f.split_value[n]);
  }
  REQUIRE(!splits.empty());
  for (std::size_t r = 0; r < m.rows; ++r) {
    float* x = m.x.data() + r * m.cols;
    if (r % 3 == 1) {  // several features exactly on a threshold
      for (int k = 0; k < 4; ++k) {
        const auto& s = splits[rng() % splits.size()];
        x[s.first] = s.second;
      }
    } else if (r % 3 == 2) {  // just below a threshold
      const auto& s = splits[rng() % splits.size()];
      x[s.first] = std::nextafter(s.second, -1.0f);
    }
    if (r % 101 == 0) {
      for (std::size_t c = 0; c < m.cols; ++c) x[c] = nan_f;
    }
  }
  return m;
}

/// Predictions of `b` and of the evaluator agree bit for bit on every test row.
void check_exact(const booster& b, const nnmeter::forest& f, const matrix& rows) {
  const dmatrix d(rows);
  const std::vector<float> expected = b.predict(d);
  REQUIRE(expected.size() == rows.rows);
  const nnmeter::forest_view v = f.view();
  std::size_t mismatches = 0;
  std::size_t nan_rows = 0;
  std::vector<double> xd(rows.cols);
  for (std::size_t r = 0; r < rows.rows; ++r) {
    const float got = nnmeter::evaluate(v, rows.row(r));
    for (std::size_t c = 0; c < rows.cols; ++c) xd[c] = rows.row(r)[c];
    const float got_double = nnmeter::evaluate(v, xd.data());
    bool has_nan = false;
    for (std::size_t c = 0; c < rows.cols; ++c) has_nan = has_nan || std::isnan(rows.row(r)[c]);
    nan_rows += has_nan ? 1 : 0;
    if (bits(got) != bits(expected[r]) || bits(got_double) != bits(expected[r])) {
      if (mismatches++ < 5) {
        INFO("row " << r << ": nnmeter " << got << " (double input " << got_double << "), xgboost "
                    << expected[r]);
        CHECK(bits(got) == bits(expected[r]));
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(nan_rows >= 50);
}

/// Trains, saves, loads with nnmeter, and compares with XGBoost's own predictions.
nnmeter::forest check_model(const temp_dir& dir, const std::string& name, const params& p,
                            int rounds) {
  const std::string path = dir.file(name + ".json");
  train_and_save(p, rounds, path);
  const nnmeter::forest f = nnmeter::io::load_xgboost_json(path);
  CHECK(f.num_features == 8);
  CHECK_NOTHROW(f.validate());
  booster b(nullptr, 0);
  XGB_REQUIRE(XGBoosterLoadModel(b.get(), path.c_str()));
  check_exact(b, f, make_test_rows(f));
  return f;
}

/// Loads `text` (a JSON model) into a fresh booster through a file, as users would.
void check_xgboost_loads(const temp_dir& dir, const std::string& text, const nnmeter::forest& f) {
  const std::string path = dir.file("written.json");
  write_text(path, text);
  booster b(nullptr, 0);
  XGB_REQUIRE(XGBoosterLoadModel(b.get(), path.c_str()));
  check_exact(b, f, make_test_rows(f));
}

void check_same_forest(const nnmeter::forest& a, const nnmeter::forest& b) {
  CHECK(a.left == b.left);
  CHECK(a.feature == b.feature);
  CHECK(a.default_left == b.default_left);
  CHECK(a.tree_roots == b.tree_roots);
  CHECK(a.num_features == b.num_features);
  CHECK(bits(a.base_score) == bits(b.base_score));
  REQUIRE(a.split_value.size() == b.split_value.size());
  std::size_t diff = 0;
  for (std::size_t i = 0; i < a.split_value.size(); ++i)
    diff += bits(a.split_value[i]) != bits(b.split_value[i]) ? 1 : 0;
  CHECK(diff == 0);
}

}  // namespace

TEST_CASE("xgboost: gbtree hist, exact and lossguide models predict bit-exactly") {
  const temp_dir dir;
  SUBCASE("hist, depth 6, 100 rounds") {
    check_model(dir, "hist6", {{"tree_method", "hist"}, {"max_depth", "6"}, {"eta", "0.3"}}, 100);
  }
  SUBCASE("exact, depth 8, 60 rounds") {
    const nnmeter::forest f = check_model(
        dir, "exact8",
        {{"tree_method", "exact"}, {"max_depth", "8"}, {"eta", "0.1"}, {"subsample", "0.9"}}, 60);
    CHECK(f.num_trees() == 60);
  }
  SUBCASE("hist, depth 8, lossguide, odd base_score, pseudo-Huber") {
    check_model(dir, "lossguide",
                {{"tree_method", "hist"},
                 {"grow_policy", "lossguide"},
                 {"max_leaves", "40"},
                 {"max_depth", "8"},
                 {"base_score", "0.123456789"},
                 {"objective", "reg:pseudohubererror"}},
                40);
  }
  SUBCASE("hist, depth 8, 300 rounds (the size of a kernel model)") {
    check_model(dir, "hist8x300", {{"tree_method", "hist"}, {"max_depth", "8"}, {"eta", "0.05"}},
                300);
  }
}

TEST_CASE("xgboost: random-forest mode (num_parallel_tree > 1) predicts bit-exactly") {
  const temp_dir dir;
  SUBCASE("one round of 64 parallel trees") {
    const nnmeter::forest f = check_model(dir, "rf",
                                          {{"tree_method", "hist"},
                                           {"num_parallel_tree", "64"},
                                           {"subsample", "0.8"},
                                           {"colsample_bynode", "0.8"},
                                           {"learning_rate", "1"},
                                           {"max_depth", "8"}},
                                          1);
    CHECK(f.num_trees() == 64);
  }
  SUBCASE("boosted random forests: 5 rounds of 4 trees") {
    const nnmeter::forest f = check_model(dir, "brf",
                                          {{"num_parallel_tree", "4"},
                                           {"subsample", "0.7"},
                                           {"colsample_bynode", "0.7"},
                                           {"max_depth", "5"}},
                                          5);
    CHECK(f.num_trees() == 20);
  }
}

TEST_CASE("xgboost: written models load in XGBoost and predict the same") {
  const temp_dir dir;
  SUBCASE("round trip of a trained model") {
    const std::string path = dir.file("trained.json");
    train_and_save({{"max_depth", "7"}, {"base_score", "1.3"}}, 30, path);
    const nnmeter::forest f = nnmeter::io::load_xgboost_json(path);
    const std::string text = nnmeter::io::write_xgboost_json(f);
    check_same_forest(nnmeter::io::read_xgboost_json(text, "written"), f);
    check_xgboost_loads(dir, text, f);
  }
  SUBCASE("a hand-built forest in depth-first order") {
    // Not breadth-first (the right subtree's children come first), a leaf-only tree, NaN defaults.
    nnmeter::forest f;
    f.num_features = 8;
    f.base_score = -0.3f;
    // Tree 0: 0 → (1, 2); 2 → (3, 4); 1 → (5, 6); 3..6 leaves.
    f.tree_roots.push_back(0);
    f.left = {1, 5, 3, -1, -1, -1, -1};
    f.feature = {2, 0, 7, 0, 0, 0, 0};
    f.split_value = {0.5f, 0.25f, 0.75f, 1.5f, -2.25f, 0.125f, 3.0f};
    f.default_left = {1, 0, 1, 0, 0, 0, 0};
    // Tree 1: a single leaf. Tree 2: a stump on feature 1.
    f.tree_roots.push_back(7);
    f.left.push_back(-1);
    f.feature.push_back(0);
    f.split_value.push_back(0.0625f);
    f.default_left.push_back(0);
    f.tree_roots.push_back(8);
    f.left.insert(f.left.end(), {9, -1, -1});
    f.feature.insert(f.feature.end(), {1, 0, 0});
    f.split_value.insert(f.split_value.end(), {0.3f, -1.0f, 1.0f});
    f.default_left.insert(f.default_left.end(), {0, 0, 0});
    REQUIRE_NOTHROW(f.validate());
    const std::string text = nnmeter::io::write_xgboost_json(f);
    const nnmeter::forest back = nnmeter::io::read_xgboost_json(text, "hand");
    CHECK(back.num_trees() == 3);
    const matrix rows = make_test_rows(f);
    for (std::size_t r = 0; r < rows.rows; ++r) {
      CHECK(bits(nnmeter::evaluate(back.view(), rows.row(r))) ==
            bits(nnmeter::evaluate(f.view(), rows.row(r))));
    }
    check_xgboost_loads(dir, text, f);
  }
  SUBCASE("invalid forests are not written") {
    nnmeter::forest f;
    f.num_features = 1;
    f.tree_roots = {0};
    f.left = {5};
    f.feature = {0};
    f.split_value = {0.0f};
    f.default_left = {0};
    CHECK_THROWS_AS(nnmeter::io::write_xgboost_json(f), nnmeter::parse_error);
  }
}

namespace {

/// Runs `edit` on the parsed model, loads the result from a file named `name`, and returns the
/// exception message after checking its type.
template <class Exception, class Edit>
std::string load_error(const temp_dir& dir, const std::string& model_text, const std::string& name,
                       Edit edit) {
  nlohmann::json doc = nlohmann::json::parse(model_text);
  edit(doc);
  const std::string path = dir.file(name);
  write_text(path, doc.dump());
  std::string message = "no exception";
  try {
    (void)nnmeter::io::load_xgboost_json(path);
  } catch (const Exception& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("wrong exception type: ") + e.what();
  }
  CHECK(message.find(path) == 0);  // every message starts with the file name
  return message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  const bool found = haystack.find(needle) != std::string::npos;
  if (!found) MESSAGE("'" << needle << "' not in: " << haystack);
  return found;
}

}  // namespace

TEST_CASE("xgboost: loader errors name the file and the JSON key") {
  const temp_dir dir;
  const std::string model_path = dir.file("model.json");
  train_and_save({{"max_depth", "3"}}, 3, model_path);
  const std::string text = read_file(model_path);
  const std::string trees = "learner.gradient_booster.model.trees";

  SUBCASE("truncated JSON") {
    const std::string path = dir.file("truncated.json");
    write_text(path, text.substr(0, text.size() / 2));
    std::string message;
    try {
      (void)nnmeter::io::load_xgboost_json(path);
    } catch (const nnmeter::parse_error& e) {
      message = e.what();
    }
    CHECK(message.find(path + ": malformed JSON") == 0);
    CHECK_THROWS_AS(nnmeter::io::read_xgboost_json("", "empty.json"), nnmeter::parse_error);
  }
  SUBCASE("missing keys") {
    std::string m =
        load_error<nnmeter::parse_error>(dir, text, "no_left.json", [](nlohmann::json& d) {
          d["learner"]["gradient_booster"]["model"]["trees"][1].erase("left_children");
        });
    CHECK(contains(m, "missing key '" + trees + "[1].left_children'"));
    m = load_error<nnmeter::parse_error>(dir, text, "no_base.json", [](nlohmann::json& d) {
      d["learner"]["learner_model_param"].erase("base_score");
    });
    CHECK(contains(m, "missing key 'learner.learner_model_param.base_score'"));
    m = load_error<nnmeter::parse_error>(dir, text, "no_version.json",
                                         [](nlohmann::json& d) { d.erase("version"); });
    CHECK(contains(m, "missing key 'version'"));
  }
  SUBCASE("wrong types and inconsistent trees") {
    std::string m =
        load_error<nnmeter::parse_error>(dir, text, "base_num.json", [](nlohmann::json& d) {
          d["learner"]["learner_model_param"]["base_score"] = 0.5;  // XGBoost writes a string
        });
    CHECK(contains(m, "key 'learner.learner_model_param.base_score': expected a string"));
    m = load_error<nnmeter::parse_error>(dir, text, "short.json", [](nlohmann::json& d) {
      d["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"].erase(0);
    });
    CHECK(contains(m, "key '" + trees + "[0].split_conditions': has"));
    m = load_error<nnmeter::parse_error>(dir, text, "child.json", [](nlohmann::json& d) {
      d["learner"]["gradient_booster"]["model"]["trees"][2]["left_children"][0] = 99;
    });
    CHECK(contains(m, "key '" + trees + "[2].left_children[0]': child 99 is outside"));
    m = load_error<nnmeter::parse_error>(dir, text, "cycle.json", [](nlohmann::json& d) {
      d["learner"]["gradient_booster"]["model"]["trees"][0]["right_children"][1] = 0;
    });
    CHECK(contains(m, "key '" + trees + "[0].right_children[1]': node 0 is reached twice"));
    m = load_error<nnmeter::parse_error>(dir, text, "feature.json", [](nlohmann::json& d) {
      d["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 8;
    });
    CHECK(contains(m, "key '" + trees +
                          "[0].split_indices[0]': feature 8 >= learner_model_param.num_feature 8"));
    m = load_error<nnmeter::parse_error>(dir, text, "count.json", [](nlohmann::json& d) {
      d["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "4";
    });
    CHECK(contains(m, "key 'learner.gradient_booster.model.gbtree_model_param.num_trees'"));
  }
  SUBCASE("categorical split") {
    const std::string m = load_error<nnmeter::unsupported_error>(
        dir, text, "categorical.json", [](nlohmann::json& d) {
          d["learner"]["gradient_booster"]["model"]["trees"][1]["split_type"][0] = 1;
        });
    CHECK(contains(m, "key '" + trees + "[1].split_type[0]': categorical split"));
  }
  SUBCASE("wrong version") {
    const std::string m =
        load_error<nnmeter::format_mismatch>(dir, text, "v2.json", [](nlohmann::json& d) {
          d["version"] = {2, 0, 3};
        });
    CHECK(contains(m, "key 'version' is [2,0,3]"));
  }
  SUBCASE("multi-class, multi-target and unknown objectives") {
    std::string m = load_error<nnmeter::unsupported_error>(
        dir, text, "classes.json",
        [](nlohmann::json& d) { d["learner"]["learner_model_param"]["num_class"] = "3"; });
    CHECK(contains(m, "key 'learner.learner_model_param.num_class'"));
    m = load_error<nnmeter::unsupported_error>(dir, text, "targets.json", [](nlohmann::json& d) {
      d["learner"]["learner_model_param"]["num_target"] = "2";
    });
    CHECK(contains(m, "key 'learner.learner_model_param.num_target'"));
    m = load_error<nnmeter::unsupported_error>(dir, text, "objective.json", [](nlohmann::json& d) {
      d["learner"]["objective"]["name"] = "reg:gamma";
    });
    CHECK(contains(m, "key 'learner.objective.name': objective 'reg:gamma'"));
  }
  SUBCASE("dart and logistic models trained by XGBoost are refused") {
    const std::string dart = dir.file("dart.json");
    train_and_save({{"booster", "dart"}, {"max_depth", "3"}}, 3, dart);
    std::string message;
    try {
      (void)nnmeter::io::load_xgboost_json(dart);
    } catch (const nnmeter::unsupported_error& e) {
      message = e.what();
    }
    CHECK(contains(message, dart + ": key 'learner.gradient_booster.name': booster 'dart'"));
    const std::string logistic = dir.file("logistic.json");
    train_and_save({{"objective", "reg:logistic"}, {"max_depth", "3"}}, 3, logistic, true);
    message.clear();
    try {
      (void)nnmeter::io::load_xgboost_json(logistic);
    } catch (const nnmeter::unsupported_error& e) {
      message = e.what();
    }
    CHECK(contains(message, logistic + ": key 'learner.objective.name': objective 'reg:logistic'"));
  }
  SUBCASE("unreadable file") {
    CHECK_THROWS_AS(nnmeter::io::load_xgboost_json(dir.file("does_not_exist.json")),
                    nnmeter::error);
  }
}
