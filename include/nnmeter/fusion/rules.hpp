// nnmeter — fusion rules: nn-Meter's rule format, validated rule tables and the runtime rule set.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/fusion/pattern.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Outcome of one fusion test, as nn-Meter stores it in `obey` (true / false / null).
enum class rule_obey : std::uint8_t { unset, no, yes };

/// One entry of an nn-Meter fusion-rule file: `BF_<op1>_<op2>[_<op3>...]` says whether the ops
/// run as one kernel; `MON` selects the multiple-outbound mode; `RBC`, `CBC`, `RT`, `FN` are
/// test names nn-Meter writes and never consults for detection.
struct fusion_rule {
  std::string_view name;
  rule_obey obey = rule_obey::unset;
};

namespace detail {

constexpr bool is_rule_op_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

constexpr bool is_special_rule_name(std::string_view n) noexcept {
  return n == "MON" || n == "RBC" || n == "CBC" || n == "RT" || n == "FN";
}

/// Number of ops in a well-formed `BF_a_b[_c...]` name, or 0 when the name is malformed.
constexpr std::size_t bf_rule_op_count(std::string_view n) noexcept {
  if (n.size() < 3 || n.substr(0, 3) != "BF_") return 0;
  std::size_t ops = 0;
  std::size_t len = 0;
  for (std::size_t i = 3; i <= n.size(); ++i) {
    if (i == n.size() || n[i] == '_') {
      if (len == 0) return 0;
      ++ops;
      len = 0;
    } else if (!is_rule_op_char(n[i])) {
      return 0;
    } else {
      ++len;
    }
  }
  return ops >= 2 ? ops : 0;
}

/// Why a rule name is not acceptable, or an empty view when it is.
constexpr std::string_view rule_name_problem(std::string_view n) noexcept {
  if (n.empty()) return "empty rule name";
  if (is_special_rule_name(n)) return {};
  if (n.substr(0, 3) != "BF_")
    return "rule names are BF_<op>_<op>[_<op>...] or one of MON, RBC, CBC, RT, FN";
  if (bf_rule_op_count(n) == 0)
    return "a BF_ rule needs at least two non-empty op names of letters, digits and '-'";
  return {};
}

}  // namespace detail

/// Compile-time check of a rule table: every name well-formed, no name twice.
constexpr bool valid_rules(const fusion_rule* rules, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (!detail::rule_name_problem(rules[i].name).empty()) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (rules[j].name == rules[i].name) return false;
  }
  return true;
}
template <std::size_t N>
constexpr bool valid_rules(const fusion_rule (&rules)[N]) noexcept {
  return valid_rules(rules, N);
}

/// nn-Meter's fusion rules for the TFLite CPU backend (Pixel 4, cortexA76cpu_tflite21), as
/// shipped with nn-Meter (MIT licence, Copyright (c) Microsoft Corporation), `obey` values only.
/// Pairs written in nn-Meter's older vocabulary (`dense`, `pooling`) can never match a node
/// type and are kept only so the table equals the file.
inline constexpr fusion_rule tflite_cpu_rules[] = {
    {"RBC", rule_obey::unset},
    {"CBC", rule_obey::unset},
    {"BF_bn_relu", rule_obey::yes},
    {"BF_conv_bn", rule_obey::yes},
    {"BF_dwconv_bn", rule_obey::yes},
    {"BF_se_relu", rule_obey::yes},
    {"BF_conv_se", rule_obey::no},
    {"BF_conv_hswish", rule_obey::yes},
    {"BF_conv_bn_relu", rule_obey::yes},
    {"BF_dwconv_bn_relu", rule_obey::yes},
    {"BF_pooling_pooling", rule_obey::no},
    {"BF_pooling_convtrans", rule_obey::no},
    {"BF_pooling_concat", rule_obey::no},
    {"BF_pooling_conv", rule_obey::no},
    {"BF_pooling_add", rule_obey::no},
    {"BF_pooling_relu", rule_obey::no},
    {"BF_pooling_dwconv", rule_obey::no},
    {"BF_pooling_reshape", rule_obey::yes},
    {"BF_dense_dense", rule_obey::no},
    {"BF_dense_concat", rule_obey::yes},
    {"BF_dense_add", rule_obey::yes},
    {"BF_dense_relu", rule_obey::yes},
    {"BF_dense_reshape", rule_obey::no},
    {"BF_convtrans_pooling", rule_obey::no},
    {"BF_convtrans_convtrans", rule_obey::no},
    {"BF_convtrans_concat", rule_obey::no},
    {"BF_convtrans_conv", rule_obey::no},
    {"BF_convtrans_add", rule_obey::no},
    {"BF_convtrans_relu", rule_obey::no},
    {"BF_convtrans_dwconv", rule_obey::no},
    {"BF_convtrans_reshape", rule_obey::no},
    {"BF_concat_pooling", rule_obey::no},
    {"BF_concat_dense", rule_obey::yes},
    {"BF_concat_convtrans", rule_obey::no},
    {"BF_concat_concat", rule_obey::no},
    {"BF_concat_conv", rule_obey::no},
    {"BF_concat_add", rule_obey::no},
    {"BF_concat_relu", rule_obey::no},
    {"BF_concat_dwconv", rule_obey::no},
    {"BF_concat_reshape", rule_obey::no},
    {"BF_conv_pooling", rule_obey::yes},
    {"BF_conv_convtrans", rule_obey::no},
    {"BF_conv_concat", rule_obey::no},
    {"BF_conv_conv", rule_obey::no},
    {"BF_conv_add", rule_obey::no},
    {"BF_conv_relu", rule_obey::yes},
    {"BF_conv_dwconv", rule_obey::no},
    {"BF_conv_reshape", rule_obey::no},
    {"BF_add_pooling", rule_obey::no},
    {"BF_add_dense", rule_obey::no},
    {"BF_add_convtrans", rule_obey::no},
    {"BF_add_concat", rule_obey::no},
    {"BF_add_conv", rule_obey::no},
    {"BF_add_add", rule_obey::no},
    {"BF_add_relu", rule_obey::yes},
    {"BF_add_dwconv", rule_obey::no},
    {"BF_add_reshape", rule_obey::no},
    {"BF_relu_pooling", rule_obey::no},
    {"BF_relu_dense", rule_obey::yes},
    {"BF_relu_convtrans", rule_obey::no},
    {"BF_relu_concat", rule_obey::no},
    {"BF_relu_conv", rule_obey::no},
    {"BF_relu_add", rule_obey::no},
    {"BF_relu_relu", rule_obey::yes},
    {"BF_relu_dwconv", rule_obey::no},
    {"BF_relu_reshape", rule_obey::no},
    {"BF_dwconv_pooling", rule_obey::no},
    {"BF_dwconv_convtrans", rule_obey::no},
    {"BF_dwconv_concat", rule_obey::no},
    {"BF_dwconv_conv", rule_obey::no},
    {"BF_dwconv_add", rule_obey::no},
    {"BF_dwconv_relu", rule_obey::yes},
    {"MON", rule_obey::unset},
    {"RT", rule_obey::no},
    {"BF_dwconv_dwconv", rule_obey::no},
    {"BF_dwconv_reshape", rule_obey::no},
    {"BF_reshape_pooling", rule_obey::no},
    {"BF_reshape_dense", rule_obey::no},
    {"BF_reshape_convtrans", rule_obey::yes},
    {"BF_reshape_concat", rule_obey::no},
    {"BF_reshape_conv", rule_obey::yes},
    {"BF_reshape_add", rule_obey::no},
    {"BF_reshape_relu", rule_obey::yes},
    {"BF_reshape_dwconv", rule_obey::no},
    {"BF_reshape_reshape", rule_obey::yes},
};
static_assert(valid_rules(tflite_cpu_rules), "tflite_cpu_rules: malformed or repeated rule name");

/// A multi-op fusion unit: a named block and the pattern variants that produce it.
struct block_unit {
  std::string type;
  std::vector<pattern> variants;
};

/// A fusion rule as stored in a rule set (owning copy, plus the rule's raw `latency` detail as
/// JSON text when a file carried one, so that rule files survive a read/write round trip).
struct rule_entry {
  std::string name;
  rule_obey obey = rule_obey::unset;
  std::string detail_json;
};

/// The fusion rules of one device, ready for kernel detection: fusible op pairs, multi-op
/// units (chains from 3-op BF rules, then nn-Meter's built-in se, hswish, channelshuffle and
/// gap blocks), and the multiple-outbound mode (MON).
class rule_set {
 public:
  /// An empty rule set: nothing fuses pairwise; the built-in blocks still apply.
  rule_set() { rebuild(); }

  /// Builds a rule set from a rule table; throws parse_error on a malformed or repeated name.
  static rule_set from_rules(const fusion_rule* rules, std::size_t n) {
    rule_set rs;
    for (std::size_t i = 0; i < n; ++i)
      rs.entries_.push_back({std::string(rules[i].name), rules[i].obey, std::string()});
    rs.rebuild();
    return rs;
  }
  template <std::size_t N>
  static rule_set from_rules(const fusion_rule (&rules)[N]) {
    return from_rules(rules, N);
  }

  /// Builds a rule set from owned entries (e.g. read from a JSON file named `source`).
  static rule_set from_entries(std::vector<rule_entry> entries, std::string_view source = {}) {
    rule_set rs;
    rs.entries_ = std::move(entries);
    rs.source_ = std::string(source);
    rs.rebuild();
    return rs;
  }

  /// The rules as given, in order.
  const std::vector<rule_entry>& entries() const noexcept { return entries_; }
  /// True when a producer of nn-Meter type `first` fuses with a consumer of type `second`.
  bool is_fusible(std::string_view first, std::string_view second) const noexcept {
    for (const auto& p : pairs_)
      if (p.first == first && p.second == second) return true;
    return false;
  }
  /// Fusible (producer type, consumer type) pairs, in rule order.
  const std::vector<std::pair<std::string, std::string>>& fusible_pairs() const noexcept {
    return pairs_;
  }
  /// Multi-op units in the order nn-Meter applies them.
  const std::vector<block_unit>& units() const noexcept { return units_; }
  /// Multiple-outbound mode: 0 (default) never fuses across a fork; 1 fuses a fork's producer
  /// into its first fusible consumer only.
  int mon() const noexcept { return mon_; }
  /// Where the rules came from (a file name), or empty.
  const std::string& source() const noexcept { return source_; }

 private:
  void rebuild() {
    pairs_.clear();
    units_.clear();
    mon_ = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const rule_entry& e = entries_[i];
      const std::string_view problem = detail::rule_name_problem(e.name);
      if (!problem.empty())
        throw parse_error(where() + "rule '" + e.name + "': " + std::string(problem));
      for (std::size_t j = 0; j < i; ++j)
        if (entries_[j].name == e.name)
          throw parse_error(where() + "rule '" + e.name + "' appears twice");
      if (e.name == "MON") {
        mon_ = e.obey == rule_obey::yes ? 1 : 0;  // nn-Meter: true == mode 1, false/null == 0
        continue;
      }
      if (e.obey != rule_obey::yes || e.name.compare(0, 3, "BF_") != 0) continue;
      std::vector<std::string> ops;
      std::size_t start = 3;
      for (std::size_t k = 3; k <= e.name.size(); ++k) {
        if (k == e.name.size() || e.name[k] == '_') {
          ops.push_back(e.name.substr(start, k - start));
          start = k + 1;
        }
      }
      if (ops.size() == 2) {
        pairs_.emplace_back(ops[0], ops[1]);
      } else {
        std::string type;
        pattern chain;
        for (std::size_t k = 0; k < ops.size(); ++k) {
          type += (k == 0 ? "" : "-") + ops[k];
          pattern_vertex v{ops[k], {}};
          if (k > 0) v.inputs.push_back(static_cast<int>(k - 1));
          chain.vertices.push_back(std::move(v));
        }
        units_.push_back({type, {std::move(chain)}});
      }
    }
    for (const builtin_block& b : builtin_blocks) {
      block_unit u{std::string(b.type), {}};
      for (std::size_t k = 0; k < b.variant_count; ++k) u.variants.push_back(to_pattern(b.variants[k]));
      units_.push_back(std::move(u));
    }
  }
  std::string where() const { return source_.empty() ? std::string() : source_ + ": "; }

  std::vector<rule_entry> entries_;
  std::vector<std::pair<std::string, std::string>> pairs_;
  std::vector<block_unit> units_;
  int mon_ = 0;
  std::string source_;
};

/// The default rule set: nn-Meter's TFLite CPU rules (tflite_cpu_rules), built once.
inline const rule_set& default_rules() {
  static const rule_set rules = rule_set::from_rules(tflite_cpu_rules);
  return rules;
}

NNMETER_END_NAMESPACE
