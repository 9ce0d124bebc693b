// nnmeter — the shape rules of the graph IR: window, padding, broadcast and data-movement
// arithmetic in one place. graph_builder builds with them, validate() re-derives every node of
// an imported graph with them, and importers, writers and backends compute what they need from
// them, so a shape means the same thing everywhere.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Every function takes `where`, the prefix of its error messages ("graph_builder: conv 'c1'",
/// "node 'c1' (Conv2D)"), and throws graph_error("<where>: <what is wrong>") on a violation.
/// Shapes are NHWC for rank 4; sizes are >= 0 (the rules are applied to known shapes only).
namespace shape_rules {

using dim = std::int64_t;

[[noreturn]] inline void fail(const std::string& where, const std::string& msg) {
  throw graph_error(where + ": " + msg);
}

/// "[1, 224, 224, 3]".
inline std::string text(const tensor_shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.rank(); ++i) {
    if (i != 0) r += ", ";
    r += std::to_string(s[static_cast<std::ptrdiff_t>(i)]);
  }
  return r + "]";
}
/// "[0, 2, 3, 1]".
inline std::string text(const std::vector<dim>& v) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) r += ", ";
    r += std::to_string(v[i]);
  }
  return r + "]";
}

inline bool contains(const std::vector<dim>& v, dim x) noexcept {
  for (dim y : v)
    if (y == x) return true;
  return false;
}

/// Appends d, failing beyond tensor_shape::max_rank.
inline void push(const std::string& where, tensor_shape& s, dim d) {
  if (s.rank() == tensor_shape::max_rank)
    fail(where, "result rank is above " + std::to_string(tensor_shape::max_rank));
  s.push_back(d);
}

inline void require_rank4(const std::string& where, const tensor_shape& s) {
  if (s.rank() != 4) fail(where, "expects a rank-4 NHWC input, got " + text(s));
}

/// An axis in [-rank, rank) made non-negative.
inline dim normalise_axis(const std::string& where, dim axis, std::size_t rank) {
  const auto r = static_cast<dim>(rank);
  if (axis < -r || axis >= r)
    fail(where, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  return axis < 0 ? axis + r : axis;
}

/// Axes made non-negative and sorted; a repeated axis is an error.
inline std::vector<dim> normalise_axes(const std::string& where, std::vector<dim> axes,
                                       std::size_t rank) {
  for (dim& a : axes) a = normalise_axis(where, a, rank);
  for (std::size_t i = 1; i < axes.size(); ++i) {  // insertion sort: at most 8 axes
    for (std::size_t j = i; j > 0 && axes[j - 1] > axes[j]; --j) std::swap(axes[j - 1], axes[j]);
  }
  for (std::size_t i = 1; i < axes.size(); ++i)
    if (axes[i] == axes[i - 1]) fail(where, "axis " + std::to_string(axes[i]) + " is repeated");
  return axes;
}

/// Numpy broadcasting: shapes aligned on the right, sizes equal or 1.
inline tensor_shape broadcast(const std::string& where, const tensor_shape& a,
                              const tensor_shape& b) {
  const std::size_t r = a.rank() > b.rank() ? a.rank() : b.rank();
  tensor_shape out;
  for (std::size_t i = 0; i < r; ++i) {
    const dim da = i + a.rank() >= r ? a[static_cast<std::ptrdiff_t>(i + a.rank() - r)] : 1;
    const dim db = i + b.rank() >= r ? b[static_cast<std::ptrdiff_t>(i + b.rank() - r)] : 1;
    if (da != db && da != 1 && db != 1)
      fail(where, "cannot broadcast " + text(a) + " with " + text(b) + " (" + std::to_string(da) +
                      " vs " + std::to_string(db) + " at output axis " + std::to_string(i) + ")");
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

/// Broadcasting of element-wise operands in the graph IR: numpy's rule on the shapes as they
/// are; when a rank-4 (NHWC) operand meets one of lower rank that does not broadcast so, the
/// lower-rank operand is aligned as its ONNX source aligns it against the NCHW tensor (a
/// per-channel [C, 1, 1] constant), which gives the same rank-4 result.
inline tensor_shape broadcast_operands(const std::string& where, const tensor_shape& a,
                                       const tensor_shape& b) {
  const bool mixed = (a.rank() == 4 && b.rank() < 4) || (b.rank() == 4 && a.rank() < 4);
  if (mixed) {
    try {
      return broadcast(where, a, b);
    } catch (const graph_error&) {
      // Try the NCHW alignment below; if that fails too, report the plain rule's error.
    }
    const tensor_shape& x = a.rank() == 4 ? a : b;
    const tensor_shape& lo = a.rank() == 4 ? b : a;
    const tensor_shape nchw{x[0], x[3], x[1], x[2]};
    bool ok = true;
    tensor_shape y;
    try {
      y = broadcast(where, nchw, lo);
    } catch (const graph_error&) {
      ok = false;
    }
    if (ok && y.rank() == 4) return tensor_shape{y[0], y[2], y[3], y[1]};
  }
  return broadcast(where, a, b);
}

/// The output size of one spatial axis of a sliding window and the padding it uses.
struct window_axis_result {
  dim out = 0;
  dim pad_begin = 0;
  dim pad_end = 0;
};

/// One spatial axis: input size `in`, window `k`, stride `s`, dilation `d` (all >= 1), padding
/// `mode` (explicit: pb / pe are the pads); ceil_mode rounds up, except that a last window
/// starting inside the end padding is dropped (ONNX / PyTorch). SAME: out = ceil(in / s), the
/// padding split as TensorFlow (more at the end) or, for same_lower, ONNX SAME_LOWER.
inline window_axis_result window_axis(const std::string& where, const char* axis, dim in, dim k,
                                      dim s, dim d, padding_mode mode, dim pb, dim pe,
                                      bool ceil_mode) {
  window_axis_result r;
  const dim extent = d * (k - 1) + 1;  // k, d <= max_dim: fits in 63 bits
  switch (mode) {
    case padding_mode::same:
    case padding_mode::same_lower: {
      r.out = (in + s - 1) / s;
      const dim need = (r.out - 1) * s + extent - in;
      const dim total = need > 0 ? need : 0;
      r.pad_begin = mode == padding_mode::same ? total / 2 : total - total / 2;
      r.pad_end = total - r.pad_begin;
      return r;
    }
    case padding_mode::valid:
      pb = 0;
      pe = 0;
      break;
    case padding_mode::explicit_pads:
      break;
  }
  const dim padded = in + pb + pe;
  if (extent > padded)
    fail(where, std::string("kernel ") + axis + " " + std::to_string(k) + " (dilated extent " +
                    std::to_string(extent) + ") is larger than the padded input " + axis + " " +
                    std::to_string(padded) + " (input " + std::to_string(in) + ", pads " +
                    std::to_string(pb) + " + " + std::to_string(pe) + ")");
  const dim span = padded - extent;
  r.out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (r.out - 1) * s >= in + pb) --r.out;  // last window would start in the padding
  r.pad_begin = pb;
  r.pad_end = pe;
  return r;
}

inline void check_pair(const std::string& where, const char* what, const std::array<dim, 2>& p,
                       dim lo) {
  if (p[0] < lo || p[1] < lo || p[0] > tensor_shape::max_dim || p[1] > tensor_shape::max_dim)
    fail(where, std::string(what) + " " + std::to_string(p[0]) + "x" + std::to_string(p[1]) +
                    " must be in [" + std::to_string(lo) + ", " +
                    std::to_string(tensor_shape::max_dim) + "]");
}

inline void check_pads(const std::string& where, const std::array<dim, 4>& p) {
  for (dim v : p)
    if (v < 0 || v > tensor_shape::max_dim)
      fail(where, "pads {" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " +
                      std::to_string(p[2]) + ", " + std::to_string(p[3]) +
                      "} (top, bottom, left, right) must be in [0, " +
                      std::to_string(tensor_shape::max_dim) + "]");
}

/// A 2-D sliding window over an NHWC input [N, H, W, C] with the window fields of `a` (kernel,
/// strides, dilations, padding, pads, ceil_mode): [N, OH, OW, C]. Writes the padding used into
/// `resolved_pads` ({top, bottom, left, right}) when given.
inline tensor_shape window(const std::string& where, const tensor_shape& x, const attributes& a,
                           std::array<dim, 4>* resolved_pads = nullptr) {
  require_rank4(where, x);
  check_pair(where, "kernel", a.kernel, 1);
  check_pair(where, "stride", a.strides, 1);
  check_pair(where, "dilation", a.dilations, 1);
  if (a.padding == padding_mode::explicit_pads) check_pads(where, a.pads);
  const window_axis_result h = window_axis(where, "height", x[1], a.kernel[0], a.strides[0],
                                           a.dilations[0], a.padding, a.pads[0], a.pads[1],
                                           a.ceil_mode);
  const window_axis_result w = window_axis(where, "width", x[2], a.kernel[1], a.strides[1],
                                           a.dilations[1], a.padding, a.pads[2], a.pads[3],
                                           a.ceil_mode);
  if (resolved_pads != nullptr) *resolved_pads = {h.pad_begin, h.pad_end, w.pad_begin, w.pad_end};
  return tensor_shape{x[0], h.out, w.out, x[3]};
}

/// Channels of a (grouped) convolution: groups divides the input and the output channels.
inline void conv_channels(const std::string& where, const tensor_shape& x, dim cout, dim groups) {
  const dim cin = x[3];
  if (groups < 1 || cin % groups != 0)
    fail(where, "groups " + std::to_string(groups) + " does not divide the " +
                    std::to_string(cin) + " input channels of " + text(x));
  if (cout < 1 || cout % groups != 0)
    fail(where, "groups " + std::to_string(groups) + " does not divide the " +
                    std::to_string(cout) + " output channels");
}

/// Transposed convolution [N, H, W, Cin] -> [N, OH, OW, cout] with the window fields of `a` and
/// output padding `opad` (ONNX / PyTorch): explicit / VALID:
/// OH = s * (H - 1) + opad + d * (k - 1) + 1 - top - bottom; SAME: OH = H * s, the padding
/// split as for conv. When SAME needs less than no padding (window extent < stride), the
/// difference becomes output padding (written back into `opad`). Resolved pads go to
/// `resolved_pads` when given.
inline tensor_shape conv_transpose(const std::string& where, const tensor_shape& x, dim cout,
                                   const attributes& a, std::array<dim, 2>& opad,
                                   std::array<dim, 4>* resolved_pads = nullptr) {
  require_rank4(where, x);
  check_pair(where, "kernel", a.kernel, 1);
  check_pair(where, "stride", a.strides, 1);
  check_pair(where, "dilation", a.dilations, 1);
  check_pair(where, "output padding", opad, 0);
  if (a.padding == padding_mode::explicit_pads) check_pads(where, a.pads);
  if ((opad[0] >= a.strides[0] && opad[0] >= a.dilations[0]) ||
      (opad[1] >= a.strides[1] && opad[1] >= a.dilations[1]))
    fail(where, "output padding " + std::to_string(opad[0]) + "x" + std::to_string(opad[1]) +
                    " must be smaller than the stride " + std::to_string(a.strides[0]) + "x" +
                    std::to_string(a.strides[1]) + " or the dilation " +
                    std::to_string(a.dilations[0]) + "x" + std::to_string(a.dilations[1]));
  const dim groups = a.groups;
  if (groups < 1 || x[3] % groups != 0 || cout < 1 || cout % groups != 0)
    fail(where, "groups " + std::to_string(groups) + " must divide the input channels (" +
                    std::to_string(x[3]) + ") and the output channels (" + std::to_string(cout) +
                    ")");
  std::array<dim, 4> pads = a.pads;
  // out = s * (in - 1) + opad + extent - pb - pe; every term fits in 63 bits.
  auto axis = [&](const char* nm, std::size_t i) {
    const dim in = x[static_cast<std::ptrdiff_t>(i + 1)];
    const dim extent = a.dilations[i] * (a.kernel[i] - 1) + 1;
    const dim full = a.strides[i] * (in - 1) + extent;
    dim& pb = pads[2 * i];
    dim& pe = pads[2 * i + 1];
    if (a.padding == padding_mode::same || a.padding == padding_mode::same_lower) {
      const dim total = full + opad[i] - in * a.strides[i];
      if (total >= 0) {
        pb = a.padding == padding_mode::same ? total / 2 : total - total / 2;
        pe = total - pb;
      } else {
        pb = pe = 0;
        opad[i] = -total;  // output padding fills the gap between the last window and in * s
      }
      return in * a.strides[i];
    }
    if (a.padding == padding_mode::valid) pb = pe = 0;
    const dim out = full + opad[i] - pb - pe;
    if (out < 1)
      fail(where, std::string("pads ") + std::to_string(pb) + " + " + std::to_string(pe) +
                      " remove the whole output " + nm + " (" + std::to_string(full + opad[i]) +
                      ")");
    return out;
  };
  const dim oh = axis("height", 0);
  const dim ow = axis("width", 1);
  if (resolved_pads != nullptr) *resolved_pads = pads;
  return tensor_shape{x[0], oh, ow, cout};
}

/// Fully connected layer: [..., C] -> [..., cout]; a rank-4 input [N, 1, 1, C] (global
/// pooling's output) may also give [N, cout].
inline tensor_shape fc(const std::string& where, const tensor_shape& x, dim cout,
                       std::size_t out_rank) {
  if (x.rank() == 4 && out_rank == 2) {
    if (x[1] != 1 || x[2] != 1)
      fail(where, "a rank-4 input to a fully connected layer giving rank 2 must be [N, 1, 1, C], "
                  "got " + text(x));
    return tensor_shape{x[0], cout};
  }
  if (x.rank() < 1)
    fail(where, "expects an input of rank >= 1 ([N, C] or [..., C]), got " + text(x));
  tensor_shape out = x;
  out[-1] = cout;
  return out;
}

/// Matrix product with numpy semantics: [..., M, K] x [..., K, P] -> [..., M, P]; batch
/// dimensions broadcast; a rank-1 operand is promoted ([K] -> [1, K] or [K, 1]) and the
/// added axis removed from the result.
inline tensor_shape matmul(const std::string& where, tensor_shape sa, tensor_shape sb) {
  if (sa.rank() == 0 || sb.rank() == 0) fail(where, "operands must have rank >= 1");
  const tensor_shape oa = sa;
  const tensor_shape ob = sb;
  const bool a_vec = sa.rank() == 1;
  const bool b_vec = sb.rank() == 1;
  if (a_vec) sa = {1, sa[0]};
  if (b_vec) sb = {sb[0], 1};
  if (sa[-1] != sb[-2])
    fail(where, "inner dimensions differ: " + text(oa) + " x " + text(ob) + " (" +
                    std::to_string(sa[-1]) + " vs " + std::to_string(sb[-2]) + ")");
  tensor_shape ba;
  tensor_shape bb;
  for (std::size_t i = 0; i + 2 < sa.rank(); ++i) ba.push_back(sa[static_cast<std::ptrdiff_t>(i)]);
  for (std::size_t i = 0; i + 2 < sb.rank(); ++i) bb.push_back(sb[static_cast<std::ptrdiff_t>(i)]);
  tensor_shape out = broadcast(where, ba, bb);
  if (!a_vec) push(where, out, sa[-2]);
  if (!b_vec) push(where, out, sb[-1]);
  return out;
}

/// matmul() of graph operands: a rank-4 operand is NHWC in the IR but its source multiplied
/// it as NCHW ([N, C] batch, [H, W] matrix), so when numpy's rule on the shapes as they are
/// does not apply, the rank-4 operands are read as NCHW and the result mapped back.
inline tensor_shape matmul_operands(const std::string& where, const tensor_shape& a,
                                    const tensor_shape& b) {
  if (a.rank() != 4 && b.rank() != 4) return matmul(where, a, b);
  try {
    return matmul(where, a, b);
  } catch (const graph_error&) {
    // Try the NCHW reading below; if that fails too, report the plain rule's error.
  }
  auto nchw = [](const tensor_shape& s) {
    return s.rank() == 4 ? tensor_shape{s[0], s[3], s[1], s[2]} : s;
  };
  tensor_shape y;
  try {
    y = matmul(where, nchw(a), nchw(b));
  } catch (const graph_error&) {
    return matmul(where, a, b);  // throws the plain rule's error
  }
  return y.rank() == 4 ? tensor_shape{y[0], y[2], y[3], y[1]} : y;
}

/// Global pooling [N, H, W, C] -> [N, 1, 1, C].
inline tensor_shape global_pool(const std::string& where, const tensor_shape& x) {
  require_rank4(where, x);
  return tensor_shape{x[0], 1, 1, x[3]};
}

/// Mean over `axes` (non-negative after normalisation; empty = every axis), keeping the
/// reduced axes as size 1 when keepdims.
inline tensor_shape reduce(const std::string& where, const tensor_shape& x,
                           const std::vector<dim>& axes, bool keepdims) {
  std::vector<dim> ax = normalise_axes(where, axes, x.rank());
  if (ax.empty())
    for (std::size_t i = 0; i < x.rank(); ++i) ax.push_back(static_cast<dim>(i));
  tensor_shape out;
  for (std::size_t i = 0; i < x.rank(); ++i) {
    const bool reduced = contains(ax, static_cast<dim>(i));
    if (!reduced)
      out.push_back(x[static_cast<std::ptrdiff_t>(i)]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

/// Concatenation along `axis`: same rank, every other dimension equal.
inline tensor_shape concat(const std::string& where, const std::vector<tensor_shape>& xs,
                           dim axis) {
  if (xs.empty()) fail(where, "needs at least one input");
  const tensor_shape& first = xs[0];
  const dim ax = normalise_axis(where, axis, first.rank());
  tensor_shape out = first;
  dim total = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const tensor_shape& s = xs[i];
    bool same = s.rank() == first.rank();
    for (std::size_t d = 0; same && d < s.rank(); ++d)
      same = static_cast<dim>(d) == ax ||
             s[static_cast<std::ptrdiff_t>(d)] == first[static_cast<std::ptrdiff_t>(d)];
    if (!same)
      fail(where, "input " + std::to_string(i) + " has shape " + text(s) + " but input 0 has " +
                      text(first) + "; all dimensions except axis " + std::to_string(ax) +
                      " must match");
    total += s[ax];  // terms <= 2^31 - 1: overflow would need 2^32 inputs
  }
  out[ax] = total;
  return out;
}

/// Split along `axis` into pieces of the given sizes (each >= 1, summing to the dimension).
inline std::vector<tensor_shape> split(const std::string& where, const tensor_shape& x, dim axis,
                                       const std::vector<dim>& sizes) {
  const dim ax = normalise_axis(where, axis, x.rank());
  if (sizes.empty()) fail(where, "needs at least one output size");
  dim sum = 0;
  for (dim v : sizes) {
    if (v < 0 || v > tensor_shape::max_dim)
      fail(where, "split sizes " + text(sizes) + " must each be in [0, " +
                      std::to_string(tensor_shape::max_dim) + "]");
    sum += v;  // terms <= 2^31 - 1 and we stop once past x[ax]: no overflow
    if (sum > x[ax]) break;
  }
  if (sum != x[ax])
    fail(where, "split sizes " + text(sizes) + " do not sum to dimension " + std::to_string(ax) +
                    " of " + text(x) + " (" + std::to_string(x[ax]) + ")");
  std::vector<tensor_shape> outs;
  outs.reserve(sizes.size());
  for (dim v : sizes) {
    tensor_shape o = x;
    o[ax] = v;
    outs.push_back(o);
  }
  return outs;
}

/// Equal split sizes of dimension `axis` of `x` into `parts` pieces (parts must divide it).
inline std::vector<dim> equal_split(const std::string& where, const tensor_shape& x, dim axis,
                                    dim parts) {
  const dim ax = normalise_axis(where, axis, x.rank());
  if (parts < 1 || x[ax] % parts != 0)
    fail(where, "cannot split dimension " + std::to_string(ax) + " of size " +
                    std::to_string(x[ax]) + " into " + std::to_string(parts) + " equal parts");
  return std::vector<dim>(static_cast<std::size_t>(parts), x[ax] / parts);
}

/// A slice index into a dimension of size n >= 0 with ONNX's rule: a negative index counts
/// from the back. A negative result is -1 at least, so INT64_MIN / INT64_MAX do not overflow.
constexpr dim slice_index(dim v, dim n) noexcept { return v < 0 ? (v < -n ? -n - 1 : v) + n : v; }

/// The half-open range [first, second) of a dimension of size n >= 0 that a slice
/// start:end with a positive step runs over, with ONNX Slice semantics (negative indices count
/// from the back, then both are clamped to [0, n]); empty when second <= first.
constexpr std::pair<dim, dim> slice_bounds(dim n, dim start, dim end) noexcept {
  const dim b = slice_index(start, n);
  const dim e = slice_index(end, n);
  return {b < 0 ? 0 : (b > n ? n : b), e < 0 ? 0 : (e > n ? n : e)};
}

/// One axis of a slice with ONNX Slice semantics: negative start / end count from the back,
/// both are clamped, step may be negative (not 0). Returns the number of elements taken.
inline dim slice_length(const std::string& where, dim n, dim start, dim end, dim step) {
  if (step == 0) fail(where, "step must not be 0");
  // Clamp as ONNX does. Indices end up in [-1, n] and a step beyond n selects one element
  // just as n does, so nothing below overflows even for INT64_MIN / INT64_MAX arguments.
  auto clamp = [](dim v, dim lo, dim hi) { return v < lo ? lo : (v > hi ? hi : v); };
  const dim st = clamp(step, -n, n);
  if (st > 0) {
    const std::pair<dim, dim> r = slice_bounds(n, start, end);
    return r.second > r.first ? (r.second - r.first - 1) / st + 1 : 0;
  }
  dim b = slice_index(start, n);
  dim e = slice_index(end, n);
  if (n == 0) return 0;
  b = clamp(b, 0, n - 1);
  e = clamp(e, -1, n - 1);
  return b > e ? (b - e - 1) / -st + 1 : 0;
}

/// A contiguous block of one axis: the elements [begin, end) of axis `axis`.
struct slice_block {
  dim axis = 0;
  dim begin = 0;
  dim end = 0;
};

/// The block that a slice with attributes `a` (axes, and extra "starts" / "ends" / "steps"
/// as builders and importers store them) takes from the fully known tensor shape x, when it is
/// one non-empty contiguous block of one axis: every sliced axis has step 1 and all of them
/// but one take their whole extent. Nothing otherwise (bounds not stored, another step, x not
/// known, several axes cut, an empty result, or no axis cut at all).
inline std::optional<slice_block> contiguous_slice(const attributes& a, const tensor_shape& x) {
  if (!x.is_static()) return std::nullopt;
  std::vector<dim> starts, ends, steps;
  if (!detail::extra_ints(a, "starts", starts) || !detail::extra_ints(a, "ends", ends))
    return std::nullopt;
  if (!detail::extra_ints(a, "steps", steps) || steps.empty()) steps.assign(starts.size(), 1);
  std::vector<dim> axes = a.axes;
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<dim>(i));
  if (ends.size() != starts.size() || steps.size() != starts.size() || axes.size() != starts.size())
    return std::nullopt;
  const auto rank = static_cast<dim>(x.rank());
  std::optional<slice_block> cut;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const dim ax = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (ax < 0 || ax >= rank || steps[i] != 1) return std::nullopt;
    const dim n = x[static_cast<std::ptrdiff_t>(ax)];
    const std::pair<dim, dim> r = slice_bounds(n, starts[i], ends[i]);
    if (r.second <= r.first) return std::nullopt;
    if (r.first == 0 && r.second == n) continue;
    if (cut) return std::nullopt;  // a second axis cut
    cut = slice_block{ax, r.first, r.second};
  }
  return cut;
}

/// Reshape with ONNX semantics: 0 copies the input dimension at the same index, one -1 is
/// inferred, the element count must not change.
inline tensor_shape reshape(const std::string& where, const tensor_shape& x,
                            const std::vector<dim>& target) {
  constexpr dim max_elements = std::numeric_limits<dim>::max();
  if (target.size() > tensor_shape::max_rank)
    fail(where, "target rank " + std::to_string(target.size()) + " is above " +
                    std::to_string(tensor_shape::max_rank));
  tensor_shape out;
  std::ptrdiff_t infer_at = -1;
  dim known = 1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    dim d = target[i];
    if (d == 0) {
      if (i >= x.rank())
        fail(where, "target " + text(target) + " copies dimension " + std::to_string(i) +
                        " (0) but the input " + text(x) + " has rank " + std::to_string(x.rank()));
      d = x[static_cast<std::ptrdiff_t>(i)];
    } else if (d == -1) {
      if (infer_at >= 0) fail(where, "target " + text(target) + " has more than one -1");
      infer_at = static_cast<std::ptrdiff_t>(i);
      out.push_back(1);
      continue;
    } else if (d < 0 || d > tensor_shape::max_dim) {
      fail(where, "target " + text(target) + " has dimension " + std::to_string(d) +
                      " (sizes must be 0, -1 or in [1, " + std::to_string(tensor_shape::max_dim) +
                      "])");
    }
    if (d != 0 && known > max_elements / d) fail(where, "target " + text(target) + " overflows");
    known *= d;
    out.push_back(d);
  }
  const dim count = x.num_elements();
  if (infer_at >= 0) {
    if (known == 0 || count % known != 0)
      fail(where, "cannot reshape " + text(x) + " (" + std::to_string(count) + " elements) to " +
                      text(target) + ": not a multiple of " + std::to_string(known));
    out[infer_at] = count / known;
  } else if (known != count) {
    fail(where, "cannot reshape " + text(x) + " (" + std::to_string(count) + " elements) to " +
                    text(target) + " (" + std::to_string(known) + " elements)");
  }
  return out;
}

/// ONNX Flatten: [d0 * ... * d(axis-1), d(axis) * ... * d(r-1)], axis in [-r, r].
inline tensor_shape flatten(const std::string& where, const tensor_shape& x, dim axis) {
  const auto r = static_cast<dim>(x.rank());
  if (axis < -r || axis > r)
    fail(where, "axis " + std::to_string(axis) + " is out of range [" + std::to_string(-r) + ", " +
                    std::to_string(r) + "] for " + text(x));
  const dim ax = axis < 0 ? axis + r : axis;
  dim outer = 1;
  dim inner = 1;
  for (dim i = 0; i < r; ++i) (i < ax ? outer : inner) *= x[i];  // sub-products of a count
  return tensor_shape{outer, inner};
}

/// Output dimension i is input dimension perm[i]; perm must be a permutation of the axes.
inline tensor_shape transpose(const std::string& where, const tensor_shape& x,
                              const std::vector<dim>& perm) {
  bool ok = perm.size() == x.rank();
  std::array<bool, tensor_shape::max_rank> seen{};
  for (std::size_t i = 0; ok && i < perm.size(); ++i) {
    const dim p = perm[i];
    ok = p >= 0 && p < static_cast<dim>(x.rank()) && !seen[static_cast<std::size_t>(p)];
    if (ok) seen[static_cast<std::size_t>(p)] = true;
  }
  if (!ok)
    fail(where, "perm " + text(perm) + " is not a permutation of the " + std::to_string(x.rank()) +
                    " axes of " + text(x));
  tensor_shape out;
  for (dim p : perm) out.push_back(x[p]);
  return out;
}

/// Removes the given size-1 axes (normalised), or every size-1 axis when `axes` is empty.
inline tensor_shape squeeze(const std::string& where, const tensor_shape& x,
                            const std::vector<dim>& axes) {
  std::vector<dim> ax = normalise_axes(where, axes, x.rank());
  if (ax.empty()) {
    for (std::size_t i = 0; i < x.rank(); ++i)
      if (x[static_cast<std::ptrdiff_t>(i)] == 1) ax.push_back(static_cast<dim>(i));
  }
  tensor_shape out;
  for (std::size_t i = 0; i < x.rank(); ++i) {
    const dim d = x[static_cast<std::ptrdiff_t>(i)];
    if (!contains(ax, static_cast<dim>(i))) {
      out.push_back(d);
    } else if (d != 1) {
      fail(where, "cannot squeeze axis " + std::to_string(i) + " of size " + std::to_string(d) +
                      " in " + text(x));
    }
  }
  return out;
}

/// Inserts size-1 axes at the given positions of the output (negative axes count from the
/// back of the output).
inline tensor_shape unsqueeze(const std::string& where, const tensor_shape& x,
                              const std::vector<dim>& axes) {
  if (axes.empty()) fail(where, "needs at least one axis");
  const std::size_t r = x.rank() + axes.size();
  if (r > tensor_shape::max_rank)
    fail(where, "output rank " + std::to_string(r) + " is above " +
                    std::to_string(tensor_shape::max_rank));
  const std::vector<dim> ax = normalise_axes(where, axes, r);
  tensor_shape out;
  std::ptrdiff_t next = 0;
  for (std::size_t i = 0; i < r; ++i)
    out.push_back(contains(ax, static_cast<dim>(i)) ? 1 : x[next++]);
  return out;
}

/// Spatial zero padding of an NHWC tensor by {top, bottom, left, right} (each >= 0).
inline tensor_shape pad(const std::string& where, const tensor_shape& x,
                        const std::array<dim, 4>& p) {
  require_rank4(where, x);
  check_pads(where, p);
  return tensor_shape{x[0], x[1] + p[0] + p[1], x[2] + p[2] + p[3], x[3]};
}

/// Padding of every axis, pads = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] in the
/// order of `order` (the source's axis order: order[i] is the shape axis of pads entry i);
/// negative pads crop (ONNX), but no dimension may become negative.
inline tensor_shape pad_axes(const std::string& where, const tensor_shape& x,
                             const std::vector<dim>& pads, const std::vector<std::size_t>& order) {
  const std::size_t r = x.rank();
  if (pads.size() != 2 * r || order.size() != r)
    fail(where, "pads " + text(pads) + " must hold 2 x " + std::to_string(r) + " values for " +
                    text(x));
  tensor_shape out = x;
  for (std::size_t i = 0; i < r; ++i) {
    const auto a = static_cast<std::ptrdiff_t>(order[i]);
    const dim b = pads[i];
    const dim e = pads[i + r];
    if (b < -tensor_shape::max_dim || b > tensor_shape::max_dim || e < -tensor_shape::max_dim ||
        e > tensor_shape::max_dim)
      fail(where, "pads " + text(pads) + " are out of range");
    const dim v = x[a] + b + e;
    if (v < 0)
      fail(where, "pads " + text(pads) + " remove more than the " + std::to_string(x[a]) +
                      " elements of axis " + std::to_string(a) + " of " + text(x));
    out[a] = v;
  }
  return out;
}

/// The sizes a resize by scale `s` may give from `in`: floor (ONNX), and rounding either way
/// (sources that store the ratio of the sizes as a float).
inline bool resize_size_matches(dim in, float s, dim out) noexcept {
  if (!(std::isfinite(s) && s > 0.0f)) return false;
  const double v = static_cast<double>(in) * static_cast<double>(s);
  const double lo = std::floor(v * (1.0 - 1e-6));
  const double hi = std::ceil(v * (1.0 + 1e-6));
  const auto o = static_cast<double>(out);
  return o >= lo && o <= hi;
}

/// Spatial resize of an NHWC tensor: [N, floor(H * sh), floor(W * sw), C].
inline tensor_shape resize(const std::string& where, const tensor_shape& x,
                           const std::array<float, 2>& scales) {
  require_rank4(where, x);
  tensor_shape out = x;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto axis = static_cast<std::ptrdiff_t>(i + 1);
    const double v =
        std::floor(static_cast<double>(x[axis]) * static_cast<double>(scales[i]));
    if (!(std::isfinite(scales[i]) && scales[i] > 0.0f) || !(v >= 1.0) ||
        v > static_cast<double>(tensor_shape::max_dim))
      fail(where, std::string(i == 0 ? "height" : "width") + " " + std::to_string(x[axis]) +
                      " scaled by " + std::to_string(scales[i]) + " gives no size in [1, " +
                      std::to_string(tensor_shape::max_dim) + "]");
    out[axis] = static_cast<dim>(v);
  }
  return out;
}

}  // namespace shape_rules

NNMETER_END_NAMESPACE
