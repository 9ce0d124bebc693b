// nnmeter backends — profile results as JSON (needs nnmeter::json, i.e. nlohmann-json).
// SPDX-License-Identifier: MIT
//
// The layout `nnmeter profile --json` prints (docs/cli.md, docs/measurement.md):
//   protocol:   threads, warmup_seconds, warmup_min_invokes, warmup_every_pass, blocks,
//               invokes_per_block, passes, normalise_by_reference, seed, clock
//   statistics: min_ms, p10_ms, median_ms, mean_ms, max_ms, cv, runs
#pragma once

#include "backend.hpp"

#include <nlohmann/json.hpp>

namespace nnmeter::backends {

inline nlohmann::ordered_json protocol_to_json(const measurement_protocol& p) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["threads"] = p.threads;
  j["warmup_seconds"] = p.warmup_seconds;
  j["warmup_min_invokes"] = p.warmup_min_invokes;
  j["warmup_every_pass"] = p.warmup_every_pass;
  j["blocks"] = p.blocks;
  j["invokes_per_block"] = p.invokes_per_block;
  j["passes"] = p.passes;
  j["normalise_by_reference"] = p.normalise_by_reference;
  j["seed"] = p.seed;
  j["clock"] = to_string(p.clock);
  return j;
}

inline nlohmann::ordered_json statistics_to_json(const latency_statistics& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["min_ms"] = s.min_ms;
  j["p10_ms"] = s.p10_ms;
  j["median_ms"] = s.median_ms;
  j["mean_ms"] = s.mean_ms;
  j["max_ms"] = s.max_ms;
  j["cv"] = s.cv;
  j["runs"] = s.runs;
  return j;
}

/// latency_ms, statistics, protocol, backend, device, pass_min_ms, blocks, warmup,
/// reference_ms, normalised (null without normalisation), timestamp, wall_seconds.
inline nlohmann::ordered_json profile_result_to_json(const profile_result& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["latency_ms"] = r.latency_ms;
  j["statistics"] = statistics_to_json(r.stats);
  j["protocol"] = protocol_to_json(r.protocol);
  j["backend"] = r.backend;
  j["device"] = r.device;
  j["pass_min_ms"] = r.pass_min_ms;
  nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
  for (const block_summary& b : r.blocks)
    blocks.push_back({{"pass", b.pass}, {"block", b.block}, {"min_ms", b.min_ms},
                      {"median_ms", b.median_ms}});
  j["blocks"] = std::move(blocks);
  j["warmup"] = {{"invokes", r.warmup_invokes}, {"seconds", r.warmup_seconds}};
  j["reference_ms"] = r.reference_ms ? nlohmann::ordered_json(*r.reference_ms) : nullptr;
  j["normalised"] = r.normalised ? nlohmann::ordered_json(*r.normalised) : nullptr;
  j["timestamp"] = r.timestamp;
  j["wall_seconds"] = r.wall_seconds;
  return j;
}

}  // namespace nnmeter::backends
