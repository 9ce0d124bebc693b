// nnmeter builder — predictor meta files and the predictor registry (registry.hpp).
// SPDX-License-Identifier: MIT
#include "builder/package/registry.hpp"

#include "builder/package/atomic_file.hpp"

#include <nnmeter/io/json.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace nnmeter::builder {

namespace fs = std::filesystem;

namespace {

std::string line_of(const YAML::Mark& m) {
  return m.is_null() ? std::string() : ":" + std::to_string(m.line + 1);
}

[[noreturn]] void fail(const fs::path& file, const YAML::Node& at, const std::string& what) {
  throw nnmeter::error(file.string() + line_of(at.Mark()) + ": " + what);
}

YAML::Node load_yaml(const fs::path& file, const char* what) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw nnmeter::error(file.string() + ": no such file (" + what + ")");
  if (fs::is_directory(file, ec))
    throw nnmeter::error(file.string() + ": is a directory, not " + std::string(what));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw nnmeter::error(file.string() + ": cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return YAML::Load(ss.str());
  } catch (const YAML::ParserException& e) {
    throw nnmeter::error(file.string() + ":" + std::to_string(e.mark.line + 1) +
                         ": not valid YAML (" + e.msg + ")");
  }
}

std::string scalar(const fs::path& file, const YAML::Node& map, const char* key) {
  const YAML::Node v = map[key];
  if (!v) fail(file, map, std::string("key '") + key + "' is missing");
  if (!v.IsScalar() || v.Scalar().empty())
    fail(file, v, std::string("key '") + key + "' must be a non-empty string");
  return v.Scalar();
}

predictor_meta meta_from(const fs::path& file, const YAML::Node& n, const fs::path& base) {
  if (!n.IsMap()) fail(file, n, "a predictor entry must be a mapping of nn-Meter's keys");
  static const std::set<std::string> known = {"name", "version", "category", "package_location",
                                              "kernel_predictors"};
  for (const auto& kv : n) {
    const std::string k = kv.first.Scalar();
    if (known.count(k) == 0)
      fail(file, kv.first, "unknown key '" + k +
                               "' (a predictor has name, version, category, package_location, "
                               "kernel_predictors)");
  }
  predictor_meta m;
  m.file = file;
  m.name = scalar(file, n, "name");
  m.version = scalar(file, n, "version");
  if (const YAML::Node c = n["category"]) {
    if (!c.IsScalar()) fail(file, c, "key 'category' must be a string");
    m.category = c.Scalar();
  }
  fs::path loc(scalar(file, n, "package_location"));
  if (loc.is_relative()) loc = base / loc;
  m.package_location = loc.lexically_normal();
  const YAML::Node kp = n["kernel_predictors"];
  if (!kp) fail(file, n, "key 'kernel_predictors' is missing");
  if (!kp.IsSequence()) fail(file, kp, "key 'kernel_predictors' must be a list of kernel kinds");
  for (const YAML::Node& k : kp) {
    if (!k.IsScalar() || !nnmeter::parse_kernel_kind(k.Scalar()))
      fail(file, k, "kernel_predictors: '" + (k.IsScalar() ? k.Scalar() : std::string("?")) +
                        "' is not a kernel kind (docs/predictor-format.md)");
    m.kernel_predictors.push_back(k.Scalar());
  }
  return m;
}

void emit_meta(YAML::Emitter& out, const predictor_meta& m, const fs::path& base) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << m.name;
  out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << m.version;
  out << YAML::Key << "category" << YAML::Value << m.category;
  fs::path loc = m.package_location;
  if (!base.empty()) {
    const fs::path rel = loc.lexically_relative(base);
    if (!rel.empty() && *rel.begin() != "..") loc = rel;
  }
  out << YAML::Key << "package_location" << YAML::Value << loc.string();
  out << YAML::Key << "kernel_predictors" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& k : m.kernel_predictors) out << k;
  out << YAML::EndSeq;
  out << YAML::EndMap;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> d(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = d[0];
    d[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cur = d[j];
      d[j] = std::min({d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      prev = cur;
    }
  }
  return d[b.size()];
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    const bool da = i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      std::size_t ie = i;
      std::size_t je = j;
      while (ie < a.size() && a[ie] == '0') ++ie;
      while (je < b.size() && b[je] == '0') ++je;
      std::size_t ae = ie;
      std::size_t be = je;
      while (ae < a.size() && std::isdigit(static_cast<unsigned char>(a[ae]))) ++ae;
      while (be < b.size() && std::isdigit(static_cast<unsigned char>(b[be]))) ++be;
      if (ae - ie != be - je) return ae - ie < be - je ? -1 : 1;
      const int c = a.compare(ie, ae - ie, b, je, be - je);
      if (c != 0) return c < 0 ? -1 : 1;
      i = ae;
      j = be;
      continue;
    }
    if (i >= a.size()) return -1;
    if (j >= b.size()) return 1;
    if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
    ++i;
    ++j;
  }
  return 0;
}

predictor_meta read_predictor_meta(const fs::path& file) {
  const YAML::Node doc = load_yaml(file, "a predictor meta file");
  return meta_from(file, doc, fs::absolute(file).parent_path());
}

void write_predictor_meta(const predictor_meta& m, const fs::path& file) {
  YAML::Emitter out;
  out << YAML::Comment("nnmeter predictor meta file (nn-Meter's keys): register it with "
                       "`nnmeter register --predictor " + file.filename().string() + "`");
  out << YAML::Newline;
  emit_meta(out, m, fs::absolute(file).parent_path());
  write_file_atomically(file, std::string(out.c_str()) + "\n");
}

predictor_meta meta_of_package(const fs::path& package_dir, const std::string& category) {
  const nnmeter::predictor p = nnmeter::io::load_predictor_package(package_dir.string());
  predictor_meta m;
  m.name = p.info().name;
  m.version = p.info().version;
  m.category = category;
  m.package_location = fs::absolute(package_dir).lexically_normal();
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    if (p.has_forest(k)) m.kernel_predictors.emplace_back(nnmeter::to_string(k));
  }
  return m;
}

const predictor_meta& check_package(const predictor_meta& m) {
  const std::string who = (m.file.empty() ? std::string("predictor '") + m.name + "'"
                                          : m.file.string()) + ": ";
  nnmeter::predictor p;
  try {
    p = nnmeter::io::load_predictor_package(m.package_location.string());
  } catch (const nnmeter::error& e) {
    throw nnmeter::error(who + "its package does not load: " + e.what());
  }
  if (p.info().name != m.name || p.info().version != m.version)
    throw nnmeter::error(who + "names predictor '" + m.name + "' version " + m.version +
                         ", but its package " + m.package_location.string() + " is '" +
                         p.info().name + "' version " + p.info().version);
  for (const std::string& k : m.kernel_predictors)
    if (!p.has_forest(*nnmeter::parse_kernel_kind(k)))
      throw nnmeter::error(who + "kernel predictor '" + k + "' is not in the package " +
                           m.package_location.string() + " (its manifest.json lists no forest)");
  const nnmeter::verify_result v = p.verify();
  if (v.checked == 0)
    throw nnmeter::error(who + "the package " + m.package_location.string() +
                         " has no golden cases to verify it with");
  if (!v.ok())
    throw nnmeter::error(who + "the package " + m.package_location.string() + " fails " +
                         std::to_string(v.failures.size()) + " of its " +
                         std::to_string(v.checked) + " golden cases; first: " + v.failures.front());
  return m;
}

fs::path config_dir() {
  if (const char* d = std::getenv("NNMETER_CONFIG_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0')
    return fs::path(x) / "nnmeter";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path(h) / ".config" / "nnmeter";
  throw nnmeter::error(
      "no folder for the predictor registry: set NNMETER_CONFIG_DIR, XDG_CONFIG_HOME or HOME");
}

predictor_registry predictor_registry::open(std::optional<fs::path> dir) {
  predictor_registry r;
  r.file_ = (dir ? *dir : config_dir()) / "registry.yaml";
  std::error_code ec;
  if (!fs::exists(r.file_, ec)) return r;
  const YAML::Node doc = load_yaml(r.file_, "the predictor registry");
  if (doc.IsNull()) return r;
  if (!doc.IsMap()) fail(r.file_, doc, "the registry must be a mapping with key 'predictors'");
  for (const auto& kv : doc)
    if (kv.first.Scalar() != "predictors" && kv.first.Scalar() != "default")
      fail(r.file_, kv.first, "unknown key '" + kv.first.Scalar() + "' (the registry has "
                                                                     "'predictors' and 'default')");
  const YAML::Node list = doc["predictors"];
  if (list && !list.IsNull()) {
    if (!list.IsSequence()) fail(r.file_, list, "key 'predictors' must be a list");
    for (const YAML::Node& n : list)
      r.entries_.push_back(meta_from(r.file_, n, r.file_.parent_path()));
  }
  if (const YAML::Node d = doc["default"]; d && !d.IsNull()) {
    if (!d.IsMap()) fail(r.file_, d, "key 'default' must be a mapping with 'name' and 'version'");
    for (const auto& kv : d)
      if (kv.first.Scalar() != "name" && kv.first.Scalar() != "version")
        fail(r.file_, kv.first, "default: unknown key '" + kv.first.Scalar() +
                                    "' (the default has 'name' and 'version')");
    registry_default def{scalar(r.file_, d, "name"), scalar(r.file_, d, "version")};
    const bool listed = std::any_of(r.entries_.begin(), r.entries_.end(), [&](const predictor_meta& e) {
      return e.name == def.name && e.version == def.version;
    });
    if (!listed)
      fail(r.file_, d, "default: predictor '" + def.name + "' version " + def.version +
                           " is not among the registered predictors");
    r.default_ = std::move(def);
  }
  return r;
}

bool predictor_registry::add(const predictor_meta& m) {
  for (predictor_meta& e : entries_)
    if (e.name == m.name && e.version == m.version) {
      e = m;
      return true;
    }
  entries_.push_back(m);
  return false;
}

std::size_t predictor_registry::remove(const std::string& name,
                                       const std::optional<std::string>& version) {
  const std::size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const predictor_meta& e) {
                                  return e.name == name && (!version || e.version == *version);
                                }),
                 entries_.end());
  const std::size_t n = before - entries_.size();
  if (n == 0) (void)find(name, version);  // throws the not-found message
  if (default_ && default_->name == name && (!version || default_->version == *version))
    default_.reset();
  return n;
}

const predictor_meta& predictor_registry::find(const std::string& name,
                                               const std::optional<std::string>& version) const {
  const predictor_meta* best = nullptr;
  for (const predictor_meta& e : entries_) {
    if (e.name != name || (version && e.version != *version)) continue;
    if (best == nullptr || compare_versions(e.version, best->version) > 0) best = &e;
  }
  if (best != nullptr) return *best;
  std::string msg = "predictor '" + name + "'" + (version ? " version " + *version : "") +
                    " is not registered";
  std::string names;
  std::string closest;
  std::size_t dist = 3;
  for (const predictor_meta& e : entries_) {
    names += (names.empty() ? "" : ", ") + e.name + " " + e.version;
    const std::size_t d = edit_distance(e.name, name);
    if (d < dist) {
      dist = d;
      closest = e.name;
    }
  }
  if (!closest.empty() && closest != name) msg += " (did you mean '" + closest + "'?)";
  msg += names.empty() ? "; the registry " + file_.string() + " is empty"
                       : "; registered: " + names;
  throw nnmeter::error(msg);
}

nnmeter::predictor predictor_registry::load(const std::string& name,
                                            const std::optional<std::string>& version) const {
  const predictor_meta& m = find(name, version);
  try {
    return nnmeter::io::load_predictor_package(m.package_location.string());
  } catch (const nnmeter::error& e) {
    throw nnmeter::error(file_.string() + ": predictor '" + m.name + "' version " + m.version +
                         ": its package cannot be loaded (unregister it, or register it again): " +
                         e.what());
  }
}

void predictor_registry::set_default(const std::string& name, const std::string& version) {
  const predictor_meta& m = find(name, version);
  default_ = registry_default{m.name, m.version};
}

void predictor_registry::save() const {
  YAML::Emitter out;
  out << YAML::Comment("nnmeter predictor registry: written by `nnmeter register` and "
                       "`nnmeter unregister`");
  out << YAML::Newline;
  out << YAML::BeginMap << YAML::Key << "predictors" << YAML::Value << YAML::BeginSeq;
  for (const predictor_meta& m : entries_) emit_meta(out, m, {});
  out << YAML::EndSeq;
  if (default_) {
    out << YAML::Key << "default" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << default_->name;
    out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << default_->version;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  write_file_atomically(file_, std::string(out.c_str()) + "\n");
}

}  // namespace nnmeter::builder
