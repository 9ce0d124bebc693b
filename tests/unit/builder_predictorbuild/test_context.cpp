// The context factor (tools/builder/predictorbuild/context.hpp): the least-relative-error factor,
// its in-sample and leave-one-family-out figures, and no factor without evaluated models.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "builder/predictorbuild/context.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace {

namespace nb = nnmeter::builder;

nb::model_evaluation model(const std::string& family, double measured, double predicted,
                           nb::model_outcome o = nb::model_outcome::evaluated) {
  nb::model_evaluation m;
  m.name = family + std::to_string(measured);
  m.family = family;
  m.outcome = o;
  m.measured_ms = measured;
  m.prediction.latency_ms = predicted;
  m.relative_error = predicted / measured - 1;
  return m;
}

}  // namespace

TEST_CASE("fit_context: one factor that makes kernel sums whole-model latencies") {
  // Every kernel sum 1/1.25 of its model: the factor is 1.25 and the fit exact.
  std::vector<nb::model_evaluation> ms = {model("a", 10, 8), model("a", 2, 1.6),
                                          model("b", 5, 4), model("b", 1, 0.8)};
  ms.push_back(model("c", 3, 0.1, nb::model_outcome::incomplete));  // not used
  const nb::context_fit f = nb::fit_context(ms);
  CHECK(f.scale == doctest::Approx(1.25));
  CHECK(f.before.evaluated == 4);
  CHECK(f.before.within_10 == 0.0);
  CHECK(f.before.rmspe == doctest::Approx(20.0));
  CHECK(f.after.within_10 == 1.0);
  CHECK(f.after.rmspe == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(f.leave_one_family_out.evaluated == 4);
  CHECK(f.leave_one_family_out.within_5 == 1.0);
}

TEST_CASE("fit_context: the factor minimises the relative error; families held out in turn") {
  // Family a: sums 1/1.1 of the models; family b: 1/1.3.
  const std::vector<nb::model_evaluation> ms = {model("a", 11, 10), model("a", 22, 20),
                                                model("b", 13, 10), model("b", 26, 20)};
  const nb::context_fit f = nb::fit_context(ms);
  // Ratios p/m: 1/1.1 twice, 1/1.3 twice.
  const double r1 = 1 / 1.1, r2 = 1 / 1.3;
  CHECK(f.scale == doctest::Approx((2 * r1 + 2 * r2) / (2 * r1 * r1 + 2 * r2 * r2)));
  // Held out, a gets b's factor (1.3): +18.2 %; b gets a's (1.1): -15.4 %.
  CHECK(f.leave_one_family_out.evaluated == 4);
  CHECK(f.leave_one_family_out.within_10 == 0.0);
  CHECK(f.leave_one_family_out.max_abs_error == doctest::Approx((1.3 / 1.1 - 1) * 100));
  CHECK(f.after.within_10 == 1.0);  // one factor of about 1.19 is within 10 % of both
}

TEST_CASE("fit_context: no evaluated model, no factor") {
  const std::vector<nb::model_evaluation> ms = {
      model("a", 1, 1, nb::model_outcome::failed), model("a", 1, 1, nb::model_outcome::incomplete)};
  CHECK_THROWS_WITH_AS((void)nb::fit_context(ms), doctest::Contains("no evaluated model"),
                       nnmeter::error);
  // One family: no leave-one-family-out figure.
  const nb::context_fit f = nb::fit_context({model("a", 2, 1), model("a", 4, 2)});
  CHECK(f.scale == doctest::Approx(2.0));
  CHECK(f.leave_one_family_out.evaluated == 0);
  CHECK(std::isnan(f.leave_one_family_out.within_10));
}
