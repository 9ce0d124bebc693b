// Test helper: compile C++ with a compiler the test build knows (the build's own, and g++ /
// clang++ when installed), e.g. a generated header. Needs the definitions NNMETER_TEST_CXX,
// NNMETER_TEST_CXX_STANDARD, NNMETER_TEST_GXX, NNMETER_TEST_CLANGXX and NNMETER_SOURCE_DIR
// (tests/CMakeLists.txt sets them).
// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "support/run_command.hpp"

namespace nnmeter_test {

/// A compiler and a language standard ("c++17").
struct cxx_compiler {
  std::string path;
  std::string standard;
  std::string label() const { return path + " -std=" + standard; }
};

/// The compiler and standard the tests are built with.
inline cxx_compiler build_compiler() { return {NNMETER_TEST_CXX, NNMETER_TEST_CXX_STANDARD}; }

/// g++ and clang++ (those installed), each with C++17 and C++20.
inline std::vector<cxx_compiler> compiler_matrix() {
  std::vector<cxx_compiler> m;
  for (const char* cxx : {NNMETER_TEST_GXX, NNMETER_TEST_CLANGXX})
    if (*cxx != '\0')
      for (const char* std : {"c++17", "c++20"}) m.push_back({cxx, std});
  return m;
}

/// The project's warning flags as errors (cmake/nnmeterDevFlags.cmake).
inline std::string strict_warnings() {
  return "-Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror";
}

/// Runs `c` with the standard, the project's include/ (single_include/ first when the tests run
/// against the single header), the extra include folders and `args`; compiler messages are in
/// the result's output.
inline command_result compile(const cxx_compiler& c, const std::vector<std::string>& include_dirs,
                              const std::string& args) {
  std::string cmd = shell_quote(c.path) + " -std=" + c.standard;
  if (NNMETER_TEST_SINGLE_HEADER) cmd += " -I" + shell_quote(NNMETER_SOURCE_DIR "/single_include");
  cmd += " -I" + shell_quote(NNMETER_SOURCE_DIR "/include");
  for (const std::string& d : include_dirs) cmd += " -I" + shell_quote(d);
  return run_command(cmd + " " + args, true);
}

}  // namespace nnmeter_test
