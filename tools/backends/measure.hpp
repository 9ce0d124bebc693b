// nnmeter backends — the measurement protocol engine, independent of any device.
// SPDX-License-Identifier: MIT
//
// Given one or more invokers (each runs one model once), runs the protocol of backend.hpp:
//
//   for pass in 1..P:                       (passes interleaved round-robin over the invokers)
//     for invoker in invokers:              (its memory layout pass mod L when layouts L > 1)
//       warm up: invoke until warmup_seconds passed and warmup_min_invokes were made
//                (every pass, or only the first with warmup_every_pass = false)
//       K blocks of N consecutive invokes, each invoke timed on its own
//
// and summarises each invoker's P x K x N times. The clock is injected, so tests can script
// time and check the statistics and the control flow exactly.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "backend.hpp"

namespace nnmeter::backends {

/// Everything the engine measured for one invoker.
struct measurement {
  /// Statistics over every timed invoke; the protocol's latency is stats.min_ms.
  latency_statistics stats;
  /// Every timed invoke, milliseconds, in execution order (pass, block, invoke).
  std::vector<double> samples_ms;
  /// Minimum of each pass.
  std::vector<double> pass_min_ms;
  /// Minimum of each memory layout (protocol.layouts of them; one with a single layout).
  std::vector<double> layout_min_ms;
  /// Minimum and median of each block, in execution order.
  std::vector<block_summary> blocks;
  /// Warm-up invokes and seconds, summed over passes.
  std::size_t warmup_invokes = 0;
  double warmup_seconds = 0;
};

/// std::chrono::steady_clock in seconds.
clock_function steady_clock_seconds();
/// The calling thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID).
clock_function thread_cpu_clock_seconds();
/// The clock p.clock names.
clock_function protocol_clock(const measurement_protocol& p);

/// The q-quantile (0 <= q <= 1) of sorted values, interpolating linearly between order
/// statistics (numpy's default): position q * (n - 1). Throws backend_error when empty.
double percentile(const std::vector<double>& sorted, double q);

/// Summary of samples (milliseconds). Throws backend_error when `samples_ms` is empty or holds
/// a negative or non-finite value.
latency_statistics compute_statistics(std::vector<double> samples_ms);

/// Runs the protocol over `invokers` (see the file comment): invokers[i][l] runs model i in
/// memory layout l, and each model needs p.layouts of them; result i belongs to model i. An
/// empty clock means protocol_clock(p). Throws backend_error for an invalid protocol, no
/// invokers, a model with another number of layouts, an empty invoker, or a clock that runs
/// backwards; exceptions of an invoker propagate.
std::vector<measurement> measure_layouts(
    const std::vector<std::vector<std::function<void()>>>& invokers, const measurement_protocol& p,
    const clock_function& clock = {});

/// measure_layouts with one invoker per model serving every layout (for callers that have nothing
/// to lay out anew, and for tests of the statistics).
std::vector<measurement> measure_interleaved(const std::vector<std::function<void()>>& invokers,
                                             const measurement_protocol& p,
                                             const clock_function& clock = {});

/// measure_interleaved({invoker}, p, clock).front().
measurement measure(const std::function<void()>& invoker, const measurement_protocol& p,
                    const clock_function& clock = {});

/// The latency the protocol reports for m: m.stats.min_ms with one layout, the median of
/// m.layout_min_ms with several.
double reported_latency(const measurement& m, const measurement_protocol& p);

/// A profile_result carrying m's figures and the protocol (backend, device, timestamp and
/// wall time are left to the caller).
profile_result make_profile_result(const measurement& m, const measurement_protocol& p);

}  // namespace nnmeter::backends
