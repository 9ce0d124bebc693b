// Unit tests of build_predictor (tools/builder/predictorbuild): the flow from the workspace's
// configs to a registered-ready package, on a backend whose latencies are a known function of
// the graph (cost_backend below), so that every outcome — trained, skipped, failed, stopped,
// resumed — can be checked exactly and quickly. The real device (XNNPACK) is exercised by the
// CLI end-to-end test (tests/unit/cli_builder_e2e).
// SPDX-License-Identifier: MIT
#include "builder/predictorbuild/predictor_build.hpp"

#include "builder/package/registry.hpp"
#include "builder/trainer/trainer.hpp"

#include "../../support/read_file.hpp"
#include "../../support/temp_dir.hpp"

#include <nnmeter/io/json.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <map>
#include <string>

namespace nb = nnmeter::builder;
namespace fs = std::filesystem;
using nnmeter::kernel_kind;

namespace {

// A backend whose "measured" latency is a deterministic function of the graph, shaped like a
// CPU's: 1 us of fixed cost per kernel plus 10 GFLOP/s of compute plus 10 GB/s of output
// traffic. Softmax is unsupported (as a backend
// that lacks an op says); a configuration whose first node has more than `fail_above_cin`
// input channels fails with a message (as a crashing runtime would).
class cost_backend : public nnmeter::backends::backend {
 public:
  int fail_above_cin = 1 << 30;
  std::size_t profiles = 0;
  std::map<int, std::size_t> profiles_by_layouts;  ///< protocol.layouts -> profile() calls

  std::string name() const override { return "cost"; }
  std::string device() const override { return "cost model (test)"; }
  std::string runtime() const override { return "analytic latencies, no runtime"; }

  std::unique_ptr<nnmeter::backends::prepared_model> prepare(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol&) override {
    struct noop : nnmeter::backends::prepared_model {
      void invoke() override {}
    };
    for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i)
      if (g[i].op == nnmeter::op_kind::softmax)
        throw nnmeter::unsupported_error("node '" + g[i].name + "': the cost backend has no softmax");
    return std::make_unique<noop>();
  }

  nnmeter::backends::profile_result profile(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol& p) override {
    (void)prepare(g, p);
    ++profiles;
    ++profiles_by_layouts[p.layouts];
    double flops = 0, bytes = 0;
    for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i) {
      const nnmeter::node& n = g[i];
      if (!n.input_shapes.empty() && n.op != nnmeter::op_kind::input &&
          n.input_shapes[0].rank() == 4 && n.input_shapes[0].back() > fail_above_cin)
        throw nnmeter::backends::backend_error("cost backend: node '" + n.name + "' has " +
                                               std::to_string(n.input_shapes[0].back()) +
                                               " input channels, it fails above " +
                                               std::to_string(fail_above_cin));
      const nnmeter::node_cost c =
          nnmeter::cost_of(n.op, n.input_shapes.data(), n.input_shapes.size(),
                           n.output_shapes.data(), n.output_shapes.size(), n.attrs);
      flops += c.flops;
      for (const nnmeter::tensor_shape& s : n.output_shapes)
        bytes += 4.0 * static_cast<double>(s.num_elements());
    }
    nnmeter::backends::profile_result r;
    r.latency_ms = 0.001 + flops / 1e7 + bytes / 1e7;
    r.stats.min_ms = r.stats.p10_ms = r.stats.median_ms = r.stats.mean_ms = r.stats.max_ms =
        r.latency_ms;
    r.stats.runs = 1;
    r.protocol = p;
    r.backend = name();
    r.device = device();
    r.timestamp = nnmeter::backends::utc_timestamp();
    return r;
  }
};

// A workspace with a predictorbuild_config.yaml whose KERNELS are `kernels_yaml`; without a
// CONTEXT_MODELS in `extra`, no context factor (the tests of kernels count kernel measurements).
nb::workspace make_workspace(const nnmeter_test::temp_dir& dir, const std::string& kernels_yaml,
                             const std::string& extra = "") {
  nb::create_options co;
  (void)nb::create_workspace(dir.path(), co);
  const fs::path pb = fs::path(dir.path()) / "configs" / nb::predictorbuild_config_name;
  const std::string context =
      extra.find("CONTEXT_MODELS") == std::string::npos ? "CONTEXT_MODELS: 0\n" : "";
  std::ofstream(pb, std::ios::trunc) << "SEED: 7\nHOLDOUT_FRACTION: 0.2\n" << context << extra
                                     << "KERNELS:\n" << kernels_yaml;
  return nb::load_workspace(dir.path());
}

nb::predictor_build_options options_with_rules() {
  nb::predictor_build_options o;
  o.rules = nnmeter::rule_set::from_rules(nnmeter::tflite_cpu_rules);
  return o;
}

const nb::kernel_build_result& result_of(const nb::predictor_build_report& r, kernel_kind k) {
  for (const nb::kernel_build_result& x : r.kinds)
    if (x.kind == k) return x;
  FAIL("no result for kind " << nnmeter::to_string(k));
  throw std::logic_error("unreachable");
}

using nnmeter_test::read_file;

std::size_t lines_of(const fs::path& p) {
  const std::string t = read_file(p);
  return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
}

const std::string conv_relu_softmax_kernels = R"(  conv-bn-relu:
    INIT_SAMPLE_NUM: 80
    FINEGRAINED_SAMPLE_NUM: 6
    ITERATION: 2
    ERROR_THRESHOLD: 0.05
    ROUNDS: 60
    MAX_DEPTH: 5
  relu:
    INIT_SAMPLE_NUM: 40
    ITERATION: 1
    ROUNDS: 40
    MAX_DEPTH: 4
  softmax:
    INIT_SAMPLE_NUM: 20
    ITERATION: 1
)";

}  // namespace

TEST_CASE("build_predictor: a package, its meta file, reports and CSVs, for every kind it can build") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, conv_relu_softmax_kernels);
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  std::size_t events = 0, measured_events = 0;
  nb::predictor_build_options o = options_with_rules();
  o.name = "cost_test";
  o.on_event = [&](const nb::build_event& e) {
    ++events;
    if (e.event == nb::build_event::what::measured) {
      ++measured_events;
      REQUIRE(e.measurement != nullptr);
      CHECK(e.index < e.total);
    }
  };
  const nb::predictor_build_report r = nb::build_predictor(ws, store, be, o);

  REQUIRE(r.kinds.size() == 3);
  const nb::kernel_build_result& conv = result_of(r, kernel_kind::conv_bn_relu);
  const nb::kernel_build_result& relu = result_of(r, kernel_kind::relu);
  const nb::kernel_build_result& softmax = result_of(r, kernel_kind::softmax);
  CHECK(nb::to_string(conv.status) == std::string("built"));
  CHECK(nb::to_string(relu.status) == std::string("built"));
  CHECK(nb::to_string(softmax.status) == std::string("skipped"));
  CHECK(softmax.note.find("backend cost cannot run it") != std::string::npos);
  CHECK(softmax.note.find("no softmax") != std::string::npos);
  CHECK(r.complete);  // skipped kinds do not make a build incomplete
  CHECK_FALSE(r.stopped);
  CHECK_FALSE(r.budget_exhausted);

  // conv-bn-relu: 80 prior draws (fewer distinct), then a fine-grained round around the
  // train-part configurations whose out-of-fold error is above 5 %, if any. The held-out
  // rows are the prior round's and stay the same.
  REQUIRE_FALSE(conv.rounds.empty());
  CHECK(conv.rounds[0].mark == "prior");
  CHECK(conv.rounds[0].sampled == 80);
  CHECK(conv.rounds[0].distinct <= 80);
  CHECK(conv.rounds[0].measured == conv.rounds[0].distinct);
  CHECK(conv.rounds[0].holdout_rows == conv.rounds[0].holdout.n);
  CHECK(conv.rounds[0].holdout_rows ==
        static_cast<std::size_t>(std::ceil(0.2 * static_cast<double>(conv.rounds[0].rows))));
  CHECK(conv.rounds.size() <= 2);
  if (conv.rounds.size() == 2) {
    CHECK(conv.rounds[1].mark == "finegrained1");
    CHECK(conv.rounds[0].refine_configs > 0);
    CHECK(conv.rounds[1].rows > conv.rounds[0].rows);
    CHECK(conv.rounds[1].holdout_rows == conv.rounds[0].holdout_rows);
    CHECK(conv.rounds[1].refine_configs == 0);  // no round follows
  } else {
    CHECK(conv.rounds[0].refine_configs == 0);
  }
  std::size_t conv_distinct = 0;
  for (const nb::kernel_round& kr : conv.rounds) conv_distinct += kr.distinct;
  CHECK(conv.samples == conv_distinct);
  CHECK(conv.block == "conv-bn-relu");
  CHECK(relu.rounds.size() == 1);
  CHECK(r.measured == conv_distinct + relu.samples);
  CHECK(measured_events == r.measured);
  CHECK(be.profiles == r.measured);
  CHECK(events > measured_events);
  // A noise-free latency that is a smooth function of FLOPs and bytes, both features of the
  // extended set: the forests must fit it closely on rows they never saw.
  CHECK(conv.holdout.n > 0);
  CHECK(conv.holdout.within_10 >= 0.8);
  CHECK(relu.holdout.within_10 >= 0.8);
  CHECK(conv.trees > 0);
  CHECK(conv.nodes > conv.trees);

  // The package: loads, its golden cases reproduce, it has exactly the two forests.
  REQUIRE(fs::is_directory(r.package_dir));
  CHECK(r.package_dir == ws.predictor_build_dir() / "results" / "cost_test");
  const nnmeter::predictor p = nnmeter::io::load_predictor_package(r.package_dir.string());
  const nnmeter::verify_result vr = p.verify();
  CHECK(vr.ok());
  CHECK(vr.checked >= 2);
  CHECK(p.forest_for(kernel_kind::conv_bn_relu).has_value());
  CHECK(p.forest_for(kernel_kind::relu).has_value());
  CHECK_FALSE(p.forest_for(kernel_kind::softmax).has_value());
  CHECK(p.info().name == "cost_test");
  CHECK(p.info().backend == "cost");
  CHECK(p.info().device == "cost model (test)");
  const nlohmann::json build = nlohmann::json::parse(p.info().build_json);
  CHECK(build.at("runtime") == "analytic latencies, no runtime");
  CHECK(build.at("seed") == 7);
  CHECK(build.at("kernels").contains("conv-bn-relu"));
  CHECK_FALSE(build.at("kernels").contains("softmax"));

  // The fallback models: fitted on the built kinds' samples per family (compute: conv,
  // elementwise: relu), in the package, the build record and the report. The cost backend's
  // latency is linear in FLOPs and output bytes, so the fit is close.
  REQUIRE(r.fallback.size() == 2);
  CHECK(r.fallback[0].family == nnmeter::kernel_family::compute);
  CHECK(r.fallback[0].samples == conv.samples);
  CHECK(r.fallback[1].family == nnmeter::kernel_family::elementwise);
  CHECK(r.fallback[1].kinds == std::vector<kernel_kind>{kernel_kind::relu});
  for (const nb::fallback_family_fit& f : r.fallback) {
    REQUIRE(f.coefficients.has_value());
    CHECK(f.holdout.n > 0);
    CHECK(f.holdout.within_25 >= 80.0);
    const auto c = p.fallback_for(f.family);
    REQUIRE(c.has_value());
    CHECK(c->base_ms == f.coefficients->base_ms);
    CHECK(c->ms_per_mflop == f.coefficients->ms_per_mflop);
    CHECK(c->ms_per_mbyte == f.coefficients->ms_per_mbyte);
  }
  CHECK_FALSE(p.fallback_for(nnmeter::kernel_family::pooling).has_value());
  CHECK(build.at("fallback").at("families").at("compute").at("samples") == conv.samples);
  CHECK(build.at("fallback").at("families").at("elementwise").at("holdout").at("n") ==
        r.fallback[1].holdout.n);
  {
    // softmax was skipped (no forest): the elementwise fallback estimates it, labelled.
    nnmeter::graph_builder gb;
    auto x = gb.input({1, 1, 1, 100});
    gb.softmax(x);
    const nnmeter::prediction sp = p.predict(std::move(gb).build());
    REQUIRE(sp.kernels.size() == 1);
    CHECK(sp.kernels[0].status == nnmeter::kernel_status::fallback);
    CHECK(sp.kernels[0].reason == nnmeter::kernel_status::no_model);
    CHECK(sp.fallback_share() == 1.0);
  }

  // The meta file, ready for `nnmeter register`.
  const nb::predictor_meta meta = nb::read_predictor_meta(r.meta_file);
  CHECK(r.meta_file == ws.predictor_build_dir() / "results" / "cost_test.yaml");
  CHECK(meta.name == "cost_test");
  CHECK(meta.version == "1.0");
  CHECK(fs::equivalent(meta.package_location, r.package_dir));
  CHECK(meta.kernel_predictors.size() == 2);

  // The report and nn-Meter's CSVs.
  const nlohmann::json rep = nlohmann::json::parse(read_file(r.report_file));
  CHECK(rep.at("name") == "cost_test");
  CHECK(rep.at("kinds").size() == 3);
  CHECK(rep.at("kinds")[2].at("status") == "skipped");
  CHECK(rep.at("fallback").at("families").size() == 2);
  CHECK(rep.at("fallback").at("families").at("compute").at("coefficients").at("ms_per_mflop") ==
        r.fallback[0].coefficients->ms_per_mflop);
  // The sign probe: 1000 fresh prior configurations per built kind (fewer when the rules make
  // some of them another block); the smooth cost latencies leave no forest below zero.
  for (const nb::kernel_build_result* k : {&conv, &relu}) {
    CHECK(k->probe_configs > 900);
    CHECK(k->probe_configs <= 1000);
    CHECK(k->probe_non_positive == 0);
    CHECK(k->holdout_non_positive == 0);
  }
  CHECK(softmax.probe_configs == 0);
  CHECK(rep.at("kinds")[0].at("probe_configs") == conv.probe_configs);
  CHECK(rep.at("kinds")[0].at("probe_non_positive") == 0);
  CHECK(rep.at("kinds")[0].at("holdout_non_positive") == 0);
  CHECK(rep.at("kinds")[0].at("rounds")[0].at("holdout_rows") == conv.rounds[0].holdout_rows);
  const fs::path coll = ws.predictor_build_dir() / "results" / "collection";
  CHECK(lines_of(coll / "Data_conv-bn-relu.csv") == conv.samples + 1);
  CHECK(lines_of(coll / "TestResult_conv-bn-relu.csv") == conv.holdout.n + 1);
  CHECK_FALSE(fs::exists(coll / "Data_softmax.csv"));
}

TEST_CASE("build_predictor: a second run measures nothing again and trains the same forests") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, conv_relu_softmax_kernels);
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  const nb::predictor_build_report a = nb::build_predictor(ws, store, be, options_with_rules());
  const std::size_t first = be.profiles;
  CHECK(first == a.measured);
  const nnmeter::predictor pa = nnmeter::io::load_predictor_package(a.package_dir.string());
  const nb::predictor_build_report b = nb::build_predictor(ws, store, be, options_with_rules());
  CHECK(be.profiles == first);
  CHECK(b.measured == 0);
  CHECK(b.package_dir == a.package_dir);
  CHECK(a.name == "cost_" + fs::path(dir.path()).filename().string());  // the default name
  std::size_t stored = 0;
  for (const nb::kernel_build_result& k : b.kinds)
    for (const nb::kernel_round& kr : k.rounds) stored += kr.already_stored;
  CHECK(stored == a.measured);
  const nnmeter::predictor pb = nnmeter::io::load_predictor_package(b.package_dir.string());
  // Same seed, same data: the same golden cases give the same latencies.
  REQUIRE(pa.golden().size() == pb.golden().size());
  for (std::size_t i = 0; i < pa.golden().size(); ++i) {
    CHECK(std::equal(pa.golden()[i].features.begin(), pa.golden()[i].features.end(),
                     pb.golden()[i].features.begin(), pb.golden()[i].features.end()));
    CHECK(pa.golden()[i].latency_ms == pb.golden()[i].latency_ms);
  }
}

TEST_CASE("build_predictor: a stop keeps what was measured; the next run goes on from there") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, conv_relu_softmax_kernels);
  cost_backend be;
  std::size_t uninterrupted = 0;
  {
    const nnmeter_test::temp_dir other("nnmeter_pb_ref");
    const nb::workspace ref = make_workspace(other, conv_relu_softmax_kernels);
    nb::profile_store s = nb::profile_store::open(ref.store_file());
    cost_backend b2;
    (void)nb::build_predictor(ref, s, b2, options_with_rules());
    uninterrupted = b2.profiles;
  }
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  nb::predictor_build_options o = options_with_rules();
  std::size_t asked = 0;
  o.stop = [&] { return ++asked > 25; };  // stops during conv-bn-relu's first round
  const nb::predictor_build_report a = nb::build_predictor(ws, store, be, o);
  CHECK(a.stopped);
  CHECK_FALSE(a.complete);
  CHECK(a.measured == 25);
  const nb::kernel_build_result& conv = result_of(a, kernel_kind::conv_bn_relu);
  CHECK(nb::to_string(conv.status) == std::string("partial"));  // 25 rows: a forest of them
  CHECK(conv.note.find("stopped") != std::string::npos);
  CHECK(conv.samples == 25);
  CHECK(nb::to_string(result_of(a, kernel_kind::relu).status) == std::string("not-started"));
  CHECK(fs::exists(a.meta_file));  // a partial package is still a package
  const nnmeter::predictor partial = nnmeter::io::load_predictor_package(a.package_dir.string());
  CHECK(partial.verify().ok());

  // Resumed: nothing measured twice; together the same configurations as one whole run.
  const nb::predictor_build_report b = nb::build_predictor(ws, store, be, options_with_rules());
  CHECK(b.complete);
  CHECK(be.profiles == uninterrupted);
  CHECK(a.measured + b.measured == uninterrupted);
}

TEST_CASE("build_predictor: the budget ends a run; a stop before any measurement leaves no package") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, conv_relu_softmax_kernels);
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  nb::predictor_build_options o = options_with_rules();
  o.stop = [] { return true; };
  const nb::predictor_build_report r = nb::build_predictor(ws, store, be, o);
  CHECK(r.stopped);
  CHECK(r.measured == 0);
  CHECK(r.package_dir.empty());
  CHECK(r.meta_file.empty());
  CHECK_FALSE(fs::exists(ws.predictor_build_dir() / "results"));
  for (const nb::kernel_build_result& k : r.kinds)
    CHECK((k.status == nb::kernel_build_status::not_started ||
           k.status == nb::kernel_build_status::skipped));

  // A budget of a millisecond of profiling: the first measurement uses it up.
  nb::predictor_build_options ob = options_with_rules();
  ob.budget_minutes = 1e-5;
  const nb::predictor_build_report rb = nb::build_predictor(ws, store, be, ob);
  CHECK(rb.budget_exhausted);
  CHECK_FALSE(rb.complete);
  CHECK(rb.measured >= 1);
  CHECK(rb.measured < 80);
}

TEST_CASE("build_predictor: failed measurements are failures with their text, never latencies") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, R"(  conv-bn-relu:
    INIT_SAMPLE_NUM: 60
    ITERATION: 1
    ROUNDS: 30
  relu:
    INIT_SAMPLE_NUM: 30
    ITERATION: 1
    ROUNDS: 30
)");
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  be.fail_above_cin = 0;  // every configuration fails
  const nb::predictor_build_report r = nb::build_predictor(ws, store, be, options_with_rules());
  const nb::kernel_build_result& conv = result_of(r, kernel_kind::conv_bn_relu);
  CHECK(nb::to_string(conv.status) == std::string("failed"));
  CHECK(conv.samples == 0);
  CHECK(conv.failures == conv.rounds.at(0).distinct);
  CHECK(conv.note.find("only 0 successful measurement(s)") != std::string::npos);
  CHECK(conv.note.find("input channels, it fails above 0") != std::string::npos);
  CHECK(r.package_dir.empty());  // no kind has a forest: nothing written
  CHECK_FALSE(r.complete);
  std::size_t failed = 0;
  for (const nb::stored_measurement& m : store.measurements({})) {
    CHECK(m.status == nb::measurement_status::failed);
    CHECK_FALSE(m.latency_ms.has_value());
    CHECK(m.error.find("fails above 0") != std::string::npos);
    ++failed;
  }
  CHECK(failed == r.kinds[0].failures + r.kinds[1].failures);

  // Some fail: the kind is trained on the others and the failures are counted.
  const nnmeter_test::temp_dir dir2("nnmeter_pb");
  const nb::workspace ws2 = make_workspace(dir2, R"(  conv-bn-relu:
    INIT_SAMPLE_NUM: 80
    ITERATION: 1
    ROUNDS: 30
)");
  nb::profile_store store2 = nb::profile_store::open(ws2.store_file());
  cost_backend be2;
  be2.fail_above_cin = 128;
  const nb::predictor_build_report r2 = nb::build_predictor(ws2, store2, be2, options_with_rules());
  const nb::kernel_build_result& c2 = r2.kinds.at(0);
  CHECK(nb::to_string(c2.status) == std::string("built"));
  CHECK(c2.failures > 0);
  CHECK(c2.samples > 0);
  CHECK(c2.samples + c2.failures == c2.rounds.at(0).distinct);
}

TEST_CASE("build_predictor: options that cannot work are errors naming the problem") {
  const nnmeter_test::temp_dir dir("nnmeter_pb");
  const nb::workspace ws = make_workspace(dir, conv_relu_softmax_kernels);
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  auto message = [&](const nb::workspace& w, const nb::predictor_build_options& o) {
    try {
      (void)nb::build_predictor(w, store, be, o);
    } catch (const nnmeter::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(ws, nb::predictor_build_options{}).find("no fusion rules: run `nnmeter detect-rules`") !=
        std::string::npos);
  nb::predictor_build_options o = options_with_rules();
  o.name = "a/b";
  CHECK(message(ws, o).find("may hold only letters, digits") != std::string::npos);
  o.name = "ok";
  o.version = "";
  CHECK(message(ws, o).find("the predictor version ''") != std::string::npos);
  nb::workspace w2 = ws;
  w2.predictorbuild.batch_size = 4;
  const std::string m = message(w2, options_with_rules());
  CHECK(m.find("BATCH_SIZE") != std::string::npos);
  CHECK(m.find(nb::predictorbuild_config_name) != std::string::npos);
  CHECK(be.profiles == 0);
}

TEST_CASE("predictorbuild_config's per-kind defaults are the trainer's defaults") {
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<kernel_kind>(i);
    if (k == kernel_kind::other) continue;
    CAPTURE(nnmeter::to_string(k));
    const nb::kernel_build_config c = nb::predictorbuild_config::default_kernel(k);
    const nb::train_params p = nb::default_train_params(k);
    CHECK(c.rounds == p.rounds);
    CHECK(c.max_depth == p.max_depth);
    CHECK(c.learning_rate == p.learning_rate);
    CHECK(c.subsample == p.subsample);
    CHECK(c.colsample_bynode == p.colsample_bynode);
    CHECK((c.trainer == nb::trainer_mode::boosting) == (p.mode == nb::booster_mode::boosting));
  }
}

TEST_CASE("build_predictor: the context factor from zoo models measured whole") {
  const nnmeter_test::temp_dir dir("nnmeter_pb_context");
  // A kind of every fallback family, so that every zoo kernel gets a latency (a forest's or
  // its family's fallback estimate) and every training model is evaluated.
  std::string kernels;
  for (const char* k : {"conv-bn-relu", "dwconv-bn-relu", "relu", "maxpool", "concat"})
    kernels += std::string("  ") + k + ":\n    INIT_SAMPLE_NUM: 24\n    ITERATION: 1\n    ROUNDS: 30\n";
  const nb::workspace ws =
      make_workspace(dir, kernels, "CONTEXT_MODELS: 1\nCONTEXT_SEED: 5\n");
  nb::profile_store store = nb::profile_store::open(ws.store_file());
  cost_backend be;
  nb::predictor_build_options o = options_with_rules();
  o.name = "ctx";
  std::size_t context_events = 0;
  o.on_event = [&](const nb::build_event& e) {
    if (e.event != nb::build_event::what::context_model) return;
    CHECK(e.index == context_events);
    CHECK(e.total == 13);
    REQUIRE(e.model != nullptr);
    CHECK(e.model->name.rfind("context/", 0) == 0);
    ++context_events;
  };
  const nb::predictor_build_report r = nb::build_predictor(ws, store, be, o);
  CHECK(context_events == 13);  // model 0 of each of the 13 families
  REQUIRE(r.context_models.size() == 13);
  CHECK(be.profiles == r.measured + 13);
  // Kernels in one memory layout, the whole models in CONTEXT_LAYOUTS' default 4, with the
  // passes rounded up to a multiple of them.
  CHECK(be.profiles_by_layouts[4] == 13);
  CHECK(be.profiles_by_layouts[1] == r.measured);
  CHECK(r.context_layouts == 4);
  INFO(r.context_note);
  REQUIRE(r.context.has_value());
  CHECK(r.context_note.empty());
  CHECK(r.context_seed == 5);
  CHECK(r.context_per_family == 1);
  // The cost backend's model latency is its kernels' costs plus one constant: a factor near 1.
  CHECK(r.context->scale > 0.5);
  CHECK(r.context->scale < 2.0);
  CHECK(r.context->before.evaluated == r.context->after.evaluated);
  CHECK(r.context->after.rmspe <= r.context->before.rmspe + 1e-9);
  // The package carries it; the build record and the report say how it was fitted.
  const nnmeter::predictor p = nnmeter::io::load_predictor_package(r.package_dir.string());
  CHECK(p.context_scale() == r.context->scale);
  const nlohmann::json build = nlohmann::json::parse(p.info().build_json);
  CHECK(build["context"]["scale"].get<double>() == r.context->scale);
  CHECK(build["context"]["zoo_seed"] == 5);
  CHECK(build["context"]["models_measured"] == 13);
  CHECK(build["context"]["layouts"] == 4);
  CHECK(nb::context_layouts_of(p) == 4);
  const nlohmann::json rep = nlohmann::json::parse(read_file(r.report_file));
  CHECK(rep["context"]["after"]["models"] == r.context->after.evaluated);

  // A rebuild measures none of them again and fits the same factor.
  cost_backend be2;
  context_events = 0;
  const nb::predictor_build_report again = nb::build_predictor(ws, store, be2, o);
  CHECK(be2.profiles == 0);
  CHECK(context_events == 13);  // found in the store
  REQUIRE(again.context.has_value());
  CHECK(again.context->scale == r.context->scale);

  // Off: no factor, and the note says why.
  o.context = false;
  context_events = 0;
  const nb::predictor_build_report off = nb::build_predictor(ws, store, be2, o);
  CHECK(context_events == 0);
  CHECK_FALSE(off.context.has_value());
  CHECK(off.context_note.find("--no-context") != std::string::npos);
  CHECK(nnmeter::io::load_predictor_package(off.package_dir.string()).context_scale() == 1.0);
}
