// nnmeter builder — prior tables (priors.hpp).
// SPDX-License-Identifier: MIT
#include "builder/sampler/priors.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace nnmeter::builder {

namespace detail {
// nn-Meter's CSV files, compiled in (generated from tools/builder/sampler/priors/*.csv by
// CMakeLists.txt): conv, dwconv, fc, pooling.
extern const char* const nnmeter_prior_csv[4];
}  // namespace detail

namespace {

constexpr const char* conv_header = "model,input_h,input_w,cin,cout,ks,stride,groups";
constexpr const char* fc_header = "model,cin,cout";
constexpr const char* pool_header = "model,input_h,input_w,cin,cout,ks,stride";

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// Calls row(fields, line_number) for every data line after checking the header.
template <class Row>
void for_each_row(std::string_view text, std::string_view source, std::string_view header,
                  Row&& row) {
  const std::vector<std::string_view> columns = split_fields(header);
  std::size_t pos = 0;
  std::size_t line_no = 0;
  bool seen_header = false;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!seen_header) {
      if (line != header)
        throw nnmeter::parse_error(std::string(source) + ": line " + std::to_string(line_no) +
                                   ": header '" + std::string(line) + "' is not '" +
                                   std::string(header) + "'");
      seen_header = true;
      continue;
    }
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.size() != columns.size())
      throw nnmeter::parse_error(std::string(source) + ": line " + std::to_string(line_no) + ": " +
                                 std::to_string(fields.size()) + " fields, expected " +
                                 std::to_string(columns.size()) + " (" + std::string(header) + ")");
    if (fields[0].empty())
      throw nnmeter::parse_error(std::string(source) + ": line " + std::to_string(line_no) +
                                 ": column 'model' is empty");
    std::vector<std::int64_t> values;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      std::int64_t v = 0;
      const std::string_view f = fields[i];
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      if (ec != std::errc() || end != f.data() + f.size() || f.empty())
        throw nnmeter::parse_error(std::string(source) + ": line " + std::to_string(line_no) +
                                   ": column '" + std::string(columns[i]) + "': '" +
                                   std::string(f) + "' is not an integer");
      if (v < 1)
        throw nnmeter::parse_error(std::string(source) + ": line " + std::to_string(line_no) +
                                   ": column '" + std::string(columns[i]) +
                                   "': " + std::to_string(v) + " must be >= 1");
      values.push_back(v);
    }
    row(std::string(fields[0]), values);
  }
  if (!seen_header)
    throw nnmeter::parse_error(std::string(source) + ": empty file (expected the header '" +
                               std::string(header) + "')");
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw nnmeter::parse_error(p.string() + ": cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw nnmeter::parse_error(p.string() + ": read error");
  return s.str();
}

void write_file_atomically(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw nnmeter::error(tmp.string() + ": cannot create file");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignore;
      std::filesystem::remove(tmp, ignore);
      throw nnmeter::error(tmp.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) {
    std::error_code ignore;
    std::filesystem::remove(tmp, ignore);
    throw nnmeter::error(p.string() + ": cannot rename " + tmp.filename().string() +
                         " into place: " + ec.message());
  }
}

}  // namespace

std::vector<conv_prior> parse_conv_priors(std::string_view text, std::string_view source) {
  std::vector<conv_prior> rows;
  for_each_row(text, source, conv_header, [&](std::string m, const std::vector<std::int64_t>& v) {
    rows.push_back({std::move(m), v[0], v[1], v[2], v[3], v[4], v[5], v[6]});
  });
  return rows;
}

std::vector<fc_prior> parse_fc_priors(std::string_view text, std::string_view source) {
  std::vector<fc_prior> rows;
  for_each_row(text, source, fc_header, [&](std::string m, const std::vector<std::int64_t>& v) {
    rows.push_back({std::move(m), v[0], v[1]});
  });
  return rows;
}

std::vector<pool_prior> parse_pool_priors(std::string_view text, std::string_view source) {
  std::vector<pool_prior> rows;
  for_each_row(text, source, pool_header, [&](std::string m, const std::vector<std::int64_t>& v) {
    rows.push_back({std::move(m), v[0], v[1], v[2], v[3], v[4], v[5]});
  });
  return rows;
}

std::string to_csv(const std::vector<conv_prior>& rows) {
  std::string s = std::string(conv_header) + "\n";
  for (const conv_prior& r : rows)
    s += r.model + "," + std::to_string(r.input_h) + "," + std::to_string(r.input_w) + "," +
         std::to_string(r.cin) + "," + std::to_string(r.cout) + "," + std::to_string(r.ks) + "," +
         std::to_string(r.stride) + "," + std::to_string(r.groups) + "\n";
  return s;
}

std::string to_csv(const std::vector<fc_prior>& rows) {
  std::string s = std::string(fc_header) + "\n";
  for (const fc_prior& r : rows)
    s += r.model + "," + std::to_string(r.cin) + "," + std::to_string(r.cout) + "\n";
  return s;
}

std::string to_csv(const std::vector<pool_prior>& rows) {
  std::string s = std::string(pool_header) + "\n";
  for (const pool_prior& r : rows)
    s += r.model + "," + std::to_string(r.input_h) + "," + std::to_string(r.input_w) + "," +
         std::to_string(r.cin) + "," + std::to_string(r.cout) + "," + std::to_string(r.ks) + "," +
         std::to_string(r.stride) + "\n";
  return s;
}

const prior_tables& nnmeter_priors() {
  static const prior_tables t = [] {
    prior_tables p;
    p.conv = parse_conv_priors(detail::nnmeter_prior_csv[0], "nn-Meter conv.csv");
    p.dwconv = parse_conv_priors(detail::nnmeter_prior_csv[1], "nn-Meter dwconv.csv");
    p.fc = parse_fc_priors(detail::nnmeter_prior_csv[2], "nn-Meter fc.csv");
    p.pooling = parse_pool_priors(detail::nnmeter_prior_csv[3], "nn-Meter pooling.csv");
    return p;
  }();
  return t;
}

prior_tables read_prior_tables(const std::filesystem::path& dir) {
  prior_tables t;
  auto path = [&](const char* name) { return dir / name; };
  t.conv = parse_conv_priors(read_file(path("conv.csv")), path("conv.csv").string());
  t.dwconv = parse_conv_priors(read_file(path("dwconv.csv")), path("dwconv.csv").string());
  t.fc = parse_fc_priors(read_file(path("fc.csv")), path("fc.csv").string());
  t.pooling = parse_pool_priors(read_file(path("pooling.csv")), path("pooling.csv").string());
  return t;
}

void write_prior_tables(const prior_tables& t, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw nnmeter::error(dir.string() + ": cannot create folder: " + ec.message());
  write_file_atomically(dir / "conv.csv", to_csv(t.conv));
  write_file_atomically(dir / "dwconv.csv", to_csv(t.dwconv));
  write_file_atomically(dir / "fc.csv", to_csv(t.fc));
  write_file_atomically(dir / "pooling.csv", to_csv(t.pooling));
}

void add_model_priors(prior_tables& t, const std::string& model, const nnmeter::graph& g,
                      const nnmeter::rule_set& rules) {
  if (model.empty()) throw nnmeter::error("prior tables: a model needs a name");
  if (model.find_first_of(",\r\n") != std::string::npos)
    throw nnmeter::error("prior tables: model name '" + model +
                         "' holds ',' or a line break, which the CSV cannot carry");
  const nnmeter::detection d = nnmeter::detect(g, rules, nnmeter::detect_options{false});
  for (const nnmeter::kernel& k : d.kernels) {
    // By kind and root op: an se block rooted at an average pooling is no pooling layer, a
    // transposed convolution (kind conv-bn-relu) no convolution of the table.
    const nnmeter::op_kind root = g[k.nodes.front()].op;
    const bool conv =
        (k.kind == nnmeter::kernel_kind::conv_bn_relu && root == nnmeter::op_kind::conv) ||
        (k.kind == nnmeter::kernel_kind::dwconv_bn_relu && root == nnmeter::op_kind::dwconv);
    const bool pool =
        (k.kind == nnmeter::kernel_kind::maxpool && root == nnmeter::op_kind::maxpool) ||
        (k.kind == nnmeter::kernel_kind::avgpool && root == nnmeter::op_kind::avgpool);
    const bool fc = k.kind == nnmeter::kernel_kind::fc && root == nnmeter::op_kind::fc;
    if (!conv && !pool && !fc) continue;
    auto skip = [&](const std::string& why) {
      t.skipped.push_back(model + ": kernel '" + k.name + "': " + why);
    };
    auto known = [](const std::optional<std::int64_t>& v) { return v && *v >= 1; };
    if (fc) {
      if (!known(k.cin) || !known(k.cout)) {
        skip("unknown input or output features");
        continue;
      }
      t.fc.push_back({model, *k.cin, *k.cout});
      continue;
    }
    if (!known(k.inputh) || !known(k.inputw) || !known(k.cin) || !known(k.cout) || !k.ks ||
        !k.strides || (*k.ks)[1] < 1 || (*k.strides)[1] < 1) {
      skip("unknown input size, channels, window or stride");
      continue;
    }
    if (pool) {
      t.pooling.push_back(
          {model, *k.inputh, *k.inputw, *k.cin, *k.cout, (*k.ks)[1], (*k.strides)[1]});
      continue;
    }
    const conv_prior row{model,   *k.inputh,  *k.inputw,       *k.cin,
                         *k.cout, (*k.ks)[1], (*k.strides)[1], std::max<std::int64_t>(k.groups, 1)};
    (root == nnmeter::op_kind::dwconv ? t.dwconv : t.conv).push_back(row);
  }
}

prior_tables extract_priors(const std::vector<prior_source>& models,
                            const nnmeter::rule_set& rules) {
  prior_tables t;
  for (const prior_source& m : models) {
    if (!m.graph) throw nnmeter::error("prior tables: model '" + m.model + "' has no graph");
    add_model_priors(t, m.model, *m.graph, rules);
  }
  return t;
}

}  // namespace nnmeter::builder
