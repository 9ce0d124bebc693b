// nnmeter CLI: the model options every model-reading subcommand shares, and loading them.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#if defined(NNMETER_CLI_WITH_ONNX)
#include <nnmeter/io/onnx.hpp>
#endif

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/option_ranges.hpp"

namespace nnmeter_cli {

/// The model source (exactly one of --nnmeter-ir / --onnx) and its reader options.
struct model_options {
  std::string nnmeter_ir;
  std::string onnx;
  std::vector<std::string> input_shapes;  ///< --input-shape name:1,3,224,224 (repeatable)
  bool allow_any_opset = false;
  bool allow_missing_external_data = false;
  bool allow_unknown_ops = false;
  bool allow_dangling_inbounds = false;
};

/// A loaded model: its graph and where it came from.
struct loaded_model {
  nnmeter::graph graph;
  std::string path;
  std::string type;  ///< "nnmeter-ir" or "onnx"
  /// Import accounting (nodes imported, folded, aliased, ...) for formats that have one;
  /// null otherwise.
  nlohmann::ordered_json accounting;
  /// Importer warnings, in order.
  std::vector<std::string> warnings;
};

inline void add_model_options(CLI::App* cmd, model_options& m) {
  CLI::Option_group* source = cmd->add_option_group("model", "the model: exactly one of");
  CLI::Option* ir = source->add_option("--nnmeter-ir", m.nnmeter_ir, "model in nn-Meter IR JSON");
  CLI::Option* onnx = source->add_option("--onnx", m.onnx, "model in ONNX (opsets 7-17)");
  source->require_option(1);
  cmd->add_option("--input-shape", m.input_shapes,
                  "ONNX input shape in the file's layout, NAME:D0,D1,... (repeatable); needed "
                  "for inputs with symbolic dims")
      ->needs(onnx);
  cmd->add_flag("--allow-any-opset", m.allow_any_opset,
                "ONNX: import a model whose opset is outside 7-17 on a best-effort basis (with a "
                "warning) instead of failing")
      ->needs(onnx);
  cmd->add_flag("--allow-missing-external-data", m.allow_missing_external_data,
                "ONNX: import a model whose external-data files are missing or too short (only "
                "dims are read), with a warning, instead of failing")
      ->needs(onnx);
  cmd->add_flag("--allow-unknown-ops", m.allow_unknown_ops,
                "nn-Meter IR: keep operator types the reader does not know as 'other' instead "
                "of failing")
      ->needs(ir);
  cmd->add_flag("--allow-dangling-inbounds", m.allow_dangling_inbounds,
                "nn-Meter IR: drop inbound names that name no node instead of failing")
      ->needs(ir);
}

/// Rethrows the exception being handled as an nnmeter::error whose message starts with `file`
/// (call it inside a catch block). Library texts that mean nothing to a user (std::bad_alloc,
/// basic_string::_M_create, stoi, ...) become plain words; an nnmeter::error keeps its text,
/// prefixed with the file when it does not name it already.
[[noreturn]] inline void rethrow_naming(const std::string& file) {
  try {
    throw;
  } catch (const nnmeter::error& e) {
    const std::string what = e.what();
    if (what.compare(0, file.size(), file) == 0) throw;
    throw nnmeter::error(file + ": " + what);
  } catch (const std::bad_alloc&) {
    throw nnmeter::error(file + ": not enough memory to process it");
  } catch (const std::length_error&) {
    throw nnmeter::error(file +
                         ": too large to process (a size above what this machine can "
                         "hold)");
  } catch (const std::exception& e) {
    throw nnmeter::error(file + ": cannot process it (" + e.what() + ")");
  }
}

/// Parses "name:1,3,224,224" (the name may itself contain ':'; the dims follow the last one).
/// Every dim must be an integer from 1 to 2^31-1.
inline std::pair<std::string, std::vector<std::int64_t>> parse_input_shape(const std::string& s) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw nnmeter::error("--input-shape '" + s +
                         "': expected NAME:D0,D1,... (e.g. input:1,3,224,224)");
  std::vector<std::int64_t> dims;
  std::size_t pos = colon + 1;
  while (pos <= s.size()) {
    const std::size_t comma = std::min(s.find(',', pos), s.size());
    const std::string tok = s.substr(pos, comma - pos);
    const std::string bad = range_violation<std::int64_t>(tok, 1, nnmeter::tensor_shape::max_dim);
    if (!bad.empty()) throw nnmeter::error("--input-shape '" + s + "': a dimension " + bad);
    dims.push_back(static_cast<std::int64_t>(std::stoll(tok)));
    if (dims.size() > nnmeter::tensor_shape::max_rank)
      throw nnmeter::error("--input-shape '" + s + "': more than " +
                           std::to_string(nnmeter::tensor_shape::max_rank) +
                           " dimensions (nnmeter shapes hold at most rank 8)");
    pos = comma + 1;
  }
  return {s.substr(0, colon), dims};
}

inline loaded_model load_model(const model_options& m) {
  loaded_model out;
  if (!m.onnx.empty()) {
#if defined(NNMETER_CLI_WITH_ONNX)
    nnmeter::io::onnx_import_options o;
    o.hints = nnmeter::io::onnx_hint_style::cli;  // hints name --input-shape, not the fields
    o.allow_any_opset = m.allow_any_opset;
    o.allow_missing_external_data = m.allow_missing_external_data;
    for (const std::string& s : m.input_shapes) {
      auto [name, dims] = parse_input_shape(s);
      if (o.input_shapes.count(name) != 0)
        throw nnmeter::error("--input-shape given twice for input '" + name + "'");
      o.input_shapes.emplace(std::move(name), std::move(dims));
    }
    nnmeter::io::onnx_import_result r;
    try {
      r = nnmeter::io::import_onnx(m.onnx, o);
    } catch (...) {
      rethrow_naming(m.onnx);
    }
    out.graph = std::move(r.graph);
    out.path = m.onnx;
    out.type = "onnx";
    out.warnings = std::move(r.warnings);
    const nnmeter::io::onnx_accounting& a = r.accounting;
    nlohmann::ordered_json acc = nlohmann::ordered_json::object();
    acc["opset"] = r.info.opset;
    acc["nodes_in_file"] = a.nodes_in_file;
    acc["imported"] = a.imported;
    acc["folded"] = a.folded;
    acc["aliased"] = a.aliased;
    acc["constants"] = a.constants;
    acc["other"] = a.other;
    acc["other_nodes"] = a.other_nodes;
    acc["data_dependent_nodes"] = a.data_dependent_nodes;
    out.accounting = std::move(acc);
    return out;
#else
    throw nnmeter::error(
        "--onnx: this nnmeter was built without ONNX support (NNMETER_WITH_ONNX; "
        "Debian packages libonnx-dev libprotobuf-dev)");
#endif
  }
  if (m.nnmeter_ir.empty())
    throw nnmeter::error("no model given: use --nnmeter-ir FILE or --onnx FILE");
  nnmeter::io::ir_read_options ro;
  ro.allow_unknown_ops = m.allow_unknown_ops;
  ro.allow_dangling_inbounds = m.allow_dangling_inbounds;
  nnmeter::io::ir_import_result r;
  try {
    r = nnmeter::io::import_nnmeter_ir_file(m.nnmeter_ir, ro);
  } catch (...) {
    rethrow_naming(m.nnmeter_ir);
  }
  out.graph = std::move(r.graph);
  out.warnings = std::move(r.warnings);
  out.path = m.nnmeter_ir;
  out.type = "nnmeter-ir";
  return out;
}

}  // namespace nnmeter_cli
