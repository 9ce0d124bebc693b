// nnmeter builder — prior tables: layer configurations of real models, nn-Meter's CSV files
// (conv.csv, dwconv.csv, fc.csv, pooling.csv), the sampler's source of distributions.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nnmeter::builder {

/// A row of conv.csv or dwconv.csv: model, input_h, input_w, cin, cout, ks, stride, groups.
struct conv_prior {
  std::string model;
  std::int64_t input_h = 0, input_w = 0, cin = 0, cout = 0, ks = 0, stride = 0, groups = 0;
  friend bool operator==(const conv_prior& a, const conv_prior& b) {
    return a.model == b.model && a.input_h == b.input_h && a.input_w == b.input_w &&
           a.cin == b.cin && a.cout == b.cout && a.ks == b.ks && a.stride == b.stride &&
           a.groups == b.groups;
  }
};

/// A row of fc.csv: model, cin, cout.
struct fc_prior {
  std::string model;
  std::int64_t cin = 0, cout = 0;
  friend bool operator==(const fc_prior& a, const fc_prior& b) {
    return a.model == b.model && a.cin == b.cin && a.cout == b.cout;
  }
};

/// A row of pooling.csv: model, input_h, input_w, cin, cout, ks, stride.
struct pool_prior {
  std::string model;
  std::int64_t input_h = 0, input_w = 0, cin = 0, cout = 0, ks = 0, stride = 0;
  friend bool operator==(const pool_prior& a, const pool_prior& b) {
    return a.model == b.model && a.input_h == b.input_h && a.input_w == b.input_w &&
           a.cin == b.cin && a.cout == b.cout && a.ks == b.ks && a.stride == b.stride;
  }
};

/// The four tables, as nn-Meter's prior_config_lib holds them.
struct prior_tables {
  std::vector<conv_prior> conv;     ///< dense and grouped convolutions (conv.csv)
  std::vector<conv_prior> dwconv;   ///< depthwise convolutions, groups == cin (dwconv.csv)
  std::vector<fc_prior> fc;         ///< fully connected layers (fc.csv)
  std::vector<pool_prior> pooling;  ///< max and average pooling (pooling.csv)
  /// extract_priors only: kernels that belong in a table but could not be tabled, one line
  /// each ("<model>: kernel '<name>': <why>"), e.g. an unknown (-1) dimension. Never written.
  std::vector<std::string> skipped;
};

/// nn-Meter's own tables (1251 conv, 276 dwconv, 28 fc and 54 pooling rows, Microsoft, MIT
/// licence: tools/builder/sampler/priors/NOTICE.md), compiled into the library.
[[nodiscard]] const prior_tables& nnmeter_priors();

/// File names of the tables in a folder: conv.csv, dwconv.csv, fc.csv, pooling.csv.
inline constexpr const char* prior_file_names[] = {"conv.csv", "dwconv.csv", "fc.csv",
                                                   "pooling.csv"};

/// Parses a table's text. The header must be nn-Meter's ("model,input_h,input_w,cin,cout,ks,
/// stride,groups"; "model,cin,cout"; "model,input_h,input_w,cin,cout,ks,stride"), every row
/// must have as many fields, and every number must be an integer >= 1. Blank lines and a
/// trailing '\r' are accepted. Throws nnmeter::parse_error "<source>: line <n>: ..." naming the
/// column.
[[nodiscard]] std::vector<conv_prior> parse_conv_priors(std::string_view text,
                                                        std::string_view source);
[[nodiscard]] std::vector<fc_prior> parse_fc_priors(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<pool_prior> parse_pool_priors(std::string_view text,
                                                        std::string_view source);

/// The CSV text of a table (nn-Meter's header and column order, '\n' line ends).
[[nodiscard]] std::string to_csv(const std::vector<conv_prior>& rows);
[[nodiscard]] std::string to_csv(const std::vector<fc_prior>& rows);
[[nodiscard]] std::string to_csv(const std::vector<pool_prior>& rows);

/// Reads conv.csv, dwconv.csv, fc.csv and pooling.csv from `dir`. Throws nnmeter::parse_error
/// naming the file when one is missing or unreadable, and the parser's errors.
[[nodiscard]] prior_tables read_prior_tables(const std::filesystem::path& dir);

/// Writes the four files into `dir` (created if needed), each to a temporary name first and
/// then renamed, so a reader never sees half a file. Throws nnmeter::error naming the file.
void write_prior_tables(const prior_tables& tables, const std::filesystem::path& dir);

/// Adds the layers of one model to `tables`: the kernels nnmeter::detect finds in `g` under
/// `rules`, by the op of their root node — conv -> conv (groups as given), dwconv -> dwconv
/// (groups = cin), fc -> fc, maxpool / avgpool -> pooling; other kernels (transposed
/// convolutions among them) belong in no table. The window and stride columns are the
/// kernel's width entries (ks[1], strides[1]), the ones nn-Meter's features read. A kernel
/// with an unknown dimension is listed in tables.skipped, not guessed. Throws nnmeter::error
/// when `model` is empty or holds ',' or a line break (the CSV has no quoting).
void add_model_priors(prior_tables& tables, const std::string& model, const nnmeter::graph& g,
                      const nnmeter::rule_set& rules = nnmeter::default_rules());

/// A model for extract_priors: its name (the `model` column) and graph.
struct prior_source {
  std::string model;
  const nnmeter::graph* graph = nullptr;
};

/// The tables of a set of models (add_model_priors for each, in order): what
/// `nnmeter priors --models DIR --out DIR` writes.
[[nodiscard]] prior_tables extract_priors(
    const std::vector<prior_source>& models,
    const nnmeter::rule_set& rules = nnmeter::default_rules());

}  // namespace nnmeter::builder
