// nnmeter builder — the workspace: a folder with nn-Meter's three YAML config files, read into
// typed structs, and the places where the builder's rooms keep their data (docs/builder.md,
// "Workspace"; every key: docs/configuration.md, "Builder workspace configs").
// SPDX-License-Identifier: MIT
//
//   <dir>/configs/backend_config.yaml         BACKEND, the measurement PROTOCOL, the ADB keys
//   <dir>/configs/ruletest_config.yaml        the fusion-rule tester's settings
//   <dir>/configs/predictorbuild_config.yaml  the kernel sampler's and trainer's settings
//   <dir>/profile_store.sqlite                every measurement (builder/store/store.hpp)
//   <dir>/fusion_rule_test/                   the rule tester's files (created by it)
//   <dir>/predictor_build/                    the predictor builder's files (created by it)
//
// Keys keep nn-Meter's spellings where nn-Meter has them; a key missing from a file takes its
// default (so workspaces written by an older nnmeter keep loading). Everything else a file
// says is checked: an unknown or misspelt key, a value of the wrong type or out of range,
// broken YAML, a missing file are config_error / workspace_error naming the file, the key and
// the line. Nothing here depends on yaml-cpp: it is an implementation detail of workspace.cpp.
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/kernels/features.hpp>
#include <nnmeter/kernels/kernel_kind.hpp>
#include <nnmeter/predictor/predictor.hpp>

#include <cstdint>
#include <optional>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "backend.hpp"  // nnmeter::backends::measurement_protocol

namespace nnmeter::builder {

/// A config file whose content is wrong: broken YAML, an unknown or misspelt key, a value of
/// the wrong type or out of range. what() is "<file>:<line>:<column>: <key>: <message>" (the
/// parts that are known); the parts are also available one by one.
class config_error : public nnmeter::parse_error {
 public:
  /// `key` is the dotted path of the key ("KERNELS.conv-bn-relu.INIT_SAMPLE_NUM"), empty for
  /// an error about the whole file; `line` and `column` are 1-based, 0 when unknown.
  config_error(std::string file, std::string key, int line, int column, const std::string& message);

  const std::string& file() const noexcept { return file_; }
  const std::string& key() const noexcept { return key_; }
  int line() const noexcept { return line_; }
  int column() const noexcept { return column_; }

 private:
  std::string file_;
  std::string key_;
  int line_ = 0;
  int column_ = 0;
};

/// A workspace that cannot be used as a whole: the folder or a config file is missing, a
/// workspace exists where one is to be created, a file cannot be written. what() starts with
/// the path concerned.
class workspace_error : public nnmeter::error {
 public:
  workspace_error(std::string path, const std::string& message);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// What a workspace was created for (`nnmeter create --<kind>-workspace`).
enum class workspace_kind {
  xnnpack,     ///< this machine's CPU through XNNPACK (BACKEND: xnnpack)
  tflite,      ///< a phone over ADB with TFLite's benchmark_model (BACKEND: tflite_cpu)
  customized,  ///< any other backend of the registry (BACKEND: its name)
};

/// "xnnpack", "tflite", "customized".
const char* to_string(workspace_kind k) noexcept;

/// backend_config.yaml.
struct backend_config {
  /// BACKEND: the registry key of the backend the workspace measures on ("xnnpack",
  /// "tflite_cpu", ...). Commands given --backend use that one instead.
  std::string backend = "xnnpack";

  /// REMOTE_MODEL_DIR (nn-Meter): device folder the models are pushed to.
  std::string remote_model_dir = "/mnt/sdcard/tflite_bench";
  /// BENCHMARK_MODEL_PATH (nn-Meter): TFLite's benchmark_model binary on the device.
  std::string benchmark_model_path = "/data/local/tmp/benchmark_model";
  /// DEVICE_SERIAL (nn-Meter): adb serial of the phone; empty = the only attached device.
  std::string device_serial;
  /// KERNEL_PATH (nn-Meter): passed as --kernel_path= to a custom benchmark binary; empty =
  /// not passed.
  std::string kernel_path;

  /// PROTOCOL: how every latency is measured (docs/measurement.md). Keys THREADS,
  /// WARMUP_SECONDS, WARMUP_MIN_INVOKES, WARMUP_EVERY_PASS, BLOCKS, RUNS (invokes per block),
  /// PASSES, CLOCK, NORMALISE_BY_REFERENCE, WEIGHTS_SEED.
  nnmeter::backends::measurement_protocol protocol;

  /// The kind of workspace this backend belongs to: xnnpack for "xnnpack", tflite for
  /// "tflite_cpu" / "tflite_gpu", customized otherwise.
  workspace_kind kind() const noexcept;
  /// Whether the ADB keys (REMOTE_MODEL_DIR ...) belong in this file: every backend but
  /// xnnpack, which runs in this process.
  bool uses_adb_keys() const noexcept { return backend != "xnnpack"; }
};

/// ruletest_config.yaml. The field names are those of the rule tester's rule_test_config
/// (builder/testcases/testcases.hpp), so one is filled from the other field by field.
struct ruletest_config {
  bool detail = false;                   ///< DETAIL: write the latencies into the detected rules
  std::string implement = "tensorflow";  ///< IMPLEMENT: only "tensorflow" (see the docs)
  std::int64_t hw = 28;                  ///< HW: spatial size of the test inputs
  std::int64_t cin = 64;                 ///< CIN: input channels
  std::int64_t shape_1d = 428;           ///< SHAPE_1D: length of 1-D inputs (even)
  std::int64_t cout = 128;               ///< COUT: conv / fc output channels
  std::int64_t kernel_size = 3;          ///< KERNEL_SIZE: conv and pooling window
  std::string padding = "same";          ///< PADDING: "same" | "valid"
  std::int64_t strides = 1;              ///< STRIDES: conv strides
  std::int64_t pool_strides = 2;         ///< POOL_STRIDES: pooling strides
  double emp_alpha = 0.5;                ///< EMP_ALPHA: α of nn-Meter's fusion criterion
  /// BASIC_TESTCASES: "a_b" pairs of test operators (nn-Meter's 79 by default).
  std::vector<std::string> basic_testcases = nnmeter_basic_testcases();
  /// OTHER_TESTCASES: "MON" (multiple outbound nodes) or nothing.
  std::vector<std::string> other_testcases{"MON"};
  /// LAYERS_1D: test operators that take a 1-D input.
  std::vector<std::string> layers_1d{"fc"};
  /// REPEATS (project): independent measurements of every test model, >= 2.
  int repeats = 5;
  /// NOISE_SIGMAS (project): a rule is decided only when its margin is more than this many
  /// standard errors away from 0; otherwise it is "undetermined".
  double noise_sigmas = 2.0;

  /// nn-Meter's 79 default BASIC_TESTCASES (spec §5.6): the 9 x 9 grid over add, avgpool,
  /// concat, conv, convtrans, dwconv, fc, relu, reshape without avgpool_fc, conv_fc,
  /// convtrans_fc, dwconv_fc, fc_avgpool, fc_conv, fc_convtrans, fc_dwconv, plus bn_relu,
  /// conv_bn, conv_hswish, conv_se, dwconv_bn, se_relu; in that order.
  static std::vector<std::string> nnmeter_basic_testcases();
  /// nn-Meter's test operators, the names BASIC_TESTCASES and LAYERS_1D may use: conv,
  /// dwconv, convtrans, bn, globalavgpool, maxpool, avgpool, se, fc, relu, relu6, sigmoid,
  /// hswish, swish, reshape, add, concat, flatten, split.
  static const std::vector<std::string>& test_operators();
};

/// How a kernel kind's latency model is trained (the trainer room reads it).
enum class trainer_mode {
  boosting,       ///< gradient-boosted trees ("boosting")
  random_forest,  ///< XGBoost's random-forest mode: ROUNDS trees in one round ("random-forest")
};
/// "boosting", "random-forest".
const char* to_string(trainer_mode m) noexcept;

/// One entry of KERNELS in predictorbuild_config.yaml.
struct kernel_build_config {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;  ///< the entry's name
  /// INIT_SAMPLE_NUM (nn-Meter): configurations of the prior sampling round.
  int init_sample_num = 3000;
  /// FINEGRAINED_SAMPLE_NUM (nn-Meter): configurations sampled around each large-error one.
  int finegrained_sample_num = 20;
  /// ITERATION (nn-Meter): rounds, the prior one included (1 = no fine-grained round).
  int iteration = 3;
  /// ERROR_THRESHOLD (nn-Meter): relative error |y - ŷ| / y above which a held-out
  /// configuration seeds fine-grained samples.
  double error_threshold = 0.1;
  /// TRAINER (project): boosting | random-forest.
  trainer_mode trainer = trainer_mode::boosting;
  /// TARGET (project): what the forest predicts (nnmeter::latency_target); absent =
  /// default_target(kind, FEATURE_SET).
  std::optional<nnmeter::latency_target> target;
  /// ROUNDS (project): boosting rounds, or trees of the random forest (default_kernel: the
  /// trainer's defaults, 400 for conv-bn-relu, dwconv-bn-relu, matmul and concat, else 200).
  int rounds = 400;
  /// MAX_DEPTH (project): maximum tree depth (default_kernel: 8 for those kinds, else 6).
  int max_depth = 8;
  /// LEARNING_RATE (project): shrinkage (XGBoost's eta); 1.0 for a random forest.
  double learning_rate = 0.1;
  /// SUBSAMPLE (project): fraction of the rows each tree sees.
  double subsample = 0.8;
  /// COLSAMPLE_BYNODE (project): fraction of the features each split considers.
  double colsample_bynode = 1.0;
};

/// predictorbuild_config.yaml.
struct predictorbuild_config {
  bool detail = false;                   ///< DETAIL: keep every field in the results
  std::string implement = "tensorflow";  ///< IMPLEMENT: only "tensorflow" (see the docs)
  int batch_size = 1;                    ///< BATCH_SIZE: batch of the kernel models
  /// KERNELS: the kernel kinds to build, in file order (default_kernels() when absent).
  std::vector<kernel_build_config> kernels = default_kernels();
  /// SEED (project): seed of the sampler and of the held-out split.
  std::uint64_t seed = 1;
  /// BUDGET_MINUTES (project): profiling time budget of one build-predictor run, minutes;
  /// 0 = no limit.
  double budget_minutes = 0;
  /// HOLDOUT_FRACTION (project): share of each kind's samples held out for the metrics.
  double holdout_fraction = 0.2;
  /// FEATURE_SET (project): the feature vectors the forests read, "lanes" (the project's
  /// extended set plus output size and vector-lane fill), "extended" (FLOPs, bytes, widths)
  /// or "nnmeter" (nn-Meter's vectors).
  nnmeter::feature_set feature_set = nnmeter::feature_set::lanes;
  /// MAX_MFLOPS, MAX_MBYTES (project): the sampler's caps: a sampled configuration whose
  /// block exceeds them gets smaller channels (builder::sampling_caps); 0 = no cap.
  double max_mflops = 1000;
  double max_mbytes = 64;
  /// CONTEXT_MODELS (project): zoo models per family (all 13) measured whole to fit the
  /// predictor's context factor (kernels in a model run slower than alone); 0 = no factor.
  std::size_t context_models = 4;
  /// CONTEXT_SEED (project): the zoo seed of those models; keep it apart from the seeds a
  /// predictor is evaluated on.
  std::uint64_t context_seed = 1000;
  /// CONTEXT_LAYOUTS (project): memory layouts each of those models is measured in (the
  /// protocol's `layouts`: the latency is the median of the copies' minima, docs/measurement.md;
  /// the passes are rounded up to a multiple). One layout lets where a model lands in memory
  /// move its latency by up to ~15 %, and the factor with it.
  int context_layouts = 4;

  /// The entry for `k`, nullptr when KERNELS does not list it.
  const kernel_build_config* find(nnmeter::kernel_kind k) const noexcept;

  /// nn-Meter's defaults for kind `k`: INIT_SAMPLE_NUM 10000 for conv-bn-relu, 5000 for
  /// dwconv-bn-relu, 3000 for every other kind; FINEGRAINED_SAMPLE_NUM 20, ITERATION 3,
  /// ERROR_THRESHOLD 0.1; the trainer's defaults (builder::default_train_params(k), a test
  /// checks they agree).
  static kernel_build_config default_kernel(nnmeter::kernel_kind k);
  /// Every kernel kind but `other` (nn-Meter's 16 first, then the project's), with
  /// default_kernel()'s values.
  static std::vector<kernel_build_config> default_kernels();
};

/// The TARGET of kind `k` when the config gives none: ms-per-mflop for the compute-bound kinds
/// (conv-bn-relu, dwconv-bn-relu, fc, matmul, se, global-avgpool, add, addrelu, sigmoid,
/// hardsigmoid), ms-per-mbyte for the others; ms with feature set nnmeter, which computes no
/// kernel costs. (Chosen on this machine's XNNPACK measurements, docs/builder.md.)
[[nodiscard]] nnmeter::latency_target default_target(nnmeter::kernel_kind k, nnmeter::feature_set set);

/// A loaded workspace.
struct workspace {
  /// The workspace folder as given to load_workspace / create_workspace.
  std::filesystem::path root;
  backend_config backend;
  ruletest_config ruletest;
  predictorbuild_config predictorbuild;

  workspace_kind kind() const noexcept { return backend.kind(); }
  std::filesystem::path configs_dir() const { return root / "configs"; }
  std::filesystem::path backend_config_file() const;
  std::filesystem::path ruletest_config_file() const;
  std::filesystem::path predictorbuild_config_file() const;
  /// <root>/profile_store.sqlite (builder/store/store.hpp).
  std::filesystem::path store_file() const { return root / "profile_store.sqlite"; }
  /// <root>/fusion_rule_test (nn-Meter's name); not created here.
  std::filesystem::path fusion_rule_test_dir() const { return root / "fusion_rule_test"; }
  /// <root>/fusion_rule_test/results/detected_fusion_rule.json: where `nnmeter detect-rules`
  /// writes the device's rules and where `nnmeter build-predictor` reads them by default.
  std::filesystem::path detected_rules_file() const {
    return fusion_rule_test_dir() / "results" / "detected_fusion_rule.json";
  }
  /// <root>/predictor_build (nn-Meter's name); not created here.
  std::filesystem::path predictor_build_dir() const { return root / "predictor_build"; }
};

/// nn-Meter's file names.
inline constexpr const char* backend_config_name = "backend_config.yaml";
inline constexpr const char* ruletest_config_name = "ruletest_config.yaml";
inline constexpr const char* predictorbuild_config_name = "predictorbuild_config.yaml";

/// What create_workspace writes.
struct create_options {
  workspace_kind kind = workspace_kind::xnnpack;
  /// The backend of a customized workspace (required then, ignored otherwise); the CLI checks
  /// it against the backends of the build, this library does not.
  std::string backend;
  /// Overwrite existing config files (with the defaults). The profile store and the rooms'
  /// folders are never touched.
  bool force = false;
};

/// Writes <dir>/configs/{backend,ruletest,predictorbuild}_config.yaml with the defaults of
/// `o.kind`, every key commented, and returns the workspace as load_workspace reads it back.
/// `dir` and configs/ are created as needed; each file is written to a temporary name and
/// renamed, so a crash leaves the old file or the new one, never half of one. Throws
/// workspace_error when a config file exists and !o.force (naming it), when `dir` is a file,
/// when a customized workspace has no backend, or when writing fails.
[[nodiscard]] workspace create_workspace(const std::filesystem::path& dir, const create_options& o);

/// Reads the three config files of the workspace `dir`. Throws workspace_error when `dir`
/// does not exist or is not a folder, or a config file is missing; config_error for a file
/// whose content is wrong (see the file comment).
[[nodiscard]] workspace load_workspace(const std::filesystem::path& dir);

/// Throws workspace_error, as load_workspace does, when `dir` is not a workspace folder (it
/// does not exist, is not a folder, or has no configs/), without reading the config files
/// (for commands that only read the profile store).
void check_workspace_folder(const std::filesystem::path& dir);

/// Reads one config file (what load_workspace does for each). Throws as load_workspace.
[[nodiscard]] backend_config load_backend_config(const std::filesystem::path& file);
[[nodiscard]] ruletest_config load_ruletest_config(const std::filesystem::path& file);
[[nodiscard]] predictorbuild_config load_predictorbuild_config(const std::filesystem::path& file);

/// The same, from YAML text; `file` names it in errors.
[[nodiscard]] backend_config parse_backend_config(const std::string& yaml, const std::string& file);
[[nodiscard]] ruletest_config parse_ruletest_config(const std::string& yaml,
                                                    const std::string& file);
[[nodiscard]] predictorbuild_config parse_predictorbuild_config(const std::string& yaml,
                                                                const std::string& file);

/// The commented YAML text of a config (what create_workspace writes for the defaults; a
/// loaded config written back reads back equal). backend_config's ADB keys are written when
/// c.kind() is tflite.
[[nodiscard]] std::string to_yaml(const backend_config& c);
[[nodiscard]] std::string to_yaml(const ruletest_config& c);
[[nodiscard]] std::string to_yaml(const predictorbuild_config& c);

/// The default backend_config of a workspace kind (`backend` names a customized one).
[[nodiscard]] backend_config default_backend_config(workspace_kind k,
                                                    const std::string& backend = {});

/// Which config file.
enum class config_file { backend, ruletest, predictorbuild };

/// One key a config file accepts, for documentation and tests: its dotted path
/// ("PROTOCOL.BLOCKS", "KERNELS.<kind>.ROUNDS") and the comment written above it.
struct config_key_info {
  std::string path;
  std::string comment;
};
/// Every key of `f`, in file order.
[[nodiscard]] std::vector<config_key_info> config_keys(config_file f);

/// The candidate closest to `word` (case-insensitive Levenshtein distance), or "" when none is
/// close enough to be a plausible misspelling (distance > max(2, |word| / 3)). For "did you
/// mean" hints: unknown config keys, kernel names, backends.
[[nodiscard]] std::string closest_match(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace nnmeter::builder
