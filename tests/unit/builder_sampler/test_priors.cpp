// Tests for tools/builder/sampler/priors.hpp: nn-Meter's tables, the CSV reader and writer, and
// the extraction of the same tables from models.
// SPDX-License-Identifier: MIT
#include <nnmeter/io/json.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "builder/sampler/sampler.hpp"
#include "support/temp_dir.hpp"

namespace nb = nnmeter::builder;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tables_dir() {
  return std::string(NNMETER_SOURCE_DIR) + "/tools/builder/sampler/priors";
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nnmeter::error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("nnmeter_priors: nn-Meter's four tables, compiled in") {
  const nb::prior_tables& t = nb::nnmeter_priors();
  CHECK(t.conv.size() == 1251);
  CHECK(t.dwconv.size() == 276);
  CHECK(t.fc.size() == 28);
  CHECK(t.pooling.size() == 54);
  CHECK(t.conv.front() == nb::conv_prior{"alexnet", 224, 224, 3, 64, 11, 4, 1});
  CHECK(t.fc[3] == nb::fc_prior{"vgg11", 25088, 4096});
  CHECK(t.pooling.front() == nb::pool_prior{"alexnet", 55, 55, 64, 64, 3, 2});
  for (const nb::conv_prior& r : t.dwconv) CHECK(r.groups == r.cin);
  // The compiled-in text is the repository's file, byte for byte.
  const nb::prior_tables files = nb::read_prior_tables(tables_dir());
  CHECK(files.conv == t.conv);
  CHECK(files.dwconv == t.dwconv);
  CHECK(files.fc == t.fc);
  CHECK(files.pooling == t.pooling);
  CHECK(nb::to_csv(t.conv) == slurp(tables_dir() + "/conv.csv"));
  CHECK(nb::to_csv(t.dwconv) == slurp(tables_dir() + "/dwconv.csv"));
  CHECK(nb::to_csv(t.fc) == slurp(tables_dir() + "/fc.csv"));
  CHECK(nb::to_csv(t.pooling) == slurp(tables_dir() + "/pooling.csv"));
}

TEST_CASE("prior CSV: bad input is an error naming the file, line and column") {
  CHECK(error_of([] { (void)nb::parse_fc_priors("model,cin\nx,1\n", "fc.csv"); }) ==
        "fc.csv: line 1: header 'model,cin' is not 'model,cin,cout'");
  CHECK(error_of([] { (void)nb::parse_fc_priors("model,cin,cout\nx,1\n", "fc.csv"); }) ==
        "fc.csv: line 2: 2 fields, expected 3 (model,cin,cout)");
  CHECK(error_of([] { (void)nb::parse_fc_priors("model,cin,cout\n\nx,1,abc\n", "fc.csv"); }) ==
        "fc.csv: line 3: column 'cout': 'abc' is not an integer");
  CHECK(error_of([] { (void)nb::parse_fc_priors("model,cin,cout\nx,1,2.5\n", "fc.csv"); }) ==
        "fc.csv: line 2: column 'cout': '2.5' is not an integer");
  CHECK(error_of([] {
          (void)nb::parse_pool_priors("model,input_h,input_w,cin,cout,ks,stride\nm,7,7,0,3,3,1\n",
                                      "p.csv");
        }) == "p.csv: line 2: column 'cin': 0 must be >= 1");
  CHECK(error_of([] { (void)nb::parse_conv_priors("", "conv.csv"); }).find("empty file") !=
        std::string::npos);
  CHECK(error_of([] { (void)nb::parse_fc_priors("model,cin,cout\n,1,2\n", "fc.csv"); }) ==
        "fc.csv: line 2: column 'model' is empty");
  // CRLF line ends and blank lines are fine.
  const auto rows = nb::parse_fc_priors("model,cin,cout\r\nresnet,2048,1000\r\n\r\n", "fc.csv");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == nb::fc_prior{"resnet", 2048, 1000});
  // A folder without the files: the missing one is named.
  const nnmeter_test::temp_dir dir("nnmeter_priors");
  CHECK(error_of([&] { (void)nb::read_prior_tables(dir.path()); }) ==
        dir.file("conv.csv") + ": cannot open file");
}

TEST_CASE("prior tables: written atomically and read back") {
  const nnmeter_test::temp_dir dir("nnmeter_priors");
  nb::prior_tables t;
  t.conv = {{"a", 56, 56, 24, 48, 3, 1, 1}, {"b", 7, 7, 512, 512, 1, 1, 4}};
  t.dwconv = {{"a", 28, 28, 96, 96, 5, 2, 96}};
  t.fc = {{"a", 1280, 1000}};
  t.pooling = {{"a", 112, 112, 64, 64, 3, 2}};
  nb::write_prior_tables(t, dir.file("out"));
  const nb::prior_tables back = nb::read_prior_tables(dir.file("out"));
  CHECK(back.conv == t.conv);
  CHECK(back.dwconv == t.dwconv);
  CHECK(back.fc == t.fc);
  CHECK(back.pooling == t.pooling);
  CHECK(slurp(dir.file("out/fc.csv")) == "model,cin,cout\na,1280,1000\n");
  CHECK_FALSE(std::filesystem::exists(dir.file("out/fc.csv.tmp")));
  // The tables feed the sampler like nn-Meter's own.
  nb::sampler_options o;
  const auto fc = nb::sample_prior(nnmeter::kernel_kind::fc, 10, o, back);
  REQUIRE(fc.size() == 10);
  for (const nb::kernel_config& c : fc) CHECK((c.at("CIN") >= 1280 && c.at("CIN") <= 1281));
  // An unwritable place: an error naming it.
  dir.write("file", "x");
  CHECK(error_of([&] {
          nb::write_prior_tables(t, dir.file("file/sub"));
        }).find(dir.file("file/sub")) != std::string::npos);
}

TEST_CASE("extract_priors: nn-Meter's columns from a model's detected kernels") {
  const std::string ir = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(ir);
  const nb::prior_tables t = nb::extract_priors({{"mobilenetv3small", &g}});
  CHECK(t.skipped.empty());
  // Expected rows from the kernels nn-Meter itself found in the model (tests/data).
  const nlohmann::json ks = nlohmann::json::parse(
      slurp(std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.kernels.json"))["kernels"];
  std::vector<nb::conv_prior> conv, dw;
  std::vector<nb::fc_prior> fc;
  for (const nlohmann::json& k : ks) {
    const std::string op = k["op"];
    if (op.find("conv") != std::string::npos) {
      const auto& in = k["input_tensors"][0];
      nb::conv_prior r{"mobilenetv3small", in[1],      in[2],           k["cin"],
                       k["cout"],          k["ks"][1], k["strides"][1], 1};
      if (op.find("dwconv") != std::string::npos) {
        r.groups = r.cin;
        dw.push_back(r);
      } else {
        conv.push_back(r);
      }
    } else if (op == "fc") {
      fc.push_back({"mobilenetv3small", k["cin"], k["cout"]});
    }
  }
  CHECK(conv.size() == 24);
  CHECK(dw.size() == 11);
  CHECK(t.conv == conv);
  CHECK(t.dwconv == dw);
  CHECK(t.fc == fc);
  CHECK(t.pooling.empty());

  // Pooling and grouped convs, from a built graph; two models add up.
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 8});
  x = b.maxpool(x, 3, 2, nnmeter::padding_mode::same);
  x = b.conv(x, 16, {1, 3}, {1, 2}, nnmeter::padding_mode::same, 2);
  x = b.avgpool(x, 2, 2);
  (void)x;
  const nnmeter::graph small = std::move(b).build();
  const nb::prior_tables two = nb::extract_priors({{"small", &small}, {"mnv3", &g}});
  REQUIRE(two.pooling.size() == 2);
  CHECK(two.pooling[0] == nb::pool_prior{"small", 32, 32, 8, 8, 3, 2});
  CHECK(two.pooling[1] == nb::pool_prior{"small", 16, 8, 16, 16, 2, 2});
  REQUIRE(two.conv.size() == 25);
  CHECK(two.conv[0] == nb::conv_prior{"small", 16, 16, 8, 16, 3, 2, 2});  // width entries
  CHECK(error_of([&] {
          (void)nb::extract_priors({{"a,b", &small}});
        }).find("'a,b'") != std::string::npos);
  CHECK(error_of([&] {
          (void)nb::extract_priors({{"", &small}});
        }) == "prior tables: a model needs a name");
}

TEST_CASE("extract_priors: a kernel with an unknown dimension is listed, not guessed") {
  nnmeter::graph g;
  nnmeter::node in;
  in.name = "x";
  in.op = nnmeter::op_kind::input;
  in.type = "input";
  in.output_shapes = {nnmeter::tensor_shape{1, -1, -1, 8}};
  const nnmeter::node_index xi = g.add_node(std::move(in));
  nnmeter::node c;
  c.name = "conv";
  c.op = nnmeter::op_kind::conv;
  c.type = "conv";
  c.inputs = {nnmeter::tensor_ref{xi, 0}};
  c.input_shapes = {nnmeter::tensor_shape{1, -1, -1, 8}};
  c.output_shapes = {nnmeter::tensor_shape{1, -1, -1, 16}};
  c.attrs.kernel = {3, 3};
  c.attrs.strides = {1, 1};
  (void)g.add_node(std::move(c));
  const nb::prior_tables t = nb::extract_priors({{"dyn", &g}});
  CHECK(t.conv.empty());
  REQUIRE(t.skipped.size() == 1);
  CHECK(t.skipped[0].find("dyn: kernel 'conv#1': unknown input size") == 0);
}
