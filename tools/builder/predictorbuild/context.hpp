// nnmeter builder — the context factor of a predictor: kernels run inside a whole model are
// slower than the same kernels measured alone (alone, a kernel's weights and inputs stay in the
// caches from one invoke to the next; in a model, the other kernels evict them), so the sum of
// kernel latencies measured alone falls short of the model's latency. build-predictor measures
// a set of training models whole (zoo models of its own seed, never the evaluation's) and fits
// one factor that every kernel latency is multiplied by (docs/builder.md, "Context factor").
// Target nnmeter_builder_predictorbuild.
// SPDX-License-Identifier: MIT
#pragma once

#include "builder/evaluate/evaluate.hpp"

#include <cstddef>
#include <vector>

namespace nnmeter::builder {

/// A fitted context factor and how well it does on the models it was fitted on.
struct context_fit {
  /// The factor s minimising the relative error: s = sum(p/m) / sum((p/m)^2) over the
  /// evaluated models (p predicted without the factor, m measured). 1 when nothing was fitted.
  double scale = 1.0;
  /// The training models' figures without and with the factor (in-sample).
  accuracy_figures before;
  accuracy_figures after;
  /// Each family predicted with the factor fitted on the other families only: how the factor
  /// carries over to models of a kind it never saw. NaN figures with fewer than two families.
  accuracy_figures leave_one_family_out;
};

/// The factor minimising sum((s p / m - 1)^2) over the evaluated models of `models`; throws
/// nnmeter::error when there is none.
[[nodiscard]] double fit_context_scale(const std::vector<const model_evaluation*>& models);

/// Fits the factor on the evaluated models of `models` (evaluate_models' results with a
/// predictor whose factor is 1) and computes the figures. Throws nnmeter::error when no model
/// was evaluated.
[[nodiscard]] context_fit fit_context(const std::vector<model_evaluation>& models);

}  // namespace nnmeter::builder
