// nnmeter builder — the trainer: one kernel kind's latency model from its measured samples,
// trained with XGBoost's C API (gradient boosting or random forest), a seeded held-out split,
// nn-Meter's metrics, the large-error configurations for the adaptive rounds, and the forest
// as nnmeter::forest (docs/builder.md, "Trainer"). Target nnmeter_builder_trainer.
// SPDX-License-Identifier: MIT
//
//   nnmeter::builder::training_data d(nnmeter::kernel_kind::conv_bn_relu);
//   for (const auto& [config, latency_ms] : measured)            // e.g. from the profile store
//     d.add(nnmeter::builder::training_features(config, rules, set), latency_ms, config.key());
//   const auto r = nnmeter::builder::train_kernel_model(d, {});
//   r.holdout.within_10;                 // share of held-out samples within +-10 %
//   r.forest;                            // predicts milliseconds, == XGBoosterPredict bit for bit
//   r.error_ids;                         // configurations for the next fine-grained round
//
// The header needs no XGBoost header.
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/sampler/kernel_config.hpp"

namespace nnmeter::builder {

/// The samples of one kernel kind: feature vectors of one length, measured latencies (ms) and
/// an optional id per row (the configuration key), row-major.
class training_data {
 public:
  explicit training_data(nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu)
      : kind_(kind) {}

  /// Adds a row. The first row fixes the vector length; a row of another length is refused
  /// (nnmeter::error naming the kind and the row). Values are checked by train_kernel_model.
  /// `scale` is the row's nnmeter::target_scale: the forest learns latency_ms / scale and
  /// predicts (output * scale) ms, as nnmeter::predictor does for a kind whose target is not
  /// ms (1 = a forest of milliseconds).
  void add(const nnmeter::feature_vector& features, double latency_ms, std::string id = {},
           double scale = 1.0);
  void add(const std::vector<double>& features, double latency_ms, std::string id = {},
           double scale = 1.0);

  nnmeter::kernel_kind kind() const noexcept { return kind_; }
  std::size_t rows() const noexcept { return latency_.size(); }
  bool empty() const noexcept { return latency_.empty(); }
  std::size_t num_features() const noexcept { return num_features_; }
  /// Row i's features (num_features() values).
  const double* row(std::size_t i) const noexcept { return features_.data() + i * num_features_; }
  double latency_ms(std::size_t i) const noexcept { return latency_[i]; }
  /// Row i's scale (1 unless given).
  double scale(std::size_t i) const noexcept { return scale_[i]; }
  /// Row i's id, empty when none was given.
  const std::string& id(std::size_t i) const noexcept { return ids_[i]; }

  /// Throws nnmeter::error "training data of kind <kind>: ..." for no rows, a feature that is
  /// not finite, or a latency that is not a positive finite number (0 ms, negative, NaN or
  /// infinite: never a latency, nn-Meter's parse failures among them), naming the row and id.
  void validate() const;

 private:
  nnmeter::kernel_kind kind_;
  std::size_t num_features_ = 0;
  std::vector<double> features_;
  std::vector<double> latency_;
  std::vector<double> scale_;
  std::vector<std::string> ids_;
};

/// Rows from kernel configurations and their measured latencies: training_features(config,
/// rules, set) for each (the predictor's features), id = config.key(). Throws
/// training_features' errors, nnmeter::error when the sizes differ or a configuration is of
/// another kind.
[[nodiscard]] training_data make_training_data(nnmeter::kernel_kind kind,
                                               const std::vector<kernel_config>& configs,
                                               const std::vector<double>& latencies_ms,
                                               const nnmeter::rule_set& rules,
                                               nnmeter::feature_set set);

/// How the trees are grown.
enum class booster_mode {
  boosting,       ///< gradient-boosted trees: `rounds` rounds of one tree ("boosting")
  random_forest,  ///< XGBoost's random forest: one round of `rounds` parallel trees, learning
                  ///< rate 1 ("random-forest")
};
/// "boosting", "random-forest".
[[nodiscard]] const char* to_string(booster_mode m) noexcept;
[[nodiscard]] std::optional<booster_mode> parse_booster_mode(std::string_view s) noexcept;

/// Per-row weights of the squared-error objective.
enum class sample_weighting {
  none,            ///< plain squared error in ms: large kernels dominate
  inverse,         ///< 1 / y
  inverse_square,  ///< 1 / y^2: the squared *relative* error (y - ŷ)^2 / y^2, so a 20 µs kernel
                   ///< counts as much as a 20 ms one; the output stays in ms (default)
};
[[nodiscard]] const char* to_string(sample_weighting w) noexcept;
[[nodiscard]] std::optional<sample_weighting> parse_sample_weighting(std::string_view s) noexcept;

/// XGBoost hyper-parameters of one kernel kind (docs/builder.md, "Trainer", has the defaults'
/// measurements). Weights are normalised to mean 1, so min_child_weight counts average rows.
struct train_params {
  booster_mode mode = booster_mode::boosting;
  int rounds = 400;               ///< boosting rounds, or trees of the random forest
  int max_depth = 8;              ///< maximum tree depth
  double learning_rate = 0.1;     ///< eta (boosting; a random forest uses 1)
  double subsample = 0.8;         ///< share of the rows each tree sees
  double colsample_bynode = 1.0;  ///< share of the features each split considers
  double min_child_weight = 0.0;  ///< minimum summed weight of a leaf
  /// L2 regularisation of leaf values. With 1/y^2 weights a leaf of large kernels has a tiny
  /// summed weight, so any lambda of the order of an average row's weight shrinks it to 0 ms;
  /// keep it small.
  double lambda = 1e-6;
  double gamma = 0.0;                 ///< minimum loss reduction of a split
  std::string tree_method = "exact";  ///< exact | approx | hist
  sample_weighting weighting = sample_weighting::inverse_square;
  int threads = 1;  ///< XGBoost's nthread
};

/// Defaults that work for kind `k` (measured on synthetic roofline latencies, docs/builder.md):
/// boosting, 400 rounds of depth 8 for conv-bn-relu, dwconv-bn-relu, matmul and concat (the
/// kinds with the most irregular latencies), 200 rounds of depth 6 for the others; learning
/// rate 0.1, subsample 0.8, min_child_weight 0, lambda 1e-6, exact splits, 1/y^2 weights.
[[nodiscard]] train_params default_train_params(nnmeter::kernel_kind k);

/// Which rows the returned forest is trained on.
enum class final_fit {
  train_part,  ///< the train part only: the held-out metrics describe the forest shipped
               ///< (nn-Meter ships this 80 % model too) (default)
  all_data,    ///< refit on every row after the metrics: more data, metrics of its sibling
};
[[nodiscard]] const char* to_string(final_fit f) noexcept;

/// The held-out split: ceil(test_fraction * n) rows chosen by a seeded shuffle (sample_rng),
/// both lists sorted. Throws nnmeter::error when test_fraction is outside [0, 1) or the train
/// part would be empty.
struct row_split {
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
};
[[nodiscard]] row_split holdout_split(std::size_t rows, double test_fraction, std::uint64_t seed);

/// Options of one training run.
struct train_options {
  train_params params;
  /// Share of the rows held out for the metrics: ceil(test_fraction * rows) rows (scikit-
  /// learn's rounding), in [0, 1). 0 = no held-out part (the metrics are left empty).
  double test_fraction = 0.2;
  /// An explicit split instead of test_fraction's seeded one: every row of the data exactly
  /// once, in `train` (not empty) or `test`. The builder keeps the held-out rows of its prior
  /// round fixed this way while fine-grained rounds add training rows.
  std::optional<row_split> split;
  /// Seed of the split and of XGBoost's row / column subsampling.
  std::uint64_t seed = 1;
  /// nn-Meter's ERROR_THRESHOLD: held-out rows with |y - ŷ| / y above it are error rows.
  double error_threshold = 0.1;
  final_fit fit = final_fit::train_part;
};

/// nn-Meter's latency_metrics over n rows: RMSE (ms), RMSPE = 100 sqrt(mean(((y - ŷ) / y)^2))
/// (%), RMSE / mean(y), and the shares of rows with |y - ŷ| / y <= 5 %, 10 %, 15 % (in [0, 1]).
/// All NaN when n == 0.
struct latency_metrics {
  std::size_t n = 0;
  double rmse_ms = std::numeric_limits<double>::quiet_NaN();
  double rmspe = std::numeric_limits<double>::quiet_NaN();
  double rmse_over_mean = std::numeric_limits<double>::quiet_NaN();
  double within_5 = std::numeric_limits<double>::quiet_NaN();
  double within_10 = std::numeric_limits<double>::quiet_NaN();
  double within_15 = std::numeric_limits<double>::quiet_NaN();
};
/// Throws nnmeter::error when the sizes differ or a measured value is not a positive finite
/// number.
[[nodiscard]] latency_metrics compute_metrics(const std::vector<double>& predicted_ms,
                                              const std::vector<double>& measured_ms);

/// What train_kernel_model returns.
struct train_result {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  /// The forest to ship: predicts milliseconds / scale from the kind's feature vector (float), equal
  /// to XGBoosterPredict on `model_json` bit for bit (checked on every row before returning).
  nnmeter::forest forest;
  /// The forest's XGBoost 1.7 JSON model (XGBoosterSaveModelToBuffer), as read into `forest`.
  std::string model_json;
  final_fit fit = final_fit::train_part;
  /// The rows of the split (indices into the data).
  row_split split;
  /// The forest trained on the train part, on the held-out rows and on its own rows.
  latency_metrics holdout;
  latency_metrics train;
  /// Its predictions of the held-out rows, aligned with split.test.
  std::vector<double> test_predicted_ms;
  /// Held-out rows with |y - ŷ| / y > error_threshold, in row order, and their ids.
  std::vector<std::size_t> error_rows;
  std::vector<std::string> error_ids;
  /// Wall time of the training (all boosters), seconds.
  double seconds = 0;
};

/// Trains the latency model of data.kind(): validates the data and options, splits, trains on
/// the train part, measures the held-out part, collects the error rows, and (final_fit::
/// all_data) refits on everything. Deterministic for equal data and options. Throws
/// nnmeter::error naming the kind for bad data (see training_data::validate), a held-out
/// split that leaves no train row, bad parameters (rounds < 1, max_depth < 1, learning rate
/// outside (0, 1], subsample or colsample outside (0, 1], an unknown tree method), and
/// XGBoost's own errors (its message included).
[[nodiscard]] train_result train_kernel_model(const training_data& data,
                                              const train_options& options = {});

/// The rows of `rows` whose out-of-fold prediction misses their latency by more than
/// options.error_threshold (relative), sorted: `rows` is cut into `folds` seeded parts and each
/// part is predicted by a forest trained on the others (options.params and seed; the split
/// options are not used). The builder's fine-grained rounds refine around these rows of the
/// train part, so that the held-out rows never steer what is sampled next. Throws
/// nnmeter::error naming the kind when folds < 2, rows.size() < folds, or a row is out of range.
[[nodiscard]] std::vector<std::size_t> cross_validated_error_rows(
    const training_data& data, const std::vector<std::size_t>& rows, const train_options& options,
    int folds = 5);

/// The prediction of an XGBoost JSON model for `rows` rows of `num_features` floats, by
/// XGBoost itself (XGBoosterPredict). For checks and tests.
[[nodiscard]] std::vector<float> xgboost_predict(const std::string& model_json,
                                                 const std::vector<float>& rows,
                                                 std::size_t num_features);

}  // namespace nnmeter::builder
