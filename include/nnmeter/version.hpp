// nnmeter — version and ABI namespace.
// SPDX-License-Identifier: MIT
#pragma once

/// Library version; CMakeLists.txt reads these three lines back.
#define NNMETER_VERSION_MAJOR 0
#define NNMETER_VERSION_MINOR 1
#define NNMETER_VERSION_PATCH 0

/// Version as one integer, e.g. 100 for 0.1.0.
#define NNMETER_VERSION \
  (NNMETER_VERSION_MAJOR * 10000 + NNMETER_VERSION_MINOR * 100 + NNMETER_VERSION_PATCH)

/// Version of the predictor-package / forest table format this library writes. It reads this
/// one and version 1 (which has no per-kind latency targets: every forest predicts ms).
#define NNMETER_PREDICTOR_FORMAT 2

#define NNMETER_DETAIL_CONCAT2(a, b, c) v##a##_##b
#define NNMETER_DETAIL_ABI_NAME(a, b) NNMETER_DETAIL_CONCAT2(a, b, 0)

// Everything public lives in nnmeter::v<major>_<minor> (inline), so two copies of the library
// built from different versions cannot silently violate the ODR in one program.
#define NNMETER_BEGIN_NAMESPACE \
  namespace nnmeter {           \
  inline namespace NNMETER_DETAIL_ABI_NAME(NNMETER_VERSION_MAJOR, NNMETER_VERSION_MINOR) {
#define NNMETER_END_NAMESPACE \
  }                           \
  }

NNMETER_BEGIN_NAMESPACE
/// The library version as a string literal, e.g. "0.1.0".
inline constexpr const char* version_string = "0.1.0";
NNMETER_END_NAMESPACE
