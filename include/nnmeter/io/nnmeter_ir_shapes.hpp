// nnmeter — the shapes of an nn-Meter IR file, re-derived and reconciled with its declarations.
// nn-Meter's converters write shapes that contradict their operators in documented ways
// (docs/ir-json.md, "Declared shapes"); this step takes the shapes the operators give, warns
// about each documented quirk, and refuses every other contradiction. Standard library only;
// called by the IR reader (json_ir.hpp) before validate().
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {
namespace detail {

/// The documented ways nn-Meter IR declarations differ from what their operators give.
enum class ir_quirk : std::uint8_t {
  unknown_dims,     ///< -1 or 0 written for a dimension the converter did not know
  reduce_alias,     ///< TensorFlow converter bug: a Mean's reduced shape written onto its input
  valid_window,     ///< TensorFlow converter bug: VALID window size from the stride, not the kernel
  broadcast_shape,  ///< a broadcast operator declared larger than the broadcast of its inputs
  axis_order,       ///< ONNX-derived IR: axis attributes in NCHW order on NHWC shapes
  count_
};

inline const char* ir_quirk_text(ir_quirk q) {
  switch (q) {
    case ir_quirk::unknown_dims:
      return "declared dimensions of -1 or 0 (nn-Meter writes them for sizes it did not know) "
             "replaced by the sizes the operators give";
    case ir_quirk::reduce_alias:
      return "output shapes of the inputs of Mean nodes declared as the reduced shape (nn-Meter "
             "TensorFlow converter bug, nn-Meter issue #111) replaced by the real shapes";
    case ir_quirk::valid_window:
      return "VALID window outputs computed by nn-Meter from the stride instead of the kernel "
             "(nn-Meter issue #110) replaced by the real sizes";
    case ir_quirk::broadcast_shape:
      return "outputs of broadcast operators declared larger than the broadcast of their inputs "
             "(nn-Meter's TensorFlow converter) replaced by the broadcast";
    case ir_quirk::axis_order:
      return "axis attributes of rank-4 ONNX operators in NCHW order (nn-Meter's ONNX converter "
             "keeps them while permuting shapes to NHWC) read as NHWC";
    default:
      return "";
  }
}

struct ir_quirk_log {
  std::size_t count[static_cast<std::size_t>(ir_quirk::count_)] = {};
  std::string first[static_cast<std::size_t>(ir_quirk::count_)];
  std::size_t kept_inputs = 0;
  std::string first_kept;

  void add(ir_quirk q, const std::string& example) {
    const auto i = static_cast<std::size_t>(q);
    if (count[i]++ == 0) first[i] = example;
  }
  void report(const std::string& src, std::vector<std::string>& warnings) const {
    for (std::size_t i = 0; i < static_cast<std::size_t>(ir_quirk::count_); ++i) {
      if (count[i] == 0) continue;
      warnings.push_back(src + ": " + std::to_string(count[i]) + " " +
                         ir_quirk_text(static_cast<ir_quirk>(i)) + "; first: " + first[i]);
    }
    if (kept_inputs != 0)
      warnings.push_back(src + ": " + std::to_string(kept_inputs) +
                         " node(s) keep the input shapes the file declares, which differ from "
                         "their operands' (nn-Meter's kernel features are defined on them); "
                         "first: " + first_kept);
  }
};

inline bool is_unknown_dims_of(const tensor_shape& declared, const tensor_shape& real) {
  if (declared.rank() != real.rank() || declared == real) return false;
  for (std::size_t i = 0; i < real.rank(); ++i) {
    const auto k = static_cast<std::ptrdiff_t>(i);
    if (declared[k] != real[k] && !(declared[k] <= 0 && real[k] > 0)) return false;
  }
  return true;
}

// nn-Meter's TensorFlow converter: VALID output = ceil((in - e + 1) / s) with the "effective
// kernel" e = d * (s - 1) + 1 taken from the stride.
inline bool is_nnmeter_valid_window(const node& n, const tensor_shape& x,
                                    const tensor_shape& declared, const tensor_shape& derived) {
  if (!is_windowed(n.op) || n.attrs.padding != padding_mode::valid || x.rank() != 4 ||
      declared.rank() != 4 || derived.rank() != 4 || declared[0] != derived[0] ||
      declared[3] != derived[3])
    return false;
  for (std::size_t i = 0; i < 2; ++i) {
    const std::int64_t in = x[static_cast<std::ptrdiff_t>(i + 1)];
    const std::int64_t s = n.attrs.strides[i];
    const std::int64_t e = n.attrs.dilations[i] * (s - 1) + 1;
    const std::int64_t bug = (in - e + 1 + s - 1) / s;
    if (declared[static_cast<std::ptrdiff_t>(i + 1)] != bug) return false;
  }
  return true;
}

// `declared` is what broadcasting `derived` against something larger gives.
inline bool is_broadcast_of(const tensor_shape& declared, const tensor_shape& derived) {
  if (declared.rank() < derived.rank()) return false;
  const std::size_t off = declared.rank() - derived.rank();
  for (std::size_t i = 0; i < declared.rank(); ++i) {
    const std::int64_t d = declared[static_cast<std::ptrdiff_t>(i)];
    const std::int64_t r = i < off ? 1 : derived[static_cast<std::ptrdiff_t>(i - off)];
    if (d != r && r != 1) return false;
  }
  return true;
}

// Node types only nn-Meter's ONNX converter writes: their presence makes a file ONNX-derived.
inline bool is_onnx_only_type(std::string_view t) {
  return t == "Conv" || t == "BatchNormalization" || t == "Gemm" || t == "GlobalAveragePool" ||
         t == "Flatten" || t == "ConvTranspose" || t == "HardSigmoid" || t == "Clip";
}

inline std::int64_t nhwc_axis_of(std::int64_t a) {
  constexpr std::int64_t map[4] = {0, 3, 1, 2};
  const std::int64_t b = a < 0 ? a + 4 : a;
  return b >= 0 && b < 4 ? map[b] : a;
}

/// Re-derives the output shapes of `g` (read from nn-Meter IR file `src`) in topological order
/// and reconciles them with the file's declarations: a documented quirk (ir_quirk) takes the
/// derived shape with one warning per kind of quirk, every other contradiction throws
/// graph_error naming the file, the node and both shapes. Declared input shapes that differ from
/// their operands only through such a quirk are kept (nn-Meter's features are defined on them)
/// and recorded under attr_keys::declared_input_shapes. Then validate(g).
inline void reconcile_nnmeter_ir_shapes(graph& g, const std::string& src,
                                        std::vector<std::string>& warnings,
                                        const validate_options& options = {}) {
  ir_quirk_log log;
  const std::size_t n_nodes = g.num_nodes();
  // A file this library wrote carries the records of an earlier reconciliation: the producers'
  // outputs there are already the real shapes, so the record is what permits the kept input
  // declarations (only in the forms the quirks give, checked below); it is recomputed.
  std::vector<bool> kept_before(n_nodes, false);
  for (node_index i = 0; i < n_nodes; ++i) {
    std::vector<std::pair<std::string, std::string>>& extra = g.mutable_node(i).attrs.extra;
    for (std::size_t k = extra.size(); k-- > 0;)
      if (extra[k].first == attr_keys::declared_input_shapes) {
        extra.erase(extra.begin() + static_cast<std::ptrdiff_t>(k));
        kept_before[i] = true;
      }
  }
  // What the file declared, before anything is replaced.
  std::vector<std::vector<tensor_shape>> declared_out(n_nodes);
  for (node_index i = 0; i < n_nodes; ++i) declared_out[i] = g[i].output_shapes;

  // ONNX-derived files keep ONNX's NCHW axis numbers on NHWC shapes.
  bool onnx_derived = false;
  for (node_index i = 0; i < n_nodes && !onnx_derived; ++i)
    onnx_derived = is_onnx_only_type(g[i].type);
  if (onnx_derived) {
    for (node_index i = 0; i < n_nodes; ++i) {
      node& n = g.mutable_node(i);
      const bool rank4 = !n.input_shapes.empty() && n.input_shapes[0].rank() == 4;
      if (!rank4) continue;
      if (n.op == op_kind::concat || n.op == op_kind::split || n.op == op_kind::softmax ||
          n.op == op_kind::gather) {
        const std::int64_t a = nhwc_axis_of(n.attrs.axis);
        if (a != n.attrs.axis) {
          log.add(ir_quirk::axis_order, "node '" + n.name + "' axis " +
                                            std::to_string(n.attrs.axis) + " read as " +
                                            std::to_string(a));
          n.attrs.axis = a;
        }
      } else if (n.op == op_kind::reduce_mean || n.op == op_kind::squeeze ||
                 n.op == op_kind::slice) {
        bool changed = false;
        for (std::int64_t& a : n.attrs.axes) {
          const std::int64_t b = nhwc_axis_of(a);
          changed = changed || b != a;
          a = b;
        }
        if (changed) log.add(ir_quirk::axis_order, "node '" + n.name + "' axes");
      }
    }
  }

  // Every inbound is a declared output: a node read by another must declare its
  // 'output_shape' (everything below reads the producers' outputs).
  for (node_index i = 0; i < n_nodes; ++i)
    for (const tensor_ref& r : g[i].inputs)
      if (r.output >= g[r.node].output_shapes.size())
        throw graph_error(src + ": " + nnmeter::detail::node_where(g[i]) + ": inbound '" +
                          g.name(r.node) +
                          "' declares no output shape ('output_shape' is missing or empty)");

  // Missing input shapes are the producers' declared outputs.
  for (node_index i = 0; i < n_nodes; ++i) {
    node& n = g.mutable_node(i);
    for (std::size_t k = n.input_shapes.size(); k < n.inputs.size(); ++k) {
      const tensor_ref r = n.inputs[k];
      n.input_shapes.push_back(g[r.node].output_shapes[r.output]);
    }
  }

  const std::string prefix = src + ": ";
  try {
    (void)rederive_shapes(g, [&](const graph& gr, const shape_conflict& c) {
      const node& n = gr[c.node];
      const std::string example = "node '" + n.name + "' declared " +
                                  shape_rules::text(c.declared) + ", is " +
                                  shape_rules::text(c.derived);
      if (is_unknown_dims_of(c.declared, c.derived)) {
        log.add(ir_quirk::unknown_dims, example);
        return true;
      }
      for (node_index s : gr.successors(c.node)) {
        const node& m = gr[s];
        if ((m.op == op_kind::reduce_mean || m.op == op_kind::global_avgpool) &&
            !declared_out[s].empty() && declared_out[s][0] == c.declared) {
          log.add(ir_quirk::reduce_alias, example);
          return true;
        }
      }
      if (!n.inputs.empty()) {
        const tensor_ref r = n.inputs[0];
        if (is_nnmeter_valid_window(n, gr[r.node].output_shapes[r.output], c.declared,
                                    c.derived)) {
          log.add(ir_quirk::valid_window, example);
          return true;
        }
      }
      if (is_elementwise_binary(n.op) && is_broadcast_of(c.declared, c.derived)) {
        log.add(ir_quirk::broadcast_shape, example);
        return true;
      }
      std::string ins;
      for (std::size_t k = 0; k < n.inputs.size(); ++k) {
        const tensor_ref r = n.inputs[k];
        ins += (k != 0 ? " and " : "") + shape_rules::text(gr[r.node].output_shapes[r.output]);
      }
      throw graph_error(nnmeter::detail::node_where(n) + ": output " + std::to_string(c.output) +
                        " is declared " + shape_rules::text(c.declared) + " but its input" +
                        (n.inputs.size() > 1 ? "s " : " ") + ins + " give" +
                        (n.inputs.size() > 1 ? " " : "s ") + shape_rules::text(c.derived));
    });
  } catch (const graph_error& e) {
    throw graph_error(prefix + e.what());
  }

  // Declared input shapes against the operands' real shapes.
  for (node_index i = 0; i < n_nodes; ++i) {
    const node& n = g[i];
    bool differs = false;
    std::vector<tensor_shape> real;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const tensor_ref r = n.inputs[k];
      const tensor_shape& actual = g[r.node].output_shapes[r.output];
      real.push_back(actual);
      const tensor_shape& decl = n.input_shapes[k];
      if (decl == actual) continue;
      const bool as_file = r.output < declared_out[r.node].size() &&
                           declared_out[r.node][r.output] == decl;
      const bool alias = (n.op == op_kind::reduce_mean || n.op == op_kind::global_avgpool) &&
                         !declared_out[i].empty() && declared_out[i][0] == decl;
      const bool rewritten = kept_before[i] && is_broadcast_of(decl, actual);
      if (!as_file && !alias && !rewritten && !is_unknown_dims_of(decl, actual))
        throw graph_error(prefix + nnmeter::detail::node_where(n) + ": input " + std::to_string(k) +
                          " is declared " + shape_rules::text(decl) + " but '" +
                          g[r.node].name + "' produces " + shape_rules::text(actual));
      differs = true;
    }
    if (!differs) continue;
    if (log.kept_inputs++ == 0)
      log.first_kept = "node '" + n.name + "' declares " +
                       nnmeter::detail::shapes_text(std::vector<tensor_shape>(
                           n.input_shapes.begin(),
                           n.input_shapes.begin() + static_cast<std::ptrdiff_t>(n.inputs.size()))) +
                       ", its operands are " + nnmeter::detail::shapes_text(real);
    g.mutable_node(i).attrs.extra.emplace_back(attr_keys::declared_input_shapes,
                                               nnmeter::detail::shapes_text(real));
  }
  log.report(src, warnings);
  try {
    validate(g, options);
  } catch (const graph_error& e) {
    throw graph_error(prefix + e.what());
  }
}

}  // namespace detail
}  // namespace io
NNMETER_END_NAMESPACE
