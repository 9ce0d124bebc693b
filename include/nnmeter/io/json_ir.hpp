// nnmeter — nn-Meter IR JSON import and export. Opt-in: needs nlohmann_json (nnmeter::json).
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_ir.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json_common.hpp>
#include <nnmeter/io/nnmeter_ir_shapes.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
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
  /// Accept graph inputs (Placeholder, input) whose declared shape has unknown dimensions (-1,
  /// or the 0 nn-Meter's ONNX converter writes for a symbolic dimension); every shape derived
  /// from them is unknown there too (default: error naming the node; see validate_options).
  bool allow_unknown_input_dims = false;
  /// Size and nesting limits of the document (json_limits: 1 GiB, 256 levels by default).
  json_limits limits{};
};

/// An imported nn-Meter IR document: the graph, and the reader's warnings in order (quirks it
/// tolerated, such as window keys that disagree or keys it ignores).
struct ir_import_result {
  nnmeter::graph graph;
  std::vector<std::string> warnings;
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

namespace detail {

/// Reads the node records of one nn-Meter IR document, one at a time and in file order
/// (stream_json_object hands them over as the parser completes them, so the document is never
/// held as a whole and every step is linear in the file size), then connects the nodes.
class ir_reader {
 public:
  using json = nlohmann::ordered_json;

  ir_reader(std::string source, const ir_read_options& options)
      : src_(std::move(source)), options_(options) {}

  /// One member of the top-level object: node `name` and its record.
  void add_record(std::string&& name, json&& rec) {
    if (name.empty()) throw parse_error(src_ + ": a node has an empty name");
    const std::string where = src_ + ": node '" + name + "'";
    if (!rec.is_object())
      throw parse_error(where + ": a node record must be a JSON object, found " +
                        std::string(rec.type_name()));
    for (auto it = rec.begin(); it != rec.end(); ++it) {
      const std::string& k = it.key();
      if (k != "inbounds" && k != "outbounds" && k != "attr")
        warnings_.add("unknown record key", where + ": key '" + k +
                                                "' is not part of nn-Meter IR (inbounds, "
                                                "outbounds, attr); ignored");
    }
    const json& attr = detail::require(rec, "attr", where, json::value_t::object);
    node n;
    n.name = std::move(name);
    for (auto it = attr.begin(); it != attr.end(); ++it) {
      const std::string& k = it.key();
      if (k != "name" && k != "type" && k != "input_shape" && k != "output_shape" &&
          k != "attr" && k != "dtype")
        warnings_.add("unknown attr key",
                      where + ": key 'attr." + k +
                          "' is not part of nn-Meter IR (name, type, input_shape, output_shape, "
                          "attr, dtype); ignored");
    }
    if (const auto nm = attr.find("name"); nm != attr.end() && !nm->is_null()) {
      if (!nm->is_string())
        throw parse_error(where + ": attr.name must be a string, found " + excerpt(*nm));
      if (nm->get_ref<const std::string&>() != n.name)
        warnings_.add("attr.name differs",
                      where + ": attr.name is " + excerpt(*nm) +
                          "; the node is named by its key, as in nn-Meter");
    }
    const auto type_it = attr.find("type");
    if (type_it == attr.end())
      throw parse_error(where + ": attr.type is missing (nn-Meter writes an empty attr for nodes "
                                "its converter could not shape)");
    if (!type_it->is_string() || type_it->get_ref<const std::string&>().empty())
      throw parse_error(where + ": attr.type must be a non-empty string, found " +
                        excerpt(*type_it));
    n.type = type_it->get<std::string>();
    n.input_shapes = detail::read_shape_list(attr, "input_shape", where);
    n.output_shapes = detail::read_shape_list(attr, "output_shape", where);
    if (const auto d = attr.find("dtype"); d != attr.end()) {
      const auto t = d->is_string() ? parse_dtype(d->get_ref<const std::string&>()) : std::nullopt;
      if (!t)
        throw parse_error(where + ": attr.dtype must be one of f32, f16, i8, u8, i32, i64 "
                                  "(the element types nnmeter models), found " + excerpt(*d));
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
      if (!options_.allow_unknown_ops)
        throw parse_error(where + ": unknown operator type '" + n.type +
                          "' (allow_unknown_ops / --allow-unknown-ops keeps it as 'other')");
      warnings_.add("unknown operator type", where + ": unknown operator type '" + n.type +
                                                 "' kept as 'other' (allow_unknown_ops)");
      kind = op_kind::other;
    }
    n.op = *kind;
    if (const auto aa = attr.find("attr"); aa != attr.end() && !aa->is_null()) {
      if (!aa->is_object())
        throw parse_error(where + ": attr.attr must be a JSON object, found " +
                          std::string(aa->type_name()));
      detail::read_attributes(*aa, n, where, &warnings_);
      // TensorFlow's Mean (nn-Meter's TensorFlow converter) defaults to keep_dims=false.
      if (n.type == "Mean" && !aa->contains("keep_dims") && !aa->contains("keepdims"))
        n.attrs.keepdims = false;
    } else if (n.type == "Mean") {
      n.attrs.keepdims = false;
    }
    if (is_windowed(n.op) && !n.attrs.has_window())
      throw parse_error(where + ": a " + n.type +
                        " node needs its window size: attr.attr has none of 'ks', "
                        "'kernel_shape', 'weight_shape', 'ksize'");
    // nn-Meter's convert_nodes: a convolution whose group equals its input channels is depthwise.
    if (n.op == op_kind::conv && n.attrs.groups > 1 && !n.input_shapes.empty() &&
        n.input_shapes[0].rank() == 4 && n.attrs.groups == n.input_shapes[0][3])
      n.op = op_kind::dwconv;
    if (n.op == op_kind::dwconv && n.attrs.groups == 1 && !n.input_shapes.empty() &&
        n.input_shapes[0].rank() == 4 && n.input_shapes[0][3] > 0)
      n.attrs.groups = n.input_shapes[0][3];
    // Inbounds are resolved after every node exists.
    const json& inb = detail::require(rec, "inbounds", where, json::value_t::array);
    std::vector<std::string> names;
    names.reserve(inb.size());
    for (const json& x : inb) {
      if (!x.is_string())
        throw parse_error(where + ": inbounds must be a list of node names, found " + excerpt(x));
      names.push_back(x.get<std::string>());
    }
    if (const auto ob = rec.find("outbounds"); ob != rec.end()) {
      if (!ob->is_array())
        throw parse_error(where + ": outbounds must be a list of node names, found " +
                          excerpt(*ob));
      for (const json& x : *ob)
        if (!x.is_string())
          throw parse_error(where + ": outbounds must be a list of node names, found " +
                            excerpt(x));
    }
    // The graph's name index finds a second node of one name (the parser leaves the top-level
    // keys to it: stream_checks_duplicates is off).
    if (g_.find(n.name))
      throw parse_error(src_ + ": node '" + detail::shortened(n.name, 200) +
                        "' appears twice (a name may appear once in an object)");
    inbound_names_.push_back(std::move(names));
    g_.add_node(std::move(n));
  }

  /// Connects the nodes, runs the final checks and returns the graph with the warnings.
  ir_import_result finish() {
    for (node_index id = 0; id < g_.num_nodes(); ++id) {
      std::vector<tensor_ref> ins;
      ins.reserve(inbound_names_[id].size());
      std::string params;
      for (const std::string& in : inbound_names_[id]) {
        const auto p = g_.find(in);
        if (p) {
          ins.push_back({*p, 0});
          continue;
        }
        const bool parameter = detail::is_parameter_reference(in);
        if (!options_.allow_dangling_inbounds && !parameter)
          throw parse_error(src_ + ": node '" + g_.name(id) + "': inbound '" + in +
                            "' names no node in the file (allow_dangling_inbounds / "
                            "--allow-dangling-inbounds drops such names)");
        if (!parameter)
          warnings_.add("dangling inbound",
                        src_ + ": node '" + g_.name(id) + "': inbound '" + in +
                            "' names no node in the file; not an operand "
                            "(allow_dangling_inbounds)");
        params += (params.empty() ? "[" : ",") + json(in).dump();
      }
      if (!params.empty())
        g_.mutable_node(id).attrs.extra.emplace_back(detail::parameter_inbounds_key, params + "]");
      g_.set_inputs(id, std::move(ins));
    }
    inbound_names_.clear();
    inbound_names_.shrink_to_fit();

    ir_import_result result;
    // The final checks of the imported graph: structure (a cycle), then every shape re-derived
    // from the operators and reconciled with the declarations (nnmeter_ir_shapes.hpp: the
    // documented nn-Meter quirks are repaired with one warning per kind, any other
    // contradiction is an error), which ends with nnmeter::validate.
    try {
      g_.validate();
    } catch (const graph_error& e) {
      throw graph_error(src_ + ": " + e.what());
    }
    std::vector<std::string> shape_warnings;
    validate_options vo;
    vo.allow_unknown_input_dims = options_.allow_unknown_input_dims;
    reconcile_nnmeter_ir_shapes(g_, src_, shape_warnings, vo);
    // nn-Meter's depthwise rule (see add_record) for convolutions whose file gave no input
    // shape: now that the operands' shapes are known, so that the graph reads back the same
    // once written with its input shapes.
    for (node_index id = 0; id < g_.num_nodes(); ++id) {
      node& n = g_.mutable_node(id);
      if (n.op == op_kind::conv && n.attrs.groups > 1 && !n.input_shapes.empty() &&
          n.input_shapes[0].rank() == 4 && n.attrs.groups == n.input_shapes[0][3])
        n.op = op_kind::dwconv;
    }
    result.graph = std::move(g_);
    result.warnings = warnings_.take();
    for (std::string& w : shape_warnings) result.warnings.push_back(std::move(w));
    return result;
  }

 private:
  std::string src_;
  ir_read_options options_;
  graph g_;
  std::vector<std::vector<std::string>> inbound_names_;
  warning_list warnings_;
};

}  // namespace detail

/// Imports an nn-Meter IR JSON document (`text`); `source` (a file name) prefixes every error
/// message and warning. Nodes keep the file's key order. Time and memory are linear in the
/// size of the document: each node record is read and discarded as soon as the parser has it.
/// Throws parse_error naming the node and key on malformed input (not JSON, nested deeper than
/// options.limits.max_depth, a key twice in one object -- two nodes of one name --, missing
/// fields, wrong types, values out of range, unknown op types, dangling inbounds) and
/// graph_error on a cycle. Tolerated quirks are returned as warnings.
[[nodiscard]] inline ir_import_result import_nnmeter_ir(std::string_view text,
                                                        std::string_view source = "<memory>",
                                                        const ir_read_options& options = {}) {
  using json = nlohmann::ordered_json;
  detail::check_json_limits(options.limits);
  detail::json_parse_settings settings;
  settings.source = std::string(source);
  settings.member_noun = "node";
  settings.stream_checks_duplicates = false;  // ir_reader checks through the graph's index
  settings.max_depth = options.limits.max_depth;
  detail::ir_reader reader(settings.source, options);
  const detail::bounded_json_builder<json>::member_sink sink = [&](std::string&& name,
                                                                    json&& rec) {
    reader.add_record(std::move(name), std::move(rec));
  };
  detail::stream_json_object<json>(text, settings, sink,
                                   "an nn-Meter IR file is a JSON object of nodes");
  return reader.finish();
}

/// Imports an nn-Meter IR JSON file (read with options.limits.max_bytes; a directory, a device
/// or a file that does not start like JSON is refused before it is read whole).
[[nodiscard]] inline ir_import_result import_nnmeter_ir_file(const std::string& path,
                                                             const ir_read_options& options = {}) {
  return import_nnmeter_ir(detail::read_json_file(path, options.limits, "an nn-Meter IR file"),
                           path, options);
}

/// Reads an nn-Meter IR JSON document into a graph (import_nnmeter_ir without the warnings).
inline graph read_nnmeter_ir(std::string_view text, std::string_view source = "<memory>",
                             const ir_read_options& options = {}) {
  return import_nnmeter_ir(text, source, options).graph;
}

/// Reads an nn-Meter IR JSON file (import_nnmeter_ir_file without the warnings).
inline graph load_nnmeter_ir(const std::string& path, const ir_read_options& options = {}) {
  return import_nnmeter_ir_file(path, options).graph;
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
      for (const json& x : detail::parse_json_text<json>(*p, "node '" + n.name + "': parameter inbounds"))
        inb.push_back(x);
    }
    attr["attr"] = std::move(aa);
    rec["inbounds"] = std::move(inb);
    json outb = json::array();
    for (node_index s : g.successors(id)) outb.push_back(g.name(s));
    rec["outbounds"] = std::move(outb);
    rec["attr"] = std::move(attr);
    detail::append_member(doc, n.name, std::move(rec));  // graph names are distinct
  }
  return doc.dump(indent);
}

}  // namespace io
NNMETER_END_NAMESPACE
