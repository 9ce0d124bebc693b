// The builder workspace: creating the three config files with nn-Meter's keys and defaults,
// reading them back, and refusing what they must not say.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "builder/workspace/workspace.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

namespace bw = nnmeter::builder;
namespace fs = std::filesystem;

namespace {

using nnmeter_test::read_file;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void check_equal(const bw::ruletest_config& a, const bw::ruletest_config& b) {
  CHECK(a.detail == b.detail);
  CHECK(a.implement == b.implement);
  CHECK(a.hw == b.hw);
  CHECK(a.cin == b.cin);
  CHECK(a.shape_1d == b.shape_1d);
  CHECK(a.cout == b.cout);
  CHECK(a.kernel_size == b.kernel_size);
  CHECK(a.padding == b.padding);
  CHECK(a.strides == b.strides);
  CHECK(a.pool_strides == b.pool_strides);
  CHECK(a.emp_alpha == b.emp_alpha);
  CHECK(a.basic_testcases == b.basic_testcases);
  CHECK(a.other_testcases == b.other_testcases);
  CHECK(a.layers_1d == b.layers_1d);
  CHECK(a.repeats == b.repeats);
  CHECK(a.noise_sigmas == b.noise_sigmas);
}

void check_equal(const bw::kernel_build_config& a, const bw::kernel_build_config& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.init_sample_num == b.init_sample_num);
  CHECK(a.finegrained_sample_num == b.finegrained_sample_num);
  CHECK(a.iteration == b.iteration);
  CHECK(a.error_threshold == b.error_threshold);
  CHECK(a.trainer == b.trainer);
  CHECK(a.rounds == b.rounds);
  CHECK(a.max_depth == b.max_depth);
  CHECK(a.learning_rate == b.learning_rate);
  CHECK(a.subsample == b.subsample);
  CHECK(a.colsample_bynode == b.colsample_bynode);
}

void check_equal(const bw::predictorbuild_config& a, const bw::predictorbuild_config& b) {
  CHECK(a.detail == b.detail);
  CHECK(a.implement == b.implement);
  CHECK(a.batch_size == b.batch_size);
  CHECK(a.seed == b.seed);
  CHECK(a.budget_minutes == b.budget_minutes);
  CHECK(a.holdout_fraction == b.holdout_fraction);
  REQUIRE(a.kernels.size() == b.kernels.size());
  for (std::size_t i = 0; i < a.kernels.size(); ++i) check_equal(a.kernels[i], b.kernels[i]);
}

void check_equal(const bw::backend_config& a, const bw::backend_config& b) {
  CHECK(a.backend == b.backend);
  CHECK(a.remote_model_dir == b.remote_model_dir);
  CHECK(a.benchmark_model_path == b.benchmark_model_path);
  CHECK(a.device_serial == b.device_serial);
  CHECK(a.kernel_path == b.kernel_path);
  const auto& p = a.protocol;
  const auto& q = b.protocol;
  CHECK(p.threads == q.threads);
  CHECK(p.warmup_seconds == q.warmup_seconds);
  CHECK(p.warmup_min_invokes == q.warmup_min_invokes);
  CHECK(p.warmup_every_pass == q.warmup_every_pass);
  CHECK(p.blocks == q.blocks);
  CHECK(p.invokes_per_block == q.invokes_per_block);
  CHECK(p.passes == q.passes);
  CHECK(p.normalise_by_reference == q.normalise_by_reference);
  CHECK(p.seed == q.seed);
  CHECK(p.clock == q.clock);
}

}  // namespace

TEST_CASE("workspace: create --xnnpack-workspace writes nn-Meter's three files with its defaults") {
  nnmeter_test::temp_dir tmp("nnmeter_ws");
  const fs::path dir = fs::path(tmp.path()) / "ws";
  const bw::workspace ws = bw::create_workspace(dir, {bw::workspace_kind::xnnpack, "", false});
  CHECK(ws.root == dir);
  CHECK(ws.kind() == bw::workspace_kind::xnnpack);
  CHECK(fs::is_regular_file(dir / "configs" / "backend_config.yaml"));
  CHECK(fs::is_regular_file(dir / "configs" / "ruletest_config.yaml"));
  CHECK(fs::is_regular_file(dir / "configs" / "predictorbuild_config.yaml"));
  CHECK(ws.store_file() == dir / "profile_store.sqlite");
  CHECK(ws.fusion_rule_test_dir() == dir / "fusion_rule_test");
  CHECK(ws.predictor_build_dir() == dir / "predictor_build");
  CHECK_FALSE(fs::exists(ws.store_file()));  // made by the first measurement

  // ruletest_config.yaml: nn-Meter's table (spec 5.2)
  const bw::ruletest_config& r = ws.ruletest;
  CHECK_FALSE(r.detail);
  CHECK(r.implement == "tensorflow");
  CHECK(r.hw == 28);
  CHECK(r.cin == 64);
  CHECK(r.shape_1d == 428);
  CHECK(r.cout == 128);
  CHECK(r.kernel_size == 3);
  CHECK(r.padding == "same");
  CHECK(r.strides == 1);
  CHECK(r.pool_strides == 2);
  CHECK(r.emp_alpha == 0.5);
  CHECK(r.other_testcases == std::vector<std::string>{"MON"});
  CHECK(r.layers_1d == std::vector<std::string>{"fc"});
  // nn-Meter's 79 pairs: the 9 x 9 grid less the 8 fc / spatial pairs, plus 6
  REQUIRE(r.basic_testcases.size() == 79);
  CHECK(r.basic_testcases.front() == "add_add");
  CHECK(r.basic_testcases[72] == "reshape_reshape");
  CHECK(std::vector<std::string>(r.basic_testcases.end() - 6, r.basic_testcases.end()) ==
        std::vector<std::string>{"bn_relu", "conv_bn", "conv_hswish", "conv_se", "dwconv_bn",
                                 "se_relu"});
  for (const char* absent : {"avgpool_fc", "conv_fc", "convtrans_fc", "dwconv_fc", "fc_avgpool",
                             "fc_conv", "fc_convtrans", "fc_dwconv"})
    CHECK(std::count(r.basic_testcases.begin(), r.basic_testcases.end(), absent) == 0);
  for (const char* present : {"conv_relu", "add_relu", "conv_add", "fc_fc", "fc_relu", "relu_fc"})
    CHECK(std::count(r.basic_testcases.begin(), r.basic_testcases.end(), present) == 1);
  CHECK(std::set<std::string>(r.basic_testcases.begin(), r.basic_testcases.end()).size() == 79);

  // predictorbuild_config.yaml: nn-Meter's 16 kernels first, its sample numbers
  const bw::predictorbuild_config& p = ws.predictorbuild;
  CHECK_FALSE(p.detail);
  CHECK(p.implement == "tensorflow");
  CHECK(p.batch_size == 1);
  REQUIRE(p.kernels.size() == nnmeter::kernel_kind_count - 1);  // every kind but other
  CHECK(p.find(nnmeter::kernel_kind::other) == nullptr);
  for (std::size_t i = 0; i < p.kernels.size(); ++i) {
    const bw::kernel_build_config& k = p.kernels[i];
    CAPTURE(nnmeter::to_string(k.kind));
    CHECK(static_cast<std::size_t>(k.kind) == i);
    const int expected = k.kind == nnmeter::kernel_kind::conv_bn_relu     ? 10000
                         : k.kind == nnmeter::kernel_kind::dwconv_bn_relu ? 5000
                                                                          : 3000;
    CHECK(k.init_sample_num == expected);
    CHECK(k.finegrained_sample_num == 20);
    CHECK(k.iteration == 3);
    CHECK(k.error_threshold == 0.1);
  }
  int nnmeter_total = 0;
  for (std::size_t i = 0; i < 16; ++i) nnmeter_total += p.kernels[i].init_sample_num;
  CHECK(nnmeter_total == 57000);  // nn-Meter's 57,000 initial samples

  // backend_config.yaml: the xnnpack backend, the protocol's defaults, no ADB keys
  CHECK(ws.backend.backend == "xnnpack");
  const std::string backend_text = read_file(ws.backend_config_file());
  CHECK_FALSE(contains(backend_text, "REMOTE_MODEL_DIR"));
  CHECK(contains(backend_text, "PROTOCOL:\n"));
  check_equal(ws.backend, bw::default_backend_config(bw::workspace_kind::xnnpack));
}

TEST_CASE("workspace: --tflite-workspace has nn-Meter's ADB keys, --customized names its backend") {
  nnmeter_test::temp_dir tmp("nnmeter_ws");
  const bw::workspace t =
      bw::create_workspace(fs::path(tmp.path()) / "phone", {bw::workspace_kind::tflite, "", false});
  CHECK(t.kind() == bw::workspace_kind::tflite);
  CHECK(t.backend.backend == "tflite_cpu");
  CHECK(t.backend.remote_model_dir == "/mnt/sdcard/tflite_bench");
  CHECK(t.backend.benchmark_model_path == "/data/local/tmp/benchmark_model");
  CHECK(t.backend.device_serial.empty());
  CHECK(t.backend.kernel_path.empty());
  const std::string text = read_file(t.backend_config_file());
  CHECK(contains(text, "\nREMOTE_MODEL_DIR: /mnt/sdcard/tflite_bench\n"));
  CHECK(contains(text, "\nBENCHMARK_MODEL_PATH: /data/local/tmp/benchmark_model\n"));
  CHECK(contains(text, "\nDEVICE_SERIAL: \"\"\n"));
  CHECK(contains(text, "\nKERNEL_PATH: \"\"\n"));

  const bw::workspace c = bw::create_workspace(fs::path(tmp.path()) / "custom",
                                               {bw::workspace_kind::customized, "my_npu", false});
  CHECK(c.kind() == bw::workspace_kind::customized);
  CHECK(c.backend.backend == "my_npu");
  CHECK_THROWS_AS((void)bw::create_workspace(fs::path(tmp.path()) / "c2",
                                             {bw::workspace_kind::customized, "", false}),
                  bw::workspace_error);
  try {
    (void)bw::create_workspace(fs::path(tmp.path()) / "c3",
                               {bw::workspace_kind::customized, "bad name!", false});
    FAIL("created");
  } catch (const bw::config_error& e) {
    CHECK(e.key() == "BACKEND");
    CHECK(contains(e.what(), "letters, digits"));
  }
  CHECK_FALSE(fs::exists(fs::path(tmp.path()) / "c3" / "configs" / "backend_config.yaml"));
}

TEST_CASE("workspace: every key is commented in the written files") {
  nnmeter_test::temp_dir tmp("nnmeter_ws");
  const bw::workspace ws =
      bw::create_workspace(fs::path(tmp.path()) / "ws", {bw::workspace_kind::tflite, "", false});
  for (const fs::path& file :
       {ws.backend_config_file(), ws.ruletest_config_file(), ws.predictorbuild_config_file()}) {
    CAPTURE(file.string());
    std::istringstream in(read_file(file));
    std::string line;
    std::string previous;
    int keys = 0;
    bool in_kernels = false;
    while (std::getline(in, line)) {
      const bool key_line = !line.empty() && line[0] != '#' && line[0] != ' ' && line[0] != '-';
      const bool protocol_key = line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ' &&
                                line[2] != '#' && line[2] != '-' && !in_kernels;
      if (key_line) in_kernels = line == "KERNELS:";
      if (key_line || protocol_key) {
        ++keys;
        CAPTURE(line);
        const std::size_t hash = previous.find('#');
        CHECK(hash != std::string::npos);  // the line above a key is its comment
      }
      previous = line;
    }
    CHECK(keys >= 6);
  }
  // the comment of every key (KERNELS' sub-keys in KERNELS' comment) is in the files
  const std::string all = read_file(ws.backend_config_file()) +
                          read_file(ws.ruletest_config_file()) +
                          read_file(ws.predictorbuild_config_file());
  for (bw::config_file f :
       {bw::config_file::backend, bw::config_file::ruletest, bw::config_file::predictorbuild})
    for (const bw::config_key_info& k : bw::config_keys(f)) {
      CAPTURE(k.path);
      CHECK_FALSE(k.comment.empty());
      const std::string first_line = k.comment.substr(0, k.comment.find('\n'));
      CHECK(contains(all, first_line.substr(0, 40)));
    }
}

TEST_CASE("workspace: every key is documented in docs/configuration.md") {
  const std::string docs = read_file(fs::path(NNMETER_SOURCE_DIR) / "docs" / "configuration.md");
  REQUIRE_FALSE(docs.empty());
  for (bw::config_file f :
       {bw::config_file::backend, bw::config_file::ruletest, bw::config_file::predictorbuild})
    for (const bw::config_key_info& k : bw::config_keys(f)) {
      const std::string name = k.path.substr(k.path.rfind('.') + 1);
      CAPTURE(k.path);
      CHECK(contains(docs, "`" + name + "`"));
    }
}

TEST_CASE("workspace: a loaded config written back reads back equal") {
  bw::backend_config b = bw::default_backend_config(bw::workspace_kind::tflite);
  b.backend = "tflite_gpu";
  b.device_serial = "R58M1234: with colon";
  b.kernel_path = "/data/local/tmp/kernels.cl";
  b.protocol.blocks = 7;
  b.protocol.invokes_per_block = 11;
  b.protocol.warmup_seconds = 0.35;
  b.protocol.clock = nnmeter::backends::measurement_clock::thread_cpu;
  b.protocol.seed = 123456789012345ULL;
  check_equal(bw::parse_backend_config(bw::to_yaml(b), "b.yaml"), b);

  bw::ruletest_config r;
  r.detail = true;
  r.hw = 14;
  r.padding = "valid";
  r.emp_alpha = 0.25;
  r.basic_testcases = {"conv_relu", "add_relu"};
  r.other_testcases = {};
  r.layers_1d = {"fc", "globalavgpool"};
  r.repeats = 9;
  r.noise_sigmas = 3.5;
  check_equal(bw::parse_ruletest_config(bw::to_yaml(r), "r.yaml"), r);

  bw::predictorbuild_config p;
  p.kernels = {bw::predictorbuild_config::default_kernel(nnmeter::kernel_kind::fc),
               bw::predictorbuild_config::default_kernel(nnmeter::kernel_kind::sigmoid)};
  p.kernels[0].init_sample_num = 123;
  p.kernels[0].trainer = bw::trainer_mode::random_forest;
  p.kernels[0].learning_rate = 1.0;
  p.kernels[0].subsample = 0.8;
  p.kernels[1].error_threshold = 0.05;
  p.seed = 42;
  p.budget_minutes = 12.5;
  p.holdout_fraction = 0.3;
  check_equal(bw::parse_predictorbuild_config(bw::to_yaml(p), "p.yaml"), p);
}

TEST_CASE("workspace: keys left out take their defaults, nn-Meter's spellings are read") {
  const bw::ruletest_config r = bw::parse_ruletest_config("HW: 32\nDETAIL: FALSE\n", "r.yaml");
  CHECK(r.hw == 32);
  CHECK(r.cin == 64);
  CHECK(r.basic_testcases.size() == 79);
  const bw::predictorbuild_config p = bw::parse_predictorbuild_config(
      "KERNELS:\n  conv-bn-relu:\n    INIT_SAMPLE_NUM: 50\n  fc:\n  dwconv-bn-relu: {ITERATION: "
      "1}\n",
      "p.yaml");
  REQUIRE(p.kernels.size() == 3);
  CHECK(p.kernels[0].kind == nnmeter::kernel_kind::conv_bn_relu);
  CHECK(p.kernels[0].init_sample_num == 50);
  CHECK(p.kernels[0].iteration == 3);
  CHECK(p.kernels[1].kind == nnmeter::kernel_kind::fc);
  CHECK(p.kernels[1].init_sample_num == 3000);
  CHECK(p.kernels[2].init_sample_num == 5000);
  CHECK(p.kernels[2].iteration == 1);
  const bw::backend_config b =
      bw::parse_backend_config("BACKEND: xnnpack\nPROTOCOL: {BLOCKS: 2}\n", "b.yaml");
  CHECK(b.protocol.blocks == 2);
  CHECK(b.protocol.passes == 3);
}

namespace {

struct bad_config {
  bw::config_file file;
  const char* yaml;
  const char* key;   // expected config_error::key()
  int line;          // expected config_error::line()
  const char* says;  // part of what()
};

void check_bad(const bad_config& c) {
  CAPTURE(c.yaml);
  const std::string name = std::string("/ws/configs/") +
                           (c.file == bw::config_file::backend    ? "backend_config.yaml"
                            : c.file == bw::config_file::ruletest ? "ruletest_config.yaml"
                                                                  : "predictorbuild_config.yaml");
  try {
    switch (c.file) {
      case bw::config_file::backend:
        (void)bw::parse_backend_config(c.yaml, name);
        break;
      case bw::config_file::ruletest:
        (void)bw::parse_ruletest_config(c.yaml, name);
        break;
      case bw::config_file::predictorbuild:
        (void)bw::parse_predictorbuild_config(c.yaml, name);
        break;
    }
    FAIL("accepted");
  } catch (const bw::config_error& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(e.file() == name);
    CHECK(what.rfind(name + ":", 0) == 0);
    CHECK(e.key() == c.key);
    CHECK(e.line() == c.line);
    CHECK(contains(what, c.says));
    if (c.line > 0) CHECK(contains(what, name + ":" + std::to_string(c.line) + ":"));
  }
}

}  // namespace

TEST_CASE(
    "workspace: unknown and misspelt keys name the file, the key, the line and the closest key") {
  using F = bw::config_file;
  const bad_config cases[] = {
      {F::ruletest, "DETAIL: false\nHWW: 28\n", "HWW", 2, "unknown key (did you mean 'HW'?)"},
      {F::ruletest, "hw: 28\n", "hw", 1, "did you mean 'HW'?"},
      {F::ruletest, "EPS_ALPHA: 0.5\n", "EPS_ALPHA", 1, "did you mean 'EMP_ALPHA'?"},
      {F::ruletest, "COLOR: blue\n", "COLOR", 1, "unknown key; known keys: DETAIL, IMPLEMENT, HW"},
      {F::ruletest, "KERNELS: {}\n", "KERNELS", 1,
       "unknown key here: it is a key of predictorbuild_config.yaml"},
      {F::backend, "BACKEND: tflite_cpu\nPROTOCOL:\n  BLOCKS: 5\n  RUN: 50\n", "PROTOCOL.RUN", 4,
       "did you mean 'RUNS'?"},
      {F::predictorbuild, "DETAIL: false\nKERNELS:\n  conv-bn-relu:\n    INIT_SAMPLE_NUMS: 10\n",
       "KERNELS.conv-bn-relu.INIT_SAMPLE_NUMS", 4, "did you mean 'INIT_SAMPLE_NUM'?"},
      {F::predictorbuild, "KERNELS:\n  conv-bn-rel:\n", "KERNELS.conv-bn-rel", 2,
       "unknown kernel kind (did you mean 'conv-bn-relu'?)"},
      {F::predictorbuild, "KERNELS:\n  other:\n", "KERNELS.other", 2, "'other' cannot be built"},
      {F::predictorbuild, "KERNELS:\n  fc:\n  fc:\n", "KERNELS.fc", 3,
       "appears twice (first on line 2)"},
      {F::ruletest, "HW: 28\nCIN: 3\nHW: 14\n", "HW", 3, "appears twice (first on line 1)"},
      {F::backend, "BACKEND: xnnpack\nDEVICE_SERIAL: abc\n", "DEVICE_SERIAL", 2,
       "is a key of the ADB backends, but BACKEND is xnnpack"},
  };
  for (const bad_config& c : cases) check_bad(c);
}

TEST_CASE("workspace: wrong types and out-of-range values are refused with the key and line") {
  using F = bw::config_file;
  const bad_config cases[] = {
      {F::ruletest, "HW: abc\n", "HW", 1, "expected an integer in [1, 1024], got 'abc'"},
      {F::ruletest, "HW: 2.5\n", "HW", 1, "expected an integer"},
      {F::ruletest, "HW: \"28\"\n", "HW", 1, "got the string '28'"},
      {F::ruletest, "HW:\n", "HW", 1, "got nothing"},
      {F::ruletest, "HW: [28]\n", "HW", 1, "got a list"},
      {F::ruletest, "HW: 0\n", "HW", 1, "expected an integer in [1, 1024], got '0'"},
      {F::ruletest, "\n\nCIN: -3\n", "CIN", 3, "got '-3'"},
      {F::ruletest, "HW: 99999999999999999999\n", "HW", 1, "expected an integer"},
      {F::ruletest, "DETAIL: maybe\n", "DETAIL", 1, "expected true or false"},
      {F::ruletest, "EMP_ALPHA: 1.5\n", "EMP_ALPHA", 1, "expected a number in (0, 1], got '1.5'"},
      {F::ruletest, "EMP_ALPHA: 0\n", "EMP_ALPHA", 1, "(0, 1]"},
      {F::ruletest, "EMP_ALPHA: .nan\n", "EMP_ALPHA", 1, "expected a number"},
      {F::ruletest, "EMP_ALPHA: high\n", "EMP_ALPHA", 1, "expected a number"},
      {F::ruletest, "SHAPE_1D: 427\n", "SHAPE_1D", 1, "must be even"},
      {F::ruletest, "PADDING: samee\n", "PADDING", 1,
       "expected one of same, valid, got 'samee' (did you mean 'same'?)"},
      {F::ruletest, "IMPLEMENT: torch\n", "IMPLEMENT", 1, "only 'tensorflow' is accepted"},
      {F::ruletest, "BASIC_TESTCASES: conv_relu\n", "BASIC_TESTCASES", 1,
       "expected a list of names"},
      {F::ruletest, "BASIC_TESTCASES:\n  - conv_relu\n  - conv_relux\n", "BASIC_TESTCASES", 3,
       "unknown test operator 'relux' in 'conv_relux' (did you mean 'relu'?)"},
      {F::ruletest, "BASIC_TESTCASES: [convrelu]\n", "BASIC_TESTCASES", 1,
       "expected a pair of test operators 'a_b'"},
      {F::ruletest, "BASIC_TESTCASES: [conv_relu, add_relu, conv_relu]\n", "BASIC_TESTCASES", 1,
       "'conv_relu' is listed twice"},
      {F::ruletest, "OTHER_TESTCASES: [MOM]\n", "OTHER_TESTCASES", 1,
       "unknown test 'MOM'; known: MON"},
      {F::ruletest, "LAYERS_1D: [fc, gap]\n", "LAYERS_1D", 1, "unknown test operator 'gap'"},
      {F::ruletest, "REPEATS: 1\n", "REPEATS", 1, "[2, 1000]"},
      {F::backend, "PROTOCOL: 5\n", "PROTOCOL", 1, "expected a map of keys, got '5'"},
      {F::backend, "PROTOCOL:\n  BLOCKS: 0\n", "PROTOCOL.BLOCKS", 2, "[1, 1000000]"},
      {F::backend, "PROTOCOL:\n  CLOCK: wall\n", "PROTOCOL.CLOCK", 2,
       "expected one of steady, thread-cpu"},
      {F::backend, "PROTOCOL:\n  THREADS: 2\n  CLOCK: thread-cpu\n", "PROTOCOL", 1,
       "needs threads = 1"},
      {F::backend, "PROTOCOL:\n  BLOCKS: 10000\n  RUNS: 10000\n  PASSES: 10\n", "PROTOCOL", 1,
       "more than the limit"},
      {F::backend, "BACKEND:\n", "BACKEND", 1, "must not be empty"},
      {F::backend, "BACKEND: {a: 1}\n", "BACKEND", 1, "expected a string, got a map"},
      {F::predictorbuild, "KERNELS:\n", "KERNELS", 1, "lists no kernel kind"},
      {F::predictorbuild, "KERNELS: [fc]\n", "KERNELS", 1, "expected a map of kernel kinds"},
      {F::predictorbuild, "HOLDOUT_FRACTION: 1\n", "HOLDOUT_FRACTION", 1, "(0, 1)"},
      {F::predictorbuild, "BUDGET_MINUTES: -1\n", "BUDGET_MINUTES", 1, "[0, 1000000]"},
      {F::predictorbuild, "SEED: -1\n", "SEED", 1, "expected an integer in [0, "},
      {F::predictorbuild, "KERNELS:\n  fc:\n    TRAINER: xgboost\n", "KERNELS.fc.TRAINER", 3,
       "expected one of boosting, random-forest"},
      {F::predictorbuild, "KERNELS:\n  fc:\n    ERROR_THRESHOLD: 0\n", "KERNELS.fc.ERROR_THRESHOLD",
       3, "(0, 1]"},
      {F::predictorbuild, "KERNELS:\n  fc: 5\n", "KERNELS.fc", 2,
       "expected a map of keys, got '5'"},
  };
  for (const bad_config& c : cases) check_bad(c);
}

TEST_CASE("workspace: broken YAML, empty files and odd documents are errors with the line") {
  using F = bw::config_file;
  const bad_config cases[] = {
      {F::ruletest, "HW: [1, 2\n", "", 2, "invalid YAML"},
      {F::ruletest, "HW: 28\n  CIN: 3\n", "", 2, "invalid YAML"},
      {F::ruletest, "HW: 28\n\tCIN: 3\n", "", 2, "invalid YAML"},
      {F::ruletest, "{HW: 28\n", "", 2, "invalid YAML"},
      {F::ruletest, "", "", 0, "the file is empty"},
      {F::ruletest, "# only a comment\n", "", 0, "the file is empty"},
      {F::ruletest, "- HW\n- CIN\n", "", 1, "expected a map of keys, got a list"},
      {F::ruletest, "HW: 28\n---\nCIN: 3\n", "", 3, "holds 2 YAML documents"},
      {F::ruletest, "? [a, b]\n: 1\n", "", 1, "a key must be a name"},
  };
  for (const bad_config& c : cases) check_bad(c);
  // deep nesting is refused before yaml-cpp recurses through it
  const std::string deep = "HW: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  check_bad({F::ruletest, deep.c_str(), "", 1, "nested more than 64 levels"});
  const std::string nul = std::string("HW: 28\n") + '\0' + "\n";
  try {
    (void)bw::parse_ruletest_config(nul, "r.yaml");
    FAIL("accepted");
  } catch (const bw::config_error& e) {
    CHECK(contains(e.what(), "NUL byte"));
  }
}

TEST_CASE("workspace: a missing workspace, folder or file is an error naming it") {
  nnmeter_test::temp_dir tmp("nnmeter_ws");
  const fs::path missing = fs::path(tmp.path()) / "nope";
  try {
    (void)bw::load_workspace(missing);
    FAIL("loaded");
  } catch (const bw::workspace_error& e) {
    CHECK(e.path() == missing.string());
    CHECK(contains(e.what(), missing.string() + ": no such workspace"));
  }
  const fs::path empty = fs::path(tmp.path()) / "empty";
  fs::create_directory(empty);
  try {
    (void)bw::load_workspace(empty);
    FAIL("loaded");
  } catch (const bw::workspace_error& e) {
    CHECK(contains(e.what(),
                   "is not an nnmeter workspace: " + (empty / "configs").string() + " is missing"));
  }
  const std::string file = tmp.write("a_file", "x");
  CHECK_THROWS_AS((void)bw::load_workspace(file), bw::workspace_error);
  CHECK_THROWS_AS((void)bw::create_workspace(file, {}), bw::workspace_error);

  const bw::workspace ws = bw::create_workspace(fs::path(tmp.path()) / "ws", {});
  fs::remove(ws.ruletest_config_file());
  try {
    (void)bw::load_workspace(ws.root);
    FAIL("loaded");
  } catch (const bw::workspace_error& e) {
    CHECK(e.path() == ws.ruletest_config_file().string());
    CHECK(contains(e.what(), "no such config file"));
  }
  // an error inside one file names that file
  (void)bw::create_workspace(ws.root, {bw::workspace_kind::xnnpack, "", true});
  write_text(ws.predictorbuild_config_file(), "BATCH_SIZE: 0\n");
  try {
    (void)bw::load_workspace(ws.root);
    FAIL("loaded");
  } catch (const bw::config_error& e) {
    CHECK(e.file() == ws.predictorbuild_config_file().string());
    CHECK(e.key() == "BATCH_SIZE");
    CHECK(e.line() == 1);
  }
  // a config file that is a folder
  fs::remove(ws.predictorbuild_config_file());
  fs::create_directory(ws.predictorbuild_config_file());
  try {
    (void)bw::load_workspace(ws.root);
    FAIL("loaded");
  } catch (const bw::workspace_error& e) {
    CHECK(contains(e.what(), "is a directory"));
  }
}

TEST_CASE("workspace: creating over a workspace refuses, --force rewrites the configs only") {
  nnmeter_test::temp_dir tmp("nnmeter_ws");
  const fs::path dir = fs::path(tmp.path()) / "ws";
  const bw::workspace ws = bw::create_workspace(dir, {});
  write_text(ws.ruletest_config_file(), "HW: 14\n");
  write_text(ws.store_file(), "measurements");
  try {
    (void)bw::create_workspace(dir, {});
    FAIL("created");
  } catch (const bw::workspace_error& e) {
    CHECK(e.path() == ws.backend_config_file().string());
    CHECK(contains(e.what(), "already a workspace"));
  }
  CHECK(read_file(ws.ruletest_config_file()) == "HW: 14\n");  // untouched
  const bw::workspace again = bw::create_workspace(dir, {bw::workspace_kind::tflite, "", true});
  CHECK(again.ruletest.hw == 28);
  CHECK(again.kind() == bw::workspace_kind::tflite);
  CHECK(read_file(ws.store_file()) == "measurements");  // never touched
  for (const auto& e : fs::directory_iterator(ws.configs_dir()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("workspace: creating in a folder that cannot be written is an error naming it") {
  // /proc/self is not writable, even for root
  try {
    (void)bw::create_workspace("/proc/self/nnmeter_ws", {});
    FAIL("created");
  } catch (const bw::workspace_error& e) {
    CHECK(contains(e.what(), "/proc/self/nnmeter_ws/configs"));
  }
}

TEST_CASE("workspace: closest_match suggests plausible spellings only") {
  const std::vector<std::string> keys{"INIT_SAMPLE_NUM", "FINEGRAINED_SAMPLE_NUM", "ITERATION"};
  CHECK(bw::closest_match("INIT_SAMPLE_NUMS", keys) == "INIT_SAMPLE_NUM");
  CHECK(bw::closest_match("iteration", keys) == "ITERATION");
  CHECK(bw::closest_match("ITERATOIN", keys) == "ITERATION");
  CHECK(bw::closest_match("COLOR", keys).empty());
  CHECK(bw::closest_match("", keys).empty());
  CHECK(bw::closest_match("x", {}).empty());
}
