// nnmeter — reading an input file with bounded resources. Standard library only; used by every
// file reader of nnmeter::io (JSON documents, ONNX models) so that they refuse the same inputs
// with the same words.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// Default size limits of the file readers (each reader's options can change them).
inline constexpr std::uint64_t default_max_json_bytes = std::uint64_t{1} << 30;  // 1 GiB
inline constexpr std::uint64_t default_max_onnx_bytes = (std::uint64_t{1} << 31) - 1;  // protobuf

namespace detail {

inline std::string byte_count_text(std::uint64_t n) {
  char buf[64];
  if (n >= (std::uint64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1024.0 * 1024.0 * 1024.0));
  else if (n >= (std::uint64_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(n) / (1024.0 * 1024.0));
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace detail

/// Reads the whole content of `path` as `what` (e.g. "an nn-Meter IR file") and refuses, with a
/// parse_error naming the file:
/// - a path that does not exist, cannot be opened, or is a directory;
/// - a regular file larger than `max_bytes` (from its size, before anything is read);
/// - a pipe, device or other stream that yields more than `max_bytes` (read in 64 KiB chunks,
///   so nothing past the limit is ever held).
/// `check_prefix`, when given, sees the first chunk (up to 64 KiB, fewer for a shorter input)
/// before anything else is read and throws to refuse content that cannot be `what` (a NUL byte
/// in a JSON text, a zero first byte in a protobuf message): `/dev/zero` is refused after one
/// chunk instead of after `max_bytes`.
inline std::string read_input_file(const std::string& path, std::uint64_t max_bytes,
                                   std::string_view what,
                                   const std::function<void(std::string_view)>& check_prefix = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw parse_error(path + ": no such file");
  if (fs::is_directory(st))
    throw parse_error(path + ": is a directory, not " + std::string(what));
  const bool regular = fs::is_regular_file(st);
  if (regular) {
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) throw parse_error(path + ": cannot read its size (" + ec.message() + ")");
    if (size > max_bytes)
      throw parse_error(path + ": " + detail::byte_count_text(size) + " is larger than the " +
                        detail::byte_count_text(max_bytes) + " accepted for " + std::string(what));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw parse_error(path + ": cannot open file");
  std::string out;
  constexpr std::size_t chunk = 64 * 1024;
  bool first = true;
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + chunk);
    f.read(&out[old], static_cast<std::streamsize>(chunk));
    const auto got = static_cast<std::size_t>(f.gcount());
    out.resize(old + got);
    if (out.size() > max_bytes)
      throw parse_error(path + ": more than the " + detail::byte_count_text(max_bytes) +
                        " accepted for " + std::string(what) + " (" +
                        (regular ? "the file grew while being read" : "not a regular file") + ")");
    if (first && check_prefix) {
      first = false;
      check_prefix(std::string_view(out));
    }
    if (got < chunk) break;
  }
  if (f.bad()) throw parse_error(path + ": read error");
  return out;
}

}  // namespace io
NNMETER_END_NAMESPACE
