// nnmeter builder — the fusion-rule tester: nn-Meter's test cases as graphs, and the decision of
// each rule from repeated measurements (docs/builder.md, "Fusion-rule tester").
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nnmeter::builder {

/// The rule tester's settings: nn-Meter's ruletest_config.yaml keys and the project's own.
struct rule_test_config {
  std::int64_t hw = 28;           ///< HW: spatial size of the test inputs
  std::int64_t cin = 64;          ///< CIN: input channels
  std::int64_t shape_1d = 428;    ///< SHAPE_1D: length of 1-D inputs
  std::int64_t cout = 128;        ///< COUT: conv / fc output channels
  std::int64_t kernel_size = 3;   ///< KERNEL_SIZE
  std::string padding = "same";   ///< PADDING: same | valid
  std::int64_t strides = 1;       ///< STRIDES: conv strides
  std::int64_t pool_strides = 2;  ///< POOL_STRIDES
  double emp_alpha = 0.5;         ///< EMP_ALPHA: α of the fusion criterion
  /// BASIC_TESTCASES: "a_b" pairs of test operators; empty = default_basic_testcases().
  std::vector<std::string> basic_testcases;
  /// OTHER_TESTCASES: "MON" (multiple outbound nodes).
  std::vector<std::string> other_testcases{"MON"};
  /// LAYERS_1D: operators that take a 1-D input; a pair with one of them gets [1, SHAPE_1D].
  std::vector<std::string> layers_1d{"fc"};
  /// DETAIL: write the latencies into the detected rules.
  bool detail = false;
  /// Independent measurements of every test model (the project's REPEATS, >= 2): the
  /// decision is taken on their spread.
  int repeats = 5;
  /// A rule is decided only when its margin is more than this many standard errors from 0.
  double noise_sigmas = 2.0;
};

/// nn-Meter's 79 default BASIC_TESTCASES: the 9 x 9 grid over add, avgpool, concat, conv,
/// convtrans, dwconv, fc, relu, reshape without the 8 fc / spatial pairs, plus bn_relu, conv_bn,
/// conv_hswish, conv_se, dwconv_bn, se_relu.
std::vector<std::string> default_basic_testcases();

/// The test operators (nn-Meter's names): conv, dwconv, convtrans, bn, globalavgpool, maxpool,
/// avgpool, se, fc, relu, relu6, sigmoid, hswish, swish, reshape, add, concat, flatten, split.
const std::vector<std::string>& test_operator_names();

/// The fusion-detector type of a test operator (the name the rule must carry to take effect):
/// globalavgpool -> gap, relu6 -> relu, flatten -> reshape, others unchanged. nn-Meter writes
/// its tester's names, which leaves such rules inert; we write the detector's.
std::string detector_type(const std::string& test_op);

/// One model of a test case: its alias ("conv", "relu", "block", "conv_1"...) and graph.
struct test_model {
  std::string alias;
  nnmeter::graph graph;
};

/// One test case: BF_<a>_<b> (three models: op1 alone, op2 alone on op1's output, the block
/// op1 -> op2) or MON (a dwconv with two consumers and its part models).
struct rule_testcase {
  /// Test name, with nn-Meter's operator names: "BF_conv_relu", "MON".
  std::string name;
  /// Rule name as written to detected_fusion_rule.json: the detector's types
  /// ("BF_gap_relu" for the test BF_globalavgpool_relu).
  std::string rule_name;
  std::string op1, op2;  ///< empty for MON
  std::string alias1, alias2;  ///< model aliases of op1 and op2 ("conv", or "conv_1" / "conv_2")
  bool mon = false;
  std::vector<test_model> models;
};

/// The test cases of `cfg` (basic pairs then OTHER_TESTCASES), every graph built with
/// graph_builder. Throws nnmeter::error naming the pair for an unknown operator, a pair whose
/// shapes cannot be built (e.g. fc on a spatial tensor), or an out-of-range setting.
std::vector<rule_testcase> make_rule_testcases(const rule_test_config& cfg);

/// Verdict of one rule.
enum class rule_verdict {
  fused,         ///< the block is faster than its parts by more than the criterion, beyond noise
  not_fused,     ///< it is not, beyond noise
  undetermined,  ///< the margin is inside the measured noise: no guess
  skipped,       ///< not measured (a model failed) or a dependency did not hold
};
const char* to_string(rule_verdict v) noexcept;

/// Mean and sample standard deviation of repeated measurements, milliseconds.
struct latency_estimate {
  double mean_ms = 0;
  double sd_ms = 0;
  std::size_t n = 0;
};
latency_estimate estimate(const std::vector<double>& samples_ms);

/// The decision of one test case.
struct rule_result {
  std::string name;       ///< test name ("BF_conv_relu")
  std::string rule_name;  ///< rule name written ("BF_conv_relu", "BF_gap_relu")
  rule_verdict verdict = rule_verdict::skipped;
  /// Latency of each model alias, and for basic cases "ops" = op1 + op2.
  std::map<std::string, latency_estimate> latency;
  /// Basic: mean over repeats of T(op1) + T(op2) - T(block) - α min(T(op1), T(op2)), and its
  /// standard error; fused when margin > noise_sigmas * standard error.
  double margin_ms = 0;
  double margin_se_ms = 0;
  /// MON: the case whose summed latency is closest to the block ("case1" = no fusion across
  /// the two consumers, "case2" = the dwconv fused into its relu->relu branch, "case3" =
  /// the dwconv recomputed for one branch), kept (nn-Meter loses it).
  std::string mon_case;
  /// What the backend declares about this pair (std::nullopt: it does not say).
  std::optional<bool> declared;
  /// The value written as `obey`: the verdict when decided; when undetermined, the
  /// backend's declaration if it has one, else unset (the detector then does not fuse).
  std::optional<bool> obey;
  /// Why skipped / how obey was chosen.
  std::string note;
};

/// Decides test case `tc` from the repeated latencies of its models (alias -> one latency per
/// repeat, ms; every alias must have the same number >= 2 of repeats). `declared` is the
/// backend's own statement about the pair, if any. For MON, `bf_dwconv_relu` is the verdict of
/// its dependency BF_dwconv_relu.
rule_result decide_rule(const rule_testcase& tc,
                        const std::map<std::string, std::vector<double>>& latencies_ms,
                        const rule_test_config& cfg, std::optional<bool> declared = std::nullopt,
                        std::optional<rule_verdict> bf_dwconv_relu = std::nullopt);

/// detected_fusion_rule.json in nn-Meter's format ({"BF_conv_relu": {"obey": true, ...}}),
/// with the project's fields beside obey: verdict, margin_ms, margin_se_ms, repeats,
/// declared / agrees_with_declaration, mon case; latencies ("<mean> +- <sd>", ms) when
/// cfg.detail. The text is read back by nnmeter::io::read_fusion_rules.
std::string detected_rules_json(const std::vector<rule_result>& results,
                                const rule_test_config& cfg);

}  // namespace nnmeter::builder
