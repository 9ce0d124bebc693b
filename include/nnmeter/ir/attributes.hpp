// nnmeter — typed operator attributes.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// How a windowed op pads its input.
enum class padding_mode : std::uint8_t {
  explicit_pads,  ///< attributes::pads hold the padding
  same,           ///< TensorFlow SAME / ONNX SAME_UPPER: out = ceil(in / stride)
  same_lower,     ///< ONNX SAME_LOWER (extra padding at the start)
  valid           ///< no padding
};

/// Operator attributes. One struct for every op kind; each field says which kinds use it.
/// Fields a kind does not use keep their defaults.
struct attributes {
  using dim = std::int64_t;

  /// Window size {kh, kw} of conv / dwconv / conv_transpose / maxpool / avgpool; {0, 0} for
  /// kinds without a window.
  std::array<dim, 2> kernel{0, 0};
  /// Strides {sh, sw} of windowed kinds.
  std::array<dim, 2> strides{1, 1};
  /// Dilations {dh, dw} of convolutions.
  std::array<dim, 2> dilations{1, 1};
  /// Explicit padding {top, bottom, left, right} of windowed kinds and `pad`.
  std::array<dim, 4> pads{0, 0, 0, 0};
  /// Padding scheme of windowed kinds.
  padding_mode padding = padding_mode::explicit_pads;
  /// Groups of conv (1 = dense), dwconv (== input channels) and channel_shuffle.
  dim groups = 1;
  /// Whether a conv / dwconv / fc has a bias term.
  bool has_bias = true;
  /// ceil_mode of pooling windows (output size rounded up).
  bool ceil_mode = false;
  /// Axis of concat / split / softmax / flatten / gather (NHWC numbering for rank-4 tensors).
  dim axis = -1;
  /// Axes of reduce_mean / squeeze / unsqueeze.
  std::vector<dim> axes;
  /// keepdims of reduce_mean.
  bool keepdims = true;
  /// Permutation of transpose.
  std::vector<dim> perm;
  /// Output sizes of split along `axis` (empty = equal parts, one per output).
  std::vector<dim> split_sizes;
  /// Target shape of reshape as given by the source (may hold 0 and -1 as in ONNX).
  std::vector<dim> target_shape;
  /// alpha of leaky_relu / elu / hsigmoid (ONNX HardSigmoid: alpha * x + beta); for bn its
  /// epsilon (the ONNX importer stores BatchNormalization's; 0 means unspecified: 1e-5).
  float alpha = 0.0f;
  /// beta of hsigmoid.
  float beta = 0.0f;
  /// Bounds of clip (relu6 is clip to [0, 6]).
  float clip_min = 0.0f;
  float clip_max = 6.0f;
  /// Resize scales {sh, sw} and interpolation ("nearest", "linear", ...).
  std::array<float, 2> scales{1.0f, 1.0f};
  std::string mode;
  /// Attributes the source carried that no field above models, as (key, JSON text) pairs in
  /// source order, so that nothing is lost on import and export.
  std::vector<std::pair<std::string, std::string>> extra;

  /// True when the kind has a window ({kh, kw} set).
  bool has_window() const noexcept { return kernel[0] > 0 && kernel[1] > 0; }

  /// The JSON text stored under `key` in `extra`, or nullptr.
  const std::string* find_extra(const std::string& key) const noexcept {
    for (const auto& kv : extra)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }

  friend bool operator==(const attributes& a, const attributes& b) {
    return a.kernel == b.kernel && a.strides == b.strides && a.dilations == b.dilations &&
           a.pads == b.pads && a.padding == b.padding && a.groups == b.groups &&
           a.has_bias == b.has_bias && a.ceil_mode == b.ceil_mode && a.axis == b.axis &&
           a.axes == b.axes && a.keepdims == b.keepdims && a.perm == b.perm &&
           a.split_sizes == b.split_sizes && a.target_shape == b.target_shape &&
           a.alpha == b.alpha && a.beta == b.beta && a.clip_min == b.clip_min &&
           a.clip_max == b.clip_max && a.scales == b.scales && a.mode == b.mode &&
           a.extra == b.extra;
  }
  friend bool operator!=(const attributes& a, const attributes& b) { return !(a == b); }
};

namespace detail {

/// Parses the integer list "[1, -2, 3]" that builders and importers store in attributes::extra
/// (slice starts / ends / steps, output_padding, ONNX pads). Returns false on anything else.
inline bool parse_int_list(const std::string& s, std::vector<std::int64_t>& out) {
  out.clear();
  std::size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  skip();
  if (i >= s.size() || s[i] != '[') return false;
  ++i;
  skip();
  if (i < s.size() && s[i] == ']') return ++i, skip(), i == s.size();
  for (;;) {
    skip();
    bool neg = false;
    if (i < s.size() && s[i] == '-') neg = true, ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    std::uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      const auto digit = static_cast<std::uint64_t>(s[i] - '0');
      if (v > (std::uint64_t{1} << 63) / 10) return false;
      v = v * 10 + digit;
      if (v > (std::uint64_t{1} << 63)) return false;
      ++i;
    }
    constexpr std::uint64_t top = std::uint64_t{1} << 63;
    if (!neg && v >= top) return false;
    out.push_back(neg ? (v == top ? std::numeric_limits<std::int64_t>::min()
                                  : -static_cast<std::int64_t>(v))
                      : static_cast<std::int64_t>(v));
    skip();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == ']') {
      ++i;
      skip();
      return i == s.size();
    }
    return false;
  }
}

inline bool extra_ints(const attributes& a, const char* key, std::vector<std::int64_t>& out) {
  const std::string* p = a.find_extra(key);
  return p != nullptr && parse_int_list(*p, out);
}

}  // namespace detail

NNMETER_END_NAMESPACE
