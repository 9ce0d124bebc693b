// nnmeter — error types. Every error names the file, node or key it is about.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/config.hpp>

#include <stdexcept>
#include <string>

NNMETER_BEGIN_NAMESPACE

/// Base of every exception the library throws.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// Malformed input: a file, JSON document or graph that breaks the format's rules.
class parse_error : public error {
 public:
  using error::error;
};

/// A graph that is well-formed but inconsistent (cycles, dangling edges, bad shapes).
class graph_error : public error {
 public:
  using error::error;
};

/// An operator or feature the library does not support in the requested context.
class unsupported_error : public error {
 public:
  using error::error;
};

/// A file whose format version differs from the one this library reads.
class format_mismatch : public error {
 public:
  using error::error;
};

NNMETER_END_NAMESPACE
