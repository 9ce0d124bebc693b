// nnmeter builder — codegen: a predictor compiled into a header (codegen.hpp, docs/codegen.md).
// SPDX-License-Identifier: MIT
#include "builder/package/codegen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "builder/package/atomic_file.hpp"

namespace nnmeter::builder {

namespace {

// C++20 keywords and alternative tokens: none of them may name a namespace or a macro.
constexpr std::string_view cpp_keywords[] = {"alignas",       "alignof",     "and",
                                             "and_eq",        "asm",         "auto",
                                             "bitand",        "bitor",       "bool",
                                             "break",         "case",        "catch",
                                             "char",          "char8_t",     "char16_t",
                                             "char32_t",      "class",       "compl",
                                             "concept",       "const",       "consteval",
                                             "constexpr",     "constinit",   "const_cast",
                                             "continue",      "co_await",    "co_return",
                                             "co_yield",      "decltype",    "default",
                                             "delete",        "do",          "double",
                                             "dynamic_cast",  "else",        "enum",
                                             "explicit",      "export",      "extern",
                                             "false",         "float",       "for",
                                             "friend",        "goto",        "if",
                                             "inline",        "int",         "long",
                                             "mutable",       "namespace",   "new",
                                             "noexcept",      "not",         "not_eq",
                                             "nullptr",       "operator",    "or",
                                             "or_eq",         "private",     "protected",
                                             "public",        "register",    "reinterpret_cast",
                                             "requires",      "return",      "short",
                                             "signed",        "sizeof",      "static",
                                             "static_assert", "static_cast", "struct",
                                             "switch",        "template",    "this",
                                             "thread_local",  "throw",       "true",
                                             "try",           "typedef",     "typeid",
                                             "typename",      "union",       "unsigned",
                                             "using",         "virtual",     "void",
                                             "volatile",      "wchar_t",     "while",
                                             "xor",           "xor_eq"};

bool is_keyword(std::string_view s) {
  return std::find(std::begin(cpp_keywords), std::end(cpp_keywords), s) != std::end(cpp_keywords);
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// Why `id` is not a usable identifier, or empty.
std::string identifier_problem(std::string_view id) {
  const std::string q = "'" + std::string(id) + "'";
  if (id.empty()) return "an empty name";
  if (!is_ident_start(id[0])) return q + " does not start with a letter or '_'";
  for (char c : id)
    if (!is_ident_char(c)) return q + " holds a character other than letters, digits and '_'";
  if (id.find("__") != std::string_view::npos ||
      (id.size() > 1 && id[0] == '_' && id[1] >= 'A' && id[1] <= 'Z'))
    return q + " is reserved for the implementation ('__', or '_' and a capital letter)";
  if (is_keyword(id)) return q + " is a C++ keyword";
  return {};
}

// `s` as the inside of a C++ string literal: printable ASCII as is (", \ and ? escaped, the
// last against trigraphs), everything else as a three-digit octal escape (which, unlike \x,
// cannot swallow the digits after it).
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '?') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

std::string cpp_quoted(std::string_view s) { return "\"" + escape(s) + "\""; }

// A string_view initializer with the exact length (a NUL inside the text stays part of it).
std::string string_view_init(std::string_view s) {
  return "{" + cpp_quoted(s) + ", " + std::to_string(s.size()) + "}";
}

// The exact decimal expansion of x when it is at most `limit` characters long, else empty.
// A binary fraction with k fractional bits has exactly k fractional decimal digits, so the
// expansion is known to be exact from k rather than from trusting printf; a literal that spells
// the value exactly is that value for every conforming compiler ([lex.fcon] leaves only inexact
// literals to the implementation), which a rounded decimal is not. Read back as a check.
std::string exact_decimal(double x, std::size_t limit) {
  if (!std::isfinite(x) || std::fabs(x) >= 1e21) return {};
  std::size_t k = 0;
  for (double y = std::fabs(x); y != std::floor(y); y *= 2)
    if (++k > limit) return {};
  char buf[96];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(k), x);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf || static_cast<std::size_t>(n) > limit)
    return {};
  const double back = std::strtod(buf, nullptr);
  if (back != x || std::signbit(back) != std::signbit(x)) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

// A literal of type double (suffix "") or float (suffix "f") that is exactly x: the shorter of
// its exact decimal expansion and its hexadecimal form (printf's %a, exact by definition).
std::string real_literal(double x, const char* suffix) {
  char hex[64];
  std::snprintf(hex, sizeof hex, "%a", x);
  const std::string h = hex;
  std::string d = exact_decimal(x, h.size());
  if (!d.empty()) {
    if (d.find('.') == std::string::npos) d += ".0";  // 40 -> 40.0: a floating literal
    if (d.size() <= h.size()) return d + suffix;
  }
  return h + suffix;
}

std::string float_literal(float x) { return real_literal(static_cast<double>(x), "f"); }
std::string double_literal(double x) { return real_literal(x, ""); }

// Appends `items` as a brace list, as many per line as fit in 100 columns.
void append_list(std::string& out, const std::vector<std::string>& items) {
  out += "{";
  std::size_t col = 100;  // forces a line break before the first item
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& it = items[i];
    if (col + it.size() + 1 > 100) {
      out += "\n    ";
      col = 4;
    }
    out += it;
    col += it.size();
    if (i + 1 < items.size()) {
      out += ",";
      ++col;
    }
  }
  out += "}";
}

// One `inline constexpr` array (the caller never asks for an empty one: C++ has none).
template <class T, class Format>
void append_array(std::string& out, const char* type, const char* name, const T* data,
                  std::size_t n, Format fmt) {
  std::vector<std::string> items;
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) items.push_back(fmt(data[i]));
  out += "inline constexpr " + std::string(type) + " " + name + "[] = ";
  append_list(out, items);
  out += ";\n";
}

// Blob text as string literals: lines of 96 characters, adjacent literals joined into chunks of
// at most 640 lines (61440 characters: under the 65536 characters a C++ compiler must accept in
// one literal, which clang's -Woverlength-strings checks under -Wpedantic). Returns the number of
// chunks.
std::size_t append_blob(std::string& out, const std::string& text) {
  constexpr std::size_t line = 96;
  constexpr std::size_t lines_per_chunk = 640;
  std::size_t chunks = 0;
  out += "{";
  for (std::size_t pos = 0, l = 0; pos < text.size(); pos += line, ++l) {
    if (l % lines_per_chunk == 0) {
      if (l != 0) out += ",";
      ++chunks;
    }
    out += "\n    \"" + text.substr(pos, line) + "\"";
  }
  out += "}";
  return chunks;
}

std::string kind_ident(nnmeter::kernel_kind k) {
  std::string s(nnmeter::to_string(k));
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

std::string kind_enum(nnmeter::kernel_kind k) { return "nnmeter::kernel_kind::" + kind_ident(k); }

// "nnmeter::kernel_family::data_movement" for kernel_family::data_movement.
std::string family_enum(nnmeter::kernel_family f) {
  std::string id(nnmeter::to_string(f));
  std::replace(id.begin(), id.end(), '-', '_');
  return "nnmeter::kernel_family::" + id;
}

std::string target_enum(nnmeter::latency_target t) {
  switch (t) {
    case nnmeter::latency_target::ms:
      return "nnmeter::latency_target::ms";
    case nnmeter::latency_target::ms_per_mflop:
      return "nnmeter::latency_target::ms_per_mflop";
    default:
      return "nnmeter::latency_target::ms_per_mbyte";
  }
}

const char* obey_enum(nnmeter::rule_obey o) {
  switch (o) {
    case nnmeter::rule_obey::yes:
      return "nnmeter::rule_obey::yes";
    case nnmeter::rule_obey::no:
      return "nnmeter::rule_obey::no";
    default:
      return "nnmeter::rule_obey::unset";
  }
}

// A banner line "// <label><value>" with the label padded to one column.
void banner_line(std::string& out, const char* label, const std::string& value) {
  std::string l = label;
  l.resize(std::max<std::size_t>(l.size(), 16), ' ');
  out += "// " + l + value + "\n";
}

// The most node visits nnmeter::evaluate's walk can make on forest v, whatever the features:
// trees go in groups of 8 that step together until the deepest of them is on its leaf, the
// others one by one. A bound on the work of a static_assert, which the compilers limit (clang:
// -fconstexpr-steps, 1048576 by default). Children come after their parents (validated), so one
// pass gives every node's depth.
std::size_t max_walk_visits(const nnmeter::forest_view& v) {
  std::vector<std::size_t> depth(v.num_nodes, 0);
  for (std::size_t n = 0; n < v.num_nodes; ++n)
    if (v.left[n] >= 0) {
      const auto l = static_cast<std::size_t>(v.left[n]);
      depth[l] = depth[l + 1] = depth[n] + 1;
    }
  auto tree_depth = [&](std::size_t t) {
    std::size_t d = 0;
    for (std::size_t n = v.tree_begin(t); n < v.tree_end(t); ++n) d = std::max(d, depth[n]);
    return d;
  };
  std::size_t visits = 0;
  std::size_t t = 0;
  for (; v.num_features != 0 && t + 8 <= v.num_trees; t += 8) {
    std::size_t deepest = 0;
    for (std::size_t k = t; k < t + 8; ++k) deepest = std::max(deepest, tree_depth(k));
    visits += 8 * (deepest + 1);
  }
  for (; t < v.num_trees; ++t) visits += tree_depth(t) + 1;
  return visits;
}

// At most this many node visits per static_assert: clang counts several steps per visit (about
// 10), and gives up at 1048576 (docs/codegen.md).
constexpr std::size_t static_assert_max_visits = 50000;

struct kind_forest {
  nnmeter::kernel_kind kind;
  nnmeter::forest_view view;
  nnmeter::latency_target target = nnmeter::latency_target::ms;
  bool blob = false;           // stored as a blob, not as constexpr arrays
  std::size_t asserted = 0;    // golden cases checked by a static_assert
  std::size_t max_visits = 0;  // max_walk_visits(view)
};

void append_tables(std::string& h, const kind_forest& f) {
  const std::string id = kind_ident(f.kind);
  const nnmeter::forest_view& v = f.view;
  h += "// " + std::string(nnmeter::to_string(f.kind)) + ": " + std::to_string(v.num_trees) +
       " trees, " + std::to_string(v.num_nodes) + " nodes, " + std::to_string(v.num_features) +
       " features\n";
  h += "namespace tables::" + id + " {\n";
  if (v.num_nodes != 0) {
    append_array(h, "std::int32_t", "left", v.left, v.num_nodes,
                 [](std::int32_t x) { return std::to_string(x); });
    append_array(h, "std::uint32_t", "feature", v.feature, v.num_nodes,
                 [](std::uint32_t x) { return std::to_string(x); });
    append_array(h, "float", "split_value", v.split_value, v.num_nodes, float_literal);
    append_array(h, "std::uint8_t", "default_left", v.default_left, v.num_nodes,
                 [](std::uint8_t x) { return std::string(x != 0 ? "1" : "0"); });
  }
  if (v.num_trees != 0)
    append_array(h, "std::uint32_t", "tree_roots", v.tree_roots, v.num_trees,
                 [](std::uint32_t x) { return std::to_string(x); });
  h += "}  // namespace tables::" + id + "\n";
  const std::string t = "tables::" + id + "::";
  const bool nodes = v.num_nodes != 0;
  h += "inline constexpr nnmeter::forest_view " + id + "_forest{\n";
  h += "    " + (nodes ? t + "left" : std::string("nullptr")) + ",\n";
  h += "    " + (nodes ? t + "feature" : std::string("nullptr")) + ",\n";
  h += "    " + (nodes ? t + "split_value" : std::string("nullptr")) + ",\n";
  h += "    " + (nodes ? t + "default_left" : std::string("nullptr")) + ",\n";
  h += "    /*num_nodes=*/" + std::to_string(v.num_nodes) + ",\n";
  h += "    " + (v.num_trees != 0 ? t + "tree_roots" : std::string("nullptr")) + ",\n";
  h += "    /*num_trees=*/" + std::to_string(v.num_trees) + ",\n";
  h += "    /*num_features=*/" + std::to_string(v.num_features) + ",\n";
  h += "    /*base_score=*/" + float_literal(v.base_score) + "};\n\n";
}

}  // namespace

std::string default_codegen_namespace(std::string_view predictor_name) {
  std::string id;
  for (char c : predictor_name) {
    const char m = is_ident_char(c) ? c : '_';
    if (m == '_' && !id.empty() && id.back() == '_') continue;  // no "__" (reserved)
    id += m;
  }
  if (id.empty() || id == "_") {
    id = "predictor";
  } else if (id[0] == '_') {
    id = "p" + id;  // "_x" -> "p_x": no reserved "_X"
  } else if (!is_ident_start(id[0])) {
    id = "p_" + id;  // "1x" -> "p_1x"
  }
  if (is_keyword(id)) id += "_";
  return "nnmeter_devices::" + id;
}

std::string codegen_namespace_problem(std::string_view ns) {
  if (ns.empty()) return "the namespace is empty";
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const std::size_t sep = ns.find("::", start);
    const std::string_view part =
        ns.substr(start, sep == std::string_view::npos ? sep : sep - start);
    const std::string p = identifier_problem(part);
    if (!p.empty()) return "namespace '" + std::string(ns) + "': " + p;
    if (first && part == "std")
      return "namespace '" + std::string(ns) + "': 'std' belongs to the standard library";
    if (sep == std::string_view::npos) return {};
    start = sep + 2;
  }
}

std::string codegen_guard_problem(std::string_view macro) {
  const std::string p = identifier_problem(macro);
  return p.empty() ? p : "include guard '" + std::string(macro) + "': " + p;
}

std::string generate_predictor_header(const nnmeter::predictor& p, const codegen_options& o) {
  const nnmeter::predictor_info& info = p.info();
  if (info.name.empty()) throw nnmeter::error("codegen: the predictor has no name");
  const std::string who = "codegen of predictor '" + info.name + "'";
  const std::string ns =
      o.cpp_namespace.empty() ? default_codegen_namespace(info.name) : o.cpp_namespace;
  if (const std::string why = codegen_namespace_problem(ns); !why.empty())
    throw nnmeter::error(who + ": " + why);
  if (!o.include_guard.empty())
    if (const std::string why = codegen_guard_problem(o.include_guard); !why.empty())
      throw nnmeter::error(who + ": " + why);

  // The header checks its forests against the golden cases (static_assert, verify()): they
  // must hold for the source predictor.
  const nnmeter::verify_result vr = p.verify();
  if (vr.checked == 0)
    throw nnmeter::error(who +
                         ": the predictor has no golden cases (a generated header checks "
                         "its forests against them)");
  if (!vr.ok()) throw nnmeter::error(who + ": verify() fails: " + vr.failures.front());

  std::vector<kind_forest> forests;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    if (const auto v = p.forest_for(k)) {
      if (const nnmeter::forest_check c = nnmeter::validate(*v); !c)
        throw nnmeter::error(who + ": the forest of kind '" + std::string(nnmeter::to_string(k)) +
                             "' is invalid: " + nnmeter::describe(c, *v));
      forests.push_back({k, *v, p.target_for(k), false, 0, max_walk_visits(*v)});
    }
  }
  if (forests.empty()) throw nnmeter::error(who + ": the predictor has no forest");
  auto forest_of = [&](nnmeter::kernel_kind k) -> kind_forest& {
    for (kind_forest& f : forests)
      if (f.kind == k) return f;
    throw nnmeter::error(who + ": no forest for kind '" + std::string(nnmeter::to_string(k)) + "'");
  };

  // Storage: constexpr arrays for the smallest forests while the node budget lasts, blobs for
  // the rest.
  {
    std::vector<std::size_t> by_size(forests.size());
    for (std::size_t i = 0; i < by_size.size(); ++i) by_size[i] = i;
    std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
      return forests[a].view.num_nodes < forests[b].view.num_nodes;
    });
    std::size_t used = 0;
    for (std::size_t i : by_size) {
      kind_forest& f = forests[i];
      f.blob = used + f.view.num_nodes > o.constexpr_node_budget;
      if (!f.blob) used += f.view.num_nodes;
    }
  }

  // Golden cases: all of them for verify(), the first few per constexpr kind for static_assert.
  const std::vector<nnmeter::golden_case>& golden = p.golden();
  std::vector<bool> asserted(golden.size(), false);
  std::size_t asserted_total = 0;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    const nnmeter::golden_case& g = golden[i];
    for (std::size_t j = 0; j < g.features.size(); ++j)
      if (!std::isfinite(g.features[j]))
        throw nnmeter::error(who + ": golden case " + std::to_string(i) + ": feature " +
                             std::to_string(j) + " is not finite");
    if (!std::isfinite(g.latency_ms))
      throw nnmeter::error(who + ": golden case " + std::to_string(i) + ": latency is not finite");
    kind_forest& f = forest_of(g.kind);
    if (!f.blob && f.asserted < o.static_assert_cases && f.max_visits <= static_assert_max_visits) {
      ++f.asserted;
      asserted[i] = true;
      ++asserted_total;
    }
  }

  std::size_t total_nodes = 0;
  std::size_t blob_nodes = 0;
  for (const kind_forest& f : forests) {
    total_nodes += f.view.num_nodes;
    if (f.blob) blob_nodes += f.view.num_nodes;
  }

  std::string h;
  h.reserve(64 * total_nodes + (1 << 14));
  // ---- banner
  h += "// GENERATED by `nnmeter codegen` -- do not edit; regenerate it (docs/codegen.md).\n";
  h += "//\n";
  banner_line(h, "predictor:", cpp_quoted(info.name) + ", version " + cpp_quoted(info.version));
  banner_line(h, "device:", cpp_quoted(info.device));
  banner_line(h, "backend:", cpp_quoted(info.backend));
  banner_line(h, "feature set:", std::string(nnmeter::to_string(info.features)));
  banner_line(h, "format version:",
              std::to_string(NNMETER_PREDICTOR_FORMAT) + " (nnmeter predictor format)");
  if (!o.source.empty()) banner_line(h, "source:", escape(o.source));  // no line break
  banner_line(h, "namespace:", ns);
  for (const kind_forest& f : forests)
    banner_line(h, &f == &forests.front() ? "kernel models:" : "",
                std::string(nnmeter::to_string(f.kind)) + ": " + std::to_string(f.view.num_trees) +
                    " trees, " + std::to_string(f.view.num_nodes) + " nodes, " +
                    std::to_string(f.view.num_features) + " features" +
                    (f.target != nnmeter::latency_target::ms
                         ? ", target " + std::string(nnmeter::to_string(f.target))
                         : std::string()) +
                    (f.blob ? " (blob)" : ""));
  banner_line(h, "nodes:",
              std::to_string(total_nodes) + " in all, " + std::to_string(blob_nodes) +
                  " of them in blobs (decoded by make_predictor())");
  for (std::size_t i = 0, n = 0; i < nnmeter::kernel_family_count; ++i) {
    const auto f = static_cast<nnmeter::kernel_family>(i);
    if (const auto c = p.fallback_for(f))
      banner_line(h, n++ == 0 ? "fallback:" : "",
                  std::string(nnmeter::to_string(f)) + ": " + double_literal(c->base_ms) + " ms + " +
                      double_literal(c->ms_per_mflop) + " ms/MFLOP + " +
                      double_literal(c->ms_per_mbyte) + " ms/MB");
  }
  banner_line(h, "golden cases:",
              std::to_string(golden.size()) + " (" + std::to_string(asserted_total) +
                  " checked by static_assert; make_predictor().verify() re-runs every one)");
  h += "//\n";
  h += "//   const nnmeter::predictor p = " + ns + "::make_predictor();\n";
  h += "//   p.predict(graph).latency_ms;  // reads no file\n";
  h += "//   constexpr auto ms = " + ns +
       "::kernel_latency_ms(kind, features);  // std::optional<double>\n";
  if (o.include_guard.empty()) {
    h += "#pragma once\n";
  } else {
    h += "#ifndef " + o.include_guard + "\n#define " + o.include_guard + "\n";
  }
  h += "\n#include <nnmeter.hpp>\n\n#include <cstddef>\n#include <cstdint>\n#include <optional>\n"
       "#include <limits>\n#include <string>\n#include <string_view>\n#include <utility>\n\n";
  h += "static_assert(NNMETER_PREDICTOR_FORMAT == " + std::to_string(NNMETER_PREDICTOR_FORMAT) +
       ",\n              \"generated for nnmeter predictor format " +
       std::to_string(NNMETER_PREDICTOR_FORMAT) + ": regenerate it with `nnmeter codegen`\");\n\n";
  h += "namespace " + ns + " {\n\n";

  // ---- manifest
  h += "/// What the predictor is (its package manifest).\n";
  h += "struct manifest_info {\n"
       "  std::string_view name;\n"
       "  std::string_view version;\n"
       "  std::string_view device;\n"
       "  std::string_view backend;\n"
       "  nnmeter::feature_set features;  ///< the feature vectors its forests read\n"
       "  std::string_view protocol_json;  ///< measurement protocol (JSON text; empty: unknown)\n"
       "  std::string_view build_json;     ///< the builder's record (JSON text; empty: unknown)\n"
       "  int format_version;              ///< the predictor format the header was made for\n"
       "};\n";
  h += "inline constexpr manifest_info manifest{\n    " + string_view_init(info.name) + ",\n    " +
       string_view_init(info.version) + ",\n    " + string_view_init(info.device) + ",\n    " +
       string_view_init(info.backend) +
       ",\n    nnmeter::feature_set::" + std::string(nnmeter::to_string(info.features)) +
       ",\n    " + string_view_init(info.protocol_json) + ",\n    " +
       string_view_init(info.build_json) + ",\n    " + std::to_string(NNMETER_PREDICTOR_FORMAT) +
       "};\n\n";

  // ---- fusion rules
  const std::vector<nnmeter::rule_entry>& rules = p.rules().entries();
  h += "// ---- fusion rules (nn-Meter's BF_<op>_<op> and MON entries, in the package's order)\n";
  h += "inline constexpr std::size_t fusion_rule_count = " + std::to_string(rules.size()) + ";\n";
  if (!rules.empty()) {
    h += "inline constexpr nnmeter::fusion_rule fusion_rules[] = {\n";
    for (const nnmeter::rule_entry& r : rules)
      h += "    {" + string_view_init(r.name) + ", " + obey_enum(r.obey) + "},\n";
    h += "};\n";
    h +=
        "static_assert(nnmeter::valid_rules(fusion_rules), \"malformed or repeated rule name\");\n";
  }
  h += "\n";

  // ---- forests
  h += "// ---- kernel models: constexpr tables (nnmeter::forest_view)\n\n";
  for (const kind_forest& f : forests)
    if (!f.blob) append_tables(h, f);
  std::vector<std::size_t> blob_chunks(forests.size(), 0);
  if (blob_nodes != 0) {
    h +=
        "// ---- kernel models over the constexpr node budget: blobs (nnmeter::forest_from_blob)\n";
    h += "namespace blobs {\n";
    for (std::size_t i = 0; i < forests.size(); ++i) {
      const kind_forest& f = forests[i];
      if (!f.blob) continue;
      h += "// " + std::string(nnmeter::to_string(f.kind)) + ": " +
           std::to_string(f.view.num_trees) + " trees, " + std::to_string(f.view.num_nodes) +
           " nodes, " + std::to_string(f.view.num_features) + " features\n";
      h += "inline constexpr const char* " + kind_ident(f.kind) + "[] = ";
      blob_chunks[i] = append_blob(h, nnmeter::forest_to_blob(f.view));
      h += ";\n";
    }
    h += "}  // namespace blobs\n\n";
  }

  // ---- kinds and lookup
  {
    std::vector<std::string> kinds;
    for (const kind_forest& f : forests) kinds.push_back(kind_enum(f.kind));
    h += "/// The kernel kinds the predictor has a model for.\n";
    h += "inline constexpr nnmeter::kernel_kind kernel_kinds[] = ";
    append_list(h, kinds);
    h += ";\n\n";
  }
  h += "/// The constexpr forest of kind k; nullptr when the predictor has no model for k or\n"
       "/// keeps it in a blob.\n";
  h += "constexpr const nnmeter::forest_view* forest_for(nnmeter::kernel_kind k) noexcept {\n";
  h += "  switch (k) {\n";
  for (const kind_forest& f : forests)
    if (!f.blob)
      h += "    case " + kind_enum(f.kind) + ": return &" + kind_ident(f.kind) + "_forest;\n";
  h += "    default: return nullptr;\n  }\n}\n\n";
  h += "/// What the forest of kind k predicts: milliseconds, or milliseconds per unit of work,\n"
       "/// which the predictor multiplies by the kernel's (nnmeter::target_scale).\n";
  h += "constexpr nnmeter::latency_target target_for(nnmeter::kernel_kind k) noexcept {\n";
  h += "  switch (k) {\n";
  for (const kind_forest& f : forests)
    if (f.target != nnmeter::latency_target::ms)
      h += "    case " + kind_enum(f.kind) + ": return " + target_enum(f.target) + ";\n";
  h += "    default: return nnmeter::latency_target::ms;\n  }\n}\n\n";
  if (p.has_kind_scales()) {
    h += "/// What every latency of a kernel of kind k is multiplied by: the context factor times the\n"
         "/// kind's scale (nnmeter::predictor::latency_factor).\n"
         "constexpr double latency_factor(nnmeter::kernel_kind k) noexcept {\n"
         "  switch (k) {\n";
    for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
      const auto k = static_cast<nnmeter::kernel_kind>(i);
      if (p.kind_scale(k) != 1.0)
        h += "    case " + kind_enum(k) + ": return " + double_literal(p.latency_factor(k)) + ";\n";
    }
    h += "    default: return " + double_literal(p.context_scale()) + ";\n  }\n}\n\n";
  }
  h +=
      R"(/// Latency (ms) of a kernel of kind k whose feature vector is f (nnmeter::features(kernel,
/// manifest.features)) and whose work is flops and bytes (kernel::flops, kernel::bytes; read
/// only when target_for(k) is not ms): exactly what make_predictor() predicts for it. Usable in
/// constant expressions; empty when forest_for(k) is nullptr, f is not as long as its forest
/// reads, the target needs a work that was not given, or the forest's output is not a
/// positive latency (the predictor's kernel_status::non_positive).
constexpr std::optional<double> kernel_latency_ms(
    nnmeter::kernel_kind k, const nnmeter::feature_vector& f,
    double flops = std::numeric_limits<double>::quiet_NaN(),
    double bytes = std::numeric_limits<double>::quiet_NaN()) noexcept {
  const nnmeter::forest_view* v = forest_for(k);
  if (v == nullptr || f.empty() || f.size() != v->num_features) return std::nullopt;
  // The work the target needs must be known; checked by comparison, since a NaN produced by
  // arithmetic ends a constant evaluation under clang.
  const nnmeter::latency_target t = target_for(k);
  if ((t == nnmeter::latency_target::ms_per_mflop && !(flops == flops)) ||
      (t == nnmeter::latency_target::ms_per_mbyte && !(bytes == bytes)))
    return std::nullopt;
  const double ms =
      static_cast<double>(nnmeter::evaluate(*v, f.data())) * nnmeter::target_scale(t, flops, bytes))";
  // The context factor (set_context_scale), and the kinds' scales (set_kind_scale) with it,
  // multiplied in the predictor's order: one factor per kind, predictor::latency_factor.
  // Headers of predictors without either are unchanged.
  const std::string context =
      p.has_kind_scales()         ? std::string(" *\n      latency_factor(k)")
      : p.context_scale() != 1.0 ? " *\n      " + double_literal(p.context_scale())
                                 : std::string();
  h += context + R"(;
  if (!(ms > 0)) return std::nullopt;
  return ms;
}

)";

  // ---- fallback models (only when the predictor has some: headers of predictors without
  // them are unchanged)
  if (p.has_fallback()) {
    h += "// ---- fallback models: latency_ms = base_ms + ms_per_mflop * MFLOPs + ms_per_mbyte * MB\n"
         "// for the kernels of a family that get no forest latency (nnmeter::fallback_estimate)\n";
    h += "struct fallback_row {\n"
         "  nnmeter::kernel_family family;\n"
         "  nnmeter::fallback_coefficients coefficients;\n"
         "};\n";
    h += "inline constexpr fallback_row fallback_models[] = {\n";
    for (std::size_t i = 0; i < nnmeter::kernel_family_count; ++i) {
      const auto f = static_cast<nnmeter::kernel_family>(i);
      if (const auto c = p.fallback_for(f))
        h += "    {" + family_enum(f) + ", {" + double_literal(c->base_ms) + ", " +
             double_literal(c->ms_per_mflop) + ", " + double_literal(c->ms_per_mbyte) + "}},\n";
    }
    h += "};\n";
    h += "static_assert([] {\n"
         "  for (const fallback_row& r : fallback_models)\n"
         "    if (!nnmeter::valid(r.coefficients)) return false;\n"
         "  return true;\n"
         "}(), \"invalid fallback model\");\n";
    h += R"(
/// The fallback latency (ms) of a kernel of kind k and work flops and bytes (kernel::flops,
/// kernel::bytes): what make_predictor() gives a kernel of k that gets no forest latency.
/// Empty when k's family has no fallback model or the work is unknown.
constexpr std::optional<double> fallback_latency_ms(nnmeter::kernel_kind k, double flops,
                                                    double bytes) noexcept {
  for (const fallback_row& r : fallback_models)
    if (r.family == nnmeter::family_of(k)))";
    h += context.empty() ? std::string(R"(
      return nnmeter::fallback_estimate(r.coefficients, flops, bytes);)")
                         : R"(
      if (const auto ms = nnmeter::fallback_estimate(r.coefficients, flops, bytes))
        return *ms)" + context + ";";
    h += R"(
  return std::nullopt;
}

)";
  }

  // ---- golden cases
  h += "// ---- golden cases: the latencies (ms) the forests gave when the package was written\n";
  h += "struct golden_row {\n"
       "  nnmeter::kernel_kind kind;\n"
       "  std::uint32_t first;  ///< index of its first feature in tables::golden_features\n"
       "  std::uint32_t count;  ///< number of features\n"
       "  double latency_ms;\n"
       "  double scale;  ///< the factor the forest's output was multiplied by (target_scale)\n"
       "};\n";
  {
    std::vector<std::string> feats;
    std::vector<std::size_t> first;
    for (const nnmeter::golden_case& g : golden) {
      first.push_back(feats.size());
      for (double x : g.features) feats.push_back(double_literal(x));
    }
    if (!feats.empty()) {
      h += "namespace tables {\ninline constexpr double golden_features[] = ";
      append_list(h, feats);
      h += ";\n}  // namespace tables\n";
    }
    h += "inline constexpr golden_row golden_cases[] = {\n";
    for (std::size_t i = 0; i < golden.size(); ++i)
      h += "    {" + kind_enum(golden[i].kind) + ", " + std::to_string(first[i]) + ", " +
           std::to_string(golden[i].features.size()) + ", " + double_literal(golden[i].latency_ms) +
           ", " + double_literal(golden[i].scale) + "},\n";
    h += "};\n";
    for (std::size_t i = 0; i < golden.size(); ++i) {
      if (!asserted[i]) continue;
      const std::string idx = std::to_string(i);
      // verify()'s test: the forest's output times the case's scale, as a float.
      h += "static_assert(static_cast<float>(static_cast<double>(nnmeter::evaluate(\n"
           "                  " +
           kind_ident(golden[i].kind) + "_forest, tables::golden_features + " +
           std::to_string(first[i]) +
           ")) *\n"
           "                                     golden_cases[" +
           idx +
           "].scale) ==\n"
           "                  static_cast<float>(golden_cases[" +
           idx +
           "].latency_ms),\n"
           "              \"golden case " +
           idx + " (" + std::string(nnmeter::to_string(golden[i].kind)) +
           ") does not reproduce\");\n";
    }
  }
  h += "\n";

  // ---- make_predictor
  h += "/// The embedded predictor: the rules, the forests, their targets and the golden cases\n"
       "/// above. Forests with constexpr tables are views of them (no copy); blob forests are\n"
       "/// decoded here, so keep the predictor rather than making one per prediction.\n"
       "/// make_predictor().verify().ok() holds.\n";
  h += "inline nnmeter::predictor make_predictor() {\n";
  h += "  nnmeter::predictor_info info;\n"
       "  info.name = std::string(manifest.name);\n"
       "  info.version = std::string(manifest.version);\n"
       "  info.device = std::string(manifest.device);\n"
       "  info.backend = std::string(manifest.backend);\n"
       "  info.features = manifest.features;\n"
       "  info.protocol_json = std::string(manifest.protocol_json);\n"
       "  info.build_json = std::string(manifest.build_json);\n";
  h += rules.empty() ? "  nnmeter::predictor p(std::move(info), nnmeter::rule_set());\n"
                     : "  nnmeter::predictor p(std::move(info), "
                       "nnmeter::rule_set::from_rules(fusion_rules));\n";
  for (std::size_t i = 0; i < forests.size(); ++i) {
    const kind_forest& f = forests[i];
    if (!f.blob) {
      h += "  p.set_forest(" + kind_enum(f.kind) + ", " + kind_ident(f.kind) + "_forest);\n";
      continue;
    }
    h += "  p.set_forest(" + kind_enum(f.kind) +
         ",\n                nnmeter::forest_from_blob(blobs::" + kind_ident(f.kind) + ", " +
         std::to_string(blob_chunks[i]) + ", " + std::to_string(f.view.num_nodes) + ", " +
         std::to_string(f.view.num_trees) + ", " + std::to_string(f.view.num_features) + ", " +
         float_literal(f.view.base_score) + ",\n" + "                                          \"" +
         escape(ns) + "::blobs::" + kind_ident(f.kind) + "\"));\n";
  }
  for (const kind_forest& f : forests)
    if (f.target != nnmeter::latency_target::ms)
      h += "  p.set_target(" + kind_enum(f.kind) + ", " + target_enum(f.target) + ");\n";
  if (p.has_fallback())
    h += "  for (const fallback_row& r : fallback_models) p.set_fallback(r.family, r.coefficients);\n";
  // The context factor (build-predictor's fit on whole models); headers of predictors
  // without one are unchanged.
  if (p.context_scale() != 1.0)
    h += "  p.set_context_scale(" + double_literal(p.context_scale()) + ");\n";
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    if (p.kind_scale(k) != 1.0)
      h += "  p.set_kind_scale(" + kind_enum(k) + ", " + double_literal(p.kind_scale(k)) + ");\n";
  }
  h += "  for (const golden_row& g : golden_cases) {\n"
       "    nnmeter::golden_case c;\n"
       "    c.kind = g.kind;\n"
       "    for (std::uint32_t i = 0; i < g.count; ++i)\n"
       "      c.features.push_back(tables::golden_features[g.first + i]);\n"
       "    c.latency_ms = g.latency_ms;\n"
       "    c.scale = g.scale;\n"
       "    p.add_golden(std::move(c));\n"
       "  }\n"
       "  return p;\n"
       "}\n\n";
  h += "}  // namespace " + ns + "\n";
  if (!o.include_guard.empty()) h += "\n#endif  // " + o.include_guard + "\n";
  return h;
}

void write_predictor_header(const nnmeter::predictor& p, const std::filesystem::path& file,
                            const codegen_options& o) {
  write_file_atomically(file, generate_predictor_header(p, o));
}

}  // namespace nnmeter::builder
