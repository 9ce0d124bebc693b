// Robustness: thousands of randomly damaged IR documents either load or fail with an
// nnmeter::error; none crashes, hangs or leaks (the suite also runs under ASan + UBSan), and
// what loads is detected into kernels that account for every node.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <random>
#include <string>
#include <vector>

namespace {

using json = nlohmann::ordered_json;

// One random structural damage to a JSON value, in place.
void damage(json& v, std::mt19937& rng, int depth = 0) {
  std::uniform_int_distribution<int> pick(0, 9);
  if ((v.is_object() || v.is_array()) && !v.empty() && depth < 6 && pick(rng) < 7) {
    std::uniform_int_distribution<std::size_t> idx(0, v.size() - 1);
    auto it = v.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(idx(rng)));
    damage(*it, rng, depth + 1);
    return;
  }
  switch (pick(rng)) {
    case 0: v = nullptr; break;
    case 1: v = -7; break;
    case 2: v = 99999999999LL; break;
    case 3: v = "Conv2D"; break;
    case 4: v = json::array(); break;
    case 5: v = json::object(); break;
    case 6: v = 3.5; break;
    case 7: v = json::array({json::array({1, -3, 2})}); break;
    case 8:
      if (v.is_array() && !v.empty()) v.erase(v.begin());
      else v = true;
      break;
    default:
      if (v.is_object() && !v.empty()) v.erase(v.begin());
      else v = "input_im_0";
      break;
  }
}

}  // namespace

TEST_CASE("damaged IR documents load or fail cleanly, never crash") {
  const std::string text =
      nnmeter::io::detail::read_file(std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json");
  const json original = json::parse(text);
  std::mt19937 rng(20261125);
  int loaded = 0;
  int rejected = 0;
  for (int round = 0; round < 400; ++round) {
    json doc = original;
    const int damages = 1 + round % 4;
    for (int d = 0; d < damages; ++d) damage(doc, rng);
    std::string s = doc.dump();
    if (round % 5 == 4) s.resize(s.size() * static_cast<std::size_t>(round % 7 + 1) / 8);  // truncation
    try {
      nnmeter::io::ir_read_options o;
      o.allow_unknown_ops = round % 2 == 0;
      o.allow_dangling_inbounds = round % 3 == 0;
      const nnmeter::graph g = nnmeter::io::read_nnmeter_ir(s, "damaged.json", o);
      const nnmeter::detection det = nnmeter::detect(g, nnmeter::default_rules());
      std::size_t accounted = det.free_nodes.size();
      for (const auto& k : det.kernels) {
        accounted += k.nodes.size();
        (void)nnmeter::features(k, nnmeter::feature_set::nnmeter);
        (void)nnmeter::features(k, nnmeter::feature_set::extended);
      }
      CHECK(accounted == g.num_nodes());
      ++loaded;
    } catch (const nnmeter::error& e) {
      CHECK(std::string(e.what()).find("damaged.json") != std::string::npos);
      ++rejected;
    }
  }
  MESSAGE(loaded << " damaged documents loaded, " << rejected << " rejected");
  CHECK(loaded + rejected == 400);
  CHECK(rejected > 0);
}
