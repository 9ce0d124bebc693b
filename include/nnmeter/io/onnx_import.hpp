// nnmeter — ONNX import: ModelProto -> nnmeter::graph with every shape inferred and every node
// accounted for. Opt-in: needs libonnx + protobuf; link nnmeter::onnx. See docs/onnx.md.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<onnx/onnx_pb.h>)
#error "nnmeter/io/onnx_import.hpp needs the ONNX protobuf headers: link nnmeter::onnx (NNMETER_WITH_ONNX)"
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_fold.hpp>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// Options of import_onnx.
struct onnx_import_options {
  /// Input shapes in the file's layout (NCHW for images), e.g. {"input", {1, 3, 224, 224}}.
  /// Required for inputs with symbolic or unknown dims; they override the file's dims.
  std::map<std::string, std::vector<std::int64_t>> input_shapes;
  /// Import models whose default-domain opset is outside 7..17 on a best-effort basis (with a
  /// warning) instead of throwing unsupported_error.
  bool allow_any_opset = false;
};

/// Where every NodeProto of the main graph went. Invariant:
/// nodes_in_file == imported + folded + aliased + constants.
struct onnx_accounting {
  std::size_t nodes_in_file = 0;  ///< NodeProtos of the main graph
  std::size_t imported = 0;       ///< became graph nodes (graph inputs / constants not counted)
  std::size_t folded = 0;         ///< evaluated away at import (shape computations, constants)
  std::size_t aliased = 0;        ///< Identity, Dropout: removed as aliases
  std::size_t constants = 0;      ///< Constant nodes
  std::size_t other = 0;          ///< imported as op_kind::other (subset of imported)
  std::vector<std::string> other_nodes;           ///< their names
  std::vector<std::string> data_dependent_nodes;  ///< nodes whose output shape needs data
};

/// Model-level facts of the file.
struct onnx_model_info {
  std::int64_t ir_version = 0;
  std::int64_t opset = 0;  ///< default-domain (ai.onnx) opset
  std::string producer_name, producer_version, graph_name;
};

/// One output of the ONNX graph: its shape (our layout) and the graph tensor that holds it,
/// or none when the value was folded to a constant at import.
struct onnx_output_info {
  std::string name;
  tensor_shape shape;
  std::optional<tensor_ref> tensor;
  bool constant = false;  ///< folded / constant value (no graph tensor)
  bool shape_known = false;  ///< every dim known
};

/// Everything import_onnx produces.
struct onnx_import_result {
  nnmeter::graph graph;
  onnx_accounting accounting;
  onnx_model_info info;
  std::vector<std::string> warnings;
  std::vector<onnx_output_info> outputs;  ///< the ONNX graph outputs, in file order
};

/// ONNX dims -> nnmeter shape: rank 4 [N, C, H, W] becomes [N, H, W, C]; other ranks keep
/// their order. Throws unsupported_error above rank 8.
inline tensor_shape shape_from_onnx(const std::vector<std::int64_t>& dims) {
  if (dims.size() > tensor_shape::max_rank)
    throw unsupported_error("ONNX tensor of rank " + std::to_string(dims.size()) +
                            " (nnmeter shapes hold at most rank 8)");
  tensor_shape s;
  if (dims.size() == 4) {
    for (std::size_t i : {std::size_t{0}, std::size_t{2}, std::size_t{3}, std::size_t{1}}) s.push_back(dims[i]);
  } else {
    for (std::int64_t d : dims) s.push_back(d);
  }
  return s;
}

/// nnmeter shape -> ONNX dims: rank 4 [N, H, W, C] becomes [N, C, H, W].
inline std::vector<std::int64_t> shape_to_onnx(const tensor_shape& s) {
  std::vector<std::int64_t> d(s.begin(), s.end());
  if (d.size() == 4) d = {s[0], s[3], s[1], s[2]};
  return d;
}

namespace onnx_detail {

/// Position of ONNX axis `a` (already non-negative) of a rank-4 tensor in NHWC.
inline i64 nhwc_axis(i64 a) noexcept {
  constexpr i64 map[4] = {0, 3, 1, 2};
  return a >= 0 && a < 4 ? map[a] : a;
}

inline dtype to_dtype(int t) noexcept {
  switch (t) {
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: return dtype::f16;
    case onnx::TensorProto::INT8: return dtype::i8;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: return dtype::u8;
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32: return dtype::i32;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64: return dtype::i64;
    default: return dtype::f32;
  }
}

inline std::string dims_text(const std::vector<std::string>& d) {
  std::string r = "[";
  for (std::size_t i = 0; i < d.size(); ++i) r += (i ? ", " : "") + d[i];
  return r + "]";
}
inline std::string ints_json(const std::vector<i64>& v) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + std::to_string(v[i]);
  return r + "]";
}

inline bool is_alias_op(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (n.input_size() < 1 || n.input(0).empty() || n.output_size() < 1) return false;
  if (op == "Identity") return true;
  if (op == "Dropout") {  // the mask output, when used, keeps the node
    return n.output_size() == 1 || n.output(1).empty();
  }
  return false;
}

/// Ops whose output shape depends on input values in a way no folding can resolve.
inline bool is_intrinsically_data_dependent(const std::string& op) {
  return op == "NonZero" || op == "NonMaxSuppression" || op == "If" || op == "Loop" ||
         op == "Scan" || op == "Unique" || op == "Compress" || op == "StringNormalizer" ||
         op == "TfIdfVectorizer";
}

/// Ops that must not be folded even when all inputs are constant.
inline bool never_fold(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (op.compare(0, 6, "Random") == 0 || op == "Multinomial" || op == "Bernoulli") return true;
  for (const auto& a : n.attribute())
    if (a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS)
      return true;
  return false;
}

/// Ops whose constant operands are data (materialised as op_kind::constant nodes); elsewhere
/// constant inputs are parameters (weights, shapes, scales), which are not operands.
inline bool constants_are_operands(const std::string& op) {
  return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Max" ||
         op == "Min" || op == "Sum" || op == "Mean" || op == "Concat" || op == "Where" ||
         op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
         op == "GreaterOrEqual" || op == "And" || op == "Or" || op == "Xor" || op == "Mod" ||
         op == "BitShift";
}

struct mapped_op {
  op_kind kind = op_kind::other;
  attributes attrs;
  bool elem_from_input = false;  ///< quantized compute: elem = the data input's type
};

class importer {
 public:
  importer(const onnx::ModelProto& m, const onnx_import_options& o, std::string src)
      : m_(m), g_(m.graph()), opt_(o), src_(std::move(src)) {}

  onnx_import_result run() {
    check_header();
    read_initializers();
    read_inputs();
    for (int i = 0; i < g_.node_size(); ++i)
      if (default_domain(g_.node(i))) check_attribute_values(i);
    index_nodes();
    topo_sort();
    read_constants();
    fold_and_infer();
    propagate_constants();
    apply_declared_shapes();
    build_graph();
    return std::move(res_);
  }

 private:
  enum class state : std::uint8_t { pending, constant, folded, aliased, imported };

  // ------------------------------------------------------------------------ header, inputs

  [[noreturn]] void fail_parse(const std::string& msg) const { throw parse_error(src_ + ": " + msg); }

  std::string node_label(int i) const {
    const onnx::NodeProto& n = g_.node(i);
    std::string nm = n.name();
    if (nm.empty()) nm = n.output_size() > 0 ? n.output(0) : "#" + std::to_string(i);
    return "node '" + nm + "' (" + n.op_type() + ")";
  }

  void check_header() {
    res_.info.ir_version = m_.ir_version();
    res_.info.producer_name = m_.producer_name();
    res_.info.producer_version = m_.producer_version();
    if (!m_.has_graph()) fail_parse("not an ONNX model: no graph (truncated file or not ONNX?)");
    res_.info.graph_name = g_.name();
    bool has_default = false;
    for (const auto& o : m_.opset_import()) {
      std::string d = o.domain();
      if (d == "ai.onnx") d.clear();
      if (d.empty()) {
        has_default = true;
        res_.info.opset = o.version();
      }
      if (o.version() < 1 || o.version() > 1000)
        fail_parse("opset_import of domain '" + o.domain() + "' has version " +
                   std::to_string(o.version()));
      opsets_[d] = static_cast<int>(o.version());
      if (!o.domain().empty()) opsets_[o.domain()] = static_cast<int>(o.version());
    }
    if (!has_default) {
      bool uses_default = m_.opset_import_size() == 0;
      for (const onnx::NodeProto& n : g_.node())
        if (n.domain().empty() || n.domain() == "ai.onnx") uses_default = true;
      if (uses_default)
        fail_parse("not an ONNX model: no opset_import for the default domain (ai.onnx)");
    }
    opset_ = res_.info.opset;
    if (has_default && (opset_ < 7 || opset_ > 17)) {
      const std::string msg = src_ + ": opset " + std::to_string(opset_) +
                              " is outside the supported range 7..17";
      if (!opt_.allow_any_opset)
        throw unsupported_error(msg + " (onnx_import_options::allow_any_opset imports it on a "
                                      "best-effort basis)");
      res_.warnings.push_back(msg + "; imported on a best-effort basis");
    }
    res_.accounting.nodes_in_file = static_cast<std::size_t>(g_.node_size());
    for (int i = 0; i < g_.node_size(); ++i) {
      const onnx::NodeProto& n = g_.node(i);
      if (n.op_type().empty()) fail_parse(node_label(i) + ": empty op_type");
      const std::string& d = n.domain();
      if (!d.empty() && d != "ai.onnx" && opsets_.count(d) == 0)
        fail_parse(node_label(i) + ": unknown domain '" + d +
                   "' (not declared in the model's opset_import)");
    }
    for (const auto& f : m_.functions()) functions_[f.domain() + ":" + f.name()] = &f;
  }

  // Attribute values that ONNX 1.12's own shape inference divides by or indexes with without
  // checking (it would crash on them): rejected up front.
  void check_attribute_values(int i) {
    const onnx::NodeProto& n = g_.node(i);
    auto bad = [&](const std::string& what) { fail_parse(node_label(i) + ": " + what); };
    for (const onnx::AttributeProto& a : n.attribute()) {
      const std::string& k = a.name();
      const bool positive = k == "strides" || k == "dilations" || k == "kernel_shape";
      if (positive || (k == "pads" && n.op_type() != "Pad")) {
        for (i64 v : a.ints())
          if (v < (positive ? 1 : 0) || v > tensor_shape::max_dim)
            bad(k + " value " + std::to_string(v) + " is outside [" + (positive ? "1" : "0") +
                ", 2^31-1]");
      }
      if ((k == "blocksize" || k == "group") && (a.i() < 1 || a.i() > tensor_shape::max_dim))
        bad(k + " " + std::to_string(a.i()) + " must be in [1, 2^31-1]");
    }
    // Spatial attribute lists must agree in length (one entry per spatial axis; pads two).
    const std::string& op = n.op_type();
    if (op == "Conv" || op == "ConvTranspose" || op == "ConvInteger" || op == "QLinearConv" ||
        op == "MaxPool" || op == "AveragePool" || op == "LpPool" || op == "MaxUnpool") {
      std::optional<std::size_t> k;
      auto agree = [&](const char* name, std::size_t factor) {
        const auto v = attr_ints(n, name);
        if (!v) {
          if (find_attr(n, name) != nullptr) bad(std::string(name) + " must be a list of ints");
          return;
        }
        if (v->size() % factor != 0 || (k && v->size() / factor != *k))
          bad(std::string(name) + " has " + std::to_string(v->size()) +
              " entries, inconsistent with the other spatial attributes");
        if (!k) k = v->size() / factor;
      };
      agree("kernel_shape", 1);
      agree("strides", 1);
      agree("dilations", 1);
      agree("pads", 2);
      agree("output_padding", 1);
      agree("output_shape", 1);
      const int wi = op == "QLinearConv" ? 3 : 1;
      if (k && op != "MaxPool" && op != "AveragePool" && op != "LpPool" && op != "MaxUnpool" &&
          wi < n.input_size()) {
        const auto it = info_.find(n.input(wi));
        if (it != info_.end() && it->second.rank_known && it->second.dims.size() != *k + 2)
          bad("weight '" + n.input(wi) + "' has rank " + std::to_string(it->second.dims.size()) +
              ", but the spatial attributes describe " + std::to_string(*k) + " spatial axes");
      }
    }
    if (n.op_type() == "Scan") {
      const i64 ns = attr_int(n, "num_scan_inputs", 0);
      const i64 limit = n.input_size();
      if (ns < 1 || ns > limit) bad("num_scan_inputs " + std::to_string(ns) + " is outside [1, " + std::to_string(limit) + "]");
      for (const char* k : {"scan_input_axes", "scan_input_directions"})
        if (auto v = attr_ints(n, k); v && to_i64(v->size()) != ns)
          bad(std::string(k) + " has " + std::to_string(v->size()) + " entries for " + std::to_string(ns) + " scan inputs");
      for (const char* k : {"scan_output_axes", "scan_output_directions"})
        if (auto v = attr_ints(n, k); v && to_i64(v->size()) > n.output_size())
          bad(std::string(k) + " has more entries than the node has outputs");
    }
  }

  // True when ONNX's checker accepts the node (attribute types, required attributes, input and
  // output counts, subgraphs). Nodes it rejects are kept out of ONNX shape inference, whose
  // functions assume checked nodes; their outputs get no inferred shape.
  bool passes_checker(const onnx::NodeProto& n) {
    const std::string d = n.domain() == "ai.onnx" ? std::string() : n.domain();
    const auto v = opsets_.find(d);
    if (v == opsets_.end()) return true;
    if (onnx::OpSchemaRegistry::Schema(n.op_type(), v->second, d) == nullptr) return true;
    if (!checker_ready_) {
      checker_ctx_.set_ir_version(m_.ir_version() > 0 && m_.ir_version() < 1000
                                      ? static_cast<int>(m_.ir_version())
                                      : 8);
      checker_ctx_.set_opset_imports(opsets_);
      checker_ctx_.set_schema_registry(onnx::OpSchemaRegistry::Instance());
      for (const auto& kv : info_) lexical_.add(kv.first);
      for (const auto& kv : producer_) lexical_.add(kv.first);
      checker_ready_ = true;
    }
    try {
      onnx::checker::check_node(n, checker_ctx_, lexical_);
      return true;
    } catch (const std::exception& e) {
      res_.warnings.push_back(src_ + ": node '" + n.name() + "' (" + n.op_type() +
                              ") fails the ONNX checker, so its shapes are not inferred: " +
                              e.what());
      return false;
    }
  }

  void read_initializers() {
    for (const onnx::TensorProto& t : g_.initializer()) {
      if (t.name().empty()) fail_parse("an initializer has an empty name");
      tensor_info v = read_tensor_proto(t, src_ + ": initializer '" + t.name() + "'");
      if (!info_.emplace(t.name(), std::move(v)).second)
        fail_parse("initializer '" + t.name() + "' is defined twice");
      initializers_.insert(t.name());
    }
    for (const onnx::SparseTensorProto& s : g_.sparse_initializer()) {
      tensor_info v;
      v.elem = s.values().data_type();
      v.rank_known = true;
      v.is_const = true;
      for (i64 d : s.dims()) {
        if (d < 0 || d > tensor_shape::max_dim)
          fail_parse("sparse initializer '" + s.values().name() + "': dimension " +
                     std::to_string(d) + " is negative or above 2^31-1");
        v.dims.push_back(d);
      }
      const std::string& nm = s.values().name();
      if (nm.empty()) fail_parse("a sparse initializer has an empty name");
      if (!info_.emplace(nm, std::move(v)).second)
        fail_parse("initializer '" + nm + "' is defined twice");
      initializers_.insert(nm);
    }
  }

  void read_inputs() {
    std::unordered_set<std::string> names;
    for (const auto& kv : opt_.input_shapes) {
      bool found = false;
      std::string list;
      for (const onnx::ValueInfoProto& vi : g_.input()) {
        if (initializers_.count(vi.name()) != 0) continue;
        found = found || vi.name() == kv.first;
        list += (list.empty() ? "" : ", ") + vi.name();
      }
      if (!found)
        throw graph_error(src_ + ": input_shapes names '" + kv.first +
                          "', which is not an input of the model (inputs: " + list + ")");
    }
    for (const onnx::ValueInfoProto& vi : g_.input()) {
      if (vi.name().empty()) fail_parse("a graph input has an empty name");
      if (initializers_.count(vi.name()) != 0) continue;  // an initializer with a default: constant
      if (!names.insert(vi.name()).second) fail_parse("graph input '" + vi.name() + "' is listed twice");
      const std::string where = "input '" + vi.name() + "'";
      if (!vi.type().has_tensor_type())
        throw unsupported_error(src_ + ": " + where +
                                " is not a tensor (sequence, map, optional or sparse inputs are "
                                "not supported)");
      tensor_info v;
      v.elem = vi.type().tensor_type().elem_type();
      std::vector<std::string> shown;
      bool symbolic = false;
      if (vi.type().tensor_type().has_shape()) {
        v.rank_known = true;
        for (const auto& d : vi.type().tensor_type().shape().dim()) {
          if (d.has_dim_value()) {
            if (d.dim_value() < 0 || d.dim_value() > tensor_shape::max_dim)
              fail_parse(where + ": dimension " + std::to_string(d.dim_value()) +
                         " is negative or above 2^31-1");
            v.dims.push_back(d.dim_value());
            shown.push_back(std::to_string(d.dim_value()));
          } else {
            symbolic = true;
            v.dims.push_back(-1);
            shown.push_back(d.has_dim_param() && !d.dim_param().empty() ? d.dim_param() : "?");
          }
        }
      }
      const auto user = opt_.input_shapes.find(vi.name());
      if (user != opt_.input_shapes.end()) {
        const std::vector<i64>& u = user->second;
        if (v.rank_known && u.size() != v.dims.size())
          throw graph_error(src_ + ": input_shapes gives " + where + " rank " +
                            std::to_string(u.size()) + " but the model declares " +
                            dims_text(shown));
        for (i64 d : u)
          if (d < 0 || d > tensor_shape::max_dim)
            throw graph_error(src_ + ": input_shapes gives " + where + " dimension " +
                              std::to_string(d) + " (must be in [0, 2^31-1])");
        for (std::size_t i = 0; v.rank_known && i < u.size(); ++i)
          if (v.dims[i] >= 0 && v.dims[i] != u[i])
            res_.warnings.push_back(where + ": dimension " + std::to_string(i) + " declared " +
                                    std::to_string(v.dims[i]) + ", overridden by input_shapes to " +
                                    std::to_string(u[i]));
        v.rank_known = true;
        v.dims = u;
      } else if (!v.rank_known) {
        throw unsupported_error(src_ + ": " + where +
                                " has no shape in the model; give it in "
                                "onnx_import_options::input_shapes (ONNX layout, e.g. NCHW)");
      } else if (symbolic) {
        throw unsupported_error(src_ + ": " + where + " has symbolic or unknown dims " +
                                dims_text(shown) +
                                "; give its shape in onnx_import_options::input_shapes (ONNX "
                                "layout, e.g. NCHW)");
      }
      if (v.dims.size() > tensor_shape::max_rank)
        throw unsupported_error(src_ + ": " + where + " has rank " + std::to_string(v.dims.size()) +
                                " (at most 8 supported)");
      if (!checked_numel(v.dims)) fail_parse(where + ": the element count overflows");
      input_names_.push_back(vi.name());
      info_[vi.name()] = std::move(v);
    }
  }

  void index_nodes() {
    const int n = g_.node_size();
    state_.assign(static_cast<std::size_t>(n), state::pending);
    for (int i = 0; i < n; ++i) {
      const onnx::NodeProto& nd = g_.node(i);
      for (const std::string& o : nd.output()) {
        if (o.empty()) continue;
        if (info_.count(o) != 0 && producer_.count(o) == 0)
          fail_parse(node_label(i) + ": output '" + o +
                     "' has the name of a graph input or initializer");
        if (!producer_.emplace(o, i).second)
          fail_parse(node_label(i) + ": output '" + o + "' is also produced by " +
                     node_label(producer_[o]));
      }
    }
    for (int i = 0; i < n; ++i) {
      for (const std::string& in : g_.node(i).input()) {
        if (in.empty()) continue;
        if (producer_.count(in) == 0 && info_.count(in) == 0)
          fail_parse(node_label(i) + ": input '" + in +
                     "' is neither a graph input, an initializer nor a node output");
      }
    }
    for (const onnx::ValueInfoProto& o : g_.output())
      if (producer_.count(o.name()) == 0 && info_.count(o.name()) == 0)
        fail_parse("graph output '" + o.name() + "' is produced by no node");
  }

  void topo_sort() {
    const int n = g_.node_size();
    std::vector<std::vector<int>> succ(static_cast<std::size_t>(n));
    std::vector<int> indeg(static_cast<std::size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
      for (const std::string& in : g_.node(i).input()) {
        if (in.empty()) continue;
        const auto p = producer_.find(in);
        if (p == producer_.end()) continue;
        succ[static_cast<std::size_t>(p->second)].push_back(i);
        ++indeg[static_cast<std::size_t>(i)];
      }
    }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;  // file order first
    for (int i = 0; i < n; ++i)
      if (indeg[static_cast<std::size_t>(i)] == 0) ready.push(i);
    while (!ready.empty()) {
      const int v = ready.top();
      ready.pop();
      order_.push_back(v);
      for (int s : succ[static_cast<std::size_t>(v)])
        if (--indeg[static_cast<std::size_t>(s)] == 0) ready.push(s);
    }
    if (static_cast<int>(order_.size()) != n) {
      for (int i = 0; i < n; ++i)
        if (indeg[static_cast<std::size_t>(i)] != 0)
          throw graph_error(src_ + ": the graph has a cycle through " + node_label(i));
    }
  }

  // --------------------------------------------------------------------- Constant nodes

  void read_constants() {
    for (int i : order_) {
      const onnx::NodeProto& n = g_.node(i);
      if (n.op_type() != "Constant" || !(n.domain().empty() || n.domain() == "ai.onnx")) continue;
      if (n.output_size() < 1 || n.output(0).empty())
        fail_parse(node_label(i) + ": a Constant needs one output");
      const std::string where = src_ + ": " + node_label(i);
      tensor_info v;
      bool ok = false;
      for (const onnx::AttributeProto& a : n.attribute()) {
        if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
          v = read_tensor_proto(a.t(), where);
          ok = true;
        } else if (a.name() == "sparse_value" && a.type() == onnx::AttributeProto::SPARSE_TENSOR) {
          v.elem = a.sparse_tensor().values().data_type();
          v.rank_known = true;
          v.is_const = true;
          for (i64 d : a.sparse_tensor().dims()) {
            if (d < 0 || d > tensor_shape::max_dim)
              throw parse_error(where + ": dimension " + std::to_string(d) +
                                " is negative or above 2^31-1");
            v.dims.push_back(d);
          }
          ok = true;
        } else if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT) {
          v = make_value({}, onnx::TensorProto::INT64);
          v.ints.push_back(a.i());
          ok = true;
        } else if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS) {
          v = make_value({to_i64(static_cast<std::size_t>(a.ints_size()))}, onnx::TensorProto::INT64);
          v.ints.assign(a.ints().begin(), a.ints().end());
          ok = true;
        } else if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT) {
          v = make_value({}, onnx::TensorProto::FLOAT);
          v.reals.push_back(static_cast<double>(a.f()));
          ok = true;
        } else if (a.name() == "value_floats" && a.type() == onnx::AttributeProto::FLOATS) {
          v = make_value({to_i64(static_cast<std::size_t>(a.floats_size()))},
                         onnx::TensorProto::FLOAT);
          for (float f : a.floats()) v.reals.push_back(static_cast<double>(f));
          ok = true;
        } else if (a.name() == "value_string" || a.name() == "value_strings") {
          v.elem = onnx::TensorProto::STRING;
          v.rank_known = true;
          v.is_const = true;
          if (a.name() == "value_strings") v.dims.push_back(a.strings_size());
          ok = true;
        }
      }
      if (!ok) throw parse_error(where + ": a Constant without a value attribute");
      info_[n.output(0)] = std::move(v);
      state_[static_cast<std::size_t>(i)] = state::constant;
    }
  }

  // -------------------------------------------------------------------- shape inference

  static void collect_refs(const onnx::GraphProto& g, std::unordered_set<std::string>& out) {
    for (const onnx::NodeProto& n : g.node()) {
      for (const std::string& s : n.input()) out.insert(s);
      for (const onnx::AttributeProto& a : n.attribute()) {
        if (a.has_g()) collect_refs(a.g(), out);
        for (const onnx::GraphProto& sg : a.graphs()) collect_refs(sg, out);
      }
    }
  }

  // Adds what is known about `name` to a one-node graph: a small value as an initializer,
  // otherwise an input with its type and (partial) shape. False when the type is unknown.
  bool add_known(const std::string& name, onnx::GraphProto& sg) {
    const auto it = info_.find(name);
    if (it == info_.end() || it->second.elem == 0) return false;
    const tensor_info& v = it->second;
    const int e = v.elem;
    const bool exact = e == onnx::TensorProto::FLOAT || e == onnx::TensorProto::DOUBLE ||
                       e == onnx::TensorProto::INT64 || e == onnx::TensorProto::INT32 ||
                       e == onnx::TensorProto::INT16 || e == onnx::TensorProto::UINT16 ||
                       e == onnx::TensorProto::INT8 || e == onnx::TensorProto::UINT8 ||
                       e == onnx::TensorProto::BOOL;
    if (v.has_value && exact) {  // values ONNX inference may read (shapes, scales, axes)
      write_tensor_proto(v, name, *sg.add_initializer());
      return true;
    }
    onnx::ValueInfoProto* vi = sg.add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(v.elem);
    if (v.rank_known) {
      auto* sh = tt->mutable_shape();
      for (i64 d : v.dims) {
        auto* dim = sh->add_dim();
        if (d >= 0) dim->set_dim_value(d);
      }
    }
    return true;
  }

  std::size_t rank_of(const std::string& name) const {
    const tensor_info* v = find_info(name);
    return v != nullptr && v->rank_known ? v->dims.size() : 0;
  }

  // Input ranks that ONNX 1.12's inference functions index with unchecked (found by fuzzing):
  // convolutions and pools need a data rank >= 3, a weight of the same rank and spatial
  // attribute lists of rank - 2 entries.
  bool ranks_safe(const onnx::NodeProto& n) const {
    const std::string& op = n.op_type();
    // axis / axes / perm must fit the data rank (LayerNormalization indexes with axis unchecked).
    const onnx::AttributeProto* ax = find_attr(n, "axis");
    const onnx::AttributeProto* axs = find_attr(n, "axes");
    const onnx::AttributeProto* pm = find_attr(n, "perm");
    if (ax != nullptr || axs != nullptr || pm != nullptr) {
      const tensor_info* x = find_info(in_name(n, 0));
      if (x == nullptr || !x->rank_known) return false;
      const i64 r = to_i64(x->dims.size());
      if (ax != nullptr && (ax->i() < -r || ax->i() > r)) return false;
      if (axs != nullptr) {
        const i64 lim = r + axs->ints_size();
        for (i64 a : axs->ints())
          if (a < -lim || a >= lim) return false;
      }
      if (pm != nullptr) {
        if (pm->ints_size() != r) return false;
        std::vector<bool> seen(static_cast<std::size_t>(r), false);
        for (i64 a : pm->ints()) {
          if (a < 0 || a >= r || seen[to_size(a)]) return false;
          seen[to_size(a)] = true;
        }
      }
    }
    if (op == "STFT" && rank_of(in_name(n, 0)) != 3) return false;  // signal [batch, length, 1|2]
    const bool conv = op == "Conv" || op == "ConvTranspose" || op == "ConvInteger" || op == "QLinearConv";
    const bool pool = op == "MaxPool" || op == "AveragePool" || op == "LpPool" || op == "MaxUnpool" ||
                      op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "GlobalLpPool";
    if (!conv && !pool) return true;
    const std::size_t r = rank_of(in_name(n, 0));
    if (r < 3) return false;
    if (conv) {
      const std::string w = in_name(n, op == "QLinearConv" ? 3 : 1);
      if (rank_of(w) != r) return false;
    }
    if (op == "MaxUnpool") {  // indices like X; output_shape a vector of rank(X) entries
      if (rank_of(in_name(n, 1)) != r) return false;
      const std::string os = in_name(n, 2);
      if (!os.empty()) {
        const tensor_info* v = find_info(os);
        if (v == nullptr || !v->rank_known || v->dims.size() != 1 ||
            v->dims[0] != to_i64(r))
          return false;
      }
    }
    for (const char* k : {"kernel_shape", "strides", "dilations", "output_padding", "output_shape"})
      if (auto v = attr_ints(n, k); v && v->size() != r - 2) return false;
    if (auto v = attr_ints(n, "pads"); v && v->size() != 2 * (r - 2)) return false;
    return true;
  }

  /// ONNX shape inference of one node, on a graph holding just that node and what is known
  /// about its inputs. Nodes the ONNX checker rejects, nodes with inputs of unknown type and
  /// nodes whose input ranks ONNX's inference would index out of bounds are not inferred.
  void infer_node(const onnx::NodeProto& n) {
    for (const std::string& s : n.input())
      if (!s.empty() && (find_info(s) == nullptr || find_info(s)->elem == 0)) return;
    if (!ranks_safe(n) || !passes_checker(n)) return;
    onnx::GraphProto sg;
    sg.set_name("node");
    std::unordered_set<std::string> added;
    for (const std::string& s : n.input())
      if (!s.empty() && added.insert(s).second) add_known(s, sg);
    std::unordered_set<std::string> refs;
    for (const onnx::AttributeProto& a : n.attribute()) {
      if (a.has_g()) collect_refs(a.g(), refs);
      for (const onnx::GraphProto& g : a.graphs()) collect_refs(g, refs);
    }
    for (const std::string& s : refs)
      if (!s.empty() && added.count(s) == 0 && info_.count(s) != 0 && added.insert(s).second)
        add_known(s, sg);
    *sg.add_node() = n;
    try {
      onnx::shape_inference::InferShapes(&sg, opsets_, onnx::OpSchemaRegistry::Instance(),
                                         onnx::ShapeInferenceOptions(false, 0, false), functions_);
    } catch (const std::exception& e) {
      if (!inference_warned_) {
        res_.warnings.push_back(src_ + ": ONNX shape inference failed on node '" + n.name() +
                                "' (" + n.op_type() + "): " + e.what());
        inference_warned_ = true;
      }
      return;
    }
    for (const onnx::ValueInfoProto& vi : sg.value_info()) {
      if (!vi.type().has_tensor_type()) continue;
      bool is_output = false;
      for (const std::string& o : n.output()) is_output = is_output || (!o.empty() && o == vi.name());
      if (!is_output) continue;
      tensor_info& v = info_[vi.name()];
      const auto& tt = vi.type().tensor_type();
      if (tt.elem_type() != 0) v.elem = tt.elem_type();
      if (!tt.has_shape()) continue;
      v.rank_known = true;
      v.dims.clear();
      for (const auto& d : tt.shape().dim())
        v.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
    }
  }

  /// One pass in topological order: a node whose outputs the evaluator can compute from known
  /// values is folded; any other node gets its output shapes from ONNX shape inference, which
  /// then sees every value folded before it (so Reshape / Slice / Resize targets computed by
  /// shape subgraphs are static).
  void fold_and_infer() {
    for (const auto& vi : g_.value_info()) declared_.emplace(vi.name(), &vi);
    for (const auto& vi : g_.output()) declared_.emplace(vi.name(), &vi);
    for (int i : order_) {
      const auto si = static_cast<std::size_t>(i);
      if (state_[si] != state::pending) continue;
      const onnx::NodeProto& n = g_.node(i);
      if (default_domain(n) && !never_fold(n)) {
        const input_list in = inputs_of(n);
        std::optional<std::vector<tensor_info>> out;
        try {
          out = evaluate_node(n, in, opset_);
        } catch (const std::exception&) {  // e.g. bad_alloc on absurd sizes: leave the node
          out.reset();
        }
        bool complete = out.has_value() && out->size() <= static_cast<std::size_t>(n.output_size());
        for (int k = 0; complete && k < n.output_size(); ++k)
          if (!n.output(k).empty() && static_cast<std::size_t>(k) >= out->size()) complete = false;
        if (complete) {
          for (std::size_t k = 0; k < out->size(); ++k) {
            const std::string& o = n.output(static_cast<int>(k));
            if (!o.empty()) info_[o] = std::move((*out)[k]);
          }
          state_[si] = is_alias_op(n) ? state::aliased : state::folded;
          continue;
        }
      }
      infer_node(n);
      for (const std::string& o : n.output())
        if (!o.empty()) apply_declared(o);
    }
  }

  input_list inputs_of(const onnx::NodeProto& n) {
    input_list in;
    for (const std::string& s : n.input()) {
      if (s.empty()) {
        in.push_back(nullptr);
        continue;
      }
      const auto it = info_.find(s);
      in.push_back(it == info_.end() ? nullptr : &it->second);
    }
    return in;
  }

  bool default_domain(const onnx::NodeProto& n) const {
    return n.domain().empty() || n.domain() == "ai.onnx";
  }

  // Constant subgraphs without computed values (weight transposes, DequantizeLinear of int8
  // weights, ...): their outputs are constants of known shape.
  void propagate_constants() {
    for (int i : order_) {
      const auto si = static_cast<std::size_t>(i);
      if (state_[si] != state::pending) continue;
      const onnx::NodeProto& n = g_.node(i);
      if (never_fold(n) || n.input_size() == 0) continue;
      bool all = false;
      bool any_nonconst = false;
      for (const std::string& s : n.input()) {
        if (s.empty()) continue;
        const auto it = info_.find(s);
        if (it == info_.end() || !it->second.is_const) any_nonconst = true;
        all = true;
      }
      if (!all || any_nonconst) continue;
      for (const std::string& o : n.output())
        if (!o.empty()) info_[o].is_const = true;
      state_[si] = is_alias_op(n) ? state::aliased : state::folded;
    }
  }

  // Shapes the file declares (value_info, graph outputs) for tensors inference left unknown.
  // What the file declares (value_info, graph outputs) for a tensor, used where inference left
  // the type or rank unknown (e.g. outputs of custom-domain ops).
  void apply_declared(const std::string& name) {
    const auto it = declared_.find(name);
    if (it == declared_.end()) return;
    const onnx::ValueInfoProto& vi = *it->second;
    if (!vi.type().has_tensor_type()) return;
    tensor_info& v = info_[name];
    if (v.elem == 0) v.elem = vi.type().tensor_type().elem_type();
    if (v.rank_known || !vi.type().tensor_type().has_shape()) return;
    v.rank_known = true;
    v.dims.clear();
    for (const auto& d : vi.type().tensor_type().shape().dim())
      v.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 &&
                               d.dim_value() <= tensor_shape::max_dim
                           ? d.dim_value()
                           : -1);
  }

  void apply_declared_shapes() {
    for (const auto& kv : declared_) apply_declared(kv.first);
  }

  // ------------------------------------------------------------------------ graph building

  std::string unique_name(std::string base) {
    if (base.empty()) base = "node";
    if (!out_.find(base)) return base;
    for (std::size_t k = 1;; ++k) {
      std::string c = base + "#" + std::to_string(k);
      if (!out_.find(c)) return c;
    }
  }

  tensor_shape graph_shape(const std::string& tensor, const std::string& where) const {
    const auto it = info_.find(tensor);
    if (it == info_.end() || !it->second.rank_known) return tensor_shape{tensor_shape::unknown};
    const tensor_info& v = it->second;
    for (i64 d : v.dims)
      if (d > tensor_shape::max_dim)
        throw graph_error(src_ + ": " + where + ": tensor '" + tensor + "' has dimension " +
                          std::to_string(d) + " (above 2^31-1)");
    if (v.dims.size() > tensor_shape::max_rank)
      throw unsupported_error(src_ + ": " + where + ": tensor '" + tensor + "' has rank " +
                              std::to_string(v.dims.size()) + " (at most 8 supported)");
    return shape_from_onnx(v.dims);
  }

  const tensor_info* find_info(const std::string& s) const {
    if (s.empty()) return nullptr;
    const auto it = info_.find(s);
    return it == info_.end() ? nullptr : &it->second;
  }
  std::vector<i64> dims_of(const std::string& s) const {
    const tensor_info* v = find_info(s);
    return v != nullptr && v->rank_known ? v->dims : std::vector<i64>{};
  }
  bool rank_is(const std::string& s, std::size_t r) const {
    const tensor_info* v = find_info(s);
    return v != nullptr && v->rank_known && v->dims.size() == r;
  }
  bool is_const(const std::string& s) const {
    const tensor_info* v = find_info(s);
    return v != nullptr && v->is_const;
  }
  std::string in_name(const onnx::NodeProto& n, int i) const {
    return i < n.input_size() ? n.input(i) : std::string();
  }

  // Windowed attributes (kernel, strides, dilations, pads, auto_pad) for a rank-4 input.
  void window_attrs(const onnx::NodeProto& n, attributes& a, const std::vector<i64>& x,
                    std::array<i64, 2> kernel) {
    a.kernel = kernel;
    if (auto k = attr_ints(n, "kernel_shape"); k && k->size() == 2) a.kernel = {(*k)[0], (*k)[1]};
    if (auto s = attr_ints(n, "strides"); s && s->size() == 2) a.strides = {(*s)[0], (*s)[1]};
    if (auto d = attr_ints(n, "dilations"); d && d->size() == 2) a.dilations = {(*d)[0], (*d)[1]};
    if (auto p = attr_ints(n, "pads"); p && p->size() == 4)
      a.pads = {(*p)[0], (*p)[2], (*p)[1], (*p)[3]};  // ONNX [t, l, b, r] -> {t, b, l, r}
    auto check = [&](const char* what, i64 v, i64 lo) {
      if (v < lo || v > tensor_shape::max_dim)
        throw parse_error(src_ + ": node '" + n.name() + "' (" + n.op_type() + "): " + what +
                          " value " + std::to_string(v) + " is outside [" + std::to_string(lo) +
                          ", 2^31-1]");
    };
    const bool pool = n.op_type() == "MaxPool" || n.op_type() == "AveragePool";
    for (i64 v : a.kernel) check("kernel_shape", v, pool ? 1 : 0);  // conv: 0 = unknown
    for (i64 v : a.strides) check("strides", v, 1);
    for (i64 v : a.dilations) check("dilations", v, 1);
    for (i64 v : a.pads) check("pads", v, 0);
    const std::string ap = attr_string(n, "auto_pad", "NOTSET");
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      a.padding = ap == "SAME_UPPER" ? padding_mode::same : padding_mode::same_lower;
      for (std::size_t i = 0; i < 2 && x.size() == 4; ++i) {  // resolved pads, as graph_builder
        const i64 in = x[i + 2], s = a.strides[i], k = a.kernel[i], d = a.dilations[i];
        if (in < 0 || s < 1 || k < 1 || d < 1 || k > tensor_shape::max_dim ||
            d > tensor_shape::max_dim || s > tensor_shape::max_dim)
          continue;
        const i64 out = (in + s - 1) / s;
        const i64 need = (out - 1) * s + d * (k - 1) + 1 - in;
        const i64 total = need > 0 ? need : 0;
        const i64 pb = a.padding == padding_mode::same ? total / 2 : total - total / 2;
        a.pads[i * 2] = pb;
        a.pads[i * 2 + 1] = total - pb;
      }
    } else if (ap == "VALID") {
      a.padding = padding_mode::valid;
      a.pads = {0, 0, 0, 0};
    }
  }

  static i64 norm(i64 axis, std::size_t rank) {
    const i64 r = to_i64(rank);
    return axis < 0 ? axis + r : axis;
  }
  static i64 layout_axis(i64 axis, std::size_t rank) {
    const i64 a = norm(axis, rank);
    return rank == 4 ? nhwc_axis(a) : a;
  }
  static std::vector<i64> layout_axes(std::vector<i64> axes, std::size_t rank) {
    for (i64& a : axes) a = layout_axis(a, rank);
    std::sort(axes.begin(), axes.end());
    return axes;
  }

  std::optional<std::vector<i64>> const_ints(const std::string& s) const {
    const tensor_info* v = find_info(s);
    if (v == nullptr || !v->has_value) return std::nullopt;
    if (!v->is_real) return v->ints;
    std::vector<i64> r;
    for (double d : v->reals) {
      i64 x = 0;
      if (!double_to_i64(d, x)) return std::nullopt;
      r.push_back(x);
    }
    return r;
  }
  std::optional<double> const_scalar(const std::string& s) const {
    const tensor_info* v = find_info(s);
    if (v == nullptr || !v->has_value || v->count() != 1) return std::nullopt;
    return v->real_at(0);
  }

  mapped_op map_node(const onnx::NodeProto& n) {
    mapped_op m;
    attributes& a = m.attrs;
    const std::string& op = n.op_type();
    if (!default_domain(n)) return m;
    const std::string x = in_name(n, 0);
    const std::vector<i64> xd = dims_of(x);
    const std::size_t xr = xd.size();
    const bool x4 = rank_is(x, 4);
    const std::string y = n.output_size() > 0 ? n.output(0) : std::string();
    auto float_attr = [&](const char* k, double d) { return static_cast<float>(attr_float(n, k, d)); };

    if (op == "Conv" || op == "QLinearConv" || op == "ConvInteger" || op == "ConvTranspose") {
      if (!x4) return m;
      const int wi = op == "QLinearConv" ? 3 : 1;
      const int bi = op == "QLinearConv" ? 8 : (op == "ConvInteger" ? -1 : 2);
      const std::vector<i64> wd = dims_of(in_name(n, wi));
      std::array<i64, 2> k{0, 0};
      if (wd.size() == 4 && wd[2] >= 0 && wd[3] >= 0) k = {wd[2], wd[3]};
      window_attrs(n, a, xd, k);
      a.groups = attr_int(n, "group", 1);
      if (a.groups < 1 || a.groups > tensor_shape::max_dim)
        throw parse_error(src_ + ": node '" + n.name() + "' (" + n.op_type() + "): group " +
                          std::to_string(a.groups) + " must be in [1, 2^31-1]");
      a.has_bias = bi >= 0 && !in_name(n, bi).empty();
      if (op == "ConvTranspose") {
        m.kind = op_kind::conv_transpose;
        if (auto p = attr_ints(n, "output_padding"); p && p->size() == 2 && ((*p)[0] || (*p)[1]))
          a.extra.emplace_back("output_padding", ints_json(*p));
        if (auto p = attr_ints(n, "output_shape")) a.extra.emplace_back("output_shape", ints_json(*p));
        return m;
      }
      m.elem_from_input = op != "Conv";
      if (a.groups > 1 && a.groups == xd[1]) {
        m.kind = op_kind::dwconv;
      } else {
        m.kind = op_kind::conv;
      }
      return m;
    }
    if (op == "MaxPool" || op == "AveragePool") {
      if (!x4) return m;
      window_attrs(n, a, xd, {0, 0});
      a.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
      a.has_bias = false;
      if (op == "AveragePool" && attr_int(n, "count_include_pad", 0) != 0)
        a.extra.emplace_back("count_include_pad", "1");
      m.kind = op == "MaxPool" ? op_kind::maxpool : op_kind::avgpool;
      return m;
    }
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      if (!x4) return m;
      m.kind = op == "GlobalAveragePool" ? op_kind::global_avgpool : op_kind::global_maxpool;
      return m;
    }
    if (op == "BatchNormalization") {
      m.kind = op_kind::bn;
      a.alpha = float_attr("epsilon", 1e-5);
      return m;
    }
    if (op == "Relu") { m.kind = op_kind::relu; return m; }
    if (op == "Sigmoid") { m.kind = op_kind::sigmoid; return m; }
    if (op == "Tanh") { m.kind = op_kind::tanh; return m; }
    if (op == "HardSwish") { m.kind = op_kind::hswish; return m; }
    if (op == "PRelu") { m.kind = op_kind::prelu; return m; }
    if (op == "LeakyRelu") { m.kind = op_kind::leaky_relu; a.alpha = float_attr("alpha", 0.01); return m; }
    if (op == "Elu") { m.kind = op_kind::elu; a.alpha = float_attr("alpha", 1.0); return m; }
    if (op == "HardSigmoid") {
      m.kind = op_kind::hsigmoid;
      a.alpha = float_attr("alpha", 0.2);
      a.beta = float_attr("beta", 0.5);
      return m;
    }
    if (op == "Softmax") {
      m.kind = op_kind::softmax;
      a.axis = layout_axis(attr_int(n, "axis", opset_ >= 13 ? -1 : 1), xr);
      return m;
    }
    if (op == "Clip") {
      double lo = -static_cast<double>(FLT_MAX), hi = static_cast<double>(FLT_MAX);
      if (opset_ < 11) {
        lo = attr_float(n, "min", lo);
        hi = attr_float(n, "max", hi);
      } else {
        const std::string mn = in_name(n, 1), mx = in_name(n, 2);
        if (!mn.empty()) {
          if (auto v = const_scalar(mn)) lo = *v; else a.extra.emplace_back("dynamic_min", "true");
        }
        if (!mx.empty()) {
          if (auto v = const_scalar(mx)) hi = *v; else a.extra.emplace_back("dynamic_max", "true");
        }
      }
      auto fin = [](double v) {
        const double f = static_cast<double>(FLT_MAX);
        return std::isnan(v) ? 0.0 : (v > f ? f : (v < -f ? -f : v));
      };
      a.clip_min = static_cast<float>(fin(lo));
      a.clip_max = static_cast<float>(fin(hi));
      m.kind = a.clip_min == 0.0f && a.clip_max == 6.0f && a.extra.empty() ? op_kind::relu6 : op_kind::clip;
      return m;
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || (op == "Sum" && n.input_size() == 2)) {
      m.kind = op == "Sub" ? op_kind::sub : op == "Mul" ? op_kind::mul : op == "Div" ? op_kind::div : op_kind::add;
      return m;
    }
    if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul" || op == "MatMulInteger") {
      const int bi = op == "QLinearMatMul" ? 3 : 1;
      const std::string b = in_name(n, bi);
      m.elem_from_input = op == "QLinearMatMul" || op == "MatMulInteger";
      const bool weight = is_const(b) && (op != "Gemm" || attr_int(n, "transA", 0) == 0) &&
                          (op == "Gemm" || rank_is(b, 2));
      if (weight) {
        m.kind = op_kind::fc;
        a.has_bias = op == "Gemm" && !in_name(n, 2).empty();
        if (op == "Gemm" && attr_int(n, "transB", 0) != 0) a.extra.emplace_back("transB", "1");
      } else {
        m.kind = op_kind::matmul;
      }
      return m;
    }
    if (op == "Flatten") {
      m.kind = op_kind::flatten;
      a.axis = norm(attr_int(n, "axis", 1), xr);
      return m;
    }
    if (op == "Reshape") {
      m.kind = op_kind::reshape;
      const tensor_info* yo = find_info(y);
      if (yo != nullptr && yo->is_static() && yo->dims.size() <= tensor_shape::max_rank) {
        const tensor_shape s = shape_from_onnx(yo->dims);
        a.target_shape.assign(s.begin(), s.end());
      } else if (auto t = opset_ >= 5 ? const_ints(in_name(n, 1)) : attr_ints(n, "shape")) {
        a.target_shape = *t;
      }
      return m;
    }
    if (op == "Transpose") {
      m.kind = op_kind::transpose;
      std::vector<i64> perm = attr_ints(n, "perm").value_or(std::vector<i64>{});
      if (perm.empty())
        for (std::size_t i = xr; i-- > 0;) perm.push_back(to_i64(i));
      bool valid = perm.size() == xr;
      for (i64 p : perm) valid = valid && p >= 0 && p < to_i64(xr);
      if (valid && xr == 4) {  // out_nhwc[j] = in_nhwc[perm_nhwc[j]]
        constexpr std::size_t nchw_of_nhwc[4] = {0, 2, 3, 1};
        std::vector<i64> q(4);
        for (std::size_t j = 0; j < 4; ++j) q[j] = nhwc_axis(perm[nchw_of_nhwc[j]]);
        perm = q;
      }
      a.perm = perm;
      return m;
    }
    if (op == "Concat") {
      m.kind = op_kind::concat;
      a.axis = layout_axis(attr_int(n, "axis", 0), xr);
      return m;
    }
    if (op == "Split") {
      m.kind = op_kind::split;
      const i64 ax = norm(attr_int(n, "axis", 0), xr);
      a.axis = xr == 4 ? nhwc_axis(ax) : ax;
      for (const std::string& o : n.output()) {
        const std::vector<i64> od = dims_of(o);
        if (od.size() != xr || ax < 0 || ax >= to_i64(xr)) {
          a.split_sizes.clear();
          break;
        }
        a.split_sizes.push_back(od[to_size(ax)]);
      }
      return m;
    }
    if (op == "Slice") {
      m.kind = op_kind::slice;
      std::optional<std::vector<i64>> starts, ends, axes, steps;
      if (opset_ < 10) {
        starts = attr_ints(n, "starts");
        ends = attr_ints(n, "ends");
        axes = attr_ints(n, "axes");
      } else {
        starts = const_ints(in_name(n, 1));
        ends = const_ints(in_name(n, 2));
        if (!in_name(n, 3).empty()) axes = const_ints(in_name(n, 3));
        if (!in_name(n, 4).empty()) steps = const_ints(in_name(n, 4));
      }
      if (starts && !axes) {
        axes = std::vector<i64>{};
        for (std::size_t i = 0; i < starts->size(); ++i) axes->push_back(to_i64(i));
      }
      if (axes) {
        std::vector<i64> ax;
        for (i64 v : *axes) ax.push_back(layout_axis(v, xr));
        a.axes = ax;
        if (!ax.empty()) a.axis = ax[0];
      }
      if (starts) a.extra.emplace_back("starts", ints_json(*starts));
      if (ends) a.extra.emplace_back("ends", ints_json(*ends));
      a.extra.emplace_back("steps", ints_json(steps.value_or(std::vector<i64>(starts ? starts->size() : 0, 1))));
      return m;
    }
    if (op == "Pad") {
      m.kind = op_kind::pad;
      std::optional<std::vector<i64>> p = opset_ < 11 ? attr_ints(n, "pads") : const_ints(in_name(n, 1));
      if (opset_ >= 18) p.reset();
      a.mode = attr_string(n, "mode", "constant");
      if (p && p->size() == 2 * xr) {
        if (xr == 4) {
          a.pads = {(*p)[2], (*p)[6], (*p)[3], (*p)[7]};
          if ((*p)[0] || (*p)[1] || (*p)[4] || (*p)[5]) a.extra.emplace_back("pads", ints_json(*p));
        } else {
          a.extra.emplace_back("pads", ints_json(*p));
        }
      }
      return m;
    }
    if (op == "Resize" || op == "Upsample") {
      if (!x4) return m;
      m.kind = op_kind::resize;
      a.mode = attr_string(n, "mode", "nearest");
      const std::vector<i64> yd = dims_of(y);
      if (yd.size() == 4 && xd[2] > 0 && xd[3] > 0 && yd[2] >= 0 && yd[3] >= 0)
        a.scales = {static_cast<float>(static_cast<double>(yd[2]) / static_cast<double>(xd[2])),
                    static_cast<float>(static_cast<double>(yd[3]) / static_cast<double>(xd[3]))};
      const std::string ctm = attr_string(n, "coordinate_transformation_mode", "");
      if (!ctm.empty()) a.extra.emplace_back("coordinate_transformation_mode", "\"" + ctm + "\"");
      return m;
    }
    if (op == "Cast") { m.kind = op_kind::cast; return m; }
    if (op == "Gather") {
      m.kind = op_kind::gather;
      a.axis = layout_axis(attr_int(n, "axis", 0), xr);
      return m;
    }
    if (op == "Squeeze" || op == "Unsqueeze") {
      m.kind = op == "Squeeze" ? op_kind::squeeze : op_kind::unsqueeze;
      std::optional<std::vector<i64>> axes =
          opset_ >= 13 ? const_ints(in_name(n, 1)) : attr_ints(n, "axes");
      const std::size_t r = op == "Squeeze" ? xr : dims_of(y).size();
      if (axes) a.axes = layout_axes(*axes, r);
      return m;
    }
    if (op == "ReduceMean") {
      m.kind = op_kind::reduce_mean;
      a.keepdims = attr_int(n, "keepdims", 1) != 0;
      std::optional<std::vector<i64>> axes = attr_ints(n, "axes");
      if (axes) a.axes = layout_axes(*axes, xr);
      else for (std::size_t i = 0; i < xr; ++i) a.axes.push_back(to_i64(i));
      return m;
    }
    if (op == "QuantizeLinear") { m.kind = op_kind::quantize; return m; }
    if (op == "DequantizeLinear") { m.kind = op_kind::dequantize; return m; }
    return m;
  }

  tensor_ref constant_node(const std::string& tensor) {
    const auto it = const_nodes_.find(tensor);
    if (it != const_nodes_.end()) return it->second;
    node nd;
    const auto p = producer_.find(tensor);
    nd.name = unique_name(p != producer_.end() && !g_.node(p->second).name().empty() &&
                                  g_.node(p->second).op_type() == "Constant"
                              ? g_.node(p->second).name()
                              : tensor);
    nd.op = op_kind::constant;
    nd.type = p != producer_.end() ? g_.node(p->second).op_type() : std::string("initializer");
    const tensor_info* v = find_info(tensor);
    nd.elem = to_dtype(v != nullptr ? v->elem : 0);
    nd.output_shapes.push_back(graph_shape(tensor, "constant '" + tensor + "'"));
    const tensor_ref r{out_.add_node(std::move(nd)), 0};
    const_nodes_.emplace(tensor, r);
    return r;
  }

  void build_graph() {
    for (const std::string& nm : input_names_) {
      node nd;
      nd.name = unique_name(nm);
      nd.op = op_kind::input;
      nd.type = "input";
      nd.elem = to_dtype(info_[nm].elem);
      nd.output_shapes.push_back(graph_shape(nm, "input '" + nm + "'"));
      refs_[nm] = tensor_ref{out_.add_node(std::move(nd)), 0};
    }
    onnx_accounting& acc = res_.accounting;
    for (int i : order_) {
      const auto si = static_cast<std::size_t>(i);
      const onnx::NodeProto& n = g_.node(i);
      switch (state_[si]) {
        case state::constant: ++acc.constants; continue;
        case state::folded: ++acc.folded; continue;
        case state::aliased: ++acc.aliased; continue;
        default: break;
      }
      if (is_alias_op(n)) {
        const std::string& src = n.input(0);
        const auto r = refs_.find(src);
        if (r != refs_.end()) refs_[n.output(0)] = r->second;
        tensor_info copy = info_[src];
        if (r != refs_.end()) copy.is_const = false;
        info_[n.output(0)] = copy;
        state_[si] = state::aliased;
        ++acc.aliased;
        continue;
      }
      import_node(i);
    }
    // Graph outputs.
    for (const onnx::ValueInfoProto& o : g_.output()) {
      onnx_output_info out;
      out.name = o.name();
      const tensor_info* v = find_info(o.name());
      const auto r = refs_.find(o.name());
      if (r != refs_.end()) {
        out.tensor = r->second;
        out.shape = out_[r->second.node].output_shapes[r->second.output];
      } else {
        out.constant = true;
        out.shape = graph_shape(o.name(), "graph output '" + o.name() + "'");
      }
      out.shape_known = v != nullptr && v->is_static();
      res_.outputs.push_back(std::move(out));
    }
    try {
      out_.validate();
    } catch (const graph_error& e) {
      throw graph_error(src_ + ": " + e.what());
    }
    res_.graph = std::move(out_);
  }

  void import_node(int i) {
    const auto si = static_cast<std::size_t>(i);
    const onnx::NodeProto& n = g_.node(i);
    onnx_accounting& acc = res_.accounting;
    const std::string label = node_label(i);
    mapped_op m = map_node(n);
    node nd;
    std::string base = n.name();
    if (base.empty()) base = n.output_size() > 0 && !n.output(0).empty() ? n.output(0) : n.op_type();
    nd.name = unique_name(base);
    if (nd.name != base && !n.name().empty())
      res_.warnings.push_back(label + ": duplicate node name, imported as '" + nd.name + "'");
    nd.op = m.kind;
    nd.type = n.op_type();
    nd.attrs = std::move(m.attrs);
    if (!default_domain(n)) nd.attrs.extra.emplace_back("domain", "\"" + n.domain() + "\"");
    // Operands.
    const bool data_consts = constants_are_operands(n.op_type()) && default_domain(n);
    std::vector<tensor_ref> ins;
    for (int k = 0; k < n.input_size(); ++k) {
      const std::string& s = n.input(k);
      if (s.empty()) continue;
      const auto r = refs_.find(s);
      if (r != refs_.end()) {
        ins.push_back(r->second);
      } else if (data_consts) {
        ins.push_back(constant_node(s));
      }
    }
    for (const tensor_ref& r : ins) nd.input_shapes.push_back(out_[r.node].output_shapes[r.output]);
    nd.inputs = std::move(ins);
    int last = n.output_size();
    while (last > 0 && n.output(last - 1).empty()) --last;
    for (int k = 0; k < last; ++k) {
      const std::string& o = n.output(k);
      nd.output_shapes.push_back(o.empty() ? tensor_shape{tensor_shape::unknown}
                                           : graph_shape(o, label));
    }
    const tensor_info* y0 = last > 0 ? find_info(n.output(0)) : nullptr;
    nd.elem = to_dtype(y0 != nullptr ? y0->elem : onnx::TensorProto::FLOAT);
    if (m.elem_from_input) {
      const tensor_info* xi = find_info(in_name(n, 0));
      if (xi != nullptr) nd.elem = to_dtype(xi->elem);
    }
    if (m.kind == op_kind::quantize) {
      const tensor_info* zp = find_info(in_name(n, 2));
      nd.elem = zp != nullptr && zp->elem == onnx::TensorProto::INT8 ? dtype::i8 : dtype::u8;
    }
    // Data-dependent shapes: an op that is by nature, or an output shape left unknown although
    // every input shape is known (Reshape / Expand / Resize / Slice ... by a computed tensor).
    bool inputs_static = true;
    for (const std::string& s : n.input()) {
      if (s.empty()) continue;
      const tensor_info* v = find_info(s);
      if (v == nullptr || !v->is_static()) inputs_static = false;
    }
    bool outputs_static = true;
    for (const std::string& o : n.output()) {
      if (o.empty()) continue;
      const tensor_info* v = find_info(o);
      if (v == nullptr || !v->is_static()) outputs_static = false;
    }
    const std::string final_name = nd.name;
    const node_index id = out_.add_node(std::move(nd));
    for (int k = 0; k < last; ++k)
      if (!n.output(k).empty()) refs_[n.output(k)] = tensor_ref{id, static_cast<std::uint32_t>(k)};
    state_[si] = state::imported;
    ++acc.imported;
    if (m.kind == op_kind::other) {
      ++acc.other;
      acc.other_nodes.push_back(final_name);
    }
    if (is_intrinsically_data_dependent(n.op_type()) || (n.op_type() == "TopK" && !is_const(in_name(n, 1))) ||
        (!outputs_static && inputs_static))
      acc.data_dependent_nodes.push_back(final_name);
  }

  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_;
  const onnx_import_options& opt_;
  std::string src_;
  onnx_import_result res_;
  i64 opset_ = 0;
  std::unordered_map<std::string, int> opsets_;
  onnx::shape_inference::ModelLocalFunctionsMap functions_;
  std::unordered_map<std::string, tensor_info> info_;
  std::unordered_set<std::string> initializers_;
  std::vector<std::string> input_names_;
  std::unordered_map<std::string, int> producer_;
  std::vector<int> order_;
  std::vector<state> state_;
  bool inference_warned_ = false;
  bool checker_ready_ = false;
  std::unordered_map<std::string, const onnx::ValueInfoProto*> declared_;
  onnx::checker::CheckerContext checker_ctx_;
  onnx::checker::LexicalScopeContext lexical_;
  graph out_;
  std::unordered_map<std::string, tensor_ref> refs_;
  std::unordered_map<std::string, tensor_ref> const_nodes_;
};

inline void parse_model(const void* data, std::size_t size, onnx::ModelProto& m,
                        const std::string& src) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw parse_error(src + ": " + std::to_string(size) +
                      " bytes: protobuf cannot parse messages of 2 GiB or more (store the weights "
                      "as ONNX external data)");
  google::protobuf::io::ArrayInputStream ais(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream cis(&ais);
  cis.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (!m.ParseFromCodedStream(&cis) || !cis.ConsumedEntireMessage())
    throw parse_error(src + ": not an ONNX model (protobuf parse failed; truncated or not ONNX?)");
}

}  // namespace onnx_detail

/// Imports a parsed ONNX model. `source_name` prefixes every error message and warning.
/// Throws parse_error (malformed model, dangling references, bad dims), graph_error (cycles,
/// inconsistent shapes, bad input_shapes) or unsupported_error (opset outside 7..17, symbolic
/// input dims without input_shapes, non-tensor inputs).
inline onnx_import_result import_onnx(const onnx::ModelProto& model,
                                      const onnx_import_options& options = {},
                                      const std::string& source_name = "<model>") {
  onnx_detail::importer imp(model, options, source_name);
  try {
    return imp.run();
  } catch (const error&) {
    throw;
  } catch (const std::length_error& e) {
    throw unsupported_error(source_name + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {  // anything from protobuf / ONNX that escaped
    throw parse_error(source_name + ": " + e.what());
  }
}

/// Imports an ONNX model held in memory.
inline onnx_import_result import_onnx_from_memory(const void* data, std::size_t size,
                                                  const onnx_import_options& options = {},
                                                  const std::string& source_name = "<memory>") {
  onnx::ModelProto m;
  onnx_detail::parse_model(data, size, m, source_name);
  return import_onnx(m, options, source_name);
}

/// Imports an ONNX file. Weights are not copied: only their dims are read, so import time is
/// bounded by protobuf parsing.
inline onnx_import_result import_onnx(const std::string& path,
                                      const onnx_import_options& options = {}) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw parse_error(path + ": cannot open file");
  const std::streamoff end = f.tellg();
  if (end < 0) throw parse_error(path + ": cannot read file");
  std::string bytes(static_cast<std::size_t>(end), '\0');
  f.seekg(0);
  if (!bytes.empty() && !f.read(&bytes[0], static_cast<std::streamsize>(bytes.size())))
    throw parse_error(path + ": read error");
  f.close();
  onnx::ModelProto m;
  onnx_detail::parse_model(bytes.data(), bytes.size(), m, path);
  std::string().swap(bytes);
  return import_onnx(m, options, path);
}

/// The graph of an ONNX file (import_onnx(path, options).graph).
inline nnmeter::graph load_onnx(const std::string& path, const onnx_import_options& options = {}) {
  return import_onnx(path, options).graph;
}

}  // namespace io
NNMETER_END_NAMESPACE
