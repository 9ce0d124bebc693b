// nnmeter backends — profile results as JSON (needs nnmeter::json, i.e. nlohmann-json).
// SPDX-License-Identifier: MIT
//
// The layout `nnmeter profile --json` prints (docs/cli.md, docs/measurement.md):
//   protocol:   threads, warmup_seconds, warmup_min_invokes, warmup_every_pass, blocks,
//               invokes_per_block, passes, normalise_by_reference, seed, clock, and
//               layouts when it is not 1 (so protocols of one layout keep the bytes, and the
//               store keys, they had before layouts existed)
//   statistics: min_ms, p10_ms, median_ms, mean_ms, max_ms, cv, runs
#pragma once

#include "backend.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

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
  if (p.layouts != 1) j["layouts"] = p.layouts;
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

/// latency_ms, statistics, protocol, backend, device, pass_min_ms, layout_min_ms (only with
/// several layouts), blocks, warmup, reference_ms, normalised (null without normalisation),
/// timestamp, wall_seconds.
inline nlohmann::ordered_json profile_result_to_json(const profile_result& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["latency_ms"] = r.latency_ms;
  j["statistics"] = statistics_to_json(r.stats);
  j["protocol"] = protocol_to_json(r.protocol);
  j["backend"] = r.backend;
  j["device"] = r.device;
  j["pass_min_ms"] = r.pass_min_ms;
  if (!r.layout_min_ms.empty()) j["layout_min_ms"] = r.layout_min_ms;
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

/// The protocol protocol_to_json wrote (a predictor package's measurement_protocol, a stored
/// measurement's protocol): every key of that layout is read when present, missing keys keep
/// their defaults, a key "statistic" must say "min" (the only statistic measurements report),
/// and any other key, a value of the wrong type or a protocol validate() refuses throws
/// backend_error naming `where` and the key.
template <class Json>
measurement_protocol protocol_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw backend_error(where + ": the measurement protocol is not an object");
  measurement_protocol p;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    auto bad = [&](const char* what) {
      throw backend_error(where + ": measurement protocol key '" + k + "' " + what);
    };
    auto integer = [&](int& out) {
      if (!v.is_number_integer()) bad("must be an integer");
      const auto x = v.template get<std::int64_t>();
      if (x < 0 || x > 1000000000) bad("is out of range");
      out = static_cast<int>(x);
    };
    if (k == "threads") integer(p.threads);
    else if (k == "warmup_min_invokes") integer(p.warmup_min_invokes);
    else if (k == "blocks") integer(p.blocks);
    else if (k == "invokes_per_block") integer(p.invokes_per_block);
    else if (k == "passes") integer(p.passes);
    else if (k == "layouts") integer(p.layouts);
    else if (k == "warmup_seconds") {
      if (!v.is_number()) bad("must be a number");
      p.warmup_seconds = v.template get<double>();
    } else if (k == "warmup_every_pass" || k == "normalise_by_reference") {
      if (!v.is_boolean()) bad("must be true or false");
      (k == "warmup_every_pass" ? p.warmup_every_pass : p.normalise_by_reference) =
          v.template get<bool>();
    } else if (k == "seed") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.template get<std::int64_t>() >= 0))
        bad("must be a non-negative integer");
      p.seed = v.template get<std::uint64_t>();
    } else if (k == "clock") {
      if (!v.is_string()) bad("must be a string");
      try {
        p.clock = parse_measurement_clock(v.template get<std::string>());
      } catch (const backend_error& e) {
        throw backend_error(where + ": measurement protocol key 'clock': " + e.what());
      }
    } else if (k == "statistic") {
      if (!v.is_string() || v.template get<std::string>() != "min")
        bad("must be \"min\" (the statistic every measurement reports)");
    } else {
      bad("is not a protocol key");
    }
  }
  try {
    validate(p);
  } catch (const backend_error& e) {
    throw backend_error(where + ": " + e.what());
  }
  return p;
}

}  // namespace nnmeter::backends
