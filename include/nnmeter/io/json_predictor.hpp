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

#include <cstdint>
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
  if (fv.get<std::uint64_t>() != static_cast<std::uint64_t>(NNMETER_PREDICTOR_FORMAT))
    throw format_mismatch(manifest_path + ": predictor format_version " + fv.dump() +
                          ", but this library reads version " +
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
    throw parse_error(manifest_path + ": key 'feature_set' must be \"nnmeter\" or \"extended\", found " +
                      detail::excerpt(json(fs)));
  if (const auto p = m.find("measurement_protocol"); p != m.end() && !p->is_null()) {
    if (!p->is_object())
      throw parse_error(manifest_path + ": key 'measurement_protocol' must be an object");
    info.protocol_json = p->dump();
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

}  // namespace io
NNMETER_END_NAMESPACE
