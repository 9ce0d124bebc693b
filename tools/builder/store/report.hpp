// nnmeter builder — the profile store's summary as a table and as JSON (`nnmeter store`).
// SPDX-License-Identifier: MIT
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "builder/store/store.hpp"

namespace nnmeter::builder {

/// The summary as a text table: a header (file, schema, campaigns, backends, devices, span),
/// one line per (purpose, kind) with measured keys, failing keys, failed attempts and time,
/// and a total line.
[[nodiscard]] std::string summary_table(const store_summary& s);

/// The summary as JSON: file, schema_version, rows, measured, failing, failed_attempts,
/// seconds, campaigns, backends, devices, first_at, last_at (null when empty), and kinds: an
/// array of {purpose, kind, measured, failing, failed_attempts, seconds}.
[[nodiscard]] nlohmann::ordered_json summary_json(const store_summary& s);

}  // namespace nnmeter::builder
