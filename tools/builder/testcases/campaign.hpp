// nnmeter builder — the fusion-rule test campaign: every test model measured REPEATS times on a
// backend through the profile store (resumable), each rule decided, the rule file written.
// SPDX-License-Identifier: MIT
#pragma once

#include "backend.hpp"
#include "builder/store/store.hpp"
#include "builder/testcases/testcases.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nnmeter::builder {

/// Options of run_rule_tests.
struct rule_test_run {
  /// The measurement protocol of every test model.
  nnmeter::backends::measurement_protocol protocol;
  /// Asked before each measurement: true stops the campaign (a later run resumes).
  std::function<bool()> stop;
  /// Called after each measurement (progress).
  std::function<void(const measure_event&)> on_event;
};

/// What run_rule_tests did.
struct rule_test_report {
  std::vector<rule_result> results;  ///< one per test case, in the config's order
  measure_report measurements;       ///< what was measured, stored already, failed
  /// False when stop() ended the campaign early: the results are then those of the test cases
  /// whose models were all measured (the others are `skipped`).
  bool complete = true;
  /// The rule file written (empty when not written).
  std::filesystem::path rules_file;
};

/// The store key of repeat `repeat` of model `alias` of test `tc` under `cfg`: the test's
/// settings are part of the key, so a changed HW or CIN is measured anew.
measurement_key rule_test_key(const campaign& c, const rule_testcase& tc, const std::string& alias,
                              int repeat, const rule_test_config& cfg);

/// Runs the fusion-rule tests of `cfg` on `be`: builds the test cases, measures every model of
/// every case `cfg.repeats` times through `store` (repeat by repeat, the models of one repeat
/// back to back, so slow periods of the machine touch all of them), skipping what is stored,
/// recording failures (a failed model skips its test case, never a latency of 0), decides each
/// rule (MON after BF_dwconv_relu) with the backend's declaration beside it, and writes
/// `rules_file` (nn-Meter's detected_fusion_rule.json format; parent folders created; written
/// to a temporary file and renamed) unless it is empty. Throws what the store throws
/// (store_error) and nnmeter::error for a bad config.
rule_test_report run_rule_tests(profile_store& store, nnmeter::backends::backend& be,
                                const rule_test_config& cfg, const rule_test_run& run,
                                const std::filesystem::path& rules_file);

}  // namespace nnmeter::builder
