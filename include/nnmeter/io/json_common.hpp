// nnmeter — helpers shared by the JSON readers and writers. Opt-in: needs nlohmann_json.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_common.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#endif
#include <nlohmann/json.hpp>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <nnmeter.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {
namespace detail {

/// The whole content of a file; throws parse_error naming the file when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw parse_error(path + ": cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw parse_error(path + ": read error");
  return ss.str();
}

/// Parses JSON text, turning nlohmann's exception into parse_error naming the source.
template <class Json>
Json parse_json_text(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw parse_error(source + ": not valid JSON: " + e.what());
  }
}

/// obj[key] with the expected JSON type, or a parse_error naming `where` and the key.
template <class Json>
const Json& require(const Json& obj, const char* key, const std::string& where,
                    typename Json::value_t type) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw parse_error(where + ": missing key '" + key + "'");
  if (it->type() != type) {
    const Json sample(type);
    throw parse_error(where + ": key '" + key + "' must be " + sample.type_name() + ", found " +
                      it->type_name());
  }
  return *it;
}

template <class Json>
std::int64_t to_int(const Json& v, const std::string& where, const char* key) {
  if (v.is_number_integer()) return v.template get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      return static_cast<std::int64_t>(d);
  }
  if (v.is_boolean()) return v.template get<bool>() ? 1 : 0;
  throw parse_error(where + ": '" + key + "' must hold integers, found " + v.dump());
}

template <class Json>
std::vector<std::int64_t> to_int_list(const Json& v, const std::string& where, const char* key) {
  std::vector<std::int64_t> out;
  if (v.is_array()) {
    for (const auto& x : v) out.push_back(to_int(x, where, key));
  } else {
    out.push_back(to_int(v, where, key));
  }
  return out;
}

template <class Json>
double to_double(const Json& v, const std::string& where, const char* key) {
  if (v.is_number()) return v.template get<double>();
  throw parse_error(where + ": '" + key + "' must be a number, found " + v.dump());
}

/// Rejects dimensions below -1 (unknown) or above 2^31-1.
inline void check_dims(const tensor_shape& s, const std::string& where) {
  for (auto d : s) {
    if (d < tensor_shape::unknown)
      throw parse_error(where + ": negative dimension " + std::to_string(d));
    if (d > tensor_shape::max_dim)
      throw parse_error(where + ": dimension " + std::to_string(d) + " is absurd (above 2^31-1)");
  }
}

/// A list of shapes (a list of lists of ints) under `key`; an absent key is an empty list.
template <class Json>
std::vector<tensor_shape> read_shape_list(const Json& obj, const char* key,
                                          const std::string& where) {
  std::vector<tensor_shape> out;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) throw parse_error(where + ": '" + key + "' must be a list of shapes");
  for (const auto& s : *it) {
    if (!s.is_array())
      throw parse_error(where + ": '" + key + "' must be a list of shapes (lists of ints), found " +
                        s.dump());
    if (s.size() > tensor_shape::max_rank)
      throw parse_error(where + ": '" + key + "' has a shape of rank " + std::to_string(s.size()) +
                        " (at most 8)");
    tensor_shape t;
    for (const auto& d : s) t.push_back(to_int(d, where, key));
    check_dims(t, where + ": '" + std::string(key) + "'");
    out.push_back(t);
  }
  return out;
}

template <class Json>
Json shapes_to_json(const std::vector<tensor_shape>& shapes) {
  Json a = Json::array();
  for (const tensor_shape& s : shapes) {
    Json d = Json::array();
    for (auto x : s) d.push_back(x);
    a.push_back(std::move(d));
  }
  return a;
}

inline std::array<std::int64_t, 2> pair_of(const std::vector<std::int64_t>& v,
                                           const std::string& where, const char* key) {
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() == 2) return {v[0], v[1]};
  if (v.size() == 4) return {v[1], v[2]};  // TensorFlow NHWC [1, h, w, 1]
  throw parse_error(where + ": '" + key + "' must have 1, 2 or 4 entries");
}

inline std::string strip_bytes_literal(std::string s) {
  // nn-Meter's ONNX converter writes string attributes as Python bytes reprs: "b'NOTSET'".
  if (s.size() >= 3 && s[0] == 'b' && (s[1] == '\'' || s[1] == '"') && s.back() == s[1])
    return s.substr(2, s.size() - 3);
  return s;
}

inline bool is_onnx_type(const std::string& t) {
  return t == "Conv" || t == "ConvTranspose" || t == "MaxPool" || t == "AveragePool" || t == "Pad";
}

/// Reads attr.attr of an IR node into typed attributes; keys that no field models go to
/// attributes::extra as JSON text.
template <class Json>
void read_attributes(const Json& aa, node& n, const std::string& where) {
  attributes& a = n.attrs;
  // Window size precedence as in nn-Meter: ks < kernel_shape < weight_shape < ksize.
  const char* window_keys[] = {"ks", "kernel_shape", "weight_shape", "ksize"};
  for (const char* key : window_keys) {
    const auto it = aa.find(key);
    if (it == aa.end() || it->is_null()) continue;
    const std::vector<std::int64_t> v = to_int_list(*it, where, key);
    if (std::string_view(key) == "weight_shape") {
      if (v.size() < 2) throw parse_error(where + ": 'weight_shape' needs at least 2 entries");
      a.kernel = {v[0], v[1]};
    } else {
      a.kernel = pair_of(v, where, key);
    }
  }
  for (auto it = aa.begin(); it != aa.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    const char* k = key.c_str();
    if (key == "ks" || key == "kernel_shape" || key == "weight_shape" || key == "ksize") continue;
    if (key == "strides") {
      a.strides = pair_of(to_int_list(v, where, k), where, k);
    } else if (key == "dilations") {
      a.dilations = pair_of(to_int_list(v, where, k), where, k);
    } else if (key == "pads" && v.is_array()) {
      const std::vector<std::int64_t> p = to_int_list(v, where, k);
      if (p.size() == 4) {
        if (is_onnx_type(n.type))
          a.pads = {p[0], p[2], p[1], p[3]};  // ONNX [t, l, b, r]
        else
          a.pads = {p[0], p[1], p[2], p[3]};
      } else if (p.size() == 2) {
        a.pads = {p[0], p[0], p[1], p[1]};
      } else {
        throw parse_error(where + ": 'pads' must have 2 or 4 entries");
      }
    } else if ((key == "padding" || key == "auto_pad") && v.is_string()) {
      const std::string p = strip_bytes_literal(v.template get<std::string>());
      if (p == "SAME" || p == "SAME_UPPER")
        a.padding = padding_mode::same;
      else if (p == "SAME_LOWER")
        a.padding = padding_mode::same_lower;
      else if (p == "VALID")
        a.padding = padding_mode::valid;
      else if (p == "EXPLICIT" || p == "NOTSET")
        a.padding = padding_mode::explicit_pads;
      else
        throw parse_error(where + ": '" + key + "' must be SAME, SAME_UPPER, SAME_LOWER, VALID, "
                                              "EXPLICIT or NOTSET, found '" + p + "'");
    } else if (key == "group") {
      a.groups = to_int(v, where, k);
      if (a.groups < 1) throw parse_error(where + ": 'group' must be >= 1");
    } else if (key == "axis" || key == "split_dim") {
      a.axis = to_int(v, where, k);
    } else if (key == "axes" || key == "reduction_indices") {
      a.axes = to_int_list(v, where, k);
    } else if (key == "keepdims" || key == "keep_dims") {
      a.keepdims = to_int(v, where, k) != 0;
    } else if (key == "perm") {
      a.perm = to_int_list(v, where, k);
    } else if (key == "split" && v.is_array()) {
      a.split_sizes = to_int_list(v, where, k);
    } else if (key == "shape" && n.op == op_kind::reshape) {
      a.target_shape = to_int_list(v, where, k);
    } else if (key == "alpha") {
      a.alpha = static_cast<float>(to_double(v, where, k));
    } else if (key == "beta") {
      a.beta = static_cast<float>(to_double(v, where, k));
    } else if (key == "min" && v.is_number()) {
      a.clip_min = static_cast<float>(to_double(v, where, k));
    } else if (key == "max" && v.is_number()) {
      a.clip_max = static_cast<float>(to_double(v, where, k));
    } else if (key == "scales" && v.is_array() && v.size() == 2) {
      a.scales = {static_cast<float>(to_double(v[0], where, k)),
                  static_cast<float>(to_double(v[1], where, k))};
    } else if (key == "mode" && v.is_string()) {
      a.mode = strip_bytes_literal(v.template get<std::string>());
    } else if (key == "ceil_mode") {
      a.ceil_mode = to_int(v, where, k) != 0;
    } else if (key == "bias" && v.is_boolean()) {
      a.has_bias = v.template get<bool>();
    } else {
      a.extra.emplace_back(key, v.dump());
    }
  }
  for (auto d : a.kernel)
    if (d < 0 || d > tensor_shape::max_dim) throw parse_error(where + ": window size out of range");
  for (auto d : a.strides)
    if (d < 1 || d > tensor_shape::max_dim) throw parse_error(where + ": strides must be >= 1");
  for (auto d : a.dilations)
    if (d < 1 || d > tensor_shape::max_dim) throw parse_error(where + ": dilations must be >= 1");
}

inline const char* padding_name(padding_mode p) {
  switch (p) {
    case padding_mode::same: return "SAME";
    case padding_mode::same_lower: return "SAME_LOWER";
    case padding_mode::valid: return "VALID";
    default: return "EXPLICIT";
  }
}

/// attr.attr of a node: typed fields that differ from their defaults (and the window fields of
/// windowed kinds), then unmodelled attributes as read.
template <class Json>
Json attributes_to_json(const node& n) {
  const attributes& a = n.attrs;
  const attributes d{};
  Json out = Json::object();
  const bool windowed = is_windowed(n.op);
  if (windowed || a.kernel != d.kernel) out["ks"] = {a.kernel[0], a.kernel[1]};
  if (windowed || a.strides != d.strides) out["strides"] = {a.strides[0], a.strides[1]};
  if (a.dilations != d.dilations) out["dilations"] = {a.dilations[0], a.dilations[1]};
  if (windowed || a.pads != d.pads) out["pads"] = {a.pads[0], a.pads[1], a.pads[2], a.pads[3]};
  if (windowed || a.padding != d.padding) out["padding"] = padding_name(a.padding);
  if (a.groups != d.groups) out["group"] = a.groups;
  if (!a.has_bias) out["bias"] = false;
  if (a.ceil_mode) out["ceil_mode"] = 1;
  if (a.axis != d.axis) out["axis"] = a.axis;
  if (!a.axes.empty()) out["axes"] = a.axes;
  if (!a.keepdims) out["keepdims"] = 0;
  if (!a.perm.empty()) out["perm"] = a.perm;
  if (!a.split_sizes.empty()) out["split"] = a.split_sizes;
  if (!a.target_shape.empty()) out["shape"] = a.target_shape;
  if (a.alpha != d.alpha) out["alpha"] = static_cast<double>(a.alpha);
  if (a.beta != d.beta) out["beta"] = static_cast<double>(a.beta);
  if (a.clip_min != d.clip_min) out["min"] = static_cast<double>(a.clip_min);
  if (a.clip_max != d.clip_max) out["max"] = static_cast<double>(a.clip_max);
  if (a.scales != d.scales)
    out["scales"] = {static_cast<double>(a.scales[0]), static_cast<double>(a.scales[1])};
  if (!a.mode.empty()) out["mode"] = a.mode;
  for (const auto& kv : a.extra) {
    if (kv.first == "nnmeter:parameter_inbounds") continue;
    out[kv.first] = Json::parse(kv.second);
  }
  return out;
}

}  // namespace detail
}  // namespace io
NNMETER_END_NAMESPACE
