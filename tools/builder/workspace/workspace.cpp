// nnmeter builder — the workspace (workspace.hpp): nn-Meter's three YAML config files, their
// keys as one table per file (the writer and the reader use the same table, so what is written
// is what is read), creating and loading a workspace.
// SPDX-License-Identifier: MIT
#include "builder/workspace/workspace.hpp"

#include <nnmeter/io/input_file.hpp>

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

namespace nnmeter::builder {

namespace fs = std::filesystem;
namespace nb = nnmeter::backends;

// ---- errors -------------------------------------------------------------------------------

namespace {

std::string located(const std::string& file, const std::string& key, int line, int column,
                    const std::string& message) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + (column > 0 ? ":" + std::to_string(column) : "");
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

}  // namespace

config_error::config_error(std::string file, std::string key, int line, int column,
                           const std::string& message)
    : nnmeter::parse_error(located(file, key, line, column, message)),
      file_(std::move(file)),
      key_(std::move(key)),
      line_(line),
      column_(column) {}

workspace_error::workspace_error(std::string path, const std::string& message)
    : nnmeter::error(path + ": " + message), path_(std::move(path)) {}

const char* to_string(workspace_kind k) noexcept {
  switch (k) {
    case workspace_kind::xnnpack:
      return "xnnpack";
    case workspace_kind::tflite:
      return "tflite";
    case workspace_kind::customized:
      return "customized";
  }
  return "invalid";
}

const char* to_string(trainer_mode m) noexcept {
  switch (m) {
    case trainer_mode::boosting:
      return "boosting";
    case trainer_mode::random_forest:
      return "random-forest";
  }
  return "invalid";
}

workspace_kind backend_config::kind() const noexcept {
  if (backend == "xnnpack") return workspace_kind::xnnpack;
  if (backend == "tflite_cpu" || backend == "tflite_gpu") return workspace_kind::tflite;
  return workspace_kind::customized;
}

// ---- closest_match ------------------------------------------------------------------------

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string w = lower(word);
  const std::size_t limit = std::max<std::size_t>(2, w.size() / 3);
  std::string best;
  std::size_t best_d = limit + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(w, lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// ---- defaults -----------------------------------------------------------------------------

std::vector<std::string> ruletest_config::nnmeter_basic_testcases() {
  static const char* const grid[] = {"add",    "avgpool", "concat", "conv",   "convtrans",
                                     "dwconv", "fc",      "relu",   "reshape"};
  static const char* const excluded[] = {"avgpool_fc", "conv_fc", "convtrans_fc", "dwconv_fc",
                                         "fc_avgpool", "fc_conv", "fc_convtrans", "fc_dwconv"};
  std::vector<std::string> out;
  for (const char* a : grid)
    for (const char* b : grid) {
      const std::string pair = std::string(a) + "_" + b;
      if (std::find(std::begin(excluded), std::end(excluded), pair) == std::end(excluded))
        out.push_back(pair);
    }
  for (const char* extra : {"bn_relu", "conv_bn", "conv_hswish", "conv_se", "dwconv_bn", "se_relu"})
    out.emplace_back(extra);
  return out;
}

const std::vector<std::string>& ruletest_config::test_operators() {
  static const std::vector<std::string> ops{
      "conv",    "dwconv", "convtrans", "bn",      "globalavgpool", "maxpool", "avgpool",
      "se",      "fc",     "relu",      "relu6",   "sigmoid",       "hswish",  "swish",
      "reshape", "add",    "concat",    "flatten", "split"};
  return ops;
}

nnmeter::latency_target default_target(nnmeter::kernel_kind k, nnmeter::feature_set set) {
  using nnmeter::kernel_kind;
  if (set == nnmeter::feature_set::nnmeter) return nnmeter::latency_target::ms;
  switch (k) {
    case kernel_kind::conv_bn_relu:
    case kernel_kind::dwconv_bn_relu:
    case kernel_kind::fc:
    case kernel_kind::matmul:
    case kernel_kind::se:
    case kernel_kind::global_avgpool:
    case kernel_kind::add:
    case kernel_kind::addrelu:
    case kernel_kind::sigmoid:
    case kernel_kind::hardsigmoid:
      return nnmeter::latency_target::ms_per_mflop;
    default:
      return nnmeter::latency_target::ms_per_mbyte;
  }
}

kernel_build_config predictorbuild_config::default_kernel(nnmeter::kernel_kind k) {
  kernel_build_config c;
  c.kind = k;
  if (k == nnmeter::kernel_kind::conv_bn_relu) c.init_sample_num = 10000;
  if (k == nnmeter::kernel_kind::dwconv_bn_relu) c.init_sample_num = 5000;
  // The trainer's defaults (trainer.cpp, default_train_params): the kinds with the most
  // irregular latencies get more and deeper trees.
  const bool irregular = k == nnmeter::kernel_kind::conv_bn_relu ||
                         k == nnmeter::kernel_kind::dwconv_bn_relu ||
                         k == nnmeter::kernel_kind::matmul || k == nnmeter::kernel_kind::concat;
  c.rounds = irregular ? 400 : 200;
  c.max_depth = irregular ? 8 : 6;
  return c;
}

std::vector<kernel_build_config> predictorbuild_config::default_kernels() {
  std::vector<kernel_build_config> out;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    if (k != nnmeter::kernel_kind::other) out.push_back(default_kernel(k));
  }
  return out;
}

const kernel_build_config* predictorbuild_config::find(nnmeter::kernel_kind k) const noexcept {
  for (const kernel_build_config& c : kernels)
    if (c.kind == k) return &c;
  return nullptr;
}

backend_config default_backend_config(workspace_kind k, const std::string& backend) {
  backend_config c;
  switch (k) {
    case workspace_kind::xnnpack:
      c.backend = "xnnpack";
      break;
    case workspace_kind::tflite:
      c.backend = "tflite_cpu";
      break;
    case workspace_kind::customized:
      c.backend = backend;
      break;
  }
  return c;
}

std::filesystem::path workspace::backend_config_file() const {
  return configs_dir() / backend_config_name;
}
std::filesystem::path workspace::ruletest_config_file() const {
  return configs_dir() / ruletest_config_name;
}
std::filesystem::path workspace::predictorbuild_config_file() const {
  return configs_dir() / predictorbuild_config_name;
}

// ---- the key tables -----------------------------------------------------------------------

namespace {

/// What a reader knows about where it is: the file, for errors.
struct reader {
  std::string file;

  int line_of(const YAML::Mark& m) const { return m.is_null() ? 0 : m.line + 1; }
  int column_of(const YAML::Mark& m) const { return m.is_null() ? 0 : m.column + 1; }

  [[noreturn]] void fail(const YAML::Mark& at, const std::string& key,
                         const std::string& message) const {
    throw config_error(file, key, line_of(at), column_of(at), message);
  }
};

/// A value and where it stands: the key's mark is used when the value has none (an empty
/// value) or is null.
struct located_value {
  const YAML::Node& node;
  YAML::Mark key_mark;
  std::string path;  // dotted key path

  YAML::Mark mark() const {
    const YAML::Mark m = node.Mark();
    return (m.is_null() || node.IsNull()) ? key_mark : m;
  }
};

std::string shown(const YAML::Node& n) {
  if (n.IsNull()) return "nothing";
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return "'" + s + "'";
  }
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "an undefined value";
}

bool quoted(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "!"; }

std::string number_text(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15)
    return std::to_string(static_cast<long long>(x));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

long long read_integer(const reader& r, const located_value& v, long long lo, long long hi) {
  const std::string range =
      "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.node.IsScalar() || quoted(v.node))
    r.fail(v.mark(), v.path,
           "expected " + range + ", got " + (quoted(v.node) ? "the string " : "") + shown(v.node));
  long long x = 0;
  try {
    x = v.node.as<long long>();
  } catch (const YAML::Exception&) {
    r.fail(v.mark(), v.path, "expected " + range + ", got " + shown(v.node));
  }
  if (x < lo || x > hi) r.fail(v.mark(), v.path, "expected " + range + ", got " + shown(v.node));
  return x;
}

struct interval {
  double lo, hi;
  bool lo_open, hi_open;
  std::string text() const {
    return std::string(lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) +
           (hi_open ? ")" : "]");
  }
  bool contains(double x) const {
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }
};

double read_number(const reader& r, const located_value& v, const interval& in) {
  const std::string range = "a number in " + in.text();
  if (!v.node.IsScalar() || quoted(v.node))
    r.fail(v.mark(), v.path,
           "expected " + range + ", got " + (quoted(v.node) ? "the string " : "") + shown(v.node));
  double x = 0;
  try {
    x = v.node.as<double>();
  } catch (const YAML::Exception&) {
    r.fail(v.mark(), v.path, "expected " + range + ", got " + shown(v.node));
  }
  if (!std::isfinite(x) || !in.contains(x))
    r.fail(v.mark(), v.path, "expected " + range + ", got " + shown(v.node));
  return x;
}

bool read_bool(const reader& r, const located_value& v) {
  if (!v.node.IsScalar() || quoted(v.node))
    r.fail(v.mark(), v.path, "expected true or false, got " + shown(v.node));
  try {
    return v.node.as<bool>();
  } catch (const YAML::Exception&) {
    r.fail(v.mark(), v.path, "expected true or false, got " + shown(v.node));
  }
}

std::string read_string(const reader& r, const located_value& v, bool allow_empty) {
  if (v.node.IsNull()) {
    if (allow_empty) return {};
    r.fail(v.mark(), v.path, "must not be empty");
  }
  if (!v.node.IsScalar()) r.fail(v.mark(), v.path, "expected a string, got " + shown(v.node));
  std::string s = v.node.Scalar();
  if (s.empty() && !allow_empty) r.fail(v.mark(), v.path, "must not be empty");
  return s;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string read_choice(const reader& r, const located_value& v,
                        const std::vector<std::string>& choices) {
  const std::string s = read_string(r, v, false);
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    std::string msg = "expected one of " + join(choices) + ", got " + shown(v.node);
    const std::string near = closest_match(s, choices);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    r.fail(v.mark(), v.path, msg);
  }
  return s;
}

std::vector<std::string> read_string_list(const reader& r, const located_value& v) {
  if (v.node.IsNull()) return {};
  if (!v.node.IsSequence())
    r.fail(v.mark(), v.path, "expected a list of names, got " + shown(v.node));
  std::vector<std::string> out;
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    const YAML::Node item = v.node[i];
    const located_value iv{item, v.mark(), v.path + "[" + std::to_string(i) + "]"};
    const std::string s = read_string(r, iv, false);
    const auto [it, inserted] = seen.emplace(s, r.line_of(iv.mark()));
    if (!inserted)
      r.fail(iv.mark(), v.path,
             "'" + s + "' is listed twice (first on line " + std::to_string(it->second) + ")");
    out.push_back(s);
  }
  return out;
}

/// Writes the commented text of a config file.
class yaml_writer {
 public:
  /// Writes `text` as comment lines at `indent`, wrapped to 100 columns (a wrapped line
  /// continues two spaces further in than it started).
  void comment(const std::string& text, int indent) {
    const std::string lead(static_cast<std::size_t>(indent), ' ');
    const std::size_t width = 100 - lead.size() - 2;
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = text.find('\n', start);
      std::string line = text.substr(start, end == std::string::npos ? end : end - start);
      const std::string hang(
          line.find_first_not_of(' ') == std::string::npos ? 0 : line.find_first_not_of(' ') + 2,
          ' ');
      while (line.size() > width) {
        std::size_t cut = line.rfind(' ', width);
        if (cut == std::string::npos || cut <= hang.size()) cut = line.find(' ', width);
        if (cut == std::string::npos) break;
        out_ += lead + "# " + line.substr(0, cut) + "\n";
        line = hang + line.substr(cut + 1);
      }
      out_ += lead + (line.empty() ? "#" : "# " + line) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  void blank() { out_ += "\n"; }
  void line(int indent, const std::string& key, const std::string& value) {
    out_ += std::string(static_cast<std::size_t>(indent), ' ') + key + ":" +
            (value.empty() ? "" : " " + value) + "\n";
  }
  void item(int indent, const std::string& value) {
    out_ += std::string(static_cast<std::size_t>(indent), ' ') + "- " + value + "\n";
  }
  const std::string& text() const { return out_; }

  static std::string scalar(const std::string& s) {
    if (s.empty()) return "\"\"";
    YAML::Emitter e;
    e << s;
    return e.c_str();
  }
  static std::string scalar(long long x) { return std::to_string(x); }
  static std::string scalar(double x) { return number_text(x); }
  static std::string scalar(bool b) { return b ? "true" : "false"; }

 private:
  std::string out_;
};

/// One key of a map: how it is read into C and written from C.
template <class C>
struct field {
  std::string key;
  std::string comment;
  std::function<void(C&, const reader&, const located_value&)> read;
  /// Writes "KEY: value" (and nested lines) at `indent`.
  std::function<void(const C&, yaml_writer&, int)> write;
  /// Written only when this says so (the ADB keys); read whenever present.
  std::function<bool(const C&)> written = [](const C&) { return true; };
};

template <class C, class T>
field<C> integer_field(std::string key, std::string comment, T C::*member, long long lo,
                       long long hi) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member, lo, hi](C& c, const reader& r, const located_value& v) {
    c.*member = static_cast<T>(read_integer(r, v, lo, hi));
  };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    w.line(indent, key, yaml_writer::scalar(static_cast<long long>(c.*member)));
  };
  return f;
}

template <class C>
field<C> number_field(std::string key, std::string comment, double C::*member, interval in) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member, in](C& c, const reader& r, const located_value& v) {
    c.*member = read_number(r, v, in);
  };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    w.line(indent, key, yaml_writer::scalar(c.*member));
  };
  return f;
}

template <class C>
field<C> bool_field(std::string key, std::string comment, bool C::*member) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member](C& c, const reader& r, const located_value& v) { c.*member = read_bool(r, v); };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    w.line(indent, key, yaml_writer::scalar(c.*member));
  };
  return f;
}

template <class C>
field<C> string_field(std::string key, std::string comment, std::string C::*member,
                      bool allow_empty) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member, allow_empty](C& c, const reader& r, const located_value& v) {
    c.*member = read_string(r, v, allow_empty);
  };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    w.line(indent, key, yaml_writer::scalar(c.*member));
  };
  return f;
}

template <class C>
field<C> choice_field(std::string key, std::string comment, std::string C::*member,
                      std::vector<std::string> choices) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member, choices](C& c, const reader& r, const located_value& v) {
    c.*member = read_choice(r, v, choices);
  };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    w.line(indent, key, yaml_writer::scalar(c.*member));
  };
  return f;
}

template <class C>
field<C> implement_field(std::string implement_comment, std::string C::*member) {
  field<C> f = choice_field<C>("IMPLEMENT", std::move(implement_comment), member, {"tensorflow"});
  auto plain = f.read;
  f.read = [plain](C& c, const reader& r, const located_value& v) {
    if (v.node.IsScalar() && v.node.Scalar() == "torch")
      r.fail(v.mark(), v.path,
             "'torch' selects nn-Meter's PyTorch model generator; nnmeter builds its test models "
             "itself with TensorFlow's conventions (NHWC, TensorFlow's 'same' padding), so only "
             "'tensorflow' is accepted");
    plain(c, r, v);
  };
  return f;
}

template <class C>
field<C> list_field(
    std::string key, std::string comment, std::vector<std::string> C::*member,
    std::function<void(const reader&, const located_value&, const std::string&)> check_item) {
  field<C> f;
  f.key = key;
  f.comment = std::move(comment);
  f.read = [member, check_item](C& c, const reader& r, const located_value& v) {
    std::vector<std::string> items = read_string_list(r, v);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const YAML::Node item = v.node.IsSequence() ? v.node[i] : v.node;
      const located_value iv{item, v.mark(), v.path};
      check_item(r, iv, items[i]);
    }
    c.*member = std::move(items);
  };
  f.write = [member, key](const C& c, yaml_writer& w, int indent) {
    const std::vector<std::string>& items = c.*member;
    if (items.empty()) {
      w.line(indent, key, "[]");
      return;
    }
    w.line(indent, key, "");
    for (const std::string& s : items) w.item(indent + 2, yaml_writer::scalar(s));
  };
  return f;
}

/// Top-level keys of each file, for "this key belongs to <other file>" hints.
const std::vector<std::string>& top_keys(config_file f);
const char* file_name(config_file f) {
  switch (f) {
    case config_file::backend:
      return backend_config_name;
    case config_file::ruletest:
      return ruletest_config_name;
    case config_file::predictorbuild:
      return predictorbuild_config_name;
  }
  return "";
}

/// Reads the map `node` into `out` through `fields`; returns the keys seen with their marks.
/// `prefix` is the dotted path of the map ("" at the top).
template <class C>
std::map<std::string, YAML::Mark> read_map(const std::vector<field<C>>& fields, const reader& r,
                                           const YAML::Node& node, const YAML::Mark& where,
                                           const std::string& prefix, C& out,
                                           std::optional<config_file> top_of = std::nullopt) {
  if (!node.IsMap())
    r.fail(node.Mark().is_null() ? where : node.Mark(), prefix,
           "expected a map of keys, got " + shown(node));
  std::map<std::string, YAML::Mark> seen;
  std::vector<std::string> names;
  for (const field<C>& f : fields) names.push_back(f.key);
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a proxy that dies with the expression.
    const YAML::Node k = it->first;
    const YAML::Mark km = k.Mark();
    if (!k.IsScalar()) r.fail(km, prefix, "a key must be a name, got " + shown(k));
    const std::string key = k.Scalar();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const auto [at, inserted] = seen.emplace(key, km);
    if (!inserted)
      r.fail(km, path,
             "appears twice (first on line " + std::to_string(r.line_of(at->second)) + ")");
    const auto f =
        std::find_if(fields.begin(), fields.end(), [&](const field<C>& x) { return x.key == key; });
    if (f == fields.end()) {
      std::string msg = "unknown key";
      const std::string near = closest_match(key, names);
      if (!near.empty()) {
        msg += " (did you mean '" + near + "'?)";
      } else {
        bool elsewhere = false;
        if (top_of) {
          for (config_file other :
               {config_file::backend, config_file::ruletest, config_file::predictorbuild}) {
            if (other == *top_of) continue;
            const std::vector<std::string>& keys = top_keys(other);
            if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
              msg += " here: it is a key of " + std::string(file_name(other));
              elsewhere = true;
              break;
            }
          }
        }
        if (!elsewhere) msg += "; known keys: " + join(names);
      }
      r.fail(km, path, msg);
    }
    const YAML::Node value = it->second;
    f->read(out, r, located_value{value, km, path});
  }
  return seen;
}

template <class C>
void write_map(const std::vector<field<C>>& fields, const C& c, yaml_writer& w, int indent,
               bool comments) {
  bool first = true;
  for (const field<C>& f : fields) {
    if (!f.written(c)) continue;
    if (comments) {
      if (!first) w.blank();
      w.comment(f.comment, indent);
    }
    f.write(c, w, indent);
    first = false;
  }
}

// -- backend_config.yaml

const std::vector<field<nb::measurement_protocol>>& protocol_fields() {
  using P = nb::measurement_protocol;
  static const std::vector<field<P>> fields = [] {
    std::vector<field<P>> table;
    table.push_back(integer_field<P>("THREADS",
                                     "Threads the backend may use (1 is the protocol; the xnnpack "
                                     "backend runs one thread).",
                                     &P::threads, 1, 256));
    table.push_back(number_field<P>("WARMUP_SECONDS",
                                    "Time-based warm-up before a model's timed blocks, seconds.",
                                    &P::warmup_seconds, interval{0, 3600, false, false}));
    table.push_back(integer_field<P>("WARMUP_MIN_INVOKES",
                                     "At least this many warm-up invokes, whatever WARMUP_SECONDS "
                                     "says.",
                                     &P::warmup_min_invokes, 0, 1000000));
    table.push_back(bool_field<P>(
        "WARMUP_EVERY_PASS", "Warm up again before every pass (true) or only before the first.",
        &P::warmup_every_pass));
    table.push_back(integer_field<P>("BLOCKS",
                                     "Blocks of consecutive, individually timed invokes per pass.",
                                     &P::blocks, 1, 1000000));
    table.push_back(integer_field<P>("RUNS",
                                     "Timed invokes per block (benchmark_model's --num_runs on a "
                                     "phone).",
                                     &P::invokes_per_block, 1, 10000000));
    table.push_back(integer_field<P>("PASSES",
                                     "Passes, interleaved round-robin over the models measured "
                                     "together;\nthe latency is the minimum over every pass.",
                                     &P::passes, 1, 10000));
    table.push_back(integer_field<P>("LAYOUTS",
                                     "Memory layouts: each model prepared this many times, pass p "
                                     "on copy\np mod LAYOUTS (PASSES a multiple of it); with more "
                                     "than one, the latency is the\nmedian of the copies' minima "
                                     "(docs/measurement.md).",
                                     &P::layouts, 1, P::max_layouts));
    {
      field<P> f;
      f.key = "CLOCK";
      f.comment =
          "Clock of the timed invokes: steady (wall time) or thread-cpu (CPU time of the\n"
          "measuring thread, robust on a busy machine; needs THREADS: 1).";
      f.read = [](P& p, const reader& r, const located_value& v) {
        p.clock = nb::parse_measurement_clock(read_choice(r, v, {"steady", "thread-cpu"}));
      };
      f.write = [](const P& p, yaml_writer& w, int indent) {
        w.line(indent, "CLOCK", nb::to_string(p.clock));
      };
      table.push_back(std::move(f));
    }
    table.push_back(bool_field<P>("NORMALISE_BY_REFERENCE",
                                  "Also measure the backend's reference kernel, interleaved, and "
                                  "record latency / reference.",
                                  &P::normalise_by_reference));
    table.push_back(integer_field<P>("WEIGHTS_SEED", "Seed of the generated weights and inputs.",
                                     &P::seed, 0, std::numeric_limits<long long>::max()));
    return table;
  }();
  return fields;
}

const std::vector<field<backend_config>>& backend_fields() {
  using B = backend_config;
  static const std::vector<field<B>> fields = [] {
    std::vector<field<B>> table;
    {
      field<B> f;
      f.key = "BACKEND";
      f.comment =
          "The backend this workspace measures on (nnmeter's registry key: xnnpack, tflite_cpu,\n"
          "tflite_gpu, ...). A command's --backend overrides it.";
      f.read = [](B& c, const reader& r, const located_value& v) {
        const std::string s = read_string(r, v, false);
        for (char ch : s)
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ||
                ch == '.'))
            r.fail(
                v.mark(), v.path,
                "a backend name uses letters, digits, '_', '-' and '.' only, got " + shown(v.node));
        c.backend = s;
      };
      f.write = [](const B& c, yaml_writer& w, int indent) {
        w.line(indent, "BACKEND", yaml_writer::scalar(c.backend));
      };
      table.push_back(std::move(f));
    }
    const auto adb = [](const B& c) { return c.kind() == workspace_kind::tflite; };
    table.push_back(string_field<B>(
        "REMOTE_MODEL_DIR", "nn-Meter: device folder the models are pushed to (ADB backends).",
        &B::remote_model_dir, false));
    table.back().written = adb;
    table.push_back(string_field<B>("BENCHMARK_MODEL_PATH",
                                    "nn-Meter: TFLite's benchmark_model binary on the device.",
                                    &B::benchmark_model_path, false));
    table.back().written = adb;
    table.push_back(string_field<B>("DEVICE_SERIAL",
                                    "nn-Meter: adb serial of the phone; empty = the only attached "
                                    "device.",
                                    &B::device_serial, true));
    table.back().written = adb;
    table.push_back(string_field<B>("KERNEL_PATH",
                                    "nn-Meter: passed as --kernel_path= to a custom benchmark "
                                    "binary; empty = not passed.",
                                    &B::kernel_path, true));
    table.back().written = adb;
    {
      field<B> f;
      f.key = "PROTOCOL";
      f.comment =
          "nnmeter: how every latency is measured (docs/measurement.md): per model, PASSES "
          "passes of\nBLOCKS blocks of RUNS timed invokes after a warm-up; the latency is the "
          "minimum.";
      f.read = [](B& c, const reader& r, const located_value& v) {
        (void)read_map(protocol_fields(), r, v.node, v.mark(), v.path, c.protocol);
        try {
          nb::validate(c.protocol);
        } catch (const nb::backend_error& e) {
          r.fail(v.key_mark, v.path, e.what());  // a combination of keys: the map's line
        }
      };
      f.write = [](const B& c, yaml_writer& w, int indent) {
        w.line(indent, "PROTOCOL", "");
        write_map(protocol_fields(), c.protocol, w, indent + 2, true);
      };
      table.push_back(std::move(f));
    }
    return table;
  }();
  return fields;
}

// -- ruletest_config.yaml

const std::vector<std::string>& other_testcase_names() {
  static const std::vector<std::string> names{"MON"};
  return names;
}

void check_operator(const reader& r, const located_value& v, const std::string& op,
                    const std::string& in) {
  const std::vector<std::string>& ops = ruletest_config::test_operators();
  if (std::find(ops.begin(), ops.end(), op) != ops.end()) return;
  std::string msg = "unknown test operator '" + op + "'" + in;
  const std::string near = closest_match(op, ops);
  msg += near.empty() ? "; known operators: " + join(ops) : " (did you mean '" + near + "'?)";
  r.fail(v.mark(), v.path, msg);
}

const std::vector<field<ruletest_config>>& ruletest_fields() {
  using R = ruletest_config;
  static const std::vector<field<R>> fields = [] {
    std::vector<field<R>> table;
    table.push_back(bool_field<R>("DETAIL",
                                  "nn-Meter: write the measured latencies into "
                                  "detected_fusion_rule.json.",
                                  &R::detail));
    table.push_back(implement_field<R>(
        "nn-Meter: model generator. nnmeter builds the test models itself with TensorFlow's\n"
        "conventions, so only tensorflow is accepted.",
        &R::implement));
    table.push_back(integer_field<R>("HW",
                                     "nn-Meter: spatial size (height = width) of the test "
                                     "inputs.",
                                     &R::hw, 1, 1024));
    table.push_back(
        integer_field<R>("CIN", "nn-Meter: input channels of the test inputs.", &R::cin, 1, 16384));
    {
      field<R> f = integer_field<R>("SHAPE_1D",
                                    "nn-Meter: length of the 1-D inputs (pairs with an op of "
                                    "LAYERS_1D); even, as reshape\nsplits it in two.",
                                    &R::shape_1d, 2, 1 << 20);
      auto plain = f.read;
      f.read = [plain](R& c, const reader& r, const located_value& v) {
        plain(c, r, v);
        if (c.shape_1d % 2 != 0)
          r.fail(v.mark(), v.path,
                 "must be even (the reshape test operator turns [L] into [2, L / 2]), got " +
                     shown(v.node));
      };
      table.push_back(std::move(f));
    }
    table.push_back(
        integer_field<R>("COUT", "nn-Meter: output channels of conv and fc.", &R::cout, 1, 16384));
    table.push_back(integer_field<R>("KERNEL_SIZE", "nn-Meter: conv and pooling window size.",
                                     &R::kernel_size, 1, 15));
    table.push_back(choice_field<R>("PADDING", "nn-Meter: conv and pooling padding: same or valid.",
                                    &R::padding, {"same", "valid"}));
    table.push_back(integer_field<R>("STRIDES", "nn-Meter: conv strides.", &R::strides, 1, 8));
    table.push_back(
        integer_field<R>("POOL_STRIDES", "nn-Meter: pooling strides.", &R::pool_strides, 1, 8));
    table.push_back(number_field<R>("EMP_ALPHA",
                                    "nn-Meter: alpha of the criterion: a pair is fused when\n"
                                    "T(op1) + T(op2) - T(block) > EMP_ALPHA * min(T(op1), T(op2)).",
                                    &R::emp_alpha, interval{0, 1, true, false}));
    table.push_back(list_field<R>(
        "BASIC_TESTCASES",
        "nn-Meter: the operator pairs a_b tested for fusion (test BF_a_b); nn-Meter's 79 by "
        "default.\nOperators: " +
            join(ruletest_config::test_operators()) + ".",
        &R::basic_testcases, [](const reader& r, const located_value& v, const std::string& pair) {
          const std::size_t u = pair.find('_');
          if (u == std::string::npos || u == 0 || u + 1 == pair.size() ||
              pair.find('_', u + 1) != std::string::npos)
            r.fail(v.mark(), v.path,
                   "expected a pair of test operators 'a_b' (e.g. conv_relu), got '" + pair + "'");
          check_operator(r, v, pair.substr(0, u), " in '" + pair + "'");
          check_operator(r, v, pair.substr(u + 1), " in '" + pair + "'");
        }));
    table.push_back(list_field<R>(
        "OTHER_TESTCASES",
        "nn-Meter: further tests: MON (a node with multiple outbound nodes), or [] for none.",
        &R::other_testcases, [](const reader& r, const located_value& v, const std::string& name) {
          const std::vector<std::string>& names = other_testcase_names();
          if (std::find(names.begin(), names.end(), name) == names.end())
            r.fail(v.mark(), v.path, "unknown test '" + name + "'; known: " + join(names));
        }));
    table.push_back(list_field<R>(
        "LAYERS_1D", "nn-Meter: test operators that take a 1-D input [SHAPE_1D].", &R::layers_1d,
        [](const reader& r, const located_value& v, const std::string& op) {
          check_operator(r, v, op, "");
        }));
    table.push_back(integer_field<R>("REPEATS",
                                     "nnmeter: independent measurements of every test model; the "
                                     "decision uses their spread.",
                                     &R::repeats, 2, 1000));
    table.push_back(number_field<R>("NOISE_SIGMAS",
                                    "nnmeter: a rule is decided only when its margin is more than "
                                    "this many standard errors\nfrom 0; otherwise it is "
                                    "'undetermined' (with the numbers), not a guess.",
                                    &R::noise_sigmas, interval{0, 100, true, false}));
    return table;
  }();
  return fields;
}

// -- predictorbuild_config.yaml

const std::vector<field<kernel_build_config>>& kernel_fields() {
  using K = kernel_build_config;
  static const std::vector<field<K>> fields = [] {
    std::vector<field<K>> table;
    table.push_back(integer_field<K>(
        "INIT_SAMPLE_NUM", "nn-Meter: configurations of the first (prior) sampling round.",
        &K::init_sample_num, 1, 10000000));
    table.push_back(integer_field<K>("FINEGRAINED_SAMPLE_NUM",
                                     "nn-Meter: configurations sampled around each large-error one "
                                     "in a later round.",
                                     &K::finegrained_sample_num, 0, 1000000));
    table.push_back(integer_field<K>(
        "ITERATION", "nn-Meter: sampling rounds, the prior one included.", &K::iteration, 1, 100));
    table.push_back(number_field<K>("ERROR_THRESHOLD",
                                    "nn-Meter: relative error |y - y'| / y above which a held-out "
                                    "configuration seeds\nfine-grained samples.",
                                    &K::error_threshold, interval{0, 1, true, false}));
    {
      field<K> f;
      f.key = "TRAINER";
      f.comment =
          "nnmeter: boosting (gradient-boosted trees) or random-forest (XGBoost's "
          "random-forest mode).";
      f.read = [](K& c, const reader& r, const located_value& v) {
        c.trainer = read_choice(r, v, {"boosting", "random-forest"}) == "boosting"
                        ? trainer_mode::boosting
                        : trainer_mode::random_forest;
      };
      f.write = [](const K& c, yaml_writer& w, int indent) {
        w.line(indent, "TRAINER", to_string(c.trainer));
      };
      table.push_back(std::move(f));
    }
    {
      field<K> f;
      f.key = "TARGET";
      f.comment =
          "nnmeter: what the forest predicts: ms, ms-per-mflop or ms-per-mbyte (the latency per\n"
          "unit of work; the predictor multiplies by the kernel's). Default: ms-per-mflop for the\n"
          "compute-bound kinds, ms-per-mbyte for the others, ms with FEATURE_SET nnmeter.";
      f.read = [](K& c, const reader& r, const located_value& v) {
        c.target = *nnmeter::parse_latency_target(
            read_choice(r, v, {"ms", "ms-per-mflop", "ms-per-mbyte"}));
      };
      f.write = [](const K& c, yaml_writer& w, int indent) {
        if (c.target) w.line(indent, "TARGET", std::string(nnmeter::to_string(*c.target)));
      };
      table.push_back(std::move(f));
    }
    table.push_back(integer_field<K>("ROUNDS",
                                     "nnmeter: boosting rounds, or trees of the random forest.",
                                     &K::rounds, 1, 100000));
    table.push_back(
        integer_field<K>("MAX_DEPTH", "nnmeter: maximum tree depth.", &K::max_depth, 1, 64));
    table.push_back(number_field<K>("LEARNING_RATE",
                                    "nnmeter: shrinkage (XGBoost's eta); 1.0 for a random forest.",
                                    &K::learning_rate, interval{0, 1, true, false}));
    table.push_back(number_field<K>("SUBSAMPLE", "nnmeter: fraction of the rows each tree sees.",
                                    &K::subsample, interval{0, 1, true, false}));
    table.push_back(number_field<K>("COLSAMPLE_BYNODE",
                                    "nnmeter: fraction of the features each split considers.",
                                    &K::colsample_bynode, interval{0, 1, true, false}));
    return table;
  }();
  return fields;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i)
    names.emplace_back(nnmeter::to_string(static_cast<nnmeter::kernel_kind>(i)));
  return names;
}

std::string kernels_comment() {
  std::string s =
      "nn-Meter: the kernel kinds to build (delete an entry to skip a kind), each with:\n";
  for (const field<kernel_build_config>& f : kernel_fields()) {
    std::string c = f.comment;
    std::replace(c.begin(), c.end(), '\n', ' ');
    s += "  " + f.key + ": " + c + "\n";
  }
  s += "Kinds: every name of nnmeter's kernel kinds but 'other'; a key left out takes the "
       "kind's default.";
  return s;
}

const std::vector<field<predictorbuild_config>>& predictorbuild_fields() {
  using P = predictorbuild_config;
  static const std::vector<field<P>> fields = [] {
    std::vector<field<P>> table;
    table.push_back(
        bool_field<P>("DETAIL", "nn-Meter: keep every field in the build's results.", &P::detail));
    table.push_back(implement_field<P>(
        "nn-Meter: model generator. nnmeter builds the kernel models itself with TensorFlow's\n"
        "conventions, so only tensorflow is accepted.",
        &P::implement));
    table.push_back(integer_field<P>("BATCH_SIZE", "nn-Meter: batch size of the kernel models.",
                                     &P::batch_size, 1, 1024));
    table.push_back(integer_field<P>("SEED",
                                     "nnmeter: seed of the sampler and of the held-out split (a "
                                     "build is deterministic).",
                                     &P::seed, 0, std::numeric_limits<long long>::max()));
    table.push_back(number_field<P>("BUDGET_MINUTES",
                                    "nnmeter: profiling time budget of one build, minutes; 0 = no "
                                    "limit. A build that\nruns out stops cleanly and resumes where "
                                    "it stopped.",
                                    &P::budget_minutes, interval{0, 1e6, false, false}));
    table.push_back(
        number_field<P>("HOLDOUT_FRACTION",
                        "nnmeter: share of each kind's samples held out for the accuracy "
                        "metrics.",
                        &P::holdout_fraction, interval{0, 1, true, true}));
    {
      field<P> f;
      f.key = "FEATURE_SET";
      f.comment =
          "nnmeter: the feature vectors the kernel models read: lanes (nnmeter's: extended plus\n"
          "output size and vector-lane fill of the channels), extended (nnmeter's: adds FLOPs,\n"
          "bytes moved, widths to nn-Meter's) or nnmeter (nn-Meter's vectors).";
      f.read = [](P& c, const reader& r, const located_value& v) {
        // read_choice admits only spellings that parse_feature_set reads.
        nnmeter::parse_feature_set(read_choice(r, v, {"lanes", "extended", "nnmeter"}),
                                   c.feature_set);
      };
      f.write = [](const P& c, yaml_writer& w, int indent) {
        w.line(indent, "FEATURE_SET", std::string(nnmeter::to_string(c.feature_set)));
      };
      table.push_back(std::move(f));
    }
    table.push_back(number_field<P>("MAX_MFLOPS",
                                    "nnmeter: the sampler's cap on a sample's FLOPs, millions (a "
                                    "larger configuration\ngets smaller channels); 0 = no cap.",
                                    &P::max_mflops, interval{0, 1e9, false, false}));
    table.push_back(number_field<P>("MAX_MBYTES",
                                    "nnmeter: the sampler's cap on the bytes a sample moves "
                                    "(inputs, outputs, weights),\nmillions; 0 = no cap.",
                                    &P::max_mbytes, interval{0, 1e9, false, false}));
    table.push_back(integer_field<P>(
        "CONTEXT_MODELS",
        "nnmeter: zoo models per family (all 13) measured whole to fit the context factor:\n"
        "kernels in a model run slower than alone; 0 = no factor.",
        &P::context_models, 0, 1000));
    table.push_back(integer_field<P>("CONTEXT_SEED",
                                     "nnmeter: the zoo seed of those models (keep it apart from "
                                     "the seeds you evaluate on).",
                                     &P::context_seed, 0, std::numeric_limits<long long>::max()));
    table.push_back(integer_field<P>("CONTEXT_LAYOUTS",
                                     "nnmeter: memory layouts each of those models is measured "
                                     "in (the latency is the\nmedian of the copies' minima; "
                                     "docs/measurement.md).",
                                     &P::context_layouts, 1,
                                     nb::measurement_protocol::max_layouts));
    {
      field<P> f;
      f.key = "KERNELS";
      f.comment = kernels_comment();
      f.read = [](P& c, const reader& r, const located_value& v) {
        if (v.node.IsNull() || (v.node.IsMap() && v.node.size() == 0))
          r.fail(v.mark(), v.path, "lists no kernel kind");
        if (!v.node.IsMap())
          r.fail(v.mark(), v.path, "expected a map of kernel kinds, got " + shown(v.node));
        const std::vector<std::string> names = kernel_names();
        std::vector<kernel_build_config> kernels;
        std::map<std::string, YAML::Mark> seen;
        for (auto it = v.node.begin(); it != v.node.end(); ++it) {
          const YAML::Node key = it->first;
          const YAML::Node value = it->second;
          const YAML::Mark km = key.Mark();
          if (!key.IsScalar())
            r.fail(km, v.path, "a kernel kind must be a name, got " + shown(key));
          const std::string name = key.Scalar();
          const std::string path = v.path + "." + name;
          const auto [at, inserted] = seen.emplace(name, km);
          if (!inserted)
            r.fail(km, path,
                   "appears twice (first on line " + std::to_string(r.line_of(at->second)) + ")");
          const std::optional<nnmeter::kernel_kind> kind = nnmeter::parse_kernel_kind(name);
          if (!kind) {
            std::string msg = "unknown kernel kind";
            const std::string near = closest_match(name, names);
            msg +=
                near.empty() ? "; known kinds: " + join(names) : " (did you mean '" + near + "'?)";
            r.fail(km, path, msg);
          }
          if (*kind == nnmeter::kernel_kind::other)
            r.fail(km, path,
                   "'other' cannot be built: it is the fallback for operators no kind covers, "
                   "with no configuration space to sample");
          kernel_build_config k = predictorbuild_config::default_kernel(*kind);
          if (!value.IsNull()) (void)read_map(kernel_fields(), r, value, km, path, k);
          kernels.push_back(k);
        }
        c.kernels = std::move(kernels);
      };
      f.write = [](const P& c, yaml_writer& w, int indent) {
        w.line(indent, "KERNELS", "");
        for (const kernel_build_config& k : c.kernels) {
          w.line(indent + 2, std::string(nnmeter::to_string(k.kind)), "");
          write_map(kernel_fields(), k, w, indent + 4, false);
        }
      };
      table.push_back(std::move(f));
    }
    return table;
  }();
  return fields;
}

template <class C>
std::vector<std::string> keys_of(const std::vector<field<C>>& fields) {
  std::vector<std::string> out;
  for (const field<C>& f : fields) out.push_back(f.key);
  return out;
}

const std::vector<std::string>& top_keys(config_file f) {
  static const std::vector<std::string> backend = keys_of(backend_fields());
  static const std::vector<std::string> ruletest = keys_of(ruletest_fields());
  static const std::vector<std::string> predictorbuild = keys_of(predictorbuild_fields());
  switch (f) {
    case config_file::backend:
      return backend;
    case config_file::ruletest:
      return ruletest;
    case config_file::predictorbuild:
      break;
  }
  return predictorbuild;
}

// ---- reading and writing files ------------------------------------------------------------

constexpr std::uint64_t max_config_bytes = 1 << 20;
constexpr int max_flow_nesting = 64;

/// yaml-cpp 0.7 recurses once per nesting level of flow collections ("[[[[...") and overflows
/// the stack on deep ones; config files need two levels, so refuse deep nesting before
/// parsing. Counts '[' / '{' outside quotes and comments.
void check_nesting(const std::string& text, const std::string& file) {
  int depth = 0;
  int line = 1;
  char quote = 0;
  bool comment = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      comment = false;
      if (quote == 0) continue;
    }
    if (comment) continue;
    if (quote != 0) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(text[i - 1]))))
      comment = true;
    else if (c == '"' || c == '\'')
      quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > max_flow_nesting)
        throw config_error(file, "", line, 0,
                           "invalid YAML: lists or maps nested more than " +
                               std::to_string(max_flow_nesting) + " levels deep");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

YAML::Node parse_document(const std::string& text, const std::string& file) {
  if (text.find('\0') != std::string::npos)
    throw config_error(file, "", 0, 0, "not a YAML text (it contains a NUL byte)");
  check_nesting(text, file);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    throw config_error(file, "", e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw config_error(file, "", 0, 0, std::string("invalid YAML: ") + e.what());
  }
  if (docs.empty() || docs.front().IsNull())
    throw config_error(file, "", 0, 0, "the file is empty; expected a map of keys");
  if (docs.size() > 1)
    throw config_error(
        file, "", docs[1].Mark().is_null() ? 0 : docs[1].Mark().line + 1, 0,
        "holds " + std::to_string(docs.size()) + " YAML documents; a config file has one");
  return docs.front();
}

template <class C>
C parse_file(const std::vector<field<C>>& fields, config_file which, const std::string& yaml,
             const std::string& file, C out) {
  const YAML::Node doc = parse_document(yaml, file);
  const reader r{file};
  try {
    (void)read_map(fields, r, doc, doc.Mark(), "", out, which);
  } catch (const YAML::Exception& e) {  // a conversion the readers did not foresee
    throw config_error(file, "", e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, e.what());
  }
  return out;
}

std::string read_config_text(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw workspace_error(file.string(), "no such config file");
  try {
    return nnmeter::io::read_input_file(file.string(), max_config_bytes, "a YAML config file");
  } catch (const nnmeter::parse_error& e) {
    throw workspace_error(file.string(),
                          std::string("cannot read the config file (") + e.what() + ")");
  }
}

std::string file_header(const char* name, const std::string& about) {
  return std::string("# ") + name + " — " + about +
         "\n# Written by `nnmeter create`. Keys in capitals are nn-Meter's where it has them "
         "(marked nn-Meter)\n# and nnmeter's own otherwise (marked nnmeter); every key is "
         "described in docs/configuration.md.\n# A key left out takes its default; an unknown "
         "key is an error.\n\n";
}

void write_atomically(const fs::path& file, const std::string& content) {
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw workspace_error(
        file.string(),
        "cannot write (" + std::error_code(errno, std::generic_category()).message() + ")");
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw workspace_error(
          file.string(),
          "cannot write (" + std::error_code(err, std::generic_category()).message() + ")");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw workspace_error(
        file.string(),
        "cannot write (" + std::error_code(err, std::generic_category()).message() + ")");
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw workspace_error(
        file.string(),
        "cannot write (" + std::error_code(err, std::generic_category()).message() + ")");
  }
}

template <class C>
std::vector<config_key_info> key_infos(const std::vector<field<C>>& fields,
                                       const std::string& prefix) {
  std::vector<config_key_info> out;
  for (const field<C>& f : fields) out.push_back({prefix + f.key, f.comment});
  return out;
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------

std::string to_yaml(const backend_config& c) {
  yaml_writer w;
  write_map(backend_fields(), c, w, 0, true);
  return file_header(backend_config_name, "the device and how latencies are measured") + w.text();
}

std::string to_yaml(const ruletest_config& c) {
  yaml_writer w;
  write_map(ruletest_fields(), c, w, 0, true);
  return file_header(ruletest_config_name, "the fusion-rule tester (nnmeter detect-rules)") +
         w.text();
}

std::string to_yaml(const predictorbuild_config& c) {
  yaml_writer w;
  write_map(predictorbuild_fields(), c, w, 0, true);
  return file_header(predictorbuild_config_name,
                     "kernel sampling and training (nnmeter build-predictor)") +
         w.text();
}

backend_config parse_backend_config(const std::string& yaml, const std::string& file) {
  const YAML::Node doc = parse_document(yaml, file);
  const reader r{file};
  backend_config c;
  std::map<std::string, YAML::Mark> seen;
  try {
    seen = read_map(backend_fields(), r, doc, doc.Mark(), "", c, config_file::backend);
  } catch (const YAML::Exception& e) {
    throw config_error(file, "", e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, e.what());
  }
  if (!c.uses_adb_keys())
    for (const char* key :
         {"REMOTE_MODEL_DIR", "BENCHMARK_MODEL_PATH", "DEVICE_SERIAL", "KERNEL_PATH"}) {
      const auto it = seen.find(key);
      if (it != seen.end())
        r.fail(it->second, key,
               "is a key of the ADB backends, but BACKEND is xnnpack (it runs in this process); "
               "remove it");
    }
  return c;
}

ruletest_config parse_ruletest_config(const std::string& yaml, const std::string& file) {
  return parse_file(ruletest_fields(), config_file::ruletest, yaml, file, ruletest_config{});
}

predictorbuild_config parse_predictorbuild_config(const std::string& yaml,
                                                  const std::string& file) {
  return parse_file(predictorbuild_fields(), config_file::predictorbuild, yaml, file,
                    predictorbuild_config{});
}

backend_config load_backend_config(const fs::path& file) {
  return parse_backend_config(read_config_text(file), file.string());
}
ruletest_config load_ruletest_config(const fs::path& file) {
  return parse_ruletest_config(read_config_text(file), file.string());
}
predictorbuild_config load_predictorbuild_config(const fs::path& file) {
  return parse_predictorbuild_config(read_config_text(file), file.string());
}

void check_workspace_folder(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st))
    throw workspace_error(dir.string(),
                          "no such workspace (create one with nnmeter create "
                          "--xnnpack-workspace DIR)");
  if (!fs::is_directory(st)) throw workspace_error(dir.string(), "is not a workspace folder");
  if (!fs::is_directory(dir / "configs", ec))
    throw workspace_error(dir.string(),
                          "is not an nnmeter workspace: " + (dir / "configs").string() +
                              " is missing (create one with nnmeter create --xnnpack-workspace "
                              "DIR)");
}

workspace load_workspace(const fs::path& dir) {
  check_workspace_folder(dir);
  workspace ws;
  ws.root = dir;
  ws.backend = load_backend_config(ws.backend_config_file());
  ws.ruletest = load_ruletest_config(ws.ruletest_config_file());
  ws.predictorbuild = load_predictorbuild_config(ws.predictorbuild_config_file());
  return ws;
}

workspace create_workspace(const fs::path& dir, const create_options& o) {
  if (o.kind == workspace_kind::customized && o.backend.empty())
    throw workspace_error(dir.string(), "a customized workspace needs a backend name");
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw workspace_error(dir.string(), "exists and is not a folder");
  workspace ws;
  ws.root = dir;
  ws.backend = default_backend_config(o.kind, o.backend);
  // The backend name goes through the reader's checks (a customized name may be anything).
  (void)parse_backend_config(to_yaml(ws.backend), ws.backend_config_file().string());
  const std::vector<std::pair<fs::path, std::string>> files{
      {ws.backend_config_file(), to_yaml(ws.backend)},
      {ws.ruletest_config_file(), to_yaml(ws.ruletest)},
      {ws.predictorbuild_config_file(), to_yaml(ws.predictorbuild)}};
  if (!o.force)
    for (const auto& f : files)
      if (fs::exists(f.first, ec))
        throw workspace_error(f.first.string(),
                              "exists: this folder is already a workspace (--force rewrites its "
                              "config files with the defaults; measurements are kept)");
  fs::create_directories(ws.configs_dir(), ec);
  if (ec)
    throw workspace_error(ws.configs_dir().string(),
                          "cannot create the folder (" + ec.message() + ")");
  for (const auto& f : files) write_atomically(f.first, f.second);
  return load_workspace(dir);
}

std::vector<config_key_info> config_keys(config_file f) {
  std::vector<config_key_info> out;
  switch (f) {
    case config_file::backend:
      out = key_infos(backend_fields(), "");
      for (const config_key_info& k : key_infos(protocol_fields(), "PROTOCOL.")) out.push_back(k);
      break;
    case config_file::ruletest:
      out = key_infos(ruletest_fields(), "");
      break;
    case config_file::predictorbuild:
      out = key_infos(predictorbuild_fields(), "");
      for (const config_key_info& k : key_infos(kernel_fields(), "KERNELS.<kind>."))
        out.push_back(k);
      break;
  }
  return out;
}

}  // namespace nnmeter::builder
