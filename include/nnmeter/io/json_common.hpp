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
#include <nnmeter/io/input_file.hpp>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// Deepest nesting of JSON arrays and objects the readers accept (the document's own object or
/// array is level 1). nn-Meter IR, rule files, manifests and XGBoost models need fewer than 10.
inline constexpr std::size_t default_max_json_depth = 256;
/// Upper bound of json_limits::max_depth: nesting is bounded so that the recursive parts of
/// nlohmann-json (dump(), comparisons, copies) stay far from the stack's end.
inline constexpr std::size_t max_json_depth_limit = 4096;

/// Resource limits of every JSON reader (nn-Meter IR, fusion rules, predictor packages,
/// XGBoost forests).
struct json_limits {
  /// Largest file accepted: a regular file is refused from its size before anything is read,
  /// a pipe or device once it has yielded more (see read_input_file).
  std::uint64_t max_bytes = default_max_json_bytes;
  /// Deepest nesting of arrays and objects accepted, in [1, max_json_depth_limit]; checked while
  /// parsing, so nothing deeper is ever built.
  std::size_t max_depth = default_max_json_depth;
};

namespace detail {

/// Refuses, from the first chunk of a file (read_input_file's `check_prefix`), content that
/// cannot be a JSON text: a NUL byte (never valid in JSON), or a first byte (after an optional
/// UTF-8 byte-order mark and white space) that starts no JSON value. `/dev/zero` and binary
/// files are so refused after one 64 KiB chunk.
inline std::function<void(std::string_view)> json_prefix_check(const std::string& path,
                                                               std::string_view what) {
  return [path, what = std::string(what)](std::string_view head) {
    const std::size_t nul = head.find('\0');
    if (nul != std::string_view::npos)
      throw parse_error(path + ": not " + what + ": byte " + std::to_string(nul + 1) +
                        " is a NUL byte, which no JSON text holds");
    std::size_t i = head.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    while (i < head.size() &&
           (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
      ++i;
    if (i == head.size()) return;  // empty or white space so far: the parser decides
    const char c = head[i];
    const bool starts_value = c == '{' || c == '[' || c == '"' || c == '-' ||
                              (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
    if (!starts_value) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      throw parse_error(path + ": not " + what + ": byte " + std::to_string(i + 1) + " (" + hex +
                        ") starts no JSON value");
    }
  };
}

/// Checks json_limits; throws nnmeter::error on a limit out of range.
inline void check_json_limits(const json_limits& limits) {
  if (limits.max_depth < 1 || limits.max_depth > max_json_depth_limit)
    throw error("json_limits::max_depth is " + std::to_string(limits.max_depth) +
                ", must be in [1, " + std::to_string(max_json_depth_limit) + "]");
}

/// The content of JSON file `path` read with bounded resources (read_input_file with the JSON
/// prefix check); `what` names the format in errors ("an nn-Meter IR file").
inline std::string read_json_file(const std::string& path, const json_limits& limits,
                                  std::string_view what) {
  check_json_limits(limits);
  return read_input_file(path, limits.max_bytes, what, json_prefix_check(path, what));
}

/// The whole content of a JSON file with the default limits (kept for callers outside the
/// readers; every reader goes through read_json_file).
inline std::string read_file(const std::string& path) {
  return read_json_file(path, json_limits{}, "a JSON file");
}

/// `s` cut to at most `max_bytes` bytes (at a UTF-8 character boundary, so that the message
/// stays valid UTF-8), with "..." when cut.
inline std::string shortened(std::string s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0U) == 0x80U) --n;
  s.resize(n);
  return s + "...";
}

/// nlohmann's message with every byte outside printable ASCII as \xNN: its "last read" part
/// quotes the input, which may be anything (invalid UTF-8, control bytes).
inline std::string ascii_message(std::string_view m) {
  std::string out;
  out.reserve(m.size());
  for (char c : m) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(u));
      out += buf;
    }
  }
  return out;
}

/// The first `max_chars` bytes of v.dump(), for error messages.
template <class Json>
std::string excerpt(const Json& v, std::size_t max_chars = 60) {
  return shortened(v.dump(), max_chars);
}

/// What a parse is for, so that its errors read like the reader's own.
struct json_parse_settings {
  /// Prefix of every message (the file name).
  std::string source;
  /// Phrase before nlohmann's syntax-error message ("not valid JSON", "malformed JSON").
  std::string_view invalid = "not valid JSON";
  /// What the members of the document's object are, for a duplicate key at the top level
  /// ("node", "rule", "key").
  std::string_view member_noun = "key";
  std::size_t max_depth = default_max_json_depth;
  /// Streaming mode: whether the parser checks the top-level keys for duplicates (a hash set
  /// of every key); a sink that indexes the keys anyway (the IR reader's graph) checks them
  /// itself and saves the second index.
  bool stream_checks_duplicates = true;
};

template <class Map, class = void>
struct is_vector_backed_map : std::false_type {};
template <class Map>
struct is_vector_backed_map<Map, std::void_t<typename Map::Container>>
    : std::is_base_of<typename Map::Container, Map> {};

/// nlohmann SAX handler that builds a document like nlohmann's own DOM parser, and also
/// - refuses nesting deeper than settings.max_depth as soon as the opening bracket is read
///   ("JSON nested deeper than 256 levels at byte N"), so nothing deeper is built;
/// - refuses a key that appears twice in one object, naming it (nlohmann would keep the last);
/// - refuses numbers outside the range of the document's floating-point type (1e400);
/// - in streaming mode (a member sink), hands each member of the top-level object to the sink
///   as soon as it is complete instead of storing it, so a reader can handle (and discard) the
///   members one at a time, in file order.
/// Objects are appended to in O(1) (ordered_json's own insertion searches its keys linearly);
/// duplicate keys are found through a hash set once an object has more than a few keys.
/// Every error is an nnmeter::parse_error naming settings.source.
template <class Json>
class bounded_json_builder {
 public:
  using number_integer_t = typename Json::number_integer_t;
  using number_unsigned_t = typename Json::number_unsigned_t;
  using number_float_t = typename Json::number_float_t;
  using string_t = typename Json::string_t;
  using binary_t = typename Json::binary_t;
  using object_t = typename Json::object_t;
  using array_t = typename Json::array_t;
  /// Receives (key, value) of each member of the top-level object, in file order.
  using member_sink = std::function<void(std::string&&, Json&&)>;

  /// Builds into `root`; with `sink`, streams the members of the top-level object to it
  /// instead (the top level must then be an object, else `not_object` + ", found <type>").
  bounded_json_builder(const json_parse_settings& settings, std::string_view text, Json* root,
                       const member_sink* sink = nullptr, std::string not_object = {})
      : settings_(settings), text_(text), root_(root), sink_(sink),
        not_object_(std::move(not_object)) {}

  bool null() { return value(Json(nullptr)); }
  bool boolean(bool v) { return value(Json(v)); }
  bool number_integer(number_integer_t v) { return value(Json(v)); }
  bool number_unsigned(number_unsigned_t v) { return value(Json(v)); }
  bool number_float(number_float_t v, const string_t& token) {
    if (!std::isfinite(v))
      throw ::nnmeter::parse_error(settings_.source + ": number " + token.substr(0, 40) +
                        " is out of the range of a " +
                        (sizeof(number_float_t) == sizeof(float) ? "float" : "double"));
    return value(Json(v));
  }
  bool string(string_t& v) { return value(Json(std::move(v))); }
  bool binary(binary_t& /*v*/) {  // only binary formats (CBOR, ...) have these
    throw ::nnmeter::parse_error(settings_.source + ": unexpected binary value in a JSON text");
  }
  bool start_object(std::size_t /*elements*/) { return open(Json::value_t::object); }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*elements*/) { return open(Json::value_t::array); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    frame& f = frames_.back();
    bool duplicate = false;
    if (f.streamed) {
      if (f.keys) duplicate = !f.keys->insert(k).second;
    } else if (f.keys) {
      duplicate = !f.keys->insert(k).second;
    } else {
      const object_t& obj = f.value.template get_ref<const object_t&>();
      if constexpr (is_vector_backed_map<object_t>::value) {
        for (const auto& kv : obj) duplicate = duplicate || kv.first == k;
        if (!duplicate && obj.size() >= small_object) {
          f.keys = std::make_unique<std::unordered_set<std::string>>();
          for (const auto& kv : obj) f.keys->insert(kv.first);
          f.keys->insert(k);
        }
      } else {
        duplicate = obj.find(k) != obj.end();
      }
    }
    if (duplicate) {
      const std::string shown = shortened(k, 200);
      if (frames_.size() == 1)
        throw ::nnmeter::parse_error(settings_.source + ": " + std::string(settings_.member_noun) +
                                     " '" + shown +
                                     "' appears twice (a name may appear once in an object)");
      throw ::nnmeter::parse_error(settings_.source + ": key '" + shown +
                                   "' appears twice in the object at " +
                                   shortened(pointer(), 200) +
                                   " (a name may appear once in an object)");
    }
    f.key = std::move(k);
    return true;
  }

  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const Exception& e) {
    throw ::nnmeter::parse_error(settings_.source + ": " +
                                           std::string(settings_.invalid) + ": " +
                                           ascii_message(e.what()));
  }

 private:
  static constexpr std::size_t small_object = 16;

  struct frame {
    Json value;       // the container being filled (unused for a streamed top level)
    std::string key;  // key of the member being read (objects)
    std::unique_ptr<std::unordered_set<std::string>> keys;  // once the object is large
    bool streamed = false;
  };

  [[noreturn]] void fail_not_object(const Json& v) const {
    throw ::nnmeter::parse_error(settings_.source + ": " + not_object_ + ", found " +
                                           v.type_name());
  }

  bool open(typename Json::value_t type) {
    if (frames_.size() >= settings_.max_depth) fail_depth();
    frame f;
    if (frames_.empty() && sink_ != nullptr) {
      if (type != Json::value_t::object) fail_not_object(Json(type));
      f.streamed = true;
      if (settings_.stream_checks_duplicates)
        f.keys = std::make_unique<std::unordered_set<std::string>>();
    } else {
      f.value = Json(type);
    }
    frames_.push_back(std::move(f));
    return true;
  }

  bool close() {
    if (frames_.back().streamed) {
      frames_.pop_back();
      return true;
    }
    Json v = std::move(frames_.back().value);
    frames_.pop_back();
    return value(std::move(v));
  }

  bool value(Json&& v) {
    if (frames_.empty()) {
      if (sink_ != nullptr) fail_not_object(v);
      *root_ = std::move(v);
      return true;
    }
    frame& f = frames_.back();
    if (f.streamed) {
      std::string k = std::move(f.key);
      f.key.clear();
      (*sink_)(std::move(k), std::move(v));
    } else if (f.value.is_array()) {
      f.value.template get_ref<array_t&>().push_back(std::move(v));
    } else {
      object_t& obj = f.value.template get_ref<object_t&>();
      if constexpr (is_vector_backed_map<object_t>::value)
        static_cast<typename object_t::Container&>(obj).emplace_back(std::move(f.key), std::move(v));
      else
        obj.emplace(std::move(f.key), std::move(v));
      f.key.clear();
    }
    return true;
  }

  /// JSON pointer of the innermost open container.
  std::string pointer() const {
    typename Json::json_pointer p;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const frame& parent = frames_[i];
      if (parent.streamed || parent.value.is_object())
        p /= parent.key;
      else
        p /= parent.value.size();
    }
    const std::string s = p.to_string();
    return s.empty() ? std::string("the top level") : s;
  }

  [[noreturn]] void fail_depth() const {
    // The parser has just read the bracket that opens level max_depth + 1; find its offset
    // (the text up to it is valid JSON, so brackets outside strings are its structure).
    std::size_t depth = 0;
    std::size_t at = text_.size();
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      const char c = text_[i];
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (++depth > settings_.max_depth) {
          at = i;
          break;
        }
      } else if ((c == '}' || c == ']') && depth > 0) {
        --depth;
      }
    }
    throw ::nnmeter::parse_error(
        settings_.source + ": JSON nested deeper than " + std::to_string(settings_.max_depth) +
        " levels at byte " + std::to_string(at + 1));
  }

  const json_parse_settings& settings_;
  std::string_view text_;
  Json* root_;
  const member_sink* sink_;
  std::string not_object_;
  std::vector<frame> frames_;
};

/// Runs a bounded_json_builder over `text`; nlohmann exceptions become parse_error.
template <class Json>
void run_bounded_parse(std::string_view text, bounded_json_builder<Json>& builder,
                       const json_parse_settings& settings) {
  try {
    (void)Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                          /*strict=*/true, /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    throw parse_error(settings.source + ": " + std::string(settings.invalid) + ": " +
                      ascii_message(e.what()));
  }
}

/// Parses JSON text with the limits of bounded_json_builder (depth, duplicate keys, number
/// range); errors are parse_error naming `settings.source`.
template <class Json>
Json parse_bounded_json(std::string_view text, const json_parse_settings& settings) {
  Json root;
  bounded_json_builder<Json> builder(settings, text, &root);
  run_bounded_parse(text, builder, settings);
  return root;
}

/// Parses JSON text (default depth limit), turning errors into parse_error naming the source.
template <class Json>
Json parse_json_text(std::string_view text, const std::string& source,
                     std::size_t max_depth = default_max_json_depth) {
  json_parse_settings s;
  s.source = source;
  s.max_depth = max_depth;
  return parse_bounded_json<Json>(text, s);
}

/// Parses a JSON text whose top level must be an object, handing each member to `sink`
/// (key, value) as soon as it is read, in file order, without keeping it. `not_object` is the
/// message for another top level ("an nn-Meter IR file is a JSON object of nodes").
template <class Json>
void stream_json_object(std::string_view text, const json_parse_settings& settings,
                        const typename bounded_json_builder<Json>::member_sink& sink,
                        std::string not_object) {
  bounded_json_builder<Json> builder(settings, text, nullptr, &sink, std::move(not_object));
  run_bounded_parse(text, builder, settings);
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

/// A number as the file wrote it, for messages: integers in full (never wrapped to a negative
/// value), integral floats without exponent, other values as JSON.
template <class Json>
std::string number_text(const Json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.template get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.template get<std::int64_t>());
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e30) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f", d);
      return buf;
    }
  }
  return excerpt(v);
}

/// A closed range of integers and how messages spell it.
struct int_range {
  std::int64_t lo;
  std::int64_t hi;
  const char* text;
};
inline constexpr int_range any_int{std::numeric_limits<std::int64_t>::min(),
                                   std::numeric_limits<std::int64_t>::max(), "a 64-bit integer"};
inline constexpr int_range positive_size{1, tensor_shape::max_dim, "1 to 2^31-1"};
inline constexpr int_range nonnegative_size{0, tensor_shape::max_dim, "0 to 2^31-1"};
inline constexpr int_range dim_or_unknown{tensor_shape::unknown, tensor_shape::max_dim,
                                          "-1 for unknown, or 0 to 2^31-1"};
inline constexpr int_range tensor_axis{-static_cast<std::int64_t>(tensor_shape::max_rank),
                                       static_cast<std::int64_t>(tensor_shape::max_rank) - 1,
                                       "-8 to 7"};
inline constexpr int_range perm_entry{0, static_cast<std::int64_t>(tensor_shape::max_rank) - 1,
                                      "0 to 7"};

/// How a JSON value reads as a 64-bit integer.
enum class integer_status { ok, not_integer, out_of_int64 };

/// Reads an integer, or a float with an integral value, into `x`.
template <class Json>
integer_status read_integer(const Json& v, std::int64_t& x) {
  if (v.is_number_unsigned()) {
    const auto u = v.template get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return integer_status::out_of_int64;
    x = static_cast<std::int64_t>(u);
    return integer_status::ok;
  }
  if (v.is_number_integer()) {
    x = v.template get<std::int64_t>();
    return integer_status::ok;
  }
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) return integer_status::not_integer;
    // 2^63 itself is out of range; every integral double below it converts exactly.
    if (std::fabs(d) >= 9223372036854775808.0) return integer_status::out_of_int64;
    x = static_cast<std::int64_t>(d);
    return integer_status::ok;
  }
  return integer_status::not_integer;
}

/// The integer held by `v` (an integer, or a float with an integral value) when it lies in
/// `range`; otherwise parse_error "<where>: '<key>' ...", the value spelled as in the file
/// (9223372036854775808 stays 9223372036854775808, never a wrapped negative number).
template <class Json>
std::int64_t to_int(const Json& v, const std::string& where, const char* key,
                    const int_range& range = any_int) {
  std::int64_t x = 0;
  const integer_status st = read_integer(v, x);
  if (st == integer_status::not_integer)
    throw parse_error(where + ": '" + key + "' must hold integers, found " + excerpt(v));
  if (st == integer_status::out_of_int64 || x < range.lo || x > range.hi)
    throw parse_error(where + ": '" + key + "' value " + number_text(v) +
                      " is out of range (" + range.text + ")");
  return x;
}

/// A list of integers (or one integer, read as a list of one) under `key`, each in `range`.
template <class Json>
std::vector<std::int64_t> to_int_list(const Json& v, const std::string& where, const char* key,
                                      const int_range& range = any_int) {
  std::vector<std::int64_t> out;
  if (v.is_array()) {
    out.reserve(v.size());
    for (const auto& x : v) out.push_back(to_int(x, where, key, range));
  } else {
    out.push_back(to_int(v, where, key, range));
  }
  return out;
}

/// An on/off attribute: true / false, or the integers 0 / 1.
template <class Json>
bool to_flag(const Json& v, const std::string& where, const char* key) {
  if (v.is_boolean()) return v.template get<bool>();
  if (v.is_number()) {
    const std::int64_t x = to_int(v, where, key, int_range{0, 1, "0 or 1"});
    return x != 0;
  }
  throw parse_error(where + ": '" + key + "' must be true, false, 0 or 1, found " + excerpt(v));
}

template <class Json>
double to_double(const Json& v, const std::string& where, const char* key) {
  if (v.is_number()) return v.template get<double>();
  throw parse_error(where + ": '" + key + "' must be a number, found " + excerpt(v));
}

/// A number that fits a 32-bit float (the attribute fields are floats).
template <class Json>
float to_float(const Json& v, const std::string& where, const char* key) {
  const double d = to_double(v, where, key);
  if (!(std::fabs(d) <= static_cast<double>(FLT_MAX)))
    throw parse_error(where + ": '" + key + "' value " + number_text(v) +
                      " is out of the range of a 32-bit float");
  return static_cast<float>(d);
}

/// Rejects dimensions below -1 (unknown) or above 2^31-1.
inline void check_dims(const tensor_shape& s, const std::string& where) {
  for (auto d : s) {
    if (d < tensor_shape::unknown || d > tensor_shape::max_dim)
      throw parse_error(where + ": dimension " + std::to_string(d) + " is out of range (" +
                        dim_or_unknown.text + ")");
  }
}

/// One dimension of a shape: an integer in [-1, 2^31-1], reported as the file wrote it.
template <class Json>
std::int64_t to_dim(const Json& v, const std::string& where, const char* key) {
  std::int64_t x = 0;
  const integer_status st = read_integer(v, x);
  if (st == integer_status::not_integer)
    throw parse_error(where + ": '" + key + "' must be a list of shapes (lists of ints), found " +
                      excerpt(v));
  if (st == integer_status::out_of_int64 || x < dim_or_unknown.lo || x > dim_or_unknown.hi)
    throw parse_error(where + ": '" + key + "': dimension " + number_text(v) +
                      " is out of range (" + dim_or_unknown.text + ")");
  return x;
}

/// A list of shapes (a list of lists of ints) under `key`; an absent key is an empty list.
template <class Json>
std::vector<tensor_shape> read_shape_list(const Json& obj, const char* key,
                                          const std::string& where) {
  std::vector<tensor_shape> out;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array())
    throw parse_error(where + ": '" + key + "' must be a list of shapes, found " + excerpt(*it));
  out.reserve(it->size());
  for (const auto& s : *it) {
    if (!s.is_array())
      throw parse_error(where + ": '" + key + "' must be a list of shapes (lists of ints), found " +
                        excerpt(s));
    if (s.size() > tensor_shape::max_rank)
      throw parse_error(where + ": '" + key + "' has a shape of rank " + std::to_string(s.size()) +
                        " (at most 8)");
    tensor_shape t;
    for (const auto& d : s) t.push_back(to_dim(d, where, key));
    out.push_back(t);
  }
  return out;
}

/// Appends member (key, value) to JSON object `obj` whose keys are known to be distinct (node
/// names of a graph, rule names of a rule set): O(1), where ordered_json's operator[] searches
/// the keys linearly (a quadratic writer).
template <class Json>
void append_member(Json& obj, const std::string& key, Json&& value) {
  using object_t = typename Json::object_t;
  object_t& o = obj.template get_ref<object_t&>();
  if constexpr (is_vector_backed_map<object_t>::value)
    static_cast<typename object_t::Container&>(o).emplace_back(key, std::move(value));
  else
    o.emplace(key, std::move(value));
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
  throw parse_error(where + ": '" + key + "' must have 1, 2 or 4 entries, found " +
                    std::to_string(v.size()));
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

/// Warnings of a reader, in order; at most `per_kind` of one kind are kept, the rest counted
/// (a million-node file with one quirk per node must not give a million lines).
class warning_list {
 public:
  explicit warning_list(std::size_t per_kind = 20) : per_kind_(per_kind) {}

  void add(const std::string& kind, std::string message) {
    std::size_t& n = counts_[kind];
    if (n++ == per_kind_) order_.push_back(kind);
    if (n <= per_kind_) out_.push_back(std::move(message));
  }
  /// The warnings, then one line per kind that had more than `per_kind`.
  std::vector<std::string> take() {
    for (const std::string& kind : order_)
      out_.push_back(std::to_string(counts_[kind] - per_kind_) + " more warnings like '" + kind +
                     "' not shown");
    order_.clear();
    counts_.clear();
    return std::move(out_);
  }

 private:
  std::size_t per_kind_;
  std::unordered_map<std::string, std::size_t> counts_;
  std::vector<std::string> order_;
  std::vector<std::string> out_;
};

inline std::string ints_text(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// Reads attr.attr of an IR node into typed attributes; keys that no field models go to
/// attributes::extra as JSON text. Every typed key is range-checked; a value of the wrong type
/// or out of range is a parse_error naming `where` and the key, never silently replaced.
/// Quirks that nn-Meter tolerates (window keys that disagree) become warnings.
template <class Json>
void read_attributes(const Json& aa, node& n, const std::string& where, warning_list* warnings) {
  attributes& a = n.attrs;
  // Window size precedence as in nn-Meter: ks < kernel_shape < weight_shape < ksize. Every
  // key given must hold a valid window, whichever wins.
  const char* window_keys[] = {"ks", "kernel_shape", "weight_shape", "ksize"};
  const char* window_from = nullptr;
  std::vector<std::int64_t> window_value;
  for (const char* key : window_keys) {
    const auto it = aa.find(key);
    if (it == aa.end() || it->is_null()) continue;
    const std::vector<std::int64_t> v = to_int_list(*it, where, key, positive_size);
    std::array<std::int64_t, 2> k{};
    if (std::string_view(key) == "weight_shape") {
      if (v.size() < 2)
        throw parse_error(where + ": 'weight_shape' needs at least 2 entries, found " +
                          std::to_string(v.size()));
      k = {v[0], v[1]};
    } else {
      k = pair_of(v, where, key);
    }
    if (window_from != nullptr && k != a.kernel && warnings != nullptr)
      warnings->add("window keys disagree",
                    where + ": '" + window_from + "' " + ints_text(window_value) + " and '" + key +
                        "' " + ints_text(v) + " disagree; '" + key +
                        "' is used (nn-Meter's precedence: ks < kernel_shape < weight_shape < "
                        "ksize)");
    a.kernel = k;
    window_from = key;
    window_value = v;
  }
  for (auto it = aa.begin(); it != aa.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    const char* k = key.c_str();
    if (key == "ks" || key == "kernel_shape" || key == "weight_shape" || key == "ksize") continue;
    if (key == "strides") {
      a.strides = pair_of(to_int_list(v, where, k, positive_size), where, k);
    } else if (key == "dilations") {
      a.dilations = pair_of(to_int_list(v, where, k, positive_size), where, k);
    } else if (key == "pads") {
      const std::vector<std::int64_t> p = to_int_list(v, where, k, nonnegative_size);
      if (p.size() == 4) {
        if (is_onnx_type(n.type))
          a.pads = {p[0], p[2], p[1], p[3]};  // ONNX [t, l, b, r]
        else
          a.pads = {p[0], p[1], p[2], p[3]};
      } else if (p.size() == 2) {
        a.pads = {p[0], p[0], p[1], p[1]};
      } else if (p.size() == 1) {
        a.pads = {p[0], p[0], p[0], p[0]};
      } else {
        throw parse_error(where + ": 'pads' must have 1, 2 or 4 entries, found " +
                          std::to_string(p.size()));
      }
    } else if (key == "padding" || key == "auto_pad") {
      if (!v.is_string())
        throw parse_error(where + ": '" + key + "' must be a string, found " + excerpt(v));
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
                                              "EXPLICIT or NOTSET, found " + excerpt(v));
    } else if (key == "group") {
      a.groups = to_int(v, where, k, positive_size);
    } else if (key == "axis" || key == "split_dim") {
      // TensorFlow-derived IR may hold the axis as a one-element list (a Const's value).
      if (v.is_array() && v.size() == 1)
        a.axis = to_int(v[0], where, k, tensor_axis);
      else
        a.axis = to_int(v, where, k, tensor_axis);
    } else if (key == "axes" || key == "reduction_indices") {
      a.axes = to_int_list(v, where, k, tensor_axis);
      if (a.axes.size() > tensor_shape::max_rank)
        throw parse_error(where + ": '" + key + "' has " + std::to_string(a.axes.size()) +
                          " entries (at most 8)");
    } else if (key == "keepdims" || key == "keep_dims") {
      a.keepdims = to_flag(v, where, k);
    } else if (key == "perm") {
      a.perm = to_int_list(v, where, k, perm_entry);
      if (a.perm.size() > tensor_shape::max_rank)
        throw parse_error(where + ": 'perm' has " + std::to_string(a.perm.size()) +
                          " entries (at most 8)");
    } else if (key == "split") {
      a.split_sizes = to_int_list(v, where, k, int_range{-1, tensor_shape::max_dim,
                                                         "-1 or 0 to 2^31-1"});
    } else if (key == "shape" && n.op == op_kind::reshape) {
      a.target_shape = to_int_list(v, where, k, dim_or_unknown);
      if (a.target_shape.size() > tensor_shape::max_rank)
        throw parse_error(where + ": 'shape' has " + std::to_string(a.target_shape.size()) +
                          " entries (at most 8)");
    } else if (key == "alpha") {
      a.alpha = to_float(v, where, k);
    } else if (key == "beta") {
      a.beta = to_float(v, where, k);
    } else if (key == "min") {
      a.clip_min = to_float(v, where, k);
    } else if (key == "max") {
      a.clip_max = to_float(v, where, k);
    } else if (key == "scales") {
      if (!v.is_array() || (v.size() != 2 && v.size() != 4))
        throw parse_error(where + ": 'scales' must be a list of 2 numbers {h, w} (or 4, NCHW), "
                                  "found " + excerpt(v));
      const std::size_t h = v.size() == 4 ? 2 : 0;  // ONNX Upsample: [n, c, h, w]
      for (std::size_t i = 0; i < 2; ++i) {
        const float s = to_float(v[h + i], where, k);
        if (!(s > 0.0f))
          throw parse_error(where + ": 'scales' must be positive, found " + excerpt(v));
        a.scales[i] = s;
      }
    } else if (key == "mode") {
      if (!v.is_string())
        throw parse_error(where + ": 'mode' must be a string, found " + excerpt(v));
      a.mode = strip_bytes_literal(v.template get<std::string>());
    } else if (key == "ceil_mode") {
      a.ceil_mode = to_flag(v, where, k);
    } else if (key == "bias") {
      a.has_bias = to_flag(v, where, k);
    } else if (key == attr_keys::data_dependent) {
      // Written by write_nnmeter_ir for a node whose output shape came from tensor values
      // (an ONNX Reshape by a computed shape, ...): its declared output is taken as it is. Only
      // operators with shape parameters can carry it; a convolution's shape never needs data.
      const op_kind o = n.op;
      if (!(o == op_kind::reduce_mean || o == op_kind::pad || o == op_kind::reshape ||
            o == op_kind::squeeze || o == op_kind::unsqueeze || o == op_kind::split ||
            o == op_kind::slice || o == op_kind::resize || o == op_kind::gather ||
            o == op_kind::other))
        throw parse_error(where + ": key '" + key + "' is only valid on operators whose output "
                                                    "shape can depend on tensor values (reshape, "
                                                    "pad, resize, slice, split, squeeze, unsqueeze, "
                                                    "reduce_mean, gather, other), not on " +
                          std::string(to_string(o)));
      a.extra.emplace_back(key, v.dump());
    } else if (key == attr_keys::declared_input_shapes) {
      // Written by write_nnmeter_ir for a node that keeps the input shapes an nn-Meter file
      // declared; the reconciliation checks and recomputes it (nnmeter_ir_shapes.hpp).
      if (!v.is_array())
        throw parse_error(where + ": key '" + key + "' must be a list of shapes, found " +
                          excerpt(v));
      a.extra.emplace_back(key, v.dump());
    } else if (key.compare(0, 8, "nnmeter:") == 0) {
      // Other keys of this form are the reader's own (nnmeter:parameter_inbounds, written by
      // write_nnmeter_ir as inbounds); a file cannot set them.
      throw parse_error(where + ": key '" + key + "' is reserved (keys starting with 'nnmeter:' "
                                                  "are nnmeter's own)");
    } else {
      a.extra.emplace_back(key, v.dump());
    }
  }
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
/// windowed kinds), then unmodelled attributes as read. `pads` are written in the order the
/// reader expects for the node's type (ONNX [t, l, b, r] for ONNX-typed nodes).
template <class Json>
Json attributes_to_json(const node& n) {
  const attributes& a = n.attrs;
  const attributes d{};
  Json out = Json::object();
  const bool windowed = is_windowed(n.op);
  if (windowed || a.kernel != d.kernel) out["ks"] = {a.kernel[0], a.kernel[1]};
  if (windowed || a.strides != d.strides) out["strides"] = {a.strides[0], a.strides[1]};
  if (a.dilations != d.dilations) out["dilations"] = {a.dilations[0], a.dilations[1]};
  if (windowed || a.pads != d.pads) {
    if (is_onnx_type(n.type))
      out["pads"] = {a.pads[0], a.pads[2], a.pads[1], a.pads[3]};
    else
      out["pads"] = {a.pads[0], a.pads[1], a.pads[2], a.pads[3]};
  }
  if (windowed || a.padding != d.padding) out["padding"] = padding_name(a.padding);
  if (a.groups != d.groups) out["group"] = a.groups;
  if (!a.has_bias) out["bias"] = false;
  if (a.ceil_mode) out["ceil_mode"] = 1;
  if (a.axis != d.axis) out["axis"] = a.axis;
  if (!a.axes.empty()) out["axes"] = a.axes;
  // TensorFlow's Mean defaults to keep_dims=false (the reader applies that default), so a
  // Mean that keeps them says so.
  if (!a.keepdims) out["keepdims"] = 0;
  else if (n.type == "Mean") out["keepdims"] = 1;
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
    out[kv.first] = parse_json_text<Json>(kv.second, "node '" + n.name + "': attribute '" +
                                                         kv.first + "'");
  }
  return out;
}

}  // namespace detail
}  // namespace io
NNMETER_END_NAMESPACE
