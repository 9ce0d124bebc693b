// nnmeter builder — predictor meta files and the predictor registry (docs/builder.md,
// "Registry"). Target nnmeter_builder_package.
// SPDX-License-Identifier: MIT
//
//   namespace nb = nnmeter::builder;
//   const nb::predictor_meta m = nb::read_predictor_meta("results/cpu/cpu.yaml");
//   nb::predictor_registry reg = nb::predictor_registry::open();   // $NNMETER_CONFIG_DIR, XDG
//   reg.add(nb::check_package(m));          // package loads, every kernel model, golden cases
//   reg.set_default("cpu", "1.0");          // what `nnmeter predict` uses without --predictor
//   reg.save();                             // temp file + rename
//   const nnmeter::predictor p = reg.load("cpu");   // the newest version of "cpu"
//
// The header needs no yaml-cpp header.
#pragma once

#include <nnmeter.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nnmeter::builder {

/// A predictor's meta file (<name>.yaml), with nn-Meter's keys: name, version, category,
/// package_location (the package folder; relative to the meta file's folder when relative),
/// kernel_predictors (the kernel kinds the package has models for).
struct predictor_meta {
  std::string name;
  std::string version;
  std::string category;
  /// Absolute path of the package folder.
  std::filesystem::path package_location;
  std::vector<std::string> kernel_predictors;
  /// The meta file it was read from (empty when made in code).
  std::filesystem::path file;
};

/// Reads a meta file. Throws nnmeter::error naming the file, the key and its line for a file
/// that is missing or not YAML, a missing or mistyped key, or an unknown key.
[[nodiscard]] predictor_meta read_predictor_meta(const std::filesystem::path& file);

/// Writes a meta file (temp file + rename); package_location is written relative to the meta
/// file's folder when it is inside it.
void write_predictor_meta(const predictor_meta& m, const std::filesystem::path& file);

/// The meta of a written package: name, version and kinds from its manifest.
[[nodiscard]] predictor_meta meta_of_package(const std::filesystem::path& package_dir,
                                             const std::string& category);

/// Loads the package of `m` and checks it: it reads, its manifest's name and version are the
/// meta's, every listed kernel predictor has a forest, and its golden cases reproduce. Returns
/// `m`; throws nnmeter::error naming the meta file and what is wrong.
const predictor_meta& check_package(const predictor_meta& m);

/// The folder the registry lives in: $NNMETER_CONFIG_DIR, else $XDG_CONFIG_HOME/nnmeter, else
/// $HOME/.config/nnmeter.
[[nodiscard]] std::filesystem::path config_dir();

/// The registry's default predictor: what `nnmeter predict` uses when given no --predictor
/// (`nnmeter calibrate` sets it to the predictor it adapted to this machine).
struct registry_default {
  std::string name;
  std::string version;
};

/// The user's registered predictors (registry.yaml in config_dir()), and which of them is the
/// default, if any.
class predictor_registry {
 public:
  /// Reads the registry of `dir` (default: config_dir()); a missing file is an empty registry.
  /// Throws nnmeter::error naming the file and line for a damaged one.
  [[nodiscard]] static predictor_registry open(std::optional<std::filesystem::path> dir = {});

  const std::vector<predictor_meta>& entries() const noexcept { return entries_; }
  const std::filesystem::path& file() const noexcept { return file_; }

  /// Adds `m`, replacing an entry of the same name and version; returns true when it replaced.
  bool add(const predictor_meta& m);
  /// Removes the entries of `name` (only `version` when given); returns how many, and clears
  /// the default when it was one of them. Throws nnmeter::error when none matches, listing the
  /// registered names.
  std::size_t remove(const std::string& name, const std::optional<std::string>& version = {});
  /// The entry of `name` (`version`, else the newest by version order, 1.10 after 1.9).
  /// Throws nnmeter::error when there is none, listing what is registered (with a "did you
  /// mean").
  [[nodiscard]] const predictor_meta& find(const std::string& name,
                                           const std::optional<std::string>& version = {}) const;
  /// Loads the predictor of find(name, version); a package that is gone or damaged is an
  /// error naming the registry entry and the package file.
  [[nodiscard]] nnmeter::predictor load(const std::string& name,
                                        const std::optional<std::string>& version = {}) const;

  /// Makes the registered `name` `version` the default; throws find()'s error when it is not
  /// registered.
  void set_default(const std::string& name, const std::string& version);
  void clear_default() noexcept { default_.reset(); }
  /// The default, if one is set (open() checks that it is registered).
  const std::optional<registry_default>& default_predictor() const noexcept { return default_; }

  /// Writes the registry atomically (temp file + rename; the folder is created).
  void save() const;

 private:
  std::filesystem::path file_;
  std::vector<predictor_meta> entries_;
  std::optional<registry_default> default_;
};

/// -1, 0, 1 as a < b, a == b, a > b in version order (numeric parts compared as numbers).
int compare_versions(const std::string& a, const std::string& b);

}  // namespace nnmeter::builder
