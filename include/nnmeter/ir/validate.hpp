// nnmeter — validate(): a graph's shapes re-derived from its inputs and attributes with the
// shape rules (ir/shape_rules.hpp), so that nothing downstream — kernel detection, features,
// the predictor, the executor — ever works on a shape that contradicts its operator.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/shape_rules.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Keys of attributes::extra that the library itself sets on imported nodes.
namespace attr_keys {
/// The node's output shape depends on tensor values the importer did not know (a Reshape by a
/// computed shape, a Pad by computed pads, ...): its declared outputs are taken as they are,
/// unknown dimensions included. The value is JSON text (`true` or a reason string).
inline constexpr const char* data_dependent = "nnmeter:data_dependent";
/// The node's input_shapes are the source's own declarations, which differ from the operands'
/// real shapes (nn-Meter IR quirks, kept because nn-Meter's features are defined on them). The
/// value is the real operand shapes as compact JSON ("[[1,7,7,1024]]"), see shapes_text().
inline constexpr const char* declared_input_shapes = "nnmeter:declared_input_shapes";
}  // namespace attr_keys

/// Options of validate().
struct validate_options {
  /// Accept graph inputs (op_kind::input) with unknown (-1) dimensions. Off: an input of
  /// unknown size is an error, because every shape below it would be unknown too.
  bool allow_unknown_input_dims = false;
};

namespace detail {

/// Compact JSON of a list of shapes: "[[1,7,7,1024],[]]".
inline std::string shapes_text(const std::vector<tensor_shape>& shapes) {
  std::string r = "[";
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (i != 0) r += ",";
    r += "[";
    for (std::size_t j = 0; j < shapes[i].rank(); ++j) {
      if (j != 0) r += ",";
      r += std::to_string(shapes[i][static_cast<std::ptrdiff_t>(j)]);
    }
    r += "]";
  }
  return r + "]";
}

inline bool is_passthrough(op_kind k) noexcept {
  switch (k) {
    case op_kind::identity:
    case op_kind::bn:
    case op_kind::bias_add:
    case op_kind::cast:
    case op_kind::quantize:
    case op_kind::dequantize:
    case op_kind::prelu:
      return true;
    default:
      return is_activation(k);
  }
}

// ONNX axis i of a rank-4 tensor in NHWC.
inline std::size_t nhwc_of_nchw(std::size_t i) noexcept {
  constexpr std::size_t map[4] = {0, 3, 1, 2};
  return i < 4 ? map[i] : i;
}

}  // namespace detail

/// The output shapes of node `n` re-derived by the shape rules from its operand shapes `in`
/// (the producers' output shapes, then the node's declared shapes of constant operands that are
/// not graph nodes) and its attributes. Dimensions the rules cannot determine from the IR — a
/// convolution's or fully connected layer's output channels (they come from the weights), the
/// outputs of `other` and data-dependent nodes, extra outputs such as MaxPool's indices — are
/// taken from the node's declared output_shapes. When an operand shape has unknown dimensions
/// the declared outputs are returned as they are (the rules apply to known shapes) and
/// `checked` is set to false. Throws graph_error("<where>: ...") when the node contradicts a
/// rule (a window larger than its padded input, groups that do not divide the channels, ...).
inline std::vector<tensor_shape> derive_output_shapes(const std::string& where, const node& n,
                                                      const std::vector<tensor_shape>& in,
                                                      bool& checked) {
  using namespace shape_rules;
  const std::vector<tensor_shape>& declared = n.output_shapes;
  checked = false;
  if (n.op == op_kind::input || n.op == op_kind::constant || n.op == op_kind::other ||
      n.op == op_kind::gather || n.attrs.find_extra(attr_keys::data_dependent) != nullptr)
    return declared;
  for (const tensor_shape& s : in)
    if (!s.is_static()) return declared;
  if (in.empty()) fail(where, "has no data operand");
  if (declared.empty()) fail(where, "declares no output shape");
  const tensor_shape& x = in[0];
  const tensor_shape& y = declared[0];
  std::vector<tensor_shape> out = declared;  // extra outputs stay as declared
  checked = true;
  auto need_operands = [&](std::size_t k) {
    if (in.size() < k)
      fail(where, "needs " + std::to_string(k) + " operands, has " + std::to_string(in.size()));
  };
  auto declared_channels = [&](std::size_t rank) {
    if (y.rank() != rank)
      fail(where, "declares output " + text(y) + ", expected rank " + std::to_string(rank));
    return y.back();
  };
  switch (n.op) {
    case op_kind::conv:
    case op_kind::dwconv: {
      require_rank4(where, x);
      const dim cout = declared_channels(4);
      conv_channels(where, x, cout, n.attrs.groups);
      if (n.op == op_kind::dwconv && n.attrs.groups != x[3])
        fail(where, "a depthwise convolution needs groups (" + std::to_string(n.attrs.groups) +
                        ") equal to the input channels of " + text(x));
      if (n.attrs.kernel[0] == 0 || n.attrs.kernel[1] == 0) {  // window not known (ONNX)
        out[0] = tensor_shape{x[0], y[1], y[2], cout};
        break;
      }
      attributes a = n.attrs;
      a.ceil_mode = false;
      out[0] = window(where, x, a);
      out[0][3] = cout;
      break;
    }
    case op_kind::conv_transpose: {
      require_rank4(where, x);
      const dim cout = declared_channels(4);
      if (n.attrs.find_extra("output_shape") != nullptr || n.attrs.kernel[0] == 0 ||
          n.attrs.kernel[1] == 0) {
        if (n.attrs.groups < 1 || x[3] % n.attrs.groups != 0 || cout % n.attrs.groups != 0)
          fail(where, "groups " + std::to_string(n.attrs.groups) +
                          " must divide the input and output channels");
        out[0] = tensor_shape{x[0], y[1], y[2], cout};
        break;
      }
      std::array<dim, 2> opad{0, 0};
      std::vector<dim> op;
      if (detail::extra_ints(n.attrs, "output_padding", op) && op.size() == 2) opad = {op[0], op[1]};
      out[0] = conv_transpose(where, x, cout, n.attrs, opad);
      break;
    }
    case op_kind::fc: {
      if (y.rank() < 1) fail(where, "declares a scalar output");
      out[0] = fc(where, x, y.back(), y.rank());
      break;
    }
    case op_kind::matmul: {
      if (in.size() < 2) {  // a constant first operand is a parameter, not an operand
        checked = false;
        break;
      }
      tensor_shape a = x;
      tensor_shape b = in[1];
      auto trans = [](tensor_shape& s) {
        if (s.rank() >= 2) {
          const dim t = s[-1];
          s[-1] = s[-2];
          s[-2] = t;
        }
      };
      if (const std::string* t = n.attrs.find_extra("transA"); t != nullptr && *t != "0") trans(a);
      if (const std::string* t = n.attrs.find_extra("transB"); t != nullptr && *t != "0") trans(b);
      out[0] = matmul_operands(where, a, b);
      break;
    }
    case op_kind::maxpool:
    case op_kind::avgpool:
      out[0] = window(where, x, n.attrs);
      if (n.op == op_kind::maxpool && out.size() > 1) out[1] = out[0];  // indices
      break;
    case op_kind::global_avgpool:
    case op_kind::global_maxpool:
      out[0] = global_pool(where, x);
      break;
    case op_kind::reduce_mean:
      out[0] = reduce(where, x, n.attrs.axes, n.attrs.keepdims);
      break;
    case op_kind::softmax:
      (void)normalise_axis(where, n.attrs.axis, x.rank());
      out[0] = x;
      break;
    case op_kind::channel_shuffle:
      require_rank4(where, x);
      if (n.attrs.groups < 1 || x[3] % n.attrs.groups != 0)
        fail(where, "groups " + std::to_string(n.attrs.groups) + " does not divide the " +
                        std::to_string(x[3]) + " channels of " + text(x));
      out[0] = x;
      break;
    case op_kind::add:
    case op_kind::sub:
    case op_kind::mul:
    case op_kind::div:
      need_operands(2);
      out[0] = broadcast_operands(where, x, in[1]);
      break;
    case op_kind::pad: {
      std::vector<dim> p;
      if (detail::extra_ints(n.attrs, "pads", p) && p.size() == 2 * x.rank()) {
        std::vector<std::size_t> order(x.rank());
        for (std::size_t i = 0; i < x.rank(); ++i)
          order[i] = x.rank() == 4 ? detail::nhwc_of_nchw(i) : i;  // the source's NCHW pads
        out[0] = pad_axes(where, x, p, order);
      } else if (x.rank() == 4) {
        const std::array<dim, 4>& q = n.attrs.pads;  // {top, bottom, left, right}
        out[0] = pad_axes(where, x, {0, q[0], q[2], 0, 0, q[1], q[3], 0}, {0, 1, 2, 3});
      } else {
        fail(where, "has no padding amounts for its rank-" + std::to_string(x.rank()) + " input " +
                        text(x));
      }
      break;
    }
    case op_kind::reshape:
      if (const std::string* z = n.attrs.find_extra("allowzero"); z != nullptr && *z != "0") {
        // ONNX allowzero: a 0 in the target is a zero-sized dimension, not a copy.
        tensor_shape t;
        for (dim d : n.attrs.target_shape) push(where, t, d);
        if (t.is_static() && t.num_elements() == x.num_elements()) {
          out[0] = t;
          break;
        }
      }
      if (n.attrs.target_shape.empty()) {
        if (y.is_static() && y.num_elements() != x.num_elements())
          fail(where, "cannot reshape " + text(x) + " (" + std::to_string(x.num_elements()) +
                          " elements) to " + text(y) + " (" + std::to_string(y.num_elements()) +
                          " elements)");
        checked = false;
        break;
      }
      out[0] = reshape(where, x, n.attrs.target_shape);
      break;
    case op_kind::flatten:
      out[0] = flatten(where, x, n.attrs.axis);
      break;
    case op_kind::squeeze:
      out[0] = squeeze(where, x, n.attrs.axes);
      break;
    case op_kind::unsqueeze:
      if (n.attrs.axes.empty()) fail(where, "has no axes to insert");
      out[0] = unsqueeze(where, x, n.attrs.axes);
      break;
    case op_kind::transpose:
      out[0] = transpose(where, x, n.attrs.perm);
      break;
    case op_kind::concat:
      out[0] = concat(where, in, n.attrs.axis);
      break;
    case op_kind::split: {
      const std::vector<dim> sizes =
          n.attrs.split_sizes.empty()
              ? equal_split(where, x, n.attrs.axis, static_cast<dim>(declared.size()))
              : n.attrs.split_sizes;
      out = split(where, x, n.attrs.axis, sizes);
      break;
    }
    case op_kind::slice: {
      std::vector<dim> starts, ends, steps;
      if (!detail::extra_ints(n.attrs, "starts", starts) ||
          !detail::extra_ints(n.attrs, "ends", ends)) {
        out[0] = y;  // bounds not known: the declared shape, unchecked
        checked = false;
        break;
      }
      if (!detail::extra_ints(n.attrs, "steps", steps) || steps.empty())
        steps.assign(starts.size(), 1);
      std::vector<dim> axes = n.attrs.axes;
      if (axes.empty())
        for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<dim>(i));
      if (ends.size() != starts.size() || steps.size() != starts.size() ||
          axes.size() != starts.size())
        fail(where, "starts, ends, steps and axes have different lengths (" +
                        std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ", " +
                        std::to_string(steps.size()) + ", " + std::to_string(axes.size()) + ")");
      tensor_shape s = x;
      std::vector<dim> seen;
      for (std::size_t i = 0; i < axes.size(); ++i) {
        const dim ax = normalise_axis(where, axes[i], x.rank());
        if (contains(seen, ax)) fail(where, "axis " + std::to_string(ax) + " is sliced twice");
        seen.push_back(ax);
        s[ax] = slice_length(where, x[ax], starts[i], ends[i], steps[i]);
      }
      out[0] = s;
      break;
    }
    case op_kind::resize:
      require_rank4(where, x);
      // Sources store the scale as a float ratio of the sizes: floor, round and ceil all match.
      if (y.rank() == 4 && y[0] == x[0] && y[3] == x[3] &&
          resize_size_matches(x[1], n.attrs.scales[0], y[1]) &&
          resize_size_matches(x[2], n.attrs.scales[1], y[2]))
        out[0] = y;
      else
        out[0] = resize(where, x, n.attrs.scales);
      break;
    default:
      if (!detail::is_passthrough(n.op)) {
        checked = false;
        return declared;
      }
      out[0] = x;
      break;
  }
  return out;
}

namespace detail {

inline std::string node_where(const node& n) {
  return "node '" + n.name + "' (" + (n.type.empty() ? std::string(to_string(n.op)) : n.type) +
         ")";
}

// The shape of operand `k` of node `id`: the output of its producer. graph::validate lets a
// producer without output shapes pass (graphs under construction have none), so an operand
// whose producer declares no such output is refused here, naming both nodes.
inline const tensor_shape& operand_shape(const graph& g, node_index id, std::size_t k) {
  const node& n = g[id];
  const tensor_ref r = n.inputs[k];
  const node& p = g[r.node];
  if (r.output >= p.output_shapes.size())
    throw graph_error(node_where(n) + ": operand " + std::to_string(k) + " is output " +
                      std::to_string(r.output) + " of '" + p.name + "', which declares " +
                      std::to_string(p.output_shapes.size()) + " output shape(s)");
  return p.output_shapes[r.output];
}

// The operand shapes of node `id`: its producers' outputs, then the declared shapes of
// constant operands that are not graph nodes (nn-Meter IR's scalars).
inline void operand_shapes(const graph& g, node_index id, std::vector<tensor_shape>& in) {
  const node& n = g[id];
  in.clear();
  for (std::size_t k = 0; k < n.inputs.size(); ++k) in.push_back(operand_shape(g, id, k));
  for (std::size_t i = n.inputs.size(); i < n.input_shapes.size(); ++i)
    in.push_back(n.input_shapes[i]);
}

// Squeeze, unsqueeze, flatten and reduce_mean whose rank crosses 4: a rank-4 tensor is NHWC,
// the others keep the source's (NCHW) order, so the IR cannot say where a removed or inserted
// axis was; there the rank and the element count are checked.
inline bool crosses_layout(const tensor_shape& x, const tensor_shape& y) noexcept {
  return (x.rank() == 4) != (y.rank() == 4);
}

}  // namespace detail

/// Checks that `g` is consistent, and throws graph_error naming the node and both shapes when
/// it is not:
/// - the structure (graph::validate: operand references, dimensions in range, no cycle);
/// - every node's declared input shapes are its operands' real shapes (the producers' output
///   shapes), unless the node carries attr_keys::declared_input_shapes (nn-Meter IR), whose value
///   must then be the real shapes;
/// - every node's output shapes are what the shape rules derive from the real operand shapes
///   and the attributes (derive_output_shapes), weights' free dimensions aside;
/// - no unknown (-1) dimension where it could be known: graph inputs must be fully known
///   (unless options.allow_unknown_input_dims), and a node whose operands are all known has
///   unknown outputs only when it is `other`, a gather, or marked attr_keys::data_dependent.
/// Every importer calls it before returning, so kernel detection, features, the predictor and
/// the executor can rely on it.
inline void validate(const graph& g, const validate_options& options = {}) {
  g.validate();
  std::vector<tensor_shape> in;
  for (node_index id = 0; id < g.num_nodes(); ++id) {
    const node& n = g[id];
    if (n.op == op_kind::input) {
      if (!n.inputs.empty())
        throw graph_error(detail::node_where(n) + ": a graph input has no operands");
      for (const tensor_shape& s : n.output_shapes)
        if (!s.is_static() && !options.allow_unknown_input_dims)
          throw graph_error(detail::node_where(n) + ": graph input of unknown size " +
                            shape_rules::text(s) + " (give its shape)");
      continue;
    }
    if (n.op == op_kind::constant) {
      for (const tensor_shape& s : n.output_shapes)
        if (!s.is_static())
          throw graph_error(detail::node_where(n) + ": constant of unknown size " +
                            shape_rules::text(s));
      continue;
    }
    if (n.input_shapes.size() < n.inputs.size())
      throw graph_error(detail::node_where(n) + ": declares " +
                        std::to_string(n.input_shapes.size()) + " input shape(s) for " +
                        std::to_string(n.inputs.size()) + " operand(s)");
    detail::operand_shapes(g, id, in);
    if (const std::string* real = n.attrs.find_extra(attr_keys::declared_input_shapes)) {
      const std::vector<tensor_shape> ops(in.begin(),
                                          in.begin() + static_cast<std::ptrdiff_t>(n.inputs.size()));
      if (*real != detail::shapes_text(ops))
        throw graph_error(detail::node_where(n) + ": its operands are " +
                          detail::shapes_text(ops) + " but it records " + *real);
    } else {
      for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        if (n.input_shapes[i] != in[i])
          throw graph_error(detail::node_where(n) + ": input " + std::to_string(i) +
                            " is declared " + shape_rules::text(n.input_shapes[i]) + " but '" +
                            g[n.inputs[i].node].name + "' produces " + shape_rules::text(in[i]));
      }
    }
    bool checked = false;
    const std::string where = detail::node_where(n);
    const std::vector<tensor_shape> derived = derive_output_shapes(where, n, in, checked);
    if (!checked) continue;
    for (std::size_t i = 0; i < derived.size(); ++i) {
      const tensor_shape& d = derived[i];
      const tensor_shape& decl = n.output_shapes[i];
      if (d == decl) continue;
      const bool layout_ok = (n.op == op_kind::squeeze || n.op == op_kind::unsqueeze ||
                              n.op == op_kind::flatten || n.op == op_kind::reduce_mean) &&
                             detail::crosses_layout(in[0], decl) && decl.is_static() &&
                             decl.rank() == d.rank() && decl.num_elements() == d.num_elements();
      if (layout_ok) continue;
      std::string ins;
      for (std::size_t k = 0; k < in.size(); ++k)
        ins += (k != 0 ? " and " : "") + shape_rules::text(in[k]);
      throw graph_error(where + ": output " + std::to_string(i) + " is declared " +
                        shape_rules::text(decl) + " but its input" + (in.size() > 1 ? "s " : " ") +
                        ins + " give" + (in.size() > 1 ? " " : "s ") + shape_rules::text(d));
    }
    if (derived.size() > n.output_shapes.size())
      throw graph_error(where + ": declares " + std::to_string(n.output_shapes.size()) +
                        " output(s), its operator gives " + std::to_string(derived.size()));
  }
}

/// True when some node keeps declared input shapes that differ from its operands'
/// (attr_keys::declared_input_shapes, nn-Meter IR).
inline bool has_declared_input_shapes(const graph& g) {
  for (const node& n : g.nodes())
    if (n.attrs.find_extra(attr_keys::declared_input_shapes) != nullptr) return true;
  return false;
}

/// Sets every node's input_shapes of graph operands to the operands' real shapes (the
/// producers' outputs) and drops attr_keys::declared_input_shapes: the graph a backend runs.
/// nn-Meter's feature set is defined on the declared shapes, so kernel detection for
/// nn-Meter predictors uses the graph as imported.
inline void use_operand_shapes(graph& g) {
  for (node_index id = 0; id < g.num_nodes(); ++id) {
    node& n = g.mutable_node(id);
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const tensor_shape s = detail::operand_shape(g, id, i);
      if (i < n.input_shapes.size())
        n.input_shapes[i] = s;
      else
        n.input_shapes.push_back(s);
    }
    std::vector<std::pair<std::string, std::string>>& extra = n.attrs.extra;
    for (std::size_t k = extra.size(); k-- > 0;)
      if (extra[k].first == attr_keys::declared_input_shapes)
        extra.erase(extra.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

/// One output whose declared shape differs from the one the shape rules derive.
struct shape_conflict {
  node_index node = 0;
  std::size_t output = 0;
  tensor_shape declared;
  tensor_shape derived;
};

/// Re-derives the output shapes of every node of `g` in topological order from its operands'
/// (already re-derived) shapes. Where a declared output differs from the derived one, calls
/// `resolve(g, conflict)`: it returns true to take the derived shape (the graph is updated and
/// later nodes see it), false to keep the declared one, or throws. Rule violations throw
/// graph_error. Declared input_shapes are left as they are (the caller reconciles them).
/// Returns the number of outputs replaced.
inline std::size_t rederive_shapes(
    graph& g, const std::function<bool(const graph&, const shape_conflict&)>& resolve) {
  std::size_t replaced = 0;
  std::vector<tensor_shape> in;
  for (node_index id : g.topological_order()) {
    const node& n = g[id];
    if (n.op == op_kind::input || n.op == op_kind::constant) continue;
    if (n.input_shapes.size() < n.inputs.size()) continue;  // validate() reports it
    detail::operand_shapes(g, id, in);
    bool checked = false;
    const std::vector<tensor_shape> derived =
        derive_output_shapes(detail::node_where(n), n, in, checked);
    if (!checked) continue;
    for (std::size_t i = 0; i < derived.size() && i < n.output_shapes.size(); ++i) {
      if (derived[i] == n.output_shapes[i]) continue;
      const shape_conflict c{id, i, n.output_shapes[i], derived[i]};
      if (resolve(g, c)) {
        g.mutable_node(id).output_shapes[i] = derived[i];
        ++replaced;
      }
    }
  }
  return replaced;
}

NNMETER_END_NAMESPACE
