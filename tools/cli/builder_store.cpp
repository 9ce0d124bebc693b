// nnmeter CLI — `nnmeter store`: what a workspace's profile store holds (tools/builder/store;
// docs/builder.md, "Profile store").
// SPDX-License-Identifier: MIT
#include "cli/builder_commands.hpp"

#if NNMETER_BUILDER_WITH_STORE && NNMETER_BUILDER_WITH_WORKSPACE
#include "builder/store/report.hpp"
#include "builder/store/store.hpp"
#include "builder/workspace/workspace.hpp"
#endif

#include <nnmeter.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

namespace nnmeter_cli {

namespace {

struct store_options {
  std::string workspace;
  std::string csv;
  bool json = false;
};

#if NNMETER_BUILDER_WITH_STORE && NNMETER_BUILDER_WITH_WORKSPACE

int run_store(const store_options& o) {
  namespace bs = nnmeter::builder;
  bs::check_workspace_folder(o.workspace);
  bs::workspace ws;
  ws.root = o.workspace;
  const std::filesystem::path file = ws.store_file();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (!o.csv.empty())
      throw nnmeter::error("store: " + file.string() +
                           ": no profile store (nothing has been measured in this workspace "
                           "yet), so there is nothing to export");
    bs::store_summary empty;
    empty.file = file.string();
    if (o.json)
      std::cout << bs::summary_json(empty).dump(2) << "\n";
    else
      std::cout << file.string() << ": no measurements yet\n";
    return 0;
  }
  bs::store_options so;
  so.read_only = true;
  const bs::profile_store store = bs::profile_store::open(file, so);
  const bs::store_summary s = store.summary();
  if (!o.csv.empty()) store.export_csv(o.csv);
  if (o.json) {
    nlohmann::ordered_json j = bs::summary_json(s);
    if (!o.csv.empty()) j["csv"] = o.csv;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << bs::summary_table(s);
  if (!o.csv.empty()) std::cout << "\nexported " << s.rows << " rows to " << o.csv << "\n";
  return 0;
}

#else

int run_store(const store_options&) {
  throw nnmeter::error(
      "store: this nnmeter was built without the builder's store library "
      "(nnmeter_builder_store needs SQLiteCpp, SQLite and OpenSSL: apt-get install "
      "libsqlitecpp-dev libsqlite3-dev libssl-dev)");
}

#endif

}  // namespace

command add_store_command(CLI::App& app) {
  auto o = std::make_shared<store_options>();
  CLI::App* cmd = app.add_subcommand(
      "store",
      "Summarise a workspace's profile store: measurements per kernel kind, failures, "
      "time spent (docs/builder.md)");
  cmd->add_option("--workspace", o->workspace, "the workspace folder")->required();
  cmd->add_option("--csv", o->csv, "also export every measurement to this CSV file");
  cmd->add_flag("--json", o->json, "print JSON");
  return command{cmd, [o] { return run_store(*o); }};
}

}  // namespace nnmeter_cli
