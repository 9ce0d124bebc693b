// ONNX import: clear errors on bad input, never a crash; input shapes; file and memory entry points.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include "onnx_test_model.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using nnmeter::tensor_shape;
using onnx_test::attr;
using onnx_test::id;
using onnx_test::model_builder;

namespace {

// Expects f() to throw E whose message contains every fragment.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  bool thrown = false;
  try {
    f();
  } catch (const E& e) {
    thrown = true;
    const std::string msg = e.what();
    INFO("message: " << msg);
    for (const char* frag : fragments) CHECK(msg.find(frag) != std::string::npos);
  }
  CHECK(thrown);
}

model_builder small_model() {
  model_builder b(13);
  b.input("x", {1, 3, 8, 8}).output("y");
  b.weight("w", {4, 3, 3, 3});
  auto& c = b.node("Conv", {"x", "w"}, {"c"}, "conv");
  attr(c, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("Shape", {"r"}, {"s"}, "shape");
  b.ints("shape_out", {1, -1});
  b.node("Reshape", {"r", "shape_out"}, {"y"}, "reshape");
  return b;
}

std::string temp_path(const char* name) {
  return std::string("/tmp/nnmeter_test_onnx_") + name;
}

}  // namespace

TEST_CASE("files and memory: import_onnx(path), import_onnx_from_memory, load_onnx") {
  const std::string bytes = small_model().bytes();
  const std::string path = temp_path("ok.onnx");
  {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
  }
  const auto a = nnmeter::io::import_onnx(path);
  const auto b = nnmeter::io::import_onnx_from_memory(bytes.data(), bytes.size());
  const nnmeter::graph c = nnmeter::io::load_onnx(path);
  CHECK(a.graph.nodes() == b.graph.nodes());
  CHECK(a.graph.nodes() == c.nodes());
  CHECK(a.graph.output_shapes(id(a.graph, "reshape"))[0] == tensor_shape{1, 256});
  CHECK(a.accounting.folded == 1);  // the unused Shape
  std::remove(path.c_str());
  expect_error<nnmeter::parse_error>([] { (void)nnmeter::io::import_onnx(temp_path("missing.onnx")); },
                                     {"missing.onnx", "no such file"});
}

TEST_CASE("not ONNX: empty, text, truncated and corrupted bytes give nnmeter errors") {
  expect_error<nnmeter::parse_error>(
      [] { (void)nnmeter::io::import_onnx_from_memory("", 0, {}, "empty.onnx"); },
      {"empty.onnx", "no graph"});
  const std::string text = "this is certainly not a protobuf message\n";
  expect_error<nnmeter::parse_error>(
      [&] { (void)nnmeter::io::import_onnx_from_memory(text.data(), text.size(), {}, "t.onnx"); },
      {"t.onnx"});
  const std::string bytes = small_model().bytes();
  std::size_t errors = 0;
  for (std::size_t len = 0; len < bytes.size(); len += 7) {  // every truncation: error, not crash
    try {
      (void)nnmeter::io::import_onnx_from_memory(bytes.data(), len, {}, "cut.onnx");
    } catch (const nnmeter::error& e) {
      ++errors;
      CHECK(std::string(e.what()).find("cut.onnx") != std::string::npos);
    }
  }
  CHECK(errors > 0);
  // Random corruption: any outcome but a crash or a foreign exception.
  std::mt19937 rng(12345);
  std::size_t ok = 0, failed = 0;
  for (int it = 0; it < 400; ++it) {
    std::string m = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k)
      m[rng() % m.size()] = static_cast<char>(rng() & 0xff);
    try {
      (void)nnmeter::io::import_onnx_from_memory(m.data(), m.size(), {}, "fuzz.onnx");
      ++ok;
    } catch (const nnmeter::error&) {
      ++failed;
    }
  }
  CHECK(ok + failed == 400);
  MESSAGE("corrupted models: " << ok << " imported, " << failed << " rejected with an nnmeter::error");
}

TEST_CASE("structural errors name the file and the node") {
  SUBCASE("missing input reference") {
    model_builder b(13);
    b.input("x", {1, 2}).output("y");
    b.node("Add", {"x", "nowhere"}, {"y"}, "add_1");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); },
                                       {"test.onnx", "add_1", "nowhere"});
  }
  SUBCASE("missing initializer (a weight that is not there)") {
    model_builder b(13);
    b.input("x", {1, 3, 8, 8}).output("y");
    b.node("Conv", {"x", "w_missing"}, {"y"}, "conv_7");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"conv_7", "w_missing"});
  }
  SUBCASE("cycle") {
    model_builder b(13);
    b.input("x", {1, 2}).output("b");
    b.node("Add", {"x", "b"}, {"a"}, "A");
    b.node("Relu", {"a"}, {"b"}, "B");
    expect_error<nnmeter::graph_error>([&] { (void)b.import(); }, {"test.onnx", "cycle"});
  }
  SUBCASE("unknown domain") {
    model_builder b(13);
    b.input("x", {1, 2}).output("y");
    b.node("Fancy", {"x"}, {"y"}, "fancy").set_domain("com.nowhere");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); },
                                       {"fancy", "com.nowhere", "unknown domain"});
  }
  SUBCASE("two nodes produce one tensor") {
    model_builder b(13);
    b.input("x", {1, 2}).output("y");
    b.node("Relu", {"x"}, {"y"}, "r1");
    b.node("Relu", {"x"}, {"y"}, "r2");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"r2", "'y'"});
  }
  SUBCASE("a graph output nobody produces") {
    model_builder b(13);
    b.input("x", {1, 2}).output("ghost");
    b.node("Relu", {"x"}, {"y"}, "r1");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"ghost"});
  }
  SUBCASE("Constant without a value") {
    model_builder b(13);
    b.input("x", {1, 2}).output("y");
    b.node("Constant", {}, {"k"}, "konst");
    b.node("Add", {"x", "k"}, {"y"}, "add");
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"konst", "value"});
  }
  SUBCASE("negative, overflowing and inconsistent dims") {
    model_builder b(13);
    b.input("x", {1, 2}).output("y");
    b.node("Relu", {"x"}, {"y"}, "r");
    auto* t = b.graph().add_initializer();
    t->set_name("bad");
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(-3);
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"initializer 'bad'", "-3"});
    t->set_dims(0, std::int64_t{1} << 40);
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"initializer 'bad'"});
    t->set_dims(0, 4);
    t->add_float_data(1.0f);  // 1 value for 4 elements
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"initializer 'bad'", "1 values"});
    model_builder c(13);
    c.output("y");
    auto* vi = c.graph().add_input();
    vi->set_name("x");
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    vi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(-5);
    c.node("Relu", {"x"}, {"y"}, "r");
    expect_error<nnmeter::parse_error>([&] { (void)c.import(); }, {"input 'x'", "-5"});
  }
  SUBCASE("opset out of range") {
    for (std::int64_t opset : {6, 18}) {
      model_builder b(opset);
      b.input("x", {1, 2}).output("y");
      b.node("Relu", {"x"}, {"y"}, "r");
      expect_error<nnmeter::unsupported_error>([&] { (void)b.import(); },
                                               {"test.onnx", "7..17", std::to_string(opset).c_str()});
      nnmeter::io::onnx_import_options o;
      o.allow_any_opset = true;
      const auto r = b.import(o);
      CHECK(r.graph.op(id(r.graph, "r")) == nnmeter::op_kind::relu);
      CHECK(r.warnings.size() == 1);
    }
  }
  SUBCASE("a sequence input") {
    model_builder b(13);
    b.output("y");
    auto* vi = b.graph().add_input();
    vi->set_name("seq");
    vi->mutable_type()->mutable_sequence_type();
    b.node("SequenceLength", {"seq"}, {"y"}, "len");
    expect_error<nnmeter::unsupported_error>([&] { (void)b.import(); }, {"seq", "not a tensor"});
  }
}

TEST_CASE("symbolic input dims need input_shapes") {
  model_builder b(13);
  b.input("images", {-1, 3, 16, 16}).output("y");
  b.weight("w", {8, 3, 3, 3});
  b.node("Conv", {"images", "w"}, {"y"}, "conv");
  expect_error<nnmeter::unsupported_error>([&] { (void)b.import(); },
                                           {"test.onnx", "images", "[N, 3, 16, 16]", "input_shapes"});
  nnmeter::io::onnx_import_options o;
  o.input_shapes["images"] = {4, 3, 16, 16};
  const auto r = b.import(o);
  CHECK(r.graph.output_shapes(id(r.graph, "images"))[0] == tensor_shape{4, 16, 16, 3});
  CHECK(r.graph.output_shapes(id(r.graph, "conv"))[0] == tensor_shape{4, 14, 14, 8});
  CHECK(r.warnings.empty());
  o.input_shapes["images"] = {4, 3, 16};
  expect_error<nnmeter::graph_error>([&] { (void)b.import(o); }, {"images", "rank 3"});
  o.input_shapes["images"] = {4, 3, -16, 16};
  expect_error<nnmeter::graph_error>([&] { (void)b.import(o); }, {"images", "-16"});
  o.input_shapes.clear();
  o.input_shapes["imgs"] = {1, 3, 16, 16};
  expect_error<nnmeter::graph_error>([&] { (void)b.import(o); }, {"imgs", "images"});
  // Overriding a static dim works, with a warning.
  model_builder s(13);
  s.input("x", {1, 3, 8, 8}).output("y");
  s.node("Relu", {"x"}, {"y"}, "r");
  nnmeter::io::onnx_import_options o2;
  o2.input_shapes["x"] = {2, 3, 8, 8};
  const auto r2 = s.import(o2);
  CHECK(r2.graph.output_shapes(id(r2.graph, "r"))[0] == tensor_shape{2, 8, 8, 3});
  CHECK(r2.warnings.size() == 1);
}

TEST_CASE("node names: empty names use the output name, duplicates get a suffix") {
  model_builder b(13);
  b.input("x", {1, 2}).output("z");
  b.node("Relu", {"x"}, {"y"}, "same");
  b.node("Relu", {"y"}, {"z"}, "same");
  b.node("Sigmoid", {"x"}, {"s"}, "").set_name("");
  const auto r = b.import();
  CHECK(r.graph.find("same"));
  CHECK(r.graph.find("same#1"));
  CHECK(r.graph.find("s"));
  CHECK(r.warnings.size() == 1);
  CHECK(onnx_test::balanced(r.accounting));
}

TEST_CASE("absurd window attributes are rejected with the node's name") {
  for (const char* which : {"strides", "pads", "kernel_shape", "dilations"}) {
    model_builder b(13);
    b.input("x", {1, 2, 8, 8}).output("y");
    auto& p = b.node("MaxPool", {"x"}, {"y"}, "pool_3");
    const std::string w = which;
    attr(p, "kernel_shape", w == "kernel_shape" ? std::vector<std::int64_t>{0, 2} : std::vector<std::int64_t>{2, 2});
    if (w == "strides") attr(p, "strides", {0, 1});
    if (w == "pads") attr(p, "pads", {-1, 0, 0, 0});
    if (w == "dilations") attr(p, "dilations", {std::int64_t{1} << 40, 1});
    INFO(which);
    expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"test.onnx", "pool_3", which});
  }
  model_builder b(13);
  b.input("x", {1, 2, 8, 8}).output("y");
  b.weight("w", {2, 1, 3, 3});
  attr(b.node("Conv", {"x", "w"}, {"y"}, "conv_9"), "group", std::int64_t{-2});
  expect_error<nnmeter::parse_error>([&] { (void)b.import(); }, {"conv_9", "group"});
}

namespace {
// Process CPU time in seconds (not wall time: a busy machine does not make the check fail).
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
}  // namespace

TEST_CASE("auto_pad with a stride: ONNX 1.12's padding loop never runs on the input dims") {
  // ONNX 1.12's convPoolShapeInference subtracts the stride from the input dim one stride at a
  // time to find an auto_pad padding: dim / stride steps. fuzz_onnx_import found a Pad whose
  // pads make a dim near 2^60 in front of such a Conv (seed
  // tests/fuzz/corpus/onnx_import/r_auto_pad_huge_dim.onnx): the import never ended.
  SUBCASE("a dim of 2^59 from a Pad: the Pad's output is refused, at once") {
    model_builder b(13);
    b.input("x", {1, 2, 8, 8}).output("y");
    b.ints("pads", {0, 0, std::int64_t{1} << 59, 0, 0, 0, 0, 0});
    b.node("Pad", {"x", "pads"}, {"p"}, "pad");
    b.weight("w", {2, 2, 3, 3});
    auto& c = b.node("Conv", {"p", "w"}, {"y"}, "conv");
    attr(c, "strides", {115, 1});
    onnx_test::attr_s(c, "auto_pad", "SAME_UPPER");
    const double t0 = cpu_seconds();
    expect_error<nnmeter::error>([&] { (void)b.import(); },
                                 {"test.onnx", "node 'pad' (Pad)", "above 2^31-1"});
    CHECK(cpu_seconds() - t0 < 5.0);
  }
  SUBCASE("20 pools on a dim of 2^31-1: the shapes ONNX gives, without 20 x 2^30 steps") {
    // Before: about 0.5 s of CPU per node (2^30 subtractions each; 20 distinct nodes, so the
    // inference cache does not help).
    const std::int64_t d = 2147483647;
    model_builder b(13);
    b.input("x", {1, 1, d, 1});
    for (int k = 0; k < 20; ++k) {
      const std::string y = "y" + std::to_string(k);
      b.output(y);
      auto& p = b.node("MaxPool", {"x"}, {y}, "pool_" + std::to_string(k));
      attr(p, "kernel_shape", {1 + k, 1});
      attr(p, "strides", {2, 1});
      onnx_test::attr_s(p, "auto_pad", k % 2 == 0 ? "SAME_UPPER" : "SAME_LOWER");
    }
    const double t0 = cpu_seconds();
    const nnmeter::io::onnx_import_result r = b.import();
    CHECK(cpu_seconds() - t0 < 2.0);
    for (int k = 0; k < 20; ++k)  // NHWC; SAME: ceil(d / 2)
      CHECK(r.graph.output_shapes(id(r.graph, "pool_" + std::to_string(k)))[0] ==
            tensor_shape{1, 1073741824, 1, 1});
  }
  SUBCASE("small dims: SAME_UPPER, SAME_LOWER, NOTSET with strides, dilations, weights") {
    struct expected_case {
      const char* mode;
      tensor_shape pool;  // NHWC of x [1, 3, 9, 10] pooled by kernel 3x2, strides 2x3, dilations 2x1
      tensor_shape conv;  // the same window as a Conv with weight [4, 3, 3, 2] (no kernel_shape)
    };
    for (const expected_case& e :
         {expected_case{"SAME_UPPER", {1, 5, 4, 3}, {1, 5, 4, 4}},
          expected_case{"SAME_LOWER", {1, 5, 4, 3}, {1, 5, 4, 4}},
          expected_case{"NOTSET", {1, 3, 3, 3}, {1, 3, 3, 4}}}) {
      CAPTURE(e.mode);
      model_builder b(13);
      b.input("x", {1, 3, 9, 10}).output("p").output("c");
      auto& p = b.node("MaxPool", {"x"}, {"p"}, "pool");
      attr(p, "kernel_shape", {3, 2});
      attr(p, "strides", {2, 3});
      attr(p, "dilations", {2, 1});
      onnx_test::attr_s(p, "auto_pad", e.mode);
      b.weight("w", {4, 3, 3, 2});
      auto& c = b.node("Conv", {"x", "w"}, {"c"}, "conv");
      attr(c, "strides", {2, 3});
      attr(c, "dilations", {2, 1});
      onnx_test::attr_s(c, "auto_pad", e.mode);
      const nnmeter::io::onnx_import_result r = b.import();
      CHECK(r.graph.output_shapes(id(r.graph, "pool"))[0] == e.pool);
      CHECK(r.graph.output_shapes(id(r.graph, "conv"))[0] == e.conv);
    }
  }
}
