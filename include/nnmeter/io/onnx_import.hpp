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
#include <nnmeter/io/input_file.hpp>
#include <nnmeter/io/onnx_fold.hpp>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// How the hints of import_onnx's errors name the options that fix them.
enum class onnx_hint_style : std::uint8_t {
  library,  ///< the fields of onnx_import_options (`onnx_import_options::input_shapes`)
  cli,      ///< the flags of the nnmeter program (`--input-shape NAME:1,3,224,224`)
};

/// Options of import_onnx.
struct onnx_import_options {
  /// Input shapes in the file's layout (NCHW for images), e.g. {"input", {1, 3, 224, 224}}.
  /// Required for inputs with symbolic or unknown dims; they override the file's dims.
  std::map<std::string, std::vector<std::int64_t>> input_shapes;
  /// Import models whose default-domain opset is outside 7..17 on a best-effort basis (with a
  /// warning) instead of throwing unsupported_error.
  bool allow_any_opset = false;
  /// import_onnx(path): files larger than this are refused from their size, before anything is
  /// read (protobuf cannot parse 2 GiB or more anyway; big weights go in ONNX external data).
  std::uint64_t max_file_bytes = default_max_onnx_bytes;
  /// Folder that the `location` of ONNX external data (TensorProto data_location EXTERNAL) is
  /// relative to. Empty: import_onnx(path) uses the model's folder; an import from memory or
  /// from a ModelProto then checks the references' form only and warns that their files were
  /// not checked (docs/onnx.md, "External data").
  std::string external_data_dir;
  /// A missing external-data file, or one too short for its tensor, is a warning instead of an
  /// error (the importer reads dims only, so a model copied without its weights still imports).
  /// References that are absolute, leave the model's folder or name something other than a
  /// regular file stay errors.
  bool allow_missing_external_data = false;
  /// Whether hints name onnx_import_options fields (library) or the nnmeter program's flags.
  onnx_hint_style hints = onnx_hint_style::library;
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

/// ONNX's name of an element type ("FLOAT", "STRING", ...), or "UNDEFINED (0)" /
/// "unknown type 42" for values this ONNX does not define.
inline std::string onnx_type_name(int t) {
  if (t == 0) return "UNDEFINED (0)";
  const std::string n = onnx::TensorProto::DataType_IsValid(t)
                            ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t))
                            : std::string();
  return n.empty() ? "unknown type " + std::to_string(t) : n;
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
  /// A shape parameter (Reshape's shape, Pad's pads, Resize's scales or sizes, Slice's bounds,
  /// Squeeze / Unsqueeze / ReduceMean axes, Split sizes given as tensors) has no known value:
  /// the node's output shape is the one ONNX inference or the file gives, and the node is
  /// marked attr_keys::data_dependent.
  bool data_dependent = false;
};

/// The inputs of a quantized operator that are data (graph operands when they are graph
/// tensors); the others are scales and zero points, which are parameters even when the model
/// gives them as graph inputs. Empty for any other operator (every input may be an operand).
inline std::vector<int> quantized_data_inputs(const std::string& op) {
  if (op == "QLinearConv" || op == "ConvInteger") return {0};
  if (op == "QLinearMatMul") return {0, 3};
  if (op == "MatMulInteger") return {0, 1};
  return {};
}

class importer {
 public:
  importer(const onnx::ModelProto& m, const onnx_import_options& o, std::string src)
      : m_(m), g_(m.graph()), opt_(o), src_(std::move(src)) {}

  onnx_import_result run() {
    check_header();
    read_initializers();
    check_external_data();
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

  // --- hints: the options that fix an error, named as the caller knows them (opt_.hints)

  bool cli_hints() const noexcept { return opt_.hints == onnx_hint_style::cli; }

  /// The option `field` of onnx_import_options, or the nnmeter flag that sets it.
  std::string option_name(const std::string& field) const {
    if (!cli_hints()) return "onnx_import_options::" + field;
    if (field == "input_shapes") return "--input-shape";
    if (field == "allow_any_opset") return "--allow-any-opset";
    if (field == "allow_missing_external_data") return "--allow-missing-external-data";
    return field;
  }

  /// How to give input `name` a shape: its dims with each unknown one written as 1, or
  /// D0,D1,... when even the rank is unknown.
  std::string input_shape_hint(const std::string& name, const std::vector<i64>* dims) const {
    std::string list;
    if (dims == nullptr) {
      list = cli_hints() ? "D0,D1,..." : "d0, d1, ...";
    } else {
      for (std::size_t i = 0; i < dims->size(); ++i)
        list += (i ? (cli_hints() ? "," : ", ") : "") + std::to_string((*dims)[i] < 0 ? 1 : (*dims)[i]);
    }
    const std::string note = std::string(" (the file's layout, e.g. NCHW") +
                             (dims != nullptr ? "; symbolic dims written as 1 here)" : ")");
    if (cli_hints()) return "give it with --input-shape " + name + ":" + list + note;
    return "give it in onnx_import_options::input_shapes, e.g. input_shapes[\"" + name +
           "\"] = {" + list + "}" + note;
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
        throw unsupported_error(msg + " (" + option_name("allow_any_opset") +
                                " imports it on a best-effort basis)");
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
      checker_ready_ = true;
    }
    try {
      if (has_subgraph(n)) {
        // Subgraphs may read any tensor of the main graph: the checker needs every name.
        if (!lexical_ready_) {
          for (const auto& kv : info_) lexical_.add(kv.first);
          for (const auto& kv : producer_) lexical_.add(kv.first);
          lexical_ready_ = true;
        }
        onnx::checker::check_node(n, checker_ctx_, lexical_);
      } else {
        // The checker looks names up only for the node's inputs (index_nodes() has checked
        // that each is defined): a scope of just those keeps the check independent of the
        // graph's size.
        onnx::checker::LexicalScopeContext scope;
        for (const std::string& s : n.input())
          if (!s.empty()) scope.add(s);
        onnx::checker::check_node(n, checker_ctx_, scope);
      }
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

  // Element types of graph inputs: those nnmeter's dtype holds (f32, f16, i8, u8, i32, i64)
  // and those of the same size (BOOL as u8, BFLOAT16 as f16, UINT32 as i32, UINT64 as i64)
  // import as such; DOUBLE, INT16 and UINT16 import with a warning (their byte counts change);
  // anything else (STRING, COMPLEX64/128, UNDEFINED, types newer than this ONNX) is refused.
  void check_input_type(const std::string& where, int elem) {
    using tp = onnx::TensorProto;
    const std::string type = onnx_type_name(elem);
    switch (elem) {
      case tp::FLOAT: case tp::FLOAT16: case tp::BFLOAT16: case tp::INT8: case tp::UINT8:
      case tp::BOOL: case tp::INT32: case tp::UINT32: case tp::INT64: case tp::UINT64:
        return;
      case tp::DOUBLE:
        res_.warnings.push_back(src_ + ": " + where + " is DOUBLE; nnmeter has no 64-bit float "
                                "type and imports it as f32 (its byte counts halve)");
        return;
      case tp::INT16:
      case tp::UINT16:
        res_.warnings.push_back(src_ + ": " + where + " is " + type +
                                "; nnmeter has no 16-bit integer type and imports it as i32 (its "
                                "byte counts double)");
        return;
      default:
        throw unsupported_error(src_ + ": " + where + " has element type " + type +
                                ", which nnmeter cannot represent (its tensors are f32, f16, i8, "
                                "u8, i32 or i64)");
    }
  }

  // ---------------------------------------------------------------------- external data
  //
  // The importer reads only the dims of external tensors, but a reference must still be
  // sound: a relative location inside the model's folder (no absolute path, no '..' or
  // symbolic link leading out of it), a regular file (not a device, pipe or directory),
  // offset and length that are byte counts and fall inside the file, and a length that is
  // the tensor's byte size. Unsound references are parse_errors; a missing or short file is
  // one too, or a warning with allow_missing_external_data. Without a folder (import from
  // memory) only the form is checked, with one warning.

  struct external_file {
    bool exists = false;
    std::uintmax_t size = 0;
  };

  void check_external_data() {
    check_external_in(g_);
    for (const onnx::FunctionProto& f : m_.functions())
      for (const onnx::NodeProto& n : f.node()) check_external_in(n);
    if (unchecked_external_ > 0)
      res_.warnings.push_back(
          src_ + ": " + std::to_string(unchecked_external_) + " tensor" +
          (unchecked_external_ == 1 ? " keeps its" : "s keep their") +
          " data in external files (e.g. " + unchecked_example_ +
          "), which were not checked: the model was imported without a folder (" +
          option_name("external_data_dir") + ")");
  }

  void check_external_in(const onnx::GraphProto& g) {
    for (const onnx::TensorProto& t : g.initializer())
      check_external(t, "initializer '" + t.name() + "'");
    for (const onnx::SparseTensorProto& sp : g.sparse_initializer()) {
      check_external(sp.values(), "sparse initializer '" + sp.values().name() + "' (values)");
      check_external(sp.indices(), "sparse initializer '" + sp.values().name() + "' (indices)");
    }
    for (const onnx::NodeProto& n : g.node()) check_external_in(n);
  }

  void check_external_in(const onnx::NodeProto& n) {
    for (const onnx::AttributeProto& a : n.attribute()) {
      const std::string what = "node '" + n.name() + "' (" + n.op_type() + "): attribute '" +
                               a.name() + "'";
      if (a.has_t()) check_external(a.t(), what);
      for (const onnx::TensorProto& t : a.tensors()) check_external(t, what);
      if (a.has_sparse_tensor()) {
        check_external(a.sparse_tensor().values(), what);
        check_external(a.sparse_tensor().indices(), what);
      }
      for (const onnx::SparseTensorProto& sp : a.sparse_tensors()) {
        check_external(sp.values(), what);
        check_external(sp.indices(), what);
      }
      if (a.has_g()) check_external_in(a.g());
      for (const onnx::GraphProto& sg : a.graphs()) check_external_in(sg);
    }
  }

  static bool byte_count(const std::string& text, std::uint64_t& out) {
    if (text.empty() || text.size() > 19) return false;  // 19 digits < 2^63
    out = 0;
    for (char ch : text) {
      if (ch < '0' || ch > '9') return false;
      out = out * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    return true;
  }

  static const char* file_kind(const std::filesystem::file_status& st) {
    namespace fs = std::filesystem;
    if (fs::is_directory(st)) return "a directory";
    if (fs::is_character_file(st)) return "a character device";
    if (fs::is_block_file(st)) return "a block device";
    if (fs::is_fifo(st)) return "a pipe";
    if (fs::is_socket(st)) return "a socket";
    return "not a regular file";
  }

  void check_external(const onnx::TensorProto& t, const std::string& what) {
    namespace fs = std::filesystem;
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    const std::string where = src_ + ": " + what;
    std::string location;
    std::uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const onnx::StringStringEntryProto& e : t.external_data()) {
      if (e.key() == "location") {
        location = e.value();
      } else if (e.key() == "offset" || e.key() == "length") {
        std::uint64_t v = 0;
        if (!byte_count(e.value(), v))
          throw parse_error(where + ": external data " + e.key() + " '" + e.value() +
                            "' is not a byte count");
        if (e.key() == "offset") {
          offset = v;
        } else {
          length = v;
          has_length = true;
        }
      }
    }
    if (location.empty())
      throw parse_error(where + ": its data is EXTERNAL but external_data gives no location");
    const std::string loc = "external data '" + location + "'";
    if (location.find('\0') != std::string::npos)
      throw parse_error(where + ": " + loc + " holds a NUL byte");
    const fs::path rel(location);
    if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
      throw parse_error(where + ": " + loc + " is an absolute path (ONNX external data is "
                        "relative to the model's folder)");
    const fs::path norm = rel.lexically_normal();
    if (norm.empty() || norm == "." || *norm.begin() == "..")
      throw parse_error(where + ": " + loc + " is not a file inside the model's folder");
    // The tensor's byte size, where its element type has a fixed size.
    std::uint64_t expected = 0;
    const std::size_t esize = onnx_elem_size(t.data_type());
    bool sized = esize > 0;
    std::uint64_t numel = 1;
    for (i64 d : t.dims()) {
      if (d < 0 || d > tensor_shape::max_dim) sized = false;  // read_tensor_proto refuses it
      else if (d != 0 && numel > (std::uint64_t{1} << 62) / static_cast<std::uint64_t>(d)) sized = false;
      else numel *= static_cast<std::uint64_t>(d);
    }
    if (sized && numel > (std::uint64_t{1} << 62) / esize) sized = false;
    if (sized) expected = numel * esize;
    if (has_length && sized && length != expected)
      throw graph_error(where + ": " + loc + " gives length " + std::to_string(length) +
                        " bytes, but dims " + ints_json({t.dims().begin(), t.dims().end()}) + " of " +
                        onnx_type_name(t.data_type()) + " take " + std::to_string(expected));
    if (opt_.external_data_dir.empty()) {
      if (unchecked_external_++ == 0) unchecked_example_ = what + " in '" + location + "'";
      return;
    }
    const fs::path dir(opt_.external_data_dir);
    const fs::path full = dir / norm;
    auto missing = [&](const std::string& why) {
      const std::string msg = where + ": " + loc + " " + why;
      if (!opt_.allow_missing_external_data)
        throw parse_error(msg + " (" + option_name("allow_missing_external_data") +
                          " imports the model without it: only dims are read)");
      res_.warnings.push_back(msg + "; imported without it (only dims are read)");
    };
    const std::string key = norm.string();
    auto cached = external_files_.find(key);
    if (cached == external_files_.end()) {
      external_file f;
      std::error_code ec;
      const fs::file_status st = fs::status(full, ec);
      if (fs::exists(st)) {
        if (!fs::is_regular_file(st))
          throw parse_error(where + ": " + loc + " is " + file_kind(st) + ", not a regular file");
        // Symbolic links must not lead out of the folder either.
        std::error_code e1, e2;
        const fs::path canon = fs::weakly_canonical(full, e1);
        const fs::path base = fs::weakly_canonical(dir, e2);
        if (!e1 && !e2) {
          auto b = base.begin(), c = canon.begin();
          for (; b != base.end() && c != canon.end() && *b == *c; ++b, ++c) {
          }
          if (b != base.end() && !b->empty())
            throw parse_error(where + ": " + loc + " leads out of the model's folder (to '" +
                              canon.string() + "')");
        }
        f.exists = true;
        f.size = fs::file_size(full, ec);
        if (ec) f.exists = false;
      }
      cached = external_files_.emplace(key, f).first;
    }
    const external_file& f = cached->second;
    if (!f.exists) {
      missing("does not exist (looked for '" + full.string() + "')");
      return;
    }
    const std::uint64_t need = has_length ? length : expected;
    if (offset > f.size || need > f.size - offset)
      missing("is " + std::to_string(f.size) + " bytes, too short for bytes " +
              std::to_string(offset) + ".." + std::to_string(offset + need) + " of the tensor");
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
        throw graph_error(src_ + ": " + option_name("input_shapes") + " names '" + kv.first +
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
      check_input_type(where, v.elem);
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
          throw graph_error(src_ + ": " + option_name("input_shapes") + " gives " + where + " rank " +
                            std::to_string(u.size()) + " but the model declares " +
                            dims_text(shown));
        for (i64 d : u)
          if (d < 0 || d > tensor_shape::max_dim)
            throw graph_error(src_ + ": " + option_name("input_shapes") + " gives " + where + " dimension " +
                              std::to_string(d) + " (must be in [0, 2^31-1])");
        for (std::size_t i = 0; v.rank_known && i < u.size(); ++i)
          if (v.dims[i] >= 0 && v.dims[i] != u[i])
            res_.warnings.push_back(src_ + ": " + where + ": dimension " + std::to_string(i) + " declared " +
                                    std::to_string(v.dims[i]) + ", overridden by " +
                                    option_name("input_shapes") + " to " +
                                    std::to_string(u[i]));
        v.rank_known = true;
        v.dims = u;
      } else if (!v.rank_known) {
        throw unsupported_error(src_ + ": " + where + " has no shape in the model; " +
                                input_shape_hint(vi.name(), nullptr));
      } else if (symbolic) {
        throw unsupported_error(src_ + ": " + where + " has symbolic or unknown dims " +
                                dims_text(shown) + "; " + input_shape_hint(vi.name(), &v.dims));
      }
      if (v.dims.size() > tensor_shape::max_rank)
        throw unsupported_error(src_ + ": " + where + " has rank " + std::to_string(v.dims.size()) +
                                " (at most 8 supported)");
      if (!checked_numel(v.dims)) fail_parse(where + ": the element count overflows");
      input_names_.push_back(vi.name());
      info_[vi.name()] = std::move(v);
    }
  }

  // Also records the node graph (successors, in-degrees) for topo_sort, so that each input
  // name is looked up once: lookups in tables of 10^6 names dominate the import of big graphs.
  void index_nodes() {
    const int n = g_.node_size();
    state_.assign(static_cast<std::size_t>(n), state::pending);
    std::size_t outputs = 0;
    for (const onnx::NodeProto& nd : g_.node()) outputs += static_cast<std::size_t>(nd.output_size());
    producer_.reserve(outputs);
    info_.reserve(info_.size() + outputs);
    out_begin_.assign(static_cast<std::size_t>(n) + 1, 0);
    for (int i = 0; i < n; ++i)
      out_begin_[static_cast<std::size_t>(i) + 1] =
          out_begin_[static_cast<std::size_t>(i)] + static_cast<std::size_t>(g_.node(i).output_size());
    out_refs_.assign(outputs, no_ref());
    for (int i = 0; i < n; ++i) {
      const onnx::NodeProto& nd = g_.node(i);
      for (const std::string& o : nd.output()) {
        if (o.empty()) continue;
        const auto ins = producer_.emplace(o, i);
        if (!ins.second)
          fail_parse(node_label(i) + ": output '" + o + "' is also produced by " +
                     node_label(ins.first->second));
        if (info_.count(o) != 0)
          fail_parse(node_label(i) + ": output '" + o +
                     "' has the name of a graph input or initializer");
      }
    }
    succ_.assign(static_cast<std::size_t>(n), {});
    indeg_.assign(static_cast<std::size_t>(n), 0);
    in_begin_.assign(static_cast<std::size_t>(n) + 1, 0);
    in_src_.clear();
    for (int i = 0; i < n; ++i) {
      in_begin_[static_cast<std::size_t>(i)] = in_src_.size();
      for (const std::string& in : g_.node(i).input()) {
        in_src_.push_back(no_source);
        if (in.empty()) continue;
        const auto p = producer_.find(in);
        if (p != producer_.end()) {
          succ_[static_cast<std::size_t>(p->second)].push_back(i);
          ++indeg_[static_cast<std::size_t>(i)];
          in_src_.back() = out_begin_[static_cast<std::size_t>(p->second)] +
                           output_index(g_.node(p->second), in);
        } else if (info_.count(in) == 0) {
          fail_parse(node_label(i) + ": input '" + in +
                     "' is neither a graph input, an initializer nor a node output");
        }
      }
    }
    in_begin_[static_cast<std::size_t>(n)] = in_src_.size();
    for (const onnx::ValueInfoProto& o : g_.output())
      if (producer_.count(o.name()) == 0 && info_.count(o.name()) == 0)
        fail_parse("graph output '" + o.name() + "' is produced by no node");
  }

  static std::size_t output_index(const onnx::NodeProto& n, const std::string& name) {
    for (int k = 0; k < n.output_size(); ++k)
      if (n.output(k) == name) return static_cast<std::size_t>(k);
    return 0;  // unreachable: `name` is one of n's outputs (producer_)
  }

  // --- graph tensors of ONNX tensors: node outputs by position (out_refs_, filled as nodes are
  // imported; no name lookup), graph inputs by name (refs_).

  static constexpr tensor_ref no_ref() noexcept {
    return tensor_ref{std::numeric_limits<node_index>::max(), 0};
  }
  static constexpr std::size_t no_source = std::numeric_limits<std::size_t>::max();

  /// The graph tensor holding input k of ONNX node i, or nullptr (constant, not imported).
  const tensor_ref* input_ref(int i, int k) const {
    const std::size_t src = in_src_[in_begin_[static_cast<std::size_t>(i)] + static_cast<std::size_t>(k)];
    if (src != no_source) {
      const tensor_ref& r = out_refs_[src];
      return r == no_ref() ? nullptr : &r;
    }
    const std::string& name = g_.node(i).input(k);
    if (name.empty()) return nullptr;
    const auto it = refs_.find(name);
    return it == refs_.end() ? nullptr : &it->second;
  }

  /// The graph tensor holding ONNX tensor `name`, or nullptr.
  const tensor_ref* ref_by_name(const std::string& name) const {
    const auto p = producer_.find(name);
    if (p != producer_.end()) {
      const tensor_ref& r =
          out_refs_[out_begin_[static_cast<std::size_t>(p->second)] + output_index(g_.node(p->second), name)];
      return r == no_ref() ? nullptr : &r;
    }
    const auto it = refs_.find(name);
    return it == refs_.end() ? nullptr : &it->second;
  }

  void topo_sort() {
    const int n = g_.node_size();
    std::vector<std::vector<int>> succ = std::move(succ_);  // from index_nodes()
    std::vector<int> indeg = std::move(indeg_);
    order_.reserve(static_cast<std::size_t>(n));
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

  // Adds what is known about `name` to a one-node graph: a value of at most `max_values`
  // elements as an initializer, otherwise an input with its type and (partial) shape. False
  // when the type is unknown. ONNX inference reads values only where they set a shape (shape,
  // axes, pads, scales, sizes, repeats, split sizes: at most one entry per axis or per
  // output), so the cap keeps the cost of a node independent of the size of the constants it
  // reads (a constant read by 10^6 nodes is not copied 10^6 times).
  bool add_known(const std::string& name, onnx::GraphProto& sg, std::size_t max_values) {
    const auto it = info_.find(name);
    if (it == info_.end() || it->second.elem == 0) return false;
    const tensor_info& v = it->second;
    const int e = v.elem;
    const bool exact = e == onnx::TensorProto::FLOAT || e == onnx::TensorProto::DOUBLE ||
                       e == onnx::TensorProto::INT64 || e == onnx::TensorProto::INT32 ||
                       e == onnx::TensorProto::INT16 || e == onnx::TensorProto::UINT16 ||
                       e == onnx::TensorProto::INT8 || e == onnx::TensorProto::UINT8 ||
                       e == onnx::TensorProto::BOOL;
    if (v.has_value && exact && v.count() <= max_values) {  // values ONNX inference may read
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
      const std::string& w = in_name(n, op == "QLinearConv" ? 3 : 1);
      if (rank_of(w) != r) return false;
    }
    if (op == "MaxUnpool") {  // indices like X; output_shape a vector of rank(X) entries
      if (rank_of(in_name(n, 1)) != r) return false;
      const std::string& os = in_name(n, 2);
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
  // What ONNX inference found for one output of a node.
  struct inferred_output {
    bool present = false;  // inference gave the output a tensor type
    int elem = 0;
    bool has_shape = false;
    std::vector<i64> dims;
  };

  static bool has_subgraph(const onnx::NodeProto& n) {
    for (const onnx::AttributeProto& a : n.attribute())
      if (a.has_g() || a.graphs_size() > 0) return true;
    return false;
  }

  // Everything ONNX inference of a node without subgraphs depends on: domain, op type,
  // attributes, output count, and per input its type, shape and the values add_known() gives
  // it. Nodes of equal keys get equal results, so a model of many alike nodes (10^6 readers
  // of one tensor, a network of repeated blocks) runs InferShapes once per kind of node.
  std::string inference_key(const onnx::NodeProto& n, const input_list& in,
                            std::size_t max_values) const {
    std::string key = n.domain();
    key += '\0';
    key += n.op_type();
    key += '\0';
    key += std::to_string(n.output_size());
    auto put = [&key](i64 v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
    for (const onnx::AttributeProto& a : n.attribute()) {
      const std::string bytes = a.SerializeAsString();
      put(to_i64(bytes.size()));
      key += bytes;
    }
    for (int k = 0; k < n.input_size(); ++k) {
      const bool empty = n.input(k).empty();
      key += empty ? 'E' : 'I';
      if (empty) continue;
      const tensor_info& v = *in[static_cast<std::size_t>(k)];  // known type (infer_node)
      put(v.elem);
      put(v.rank_known ? to_i64(v.dims.size()) : -1);
      for (i64 d : v.dims) put(d);
      const bool values = v.has_value && v.count() <= max_values;
      key += values ? 'V' : 'N';
      if (!values) continue;
      if (v.is_real) {
        for (double x : v.reals) key.append(reinterpret_cast<const char*>(&x), sizeof x);
      } else {
        for (i64 x : v.ints) put(x);
      }
    }
    return key;
  }

  void apply_inferred(const onnx::NodeProto& n, const std::vector<inferred_output>& out) {
    for (int k = 0; k < n.output_size() && static_cast<std::size_t>(k) < out.size(); ++k) {
      const inferred_output& o = out[static_cast<std::size_t>(k)];
      if (!o.present || n.output(k).empty()) continue;
      tensor_info& v = info_[n.output(k)];
      if (o.elem != 0) v.elem = o.elem;
      if (!o.has_shape) continue;
      v.rank_known = true;
      v.dims = o.dims;
    }
  }

  // ONNX 1.12's convPoolShapeInference (Conv, ConvInteger, QLinearConv, MaxPool, AveragePool,
  // LpPool) finds the residual of an auto_pad padding by subtracting the stride from the input
  // dim one stride at a time: dim / stride steps, about 0.5 s for a dim of 2^31-1 and stride 2,
  // and no end for an inferred dim near 2^60 (a fuzz_onnx_import finding). The copy of the node
  // given to ONNX (`c`) gets the pads that loop would give, computed here with %, in place of
  // its auto_pad, so that ONNX takes its explicit-pads path and infers the same shape. Nodes
  // ONNX refuses before that loop (attribute lists of the wrong length, a weight without
  // static spatial dims) are left as they are.
  void explicit_auto_pads(onnx::NodeProto& c) const {
    const std::string& op = c.op_type();
    const bool conv = op == "Conv" || op == "ConvInteger" || op == "QLinearConv";
    if (!conv && op != "MaxPool" && op != "AveragePool" && op != "LpPool") return;
    if (!default_domain(c)) return;
    const onnx::AttributeProto* ap = find_attr(c, "auto_pad");
    if (ap == nullptr || ap->s() == "VALID" || find_attr(c, "pads") != nullptr) return;
    const tensor_info* x = find_info(in_name(c, 0));
    if (x == nullptr || !x->rank_known || x->dims.size() < 3) return;
    const std::size_t n = x->dims.size() - 2;
    const auto list = [&](const char* name) {
      std::optional<std::vector<i64>> v = attr_ints(c, name);
      if (!v && find_attr(c, name) == nullptr) v = std::vector<i64>(n, 1);
      return v;
    };
    const std::optional<std::vector<i64>> strides = list("strides");
    const std::optional<std::vector<i64>> dilations = list("dilations");
    std::optional<std::vector<i64>> kernel = attr_ints(c, "kernel_shape");
    if (!kernel && conv && find_attr(c, "kernel_shape") == nullptr) {
      const tensor_info* w = find_info(in_name(c, op == "QLinearConv" ? 3 : 1));
      if (w == nullptr || !w->rank_known || w->dims.size() != n + 2) return;
      kernel = std::vector<i64>(w->dims.begin() + 2, w->dims.end());
    }
    if (!strides || !dilations || !kernel || strides->size() != n || dilations->size() != n ||
        kernel->size() != n)
      return;
    for (std::size_t i = 0; i < n; ++i)
      if ((*kernel)[i] < 1 || (*kernel)[i] > tensor_shape::max_dim || (*dilations)[i] < 1 ||
          (*dilations)[i] > tensor_shape::max_dim || (*strides)[i] < 1)
        return;  // check_attribute_values() refuses these; ONNX returns early on unknown dims
    const std::string mode = ap->s();
    std::vector<i64> pads(2 * n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const i64 stride = (*strides)[i];
      const i64 d = x->dims[2 + i];
      if (stride > 1 && d < 0) continue;  // unknown dim: ONNX leaves this axis unpadded
      const i64 residual = stride > 1 ? d % stride : 0;
      const i64 effective_kernel = ((*kernel)[i] - 1) * (*dilations)[i] + 1;
      const i64 total = std::max<i64>(0, effective_kernel - (residual == 0 ? stride : residual));
      const i64 small = total / 2;
      if (mode == "SAME_UPPER") {
        pads[i] = small;
        pads[i + n] = total - small;
      } else if (mode == "SAME_LOWER") {
        pads[i] = total - small;
        pads[i + n] = small;
      }
    }
    auto* attrs = c.mutable_attribute();
    for (int k = 0; k < attrs->size(); ++k)
      if (attrs->Get(k).name() == "auto_pad") {
        attrs->DeleteSubrange(k, 1);
        break;
      }
    onnx::AttributeProto* p = c.add_attribute();
    p->set_name("pads");
    p->set_type(onnx::AttributeProto::INTS);
    for (i64 v : pads) p->add_ints(v);
  }

  /// `inputs`: the infos of n's inputs when the caller has them (inputs_of), else nullptr.
  void infer_node(const onnx::NodeProto& n, const input_list* inputs) {
    const input_list in = inputs != nullptr ? *inputs : inputs_of(n);
    for (int k = 0; k < n.input_size(); ++k) {
      if (n.input(k).empty()) continue;
      const tensor_info* v = in[static_cast<std::size_t>(k)];
      if (v == nullptr || v->elem == 0) return;
    }
    const std::size_t max_values = std::max<std::size_t>(64, static_cast<std::size_t>(n.output_size()));
    const bool cacheable = !has_subgraph(n);
    std::string key;
    if (cacheable) {
      // A node alike to one inferred before also passed ranks_safe() and the checker: both
      // depend only on what the key holds (index_nodes() has checked that the inputs exist).
      key = inference_key(n, in, max_values);
      const auto hit = inference_cache_.find(key);
      if (hit != inference_cache_.end()) {
        apply_inferred(n, hit->second);
        return;
      }
    }
    if (!ranks_safe(n) || !passes_checker(n)) return;
    // Bounded, so that a hostile model of 10^6 different nodes cannot grow it without end.
    constexpr std::size_t max_cached = std::size_t{1} << 16;
    auto remember = [&](std::vector<inferred_output> out) {
      if (cacheable && inference_cache_.size() < max_cached)
        inference_cache_.emplace(std::move(key), std::move(out));
    };
    onnx::GraphProto sg;
    sg.set_name("node");
    std::unordered_set<std::string> added;
    for (const std::string& s : n.input())
      if (!s.empty() && added.insert(s).second) add_known(s, sg, max_values);
    std::unordered_set<std::string> refs;
    for (const onnx::AttributeProto& a : n.attribute()) {
      if (a.has_g()) collect_refs(a.g(), refs);
      for (const onnx::GraphProto& g : a.graphs()) collect_refs(g, refs);
    }
    for (const std::string& s : refs)
      if (!s.empty() && added.count(s) == 0 && info_.count(s) != 0 && added.insert(s).second)
        add_known(s, sg, max_values);
    onnx::NodeProto& copy = *sg.add_node();
    copy = n;
    explicit_auto_pads(copy);
    try {
      onnx::shape_inference::InferShapes(&sg, opsets_, onnx::OpSchemaRegistry::Instance(),
                                         onnx::ShapeInferenceOptions(false, 0, false), functions_);
    } catch (const std::exception& e) {
      if (!inference_warned_) {
        res_.warnings.push_back(src_ + ": ONNX shape inference failed on node '" + n.name() +
                                "' (" + n.op_type() + "): " + e.what());
        inference_warned_ = true;
      }
      remember({});  // alike nodes fail alike: no shapes (the warning is given once anyway)
      return;
    }
    std::vector<inferred_output> out(static_cast<std::size_t>(n.output_size()));
    for (const onnx::ValueInfoProto& vi : sg.value_info()) {
      if (!vi.type().has_tensor_type()) continue;
      for (int k = 0; k < n.output_size(); ++k) {
        if (n.output(k).empty() || n.output(k) != vi.name()) continue;
        inferred_output& o = out[static_cast<std::size_t>(k)];
        const auto& tt = vi.type().tensor_type();
        o.present = true;
        o.elem = tt.elem_type();
        o.has_shape = tt.has_shape();
        o.dims.clear();
        if (o.has_shape)
          for (const auto& d : tt.shape().dim())
            o.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
      }
    }
    apply_inferred(n, out);
    remember(std::move(out));
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
      input_list in;
      bool have_inputs = false;
      if (default_domain(n) && !never_fold(n)) {
        in = inputs_of(n);
        have_inputs = true;
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
      infer_node(n, have_inputs ? &in : nullptr);
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
        all = true;
        if (it == info_.end() || !it->second.is_const) {
          any_nonconst = true;
          break;
        }
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

  // `base`, or the first free "base#k"; the next k to try is kept per base, so n nodes of one
  // name cost O(n), not O(n^2).
  std::string unique_name(std::string base) {
    if (base.empty()) base = "node";
    if (!out_.find(base)) return base;
    std::size_t& k = next_suffix_[base];
    for (;;) {
      std::string c = base + "#" + std::to_string(++k);
      if (!out_.find(c)) return c;
    }
  }

  tensor_shape graph_shape(const std::string& tensor, const std::string& where) const {
    return graph_shape(find_info(tensor), tensor, where);
  }
  /// graph_shape of output `tensor` of node i (its label built only for an error).
  tensor_shape graph_shape(const tensor_info* info, const std::string& tensor, int i) const {
    bool ok = info == nullptr || !info->rank_known || info->dims.size() <= tensor_shape::max_rank;
    for (std::size_t k = 0; ok && info != nullptr && k < info->dims.size(); ++k)
      ok = info->dims[k] <= tensor_shape::max_dim;
    return ok ? graph_shape(info, tensor, std::string()) : graph_shape(info, tensor, node_label(i));
  }
  /// The shape of `tensor`, whose info is `info` (nullptr: unknown).
  tensor_shape graph_shape(const tensor_info* info, const std::string& tensor,
                           const std::string& where) const {
    if (info == nullptr || !info->rank_known) return tensor_shape{tensor_shape::unknown};
    const tensor_info& v = *info;
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
  const std::string& in_name(const onnx::NodeProto& n, int i) const {
    return i < n.input_size() ? n.input(i) : no_name_;
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
      // Resolved pads, by the shape rules graph_builder and validate() use (values checked
      // above; an unknown size or kernel leaves them 0).
      static const char* const axis_names[2] = {"height", "width"};
      for (std::size_t i = 0; i < 2 && x.size() == 4; ++i) {
        const i64 in = x[i + 2];
        if (in < 0 || a.kernel[i] < 1) continue;
        const shape_rules::window_axis_result r = shape_rules::window_axis(
            where(), axis_names[i], in, a.kernel[i], a.strides[i], a.dilations[i], a.padding, 0,
            0, false);
        a.pads[i * 2] = r.pad_begin;
        a.pads[i * 2 + 1] = r.pad_end;
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
  /// True when input `s` is given (not empty) but its value is not known at import.
  bool unknown_value(const std::string& s) const {
    if (s.empty()) return false;
    const tensor_info* v = find_info(s);
    return v == nullptr || !v->has_value;
  }
  std::optional<double> const_scalar(const std::string& s) const {
    const tensor_info* v = find_info(s);
    if (v == nullptr || !v->has_value || v->count() != 1) return std::nullopt;
    return v->real_at(0);
  }

  // ----------------------------------------------------------- per-op checks and mapping
  //
  // Every op whose parameters determine a shape has one function that first checks them
  // against the shapes they must fit (a weight against the input's channels, a bias against
  // the output channels, a window against the padded input) and then maps the node. Checks
  // run where the dims are known; an inconsistency is a graph_error naming the file, the node
  // and both shapes.

  [[noreturn]] void fail_shape(const std::string& what) const {
    throw graph_error(where() + ": " + what);
  }
  /// "<file>: node '<name>' (<op>)" of the node map_node is checking (built when needed).
  std::string where() const { return src_ + ": " + node_label(current_); }

  /// "'w' [16, 3, 3, 3]" ('?' for an unknown dim), or "'w' (shape unknown)".
  std::string tensor_text(const std::string& name) const {
    const tensor_info* v = find_info(name);
    if (v == nullptr || !v->rank_known) return "'" + name + "' (shape unknown)";
    std::string r = "'" + name + "' [";
    for (std::size_t i = 0; i < v->dims.size(); ++i)
      r += (i ? ", " : "") + (v->dims[i] < 0 ? std::string("?") : std::to_string(v->dims[i]));
    return r + "]";
  }

  const tensor_info* known_rank(const std::string& name) const {
    const tensor_info* v = find_info(name);
    return v != nullptr && v->rank_known ? v : nullptr;
  }

  /// A per-channel vector (bias, scale, mean, zero point): rank 1 of `count` entries (`count`
  /// < 0: unknown), or a scalar / a single entry where `scalar_ok`. `of` names the count.
  void check_channel_vector(const std::string& name, const char* role, i64 count,
                            const std::string& of, bool scalar_ok) const {
    const tensor_info* v = known_rank(name);
    if (v == nullptr) return;
    if (v->dims.empty()) {
      if (scalar_ok) return;
      fail_shape(std::string(role) + " " + tensor_text(name) + " is a scalar; it must hold one " +
                 "entry per channel (" + of + ")");
    }
    if (v->dims.size() != 1)
      fail_shape(std::string(role) + " " + tensor_text(name) + " must be a vector of one entry per " +
                 "channel (" + of + ")");
    const i64 len = v->dims[0];
    if (len < 0 || count < 0 || len == count || (scalar_ok && len == 1)) return;
    fail_shape(std::string(role) + " " + tensor_text(name) + " has " + std::to_string(len) +
               " entries for the " + of);
  }

  /// The window of a convolution or pool on input `x` (ONNX dims [N, C, spatial...]): with
  /// explicit pads (auto_pad NOTSET or VALID) the dilated kernel must fit the padded input.
  void check_window(const onnx::NodeProto& n, const std::string& x,
                    const std::vector<i64>& kernel) const {
    const tensor_info* xv = known_rank(x);
    if (xv == nullptr || xv->dims.size() != kernel.size() + 2) return;
    const std::string ap = attr_string(n, "auto_pad", "NOTSET");
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") return;
    const std::size_t r = kernel.size();
    const std::vector<i64> dil = attr_ints(n, "dilations").value_or(std::vector<i64>(r, 1));
    std::vector<i64> pads = attr_ints(n, "pads").value_or(std::vector<i64>(2 * r, 0));
    if (ap == "VALID") pads.assign(2 * r, 0);
    if (dil.size() != r || pads.size() != 2 * r) return;
    for (std::size_t i = 0; i < r; ++i) {
      const i64 in = xv->dims[i + 2], k = kernel[i], d = dil[i];
      if (in < 0 || k < 1 || d < 1) continue;
      const i64 span = d * (k - 1) + 1;  // <= 2^62: k and d are at most 2^31-1
      const i64 padded = in + pads[i] + pads[i + r];
      if (padded < span)
        fail_shape("the kernel (" + std::to_string(k) + (d > 1 ? ", dilated to " + std::to_string(span) : std::string()) +
                   ") is larger than the padded input (" + std::to_string(in) + " + pads " +
                   std::to_string(pads[i]) + " + " + std::to_string(pads[i + r]) + " = " +
                   std::to_string(padded) + ") along spatial axis " + std::to_string(i) +
                   " of input " + tensor_text(x));
    }
  }

  // Conv, ConvTranspose, ConvInteger, QLinearConv. Checks: the input is [N, C, spatial...];
  // the weight has its rank and is [M, C/group, k...] (ConvTranspose: [C, M/group, k...]);
  // group divides C and M; kernel_shape equals the weight's kernel; the dilated kernel fits
  // the padded input; the bias and per-channel quantization parameters have M entries.
  mapped_op map_conv(const onnx::NodeProto& n) {
    mapped_op m;
    attributes& a = m.attrs;
    const std::string& op = n.op_type();
    const bool transpose = op == "ConvTranspose";
    const int wi = op == "QLinearConv" ? 3 : 1;
    const int bi = op == "QLinearConv" ? 8 : (op == "ConvInteger" ? -1 : 2);
    const std::string &x = in_name(n, 0), &w = in_name(n, wi);
    const i64 group = attr_int(n, "group", 1);  // in [1, 2^31-1] (check_attribute_values)
    const std::string gtext = "group " + std::to_string(group);
    const tensor_info* xv = known_rank(x);
    const tensor_info* wv = known_rank(w);
    i64 cout = -1;
    std::string cout_of;
    if (xv != nullptr && xv->dims.size() < 3)
      fail_shape("input " + tensor_text(x) + " has rank " + std::to_string(xv->dims.size()) +
                 "; a convolution's input is [N, C, spatial...]");
    if (xv != nullptr && wv != nullptr && wv->dims.size() != xv->dims.size())
      fail_shape("weight " + tensor_text(w) + " has rank " + std::to_string(wv->dims.size()) +
                 ", but input " + tensor_text(x) + " has rank " + std::to_string(xv->dims.size()) +
                 " (the weight is [" + (transpose ? "C, M/group" : "M, C/group") + ", kernel...])");
    const i64 c = xv != nullptr ? xv->dims[1] : -1;
    if (c >= 0 && c % group != 0)
      fail_shape(gtext + " does not divide the " + std::to_string(c) + " channels of input " +
                 tensor_text(x));
    if (wv != nullptr && wv->dims.size() >= 3) {
      const std::vector<i64>& wd = wv->dims;
      if (!transpose) {
        if (wd[0] >= 0 && wd[0] % group != 0)
          fail_shape(gtext + " does not divide the " + std::to_string(wd[0]) +
                     " output channels of weight " + tensor_text(w));
        if (c >= 0 && wd[1] >= 0 && wd[1] * group != c)
          fail_shape("weight " + tensor_text(w) + " has " + std::to_string(wd[1]) +
                     " input channels per group, but input " + tensor_text(x) + " has " +
                     std::to_string(c) + " channels" +
                     (group > 1 ? " in " + std::to_string(group) + " groups (" + std::to_string(c / group) + " per group)"
                                : std::string(" (") + gtext + ")"));
        cout = wd[0];
      } else {
        if (c >= 0 && wd[0] >= 0 && wd[0] != c)
          fail_shape("weight " + tensor_text(w) + " is for " + std::to_string(wd[0]) +
                     " input channels (a ConvTranspose weight is [C, M/group, kernel...]), but "
                     "input " + tensor_text(x) + " has " + std::to_string(c));
        if (wd[1] >= 0) cout = wd[1] * group;
      }
      if (cout >= 0) cout_of = std::to_string(cout) + " output channels of weight " + tensor_text(w) +
                               (transpose && group > 1 ? " with " + gtext : std::string());
      std::vector<i64> kernel(wd.begin() + 2, wd.end());
      if (auto k = attr_ints(n, "kernel_shape"); k && k->size() == kernel.size()) {
        for (std::size_t i = 0; i < kernel.size(); ++i)
          if (kernel[i] >= 0 && (*k)[i] != kernel[i])
            fail_shape("kernel_shape " + ints_json(*k) + " contradicts weight " + tensor_text(w) +
                       " (a kernel of " + ints_json(kernel) + ")");
      }
      if (!transpose) check_window(n, x, kernel);
    }
    if (bi >= 0) check_channel_vector(in_name(n, bi), "bias", cout, cout_of, false);
    if (op == "QLinearConv") {
      check_channel_vector(in_name(n, 4), "weight scale", cout, cout_of, true);
      check_channel_vector(in_name(n, 5), "weight zero point", cout, cout_of, true);
    }
    if (op == "ConvInteger") check_channel_vector(in_name(n, 3), "weight zero point", cout, cout_of, true);

    if (!rank_is(x, 4)) return m;
    const std::vector<i64> xd = dims_of(x);
    const std::vector<i64> wd = dims_of(w);
    std::array<i64, 2> k{0, 0};
    if (wd.size() == 4 && wd[2] >= 0 && wd[3] >= 0) k = {wd[2], wd[3]};
    window_attrs(n, a, xd, k);
    a.groups = group;
    a.has_bias = bi >= 0 && !in_name(n, bi).empty();
    if (transpose) {
      m.kind = op_kind::conv_transpose;
      if (auto p = attr_ints(n, "output_padding"); p && p->size() == 2 && ((*p)[0] || (*p)[1]))
        a.extra.emplace_back("output_padding", ints_json(*p));
      if (auto p = attr_ints(n, "output_shape")) a.extra.emplace_back("output_shape", ints_json(*p));
      return m;
    }
    m.elem_from_input = op != "Conv";
    m.kind = a.groups > 1 && a.groups == xd[1] ? op_kind::dwconv : op_kind::conv;
    return m;
  }

  // MaxPool, AveragePool: the dilated kernel fits the padded input.
  mapped_op map_pool(const onnx::NodeProto& n) {
    mapped_op m;
    attributes& a = m.attrs;
    const std::string& op = n.op_type();
    const std::string& x = in_name(n, 0);
    if (auto k = attr_ints(n, "kernel_shape")) check_window(n, x, *k);
    if (!rank_is(x, 4)) return m;
    window_attrs(n, a, dims_of(x), {0, 0});
    a.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
    a.has_bias = false;
    if (op == "AveragePool" && attr_int(n, "count_include_pad", 0) != 0)
      a.extra.emplace_back("count_include_pad", "1");
    m.kind = op == "MaxPool" ? op_kind::maxpool : op_kind::avgpool;
    return m;
  }

  // BatchNormalization, InstanceNormalization: scale, bias (and mean, variance) hold one
  // entry per channel of the input [N, C, ...].
  mapped_op map_normalization(const onnx::NodeProto& n) {
    mapped_op m;
    const bool bn = n.op_type() == "BatchNormalization";
    const std::string& x = in_name(n, 0);
    const tensor_info* xv = known_rank(x);
    // opset 7/8 BatchNormalization with spatial = 0 has parameters of shape [C, D1, ...].
    const bool per_channel = !bn || attr_int(n, "spatial", 1) != 0;
    if (xv != nullptr && xv->dims.size() >= 2 && xv->dims[1] >= 0 && per_channel) {
      const i64 c = xv->dims[1];
      const std::string of = std::to_string(c) + " channels of input " + tensor_text(x);
      const char* roles[] = {"scale", "bias", "mean", "variance"};
      for (int k = 1; k <= (bn ? 4 : 2) && k < n.input_size(); ++k)
        check_channel_vector(in_name(n, k), roles[k - 1], c, of, false);
    }
    if (!bn) return m;
    m.kind = op_kind::bn;
    m.attrs.alpha = static_cast<float>(attr_float(n, "epsilon", 1e-5));
    return m;
  }

  // PRelu: the slope broadcasts to the input, aligned on the last axis (a per-channel slope
  // of an [N, C, H, W] input is [C, 1, 1]).
  mapped_op map_prelu(const onnx::NodeProto& n) {
    mapped_op m;
    const std::string &x = in_name(n, 0), &s = in_name(n, 1);
    const tensor_info* xv = known_rank(x);
    const tensor_info* sv = known_rank(s);
    if (xv != nullptr && sv != nullptr) {
      const std::vector<i64>& xd = xv->dims;
      const std::vector<i64>& sd = sv->dims;
      bool ok = sd.size() <= xd.size();
      for (std::size_t i = 0; ok && i < sd.size(); ++i) {
        const i64 a = sd[sd.size() - 1 - i], b = xd[xd.size() - 1 - i];
        ok = a < 0 || b < 0 || a == 1 || a == b;
      }
      // Before opset 7 (best effort), a slope of one value per channel applies along axis 1.
      if (!ok && opset_ < 7 && sd.size() == 1 && xd.size() >= 2)
        ok = sd[0] < 0 || xd[1] < 0 || sd[0] == xd[1];
      if (!ok)
        fail_shape("slope " + tensor_text(s) + " does not broadcast to input " + tensor_text(x) +
                   " (ONNX aligns it on the last axis: a per-channel slope of [N, C, H, W] is "
                   "[C, 1, 1])");
    }
    m.kind = op_kind::prelu;
    return m;
  }

  // Gemm, MatMul, MatMulInteger, QLinearMatMul: the inner dims agree (Gemm: matrices, transA /
  // transB honoured, C broadcasts to [M, N]; MatMul: numpy rules, batch dims broadcast).
  mapped_op map_matmul(const onnx::NodeProto& n) {
    mapped_op m;
    attributes& a = m.attrs;
    const std::string& op = n.op_type();
    const int bi = op == "QLinearMatMul" ? 3 : 1;
    const std::string &x = in_name(n, 0), &b = in_name(n, bi);
    const tensor_info* xv = known_rank(x);
    const tensor_info* bv = known_rank(b);
    const bool gemm = op == "Gemm";
    const bool ta = gemm && attr_int(n, "transA", 0) != 0;
    const bool tb = gemm && attr_int(n, "transB", 0) != 0;
    const std::string bname = (is_const(b) ? "weight " : "input ") + tensor_text(b);
    if (gemm) {
      for (const tensor_info* v : {xv, bv})
        if (v != nullptr && v->dims.size() != 2)
          fail_shape("input " + tensor_text(v == xv ? x : b) + " is not a matrix (Gemm multiplies "
                     "rank-2 inputs)");
      if (xv != nullptr && bv != nullptr) {
        const i64 ka = xv->dims[ta ? 0 : 1], kb = bv->dims[tb ? 1 : 0];
        if (ka >= 0 && kb >= 0 && ka != kb)
          fail_shape(bname + (tb ? " (transB 1)" : "") + " takes " + std::to_string(kb) +
                     " input features, but input " + tensor_text(x) + (ta ? " (transA 1)" : "") +
                     " has " + std::to_string(ka));
        const std::string& c = in_name(n, 2);
        if (const tensor_info* cv = known_rank(c)) {
          const i64 rows = xv->dims[ta ? 1 : 0], cols = bv->dims[tb ? 0 : 1];
          const std::vector<i64> mn{rows, cols};
          bool ok = cv->dims.size() <= 2;
          for (std::size_t i = 0; ok && i < cv->dims.size(); ++i) {
            const i64 d = cv->dims[cv->dims.size() - 1 - i], t = mn[1 - i];
            ok = d < 0 || t < 0 || d == 1 || d == t;
          }
          if (!ok)
            fail_shape("bias " + tensor_text(c) + " does not broadcast to the [" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "] product");
        }
      }
    } else if (xv != nullptr && bv != nullptr && !xv->dims.empty() && !bv->dims.empty()) {
      const std::vector<i64>& xd = xv->dims;
      const std::vector<i64>& bd = bv->dims;
      const i64 ka = xd.back(), kb = bd.size() == 1 ? bd[0] : bd[bd.size() - 2];
      if (ka >= 0 && kb >= 0 && ka != kb)
        fail_shape(bname + " takes " + std::to_string(kb) + " input features (its " +
                   (bd.size() == 1 ? "only" : "second-to-last") + " dim), but input " +
                   tensor_text(x) + " has " + std::to_string(ka) + " (its last dim)");
      if (xd.size() > 2 && bd.size() > 2) {  // batch dims: numpy broadcasting
        const std::size_t na = xd.size() - 2, nb = bd.size() - 2;
        for (std::size_t i = 0; i < std::min(na, nb); ++i) {
          const i64 p = xd[na - 1 - i], q = bd[nb - 1 - i];
          if (p >= 0 && q >= 0 && p != q && p != 1 && q != 1)
            fail_shape("the batch dims of input " + tensor_text(x) + " and " + bname +
                       " do not broadcast");
        }
      }
    }
    m.elem_from_input = op == "QLinearMatMul" || op == "MatMulInteger";
    const bool weight = is_const(b) && !ta && (gemm || rank_is(b, 2));
    if (weight) {
      m.kind = op_kind::fc;
      a.has_bias = gemm && !in_name(n, 2).empty();
      if (tb) a.extra.emplace_back("transB", "1");
    } else {
      m.kind = op_kind::matmul;  // validate() reads Gemm's transposes from extra
      if (ta) a.extra.emplace_back("transA", "1");
      if (tb) a.extra.emplace_back("transB", "1");
    }
    return m;
  }

  mapped_op map_node(const onnx::NodeProto& n, int index) {
    mapped_op m;
    attributes& a = m.attrs;
    const std::string& op = n.op_type();
    if (!default_domain(n)) return m;
    current_ = index;
    if (op == "Conv" || op == "QLinearConv" || op == "ConvInteger" || op == "ConvTranspose")
      return map_conv(n);
    if (op == "MaxPool" || op == "AveragePool") return map_pool(n);
    if (op == "BatchNormalization" || op == "InstanceNormalization") return map_normalization(n);
    if (op == "PRelu") return map_prelu(n);
    if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul" || op == "MatMulInteger")
      return map_matmul(n);
    const std::string& x = in_name(n, 0);
    const tensor_info* xinfo = known_rank(x);  // one lookup
    const std::vector<i64> xd = xinfo != nullptr ? xinfo->dims : std::vector<i64>{};
    const std::size_t xr = xd.size();
    const bool x4 = xinfo != nullptr && xr == 4;
    const std::string y = n.output_size() > 0 ? n.output(0) : std::string();
    auto float_attr = [&](const char* k, double d) { return static_cast<float>(attr_float(n, k, d)); };

    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      if (!x4) return m;
      m.kind = op == "GlobalAveragePool" ? op_kind::global_avgpool : op_kind::global_maxpool;
      return m;
    }
    if (op == "Relu") { m.kind = op_kind::relu; return m; }
    if (op == "Sigmoid") { m.kind = op_kind::sigmoid; return m; }
    if (op == "Tanh") { m.kind = op_kind::tanh; return m; }
    if (op == "HardSwish") { m.kind = op_kind::hswish; return m; }
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
        const std::string &mn = in_name(n, 1), &mx = in_name(n, 2);
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
    if (op == "Flatten") {
      m.kind = op_kind::flatten;
      a.axis = norm(attr_int(n, "axis", 1), xr);
      return m;
    }
    if (op == "Reshape") {
      m.kind = op_kind::reshape;
      if (attr_int(n, "allowzero", 0) != 0) a.extra.emplace_back("allowzero", "1");
      if (opset_ >= 5 && unknown_value(in_name(n, 1))) m.data_dependent = true;
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
      if (opset_ >= 13 && unknown_value(in_name(n, 1))) m.data_dependent = true;
      const i64 ax = norm(attr_int(n, "axis", 0), xr);
      a.axis = xr == 4 ? nhwc_axis(ax) : ax;
      // The sizes the node gives (validate() checks that they add up to the axis), else the
      // sizes of its outputs.
      const std::optional<std::vector<i64>> given =
          opset_ >= 13 ? const_ints(in_name(n, 1)) : attr_ints(n, "split");
      if (given && !given->empty()) {
        if (given->size() != static_cast<std::size_t>(n.output_size()))
          fail_shape("split " + ints_json(*given) + " gives " + std::to_string(given->size()) +
                     " sizes for " + std::to_string(n.output_size()) + " outputs");
        a.split_sizes = *given;
        return m;
      }
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
      if (opset_ >= 10)
        for (int k = 1; k <= 4; ++k) m.data_dependent = m.data_dependent || unknown_value(in_name(n, k));
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
      if (opset_ >= 11 && unknown_value(in_name(n, 1))) m.data_dependent = true;
      // Opset 18: optional axes; the pads then hold two entries per listed axis.
      const std::string axes_in = opset_ >= 18 ? in_name(n, 3) : std::string();
      if (!axes_in.empty() && p) {
        const std::optional<std::vector<i64>> ax = const_ints(axes_in);
        if (!ax || known_rank(x) == nullptr) {
          p.reset();
          m.data_dependent = true;
        } else {
          if (p->size() != 2 * ax->size())
            fail_shape("pads " + ints_json(*p) + " need two entries per axis of " + ints_json(*ax));
          std::vector<i64> full(2 * xr, 0);
          for (std::size_t i = 0; i < ax->size(); ++i) {
            const i64 r = to_i64(xr);
            const i64 k = (*ax)[i] < 0 ? (*ax)[i] + r : (*ax)[i];
            if (k < 0 || k >= r)
              fail_shape("axis " + std::to_string((*ax)[i]) + " is outside the rank-" +
                         std::to_string(xr) + " input " + tensor_text(x));
            full[to_size(k)] = (*p)[i];
            full[to_size(k) + xr] = (*p)[i + ax->size()];
          }
          p = full;
        }
      }
      a.mode = attr_string(n, "mode", "constant");
      if (p && known_rank(x) != nullptr && p->size() != 2 * xr)
        fail_shape("pads " + ints_json(*p) + " has " + std::to_string(p->size()) +
                   " entries; the rank-" + std::to_string(xr) + " input " + tensor_text(x) +
                   " needs " + std::to_string(2 * xr) + " (a begin and an end per axis)");
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
      // The tensor that sets the output size: Upsample (opset 9) and Resize (opset 10) scales;
      // Resize from opset 11: sizes when given, else scales (roi does not change the size).
      std::string size_param;
      if (op == "Upsample") {
        if (opset_ >= 9) size_param = in_name(n, 1);
      } else if (opset_ == 10) {
        size_param = in_name(n, 1);
      } else {
        size_param = in_name(n, 3).empty() ? in_name(n, 2) : in_name(n, 3);
      }
      if (unknown_value(size_param)) m.data_dependent = true;
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
      if (opset_ >= 13 && unknown_value(in_name(n, 1))) m.data_dependent = true;
      const std::size_t r = op == "Squeeze" ? xr : dims_of(y).size();
      if (axes) a.axes = layout_axes(*axes, r);
      return m;
    }
    if (op == "ReduceMean") {
      m.kind = op_kind::reduce_mean;
      a.keepdims = attr_int(n, "keepdims", 1) != 0;
      // From opset 18 the axes are an optional input (none: every axis, or no reduction with
      // noop_with_empty_axes).
      std::optional<std::vector<i64>> axes =
          opset_ >= 18 ? const_ints(in_name(n, 1)) : attr_ints(n, "axes");
      if (opset_ >= 18 && (unknown_value(in_name(n, 1)) ||
                           (in_name(n, 1).empty() && attr_int(n, "noop_with_empty_axes", 0) != 0)))
        m.data_dependent = true;
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
        const tensor_ref* r = input_ref(i, 0);
        if (r != nullptr) out_refs_[out_begin_[si]] = *r;
        tensor_info copy = info_[src];
        if (r != nullptr) copy.is_const = false;
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
      if (const tensor_ref* r = ref_by_name(o.name())) {
        out.tensor = *r;
        out.shape = out_[r->node].output_shapes[r->output];
      } else {
        out.constant = true;
        out.shape = graph_shape(o.name(), "graph output '" + o.name() + "'");
      }
      out.shape_known = v != nullptr && v->is_static();
      res_.outputs.push_back(std::move(out));
    }
    if (unknown_shaped_ > 0)
      res_.warnings.push_back(
          src_ + ": " + std::to_string(unknown_shaped_) + " node" +
          (unknown_shaped_ == 1 ? " has an output shape that depends"
                                : "s have output shapes that depend") +
          " on tensor values unknown at import (e.g. '" + unknown_example_ +
          "'): their unknown dims stay unknown (-1), and kernels with unknown dims get no "
          "features");
    // The graph must be consistent: every shape re-derived by the shape rules (validate.hpp).
    try {
      nnmeter::validate(out_);  // graph::validate() first
    } catch (const graph_error& e) {
      throw graph_error(src_ + ": " + e.what());
    }
    res_.graph = std::move(out_);
  }

  void import_node(int i) {
    const auto si = static_cast<std::size_t>(i);
    const onnx::NodeProto& n = g_.node(i);
    onnx_accounting& acc = res_.accounting;
    mapped_op m = map_node(n, i);
    node nd;
    std::string base = n.name();
    if (base.empty()) base = n.output_size() > 0 && !n.output(0).empty() ? n.output(0) : n.op_type();
    nd.name = unique_name(base);
    if (nd.name != base && !n.name().empty())
      res_.warnings.push_back(node_label(i) + ": duplicate node name, imported as '" + nd.name +
                              "'");
    nd.op = m.kind;
    nd.type = n.op_type();
    nd.attrs = std::move(m.attrs);
    if (!default_domain(n)) nd.attrs.extra.emplace_back("domain", "\"" + n.domain() + "\"");
    // Operands.
    const bool data_consts = constants_are_operands(n.op_type()) && default_domain(n);
    const std::vector<int> data_inputs =
        default_domain(n) ? quantized_data_inputs(n.op_type()) : std::vector<int>{};
    // Each tensor's info looked up once (tables of 10^6 names are what big graphs cost).
    std::vector<const tensor_info*> in_info(static_cast<std::size_t>(n.input_size()));
    std::vector<const tensor_info*> out_info(static_cast<std::size_t>(n.output_size()));
    for (int k = 0; k < n.input_size(); ++k) in_info[static_cast<std::size_t>(k)] = find_info(n.input(k));
    for (int k = 0; k < n.output_size(); ++k)
      out_info[static_cast<std::size_t>(k)] = find_info(n.output(k));
    std::vector<tensor_ref> ins;
    for (int k = 0; k < n.input_size(); ++k) {
      const std::string& s = n.input(k);
      if (s.empty()) continue;
      if (!data_inputs.empty() &&
          std::find(data_inputs.begin(), data_inputs.end(), k) == data_inputs.end())
        continue;  // a scale or zero point
      if (const tensor_ref* r = input_ref(i, k)) {
        ins.push_back(*r);
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
                                           : graph_shape(out_info[static_cast<std::size_t>(k)], o, i));
    }
    const tensor_info* y0 = last > 0 ? out_info[0] : nullptr;
    nd.elem = to_dtype(y0 != nullptr ? y0->elem : onnx::TensorProto::FLOAT);
    if (m.elem_from_input) {
      const tensor_info* xi = n.input_size() > 0 ? in_info[0] : nullptr;
      if (xi != nullptr) nd.elem = to_dtype(xi->elem);
    }
    if (m.kind == op_kind::quantize) {
      const tensor_info* zp = find_info(in_name(n, 2));
      nd.elem = zp != nullptr && zp->elem == onnx::TensorProto::INT8 ? dtype::i8 : dtype::u8;
    }
    // Data-dependent shapes: an op that is by nature, or an output shape left unknown although
    // every input shape is known (Reshape / Expand / Resize / Slice ... by a computed tensor).
    bool inputs_static = true;
    for (int k = 0; k < n.input_size(); ++k) {
      const tensor_info* v = in_info[static_cast<std::size_t>(k)];
      if (!n.input(k).empty() && (v == nullptr || !v->is_static())) inputs_static = false;
    }
    bool outputs_static = true;
    for (int k = 0; k < n.output_size(); ++k) {
      const tensor_info* v = out_info[static_cast<std::size_t>(k)];
      if (!n.output(k).empty() && (v == nullptr || !v->is_static())) outputs_static = false;
    }
    // A mapped op whose output ONNX could not infer from static inputs and known parameters is
    // not data-dependent: validate() derives its shape and refuses the contradiction (an
    // incompatible broadcast, an impossible reshape...). `other` and gather nodes keep their
    // inferred shapes, whatever they are.
    const bool unresolved = !outputs_static && inputs_static &&
                            (m.kind == op_kind::other || m.kind == op_kind::gather);
    const bool data_dependent = m.data_dependent || is_intrinsically_data_dependent(n.op_type()) ||
                                (n.op_type() == "TopK" && !is_const(in_name(n, 1))) || unresolved;
    if (data_dependent) {
      nd.attrs.extra.emplace_back(attr_keys::data_dependent, "true");
      if (!outputs_static) {
        ++unknown_shaped_;
        if (unknown_example_.empty()) unknown_example_ = nd.name;
      }
    }
    const std::string final_name = nd.name;
    const node_index id = out_.add_node(std::move(nd));
    for (int k = 0; k < last; ++k)
      if (!n.output(k).empty())
        out_refs_[out_begin_[si] + static_cast<std::size_t>(k)] =
            tensor_ref{id, static_cast<std::uint32_t>(k)};
    state_[si] = state::imported;
    ++acc.imported;
    if (m.kind == op_kind::other) {
      ++acc.other;
      acc.other_nodes.push_back(final_name);
    }
    if (data_dependent) acc.data_dependent_nodes.push_back(final_name);
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
  std::vector<std::vector<int>> succ_;  ///< node successors (index_nodes -> topo_sort)
  std::vector<int> indeg_;
  std::vector<state> state_;
  bool inference_warned_ = false;
  bool checker_ready_ = false;
  bool lexical_ready_ = false;
  std::unordered_map<std::string, std::vector<inferred_output>> inference_cache_;
  std::unordered_map<std::string, const onnx::ValueInfoProto*> declared_;
  onnx::checker::CheckerContext checker_ctx_;
  onnx::checker::LexicalScopeContext lexical_;
  graph out_;
  int current_ = 0;  ///< the node map_node is checking (where())
  const std::string no_name_;  ///< in_name() of an absent input
  std::unordered_map<std::string, tensor_ref> refs_;  ///< graph inputs
  std::vector<tensor_ref> out_refs_;      ///< per output of each ONNX node (out_begin_)
  std::vector<std::size_t> out_begin_;    ///< node i's outputs: out_refs_[out_begin_[i] + k]
  std::vector<std::size_t> in_src_;       ///< per input: its out_refs_ slot, or no_source
  std::vector<std::size_t> in_begin_;     ///< node i's inputs: in_src_[in_begin_[i] + k]
  std::unordered_map<std::string, tensor_ref> const_nodes_;
  std::unordered_map<std::string, std::size_t> next_suffix_;
  std::unordered_map<std::string, external_file> external_files_;
  std::size_t unknown_shaped_ = 0;  ///< data-dependent nodes whose outputs are not static
  std::string unknown_example_;
  std::size_t unchecked_external_ = 0;
  std::string unchecked_example_;
};

/// Refuses bytes whose first byte is not the tag of a ModelProto field (ir_version,
/// producer_name, producer_version, domain, model_version, doc_string, graph, opset_import,
/// metadata_props, training_info, functions) with the wire type protobuf writes it with.
/// Every serializer writes fields in field-number order, so an ONNX model starts with one of
/// them; a zero byte (field 0, /dev/zero) or text never does. An empty input passes (it is an
/// empty model, refused later for having no graph).
inline void check_model_prefix(std::string_view head, const std::string& src) {
  if (head.empty()) return;
  const auto b = static_cast<unsigned char>(head[0]);
  // Tags of fields 1..15 fit one byte: (field << 3) | wire type; 20 and 25 take two bytes.
  const bool one_byte = b == 0x08 || b == 0x12 || b == 0x1a || b == 0x22 || b == 0x28 ||
                        b == 0x32 || b == 0x3a || b == 0x42 || b == 0x72;
  const bool two_bytes = (b == 0xa2 || b == 0xca) &&
                         (head.size() < 2 || static_cast<unsigned char>(head[1]) == 0x01);
  if (one_byte || two_bytes) return;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(b));
  throw parse_error(src + ": not an ONNX model (its first byte " + hex +
                    " starts no field of an ONNX ModelProto)");
}

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

/// Imports an ONNX file. The file is read through read_input_file (input_file.hpp): a missing
/// path, a directory, a file above options.max_file_bytes (refused from its size) and a stream
/// whose first byte cannot start an ONNX model (/dev/zero) are parse_errors naming the file,
/// before the model is read whole. External data references are resolved against the
/// model's folder unless options.external_data_dir says otherwise. Weights are not copied:
/// only their dims are read, so import time is bounded by protobuf parsing.
inline onnx_import_result import_onnx(const std::string& path,
                                      const onnx_import_options& options = {}) {
  std::string bytes = read_input_file(path, options.max_file_bytes, "an ONNX model",
                                      [&path](std::string_view head) {
                                        onnx_detail::check_model_prefix(head, path);
                                      });
  onnx::ModelProto m;
  onnx_detail::parse_model(bytes.data(), bytes.size(), m, path);
  std::string().swap(bytes);
  if (!options.external_data_dir.empty()) return import_onnx(m, options, path);
  onnx_import_options o = options;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  o.external_data_dir = folder.empty() ? std::string(".") : folder.string();
  return import_onnx(m, o, path);
}

/// The graph of an ONNX file (import_onnx(path, options).graph).
inline nnmeter::graph load_onnx(const std::string& path, const onnx_import_options& options = {}) {
  return import_onnx(path, options).graph;
}

}  // namespace io
NNMETER_END_NAMESPACE
