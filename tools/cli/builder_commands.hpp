// nnmeter CLI — the builder's commands (tools/cli/builder_*.cpp), in the style of commands.hpp.
// Each works when the builder part it needs is in the build (NNMETER_BUILDER_WITH_<PART>, from
// tools/builder/<part>/), and otherwise says which part is missing.
// SPDX-License-Identifier: MIT
#pragma once

#include "cli/commands.hpp"

namespace nnmeter_cli {

/// `nnmeter create --xnnpack-workspace DIR | --tflite-workspace DIR |
/// --customized-workspace DIR --backend NAME [--force]`: tools/cli/builder_workspace.cpp.
command add_create_command(CLI::App& app);

/// `nnmeter store --workspace DIR [--csv FILE] [--json]`: tools/cli/builder_store.cpp.
command add_store_command(CLI::App& app);

}  // namespace nnmeter_cli
