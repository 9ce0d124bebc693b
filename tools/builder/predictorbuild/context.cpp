// nnmeter builder — the context factor (context.hpp).
// SPDX-License-Identifier: MIT
#include "builder/predictorbuild/context.hpp"

#include <map>
#include <string>

namespace nnmeter::builder {

double fit_context_scale(const std::vector<const model_evaluation*>& models) {
  double s1 = 0, s2 = 0;
  for (const model_evaluation* m : models) {
    if (m->outcome != model_outcome::evaluated) continue;
    const double r = m->prediction.latency_ms / m->measured_ms;
    s1 += r;
    s2 += r * r;
  }
  if (!(s2 > 0))
    throw nnmeter::error("context factor: no evaluated model to fit it on (every training model "
                         "failed, was not measured, or has kernels without a latency)");
  return s1 / s2;
}

namespace {

// Copies of `ms` whose predicted totals are multiplied by `scale` (the figures read the total).
std::vector<model_evaluation> scaled(const std::vector<const model_evaluation*>& ms, double scale) {
  std::vector<model_evaluation> out;
  out.reserve(ms.size());
  for (const model_evaluation* m : ms) {
    model_evaluation c;
    c.name = m->name;
    c.family = m->family;
    c.outcome = m->outcome;
    c.measured_ms = m->measured_ms;
    c.ground_truth_cv = m->ground_truth_cv;
    c.prediction.latency_ms = m->prediction.latency_ms * scale;
    c.relative_error = c.prediction.latency_ms / c.measured_ms - 1;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<const model_evaluation*> pointers(const std::vector<model_evaluation>& ms) {
  std::vector<const model_evaluation*> out;
  for (const model_evaluation& m : ms) out.push_back(&m);
  return out;
}

}  // namespace

context_fit fit_context(const std::vector<model_evaluation>& models) {
  const std::vector<const model_evaluation*> all = pointers(models);
  context_fit f;
  f.scale = fit_context_scale(all);
  f.before = summarize_accuracy("training models", all);
  const std::vector<model_evaluation> after = scaled(all, f.scale);
  f.after = summarize_accuracy("training models", pointers(after));

  std::map<std::string, std::vector<const model_evaluation*>> by_family;
  for (const model_evaluation* m : all)
    if (m->outcome == model_outcome::evaluated) by_family[m->family].push_back(m);
  std::vector<model_evaluation> held_out;
  if (by_family.size() >= 2) {
    for (const auto& [family, members] : by_family) {
      std::vector<const model_evaluation*> others;
      for (const auto& [g, ms] : by_family)
        if (g != family) others.insert(others.end(), ms.begin(), ms.end());
      const std::vector<model_evaluation> part = scaled(members, fit_context_scale(others));
      held_out.insert(held_out.end(), part.begin(), part.end());
    }
  }
  f.leave_one_family_out = summarize_accuracy("leave one family out", pointers(held_out));
  return f;
}

}  // namespace nnmeter::builder
