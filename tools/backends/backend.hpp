// nnmeter backends — the device-backend interface: measurement protocol, results, backends.
// SPDX-License-Identifier: MIT
//
// docs/measurement.md describes the protocol, why it is what it is, and what every result
// records. The protocol engine itself (independent of any device) is measure.hpp.
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/ir/graph.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnmeter::backends {

/// Errors of the backend layer: an invalid protocol, an unknown or unavailable backend, a
/// request the backend cannot honour. Graphs a backend cannot run are nnmeter::unsupported_error.
class backend_error : public nnmeter::error {
 public:
  using nnmeter::error::error;
};

/// Which clock times the invokes.
enum class measurement_clock {
  /// Wall time, std::chrono::steady_clock: what a user waits, what a phone's benchmark tool
  /// reports. Includes time the thread was preempted by other processes.
  steady,
  /// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): excludes time the thread was
  /// not running, so it survives a machine shared with other busy processes. Valid only for
  /// backends that run the model on the calling thread, one thread (threads == 1).
  thread_cpu,
};

/// "steady" or "thread-cpu".
const char* to_string(measurement_clock c) noexcept;
/// Parses to_string's spellings; throws backend_error listing them otherwise.
measurement_clock parse_measurement_clock(const std::string& text);

/// How a latency is measured (docs/measurement.md). The defaults are the recommended recipe
/// of the project's noise study on a shared 2-vCPU machine: 1 thread, >= 0.2 s time-based
/// warm-up, 5 blocks of 50 consecutive invokes, 3 passes round-robin interleaved over the
/// models measured together, the minimum as the reported latency.
struct measurement_protocol {
  /// Threads the backend may use. 1 is the recipe; more is allowed where the backend supports
  /// it, but on a shared 2-vCPU machine its outliers are catastrophic (CV of 40-280 %).
  int threads = 1;
  /// Time-based warm-up, seconds: invokes are repeated until this much time has passed (and
  /// at least warmup_min_invokes were made) before a model's blocks start.
  double warmup_seconds = 0.2;
  /// Lower bound on the warm-up invokes, whatever warmup_seconds says.
  int warmup_min_invokes = 1;
  /// Warm up again before each pass (true), or only before the first pass (false). Other
  /// models ran in between, so their data and code evicted this one's from the caches.
  bool warmup_every_pass = true;
  /// Blocks of consecutive, individually timed invokes per model and pass (K).
  int blocks = 5;
  /// Invokes per block (N); `nnmeter profile --runs`.
  int invokes_per_block = 50;
  /// Passes (P). Pass p measures every model once, in order, before pass p + 1 starts, so slow
  /// and fast periods of the machine are spread over all models.
  int passes = 3;
  /// Memory layouts (L): each model is prepared L times, every copy with buffers of its own and
  /// all of them alive while measuring, and pass p runs copy p mod L (so passes must be a
  /// multiple of L). One preparation of a memory-heavy model can run consistently 10-20 %
  /// slower than the next (where its buffers land in memory; on a shared machine also the slow
  /// period a copy's passes fall in): one process measured a model at 14.9 ms, the next at
  /// 17.0 ms (docs/measurement.md). With L > 1 the reported latency is the median over the
  /// copies of each copy's minimum rather than one copy's. 1 (the default) is one preparation
  /// and the plain minimum.
  int layouts = 1;
  /// The most layouts a protocol may ask for: every copy of a model is in memory at once.
  static constexpr int max_layouts = 64;
  /// Also measure the backend's reference kernel, interleaved with the models, and report
  /// latency / reference (in the noise study it cut the drift between processes from 4.7 % to
  /// 3.8 %; it helps only where the reference kernel feels the same slow periods).
  bool normalise_by_reference = false;
  /// Seed of the generated weights and inputs.
  std::uint64_t seed = 1;
  /// The clock of the timed invokes and of the warm-up.
  measurement_clock clock = measurement_clock::steady;
};

/// Throws backend_error naming the field when `p` cannot be run (blocks < 1, a negative or
/// non-finite warm-up, a run count that overflows, thread_cpu with threads > 1, ...).
void validate(const measurement_protocol& p);

/// Summary of individually timed invokes, milliseconds.
struct latency_statistics {
  double min_ms = 0;
  /// 10th percentile, linear interpolation between order statistics (numpy's default).
  double p10_ms = 0;
  /// 50th percentile, as p10.
  double median_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
  /// Coefficient of variation: sample standard deviation (n - 1) / mean; 0 for one run.
  double cv = 0;
  /// Number of timed invokes summarised.
  std::size_t runs = 0;
};

/// One block of one pass of one model.
struct block_summary {
  int pass = 0;
  int block = 0;
  double min_ms = 0;
  double median_ms = 0;
};

/// The measurement of one model under a protocol.
struct profile_result {
  /// The reported latency: the minimum over every timed invoke of every block and pass
  /// (equal to stats.min_ms) with one memory layout; with protocol.layouts > 1, the median of
  /// layout_min_ms.
  double latency_ms = 0;
  /// Statistics over every timed invoke (blocks x invokes_per_block x passes).
  latency_statistics stats;
  /// The protocol the result was measured with.
  measurement_protocol protocol;
  /// Backend name (make_backend's key) and the device it ran on.
  std::string backend;
  std::string device;
  /// Minimum of each pass, in pass order.
  std::vector<double> pass_min_ms;
  /// With protocol.layouts > 1: the minimum of each memory layout (copy l ran passes l, l + L,
  /// ...); empty with one layout.
  std::vector<double> layout_min_ms;
  /// Per-block minimum and median, in execution order.
  std::vector<block_summary> blocks;
  /// Warm-up actually done for this model: invokes and seconds, summed over passes.
  std::size_t warmup_invokes = 0;
  double warmup_seconds = 0;
  /// With protocol.normalise_by_reference: the reference kernel's minimum over the same
  /// passes, and latency_ms / reference_ms.
  std::optional<double> reference_ms;
  std::optional<double> normalised;
  /// When the measurement started (UTC, ISO 8601, e.g. "2026-11-25T14:13:14Z") and how long
  /// the whole profile call took, wall-clock seconds (including preparing the models).
  std::string timestamp;
  double wall_seconds = 0;
};

/// A model made ready to run on a backend (weights generated and packed, inputs filled):
/// invoke() runs it once, synchronously.
class prepared_model {
 public:
  virtual ~prepared_model() = default;
  virtual void invoke() = 0;
};

/// Seconds on a monotonic clock. Injected into the protocol engine so tests can script time.
using clock_function = std::function<double()>;

/// A device backend: prepares graphs and measures them under a protocol.
///
/// Implementers provide name(), device() and prepare() (and prepare_reference() for
/// normalisation); profile() and profile_interleaved() run the protocol engine (measure.hpp)
/// over the prepared models. A backend that measures differently (a phone's benchmark tool)
/// overrides them.
class backend {
 public:
  virtual ~backend() = default;

  /// The registry key, e.g. "xnnpack".
  virtual std::string name() const = 0;
  /// What the measurements run on, e.g. "AMD EPYC (family 26, model 2; 2 logical CPUs), x86_64".
  virtual std::string device() const = 0;
  /// The runtime that executes the models and its version, e.g. "XNNPACK
  /// 0.0~git20220216.ae108ef-2 (Debian libxnnpack-dev), 1 thread"; empty when unknown.
  /// `nnmeter connect` prints it and predictors record it.
  virtual std::string runtime() const { return {}; }

  /// Makes `g` ready to run. Throws nnmeter::unsupported_error for a graph the backend cannot
  /// run, and backend_error for a protocol it cannot honour (e.g. threads it does not offer).
  virtual std::unique_ptr<prepared_model> prepare(const nnmeter::graph& g,
                                                  const measurement_protocol& p) = 0;
  /// The reference kernel for normalise_by_reference. The default throws backend_error.
  virtual std::unique_ptr<prepared_model> prepare_reference(const measurement_protocol& p);

  /// Measures one graph: profile_interleaved({&g}, p).front().
  virtual profile_result profile(const nnmeter::graph& g, const measurement_protocol& p);
  /// Measures several graphs with their passes interleaved round-robin (pass 1 of every graph,
  /// then pass 2 of every graph, ...). Every graph is prepared first; results are in input
  /// order. Throws what prepare() throws, before anything is measured.
  virtual std::vector<profile_result> profile_interleaved(
      const std::vector<const nnmeter::graph*>& graphs, const measurement_protocol& p);

  /// What the backend's runtime is known to do with the pair producer -> consumer (fusion
  /// detector types: "conv", "relu", "bn", ...): true = runs them as one kernel, false = does
  /// not, std::nullopt = the backend does not say. The fusion-rule tester reports where its
  /// timing and this declaration agree, and uses the declaration for pairs whose timing is
  /// inside the noise. The default says nothing.
  virtual std::optional<bool> declared_fusion(const std::string& producer,
                                              const std::string& consumer) const {
    (void)producer;
    (void)consumer;
    return std::nullopt;
  }

  /// Replaces every clock of the protocol engine, the wall time of results included (default:
  /// the protocol's clock for invokes, std::chrono::steady_clock for wall time). For tests.
  void set_clock(clock_function clock) { clock_ = std::move(clock); }

 protected:
  clock_function clock_;
};

/// The backends this build offers, by registry key.
std::vector<std::string> available_backends();

/// A new backend by registry key ("xnnpack"). Throws backend_error listing the available
/// backends for an unknown key, or saying why a known backend is not in this build.
std::unique_ptr<backend> make_backend(const std::string& name);

/// This machine's CPU, from /proc/cpuinfo and uname:
/// "<model name> (family <f>, model <m>; <n> logical CPUs), <machine>", e.g.
/// "AMD EPYC (family 26, model 2; 2 logical CPUs), x86_64"; parts the system does not report
/// are left out ("unknown CPU" without a model name).
std::string host_cpu_description();

/// The current time, UTC, ISO 8601 with seconds ("2026-11-25T14:13:14Z").
std::string utc_timestamp();

}  // namespace nnmeter::backends
