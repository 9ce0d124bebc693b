// nnmeter CLI: how subcommands living in their own source files plug into main.cpp.
// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace nnmeter_cli {

/// Runs a parsed subcommand; returns the process exit code.
using runner = std::function<int()>;

/// A subcommand registers itself on `app` (its options bound to state it owns) and returns the
/// runner main() calls when that subcommand was given. Errors are thrown (nnmeter::error or
/// std::exception); main() prints them as "nnmeter: error: ..." and exits with 1.
struct command {
  CLI::App* app = nullptr;
  runner run;
};

/// `nnmeter profile`: tools/cli/profile.cpp.
command add_profile_command(CLI::App& app);

/// `nnmeter zoo --family F [--family G ...] --count N --seed S --out DIR [--format onnx|ir]
/// [--with-weights] [--json]`: tools/cli/zoo.cpp.
command add_zoo_command(CLI::App& app);

/// `nnmeter evaluate [--predictor NAME | --package DIR] [--backend B] (--zoo F:N ... |
/// --models DIR) --out DIR [protocol options] [--json]`: tools/cli/evaluate.cpp.
command add_evaluate_command(CLI::App& app);

/// `nnmeter calibrate [--predictor NAME | --package DIR] [--backend B] [--minutes M]
/// [--per-kind N] [--seed S] [--name NAME] [--out DIR] [--no-register | --no-default]
/// [--json]`: tools/cli/calibrate.cpp.
command add_calibrate_command(CLI::App& app);

}  // namespace nnmeter_cli
