// nnmeter CLI — `nnmeter zoo`: generated models of nn-Meter's dataset families
// (tools/model_zoo), written as ONNX or nn-Meter IR files.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#if NNMETER_CLI_WITH_ONNX
#include <nnmeter/io/onnx_write.hpp>
#endif
#if NNMETER_WITH_MODEL_ZOO && NNMETER_BUILDER_WITH_PACKAGE
#define NNMETER_CLI_ZOO 1
#include "builder/package/atomic_file.hpp"
#include "model_zoo/zoo.hpp"
#else
#define NNMETER_CLI_ZOO 0
#endif

#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace nnmeter_cli {

namespace {

namespace fs = std::filesystem;

struct zoo_options {
  std::vector<std::string> families;
  std::size_t count = 1;
  std::uint64_t seed = 1;
  std::string out;
  std::string format = "onnx";
  bool weights = false;
  bool json = false;
};

#if NNMETER_CLI_ZOO

namespace zoo = nnmeter::zoo;

std::string all_families() {
  std::string s;
  for (zoo::family f : zoo::families()) s += (s.empty() ? "" : ", ") + std::string(zoo::to_string(f));
  return s;
}

int run_zoo(const zoo_options& o) {
  std::vector<zoo::family> fams;
  for (const std::string& name : o.families) {
    if (name == "all") {
      fams.insert(fams.end(), zoo::families().begin(), zoo::families().end());
      continue;
    }
    const auto f = zoo::parse_family(name);
    if (!f)
      throw nnmeter::error("zoo: --family '" + name + "' is not a family (" + all_families() +
                           ", or all)");
    fams.push_back(*f);
  }
  if (o.format == "onnx") {
#if !NNMETER_CLI_WITH_ONNX
    throw nnmeter::error("zoo: this nnmeter was built without nnmeter::onnx; use --format ir");
#endif
  }
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out))
    throw nnmeter::error("zoo: --out " + o.out + ": cannot create the folder" +
                         (ec ? " (" + ec.message() + ")" : std::string()));
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::string csv = "name,family,seed,index,nodes,file,config\n";
  for (zoo::family f : fams) {
    for (std::size_t i = 0; i < o.count; ++i) {
      const zoo::zoo_model m = zoo::generate(f, o.seed, i);
      const std::string file = m.name + (o.format == "onnx" ? ".onnx" : ".ir.json");
      std::string bytes;
      if (o.format == "onnx") {
#if NNMETER_CLI_WITH_ONNX
        nnmeter::io::onnx_write_options wo;
        wo.seed = o.seed;
        wo.with_weights = o.weights;
        wo.graph_name = m.name;
        bytes = nnmeter::io::to_onnx_bytes(m.graph, wo);
#endif
      } else {
        bytes = nnmeter::io::write_nnmeter_ir(m.graph) + "\n";
      }
      nnmeter::builder::write_file_atomically(fs::path(o.out) / file, bytes);
      std::string quoted;
      for (char c : m.config) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      csv += m.name + "," + std::string(zoo::to_string(f)) + "," + std::to_string(o.seed) + "," +
             std::to_string(i) + "," + std::to_string(m.graph.num_nodes()) + "," + file + ",\"" +
             quoted + "\"\n";
      nlohmann::ordered_json e = nlohmann::ordered_json::object();
      e["name"] = m.name;
      e["family"] = std::string(zoo::to_string(f));
      e["index"] = i;
      e["nodes"] = m.graph.num_nodes();
      e["file"] = file;
      e["config"] = nlohmann::ordered_json::parse(m.config);
      list.push_back(std::move(e));
    }
  }
  nnmeter::builder::write_file_atomically(fs::path(o.out) / "zoo.csv", csv);
  if (o.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["out"] = o.out;
    j["format"] = o.format;
    j["seed"] = o.seed;
    j["models"] = std::move(list);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "wrote " << list.size() << " model(s) to " << o.out << " (" << o.format
              << "; list in zoo.csv)\n";
  }
  return 0;
}

#else

int run_zoo(const zoo_options&) {
  throw nnmeter::error("zoo: this nnmeter was built without the model zoo (tools/model_zoo) or "
                       "the builder's package library (tools/builder/package)");
}

#endif

}  // namespace

command add_zoo_command(CLI::App& app) {
  auto o = std::make_shared<zoo_options>();
  CLI::App* c = app.add_subcommand(
      "zoo", "Generate models of nn-Meter's dataset families (random widths, kernel sizes, "
             "depths, expansions, resolutions) as ONNX or nn-Meter IR files");
  c->add_option("--family", o->families,
                "family (alexnet, vgg, densenet, resnet, squeezenet, googlenet, mobilenetv1, "
                "mobilenetv2, mobilenetv3, shufflenetv2, mnasnet, proxylessnas, nasbench201) or "
                "all; repeatable")
      ->required();
  c->add_option("--count", o->count, "models per family")->check(CLI::Range(1, 100000));
  c->add_option("--seed", o->seed, "seed (equal seeds give byte-identical files)");
  c->add_option("--out", o->out, "output folder")->required();
  c->add_option("--format", o->format, "onnx or ir")->check(CLI::IsMember({"onnx", "ir"}));
  c->add_flag("--with-weights", o->weights,
              "ONNX: random weights (seeded) instead of a structure-only file");
  c->add_flag("--json", o->json, "print the models as JSON");
  return {c, [o] { return run_zoo(*o); }};
}

}  // namespace nnmeter_cli
