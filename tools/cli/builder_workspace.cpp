// nnmeter CLI — `nnmeter create`: a builder workspace with nn-Meter's three config files
// (tools/builder/workspace; docs/builder.md, docs/configuration.md).
// SPDX-License-Identifier: MIT
#include "cli/builder_commands.hpp"

#if NNMETER_BUILDER_WITH_WORKSPACE
#include "builder/workspace/workspace.hpp"
#endif
#if NNMETER_WITH_BACKENDS
#include "backend.hpp"
#endif

#include <nnmeter.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace nnmeter_cli {

namespace {

struct create_options {
  std::string xnnpack;
  std::string tflite;
  std::string customized;
  std::string backend;
  bool force = false;
};

#if NNMETER_BUILDER_WITH_WORKSPACE

int run_create(const create_options& o) {
  namespace bw = nnmeter::builder;
  const int given = !o.xnnpack.empty() + !o.tflite.empty() + !o.customized.empty();
  if (given != 1)
    throw nnmeter::error(
        "create: give exactly one of --xnnpack-workspace, --tflite-workspace, "
        "--customized-workspace");
  bw::create_options c;
  std::string dir;
  if (!o.xnnpack.empty()) {
    c.kind = bw::workspace_kind::xnnpack;
    dir = o.xnnpack;
  } else if (!o.tflite.empty()) {
    c.kind = bw::workspace_kind::tflite;
    dir = o.tflite;
  } else {
    c.kind = bw::workspace_kind::customized;
    dir = o.customized;
  }
  if (c.kind == bw::workspace_kind::customized) {
    if (o.backend.empty())
      throw nnmeter::error("create: --customized-workspace needs --backend NAME");
#if NNMETER_WITH_BACKENDS
    const std::vector<std::string> known = nnmeter::backends::available_backends();
    if (std::find(known.begin(), known.end(), o.backend) == known.end()) {
      std::string list;
      for (const std::string& n : known) list += (list.empty() ? "" : ", ") + n;
      const std::string near = bw::closest_match(o.backend, known);
      throw nnmeter::error("create: unknown backend '" + o.backend + "'" +
                           (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                           "; this build has: " + (list.empty() ? "none" : list));
    }
#endif
    c.backend = o.backend;
  } else if (!o.backend.empty()) {
    throw nnmeter::error("create: --backend goes with --customized-workspace (the " +
                         std::string(bw::to_string(c.kind)) + " workspace has its backend)");
  }
  c.force = o.force;
  const bw::workspace ws = bw::create_workspace(dir, c);
  std::cout << "Workspace " << ws.root.string() << " for the " << ws.backend.backend
            << " backend has been created" << (o.force ? " (config files rewritten)" : "")
            << ".\nEdit its configs in " << ws.configs_dir().string()
            << "/: " << bw::backend_config_name << ", " << bw::ruletest_config_name << ", "
            << bw::predictorbuild_config_name << " (docs/configuration.md).\n";
  return 0;
}

#else

int run_create(const create_options&) {
  throw nnmeter::error(
      "create: this nnmeter was built without the builder's workspace library "
      "(nnmeter_builder_workspace needs yaml-cpp: apt-get install libyaml-cpp-dev)");
}

#endif

}  // namespace

command add_create_command(CLI::App& app) {
  auto o = std::make_shared<create_options>();
  CLI::App* cmd = app.add_subcommand(
      "create", "Create a builder workspace with nn-Meter's config files (docs/builder.md)");
  CLI::Option* x = cmd->add_option("--xnnpack-workspace", o->xnnpack,
                                   "workspace for this machine's CPU through XNNPACK");
  CLI::Option* t = cmd->add_option("--tflite-workspace", o->tflite,
                                   "workspace for a phone over ADB (TFLite's benchmark_model)");
  CLI::Option* c = cmd->add_option("--customized-workspace", o->customized,
                                   "workspace for the backend given with --backend");
  x->excludes(t)->excludes(c);
  t->excludes(c);
  cmd->add_option("--backend", o->backend, "backend of a customized workspace");
  cmd->add_flag("--force", o->force,
                "rewrite the config files of an existing workspace with the defaults "
                "(measurements are kept)");
  return command{cmd, [o] { return run_create(*o); }};
}

}  // namespace nnmeter_cli
