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
/// false, null or absent (= unset). Throws parse_error naming the source and the rule.
inline rule_set read_fusion_rules(std::string_view text, std::string_view source = "<memory>") {
  using json = nlohmann::ordered_json;
  const std::string src(source);
  const json doc = detail::parse_json_text<json>(text, src);
  if (!doc.is_object())
    throw parse_error(src + ": a fusion-rule file is a JSON object of rules, found " +
                      std::string(doc.type_name()));
  std::vector<rule_entry> entries;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string where = src + ": rule '" + it.key() + "'";
    rule_entry e;
    e.name = it.key();
    const json& v = it.value();
    if (v.is_boolean()) {  // tolerated shorthand: "BF_conv_bn": true
      e.obey = v.get<bool>() ? rule_obey::yes : rule_obey::no;
    } else if (v.is_object()) {
      const auto ob = v.find("obey");
      if (ob != v.end() && !ob->is_null()) {
        if (!ob->is_boolean()) throw parse_error(where + ": 'obey' must be true, false or null");
        e.obey = ob->get<bool>() ? rule_obey::yes : rule_obey::no;
      }
      json detail_obj = json::object();
      for (auto f = v.begin(); f != v.end(); ++f)
        if (f.key() != "obey") detail_obj[f.key()] = f.value();
      if (!detail_obj.empty()) e.detail_json = detail_obj.dump();
    } else {
      throw parse_error(where + ": a rule must be an object with 'obey', found " +
                        std::string(v.type_name()));
    }
    entries.push_back(std::move(e));
  }
  return rule_set::from_entries(std::move(entries), src);
}

/// Reads an nn-Meter fusion-rule JSON file.
inline rule_set load_fusion_rules(const std::string& path) {
  return read_fusion_rules(detail::read_file(path), path);
}

/// Writes a rule set in nn-Meter's format (rule order kept, `latency` details kept).
inline std::string write_fusion_rules(const rule_set& rules, int indent = 2) {
  using json = nlohmann::ordered_json;
  json doc = json::object();
  for (const rule_entry& e : rules.entries()) {
    json r = e.detail_json.empty() ? json::object() : json::parse(e.detail_json);
    r["obey"] = e.obey == rule_obey::unset ? json(nullptr) : json(e.obey == rule_obey::yes);
    doc[e.name] = std::move(r);
  }
  return doc.dump(indent);
}

}  // namespace io
NNMETER_END_NAMESPACE
