// nnmeter builder — the profile store's summary as a table and as JSON (report.hpp).
// SPDX-License-Identifier: MIT
#include "builder/store/report.hpp"

#include <algorithm>
#include <cstdio>

namespace nnmeter::builder {

namespace {

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

/// "1 h 02 min", "3 min 07 s", "12.3 s", "45 ms".
std::string duration_text(double seconds) {
  if (seconds < 1) return fixed(seconds * 1000, 0) + " ms";
  if (seconds < 60) return fixed(seconds, 1) + " s";
  const auto total = static_cast<long long>(seconds + 0.5);
  char buf[64];
  if (total < 3600)
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", total / 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", total / 3600, (total % 3600) / 60);
  return buf;
}

std::string pad(std::string s, std::size_t width, bool right) {
  if (s.size() >= width) return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : "; ") + s;
  return out.empty() ? "none" : out;
}

}  // namespace

std::string summary_table(const store_summary& s) {
  std::string out;
  out += "store      " + s.file + " (schema " + std::to_string(s.schema_version) + ")\n";
  out += "campaigns  " + std::to_string(s.campaigns) + "\n";
  out += "backends   " + joined(s.backends) + "\n";
  out += "devices    " + joined(s.devices) + "\n";
  if (!s.first_at.empty()) out += "span       " + s.first_at + " .. " + s.last_at + "\n";
  out += "\n";
  std::size_t wk = 4;
  for (const kind_summary& k : s.kinds) wk = std::max(wk, k.kind.size());
  const auto row = [&](const std::string& purpose, const std::string& kind,
                       const std::string& measured, const std::string& failing,
                       const std::string& attempts, const std::string& time) {
    return pad(purpose, 9, false) + "  " + pad(kind, wk, false) + "  " + pad(measured, 8, true) +
           "  " + pad(failing, 7, true) + "  " + pad(attempts, 15, true) + "  " +
           pad(time, 12, true) + "\n";
  };
  out += row("purpose", "kind", "measured", "failing", "failed attempts", "time");
  for (const kind_summary& k : s.kinds)
    out += row(to_string(k.purpose), k.kind, std::to_string(k.measured), std::to_string(k.failing),
               std::to_string(k.failed_attempts), duration_text(k.seconds));
  out += row("total", "", std::to_string(s.measured), std::to_string(s.failing),
             std::to_string(s.failed_attempts), duration_text(s.seconds));
  if (s.failing > 0)
    out += "\n" + std::to_string(s.failing) +
           " configuration(s) failed and have no latency; the next run of their command "
           "measures them again.\n";
  return out;
}

nlohmann::ordered_json summary_json(const store_summary& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["file"] = s.file;
  j["schema_version"] = s.schema_version;
  j["rows"] = s.rows;
  j["measured"] = s.measured;
  j["failing"] = s.failing;
  j["failed_attempts"] = s.failed_attempts;
  j["seconds"] = s.seconds;
  j["campaigns"] = s.campaigns;
  j["backends"] = s.backends;
  j["devices"] = s.devices;
  j["first_at"] =
      s.first_at.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.first_at);
  j["last_at"] =
      s.last_at.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.last_at);
  nlohmann::ordered_json kinds = nlohmann::ordered_json::array();
  for (const kind_summary& k : s.kinds) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["purpose"] = to_string(k.purpose);
    e["kind"] = k.kind;
    e["measured"] = k.measured;
    e["failing"] = k.failing;
    e["failed_attempts"] = k.failed_attempts;
    e["seconds"] = k.seconds;
    kinds.push_back(std::move(e));
  }
  j["kinds"] = std::move(kinds);
  return j;
}

}  // namespace nnmeter::builder
