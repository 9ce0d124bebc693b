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

/// `nnmeter connect --workspace DIR [--backend NAME] [--json]`: tools/cli/builder_build.cpp.
command add_connect_command(CLI::App& app);

/// `nnmeter detect-rules --workspace DIR [--backend NAME] [--json]`: builder_build.cpp.
command add_detect_rules_command(CLI::App& app);

/// `nnmeter build-predictor --workspace DIR [--backend NAME] [--kernels LIST]
/// [--budget-minutes N] [--name N] [--predictor-version V] [--rules FILE] [--json]`:
/// builder_build.cpp.
command add_build_predictor_command(CLI::App& app);

/// `nnmeter priors --models DIR --out DIR [--rules FILE] [--json]`: builder_build.cpp.
command add_priors_command(CLI::App& app);

/// `nnmeter store --workspace DIR [--csv FILE] [--json]`: tools/cli/builder_store.cpp.
command add_store_command(CLI::App& app);

/// `nnmeter register --predictor FILE.yaml`: tools/cli/builder_package.cpp.
command add_register_command(CLI::App& app);

/// `nnmeter unregister --predictor NAME [--predictor-version V]`: builder_package.cpp.
command add_unregister_command(CLI::App& app);

/// `nnmeter predict --predictor NAME [--predictor-version V] (--onnx F | --nnmeter-ir F)
/// [--verbose] [--json]`: builder_package.cpp.
command add_predict_command(CLI::App& app);

/// `nnmeter codegen (--predictor NAME [--predictor-version V] | --package DIR) --out FILE.hpp
/// [--namespace NS] [--include-guard MACRO] [--static-asserts N]`: builder_codegen.cpp.
command add_codegen_command(CLI::App& app);

/// `nnmeter --list-predictors`: prints `[Predictor] <name>: version=<v>` per registered
/// predictor (builder_package.cpp); returns the exit code.
int list_predictors();

}  // namespace nnmeter_cli
