// Conformance with nn-Meter: the kernels of nn-Meter's mobilenetv3small_0 IR under its TFLite
// CPU rules must equal, in order, those nn-Meter's own detector finds (tests/data, MIT).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "support/run_command.hpp"

#include <set>
#include <string>
#include <vector>

namespace {

using json = nlohmann::ordered_json;

const std::string data_dir = NNMETER_TEST_DATA_DIR;
const std::string ir_path = data_dir + "/mobilenetv3small_0.ir.json";
const std::string rules_path = data_dir + "/rule_tflite_cpu.json";
const std::string expected_path = data_dir + "/mobilenetv3small_0.kernels.json";

json load_expected() {
  return json::parse(nnmeter::io::detail::read_file(expected_path));
}

// Compares one kernel record of ours (as JSON) with nn-Meter's, field by field.
void check_kernel(const json& ours, const json& theirs) {
  INFO("kernel " << theirs["name"].get<std::string>());
  CHECK(ours["op"] == theirs["op"]);
  CHECK(ours["name"] == theirs["name"]);
  CHECK(ours["kind"] == theirs["cpu_predictor"]);
  CHECK(ours["input_tensors"] == theirs["input_tensors"]);
  for (const char* key : {"ks", "strides", "inputh", "inputw", "cin", "cout", "split_dim",
                          "output_tensors"}) {
    INFO("field " << key);
    CHECK(ours.contains(key) == theirs.contains(key));
    if (ours.contains(key) && theirs.contains(key)) CHECK(ours[key] == theirs[key]);
  }
  CHECK(ours["inbounds"] == theirs["inbounds"]);
  CHECK(ours["outbounds"] == theirs["outbounds"]);
  const json& f = ours["features"]["nnmeter"];
  const json& e = theirs["nnmeter_features"];
  REQUIRE(f.is_array());
  REQUIRE(f.size() == e.size());
  for (std::size_t i = 0; i < e.size(); ++i) {
    INFO("feature " << i);
    // Same operations in the same order as nn-Meter's Python: bit-identical doubles.
    CHECK(f[i].get<double>() == e[i].get<double>());
  }
}

}  // namespace

TEST_CASE("library: mobilenetv3small_0 kernels equal nn-Meter's") {
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(ir_path);
  CHECK(g.num_nodes() == 302);
  const nnmeter::rule_set rules = nnmeter::io::load_fusion_rules(rules_path);
  const nnmeter::detection d = nnmeter::detect(g, rules);
  const json expected = load_expected();
  const json& ek = expected["kernels"];
  REQUIRE(d.kernels.size() == 60);
  REQUIRE(ek.size() == 60);
  for (std::size_t i = 0; i < d.kernels.size(); ++i) {
    const json ours = nnmeter::io::kernel_to_json(d.kernels[i], d.kernels,
                                                  [&](nnmeter::node_index n) { return g.name(n); });
    check_kernel(ours, ek[i]);
  }
  // The built-in default rules are the same table as the file.
  const nnmeter::detection d2 = nnmeter::detect(g, nnmeter::default_rules());
  REQUIRE(d2.kernels.size() == d.kernels.size());
  for (std::size_t i = 0; i < d.kernels.size(); ++i) CHECK(d2.kernels[i].name == d.kernels[i].name);
}

TEST_CASE("library: every node of mobilenetv3small_0 is accounted for exactly once") {
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(ir_path);
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  std::vector<int> seen(g.num_nodes(), 0);
  for (const auto& k : d.kernels)
    for (auto n : k.nodes) ++seen[n];
  for (auto n : d.free_nodes) {
    ++seen[n];
    CHECK(nnmeter::is_dummy(g.op(n)));
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO("node " << g.name(static_cast<nnmeter::node_index>(i)));
    CHECK(seen[i] == 1);
  }
  CHECK(d.free_nodes.size() == 55);  // 54 constants + 1 input
  CHECK(d.groups == 115);            // 55 free groups + 60 kernels, as nn-Meter numbers them
}

TEST_CASE("cli: nnmeter kernels --json reproduces nn-Meter's 60 kernels") {
  const std::string cmd = nnmeter_test::shell_quote(NNMETER_CLI_PATH) + " kernels --nnmeter-ir " +
                          nnmeter_test::shell_quote(ir_path) + " --rules " +
                          nnmeter_test::shell_quote(rules_path) + " --json";
  const nnmeter_test::command_result r = nnmeter_test::run_command(cmd);
  REQUIRE(r.status == 0);
  const json out = json::parse(r.output);
  const json expected = load_expected();
  const json& ours = out["kernels"];
  const json& ek = expected["kernels"];
  REQUIRE(ours.size() == 60);
  for (std::size_t i = 0; i < ek.size(); ++i) check_kernel(ours[i], ek[i]);
  // Type histogram as nn-Meter reports it.
  for (auto it = expected["kernel_type_counts"].begin(); it != expected["kernel_type_counts"].end();
       ++it) {
    int n = 0;
    for (const json& k : ours) n += k["op"] == it.key();
    INFO("type " << it.key());
    CHECK(n == it.value().get<int>());
  }
  CHECK(out["accounting"]["nodes"] == 302);
  CHECK(out["accounting"]["in_kernels"].get<int>() + out["accounting"]["free"].get<int>() == 302);
}
