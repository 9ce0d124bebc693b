// Tests for tools/builder/sampler/kernel_config.hpp: configurations and their keys, the kernel
// graph of every kind, and the feature function shared with the predictor.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "builder/sampler/sampler.hpp"

namespace nb = nnmeter::builder;
using nnmeter::kernel_kind;

namespace {

std::string name(kernel_kind k) { return std::string(nnmeter::to_string(k)); }

nb::kernel_config cfg(kernel_kind k, std::map<std::string, std::int64_t> p) {
  nb::kernel_config c;
  c.kind = k;
  c.params = std::move(p);
  return c;
}

// A small valid configuration of every buildable kind.
nb::kernel_config example(kernel_kind k) {
  switch (k) {
    case kernel_kind::conv_bn_relu:
      return cfg(k, {{"HW", 28}, {"CIN", 16}, {"COUT", 32}, {"KERNEL_SIZE", 3}, {"STRIDES", 2}});
    case kernel_kind::dwconv_bn_relu:
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      return cfg(k, {{"HW", 28}, {"CIN", 16}, {"KERNEL_SIZE", 3}, {"STRIDES", 2}});
    case kernel_kind::fc:
      return cfg(k, {{"CIN", 64}, {"COUT", 10}});
    case kernel_kind::concat:
      return cfg(k, {{"HW", 14}, {"CIN1", 8}, {"CIN2", 16}, {"CIN3", 4}, {"CIN4", 0}});
    case kernel_kind::mul:
      return cfg(k, {{"HW", 14}, {"CIN", 16}, {"BROADCAST", 1}});
    case kernel_kind::pad:
      return cfg(k, {{"HW", 14}, {"CIN", 16}, {"PAD", 1}});
    case kernel_kind::resize:
      return cfg(k, {{"HW", 14}, {"CIN", 16}, {"SCALE", 2}});
    case kernel_kind::matmul:
      return cfg(k, {{"M", 49}, {"CIN", 16}, {"COUT", 24}});
    default:
      return cfg(k, {{"HW", 14}, {"CIN", 16}});
  }
}

std::string error_of(const nb::kernel_config& c) {
  try {
    nb::validate(c);
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return {};
}

// A forest that returns 1 + the number of features of x that differ (as float) from
// `target`: base score 1 (a latency must be positive to be predicted), tree i is
// "x[i] < t ? 1 : (x[i] < next(t) ? 0 : 1)".
nnmeter::forest mismatch_counter(const nnmeter::feature_vector& target) {
  nnmeter::forest f;
  f.num_features = static_cast<std::uint32_t>(target.size());
  f.base_score = 1.0f;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const auto base = static_cast<std::int32_t>(f.left.size());
    const auto t = static_cast<float>(target[i]);
    const float next = std::nextafter(t, INFINITY);
    f.tree_roots.push_back(static_cast<std::uint32_t>(base));
    const auto fi = static_cast<std::uint32_t>(i);
    f.left.insert(f.left.end(), {base + 1, -1, base + 3, -1, -1});
    f.feature.insert(f.feature.end(), {fi, 0, fi, 0, 0});
    f.split_value.insert(f.split_value.end(), {t, 1.0f, next, 0.0f, 1.0f});
    f.default_left.insert(f.default_left.end(), {0, 0, 0, 0, 0});
  }
  f.validate();
  return f;
}

// What nnmeter::predictor makes of `g`: the number of features differing from `target`, or
// -1 when the predictor did not predict (wrong length, no features).
double predictor_mismatches(const nnmeter::graph& g, const nnmeter::rule_set& rules,
                            kernel_kind kind, nnmeter::feature_set set,
                            const nnmeter::feature_vector& target) {
  nnmeter::predictor_info info;
  info.features = set;
  nnmeter::predictor p(info, rules);
  p.set_forest(kind, mismatch_counter(target));
  const nnmeter::prediction r = p.predict(g);
  REQUIRE(r.kernels.size() == 1);
  if (r.kernels[0].status != nnmeter::kernel_status::predicted) return -1;
  return r.kernels[0].latency_ms - 1.0;
}

}  // namespace

TEST_CASE("kernel_config: the key is canonical JSON, sorted, and reads back") {
  const nb::kernel_config c = example(kernel_kind::conv_bn_relu);
  CHECK(c.key() == R"({"CIN":16,"COUT":32,"HW":28,"KERNEL_SIZE":3,"STRIDES":2})");
  nlohmann::json j;
  for (const auto& [k, v] : c.params) j[k] = v;
  CHECK(c.key() == j.dump());  // what builder::canonical_json gives for the same object
  for (kernel_kind k : nb::buildable_kinds()) {
    const nb::kernel_config e = example(k);
    CAPTURE(name(k));
    CHECK(nb::parse_kernel_config(k, e.key()) == e);
  }
  CHECK(c.describe() == "conv-bn-relu " + c.key());
  CHECK_THROWS_WITH_AS((void)nb::parse_kernel_config(kernel_kind::fc, "{\"CIN\":1,", "store"),
                       doctest::Contains("store: kernel configuration"), nnmeter::parse_error);
  CHECK_THROWS_WITH_AS((void)nb::parse_kernel_config(kernel_kind::fc, R"({"CIN":1.5,"COUT":2})"),
                       doctest::Contains("key 'CIN' is not an integer"), nnmeter::parse_error);
  CHECK_THROWS_WITH_AS((void)nb::parse_kernel_config(kernel_kind::fc, "[1]"),
                       doctest::Contains("is not a JSON object"), nnmeter::parse_error);
}

TEST_CASE("kernel_config: validate names the parameter") {
  CHECK(error_of(example(kernel_kind::conv_bn_relu)).empty());
  nb::kernel_config c = example(kernel_kind::conv_bn_relu);
  c.params.erase("COUT");
  CHECK(error_of(c).find("parameter 'COUT' is missing") != std::string::npos);
  c = example(kernel_kind::fc);
  c.params["HW"] = 7;
  CHECK(error_of(c).find("unknown parameter 'HW' (a fc has CIN, COUT)") != std::string::npos);
  c = example(kernel_kind::conv_bn_relu);
  c.params["KERNEL_SIZE"] = 0;
  CHECK(error_of(c).find("'KERNEL_SIZE' = 0 is outside [1, 15]") != std::string::npos);
  c = example(kernel_kind::relu);
  c.params["CIN"] = -3;
  CHECK(error_of(c).find("kernel configuration relu") != std::string::npos);
  CHECK(error_of(c).find("'CIN' = -3") != std::string::npos);
  c = example(kernel_kind::split);
  c.params["CIN"] = 15;
  CHECK(error_of(c).find("CIN = 15 must be even") != std::string::npos);
  c = example(kernel_kind::concat);
  c.params["CIN3"] = 0;
  c.params["CIN4"] = 5;
  CHECK(error_of(c).find("CIN4 is set but CIN3 is 0") != std::string::npos);
  c = example(kernel_kind::concat);
  c.params["CIN2"] = 0;
  CHECK(error_of(c).find("'CIN2' = 0") != std::string::npos);
  c = example(kernel_kind::mul);
  c.params["BROADCAST"] = 2;
  CHECK(error_of(c).find("'BROADCAST' = 2") != std::string::npos);
  CHECK_THROWS_AS((void)nb::config_parameters(kernel_kind::quantize), nnmeter::unsupported_error);
  CHECK_THROWS_AS((void)nb::config_parameters(kernel_kind::other), nnmeter::unsupported_error);
  CHECK_THROWS_AS((void)nb::kernel_graph(cfg(kernel_kind::dequantize, {{"HW", 1}})),
                  nnmeter::unsupported_error);
  CHECK_THROWS_WITH_AS((void)example(kernel_kind::fc).at("HW"),
                       doctest::Contains("parameter 'HW' is missing"), nnmeter::error);
}

TEST_CASE("kernel_graph: every buildable kind detects as exactly one kernel of its kind") {
  CHECK(nb::buildable_kinds().size() == 24);
  for (kernel_kind k : nb::buildable_kinds()) {
    CAPTURE(name(k));
    const nnmeter::graph g = nb::kernel_graph(example(k));
    const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
    REQUIRE(d.kernels.size() == 1);
    CHECK(d.kernels[0].kind == k);
    // Every node is the kernel's or an input.
    CHECK(d.kernels[0].nodes.size() + d.free_nodes.size() == g.num_nodes());
    for (nnmeter::node_index n : d.free_nodes) CHECK(g[n].op == nnmeter::op_kind::input);
    const nb::kernel_block b = nb::kernel_block_for(example(k), nnmeter::default_rules());
    CHECK(b.block == name(k));  // nn-Meter's rules run the full block
    CHECK(b.graph.num_nodes() == g.num_nodes());
  }
  // The blocks have the shapes of their configuration.
  const nnmeter::graph conv = nb::kernel_graph(example(kernel_kind::conv_bn_relu));
  const nnmeter::kernel k = nnmeter::detect(conv, nnmeter::default_rules()).kernels[0];
  CHECK(k.op == "conv-bn-relu");
  CHECK(k.input_tensors[0] == nnmeter::tensor_shape{1, 28, 28, 16});
  CHECK(k.output_tensors[0] == nnmeter::tensor_shape{1, 14, 14, 32});  // SAME, stride 2
  const nnmeter::kernel cat =
      nnmeter::detect(nb::kernel_graph(example(kernel_kind::concat)), nnmeter::default_rules())
          .kernels[0];
  CHECK(cat.input_tensors.size() == 3);
  const nnmeter::kernel mm =
      nnmeter::detect(nb::kernel_graph(example(kernel_kind::matmul)), nnmeter::default_rules())
          .kernels[0];
  CHECK(mm.output_tensors[0] == nnmeter::tensor_shape{1, 49, 24});
}

TEST_CASE("kernel_block_for: the largest block the rules run as one kernel") {
  const nnmeter::rule_set none;  // nothing fuses
  nb::kernel_block b = nb::kernel_block_for(example(kernel_kind::conv_bn_relu), none);
  CHECK(b.block == "conv");
  CHECK(nnmeter::detect(b.graph, none).kernels.size() == 1);
  b = nb::kernel_block_for(example(kernel_kind::dwconv_bn_relu), none);
  CHECK(b.block == "dwconv");
  const nnmeter::rule_set conv_relu = nnmeter::rule_set::from_entries(
      {{"BF_conv_relu", nnmeter::rule_obey::yes, ""}}, "rules.json");
  b = nb::kernel_block_for(example(kernel_kind::conv_bn_relu), conv_relu);
  CHECK(b.block == "conv-relu");
  CHECK_THROWS_WITH_AS((void)nb::kernel_block_for(example(kernel_kind::bnrelu), conv_relu),
                       doctest::Contains("rules of rules.json run no block of kind bnrelu"),
                       nnmeter::error);
  CHECK_THROWS_WITH((void)nb::kernel_block_for(example(kernel_kind::addrelu), none),
                    doctest::Contains("addrelu gives 2 kernel(s): add#2 (add), relu#3 (relu)"));
}

TEST_CASE("training_features: the predictor's features, for every sampled kind") {
  const nnmeter::rule_set& rules = nnmeter::default_rules();
  nb::sampler_options o;
  o.seed = 11;
  std::size_t compared = 0;
  for (kernel_kind k : nb::buildable_kinds()) {
    CAPTURE(name(k));
    for (const nb::kernel_config& c : nb::sample_prior(k, 12, o)) {
      const nnmeter::graph g = nb::kernel_block_for(c, rules).graph;
      for (nnmeter::feature_set set : {nnmeter::feature_set::nnmeter,
                                       nnmeter::feature_set::extended,
                                       nnmeter::feature_set::lanes}) {
        if (nnmeter::feature_count(k, set) == 0) {
          CHECK_THROWS_WITH((void)nb::training_features(g, rules, k, set),
                            doctest::Contains("has no vector"));
          continue;
        }
        const nnmeter::feature_vector f = nb::training_features(g, rules, k, set);
        REQUIRE(f.size() == nnmeter::feature_count(k, set));
        CHECK(predictor_mismatches(g, rules, k, set, f) == 0.0);
        // The check can fail: a vector one feature off is seen by the predictor.
        nnmeter::feature_vector off = f;
        off[f.size() - 1] = off[f.size() - 1] * 2 + 1;
        CHECK(predictor_mismatches(g, rules, k, set, off) == 1.0);
        const nnmeter::feature_vector same = nb::training_features(c, rules, set);
        CHECK(std::vector<double>(same.begin(), same.end()) ==
              std::vector<double>(f.begin(), f.end()));
        ++compared;
      }
    }
  }
  CHECK(compared == 12 * (24 + 16 + 24));
}

TEST_CASE("training_features: refuses graphs that are not one kernel of the kind") {
  nnmeter::graph_builder b;
  const auto x = b.input({1, 8, 8, 4});
  (void)b.maxpool(b.relu(b.conv(x, 8, 3)), 2, 2);
  const nnmeter::graph two = std::move(b).build();
  CHECK_THROWS_WITH_AS(
      (void)nb::training_features(two, nnmeter::default_rules(), kernel_kind::conv_bn_relu,
                                  nnmeter::feature_set::nnmeter),
      doctest::Contains("gives 2 kernel(s): conv-relu#1 (conv-bn-relu), maxpool#2 (maxpool)"),
      nnmeter::error);
  const nnmeter::graph relu = nb::kernel_graph(example(kernel_kind::relu));
  CHECK_THROWS_WITH((void)nb::training_features(relu, nnmeter::default_rules(), kernel_kind::bn,
                                                nnmeter::feature_set::nnmeter),
                    doctest::Contains("must detect as exactly one bn kernel"));
  const nnmeter::graph sig = nb::kernel_graph(example(kernel_kind::sigmoid));
  CHECK_THROWS_WITH((void)nb::training_features(sig, nnmeter::default_rules(), kernel_kind::sigmoid,
                                                nnmeter::feature_set::nnmeter),
                    doctest::Contains("feature set 'nnmeter' has no vector"));
  const nnmeter::feature_vector ext = nb::training_features(
      sig, nnmeter::default_rules(), kernel_kind::sigmoid, nnmeter::feature_set::extended);
  CHECK(ext.size() == 7);
  CHECK(ext[0] == 14);
  CHECK(ext[2] == 16);
}

TEST_CASE("cost_of: FLOPs and bytes of the block") {
  const nb::kernel_cost c = nb::cost_of(example(kernel_kind::conv_bn_relu));
  // conv 3x3, 16 -> 32 channels, 14x14 output: 2 * 14*14*32 * 3*3*16 FLOPs, plus bn and relu.
  const double conv_mflops = 2.0 * 14 * 14 * 32 * 3 * 3 * 16 / 1e6;
  CHECK(c.mflops >= conv_mflops);
  CHECK(c.mflops < conv_mflops * 1.02);
  const nb::kernel_cost r = nb::cost_of(example(kernel_kind::relu));
  CHECK(r.mbytes == doctest::Approx(2.0 * 14 * 14 * 16 * 4 / 1e6));
}
