// Every JSON reader parses with bounds: nesting depth (refused while parsing, with the byte),
// duplicate keys (an error naming the key, never "the last one wins"), numbers beyond the
// floating-point range; and the IR reader is linear in the node count and keeps file order.
// SPDX-License-Identifier: MIT
#include "strict_support.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace strict_test;
using nnmeter::io::json_limits;

// A rule file whose one rule holds `value` under "latency".
std::string rules_with(const std::string& value) {
  return R"({"BF_conv_bn": {"obey": true, "latency": )" + value + "}}";
}

// An IR whose relu's attr.attr holds "deep": `value`; `prefix_out` receives the text before it.
std::string ir_with_attr(const std::string& value, std::size_t* prefix_out = nullptr) {
  const std::string prefix =
      R"({"in": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 4]]}}, )"
      R"("x": {"inbounds": ["in"], "attr": {"type": "Relu", "output_shape": [[1, 4]], "attr": {"deep": )";
  if (prefix_out != nullptr) *prefix_out = prefix.size();
  return prefix + value + "}}}}";
}

std::string xgb_with(const std::string& value) {
  return R"({"learner": {"attributes": )" + value + R"(}, "version": [1, 7, 4]})";
}

// A chain of n Relu nodes after one input, names counting down (so that file order differs
// from every sorted order).
std::string chain_ir(std::size_t n) {
  std::string t = R"({"n)" + std::to_string(n) +
                  R"(": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 4]]}})";
  for (std::size_t i = n; i-- > 0;) {
    t += ",\n\"n" + std::to_string(i) + "\": {\"inbounds\": [\"n" + std::to_string(i + 1) +
         "\"], \"attr\": {\"type\": \"Relu\", \"input_shape\": [[1, 4]], \"output_shape\": "
         "[[1, 4]]}}";
  }
  return t + "}";
}

double seconds_to_read(const std::string& text) {
  const auto t0 = std::chrono::steady_clock::now();
  const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(text, "chain.json");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(g.num_nodes() > 0);
  return s;
}

}  // namespace

TEST_CASE("nesting: 256 levels are read, 257 are refused at the opening bracket, with its byte") {
  // The document, the record, attr and attr.attr are levels 1-4.
  SUBCASE("IR") {
    const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(ir_with_attr(nested_arrays(252)), "t.json");
    REQUIRE(g.num_nodes() == 2);
    REQUIRE(g.attrs(1).find_extra("deep") != nullptr);
    CHECK(*g.attrs(1).find_extra("deep") == nested_arrays(252));
    std::size_t prefix = 0;
    const std::string text = ir_with_attr(nested_arrays(253), &prefix);
    check_message(ir_error(text),
                  {"t.json: JSON nested deeper than 256 levels at byte " +
                   std::to_string(prefix + 253)});
  }
  SUBCASE("a '[' inside a string does not count") {
    const std::string deep_string = "\"" + std::string(300, '[') + "\\\"[\"";
    std::size_t prefix = 0;
    const std::string text = ir_with_attr("[" + deep_string + ", " + nested_arrays(252) + "]", &prefix);
    // Level 5 is the outer '[', then 252 more: the 252nd '[' of the nested arrays opens 257.
    check_message(ir_error(text), {"at byte " + std::to_string(prefix + 1 + deep_string.size() +
                                                               2 + 252)});
  }
  SUBCASE("fusion rules") {
    CHECK_NOTHROW((void)nnmeter::io::read_fusion_rules(rules_with(nested_arrays(254)), "r.json"));
    check_message(error_of<nnmeter::parse_error>([] {
                    (void)nnmeter::io::read_fusion_rules(rules_with(nested_arrays(255)), "r.json");
                  }),
                  {"r.json: JSON nested deeper than 256 levels at byte "});
  }
  SUBCASE("XGBoost forest") {
    check_message(error_of<nnmeter::parse_error>([] {
                    (void)nnmeter::io::read_xgboost_json(xgb_with(nested_arrays(255)), "m.json");
                  }),
                  {"m.json: JSON nested deeper than 256 levels"});
  }
  SUBCASE("predictor manifest") {
    const std::string manifest = R"({"format_version": 1, "x": )" + nested_arrays(300) + "}";
    check_message(error_of<nnmeter::parse_error>([&] {
                    (void)nnmeter::io::read_predictor_package(
                        manifest, "pkg", [](const std::string&) { return std::string("{}"); });
                  }),
                  {"pkg/manifest.json: JSON nested deeper than 256 levels"});
  }
}

TEST_CASE("nesting 10^5 levels deep is refused by every reader without building it") {
  const std::string arrays = nested_arrays(100000);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  check_message(ir_error(ir_with_attr(arrays)), {"nested deeper than 256 levels"});
  check_message(ir_error(ir_with_attr(objects)), {"nested deeper than 256 levels"});
  check_message(error_of<nnmeter::parse_error>([&] {
                  (void)nnmeter::io::read_fusion_rules(rules_with(objects), "r.json");
                }),
                {"r.json: JSON nested deeper than 256 levels"});
  check_message(error_of<nnmeter::parse_error>([&] {
                  (void)nnmeter::io::read_xgboost_json(xgb_with(arrays), "m.json");
                }),
                {"m.json: JSON nested deeper than 256 levels"});
}

TEST_CASE("json_limits::max_depth is honoured and range-checked") {
  nnmeter::io::ir_read_options o;
  o.limits.max_depth = 6;
  CHECK_NOTHROW((void)nnmeter::io::read_nnmeter_ir(ir_with_attr(nested_arrays(2)), "t.json", o));
  check_message(ir_error(ir_with_attr(nested_arrays(3)), o),
                {"JSON nested deeper than 6 levels"});
  o.limits.max_depth = 0;
  check_message(error_of([&] { (void)nnmeter::io::read_nnmeter_ir("{}", "t.json", o); }),
                {"max_depth is 0, must be in [1, 4096]"});
  o.limits.max_depth = 5000;
  check_message(error_of([&] { (void)nnmeter::io::read_nnmeter_ir("{}", "t.json", o); }),
                {"max_depth is 5000"});
  json_limits l;
  l.max_depth = 3;
  check_message(error_of<nnmeter::parse_error>([&] {
                  (void)nnmeter::io::read_fusion_rules(rules_with("[[1]]"), "r.json", l);
                }),
                {"nested deeper than 3 levels"});
}

TEST_CASE("a key twice in one object is an error naming the key, in every reader") {
  SUBCASE("two IR nodes of one name") {
    check_message(ir_error(R"({"a": {"inbounds": [], "attr": {"type": "Placeholder"}},
                               "b": {"inbounds": ["a"], "attr": {"type": "Relu"}},
                               "a": {"inbounds": [], "attr": {"type": "Relu"}}})"),
                  {"t.json: node 'a' appears twice"});
  }
  SUBCASE("a key twice inside a node record") {
    check_message(ir_error(R"({"a": {"inbounds": [], "attr": {"type": "Placeholder",
                               "type": "Relu"}}})"),
                  {"t.json: key 'type' appears twice in the object at /a/attr"});
    check_message(ir_error(op_ir("Conv2D", R"("ks": [3, 3], "strides": [1, 1], "strides": [2, 2])")),
                  {"key 'strides' appears twice in the object at /op/attr/attr"});
  }
  SUBCASE("in a large object (the hash-set path)") {
    std::string attrs;
    for (int i = 0; i < 100; ++i) attrs += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
    // Without the duplicate, the 100 unknown keys are kept in file order.
    const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(op_ir("Relu", attrs + "\"z\": 0"), "t.json");
    REQUIRE(g.attrs(1).extra.size() == 101);
    for (int i = 0; i < 100; ++i) CHECK(g.attrs(1).extra[static_cast<std::size_t>(i)].first == "k" + std::to_string(i));
    check_message(ir_error(op_ir("Relu", attrs + "\"k57\": 1")),
                  {"key 'k57' appears twice in the object at /op/attr/attr"});
  }
  SUBCASE("two rules of one name") {
    check_message(error_of<nnmeter::parse_error>([] {
                    (void)nnmeter::io::read_fusion_rules(
                        R"({"BF_conv_bn": {"obey": true}, "BF_conv_relu": {"obey": true},
                            "BF_conv_bn": {"obey": false}})",
                        "r.json");
                  }),
                  {"r.json: rule 'BF_conv_bn' appears twice"});
  }
  SUBCASE("a key twice in a rule") {
    check_message(error_of<nnmeter::parse_error>([] {
                    (void)nnmeter::io::read_fusion_rules(
                        R"({"BF_conv_bn": {"obey": true, "obey": false}})", "r.json");
                  }),
                  {"key 'obey' appears twice in the object at /BF_conv_bn"});
  }
  SUBCASE("a kernel kind twice in a manifest") {
    const std::string manifest =
        R"({"format_version": 1, "kernels": {"fc": "a.json", "relu": "b.json", "fc": "c.json"}})";
    check_message(error_of<nnmeter::parse_error>([&] {
                    (void)nnmeter::io::read_predictor_package(
                        manifest, "pkg", [](const std::string&) { return std::string("{}"); });
                  }),
                  {"pkg/manifest.json: key 'fc' appears twice in the object at /kernels"});
  }
  SUBCASE("a key twice in an XGBoost model (std::map objects)") {
    check_message(error_of<nnmeter::parse_error>([] {
                    (void)nnmeter::io::read_xgboost_json(
                        R"({"version": [1, 7, 4], "learner": {}, "version": [2, 0, 0]})", "m.json");
                  }),
                  {"m.json: key 'version' appears twice"});
  }
}

TEST_CASE("numbers beyond the floating-point range are refused by the parser") {
  // nlohmann's lexer reports the overflow (out_of_range.406); the message names the file.
  check_message(ir_error(op_ir("Relu", R"("alpha": 1e400)")),
                {"t.json: not valid JSON: ", "number overflow parsing '1e400'"});
  check_message(ir_error(op_ir("Relu", R"("whatever": -2.5e999)")),
                {"number overflow parsing '-2.5e999'"});
  // XGBoost documents are read as floats: 1e39 is beyond them.
  check_message(error_of<nnmeter::parse_error>([] {
                  (void)nnmeter::io::read_xgboost_json(xgb_with("1e39"), "m.json");
                }),
                {"m.json: malformed JSON: ", "number overflow parsing '1e39'"});
}

TEST_CASE("the top level must be an object, and syntax errors keep each reader's words") {
  check_message(ir_error("[1, 2]"), {"t.json: an nn-Meter IR file is a JSON object of nodes, found array"});
  check_message(ir_error("3"), {"JSON object of nodes, found number"});
  check_message(ir_error(R"({"a": )"), {"t.json: not valid JSON: [json.exception.parse_error.101]"});
  check_message(ir_error(""), {"t.json: not valid JSON"});
  check_message(error_of<nnmeter::parse_error>([] {
                  (void)nnmeter::io::read_fusion_rules("[]", "r.json");
                }),
                {"r.json: a fusion-rule file is a JSON object of rules, found array"});
  check_message(error_of<nnmeter::parse_error>([] {
                  (void)nnmeter::io::read_xgboost_json("{\"a\": tru}", "m.json");
                }),
                {"m.json: malformed JSON: [json.exception.parse_error.101]"});
}

TEST_CASE("10^5 nodes keep the file's order (names counting down)") {
  const std::size_t n = 100000;
  const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(chain_ir(n), "chain.json");
  REQUIRE(g.num_nodes() == n + 1);
  CHECK(g.name(0) == "n" + std::to_string(n));
  for (nnmeter::node_index i = 1; i <= n; ++i) {
    if (g.name(i) != "n" + std::to_string(n - i)) {
      FAIL("node " << i << " is " << g.name(i));
      break;
    }
    if (g.inputs(i).size() != 1 || g.inputs(i)[0].node != i - 1) {
      FAIL("node " << i << " is not connected to its predecessor");
      break;
    }
  }
}

TEST_CASE("IR import time is linear in the node count (ten times the nodes, not 100 times the time)") {
  // Quadratic import (ordered_json's linear key search) made 10x the nodes cost ~100x; linear
  // import costs ~10x. Best of three runs each, so that a busy machine does not decide.
  const std::string small = chain_ir(10000);
  const std::string large = chain_ir(100000);
  double t_small = 1e9;
  double t_large = 1e9;
  for (int i = 0; i < 3; ++i) t_small = std::min(t_small, seconds_to_read(small));
  for (int i = 0; i < 2; ++i) t_large = std::min(t_large, seconds_to_read(large));
  MESSAGE("10^4 nodes: " << t_small << " s, 10^5 nodes: " << t_large << " s, ratio "
                         << t_large / t_small);
  CHECK(t_large / t_small < 30.0);
}

TEST_CASE("messages stay short and printable whatever the input holds") {
  SUBCASE("invalid UTF-8 quoted by the parser is escaped") {
    const std::string msg = ir_error("{\"x\xFF\": 1}");
    check_message(msg, {"t.json: not valid JSON: ", "\\xFF"});
    for (char c : msg) CHECK((static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f));
  }
  SUBCASE("a long key given twice is shortened, at a UTF-8 boundary") {
    std::string key;
    for (int i = 0; i < 400; ++i) key += "\xC3\xA9";  // 'é', two bytes each
    const std::string msg = ir_error(R"({")" + key + R"(": {"inbounds": [], "attr": {"type": "Relu"}}, ")" +
                                     key + R"(": {"inbounds": [], "attr": {"type": "Relu"}}})");
    check_message(msg, {"t.json: node '\xC3\xA9\xC3\xA9", "...' appears twice"});
    CHECK(msg.size() < 300);
    CHECK(msg.find("\xC3...") == std::string::npos);  // not cut inside a character
  }
}
