// nnmeter CLI: the model options every model-reading subcommand shares, and loading them.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace nnmeter_cli {

/// --nnmeter-ir FILE and its reader flags (exactly one model source).
struct model_options {
  std::string nnmeter_ir;
  bool allow_unknown_ops = false;
  bool allow_dangling_inbounds = false;
};

/// A loaded model: its graph and where it came from.
struct loaded_model {
  nnmeter::graph graph;
  std::string path;
  std::string type;  ///< "nnmeter-ir"
  /// Import accounting (nodes imported, folded, aliased, ...) for formats that have one;
  /// null otherwise.
  nlohmann::ordered_json accounting;
};

inline void add_model_options(CLI::App* cmd, model_options& m) {
  cmd->add_option("--nnmeter-ir", m.nnmeter_ir, "model in nn-Meter IR JSON")->required();
  cmd->add_flag("--allow-unknown-ops", m.allow_unknown_ops,
                "keep operator types the reader does not know as 'other' instead of failing");
  cmd->add_flag("--allow-dangling-inbounds", m.allow_dangling_inbounds,
                "drop inbound names that name no node instead of failing");
}

inline loaded_model load_model(const model_options& m) {
  nnmeter::io::ir_read_options ro;
  ro.allow_unknown_ops = m.allow_unknown_ops;
  ro.allow_dangling_inbounds = m.allow_dangling_inbounds;
  loaded_model out;
  out.graph = nnmeter::io::load_nnmeter_ir(m.nnmeter_ir, ro);
  out.path = m.nnmeter_ir;
  out.type = "nnmeter-ir";
  return out;
}

}  // namespace nnmeter_cli
