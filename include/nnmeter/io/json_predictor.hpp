// nnmeter — predictor packages: a folder with manifest.json, fusion_rules.json and one
// XGBoost JSON forest per kernel kind. Opt-in: needs nlohmann_json (nnmeter::json).
// See docs/predictor-format.md.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_predictor.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter/io/json_common.hpp>
#include <nnmeter/io/json_rules.hpp>
#include <nnmeter/io/json_xgboost.hpp>
#include <nnmeter.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

NNMETER_BEGIN_NAMESPACE
namespace io {

namespace detail {
inline std::string join_path(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}
/// A relative file name inside the package: not empty, not absolute, no "..", no control
/// characters (a NUL would silently cut the name short) and no backslash.
inline bool safe_relative_name(const std::string& f) {
  if (f.empty() || f[0] == '/' || f.find("..") != std::string::npos) return false;
  for (char c : f)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
  return true;
}
/// Reads a golden-case file (docs/predictor-format.md, "Golden cases") into p.
inline void read_golden_cases(std::string_view text, const std::string& path,
                              const json_limits& limits, predictor& p) {
  using json = nlohmann::ordered_json;
  const json doc = parse_json_text<json>(text, path, limits.max_depth);
  if (!doc.is_object()) throw parse_error(path + ": a golden-case file is a JSON object");
  const json& cases = require(doc, "cases", path, json::value_t::array);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const std::string where = path + ": cases[" + std::to_string(i) + "]";
    if (!c.is_object()) throw parse_error(where + " must be an object");
    const json& k = require(c, "kernel", where, json::value_t::string);
    const auto kind = parse_kernel_kind(k.get_ref<const std::string&>());
    if (!kind) throw parse_error(where + ": unknown kernel kind " + excerpt(k));
    const auto f = c.find("features");
    if (f == c.end() || !f->is_array())
      throw parse_error(where + ": key 'features' must be a list of numbers");
    if (f->size() > feature_vector::capacity)
      throw parse_error(where + ": 'features' has " + std::to_string(f->size()) +
                        " values (at most " + std::to_string(feature_vector::capacity) + ")");
    golden_case g;
    g.kind = *kind;
    for (const json& x : *f) {
      if (!x.is_number()) throw parse_error(where + ": 'features' holds " + excerpt(x));
      g.features.push_back(x.get<double>());
    }
    const auto l = c.find("latency_ms");
    if (l == c.end() || !l->is_number() || !(l->get<double>() > 0.0))
      throw parse_error(where + ": key 'latency_ms' must be a positive number" +
                        (l == c.end() ? std::string() : ", found " + excerpt(*l)));
    g.latency_ms = l->get<double>();
    if (const auto sc = c.find("scale"); sc != c.end()) {
      if (!sc->is_number() || !(sc->get<double>() > 0.0) || !std::isfinite(sc->get<double>()))
        throw parse_error(where + ": key 'scale' must be a positive number, found " + excerpt(*sc));
      g.scale = sc->get<double>();
    }
    p.add_golden(std::move(g));
  }
}

/// Reads the manifest's optional `fallback` object (docs/predictor-format.md, "Fallback") into
/// p: family name -> {"base_ms", "ms_per_mflop", "ms_per_mbyte"}, each a finite non-negative
/// number, not all zero.
inline void read_fallback(const nlohmann::ordered_json& fb, const std::string& manifest_path,
                          predictor& p) {
  if (!fb.is_object()) throw parse_error(manifest_path + ": key 'fallback' must be an object");
  for (auto it = fb.begin(); it != fb.end(); ++it) {
    const std::string where = manifest_path + ": fallback['" + it.key() + "']";
    const auto family = parse_kernel_family(it.key());
    if (!family)
      throw parse_error(where + ": unknown kernel family (compute, depthwise, pooling, "
                                "elementwise, data-movement)");
    if (!it.value().is_object()) throw parse_error(where + " must be an object");
    auto coefficient = [&](const char* key) {
      const auto c = it.value().find(key);
      if (c == it.value().end() || !c->is_number() || !std::isfinite(c->get<double>()) ||
          c->get<double>() < 0.0)
        throw parse_error(where + ": key '" + key + "' must be a finite non-negative number" +
                          (c == it.value().end() ? std::string() : ", found " + excerpt(*c)));
      return c->get<double>();
    };
    fallback_coefficients c;
    c.base_ms = coefficient("base_ms");
    c.ms_per_mflop = coefficient("ms_per_mflop");
    c.ms_per_mbyte = coefficient("ms_per_mbyte");
    if (!valid(c)) throw parse_error(where + ": the coefficients are all zero (no model)");
    p.set_fallback(*family, c);
  }
}

inline void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw error(path.string() + ": cannot create the file");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw error(path.string() + ": cannot write the file (disk full?)");
}

}  // namespace detail

/// Reads the files of a predictor package on behalf of read_predictor_package: called with a
/// file name from the manifest (already checked to be a relative name inside the package), it
/// returns that file's content or throws nnmeter::error naming it.
using package_file_reader = std::function<std::string(const std::string& name)>;

/// Reads a predictor package from its manifest text and a reader of its other files.
/// `label` names the package in messages (its folder); the manifest is `<label>/manifest.json`
/// and the other files `<label>/<name>`. The manifest names the predictor, its device, backend,
/// feature set and measurement protocol, the rule file and one forest file per kernel kind (see
/// docs/predictor-format.md). Throws format_mismatch when the package's format_version is not
/// NNMETER_PREDICTOR_FORMAT, parse_error naming the file and key on anything malformed (a key
/// twice in one object included), and the forest reader's errors for a bad forest.
inline predictor read_predictor_package(std::string_view manifest_text, const std::string& label,
                                        const package_file_reader& read_member,
                                        const json_limits& limits = {}) {
  using json = nlohmann::ordered_json;
  detail::check_json_limits(limits);
  const std::string manifest_path = detail::join_path(label, "manifest.json");
  const json m = detail::parse_json_text<json>(manifest_text, manifest_path, limits.max_depth);
  if (!m.is_object()) throw parse_error(manifest_path + ": the manifest must be a JSON object");
  const json& fv = detail::require(m, "format_version", manifest_path, json::value_t::number_unsigned);
  const std::uint64_t format = fv.get<std::uint64_t>();
  if (format != 1 && format != static_cast<std::uint64_t>(NNMETER_PREDICTOR_FORMAT))
    throw format_mismatch(manifest_path + ": predictor format_version " + fv.dump() +
                          ", but this library reads versions 1 to " +
                          std::to_string(NNMETER_PREDICTOR_FORMAT));
  auto str = [&](const char* key) {
    return detail::require(m, key, manifest_path, json::value_t::string).get<std::string>();
  };
  predictor_info info;
  info.name = str("name");
  info.version = str("version");
  info.device = str("device");
  info.backend = str("backend");
  const std::string fs = str("feature_set");
  if (!parse_feature_set(fs, info.features))
    throw parse_error(manifest_path +
                      ": key 'feature_set' must be \"nnmeter\", \"extended\" or \"lanes\", found " +
                      detail::excerpt(json(fs)));
  if (const auto p = m.find("measurement_protocol"); p != m.end() && !p->is_null()) {
    if (!p->is_object())
      throw parse_error(manifest_path + ": key 'measurement_protocol' must be an object");
    info.protocol_json = p->dump();
  }
  if (const auto b = m.find("build"); b != m.end() && !b->is_null()) {
    if (!b->is_object()) throw parse_error(manifest_path + ": key 'build' must be an object");
    info.build_json = b->dump();
  }
  const std::string rules_file = str("fusion_rules");
  if (!detail::safe_relative_name(rules_file))
    throw parse_error(manifest_path + ": key 'fusion_rules' must be a file name inside the package");
  const std::string rules_path = detail::join_path(label, rules_file);
  rule_set rules = read_fusion_rules(read_member(rules_file), rules_path, limits);
  predictor p(std::move(info), std::move(rules));
  const json& kernels = detail::require(m, "kernels", manifest_path, json::value_t::object);
  for (auto it = kernels.begin(); it != kernels.end(); ++it) {
    const std::string where = manifest_path + ": kernels['" + it.key() + "']";
    const auto kind = parse_kernel_kind(it.key());
    if (!kind) throw parse_error(where + ": unknown kernel kind (see docs/predictor-format.md)");
    if (!it.value().is_string() || !detail::safe_relative_name(it.value().get<std::string>()))
      throw parse_error(where + ": must be a file name inside the package");
    const std::string& file = it.value().get_ref<const std::string&>();
    const std::string path = detail::join_path(label, file);
    forest f = read_xgboost_json(read_member(file), path, limits);
    const std::size_t want = feature_count(*kind, p.info().features);
    if (want != 0 && f.view().num_features != want)
      throw parse_error(path + ": the forest reads " + std::to_string(f.view().num_features) +
                        " features, but kind '" + it.key() + "' has " + std::to_string(want) +
                        " in feature set '" + std::string(to_string(p.info().features)) + "'");
    p.set_forest(*kind, std::move(f));
  }
  // Format 2: what each kind's forest predicts (absent kinds: ms).
  if (const auto t = m.find("targets"); t != m.end() && !t->is_null()) {
    if (format < 2)
      throw parse_error(manifest_path + ": key 'targets' needs format_version 2 or later");
    if (!t->is_object()) throw parse_error(manifest_path + ": key 'targets' must be an object");
    for (auto it = t->begin(); it != t->end(); ++it) {
      const std::string where = manifest_path + ": targets['" + it.key() + "']";
      const auto kind = parse_kernel_kind(it.key());
      if (!kind) throw parse_error(where + ": unknown kernel kind");
      if (!p.has_forest(*kind)) throw parse_error(where + ": the package has no forest of this kind");
      const auto target =
          it.value().is_string() ? parse_latency_target(it.value().get_ref<const std::string&>())
                                 : std::nullopt;
      if (!target)
        throw parse_error(where + ": must be \"ms\", \"ms-per-mflop\" or \"ms-per-mbyte\", found " +
                          detail::excerpt(it.value()));
      if (*target != latency_target::ms && p.info().features == feature_set::nnmeter)
        throw parse_error(where + ": target '" + it.value().get<std::string>() +
                          "' needs the kernels' costs, which feature set 'nnmeter' does not compute");
      p.set_target(*kind, *target);
    }
  }
  if (const auto fb = m.find("fallback"); fb != m.end() && !fb->is_null())
    detail::read_fallback(*fb, manifest_path, p);
  if (const auto cs = m.find("context_scale"); cs != m.end() && !cs->is_null()) {
    if (!cs->is_number() || !(cs->get<double>() > 0.0) || !std::isfinite(cs->get<double>()))
      throw parse_error(manifest_path + ": key 'context_scale' must be a finite positive number, "
                        "found " + detail::excerpt(*cs));
    p.set_context_scale(cs->get<double>());
  }
  if (const auto ks = m.find("kind_scales"); ks != m.end() && !ks->is_null()) {
    if (!ks->is_object()) throw parse_error(manifest_path + ": key 'kind_scales' must be an object");
    for (auto it = ks->begin(); it != ks->end(); ++it) {
      const std::string where = manifest_path + ": kind_scales['" + it.key() + "']";
      const auto kind = parse_kernel_kind(it.key());
      if (!kind) throw parse_error(where + ": unknown kernel kind");
      if (!it.value().is_number() || !(it.value().get<double>() > 0.0) ||
          !std::isfinite(it.value().get<double>()))
        throw parse_error(where + ": must be a finite positive number, found " +
                          detail::excerpt(it.value()));
      p.set_kind_scale(*kind, it.value().get<double>());
    }
  }
  if (const auto gc = m.find("golden_cases"); gc != m.end() && !gc->is_null()) {
    if (!gc->is_string() || !detail::safe_relative_name(gc->get<std::string>()))
      throw parse_error(manifest_path + ": key 'golden_cases' must be a file name inside the package");
    const std::string& file = gc->get_ref<const std::string&>();
    detail::read_golden_cases(read_member(file), detail::join_path(label, file), limits, p);
  }
  return p;
}

/// Reads a predictor package from folder `dir` (see read_predictor_package): every file is read
/// with limits.max_bytes, and directories, devices and files that do not start like JSON are
/// refused before they are read whole.
inline predictor load_predictor_package(const std::string& dir, const json_limits& limits = {}) {
  detail::check_json_limits(limits);
  const std::string manifest_path = detail::join_path(dir, "manifest.json");
  const std::string manifest =
      detail::read_json_file(manifest_path, limits, "a predictor package manifest");
  return read_predictor_package(
      manifest, dir,
      [&](const std::string& name) {
        return detail::read_json_file(detail::join_path(dir, name), limits,
                                      "a predictor package file");
      },
      limits);
}

/// Options of write_predictor_package.
struct package_write_options {
  /// Replace a package that exists at the destination (default: refuse, naming it). The old
  /// package is replaced in one rename; an interrupted write leaves the old one.
  bool overwrite = false;
  /// JSON indentation of manifest.json, fusion_rules.json and golden_cases.json (forests
  /// are written compact).
  int indent = 2;
};

/// The manifest of predictor p as write_predictor_package writes it (file names: kind.json
/// per forest, fusion_rules.json, golden_cases.json when p has golden cases).
inline std::string predictor_manifest_json(const predictor& p, int indent = 2) {
  using json = nlohmann::ordered_json;
  json m = json::object();
  m["format_version"] = NNMETER_PREDICTOR_FORMAT;
  m["name"] = p.info().name;
  m["version"] = p.info().version;
  m["device"] = p.info().device;
  m["backend"] = p.info().backend;
  m["feature_set"] = std::string(to_string(p.info().features));
  m["measurement_protocol"] =
      p.info().protocol_json.empty()
          ? json(nullptr)
          : detail::parse_json_text<json>(p.info().protocol_json, "predictor_info::protocol_json");
  if (!p.info().build_json.empty())
    m["build"] = detail::parse_json_text<json>(p.info().build_json, "predictor_info::build_json");
  m["fusion_rules"] = "fusion_rules.json";
  json kernels = json::object();
  for (std::size_t i = 0; i < kernel_kind_count; ++i) {
    const auto k = static_cast<kernel_kind>(i);
    if (p.has_forest(k)) kernels[std::string(to_string(k))] = std::string(to_string(k)) + ".json";
  }
  m["kernels"] = std::move(kernels);
  json targets = json::object();
  for (std::size_t i = 0; i < kernel_kind_count; ++i) {
    const auto k = static_cast<kernel_kind>(i);
    if (p.has_forest(k) && p.target_for(k) != latency_target::ms)
      targets[std::string(to_string(k))] = std::string(to_string(p.target_for(k)));
  }
  if (!targets.empty()) m["targets"] = std::move(targets);
  if (p.has_fallback()) {
    json fb = json::object();
    for (std::size_t i = 0; i < kernel_family_count; ++i) {
      const auto f = static_cast<kernel_family>(i);
      if (const auto c = p.fallback_for(f))
        fb[std::string(to_string(f))] = {{"base_ms", c->base_ms},
                                         {"ms_per_mflop", c->ms_per_mflop},
                                         {"ms_per_mbyte", c->ms_per_mbyte}};
    }
    m["fallback"] = std::move(fb);
  }
  if (p.context_scale() != 1.0) m["context_scale"] = p.context_scale();
  if (p.has_kind_scales()) {
    json ks = json::object();
    for (std::size_t i = 0; i < kernel_kind_count; ++i) {
      const auto k = static_cast<kernel_kind>(i);
      if (p.kind_scale(k) != 1.0) ks[std::string(to_string(k))] = p.kind_scale(k);
    }
    m["kind_scales"] = std::move(ks);
  }
  if (!p.golden().empty()) m["golden_cases"] = "golden_cases.json";
  return m.dump(indent);
}

/// The golden cases of p as golden_cases.json text.
inline std::string golden_cases_json(const predictor& p, int indent = 2) {
  using json = nlohmann::ordered_json;
  json cases = json::array();
  for (const golden_case& g : p.golden()) {
    json c = json::object();
    c["kernel"] = std::string(to_string(g.kind));
    json f = json::array();
    for (double x : g.features) f.push_back(x);
    c["features"] = std::move(f);
    c["latency_ms"] = g.latency_ms;
    if (g.scale != 1.0) c["scale"] = g.scale;
    cases.push_back(std::move(c));
  }
  json doc = json::object();
  doc["cases"] = std::move(cases);
  return doc.dump(indent);
}

/// Writes predictor p as a package folder `dir` (docs/predictor-format.md): manifest.json,
/// fusion_rules.json, one XGBoost JSON forest per kind, golden_cases.json. The package is
/// written into a temporary sibling folder and renamed into place, so `dir` is never seen
/// half-written; on any error (a full disk included) the temporary folder is removed and
/// nnmeter::error names the file. Then the written package is read back and verified: its
/// golden cases must reproduce. Throws when `dir` exists and !options.overwrite.
inline void write_predictor_package(const predictor& p, const std::string& dir,
                                    const package_write_options& options = {}) {
  namespace fs = std::filesystem;
  const fs::path target(dir);
  std::error_code ec;
  if (fs::exists(target, ec) && !options.overwrite)
    throw error(dir + ": exists (a predictor package is not written over another; remove it "
                      "or overwrite it)");
  if (p.info().name.empty()) throw error(dir + ": the predictor has no name");
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw error(parent.string() + ": cannot create the folder (" + ec.message() + ")");
  const std::string base = target.filename().string();
  fs::path tmp;
  for (unsigned k = 0;; ++k) {
    tmp = parent / ("." + base + ".tmp" + std::to_string(k));
    if (fs::create_directory(tmp, ec)) break;
    if (ec || k > 1000) throw error(tmp.string() + ": cannot create the folder" +
                                    (ec ? " (" + ec.message() + ")" : std::string()));
  }
  try {
    detail::write_text_file(tmp / "manifest.json", predictor_manifest_json(p, options.indent));
    detail::write_text_file(tmp / "fusion_rules.json", write_fusion_rules(p.rules(), options.indent));
    for (std::size_t i = 0; i < kernel_kind_count; ++i) {
      const auto k = static_cast<kernel_kind>(i);
      if (const auto v = p.forest_for(k))
        detail::write_text_file(tmp / (std::string(to_string(k)) + ".json"),
                                write_xgboost_json(forest::from_view(*v)));
    }
    if (!p.golden().empty())
      detail::write_text_file(tmp / "golden_cases.json", golden_cases_json(p, options.indent));
    // What was written must read back and reproduce its golden cases.
    const predictor back = load_predictor_package(tmp.string());
    const verify_result vr = back.verify();
    if (!p.golden().empty() && !vr.ok())
      throw error(dir + ": the written package does not reproduce its golden cases: " +
                  vr.failures.front());
    fs::path old;
    if (fs::exists(target, ec)) {
      old = parent / ("." + base + ".old");
      fs::remove_all(old, ec);
      fs::rename(target, old, ec);
      if (ec) throw error(dir + ": cannot move the old package aside (" + ec.message() + ")");
    }
    fs::rename(tmp, target, ec);
    if (ec) {
      if (!old.empty()) fs::rename(old, target, ec);
      throw error(dir + ": cannot move the package into place (" + ec.message() + ")");
    }
    if (!old.empty()) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace io
NNMETER_END_NAMESPACE
