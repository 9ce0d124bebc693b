// Shared helpers of tests/unit/builder_store: fake backend results, keys, the sqlite3 shell.
// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "builder/store/keys.hpp"
#include "builder/store/store.hpp"
#include "support/run_command.hpp"

namespace store_test {

namespace nb = nnmeter::backends;
namespace bs = nnmeter::builder;

/// A plausible result: minimum `min_ms`, the other statistics above it.
inline nb::profile_result result(double min_ms, const std::string& backend = "test-backend",
                                 const std::string& device = "test-device") {
  nb::profile_result r;
  r.latency_ms = min_ms;
  r.stats.min_ms = min_ms;
  r.stats.p10_ms = min_ms * 1.01;
  r.stats.median_ms = min_ms * 1.02;
  r.stats.mean_ms = min_ms * 1.03;
  r.stats.max_ms = min_ms * 1.5;
  r.stats.cv = 0.02;
  r.stats.runs = 250;
  r.backend = backend;
  r.device = device;
  r.pass_min_ms = {min_ms, min_ms * 1.001, min_ms * 1.002};
  r.timestamp = nb::utc_timestamp();
  r.wall_seconds = 0.25;
  return r;
}

inline bs::campaign_info info(const std::string& name = "test") {
  return bs::campaign_info{name, "test-backend", "test-device", nb::measurement_protocol{}};
}

inline std::string config(int i) {
  return bs::canonical_json(nlohmann::json{{"cin", 16 + i}, {"hw", 28}, {"note", "a, \"b\""}});
}

/// Runs `sql` on `db` with the sqlite3 shell; returns its output (stdout and stderr).
inline nnmeter_test::command_result sqlite(const std::string& db, const std::string& sql) {
  return nnmeter_test::run_command(
      "sqlite3 -batch " + nnmeter_test::shell_quote(db) + " " + nnmeter_test::shell_quote(sql),
      true);
}

}  // namespace store_test
