// nnmeter — ONNX export: nnmeter::graph -> ONNX ModelProto (NCHW), with generated weights.
// Opt-in: needs libonnx + protobuf; link nnmeter::onnx.
// SPDX-License-Identifier: MIT
//
// The writer is the inverse of the importer (nnmeter/io/onnx_import.hpp): rank-4 activations,
// NHWC in the IR, are written NCHW, and every axis, permutation, padding and reshape target is
// remapped, so that graph -> write -> import gives the graph back (docs/onnx-writer-and-models.md
// lists the ops that have no single ONNX operator and are written as small subgraphs).
#pragma once

#if !__has_include(<onnx/onnx_pb.h>)
#error \
    "nnmeter/io/onnx_write.hpp needs libonnx and protobuf: link nnmeter::onnx (NNMETER_WITH_ONNX)"
#endif

#include <nnmeter.hpp>

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// Options of to_onnx_model / to_onnx_bytes / write_onnx.
struct onnx_write_options {
  /// ONNX opset of the default domain, 10 to 17 (17 is libonnx 1.12's newest; below 10 Slice,
  /// Resize and MaxPool's ceil_mode have other forms). The operator forms follow the opset:
  /// Clip bounds and Pad amounts are attributes below 11, Split sizes and Squeeze/Unsqueeze axes
  /// below 13, HardSwish exists from 14.
  std::int64_t opset = 13;
  /// Seed of the generated weights (same graph + seed = byte-identical file).
  std::uint64_t seed = 1;
  /// true: weights (conv / fc / bn / prelu parameters and float constant nodes) are stored
  /// inline, uniform random numbers from `seed` (fan-in scaled, BN scales and variances in
  /// [0.5, 1.5)).
  /// false: a structure-only model: each of those tensors is a *sparse* initializer with no
  /// non-zero entry (SparseTensorProto with the full dims, empty values and indices), i.e. an
  /// all-zero tensor of the right shape stored in a few bytes. Small structural tensors (shapes,
  /// pads, scales, split sizes, clip bounds) are always dense. The model stays valid ONNX
  /// (onnx::checker, shape inference, importers that read only the structure), and runtimes that
  /// accept sparse initializers can even run it (with zero weights). A dense initializer with
  /// dims but no data would not be valid, and external data would make check_model look for a
  /// file.
  bool with_weights = true;
  /// Write value_info (type and NCHW shape) for every intermediate tensor. Off by default so
  /// that shape inference on the written model is an independent check of the IR's shapes.
  bool with_value_info = false;
  /// ModelProto producer_name / producer_version / graph name.
  std::string producer_name = "nnmeter";
  std::string producer_version = std::to_string(NNMETER_VERSION_MAJOR) + "." +
                                 std::to_string(NNMETER_VERSION_MINOR) + "." +
                                 std::to_string(NNMETER_VERSION_PATCH);
  std::string graph_name = "nnmeter_graph";
};

namespace detail {

/// ONNX TensorProto element type of a dtype.
inline std::int32_t onnx_elem_type(dtype t) {
  switch (t) {
    case dtype::f32:
      return onnx::TensorProto::FLOAT;
    case dtype::f16:
      return onnx::TensorProto::FLOAT16;
    case dtype::i8:
      return onnx::TensorProto::INT8;
    case dtype::u8:
      return onnx::TensorProto::UINT8;
    case dtype::i32:
      return onnx::TensorProto::INT32;
    case dtype::i64:
      return onnx::TensorProto::INT64;
    default:
      break;
  }
  throw unsupported_error("onnx writer: invalid element type");
}

/// IR version that goes with an opset (ONNX's versioning table).
inline std::int64_t onnx_ir_version_for(std::int64_t opset) {
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

/// Rank-4 layout maps. NCHW axis i holds NHWC axis nchw_from_nhwc[i]; NHWC axis a is NCHW axis
/// nhwc_to_nchw[a].
inline constexpr std::array<std::int64_t, 4> nchw_from_nhwc{0, 3, 1, 2};
inline constexpr std::array<std::int64_t, 4> nhwc_to_nchw{0, 2, 3, 1};

inline std::vector<std::int64_t> onnx_dims(const tensor_shape& s) {
  std::vector<std::int64_t> d(s.begin(), s.end());
  if (s.rank() == 4) d = {s[0], s[3], s[1], s[2]};
  return d;
}

// Small deterministic generator (splitmix64), keyed by seed and tensor name.
class weight_rng {
 public:
  weight_rng(std::uint64_t seed, const std::string& key) : state_(seed ^ 0x9e3779b97f4a7c15ULL) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a of the key
    for (char ch : key) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    state_ ^= h;
  }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) {
    const double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(static_cast<double>(lo) + u * static_cast<double>(hi - lo));
  }

 private:
  std::uint64_t state_;
};

inline std::uint16_t float_to_half(float f) {
  std::uint32_t x = 0;
  std::memcpy(&x, &f, sizeof x);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::int32_t exp = static_cast<std::int32_t>((x >> 23) & 0xffu) - 127 + 15;
  std::uint32_t mant = x & 0x7fffffu;
  if (exp <= 0) {  // subnormal or zero (weights are small: flush tiny values to zero)
    if (exp < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const auto shift = static_cast<std::uint32_t>(14 - exp);
    return static_cast<std::uint16_t>(sign | (mant >> shift));
  }
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);  // inf (never generated)
  std::uint32_t h = sign | (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
  if ((mant & 0x1fffu) > 0x1000u || ((mant & 0x1fffu) == 0x1000u && (h & 1u))) ++h;
  return static_cast<std::uint16_t>(h);
}

// Little-endian byte appenders (raw_data is little-endian whatever the host).
inline void put_le(std::string& out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

// A tiny reader for the JSON texts kept in attributes::extra: numbers, strings and flat arrays.
struct extra_value {
  bool is_array = false;
  bool is_string = false;
  bool all_integers = true;
  std::vector<double> numbers;
  /// The numbers as integers (exact for integer tokens, saturated to the int64 range; a
  /// fractional token is truncated toward zero within range).
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
};

inline bool parse_extra(const std::string& text, extra_value& out) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  };
  auto scalar = [&]() -> bool {
    ws();
    if (i < text.size() && text[i] == '"') {
      std::string s;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        s.push_back(text[i]);
      }
      if (i >= text.size()) return false;
      ++i;
      out.is_string = true;
      out.strings.push_back(std::move(s));
      return true;
    }
    const std::size_t b = i;
    while (i < text.size() && (std::strchr("+-.0123456789eE", text[i]) != nullptr)) ++i;
    if (b == i) return false;
    const std::string num = text.substr(b, i - b);
    if (num.find_first_of(".eE") != std::string::npos) out.all_integers = false;
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return false;
    out.numbers.push_back(v);
    std::int64_t iv = 0;
    if (num.find_first_of(".eE") == std::string::npos) {
      const long long ll = std::strtoll(num.c_str(), nullptr, 10);  // saturates on overflow
      iv = static_cast<std::int64_t>(ll);
    } else if (v >= 9.2e18 || v <= -9.2e18 || std::isnan(v)) {
      iv = v > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
    } else {
      iv = static_cast<std::int64_t>(v);
    }
    out.ints.push_back(iv);
    return true;
  };
  ws();
  if (i < text.size() && text[i] == '[') {
    out.is_array = true;
    ++i;
    ws();
    if (i < text.size() && text[i] == ']') {
      ++i;
    } else {
      for (;;) {
        if (!scalar()) return false;
        ws();
        if (i < text.size() && text[i] == ',') {
          ++i;
          continue;
        }
        if (i < text.size() && text[i] == ']') {
          ++i;
          break;
        }
        return false;
      }
    }
  } else if (!scalar()) {
    return false;
  }
  ws();
  return i == text.size() && !(out.is_string && !out.numbers.empty());
}

class onnx_writer {
 public:
  onnx_writer(const graph& g, const onnx_write_options& o) : g_(g), opt_(o) {}

  onnx::ModelProto run() {
    if (opt_.opset < 10 || opt_.opset > 17)
      throw unsupported_error("onnx writer: opset " + std::to_string(opt_.opset) +
                              " is not supported (10 to 17)");
    g_.validate();
    m_.set_ir_version(onnx_ir_version_for(opt_.opset));
    m_.set_producer_name(opt_.producer_name);
    m_.set_producer_version(opt_.producer_version);
    auto* op = m_.add_opset_import();
    op->set_domain("");
    op->set_version(opt_.opset);
    gp_ = m_.mutable_graph();
    gp_->set_name(opt_.graph_name);

    const std::size_t n = g_.num_nodes();
    for (std::size_t i = 0; i < n; ++i) used_.insert(g_[static_cast<node_index>(i)].name);
    names_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const node& nd = g_[static_cast<node_index>(i)];
      const std::size_t outs = nd.output_shapes.empty() ? 1 : nd.output_shapes.size();
      for (std::size_t k = 0; k < outs; ++k)
        names_[i].push_back(outs == 1 ? nd.name : nd.name + ":" + std::to_string(k));
      if (outs > 1)
        for (const std::string& s : names_[i]) reserve(nd, s);
    }
    consumed_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      consumed_[i].assign(names_[i].size(), false);
    }
    for (std::size_t i = 0; i < n; ++i)
      for (const tensor_ref& r : g_[static_cast<node_index>(i)].inputs)
        if (r.output < consumed_[r.node].size()) consumed_[r.node][r.output] = true;

    for (node_index id : g_.topological_order()) write_node(id);

    for (std::size_t i = 0; i < n; ++i) {
      const node& nd = g_[static_cast<node_index>(i)];
      if (nd.op == op_kind::input) continue;
      for (std::size_t k = 0; k < names_[i].size(); ++k) {
        if (consumed_[i][k]) continue;
        value_info(gp_->add_output(), names_[i][k], nd.elem, out_shape(nd, k));
      }
    }
    if (opt_.with_value_info) {
      for (std::size_t i = 0; i < n; ++i) {
        const node& nd = g_[static_cast<node_index>(i)];
        if (nd.op == op_kind::input || nd.op == op_kind::constant) continue;
        for (std::size_t k = 0; k < names_[i].size(); ++k)
          if (consumed_[i][k])
            value_info(gp_->add_value_info(), names_[i][k], nd.elem, out_shape(nd, k));
      }
    }
    return std::move(m_);
  }

 private:
  using dim = std::int64_t;
  using dims_t = std::vector<dim>;

  [[noreturn]] void fail(const node& nd, const std::string& msg) const {
    throw unsupported_error(
        "onnx writer: node '" + nd.name + "' (" + std::string(to_string(nd.op)) +
        (nd.op == op_kind::other ? " '" + nd.type + "'" : std::string()) + "): " + msg);
  }

  // Claims a tensor / node name that is not a node name of the graph.
  void reserve(const node& nd, const std::string& s) {
    if (!extra_names_.insert(s).second || (used_.count(s) != 0 && s != nd.name))
      fail(nd, "the generated ONNX name '" + s +
                   "' collides with another node or tensor name; rename the node");
  }
  std::string fresh(const node& nd, const std::string& suffix) {
    std::string s = nd.name + "/" + suffix;
    reserve(nd, s);
    return s;
  }

  static tensor_shape out_shape(const node& nd, std::size_t k) {
    return k < nd.output_shapes.size() ? nd.output_shapes[k] : tensor_shape{};
  }
  const tensor_shape& in_shape(const node& nd, std::size_t i) const {
    if (i < nd.input_shapes.size()) return nd.input_shapes[i];
    const tensor_ref r = nd.inputs.at(i);
    return g_[r.node].output_shapes.at(r.output);
  }
  const std::string& in_name(const node& nd, std::size_t i) const {
    const tensor_ref r = nd.inputs.at(i);
    return names_[r.node].at(r.output);
  }
  void need_inputs(const node& nd, std::size_t count) const {
    if (nd.inputs.size() != count)
      fail(nd, "expects " + std::to_string(count) + " operand(s), has " +
                   std::to_string(nd.inputs.size()));
  }
  void need_rank4(const node& nd, const tensor_shape& s) const {
    if (s.rank() != 4) fail(nd, "expects a rank-4 NHWC operand");
  }
  static dim norm_axis(dim axis, std::size_t rank) {
    return axis < 0 ? axis + static_cast<dim>(rank) : axis;
  }
  // Axis of a rank-`rank` tensor in ONNX numbering.
  dim onnx_axis(const node& nd, dim axis, std::size_t rank) const {
    const dim a = norm_axis(axis, rank);
    if (a < 0 || a >= static_cast<dim>(rank))
      fail(nd,
           "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return rank == 4 ? nhwc_to_nchw[static_cast<std::size_t>(a)] : a;
  }
  bool is_float(dtype t) const { return t == dtype::f32 || t == dtype::f16; }

  // ------------------------------------------------------------------ proto helpers
  void value_info(onnx::ValueInfoProto* vi, const std::string& name, dtype t,
                  const tensor_shape& s) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx_elem_type(t));
    auto* sh = tt->mutable_shape();
    for (dim d : onnx_dims(s)) {
      auto* dd = sh->add_dim();
      if (d >= 0)
        dd->set_dim_value(d);
      else
        dd->set_dim_param("unk__" + std::to_string(unknown_dims_++));
    }
  }

  onnx::NodeProto* add(const std::string& op_type, const std::string& name,
                       const std::vector<std::string>& ins, const std::vector<std::string>& outs) {
    auto* p = gp_->add_node();
    p->set_op_type(op_type);
    p->set_name(name);
    for (const auto& s : ins) p->add_input(s);
    for (const auto& s : outs) p->add_output(s);
    return p;
  }
  static void attr_i(onnx::NodeProto* p, const std::string& k, dim v) {
    auto* a = p->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_f(onnx::NodeProto* p, const std::string& k, float v) {
    auto* a = p->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_s(onnx::NodeProto* p, const std::string& k, const std::string& v) {
    auto* a = p->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr_ints(onnx::NodeProto* p, const std::string& k, const dims_t& v) {
    auto* a = p->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INTS);
    for (dim x : v) a->add_ints(x);
  }
  static bool has_attr(const onnx::NodeProto* p, const std::string& k) {
    for (const auto& a : p->attribute())
      if (a.name() == k) return true;
    return false;
  }

  // Writes the node's attrs.extra entries that the operator's schema knows and that the
  // writer did not set itself (attributes an importer kept verbatim).
  void write_extra(const node& nd, onnx::NodeProto* p, const std::set<std::string>& skip) {
    if (nd.attrs.extra.empty()) return;
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Schema(p->op_type(), static_cast<int>(opt_.opset), "");
    if (schema == nullptr) return;
    const auto& known = schema->attributes();
    for (const auto& kv : nd.attrs.extra) {
      if (skip.count(kv.first) != 0 || has_attr(p, kv.first)) continue;
      const auto it = known.find(kv.first);
      if (it == known.end()) continue;
      extra_value v;
      if (!parse_extra(kv.second, v))
        fail(nd, "attribute '" + kv.first + "' has a value the writer cannot read: " + kv.second);
      auto* a = p->add_attribute();
      a->set_name(kv.first);
      using AT = onnx::AttributeProto;
      const auto bad = [&] {
        fail(nd, "attribute '" + kv.first + "' = " + kv.second + " does not fit its ONNX type");
      };
      switch (it->second.type) {
        case AT::INT:
          if (v.is_array || v.numbers.size() != 1) bad();
          a->set_type(AT::INT);
          a->set_i(v.ints[0]);
          break;
        case AT::FLOAT:
          if (v.is_array || v.numbers.size() != 1) bad();
          a->set_type(AT::FLOAT);
          a->set_f(static_cast<float>(v.numbers[0]));
          break;
        case AT::STRING:
          if (v.is_array || v.strings.size() != 1) bad();
          a->set_type(AT::STRING);
          a->set_s(v.strings[0]);
          break;
        case AT::INTS:
          if (v.is_string) bad();
          a->set_type(AT::INTS);
          for (dim x : v.ints) a->add_ints(x);
          break;
        case AT::FLOATS:
          if (v.is_string) bad();
          a->set_type(AT::FLOATS);
          for (double x : v.numbers) a->add_floats(static_cast<float>(x));
          break;
        case AT::STRINGS:
          if (!v.numbers.empty()) bad();
          a->set_type(AT::STRINGS);
          for (const auto& s : v.strings) a->add_strings(s);
          break;
        default:
          p->mutable_attribute()->RemoveLast();  // graphs / tensors: nothing to write from text
          break;
      }
    }
  }

  // ---------------------------------------------------------------- initializers
  enum class fill { uniform_fan_in, positive, small, zero };

  // A weight tensor "<node>/<suffix>": random inline data, or an all-zero sparse tensor when
  // with_weights is false.
  std::string weight(const node& nd, const std::string& suffix, const dims_t& dims, dtype t, fill f,
                     dim fan_in = 1) {
    const std::string name = fresh(nd, suffix);
    tensor_data(name, dims, t, f, fan_in);
    return name;
  }

  void tensor_data(const std::string& name, const dims_t& dims, dtype t, fill f, dim fan_in) {
    if (!opt_.with_weights && is_float(t)) {
      // An all-zero sparse tensor: values [0], indices [0], dims = the full shape.
      auto* sp = gp_->add_sparse_initializer();
      for (dim d : dims) sp->add_dims(d);
      auto* v = sp->mutable_values();
      v->set_name(name);
      v->set_data_type(onnx_elem_type(t));
      v->add_dims(0);
      auto* ix = sp->mutable_indices();
      ix->set_name(name + "/indices");
      ix->set_data_type(onnx::TensorProto::INT64);
      ix->add_dims(0);
      return;
    }
    auto* tp = gp_->add_initializer();
    tp->set_name(name);
    tp->set_data_type(onnx_elem_type(t));
    std::uint64_t count = 1;
    for (dim d : dims) {
      tp->add_dims(d);
      count *= static_cast<std::uint64_t>(d);
    }
    weight_rng rng(opt_.seed, name);
    const float bound =
        f == fill::uniform_fan_in
            ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in > 0 ? fan_in : 1)))
            : 0.1f;
    std::string raw;
    raw.reserve(static_cast<std::size_t>(count * size_of(t)));
    for (std::uint64_t i = 0; i < count; ++i) {
      float v = 0.0f;
      if (f == fill::positive)
        v = rng.uniform(0.5f, 1.5f);
      else if (f != fill::zero)
        v = rng.uniform(-bound, bound);
      put_value(raw, t, v, rng);
    }
    tp->set_raw_data(raw);
  }

  static void put_value(std::string& raw, dtype t, float v, weight_rng& rng) {
    switch (t) {
      case dtype::f32: {
        std::uint32_t b = 0;
        std::memcpy(&b, &v, sizeof b);
        put_le(raw, b, 4);
        break;
      }
      case dtype::f16:
        put_le(raw, float_to_half(v), 2);
        break;
      case dtype::i8:
      case dtype::u8:
        put_le(raw, rng.next() & 0x7fu, 1);
        break;
      case dtype::i32:
        put_le(raw, 0, 4);
        break;  // index-like data: zeros are always in range
      case dtype::i64:
        put_le(raw, 0, 8);
        break;
      default:
        break;
    }
  }

  // A small inline tensor of given float values (always inline, whatever with_weights).
  std::string consts_f(const node& nd, const std::string& suffix, const dims_t& dims,
                       const std::vector<float>& vals, dtype t) {
    const std::string name = fresh(nd, suffix);
    auto* tp = gp_->add_initializer();
    tp->set_name(name);
    tp->set_data_type(onnx_elem_type(t));
    for (dim d : dims) tp->add_dims(d);
    std::string raw;
    weight_rng no_random(0, name);  // put_value needs one; float values never use it
    for (float v : vals) {
      if (t == dtype::f32 || t == dtype::f16) {
        put_value(raw, t, v, no_random);
      } else {
        fail(nd, "needs a floating-point element type");
      }
    }
    tp->set_raw_data(raw);
    return name;
  }
  std::string consts_i64(const node& nd, const std::string& suffix, const dims_t& vals,
                         bool scalar = false) {
    const std::string name = fresh(nd, suffix);
    auto* tp = gp_->add_initializer();
    tp->set_name(name);
    tp->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) tp->add_dims(static_cast<dim>(vals.size()));
    std::string raw;
    for (dim v : vals) put_le(raw, static_cast<std::uint64_t>(v), 8);
    tp->set_raw_data(raw);
    return name;
  }

  // ---------------------------------------------------------------- windows
  void window_attrs(const node& nd, onnx::NodeProto* p, bool dilations) {
    const attributes& a = nd.attrs;
    attr_ints(p, "kernel_shape", {a.kernel[0], a.kernel[1]});
    attr_ints(p, "strides", {a.strides[0], a.strides[1]});
    if (dilations) attr_ints(p, "dilations", {a.dilations[0], a.dilations[1]});
    switch (a.padding) {
      case padding_mode::same:
        attr_s(p, "auto_pad", "SAME_UPPER");
        break;
      case padding_mode::same_lower:
        attr_s(p, "auto_pad", "SAME_LOWER");
        break;
      case padding_mode::valid:
        attr_s(p, "auto_pad", "VALID");
        break;
      case padding_mode::explicit_pads:
        attr_ints(p, "pads", {a.pads[0], a.pads[2], a.pads[1], a.pads[3]});
        break;
    }
  }

  // ---------------------------------------------------------------- the nodes
  void write_node(node_index id) {
    cur_ = id;
    const node& nd = g_[id];
    const std::vector<std::string>& outs = names_[id];
    const std::string& out = outs[0];
    const attributes& a = nd.attrs;
    const std::set<std::string> none;
    switch (nd.op) {
      case op_kind::input: {
        need_inputs(nd, 0);
        if (nd.output_shapes.size() != 1) fail(nd, "an input has exactly one output");
        value_info(gp_->add_input(), out, nd.elem, nd.output_shapes[0]);
        return;
      }
      case op_kind::constant: {
        need_inputs(nd, 0);
        if (nd.output_shapes.size() != 1) fail(nd, "a constant has exactly one output");
        write_constant(nd);
        return;
      }
      case op_kind::identity:
        need_inputs(nd, 1);
        write_extra(nd, add("Identity", nd.name, {in_name(nd, 0)}, {out}), none);
        return;
      case op_kind::conv:
      case op_kind::dwconv: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        need_rank4(nd, x);
        if (!is_float(nd.elem)) fail(nd, "ONNX Conv needs a floating-point input");
        const dim cout = nd.output_shapes.at(0)[3];
        const dim g = a.groups < 1 ? 1 : a.groups;
        if (x[3] % g != 0) fail(nd, "groups do not divide the input channels");
        const dim fan = x[3] / g * a.kernel[0] * a.kernel[1];
        std::vector<std::string> ins{in_name(nd, 0)};
        ins.push_back(weight(nd, "W", {cout, x[3] / g, a.kernel[0], a.kernel[1]}, nd.elem,
                             fill::uniform_fan_in, fan));
        if (a.has_bias) ins.push_back(weight(nd, "B", {cout}, nd.elem, fill::uniform_fan_in, fan));
        auto* p = add("Conv", nd.name, ins, {out});
        window_attrs(nd, p, true);
        attr_i(p, "group", g);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::conv_transpose: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        need_rank4(nd, x);
        if (!is_float(nd.elem)) fail(nd, "ONNX ConvTranspose needs a floating-point input");
        const dim cout = nd.output_shapes.at(0)[3];
        const dim g = a.groups < 1 ? 1 : a.groups;
        const dim fan = cout / g * a.kernel[0] * a.kernel[1];
        std::vector<std::string> ins{in_name(nd, 0)};
        ins.push_back(weight(nd, "W", {x[3], cout / g, a.kernel[0], a.kernel[1]}, nd.elem,
                             fill::uniform_fan_in, fan));
        if (a.has_bias) ins.push_back(weight(nd, "B", {cout}, nd.elem, fill::uniform_fan_in, fan));
        auto* p = add("ConvTranspose", nd.name, ins, {out});
        window_attrs(nd, p, true);
        attr_i(p, "group", g);
        if (const std::string* op = a.find_extra("output_padding")) {
          extra_value v;
          if (!parse_extra(*op, v) || v.numbers.size() != 2)
            fail(nd, "output_padding must be a JSON array [h, w], got " + *op);
          attr_ints(p, "output_padding", {v.ints[0], v.ints[1]});
        }
        write_extra(nd, p, {"output_padding"});
        return;
      }
      case op_kind::fc: {
        need_inputs(nd, 1);
        write_fc(nd);
        return;
      }
      case op_kind::matmul: {
        need_inputs(nd, 2);
        if (in_shape(nd, 0).rank() == 4 || in_shape(nd, 1).rank() == 4)
          fail(nd,
               "a matmul of rank-4 (NHWC) operands has no NCHW equivalent without "
               "transposes");
        write_extra(nd, add("MatMul", nd.name, {in_name(nd, 0), in_name(nd, 1)}, {out}), none);
        return;
      }
      case op_kind::maxpool:
      case op_kind::avgpool: {
        need_inputs(nd, 1);
        need_rank4(nd, in_shape(nd, 0));
        auto* p = add(nd.op == op_kind::maxpool ? "MaxPool" : "AveragePool", nd.name,
                      {in_name(nd, 0)}, {out});
        window_attrs(nd, p, false);
        if (a.ceil_mode) attr_i(p, "ceil_mode", 1);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::global_avgpool:
      case op_kind::global_maxpool:
        need_inputs(nd, 1);
        need_rank4(nd, in_shape(nd, 0));
        write_extra(nd,
                    add(nd.op == op_kind::global_avgpool ? "GlobalAveragePool" : "GlobalMaxPool",
                        nd.name, {in_name(nd, 0)}, {out}),
                    none);
        return;
      case op_kind::reduce_mean: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        dims_t axes;
        for (dim ax : a.axes) axes.push_back(onnx_axis(nd, ax, x.rank()));
        check_rank_change(nd, x, nd.output_shapes.at(0), reduce_result(x, axes, a.keepdims));
        auto* p = add("ReduceMean", nd.name, {in_name(nd, 0)}, {out});
        attr_ints(p, "axes", axes);
        attr_i(p, "keepdims", a.keepdims ? 1 : 0);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::bn: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        if (x.rank() < 2) fail(nd, "BatchNormalization needs rank >= 2");
        if (!is_float(nd.elem)) fail(nd, "BatchNormalization needs a floating-point input");
        const dim c = x.rank() == 4 ? x[3] : x[1];
        std::vector<std::string> ins{in_name(nd, 0)};
        ins.push_back(weight(nd, "scale", {c}, nd.elem, fill::positive));
        ins.push_back(weight(nd, "B", {c}, nd.elem, fill::small));
        ins.push_back(weight(nd, "mean", {c}, nd.elem, fill::small));
        ins.push_back(weight(nd, "var", {c}, nd.elem, fill::positive));
        auto* p = add("BatchNormalization", nd.name, ins, {out});
        // attrs.alpha holds epsilon when set (the importer's convention); 0 = ONNX's default.
        if (a.alpha > 0.0f) attr_f(p, "epsilon", a.alpha);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::bias_add: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        if (x.rank() == 0) fail(nd, "needs rank >= 1");
        const dim c = x[-1];
        const dims_t bd = x.rank() == 4 ? dims_t{c, 1, 1} : dims_t{c};
        const std::string b = weight(nd, "bias", bd, nd.elem, fill::small);
        add("Add", nd.name, {in_name(nd, 0), b}, {out});
        return;
      }
      case op_kind::relu:
        unary(nd, "Relu");
        return;
      case op_kind::sigmoid:
        unary(nd, "Sigmoid");
        return;
      case op_kind::tanh:
        unary(nd, "Tanh");
        return;
      case op_kind::relu6:
      case op_kind::clip: {
        need_inputs(nd, 1);
        const float lo = nd.op == op_kind::relu6 ? 0.0f : a.clip_min;
        const float hi = nd.op == op_kind::relu6 ? 6.0f : a.clip_max;
        if (!is_float(nd.elem)) fail(nd, "Clip bounds are written for float inputs only");
        if (opt_.opset < 11) {  // bounds are attributes before opset 11
          auto* p = add("Clip", nd.name, {in_name(nd, 0)}, {out});
          attr_f(p, "min", lo);
          attr_f(p, "max", hi);
          write_extra(nd, p, none);
          return;
        }
        const std::string mn = consts_f(nd, "min", {}, {lo}, nd.elem);
        const std::string mx = consts_f(nd, "max", {}, {hi}, nd.elem);
        write_extra(nd, add("Clip", nd.name, {in_name(nd, 0), mn, mx}, {out}), none);
        return;
      }
      case op_kind::hsigmoid: {
        auto* p = unary(nd, "HardSigmoid");
        attr_f(p, "alpha", a.alpha);
        attr_f(p, "beta", a.beta);
        return;
      }
      case op_kind::hswish: {
        need_inputs(nd, 1);
        if (opt_.opset >= 14) {
          unary(nd, "HardSwish");
          return;
        }
        // x * HardSigmoid(x) with alpha 1/6, beta 0.5 (what torch exports below opset 14).
        const std::string h = fresh(nd, "hsigmoid");
        auto* p = add("HardSigmoid", h, {in_name(nd, 0)}, {h});
        attr_f(p, "alpha", 1.0f / 6.0f);
        attr_f(p, "beta", 0.5f);
        add("Mul", nd.name, {in_name(nd, 0), h}, {out});
        return;
      }
      case op_kind::swish: {
        need_inputs(nd, 1);
        const std::string s = fresh(nd, "sigmoid");
        add("Sigmoid", s, {in_name(nd, 0)}, {s});
        add("Mul", nd.name, {in_name(nd, 0), s}, {out});
        return;
      }
      case op_kind::gelu: {
        need_inputs(nd, 1);
        if (!is_float(nd.elem)) fail(nd, "needs a floating-point input");
        // x * 0.5 * (1 + erf(x / sqrt(2))); ONNX has Gelu only from opset 20.
        const std::string x = in_name(nd, 0);
        const std::string r2 = consts_f(nd, "sqrt2", {}, {1.41421356f}, nd.elem);
        const std::string one = consts_f(nd, "one", {}, {1.0f}, nd.elem);
        const std::string half = consts_f(nd, "half", {}, {0.5f}, nd.elem);
        const std::string d = fresh(nd, "div");
        const std::string e = fresh(nd, "erf");
        const std::string s = fresh(nd, "add");
        const std::string m = fresh(nd, "mul");
        add("Div", d, {x, r2}, {d});
        add("Erf", e, {d}, {e});
        add("Add", s, {e, one}, {s});
        add("Mul", m, {x, s}, {m});
        add("Mul", nd.name, {m, half}, {out});
        return;
      }
      case op_kind::leaky_relu: {
        auto* p = unary(nd, "LeakyRelu");
        attr_f(p, "alpha", a.alpha);
        return;
      }
      case op_kind::elu: {
        auto* p = unary(nd, "Elu");
        attr_f(p, "alpha", a.alpha);
        return;
      }
      case op_kind::prelu: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        if (x.rank() == 0) fail(nd, "needs rank >= 1");
        const dim c = x[-1];
        const dims_t sd = x.rank() == 4 ? dims_t{c, 1, 1} : dims_t{c};
        const std::string s = weight(nd, "slope", sd, nd.elem, fill::small);
        write_extra(nd, add("PRelu", nd.name, {in_name(nd, 0), s}, {out}), none);
        return;
      }
      case op_kind::softmax: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        const dim ax = onnx_axis(nd, a.axis, x.rank());
        if (opt_.opset < 13) {
          // Before opset 13 Softmax normalises over all axes from `axis` on.
          const dims_t od = onnx_dims(x);
          for (std::size_t i = static_cast<std::size_t>(ax) + 1; i < od.size(); ++i)
            if (od[i] != 1)
              fail(nd, "softmax over ONNX axis " + std::to_string(ax) +
                           " is not the last non-unit axis; opset " + std::to_string(opt_.opset) +
                           " Softmax would normalise over the trailing axes too (use opset >= 13)");
        }
        auto* p = add("Softmax", nd.name, {in_name(nd, 0)}, {out});
        attr_i(p, "axis", ax);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::add:
        binary(nd, "Add");
        return;
      case op_kind::sub:
        binary(nd, "Sub");
        return;
      case op_kind::mul:
        binary(nd, "Mul");
        return;
      case op_kind::div:
        binary(nd, "Div");
        return;
      case op_kind::pad: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        dims_t pv;
        if (const std::string* full = a.find_extra("pads")) {
          // All 2 * rank amounts in ONNX order, as the importer keeps them when they are not
          // only spatial.
          extra_value v;
          if (!parse_extra(*full, v) || v.is_string || v.numbers.size() != 2 * x.rank())
            fail(nd, "attrs.extra[\"pads\"] must hold " + std::to_string(2 * x.rank()) +
                         " integers, got " + *full);
          pv = v.ints;
        } else {
          need_rank4(nd, x);
          const auto& p4 = a.pads;  // top, bottom, left, right
          pv = {0, 0, p4[0], p4[2], 0, 0, p4[1], p4[3]};
        }
        onnx::NodeProto* p = nullptr;
        if (opt_.opset < 11) {  // pads are an attribute before opset 11
          p = add("Pad", nd.name, {in_name(nd, 0)}, {out});
          attr_ints(p, "pads", pv);
        } else {
          p = add("Pad", nd.name, {in_name(nd, 0), consts_i64(nd, "pads", pv)}, {out});
        }
        if (!a.mode.empty() && a.mode != "constant") attr_s(p, "mode", a.mode);
        write_extra(nd, p, {"pads"});
        return;
      }
      case op_kind::reshape: {
        need_inputs(nd, 1);
        write_reshape(nd);
        return;
      }
      case op_kind::flatten: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        const dim ax = norm_axis(a.axis, x.rank() + 1);
        if (x.rank() == 4 && ax != 0 && ax != 1 && ax != 4)
          fail(nd, "flatten of an NHWC tensor at axis " + std::to_string(ax) +
                       " has no NCHW equivalent");
        auto* p = add("Flatten", nd.name, {in_name(nd, 0)}, {out});
        attr_i(p, "axis", ax);
        return;
      }
      case op_kind::squeeze:
      case op_kind::unsqueeze: {
        need_inputs(nd, 1);
        const bool sq = nd.op == op_kind::squeeze;
        const tensor_shape& x = in_shape(nd, 0);
        const tensor_shape& y = nd.output_shapes.at(0);
        const std::size_t r = sq ? x.rank() : y.rank();
        dims_t axes;
        for (dim ax : a.axes) axes.push_back(onnx_axis(nd, ax, r));
        std::sort(axes.begin(), axes.end());
        check_rank_change(nd, x, y, sq ? reduce_result(x, axes, false) : unsqueeze_result(x, axes));
        std::vector<std::string> ins{in_name(nd, 0)};
        if (opt_.opset >= 13 && !axes.empty()) ins.push_back(consts_i64(nd, "axes", axes));
        auto* p = add(sq ? "Squeeze" : "Unsqueeze", nd.name, ins, {out});
        if (opt_.opset < 13 && !axes.empty()) attr_ints(p, "axes", axes);
        return;
      }
      case op_kind::transpose: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        dims_t perm = a.perm;
        if (perm.size() != x.rank()) fail(nd, "perm does not match the input rank");
        if (x.rank() == 4) {
          dims_t q(4);
          for (std::size_t j = 0; j < 4; ++j) {
            const dim pj = perm[static_cast<std::size_t>(nchw_from_nhwc[j])];
            if (pj < 0 || pj > 3) fail(nd, "perm is not a permutation of 4 axes");
            q[j] = nhwc_to_nchw[static_cast<std::size_t>(pj)];
          }
          perm = q;
        }
        auto* p = add("Transpose", nd.name, {in_name(nd, 0)}, {out});
        attr_ints(p, "perm", perm);
        return;
      }
      case op_kind::concat: {
        if (nd.inputs.empty()) fail(nd, "needs at least one operand");
        std::vector<std::string> ins;
        for (std::size_t i = 0; i < nd.inputs.size(); ++i) ins.push_back(in_name(nd, i));
        auto* p = add("Concat", nd.name, ins, {out});
        attr_i(p, "axis", onnx_axis(nd, a.axis, nd.output_shapes.at(0).rank()));
        return;
      }
      case op_kind::split: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        const dim ax = onnx_axis(nd, a.axis, x.rank());
        dims_t sizes = a.split_sizes;
        if (sizes.empty())
          for (const tensor_shape& s : nd.output_shapes)
            sizes.push_back(s[norm_axis(a.axis, x.rank())]);
        if (sizes.size() != nd.output_shapes.size())
          fail(nd, "has " + std::to_string(nd.output_shapes.size()) + " outputs but " +
                       std::to_string(sizes.size()) + " split sizes");
        std::vector<std::string> ins{in_name(nd, 0)};
        if (opt_.opset >= 13) ins.push_back(consts_i64(nd, "split", sizes));
        auto* p = add("Split", nd.name, ins, outs);
        attr_i(p, "axis", ax);
        if (opt_.opset < 13) attr_ints(p, "split", sizes);
        return;
      }
      case op_kind::slice: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        auto ints = [&](const char* key) {
          const std::string* t = a.find_extra(key);
          extra_value v;
          if (t == nullptr || !parse_extra(*t, v) || !v.is_array || v.is_string)
            fail(nd, std::string("needs attrs.extra[\"") + key + "\"] as a JSON array of integers");
          dims_t r;
          r = v.ints;
          return r;
        };
        const dims_t starts = ints("starts");
        const dims_t ends = ints("ends");
        dims_t steps = a.find_extra("steps") ? ints("steps") : dims_t(starts.size(), 1);
        dims_t axes;
        for (dim ax : a.axes) axes.push_back(onnx_axis(nd, ax, x.rank()));
        if (axes.empty()) axes.push_back(onnx_axis(nd, a.axis, x.rank()));
        if (starts.size() != axes.size() || ends.size() != axes.size() ||
            steps.size() != axes.size())
          fail(nd, "starts, ends, steps and axes differ in length");
        std::vector<std::string> ins{in_name(nd, 0), consts_i64(nd, "starts", starts),
                                     consts_i64(nd, "ends", ends), consts_i64(nd, "axes", axes),
                                     consts_i64(nd, "steps", steps)};
        add("Slice", nd.name, ins, {out});
        return;
      }
      case op_kind::channel_shuffle: {
        need_inputs(nd, 1);
        const tensor_shape& x = in_shape(nd, 0);
        need_rank4(nd, x);
        const dim g = a.groups;
        if (g < 1 || x[3] % g != 0) fail(nd, "groups do not divide the channels");
        // torchvision's channel_shuffle: view(N, g, C/g, H, W), transpose(1, 2), view(N, C, H, W).
        const std::string r1 = fresh(nd, "reshape");
        const std::string tr = fresh(nd, "transpose");
        const std::string s1 = consts_i64(nd, "shape5", {x[0], g, x[3] / g, x[1], x[2]});
        const std::string s2 = consts_i64(nd, "shape4", {x[0], x[3], x[1], x[2]});
        add("Reshape", r1, {in_name(nd, 0), s1}, {r1});
        attr_ints(add("Transpose", tr, {r1}, {tr}), "perm", {0, 2, 1, 3, 4});
        add("Reshape", nd.name, {tr, s2}, {out});
        return;
      }
      case op_kind::resize: {
        need_inputs(nd, 1);
        need_rank4(nd, in_shape(nd, 0));
        std::string mode = a.mode.empty() ? "nearest" : a.mode;
        if (mode == "bilinear") mode = "linear";
        if (mode != "nearest" && mode != "linear" && mode != "cubic")
          fail(nd, "resize mode '" + a.mode + "' has no ONNX equivalent");
        if (opt_.opset < 11 && mode == "cubic") fail(nd, "cubic resize needs opset >= 11");
        std::string roi;
        if (opt_.opset >= 11 && opt_.opset < 13) roi = consts_f(nd, "roi", {0}, {}, dtype::f32);
        const std::string sc =
            consts_f(nd, "scales", {4}, {1.0f, 1.0f, a.scales[0], a.scales[1]}, dtype::f32);
        // Opset 10's Resize takes (X, scales); from 11 on (X, roi, scales).
        auto* p = opt_.opset < 11 ? add("Resize", nd.name, {in_name(nd, 0), sc}, {out})
                                  : add("Resize", nd.name, {in_name(nd, 0), roi, sc}, {out});
        attr_s(p, "mode", mode);
        write_extra(nd, p, none);
        return;
      }
      case op_kind::gather: {
        if (nd.inputs.size() != 1) need_inputs(nd, 2);
        const tensor_shape& x = in_shape(nd, 0);
        const dim ax = onnx_axis(nd, a.axis, x.rank());
        std::string idx;
        if (nd.inputs.size() == 2) {
          idx = in_name(nd, 1);
        } else {
          // Constant indices are not operands in the IR (an importer keeps only the data):
          // zeros of the shape the output implies, out = x[:axis] + indices + x[axis+1:].
          const dims_t xd = onnx_dims(x);
          const dims_t yd = onnx_dims(nd.output_shapes.at(0));
          const auto ir =
              static_cast<std::ptrdiff_t>(yd.size()) - static_cast<std::ptrdiff_t>(xd.size()) + 1;
          if (ir < 0) fail(nd, "output rank is too small for a gather of its input");
          const auto axu = static_cast<std::size_t>(ax);
          const dims_t idims(yd.begin() + ax, yd.begin() + ax + ir);
          dims_t expect(xd.begin(), xd.begin() + ax);
          expect.insert(expect.end(), idims.begin(), idims.end());
          expect.insert(expect.end(), xd.begin() + ax + 1, xd.end());
          if (expect != yd || axu >= xd.size())
            fail(nd, "output shape is not input[:axis] + indices + input[axis+1:]");
          idx = fresh(nd, "indices");
          auto* tp = gp_->add_initializer();
          tp->set_name(idx);
          tp->set_data_type(onnx::TensorProto::INT64);
          std::uint64_t count = 1;
          for (dim d : idims) {
            tp->add_dims(d);
            count *= static_cast<std::uint64_t>(d);
          }
          tp->set_raw_data(std::string(static_cast<std::size_t>(count * 8), '\0'));
        }
        auto* p = add("Gather", nd.name, {in_name(nd, 0), idx}, {out});
        attr_i(p, "axis", ax);
        return;
      }
      case op_kind::cast: {
        auto* p = unary(nd, "Cast");
        attr_i(p, "to", onnx_elem_type(nd.elem));
        return;
      }
      case op_kind::quantize:
      case op_kind::dequantize: {
        need_inputs(nd, 1);
        const bool q = nd.op == op_kind::quantize;
        const dtype qt = q ? nd.elem : g_[nd.inputs[0].node].elem;
        if (qt != dtype::i8 && qt != dtype::u8) fail(nd, "the quantized side must be i8 or u8");
        const std::string sc = consts_f(nd, "scale", {}, {1.0f / 128.0f}, dtype::f32);
        const std::string zp = fresh(nd, "zero_point");
        auto* tp = gp_->add_initializer();
        tp->set_name(zp);
        tp->set_data_type(onnx_elem_type(qt));
        tp->set_raw_data(std::string(1, qt == dtype::u8 ? static_cast<char>(128) : '\0'));
        write_extra(nd,
                    add(q ? "QuantizeLinear" : "DequantizeLinear", nd.name,
                        {in_name(nd, 0), sc, zp}, {out}),
                    none);
        return;
      }
      case op_kind::other:
      default:
        fail(nd, "the ONNX writer has no mapping for this operator");
    }
  }

  onnx::NodeProto* unary(const node& nd, const char* op_type) {
    need_inputs(nd, 1);
    auto* p = add(op_type, nd.name, {in_name(nd, 0)}, {names_[cur_][0]});
    write_extra(nd, p, {});
    return p;
  }

  void binary(const node& nd, const char* op_type) {
    need_inputs(nd, 2);
    const tensor_shape& y = nd.output_shapes.at(0);
    for (std::size_t i = 0; i < 2 && y.rank() == 4; ++i) {
      const tensor_shape& s = in_shape(nd, i);
      if (s.rank() == 4 || s.num_elements() == 1) continue;
      const node& p = g_[nd.inputs[i].node];
      if (p.op != op_kind::constant)
        fail(nd, "operand " + std::to_string(i) + " of rank " + std::to_string(s.rank()) +
                     " broadcasts against a rank-4 NHWC tensor; NCHW broadcasting needs it as a "
                     "rank-4 tensor (only constants are rewritten so)");
    }
    const std::string& out = names_[cur_][0];
    write_extra(nd, add(op_type, nd.name, {in_name(nd, 0), in_name(nd, 1)}, {out}), {});
  }

  // A constant node: an initializer named as the node (float constants count as weights). A
  // constant of rank 1-3 feeding a rank-4 element-wise op is written as rank 4 (padded with
  // leading 1s in NHWC, then NCHW), which is what NCHW broadcasting needs.
  void write_constant(const node& nd) {
    const tensor_shape& s = nd.output_shapes[0];
    dims_t dims = onnx_dims(s);
    const node_index id = cur_;
    if (s.rank() >= 1 && s.rank() <= 3 && s.num_elements() != 1) {
      bool to4 = false;
      for (node_index c : g_.successors(id)) {
        const node& cn = g_[c];
        if (is_elementwise_binary(cn.op) && cn.output_shapes.at(0).rank() == 4) to4 = true;
      }
      if (to4) {
        tensor_shape p4;
        for (std::size_t i = s.rank(); i < 4; ++i) p4.push_back(1);
        for (dim d : s) p4.push_back(d);
        dims = onnx_dims(p4);
      }
    }
    for (dim d : dims)
      if (d < 0) fail(nd, "a constant needs a fully known shape");
    tensor_data(names_[id][0], dims, nd.elem, fill::small, 1);
  }

  void write_fc(const node& nd) {
    const tensor_shape& x = in_shape(nd, 0);
    const std::string& out = names_[cur_][0];
    if (!is_float(nd.elem)) fail(nd, "ONNX Gemm / MatMul need a floating-point input");
    const dim cout = nd.output_shapes.at(0)[-1];
    if (x.rank() == 0) fail(nd, "needs rank >= 1");
    if (x.rank() == 2 || (x.rank() == 4 && x[1] == 1 && x[2] == 1)) {
      const dim k = x.rank() == 2 ? x[1] : x[3];
      std::string a = in_name(nd, 0);
      if (x.rank() == 4) {
        // Gemm needs rank 2: [N, C, 1, 1] -> Flatten -> [N, C] (what torchvision exports).
        const std::string f = fresh(nd, "flatten");
        attr_i(add("Flatten", f, {a}, {f}), "axis", 1);
        a = f;
      }
      if (!nd.attrs.has_bias && opt_.opset < 11) {
        // Gemm's C is optional only from opset 11: MatMul with W [K, cout] instead.
        const std::string w = weight(nd, "W", {k, cout}, nd.elem, fill::uniform_fan_in, k);
        add("MatMul", nd.name, {a, w}, {out});
        return;
      }
      // W is [K, cout]; an fc imported from a Gemm with transB = 1 (attrs.extra) gets
      // [cout, K] and transB = 1 back.
      const std::string* tb = nd.attrs.find_extra("transB");
      const bool trans_b = tb != nullptr && *tb != "0";
      std::vector<std::string> ins{a, weight(nd, "W", trans_b ? dims_t{cout, k} : dims_t{k, cout},
                                             nd.elem, fill::uniform_fan_in, k)};
      if (nd.attrs.has_bias)
        ins.push_back(weight(nd, "B", {cout}, nd.elem, fill::uniform_fan_in, k));
      auto* p = add("Gemm", nd.name, ins, {out});
      if (trans_b) attr_i(p, "transB", 1);
      write_extra(nd, p, {"transB"});
      return;
    }
    if (x.rank() == 4) fail(nd, "an fc over a rank-4 input needs H = W = 1");
    // [..., K] x [K, cout] (+ B): MatMul, then Add.
    const dim k = x[-1];
    const std::string w = weight(nd, "W", {k, cout}, nd.elem, fill::uniform_fan_in, k);
    if (!nd.attrs.has_bias) {
      add("MatMul", nd.name, {in_name(nd, 0), w}, {out});
      return;
    }
    const std::string mm = fresh(nd, "matmul");
    add("MatMul", mm, {in_name(nd, 0), w}, {mm});
    const std::string b = weight(nd, "B", {cout}, nd.elem, fill::uniform_fan_in, k);
    add("Add", nd.name, {mm, b}, {out});
  }

  void write_reshape(const node& nd) {
    const tensor_shape& x = in_shape(nd, 0);
    const tensor_shape& y = nd.output_shapes.at(0);
    const dims_t want = onnx_dims(y);
    dims_t t = nd.attrs.target_shape;
    bool ok = !t.empty() && t.size() == y.rank();
    if (ok && y.rank() == 4) {
      bool zeros = false;
      for (dim d : t) zeros = zeros || d == 0;
      if (zeros && x.rank() != 4)
        ok = false;
      else
        t = {t[0], t[3], t[1], t[2]};
    } else if (ok && x.rank() == 4) {
      for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i] == 0) t[i] = want[i];
    }
    // Check the target against ONNX's rule on the NCHW input; fall back to explicit sizes.
    if (ok) {
      const dims_t xin = onnx_dims(x);
      dim known = 1;
      std::ptrdiff_t infer = -1;
      dims_t res(t.size());
      for (std::size_t i = 0; ok && i < t.size(); ++i) {
        dim d = t[i];
        if (d == 0) {
          if (i >= xin.size())
            ok = false;
          else
            d = xin[i];
        }
        if (d == -1) {
          infer = static_cast<std::ptrdiff_t>(i);
          continue;
        }
        res[i] = d;
        known *= d;
      }
      if (ok && infer >= 0)
        res[static_cast<std::size_t>(infer)] = known > 0 ? x.num_elements() / known : 0;
      ok = ok && res == want;
    }
    if (!ok) t = want;
    for (dim d : t)
      if (d < -1) fail(nd, "reshape target has a negative size");
    const std::string s = consts_i64(nd, "shape", t);
    add("Reshape", nd.name, {in_name(nd, 0), s}, {names_[cur_][0]});
  }

  // ONNX-side results used to check rank-changing ops across the layout boundary.
  static dims_t reduce_result(const tensor_shape& x, const dims_t& onnx_axes, bool keep) {
    const dims_t xd = onnx_dims(x);
    dims_t r;
    for (std::size_t i = 0; i < xd.size(); ++i) {
      bool red = onnx_axes.empty();
      for (dim ax : onnx_axes) red = red || ax == static_cast<dim>(i);
      if (!red)
        r.push_back(xd[i]);
      else if (keep)
        r.push_back(1);
    }
    return r;
  }
  static dims_t unsqueeze_result(const tensor_shape& x, const dims_t& onnx_axes) {
    const dims_t xd = onnx_dims(x);
    dims_t r;
    std::size_t next = 0;
    for (std::size_t i = 0; i < xd.size() + onnx_axes.size(); ++i) {
      bool ins = false;
      for (dim ax : onnx_axes) ins = ins || ax == static_cast<dim>(i);
      r.push_back(ins ? 1 : (next < xd.size() ? xd[next++] : 1));
    }
    return r;
  }
  void check_rank_change(const node& nd, const tensor_shape& x, const tensor_shape& y,
                         const dims_t& onnx_result) const {
    if (onnx_result != onnx_dims(y))
      fail(nd, "maps " + std::to_string(x.rank()) + "-D to " + std::to_string(y.rank()) +
                   "-D across the NHWC/NCHW boundary in a way one ONNX operator cannot express "
                   "(the dimension order would differ without a Transpose)");
  }

  const graph& g_;
  const onnx_write_options& opt_;
  onnx::ModelProto m_;
  onnx::GraphProto* gp_ = nullptr;
  std::vector<std::vector<std::string>> names_;
  std::vector<std::vector<bool>> consumed_;
  std::set<std::string> used_;
  std::set<std::string> extra_names_;
  std::size_t unknown_dims_ = 0;
  node_index cur_ = 0;
};

}  // namespace detail

/// The graph as an ONNX model: NCHW layout, opset `o.opset`, generated weights. Throws
/// unsupported_error naming the node for an operator (or a layout case) it cannot write, and
/// graph_error for an invalid graph.
inline onnx::ModelProto to_onnx_model(const graph& g, const onnx_write_options& o = {}) {
  return detail::onnx_writer(g, o).run();
}

/// to_onnx_model, serialised (the bytes of a .onnx file).
inline std::string to_onnx_bytes(const graph& g, const onnx_write_options& o = {}) {
  std::string out;
  if (!to_onnx_model(g, o).SerializeToString(&out))
    throw error("onnx writer: protobuf serialisation failed (model above 2 GB?)");
  return out;
}

/// Writes to_onnx_bytes(g, o) to `path`; throws nnmeter::error when the file cannot be
/// written.
inline void write_onnx(const graph& g, const std::string& path, const onnx_write_options& o = {}) {
  const std::string bytes = to_onnx_bytes(g, o);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw error("onnx writer: cannot open '" + path + "' for writing");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw error("onnx writer: writing '" + path + "' failed");
}

}  // namespace io
NNMETER_END_NAMESPACE
