// nnmeter builder — codegen: a predictor compiled into a C++ header (docs/codegen.md).
// Target nnmeter_builder_package.
// SPDX-License-Identifier: MIT
//
//   namespace nb = nnmeter::builder;
//   const nnmeter::predictor p = nnmeter::io::load_predictor_package("results/cpu");
//   nb::codegen_options o;
//   o.source = "package cpu";                                // for the banner
//   nb::write_predictor_header(p, "cpu_predictor.hpp", o);  // namespace nnmeter_devices::cpu
//
// The generated header includes only <nnmeter.hpp>, and a program built with it reads no file
// to predict: `nnmeter_devices::cpu::make_predictor()` is the predictor.
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace nnmeter::builder {

/// Options of generate_predictor_header.
struct codegen_options {
  /// C++ namespace of the generated code, `a::b::c` (each part an identifier that is not a
  /// keyword and not reserved, the first part not `std`). Empty: default_codegen_namespace(the
  /// predictor's name), e.g. `nnmeter_devices::xnnpack_cpu`.
  std::string cpp_namespace;
  /// Include-guard macro (an identifier, not reserved). Empty: `#pragma once`.
  std::string include_guard;
  /// Where the predictor came from, written into the banner (e.g. `package cpu`). Keep
  /// machine-specific absolute paths out of it when the header is committed.
  std::string source;
  /// Golden cases per kernel kind that the header checks with a static_assert (a constant
  /// evaluation of the forest); make_predictor().verify() re-runs every case at run time.
  std::size_t static_assert_cases = 2;
  /// Nodes kept as `inline constexpr` arrays, all kinds together, smallest forests first; the
  /// forests that do not fit are stored as string blobs (nnmeter::forest_from_blob) that
  /// make_predictor() decodes. Arrays are what constant evaluation (kernel_latency_ms in a
  /// static_assert) needs, blobs compile about ten times faster (docs/codegen.md has the
  /// measurements). 0: every forest a blob.
  std::size_t constexpr_node_budget = 200000;
};

/// `nnmeter_devices::<identifier>`, where the identifier is the predictor's name with every
/// character other than a letter, digit or '_' replaced by '_' (runs of '_' collapsed, a
/// leading digit or '_' prefixed with `p`, a keyword suffixed with `_`).
[[nodiscard]] std::string default_codegen_namespace(std::string_view predictor_name);

/// Why `ns` is not usable as the namespace of a generated header, or empty when it is.
[[nodiscard]] std::string codegen_namespace_problem(std::string_view ns);

/// Why `macro` is not usable as an include guard (an identifier, not reserved), or empty.
[[nodiscard]] std::string codegen_guard_problem(std::string_view macro);

/// The text of a header that embeds predictor `p` (docs/codegen.md, "What is generated"): a
/// banner, the manifest, the fusion-rule table, one forest per kernel kind (constexpr tables
/// with a `<kind>_forest` nnmeter::forest_view, or a blob), `forest_for` and the constexpr
/// `kernel_latency_ms`, the golden cases with static_asserts, and `make_predictor()`, whose
/// predictions equal p's bit for bit. Deterministic: equal predictors and options give equal
/// bytes. Throws nnmeter::error when `p` has no name, no forest, an invalid forest, no golden
/// cases or golden cases that do not reproduce (p.verify() fails: the header's own checks
/// would), a non-finite golden value, or bad options.
[[nodiscard]] std::string generate_predictor_header(const nnmeter::predictor& p,
                                                    const codegen_options& o = {});

/// Writes generate_predictor_header(p, o) to `file` atomically (write_file_atomically: a
/// temporary file beside it, then a rename; the folder is created). Throws nnmeter::error
/// naming `file` when it cannot be written; `file` is then unchanged.
void write_predictor_header(const nnmeter::predictor& p, const std::filesystem::path& file,
                            const codegen_options& o = {});

}  // namespace nnmeter::builder
