// nnmeter CLI — the predictor this nnmeter embeds (predictors/<name>/, compiled into a header at
// build time; docs/default-predictor.md), and whether this machine's CPU is the one a predictor
// was built on.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <string>

namespace nnmeter_cli {

/// The embedded default predictor, or nullptr when this nnmeter was built without one
/// (NNMETER_DEFAULT_PREDICTOR empty, or no builder package part). Made on first use.
const nnmeter::predictor* embedded_predictor();

/// The predictor used when none is named, and where it came from.
struct chosen_predictor {
  nnmeter::predictor predictor;
  /// True for the embedded one; false for the registry's default (`nnmeter calibrate` sets it).
  bool embedded = true;
  /// "embedded", or the registered package folder.
  std::string package;
  /// How to say it: "the embedded default" or "the registry's default".
  std::string label;
};

/// The registry's default predictor when one is set (and `embedded_only` is false), else the
/// embedded one, its golden cases verified. Throws nnmeter::error when there is neither, when
/// the registry's default does not load (naming it, and `nnmeter unregister`), or when its
/// golden cases fail; `who` prefixes the messages ("predict").
chosen_predictor default_predictor(const std::string& who, bool embedded_only = false);

/// This machine's CPU as the backends describe it ("AMD EPYC (family 25, model 17; 2 logical
/// CPUs), x86_64"), or empty when this nnmeter has no backends.
std::string this_cpu();

/// How a predictor's device compares with this machine's CPU.
enum class cpu_match {
  unknown,    ///< either side cannot be compared (no backends, an unknown format)
  same,       ///< the same model name, family and model
  different,  ///< another CPU
};

/// Compares `device` (a predictor's device description, in this_cpu()'s format) with this
/// machine's CPU: model name, family and model (the number of logical CPUs and anything after
/// it is ignored).
cpu_match same_cpu(const std::string& device);

}  // namespace nnmeter_cli
