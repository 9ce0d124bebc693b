// nnmeter — a forest's tables as text, for generated headers that embed forests too large for
// constexpr arrays. See docs/forests.md ("Blobs") and docs/codegen.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/forest/forest.hpp>
#include <nnmeter/forest/forest_view.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

NNMETER_BEGIN_NAMESPACE

// Why a blob: a compiler parses a string literal about ten times faster than the same bytes as
// a brace-initialised array (docs/codegen.md has the measurements), so a generated header keeps
// its large forests as text and decodes them once, at run time, from the program's own data.
//
// Format: the bytes of left (int32), feature (uint32), split_value (IEEE binary32 bits),
// default_left (uint8) for every node, then tree_roots (uint32) for every tree; array after
// array, each value little-endian; the whole as base64 (RFC 4648 alphabet, '=' padding).
// num_nodes, num_trees, num_features and base_score are not in the text: the generated code
// passes them to forest_from_blob, which checks the text's length against them.

namespace detail {

inline constexpr char forest_blob_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Bytes of a forest's tables in blob order.
constexpr std::size_t forest_blob_bytes(std::size_t num_nodes, std::size_t num_trees) noexcept {
  return num_nodes * 13 + num_trees * 4;
}

/// Value of a base64 character, or -1.
constexpr int forest_blob_digit(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

inline void forest_blob_put32(std::string& bytes, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((v >> (8 * i)) & 0xffu);
}

inline std::uint32_t forest_blob_get32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace detail

/// The tables of `v` as blob text (base64, no line breaks; see the format above). Its length is
/// a multiple of 4, so it may be cut into chunks at any multiple of 4.
inline std::string forest_to_blob(const forest_view& v) {
  std::string bytes;
  bytes.reserve(detail::forest_blob_bytes(v.num_nodes, v.num_trees));
  for (std::size_t n = 0; n < v.num_nodes; ++n)
    detail::forest_blob_put32(bytes, static_cast<std::uint32_t>(v.left[n]));
  for (std::size_t n = 0; n < v.num_nodes; ++n) detail::forest_blob_put32(bytes, v.feature[n]);
  for (std::size_t n = 0; n < v.num_nodes; ++n) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &v.split_value[n], sizeof bits);
    detail::forest_blob_put32(bytes, bits);
  }
  for (std::size_t n = 0; n < v.num_nodes; ++n)
    bytes += static_cast<char>(v.default_left[n] != 0 ? 1 : 0);
  for (std::size_t t = 0; t < v.num_trees; ++t) detail::forest_blob_put32(bytes, v.tree_roots[t]);

  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t rest = bytes.size() - i;
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest > 1)
      group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (rest > 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    text += detail::forest_blob_alphabet[(group >> 18) & 63u];
    text += detail::forest_blob_alphabet[(group >> 12) & 63u];
    text += rest > 1 ? detail::forest_blob_alphabet[(group >> 6) & 63u] : '=';
    text += rest > 2 ? detail::forest_blob_alphabet[group & 63u] : '=';
  }
  return text;
}

/// The forest of blob text given as `chunk_count` NUL-terminated chunks (read one after the
/// other as one text), with the sizes and scalars that are not in the text. Throws
/// nnmeter::parse_error naming `label` when the text holds a character that is not base64, is
/// not as long as the tables of num_nodes nodes and num_trees trees, or decodes to a forest that
/// is not valid (forest::validate).
inline forest forest_from_blob(const char* const* chunks, std::size_t chunk_count,
                               std::size_t num_nodes, std::size_t num_trees,
                               std::uint32_t num_features, float base_score,
                               const std::string& label = "forest blob") {
  const std::size_t expected = detail::forest_blob_bytes(num_nodes, num_trees);
  std::string bytes;
  bytes.reserve(expected);
  std::uint32_t group = 0;
  int digits = 0;
  int padding = 0;
  std::size_t pos = 0;  // characters read
  for (std::size_t c = 0; c < chunk_count; ++c) {
    for (const char* p = chunks[c]; *p != '\0'; ++p, ++pos) {
      if (*p == '=') {
        ++padding;
        group <<= 6;
      } else {
        const int d = detail::forest_blob_digit(*p);
        if (d < 0 || padding != 0)
          throw parse_error(label + ": character " + std::to_string(pos) +
                            " is not base64 (or follows the '=' padding)");
        group = (group << 6) | static_cast<std::uint32_t>(d);
      }
      if (++digits == 4) {
        if (padding > 2)
          throw parse_error(label + ": more than two '=' in the group ending at character " +
                            std::to_string(pos));
        bytes += static_cast<char>((group >> 16) & 0xffu);
        if (padding < 2) bytes += static_cast<char>((group >> 8) & 0xffu);
        if (padding < 1) bytes += static_cast<char>(group & 0xffu);
        group = 0;
        digits = 0;
      }
    }
  }
  if (digits != 0) throw parse_error(label + ": the text ends inside a group of 4 characters");
  if (bytes.size() != expected)
    throw parse_error(label + ": " + std::to_string(bytes.size()) + " bytes, the tables of " +
                      std::to_string(num_nodes) + " nodes and " + std::to_string(num_trees) +
                      " trees take " + std::to_string(expected));
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  forest f;
  f.left.resize(num_nodes);
  f.feature.resize(num_nodes);
  f.split_value.resize(num_nodes);
  f.default_left.resize(num_nodes);
  f.tree_roots.resize(num_trees);
  for (std::size_t n = 0; n < num_nodes; ++n, b += 4)
    f.left[n] = static_cast<std::int32_t>(detail::forest_blob_get32(b));
  for (std::size_t n = 0; n < num_nodes; ++n, b += 4) f.feature[n] = detail::forest_blob_get32(b);
  for (std::size_t n = 0; n < num_nodes; ++n, b += 4) {
    const std::uint32_t bits = detail::forest_blob_get32(b);
    std::memcpy(&f.split_value[n], &bits, sizeof bits);
  }
  for (std::size_t n = 0; n < num_nodes; ++n, ++b) f.default_left[n] = *b;
  for (std::size_t t = 0; t < num_trees; ++t, b += 4)
    f.tree_roots[t] = detail::forest_blob_get32(b);
  f.num_features = num_features;
  f.base_score = base_score;
  const forest_check check = f.check();
  if (!check) throw parse_error(label + ": invalid forest: " + describe(check, f.view()));
  return f;
}

NNMETER_END_NAMESPACE
