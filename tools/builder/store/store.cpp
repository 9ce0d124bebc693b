// nnmeter builder — the profile store (store.hpp) on SQLite through SQLiteCpp.
// SPDX-License-Identifier: MIT
#include "builder/store/store.hpp"

#include <nnmeter/version.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

#include "registry/result_json.hpp"

namespace nnmeter::builder {

namespace fs = std::filesystem;
namespace nb = nnmeter::backends;

// ---- small types --------------------------------------------------------------------------

store_error::store_error(std::string file, const std::string& message, int sqlite_code)
    : nnmeter::error(file + ": " + message), file_(std::move(file)), code_(sqlite_code) {}

bool store_error::disk_full() const noexcept { return (code_ & 0xff) == SQLITE_FULL; }

const char* to_string(measurement_purpose p) noexcept {
  switch (p) {
    case measurement_purpose::testcase:
      return "testcase";
    case measurement_purpose::kernel:
      return "kernel";
    case measurement_purpose::model:
      return "model";
  }
  return "invalid";
}

std::optional<measurement_purpose> parse_measurement_purpose(std::string_view s) noexcept {
  for (measurement_purpose p :
       {measurement_purpose::testcase, measurement_purpose::kernel, measurement_purpose::model})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

const char* to_string(measurement_status s) noexcept {
  return s == measurement_status::ok ? "ok" : "failed";
}

bool operator<(const measurement_key& a, const measurement_key& b) {
  return std::tie(a.purpose, a.kind, a.config, a.backend, a.device) <
         std::tie(b.purpose, b.kind, b.config, b.backend, b.device);
}

// ---- schema -------------------------------------------------------------------------------

namespace {

// Version 1. A later version adds a migration from each older one in migrate().
constexpr const char* schema_sql = R"sql(
CREATE TABLE schema_version (
  version    INTEGER NOT NULL,
  written_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE campaigns (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  backend    TEXT NOT NULL,
  device     TEXT NOT NULL,
  protocol   TEXT NOT NULL,
  started_at TEXT NOT NULL,
  pid        INTEGER NOT NULL,
  written_by TEXT NOT NULL
);
CREATE TABLE measurements (
  id          INTEGER PRIMARY KEY,
  campaign    INTEGER NOT NULL REFERENCES campaigns(id),
  purpose     TEXT NOT NULL CHECK (purpose IN ('testcase', 'kernel', 'model')),
  kind        TEXT NOT NULL CHECK (length(kind) > 0),
  config      TEXT NOT NULL CHECK (length(config) > 0),
  backend     TEXT NOT NULL CHECK (length(backend) > 0),
  device      TEXT NOT NULL CHECK (length(device) > 0),
  model_hash  TEXT NOT NULL,
  protocol    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
  error       TEXT,
  latency_ms  REAL,
  min_ms      REAL,
  p10_ms      REAL,
  median_ms   REAL,
  mean_ms     REAL,
  max_ms      REAL,
  cv          REAL,
  runs        INTEGER,
  detail      TEXT,
  started_at  TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  seconds     REAL NOT NULL CHECK (seconds >= 0),
  -- a success has a latency and no error; a failure has an error and no latency, ever
  CHECK ((status = 'ok' AND error IS NULL AND latency_ms > 0 AND min_ms > 0
          AND min_ms <= p10_ms AND p10_ms <= median_ms AND median_ms <= max_ms
          AND min_ms <= mean_ms AND mean_ms <= max_ms AND cv >= 0 AND runs >= 1
          AND detail IS NOT NULL)
      OR (status = 'failed' AND length(error) > 0 AND latency_ms IS NULL AND min_ms IS NULL
          AND p10_ms IS NULL AND median_ms IS NULL AND mean_ms IS NULL AND max_ms IS NULL
          AND cv IS NULL AND runs IS NULL AND detail IS NULL))
);
-- at most one success per key: nothing is ever stored as measured twice
CREATE UNIQUE INDEX measurements_one_success
  ON measurements (purpose, kind, config, backend, device) WHERE status = 'ok';
CREATE INDEX measurements_by_key ON measurements (purpose, kind, config, backend, device);
)sql";

constexpr const char* row_columns =
    "id, campaign, purpose, kind, config, backend, device, model_hash, protocol, status, error, "
    "latency_ms, min_ms, p10_ms, median_ms, mean_ms, max_ms, cv, runs, detail, started_at, "
    "finished_at, seconds";

std::string sqlite_text(const SQLite::Exception& e) { return e.what(); }

/// A store_error for SQLite's complaint `e` while `doing` something.
store_error translate(const std::string& file, const SQLite::Exception& e,
                      const std::string& doing) {
  const int code = e.getExtendedErrorCode() < 0 ? 0 : e.getExtendedErrorCode();
  const std::string msg = sqlite_text(e);
  switch (code & 0xff) {
    case SQLITE_FULL:
      return store_error(file,
                         "the disk is full (or the store reached its size limit) while " + doing +
                             "; nothing of it was recorded (SQLite: " + msg + ")",
                         code);
    case SQLITE_NOTADB:
      return store_error(
          file, "is not an SQLite database, so not a profile store (SQLite: " + msg + ")", code);
    case SQLITE_CORRUPT:
      return store_error(file,
                         "the database is damaged (SQLite: " + msg +
                             "); restore it from a copy, or move it away to start a new store",
                         code);
    case SQLITE_READONLY:
      return store_error(file,
                         "cannot write while " + doing +
                             ": the file or its folder is read-only "
                             "(SQLite: " +
                             msg + ")",
                         code);
    case SQLITE_CANTOPEN:
      return store_error(file,
                         "cannot open the database while " + doing +
                             " (is its folder missing or not writable? SQLite: " + msg + ")",
                         code);
    case SQLITE_IOERR:
      return store_error(file, "I/O error while " + doing + " (SQLite: " + msg + ")", code);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return store_error(file,
                         "another process kept the store locked too long while " + doing +
                             " (SQLite: " + msg + ")",
                         code);
    default:
      break;
  }
  return store_error(file, doing + " failed (SQLite: " + msg + ")", code);
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string number(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void fsync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

/// What makes `m` no latency, or "" when it is one.
std::string result_problem(const measured_model& m) {
  const nb::profile_result& r = m.result;
  const nb::latency_statistics& s = r.stats;
  const auto finite = [](double x) { return std::isfinite(x); };
  if (!finite(r.latency_ms) || r.latency_ms <= 0)
    return "the latency is " + number(r.latency_ms) + " ms, not a positive finite number";
  for (double x : {s.min_ms, s.p10_ms, s.median_ms, s.mean_ms, s.max_ms, s.cv})
    if (!finite(x)) return "a statistic is not finite (" + number(x) + ")";
  if (s.runs < 1) return "the statistics summarise no timed run";
  if (s.min_ms <= 0) return "the minimum is " + number(s.min_ms) + " ms, not positive";
  if (!(s.min_ms <= s.p10_ms && s.p10_ms <= s.median_ms && s.median_ms <= s.max_ms &&
        s.min_ms <= s.mean_ms && s.mean_ms <= s.max_ms))
    return "the statistics are out of order (min " + number(s.min_ms) + ", p10 " +
           number(s.p10_ms) + ", median " + number(s.median_ms) + ", mean " + number(s.mean_ms) +
           ", max " + number(s.max_ms) + " ms)";
  if (s.cv < 0) return "the coefficient of variation is negative";
  if (!finite(r.wall_seconds) || r.wall_seconds < 0)
    return "the wall time is " + number(r.wall_seconds) + " s";
  return {};
}

std::string key_problem(const measurement_key& k) {
  if (k.kind.empty()) return "the key has no kind";
  if (k.config.empty()) return "the key has no configuration";
  if (k.backend.empty()) return "the key has no backend";
  if (k.device.empty()) return "the key has no device";
  return {};
}

std::string describe(const measurement_key& k) {
  std::string config = k.config;
  if (config.size() > 120) config = config.substr(0, 117) + "...";
  return std::string(to_string(k.purpose)) + " " + k.kind + " " + config;
}

void bind_key(SQLite::Statement& st, int first, const measurement_key& k) {
  st.bind(first, to_string(k.purpose));
  st.bind(first + 1, k.kind);
  st.bind(first + 2, k.config);
  st.bind(first + 3, k.backend);
  st.bind(first + 4, k.device);
}

stored_measurement read_row(SQLite::Statement& st) {
  stored_measurement m;
  m.id = st.getColumn(0).getInt64();
  m.campaign = st.getColumn(1).getInt64();
  m.key.purpose =
      parse_measurement_purpose(st.getColumn(2).getString()).value_or(measurement_purpose::kernel);
  m.key.kind = st.getColumn(3).getString();
  m.key.config = st.getColumn(4).getString();
  m.key.backend = st.getColumn(5).getString();
  m.key.device = st.getColumn(6).getString();
  m.model_hash = st.getColumn(7).getString();
  m.protocol_json = st.getColumn(8).getString();
  m.status =
      st.getColumn(9).getString() == "ok" ? measurement_status::ok : measurement_status::failed;
  if (!st.getColumn(10).isNull()) m.error = st.getColumn(10).getString();
  if (m.status == measurement_status::ok) {
    m.latency_ms = st.getColumn(11).getDouble();
    nb::latency_statistics s;
    s.min_ms = st.getColumn(12).getDouble();
    s.p10_ms = st.getColumn(13).getDouble();
    s.median_ms = st.getColumn(14).getDouble();
    s.mean_ms = st.getColumn(15).getDouble();
    s.max_ms = st.getColumn(16).getDouble();
    s.cv = st.getColumn(17).getDouble();
    s.runs = static_cast<std::size_t>(st.getColumn(18).getInt64());
    m.stats = s;
    m.detail_json = st.getColumn(19).getString();
  }
  m.started_at = st.getColumn(20).getString();
  m.finished_at = st.getColumn(21).getString();
  m.seconds = st.getColumn(22).getDouble();
  return m;
}

std::string detail_json(const nb::profile_result& r) {
  const nlohmann::ordered_json all = nb::profile_result_to_json(r);
  nlohmann::ordered_json d = nlohmann::ordered_json::object();
  for (const char* k : {"pass_min_ms", "blocks", "warmup", "reference_ms", "normalised"})
    d[k] = all.at(k);
  if (all.contains("layout_min_ms")) d["layout_min_ms"] = all.at("layout_min_ms");
  return d.dump();
}

/// Creates a new store at `file` atomically: built under a temporary name in rollback-journal
/// mode, then hard-linked into place (so two processes creating at once do not clobber each
/// other, and a crash leaves no half-made store under the real name).
void create_store_file(const fs::path& file) {
  const fs::path tmp = file.string() + ".creating." + std::to_string(::getpid());
  const std::string tmp_name = tmp.string();
  std::error_code ec;
  fs::remove(tmp, ec);
  try {
    SQLite::Database db(tmp_name, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = DELETE");
    db.exec("PRAGMA synchronous = FULL");
    SQLite::Transaction t(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(schema_sql);
    SQLite::Statement ins(db,
                          "INSERT INTO schema_version (version, written_by, created_at) "
                          "VALUES (?, ?, ?)");
    ins.bind(1, profile_store_schema_version);
    ins.bind(2, std::string("nnmeter ") + nnmeter::version_string);
    ins.bind(3, nb::utc_timestamp());
    ins.exec();
    t.commit();
  } catch (const SQLite::Exception& e) {
    fs::remove(tmp, ec);
    fs::remove(tmp_name + "-journal", ec);
    throw translate(file.string(), e, "creating the profile store");
  }
  if (::link(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    if (err != EEXIST) {
      fs::remove(tmp, ec);
      throw store_error(file.string(), "cannot create the profile store (" + errno_text(err) + ")");
    }
    // Another process created it first: use theirs.
  }
  fs::remove(tmp, ec);
  fsync_folder(file.parent_path());
}

/// "file:<path>?immutable=1", the path percent-encoded (SQLite's URI file names).
std::string immutable_uri(const fs::path& file) {
  const std::string path = fs::absolute(file).string();
  static const char hex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out + "?immutable=1";
}

std::string quoted_csv(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

// ---- the store ----------------------------------------------------------------------------

struct profile_store::impl {
  fs::path file;
  std::string name;
  store_options options;
  SQLite::Database db;

  /// `uri` opens the database under another name than `f` (a read-only URI), when given.
  impl(fs::path f, const store_options& o, int flags, const std::string& uri = {})
      : file(std::move(f)),
        name(file.string()),
        options(o),
        db(uri.empty() ? name : uri, flags, o.busy_timeout_ms) {}
};

profile_store::profile_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
profile_store::profile_store(profile_store&&) noexcept = default;
profile_store& profile_store::operator=(profile_store&&) noexcept = default;
profile_store::~profile_store() = default;

const fs::path& profile_store::file() const noexcept { return impl_->file; }

profile_store profile_store::open(const fs::path& file, const store_options& options) {
  const std::string name = file.string();
  std::error_code ec;
  const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  if (!fs::is_directory(folder, ec))
    throw store_error(name, "cannot open the profile store: its folder " + folder.string() +
                                (fs::exists(folder, ec) ? " is not a folder" : " does not exist"));
  const fs::file_status st = fs::status(file, ec);
  if (fs::exists(st)) {
    if (fs::is_directory(st)) throw store_error(name, "is a folder, not a profile store");
    if (fs::file_size(file, ec) == 0)
      throw store_error(name,
                        "is an empty file, not a profile store (a store is never empty: it "
                        "was truncated or made by something else; move it away to start a "
                        "new store)");
  } else if (options.read_only) {
    throw store_error(name, "no profile store (nothing has been measured in this workspace yet)");
  } else {
    if (::access(folder.c_str(), W_OK) != 0)
      throw store_error(name, "cannot create the profile store: its folder " + folder.string() +
                                  " is not writable (" + errno_text(errno) + ")");
    create_store_file(file);
  }

  const int flags = options.read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE;
  std::unique_ptr<impl> p;
  std::string doing = "opening the profile store";
  try {
    try {
      p = std::make_unique<impl>(file, options, flags);
      (void)p->db.execAndGet("PRAGMA schema_version").getInt();
    } catch (const SQLite::Exception& e) {
      // Reading a WAL database needs its -shm file, which a reader cannot create in a
      // read-only folder. With no pending -wal content the file alone is the whole store, so
      // it is opened as immutable; otherwise reading it would miss the newest rows.
      const int primary = e.getExtendedErrorCode() & 0xff;
      if (!options.read_only || (primary != SQLITE_READONLY && primary != SQLITE_CANTOPEN)) throw;
      std::error_code wal_ec;
      const fs::path wal = name + "-wal";
      if (fs::exists(wal, wal_ec) && fs::file_size(wal, wal_ec) > 0)
        throw store_error(name,
                          "cannot read it: its folder is read-only and " + wal.string() +
                              " holds changes not yet written into the database (open "
                              "it once where it is writable)",
                          e.getExtendedErrorCode());
      p = std::make_unique<impl>(file, options, SQLite::OPEN_READONLY | SQLite::OPEN_URI,
                                 immutable_uri(file));
      (void)p->db.execAndGet("PRAGMA schema_version").getInt();
    }
    SQLite::Database& db = p->db;
    if (!options.read_only) {
      doing = "switching to the WAL journal";
      const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
      if (mode != "wal")
        throw store_error(name, "cannot use the WAL journal (SQLite stays in '" + mode +
                                    "' mode; is the file on a network file system?)");
      db.exec("PRAGMA synchronous = FULL");
    }
    db.exec("PRAGMA foreign_keys = ON");
    if (options.max_page_count > 0)
      db.exec("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
    if (options.check_integrity) {
      doing = "checking the database";
      SQLite::Statement q(db, "PRAGMA quick_check");
      std::string complaints;
      while (q.executeStep()) {
        const std::string line = q.getColumn(0).getString();
        if (line == "ok") continue;
        if (!complaints.empty()) complaints += "; ";
        complaints += line;
      }
      if (!complaints.empty())
        throw store_error(name,
                          "the database is damaged (SQLite's quick_check: " + complaints +
                              "); restore it from a copy, or move it away to start a new "
                              "store",
                          SQLITE_CORRUPT);
    }
    doing = "reading the schema version";
    if (!db.tableExists("schema_version"))
      throw store_error(name,
                        "is an SQLite database but not an nnmeter profile store (no "
                        "schema_version table)");
    SQLite::Statement v(db, "SELECT version, written_by FROM schema_version");
    if (!v.executeStep())
      throw store_error(name,
                        "is not a complete profile store (its schema_version table is "
                        "empty)");
    const int version = v.getColumn(0).getInt();
    const std::string writer = v.getColumn(1).getString();
    if (version > profile_store_schema_version)
      throw store_error(name, "profile store schema version " + std::to_string(version) +
                                  " (written by " + writer +
                                  ") is newer than this nnmeter "
                                  "reads (version " +
                                  std::to_string(profile_store_schema_version) + ", nnmeter " +
                                  nnmeter::version_string + "); use a newer nnmeter");
    if (version < 1)
      throw store_error(name, "invalid profile store schema version " + std::to_string(version));
    for (const char* table : {"campaigns", "measurements"})
      if (!db.tableExists(table))
        throw store_error(name,
                          std::string("is not a complete profile store (no ") + table + " table)");
  } catch (const SQLite::Exception& e) {
    throw translate(name, e, doing);
  }
  return profile_store(std::move(p));
}

campaign profile_store::begin_campaign(const campaign_info& info) {
  if (info.backend.empty() || info.device.empty())
    throw invalid_measurement(impl_->name, "a campaign needs a backend and a device");
  try {
    nb::validate(info.protocol);
  } catch (const nb::backend_error& e) {
    throw invalid_measurement(impl_->name, std::string("campaign: ") + e.what());
  }
  try {
    SQLite::Statement st(impl_->db,
                         "INSERT INTO campaigns (name, backend, device, protocol, started_at, pid, "
                         "written_by) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, info.name);
    st.bind(2, info.backend);
    st.bind(3, info.device);
    st.bind(4, nb::protocol_to_json(info.protocol).dump());
    st.bind(5, nb::utc_timestamp());
    st.bind(6, static_cast<std::int64_t>(::getpid()));
    st.bind(7, std::string("nnmeter ") + nnmeter::version_string);
    st.exec();
    return campaign{impl_->db.getLastInsertRowid(), info};
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "recording the campaign");
  }
}

std::optional<stored_measurement> profile_store::lookup(const measurement_key& key) const {
  try {
    SQLite::Statement st(impl_->db, std::string("SELECT ") + row_columns +
                                        " FROM measurements WHERE purpose = ? AND kind = ? AND "
                                        "config = ? AND backend = ? AND device = ? AND "
                                        "status = 'ok'");
    bind_key(st, 1, key);
    if (st.executeStep()) return read_row(st);
    return std::nullopt;
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "looking up " + describe(key));
  }
}

std::vector<stored_measurement> profile_store::history(const measurement_key& key) const {
  std::vector<stored_measurement> out;
  try {
    SQLite::Statement st(impl_->db, std::string("SELECT ") + row_columns +
                                        " FROM measurements WHERE purpose = ? AND kind = ? AND "
                                        "config = ? AND backend = ? AND device = ? ORDER BY id");
    bind_key(st, 1, key);
    while (st.executeStep()) out.push_back(read_row(st));
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "reading the history of " + describe(key));
  }
  return out;
}

std::vector<measurement_key> profile_store::pending(
    const std::vector<measurement_key>& keys) const {
  std::vector<measurement_key> out;
  std::set<measurement_key> seen;
  try {
    SQLite::Statement st(impl_->db,
                         "SELECT 1 FROM measurements WHERE purpose = ? AND kind = ? AND "
                         "config = ? AND backend = ? AND device = ? AND status = 'ok'");
    for (const measurement_key& k : keys) {
      if (!seen.insert(k).second) continue;
      st.reset();
      bind_key(st, 1, k);
      if (!st.executeStep()) out.push_back(k);
    }
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "listing pending measurements");
  }
  return out;
}

stored_measurement profile_store::record_success(const campaign& c, const measurement_key& key,
                                                 const measured_model& m) {
  const std::string& name = impl_->name;
  if (const std::string p = key_problem(key); !p.empty())
    throw invalid_measurement(name, "cannot record " + describe(key) + ": " + p);
  if (const std::string p = result_problem(m); !p.empty())
    throw invalid_measurement(name, "not recorded as a latency: " + describe(key) + ": " + p);
  if (!m.result.backend.empty() && m.result.backend != key.backend)
    throw invalid_measurement(name, "cannot record " + describe(key) + ": measured on backend '" +
                                        m.result.backend + "', the key says '" + key.backend + "'");
  if (!m.result.device.empty() && m.result.device != key.device)
    throw invalid_measurement(name, "cannot record " + describe(key) + ": measured on device '" +
                                        m.result.device + "', the key says '" + key.device + "'");
  const nb::latency_statistics& s = m.result.stats;
  const std::string finished = nb::utc_timestamp();
  try {
    SQLite::Transaction t(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(
        impl_->db,
        "INSERT INTO measurements (campaign, purpose, kind, config, backend, device, model_hash, "
        "protocol, status, error, latency_ms, min_ms, p10_ms, median_ms, mean_ms, max_ms, cv, "
        "runs, detail, started_at, finished_at, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ok', "
        "NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, c.id);
    bind_key(st, 2, key);
    st.bind(7, m.model_hash);
    st.bind(8, nb::protocol_to_json(m.result.protocol).dump());
    st.bind(9, m.result.latency_ms);
    st.bind(10, s.min_ms);
    st.bind(11, s.p10_ms);
    st.bind(12, s.median_ms);
    st.bind(13, s.mean_ms);
    st.bind(14, s.max_ms);
    st.bind(15, s.cv);
    st.bind(16, static_cast<std::int64_t>(s.runs));
    st.bind(17, detail_json(m.result));
    st.bind(18, m.result.timestamp.empty() ? finished : m.result.timestamp);
    st.bind(19, finished);
    st.bind(20, m.result.wall_seconds);
    st.exec();
    const std::int64_t id = impl_->db.getLastInsertRowid();
    t.commit();
    SQLite::Statement back(
        impl_->db, std::string("SELECT ") + row_columns + " FROM measurements WHERE id = ?");
    back.bind(1, id);
    if (!back.executeStep())
      throw store_error(name, "row " + std::to_string(id) + " vanished after it was recorded");
    return read_row(back);
  } catch (const SQLite::Exception& e) {
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE)
      throw duplicate_measurement(name, describe(key) + " already has a successful measurement",
                                  e.getExtendedErrorCode());
    throw translate(name, e, "recording " + describe(key));
  }
}

stored_measurement profile_store::record_failure(const campaign& c, const measurement_key& key,
                                                 const std::string& error, double seconds,
                                                 const std::string& model_hash) {
  const std::string& name = impl_->name;
  if (const std::string p = key_problem(key); !p.empty())
    throw invalid_measurement(name, "cannot record " + describe(key) + ": " + p);
  if (error.empty())
    throw invalid_measurement(
        name, "cannot record a failure of " + describe(key) + " without its error text");
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const std::string finished = nb::utc_timestamp();
  try {
    SQLite::Transaction t(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(impl_->db,
                         "INSERT INTO measurements (campaign, purpose, kind, config, backend, "
                         "device, model_hash, protocol, status, error, started_at, finished_at, "
                         "seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?)");
    st.bind(1, c.id);
    bind_key(st, 2, key);
    st.bind(7, model_hash);
    st.bind(8, nb::protocol_to_json(c.info.protocol).dump());
    st.bind(9, error);
    st.bind(10, finished);
    st.bind(11, finished);
    st.bind(12, seconds);
    st.exec();
    const std::int64_t id = impl_->db.getLastInsertRowid();
    t.commit();
    SQLite::Statement back(
        impl_->db, std::string("SELECT ") + row_columns + " FROM measurements WHERE id = ?");
    back.bind(1, id);
    if (!back.executeStep())
      throw store_error(name, "row " + std::to_string(id) + " vanished after it was recorded");
    stored_measurement row = read_row(back);
    return row;
  } catch (const SQLite::Exception& e) {
    throw translate(name, e, "recording the failure of " + describe(key));
  }
}

measure_report profile_store::measure_all(const campaign& c,
                                          const std::vector<measurement_key>& keys,
                                          const measure_function& fn,
                                          const measure_options& options) {
  const double t0 = steady_seconds();
  std::vector<const measurement_key*> distinct;
  {
    std::set<measurement_key> seen;
    for (const measurement_key& k : keys)
      if (seen.insert(k).second) distinct.push_back(&k);
  }
  measure_report report;
  report.requested = distinct.size();
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    const measurement_key& key = *distinct[i];
    if (options.stop && options.stop()) {
      report.stopped = true;
      report.not_attempted = distinct.size() - i;
      break;
    }
    measure_event ev;
    ev.key = &key;
    ev.index = i;
    ev.total = distinct.size();
    if (std::optional<stored_measurement> s = lookup(key)) {
      ++report.already_stored;
      ev.what = measure_event::outcome::already_stored;
      ev.row = std::move(*s);
      if (options.on_event) options.on_event(ev);
      continue;
    }
    const double start = steady_seconds();
    std::optional<measured_model> m;
    std::string error;
    std::string model_hash;
    try {
      m = fn(key);
    } catch (const store_error&) {
      throw;
    } catch (const measurement_failure& e) {
      error = e.what();
      model_hash = e.model_hash();
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!m && error.empty()) error = "the measurement failed with an exception without a message";
    if (m) {
      model_hash = m->model_hash;
      if (const std::string p = result_problem(*m); !p.empty()) {
        error = "the backend returned no valid latency: " + p;
        m.reset();
      }
    }
    if (m && error.empty()) {
      try {
        ev.row = record_success(c, key, *m);
        ev.what = measure_event::outcome::measured;
        ++report.measured;
      } catch (const duplicate_measurement&) {
        ev.row = lookup(key).value_or(stored_measurement{});
        ev.what = measure_event::outcome::already_stored;
        ++report.already_stored;
      } catch (const invalid_measurement& e) {
        error = e.what();
      }
    }
    if (!error.empty()) {
      ev.row = record_failure(c, key, error, steady_seconds() - start, model_hash);
      ev.what = measure_event::outcome::failed;
      ++report.failed;
    }
    if (options.on_event) options.on_event(ev);
  }
  report.seconds = steady_seconds() - t0;
  return report;
}

std::vector<stored_measurement> profile_store::measurements(const measurement_filter& f) const {
  std::string sql = std::string("SELECT ") + row_columns + " FROM measurements WHERE 1";
  if (f.purpose) sql += " AND purpose = :purpose";
  if (f.kind) sql += " AND kind = :kind";
  if (f.backend) sql += " AND backend = :backend";
  if (f.device) sql += " AND device = :device";
  if (f.status) sql += " AND status = :status";
  sql += " ORDER BY id";
  std::vector<stored_measurement> out;
  try {
    SQLite::Statement st(impl_->db, sql);
    if (f.purpose) st.bind(":purpose", to_string(*f.purpose));
    if (f.kind) st.bind(":kind", *f.kind);
    if (f.backend) st.bind(":backend", *f.backend);
    if (f.device) st.bind(":device", *f.device);
    if (f.status) st.bind(":status", to_string(*f.status));
    while (st.executeStep()) out.push_back(read_row(st));
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "reading measurements");
  }
  return out;
}

store_summary profile_store::summary() const {
  store_summary s;
  s.file = impl_->name;
  SQLite::Database& db = impl_->db;
  try {
    s.schema_version = db.execAndGet("SELECT version FROM schema_version").getInt();
    s.campaigns =
        static_cast<std::size_t>(db.execAndGet("SELECT COUNT(*) FROM campaigns").getInt64());
    std::map<std::pair<std::string, std::string>, kind_summary> kinds;
    {
      SQLite::Statement st(db,
                           "SELECT purpose, kind, SUM(status = 'ok'), SUM(status = 'failed'), "
                           "TOTAL(seconds), COUNT(*) FROM measurements GROUP BY purpose, kind");
      while (st.executeStep()) {
        kind_summary k;
        k.purpose = parse_measurement_purpose(st.getColumn(0).getString())
                        .value_or(measurement_purpose::kernel);
        k.kind = st.getColumn(1).getString();
        k.measured = static_cast<std::size_t>(st.getColumn(2).getInt64());
        k.failed_attempts = static_cast<std::size_t>(st.getColumn(3).getInt64());
        k.seconds = st.getColumn(4).getDouble();
        s.rows += static_cast<std::size_t>(st.getColumn(5).getInt64());
        kinds[{st.getColumn(0).getString(), k.kind}] = k;
      }
    }
    {
      SQLite::Statement st(db,
                           "SELECT purpose, kind, COUNT(*) FROM (SELECT purpose, kind FROM "
                           "measurements GROUP BY purpose, kind, config, backend, device "
                           "HAVING SUM(status = 'ok') = 0) GROUP BY purpose, kind");
      while (st.executeStep()) {
        const auto it = kinds.find({st.getColumn(0).getString(), st.getColumn(1).getString()});
        if (it != kinds.end())
          it->second.failing = static_cast<std::size_t>(st.getColumn(2).getInt64());
      }
    }
    for (auto& [name, k] : kinds) {
      s.measured += k.measured;
      s.failed_attempts += k.failed_attempts;
      s.failing += k.failing;
      s.seconds += k.seconds;
      s.kinds.push_back(k);
    }
    std::sort(s.kinds.begin(), s.kinds.end(), [](const kind_summary& a, const kind_summary& b) {
      return std::tie(a.purpose, a.kind) < std::tie(b.purpose, b.kind);
    });
    for (const auto& [column, list] :
         {std::pair<const char*, std::vector<std::string>*>{"backend", &s.backends},
          std::pair<const char*, std::vector<std::string>*>{"device", &s.devices}}) {
      SQLite::Statement st(
          db, std::string("SELECT DISTINCT ") + column + " FROM measurements ORDER BY 1");
      while (st.executeStep()) list->push_back(st.getColumn(0).getString());
    }
    SQLite::Statement span(db, "SELECT MIN(started_at), MAX(finished_at) FROM measurements");
    if (span.executeStep() && !span.getColumn(0).isNull()) {
      s.first_at = span.getColumn(0).getString();
      s.last_at = span.getColumn(1).getString();
    }
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "summarising the store");
  }
  return s;
}

void profile_store::export_csv(const fs::path& csv) const {
  const std::string out_name = csv.string();
  std::string text =
      "id,campaign,purpose,kind,config,backend,device,status,error,latency_ms,min_ms,p10_ms,"
      "median_ms,mean_ms,max_ms,cv,runs,model_hash,started_at,finished_at,seconds,protocol\n";
  for (const stored_measurement& m : measurements()) {
    const auto opt = [](const std::optional<double>& x) { return x ? number(*x) : std::string(); };
    const bool ok = m.status == measurement_status::ok;
    const std::vector<std::string> cells{std::to_string(m.id),
                                         std::to_string(m.campaign),
                                         to_string(m.key.purpose),
                                         m.key.kind,
                                         m.key.config,
                                         m.key.backend,
                                         m.key.device,
                                         to_string(m.status),
                                         m.error,
                                         opt(m.latency_ms),
                                         ok ? number(m.stats->min_ms) : "",
                                         ok ? number(m.stats->p10_ms) : "",
                                         ok ? number(m.stats->median_ms) : "",
                                         ok ? number(m.stats->mean_ms) : "",
                                         ok ? number(m.stats->max_ms) : "",
                                         ok ? number(m.stats->cv) : "",
                                         ok ? std::to_string(m.stats->runs) : "",
                                         m.model_hash,
                                         m.started_at,
                                         m.finished_at,
                                         number(m.seconds),
                                         m.protocol_json};
    for (std::size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + quoted_csv(cells[i]);
    text += "\n";
  }
  const fs::path tmp = out_name + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw store_error(out_name, "cannot write the CSV export (" + errno_text(errno) + ")");
  std::size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), csv.c_str()) != 0) err = errno;
  if (err != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw store_error(out_name, "cannot write the CSV export (" + errno_text(err) + ")");
  }
}

std::string profile_store::integrity_check() const {
  try {
    SQLite::Statement st(impl_->db, "PRAGMA integrity_check");
    std::string out;
    while (st.executeStep()) out += (out.empty() ? "" : "; ") + st.getColumn(0).getString();
    return out;
  } catch (const SQLite::Exception& e) {
    throw translate(impl_->name, e, "checking the database");
  }
}

}  // namespace nnmeter::builder
