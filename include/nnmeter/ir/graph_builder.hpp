// nnmeter — graph_builder: builds an nnmeter::graph in code, inferring every shape.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/shape_rules.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// A (height, width) pair of a 2-D window: kernel size, stride, dilation or output padding.
/// Converts implicitly from one integer (the square case), so `b.conv(x, 16, 3)` and
/// `b.conv(x, 16, {1, 7})` both read naturally.
struct hw_pair {
  /// Extent along H.
  std::int64_t h = 1;
  /// Extent along W.
  std::int64_t w = 1;

  /// {1, 1}.
  constexpr hw_pair() noexcept = default;
  /// {both, both}.
  constexpr hw_pair(std::int64_t both) noexcept : h(both), w(both) {}  // NOLINT: implicit by design
  /// {height, width}.
  constexpr hw_pair(std::int64_t height, std::int64_t width) noexcept : h(height), w(width) {}
};

/// Explicit padding of a 2-D window in elements, in the order of attributes::pads:
/// {top, bottom, left, right} (not ONNX's {top, left, bottom, right}).
struct pads4 {
  /// Rows added above.
  std::int64_t top = 0;
  /// Rows added below.
  std::int64_t bottom = 0;
  /// Columns added on the left.
  std::int64_t left = 0;
  /// Columns added on the right.
  std::int64_t right = 0;

  /// No padding.
  constexpr pads4() noexcept = default;
  /// {top, bottom, left, right}.
  constexpr pads4(std::int64_t t, std::int64_t b, std::int64_t l, std::int64_t r) noexcept
      : top(t), bottom(b), left(l), right(r) {}
  /// The same padding on all four sides. Explicit, so that a stray integer argument never
  /// turns into padding.
  constexpr explicit pads4(std::int64_t all) noexcept
      : top(all), bottom(all), left(all), right(all) {}
};

/// Builds an nnmeter::graph operator by operator, inferring each output shape as the node is
/// added, so the graph is complete (every node has input_shapes, output_shapes and attributes)
/// at every step.
///
/// Conventions (docs/concepts.md has the full reference):
/// - rank-4 activations are NHWC; channel-wise ops read C = shape[3];
/// - every tensor size is in [1, tensor_shape::max_dim] and a tensor's byte size fits in
///   std::int64_t; there are no unknown (-1) dimensions in a built graph;
/// - `node::type` is to_string(op), `node::input_shapes` are the producers' output shapes,
///   `node::elem` is the (common) element type of the operands;
/// - every method takes a trailing `name`; empty means a fresh automatic name
///   "<prefix>_<k>" (prefix = to_string(op), k counted per prefix from 0, skipping taken names);
/// - errors throw nnmeter::graph_error whose message names the node and the offending sizes.
///   A method that throws adds nothing (strong guarantee, composite blocks included), and the
///   automatic-name counter may have advanced.
class graph_builder {
 public:
  /// Integer type of sizes, axes and counts.
  using dim = std::int64_t;

  /// An empty builder.
  graph_builder() = default;

  // ------------------------------------------------------------------------------- sources

  /// A graph input of the given shape (rank <= tensor_shape::max_rank; rank 4 is NHWC).
  tensor_ref input(tensor_shape shape, dtype t = dtype::f32, std::string name = {}) {
    const ctx c = begin("input", std::move(name));
    return emit(c, op_kind::input, {}, {std::move(shape)}, attributes{}, t);
  }

  /// A constant tensor (weights are not operands; use this for data operands that are
  /// constants, e.g. the scalar of `x + 3`). Rank 0 is a scalar.
  tensor_ref constant(tensor_shape shape, dtype t = dtype::f32, std::string name = {}) {
    const ctx c = begin("constant", std::move(name));
    return emit(c, op_kind::constant, {}, {std::move(shape)}, attributes{}, t);
  }

  // -------------------------------------------------------------------------- convolutions

  /// 2-D convolution of an NHWC input [N, H, W, Cin] with `cout` filters -> [N, OH, OW, cout].
  /// groups must divide Cin and cout. groups == Cin > 1 is a depthwise convolution
  /// (nn-Meter's rule) and is emitted as op_kind::dwconv with attrs.groups = Cin (cout may be a
  /// multiple of Cin); 1 < groups < Cin stays op_kind::conv. A dense convolution of a
  /// 1-channel input stays conv.
  tensor_ref conv(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride = 1,
                  padding_mode pad = padding_mode::same, dim groups = 1, hw_pair dilation = 1,
                  bool bias = true, std::string name = {}) {
    return conv_impl(x, cout, kernel, stride, pad, pads4{}, groups, dilation, bias,
                     std::move(name));
  }
  /// conv with explicit padding {top, bottom, left, right} (ONNX pads semantics).
  tensor_ref conv(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride, pads4 pads,
                  dim groups = 1, hw_pair dilation = 1, bool bias = true, std::string name = {}) {
    return conv_impl(x, cout, kernel, stride, padding_mode::explicit_pads, pads, groups, dilation,
                     bias, std::move(name));
  }
  /// Takes a string literal in the `bias` position as the name (bias = true), instead of
  /// letting it convert silently to `bool`.
  tensor_ref conv(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride, padding_mode pad,
                  dim groups, hw_pair dilation, const char* name) {
    return conv(x, cout, kernel, stride, pad, groups, dilation, true, std::string(name));
  }
  /// As above, for the explicit-padding overload.
  tensor_ref conv(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride, pads4 pads, dim groups,
                  hw_pair dilation, const char* name) {
    return conv(x, cout, kernel, stride, pads, groups, dilation, true, std::string(name));
  }

  /// Depthwise convolution: [N, H, W, C] -> [N, OH, OW, C * multiplier], op_kind::dwconv with
  /// attrs.groups = C, with bias.
  tensor_ref dwconv(tensor_ref x, hw_pair kernel, hw_pair stride = 1,
                    padding_mode pad = padding_mode::same, dim multiplier = 1, hw_pair dilation = 1,
                    std::string name = {}) {
    return dwconv_impl(x, kernel, stride, pad, pads4{}, multiplier, dilation, std::move(name));
  }
  /// dwconv with explicit padding {top, bottom, left, right}.
  tensor_ref dwconv(tensor_ref x, hw_pair kernel, hw_pair stride, pads4 pads, dim multiplier = 1,
                    hw_pair dilation = 1, std::string name = {}) {
    return dwconv_impl(x, kernel, stride, padding_mode::explicit_pads, pads, multiplier, dilation,
                       std::move(name));
  }

  /// Transposed convolution [N, H, W, Cin] -> [N, OH, OW, cout]. SAME: OH = H * stride;
  /// VALID: OH = stride * (H - 1) + dilation * (k - 1) + 1. groups must divide Cin and cout.
  /// When SAME needs less than no padding (kernel extent < stride), the difference is
  /// recorded as output padding in attrs.extra["output_padding"].
  tensor_ref conv_transpose(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride = 1,
                            padding_mode pad = padding_mode::same, dim groups = 1,
                            hw_pair dilation = 1, bool bias = true, std::string name = {}) {
    return conv_transpose_impl(x, cout, kernel, stride, pad, pads4{}, hw_pair{0, 0}, groups,
                               dilation, bias, std::move(name));
  }
  /// conv_transpose with explicit pads and output padding (ONNX / PyTorch semantics):
  /// OH = stride * (H - 1) + output_padding + dilation * (k - 1) + 1 - top - bottom.
  /// output_padding must be smaller than stride or dilation; it is stored in
  /// attrs.extra["output_padding"] as "[oh, ow]" when non-zero.
  tensor_ref conv_transpose(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride, pads4 pads,
                            hw_pair output_padding = hw_pair{0, 0}, dim groups = 1,
                            hw_pair dilation = 1, bool bias = true, std::string name = {}) {
    return conv_transpose_impl(x, cout, kernel, stride, padding_mode::explicit_pads, pads,
                               output_padding, groups, dilation, bias, std::move(name));
  }
  /// Takes a string literal in the `bias` position as the name (bias = true).
  tensor_ref conv_transpose(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride,
                            padding_mode pad, dim groups, hw_pair dilation, const char* name) {
    return conv_transpose(x, cout, kernel, stride, pad, groups, dilation, true, std::string(name));
  }

  /// Fully connected layer: [N, C] -> [N, cout]. A rank-4 input must be [N, 1, 1, C] (the
  /// output of global pooling) and is read as C features; the output is still [N, cout].
  /// Inputs of rank 3 or above 4 are [..., C] -> [..., cout] (a dense layer on the last axis).
  tensor_ref fc(tensor_ref x, dim cout, bool bias = true, std::string name = {}) {
    const ctx c = begin(op_kind::fc, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    check_count(c, "output features", cout);
    tensor_shape out;
    if (s.rank() == 2 || (s.rank() == 4 && s[1] == 1 && s[2] == 1)) {
      out = {s[0], cout};
    } else if (s.rank() == 3 || s.rank() > 4) {
      out = shape_rules::fc(where(c), s, cout, s.rank());  // [..., C] -> [..., cout]
    } else {
      fail(c, "expects a rank-2 input [N, C], a rank-4 input [N, 1, 1, C] or an input of rank 3 "
              "or above 4 ([..., C]), got " + text(s));
    }
    attributes a;
    a.has_bias = bias;
    return emit(c, op_kind::fc, {x}, {out}, std::move(a), elem(x));
  }
  /// Takes a string literal in the `bias` position as the name (bias = true).
  tensor_ref fc(tensor_ref x, dim cout, const char* name) {
    return fc(x, cout, true, std::string(name));
  }

  /// Matrix product with numpy semantics: [..., M, K] x [..., K, P] -> [..., M, P]; batch
  /// dimensions broadcast; a rank-1 operand is promoted ([K] -> [1, K] or [K, 1]) and the
  /// added axis removed from the result.
  tensor_ref matmul(tensor_ref a, tensor_ref b, std::string name = {}) {
    const ctx c = begin(op_kind::matmul, std::move(name));
    const tensor_shape sa = operand(c, a, 0);
    const tensor_shape sb = operand(c, b, 1);
    const dtype t = common_elem(c, {a, b});
    const tensor_shape out = shape_rules::matmul(where(c), sa, sb);
    return emit(c, op_kind::matmul, {a, b}, {out}, attributes{}, t);
  }

  // ------------------------------------------------------------------------------- pooling

  /// Max pooling [N, H, W, C] -> [N, OH, OW, C] with SAME / VALID padding.
  tensor_ref maxpool(tensor_ref x, hw_pair kernel, hw_pair stride,
                     padding_mode pad = padding_mode::valid, std::string name = {}) {
    return pool_impl(op_kind::maxpool, x, kernel, stride, pad, pads4{}, false, std::move(name));
  }
  /// Max pooling with explicit pads; ceil_mode rounds the output size up, except that a last
  /// window starting inside the bottom/right padding is dropped (ONNX / PyTorch rule).
  tensor_ref maxpool(tensor_ref x, hw_pair kernel, hw_pair stride, pads4 pads,
                     bool ceil_mode = false, std::string name = {}) {
    return pool_impl(op_kind::maxpool, x, kernel, stride, padding_mode::explicit_pads, pads,
                     ceil_mode, std::move(name));
  }
  /// Takes a string literal in the `ceil_mode` position as the name (ceil_mode = false).
  tensor_ref maxpool(tensor_ref x, hw_pair kernel, hw_pair stride, pads4 pads, const char* name) {
    return maxpool(x, kernel, stride, pads, false, std::string(name));
  }
  /// Average pooling, as maxpool.
  tensor_ref avgpool(tensor_ref x, hw_pair kernel, hw_pair stride,
                     padding_mode pad = padding_mode::valid, std::string name = {}) {
    return pool_impl(op_kind::avgpool, x, kernel, stride, pad, pads4{}, false, std::move(name));
  }
  /// Average pooling with explicit pads, as maxpool.
  tensor_ref avgpool(tensor_ref x, hw_pair kernel, hw_pair stride, pads4 pads,
                     bool ceil_mode = false, std::string name = {}) {
    return pool_impl(op_kind::avgpool, x, kernel, stride, padding_mode::explicit_pads, pads,
                     ceil_mode, std::move(name));
  }
  /// Takes a string literal in the `ceil_mode` position as the name (ceil_mode = false).
  tensor_ref avgpool(tensor_ref x, hw_pair kernel, hw_pair stride, pads4 pads, const char* name) {
    return avgpool(x, kernel, stride, pads, false, std::string(name));
  }

  /// Global average pooling [N, H, W, C] -> [N, 1, 1, C].
  tensor_ref global_avgpool(tensor_ref x, std::string name = {}) {
    return global_pool(op_kind::global_avgpool, x, std::move(name));
  }
  /// Global max pooling [N, H, W, C] -> [N, 1, 1, C].
  tensor_ref global_maxpool(tensor_ref x, std::string name = {}) {
    return global_pool(op_kind::global_maxpool, x, std::move(name));
  }

  /// Mean over `axes` (negative axes count from the back; empty = all axes, as ONNX).
  /// keepdims keeps the reduced axes as size 1. attrs.axes holds the sorted non-negative axes.
  tensor_ref reduce_mean(tensor_ref x, std::vector<dim> axes, bool keepdims = true,
                         std::string name = {}) {
    const ctx c = begin(op_kind::reduce_mean, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    std::vector<dim> ax = normalise_axes(c, std::move(axes), s.rank());
    if (ax.empty())
      for (std::size_t i = 0; i < s.rank(); ++i) ax.push_back(static_cast<dim>(i));
    const tensor_shape out = shape_rules::reduce(where(c), s, ax, keepdims);
    attributes a;
    a.axes = std::move(ax);
    a.keepdims = keepdims;
    return emit(c, op_kind::reduce_mean, {x}, {out}, std::move(a), elem(x));
  }
  /// Takes a string literal in the `keepdims` position as the name (keepdims = true).
  tensor_ref reduce_mean(tensor_ref x, std::vector<dim> axes, const char* name) {
    return reduce_mean(x, std::move(axes), true, std::string(name));
  }

  // ----------------------------------------------------------- normalisation, activations

  /// Batch normalisation (inference form); shape-preserving.
  tensor_ref bn(tensor_ref x, std::string name = {}) {
    return unary(op_kind::bn, x, attributes{}, std::move(name));
  }
  /// max(x, 0).
  tensor_ref relu(tensor_ref x, std::string name = {}) {
    return unary(op_kind::relu, x, attributes{}, std::move(name));
  }
  /// min(max(x, 0), 6); attrs.clip_min = 0, clip_max = 6.
  tensor_ref relu6(tensor_ref x, std::string name = {}) {
    attributes a;
    a.clip_min = 0.0f;
    a.clip_max = 6.0f;
    return unary(op_kind::relu6, x, std::move(a), std::move(name));
  }
  /// Clamp to [lo, hi] (lo <= hi, both finite); stored as float in attrs.clip_min / clip_max.
  tensor_ref clip(tensor_ref x, double lo, double hi, std::string name = {}) {
    const ctx c = begin(op_kind::clip, std::move(name));
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi))
      fail(c, "bounds [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "] must be finite with lo <= hi");
    attributes a;
    a.clip_min = static_cast<float>(lo);
    a.clip_max = static_cast<float>(hi);
    return unary_in(c, op_kind::clip, x, std::move(a));
  }
  /// 1 / (1 + exp(-x)).
  tensor_ref sigmoid(tensor_ref x, std::string name = {}) {
    return unary(op_kind::sigmoid, x, attributes{}, std::move(name));
  }
  /// x * relu6(x + 3) / 6.
  tensor_ref hswish(tensor_ref x, std::string name = {}) {
    return unary(op_kind::hswish, x, attributes{}, std::move(name));
  }
  /// relu6(x + 3) / 6, i.e. ONNX HardSigmoid with alpha = 1/6, beta = 0.5 (stored in attrs).
  tensor_ref hsigmoid(tensor_ref x, std::string name = {}) {
    attributes a;
    a.alpha = 1.0f / 6.0f;
    a.beta = 0.5f;
    return unary(op_kind::hsigmoid, x, std::move(a), std::move(name));
  }
  /// x * sigmoid(x).
  tensor_ref swish(tensor_ref x, std::string name = {}) {
    return unary(op_kind::swish, x, attributes{}, std::move(name));
  }
  /// tanh(x).
  tensor_ref tanh(tensor_ref x, std::string name = {}) {
    return unary(op_kind::tanh, x, attributes{}, std::move(name));
  }
  /// x < 0 ? alpha * x : x (attrs.alpha; ONNX's default alpha).
  tensor_ref leaky_relu(tensor_ref x, double alpha = 0.01, std::string name = {}) {
    attributes a;
    a.alpha = static_cast<float>(alpha);
    return unary(op_kind::leaky_relu, x, std::move(a), std::move(name));
  }
  /// Exponential linear unit (attrs.alpha).
  tensor_ref elu(tensor_ref x, double alpha = 1.0, std::string name = {}) {
    attributes a;
    a.alpha = static_cast<float>(alpha);
    return unary(op_kind::elu, x, std::move(a), std::move(name));
  }
  /// Gaussian error linear unit.
  tensor_ref gelu(tensor_ref x, std::string name = {}) {
    return unary(op_kind::gelu, x, attributes{}, std::move(name));
  }
  /// Softmax over `axis` (negative counts from the back; attrs.axis is stored non-negative).
  tensor_ref softmax(tensor_ref x, dim axis = -1, std::string name = {}) {
    const ctx c = begin(op_kind::softmax, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    attributes a;
    a.axis = normalise_axis(c, axis, s.rank());
    return emit(c, op_kind::softmax, {x}, {s}, std::move(a), elem(x));
  }

  // ------------------------------------------------------------------ element-wise binary

  /// a + b with numpy broadcasting (shapes aligned on the right; sizes equal or 1).
  tensor_ref add(tensor_ref a, tensor_ref b, std::string name = {}) {
    return binary(op_kind::add, a, b, std::move(name));
  }
  /// a - b with numpy broadcasting.
  tensor_ref sub(tensor_ref a, tensor_ref b, std::string name = {}) {
    return binary(op_kind::sub, a, b, std::move(name));
  }
  /// a * b with numpy broadcasting (e.g. [1, 56, 56, 16] * [1, 1, 1, 16]).
  tensor_ref mul(tensor_ref a, tensor_ref b, std::string name = {}) {
    return binary(op_kind::mul, a, b, std::move(name));
  }
  /// a / b with numpy broadcasting.
  tensor_ref div(tensor_ref a, tensor_ref b, std::string name = {}) {
    return binary(op_kind::div, a, b, std::move(name));
  }

  // ---------------------------------------------------------------------- data movement

  /// Concatenation along `axis` (default: channels). All inputs have the same rank and
  /// element type and agree on every other dimension.
  tensor_ref concat(std::vector<tensor_ref> xs, dim axis = -1, std::string name = {}) {
    const ctx c = begin(op_kind::concat, std::move(name));
    if (xs.empty()) fail(c, "needs at least one input");
    const tensor_shape first = operand(c, xs[0], 0);
    const dim ax = normalise_axis(c, axis, first.rank());
    const dtype t = common_elem(c, xs);
    std::vector<tensor_shape> shapes;
    shapes.reserve(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) shapes.push_back(operand(c, xs[i], i));
    const tensor_shape out = shape_rules::concat(where(c), shapes, ax);
    attributes a;
    a.axis = ax;
    return emit(c, op_kind::concat, std::move(xs), {out}, std::move(a), t);
  }

  /// Splits `x` along `axis` into pieces of the given sizes (each >= 1, summing to the
  /// dimension); returns one tensor_ref per piece, all outputs of one split node.
  std::vector<tensor_ref> split(tensor_ref x, std::vector<dim> sizes, dim axis = -1,
                                std::string name = {}) {
    const ctx c = begin(op_kind::split, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const dim ax = normalise_axis(c, axis, s.rank());
    return split_impl(c, x, s, ax, std::move(sizes));
  }
  /// Splits `x` along `axis` into `parts` equal pieces (parts must divide the dimension).
  /// Note: `split(x, {4})` calls this overload (4 parts), not the sizes overload.
  std::vector<tensor_ref> split(tensor_ref x, dim parts, dim axis = -1, std::string name = {}) {
    const ctx c = begin(op_kind::split, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const dim ax = normalise_axis(c, axis, s.rank());
    return split_impl(c, x, s, ax, shape_rules::equal_split(where(c), s, ax, parts));
  }

  /// One slice along one axis with ONNX Slice semantics: negative start/end count from the
  /// back, both are clamped, step may be negative (not 0). The result must not be empty.
  /// attrs.axis / attrs.axes hold the axis; attrs.extra holds "starts", "ends", "steps" as
  /// one-element JSON arrays.
  tensor_ref slice(tensor_ref x, dim axis, dim start, dim end, dim step = 1,
                   std::string name = {}) {
    const ctx c = begin(op_kind::slice, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const dim ax = normalise_axis(c, axis, s.rank());
    const dim n = s[ax];
    const dim len = shape_rules::slice_length(where(c), n, start, end, step);
    if (len <= 0)
      fail(c, "slice [" + std::to_string(start) + ":" + std::to_string(end) + ":" +
                  std::to_string(step) + "] of axis " + std::to_string(ax) + " (size " +
                  std::to_string(n) + ") is empty");
    tensor_shape out = s;
    out[ax] = len;
    attributes a;
    a.axis = ax;
    a.axes = {ax};
    a.extra = {{"starts", "[" + std::to_string(start) + "]"},
               {"ends", "[" + std::to_string(end) + "]"},
               {"steps", "[" + std::to_string(step) + "]"}};
    return emit(c, op_kind::slice, {x}, {out}, std::move(a), elem(x));
  }

  /// ShuffleNet channel shuffle of an NHWC tensor; groups (>= 1) must divide C.
  tensor_ref channel_shuffle(tensor_ref x, dim groups, std::string name = {}) {
    const ctx c = begin(op_kind::channel_shuffle, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    require_rank4(c, s);
    if (groups < 1 || s[3] % groups != 0)
      fail(c, "groups " + std::to_string(groups) + " does not divide the " + std::to_string(s[3]) +
                  " channels of " + text(s));
    attributes a;
    a.groups = groups;
    return emit(c, op_kind::channel_shuffle, {x}, {s}, std::move(a), elem(x));
  }

  /// Spatial zero padding of an NHWC tensor (all amounts >= 0): [N, H + top + bottom,
  /// W + left + right, C]; attrs.pads = {top, bottom, left, right}.
  tensor_ref pad(tensor_ref x, dim top, dim bottom, dim left, dim right, std::string name = {}) {
    const ctx c = begin(op_kind::pad, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    require_rank4(c, s);
    const tensor_shape out = shape_rules::pad(where(c), s, {top, bottom, left, right});
    attributes a;
    a.pads = {top, bottom, left, right};
    return emit(c, op_kind::pad, {x}, {out}, std::move(a), elem(x));
  }

  /// Reshape with ONNX semantics: 0 copies the input dimension at the same index, one -1 is
  /// inferred, the element count must not change. attrs.target_shape keeps `target` as given.
  tensor_ref reshape(tensor_ref x, std::vector<dim> target, std::string name = {}) {
    const ctx c = begin(op_kind::reshape, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const tensor_shape out = shape_rules::reshape(where(c), s, target);
    attributes a;
    a.target_shape = std::move(target);
    return emit(c, op_kind::reshape, {x}, {out}, std::move(a), elem(x));
  }

  /// ONNX Flatten: [d0 * ... * d(axis-1), d(axis) * ... * d(r-1)], axis in [-r, r]
  /// (stored non-negative in attrs.axis).
  tensor_ref flatten(tensor_ref x, dim axis = 1, std::string name = {}) {
    const ctx c = begin(op_kind::flatten, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const tensor_shape out = shape_rules::flatten(where(c), s, axis);
    const auto r = static_cast<dim>(s.rank());
    const dim ax = axis < 0 ? axis + r : axis;
    attributes a;
    a.axis = ax;
    return emit(c, op_kind::flatten, {x}, {out}, std::move(a), elem(x));
  }

  /// Permutes the axes: output dimension i is input dimension perm[i]. An empty perm
  /// reverses the axes (ONNX default); attrs.perm holds the permutation used.
  tensor_ref transpose(tensor_ref x, std::vector<dim> perm, std::string name = {}) {
    const ctx c = begin(op_kind::transpose, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    if (perm.empty())
      for (std::size_t i = s.rank(); i-- > 0;) perm.push_back(static_cast<dim>(i));
    const tensor_shape out = shape_rules::transpose(where(c), s, perm);
    attributes a;
    a.perm = std::move(perm);
    return emit(c, op_kind::transpose, {x}, {out}, std::move(a), elem(x));
  }

  /// Removes size-1 axes: the listed ones (each must have size 1), or all of them when `axes`
  /// is empty. attrs.axes holds the removed axes, sorted and non-negative.
  tensor_ref squeeze(tensor_ref x, std::vector<dim> axes = {}, std::string name = {}) {
    const ctx c = begin(op_kind::squeeze, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    std::vector<dim> ax = normalise_axes(c, std::move(axes), s.rank());
    if (ax.empty()) {
      for (std::size_t i = 0; i < s.rank(); ++i)
        if (s[static_cast<std::ptrdiff_t>(i)] == 1) ax.push_back(static_cast<dim>(i));
    }
    const tensor_shape out = shape_rules::squeeze(where(c), s, ax);
    attributes a;
    a.axes = std::move(ax);
    return emit(c, op_kind::squeeze, {x}, {out}, std::move(a), elem(x));
  }

  /// Inserts size-1 axes at the given positions of the output (ONNX Unsqueeze; negative axes
  /// count from the back of the output). attrs.axes holds them sorted and non-negative.
  tensor_ref unsqueeze(tensor_ref x, std::vector<dim> axes, std::string name = {}) {
    const ctx c = begin(op_kind::unsqueeze, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    const tensor_shape out = shape_rules::unsqueeze(where(c), s, axes);
    const std::size_t r = s.rank() + axes.size();
    std::vector<dim> ax = normalise_axes(c, std::move(axes), r);
    attributes a;
    a.axes = std::move(ax);
    return emit(c, op_kind::unsqueeze, {x}, {out}, std::move(a), elem(x));
  }

  /// Spatial resize of an NHWC tensor: [N, floor(H * scale_h), floor(W * scale_w), C]
  /// (ONNX rule; the scales are stored as float and the sizes computed from the stored
  /// values). mode is one of "nearest", "linear", "bilinear", "cubic".
  tensor_ref resize(tensor_ref x, double scale_h, double scale_w, std::string mode = "nearest",
                    std::string name = {}) {
    const ctx c = begin(op_kind::resize, std::move(name));
    const tensor_shape s = operand(c, x, 0);
    require_rank4(c, s);
    if (mode != "nearest" && mode != "linear" && mode != "bilinear" && mode != "cubic")
      fail(c, "unknown mode '" + mode + "' (nearest, linear, bilinear or cubic)");
    const std::array<float, 2> sc{static_cast<float>(scale_h), static_cast<float>(scale_w)};
    const tensor_shape out = shape_rules::resize(where(c), s, sc);
    attributes a;
    a.scales = sc;
    a.mode = std::move(mode);
    return emit(c, op_kind::resize, {x}, {out}, std::move(a), elem(x));
  }

  // ------------------------------------------------------------------------ composite blocks

  /// Squeeze-and-excitation in nn-Meter's ONNX "se" form: global_avgpool -> conv 1x1
  /// (max(1, C / reduction) channels) -> relu -> conv 1x1 (C channels) -> hsigmoid ->
  /// mul(x, that). Nodes are named "<name>/gap", "<name>/conv1", "<name>/relu", "<name>/conv2",
  /// "<name>/hsigmoid", "<name>/mul" (name defaults to "se_<k>"). Returns the mul.
  tensor_ref se(tensor_ref x, dim reduction = 4, std::string name = {}) {
    const ctx c =
        begin_block("se", std::move(name), {"gap", "conv1", "relu", "conv2", "hsigmoid", "mul"});
    const tensor_shape s = operand(c, x, 0);
    require_rank4(c, s);
    if (reduction < 1) fail(c, "reduction " + std::to_string(reduction) + " must be >= 1");
    const dim ch = s[3];
    const dim mid = ch / reduction > 0 ? ch / reduction : 1;
    // Nothing below can fail: every shape is at most as large as x's.
    const tensor_ref g = global_avgpool(x, c.name + "/gap");
    const tensor_ref c1 = conv(g, mid, 1, 1, padding_mode::same, 1, 1, true, c.name + "/conv1");
    const tensor_ref r = relu(c1, c.name + "/relu");
    const tensor_ref c2 = conv(r, ch, 1, 1, padding_mode::same, 1, 1, true, c.name + "/conv2");
    const tensor_ref h = hsigmoid(c2, c.name + "/hsigmoid");
    return mul(x, h, c.name + "/mul");
  }

  /// conv (SAME padding, bias) -> bn -> relu, named "<name>/conv", "<name>/bn",
  /// "<name>/relu" (name defaults to "conv_bn_relu_<k>"). Returns the relu.
  tensor_ref conv_bn_relu(tensor_ref x, dim cout, hw_pair kernel, hw_pair stride = 1,
                          std::string name = {}) {
    const ctx c = begin_block("conv_bn_relu", std::move(name), {"conv", "bn", "relu"});
    // Validate the conv before adding anything, so a failure leaves the graph unchanged.
    const ctx cc{"conv", c.name + "/conv"};
    const tensor_shape s = operand(cc, x, 0);
    window_result w = conv_infer(cc, s, cout, kernel, stride, padding_mode::same, pads4{}, 1, 1);
    check_shape(cc, w.out, elem(x));
    const tensor_ref y = conv(x, cout, kernel, stride, padding_mode::same, 1, 1, true, cc.name);
    return relu(bn(y, c.name + "/bn"), c.name + "/relu");
  }

  // ---------------------------------------------------------------------------- results

  /// Shape of a tensor; throws graph_error when `t` names no tensor of this builder. The
  /// reference is valid until the next node is added.
  const tensor_shape& shape(tensor_ref t) const {
    if (t.node >= g_.num_nodes() || t.output >= g_[t.node].output_shapes.size())
      throw graph_error("graph_builder: no tensor #" + std::to_string(t.node) + ":" +
                        std::to_string(t.output) + " (the builder has " +
                        std::to_string(g_.num_nodes()) + " nodes)");
    return g_[t.node].output_shapes[t.output];
  }

  /// The graph built so far (valid until the builder is modified or destroyed).
  const graph& view() const noexcept { return g_; }

  /// Moves the graph out and leaves the builder empty (its tensor_refs no longer apply).
  graph build() && {
    graph out = std::move(g_);
    g_ = graph{};
    counters_.clear();
    return out;
  }
  /// A copy of the graph; the builder can go on adding nodes.
  graph build() const& { return g_; }

 private:
  /// Largest element count: elements * size_of(dtype) must fit in std::int64_t bytes.
  static constexpr dim max_elements = std::numeric_limits<dim>::max();

  // The node being added, for error messages: "graph_builder: <kind> '<name>': ...".
  struct ctx {
    std::string kind;
    std::string name;
  };

  struct window_result {
    tensor_shape out;
    attributes attrs;
  };

  // "graph_builder: <kind> '<name>'", the prefix of the shape rules' messages.
  static std::string where(const ctx& c) { return "graph_builder: " + c.kind + " '" + c.name + "'"; }
  [[noreturn]] static void fail(const ctx& c, const std::string& msg) {
    shape_rules::fail(where(c), msg);
  }

  static std::string text(const tensor_shape& s) { return shape_rules::text(s); }
  static std::string text(const std::vector<dim>& v) { return shape_rules::text(v); }
  static std::string text(hw_pair p) { return std::to_string(p.h) + "x" + std::to_string(p.w); }

  // Returns the name to use: `name`, or "<prefix>_<k>" with the first free k of that prefix.
  std::string fresh_name(std::string_view prefix, const std::vector<std::string>& children) {
    std::size_t slot = counters_.size();
    for (std::size_t i = 0; i < counters_.size(); ++i)
      if (counters_[i].first == prefix) slot = i;
    if (slot == counters_.size()) counters_.emplace_back(std::string(prefix), 0);
    for (;;) {
      std::string cand = std::string(prefix) + "_" + std::to_string(counters_[slot].second++);
      bool free = !g_.find(cand).has_value();
      for (const std::string& ch : children) free = free && !g_.find(cand + "/" + ch).has_value();
      if (free) return cand;
    }
  }

  ctx begin(op_kind op, std::string name) { return begin(to_string(op), std::move(name)); }
  ctx begin(std::string_view kind, std::string name) {
    if (name.empty()) name = fresh_name(kind, {});
    ctx c{std::string(kind), std::move(name)};
    if (g_.find(c.name)) fail(c, "a node with this name already exists");
    return c;
  }
  // A composite block: its nodes are "<name>/<child>"; all must be free.
  ctx begin_block(std::string_view kind, std::string name, std::vector<std::string> children) {
    if (name.empty()) name = fresh_name(kind, children);
    ctx c{std::string(kind), std::move(name)};
    for (const std::string& ch : children)
      if (g_.find(c.name + "/" + ch))
        fail(c, "a node named '" + c.name + "/" + ch + "' already exists");
    return c;
  }

  void check_ref(const ctx& c, tensor_ref r, std::size_t operand_index) const {
    if (r.node >= g_.num_nodes())
      fail(c, "operand " + std::to_string(operand_index) + " refers to node #" +
                  std::to_string(r.node) + ", which does not exist (the builder has " +
                  std::to_string(g_.num_nodes()) + " nodes)");
    const node& p = g_[r.node];
    if (r.output >= p.output_shapes.size())
      fail(c, "operand " + std::to_string(operand_index) + " refers to output " +
                  std::to_string(r.output) + " of node '" + p.name + "', which has " +
                  std::to_string(p.output_shapes.size()) + " output(s)");
  }
  // Copy, not a reference: adding a node may reallocate the node table.
  tensor_shape operand(const ctx& c, tensor_ref r, std::size_t operand_index) const {
    check_ref(c, r, operand_index);
    return g_[r.node].output_shapes[r.output];
  }
  dtype elem(tensor_ref r) const { return g_[r.node].elem; }
  dtype common_elem(const ctx& c, const std::vector<tensor_ref>& xs) const {
    for (std::size_t i = 0; i < xs.size(); ++i) {
      check_ref(c, xs[i], i);
      if (elem(xs[i]) != elem(xs[0]))
        fail(c, "operand " + std::to_string(i) + " is " + std::string(to_string(elem(xs[i]))) +
                    " but operand 0 is " + std::string(to_string(elem(xs[0]))));
    }
    return xs.empty() ? dtype::f32 : elem(xs[0]);
  }

  // Every size in [1, max_dim]; the byte size fits in std::int64_t.
  static void check_shape(const ctx& c, const tensor_shape& s, dtype t) {
    dim n = 1;
    for (std::size_t i = 0; i < s.rank(); ++i) {
      const dim d = s[static_cast<std::ptrdiff_t>(i)];
      if (d < 1 || d > tensor_shape::max_dim)
        fail(c, "dimension " + std::to_string(i) + " of shape " + text(s) + " is " +
                    std::to_string(d) + "; sizes must be in [1, " +
                    std::to_string(tensor_shape::max_dim) + "]");
      if (n > max_elements / d)
        fail(c, "shape " + text(s) + " has more elements than std::int64_t can count");
      n *= d;
    }
    const auto bytes = static_cast<dim>(size_of(t));
    if (bytes == 0) fail(c, "invalid element type");
    if (n > max_elements / bytes)
      fail(c, "shape " + text(s) + " of " + std::string(to_string(t)) +
                  " has more bytes than std::int64_t can count");
  }
  static void check_count(const ctx& c, const char* what, dim v) {
    if (v < 1 || v > tensor_shape::max_dim)
      fail(c, std::string(what) + " " + std::to_string(v) + " must be in [1, " +
                  std::to_string(tensor_shape::max_dim) + "]");
  }
  static void check_pair(const ctx& c, const char* what, hw_pair p, dim lo) {
    if (p.h < lo || p.w < lo || p.h > tensor_shape::max_dim || p.w > tensor_shape::max_dim)
      fail(c, std::string(what) + " " + text(p) + " must be in [" + std::to_string(lo) + ", " +
                  std::to_string(tensor_shape::max_dim) + "]");
  }
  static void check_pads(const ctx& c, const pads4& p) {
    shape_rules::check_pads(where(c), {p.top, p.bottom, p.left, p.right});
  }
  static void require_rank4(const ctx& c, const tensor_shape& s) {
    shape_rules::require_rank4(where(c), s);
  }
  static dim normalise_axis(const ctx& c, dim axis, std::size_t rank) {
    return shape_rules::normalise_axis(where(c), axis, rank);
  }
  // Non-negative, sorted, without duplicates (a duplicate is an error).
  static std::vector<dim> normalise_axes(const ctx& c, std::vector<dim> axes, std::size_t rank) {
    return shape_rules::normalise_axes(where(c), std::move(axes), rank);
  }

  static tensor_shape broadcast(const ctx& c, const tensor_shape& a, const tensor_shape& b) {
    return shape_rules::broadcast(where(c), a, b);
  }

  static window_result window_infer(const ctx& c, const tensor_shape& x, hw_pair k, hw_pair s,
                                    hw_pair d, padding_mode mode, pads4 p, bool ceil_mode) {
    window_result r;
    r.attrs.kernel = {k.h, k.w};
    r.attrs.strides = {s.h, s.w};
    r.attrs.dilations = {d.h, d.w};
    r.attrs.pads = {p.top, p.bottom, p.left, p.right};
    r.attrs.padding = mode;
    r.attrs.ceil_mode = ceil_mode;
    r.out = shape_rules::window(where(c), x, r.attrs, &r.attrs.pads);
    return r;
  }

  static window_result conv_infer(const ctx& c, const tensor_shape& x, dim cout, hw_pair k,
                                  hw_pair s, padding_mode mode, pads4 p, dim groups, hw_pair d) {
    window_result r = window_infer(c, x, k, s, d, mode, p, false);
    check_count(c, "output channels", cout);
    shape_rules::conv_channels(where(c), x, cout, groups);
    r.out[3] = cout;
    r.attrs.groups = groups;
    return r;
  }

  tensor_ref conv_impl(tensor_ref x, dim cout, hw_pair k, hw_pair s, padding_mode mode, pads4 p,
                       dim groups, hw_pair d, bool bias, std::string name) {
    // The kind decides the automatic name, so peek at the input before naming.
    op_kind op = op_kind::conv;
    if (x.node < g_.num_nodes() && x.output < g_[x.node].output_shapes.size()) {
      const tensor_shape& xs = g_[x.node].output_shapes[x.output];
      if (xs.rank() == 4 && groups > 1 && groups == xs[3]) op = op_kind::dwconv;
    }
    const ctx c = begin(op, std::move(name));
    const tensor_shape xs = operand(c, x, 0);
    window_result r = conv_infer(c, xs, cout, k, s, mode, p, groups, d);
    r.attrs.has_bias = bias;
    return emit(c, op, {x}, {r.out}, std::move(r.attrs), elem(x));
  }

  tensor_ref dwconv_impl(tensor_ref x, hw_pair k, hw_pair s, padding_mode mode, pads4 p,
                         dim multiplier, hw_pair d, std::string name) {
    const ctx c = begin(op_kind::dwconv, std::move(name));
    const tensor_shape xs = operand(c, x, 0);
    require_rank4(c, xs);
    check_count(c, "multiplier", multiplier);
    window_result r = conv_infer(c, xs, xs[3] * multiplier, k, s, mode, p, xs[3], d);
    return emit(c, op_kind::dwconv, {x}, {r.out}, std::move(r.attrs), elem(x));
  }

  tensor_ref conv_transpose_impl(tensor_ref x, dim cout, hw_pair k, hw_pair s, padding_mode mode,
                                 pads4 p, hw_pair opad, dim groups, hw_pair d, bool bias,
                                 std::string name) {
    const ctx c = begin(op_kind::conv_transpose, std::move(name));
    const tensor_shape xs = operand(c, x, 0);
    require_rank4(c, xs);
    check_pair(c, "kernel", k, 1);
    check_pair(c, "stride", s, 1);
    check_pair(c, "dilation", d, 1);
    check_pair(c, "output padding", opad, 0);
    check_count(c, "output channels", cout);
    if (mode == padding_mode::explicit_pads) check_pads(c, p);
    attributes a;
    a.kernel = {k.h, k.w};
    a.strides = {s.h, s.w};
    a.dilations = {d.h, d.w};
    a.pads = {p.top, p.bottom, p.left, p.right};
    a.padding = mode;
    a.groups = groups;
    a.has_bias = bias;
    std::array<dim, 2> op{opad.h, opad.w};
    const tensor_shape out = shape_rules::conv_transpose(where(c), xs, cout, a, op, &a.pads);
    if (op[0] != 0 || op[1] != 0)
      a.extra.emplace_back("output_padding",
                           "[" + std::to_string(op[0]) + ", " + std::to_string(op[1]) + "]");
    return emit(c, op_kind::conv_transpose, {x}, {out}, std::move(a), elem(x));
  }

  tensor_ref pool_impl(op_kind op, tensor_ref x, hw_pair k, hw_pair s, padding_mode mode, pads4 p,
                       bool ceil_mode, std::string name) {
    const ctx c = begin(op, std::move(name));
    const tensor_shape xs = operand(c, x, 0);
    window_result r = window_infer(c, xs, k, s, 1, mode, p, ceil_mode);
    r.attrs.has_bias = false;
    return emit(c, op, {x}, {r.out}, std::move(r.attrs), elem(x));
  }

  tensor_ref global_pool(op_kind op, tensor_ref x, std::string name) {
    const ctx c = begin(op, std::move(name));
    const tensor_shape xs = operand(c, x, 0);
    require_rank4(c, xs);
    return emit(c, op, {x}, {tensor_shape{xs[0], 1, 1, xs[3]}}, attributes{}, elem(x));
  }

  tensor_ref unary(op_kind op, tensor_ref x, attributes a, std::string name) {
    const ctx c = begin(op, std::move(name));
    return unary_in(c, op, x, std::move(a));
  }
  tensor_ref unary_in(const ctx& c, op_kind op, tensor_ref x, attributes a) {
    const tensor_shape xs = operand(c, x, 0);
    return emit(c, op, {x}, {xs}, std::move(a), elem(x));
  }

  tensor_ref binary(op_kind op, tensor_ref a, tensor_ref b, std::string name) {
    const ctx c = begin(op, std::move(name));
    const tensor_shape sa = operand(c, a, 0);
    const tensor_shape sb = operand(c, b, 1);
    const dtype t = common_elem(c, {a, b});
    return emit(c, op, {a, b}, {broadcast(c, sa, sb)}, attributes{}, t);
  }

  std::vector<tensor_ref> split_impl(const ctx& c, tensor_ref x, const tensor_shape& s, dim ax,
                                     std::vector<dim> sizes) {
    if (sizes.empty()) fail(c, "needs at least one output size");
    for (dim v : sizes)
      if (v < 1 || v > tensor_shape::max_dim)
        fail(c, "split sizes " + text(sizes) + " must each be >= 1");
    std::vector<tensor_shape> outs = shape_rules::split(where(c), s, ax, sizes);
    attributes a;
    a.axis = ax;
    a.split_sizes = std::move(sizes);
    const tensor_ref first = emit(c, op_kind::split, {x}, std::move(outs), std::move(a), elem(x));
    std::vector<tensor_ref> refs;
    const std::size_t n = g_[first.node].output_shapes.size();
    refs.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      refs.push_back(tensor_ref{first.node, static_cast<std::uint32_t>(i)});
    return refs;
  }

  // The single place that adds a node: validates the outputs, then records the producers'
  // shapes as the node's input_shapes.
  tensor_ref emit(const ctx& c, op_kind op, std::vector<tensor_ref> ins,
                  std::vector<tensor_shape> outs, attributes a, dtype t) {
    for (const tensor_shape& s : outs) check_shape(c, s, t);
    if (g_.num_nodes() >= static_cast<std::size_t>(std::numeric_limits<node_index>::max()))
      fail(c, "the graph is full");
    node n;
    n.name = c.name;
    n.op = op;
    n.type = std::string(to_string(op));
    n.elem = t;
    n.input_shapes.reserve(ins.size());
    for (const tensor_ref& r : ins) n.input_shapes.push_back(g_[r.node].output_shapes[r.output]);
    n.inputs = std::move(ins);
    n.output_shapes = std::move(outs);
    n.attrs = std::move(a);
    return tensor_ref{g_.add_node(std::move(n)), 0};
  }

  graph g_;
  // Next automatic-name index per prefix ("conv", "se", ...); few prefixes, so a flat vector.
  std::vector<std::pair<std::string, std::uint32_t>> counters_;
};

NNMETER_END_NAMESPACE
