// nnmeter — nn-Meter IR JSON import and export. Opt-in: needs nlohmann_json (nnmeter::json).
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_ir.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json_common.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// How strictly read_nnmeter_ir treats what nn-Meter itself tolerates.
struct ir_read_options {
  /// Keep operator types the reader does not know as op_kind::other (default: error).
  bool allow_unknown_ops = false;
  /// Drop inbound names that name no node (default: error, except references to TensorFlow
  /// parameter tensors that nn-Meter's converter strips, such as ".../moving_variance/read",
  /// which are kept on the node as parameter inputs).
  bool allow_dangling_inbounds = false;
};

namespace detail {

/// Operator type names of nn-Meter IR files (TensorFlow-, ONNX- and NNI-derived, plus
/// nn-Meter's normalised names and our own spellings) and the op kind each one is.
struct ir_type_alias {
  std::string_view name;
  op_kind kind;
};
inline constexpr ir_type_alias ir_type_aliases[] = {
    // TensorFlow
    {"Placeholder", op_kind::input}, {"Const", op_kind::constant}, {"Identity", op_kind::identity},
    {"Conv2D", op_kind::conv}, {"DepthwiseConv2dNative", op_kind::dwconv},
    {"Conv2DBackpropInput", op_kind::conv_transpose}, {"MatMul", op_kind::fc},
    {"MaxPool", op_kind::maxpool}, {"MaxPoolV2", op_kind::maxpool}, {"AvgPool", op_kind::avgpool},
    {"Mean", op_kind::reduce_mean}, {"FusedBatchNorm", op_kind::bn},
    {"FusedBatchNormV2", op_kind::bn}, {"FusedBatchNormV3", op_kind::bn},
    {"BiasAdd", op_kind::bias_add}, {"Relu", op_kind::relu}, {"Relu6", op_kind::relu6},
    {"Add", op_kind::add}, {"AddV2", op_kind::add}, {"Sub", op_kind::sub}, {"Mul", op_kind::mul},
    {"RealDiv", op_kind::div}, {"Div", op_kind::div}, {"ConcatV2", op_kind::concat},
    {"Concat", op_kind::concat}, {"Split", op_kind::split}, {"SplitV", op_kind::split},
    {"Reshape", op_kind::reshape}, {"Transpose", op_kind::transpose}, {"Pad", op_kind::pad},
    {"PadV2", op_kind::pad}, {"Squeeze", op_kind::squeeze}, {"ExpandDims", op_kind::unsqueeze},
    {"Sigmoid", op_kind::sigmoid}, {"Tanh", op_kind::tanh}, {"Softmax", op_kind::softmax},
    {"LeakyRelu", op_kind::leaky_relu}, {"Elu", op_kind::elu},
    {"ResizeBilinear", op_kind::resize}, {"ResizeNearestNeighbor", op_kind::resize},
    {"Cast", op_kind::cast}, {"GatherV2", op_kind::gather},
    // ONNX
    {"Conv", op_kind::conv}, {"ConvTranspose", op_kind::conv_transpose},
    {"BatchNormalization", op_kind::bn}, {"Clip", op_kind::clip}, {"Gemm", op_kind::fc},
    {"GlobalAveragePool", op_kind::global_avgpool}, {"GlobalMaxPool", op_kind::global_maxpool},
    {"ReduceMean", op_kind::reduce_mean}, {"AveragePool", op_kind::avgpool},
    {"Slice", op_kind::slice}, {"Flatten", op_kind::flatten}, {"HardSigmoid", op_kind::hsigmoid},
    {"HardSwish", op_kind::hswish}, {"Unsqueeze", op_kind::unsqueeze}, {"Resize", op_kind::resize},
    {"Upsample", op_kind::resize}, {"Gather", op_kind::gather}, {"PRelu", op_kind::prelu},
    {"Dropout", op_kind::identity}, {"Constant", op_kind::constant},
    {"QuantizeLinear", op_kind::quantize}, {"DequantizeLinear", op_kind::dequantize},
    // nn-Meter's normalised names (NNI-derived IR) that differ from ours
    {"gap", op_kind::global_avgpool}, {"hardsigmoid", op_kind::hsigmoid},
    {"channelshuffle", op_kind::channel_shuffle}, {"convtrans", op_kind::conv_transpose},
};

inline bool is_parameter_reference(std::string_view name) {
  constexpr std::string_view markers[] = {
      "/weight", "/read", "/ReadVariableOp", "/kernel", "/gamma", "/beta", "/moving_mean",
      "/moving_variance", "/bias", "/reduction_indices", "/shape", "/split_dim", "/axis"};
  for (std::string_view m : markers)
    if (name.find(m) != std::string_view::npos) return true;
  return false;
}

// Reserved key in attributes::extra holding stripped TensorFlow parameter inbounds.
inline constexpr const char* parameter_inbounds_key = "nnmeter:parameter_inbounds";

}  // namespace detail

/// Reads an nn-Meter IR JSON document (`text`) into a graph; `source` (a file name) prefixes
/// every error message. Nodes keep the file's key order. Throws parse_error naming the node
/// and key on malformed input (missing fields, wrong types, unknown op types, dangling inbounds,
/// negative or absurd dims) and graph_error on a cycle.
inline graph read_nnmeter_ir(std::string_view text, std::string_view source = "<memory>",
                             const ir_read_options& options = {}) {
  using json = nlohmann::ordered_json;
  const std::string src(source);
  json doc = detail::parse_json_text<json>(text, src);
  if (!doc.is_object())
    throw parse_error(src + ": an nn-Meter IR file is a JSON object of nodes, found " +
                      std::string(doc.type_name()));
  graph g;
  std::vector<std::vector<std::string>> inbound_names;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& name = it.key();
    const std::string where = src + ": node '" + name + "'";
    const json& rec = it.value();
    if (!rec.is_object()) throw parse_error(where + ": a node record must be a JSON object");
    const json& attr = detail::require(rec, "attr", where, json::value_t::object);
    node n;
    n.name = name;
    if (name.empty()) throw parse_error(src + ": a node has an empty name");
    const auto type_it = attr.find("type");
    if (type_it == attr.end())
      throw parse_error(where + ": attr.type is missing (nn-Meter writes an empty attr for nodes "
                                "its converter could not shape)");
    if (!type_it->is_string() || type_it->get_ref<const std::string&>().empty())
      throw parse_error(where + ": attr.type must be a non-empty string");
    n.type = type_it->get<std::string>();
    n.input_shapes = detail::read_shape_list(attr, "input_shape", where);
    n.output_shapes = detail::read_shape_list(attr, "output_shape", where);
    if (const auto d = attr.find("dtype"); d != attr.end()) {
      const auto t = d->is_string() ? parse_dtype(d->get_ref<const std::string&>()) : std::nullopt;
      if (!t) throw parse_error(where + ": attr.dtype must be one of f32, f16, i8, u8, i32, i64");
      n.elem = *t;
    }
    // Op kind.
    std::optional<op_kind> kind;
    for (const auto& a : detail::ir_type_aliases)
      if (a.name == n.type) kind = a.kind;
    if (!kind) {
      kind = parse_op_kind(n.type);
      if (kind == op_kind::other) kind.reset();
    }
    if (!kind) {
      if (!options.allow_unknown_ops)
        throw parse_error(where + ": unknown operator type '" + n.type +
                          "' (allow_unknown_ops / --allow-unknown-ops keeps it as 'other')");
      kind = op_kind::other;
    }
    n.op = *kind;
    if (const auto aa = attr.find("attr"); aa != attr.end() && !aa->is_null()) {
      if (!aa->is_object()) throw parse_error(where + ": attr.attr must be a JSON object");
      detail::read_attributes(*aa, n, where);
    }
    // nn-Meter's convert_nodes: a convolution whose group equals its input channels is depthwise.
    if (n.op == op_kind::conv && n.attrs.groups > 1 && !n.input_shapes.empty() &&
        n.input_shapes[0].rank() == 4 && n.attrs.groups == n.input_shapes[0][3])
      n.op = op_kind::dwconv;
    if (n.op == op_kind::dwconv && n.attrs.groups == 1 && !n.input_shapes.empty() &&
        n.input_shapes[0].rank() == 4 && n.input_shapes[0][3] > 0)
      n.attrs.groups = n.input_shapes[0][3];
    for (const tensor_shape& s : n.input_shapes) detail::check_dims(s, where + ": input_shape");
    for (const tensor_shape& s : n.output_shapes) detail::check_dims(s, where + ": output_shape");
    // Inbounds are resolved after every node exists.
    const json& inb = detail::require(rec, "inbounds", where, json::value_t::array);
    std::vector<std::string> names;
    for (const json& x : inb) {
      if (!x.is_string()) throw parse_error(where + ": inbounds must be a list of node names");
      names.push_back(x.get<std::string>());
    }
    if (const auto ob = rec.find("outbounds"); ob != rec.end()) {
      if (!ob->is_array()) throw parse_error(where + ": outbounds must be a list of node names");
      for (const json& x : *ob)
        if (!x.is_string()) throw parse_error(where + ": outbounds must be a list of node names");
    }
    inbound_names.push_back(std::move(names));
    g.add_node(std::move(n));
  }
  for (node_index id = 0; id < g.num_nodes(); ++id) {
    std::vector<tensor_ref> ins;
    std::string params;
    for (const std::string& in : inbound_names[id]) {
      const auto p = g.find(in);
      if (p) {
        ins.push_back({*p, 0});
        continue;
      }
      if (!options.allow_dangling_inbounds && !detail::is_parameter_reference(in))
        throw parse_error(src + ": node '" + g.name(id) + "': inbound '" + in +
                          "' names no node in the file (allow_dangling_inbounds / "
                          "--allow-dangling-inbounds drops such names)");
      params += (params.empty() ? "[" : ",") + json(in).dump();
    }
    if (!params.empty())
      g.mutable_node(id).attrs.extra.emplace_back(detail::parameter_inbounds_key, params + "]");
    g.set_inputs(id, std::move(ins));
  }
  try {
    g.validate();
  } catch (const graph_error& e) {
    throw graph_error(src + ": " + e.what());
  }
  return g;
}

/// Reads an nn-Meter IR JSON file.
inline graph load_nnmeter_ir(const std::string& path, const ir_read_options& options = {}) {
  return read_nnmeter_ir(detail::read_file(path), path, options);
}

/// Writes a graph as nn-Meter IR JSON (keys in graph order, `outbounds` recomputed, shapes
/// NHWC, typed attributes under nn-Meter's keys, unmodelled attributes as they were read).
/// nn-Meter reads the result; read_nnmeter_ir reads it back to an equal graph.
inline std::string write_nnmeter_ir(const graph& g, int indent = 2) {
  using json = nlohmann::ordered_json;
  json doc = json::object();
  for (node_index id = 0; id < g.num_nodes(); ++id) {
    const node& n = g[id];
    json rec = json::object();
    json inb = json::array();
    for (const tensor_ref& r : n.inputs) inb.push_back(g.name(r.node));
    json attr = json::object();
    attr["name"] = n.name;
    attr["type"] = n.type.empty() ? std::string(to_string(n.op)) : n.type;
    attr["input_shape"] = detail::shapes_to_json<json>(n.input_shapes);
    attr["output_shape"] = detail::shapes_to_json<json>(n.output_shapes);
    if (n.elem != dtype::f32) attr["dtype"] = std::string(to_string(n.elem));
    json aa = detail::attributes_to_json<json>(n);
    if (const std::string* p = n.attrs.find_extra(detail::parameter_inbounds_key)) {
      for (const json& x : json::parse(*p)) inb.push_back(x);
    }
    attr["attr"] = std::move(aa);
    rec["inbounds"] = std::move(inb);
    json outb = json::array();
    for (node_index s : g.successors(id)) outb.push_back(g.name(s));
    rec["outbounds"] = std::move(outb);
    rec["attr"] = std::move(attr);
    doc[n.name] = std::move(rec);
  }
  return doc.dump(indent);
}

}  // namespace io
NNMETER_END_NAMESPACE
