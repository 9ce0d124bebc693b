// nnmeter codegen's generator (tools/builder/package/codegen.hpp): the header's text, what it
// refuses, and the round trip package -> header -> compiled program -> the same predictions, bit
// for bit, with no file read at run time.
// SPDX-License-Identifier: MIT
#include <nnmeter/io/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "builder/package/codegen.hpp"
#include "support/read_file.hpp"
#include "support/compile_program.hpp"
#include "support/embedded_program.hpp"
#include "support/predictor_fixture.hpp"
#include "support/random_forest.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
namespace nb = nnmeter::builder;
using nnmeter_test::shell_quote;

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;
const std::string mobilenet = data_dir + "/mobilenetv3small_0.ir.json";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

using nnmeter_test::read_file;

std::string error_of(const nnmeter::predictor& p, const nb::codegen_options& o = {}) {
  try {
    (void)nb::generate_predictor_header(p, o);
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return "no error";
}

// A predictor of random forests over the kernels of MobileNetV3 (extended features): thresholds
// from the kernels' own feature values, so their walks take both branches; conv-bn-relu and
// dwconv-bn-relu predict per MFLOP and per MB; golden cases from the same kernels.
nnmeter::predictor random_predictor(std::size_t trees, int depth) {
  nnmeter::predictor_info info;
  info.name = "random cpu/1";  // not an identifier: the default namespace maps it
  info.version = "0.3";
  info.device = "a \"quoted\" device\twith a tab";
  info.backend = "none";
  info.features = nnmeter::feature_set::extended;
  nnmeter::predictor p(info, nnmeter::io::load_fusion_rules(data_dir + "/rule_tflite_cpu.json"));
  const nnmeter::detection d = nnmeter::detect(nnmeter::io::load_nnmeter_ir(mobilenet), p.rules());
  std::mt19937 rng(2024);
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    std::vector<nnmeter::feature_vector> rows;
    for (const nnmeter::kernel& kn : d.kernels)
      if (kn.kind == k) rows.push_back(nnmeter::features(kn, info.features));
    if (rows.empty() || rows.front().empty()) continue;
    const auto nf = static_cast<std::uint32_t>(rows.front().size());
    p.set_forest(k, nnmeter_test::random_forest(rng, trees, nf, depth, rows));
    // Two kinds predict per unit of work (package format 2): the predictor scales their output
    // by the kernel's MFLOPs or MB, golden cases included.
    const nnmeter::latency_target t =
        k == nnmeter::kernel_kind::conv_bn_relu     ? nnmeter::latency_target::ms_per_mflop
        : k == nnmeter::kernel_kind::dwconv_bn_relu ? nnmeter::latency_target::ms_per_mbyte
                                                    : nnmeter::latency_target::ms;
    p.set_target(k, t);
    std::vector<double> scales;
    for (const nnmeter::kernel& kn : d.kernels)
      if (kn.kind == k) scales.push_back(nnmeter::target_scale(t, kn.flops, kn.bytes));
    p.record_golden(k, rows, 3, scales);
  }
  return p;
}

// The predictor written as a package and loaded back: what `nnmeter codegen` starts from.
nnmeter::predictor through_package(const nnmeter::predictor& p, const std::string& dir) {
  nnmeter::io::write_predictor_package(p, dir);
  return nnmeter::io::load_predictor_package(dir);
}

// Generates the header of the package in `dir`, compiles the program, removes the package and
// runs the program on MobileNetV3: its report must be the loaded package's, line for line.
// Returns the number of kernels whose constexpr value was checked too.
std::size_t round_trip(const nnmeter_test::temp_dir& tmp, const std::string& dir,
                       const nb::codegen_options& o) {
  const nnmeter::predictor loaded = nnmeter::io::load_predictor_package(dir);
  const std::string header = tmp.file("embedded.hpp");
  nb::write_predictor_header(loaded, header, o);
  const std::string ns =
      o.cpp_namespace.empty() ? nb::default_codegen_namespace(loaded.info().name) : o.cpp_namespace;
  const nnmeter_test::command_result built =
      nnmeter_test::build_embedded_program(tmp.path(), header, ns);
  INFO(built.output);
  REQUIRE(built.status == 0);
  const std::vector<std::string> expected = nnmeter_test::expected_report(loaded, {mobilenet});
  fs::remove_all(dir);  // the program must not need the package
  const nnmeter_test::command_result run = nnmeter_test::run_command(
      shell_quote(tmp.file("embedded")) + " " + shell_quote(mobilenet), true);
  INFO(run.output);
  CHECK(run.status == 0);
  const nnmeter_test::report_check c = nnmeter_test::check_report(run.output, expected);
  CHECK(c.mismatch == "");
  return c.constexpr_kernels;
}

}  // namespace

TEST_CASE("codegen: namespaces and include guards") {
  CHECK(nb::default_codegen_namespace("xnnpack_cpu") == "nnmeter_devices::xnnpack_cpu");
  CHECK(nb::default_codegen_namespace("cortexA76cpu_tflite21") ==
        "nnmeter_devices::cortexA76cpu_tflite21");
  CHECK(nb::default_codegen_namespace("my cpu--v2") == "nnmeter_devices::my_cpu_v2");
  CHECK(nb::default_codegen_namespace("2080ti") == "nnmeter_devices::p_2080ti");
  CHECK(nb::default_codegen_namespace("_Gpu") == "nnmeter_devices::p_Gpu");
  CHECK(nb::default_codegen_namespace("int") == "nnmeter_devices::int_");
  CHECK(nb::default_codegen_namespace("") == "nnmeter_devices::predictor");
  CHECK(nb::default_codegen_namespace("---") == "nnmeter_devices::predictor");

  CHECK(nb::codegen_namespace_problem("a::b_2::c") == "");
  CHECK(nb::codegen_namespace_problem("") == "the namespace is empty");
  CHECK(nb::codegen_namespace_problem("a::") == "namespace 'a::': an empty name");
  CHECK(nb::codegen_namespace_problem("::a") == "namespace '::a': an empty name");
  CHECK(nb::codegen_namespace_problem("a::2b") ==
        "namespace 'a::2b': '2b' does not start with a "
        "letter or '_'");
  CHECK(nb::codegen_namespace_problem("my-ns") ==
        "namespace 'my-ns': 'my-ns' holds a character other than letters, digits and '_'");
  CHECK(contains(nb::codegen_namespace_problem("a__b"), "reserved"));
  CHECK(contains(nb::codegen_namespace_problem("_Cap"), "reserved"));
  CHECK(nb::codegen_namespace_problem("x::class") ==
        "namespace 'x::class': 'class' is a C++ keyword");
  CHECK(contains(nb::codegen_namespace_problem("std::devices"), "standard library"));
  CHECK(nb::codegen_namespace_problem("devices::std") == "");  // only a top-level std is reserved

  CHECK(nb::codegen_guard_problem("MY_PREDICTOR_HPP") == "");
  CHECK(contains(nb::codegen_guard_problem("_MY_HPP"), "reserved"));
  CHECK(contains(nb::codegen_guard_problem("MY-HPP"), "include guard 'MY-HPP'"));
}

TEST_CASE("codegen: the header's text") {
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  nb::codegen_options o;
  o.source = "package unit";
  const std::string h = nb::generate_predictor_header(p, o);
  CHECK(h == nb::generate_predictor_header(p, o));  // deterministic
  CHECK(h.rfind("// GENERATED by `nnmeter codegen` -- do not edit", 0) == 0);
  CHECK(contains(h, "// predictor:      \"unit_cpu\", version \"1.2\"\n"));
  CHECK(contains(h, "// source:         package unit\n"));
  CHECK(contains(h, "// namespace:      nnmeter_devices::unit_cpu\n"));
  CHECK(contains(h, "#pragma once\n"));
  CHECK(contains(h, "\n#include <nnmeter.hpp>\n"));
  CHECK(contains(
      h, "static_assert(NNMETER_PREDICTOR_FORMAT == " + std::to_string(NNMETER_PREDICTOR_FORMAT)));
  CHECK(contains(h, "namespace nnmeter_devices::unit_cpu {\n"));
  // The manifest, with exact lengths and escaped text.
  CHECK(contains(h, "    {\"unit_cpu\", 8},\n    {\"1.2\", 3},\n"));
  CHECK(contains(h, "{\"{\\\"threads\\\":1,\\\"statistic\\\":\\\"min\\\"}\", 31}"));
  CHECK(contains(h, "nnmeter::feature_set::nnmeter,"));
  // Every rule of the package, in its order, with its outcome.
  const std::vector<nnmeter::rule_entry>& rules = p.rules().entries();
  CHECK(contains(
      h, "inline constexpr std::size_t fusion_rule_count = " + std::to_string(rules.size()) + ";"));
  std::size_t at = 0;
  for (const nnmeter::rule_entry& r : rules) {
    const std::string obey = r.obey == nnmeter::rule_obey::yes  ? "yes"
                             : r.obey == nnmeter::rule_obey::no ? "no"
                                                                : "unset";
    const std::string line = "    {{\"" + r.name + "\", " + std::to_string(r.name.size()) +
                             "}, nnmeter::rule_obey::" + obey + "},\n";
    const std::size_t found = h.find(line, at);
    CHECK_MESSAGE(found != std::string::npos, line);
    at = found == std::string::npos ? at : found;
  }
  // Forest tables with exact literals: the stumps' 50, 2, 5, 100, 0.25, 0.5 and base 0.125.
  CHECK(contains(h, "namespace tables::conv_bn_relu {\n"));
  CHECK(contains(h,
                 "inline constexpr float split_value[] = {\n    50.0f,2.0f,5.0f,100.0f,0.25f,"
                 "0.5f};"));
  CHECK(contains(h, "/*base_score=*/0.125f};"));
  CHECK(contains(h, "case nnmeter::kernel_kind::conv_bn_relu: return &conv_bn_relu_forest;"));
  CHECK(contains(h, "constexpr std::optional<double> kernel_latency_ms("));
  CHECK(contains(h, "inline nnmeter::predictor make_predictor() {"));
  CHECK(!contains(h, "namespace blobs"));  // 42 nodes: all constexpr
  CHECK(contains(h, "// nodes:          42 in all, 0 of them in blobs"));
  // Two static_asserts per kind with golden cases (conv, dwconv, fc), at most: the first two.
  std::size_t expected_asserts = 0;
  for (nnmeter::kernel_kind k : {nnmeter::kernel_kind::conv_bn_relu,
                                 nnmeter::kernel_kind::dwconv_bn_relu, nnmeter::kernel_kind::fc}) {
    std::size_t n = 0;
    for (const nnmeter::golden_case& c : p.golden()) n += c.kind == k ? 1 : 0;
    expected_asserts += n < 2 ? n : 2;
  }
  std::size_t asserts = 0;
  const std::string golden_assert =
      "static_assert(static_cast<float>(static_cast<double>(nnmeter::evaluate(";
  for (std::size_t i = h.find(golden_assert); i != std::string::npos;
       i = h.find(golden_assert, i + 1))
    ++asserts;
  CHECK(asserts == expected_asserts);
  CHECK(contains(h, "// golden cases:   " + std::to_string(p.golden().size()) + " (" +
                        std::to_string(expected_asserts) + " checked by static_assert;"));

  // A source with a line break cannot end the comment it is in.
  o.source = "package x\n#error injected";
  CHECK(contains(nb::generate_predictor_header(p, o), "// source:         package x\\012#error"));

  o.include_guard = "UNIT_CPU_HPP";
  o.cpp_namespace = "my::devices";
  o.static_assert_cases = 0;
  const std::string g = nb::generate_predictor_header(p, o);
  CHECK(contains(g, "#ifndef UNIT_CPU_HPP\n#define UNIT_CPU_HPP\n"));
  CHECK(g.substr(g.size() - 25) == "\n#endif  // UNIT_CPU_HPP\n");
  CHECK(!contains(g, "#pragma once"));
  CHECK(contains(g, "namespace my::devices {\n"));
  CHECK(!contains(g, "static_assert(static_cast<float>"));
}

TEST_CASE("codegen: literals are exact for every float") {
  // Values whose shortest decimal is not exact: the header must spell each one exactly.
  nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  nnmeter::forest f = nnmeter_test::two_stumps(7, 0, 0.1f, 1e-30f, 3.4e38f);
  f.split_value[4] = std::numeric_limits<float>::denorm_min();
  f.split_value[5] = -0.0f;
  f.base_score = 1.0f / 3.0f;
  p.set_forest(nnmeter::kernel_kind::conv_bn_relu, f);
  // Golden cases recorded anew for the changed forest.
  nnmeter::predictor q(p.info(), p.rules());
  q.set_forest(nnmeter::kernel_kind::conv_bn_relu, f);
  q.record_golden(nnmeter::kernel_kind::conv_bn_relu,
                  {nnmeter::feature_vector{0.05, 1, 1, 1, 1, 1, 1},
                   nnmeter::feature_vector{0.15, 1, 1, 1, 1, 1, 1}});
  const std::string h = nb::generate_predictor_header(q);
  CHECK(contains(h, "0x1.99999ap-4f"));    // 0.1f
  CHECK(contains(h, "0x1.4484cp-100f"));   // 1e-30f
  CHECK(contains(h, "0x1.ff933cp+127f"));  // 3.4e38f
  CHECK(contains(h, "0x1p-149f"));         // the smallest denormal
  CHECK(contains(h, "-0.0f"));             // negative zero keeps its sign
  CHECK(contains(h, "/*base_score=*/0x1.555556p-2f}"));
  CHECK(contains(h, "0.05") == false);         // 0.05 as a double is not exact in decimal...
  CHECK(contains(h, "0x1.999999999999ap-5"));  // ...so it is written in hexadecimal
}

TEST_CASE("codegen: refuses what it cannot embed, saying why") {
  const nnmeter::predictor good = nnmeter_test::make_fixture_predictor();

  nnmeter::predictor_info unnamed = good.info();
  unnamed.name.clear();
  CHECK(error_of(nnmeter::predictor(unnamed, good.rules())) ==
        "codegen: the predictor has no name");

  nnmeter::predictor no_golden(good.info(), good.rules());
  no_golden.set_forest(nnmeter::kernel_kind::fc, nnmeter_test::two_stumps(4, 1, 40, 0.5f, 0.75f));
  CHECK(error_of(no_golden) ==
        "codegen of predictor 'unit_cpu': the predictor has no golden cases (a generated header "
        "checks its forests against them)");

  nnmeter::predictor wrong = no_golden;
  wrong.add_golden({nnmeter::kernel_kind::fc, nnmeter::feature_vector{1, 2, 3, 4}, 0.5});
  CHECK(contains(error_of(wrong),
                 "codegen of predictor 'unit_cpu': verify() fails: golden case 0 "
                 "(fc): predicts"));

  nnmeter::predictor nan_feature = no_golden;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  nan_feature.record_golden(nnmeter::kernel_kind::fc, {nnmeter::feature_vector{nan, 2, 3, 4}});
  CHECK(error_of(nan_feature) ==
        "codegen of predictor 'unit_cpu': golden case 0: feature 0 is not finite");

  nb::codegen_options o;
  o.cpp_namespace = "std::cpu";
  CHECK(contains(error_of(good, o), "codegen of predictor 'unit_cpu': namespace 'std::cpu'"));
  o.cpp_namespace.clear();
  o.include_guard = "__GUARD";
  CHECK(contains(error_of(good, o), "codegen of predictor 'unit_cpu': include guard '__GUARD'"));
}

TEST_CASE("codegen: write_predictor_header writes atomically and names the file on failure") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_write");
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  const std::string nested = tmp.file("a/b/unit.hpp");
  nb::write_predictor_header(p, nested);  // creates the folders
  CHECK(read_file(nested) == nb::generate_predictor_header(p));
  for (const auto& e : fs::directory_iterator(tmp.file("a/b")))
    CHECK(e.path().filename() == "unit.hpp");  // no temporary file left

  const std::string blocker = tmp.write("file", "not a folder");
  try {
    nb::write_predictor_header(p, blocker + "/unit.hpp");
    FAIL("no error");
  } catch (const nnmeter::error& e) {
    CHECK(contains(e.what(), blocker + "/unit.hpp: cannot create its folder"));
  }
  try {
    nb::write_predictor_header(p, tmp.file("a"));
    FAIL("no error");
  } catch (const nnmeter::error& e) {
    CHECK(std::string(e.what()) == tmp.file("a") + ": is a directory, not a file");
  }
  // A failed generation leaves an existing header as it was.
  const std::string old = tmp.write("old.hpp", "// previous\n");
  nnmeter::predictor bad(p.info(), p.rules());
  CHECK_THROWS_AS(nb::write_predictor_header(bad, old), nnmeter::error);
  CHECK(read_file(old) == "// previous\n");
}

TEST_CASE("codegen: round trip of a package, constexpr tables (fixture predictor)") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_fixture");
  const std::string dir = tmp.file("pkg");
  nnmeter::io::write_predictor_package(nnmeter_test::make_fixture_predictor(), dir);
  nb::codegen_options o;
  o.cpp_namespace = "fixture::cpu";
  CHECK(round_trip(tmp, dir, o) > 20);  // MobileNetV3's conv, dwconv, fc, ... kernels
}

TEST_CASE("codegen: an embedded predictor falls back exactly as the loaded package") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_fallback");
  const std::string dir = tmp.file("pkg");
  nnmeter::io::write_predictor_package(nnmeter_test::make_fallback_fixture_predictor(), dir);
  const nnmeter::predictor loaded = nnmeter::io::load_predictor_package(dir);
  REQUIRE(loaded.has_fallback());
  // MobileNetV3 has fallback kernels under this predictor (gap, hswish, se, add).
  const nnmeter::prediction r = loaded.predict(nnmeter::io::load_nnmeter_ir(mobilenet));
  CHECK(r.fallback > 10);
  CHECK(r.unpredicted == 0);
  const std::string text = nb::generate_predictor_header(loaded);
  CHECK(text.find("inline constexpr fallback_row fallback_models[] = {") != std::string::npos);
  CHECK(text.find("{nnmeter::kernel_family::data_movement, {0.0, 0.0, 0x1.999999999999ap-7}},") !=
        std::string::npos);
  CHECK(text.find("constexpr std::optional<double> fallback_latency_ms(") != std::string::npos);
  CHECK(text.find("p.set_fallback(r.family, r.coefficients);") != std::string::npos);
  // Without fallback models the header says nothing about them.
  const std::string plain = nb::generate_predictor_header(nnmeter_test::make_fixture_predictor());
  CHECK(plain.find("fallback") == std::string::npos);
  nb::codegen_options o;
  o.cpp_namespace = "fixture::fb";
  CHECK(round_trip(tmp, dir, o) > 10);  // conv, dwconv, fc: constexpr
}

TEST_CASE("codegen: an embedded predictor applies the package's context factor exactly") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_context");
  const std::string dir = tmp.file("pkg");
  nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  p.set_context_scale(1.0 + 1.0 / 7.0);
  nnmeter::io::write_predictor_package(p, dir);
  const nnmeter::predictor loaded = nnmeter::io::load_predictor_package(dir);
  REQUIRE(loaded.context_scale() == p.context_scale());
  const std::string text = nb::generate_predictor_header(loaded);
  CHECK(text.find("  p.set_context_scale(0x1.2492492492492p+0);") != std::string::npos);
  // Without a factor the header says nothing about it.
  CHECK(nb::generate_predictor_header(nnmeter_test::make_fixture_predictor())
            .find("set_context_scale") == std::string::npos);
  nb::codegen_options o;
  o.cpp_namespace = "fixture::ctx";
  CHECK(round_trip(tmp, dir, o) > 10);  // every kernel's latency, bit for bit
}

TEST_CASE("codegen: an embedded predictor applies the package's kind scales exactly") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_kind_scales");
  const std::string dir = tmp.file("pkg");
  nnmeter::predictor p = nnmeter_test::make_fallback_fixture_predictor();
  p.set_context_scale(1.0 + 1.0 / 7.0);
  // A kind with a forest and one that falls back (hswish, in this predictor).
  p.set_kind_scale(nnmeter::kernel_kind::conv_bn_relu, 1.0 / 3.0);
  p.set_kind_scale(nnmeter::kernel_kind::hswish, 1.1);
  nnmeter::io::write_predictor_package(p, dir);
  const nnmeter::predictor loaded = nnmeter::io::load_predictor_package(dir);
  REQUIRE(loaded.has_kind_scales());
  const std::string text = nb::generate_predictor_header(loaded);
  CHECK(contains(text, "constexpr double latency_factor(nnmeter::kernel_kind k) noexcept {"));
  CHECK(contains(text, "  p.set_kind_scale(nnmeter::kernel_kind::conv_bn_relu, "
                       "0x1.5555555555555p-2);"));
  // Without kind scales the header has no latency_factor.
  CHECK_FALSE(contains(nb::generate_predictor_header(nnmeter_test::make_fixture_predictor()),
                       "latency_factor"));
  nb::codegen_options o;
  o.cpp_namespace = "fixture::kinds";
  CHECK(round_trip(tmp, dir, o) > 10);  // every kernel's latency, bit for bit
}

TEST_CASE("codegen: round trip of large random forests, constexpr tables and blobs") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_random");
  const std::string dir = tmp.file("pkg");
  const nnmeter::predictor p = through_package(random_predictor(48, 9), dir);
  // The smaller half of the forests in constexpr tables, the others in blobs.
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i)
    if (const auto f = p.forest_for(static_cast<nnmeter::kernel_kind>(i)))
      sizes.push_back(f->num_nodes);
  std::sort(sizes.begin(), sizes.end());
  REQUIRE(sizes.size() >= 4);
  nb::codegen_options o;
  o.constexpr_node_budget = 0;
  for (std::size_t i = 0; i < sizes.size() / 2; ++i) o.constexpr_node_budget += sizes[i];
  const std::string h = nb::generate_predictor_header(p, o);
  CHECK(contains(h, "namespace blobs {"));
  CHECK(contains(h, "namespace tables::"));
  CHECK(contains(h, "nnmeter_devices::random_cpu_1"));
  CHECK(contains(h,
                 "case nnmeter::kernel_kind::conv_bn_relu: return "
                 "nnmeter::latency_target::ms_per_mflop;"));
  CHECK(contains(h,
                 "p.set_target(nnmeter::kernel_kind::dwconv_bn_relu, "
                 "nnmeter::latency_target::ms_per_mbyte);"));
  CHECK(contains(h, "{\"a \\\"quoted\\\" device\\011with a tab\", 28}"));
  CHECK(round_trip(tmp, tmp.file("pkg"), o) > 0);
}

TEST_CASE("codegen: every forest in a blob") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_blobs");
  const std::string dir = tmp.file("pkg");
  (void)through_package(random_predictor(16, 6), dir);
  nb::codegen_options o;
  o.constexpr_node_budget = 0;
  CHECK(round_trip(tmp, dir, o) == 0);  // no constexpr forest: kernel_latency_ms is empty
}

TEST_CASE("codegen: the header compiles warning-free with g++ and clang++, C++17 and C++20") {
  const nnmeter_test::temp_dir tmp("nnmeter_codegen_matrix");
  nnmeter::predictor p = random_predictor(12, 6);
  // Fallback models too: fallback_latency_ms in a static_assert.
  const nnmeter::fallback_coefficients compute{1.0 / 3.0, 0.01, 0.2};
  p.set_fallback(nnmeter::kernel_family::compute, compute);
  p.set_fallback(nnmeter::kernel_family::data_movement, {0.001, 0.0, 0.05});
  nb::codegen_options o;
  o.cpp_namespace = "matrix";
  // conv-bn-relu in constexpr tables (the budget takes the smallest forests first), the larger
  // kinds in blobs.
  const std::size_t conv_nodes = p.forest_for(nnmeter::kernel_kind::conv_bn_relu)->num_nodes;
  o.constexpr_node_budget = 0;
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i)
    if (const auto f = p.forest_for(static_cast<nnmeter::kernel_kind>(i));
        f && f->num_nodes <= conv_nodes)
      o.constexpr_node_budget += f->num_nodes;
  nb::write_predictor_header(p, tmp.file("matrix.hpp"), o);
  // A kernel latency in a static_assert: MobileNetV3's first conv-bn-relu kernel, whose forest
  // predicts per MFLOP, through kernel_latency_ms with its features and work; without the work
  // it has no latency, and a kind without a model has none either.
  const nnmeter::prediction pred = p.predict(nnmeter::io::load_nnmeter_ir(mobilenet));
  std::size_t first_conv = pred.kernels.size();
  for (std::size_t i = pred.kernels.size(); i-- > 0;)
    if (pred.detected.kernels[i].kind == nnmeter::kernel_kind::conv_bn_relu) first_conv = i;
  REQUIRE(first_conv < pred.kernels.size());
  const nnmeter::kernel& k = pred.detected.kernels[first_conv];
  std::string fv;
  for (double x : nnmeter::features(k, p.info().features))
    fv += (fv.empty() ? "" : ", ") + nnmeter_test::hex(x);
  const std::string src = tmp.write(
      "use.cpp",
      "#include \"matrix.hpp\"\n"
      "constexpr nnmeter::feature_vector conv{" +
          fv +
          "};\n"
          "static_assert(matrix::kernel_latency_ms(nnmeter::kernel_kind::conv_bn_relu, conv, " +
          nnmeter_test::hex(k.flops) + ", " + nnmeter_test::hex(k.bytes) +
          ") == " + nnmeter_test::hex(pred.kernels[first_conv].latency_ms) +
          ", \"embedded latency\");\n"
          "static_assert(!matrix::kernel_latency_ms(nnmeter::kernel_kind::conv_bn_relu, "
          "conv), \"no work given\");\n"
          "static_assert(!matrix::kernel_latency_ms(nnmeter::kernel_kind::other, conv), "
          "\"no model\");\n"
          "static_assert(*matrix::fallback_latency_ms(nnmeter::kernel_kind::matmul, 3e6, 2e6) == " +
          nnmeter_test::hex(*nnmeter::fallback_estimate(compute, 3e6, 2e6)) +
          ", \"fallback\");\n"
          "static_assert(!matrix::fallback_latency_ms(nnmeter::kernel_kind::maxpool, 3e6, 2e6), "
          "\"no pooling model\");\n"
          "int main() { return matrix::make_predictor().verify().ok() ? 0 : 1; }\n");
  const std::vector<nnmeter_test::cxx_compiler> matrix = nnmeter_test::compiler_matrix();
  REQUIRE(!matrix.empty());
  for (const nnmeter_test::cxx_compiler& c : matrix) {
    const nnmeter_test::command_result r =
        nnmeter_test::compile(c, {},
                              "-O1 " + nnmeter_test::strict_warnings() + " -c " + shell_quote(src) +
                                  " -o " + shell_quote(tmp.file("use.o")));
    INFO(c.label() << "\n" << r.output);
    CHECK(r.status == 0);
    CHECK(r.output == "");
  }
}
