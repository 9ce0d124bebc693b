// nnmeter CLI — the embedded default predictor (default_predictor.hpp).
// SPDX-License-Identifier: MIT
#include "cli/default_predictor.hpp"

#if NNMETER_CLI_DEFAULT_PREDICTOR
#include "nnmeter_default_predictor.hpp"  // generated at build time (tools/CMakeLists.txt)
#endif
#if NNMETER_WITH_BACKENDS
#include "backend.hpp"
#endif
#if NNMETER_BUILDER_WITH_PACKAGE
#include "builder/package/registry.hpp"
#endif

#include <filesystem>
#include <optional>

namespace nnmeter_cli {

const nnmeter::predictor* embedded_predictor() {
#if NNMETER_CLI_DEFAULT_PREDICTOR
  static const nnmeter::predictor p = nnmeter_default_predictor::make_predictor();
  return &p;
#else
  return nullptr;
#endif
}

chosen_predictor default_predictor(const std::string& who, bool embedded_only) {
  chosen_predictor c;
#if NNMETER_BUILDER_WITH_PACKAGE
  // No folder for a registry (no HOME, no XDG_CONFIG_HOME, no NNMETER_CONFIG_DIR): no default
  // can have been set, the embedded predictor it is. A damaged registry is an error.
  std::optional<std::filesystem::path> dir;
  try {
    dir = nnmeter::builder::config_dir();
  } catch (const nnmeter::error&) {
  }
  if (!embedded_only && dir) {
    const nnmeter::builder::predictor_registry reg = nnmeter::builder::predictor_registry::open(dir);
    if (const auto& d = reg.default_predictor()) {
      c.predictor = reg.load(d->name, d->version);  // names the entry when it cannot
      c.embedded = false;
      c.package = reg.find(d->name, d->version).package_location.string();
      c.label = "the registry's default";
    }
  }
#else
  (void)embedded_only;
#endif
  if (c.embedded) {
    const nnmeter::predictor* d = embedded_predictor();
    if (d == nullptr)
      throw nnmeter::error(who + ": give --predictor NAME (this nnmeter was built without an "
                                 "embedded default predictor: NNMETER_DEFAULT_PREDICTOR)");
    c.predictor = *d;
    c.package = "embedded";
    c.label = "the embedded default";
  }
  // The embedded header's golden cases were checked when it was compiled; they are checked
  // again here, as `register` checks a package's.
  const nnmeter::verify_result v = c.predictor.verify();
  if (!v.ok())
    throw nnmeter::error(who + ": predictor " + c.predictor.info().name + " (" + c.label +
                         ") does not reproduce its golden cases (" +
                         (v.failures.empty() ? std::string("none") : v.failures.front()) + ")");
  return c;
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
