// Writes the seed corpus of fuzz_onnx_import (tests/fuzz/corpus/onnx_import/):
//   w<opset>_<name>.onnx  graph_builder graphs written by nnmeter's ONNX writer, structure-only
//                         (with_weights = false), at opsets 11 and 13;
//   x_*.onnx              a few writer variants (inline weights, value_info, a symbolic batch
//                         dim, opset 18) and hand-built models (shape subgraph to fold, aliases,
//                         Constant nodes, a custom-domain op, a data-dependent op);
//   e_*                   edge cases: an empty file, non-protobuf bytes, truncated models.
// fuzz_onnx_import picks its import options from the last byte of its input. So that the seeds
// cover every option, a model seed may end with a mode trailer: an unknown ModelProto field
// (number 2047, length-delimited, one byte long) holding the mode byte. Protobuf parsers keep
// unknown fields aside, so the file stays a valid model; the trailer is noted in the file name
// (".m<mode in hex>"). The `e_*` seeds have none.
// Usage: nnmeter_fuzz_make_corpus <output directory>   (created when missing; files overwritten)
// Regenerate the committed corpus with
//   <build>/tests/fuzz/nnmeter_fuzz_make_corpus tests/fuzz/corpus/onnx_import
// Regression seeds added by hand (r_*) are left alone.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nnmeter::graph;
using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::pads4;
using nnmeter::tensor_ref;

constexpr std::size_t max_seed_bytes = 20 * 1024;

// Modes of fuzz_onnx_import (see its header comment).
constexpr unsigned mode_any_opset = 0x01;
constexpr unsigned mode_input_shape = 0x02;
constexpr unsigned shape_sel(unsigned sel) { return mode_input_shape | (sel << 4); }

// `model` followed by the mode trailer; the name gets ".m<hex>" before its extension.
std::pair<std::string, std::string> with_mode(std::string name, std::string model, unsigned mode) {
  static const char hex[] = "0123456789abcdef";
  // field 2047, wire type 2: tag varint 0x3ffa = FA 7F; length 1; the mode byte
  model += "\xFA\x7F\x01";
  model += static_cast<char>(static_cast<unsigned char>(mode));
  const std::string::size_type dot = name.rfind('.');
  const std::string tag = std::string(".m") + hex[(mode >> 4) & 15U] + hex[mode & 15U];
  name.insert(dot == std::string::npos ? name.size() : dot, tag);
  return {std::move(name), std::move(model)};
}

struct writer {
  fs::path dir;
  std::size_t files = 0;
  std::size_t total_bytes = 0;

  void put(const std::string& name, const std::string& content) {
    if (content.size() > max_seed_bytes)
      throw nnmeter::error("make_corpus: " + name + " has " + std::to_string(content.size()) +
                           " bytes, more than the " + std::to_string(max_seed_bytes) +
                           " a seed may have");
    const fs::path p = dir / name;
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.close();
    if (!f) throw nnmeter::error("make_corpus: cannot write " + p.string());
    ++files;
    total_bytes += content.size();
  }
  void put(const std::pair<std::string, std::string>& named) { put(named.first, named.second); }
  static std::string serialise(const onnx::ModelProto& m) {
    std::string out;
    if (!m.SerializeToString(&out)) throw nnmeter::error("make_corpus: cannot serialise a model");
    return out;
  }
};

// ---- graph_builder models --------------------------------------------------------------------

struct builder_case {
  const char* name;
  std::function<void(graph_builder&)> build;
};

std::vector<builder_case> builder_cases() {
  using nnmeter::tensor_shape;
  auto in = [](graph_builder& b, tensor_shape s = {1, 8, 8, 8}) {
    return b.input(s, nnmeter::dtype::f32, "x");
  };
  std::vector<builder_case> v;
  v.push_back({"conv_bn_relu", [in](graph_builder& b) {
                 auto x = in(b);
                 auto y = b.conv_bn_relu(x, 16, 3, 2, "block0");
                 b.conv(y, 8, 1, 1, padding_mode::valid, 1, 1, false, "pw");
               }});
  v.push_back({"dwconv", [in](graph_builder& b) {
                 auto x = in(b);
                 auto d = b.dwconv(x, 3, 1, padding_mode::same, 1, 1, "dw_same");
                 auto r = b.relu6(b.bn(d, "dw_bn"), "dw_relu6");
                 b.dwconv(r, 5, 2, pads4(2), 2, 1, "dw_s2_mult2");
               }});
  v.push_back({"se", [in](graph_builder& b) {
                 auto x = in(b);
                 auto c = b.conv(x, 16, 1, 1, padding_mode::same, 1, 1, true, "expand");
                 auto h = b.hswish(c, "hswish");
                 b.se(h, 4, "se");
               }});
  v.push_back({"residual_add", [in](graph_builder& b) {
                 auto x = in(b);
                 auto c1 = b.conv_bn_relu(x, 8, 3, 1, "c1");
                 auto c2 = b.conv(c1, 8, 3, 1, padding_mode::same, 1, 1, true, "c2");
                 auto s = b.add(x, c2, "residual");
                 b.relu(s, "out_relu");
               }});
  v.push_back({"concat_split_shuffle", [in](graph_builder& b) {
                 auto x = in(b);
                 auto parts = b.split(x, 2, -1, "split");
                 auto br = b.conv_bn_relu(parts[1], 4, 1, 1, "branch");
                 auto cat = b.concat({parts[0], br}, -1, "concat");
                 b.channel_shuffle(cat, 2, "shuffle");
               }});
  v.push_back({"pooling", [in](graph_builder& b) {
                 auto x = in(b);
                 auto m = b.maxpool(x, 3, 2, padding_mode::same, "maxpool_same");
                 auto a = b.avgpool(m, 2, 1, pads4(1), true, "avgpool_ceil");
                 b.global_avgpool(a, "gap");
                 b.global_maxpool(x, "gmp");
               }});
  v.push_back({"fc", [in](graph_builder& b) {
                 auto x = in(b);
                 auto g = b.global_avgpool(x, "gap");
                 auto f = b.flatten(g, 1, "flatten");
                 auto f1 = b.fc(f, 16, true, "fc1");
                 auto r = b.relu(f1, "fc_relu");
                 b.softmax(b.fc(r, 10, false, "fc2"), -1, "softmax");
               }});
  v.push_back({"resize", [in](graph_builder& b) {
                 auto x = in(b, {1, 4, 4, 8});
                 auto u = b.resize(x, 2.0, 2.0, "nearest", "up_nearest");
                 b.resize(u, 0.5, 0.5, "linear", "down_linear");
               }});
  v.push_back({"pad", [in](graph_builder& b) {
                 auto x = in(b);
                 auto p = b.pad(x, 1, 1, 2, 0, "pad");
                 b.conv(p, 8, 3, 1, padding_mode::valid, 1, 1, true, "conv_after_pad");
               }});
  v.push_back({"misc_ops", [in](graph_builder& b) {
                 auto x = in(b);
                 auto s = b.sigmoid(x, "sigmoid");
                 auto m = b.mul(x, s, "mul");
                 auto c = b.clip(m, -1.0, 2.0, "clip");
                 auto t = b.transpose(c, {0, 3, 1, 2}, "transpose");
                 auto r = b.reshape(t, {1, 8, 64}, "reshape");
                 auto rm = b.reduce_mean(r, {-1}, false, "reduce_mean");
                 b.leaky_relu(rm, 0.1, "leaky");
               }});
  return v;
}

// ---- hand-built models -----------------------------------------------------------------------

void set_opset(onnx::ModelProto& m, std::int64_t opset) {
  m.set_ir_version(8);
  m.set_producer_name("nnmeter_fuzz_make_corpus");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
}

void tensor_value_info(onnx::ValueInfoProto* v, const std::string& name, std::int32_t elem,
                       std::initializer_list<std::int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem);
  auto* s = t->mutable_shape();
  for (std::int64_t d : dims) s->add_dim()->set_dim_value(d);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op,
                          std::initializer_list<const char*> inputs,
                          std::initializer_list<const char*> outputs, const std::string& name) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const char* i : inputs) n->add_input(i);
  for (const char* o : outputs) n->add_output(o);
  return n;
}

// A Constant node holding an int64 tensor of the given dims and values.
void add_int64_constant(onnx::GraphProto* g, const char* output, std::vector<std::int64_t> dims,
                        std::initializer_list<std::int64_t> values) {
  auto* n = add_node(g, "Constant", {}, {output}, std::string("const_") + output);
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(onnx::TensorProto::INT64);
  for (std::int64_t d : dims) t->add_dims(d);
  for (std::int64_t x : values) t->add_int64_data(x);
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape (folded at import), Identity and Dropout
// (aliases), Constant nodes.
onnx::ModelProto shape_subgraph_model() {
  onnx::ModelProto m;
  set_opset(m, 13);
  auto* g = m.mutable_graph();
  g->set_name("shape_subgraph");
  tensor_value_info(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 4, 6, 6});
  add_node(g, "Shape", {"x"}, {"s"}, "shape");
  add_int64_constant(g, "idx", {}, {0});
  add_node(g, "Gather", {"s", "idx"}, {"n"}, "gather")->add_attribute()->set_name("axis");
  g->mutable_node(2)->mutable_attribute(0)->set_type(onnx::AttributeProto::INT);
  g->mutable_node(2)->mutable_attribute(0)->set_i(0);
  add_int64_constant(g, "axes0", {1}, {0});
  add_node(g, "Unsqueeze", {"n", "axes0"}, {"n1"}, "unsqueeze");
  add_int64_constant(g, "minus1", {1}, {-1});
  auto* cat = add_node(g, "Concat", {"n1", "minus1"}, {"shp"}, "concat");
  auto* ax = cat->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto::INT);
  ax->set_i(0);
  add_node(g, "Identity", {"x"}, {"xi"}, "identity");
  add_node(g, "Reshape", {"xi", "shp"}, {"y"}, "reshape");
  add_node(g, "Dropout", {"y"}, {"yd"}, "dropout");
  add_node(g, "Relu", {"yd"}, {"out"}, "relu");
  tensor_value_info(g->add_output(), "out", onnx::TensorProto::FLOAT, {1, 144});
  return m;
}

// An op of a declared custom domain (imported as op_kind::other, shape unknown), a
// data-dependent NonZero, and an element-wise op with a constant operand.
onnx::ModelProto custom_and_dynamic_model() {
  onnx::ModelProto m;
  set_opset(m, 13);
  auto* custom = m.add_opset_import();
  custom->set_domain("com.example");
  custom->set_version(1);
  auto* g = m.mutable_graph();
  g->set_name("custom_and_dynamic");
  tensor_value_info(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 2, 3, 3});
  add_node(g, "FancyOp", {"x"}, {"f"}, "fancy")->set_domain("com.example");
  add_node(g, "Relu", {"f"}, {"r"}, "relu");
  add_node(g, "NonZero", {"x"}, {"nz"}, "nonzero");
  add_int64_constant(g, "three", {}, {3});
  add_node(g, "Cast", {"nz"}, {"nzf"}, "cast")->add_attribute()->set_name("to");
  g->mutable_node(4)->mutable_attribute(0)->set_type(onnx::AttributeProto::INT);
  g->mutable_node(4)->mutable_attribute(0)->set_i(onnx::TensorProto::INT64);
  add_node(g, "Add", {"nzf", "three"}, {"sum"}, "add_const");
  tensor_value_info(g->add_output(), "r", onnx::TensorProto::FLOAT, {});
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  tensor_value_info(g->add_output(), "sum", onnx::TensorProto::INT64, {});
  g->mutable_output(1)->mutable_type()->mutable_tensor_type()->clear_shape();
  return m;
}

graph small_conv_graph() {
  graph_builder b;
  auto x = b.input({1, 6, 6, 3}, nnmeter::dtype::f32, "x");
  auto c = b.conv_bn_relu(x, 4, 3, 1, "block");
  b.fc(b.flatten(b.global_avgpool(c, "gap"), 1, "flatten"), 5, true, "fc");
  return std::move(b).build();
}

void write_all(writer& w) {
  namespace io = nnmeter::io;
  // Opset 11 seeds use the default options; the opset 13 ones cycle through the other modes.
  const unsigned w13_modes[] = {0, mode_any_opset, shape_sel(0), shape_sel(5),
                                shape_sel(7) | mode_any_opset};
  std::size_t k = 0;
  std::string conv_bn_relu_13;
  for (const builder_case& c : builder_cases()) {
    graph_builder b;
    c.build(b);
    const graph g = std::move(b).build();
    for (std::int64_t opset : {11, 13}) {
      io::onnx_write_options o;
      o.opset = opset;
      o.with_weights = false;
      const std::string bytes = io::to_onnx_bytes(g, o);
      const std::string name = "w" + std::to_string(opset) + "_" + c.name + ".onnx";
      if (opset == 11) {
        w.put(name, bytes);
      } else {
        w.put(with_mode(name, bytes, w13_modes[k++ % std::size(w13_modes)]));
        if (std::string(c.name) == "conv_bn_relu") conv_bn_relu_13 = bytes;
      }
    }
  }

  const graph small = small_conv_graph();
  {
    io::onnx_write_options o;  // inline weights: the dense initializer path
    o.opset = 13;
    o.with_weights = true;
    w.put("x_small_with_weights.onnx", io::to_onnx_bytes(small, o));
  }
  {
    io::onnx_write_options o;  // value_info for every intermediate tensor, opset 17
    o.opset = 17;
    o.with_weights = false;
    o.with_value_info = true;
    w.put("x_value_info_opset17.onnx", io::to_onnx_bytes(small, o));
  }
  {
    io::onnx_write_options o;
    o.opset = 13;
    o.with_weights = false;
    onnx::ModelProto m = io::to_onnx_model(small, o);
    // symbolic batch: refused without input_shapes; shapes given (sel 5: N = 6); invalid ones
    // (13: wrong rank, 14: negative dim, 15: no such input)
    m.mutable_graph()
        ->mutable_input(0)
        ->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->mutable_dim(0)
        ->set_dim_param("N");
    const std::string sym = writer::serialise(m);
    for (unsigned mode : {0U, shape_sel(5), shape_sel(13), shape_sel(14), shape_sel(15)})
      w.put(with_mode("x_symbolic_batch.onnx", sym, mode));
    // opset 18: refused unless allow_any_opset
    m = io::to_onnx_model(small, o);
    for (auto& op : *m.mutable_opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") op.set_version(18);
    const std::string o18 = writer::serialise(m);
    w.put(with_mode("x_opset18.onnx", o18, 0));
    w.put(with_mode("x_opset18.onnx", o18, mode_any_opset));
  }
  w.put(with_mode("x_shape_subgraph.onnx", writer::serialise(shape_subgraph_model()), 0));
  w.put(with_mode("x_custom_and_dynamic.onnx", writer::serialise(custom_and_dynamic_model()), 0));

  w.put("e_empty", std::string());
  w.put("e_not_protobuf.txt", std::string("this is not an ONNX model\n"));
  w.put("e_truncated_half.onnx", conv_bn_relu_13.substr(0, conv_bn_relu_13.size() / 2));
  w.put("e_truncated_last_byte.onnx", conv_bn_relu_13.substr(0, conv_bn_relu_13.size() - 1));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argc > 0 ? argv[0] : "make_corpus");
    return 2;
  }
  try {
    writer w{fs::path(argv[1])};
    fs::create_directories(w.dir);
    write_all(w);
    std::printf("make_corpus: %zu files, %zu bytes in %s\n", w.files, w.total_bytes, argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
