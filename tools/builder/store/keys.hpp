// nnmeter builder — building the profile store's keys: canonical JSON of a configuration and
// content hashes of models (needs nnmeter::json, i.e. nlohmann-json).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/graph.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace nnmeter::builder {

/// The canonical text of a configuration: compact, object keys sorted, numbers as nlohmann
/// writes them (shortest round-trip form; an integer and a float of equal value differ, so
/// build configurations with consistent types). Throws nnmeter::error for a NaN or an
/// infinity, which JSON cannot represent.
[[nodiscard]] std::string canonical_json(const nlohmann::json& config);
/// The same for insertion-ordered JSON (keys are sorted all the same).
[[nodiscard]] std::string canonical_json(const nlohmann::ordered_json& config);

/// SHA-256 of `bytes` as 64 lowercase hex digits (OpenSSL).
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

/// Content hash of a model: "sha256:" + sha256_hex of its nn-Meter IR JSON (compact): equal
/// graphs (operators, shapes, attributes, names) give equal hashes. Weights are not part of a
/// graph: the backends generate them from the protocol's seed, which the store records.
[[nodiscard]] std::string graph_hash(const nnmeter::graph& g);

}  // namespace nnmeter::builder
