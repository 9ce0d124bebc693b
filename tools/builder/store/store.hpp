// nnmeter builder — the profile store: every measurement of a workspace in one SQLite database
// (<workspace>/profile_store.sqlite), each committed on its own as it completes, so a campaign
// killed at any point (Ctrl-C, SIGKILL, power loss) resumes with at most the measurement in
// flight lost and nothing measured twice (docs/builder.md, "Profile store").
// SPDX-License-Identifier: MIT
//
// A measurement is identified by its key: what was measured (purpose, kind, canonical
// configuration) and where (backend, device). A key has at most one successful row (a unique
// index says so); failed attempts are rows of their own with the error text and no latency,
// kept as history, and a key with failures but no success is measured again by the next
// campaign. A campaign's code is short:
//
//   auto store = nnmeter::builder::profile_store::open(ws.store_file());
//   const auto c = store.begin_campaign({"build-predictor", be->name(), be->device(), p});
//   std::vector<nnmeter::builder::measurement_key> keys;
//   for (const nlohmann::json& cfg : configs)
//     keys.push_back(c.key(nnmeter::builder::measurement_purpose::kernel, "conv-bn-relu",
//                          nnmeter::builder::canonical_json(cfg)));
//   store.measure_all(c, keys, [&](const nnmeter::builder::measurement_key& k) {
//     const nnmeter::graph g = make_model(k);        // throws: recorded as a failure
//     return nnmeter::builder::measured_model{be->profile(g, p), nnmeter::builder::graph_hash(g)};
//   });
//
// The header needs neither SQLite nor nlohmann-json (keys.hpp has the JSON helpers).
#pragma once

#include <nnmeter/error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend.hpp"  // nnmeter::backends::profile_result, measurement_protocol

namespace nnmeter::builder {

/// The schema version this nnmeter writes and reads. A store with a newer version is refused.
inline constexpr int profile_store_schema_version = 1;

/// An error of the profile store: it cannot be opened or created (missing or read-only
/// folder, not an SQLite file, damaged, a newer schema), a write failed (disk full, I/O error),
/// or a request is invalid. what() starts with the database file.
class store_error : public nnmeter::error {
 public:
  /// `sqlite_code` is SQLite's extended result code when SQLite reported the error, else 0.
  store_error(std::string file, const std::string& message, int sqlite_code = 0);
  const std::string& file() const noexcept { return file_; }
  int sqlite_code() const noexcept { return code_; }
  /// The disk (or the store's max_page_count) is full: nothing of the write was recorded.
  bool disk_full() const noexcept;

 private:
  std::string file_;
  int code_ = 0;
};

/// record_success for a key that already has a successful row (another process measured it
/// in the meantime). measure_all counts such a key as already stored.
class duplicate_measurement : public store_error {
 public:
  using store_error::store_error;
};

/// record_success with a result that is no latency (zero, negative, not finite, statistics out
/// of order) or a key that is incomplete. measure_all records it as a failure instead.
class invalid_measurement : public store_error {
 public:
  using store_error::store_error;
};

/// What a measurement was for.
enum class measurement_purpose {
  testcase,  ///< a model of the fusion-rule tester (kind = test name, e.g. "BF_conv_relu")
  kernel,    ///< a sampled kernel configuration (kind = kernel kind, e.g. "conv-bn-relu")
  model,     ///< a whole model (kind = the model's name)
};
/// "testcase", "kernel", "model".
const char* to_string(measurement_purpose p) noexcept;
/// Parses to_string's spellings.
std::optional<measurement_purpose> parse_measurement_purpose(std::string_view s) noexcept;

/// Identity of a measurement: what was measured, and where.
struct measurement_key {
  measurement_purpose purpose = measurement_purpose::kernel;
  /// Kernel kind, test name or model name (see measurement_purpose); not empty.
  std::string kind;
  /// The canonical configuration (canonical_json of the sampled configuration, a test model's
  /// alias and repeat, ...): equal configurations must give equal strings. Not empty.
  std::string config;
  /// Backend registry key and device description (backend::name(), backend::device()).
  std::string backend;
  std::string device;

  friend bool operator==(const measurement_key& a, const measurement_key& b) {
    return a.purpose == b.purpose && a.kind == b.kind && a.config == b.config &&
           a.backend == b.backend && a.device == b.device;
  }
  friend bool operator!=(const measurement_key& a, const measurement_key& b) { return !(a == b); }
  friend bool operator<(const measurement_key& a, const measurement_key& b);
};

enum class measurement_status { ok, failed };
/// "ok", "failed".
const char* to_string(measurement_status s) noexcept;

/// One row of the store.
struct stored_measurement {
  std::int64_t id = 0;        ///< row id, increasing in recording order
  std::int64_t campaign = 0;  ///< the campaign that recorded it
  measurement_key key;
  measurement_status status = measurement_status::ok;
  /// The error text of a failed attempt (empty when ok).
  std::string error;
  /// Content hash of the model that ran (graph_hash), empty when unknown (a failure before
  /// the model was built).
  std::string model_hash;
  /// The measurement protocol as JSON (registry/result_json.hpp's protocol_to_json layout).
  std::string protocol_json;
  /// The latency and statistics, milliseconds: present exactly when status is ok.
  std::optional<double> latency_ms;
  std::optional<nnmeter::backends::latency_statistics> stats;
  /// Pass minima, block summaries, warm-up and reference figures as JSON (ok rows; "" else).
  std::string detail_json;
  /// When the measurement started and when it was recorded (UTC, ISO 8601), and how long it
  /// took, seconds (the backend's wall time; for a failure, until the error).
  std::string started_at;
  std::string finished_at;
  double seconds = 0;
};

/// Who measures: one campaign row per run of a command. Its backend and device are those of
/// the keys it records, its protocol that of its failures (successes carry their own).
struct campaign_info {
  std::string name;  ///< the command, e.g. "detect-rules", "build-predictor"
  std::string backend;
  std::string device;
  nnmeter::backends::measurement_protocol protocol;
};

/// A campaign begun with profile_store::begin_campaign.
struct campaign {
  std::int64_t id = 0;
  campaign_info info;
  /// A key of this campaign's backend and device.
  measurement_key key(measurement_purpose purpose, std::string kind, std::string config) const {
    return measurement_key{purpose, std::move(kind), std::move(config), info.backend, info.device};
  }
};

/// What a measure function returns: the backend's result and the hash of the model it ran.
struct measured_model {
  nnmeter::backends::profile_result result;
  std::string model_hash;
};

/// Thrown by a measure function to record a failure with the hash of the model that failed.
class measurement_failure : public nnmeter::error {
 public:
  measurement_failure(std::string model_hash, const std::string& message)
      : nnmeter::error(message), model_hash_(std::move(model_hash)) {}
  const std::string& model_hash() const noexcept { return model_hash_; }

 private:
  std::string model_hash_;
};

/// Measures one key. Any std::exception it throws (but store_error) is recorded as a failure
/// of that key with its what() as the error text.
using measure_function = std::function<measured_model(const measurement_key&)>;

/// What happened to one key in measure_all.
struct measure_event {
  enum class outcome {
    already_stored,  ///< it had a successful row: not measured
    measured,        ///< measured and recorded
    failed,          ///< the measurement failed; the failure was recorded
  };
  outcome what = outcome::measured;
  const measurement_key* key = nullptr;
  std::size_t index = 0;  ///< position among the distinct keys, 0-based
  std::size_t total = 0;  ///< distinct keys
  /// The recorded row (measured or failed), or the stored success (already_stored).
  stored_measurement row;
};

struct measure_options {
  /// Asked before each measurement; true stops the campaign there (a later run resumes).
  /// E.g. a SIGINT flag, or a time budget.
  std::function<bool()> stop;
  /// Called after each key, in order (progress bars, logs).
  std::function<void(const measure_event&)> on_event;
};

struct measure_report {
  std::size_t requested = 0;       ///< distinct keys given
  std::size_t already_stored = 0;  ///< had a successful row before (or got one from elsewhere)
  std::size_t measured = 0;        ///< measured and recorded in this call
  std::size_t failed = 0;          ///< failed in this call (recorded as failures)
  std::size_t not_attempted = 0;   ///< left when stop() said so
  bool stopped = false;
  double seconds = 0;  ///< wall time of the call
};

/// Filter of profile_store::measurements; an empty field matches everything.
struct measurement_filter {
  std::optional<measurement_purpose> purpose;
  std::optional<std::string> kind;
  std::optional<std::string> backend;
  std::optional<std::string> device;
  std::optional<measurement_status> status;
};

/// Counts of one (purpose, kind).
struct kind_summary {
  measurement_purpose purpose = measurement_purpose::kernel;
  std::string kind;
  std::size_t measured = 0;         ///< keys with a successful row
  std::size_t failed_attempts = 0;  ///< failed rows (history, retried or not)
  std::size_t failing = 0;          ///< keys with failures and no success (retried next run)
  double seconds = 0;               ///< time of every row, failures included
};

/// profile_store::summary().
struct store_summary {
  std::string file;
  int schema_version = profile_store_schema_version;
  std::size_t rows = 0;
  std::size_t measured = 0;
  std::size_t failed_attempts = 0;
  std::size_t failing = 0;
  double seconds = 0;
  std::size_t campaigns = 0;
  /// Distinct backends and devices of the rows, sorted.
  std::vector<std::string> backends;
  std::vector<std::string> devices;
  /// Earliest start and latest record, "" for an empty store.
  std::string first_at;
  std::string last_at;
  /// Per (purpose, kind), sorted by purpose then kind.
  std::vector<kind_summary> kinds;
};

/// How to open a store.
struct store_options {
  /// Read only: the file must exist; nothing is created or written.
  bool read_only = false;
  /// How long to wait for another process's write lock, milliseconds.
  int busy_timeout_ms = 10000;
  /// Run SQLite's PRAGMA quick_check when opening (refuses a damaged file up front).
  bool check_integrity = true;
  /// Caps the database at this many pages (SQLite's max_page_count; 0 = no cap): a write
  /// beyond it fails as on a full disk. A quota, and how the tests simulate a full disk.
  std::int64_t max_page_count = 0;
};

/// The profile store. Move-only; one object per thread (open one per thread or process: the
/// database arbitrates between them).
class profile_store {
 public:
  /// Opens (creating unless read_only) the store at `file`: WAL journal, synchronous = FULL,
  /// foreign keys, busy timeout, schema created or checked. Throws store_error naming the
  /// file: its folder is missing or not writable, it is not an SQLite database or is damaged,
  /// it is not a profile store, its schema version is newer than profile_store_schema_version.
  [[nodiscard]] static profile_store open(const std::filesystem::path& file,
                                          const store_options& options = {});

  profile_store(profile_store&&) noexcept;
  profile_store& operator=(profile_store&&) noexcept;
  ~profile_store();

  const std::filesystem::path& file() const noexcept;

  /// Records a new campaign and returns it.
  [[nodiscard]] campaign begin_campaign(const campaign_info& info);

  /// The successful measurement of `key`, if one is stored.
  [[nodiscard]] std::optional<stored_measurement> lookup(const measurement_key& key) const;

  /// Every row of `key` (failed attempts and the success, if any), in recording order.
  [[nodiscard]] std::vector<stored_measurement> history(const measurement_key& key) const;

  /// The keys of `keys` without a successful row, in order, without repeats.
  [[nodiscard]] std::vector<measurement_key> pending(
      const std::vector<measurement_key>& keys) const;

  /// Records a successful measurement of `key` in its own committed transaction and returns
  /// the row. Throws invalid_measurement for an incomplete key or a result that is no latency
  /// (nothing recorded), duplicate_measurement when the key already has a successful row,
  /// store_error when the write fails (nothing recorded).
  stored_measurement record_success(const campaign& c, const measurement_key& key,
                                    const measured_model& m);

  /// Records a failed attempt at `key` (its own committed transaction): error text, the time
  /// it took, no latency. Throws invalid_measurement for an incomplete key or an empty error,
  /// store_error when the write fails.
  stored_measurement record_failure(const campaign& c, const measurement_key& key,
                                    const std::string& error, double seconds,
                                    const std::string& model_hash = {});

  /// Measures every key of `keys` (repeats ignored) that has no successful row, in order, with
  /// `fn`, and records each result as it completes: a success, or a failure with the error
  /// text when `fn` throws or returns no latency. Stops early when options.stop() says so.
  /// store_error (a full disk ...) propagates: what was recorded before stays.
  measure_report measure_all(const campaign& c, const std::vector<measurement_key>& keys,
                             const measure_function& fn, const measure_options& options = {});

  /// The rows matching `f`, in recording order.
  [[nodiscard]] std::vector<stored_measurement> measurements(
      const measurement_filter& f = {}) const;

  /// Counts per purpose and kind, failures, time spent.
  [[nodiscard]] store_summary summary() const;

  /// Writes every row to `csv` (RFC 4180, a header line, columns as docs/builder.md lists),
  /// through a temporary file renamed into place. Throws store_error naming `csv`.
  void export_csv(const std::filesystem::path& csv) const;

  /// SQLite's PRAGMA integrity_check: "ok", or its first complaints.
  [[nodiscard]] std::string integrity_check() const;

 private:
  struct impl;
  explicit profile_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace nnmeter::builder
