// nnmeter CLI — `nnmeter codegen`: a registered predictor or a package folder compiled into a
// C++ header (tools/builder/package/codegen.hpp; docs/codegen.md).
// SPDX-License-Identifier: MIT
#include "cli/builder_commands.hpp"
#include "cli/option_ranges.hpp"

#if NNMETER_BUILDER_WITH_PACKAGE
#include "builder/package/atomic_file.hpp"
#include "builder/package/codegen.hpp"
#include "builder/package/registry.hpp"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace nnmeter_cli {

namespace {

struct codegen_cli_options {
  std::string predictor;
  std::string version;
  std::string package;
  std::string out;
  std::string ns;
  std::string guard;
  std::size_t static_asserts = 2;
  std::size_t constexpr_nodes = 200000;
};

#if NNMETER_BUILDER_WITH_PACKAGE
// The folder's own name ("results/cpu/" -> "cpu"): the banner names the package without the
// machine's paths, so a header regenerated elsewhere is the same file.
std::string folder_name(const std::string& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}
#endif

}  // namespace

command add_codegen_command(CLI::App& app) {
  auto o = std::make_shared<codegen_cli_options>();
  CLI::App* c = app.add_subcommand(
      "codegen",
      "Compile a predictor into a C++ header that embeds it: constexpr tables, no file at run "
      "time (docs/codegen.md)");
  CLI::Option* pred = c->add_option("--predictor", o->predictor, "a registered predictor's name");
  c->add_option("--predictor-version", o->version, "its version (default: the newest)")
      ->needs(pred);
  CLI::Option* pkg = c->add_option("--package", o->package, "a predictor package folder");
  pred->excludes(pkg);
  c->add_option("--out", o->out, "the header to write (FILE.hpp)")->required();
  c->add_option("--namespace", o->ns,
                "C++ namespace of the generated code (default: nnmeter_devices::<name>)");
  c->add_option("--include-guard", o->guard, "include-guard macro (default: #pragma once)");
  add_bounded_option(c, "--static-asserts", o->static_asserts,
                     "golden cases per kernel kind that the header checks with a static_assert",
                     std::size_t{0}, std::size_t{1000000});
  add_bounded_option(c, "--constexpr-nodes", o->constexpr_nodes,
                     "nodes kept as constexpr arrays, all kinds together, smallest forests "
                     "first; the other forests become string blobs (docs/codegen.md)",
                     std::size_t{0}, std::size_t{1000000000});
  return {c, [o]() -> int {
#if NNMETER_BUILDER_WITH_PACKAGE
            namespace nb = nnmeter::builder;
            if (o->predictor.empty() && o->package.empty())
              throw nnmeter::error("codegen: give --predictor NAME or --package DIR");
            // Options first: a typo costs no package load.
            if (!o->ns.empty())
              if (const std::string why = nb::codegen_namespace_problem(o->ns); !why.empty())
                throw nnmeter::error("--namespace: " + why);
            if (!o->guard.empty())
              if (const std::string why = nb::codegen_guard_problem(o->guard); !why.empty())
                throw nnmeter::error("--include-guard: " + why);
            nnmeter::predictor p;
            nb::codegen_options co;
            std::string label;  // what errors about the predictor name
            if (!o->package.empty()) {
              label = o->package;
              p = nnmeter::io::load_predictor_package(o->package);
              co.source = "package " + folder_name(o->package);
            } else {
              // As `nnmeter predict` resolves it: the newest version unless one is given.
              const nb::predictor_registry reg = nb::predictor_registry::open();
              const std::optional<std::string> v =
                  o->version.empty() ? std::nullopt : std::optional<std::string>(o->version);
              const nb::predictor_meta& meta = reg.find(o->predictor, v);
              label = meta.package_location.string();
              p = reg.load(o->predictor, v);
              // No path: the header is the same wherever the package lives.
              co.source = "registered predictor " + meta.name + ", version " + meta.version;
            }
            co.cpp_namespace = o->ns;
            co.include_guard = o->guard;
            co.static_assert_cases = o->static_asserts;
            co.constexpr_node_budget = o->constexpr_nodes;
            std::string text;
            try {
              text = nb::generate_predictor_header(p, co);
            } catch (const nnmeter::error& e) {
              throw nnmeter::error(label + ": " + e.what());
            }
            nb::write_file_atomically(o->out, text);
            std::cout << "Wrote " << o->out << ": predictor " << p.info().name << " version "
                      << p.info().version << ", " << text.size() << " bytes\n";
            return 0;
#else
            throw nnmeter::error(
                "this nnmeter was built without the builder's package part (tools/builder/"
                "package: needs yaml-cpp, Debian libyaml-cpp-dev)");
#endif
          }};
}

}  // namespace nnmeter_cli
