// nn-Meter IR JSON import and export: round trips and clear errors on bad input.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <string>

namespace {

const std::string data_dir = NNMETER_TEST_DATA_DIR;

// A tiny valid IR: input -> conv -> relu.
std::string tiny_ir(const std::string& conv_extra = "", const std::string& relu_inbounds = "\"conv\"") {
  return R"({
  "x": {"inbounds": [], "outbounds": ["conv"],
        "attr": {"name": "x", "type": "Placeholder", "input_shape": [], "output_shape": [[1, 8, 8, 3]],
                 "attr": {"shape": [1, 8, 8, 3]}}},
  "conv": {"inbounds": ["x"], "outbounds": ["relu"],
           "attr": {"name": "conv", "type": "Conv2D", "input_shape": [[1, 8, 8, 3]],
                    "output_shape": [[1, 8, 8, 16]],
                    "attr": {"strides": [1, 1], "padding": "SAME", "weight_shape": [3, 3, 3, 16],
                             "dilations": [1, 1], "data_format": "NHWC")" +
         conv_extra + R"(}}},
  "relu": {"inbounds": [)" +
         relu_inbounds + R"(], "outbounds": [],
           "attr": {"name": "relu", "type": "Relu", "input_shape": [[1, 8, 8, 16]],
                    "output_shape": [[1, 8, 8, 16]], "attr": {}}}
})";
}

// Expects read_nnmeter_ir to throw E with a message containing every fragment.
template <class E>
void expect_error(const std::string& text, std::initializer_list<const char*> fragments,
                  const nnmeter::io::ir_read_options& o = {}) {
  bool thrown = false;
  try {
    (void)nnmeter::io::read_nnmeter_ir(text, "bad.json", o);
  } catch (const E& e) {
    thrown = true;
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(msg.find("bad.json") != std::string::npos);
    for (const char* f : fragments) CHECK(msg.find(f) != std::string::npos);
  }
  CHECK(thrown);
}

}  // namespace

TEST_CASE("a small IR reads with kinds, shapes and attributes") {
  const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(tiny_ir(), "tiny.json");
  REQUIRE(g.num_nodes() == 3);
  CHECK(g.op(0) == nnmeter::op_kind::input);
  CHECK(g.op(1) == nnmeter::op_kind::conv);
  CHECK(g.op(2) == nnmeter::op_kind::relu);
  CHECK(g.type(1) == "Conv2D");
  CHECK(g.attrs(1).kernel == std::array<std::int64_t, 2>{3, 3});
  CHECK(g.attrs(1).padding == nnmeter::padding_mode::same);
  CHECK(g.output_shapes(1).at(0) == nnmeter::tensor_shape{1, 8, 8, 16});
  REQUIRE(g.inputs(2).size() == 1);
  CHECK(g.inputs(2)[0].node == 1);
  CHECK(g.attrs(1).find_extra("data_format") != nullptr);
}

TEST_CASE("export then import gives an identical graph (mobilenetv3small_0)") {
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(data_dir + "/mobilenetv3small_0.ir.json");
  const std::string text = nnmeter::io::write_nnmeter_ir(g);
  const nnmeter::graph h = nnmeter::io::read_nnmeter_ir(text, "roundtrip.json");
  REQUIRE(h.num_nodes() == g.num_nodes());
  for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i) {
    INFO("node " << g.name(i));
    CHECK(h[i] == g[i]);
  }
  // And the kernels are the same.
  const auto a = nnmeter::detect_kernels(g);
  const auto b = nnmeter::detect_kernels(h);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].name == b[i].name);
  // Writing again gives the same text.
  CHECK(nnmeter::io::write_nnmeter_ir(h) == text);
}

TEST_CASE("stripped TensorFlow parameter inbounds are kept, not dropped") {
  const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(
      tiny_ir("", "\"conv\", \"relu/moving_variance/read\""), "tiny.json");
  REQUIRE(g.inputs(2).size() == 1);
  const std::string* p = g.attrs(2).find_extra("nnmeter:parameter_inbounds");
  REQUIRE(p != nullptr);
  CHECK(p->find("moving_variance/read") != std::string::npos);
  const std::string text = nnmeter::io::write_nnmeter_ir(g);
  CHECK(text.find("relu/moving_variance/read") != std::string::npos);
}

TEST_CASE("malformed IR gives a clear error naming the file, node and key") {
  using nnmeter::graph_error;
  using nnmeter::parse_error;
  SUBCASE("not JSON") { expect_error<parse_error>("{ \"x\": ", {"not valid JSON"}); }
  SUBCASE("not an object") { expect_error<parse_error>("[1, 2]", {"JSON object of nodes"}); }
  SUBCASE("node record not an object") {
    expect_error<parse_error>(R"({"x": 3})", {"node 'x'", "JSON object"});
  }
  SUBCASE("missing attr") {
    expect_error<parse_error>(R"({"x": {"inbounds": []}})", {"node 'x'", "'attr'"});
  }
  SUBCASE("missing type (nn-Meter's empty-attr node)") {
    expect_error<parse_error>(R"({"x": {"inbounds": [], "attr": {}}})", {"node 'x'", "attr.type"});
  }
  SUBCASE("missing inbounds") {
    expect_error<parse_error>(
        R"({"x": {"attr": {"type": "Relu", "input_shape": [[1,2]], "output_shape": [[1,2]]}}})",
        {"node 'x'", "'inbounds'"});
  }
  SUBCASE("inbounds of the wrong type") {
    expect_error<parse_error>(R"({"x": {"inbounds": [3], "attr": {"type": "Relu"}}})",
                              {"node 'x'", "inbounds"});
  }
  SUBCASE("unknown op type") {
    expect_error<parse_error>(
        R"({"x": {"inbounds": [], "attr": {"type": "FrobnicateV7", "output_shape": [[1]]}}})",
        {"node 'x'", "unknown operator type 'FrobnicateV7'"});
  }
  SUBCASE("unknown op type is kept as other when allowed") {
    nnmeter::io::ir_read_options o;
    o.allow_unknown_ops = true;
    const auto g = nnmeter::io::read_nnmeter_ir(
        R"({"x": {"inbounds": [], "attr": {"type": "FrobnicateV7", "output_shape": [[1]]}}})", "ok.json", o);
    CHECK(g.op(0) == nnmeter::op_kind::other);
    CHECK(g.type(0) == "FrobnicateV7");
  }
  SUBCASE("dangling inbound") {
    expect_error<parse_error>(tiny_ir("", "\"conv2\""), {"node 'relu'", "inbound 'conv2'"});
  }
  SUBCASE("cycle") {
    expect_error<graph_error>(R"({
      "a": {"inbounds": ["b"], "attr": {"type": "Relu", "input_shape": [[1,4]], "output_shape": [[1,4]]}},
      "b": {"inbounds": ["a"], "attr": {"type": "Relu", "input_shape": [[1,4]], "output_shape": [[1,4]]}}
    })", {"cycle"});
  }
  SUBCASE("negative dimension") {
    expect_error<parse_error>(
        R"({"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [[1, -5, 3]]}}})",
        {"node 'x'", "dimension -5 is out of range"});
  }
  SUBCASE("absurd dimension") {
    expect_error<parse_error>(
        R"({"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [[1, 99999999999]]}}})",
        {"node 'x'", "dimension 99999999999 is out of range"});
  }
  SUBCASE("shape of the wrong type") {
    expect_error<parse_error>(
        R"({"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [["a"]]}}})",
        {"node 'x'", "output_shape"});
  }
  SUBCASE("rank above 8") {
    expect_error<parse_error>(
        R"({"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [[1,1,1,1,1,1,1,1,1]]}}})",
        {"node 'x'", "rank 9"});
  }
  SUBCASE("bad strides") { expect_error<parse_error>(tiny_ir(R"(, "group": 0)"), {"node 'conv'", "group"}); }
  SUBCASE("missing file") {
    bool thrown = false;
    try {
      (void)nnmeter::io::load_nnmeter_ir(data_dir + "/does-not-exist.json");
    } catch (const nnmeter::parse_error& e) {
      thrown = std::string(e.what()).find("does-not-exist.json: no such file") != std::string::npos;
    }
    CHECK(thrown);
  }
}

TEST_CASE("fusion-rule files round-trip and reject malformed rules") {
  const nnmeter::rule_set r = nnmeter::io::load_fusion_rules(data_dir + "/rule_tflite_cpu.json");
  CHECK(r.entries().size() == 85);
  CHECK(r.is_fusible("conv", "bn"));
  CHECK(r.is_fusible("conv", "hswish"));
  CHECK_FALSE(r.is_fusible("conv", "add"));
  CHECK(r.mon() == 0);
  const std::string text = nnmeter::io::write_fusion_rules(r);
  const nnmeter::rule_set r2 = nnmeter::io::read_fusion_rules(text, "again.json");
  REQUIRE(r2.entries().size() == r.entries().size());
  for (std::size_t i = 0; i < r.entries().size(); ++i) {
    CHECK(r2.entries()[i].name == r.entries()[i].name);
    CHECK(r2.entries()[i].obey == r.entries()[i].obey);
    CHECK(r2.entries()[i].detail_json == r.entries()[i].detail_json);
  }
  CHECK(nnmeter::io::write_fusion_rules(r2) == text);

  auto expect_rule_error = [](const std::string& t, const char* fragment) {
    bool thrown = false;
    try {
      (void)nnmeter::io::read_fusion_rules(t, "rules.json");
    } catch (const nnmeter::parse_error& e) {
      const std::string msg = e.what();
      INFO(msg);
      thrown = msg.find("rules.json") != std::string::npos && msg.find(fragment) != std::string::npos;
    }
    CHECK(thrown);
  };
  expect_rule_error(R"({"BF_conv": {"obey": true}})", "BF_conv");
  expect_rule_error(R"({"conv_bn": {"obey": true}})", "conv_bn");
  expect_rule_error(R"({"BF_conv_bn": {"obey": "yes"}})", "obey");
  expect_rule_error(R"({"BF_conv_bn": 3})", "BF_conv_bn");
  expect_rule_error(R"([1])", "JSON object");
}
