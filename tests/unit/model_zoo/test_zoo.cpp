// The model zoo (tools/model_zoo): every family builds valid graphs, the same (seed, index)
// gives the same model, and the variants vary what the nn-Meter dataset varies.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <nlohmann/json.hpp>

#include "model_zoo/zoo.hpp"

#include <map>
#include <set>
#include <string>

namespace {

namespace zoo = nnmeter::zoo;

std::string ir_text(const nnmeter::graph& g) { return nnmeter::io::write_nnmeter_ir(g); }

}  // namespace

TEST_CASE("zoo: nn-Meter's thirteen family names, parsed back") {
  REQUIRE(zoo::families().size() == 13);
  const char* names[] = {"alexnet",     "vgg",          "densenet",    "resnet",
                         "squeezenet",  "googlenet",    "mobilenetv1", "mobilenetv2",
                         "mobilenetv3", "shufflenetv2", "mnasnet",     "proxylessnas",
                         "nasbench201"};
  for (std::size_t i = 0; i < 13; ++i) {
    CHECK(zoo::to_string(zoo::families()[i]) == names[i]);
    CHECK(zoo::parse_family(names[i]) == zoo::families()[i]);
  }
  CHECK_FALSE(zoo::parse_family("AlexNet").has_value());
  CHECK_FALSE(zoo::parse_family("").has_value());
}

TEST_CASE("zoo: every family builds valid, detectable graphs") {
  for (zoo::family f : zoo::families()) {
    CAPTURE(zoo::to_string(f));
    for (std::size_t i = 0; i < 4; ++i) {
      const zoo::zoo_model m = zoo::generate(f, 1, i);
      CHECK(m.name == std::string(zoo::to_string(f)) + "_000" + std::to_string(i));
      CHECK(m.fam == f);
      CHECK(m.config.front() == '{');
      CHECK(nlohmann::json::parse(m.config).is_object());
      CHECK(m.graph.num_nodes() > 10);
      CHECK_NOTHROW(nnmeter::validate(m.graph));
      const nnmeter::detection d = nnmeter::detect(m.graph, nnmeter::default_rules());
      std::size_t convs = 0;
      for (const nnmeter::kernel& k : d.kernels) {
        CHECK(k.shapes_known);
        if (k.kind == nnmeter::kernel_kind::conv_bn_relu ||
            k.kind == nnmeter::kernel_kind::dwconv_bn_relu)
          ++convs;
        CHECK(k.kind != nnmeter::kernel_kind::other);
      }
      CHECK(convs >= 3);
      // The IR text reads back as the same graph.
      const std::string text = ir_text(m.graph);
      CHECK(ir_text(nnmeter::io::read_nnmeter_ir(text)) == text);
    }
  }
}

TEST_CASE("zoo: the same seed and index give the same model, whatever else is generated") {
  for (zoo::family f : zoo::families()) {
    CAPTURE(zoo::to_string(f));
    const zoo::zoo_model a = zoo::generate(f, 7, 2);
    const zoo::zoo_model b = zoo::generate(f, 7, 2);
    const std::vector<zoo::zoo_model> fam = zoo::generate_family(f, 3, 7);
    REQUIRE(fam.size() == 3);
    CHECK(a.config == b.config);
    CHECK(ir_text(a.graph) == ir_text(b.graph));
    CHECK(ir_text(fam[2].graph) == ir_text(a.graph));
    CHECK(fam[2].name == a.name);
    // Another seed, another model (the configurations differ somewhere in 5 draws).
    bool differs = false;
    for (std::size_t i = 0; i < 5 && !differs; ++i)
      differs = zoo::generate(f, 8, i).config != zoo::generate(f, 7, i).config;
    CHECK(differs);
  }
}

TEST_CASE("zoo: variants vary widths, kernels, depths and resolutions") {
  for (zoo::family f : zoo::families()) {
    CAPTURE(zoo::to_string(f));
    std::set<std::string> configs;
    std::set<std::size_t> node_counts;
    std::set<std::int64_t> resolutions;
    std::map<nnmeter::kernel_kind, std::size_t> kinds;
    for (const zoo::zoo_model& m : zoo::generate_family(f, 20, 3)) {
      configs.insert(m.config);
      node_counts.insert(m.graph.num_nodes());
      resolutions.insert(m.graph[0].output_shapes[0][1]);
      const nlohmann::json c = nlohmann::json::parse(m.config);
      CHECK(c.at("resolution").get<std::int64_t>() == m.graph[0].output_shapes[0][1]);
    }
    CHECK(configs.size() >= 18);    // 20 draws, hardly ever twice the same network
    CHECK(resolutions.size() >= 2);
    // Every family but the fixed-depth ones samples depths (squeezenet: 6-8 fire modules,
    // vgg: 4 depths, googlenet: 2-5 modules, the others more): node counts differ.
    if (f != zoo::family::alexnet && f != zoo::family::mobilenetv1)
      CHECK(node_counts.size() >= 3);
  }
}
