// nnmeter — read and write XGBoost 1.x JSON models as nnmeter::forest. See docs/forests.md.
// Opt-in: needs nlohmann_json (CMake target nnmeter::json).
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_xgboost.hpp needs nlohmann_json: link nnmeter::json"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json_common.hpp>

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wconversion"
#pragma clang diagnostic ignored "-Wsign-conversion"
#pragma clang diagnostic ignored "-Wshadow"
#pragma clang diagnostic ignored "-Wfloat-equal"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wfloat-equal"
#endif
#include <nlohmann/json.hpp>
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {
namespace detail {

/// nlohmann::json with float as its floating-point type: numbers are then parsed by strtof, i.e.
/// rounded once, straight to the float XGBoost itself holds. (Parsing to double and narrowing
/// would round twice, which can land on the neighbouring float.) Grisu2 output of such a float
/// reads back to the same float, so written models keep their exact values as well.
using xgb_json = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t,
                                      std::uint64_t, float>;

/// The objectives whose prediction is the raw margin (identity link), so that the forest sum is
/// the model's output. reg:linear is the pre-1.0 name of reg:squarederror.
inline constexpr std::string_view xgb_identity_objectives[] = {
    "reg:squarederror", "reg:linear", "reg:squaredlogerror", "reg:pseudohubererror",
    "reg:absoluteerror"};

/// Reads one XGBoost JSON document; every error names the source and the JSON key path.
class xgb_reader {
 public:
  explicit xgb_reader(std::string_view source, const json_limits& limits = {})
      : source_(source), limits_(limits) {}

  [[noreturn]] void fail_parse(const std::string& path, const std::string& what) const {
    throw parse_error(source_ + ": key '" + path + "': " + what);
  }
  [[noreturn]] void fail_unsupported(const std::string& path, const std::string& what) const {
    throw unsupported_error(source_ + ": key '" + path + "': " + what);
  }

  /// Member `key` of object `obj` (found at `path`); parse_error when absent.
  const xgb_json& member(const xgb_json& obj, const std::string& path, const char* key) const {
    const std::string sub = path.empty() ? std::string(key) : path + "." + key;
    if (!obj.is_object()) fail_parse(path, "expected a JSON object");
    const auto it = obj.find(key);
    if (it == obj.end()) throw parse_error(source_ + ": missing key '" + sub + "'");
    return *it;
  }
  /// Member `key` or nullptr when absent.
  static const xgb_json* optional_member(const xgb_json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  const std::string& string_at(const xgb_json& j, const std::string& path) const {
    if (!j.is_string()) fail_parse(path, "expected a string, found " + std::string(j.type_name()));
    return j.get_ref<const std::string&>();
  }

  /// XGBoost stores most scalar parameters as strings ("16", "5E-1"). Parsed through the same
  /// JSON number grammar, so the result does not depend on the C locale.
  xgb_json number_in_string(const xgb_json& j, const std::string& path) const {
    const std::string& s = string_at(j, path);
    // A number is short; a long string is refused before it is parsed (and quoted in part).
    const std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
    xgb_json n;
    if (s.size() <= 64) n = xgb_json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (!n.is_number()) fail_parse(path, "'" + shown + "' is not a number");
    if (n.is_number_float() && !std::isfinite(n.get<float>()))
      fail_parse(path, "'" + shown + "' is out of the range of a float");
    return n;
  }
  std::int64_t integer_in_string(const xgb_json& j, const std::string& path) const {
    const xgb_json n = number_in_string(j, path);
    if (!n.is_number_integer())
      fail_parse(path, "'" + j.get_ref<const std::string&>() + "' is not an integer");
    if (n.is_number_unsigned() &&
        n.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_parse(path, "'" + j.get_ref<const std::string&>() + "' is out of range");
    return n.get<std::int64_t>();
  }
  float float_in_string(const xgb_json& j, const std::string& path) const {
    return number_in_string(j, path).get<float>();
  }

  const xgb_json& array_at(const xgb_json& j, const std::string& path) const {
    if (!j.is_array()) fail_parse(path, "expected an array, found " + std::string(j.type_name()));
    return j;
  }
  std::int64_t integer_at(const xgb_json& j, const std::string& path) const {
    if (j.is_boolean()) return j.get<bool>() ? 1 : 0;  // default_left: 0/1 in 1.7, bools earlier
    if (!j.is_number_integer())
      fail_parse(path, "expected an integer, found " + std::string(j.type_name()));
    if (j.is_number_unsigned() &&
        j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_parse(path, "integer " + std::to_string(j.get<std::uint64_t>()) + " is out of range");
    return j.get<std::int64_t>();
  }

  /// Integer array member `key` of tree object `tree` (at `path`), of length `n`.
  std::vector<std::int64_t> integers(const xgb_json& tree, const std::string& path, const char* key,
                                     std::size_t n) const {
    const std::string p = path + "." + key;
    const xgb_json& a = array_at(member(tree, path, key), p);
    check_length(a, p, n);
    std::vector<std::int64_t> out(n);
    for (std::size_t i = 0; i < n; ++i)
      out[i] = integer_at(a[i], p + "[" + std::to_string(i) + "]");
    return out;
  }
  std::vector<float> floats(const xgb_json& tree, const std::string& path, const char* key,
                            std::size_t n) const {
    const std::string p = path + "." + key;
    const xgb_json& a = array_at(member(tree, path, key), p);
    check_length(a, p, n);
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!a[i].is_number()) fail_parse(p + "[" + std::to_string(i) + "]", "expected a number");
      out[i] = a[i].get<float>();
    }
    return out;
  }
  void check_length(const xgb_json& a, const std::string& path, std::size_t n) const {
    if (a.size() != n) {
      fail_parse(path, "has " + std::to_string(a.size()) + " entries, tree_param.num_nodes says " +
                           std::to_string(n));
    }
  }

  /// Reads tree `t` (tree-local XGBoost node ids) and appends it to `out` in breadth-first order,
  /// dropping nodes the root does not reach (XGBoost's deleted nodes).
  void read_tree(const xgb_json& tree, std::size_t t, forest& out) const {
    const std::string path = "learner.gradient_booster.model.trees[" + std::to_string(t) + "]";
    const std::string param_path = path + ".tree_param";
    const xgb_json& param = member(tree, path, "tree_param");
    const std::int64_t num_nodes =
        integer_in_string(member(param, param_path, "num_nodes"), param_path + ".num_nodes");
    if (num_nodes < 1 || num_nodes > std::numeric_limits<std::int32_t>::max()) {
      fail_parse(param_path + ".num_nodes",
                 std::to_string(num_nodes) + " is not a valid node count");
    }
    const auto n = static_cast<std::size_t>(num_nodes);
    if (const xgb_json* slv = optional_member(param, "size_leaf_vector")) {
      if (integer_in_string(*slv, param_path + ".size_leaf_vector") > 1) {
        fail_unsupported(param_path + ".size_leaf_vector", "vector leaves are not supported");
      }
    }
    const auto left = integers(tree, path, "left_children", n);
    const auto right = integers(tree, path, "right_children", n);
    const auto split_index = integers(tree, path, "split_indices", n);
    const auto split_cond = floats(tree, path, "split_conditions", n);
    const auto default_left = integers(tree, path, "default_left", n);
    // split_type and categories* appeared in 1.6 (categorical data); absent means numerical.
    if (optional_member(tree, "split_type") != nullptr) {
      const auto split_type = integers(tree, path, "split_type", n);
      for (std::size_t i = 0; i < n; ++i) {
        if (split_type[i] != 0) {
          fail_unsupported(path + ".split_type[" + std::to_string(i) + "]",
                           "categorical split (split_type " + std::to_string(split_type[i]) +
                               "); only numerical splits are supported");
        }
      }
    }
    if (const xgb_json* cats = optional_member(tree, "categories_nodes")) {
      if (!cats->is_array() || !cats->empty()) {
        fail_unsupported(path + ".categories_nodes", "categorical splits are not supported");
      }
    }

    // Breadth-first renumbering: children become adjacent pairs (the forest layout), and the
    // walk from the root also proves the structure is a tree.
    const auto base = static_cast<std::int64_t>(out.left.size());
    std::vector<std::uint8_t> seen(n, 0);
    std::vector<std::size_t> order{0};  // XGBoost node ids in their new order
    seen[0] = 1;
    out.tree_roots.push_back(static_cast<std::uint32_t>(base));
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::size_t i = order[k];
      const std::string at = "[" + std::to_string(i) + "]";
      if (left[i] == -1 || right[i] == -1) {
        if (left[i] != right[i]) {
          fail_parse(path + (left[i] == -1 ? ".right_children" : ".left_children") + at,
                     "node " + std::to_string(i) + " has only one child");
        }
        if (!forest_is_finite_value(split_cond[i]))
          fail_parse(path + ".split_conditions" + at, "leaf value is not finite");
        out.left.push_back(-1);
        out.feature.push_back(0);
        out.split_value.push_back(split_cond[i]);
        out.default_left.push_back(0);
        continue;
      }
      for (const auto& [key, child] :
           {std::pair<const char*, std::int64_t>{".left_children", left[i]},
            std::pair<const char*, std::int64_t>{".right_children", right[i]}}) {
        if (child < 0 || child >= num_nodes) {
          fail_parse(path + key + at, "child " + std::to_string(child) + " is outside [0, " +
                                          std::to_string(num_nodes) + ")");
        }
        const auto c = static_cast<std::size_t>(child);
        if (seen[c] != 0) {
          fail_parse(path + key + at, "node " + std::to_string(child) +
                                          " is reached twice (a cycle or a shared subtree)");
        }
        seen[c] = 1;
        order.push_back(c);
      }
      if (split_index[i] < 0 || split_index[i] >= static_cast<std::int64_t>(out.num_features)) {
        fail_parse(path + ".split_indices" + at, "feature " + std::to_string(split_index[i]) +
                                                     " >= learner_model_param.num_feature " +
                                                     std::to_string(out.num_features));
      }
      if (!forest_is_finite_value(split_cond[i]))
        fail_parse(path + ".split_conditions" + at, "threshold is not finite");
      // The children will be appended after every node already queued: left gets the position
      // order.size() - 2 (after the two push_backs above), right the next one.
      out.left.push_back(
          static_cast<std::int32_t>(base + static_cast<std::int64_t>(order.size()) - 2));
      out.feature.push_back(static_cast<std::uint32_t>(split_index[i]));
      out.split_value.push_back(split_cond[i]);
      out.default_left.push_back(default_left[i] != 0 ? 1 : 0);
    }
  }

  static bool forest_is_finite_value(float v) { return nnmeter::detail::forest_is_finite(v); }

  forest read(std::string_view text) const {
    const xgb_json doc = parse_document(text);

    // version: [major, minor, patch]; only the 1.x layout is known.
    const xgb_json& version = array_at(member(doc, "", "version"), "version");
    if (version.empty()) fail_parse("version", "empty version array");
    const std::int64_t major = integer_at(version[0], "version[0]");
    if (major != 1) {
      throw format_mismatch(source_ + ": key 'version' is " + excerpt(version) +
                            ": this reader handles XGBoost 1.x JSON models (major version 1)");
    }

    const xgb_json& learner = member(doc, "", "learner");
    const std::string mp = "learner.learner_model_param";
    const xgb_json& model_param = member(learner, "learner", "learner_model_param");
    if (const xgb_json* nc = optional_member(model_param, "num_class")) {
      const std::int64_t num_class = integer_in_string(*nc, mp + ".num_class");
      if (num_class > 1) {
        fail_unsupported(
            mp + ".num_class",
            std::to_string(num_class) + " classes: only single-output regression is supported");
      }
    }
    if (const xgb_json* nt = optional_member(model_param, "num_target")) {
      const std::int64_t num_target = integer_in_string(*nt, mp + ".num_target");
      if (num_target != 1) {
        fail_unsupported(
            mp + ".num_target",
            std::to_string(num_target) + " targets: only single-output regression is supported");
      }
    }
    const std::string& objective =
        string_at(member(member(learner, "learner", "objective"), "learner.objective", "name"),
                  "learner.objective.name");
    bool identity = false;
    for (std::string_view o : xgb_identity_objectives) identity = identity || objective == o;
    if (!identity) {
      fail_unsupported("learner.objective.name",
                       "objective '" + objective +
                           "' is not an identity-link regression objective "
                           "(supported: reg:squarederror, reg:linear, reg:squaredlogerror, "
                           "reg:pseudohubererror, reg:absoluteerror)");
    }

    forest out;
    const std::int64_t num_feature =
        integer_in_string(member(model_param, mp, "num_feature"), mp + ".num_feature");
    if (num_feature < 0 || num_feature > std::numeric_limits<std::int32_t>::max()) {
      fail_parse(mp + ".num_feature",
                 std::to_string(num_feature) + " is not a valid feature count");
    }
    out.num_features = static_cast<std::uint32_t>(num_feature);
    out.base_score = float_in_string(member(model_param, mp, "base_score"), mp + ".base_score");

    const std::string gp = "learner.gradient_booster";
    const xgb_json& booster = member(learner, "learner", "gradient_booster");
    const std::string& name = string_at(member(booster, gp, "name"), gp + ".name");
    if (name != "gbtree") {
      fail_unsupported(gp + ".name", "booster '" + name +
                                         "' is not supported (only gbtree; dart "
                                         "scales trees at prediction time, gblinear has no trees)");
    }
    const std::string mdp = gp + ".model";
    const xgb_json& model = member(booster, gp, "model");
    const std::string tpp = mdp + ".gbtree_model_param";
    const xgb_json& tree_param = member(model, mdp, "gbtree_model_param");
    const std::int64_t num_trees =
        integer_in_string(member(tree_param, tpp, "num_trees"), tpp + ".num_trees");
    if (const xgb_json* slv = optional_member(tree_param, "size_leaf_vector")) {
      if (integer_in_string(*slv, tpp + ".size_leaf_vector") > 1) {
        fail_unsupported(tpp + ".size_leaf_vector", "vector leaves are not supported");
      }
    }
    const xgb_json& trees = array_at(member(model, mdp, "trees"), mdp + ".trees");
    if (num_trees < 0 || static_cast<std::size_t>(num_trees) != trees.size()) {
      fail_parse(tpp + ".num_trees", std::to_string(num_trees) + " but " + mdp + ".trees has " +
                                         std::to_string(trees.size()) + " entries");
    }
    if (const xgb_json* info = optional_member(model, "tree_info")) {
      const xgb_json& a = array_at(*info, mdp + ".tree_info");
      for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string p = mdp + ".tree_info[" + std::to_string(i) + "]";
        if (integer_at(a[i], p) != 0)
          fail_unsupported(
              p, "tree of output group " + a[i].dump() + ": only one output is supported");
      }
    }
    for (std::size_t t = 0; t < trees.size(); ++t) read_tree(trees[t], t, out);

    // The reader's own checks cover the XGBoost structure; this one guards the translation.
    const forest_check c = out.check();
    if (!c) throw parse_error(source_ + ": " + describe(c, out.view()));
    return out;
  }

 private:
  xgb_json parse_document(std::string_view text) const {
    check_json_limits(limits_);
    json_parse_settings s;
    s.source = source_;
    s.invalid = "malformed JSON";
    s.max_depth = limits_.max_depth;
    return parse_bounded_json<xgb_json>(text, s);
  }

  std::string source_;
  json_limits limits_;
};

}  // namespace detail

/// Reads an XGBoost 1.x JSON model (XGBoosterSaveModel with a .json name) held in `text`.
/// Supported: gbtree boosters (GBDT or random-forest mode, num_parallel_tree >= 1: the stored leaf
/// values are already scaled, so the prediction is the plain sum), numerical splits, one output,
/// identity-link regression objectives. Prediction with evaluate() then equals XGBoost's bit for
/// bit. Errors name `source_name` and the JSON key path:
/// - malformed JSON, missing keys, wrong types, inconsistent trees: nnmeter::parse_error;
/// - version major != 1: nnmeter::format_mismatch;
/// - dart/gblinear, categorical splits, multi-class/multi-target, vector leaves, other
///   objectives: nnmeter::unsupported_error.
/// - nesting deeper than limits.max_depth, a key twice in one object: nnmeter::parse_error.
inline forest read_xgboost_json(std::string_view text, std::string_view source_name,
                                const json_limits& limits = {}) {
  return detail::xgb_reader(source_name, limits).read(text);
}

/// Reads the XGBoost JSON model file at `path` (see read_xgboost_json), at most
/// limits.max_bytes. Throws nnmeter::parse_error when the file cannot be read (missing, a
/// directory, too large, not starting like JSON).
inline forest load_xgboost_json(const std::string& path, const json_limits& limits = {}) {
  return read_xgboost_json(detail::read_json_file(path, limits, "an XGBoost JSON model"), path,
                           limits);
}

/// Writes `f` as an XGBoost 1.7 JSON model (gbtree, reg:squarederror, version [1, 7, 4]) that
/// XGBoosterLoadModel accepts and that predicts exactly what evaluate(f.view(), x) does. Floats
/// are written so that they read back to the same bits. Throws nnmeter::parse_error when `f` is
/// not a valid forest.
inline std::string write_xgboost_json(const forest& f) {
  using detail::xgb_json;
  f.validate();
  const std::string num_feature = std::to_string(f.num_features);

  xgb_json trees = xgb_json::array();
  for (std::size_t t = 0; t < f.num_trees(); ++t) {
    const std::size_t b = f.tree_roots[t];
    const std::size_t e = t + 1 < f.num_trees() ? std::size_t{f.tree_roots[t + 1]} : f.num_nodes();
    const auto n = e - b;
    std::vector<std::int64_t> left(n), right(n),
        parents(n, std::numeric_limits<std::int32_t>::max());
    std::vector<std::int64_t> split_indices(n), default_left(n), zeros(n, 0);
    std::vector<float> split_conditions(n), base_weights(n), zero_floats(n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t l = f.left[b + i];
      split_conditions[i] = f.split_value[b + i];
      if (l < 0) {
        left[i] = right[i] = -1;
        base_weights[i] = f.split_value[b + i];  // XGBoost keeps the leaf value in both
        continue;
      }
      const auto local = static_cast<std::int64_t>(l) - static_cast<std::int64_t>(b);
      left[i] = local;
      right[i] = local + 1;
      parents[static_cast<std::size_t>(local)] = parents[static_cast<std::size_t>(local + 1)] =
          static_cast<std::int64_t>(i);
      split_indices[i] = f.feature[b + i];
      default_left[i] = f.default_left[b + i] != 0 ? 1 : 0;
    }
    xgb_json tree = xgb_json::object();
    tree["base_weights"] = base_weights;
    tree["categories"] = xgb_json::array();
    tree["categories_nodes"] = xgb_json::array();
    tree["categories_segments"] = xgb_json::array();
    tree["categories_sizes"] = xgb_json::array();
    tree["default_left"] = default_left;
    tree["id"] = t;
    tree["left_children"] = left;
    tree["loss_changes"] = zero_floats;
    tree["parents"] = parents;
    tree["right_children"] = right;
    tree["split_conditions"] = split_conditions;
    tree["split_indices"] = split_indices;
    tree["split_type"] = zeros;
    tree["sum_hessian"] = zero_floats;
    tree["tree_param"] = {{"num_deleted", "0"},
                          {"num_feature", num_feature},
                          {"num_nodes", std::to_string(n)},
                          {"size_leaf_vector", "0"}};
    trees.push_back(std::move(tree));
  }

  xgb_json doc = xgb_json::object();
  xgb_json& learner = doc["learner"];
  learner["attributes"] = xgb_json::object();
  learner["feature_names"] = xgb_json::array();
  learner["feature_types"] = xgb_json::array();
  xgb_json& booster = learner["gradient_booster"];
  booster["name"] = "gbtree";
  booster["model"]["gbtree_model_param"] = {{"num_parallel_tree", "1"},
                                            {"num_trees", std::to_string(f.num_trees())},
                                            {"size_leaf_vector", "0"}};
  booster["model"]["tree_info"] = std::vector<std::int64_t>(f.num_trees(), 0);
  booster["model"]["trees"] = std::move(trees);
  learner["learner_model_param"] = {{"base_score", xgb_json(f.base_score).dump()},
                                    {"boost_from_average", "1"},
                                    {"num_class", "0"},
                                    {"num_feature", num_feature},
                                    {"num_target", "1"}};
  learner["objective"] = {{"name", "reg:squarederror"},
                          {"reg_loss_param", {{"scale_pos_weight", "1"}}}};
  doc["version"] = {1, 7, 4};
  return doc.dump();
}

}  // namespace io
NNMETER_END_NAMESPACE
