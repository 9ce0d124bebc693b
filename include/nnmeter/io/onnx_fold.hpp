// nnmeter — ONNX import, part 1: what is known about a tensor, reading small TensorProto values
// without copying weights, and the integer evaluator that folds shape subgraphs
// (Shape -> Gather -> Add -> Div -> Mul -> Slice, Concat -> Reshape, ...). Opt-in: needs the ONNX
// protobuf headers; link nnmeter::onnx. Included by onnx_import.hpp.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<onnx/onnx_pb.h>)
#error "nnmeter/io/onnx_fold.hpp needs the ONNX protobuf headers: link nnmeter::onnx (NNMETER_WITH_ONNX)"
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <onnx/onnx_pb.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <nnmeter.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {
namespace onnx_detail {

using i64 = std::int64_t;

/// Tensors with at most this many elements have their values read and evaluated; larger ones
/// (weights) only get their shapes.
inline constexpr i64 max_value_elements = i64{1} << 16;

inline std::size_t to_size(i64 v) noexcept { return static_cast<std::size_t>(v); }
inline i64 to_i64(std::size_t v) noexcept { return static_cast<i64>(v); }

/// Element count of static dims; nullopt when a dim is unknown/negative or the count overflows
/// 2^62.
inline std::optional<i64> checked_numel(const std::vector<i64>& dims) noexcept {
  i64 n = 1;
  for (i64 d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > (i64{1} << 62) / d) return std::nullopt;
    n *= d;
  }
  return n;
}

inline bool is_real_type(int t) noexcept {
  return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE ||
         t == onnx::TensorProto::FLOAT16 || t == onnx::TensorProto::BFLOAT16;
}
inline bool is_integer_type(int t) noexcept {
  switch (t) {
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::BOOL:
      return true;
    default:
      return false;
  }
}

/// What the importer knows about one ONNX tensor (by name). Dims are in the file's (ONNX)
/// order; -1 is an unknown dimension.
struct tensor_info {
  int elem = 0;             ///< onnx::TensorProto::DataType, 0 = unknown
  bool rank_known = false;  ///< dims is meaningful
  std::vector<i64> dims;
  bool is_const = false;   ///< fixed at import time: initializer, Constant, folded
  bool has_value = false;  ///< ints or reals hold the row-major values
  bool is_real = false;    ///< values are in reals (else in ints)
  std::vector<i64> ints;
  std::vector<double> reals;

  bool is_static() const noexcept {
    if (!rank_known) return false;
    for (i64 d : dims)
      if (d < 0) return false;
    return true;
  }
  std::size_t count() const noexcept { return is_real ? reals.size() : ints.size(); }
  double real_at(std::size_t i) const noexcept {
    return is_real ? reals[i] : static_cast<double>(ints[i]);
  }
};

/// A value with dims and either ints or reals, for the evaluator.
inline tensor_info make_value(std::vector<i64> dims, int elem) {
  tensor_info v;
  v.elem = elem;
  v.rank_known = true;
  v.dims = std::move(dims);
  v.is_const = true;
  v.has_value = true;
  v.is_real = is_real_type(elem);
  return v;
}

inline double half_to_double(std::uint16_t h) noexcept {
  const int sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const int man = h & 0x3ff;
  double v = 0.0;
  if (exp == 0)
    v = std::ldexp(static_cast<double>(man), -24);
  else if (exp == 31)
    v = man != 0 ? std::numeric_limits<double>::quiet_NaN()
                 : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(static_cast<double>(man + 1024), exp - 25);
  return sign != 0 ? -v : v;
}

inline double bfloat16_to_double(std::uint16_t h) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f = 0.0f;
  std::memcpy(&f, &bits, sizeof f);
  return static_cast<double>(f);
}

/// Bytes per element of the fixed-size ONNX types (0 for string / unknown).
inline std::size_t onnx_elem_size(int t) noexcept {
  switch (t) {
    case onnx::TensorProto::FLOAT: return 4;
    case onnx::TensorProto::UINT8: return 1;
    case onnx::TensorProto::INT8: return 1;
    case onnx::TensorProto::UINT16: return 2;
    case onnx::TensorProto::INT16: return 2;
    case onnx::TensorProto::INT32: return 4;
    case onnx::TensorProto::INT64: return 8;
    case onnx::TensorProto::BOOL: return 1;
    case onnx::TensorProto::FLOAT16: return 2;
    case onnx::TensorProto::DOUBLE: return 8;
    case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::UINT64: return 8;
    case onnx::TensorProto::BFLOAT16: return 2;
    default: return 0;
  }
}

template <class T>
T load_le(const char* p) noexcept {  // ONNX raw_data is little-endian; so is every target here
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Reads dims, type and (for at most max_value_elements elements of a numeric type) the values
/// of a TensorProto. Weights are never copied: only their dims are read. Throws parse_error
/// prefixed with `where` on negative or absurd dims and on a value count that contradicts the
/// dims.
inline tensor_info read_tensor_proto(const onnx::TensorProto& t, const std::string& where) {
  tensor_info v;
  v.elem = t.data_type();
  v.rank_known = true;
  v.is_const = true;
  if (t.dims_size() > static_cast<int>(tensor_shape::max_rank))
    throw parse_error(where + ": rank " + std::to_string(t.dims_size()) + " is above " +
                      std::to_string(tensor_shape::max_rank));
  for (i64 d : t.dims()) {
    if (d < 0 || d > tensor_shape::max_dim)
      throw parse_error(where + ": dimension " + std::to_string(d) + " is negative or above 2^31-1");
    v.dims.push_back(d);
  }
  const std::optional<i64> n = checked_numel(v.dims);
  if (!n) throw parse_error(where + ": the element count overflows");
  if (*n > max_value_elements || t.data_location() == onnx::TensorProto::EXTERNAL) return v;
  const std::size_t count = to_size(*n);
  const int type = t.data_type();
  const std::size_t esize = onnx_elem_size(type);
  if (esize == 0 || type == onnx::TensorProto::STRING) return v;
  v.is_real = is_real_type(type);
  if (v.is_real)
    v.reals.resize(count);
  else
    v.ints.resize(count);
  auto bad_count = [&](std::size_t have) {
    throw parse_error(where + ": holds " + std::to_string(have) + " values for " +
                      std::to_string(count) + " elements");
  };
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != count * esize) bad_count(raw.size() / esize);
    const char* p = raw.data();
    for (std::size_t i = 0; i < count; ++i, p += esize) {
      switch (type) {
        case onnx::TensorProto::FLOAT: v.reals[i] = static_cast<double>(load_le<float>(p)); break;
        case onnx::TensorProto::DOUBLE: v.reals[i] = load_le<double>(p); break;
        case onnx::TensorProto::FLOAT16: v.reals[i] = half_to_double(load_le<std::uint16_t>(p)); break;
        case onnx::TensorProto::BFLOAT16:
          v.reals[i] = bfloat16_to_double(load_le<std::uint16_t>(p));
          break;
        case onnx::TensorProto::UINT8:
        case onnx::TensorProto::BOOL: v.ints[i] = load_le<std::uint8_t>(p); break;
        case onnx::TensorProto::INT8: v.ints[i] = load_le<std::int8_t>(p); break;
        case onnx::TensorProto::UINT16: v.ints[i] = load_le<std::uint16_t>(p); break;
        case onnx::TensorProto::INT16: v.ints[i] = load_le<std::int16_t>(p); break;
        case onnx::TensorProto::INT32: v.ints[i] = load_le<std::int32_t>(p); break;
        case onnx::TensorProto::UINT32: v.ints[i] = load_le<std::uint32_t>(p); break;
        case onnx::TensorProto::INT64: v.ints[i] = load_le<std::int64_t>(p); break;
        case onnx::TensorProto::UINT64: {
          const std::uint64_t u = load_le<std::uint64_t>(p);
          v.ints[i] = u > static_cast<std::uint64_t>(std::numeric_limits<i64>::max())
                          ? std::numeric_limits<i64>::max()
                          : static_cast<i64>(u);
          break;
        }
        default: break;
      }
    }
  } else {
    switch (type) {
      case onnx::TensorProto::FLOAT:
        if (to_size(t.float_data_size()) != count) bad_count(to_size(t.float_data_size()));
        for (std::size_t i = 0; i < count; ++i)
          v.reals[i] = static_cast<double>(t.float_data(static_cast<int>(i)));
        break;
      case onnx::TensorProto::DOUBLE:
        if (to_size(t.double_data_size()) != count) bad_count(to_size(t.double_data_size()));
        for (std::size_t i = 0; i < count; ++i) v.reals[i] = t.double_data(static_cast<int>(i));
        break;
      case onnx::TensorProto::INT64:
        if (to_size(t.int64_data_size()) != count) bad_count(to_size(t.int64_data_size()));
        for (std::size_t i = 0; i < count; ++i) v.ints[i] = t.int64_data(static_cast<int>(i));
        break;
      case onnx::TensorProto::UINT32:
      case onnx::TensorProto::UINT64:
        if (to_size(t.uint64_data_size()) != count) bad_count(to_size(t.uint64_data_size()));
        for (std::size_t i = 0; i < count; ++i) {
          const std::uint64_t u = t.uint64_data(static_cast<int>(i));
          v.ints[i] = u > static_cast<std::uint64_t>(std::numeric_limits<i64>::max())
                          ? std::numeric_limits<i64>::max()
                          : static_cast<i64>(u);
        }
        break;
      default:  // int32_data carries every type of 32 bits or less, float16 as bits
        if (to_size(t.int32_data_size()) != count) bad_count(to_size(t.int32_data_size()));
        for (std::size_t i = 0; i < count; ++i) {
          const std::int32_t x = t.int32_data(static_cast<int>(i));
          if (type == onnx::TensorProto::FLOAT16)
            v.reals[i] = half_to_double(static_cast<std::uint16_t>(x));
          else if (type == onnx::TensorProto::BFLOAT16)
            v.reals[i] = bfloat16_to_double(static_cast<std::uint16_t>(x));
          else
            v.ints[i] = x;
        }
        break;
    }
  }
  v.has_value = true;
  return v;
}

/// Writes a small folded value as an initializer (int64 or double) for ONNX shape inference.
inline void write_tensor_proto(const tensor_info& v, const std::string& name, onnx::TensorProto& t) {
  t.set_name(name);
  for (i64 d : v.dims) t.add_dims(d);
  if (v.is_real) {
    t.set_data_type(v.elem == onnx::TensorProto::FLOAT ? onnx::TensorProto::FLOAT
                                                       : onnx::TensorProto::DOUBLE);
    for (double x : v.reals) {
      if (t.data_type() == onnx::TensorProto::FLOAT)
        t.add_float_data(static_cast<float>(x));
      else
        t.add_double_data(x);
    }
  } else {
    const int e = v.elem;
    if (e == onnx::TensorProto::INT32 || e == onnx::TensorProto::INT8 ||
        e == onnx::TensorProto::UINT8 || e == onnx::TensorProto::INT16 ||
        e == onnx::TensorProto::UINT16 || e == onnx::TensorProto::BOOL) {
      t.set_data_type(e);
      for (i64 x : v.ints) t.add_int32_data(static_cast<std::int32_t>(x));
    } else {
      t.set_data_type(onnx::TensorProto::INT64);
      for (i64 x : v.ints) t.add_int64_data(x);
    }
  }
}

// ------------------------------------------------------------------------------ evaluator

inline const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
inline i64 attr_int(const onnx::NodeProto& n, const char* name, i64 def) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a != nullptr && a->type() == onnx::AttributeProto::INT ? a->i() : def;
}
inline double attr_float(const onnx::NodeProto& n, const char* name, double def) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a != nullptr && a->type() == onnx::AttributeProto::FLOAT ? static_cast<double>(a->f())
                                                                   : def;
}
inline std::optional<std::vector<i64>> attr_ints(const onnx::NodeProto& n, const char* name) {
  const onnx::AttributeProto* a = find_attr(n, name);
  if (a == nullptr || a->type() != onnx::AttributeProto::INTS) return std::nullopt;
  return std::vector<i64>(a->ints().begin(), a->ints().end());
}
inline std::optional<std::vector<double>> attr_floats(const onnx::NodeProto& n, const char* name) {
  const onnx::AttributeProto* a = find_attr(n, name);
  if (a == nullptr || a->type() != onnx::AttributeProto::FLOATS) return std::nullopt;
  std::vector<double> r;
  for (float f : a->floats()) r.push_back(static_cast<double>(f));
  return r;
}
inline std::string attr_string(const onnx::NodeProto& n, const char* name, const std::string& def) {
  const onnx::AttributeProto* a = find_attr(n, name);
  return a != nullptr && a->type() == onnx::AttributeProto::STRING ? a->s() : def;
}

/// Row-major strides of dims.
inline std::vector<i64> strides_of(const std::vector<i64>& dims) {
  std::vector<i64> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

/// Calls f(multi_index, flat) for every element of dims (row-major).
template <class F>
void for_each_index(const std::vector<i64>& dims, F&& f) {
  const std::optional<i64> n = checked_numel(dims);
  if (!n || *n == 0) return;
  std::vector<i64> idx(dims.size(), 0);
  for (i64 flat = 0; flat < *n; ++flat) {
    f(idx, flat);
    for (std::size_t k = dims.size(); k-- > 0;) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

/// A value holding the elements of src at the given flat offsets.
inline tensor_info take(const tensor_info& src, std::vector<i64> dims,
                        const std::vector<std::size_t>& offsets) {
  tensor_info r = make_value(std::move(dims), src.elem);
  r.is_real = src.is_real;
  if (src.is_real) {
    r.reals.reserve(offsets.size());
    for (std::size_t o : offsets) r.reals.push_back(src.reals[o]);
  } else {
    r.ints.reserve(offsets.size());
    for (std::size_t o : offsets) r.ints.push_back(src.ints[o]);
  }
  return r;
}

/// numpy broadcasting of two shapes; nullopt when incompatible.
inline std::optional<std::vector<i64>> broadcast_dims(const std::vector<i64>& a,
                                                      const std::vector<i64>& b) {
  const std::size_t r = a.size() > b.size() ? a.size() : b.size();
  std::vector<i64> out(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const i64 da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const i64 db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Flat offsets into a tensor of dims `in` for every element of the broadcast shape `out`.
inline std::vector<std::size_t> broadcast_offsets(const std::vector<i64>& out,
                                                  const std::vector<i64>& in) {
  const std::vector<i64> st = strides_of(in);
  std::vector<std::size_t> offs;
  const std::size_t shift = out.size() - in.size();
  for_each_index(out, [&](const std::vector<i64>& idx, i64) {
    i64 o = 0;
    for (std::size_t k = 0; k < in.size(); ++k)
      if (in[k] != 1) o += idx[k + shift] * st[k];
    offs.push_back(to_size(o));
  });
  return offs;
}

inline bool checked_binary(const std::string& op, i64 a, i64 b, i64& r) {
  constexpr i64 lo = std::numeric_limits<i64>::min();
  constexpr i64 hi = std::numeric_limits<i64>::max();
  if (op == "Add") {
    if ((b > 0 && a > hi - b) || (b < 0 && a < lo - b)) return false;
    r = a + b;
  } else if (op == "Sub") {
    if ((b < 0 && a > hi + b) || (b > 0 && a < lo + b)) return false;
    r = a - b;
  } else if (op == "Mul") {
    if (a != 0 && b != 0) {
      const long double p = static_cast<long double>(a) * static_cast<long double>(b);
      if (p > static_cast<long double>(hi) / 2 || p < static_cast<long double>(lo) / 2) return false;
    }
    r = a * b;
  } else if (op == "Div") {
    if (b == 0 || (a == lo && b == -1)) return false;
    r = a / b;  // ONNX integer Div truncates (as C++)
  } else if (op == "Mod") {
    if (b == 0 || (a == lo && b == -1)) return false;
    r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;  // fmod = 0: sign of the divisor
  } else if (op == "Max") {
    r = a > b ? a : b;
  } else if (op == "Min") {
    r = a < b ? a : b;
  } else if (op == "Equal") {
    r = a == b;
  } else if (op == "Less") {
    r = a < b;
  } else if (op == "Greater") {
    r = a > b;
  } else if (op == "LessOrEqual") {
    r = a <= b;
  } else if (op == "GreaterOrEqual") {
    r = a >= b;
  } else if (op == "And") {
    r = (a != 0) && (b != 0);
  } else if (op == "Or") {
    r = (a != 0) || (b != 0);
  } else if (op == "Xor") {
    r = (a != 0) != (b != 0);
  } else {
    return false;
  }
  return true;
}

inline bool is_comparison(const std::string& op) {
  return op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
         op == "GreaterOrEqual" || op == "And" || op == "Or" || op == "Xor";
}

inline bool real_binary(const std::string& op, double a, double b, double& r) {
  if (op == "Add") r = a + b;
  else if (op == "Sub") r = a - b;
  else if (op == "Mul") r = a * b;
  else if (op == "Div") r = a / b;
  else if (op == "Max") r = a > b ? a : b;
  else if (op == "Min") r = a < b ? a : b;
  else if (op == "Pow") r = std::pow(a, b);
  else if (op == "Equal") r = a == b;
  else if (op == "Less") r = a < b;
  else if (op == "Greater") r = a > b;
  else if (op == "LessOrEqual") r = a <= b;
  else if (op == "GreaterOrEqual") r = a >= b;
  else return false;
  return true;
}

inline std::optional<tensor_info> binary_value(const std::string& op, const tensor_info& a,
                                               const tensor_info& b) {
  const auto out = broadcast_dims(a.dims, b.dims);
  if (!out) return std::nullopt;
  const std::optional<i64> n = checked_numel(*out);
  if (!n || *n > max_value_elements) return std::nullopt;
  const std::vector<std::size_t> oa = broadcast_offsets(*out, a.dims);
  const std::vector<std::size_t> ob = broadcast_offsets(*out, b.dims);
  const bool cmp = is_comparison(op);
  const int elem = cmp ? onnx::TensorProto::BOOL : a.elem;
  tensor_info r = make_value(*out, elem);
  if (a.is_real || b.is_real) {
    if (op == "And" || op == "Or" || op == "Xor" || op == "Mod") return std::nullopt;
    r.is_real = !cmp;
    for (std::size_t i = 0; i < oa.size(); ++i) {
      double x = 0.0;
      if (!real_binary(op, a.real_at(oa[i]), b.real_at(ob[i]), x)) return std::nullopt;
      if (cmp)
        r.ints.push_back(x != 0.0 ? 1 : 0);
      else
        r.reals.push_back(x);
    }
    return r;
  }
  r.is_real = false;
  for (std::size_t i = 0; i < oa.size(); ++i) {
    i64 x = 0;
    if (!checked_binary(op, a.ints[oa[i]], b.ints[ob[i]], x)) return std::nullopt;
    r.ints.push_back(x);
  }
  return r;
}

inline bool double_to_i64(double d, i64& out) {
  if (!std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18) return false;
  out = static_cast<i64>(d);
  return true;
}

/// Normalises an axis against rank; false when out of range.
inline bool norm_axis(i64& axis, i64 rank) {
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  return true;
}

/// One axis of an ONNX slice, clamped as the operator does: first index, step, length.
struct slice_axis {
  i64 start = 0;
  i64 step = 1;
  i64 len = 0;
};
inline std::optional<slice_axis> resolve_slice(i64 n, i64 start, i64 end, i64 step) {
  if (step == 0) return std::nullopt;
  auto clamp = [](i64 v, i64 lo, i64 hi) { return v < lo ? lo : (v > hi ? hi : v); };
  const i64 st = clamp(step, -n - 1, n + 1);
  i64 b = start < 0 ? (start < -n ? -n - 1 : start) + n : start;
  i64 e = end < 0 ? (end < -n ? -n - 1 : end) + n : end;
  slice_axis r;
  r.step = st;
  if (st > 0) {
    b = clamp(b, 0, n);
    e = clamp(e, 0, n);
    r.len = e > b ? (e - b - 1) / st + 1 : 0;
  } else {
    b = clamp(b, 0, n - 1);
    e = clamp(e, -1, n - 1);
    r.len = b > e ? (b - e - 1) / -st + 1 : 0;
  }
  r.start = b;
  return r;
}

inline tensor_info strided_take(const tensor_info& src, const std::vector<slice_axis>& ax) {
  std::vector<i64> out;
  for (const slice_axis& a : ax) out.push_back(a.len);
  const std::vector<i64> st = strides_of(src.dims);
  std::vector<std::size_t> offs;
  for_each_index(out, [&](const std::vector<i64>& idx, i64) {
    i64 o = 0;
    for (std::size_t k = 0; k < ax.size(); ++k) o += (ax[k].start + idx[k] * ax[k].step) * st[k];
    offs.push_back(to_size(o));
  });
  return take(src, out, offs);
}

/// Input `i` of the node when present, as known values; nullptr otherwise.
using input_list = std::vector<const tensor_info*>;
inline const tensor_info* value_in(const input_list& in, std::size_t i) {
  return i < in.size() && in[i] != nullptr && in[i]->has_value ? in[i] : nullptr;
}
inline std::optional<std::vector<i64>> ints_in(const input_list& in, std::size_t i) {
  const tensor_info* v = value_in(in, i);
  if (v == nullptr || v->is_real) return std::nullopt;
  return v->ints;
}

/// Evaluates one node on known values. `in` holds what is known about each input (nullptr for
/// an absent optional input). Returns the output values, or nothing when the node cannot be
/// evaluated (unknown inputs, an op outside the folding set, results above max_value_elements,
/// arithmetic overflow): the importer then keeps the node. Never throws on bad values.
inline std::optional<std::vector<tensor_info>> evaluate_node(const onnx::NodeProto& n,
                                                             const input_list& in, i64 opset) {
  const std::string& op = n.op_type();
  using out_t = std::optional<std::vector<tensor_info>>;
  auto one = [](tensor_info v) -> out_t {
    std::vector<tensor_info> r;
    r.push_back(std::move(v));
    return r;
  };
  const tensor_info* x = value_in(in, 0);
  if (op == "Shape" || op == "Size") {
    if (in.empty() || in[0] == nullptr || !in[0]->is_static()) return std::nullopt;
    const std::vector<i64>& d = in[0]->dims;
    if (op == "Size") {
      const std::optional<i64> c = checked_numel(d);
      if (!c) return std::nullopt;
      tensor_info r = make_value({}, onnx::TensorProto::INT64);
      r.ints.push_back(*c);
      return one(std::move(r));
    }
    i64 r = to_i64(d.size());
    i64 b = attr_int(n, "start", 0);
    i64 e = attr_int(n, "end", r);
    if (b < 0) b += r;
    if (e < 0) e += r;
    b = b < 0 ? 0 : (b > r ? r : b);
    e = e < 0 ? 0 : (e > r ? r : e);
    tensor_info v = make_value({e > b ? e - b : 0}, onnx::TensorProto::INT64);
    for (i64 i = b; i < e; ++i) v.ints.push_back(d[to_size(i)]);
    return one(std::move(v));
  }
  if (op == "Identity" || op == "Dropout") {
    if (x == nullptr) return std::nullopt;
    if (op == "Dropout" && n.output_size() > 1 && !n.output(1).empty()) return std::nullopt;
    return one(*x);
  }
  if (op == "ConstantOfShape") {
    const auto shape = ints_in(in, 0);
    if (!shape) return std::nullopt;
    for (i64 d : *shape)
      if (d < 0 || d > tensor_shape::max_dim) return std::nullopt;
    const std::optional<i64> c = checked_numel(*shape);
    if (!c || *c > max_value_elements) return std::nullopt;
    int elem = onnx::TensorProto::FLOAT;
    bool real = true;
    double fv = 0.0;
    i64 iv = 0;
    if (const onnx::AttributeProto* a = find_attr(n, "value")) {
      if (a->type() != onnx::AttributeProto::TENSOR) return std::nullopt;
      tensor_info t;
      try {
        t = read_tensor_proto(a->t(), "ConstantOfShape value");
      } catch (const error&) {
        return std::nullopt;
      }
      if (!t.has_value || t.count() != 1) return std::nullopt;
      elem = t.elem;
      real = t.is_real;
      if (real)
        fv = t.reals[0];
      else
        iv = t.ints[0];
    }
    tensor_info r = make_value(*shape, elem);
    r.is_real = real;
    if (real)
      r.reals.assign(to_size(*c), fv);
    else
      r.ints.assign(to_size(*c), iv);
    return one(std::move(r));
  }
  if (op == "Range") {
    const tensor_info* s = value_in(in, 0);
    const tensor_info* l = value_in(in, 1);
    const tensor_info* d = value_in(in, 2);
    if (s == nullptr || l == nullptr || d == nullptr || s->count() != 1 || l->count() != 1 ||
        d->count() != 1)
      return std::nullopt;
    if (s->is_real || l->is_real || d->is_real) {
      const double a = s->real_at(0), b = l->real_at(0), st = d->real_at(0);
      if (!(st != 0.0) || !std::isfinite(a) || !std::isfinite(b) || !std::isfinite(st))
        return std::nullopt;
      const double cnt = std::ceil((b - a) / st);
      const i64 c = cnt > 0 ? static_cast<i64>(cnt < 1e9 ? cnt : 1e9) : 0;
      if (c > max_value_elements) return std::nullopt;
      tensor_info r = make_value({c}, s->elem);
      r.is_real = true;
      for (i64 i = 0; i < c; ++i) r.reals.push_back(a + static_cast<double>(i) * st);
      return one(std::move(r));
    }
    const i64 a = s->ints[0], b = l->ints[0], st = d->ints[0];
    if (st == 0) return std::nullopt;
    const long double cnt = std::ceil((static_cast<long double>(b) - static_cast<long double>(a)) /
                                      static_cast<long double>(st));
    if (cnt > static_cast<long double>(max_value_elements)) return std::nullopt;
    const i64 c = cnt > 0 ? static_cast<i64>(cnt) : 0;
    tensor_info r = make_value({c}, s->elem);
    i64 v = a;
    for (i64 i = 0; i < c; ++i) {
      r.ints.push_back(v);
      if (i + 1 < c && !checked_binary("Add", v, st, v)) return std::nullopt;
    }
    return one(std::move(r));
  }
  if (op == "Cast") {
    if (x == nullptr) return std::nullopt;
    const i64 to = attr_int(n, "to", 0);
    if (!is_real_type(static_cast<int>(to)) && !is_integer_type(static_cast<int>(to)))
      return std::nullopt;
    tensor_info r = make_value(x->dims, static_cast<int>(to));
    if (r.is_real) {
      for (std::size_t i = 0; i < x->count(); ++i) r.reals.push_back(x->real_at(i));
    } else if (x->is_real) {
      for (double d : x->reals) {
        i64 v = 0;
        if (to == onnx::TensorProto::BOOL) {
          v = d != 0.0;
        } else if (!double_to_i64(d, v)) {
          return std::nullopt;
        }
        r.ints.push_back(v);
      }
    } else {
      for (i64 v : x->ints) r.ints.push_back(to == onnx::TensorProto::BOOL ? (v != 0) : v);
    }
    return one(std::move(r));
  }
  if (op == "Neg" || op == "Abs" || op == "Floor" || op == "Ceil" || op == "Sqrt" ||
      op == "Not" || op == "Relu" || op == "Round" || op == "Sign" || op == "Reciprocal" ||
      op == "Exp" || op == "Log") {
    if (x == nullptr) return std::nullopt;
    tensor_info r = *x;
    if (x->is_real) {
      for (double& d : r.reals) {
        if (op == "Neg") d = -d;
        else if (op == "Abs") d = std::fabs(d);
        else if (op == "Floor") d = std::floor(d);
        else if (op == "Ceil") d = std::ceil(d);
        else if (op == "Sqrt") d = std::sqrt(d);
        else if (op == "Relu") d = d > 0.0 ? d : 0.0;
        else if (op == "Round") d = std::nearbyint(d);
        else if (op == "Sign") d = d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0);
        else if (op == "Reciprocal") d = 1.0 / d;
        else if (op == "Exp") d = std::exp(d);
        else if (op == "Log") d = std::log(d);
        else return std::nullopt;
      }
    } else {
      for (i64& v : r.ints) {
        if (v == std::numeric_limits<i64>::min()) return std::nullopt;
        if (op == "Neg") v = -v;
        else if (op == "Abs") v = v < 0 ? -v : v;
        else if (op == "Not") v = v == 0;
        else if (op == "Relu") v = v > 0 ? v : 0;
        else if (op == "Sign") v = v > 0 ? 1 : (v < 0 ? -1 : 0);
        else if (op == "Sqrt" || op == "Reciprocal" || op == "Exp" || op == "Log") return std::nullopt;
        // Floor, Ceil, Round of an integer: unchanged
      }
    }
    return one(std::move(r));
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Mod" || op == "Pow" ||
      is_comparison(op)) {
    const tensor_info* a = value_in(in, 0);
    const tensor_info* b = value_in(in, 1);
    if (a == nullptr || b == nullptr) return std::nullopt;
    if (op == "Mod" && attr_int(n, "fmod", 0) != 0) return std::nullopt;
    if (op == "Pow" && !a->is_real) return std::nullopt;
    auto r = binary_value(op, *a, *b);
    if (!r) return std::nullopt;
    return one(std::move(*r));
  }
  if (op == "Max" || op == "Min" || op == "Sum") {
    if (in.empty()) return std::nullopt;
    const tensor_info* a = value_in(in, 0);
    if (a == nullptr) return std::nullopt;
    tensor_info acc = *a;
    for (std::size_t i = 1; i < in.size(); ++i) {
      const tensor_info* b = value_in(in, i);
      if (b == nullptr) return std::nullopt;
      auto r = binary_value(op == "Sum" ? "Add" : op, acc, *b);
      if (!r) return std::nullopt;
      acc = std::move(*r);
    }
    return one(std::move(acc));
  }
  if (op == "Where") {
    const tensor_info* c = value_in(in, 0);
    const tensor_info* a = value_in(in, 1);
    const tensor_info* b = value_in(in, 2);
    if (c == nullptr || a == nullptr || b == nullptr || c->is_real || a->is_real != b->is_real)
      return std::nullopt;
    auto ab = broadcast_dims(a->dims, b->dims);
    if (!ab) return std::nullopt;
    auto out = broadcast_dims(*ab, c->dims);
    if (!out) return std::nullopt;
    const std::optional<i64> cnt = checked_numel(*out);
    if (!cnt || *cnt > max_value_elements) return std::nullopt;
    const auto oc = broadcast_offsets(*out, c->dims);
    const auto oa = broadcast_offsets(*out, a->dims);
    const auto ob = broadcast_offsets(*out, b->dims);
    tensor_info r = make_value(*out, a->elem);
    r.is_real = a->is_real;
    for (std::size_t i = 0; i < oc.size(); ++i) {
      const bool pick = c->ints[oc[i]] != 0;
      if (r.is_real)
        r.reals.push_back(pick ? a->reals[oa[i]] : b->reals[ob[i]]);
      else
        r.ints.push_back(pick ? a->ints[oa[i]] : b->ints[ob[i]]);
    }
    return one(std::move(r));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    if (x == nullptr) return std::nullopt;
    std::optional<std::vector<i64>> axes;
    if (opset >= 13)
      axes = in.size() > 1 && in[1] != nullptr ? ints_in(in, 1) : std::vector<i64>{};
    else
      axes = attr_ints(n, "axes");
    if (in.size() > 1 && in[1] != nullptr && !axes) return std::nullopt;
    if (!axes) axes = std::vector<i64>{};
    std::vector<i64> out;
    if (op == "Unsqueeze") {
      if (axes->empty()) return std::nullopt;
      const i64 r = to_i64(x->dims.size() + axes->size());
      std::vector<bool> ins(to_size(r), false);
      for (i64 a : *axes) {
        if (!norm_axis(a, r) || ins[to_size(a)]) return std::nullopt;
        ins[to_size(a)] = true;
      }
      std::size_t next = 0;
      for (i64 i = 0; i < r; ++i) out.push_back(ins[to_size(i)] ? 1 : x->dims[next++]);
    } else {
      const i64 r = to_i64(x->dims.size());
      std::vector<bool> rm(to_size(r), false);
      for (i64 a : *axes) {
        if (!norm_axis(a, r) || x->dims[to_size(a)] != 1) return std::nullopt;
        rm[to_size(a)] = true;
      }
      for (i64 i = 0; i < r; ++i)
        if (axes->empty() ? x->dims[to_size(i)] != 1 : !rm[to_size(i)])
          out.push_back(x->dims[to_size(i)]);
    }
    tensor_info r = *x;
    r.dims = std::move(out);
    return one(std::move(r));
  }
  if (op == "Reshape" || op == "Flatten") {
    if (x == nullptr) return std::nullopt;
    std::vector<i64> out;
    const i64 total = to_i64(x->count());
    if (op == "Flatten") {
      i64 axis = attr_int(n, "axis", 1);
      const i64 r = to_i64(x->dims.size());
      if (axis < -r || axis > r) return std::nullopt;
      if (axis < 0) axis += r;
      i64 outer = 1;
      for (i64 i = 0; i < axis; ++i) outer *= x->dims[to_size(i)];
      out = {outer, outer == 0 ? 0 : total / outer};
    } else {
      std::optional<std::vector<i64>> target =
          opset >= 5 ? ints_in(in, 1) : attr_ints(n, "shape");
      if (!target) return std::nullopt;
      const bool allowzero = attr_int(n, "allowzero", 0) != 0;
      i64 known = 1;
      std::ptrdiff_t infer = -1;
      for (std::size_t i = 0; i < target->size(); ++i) {
        i64 d = (*target)[i];
        if (d == 0 && !allowzero) {
          if (i >= x->dims.size()) return std::nullopt;
          d = x->dims[i];
        }
        if (d == -1) {
          if (infer >= 0) return std::nullopt;
          infer = static_cast<std::ptrdiff_t>(i);
          out.push_back(1);
          continue;
        }
        if (d < 0 || d > max_value_elements) return std::nullopt;
        known *= d;  // both factors <= 2^16 here: no overflow
        if (known > max_value_elements || out.size() >= tensor_shape::max_rank) return std::nullopt;
        out.push_back(d);
      }
      if (infer >= 0) {
        if (known == 0 || total % known != 0) return std::nullopt;
        out[static_cast<std::size_t>(infer)] = total / known;
      } else if (known != total) {
        return std::nullopt;
      }
    }
    tensor_info r = *x;
    r.dims = std::move(out);
    return one(std::move(r));
  }
  if (op == "Concat") {
    if (in.empty()) return std::nullopt;
    for (std::size_t i = 0; i < in.size(); ++i)
      if (value_in(in, i) == nullptr) return std::nullopt;
    const tensor_info& f = *in[0];
    i64 axis = attr_int(n, "axis", 0);
    if (!norm_axis(axis, to_i64(f.dims.size()))) return std::nullopt;
    std::vector<i64> out = f.dims;
    out[to_size(axis)] = 0;
    for (const tensor_info* t : in) {
      if (t->dims.size() != f.dims.size() || t->is_real != f.is_real) return std::nullopt;
      for (std::size_t k = 0; k < f.dims.size(); ++k)
        if (to_i64(k) != axis && t->dims[k] != f.dims[k]) return std::nullopt;
      out[to_size(axis)] += t->dims[to_size(axis)];
    }
    i64 outer = 1;
    for (i64 k = 0; k < axis; ++k) outer *= f.dims[to_size(k)];
    tensor_info r = make_value(out, f.elem);
    r.is_real = f.is_real;
    for (i64 o = 0; o < outer; ++o) {
      for (const tensor_info* t : in) {
        const std::size_t block = outer == 0 ? 0 : t->count() / to_size(outer);
        for (std::size_t j = 0; j < block; ++j) {
          const std::size_t src = to_size(o) * block + j;
          if (r.is_real)
            r.reals.push_back(t->reals[src]);
          else
            r.ints.push_back(t->ints[src]);
        }
      }
    }
    return one(std::move(r));
  }
  if (op == "Gather") {
    const tensor_info* data = value_in(in, 0);
    const tensor_info* idx = value_in(in, 1);
    if (data == nullptr || idx == nullptr || idx->is_real) return std::nullopt;
    i64 axis = attr_int(n, "axis", 0);
    if (!norm_axis(axis, to_i64(data->dims.size()))) return std::nullopt;
    const i64 len = data->dims[to_size(axis)];
    std::vector<i64> out(data->dims.begin(), data->dims.begin() + axis);
    out.insert(out.end(), idx->dims.begin(), idx->dims.end());
    out.insert(out.end(), data->dims.begin() + axis + 1, data->dims.end());
    const std::optional<i64> cnt = checked_numel(out);
    if (!cnt || *cnt > max_value_elements) return std::nullopt;
    i64 outer = 1, inner = 1;
    for (i64 k = 0; k < axis; ++k) outer *= data->dims[to_size(k)];
    for (std::size_t k = to_size(axis) + 1; k < data->dims.size(); ++k) inner *= data->dims[k];
    std::vector<std::size_t> offs;
    for (i64 o = 0; o < outer; ++o) {
      for (i64 j : idx->ints) {
        if (j < -len || j >= len) return std::nullopt;
        if (j < 0) j += len;
        for (i64 k = 0; k < inner; ++k) offs.push_back(to_size((o * len + j) * inner + k));
      }
    }
    return one(take(*data, out, offs));
  }
  if (op == "Slice") {
    if (x == nullptr) return std::nullopt;
    std::optional<std::vector<i64>> starts, ends, axes, steps;
    if (opset < 10) {
      starts = attr_ints(n, "starts");
      ends = attr_ints(n, "ends");
      axes = attr_ints(n, "axes");
    } else {
      starts = ints_in(in, 1);
      ends = ints_in(in, 2);
      if (in.size() > 3 && in[3] != nullptr) {
        axes = ints_in(in, 3);
        if (!axes) return std::nullopt;
      }
      if (in.size() > 4 && in[4] != nullptr) {
        steps = ints_in(in, 4);
        if (!steps) return std::nullopt;
      }
    }
    if (!starts || !ends || starts->size() != ends->size()) return std::nullopt;
    const i64 r = to_i64(x->dims.size());
    if (!axes) {
      axes = std::vector<i64>{};
      for (std::size_t i = 0; i < starts->size(); ++i) axes->push_back(to_i64(i));
    }
    if (!steps) steps = std::vector<i64>(starts->size(), 1);
    if (axes->size() != starts->size() || steps->size() != starts->size()) return std::nullopt;
    std::vector<slice_axis> ax;
    for (i64 d : x->dims) ax.push_back({0, 1, d});
    for (std::size_t i = 0; i < starts->size(); ++i) {
      i64 a = (*axes)[i];
      if (!norm_axis(a, r)) return std::nullopt;
      const auto s = resolve_slice(x->dims[to_size(a)], (*starts)[i], (*ends)[i], (*steps)[i]);
      if (!s) return std::nullopt;
      ax[to_size(a)] = *s;
    }
    return one(strided_take(*x, ax));
  }
  if (op == "Split") {
    if (x == nullptr || n.output_size() < 1) return std::nullopt;
    i64 axis = attr_int(n, "axis", 0);
    if (!norm_axis(axis, to_i64(x->dims.size()))) return std::nullopt;
    const i64 len = x->dims[to_size(axis)];
    std::optional<std::vector<i64>> sizes =
        opset >= 13 ? (in.size() > 1 && in[1] != nullptr ? ints_in(in, 1) : std::vector<i64>{})
                    : attr_ints(n, "split");
    if (!sizes) {
      if (opset >= 13) return std::nullopt;
      sizes = std::vector<i64>{};
    }
    const i64 parts = n.output_size();
    if (sizes->empty()) {
      if (len % parts != 0) return std::nullopt;
      sizes->assign(to_size(parts), len / parts);
    }
    if (to_i64(sizes->size()) != parts) return std::nullopt;
    std::vector<tensor_info> outs;
    i64 at = 0;
    for (i64 s : *sizes) {
      if (s < 0 || at + s > len) return std::nullopt;
      std::vector<slice_axis> ax;
      for (i64 d : x->dims) ax.push_back({0, 1, d});
      ax[to_size(axis)] = {at, 1, s};
      outs.push_back(strided_take(*x, ax));
      at += s;
    }
    if (at != len) return std::nullopt;
    return outs;
  }
  if (op == "Transpose") {
    if (x == nullptr) return std::nullopt;
    const std::size_t r = x->dims.size();
    std::vector<i64> perm = attr_ints(n, "perm").value_or(std::vector<i64>{});
    if (perm.empty())
      for (std::size_t i = r; i-- > 0;) perm.push_back(to_i64(i));
    if (perm.size() != r) return std::nullopt;
    std::vector<bool> seen(r, false);
    for (i64 p : perm) {
      if (p < 0 || p >= to_i64(r) || seen[to_size(p)]) return std::nullopt;
      seen[to_size(p)] = true;
    }
    std::vector<i64> out;
    for (i64 p : perm) out.push_back(x->dims[to_size(p)]);
    const std::vector<i64> st = strides_of(x->dims);
    std::vector<std::size_t> offs;
    for_each_index(out, [&](const std::vector<i64>& idx, i64) {
      i64 o = 0;
      for (std::size_t k = 0; k < r; ++k) o += idx[k] * st[to_size(perm[k])];
      offs.push_back(to_size(o));
    });
    return one(take(*x, out, offs));
  }
  if (op == "Expand") {
    const auto shape = ints_in(in, 1);
    if (x == nullptr || !shape) return std::nullopt;
    for (i64 d : *shape)
      if (d < 0) return std::nullopt;
    auto out = broadcast_dims(x->dims, *shape);
    if (!out) return std::nullopt;
    const std::optional<i64> cnt = checked_numel(*out);
    if (!cnt || *cnt > max_value_elements) return std::nullopt;
    return one(take(*x, *out, broadcast_offsets(*out, x->dims)));
  }
  if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin") {
    if (x == nullptr || x->count() == 0) return std::nullopt;
    std::optional<std::vector<i64>> axes = attr_ints(n, "axes");
    if (op == "ReduceSum" && opset >= 13) {
      axes = in.size() > 1 && in[1] != nullptr ? ints_in(in, 1) : std::nullopt;
      if (in.size() > 1 && in[1] != nullptr && !axes) return std::nullopt;
      if ((!axes || axes->empty()) && attr_int(n, "noop_with_empty_axes", 0) != 0) return one(*x);
    }
    const bool keep = attr_int(n, "keepdims", 1) != 0;
    const i64 r = to_i64(x->dims.size());
    std::vector<bool> red(to_size(r), !axes || axes->empty());
    if (axes && !axes->empty()) {
      for (i64 a : *axes) {
        if (!norm_axis(a, r)) return std::nullopt;
        red[to_size(a)] = true;
      }
    }
    std::vector<i64> full;  // reduced dims kept as 1
    std::vector<i64> out;
    for (i64 i = 0; i < r; ++i) {
      const bool rd = red[to_size(i)];
      full.push_back(rd ? 1 : x->dims[to_size(i)]);
      if (!rd || keep) out.push_back(rd ? 1 : x->dims[to_size(i)]);
    }
    const std::optional<i64> cnt = checked_numel(full);
    if (!cnt) return std::nullopt;
    const char* bop = op == "ReduceProd" ? "Mul" : op == "ReduceSum" ? "Add" : op == "ReduceMax" ? "Max" : "Min";
    std::vector<i64> iacc(x->is_real ? 0 : to_size(*cnt));
    std::vector<double> racc(x->is_real ? to_size(*cnt) : 0);
    std::vector<bool> init(to_size(*cnt), false);
    const std::vector<i64> ost = strides_of(full);
    bool ok = true;
    for_each_index(x->dims, [&](const std::vector<i64>& idx, i64 flat) {
      i64 o = 0;
      for (std::size_t k = 0; k < idx.size(); ++k) o += (red[k] ? 0 : idx[k]) * ost[k];
      const std::size_t oi = to_size(o);
      if (x->is_real) {
        const double v = x->reals[to_size(flat)];
        if (!init[oi]) {
          racc[oi] = v;
        } else if (!real_binary(bop, racc[oi], v, racc[oi])) {
          ok = false;
        }
      } else {
        const i64 v = x->ints[to_size(flat)];
        if (!init[oi]) {
          iacc[oi] = v;
        } else if (!checked_binary(bop, iacc[oi], v, iacc[oi])) {
          ok = false;
        }
      }
      init[oi] = true;
    });
    if (!ok) return std::nullopt;
    tensor_info res = make_value(out, x->elem);
    res.is_real = x->is_real;
    res.ints = std::move(iacc);
    res.reals = std::move(racc);
    return one(std::move(res));
  }
  return std::nullopt;
}

}  // namespace onnx_detail
}  // namespace io
NNMETER_END_NAMESPACE
