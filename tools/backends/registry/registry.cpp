// nnmeter backends — the registry: available_backends() and make_backend(name).
// SPDX-License-Identifier: MIT
#include "backend.hpp"

#if NNMETER_BACKENDS_WITH_XNNPACK
#include "xnnpack/backend_adapter.hpp"
#endif

#include <string>
#include <vector>

namespace nnmeter::backends {

namespace {

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
#if NNMETER_BACKENDS_WITH_XNNPACK
  out.emplace_back("xnnpack");
#endif
  return out;
}

std::unique_ptr<backend> make_backend(const std::string& name) {
#if NNMETER_BACKENDS_WITH_XNNPACK
  if (name == "xnnpack") return make_xnnpack_backend();
#else
  if (name == "xnnpack")
    throw backend_error(
        "backend 'xnnpack' is not in this build: XNNPACK (libxnnpack-dev, libpthreadpool-dev, "
        "libcpuinfo-dev) was not found when nnmeter was configured; available backends: " +
        join(available_backends()));
#endif
  throw backend_error("unknown backend '" + name + "'; available backends: " +
                      join(available_backends()));
}

}  // namespace nnmeter::backends
