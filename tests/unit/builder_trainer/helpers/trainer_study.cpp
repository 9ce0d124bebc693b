// The trainer's accuracy study behind docs/builder.md ("Trainer"): for several kernel kinds,
// sample configurations (nn-Meter's priors), give them synthetic roofline latencies
// (synthetic_latency.hpp), train with each sample weighting and both feature sets, and print
// the held-out accuracy averaged over seeds as a Markdown table.
//
//   test_builder_trainer_trainer_study [SEEDS] [--quick]
//
// --quick: one small kind, for the test that keeps this program working.
// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "builder/trainer/trainer.hpp"
#include "unit/builder_trainer/synthetic_latency.hpp"

namespace nb = nnmeter::builder;

int main(int argc, char** argv) {
  int seeds = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      seeds = std::atoi(argv[i]);
      if (seeds < 1) {
        std::fprintf(stderr, "trainer_study: SEEDS must be >= 1, not '%s'\n", argv[i]);
        return 2;
      }
    }
  }
  using nnmeter::kernel_kind;
  using nnmeter_test::kind_rows;
  std::vector<kind_rows> kinds = nnmeter_test::mobilenet_like_kinds();
  if (quick) kinds = {{kernel_kind::relu, 100}};
  std::printf(
      "| kind | features | samples | weights | within 5 %% | within 10 %% | RMSPE (median) | "
      "nodes |\n|---|---|---|---|---|---|---|---|\n");
  try {
    for (const kind_rows& k : kinds) {
      for (nnmeter::feature_set set :
           {nnmeter::feature_set::extended, nnmeter::feature_set::nnmeter}) {
        for (nb::sample_weighting w : {nb::sample_weighting::none, nb::sample_weighting::inverse,
                                       nb::sample_weighting::inverse_square}) {
          double w5 = 0, w10 = 0, nodes = 0;
          std::vector<double> rmspe;
          for (int s = 1; s <= seeds; ++s) {
            nb::sampler_options so;
            so.seed = static_cast<std::uint64_t>(s);
            const std::vector<nb::kernel_config> cfgs = nb::sample_prior(k.kind, k.n, so);
            std::mt19937_64 rng(static_cast<std::uint64_t>(100 + s));
            std::vector<double> y;
            for (const nb::kernel_config& c : cfgs)
              y.push_back(nnmeter_test::noisy_latency_ms(c, rng));
            const nb::training_data d =
                nb::make_training_data(k.kind, cfgs, y, nnmeter::default_rules(), set);
            nb::train_options o;
            o.params = nb::default_train_params(k.kind);
            o.params.weighting = w;
            o.seed = static_cast<std::uint64_t>(s);
            const nb::train_result r = nb::train_kernel_model(d, o);
            w5 += r.holdout.within_5;
            w10 += r.holdout.within_10;
            nodes += static_cast<double>(r.forest.num_nodes());
            rmspe.push_back(r.holdout.rmspe);
          }
          std::sort(rmspe.begin(), rmspe.end());
          std::printf("| %s | %s | %zu | %s | %.1f %% | %.1f %% | %.1f %% | %.0f |\n",
                      std::string(nnmeter::to_string(k.kind)).c_str(),
                      std::string(nnmeter::to_string(set)).c_str(), k.n, nb::to_string(w),
                      100 * w5 / seeds, 100 * w10 / seeds, rmspe[rmspe.size() / 2], nodes / seeds);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trainer_study: %s\n", e.what());
    return 1;
  }
  return 0;
}
