// Writes the seed corpora of the JSON fuzz targets:
//   <out>/ir_import/           fuzz_ir_import: graph_builder graphs written by write_nnmeter_ir
//                              (g_*), nn-Meter's own IR forms (n_*: a prefix of its
//                              MobileNetV3-small file, ONNX- and NNI-derived records), and
//                              damaged variants (e_*);
//   <out>/rules_import/        fuzz_rules_import: nn-Meter's TFLite-CPU rule file, the default
//                              rules as written by write_fusion_rules, rule forms (r_*) and
//                              damaged variants (e_*);
//   <out>/predictor_package/   fuzz_predictor_package: packages (manifest \0 rules \0 forest)
//                              whose forests are written by write_xgboost_json (p_*), and
//                              damaged variants (e_*).
// fuzz_ir_import takes its options from the size of its input; a seed is padded with trailing
// white space to the size class of the mode it wants (".m<mode>" in its name).
// Usage: nnmeter_fuzz_make_json_corpus <output directory>   (created when missing; files
// overwritten). Regenerate the committed corpora with
//   <build>/tests/fuzz/nnmeter_fuzz_make_json_corpus tests/fuzz/corpus
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using nnmeter::graph;
using nnmeter::graph_builder;

constexpr std::size_t max_seed_bytes = 20 * 1024;

struct writer {
  fs::path dir;
  std::size_t files = 0;
  std::size_t total_bytes = 0;

  void put(const std::string& name, const std::string& content) {
    if (content.size() > max_seed_bytes)
      throw nnmeter::error("make_json_corpus: " + name + " has " +
                           std::to_string(content.size()) + " bytes, more than the " +
                           std::to_string(max_seed_bytes) + " a seed may have");
    const fs::path p = dir / name;
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.close();
    if (!f) throw nnmeter::error("make_json_corpus: cannot write " + p.string());
    ++files;
    total_bytes += content.size();
  }
};

std::string read_whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw nnmeter::error("make_json_corpus: cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// ---- nn-Meter IR -----------------------------------------------------------------------------

// `text` padded with spaces so that its size % 4 is `mode` (fuzz_ir_import's options).
std::string with_mode(std::string text, unsigned mode) {
  while (text.size() % 4 != mode) text += ' ';
  return text;
}

std::vector<std::pair<std::string, graph>> sample_graphs() {
  std::vector<std::pair<std::string, graph>> out;
  {
    graph_builder b;
    auto x = b.input({1, 32, 32, 3});
    x = b.conv_bn_relu(x, 16, 3, 2);
    x = b.relu6(b.bn(b.dwconv(x, 3)));
    x = b.bn(b.conv(x, 24, 1));
    out.emplace_back("conv_bn_relu", std::move(b).build());
  }
  {
    graph_builder b;
    auto x = b.input({1, 16, 16, 16});
    auto y = b.hswish(b.bn(b.dwconv(x, 5, 1)));
    y = b.se(y);
    x = b.add(x, b.bn(b.conv(y, 16, 1)));
    out.emplace_back("se_hswish_residual", std::move(b).build());
  }
  {
    graph_builder b;
    auto x = b.input({1, 16, 16, 8});
    auto a = b.relu(b.conv(x, 8, 1));
    auto c = b.concat({a, x}, 3);
    c = b.channel_shuffle(c, 2);
    auto s = b.slice(c, 3, 0, 8);
    out.emplace_back("concat_shuffle_slice", std::move(b).build());
    (void)s;
  }
  {
    graph_builder b;
    auto x = b.input({1, 32, 32, 8});
    x = b.maxpool(x, 3, 2);
    x = b.avgpool(x, 2, 2);
    x = b.pad(x, 1, 1, 2, 2);
    x = b.resize(x, 2.0, 2.0);
    x = b.transpose(x, {0, 3, 1, 2});
    out.emplace_back("pool_pad_resize_transpose", std::move(b).build());
  }
  {
    graph_builder b;
    auto x = b.input({1, 7, 7, 32});
    x = b.global_avgpool(x);
    x = b.reshape(x, {1, 32});
    x = b.softmax(b.fc(x, 10), -1);
    out.emplace_back("gap_fc_softmax", std::move(b).build());
  }
  {
    graph_builder b;
    auto x = b.input({1, 8, 8, 4});
    x = b.leaky_relu(x, 0.2);
    x = b.clip(x, -1.0, 1.0);
    x = b.sigmoid(b.mul(x, b.hsigmoid(x)));
    x = b.reduce_mean(x, {1, 2}, false);
    out.emplace_back("elementwise_reduce", std::move(b).build());
  }
  return out;
}

void ir_seeds(writer& w) {
  unsigned mode = 0;
  for (const auto& [name, g] : sample_graphs()) {
    const std::string text = nnmeter::io::write_nnmeter_ir(g, -1);
    w.put("g_" + name + ".m" + std::to_string(mode) + ".json", with_mode(text, mode));
    mode = (mode + 1) % 4;
  }
  // A prefix of nn-Meter's MobileNetV3-small IR as the file has it (its own key order, its
  // dangling parameter inbounds): the first members until the seed size, cut at a member.
  {
    const json doc = json::parse(read_whole(std::string(NNMETER_TEST_DATA_DIR) +
                                            "/mobilenetv3small_0.ir.json"));
    json part = json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      json next = part;
      next[it.key()] = it.value();
      if (next.dump().size() > 8 * 1024) break;  // small seeds keep the fuzzer fast
      part = std::move(next);
    }
    // Mode 2: dangling inbounds allowed (the prefix cuts some producers off).
    w.put("n_mobilenetv3small_prefix.m2.json", with_mode(part.dump(), 2));
  }
  // ONNX-derived records (nn-Meter's ONNX converter): b'...' strings, ONNX pads order,
  // group, Upsample scales, Clip bounds.
  w.put("n_onnx_records.m0.json", with_mode(R"({
"conv": {"inbounds": [], "outbounds": ["up"], "attr": {"name": "conv", "type": "Conv",
  "input_shape": [[1, 8, 8, 4], [8, 3, 3, 4]], "output_shape": [[1, 8, 8, 8]],
  "attr": {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1],
           "group": 1, "auto_pad": "b'NOTSET'"}}},
"up": {"inbounds": ["conv"], "outbounds": ["clip"], "attr": {"name": "up", "type": "Upsample",
  "input_shape": [[1, 8, 8, 8]], "output_shape": [[1, 16, 16, 8]],
  "attr": {"scales": [1.0, 1.0, 2.0, 2.0], "mode": "b'nearest'"}}},
"clip": {"inbounds": ["up"], "outbounds": [], "attr": {"name": "clip", "type": "Clip",
  "input_shape": [[1, 16, 16, 8]], "output_shape": [[1, 16, 16, 8]],
  "attr": {"min": 0.0, "max": 6.0}}}})", 0));
  // NNI-derived records: normalised types, ks / pads as ints, group.
  w.put("n_nni_records.m1.json", with_mode(R"({
"x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 8, 8, 4]]}},
"c": {"inbounds": ["x"], "attr": {"type": "conv", "input_shape": [[1, 8, 8, 4]],
  "output_shape": [[1, 8, 8, 4]], "attr": {"ks": 3, "pads": 1, "strides": 1, "group": 4}}},
"p": {"inbounds": ["c"], "attr": {"type": "gap", "input_shape": [[1, 8, 8, 4]],
  "output_shape": [[1, 1, 1, 4]]}},
"s": {"inbounds": ["p"], "attr": {"type": "hardsigmoid", "input_shape": [[1, 1, 1, 4]],
  "output_shape": [[1, 1, 1, 4]], "attr": {"alpha": 0.2, "beta": 0.5}}}})", 1));

  // Damaged variants of one small valid document.
  const std::string base = nnmeter::io::write_nnmeter_ir(sample_graphs()[0].second, -1);
  w.put("e_truncated.m0.json", base.substr(0, base.size() / 2));
  w.put("e_empty", "");
  w.put("e_not_object.json", "[1, 2, 3]");
  w.put("e_nul_byte.json", std::string("{\"x\": \0}", 9));
  w.put("e_deep_nesting.json",
        R"({"x": {"inbounds": [], "attr": {"type": "Relu", "attr": {"d": )" +
            std::string(300, '[') + std::string(300, ']') + "}}}}");
  w.put("e_duplicate_node.json", R"({"a": {"inbounds": [], "attr": {"type": "Placeholder"}},
"a": {"inbounds": [], "attr": {"type": "Relu"}}})");
  w.put("e_duplicate_attr_key.json",
        R"({"a": {"inbounds": [], "attr": {"type": "Placeholder", "type": "Relu"}}})");
  w.put("e_dim_2_63.json", R"({"x": {"inbounds": [], "attr": {"type": "Placeholder",
"output_shape": [[1, 9223372036854775808, 8, 3]]}}})");
  w.put("e_kernel_zero.json", R"({"x": {"inbounds": [], "attr": {"type": "Placeholder"}},
"c": {"inbounds": ["x"], "attr": {"type": "Conv2D", "attr": {"kernel_shape": [0, 0],
"weight_shape": [3, 3, 3, 8]}}}})");
  w.put("e_kernel_huge.json", R"({"x": {"inbounds": [], "attr": {"type": "Placeholder"}},
"c": {"inbounds": ["x"], "attr": {"type": "Conv2D", "attr": {"ksize": [1e12, 1e12]}}}})");
  w.put("e_unknown_op.m0.json", with_mode(R"({"x": {"inbounds": [], "attr": {"type": "Warp9"}}})", 0));
  w.put("e_unknown_op.m1.json", with_mode(R"({"x": {"inbounds": [], "attr": {"type": "Warp9"}}})", 1));
  w.put("e_dangling.m0.json",
        with_mode(R"({"x": {"inbounds": ["ghost"], "attr": {"type": "Relu"}}})", 0));
  w.put("e_dangling.m2.json",
        with_mode(R"({"x": {"inbounds": ["ghost"], "attr": {"type": "Relu"}}})", 2));
  w.put("e_cycle.json", R"({"a": {"inbounds": ["b"], "attr": {"type": "Relu"}},
"b": {"inbounds": ["a"], "attr": {"type": "Relu"}}})");
  w.put("e_dtype_string.json",
        R"({"x": {"inbounds": [], "attr": {"type": "Placeholder", "dtype": "STRING"}}})");
  // Fuzzer finding: a node read by another whose 'output_shape' key is misspelled (it declares
  // no output) was indexed past its empty output list (tests/unit/io_json_strict/test_ir_fields.cpp).
  w.put("e_no_output_shape.json", R"({"x": {"inbounds": [], "attr": {"type": "Placeholder",
"outptu_shape": [[1, 8, 8, 4]]}},
"c": {"inbounds": ["x"], "attr": {"type": "Conv2D", "input_shape": [[1, 8, 8, 4]],
"output_shape": [[1, 8, 8, 4]], "attr": {"ks": [3, 3], "strides": [1, 1], "padding": "SAME"}}}})");
  w.put("e_reserved_key.json", R"({"x": {"inbounds": [], "attr": {"type": "Relu",
"attr": {"nnmeter:parameter_inbounds": 5}}}})");
}

// ---- fusion rules ----------------------------------------------------------------------------

void rules_seeds(writer& w) {
  w.put("tflite_cpu.json", read_whole(std::string(NNMETER_TEST_DATA_DIR) + "/rule_tflite_cpu.json"));
  w.put("default_written.json", nnmeter::io::write_fusion_rules(nnmeter::default_rules(), -1));
  w.put("r_forms.json", R"({"BF_conv_bn": true, "BF_conv_relu": {"obey": null},
"BF_conv_bn_relu": {"obey": true}, "BF_dwconv_bn": {"obey": false, "latency":
{"conv_bn": {"latency": 0.12, "std": [0.01, 0.02]}, "note": "kept as written"}}, "MON": {"obey": true},
"RBC": {"obey": true}})");
  w.put("e_duplicate_rule.json", R"({"BF_conv_bn": {"obey": true}, "BF_conv_bn": {"obey": false}})");
  w.put("e_deep_latency.json",
        R"({"BF_conv_bn": {"obey": true, "latency": )" + std::string(300, '[') +
            std::string(300, ']') + "}}");
  w.put("e_bad_names.json", R"({"BF_conv": {"obey": true}, "conv_bn": {"obey": true}})");
  w.put("e_obey_type.json", R"({"BF_conv_bn": {"obey": "yes"}})");
  w.put("e_not_object.json", "[{\"BF_conv_bn\": true}]");
}

// ---- predictor packages ----------------------------------------------------------------------

// One tree: x[f] < t ? lo : hi, over n features.
nnmeter::forest stump(std::uint32_t n, std::uint32_t f, float t, float lo, float hi) {
  nnmeter::forest s;
  s.left = {1, -1, -1};
  s.feature = {f, 0, 0};
  s.split_value = {t, lo, hi};
  s.default_left = {0, 0, 0};
  s.tree_roots = {0};
  s.num_features = n;
  s.base_score = 0.01f;
  return s;
}

std::string manifest(const json& kernels, const std::string& feature_set = "nnmeter",
                     const json& format_version = 1) {
  json m = json::object();
  m["format_version"] = format_version;
  m["name"] = "fuzz";
  m["version"] = "1.0";
  m["device"] = "test";
  m["backend"] = "none";
  m["feature_set"] = feature_set;
  m["measurement_protocol"] = {{"threads", 1}};
  m["fusion_rules"] = "fusion_rules.json";
  m["kernels"] = kernels;
  return m.dump();
}

std::string package(const std::string& m, const std::string& rules, const std::string& forest) {
  return m + std::string(1, '\0') + rules + std::string(1, '\0') + forest;
}

void package_seeds(writer& w) {
  const std::string rules = nnmeter::io::write_fusion_rules(nnmeter::default_rules(), -1);
  using nnmeter::feature_set;
  using nnmeter::kernel_kind;
  struct kind_seed {
    const char* name;
    kernel_kind kind;
    feature_set set;
  };
  const kind_seed kinds[] = {{"conv-bn-relu", kernel_kind::conv_bn_relu, feature_set::nnmeter},
                             {"fc", kernel_kind::fc, feature_set::nnmeter},
                             {"hswish", kernel_kind::hswish, feature_set::nnmeter},
                             {"add", kernel_kind::add, feature_set::extended}};
  for (const kind_seed& k : kinds) {
    const auto n = static_cast<std::uint32_t>(nnmeter::feature_count(k.kind, k.set));
    const std::string forest = nnmeter::io::write_xgboost_json(stump(n, n - 1, 4.0f, 0.5f, 1.5f));
    json kernels = json::object();
    kernels[k.name] = std::string(k.name) + ".json";
    w.put(std::string("p_") + k.name + "_" + std::string(nnmeter::to_string(k.set)) + ".pkg",
          package(manifest(kernels, std::string(nnmeter::to_string(k.set))), rules, forest));
  }
  // A bigger forest: two trees of depth 2.
  {
    nnmeter::forest f;
    f.left = {1, 3, 5, -1, -1, -1, -1, 1, -1, -1};
    f.feature = {0, 1, 2, 0, 0, 0, 0, 3, 0, 0};
    f.split_value = {1.0f, 2.0f, 3.0f, 0.1f, 0.2f, 0.3f, 0.4f, 5.0f, -1.0f, 1.0f};
    f.default_left = {1, 0, 1, 0, 0, 0, 0, 1, 0, 0};
    f.tree_roots = {0, 7};
    f.num_features = static_cast<std::uint32_t>(
        nnmeter::feature_count(kernel_kind::conv_bn_relu, feature_set::nnmeter));
    f.base_score = 0.5f;
    f.left[7] = 8;
    w.put("p_two_trees.pkg", package(manifest(json{{"conv-bn-relu", "c.json"}}), rules,
                                     nnmeter::io::write_xgboost_json(f)));
  }
  const std::string fc_forest = nnmeter::io::write_xgboost_json(
      stump(static_cast<std::uint32_t>(nnmeter::feature_count(kernel_kind::fc, feature_set::nnmeter)),
            0, 100.0f, 0.1f, 0.2f));
  const std::string fc_manifest = manifest(json{{"fc", "fc.json"}});
  w.put("e_format_version.pkg", package(manifest(json{{"fc", "fc.json"}}, "nnmeter", 2), rules, fc_forest));
  w.put("e_unknown_kind.pkg", package(manifest(json{{"warp", "w.json"}}), rules, fc_forest));
  w.put("e_feature_count.pkg", package(manifest(json{{"hswish", "h.json"}}), rules, fc_forest));
  w.put("e_unsafe_name.pkg", package(manifest(json{{"fc", "../fc.json"}}), rules, fc_forest));
  w.put("e_duplicate_kind.pkg",
        package(R"({"format_version": 1, "kernels": {"fc": "a.json", "fc": "b.json"}})", rules,
                fc_forest));
  w.put("e_bad_rules.pkg", package(fc_manifest, R"({"BF_conv": true})", fc_forest));
  {
    json f = json::parse(fc_forest);
    f["version"] = {2, 0, 0};
    w.put("e_forest_version.pkg", package(fc_manifest, rules, f.dump()));
    f = json::parse(fc_forest);
    f["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 99;
    w.put("e_forest_child.pkg", package(fc_manifest, rules, f.dump()));
    f = json::parse(fc_forest);
    f["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1;
    w.put("e_forest_categorical.pkg", package(fc_manifest, rules, f.dump()));
    f = json::parse(fc_forest);
    f["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["num_nodes"] =
        "18446744073709551615";
    w.put("e_forest_num_nodes.pkg", package(fc_manifest, rules, f.dump()));
    f = json::parse(fc_forest);
    f["learner"]["gradient_booster"]["name"] = "dart";
    w.put("e_forest_dart.pkg", package(fc_manifest, rules, f.dump()));
  }
  w.put("e_truncated.pkg", package(fc_manifest, rules, fc_forest.substr(0, fc_forest.size() / 2)));
  w.put("e_one_part.pkg", fc_manifest);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argc > 0 ? argv[0] : "make_json_corpus");
    return 1;
  }
  try {
    const fs::path out(argv[1]);
    struct corpus {
      const char* name;
      void (*make)(writer&);
    };
    const corpus corpora[] = {{"ir_import", ir_seeds},
                              {"rules_import", rules_seeds},
                              {"predictor_package", package_seeds}};
    for (const corpus& c : corpora) {
      writer w;
      w.dir = out / c.name;
      fs::create_directories(w.dir);
      c.make(w);
      std::printf("%s: %zu seeds, %zu bytes\n", w.dir.string().c_str(), w.files, w.total_bytes);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_json_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
