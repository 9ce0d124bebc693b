// nnmeter — tensor element types.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

NNMETER_BEGIN_NAMESPACE

/// Element type of a tensor.
enum class dtype : std::uint8_t { f32, f16, i8, u8, i32, i64, count_ };

/// Size of one element in bytes.
constexpr std::size_t size_of(dtype t) noexcept {
  switch (t) {
    case dtype::f32: return 4;
    case dtype::f16: return 2;
    case dtype::i8: return 1;
    case dtype::u8: return 1;
    case dtype::i32: return 4;
    case dtype::i64: return 8;
    default: return 0;
  }
}

/// Spelling used in files: "f32", "f16", "i8", "u8", "i32", "i64".
constexpr std::string_view to_string(dtype t) noexcept {
  switch (t) {
    case dtype::f32: return "f32";
    case dtype::f16: return "f16";
    case dtype::i8: return "i8";
    case dtype::u8: return "u8";
    case dtype::i32: return "i32";
    case dtype::i64: return "i64";
    default: return "invalid";
  }
}

/// Parses the spelling of to_string(dtype).
constexpr std::optional<dtype> parse_dtype(std::string_view s) noexcept {
  for (std::size_t i = 0; i < static_cast<std::size_t>(dtype::count_); ++i) {
    const auto t = static_cast<dtype>(i);
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

NNMETER_END_NAMESPACE
