// Tests for tools/builder/testcases/testcases.hpp: nn-Meter's fusion-rule test cases as graphs,
// and the decision of a rule from repeated measurements.
// SPDX-License-Identifier: MIT
#include "builder/testcases/testcases.hpp"

#include <nnmeter/io/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace nb = nnmeter::builder;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const nb::rule_testcase& find_case(const std::vector<nb::rule_testcase>& v, const std::string& n) {
  for (const nb::rule_testcase& t : v)
    if (t.name == n) return t;
  FAIL("no test case " << n);
  return v.front();
}

std::string error_of(const nb::rule_test_config& cfg) {
  try {
    (void)nb::make_rule_testcases(cfg);
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return {};
}

// Latencies of a basic case: op1, op2, block for each repeat.
std::map<std::string, std::vector<double>> basic(const nb::rule_testcase& tc,
                                                 std::vector<double> t1, std::vector<double> t2,
                                                 std::vector<double> tb) {
  return {{tc.alias1, std::move(t1)}, {tc.alias2, std::move(t2)}, {"block", std::move(tb)}};
}

}  // namespace

TEST_CASE("nn-Meter's 79 default pairs") {
  const std::vector<std::string> d = nb::default_basic_testcases();
  CHECK(d.size() == 79);
  for (const char* p : {"conv_relu", "add_relu", "conv_add", "fc_fc", "reshape_fc", "bn_relu",
                        "conv_bn", "conv_hswish", "conv_se", "dwconv_bn", "se_relu", "add_add"})
    CHECK(has(d, p));
  for (const char* p : {"conv_fc", "fc_conv", "avgpool_fc", "fc_dwconv", "dwconv_fc"})
    CHECK_FALSE(has(d, p));
  CHECK(std::set<std::string>(d.begin(), d.end()).size() == d.size());
}

TEST_CASE("every default test case builds consistent graphs") {
  const nb::rule_test_config cfg;
  const std::vector<nb::rule_testcase> cases = nb::make_rule_testcases(cfg);
  REQUIRE(cases.size() == 80);  // 79 pairs + MON
  for (const nb::rule_testcase& tc : cases) {
    CAPTURE(tc.name);
    CHECK(tc.models.size() == (tc.mon ? 6u : 3u));
    for (const nb::test_model& m : tc.models) {
      CAPTURE(m.alias);
      CHECK_NOTHROW(nnmeter::validate(m.graph));
      CHECK(m.graph.num_nodes() >= 2);
    }
  }
  // Two-input operators read their input twice; op2 alone runs on op1's output shape.
  const nb::rule_testcase& ac = find_case(cases, "BF_add_conv");
  CHECK(ac.models[0].graph.num_nodes() == 2);  // input, add(x, x)
  CHECK(ac.models[1].graph[0].output_shapes[0] == nnmeter::tensor_shape{1, 28, 28, 64});
  const nb::rule_testcase& cc = find_case(cases, "BF_conv_concat");
  CHECK(cc.models[2].graph.num_nodes() == 4);  // input, conv, extra input, concat
  // 1-D pairs get [1, SHAPE_1D]; equal operators get aliases.
  const nb::rule_testcase& ff = find_case(cases, "BF_fc_fc");
  CHECK(ff.alias1 == "fc_1");
  CHECK(ff.alias2 == "fc_2");
  CHECK(ff.models[0].graph[0].output_shapes[0] == nnmeter::tensor_shape{1, 428});
  CHECK(ff.models[1].graph[0].output_shapes[0] == nnmeter::tensor_shape{1, 128});
}

TEST_CASE("a block detects as one kernel under rules that fuse it, two under rules that do not") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"conv_relu"};
  cfg.other_testcases = {};
  const nb::rule_testcase tc = nb::make_rule_testcases(cfg).front();
  const nnmeter::graph& block = tc.models[2].graph;
  nnmeter::rule_set fused = nnmeter::io::read_fusion_rules(R"({"BF_conv_relu": {"obey": true}})");
  nnmeter::rule_set apart = nnmeter::io::read_fusion_rules(R"({"BF_conv_relu": {"obey": false}})");
  CHECK(nnmeter::detect(block, fused).kernels.size() == 1);
  CHECK(nnmeter::detect(block, apart).kernels.size() == 2);
}

TEST_CASE("rule names use the detector's types") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"globalavgpool_relu6", "flatten_fc", "conv_relu"};
  cfg.other_testcases = {};
  const std::vector<nb::rule_testcase> cases = nb::make_rule_testcases(cfg);
  CHECK(cases[0].rule_name == "BF_gap_relu");
  CHECK(cases[1].rule_name == "BF_reshape_fc");
  CHECK(cases[2].rule_name == "BF_conv_relu");
}

TEST_CASE("bad settings and pairs are errors naming them") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"conv_relux"};
  CHECK(error_of(cfg).find("unknown operator 'relux'") != std::string::npos);
  cfg.basic_testcases = {"convrelu"};
  CHECK(error_of(cfg).find("'convrelu' must be '<op1>_<op2>'") != std::string::npos);
  cfg.basic_testcases = {"conv_relu", "conv_relu"};
  CHECK(error_of(cfg).find("lists 'conv_relu' twice") != std::string::npos);
  cfg.basic_testcases = {"conv_fc"};  // fc on a spatial tensor
  CHECK(error_of(cfg).find("BF_conv_fc: cannot build its models") != std::string::npos);
  cfg = {};
  cfg.hw = 0;
  CHECK(error_of(cfg).find("HW = 0") != std::string::npos);
  cfg = {};
  cfg.repeats = 1;
  CHECK(error_of(cfg).find("REPEATS = 1") != std::string::npos);
  cfg = {};
  cfg.other_testcases = {"RBC"};
  CHECK(error_of(cfg).find("'RBC' is unknown") != std::string::npos);
}

TEST_CASE("decide_rule: fused, not fused, undetermined, skipped") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"conv_relu"};
  cfg.other_testcases = {};
  const nb::rule_testcase tc = nb::make_rule_testcases(cfg).front();
  SUBCASE("fused: the block costs what conv costs") {
    const nb::rule_result r =
        nb::decide_rule(tc, basic(tc, {1.00, 1.01, 0.99}, {0.10, 0.10, 0.11}, {1.00, 1.01, 1.00}), cfg);
    CHECK(r.verdict == nb::rule_verdict::fused);
    REQUIRE(r.obey);
    CHECK(*r.obey);
    CHECK(r.margin_ms == doctest::Approx((0.10 + 0.10 + 0.10 - 0.05 - 0.05 - 0.055) / 3));
  }
  SUBCASE("not fused: the block costs the sum") {
    const nb::rule_result r =
        nb::decide_rule(tc, basic(tc, {1.0, 1.0, 1.0}, {0.1, 0.1, 0.1}, {1.1, 1.11, 1.09}), cfg);
    CHECK(r.verdict == nb::rule_verdict::not_fused);
    CHECK_FALSE(*r.obey);
  }
  SUBCASE("undetermined: the margin is inside the spread of the repeats") {
    const nb::rule_result r =
        nb::decide_rule(tc, basic(tc, {1.0, 1.2, 0.9}, {0.02, 0.02, 0.02}, {1.05, 1.1, 0.95}), cfg);
    CHECK(r.verdict == nb::rule_verdict::undetermined);
    CHECK_FALSE(r.obey.has_value());
    // ... decided by the backend's declaration, which is said.
    const nb::rule_result d = nb::decide_rule(
        tc, basic(tc, {1.0, 1.2, 0.9}, {0.02, 0.02, 0.02}, {1.05, 1.1, 0.95}), cfg, true);
    CHECK(d.verdict == nb::rule_verdict::undetermined);
    CHECK(*d.obey);
    CHECK(d.note.find("declaration") != std::string::npos);
  }
  SUBCASE("skipped when a model was not measured") {
    std::map<std::string, std::vector<double>> lat{{"conv", {1, 1}}, {"block", {1, 1}}};
    const nb::rule_result r = nb::decide_rule(tc, lat, cfg);
    CHECK(r.verdict == nb::rule_verdict::skipped);
    CHECK(r.note == "model 'relu' was not measured");
  }
  SUBCASE("no latency of 0, no uneven repeats, at least 2 repeats") {
    CHECK_THROWS_WITH_AS(nb::decide_rule(tc, basic(tc, {1, 0}, {1, 1}, {1, 1}), cfg),
                         doctest::Contains("has a latency of 0"), nnmeter::error);
    CHECK_THROWS_WITH_AS(nb::decide_rule(tc, basic(tc, {1, 1, 1}, {1, 1}, {1, 1}), cfg),
                         doctest::Contains("has 2 repeats, the others 3"), nnmeter::error);
    CHECK_THROWS_WITH_AS(nb::decide_rule(tc, basic(tc, {1}, {1}, {1}), cfg),
                         doctest::Contains("at least 2"), nnmeter::error);
  }
}

TEST_CASE("MON keeps its case and depends on BF_dwconv_relu") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"dwconv_relu"};
  const std::vector<nb::rule_testcase> cases = nb::make_rule_testcases(cfg);
  const nb::rule_testcase& mon = cases.back();
  REQUIRE(mon.mon);
  // Block = dwconv fused with its relu->relu branch: case2 (0.5 + 0.3 = 0.8) matches.
  std::map<std::string, std::vector<double>> lat{
      {"block", {0.80, 0.81, 0.80}},      {"relu_relu", {0.10, 0.10, 0.10}},
      {"relu_dwconv", {0.30, 0.30, 0.31}}, {"dwconv", {0.50, 0.50, 0.50}},
      {"dwconv_relu_relu", {0.50, 0.51, 0.50}}, {"dwconv_relu", {0.50, 0.50, 0.50}}};
  const nb::rule_result r = nb::decide_rule(mon, lat, cfg, std::nullopt, nb::rule_verdict::fused);
  CHECK(r.mon_case == "case2");
  CHECK(r.verdict == nb::rule_verdict::fused);
  const nb::rule_result s =
      nb::decide_rule(mon, lat, cfg, std::nullopt, nb::rule_verdict::not_fused);
  CHECK(s.verdict == nb::rule_verdict::skipped);
  CHECK_FALSE(*s.obey);
  const nb::rule_result t = nb::decide_rule(mon, lat, cfg);
  CHECK(t.note.find("was not tested") != std::string::npos);
}

TEST_CASE("detected_fusion_rule.json: nn-Meter's format, read back by the rule reader") {
  nb::rule_test_config cfg;
  cfg.basic_testcases = {"conv_relu", "conv_add"};
  cfg.other_testcases = {};
  cfg.detail = true;
  const std::vector<nb::rule_testcase> cases = nb::make_rule_testcases(cfg);
  std::vector<nb::rule_result> rs;
  rs.push_back(nb::decide_rule(cases[0], basic(cases[0], {1, 1}, {0.1, 0.11}, {1, 1.01}), cfg, true));
  rs.push_back(nb::decide_rule(cases[1], basic(cases[1], {1, 1}, {0.1, 0.1}, {1.1, 1.1}), cfg, false));
  const std::string text = nb::detected_rules_json(rs, cfg);
  const nnmeter::rule_set rules = nnmeter::io::read_fusion_rules(text, "detected");
  REQUIRE(rules.entries().size() == 2);
  CHECK(rules.entries()[0].name == "BF_conv_relu");
  CHECK(rules.entries()[0].obey == nnmeter::rule_obey::yes);
  CHECK(rules.entries()[1].obey == nnmeter::rule_obey::no);
  const nlohmann::json j = nlohmann::json::parse(text);
  CHECK(j["BF_conv_relu"]["verdict"] == "fused");
  CHECK(j["BF_conv_relu"]["agrees_with_declaration"] == true);
  CHECK(j["BF_conv_add"]["agrees_with_declaration"] == true);
  CHECK(j["BF_conv_relu"]["latency"]["block"].get<std::string>().find(" +- ") != std::string::npos);
  CHECK(j["BF_conv_relu"]["latency_unit"] == "ms");
}
