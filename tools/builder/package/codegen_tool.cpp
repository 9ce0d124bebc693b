// nnmeter builder — the build-time header generator: compiles a predictor package into a C++
// header (codegen.hpp) while nnmeter itself is being built, for the predictor the nnmeter
// program embeds (tools/CMakeLists.txt, NNMETER_DEFAULT_PREDICTOR). Not installed; users have
// `nnmeter codegen`.
//
//   nnmeter_codegen_tool PACKAGE_DIR OUT.hpp NAMESPACE
//
// SPDX-License-Identifier: MIT
#include "builder/package/codegen.hpp"

#include <nnmeter/io/json.hpp>

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: nnmeter_codegen_tool PACKAGE_DIR OUT.hpp NAMESPACE\n";
    return 2;
  }
  const std::string package = argv[1];
  try {
    const nnmeter::predictor p = nnmeter::io::load_predictor_package(package);
    nnmeter::builder::codegen_options o;
    o.cpp_namespace = argv[3];
    // The folder's name only: the header does not depend on where the source tree lives.
    std::filesystem::path dir = std::filesystem::path(package).lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();
    o.source = "package " + dir.filename().string();
    nnmeter::builder::write_predictor_header(p, argv[2], o);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "nnmeter_codegen_tool: " << package << ": " << e.what() << "\n";
    return 1;
  }
}
