// Fusion-rule tables and rule sets.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <string>

namespace {
constexpr nnmeter::fusion_rule good[] = {{"BF_conv_bn", nnmeter::rule_obey::yes},
                                         {"BF_conv_bn_relu", nnmeter::rule_obey::yes},
                                         {"MON", nnmeter::rule_obey::unset}};
constexpr nnmeter::fusion_rule repeated[] = {{"BF_conv_bn", nnmeter::rule_obey::yes},
                                             {"BF_conv_bn", nnmeter::rule_obey::no}};
constexpr nnmeter::fusion_rule one_op[] = {{"BF_conv", nnmeter::rule_obey::yes}};
constexpr nnmeter::fusion_rule empty_op[] = {{"BF_conv__bn", nnmeter::rule_obey::yes}};
constexpr nnmeter::fusion_rule underscore_free[] = {{"conv_bn", nnmeter::rule_obey::yes}};
constexpr nnmeter::fusion_rule bad_char[] = {{"BF_conv_b.n", nnmeter::rule_obey::yes}};

// Rule tables are validated at compile time.
static_assert(nnmeter::valid_rules(good));
static_assert(nnmeter::valid_rules(nnmeter::tflite_cpu_rules));
static_assert(!nnmeter::valid_rules(repeated));
static_assert(!nnmeter::valid_rules(one_op));
static_assert(!nnmeter::valid_rules(empty_op));
static_assert(!nnmeter::valid_rules(underscore_free));
static_assert(!nnmeter::valid_rules(bad_char));
static_assert(nnmeter::valid_builtin_blocks());

constexpr nnmeter::pattern_node forward_ref[] = {{"conv", 1}, {"relu", 0}};
constexpr nnmeter::pattern_node only_dummy[] = {{"dummy"}};
constexpr nnmeter::pattern_node disconnected[] = {{"conv"}, {"relu"}};
constexpr nnmeter::pattern_node chain[] = {{"conv"}, {"bn", 0}, {"relu", 1}};
static_assert(!nnmeter::valid_pattern(forward_ref, 2));
static_assert(!nnmeter::valid_pattern(only_dummy, 1));
static_assert(!nnmeter::valid_pattern(disconnected, 2));
static_assert(nnmeter::valid_pattern(chain, 3));
}  // namespace

TEST_CASE("rule sets: pairs, chain units, built-in blocks, MON") {
  const auto rs = nnmeter::rule_set::from_rules(good);
  CHECK(rs.is_fusible("conv", "bn"));
  CHECK_FALSE(rs.is_fusible("bn", "conv"));
  CHECK(rs.mon() == 0);
  REQUIRE(rs.units().size() == 5);  // the conv-bn-relu chain, then se, hswish, channelshuffle, gap
  CHECK(rs.units()[0].type == "conv-bn-relu");
  CHECK(rs.units()[0].variants.at(0).vertices.size() == 3);
  CHECK(rs.units()[1].type == "se");
  CHECK(rs.units()[2].type == "hswish");
  CHECK(rs.units()[3].type == "channelshuffle");
  CHECK(rs.units()[4].type == "gap");

  const auto def = nnmeter::default_rules();
  CHECK(def.entries().size() == 85);
  CHECK(def.fusible_pairs().size() == 20);
  CHECK(def.units().size() == 6);  // conv-bn-relu, dwconv-bn-relu + 4 built-in
}

TEST_CASE("rule sets reject malformed names at run time, naming the source") {
  std::vector<nnmeter::rule_entry> e{{"BF_relu", nnmeter::rule_obey::yes, {}}};
  bool thrown = false;
  try {
    (void)nnmeter::rule_set::from_entries(e, "device_rules.json");
  } catch (const nnmeter::parse_error& ex) {
    const std::string msg = ex.what();
    thrown = msg.find("device_rules.json") != std::string::npos &&
             msg.find("BF_relu") != std::string::npos;
  }
  CHECK(thrown);
  std::vector<nnmeter::rule_entry> twice{{"MON", nnmeter::rule_obey::no, {}},
                                         {"MON", nnmeter::rule_obey::yes, {}}};
  CHECK_THROWS_AS((void)nnmeter::rule_set::from_entries(twice), nnmeter::parse_error);
}
