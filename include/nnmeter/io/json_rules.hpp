// nnmeter — nn-Meter fusion-rule JSON files. Opt-in: needs nlohmann_json (nnmeter::json).
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_rules.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json_common.hpp>

#include <string>
#include <string_view>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// Reads an nn-Meter fusion-rule file (`{"BF_conv_bn": {"obey": true, "latency": {...}}, ...}`,
/// the format of nn-Meter's fusion_rules.json / detected_fusion_rule.json). `obey` may be true,
/// false, null or absent (= unset). Throws parse_error naming the source and the rule: not
/// JSON, nested deeper than limits.max_depth, a rule (or any key of one object) given twice,
/// a malformed rule or rule name.
inline rule_set read_fusion_rules(std::string_view text, std::string_view source = "<memory>",
                                  const json_limits& limits = {}) {
  using json = nlohmann::ordered_json;
  detail::check_json_limits(limits);
  detail::json_parse_settings settings;
  settings.source = std::string(source);
  settings.member_noun = "rule";
  settings.max_depth = limits.max_depth;
  const std::string& src = settings.source;
  std::vector<rule_entry> entries;
  const detail::bounded_json_builder<json>::member_sink sink = [&](std::string&& name, json&& v) {
    const std::string where = src + ": rule '" + name + "'";
    rule_entry e;
    e.name = std::move(name);
    if (v.is_boolean()) {  // tolerated shorthand: "BF_conv_bn": true
      e.obey = v.get<bool>() ? rule_obey::yes : rule_obey::no;
    } else if (v.is_object()) {
      const auto ob = v.find("obey");
      if (ob != v.end() && !ob->is_null()) {
        if (!ob->is_boolean()) throw parse_error(where + ": 'obey' must be true, false or null");
        e.obey = ob->get<bool>() ? rule_obey::yes : rule_obey::no;
      }
      // Every other key is kept as written (nesting is bounded, so dump() is safe).
      v.erase("obey");
      if (!v.empty()) e.detail_json = v.dump();
    } else {
      throw parse_error(where + ": a rule must be an object with 'obey', found " +
                        std::string(v.type_name()));
    }
    entries.push_back(std::move(e));
  };
  detail::stream_json_object<json>(text, settings, sink,
                                   "a fusion-rule file is a JSON object of rules");
  return rule_set::from_entries(std::move(entries), src);
}

/// Reads an nn-Meter fusion-rule JSON file (at most limits.max_bytes; directories, devices and
/// files that do not start like JSON are refused before they are read whole).
inline rule_set load_fusion_rules(const std::string& path, const json_limits& limits = {}) {
  return read_fusion_rules(detail::read_json_file(path, limits, "a fusion-rule file"), path,
                           limits);
}

/// Writes a rule set in nn-Meter's format (rule order kept, `latency` details kept).
inline std::string write_fusion_rules(const rule_set& rules, int indent = 2) {
  using json = nlohmann::ordered_json;
  json doc = json::object();
  for (const rule_entry& e : rules.entries()) {
    json r = e.detail_json.empty()
                 ? json::object()
                 : detail::parse_json_text<json>(e.detail_json, "rule '" + e.name + "'");
    r["obey"] = e.obey == rule_obey::unset ? json(nullptr) : json(e.obey == rule_obey::yes);
    detail::append_member(doc, e.name, std::move(r));  // rule names are distinct
  }
  return doc.dump(indent);
}

}  // namespace io
NNMETER_END_NAMESPACE
