// The calibration part (tools/builder/calibrate): the kind scales' empirical-Bayes fit as
// defined, and calibrate() against a machine whose kernels run a known factor per kind slower
// or faster than the predictor says: the fitted scales are those factors, the adapted predictor
// then predicts that machine, a rerun measures nothing again, and a kind the backend cannot run
// gets the pooled scale with the reason.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include "builder/calibrate/calibrate.hpp"
#include "builder/sampler/kernel_config.hpp"
#include "support/predictor_fixture.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace nb = nnmeter::builder;
using K = nnmeter::kernel_kind;

// A "machine" on which every kernel of kind k takes factor[k] times what `truth` predicts for
// it (1 for kinds not listed), and that cannot run graphs with a kernel of kind `refused`.
class scaled_backend : public nnmeter::backends::backend {
 public:
  scaled_backend(const nnmeter::predictor& truth, std::map<K, double> factor, K refused)
      : truth_(truth), factor_(std::move(factor)), refused_(refused) {}
  std::size_t profiles = 0;

  std::string name() const override { return "xnnpack"; }
  std::string device() const override { return "scaled machine (test)"; }

  std::unique_ptr<nnmeter::backends::prepared_model> prepare(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol&) override {
    struct noop : nnmeter::backends::prepared_model {
      void invoke() override {}
    };
    for (const nnmeter::kernel& k : nnmeter::detect(g, truth_.rules()).kernels)
      if (k.kind == refused_)
        throw nnmeter::unsupported_error(std::string("the test machine cannot run ") +
                                         std::string(nnmeter::to_string(k.kind)));
    return std::make_unique<noop>();
  }

  nnmeter::backends::profile_result profile(
      const nnmeter::graph& g, const nnmeter::backends::measurement_protocol& p) override {
    ++profiles;
    (void)prepare(g, p);
    const nnmeter::prediction r = truth_.predict(g);
    double ms = 0;
    for (std::size_t i = 0; i < r.kernels.size(); ++i) {
      const auto f = factor_.find(r.detected.kernels[i].kind);
      ms += r.kernels[i].latency_ms * (f == factor_.end() ? 1.0 : f->second);
    }
    nnmeter::backends::profile_result out;
    out.latency_ms = ms;
    out.stats.min_ms = out.stats.p10_ms = out.stats.median_ms = out.stats.mean_ms =
        out.stats.max_ms = ms;
    out.stats.runs = 2;
    out.blocks.push_back({1, 1, ms, ms});
    out.blocks.push_back({1, 2, ms, ms});
    out.pass_min_ms = {ms};
    out.protocol = p;
    out.backend = name();
    out.device = device();
    out.timestamp = nnmeter::backends::utc_timestamp();
    return out;
  }

 private:
  const nnmeter::predictor& truth_;
  std::map<K, double> factor_;
  K refused_;
};

}  // namespace

TEST_CASE("fit_kind_scales: exact groups keep their own scale, noise shrinks to the pool") {
  // Two groups without noise, one without samples.
  const nb::kind_scale_fit a =
      nb::fit_kind_scales({{std::log(2.0), std::log(2.0)}, {std::log(0.5), std::log(0.5)}, {}});
  CHECK(a.within_variance == 0.0);
  CHECK(a.between_variance == doctest::Approx(2 * std::log(2.0) * std::log(2.0)));
  CHECK(a.pooled == doctest::Approx(1.0));
  REQUIRE(a.scales.size() == 3);
  CHECK(a.scales[0] == doctest::Approx(2.0));
  CHECK(a.scales[1] == doctest::Approx(0.5));
  CHECK(a.scales[2] == doctest::Approx(1.0));  // no samples: the pooled scale
  CHECK(a.own[1] == doctest::Approx(0.5));
  // Group means 0 and 0.2 with a within variance of 0.08: the means differ by less than their
  // noise, so tau^2 is at its floor and both scales are pulled almost to exp(0.1).
  const nb::kind_scale_fit b = nb::fit_kind_scales({{0.2, -0.2}, {0.4, 0.0}});
  CHECK(b.within_variance == doctest::Approx(0.08));
  CHECK(b.between_variance == doctest::Approx(1e-4));
  CHECK(b.pooled == doctest::Approx(std::exp(0.1)));
  const double w = 1e-4 / (1e-4 + 0.04);
  CHECK(b.scales[0] == doctest::Approx(std::exp(0.1 - w * 0.1)));
  CHECK(b.scales[1] == doctest::Approx(std::exp(0.1 + w * 0.1)));
  CHECK(b.own[1] == doctest::Approx(std::exp(0.2)));
  // A consistent kind keeps (nearly) its own scale, a noisy one is pulled to the pool: kind
  // variances (SS_k + sigma^2) / (n_k - 1 + 1) with sigma^2 = (0 + 1) / 6.
  const double l2 = std::log(2.0);
  const nb::kind_scale_fit d = nb::fit_kind_scales({{l2, l2, l2, l2}, {0.5, -0.5, 0.5, -0.5}});
  CHECK(d.within_variance == doctest::Approx(1.0 / 6.0));
  REQUIRE(d.kind_variance.size() == 2);
  CHECK(d.kind_variance[0] == doctest::Approx(1.0 / 24.0));
  CHECK(d.kind_variance[1] == doctest::Approx(7.0 / 24.0));
  const double mu = l2 / 2;
  const double tau2 = 2 * (l2 / 2) * (l2 / 2) - (1.0 / 24.0 / 4 + 7.0 / 24.0 / 4) / 2;
  CHECK(d.between_variance == doctest::Approx(tau2));
  const double w0 = tau2 / (tau2 + 1.0 / 24.0 / 4);
  const double w1 = tau2 / (tau2 + 7.0 / 24.0 / 4);
  CHECK(d.scales[0] == doctest::Approx(std::exp(mu + w0 * (l2 - mu))));
  CHECK(d.scales[1] == doctest::Approx(std::exp(mu + w1 * (0 - mu))));
  CHECK(w0 > 0.9);  // the consistent kind
  CHECK(w1 < 0.8);  // the noisy one, pulled harder
  // With three kinds or more, a kind's prior variance is the median of their sample variances
  // (0, 0.04/3 and 4/3 here), so one very noisy kind does not blur the others.
  const nb::kind_scale_fit e =
      nb::fit_kind_scales({{0.0, 0.0, 0.0}, {0.1, -0.1, 0.1, -0.1}, {1.0, -1.0, 1.0, -1.0}});
  CHECK(e.prior_variance == doctest::Approx(0.04 / 3));
  CHECK(e.kind_variance[0] == doctest::Approx((0.0 + 0.04 / 3) / 3));
  CHECK(e.kind_variance[2] == doctest::Approx((4.0 + 0.04 / 3) / 4));
  // Nothing at all: every scale 1.
  const nb::kind_scale_fit c = nb::fit_kind_scales({{}, {}});
  CHECK(c.pooled == 1.0);
  CHECK(c.scales == std::vector<double>{1.0, 1.0});
}

TEST_CASE("calibrate: per-kind factors of another machine recovered, the adapted predictor fits it") {
  const nnmeter_test::temp_dir tmp("nnmeter_calibrate");
  const nnmeter::predictor base = nnmeter_test::make_fixture_predictor();
  const std::map<K, double> factor = {
      {K::conv_bn_relu, 1.5}, {K::dwconv_bn_relu, 0.8}, {K::fc, 1.2}, {K::hswish, 0.6}};
  scaled_backend be(base, factor, K::add);
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  nb::calibration_options o;
  o.per_kind = 3;
  o.budget_minutes = 0;
  std::size_t sampled = 0;
  o.on_event = [&](const nb::calibration_event& e) {
    if (e.event == nb::calibration_event::what::sampled) sampled = e.total;
  };
  const nb::calibration_report r = nb::calibrate(base, store, be, o);
  CHECK(r.base_name == "unit_cpu");
  CHECK(r.device == "scaled machine (test)");
  CHECK(r.measured == sampled);
  CHECK(r.failed == 0);
  CHECK(be.profiles == sampled);
  CHECK_FALSE(r.stopped);

  // Every kind with a forest was tried; the ones measured got exactly their factor (their
  // samples agree: no noise), the refused one (add) the pooled scale and a reason.
  std::map<K, const nb::kind_calibration*> by_kind;
  for (const nb::kind_calibration& k : r.kinds) by_kind[k.kind] = &k;
  CHECK(by_kind.size() == 7);  // the fixture's forests
  double log_sum = 0;
  std::size_t with = 0;
  for (const auto& entry : by_kind) {
    const K kind = entry.first;  // not a structured binding: CAPTURE's lambda reads it
    const nb::kind_calibration* k = entry.second;
    CAPTURE(nnmeter::to_string(kind));
    if (kind == K::add) {
      CHECK(k->samples.empty());
      CHECK(k->note.find("cannot run add") != std::string::npos);
      continue;
    }
    if (k->samples.empty()) continue;  // a kind whose block the rules make no single kernel
    CHECK(k->samples.size() == 3);
    const auto f = factor.find(kind);
    const double want = f == factor.end() ? 1.0 : f->second;
    CHECK(k->scale == doctest::Approx(want).epsilon(1e-9));
    CHECK(k->after.rmspe == doctest::Approx(0.0).epsilon(1e-6));  // leave-one-out: still exact
    log_sum += std::log(want);
    ++with;
  }
  for (K k : {K::conv_bn_relu, K::dwconv_bn_relu, K::fc, K::hswish}) {
    CAPTURE(nnmeter::to_string(k));
    REQUIRE(by_kind.count(k) == 1);
    CHECK(by_kind[k]->samples.size() == 3);
  }
  CHECK(r.pooled_scale == doctest::Approx(std::exp(log_sum / static_cast<double>(with))));
  CHECK(r.before.rmspe > 10);
  CHECK(r.after.rmspe < 1e-6);

  // The adapted predictor: this machine's device, the base's forests and golden cases, and the
  // kernels of the samples predicted as measured.
  const nnmeter::predictor& p = r.predictor;
  CHECK(p.info().device == "scaled machine (test)");
  CHECK(p.info().name == "unit_cpu");
  CHECK(p.verify().ok());
  CHECK(p.kind_scale(K::conv_bn_relu) == doctest::Approx(1.5));
  CHECK(p.kind_scale(K::add) == doctest::Approx(r.pooled_scale));
  CHECK(p.kind_scale(K::maxpool) == doctest::Approx(r.pooled_scale));  // no forest: pooled
  for (const nb::kind_calibration& k : r.kinds)
    for (const nb::calibration_sample& s : k.samples) {
      CAPTURE(s.config.describe());
      const nnmeter::graph g = nb::kernel_block_for(s.config, base.rules()).graph;
      CHECK(p.latency(g).latency_ms == doctest::Approx(be.profile(g, {}).latency_ms));
    }
  const nlohmann::json build = nlohmann::json::parse(p.info().build_json);
  CHECK(build["calibration"]["base"]["name"] == "unit_cpu");
  CHECK(build["calibration"]["kinds"].size() == 7);

  // A rerun finds every measurement in the store.
  const std::size_t before = be.profiles;
  const nb::calibration_report again = nb::calibrate(base, store, be, o);
  CHECK(again.measured == 0);
  CHECK(again.already_stored == r.measured);
  CHECK(be.profiles == before);
  CHECK(again.pooled_scale == r.pooled_scale);
}

TEST_CASE("calibrate: a backend that runs nothing is an error naming a kind and why") {
  const nnmeter_test::temp_dir tmp("nnmeter_calibrate_nothing");
  const nnmeter::predictor base = nnmeter_test::make_fallback_fixture_predictor();
  // The fallback fixture has forests for conv, dwconv and fc only; refuse conv and stop before
  // anything is measured.
  scaled_backend be(base, {}, K::conv_bn_relu);
  nb::profile_store store = nb::profile_store::open(tmp.file("store.sqlite"));
  nb::calibration_options o;
  o.stop = [] { return true; };
  CHECK_THROWS_WITH_AS((void)nb::calibrate(base, store, be, o),
                       doctest::Contains("no kernel kind got a calibration sample (conv-bn-relu: "
                                         "the test machine cannot run conv-bn-relu)"),
                       nnmeter::error);
  o.per_kind = 0;
  CHECK_THROWS_WITH_AS((void)nb::calibrate(base, store, be, o), doctest::Contains("per_kind"),
                       nnmeter::error);
}
