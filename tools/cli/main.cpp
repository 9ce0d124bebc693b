// nnmeter — the command-line tool. See docs/cli.md.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <CLI/CLI.hpp>

#include "cli/builder_commands.hpp"
#include "cli/commands.hpp"
#include "cli/model_input.hpp"

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <new>
#include <string>
#include <vector>

namespace {

struct kernels_options {
  nnmeter_cli::model_options model;
  std::string rules;
  bool json = false;
};

std::string shape_text(const nnmeter::tensor_shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.rank(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[static_cast<std::ptrdiff_t>(i)]);
  }
  return out + "]";
}

std::string number_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

nnmeter::rule_set load_rules(const std::string& path) {
  if (path.empty()) return nnmeter::default_rules();
  try {
    return nnmeter::io::load_fusion_rules(path);
  } catch (...) {
    nnmeter_cli::rethrow_naming(path);
  }
}

int print_kernels(const kernels_options& o, const nnmeter_cli::loaded_model& m,
                  const nnmeter::rule_set& rules);

int run_kernels(const kernels_options& o) {
  const nnmeter_cli::loaded_model m = nnmeter_cli::load_model(o.model);
  const nnmeter::rule_set rules = load_rules(o.rules);
  try {
    return print_kernels(o, m, rules);
  } catch (...) {
    nnmeter_cli::rethrow_naming(m.path);  // detection errors name the model's file too
  }
}

int print_kernels(const kernels_options& o, const nnmeter_cli::loaded_model& m,
                  const nnmeter::rule_set& rules) {
  const nnmeter::graph& g = m.graph;
  const nnmeter::detection d = nnmeter::detect(g, rules);
  auto node_name = [&](nnmeter::node_index i) { return g.name(i); };
  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["model"] = m.path;
    out["model_type"] = m.type;
    out["fusion_rules"] = o.rules.empty() ? std::string("default (nn-Meter tflite_cpu)") : o.rules;
    const nlohmann::ordered_json det = nnmeter::io::detection_to_json(d, g.num_nodes(), node_name);
    for (auto it = det.begin(); it != det.end(); ++it) out[it.key()] = it.value();
    if (!m.accounting.is_null()) {
      // One accounting section: where the file's nodes went (import), then where the graph's
      // nodes went (detection).
      nlohmann::ordered_json acc = m.accounting;
      for (auto it = out["accounting"].begin(); it != out["accounting"].end(); ++it)
        acc[it.key()] = it.value();
      out["accounting"] = std::move(acc);
    }
    out["warnings"] = m.warnings;
    // Names come from the model file and need not be UTF-8: invalid bytes become U+FFFD.
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  for (const std::string& w : m.warnings) std::cerr << "nnmeter: warning: " << w << "\n";
  if (!m.accounting.is_null()) {
    const nlohmann::ordered_json& a = m.accounting;
    std::cout << m.path << ": ONNX opset " << a["opset"].get<std::int64_t>() << ", "
              << a["nodes_in_file"].get<std::size_t>() << " nodes in the file: "
              << a["imported"].get<std::size_t>() << " imported (" << a["other"].get<std::size_t>()
              << " as 'other'), " << a["folded"].get<std::size_t>() << " folded, "
              << a["aliased"].get<std::size_t>() << " aliased, "
              << a["constants"].get<std::size_t>() << " constants\n";
  }
  std::cout << m.path << ": " << g.num_nodes() << " nodes, " << d.kernels.size()
            << " kernels, " << d.free_nodes.size() << " free nodes (inputs, constants)\n";
  std::size_t i = 0;
  for (const nnmeter::kernel& k : d.kernels) {
    std::string in;
    for (const auto& s : k.input_tensors) in += (in.empty() ? "" : " ") + shape_text(s);
    std::string out;
    for (const auto& s : k.output_tensors) out += (out.empty() ? "" : " ") + shape_text(s);
    std::string feats;
    for (double x : nnmeter::features(k, nnmeter::feature_set::nnmeter))
      feats += (feats.empty() ? "" : ",") + number_text(x);
    std::cout << ++i << "\t" << k.name << "\t" << nnmeter::to_string(k.kind) << "\tin " << in
              << "\tout " << out << "\tfeatures [" << feats << "]\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nnmeter: predict the latency of a DNN on an edge device without running it there"};
  app.set_version_flag("--version", std::string("nnmeter ") + nnmeter::version_string);
  app.require_subcommand(0, 1);
  bool list = false;
  app.add_flag("--list-predictors", list, "list the registered predictors (nn-Meter's spelling)");

  kernels_options ko;
  CLI::App* kernels = app.add_subcommand(
      "kernels", "Detect the kernels of a model under a device's fusion rules and print them");
  nnmeter_cli::add_model_options(kernels, ko.model);
  kernels->add_option("--rules", ko.rules,
                      "fusion-rule JSON file (nn-Meter format; default: nn-Meter's TFLite CPU rules)");
  kernels->add_flag("--json", ko.json, "print JSON (kernels, features, accounting)");

  const nnmeter_cli::command profile = nnmeter_cli::add_profile_command(app);
  const nnmeter_cli::command create = nnmeter_cli::add_create_command(app);
  const nnmeter_cli::command connect = nnmeter_cli::add_connect_command(app);
  const nnmeter_cli::command detect = nnmeter_cli::add_detect_rules_command(app);
  const nnmeter_cli::command build = nnmeter_cli::add_build_predictor_command(app);
  const nnmeter_cli::command priors = nnmeter_cli::add_priors_command(app);
  const nnmeter_cli::command store = nnmeter_cli::add_store_command(app);
  const nnmeter_cli::command reg = nnmeter_cli::add_register_command(app);
  const nnmeter_cli::command unreg = nnmeter_cli::add_unregister_command(app);
  const nnmeter_cli::command predict = nnmeter_cli::add_predict_command(app);
  const nnmeter_cli::command codegen = nnmeter_cli::add_codegen_command(app);
  const nnmeter_cli::command zoo = nnmeter_cli::add_zoo_command(app);
  const nnmeter_cli::command evaluate = nnmeter_cli::add_evaluate_command(app);
  const nnmeter_cli::command calibrate = nnmeter_cli::add_calibrate_command(app);

  CLI11_PARSE(app, argc, argv);
  if (!list && app.get_subcommands().empty()) {
    std::cerr << "nnmeter: a command is required (nnmeter --help lists them)\n";
    return 2;
  }
  try {
    if (list && app.get_subcommands().empty()) return nnmeter_cli::list_predictors();
    if (kernels->parsed()) return run_kernels(ko);
    if (profile.app->parsed()) return profile.run();
    if (create.app->parsed()) return create.run();
    if (connect.app->parsed()) return connect.run();
    if (detect.app->parsed()) return detect.run();
    if (build.app->parsed()) return build.run();
    if (priors.app->parsed()) return priors.run();
    if (store.app->parsed()) return store.run();
    if (reg.app->parsed()) return reg.run();
    if (unreg.app->parsed()) return unreg.run();
    if (predict.app->parsed()) return predict.run();
    if (codegen.app->parsed()) return codegen.run();
    if (zoo.app->parsed()) return zoo.run();
    if (evaluate.app->parsed()) return evaluate.run();
    if (calibrate.app->parsed()) return calibrate.run();
  } catch (const nnmeter::error& e) {
    std::cerr << "nnmeter: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {  // commands name their files; this is the last resort
    std::cerr << "nnmeter: error: not enough memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "nnmeter: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
