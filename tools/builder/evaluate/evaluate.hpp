// nnmeter builder — evaluating a predictor against measured whole-model latency, the way the
// nn-Meter paper does: every model is measured whole on a backend (through the profile store,
// so an interrupted evaluation resumes where it stopped), predicted, and the figures per model
// family are RMSE, RMSPE and the share of models within ±5 % and ±10 % of the measurement,
// beside the measurement's own repeatability (the ground-truth CV) as their ceiling.
// `nnmeter evaluate` runs it (docs/evaluation.md). Target nnmeter_builder_evaluate.
// SPDX-License-Identifier: MIT
//
//   auto store = nnmeter::builder::profile_store::open(out / "profile_store.sqlite");
//   nnmeter::builder::evaluate_options o;
//   o.protocol = protocol;                       // as the predictor's kernels were measured
//   const auto rep = nnmeter::builder::evaluate_models(pred, *backend, store, models, o);
//   nnmeter::builder::write_evaluation_report(rep, out);  // report.md, models.csv, plots/ ...
#pragma once

#include <nnmeter.hpp>

#include "backend.hpp"
#include "builder/store/store.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nnmeter::builder {

/// One model to evaluate.
struct evaluation_model {
  /// Unique within an evaluation; the store key's kind (so equal names resume).
  std::string name;
  /// The group it is reported in: a zoo family ("resnet"), "torchvision", "models", ...
  std::string family;
  /// Where it came from, for the report: a file, or "zoo resnet seed 1 index 7".
  std::string source;
  /// The graph the predictor sees. The backend runs it too (with its operands' real shapes
  /// where nn-Meter IR declared others, as `nnmeter profile` does).
  nnmeter::graph graph;
};

/// What became of one model.
enum class model_outcome {
  evaluated,     ///< measured, and every kernel has a latency: counted in the figures
  incomplete,    ///< measured, but some kernel has no latency: listed, not counted
  failed,        ///< the backend could not measure it (the error is kept)
  not_measured,  ///< the evaluation stopped (Ctrl-C, budget) before it; a rerun resumes
};
/// "evaluated", "incomplete", "failed", "not-measured".
const char* to_string(model_outcome o) noexcept;

/// One model's result.
struct model_evaluation {
  std::string name;
  std::string family;
  std::string source;
  model_outcome outcome = model_outcome::not_measured;
  /// The backend's error (failed) or why the prediction is incomplete.
  std::string error;
  /// The measurement: the protocol's latency (the minimum over every timed invoke; with several
  /// memory layouts the median of the layouts' minima), and the ground-truth CV, the
  /// coefficient of variation of the block minima (of the layout minima with several layouts;
  /// NaN with one).
  double measured_ms = 0;
  double ground_truth_cv = 0;
  /// Timed invokes the measurement summarises, and whether an earlier run measured it.
  std::size_t runs = 0;
  bool resumed = false;
  /// The prediction with its per-kernel breakdown (kernels in nn-Meter's order).
  nnmeter::prediction prediction;
  /// prediction.latency_ms / measured_ms - 1 (meaningful when evaluated).
  double relative_error = 0;
};

/// The accuracy figures of a group of models (a family, or all of them).
struct accuracy_figures {
  std::string group;
  std::size_t models = 0;        ///< models of the group, whatever their outcome
  std::size_t evaluated = 0;     ///< the models the figures below are computed on
  std::size_t incomplete = 0;
  std::size_t failed = 0;
  std::size_t not_measured = 0;
  /// Root mean square error, ms; root mean square relative error, percent; mean and maximum
  /// absolute relative error, percent; the share of models within ±5 % and ±10 % (0..1).
  /// All NaN when no model was evaluated.
  double rmse_ms = 0;
  double rmspe = 0;
  double mean_abs_error = 0;
  double max_abs_error = 0;
  double within_5 = 0;
  double within_10 = 0;
  /// Median and maximum ground-truth CV of the evaluated models, percent (NaN if unknown).
  double median_cv = 0;
  double max_cv = 0;
};

/// The figures of `models` (their evaluated ones) under the name `group`.
[[nodiscard]] accuracy_figures summarize_accuracy(const std::string& group,
                                                  const std::vector<const model_evaluation*>& models);

/// A whole evaluation.
struct evaluation_report {
  nnmeter::predictor_info predictor;
  std::string backend;
  std::string device;
  std::string runtime;
  nnmeter::backends::measurement_protocol protocol;
  /// Every model, in the order given.
  std::vector<model_evaluation> models;
  /// Per family, in order of first appearance; then every model together.
  std::vector<accuracy_figures> families;
  accuracy_figures overall;
  /// What the measuring did (measured now, resumed from the store, failed, left).
  measure_report measuring;
  std::string started_at;
  std::string finished_at;
};

/// Called after each model is measured (or found in the store), in order.
struct evaluation_event {
  const model_evaluation* model = nullptr;
  std::size_t index = 0;  ///< 0-based, among the models
  std::size_t total = 0;
};

/// The protocol whole models are measured with: `p` (a predictor's kernel protocol) in
/// `layouts` memory layouts, its passes rounded up to a multiple of them (docs/measurement.md).
/// Throws nnmeter::backends::backend_error when layouts is not in 1..64.
[[nodiscard]] nnmeter::backends::measurement_protocol whole_model_protocol(
    nnmeter::backends::measurement_protocol p, int layouts);

/// The memory layouts a predictor's context factor was fitted with: its build record's
/// `context.layouts` (build_json, the manifest's `build`), 1 when it records none.
[[nodiscard]] int context_layouts_of(const nnmeter::predictor& p);

struct evaluate_options {
  /// How each model is measured; keep it the predictor's (its kernels' protocol), or the
  /// figures compare different statistics.
  nnmeter::backends::measurement_protocol protocol;
  /// Asked before each measurement; true stops there (what was measured stays stored).
  std::function<bool()> stop;
  std::function<void(const evaluation_event&)> on_model;
};

/// Measures every model whole on `backend` (keys of purpose `model` in `store`: an earlier
/// run's measurement of the same name and graph is reused), predicts it with `predictor`, and
/// computes the figures. Throws nnmeter::error for two models of one name; a model the backend
/// cannot run is a failed model, not an error.
[[nodiscard]] evaluation_report evaluate_models(const nnmeter::predictor& predictor,
                                                nnmeter::backends::backend& backend,
                                                profile_store& store,
                                                const std::vector<evaluation_model>& models,
                                                const evaluate_options& options);

/// The files write_evaluation_report wrote.
struct evaluation_files {
  std::filesystem::path markdown;  ///< report.md: the figures, worst models, plots
  std::filesystem::path models_csv;   ///< models.csv: one row per model
  std::filesystem::path kernels_csv;  ///< kernels.csv: one row per kernel of every model
  std::filesystem::path json;         ///< report.json: everything above, machine-readable
  std::vector<std::filesystem::path> plots;  ///< plots/<family>.svg and plots/all.svg
};

/// Writes the report into `dir` (created if missing; each file replaced atomically). The
/// Markdown lists the `worst` evaluated models by absolute error with their per-kernel
/// breakdown.
evaluation_files write_evaluation_report(const evaluation_report& report,
                                         const std::filesystem::path& dir,
                                         std::size_t worst = 10);

/// A predicted-vs-measured scatter plot as an SVG document: log-log axes over the points'
/// range, the y = x line and the ±10 % band. `points` are (measured, predicted) in ms, all
/// positive.
[[nodiscard]] std::string scatter_plot_svg(const std::string& title,
                                           const std::vector<std::pair<double, double>>& points);

}  // namespace nnmeter::builder
