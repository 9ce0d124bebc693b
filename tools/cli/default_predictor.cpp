// nnmeter CLI — the embedded default predictor (default_predictor.hpp).
// SPDX-License-Identifier: MIT
#include "cli/default_predictor.hpp"

#if NNMETER_CLI_DEFAULT_PREDICTOR
#include "nnmeter_default_predictor.hpp"  // generated at build time (tools/CMakeLists.txt)
#endif
#if NNMETER_WITH_BACKENDS
#include "backend.hpp"
#endif

namespace nnmeter_cli {

const nnmeter::predictor* embedded_predictor() {
#if NNMETER_CLI_DEFAULT_PREDICTOR
  static const nnmeter::predictor p = nnmeter_default_predictor::make_predictor();
  return &p;
#else
  return nullptr;
#endif
}

std::string this_cpu() {
#if NNMETER_WITH_BACKENDS
  return nnmeter::backends::host_cpu_description();
#else
  return {};
#endif
}

namespace {
// "AMD EPYC (family 25, model 17; 2 logical CPUs), x86_64" -> "AMD EPYC (family 25, model 17".
std::string cpu_identity(const std::string& device) {
  const std::size_t semi = device.find(';');
  if (semi == std::string::npos || device.find("(family ") == std::string::npos) return {};
  return device.substr(0, semi);
}
}  // namespace

cpu_match same_cpu(const std::string& device) {
  const std::string here = cpu_identity(this_cpu());
  const std::string there = cpu_identity(device);
  if (here.empty() || there.empty()) return cpu_match::unknown;
  return here == there ? cpu_match::same : cpu_match::different;
}

}  // namespace nnmeter_cli
