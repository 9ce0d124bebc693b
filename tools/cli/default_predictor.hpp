// nnmeter CLI — the predictor this nnmeter embeds (predictors/<name>/, compiled into a header at
// build time; docs/default-predictor.md), and whether this machine's CPU is the one a predictor
// was built on.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <optional>
#include <string>

namespace nnmeter_cli {

/// The embedded default predictor, or nullptr when this nnmeter was built without one
/// (NNMETER_DEFAULT_PREDICTOR empty, or no builder package part). Made on first use.
const nnmeter::predictor* embedded_predictor();

/// This machine's CPU as the backends describe it ("AMD EPYC (family 25, model 17; 2 logical
/// CPUs), x86_64"), or empty when this nnmeter has no backends.
std::string this_cpu();

/// Whether `device` (a predictor's device description, in this_cpu()'s format) names this
/// machine's CPU: the same model name, family and model (the number of logical CPUs and
/// anything after it is ignored). nullopt when either side cannot be compared.
std::optional<bool> same_cpu(const std::string& device);

}  // namespace nnmeter_cli
