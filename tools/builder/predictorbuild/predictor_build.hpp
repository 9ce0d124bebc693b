// nnmeter builder — building a device predictor (`nnmeter build-predictor`): for each kernel kind
// of the workspace's predictorbuild_config.yaml, prior sampling, profiling through the profile
// store, training, adaptive fine-grained rounds around the configurations with the largest
// errors, then a complete, verified predictor package and its <name>.yaml meta file
// (docs/builder.md, "Building a predictor"). Target nnmeter_builder_predictorbuild.
// SPDX-License-Identifier: MIT
//
//   namespace nb = nnmeter::builder;
//   const nb::workspace ws = nb::load_workspace("ws");
//   nb::profile_store store = nb::profile_store::open(ws.store_file());
//   auto be = nnmeter::backends::make_backend(ws.backend.backend);
//   nb::predictor_build_options o;                  // name, kinds, budget, stop, on_event ...
//   o.rules = nnmeter::io::load_fusion_rules(ws.detected_rules_file().string());
//   const nb::predictor_build_report r = nb::build_predictor(ws, store, *be, o);
//   r.meta_file;                                    // ready for `nnmeter register --predictor`
//
// nn-Meter's names are kept: predictor_build/results/<name>/ (here the package folder) and
// <name>.yaml, collection/Data_<kind>.csv and TestResult_<kind>.csv.
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backend.hpp"
#include "builder/predictorbuild/context.hpp"
#include "builder/predictorbuild/fallback_fit.hpp"
#include "builder/sampler/kernel_config.hpp"
#include "builder/store/store.hpp"
#include "builder/trainer/trainer.hpp"
#include "builder/workspace/workspace.hpp"

namespace nnmeter::builder {

/// One round of one kind: round 0 samples the priors ("prior"), round r >= 1 samples around
/// the previous round's large-error configurations ("finegrained<r>").
struct kernel_round {
  int round = 0;
  std::string mark;               ///< "prior", "finegrained1", ...
  std::size_t sampled = 0;        ///< configurations drawn
  std::size_t distinct = 0;       ///< distinct ones among them not seen in earlier rounds
  std::size_t measured = 0;       ///< measured in this run
  std::size_t already_stored = 0; ///< found in the store (an earlier run measured them)
  std::size_t failed = 0;         ///< failed in this run (recorded as failures, no latency)
  std::size_t not_attempted = 0;  ///< left when the budget or a stop ended the round
  std::size_t rows = 0;           ///< training rows after the round (every round so far)
  std::size_t holdout_rows = 0;   ///< held-out rows: fixed after the prior round (see below)
  latency_metrics holdout;        ///< the held-out metrics of the forest trained after it
  std::size_t error_configs = 0;  ///< held-out configurations above ERROR_THRESHOLD
  /// Train-part configurations whose out-of-fold error is above ERROR_THRESHOLD: the centres
  /// of the next fine-grained round (0 when no round follows).
  std::size_t refine_configs = 0;
  double profiling_seconds = 0;
  double training_seconds = 0;
};

/// What became of one kernel kind.
enum class kernel_build_status {
  built,        ///< every round ran; the kind has a forest
  partial,      ///< the budget or a stop ended its rounds early; it has a forest of what was
                ///< measured (run the command again to go on)
  not_started,  ///< the budget or a stop came before it; no forest
  skipped,      ///< the kind cannot be built here (see note): the backend cannot run it, the
                ///< fusion rules never make it one kernel, no sampler; no forest
  failed,       ///< too few successful measurements to train on (see note); no forest
};
/// "built", "partial", "not-started", "skipped", "failed".
[[nodiscard]] const char* to_string(kernel_build_status s) noexcept;

/// The build of one kernel kind.
struct kernel_build_result {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  kernel_build_status status = kernel_build_status::not_started;
  /// The block the kind's samples are measured as under the rules ("conv-bn-relu",
  /// "conv-relu", ...; kernel_block_for), empty when none.
  std::string block;
  /// What its forest predicts (TARGET, or default_target).
  nnmeter::latency_target target = nnmeter::latency_target::ms;
  /// Why skipped, failed, partial (the first failure text of a failed kind included).
  std::string note;
  std::vector<kernel_round> rounds;
  /// Rows of the final forest's data (train + held-out), and the failed configurations.
  std::size_t samples = 0;
  std::size_t failures = 0;
  /// The final forest's held-out and training metrics.
  latency_metrics holdout;
  latency_metrics train;
  std::size_t trees = 0;
  std::size_t nodes = 0;
  double profiling_seconds = 0;
  double training_seconds = 0;
  /// Median measured latency of the samples, ms (what a typical sample costs on the device).
  double median_latency_ms = 0;
  /// Where the final forest gives no positive latency (a boosted forest extrapolating below
  /// zero; the predictor reports such kernels as kernel_status::non_positive, never sums
  /// them): held-out rows, and of `probe_configs` fresh prior configurations (never measured,
  /// drawn with their own seed), how many.
  std::size_t holdout_non_positive = 0;
  std::size_t probe_configs = 0;
  std::size_t probe_non_positive = 0;
};

/// Progress of build_predictor, for progress bars and logs.
struct build_event {
  enum class what {
    kind_started,  ///< a kind begins (index = its position, total = kinds)
    round_started, ///< a round's configurations are drawn (total = distinct to measure)
    measured,      ///< one configuration measured, found in the store, or failed
    trained,       ///< a round's forest is trained (result.rounds.back() has its metrics)
    kind_done,     ///< a kind is finished (result has its final status)
    context_model, ///< a training model for the context factor measured (or found stored);
                   ///< index / total count them, `model` is its result
  };
  what event = what::kind_started;
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  std::size_t kind_index = 0;  ///< 0-based among the kinds built
  std::size_t kinds = 0;
  int round = 0;
  /// measured / round_started: position and count of the round's distinct configurations.
  std::size_t index = 0;
  std::size_t total = 0;
  /// measured: what happened to the configuration (the store's event).
  const measure_event* measurement = nullptr;
  /// trained / kind_done: the kind so far.
  const kernel_build_result* result = nullptr;
  /// context_model: the model's measurement and prediction.
  const model_evaluation* model = nullptr;
};

/// Options of build_predictor. Everything else comes from the workspace's configs.
struct predictor_build_options {
  /// The predictor's name (a file name: letters, digits, '_', '-', '.') and version.
  std::string name;
  std::string version = "1.0";
  /// The device's fusion rules (required: `nnmeter detect-rules` writes them to
  /// ws.detected_rules_file()). They choose each kind's block and go into the package.
  std::optional<nnmeter::rule_set> rules;
  /// The kinds to build, in this order; empty = KERNELS of predictorbuild_config.yaml in file
  /// order. A kind not in KERNELS is built with its defaults.
  std::vector<nnmeter::kernel_kind> kinds;
  /// Profiling time budget of this run, minutes (0 = none); default BUDGET_MINUTES.
  std::optional<double> budget_minutes;
  /// The feature set of the predictor; default FEATURE_SET of predictorbuild_config.yaml.
  std::optional<nnmeter::feature_set> features;
  /// The measurement protocol; default PROTOCOL of backend_config.yaml.
  std::optional<nnmeter::backends::measurement_protocol> protocol;
  /// Asked before each measurement: true stops the build there (e.g. Ctrl-C). What was
  /// measured stays in the store; kinds get forests of what they have; a later run resumes.
  std::function<bool()> stop;
  std::function<void(const build_event&)> on_event;
  /// Replace an existing package of the same name (a rebuild); default: refuse, naming it.
  bool overwrite = true;
  /// Where the package, the meta file and the reports go; default
  /// <ws>/predictor_build/results.
  std::optional<std::filesystem::path> results_dir;
  /// Fit the fallback models (one per kernel family, fit_fallback) on the samples of the kinds
  /// that got a forest, and put them into the package: kernels of kinds without a usable
  /// forest then get a labelled estimate instead of none. Default on.
  bool fallback = true;
  /// Fit the context factor (context.hpp) on CONTEXT_MODELS zoo models per family, measured
  /// whole through the store (purpose model) with the build's protocol; off, or
  /// CONTEXT_MODELS 0, leaves the factor at 1.
  bool context = true;
};

/// What build_predictor did.
struct predictor_build_report {
  std::string name;
  std::string version;
  std::string backend;
  std::string device;
  std::string runtime;
  nnmeter::feature_set features = nnmeter::feature_set::extended;
  std::vector<kernel_build_result> kinds;
  /// The package folder, its meta file (<name>.yaml) and the build report (JSON); empty when
  /// no kind got a forest (nothing is written then).
  std::filesystem::path package_dir;
  std::filesystem::path meta_file;
  std::filesystem::path report_file;
  /// Every kind built (no partial, not-started or failed kind).
  bool complete = false;
  bool stopped = false;           ///< options.stop ended the run
  bool budget_exhausted = false;  ///< the budget ended the run
  double budget_minutes = 0;
  double profiling_seconds = 0;   ///< time spent measuring in this run
  /// Time the kernel samples took to measure, whichever run measured them (a rebuild from a
  /// full store measures nothing, yet its samples cost this much).
  double sample_seconds = 0;
  double training_seconds = 0;
  double wall_seconds = 0;
  std::size_t measured = 0;       ///< configurations measured in this run
  std::size_t samples = 0;        ///< rows of every forest shipped
  /// The fallback models fitted on those rows, per family that had samples (empty when
  /// options.fallback is off); the ones with coefficients are in the package.
  std::vector<fallback_family_fit> fallback;
  /// The context factor's fit (in the package when present); absent when it was not fitted,
  /// with the reason in context_note (off, CONTEXT_MODELS 0, stopped, no evaluated model).
  std::optional<context_fit> context;
  std::string context_note;
  /// The training models measured for it (every outcome), and the time they took.
  std::vector<model_evaluation> context_models;
  double context_seconds = 0;
  /// CONTEXT_MODELS, CONTEXT_SEED and CONTEXT_LAYOUTS of the build.
  std::size_t context_per_family = 0;
  std::uint64_t context_seed = 0;
  int context_layouts = 1;
};

/// Builds a predictor for backend `be` from the workspace `ws`, measuring through `store`
/// (see the file comment). Kinds the backend cannot run (nnmeter::unsupported_error when
/// preparing the kind's first configuration), kinds no block of which the rules run as one
/// kernel, and kinds without a sampler are skipped with a note, never fail the build. Writes
/// the package (write_predictor_package: golden cases, verified, atomic), the meta file and
/// the report when at least one kind has a forest. Throws nnmeter::error for options that
/// cannot work (no rules, a bad name, BATCH_SIZE other than 1), store_error from the store,
/// and the package writer's errors.
[[nodiscard]] predictor_build_report build_predictor(const workspace& ws, profile_store& store,
                                                     nnmeter::backends::backend& be,
                                                     const predictor_build_options& options);

/// Throws nnmeter::error unless `name` can name a predictor's files: 1 to 100 letters, digits,
/// '_', '-', '.', not starting with '.' or '-'. `what` is "name" or "version", `who` the
/// command (both in the message).
void check_predictor_name(const std::string& name, const std::string& what,
                          const std::string& who = "build-predictor");

/// The store key of a sampled configuration measured as `block`: purpose kernel, kind = the
/// kind's name, config = the canonical JSON of its parameters plus "BLOCK": block.
[[nodiscard]] measurement_key kernel_sample_key(const campaign& c, const kernel_config& config,
                                                const std::string& block);

/// The report as JSON text (what build_predictor writes to report_file).
[[nodiscard]] std::string build_report_json(const predictor_build_report& r);

}  // namespace nnmeter::builder
