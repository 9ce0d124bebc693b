// Shared helpers of the ONNX writer and model tests: checking a written model with libonnx,
// and comparing graphs field by field with readable messages.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_write.hpp>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <map>
#include <string>
#include <vector>

namespace nnmeter_test {

using dims_t = std::vector<std::int64_t>;

inline std::string text(const dims_t& d) {
  std::string r = "[";
  for (std::size_t i = 0; i < d.size(); ++i) r += (i ? ", " : "") + std::to_string(d[i]);
  return r + "]";
}
inline std::string text(const nnmeter::tensor_shape& s) { return text(dims_t(s.begin(), s.end())); }

inline dims_t nchw(const nnmeter::tensor_shape& s) { return nnmeter::io::detail::onnx_dims(s); }

/// Runs onnx::checker::check_model and strict shape inference (type checks, errors thrown) on
/// `m`, then returns the inferred shape of every value by name (-2 marks a symbolic dim, -3 a
/// missing one).
/// check_type = false for models with sparse initializers: ONNX 1.12 types them as
/// sparse_tensor, which no operator's type constraint admits.
inline std::map<std::string, dims_t> check_and_infer(onnx::ModelProto& m, bool check_type = true) {
  onnx::checker::check_model(m);
  onnx::ShapeInferenceOptions opts(/*check_type=*/check_type, /*error_mode=*/1,
                                   /*enable_data_propagation=*/false);
  onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), opts);
  std::map<std::string, dims_t> out;
  auto take = [&](const onnx::ValueInfoProto& vi) {
    dims_t d;
    if (!vi.type().tensor_type().has_shape()) {
      d.push_back(-3);
    } else {
      for (const auto& x : vi.type().tensor_type().shape().dim())
        d.push_back(x.has_dim_value() ? x.dim_value() : -2);
    }
    out[vi.name()] = d;
  };
  for (const auto& vi : m.graph().value_info()) take(vi);
  for (const auto& vi : m.graph().output()) take(vi);
  for (const auto& vi : m.graph().input()) take(vi);
  return out;
}

/// Every output of every non-source node of `g`, as "name" / "name:k", with its NCHW shape.
inline std::map<std::string, dims_t> expected_onnx_shapes(const nnmeter::graph& g) {
  std::map<std::string, dims_t> out;
  for (const nnmeter::node& n : g.nodes()) {
    if (n.op == nnmeter::op_kind::constant) continue;
    for (std::size_t k = 0; k < n.output_shapes.size(); ++k) {
      const std::string name =
          n.output_shapes.size() == 1 ? n.name : n.name + ":" + std::to_string(k);
      out[name] = nchw(n.output_shapes[k]);
    }
  }
  return out;
}

/// Empty when every IR tensor has the same NCHW shape after ONNX shape inference; otherwise
/// one line per difference.
inline std::string shape_mismatches(const nnmeter::graph& g,
                                    const std::map<std::string, dims_t>& inferred) {
  std::string r;
  for (const auto& kv : expected_onnx_shapes(g)) {
    const auto it = inferred.find(kv.first);
    if (it == inferred.end())
      r += "  " + kv.first + ": no inferred shape\n";
    else if (it->second != kv.second)
      r += "  " + kv.first + ": ours " + text(kv.second) + ", ONNX " + text(it->second) + "\n";
  }
  return r;
}

inline std::string text(const nnmeter::attributes& a) {
  std::string r = "kernel " + text(dims_t{a.kernel[0], a.kernel[1]}) + " strides " +
                  text(dims_t{a.strides[0], a.strides[1]}) + " dil " +
                  text(dims_t{a.dilations[0], a.dilations[1]}) + " pads " +
                  text(dims_t(a.pads.begin(), a.pads.end())) + " padding " +
                  std::to_string(static_cast<int>(a.padding)) + " groups " +
                  std::to_string(a.groups) + " bias " + std::to_string(a.has_bias) + " ceil " +
                  std::to_string(a.ceil_mode) + " axis " + std::to_string(a.axis) + " axes " +
                  text(a.axes) + " keepdims " + std::to_string(a.keepdims) + " perm " +
                  text(a.perm) + " split " + text(a.split_sizes) + " target " +
                  text(a.target_shape) + " alpha " + std::to_string(a.alpha) + " beta " +
                  std::to_string(a.beta) + " clip [" + std::to_string(a.clip_min) + ", " +
                  std::to_string(a.clip_max) + "] scales " + std::to_string(a.scales[0]) + "," +
                  std::to_string(a.scales[1]) + " mode '" + a.mode + "' extra {";
  for (const auto& kv : a.extra) r += kv.first + ": " + kv.second + "; ";
  return r + "}";
}

/// `g` as the ONNX importer returns it after a round trip through the writer. The importer
/// (nnmeter/io/onnx_import.hpp) records three things the graph builder leaves at their
/// defaults, so a builder graph is adjusted before the comparison:
/// - bn: attrs.alpha holds BatchNormalization's epsilon (ONNX default 1e-5; builder: 0);
/// - pad: attrs.mode = "constant" (builder: "");
/// - reshape: attrs.target_shape = the resolved output shape (builder: the target as given,
///   with its 0 / -1 entries).
inline nnmeter::graph importer_normal_form(const nnmeter::graph& g) {
  nnmeter::graph r = g;
  for (nnmeter::node_index i = 0; i < r.num_nodes(); ++i) {
    nnmeter::node& n = r.mutable_node(i);
    if (n.op == nnmeter::op_kind::bn && n.attrs.alpha == 0.0f) n.attrs.alpha = 1e-5f;
    if (n.op == nnmeter::op_kind::pad && n.attrs.mode.empty()) n.attrs.mode = "constant";
    if (n.op == nnmeter::op_kind::reshape && n.output_shapes.size() == 1 &&
        n.output_shapes[0].is_static())
      n.attrs.target_shape.assign(n.output_shapes[0].begin(), n.output_shapes[0].end());
  }
  return r;
}

/// Compares two graphs node by node, by name: op kind, element type, operands (by producer
/// name and output index), input and output shapes and attributes. `node::type` is not
/// compared (builders write "conv", importers the source's "Conv"). Returns "" when equal.
inline std::string graph_differences(const nnmeter::graph& want, const nnmeter::graph& got) {
  std::string r;
  if (want.num_nodes() != got.num_nodes())
    r += "node count: want " + std::to_string(want.num_nodes()) + ", got " +
         std::to_string(got.num_nodes()) + "\n";
  for (const nnmeter::node& w : want.nodes()) {
    const auto id = got.find(w.name);
    if (!id) {
      r += "missing node '" + w.name + "' (" + std::string(nnmeter::to_string(w.op)) + ")\n";
      continue;
    }
    const nnmeter::node& o = got[*id];
    const std::string p = "node '" + w.name + "': ";
    if (w.op != o.op)
      r += p + "op " + std::string(nnmeter::to_string(w.op)) + " vs " +
           std::string(nnmeter::to_string(o.op)) + "\n";
    if (w.elem != o.elem)
      r += p + "dtype " + std::string(nnmeter::to_string(w.elem)) + " vs " +
           std::string(nnmeter::to_string(o.elem)) + "\n";
    std::string wi;
    std::string oi;
    for (const auto& t : w.inputs) wi += want[t.node].name + ":" + std::to_string(t.output) + " ";
    for (const auto& t : o.inputs) oi += got[t.node].name + ":" + std::to_string(t.output) + " ";
    if (wi != oi) r += p + "operands {" + wi + "} vs {" + oi + "}\n";
    if (w.input_shapes != o.input_shapes) {
      std::string a;
      std::string b;
      for (const auto& s : w.input_shapes) a += text(s);
      for (const auto& s : o.input_shapes) b += text(s);
      r += p + "input shapes " + a + " vs " + b + "\n";
    }
    if (w.output_shapes != o.output_shapes) {
      std::string a;
      std::string b;
      for (const auto& s : w.output_shapes) a += text(s);
      for (const auto& s : o.output_shapes) b += text(s);
      r += p + "output shapes " + a + " vs " + b + "\n";
    }
    if (w.attrs != o.attrs)
      r += p + "attrs\n    want " + text(w.attrs) + "\n    got  " + text(o.attrs) + "\n";
  }
  for (const nnmeter::node& o : got.nodes())
    if (!want.find(o.name))
      r += "extra node '" + o.name + "' (" + std::string(nnmeter::to_string(o.op)) + ")\n";
  return r;
}

}  // namespace nnmeter_test
