// The evaluation part (tools/builder/evaluate): figures computed as defined, models measured
// through the profile store (a stopped evaluation resumes without measuring twice), failed and
// incomplete models kept out of the figures, and the report's files.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include "builder/evaluate/evaluate.hpp"
#include "support/predictor_fixture.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

namespace nb = nnmeter::builder;
namespace fs = std::filesystem;
using nnmeter_test::read_file;

// A backend whose latency is fixed per graph (by its first node's name) and that refuses
// graphs holding a node named "unrunnable".
class table_backend : public nnmeter::backends::backend {
 public:
  std::map<std::string, double> latency;  // first node's name -> ms
  std::size_t profiles = 0;  ///< profile() calls

  std::string name() const override { return "table"; }
  std::string device() const override { return "latency table (test)"; }

  std::unique_ptr<nnmeter::backends::prepared_model> prepare(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol&) override {
    struct noop : nnmeter::backends::prepared_model {
      void invoke() override {}
    };
    for (nnmeter::node_index i = 0; i < g.num_nodes(); ++i)
      if (g[i].name == "unrunnable")
        throw nnmeter::unsupported_error("node 'unrunnable': the table backend cannot run it");
    return std::make_unique<noop>();
  }

  nnmeter::backends::profile_result profile(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol& p) override {
    ++profiles;  // attempts, failed ones included
    (void)prepare(g, p);
    nnmeter::backends::profile_result r;
    r.latency_ms = latency.at(g[0].name);
    r.stats.min_ms = r.stats.p10_ms = r.stats.median_ms = r.stats.mean_ms = r.stats.max_ms =
        r.latency_ms;
    r.stats.runs = 6;
    // Three blocks whose minima are the latency, 2 % above and 4 % above it.
    for (int b = 0; b < 3; ++b)
      r.blocks.push_back({1, b + 1, r.latency_ms * (1 + 0.02 * b), r.latency_ms * 1.1});
    r.pass_min_ms = {r.latency_ms};
    r.protocol = p;
    r.backend = name();
    r.device = device();
    r.timestamp = nnmeter::backends::utc_timestamp();
    return r;
  }
};

// input -> conv 3x3 -> relu -> global average pool -> fc: kernels the fixture predictor has
// forests for (conv-bn-relu, global-avgpool, fc).
nnmeter::graph complete_model(const std::string& input_name, std::int64_t cout) {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 8}, nnmeter::dtype::f32, input_name);
  x = b.relu(b.conv(x, cout, 3));
  x = b.fc(b.global_avgpool(x), 10);
  return std::move(b).build();
}

// The same with a max pool, a kind the fixture predictor has no forest for.
nnmeter::graph model_with_maxpool(const std::string& input_name) {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 32, 8}, nnmeter::dtype::f32, input_name);
  x = b.maxpool(b.relu(b.conv(x, 16, 3)), 2, 2);
  return std::move(b).build();
}

nnmeter::graph unrunnable_model(const std::string& input_name) {
  nnmeter::graph_builder b;
  auto x = b.input({1, 8, 8, 4}, nnmeter::dtype::f32, input_name);
  (void)b.relu(b.conv(x, 4, 1), "unrunnable");
  return std::move(b).build();
}

nb::evaluation_model model(const std::string& name, const std::string& family, nnmeter::graph g) {
  return {name, family, "test " + name, std::move(g)};
}

const nb::model_evaluation& find(const nb::evaluation_report& r, const std::string& name) {
  for (const nb::model_evaluation& m : r.models)
    if (m.name == name) return m;
  FAIL("no model " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("summarize_accuracy: RMSE, RMSPE, ±5/±10 % over the evaluated models only") {
  std::vector<nb::model_evaluation> ms(5);
  const double measured[] = {10, 20, 4, 8, 1};
  const double predicted[] = {10.4, 18.4, 4.8, 8, 1};
  for (std::size_t i = 0; i < 5; ++i) {
    ms[i].outcome = nb::model_outcome::evaluated;
    ms[i].measured_ms = measured[i];
    ms[i].prediction.latency_ms = predicted[i];
    ms[i].ground_truth_cv = 0.01 * static_cast<double>(i + 1);
  }
  ms[3].outcome = nb::model_outcome::incomplete;  // not counted, however good
  ms[4].outcome = nb::model_outcome::failed;
  std::vector<const nb::model_evaluation*> ptrs;
  for (const auto& m : ms) ptrs.push_back(&m);
  const nb::accuracy_figures a = nb::summarize_accuracy("fam", ptrs);
  CHECK(a.group == "fam");
  CHECK(a.models == 5);
  CHECK(a.evaluated == 3);
  CHECK(a.incomplete == 1);
  CHECK(a.failed == 1);
  CHECK(a.not_measured == 0);
  // Errors: +4 %, -8 %, +20 %; differences 0.4, -1.6, 0.8 ms.
  CHECK(a.within_5 == doctest::Approx(1.0 / 3));
  CHECK(a.within_10 == doctest::Approx(2.0 / 3));
  CHECK(a.rmse_ms == doctest::Approx(std::sqrt((0.16 + 2.56 + 0.64) / 3)));
  CHECK(a.rmspe == doctest::Approx(std::sqrt((0.0016 + 0.0064 + 0.04) / 3) * 100));
  CHECK(a.mean_abs_error == doctest::Approx((4.0 + 8.0 + 20.0) / 3));
  CHECK(a.max_abs_error == doctest::Approx(20.0));
  CHECK(a.median_cv == doctest::Approx(2.0));  // 1, 2, 3 %
  CHECK(a.max_cv == doctest::Approx(3.0));
  // Exactly 10 % off counts as within ±10 %.
  ms[0].prediction.latency_ms = 11;
  CHECK(nb::summarize_accuracy("fam", ptrs).within_10 == doctest::Approx(2.0 / 3));
  // Nothing evaluated: no figures, not zeros.
  const nb::accuracy_figures none = nb::summarize_accuracy("none", {ptrs[3], ptrs[4]});
  CHECK(none.evaluated == 0);
  CHECK(std::isnan(none.rmspe));
  CHECK(std::isnan(none.within_10));
}

TEST_CASE("evaluate_models: measured through the store, resumed after a stop, outcomes kept apart") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate");
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  table_backend be;
  be.latency = {{"a_in", 2.0}, {"b_in", 3.0}, {"c_in", 1.5}, {"d_in", 1.0}};
  std::vector<nb::evaluation_model> models;
  models.push_back(model("a", "one", complete_model("a_in", 16)));
  models.push_back(model("b", "two", complete_model("b_in", 32)));
  models.push_back(model("c", "one", model_with_maxpool("c_in")));
  models.push_back(model("d", "two", unrunnable_model("d_in")));
  nb::evaluate_options o;
  o.protocol.warmup_seconds = 0;

  // Stopped after the first measurement: the rest are not measured, nothing is invented.
  {
    nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
    std::size_t asked = 0;
    o.stop = [&] { return asked++ >= 1; };
    const nb::evaluation_report r = nb::evaluate_models(p, be, store, models, o);
    CHECK(r.measuring.stopped);
    CHECK(be.profiles == 1);
    CHECK(find(r, "a").outcome == nb::model_outcome::evaluated);
    CHECK(find(r, "b").outcome == nb::model_outcome::not_measured);
    CHECK(r.overall.evaluated == 1);
    CHECK(r.overall.not_measured == 3);
  }
  // The rerun measures the other three only.
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  o.stop = nullptr;
  std::vector<std::string> seen;
  o.on_model = [&](const nb::evaluation_event& e) {
    CHECK(e.total == 4);
    seen.push_back(e.model->name);
  };
  const nb::evaluation_report r = nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 4);
  CHECK(seen == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK_FALSE(r.measuring.stopped);
  CHECK(r.measuring.already_stored == 1);
  CHECK(r.measuring.measured == 2);
  CHECK(r.measuring.failed == 1);

  const nb::model_evaluation& a = find(r, "a");
  CHECK(a.resumed);
  CHECK(a.outcome == nb::model_outcome::evaluated);
  CHECK(a.measured_ms == 2.0);
  CHECK(a.prediction.complete());
  CHECK(a.prediction.latency_ms > 0);
  CHECK(a.relative_error == doctest::Approx(a.prediction.latency_ms / 2.0 - 1));
  // Block minima 2.00, 2.04, 2.08 ms: CV = 0.04 / 2.04.
  CHECK(a.ground_truth_cv == doctest::Approx(0.04 / 2.04));
  CHECK(a.runs == 6);
  CHECK_FALSE(find(r, "b").resumed);

  const nb::model_evaluation& c = find(r, "c");
  CHECK(c.outcome == nb::model_outcome::incomplete);
  CHECK(c.measured_ms == 1.5);
  CHECK(c.error.find("maxpool") != std::string::npos);
  CHECK(c.error.find("no-model") != std::string::npos);

  const nb::model_evaluation& d = find(r, "d");
  CHECK(d.outcome == nb::model_outcome::failed);
  CHECK(d.error.find("cannot run it") != std::string::npos);

  REQUIRE(r.families.size() == 2);
  CHECK(r.families[0].group == "one");
  CHECK(r.families[0].evaluated == 1);
  CHECK(r.families[0].incomplete == 1);
  CHECK(r.families[1].group == "two");
  CHECK(r.families[1].evaluated == 1);
  CHECK(r.families[1].failed == 1);
  CHECK(r.overall.evaluated == 2);
  CHECK(r.backend == "table");
  CHECK(r.predictor.name == "unit_cpu");

  // A model whose graph changed under the same name is measured again.
  models[0] = model("a", "one", complete_model("a_in", 24));
  const nb::evaluation_report r2 = nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 6);  // a again, d's failure retried
  CHECK_FALSE(find(r2, "a").resumed);
  CHECK(find(r2, "b").resumed);
}

TEST_CASE("evaluate_models: two models of one name are refused, naming both sources") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_dup");
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  table_backend be;
  std::vector<nb::evaluation_model> models;
  models.push_back({"m", "f", "first.onnx", complete_model("x", 8)});
  models.push_back({"m", "f", "second.onnx", complete_model("x", 8)});
  try {
    (void)nb::evaluate_models(nnmeter_test::make_fixture_predictor(), be, store, models, {});
    FAIL("no error");
  } catch (const nnmeter::error& e) {
    const std::string w = e.what();
    CHECK(w.find("first.onnx") != std::string::npos);
    CHECK(w.find("second.onnx") != std::string::npos);
  }
  CHECK(be.profiles == 0);
}

TEST_CASE("evaluate_models: a model stored under another protocol is measured again") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_protocol_key");
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  table_backend be;
  be.latency = {{"a_in", 2.0}};
  std::vector<nb::evaluation_model> models;
  models.push_back(model("a", "one", complete_model("a_in", 16)));
  const nnmeter::predictor p = nnmeter_test::make_fixture_predictor();
  nb::evaluate_options o;
  (void)nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 1);
  (void)nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 1);  // resumed: same model, same protocol
  o.protocol = nb::whole_model_protocol(o.protocol, 4);
  const nb::evaluation_report r = nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 2);  // 4 memory layouts: not the measurement of one
  CHECK_FALSE(find(r, "a").resumed);
  o.protocol.clock = nnmeter::backends::measurement_clock::thread_cpu;
  (void)nb::evaluate_models(p, be, store, models, o);
  CHECK(be.profiles == 3);
}

TEST_CASE("whole_model_protocol and context_layouts_of") {
  nnmeter::backends::measurement_protocol p;
  p.passes = 2;
  const auto four = nb::whole_model_protocol(p, 4);
  CHECK(four.layouts == 4);
  CHECK(four.passes == 4);
  p.passes = 5;
  CHECK(nb::whole_model_protocol(p, 4).passes == 8);
  CHECK(nb::whole_model_protocol(p, 1).passes == 5);
  CHECK(nb::whole_model_protocol(p, 5).passes == 5);
  CHECK_THROWS_WITH((void)nb::whole_model_protocol(p, 0),
                    doctest::Contains("layouts must be in 1..64"));
  CHECK_THROWS_WITH((void)nb::whole_model_protocol(p, 65), doctest::Contains("got 65"));

  // A predictor without a build record, or whose record has no context.layouts: 1.
  nnmeter::predictor pred = nnmeter_test::make_fixture_predictor();
  CHECK(nb::context_layouts_of(pred) == 1);
  nnmeter::predictor_info info = pred.info();
  info.build_json = R"({"context": {"scale": 1.1}})";
  pred.set_info(info);
  CHECK(nb::context_layouts_of(pred) == 1);
  info.build_json = R"({"context": {"scale": 1.1, "layouts": 4}})";
  pred.set_info(info);
  CHECK(nb::context_layouts_of(pred) == 4);
  info.build_json = R"({"context": {"layouts": "four"}})";
  pred.set_info(info);
  CHECK_THROWS_WITH((void)nb::context_layouts_of(pred),
                    doctest::Contains("build.context.layouts must be an integer in 1..64"));
}

TEST_CASE("kernels.csv: a fallback kernel carries its estimate, labelled fallback") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_fallback_csv");
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  table_backend be;
  be.latency = {{"c_in", 1.5}};
  std::vector<nb::evaluation_model> models;
  models.push_back(model("c", "one", model_with_maxpool("c_in")));
  const nb::evaluation_report r = nb::evaluate_models(
      nnmeter_test::make_fallback_fixture_predictor(), be, store, models, {});
  const nb::model_evaluation& c = find(r, "c");
  REQUIRE(c.outcome == nb::model_outcome::evaluated);
  std::size_t fallbacks = 0;
  for (std::size_t i = 0; i < c.prediction.kernels.size(); ++i) {
    if (c.prediction.kernels[i].status != nnmeter::kernel_status::fallback) continue;
    ++fallbacks;
    CHECK(c.prediction.kernels[i].latency_ms > 0);
  }
  REQUIRE(fallbacks == 1);  // the maxpool: the fixture has no pooling forest
  const nb::evaluation_files f = nb::write_evaluation_report(r, tmp.file("report"), 1);
  const std::string kcsv = read_file(f.kernels_csv);
  const std::size_t row = kcsv.find(",maxpool,fallback,");
  REQUIRE(row != std::string::npos);
  const std::string value = kcsv.substr(row + 18, kcsv.find('\n', row) - row - 18);
  CAPTURE(value);
  CHECK_FALSE(value.empty());
  double sum = 0;
  for (const auto& k : c.prediction.kernels) sum += k.latency_ms;
  CHECK(sum == doctest::Approx(c.prediction.latency_ms));
  CHECK(std::stod(value) > 0);
}

TEST_CASE("write_evaluation_report: Markdown, CSVs, JSON and one plot per family") {
  const nnmeter_test::temp_dir tmp("nnmeter_evaluate_report");
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  table_backend be;
  be.latency = {{"a_in", 2.0}, {"b_in", 3.0}, {"c_in", 1.5}};
  std::vector<nb::evaluation_model> models;
  models.push_back(model("a", "one", complete_model("a_in", 16)));
  models.push_back(model("b", "two|pipe", complete_model("b_in", 32)));
  models.push_back(model("c", "one", model_with_maxpool("c_in")));
  const nb::evaluation_report r =
      nb::evaluate_models(nnmeter_test::make_fixture_predictor(), be, store, models, {});
  const nb::evaluation_files f = nb::write_evaluation_report(r, tmp.file("report"), 1);

  const std::string md = read_file(f.markdown);
  CHECK(md.find("# Evaluation of predictor unit_cpu 1.2") != std::string::npos);
  CHECK(md.find("| one | 2 | 1 |") != std::string::npos);
  CHECK(md.find("two\\|pipe") != std::string::npos);  // a pipe does not break the table
  CHECK(md.find("| **all** | 3 | 2 |") != std::string::npos);
  CHECK(md.find("## The 1 worst models") != std::string::npos);
  CHECK(md.find("conv-bn-relu") != std::string::npos);  // the worst model's breakdown
  CHECK(md.find("| c | one | incomplete |") != std::string::npos);
  CHECK(md.find("](plots/all.svg)") != std::string::npos);

  const std::string csv = read_file(f.models_csv);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(csv.rfind("name,family,source,outcome,measured_ms,predicted_ms,error_percent,", 0) == 0);
  CHECK(csv.find("\nc,one,test c,incomplete,1.500000,") != std::string::npos);

  const std::string kcsv = read_file(f.kernels_csv);
  std::size_t kernels = 0;
  for (const auto& m : r.models) kernels += m.prediction.kernels.size();
  CHECK(static_cast<std::size_t>(std::count(kcsv.begin(), kcsv.end(), '\n')) == kernels + 1);
  CHECK(kcsv.find(",maxpool,no-model,\n") != std::string::npos);

  const nlohmann::json j = nlohmann::json::parse(read_file(f.json));
  CHECK(j["predictor"]["name"] == "unit_cpu");
  CHECK(j["overall"]["evaluated"] == 2);
  CHECK(j["families"].size() == 2);
  CHECK(j["models"].size() == 3);
  CHECK(j["models"][2]["outcome"] == "incomplete");
  CHECK(j["models"][2]["relative_error"].is_null());
  CHECK(j["models"][0]["measured_ms"] == 2.0);
  CHECK(j["protocol"]["blocks"] == 5);

  REQUIRE(f.plots.size() == 3);  // all, one, two|pipe
  for (const fs::path& p : f.plots) {
    CAPTURE(p.string());
    CHECK(fs::exists(p));
    CHECK(p.parent_path().filename() == "plots");
  }
  const std::string all = read_file(f.plots[0]);
  CHECK(all.find("<svg") != std::string::npos);
  std::size_t circles = 0;
  for (std::size_t at = all.find("<circle"); at != std::string::npos; at = all.find("<circle", at + 1))
    ++circles;
  CHECK(circles == 2);  // the evaluated models only
}

TEST_CASE("scatter_plot_svg: a point per model, outside ±10 % marked, bad latencies refused") {
  const std::string s = nb::scatter_plot_svg("t <&>", {{1.0, 1.05}, {2.0, 2.5}, {10.0, 9.2}});
  CHECK(s.find("t &lt;&amp;&gt;") != std::string::npos);
  CHECK(s.find("3 models, 2 within ±10 %") != std::string::npos);
  std::size_t red = 0;
  for (std::size_t at = s.find("#d62728"); at != std::string::npos; at = s.find("#d62728", at + 1))
    ++red;
  CHECK(red == 1);
  CHECK(nb::scatter_plot_svg("empty", {}).find("no evaluated models") != std::string::npos);
  CHECK_THROWS_AS((void)nb::scatter_plot_svg("bad", {{1.0, 0.0}}), nnmeter::error);
  CHECK_THROWS_AS((void)nb::scatter_plot_svg("bad", {{-1.0, 1.0}}), nnmeter::error);
}
