// A complete predictor package trained on synthetic latencies (synthetic_latency.hpp): the
// kernel kinds of MobileNet-like models, sampled from nn-Meter's priors, trained with the
// trainer's defaults, golden cases recorded from the sampled configurations. A predictor of
// realistic size without a device, for measuring `nnmeter codegen` (docs/codegen.md) and for
// the package behind examples/03_embedded_predictor.
//
//   test_builder_trainer_synthetic_predictor OUT_DIR [--name NAME] [--scale X] [--rounds N]
//       [--max-depth D] [--random-forest] [--kinds K1,K2,...] [--overwrite]
//
// --scale multiplies the sample counts (1: 300 to 1000 per kind); --rounds and --max-depth
// replace the defaults of every kind; --random-forest trains XGBoost random forests (nn-Meter's
// kind of model, many more nodes); --kinds keeps only the kinds named (nn-Meter's spelling).
// Writes OUT_DIR (the package) and OUT_DIR.yaml (its meta file,
// ready for `nnmeter register`); prints one line per kind.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "builder/trainer/trainer.hpp"
#include "unit/builder_trainer/synthetic_latency.hpp"

namespace nb = nnmeter::builder;

int main(int argc, char** argv) {
  std::string out;
  std::string name = "synthetic_cpu";
  double scale = 1;
  int rounds = 0;
  int max_depth = 0;
  bool random_forest = false;
  bool overwrite = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--name" && has_value) {
      name = argv[++i];
    } else if (a == "--scale" && has_value) {
      scale = std::atof(argv[++i]);
    } else if (a == "--rounds" && has_value) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--max-depth" && has_value) {
      max_depth = std::atoi(argv[++i]);
    } else if (a == "--random-forest") {
      random_forest = true;
    } else if (a == "--kinds" && has_value) {
      only = "," + std::string(argv[++i]) + ",";
    } else if (a == "--overwrite") {
      overwrite = true;
    } else if (out.empty() && !a.empty() && a[0] != '-') {
      out = a;
    } else {
      std::fprintf(stderr, "synthetic_predictor: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (out.empty() || !(scale > 0)) {
    std::fprintf(stderr,
                 "usage: synthetic_predictor OUT_DIR [--name NAME] [--scale X] [--rounds N] "
                 "[--max-depth D] [--random-forest] [--kinds K1,K2,...] [--overwrite]\n");
    return 2;
  }
  using nnmeter_test::kind_rows;
  std::vector<kind_rows> kinds = nnmeter_test::mobilenet_like_kinds();
  if (!only.empty()) {
    std::vector<kind_rows> kept;
    for (const kind_rows& k : kinds)
      if (only.find("," + std::string(nnmeter::to_string(k.kind)) + ",") != std::string::npos)
        kept.push_back(k);
    kinds = kept;
    if (kinds.empty()) {
      std::fprintf(stderr, "synthetic_predictor: --kinds names none of the kinds it trains\n");
      return 2;
    }
  }
  const nnmeter::feature_set set = nnmeter::feature_set::extended;
  try {
    nnmeter::predictor_info info;
    info.name = name;
    info.version = "1.0";
    info.device = "synthetic roofline (not a measured device)";
    info.backend = "synthetic";
    info.features = set;
    nnmeter::predictor p(info, nnmeter::default_rules());
    for (const kind_rows& k : kinds) {
      nb::sampler_options so;
      so.seed = 7;
      const auto n = static_cast<std::size_t>(static_cast<double>(k.n) * scale + 0.5);
      const std::vector<nb::kernel_config> cfgs = nb::sample_prior(k.kind, n < 20 ? 20 : n, so);
      std::mt19937_64 rng(11);
      std::vector<double> y;
      for (const nb::kernel_config& c : cfgs) y.push_back(nnmeter_test::noisy_latency_ms(c, rng));
      const nb::training_data d =
          nb::make_training_data(k.kind, cfgs, y, nnmeter::default_rules(), set);
      nb::train_options o;
      o.params = nb::default_train_params(k.kind);
      if (rounds > 0) o.params.rounds = rounds;
      if (max_depth > 0) o.params.max_depth = max_depth;
      if (random_forest) o.params.mode = nb::booster_mode::random_forest;
      const nb::train_result r = nb::train_kernel_model(d, o);
      std::printf("%-15s %5zu samples, %4zu trees, %7zu nodes, held-out within 10 %%: %.1f %%\n",
                  std::string(nnmeter::to_string(k.kind)).c_str(), d.rows(), r.forest.num_trees(),
                  r.forest.num_nodes(), 100 * r.holdout.within_10);
      p.set_forest(k.kind, r.forest);
      std::vector<nnmeter::feature_vector> rows;
      for (std::size_t i = 0; i < d.rows(); i += d.rows() / 4) {
        nnmeter::feature_vector fv;
        for (std::size_t j = 0; j < d.num_features(); ++j) fv.push_back(d.row(i)[j]);
        rows.push_back(fv);
      }
      p.record_golden(k.kind, rows, 4);
    }
    nnmeter::io::package_write_options wo;
    wo.overwrite = overwrite;
    nnmeter::io::write_predictor_package(p, out, wo);
    std::string kernel_list;
    for (const kind_rows& k : kinds)
      kernel_list += (kernel_list.empty() ? "" : ", ") + std::string(nnmeter::to_string(k.kind));
    const std::filesystem::path dir(out);
    std::ofstream meta(out + ".yaml", std::ios::trunc);
    meta << "name: " << name
         << "\nversion: \"1.0\"\ncategory: cpu\npackage_location: " << dir.filename().string()
         << "\nkernel_predictors: [" << kernel_list << "]\n";
    meta.close();
    if (!meta) throw nnmeter::error(out + ".yaml: cannot write the meta file");
    std::printf("wrote %s and %s.yaml\n", out.c_str(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synthetic_predictor: %s\n", e.what());
    return 1;
  }
  return 0;
}
