// nnmeter — feature vectors of kernels: nn-Meter's set (bit-compatible) and the project's own sets.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/kernels/kernel.hpp>
#include <nnmeter/kernels/kernel_kind.hpp>

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

NNMETER_BEGIN_NAMESPACE

/// Which feature vector a predictor was trained on.
enum class feature_set : std::uint8_t {
  nnmeter,   ///< exactly nn-Meter's vectors, quirks included (for nn-Meter predictors)
  extended,  ///< the project's own: adds input width, dilation, groups, dtype, FLOPs, bytes
  lanes,     ///< extended, plus the output size and how well the output channels fill vector
             ///< registers of 4, 8 and 16 lanes (conv, dwconv, pools, fc, matmul)
};

/// Spelling used in predictor manifests: "nnmeter", "extended" or "lanes".
constexpr std::string_view to_string(feature_set s) noexcept {
  return s == feature_set::nnmeter ? "nnmeter" : s == feature_set::extended ? "extended" : "lanes";
}
/// Parses to_string(feature_set).
constexpr bool parse_feature_set(std::string_view s, feature_set& out) noexcept {
  if (s == "nnmeter") {
    out = feature_set::nnmeter;
    return true;
  }
  if (s == "extended") {
    out = feature_set::extended;
    return true;
  }
  if (s == "lanes") {
    out = feature_set::lanes;
    return true;
  }
  return false;
}

/// A feature vector of at most 24 values, stored inline (no allocation on the hot path).
/// Empty when the kernel has no vector in the requested set.
class feature_vector {
 public:
  static constexpr std::size_t capacity = 24;
  constexpr feature_vector() noexcept = default;
  constexpr feature_vector(std::initializer_list<double> v) noexcept {
    for (double x : v) push_back(x);
  }
  constexpr void push_back(double x) noexcept {
    if (n_ < capacity) v_[n_++] = x;
  }
  constexpr std::size_t size() const noexcept { return n_; }
  constexpr bool empty() const noexcept { return n_ == 0; }
  constexpr const double* data() const noexcept { return v_.data(); }
  constexpr const double* begin() const noexcept { return v_.data(); }
  constexpr const double* end() const noexcept { return v_.data() + n_; }
  constexpr double operator[](std::size_t i) const noexcept { return v_[i]; }
  constexpr double& operator[](std::size_t i) noexcept { return v_[i]; }
  constexpr void resize(std::size_t n) noexcept { n_ = n < capacity ? n : capacity; }

 private:
  std::array<double, capacity> v_{};
  std::size_t n_ = 0;
};

/// Per-kind facts: nn-Meter's spelling and the length of each feature set's vector. One
/// specialisation per kernel_kind (a test checks completeness).
template <kernel_kind K>
struct kernel_traits;

#define NNMETER_DETAIL_KERNEL_TRAITS(kind_, nnmeter_count_, extended_count_)  \
  template <>                                                                  \
  struct kernel_traits<kernel_kind::kind_> {                                   \
    static constexpr kernel_kind kind = kernel_kind::kind_;                    \
    static constexpr std::string_view name = to_string(kernel_kind::kind_);    \
    static constexpr std::size_t nnmeter_feature_count = nnmeter_count_;       \
    static constexpr std::size_t extended_feature_count = extended_count_;     \
  };

// nn-Meter counts from its feature extraction; 0 = nn-Meter has no predictor for the kind.
NNMETER_DETAIL_KERNEL_TRAITS(conv_bn_relu, 7, 13)
NNMETER_DETAIL_KERNEL_TRAITS(dwconv_bn_relu, 7, 13)
NNMETER_DETAIL_KERNEL_TRAITS(fc, 4, 6)
NNMETER_DETAIL_KERNEL_TRAITS(global_avgpool, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(hswish, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(relu, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(se, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(split, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(add, 3, 7)
NNMETER_DETAIL_KERNEL_TRAITS(addrelu, 3, 7)
NNMETER_DETAIL_KERNEL_TRAITS(maxpool, 5, 10)
NNMETER_DETAIL_KERNEL_TRAITS(avgpool, 5, 10)
NNMETER_DETAIL_KERNEL_TRAITS(bn, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(bnrelu, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(channelshuffle, 2, 7)
NNMETER_DETAIL_KERNEL_TRAITS(concat, 6, 10)
NNMETER_DETAIL_KERNEL_TRAITS(sigmoid, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(mul, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(hardsigmoid, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(pad, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(matmul, 0, 6)
NNMETER_DETAIL_KERNEL_TRAITS(softmax, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(resize, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(quantize, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(dequantize, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(data_movement, 0, 7)
NNMETER_DETAIL_KERNEL_TRAITS(other, 0, 5)
#undef NNMETER_DETAIL_KERNEL_TRAITS

namespace detail {
template <class F, std::size_t... I>
constexpr void visit_kind_impl(kernel_kind k, F& f, std::index_sequence<I...>) {
  (void)((static_cast<std::size_t>(k) == I
              ? (f(std::integral_constant<kernel_kind, static_cast<kernel_kind>(I)>{}), true)
              : false) ||
         ...);
}
template <std::size_t... I>
constexpr std::array<std::size_t, sizeof...(I)> nnmeter_counts(std::index_sequence<I...>) {
  return {kernel_traits<static_cast<kernel_kind>(I)>::nnmeter_feature_count...};
}
template <std::size_t... I>
constexpr std::array<std::size_t, sizeof...(I)> extended_counts(std::index_sequence<I...>) {
  return {kernel_traits<static_cast<kernel_kind>(I)>::extended_feature_count...};
}
inline constexpr auto nnmeter_feature_counts =
    nnmeter_counts(std::make_index_sequence<kernel_kind_count>{});
inline constexpr auto extended_feature_counts =
    extended_counts(std::make_index_sequence<kernel_kind_count>{});
}  // namespace detail

/// Calls f(std::integral_constant<kernel_kind, K>{}) with K equal to the runtime kind k.
template <class F>
constexpr void visit_kind(kernel_kind k, F&& f) {
  detail::visit_kind_impl(k, f, std::make_index_sequence<kernel_kind_count>{});
}

/// How many values the lanes set appends to a kind's extended vector: the output height and
/// width and the lane fills of the output channels for windowed kinds (conv, dwconv, pools),
/// the lane fills alone for fc and matmul, nothing for the rest.
constexpr std::size_t lanes_extra_feature_count(kernel_kind k) noexcept {
  switch (k) {
    case kernel_kind::conv_bn_relu:
    case kernel_kind::dwconv_bn_relu:
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      return 5;
    case kernel_kind::fc:
    case kernel_kind::matmul:
      return 3;
    default:
      return 0;
  }
}

/// Length of a kind's vector in a feature set (0: the set has no vector for the kind).
constexpr std::size_t feature_count(kernel_kind k, feature_set s) noexcept {
  const auto i = static_cast<std::size_t>(k);
  if (i >= kernel_kind_count) return 0;
  if (s == feature_set::nnmeter) return detail::nnmeter_feature_counts[i];
  const std::size_t extended = detail::extended_feature_counts[i];
  return s == feature_set::extended || extended == 0 ? extended
                                                      : extended + lanes_extra_feature_count(k);
}

namespace detail {

// nn-Meter's get_predict_features, branch for branch: the branch is chosen by substring tests
// on the fused type, first match wins; integers stay exact in double; FLOPs use Python's
// left-to-right true division. Returns an empty vector where nn-Meter skips the kernel (or
// would crash on a missing field).
inline feature_vector nnmeter_features_raw(const kernel& k);

// nn-Meter's vector, or none when a value it holds comes from an unknown (-1) dimension.
inline feature_vector nnmeter_features(const kernel& k) {
  feature_vector f = nnmeter_features_raw(k);
  for (double x : f)
    if (x < 0) return {};
  return f;
}

inline feature_vector nnmeter_features_raw(const kernel& k) {
  const std::string_view op = k.op;
  double cout = 0, cin = 0, ks = 0, s = 1, inputh = 0;
  if (contains(op, "conv") || contains(op, "maxpool") || contains(op, "avgpool")) {
    if (!k.cout || !k.cin || !k.ks || !k.inputh) return {};
    cout = static_cast<double>(*k.cout);
    cin = static_cast<double>(*k.cin);
    ks = static_cast<double>((*k.ks)[1]);
    s = k.strides ? static_cast<double>((*k.strides)[1]) : 1.0;
    inputh = static_cast<double>(*k.inputh);
  }
  if (op == "channelshuffle" || op == "split") {
    if (k.input_tensors.empty() || k.input_tensors[0].rank() != 4) return {};
    inputh = static_cast<double>(k.input_tensors[0][1]);
    cin = static_cast<double>(k.input_tensors[0][3]);
  }
  if (contains(op, "conv")) {
    double flops = 0, params = 0;
    if (contains(op, "dwconv")) {
      params = cout * (ks * ks + 1);
    } else {
      params = cout * (ks * ks * cin + 1);
    }
    flops = 2 * inputh / s * inputh / s * params;
    return {inputh, cin, cout, ks, s, flops / 2e6, params / 1e6};
  }
  if (contains(op, "fc")) {
    if (!k.cout || !k.cin) return {};
    const double co = static_cast<double>(*k.cout);
    const double ci = static_cast<double>(*k.cin);
    const double flop = (2 * ci + 1) * co;
    return {ci, co, flop / 2e6, flop / 1e6};
  }
  if (contains(op, "pool") && !contains(op, "global")) return {inputh, cin, cout, ks, s};
  if (contains(op, "global-pool") || contains(op, "global-avgpool") || contains(op, "gap")) {
    if (!k.cin) return {};
    return {1.0, static_cast<double>(*k.cin)};  // nn-Meter's hasattr() on a dict: always 1
  }
  if (contains(op, "channelshuffle") || contains(op, "split")) {
    if (op != "channelshuffle" && op != "split") return {};  // nn-Meter would read unset names
    return {inputh, cin};
  }
  if (contains(op, "se") || contains(op, "SE")) {
    if (k.input_tensors.empty() || k.input_tensors.back().rank() < 2) return {};
    const tensor_shape& last = k.input_tensors.back();
    return {static_cast<double>(last[-2]), static_cast<double>(last[-1])};
  }
  if (contains(op, "concat")) {
    if (k.input_tensors.empty() || k.input_tensors[0].rank() < 2) return {};
    feature_vector f;
    f.push_back(static_cast<double>(k.input_tensors[0][1]));
    f.push_back(static_cast<double>(k.input_tensors.size()));
    for (const tensor_shape& t : k.input_tensors) {
      if (f.size() == 7) break;  // everything past six is cut below
      f.push_back(t.rank() > 0 ? static_cast<double>(t.back()) : 0.0);
    }
    if (f.size() < 6) {
      while (f.size() < 6) f.push_back(0.0);
    } else if (f.size() > 6) {
      f.resize(6);
      f[1] = 6;
    }
    return f;
  }
  if (op == "hswish") {
    double h = 0;
    if (k.inputh) {
      h = static_cast<double>(*k.inputh);
    } else {
      if (k.input_tensors.empty() || k.input_tensors[0].rank() < 2) return {};
      h = static_cast<double>(k.input_tensors[0].rank() == 2 ? k.input_tensors[0][0]
                                                             : k.input_tensors[0][1]);
    }
    if (!k.cin) return {};
    return {h, static_cast<double>(*k.cin)};
  }
  if (op == "bn" || op == "relu" || op == "bn-relu") {
    if (k.input_tensors.empty()) return {};
    const tensor_shape& t = k.input_tensors[0];
    if (t.rank() == 4) return {static_cast<double>(t[1]), static_cast<double>(t[3])};
    if (t.rank() < 2) return {};
    return {static_cast<double>(t[0]), static_cast<double>(t[1])};
  }
  if (op == "add-relu" || op == "add") {
    if (k.input_tensors.size() < 2 || k.input_tensors[0].rank() < 4 ||
        k.input_tensors[1].rank() < 4)
      return {};
    return {static_cast<double>(k.input_tensors[0][1]), static_cast<double>(k.input_tensors[0][3]),
            static_cast<double>(k.input_tensors[1][3])};
  }
  return {};
}

// Spatial size (h, w) and channels of a shape: NHWC for rank 4, [N, C] -> 1 x 1 x C, other
// ranks fold the middle dimensions into w.
inline void hwc(const tensor_shape& t, double& h, double& w, double& c) {
  h = 1;
  w = 1;
  c = t.rank() > 0 && t.back() > 0 ? static_cast<double>(t.back()) : 0;
  if (t.rank() == 4) {
    h = static_cast<double>(t[1] < 0 ? 1 : t[1]);
    w = static_cast<double>(t[2] < 0 ? 1 : t[2]);
  } else if (t.rank() > 2) {
    for (std::size_t i = 1; i + 1 < t.rank(); ++i) w *= static_cast<double>(t[static_cast<std::ptrdiff_t>(i)] < 0 ? 1 : t[static_cast<std::ptrdiff_t>(i)]);
  }
}

inline feature_vector extended_features(const kernel& k) {
  if (!k.shapes_known || !(k.flops == k.flops) || !(k.bytes == k.bytes)) return {};  // NaN: unknown
  const tensor_shape empty{};
  const tensor_shape& x = k.input_tensors.empty() ? empty : k.input_tensors[0];
  const tensor_shape& y = k.output_tensors.empty() ? empty : k.output_tensors[0];
  double h = 0, w = 0, c = 0;
  hwc(x, h, w, c);
  const double co = k.cout ? static_cast<double>(*k.cout) : (y.rank() ? static_cast<double>(y.back()) : 0);
  const double bytes_per = static_cast<double>(size_of(k.elem));
  const double mflops = k.flops / 1e6;
  const double mbytes = k.bytes / 1e6;
  const double kh = k.ks ? static_cast<double>((*k.ks)[0]) : 1;
  const double kw = k.ks ? static_cast<double>((*k.ks)[1]) : 1;
  const double sh = k.strides ? static_cast<double>((*k.strides)[0]) : 1;
  const double sw = k.strides ? static_cast<double>((*k.strides)[1]) : 1;
  switch (k.kind) {
    case kernel_kind::conv_bn_relu:
    case kernel_kind::dwconv_bn_relu:
      return {h, w, c, co, kh, kw, sh, sw, static_cast<double>(k.dilations[0]),
              static_cast<double>(k.groups), bytes_per, mflops, mbytes};
    case kernel_kind::fc:
    case kernel_kind::matmul: {
      const double rows = co > 0 ? static_cast<double>(y.num_elements()) / co : 0;
      return {c, co, rows, bytes_per, mflops, mbytes};
    }
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      return {h, w, c, kh, kw, sh, sw, bytes_per, mflops, mbytes};
    case kernel_kind::add:
    case kernel_kind::addrelu:
    case kernel_kind::mul: {
      const tensor_shape& b = k.input_tensors.size() > 1 ? k.input_tensors[1] : x;
      const double c2 = b.rank() > 0 && b.back() > 0 ? static_cast<double>(b.back()) : 0;
      return {h, w, c, c2, bytes_per, mflops, mbytes};
    }
    case kernel_kind::concat: {
      feature_vector f{h, w, static_cast<double>(k.input_tensors.size())};
      for (std::size_t i = 0; i < 4; ++i)
        f.push_back(i < k.input_tensors.size() && k.input_tensors[i].rank() > 0
                        ? static_cast<double>(k.input_tensors[i].back())
                        : 0.0);
      f.push_back(co);
      f.push_back(bytes_per);
      f.push_back(mbytes);
      return f;
    }
    case kernel_kind::other:
      return {static_cast<double>(x.num_elements()), static_cast<double>(y.num_elements()),
              bytes_per, mflops, mbytes};
    default:
      return {h, w, c, co, bytes_per, mflops, mbytes};
  }
}

// Share of the `lanes`-wide vector registers that `n` values fill: n / (ceil(n / lanes) *
// lanes), 1 for a multiple of lanes; 0 for an empty or unknown count.
constexpr double lane_fill(double n, double lanes) noexcept {
  if (!(n >= 1)) return 0;
  const double whole = static_cast<double>(static_cast<std::uint64_t>(n / lanes));
  const double regs = whole * lanes < n ? whole + 1 : whole;
  return n / (regs * lanes);
}

// The lanes set: the extended vector, then (windowed kinds) output height and width, then
// the fill of 4-, 8- and 16-lane registers by the output channels. Vectorised kernels tile
// the output channels by the register width (XNNPACK: 16 on AVX-512, 8 on AVX2 and NEON
// for f32), so a channel count just past a multiple costs a whole extra tile: the step that
// the extended features leave to the forest to find from the raw count.
inline feature_vector lanes_features(const kernel& k) {
  feature_vector f = extended_features(k);
  const std::size_t extra = lanes_extra_feature_count(k.kind);
  if (f.empty() || extra == 0) return f;
  const tensor_shape empty{};
  const tensor_shape& y = k.output_tensors.empty() ? empty : k.output_tensors[0];
  double ho = 0, wo = 0, cy = 0;
  hwc(y, ho, wo, cy);
  const double co = k.cout ? static_cast<double>(*k.cout) : cy;
  if (extra == 5) {
    f.push_back(ho);
    f.push_back(wo);
  }
  f.push_back(lane_fill(co, 4));
  f.push_back(lane_fill(co, 8));
  f.push_back(lane_fill(co, 16));
  return f;
}

}  // namespace detail

/// The feature vector of a kernel in a feature set; empty when the set has none for it
/// (nn-Meter's set covers only its sixteen kinds, and needs the fields they read).
inline feature_vector features(const kernel& k, feature_set s) {
  switch (s) {
    case feature_set::nnmeter:
      return detail::nnmeter_features(k);
    case feature_set::extended:
      return detail::extended_features(k);
    default:
      return detail::lanes_features(k);
  }
}

NNMETER_END_NAMESPACE
