// The fallback models' fit: non-negative least squares of latency on MFLOPs and MB per family,
// relative errors, kinds weighted equally, held-out and leave-one-kind-out quality.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "builder/predictorbuild/fallback_fit.hpp"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace nb = nnmeter::builder;
using K = nnmeter::kernel_kind;

namespace {

// n samples of kind k with work spread over three orders of magnitude and latencies of the
// linear model c, times a log-normal noise of sigma (0: exact).
std::vector<nb::fallback_sample> synthetic(K k, const nnmeter::fallback_coefficients& c,
                                           std::size_t n, double sigma, std::uint32_t seed,
                                           bool no_flops = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> lg(0.0, 3.0);
  std::normal_distribution<double> noise(0.0, sigma);
  std::vector<nb::fallback_sample> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double flops = no_flops ? 0.0 : std::pow(10.0, lg(rng)) * 1e5;
    const double bytes = std::pow(10.0, lg(rng)) * 1e4;
    const double ms = *nnmeter::fallback_estimate(c, flops, bytes) * (sigma > 0 ? std::exp(noise(rng)) : 1.0);
    out.push_back({k, flops, bytes, ms});
  }
  return out;
}

}  // namespace

TEST_CASE("fallback fit: exact data gives back the coefficients") {
  const nnmeter::fallback_coefficients c{0.004, 0.0125, 0.031};
  const auto rows = synthetic(K::conv_bn_relu, c, 200, 0.0, 1);
  const auto fit = nb::fit_fallback_coefficients(rows);
  REQUIRE(fit.has_value());
  CHECK(fit->base_ms == doctest::Approx(c.base_ms).epsilon(1e-9));
  CHECK(fit->ms_per_mflop == doctest::Approx(c.ms_per_mflop).epsilon(1e-9));
  CHECK(fit->ms_per_mbyte == doctest::Approx(c.ms_per_mbyte).epsilon(1e-9));
  const nb::fallback_metrics q = nb::fallback_quality(*fit, rows);
  CHECK(q.n == 200);
  CHECK(q.within_25 == 100.0);
  CHECK(q.median_abs_error < 1e-6);
}

TEST_CASE("fallback fit: a coefficient the data wants negative is held at zero") {
  // Latency falls with FLOPs in this data: an unconstrained fit would give ms_per_mflop < 0.
  std::vector<nb::fallback_sample> rows;
  for (int i = 1; i <= 50; ++i) {
    const double flops = 1e6 * i;
    const double bytes = 1e5 * (60 - i);
    rows.push_back({K::pad, flops, bytes, 0.01 + 0.02 * bytes / 1e6 - 0.0001 * i});
  }
  const auto fit = nb::fit_fallback_coefficients(rows);
  REQUIRE(fit.has_value());
  CHECK(fit->ms_per_mflop == 0.0);
  CHECK(fit->base_ms >= 0.0);
  CHECK(fit->ms_per_mbyte > 0.0);
  CHECK(nnmeter::valid(*fit));
}

TEST_CASE("fallback fit: noisy data of a family recovers its coefficients within the noise") {
  const nnmeter::fallback_coefficients elem{0.002, 0.004, 0.02};
  std::vector<nb::fallback_sample> all;
  // Three elementwise kinds of the same device law, one with ten times the samples of the
  // others: weighting each kind equally keeps the fit a fit of all three.
  for (const auto& [k, n, seed] : {std::tuple{K::relu, 600, 1u}, std::tuple{K::add, 60, 2u},
                                   std::tuple{K::sigmoid, 60, 3u}}) {
    const auto rows = synthetic(k, elem, static_cast<std::size_t>(n), 0.03, seed);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  // A data-movement kind with no FLOPs at all: its family fits base + MB only.
  const nnmeter::fallback_coefficients move{0.001, 0.0, 0.05};
  const auto moves = synthetic(K::concat, move, 80, 0.03, 4, true);
  all.insert(all.end(), moves.begin(), moves.end());

  const std::vector<nb::fallback_family_fit> fits = nb::fit_fallback(all);
  REQUIRE(fits.size() == 2);  // only families with samples
  const nb::fallback_family_fit& e = fits[0];
  CHECK(e.family == nnmeter::kernel_family::elementwise);
  CHECK(e.samples == 720);
  CHECK(e.kinds == std::vector<K>{K::relu, K::add, K::sigmoid});
  REQUIRE(e.coefficients.has_value());
  CHECK(e.coefficients->base_ms == doctest::Approx(elem.base_ms).epsilon(0.05));
  CHECK(e.coefficients->ms_per_mflop == doctest::Approx(elem.ms_per_mflop).epsilon(0.05));
  CHECK(e.coefficients->ms_per_mbyte == doctest::Approx(elem.ms_per_mbyte).epsilon(0.05));
  CHECK(e.holdout.n == 144);  // ceil(0.2 * 720)
  CHECK(e.holdout.within_25 == 100.0);
  CHECK(e.holdout.median_abs_error < 4.0);  // the noise is 3 %
  REQUIRE(e.leave_kind_out.size() == 3);
  for (const auto& q : e.leave_kind_out) CHECK(q.metrics.within_25 == 100.0);

  const nb::fallback_family_fit& m = fits[1];
  CHECK(m.family == nnmeter::kernel_family::data_movement);
  REQUIRE(m.coefficients.has_value());
  CHECK(m.coefficients->ms_per_mflop == 0.0);
  CHECK(m.coefficients->ms_per_mbyte == doctest::Approx(move.ms_per_mbyte).epsilon(0.05));
  CHECK(m.leave_kind_out.empty());  // one kind: nothing to leave out

  // Same data, same fit (the split is seeded).
  const auto again = nb::fit_fallback(all);
  CHECK(again[0].coefficients->base_ms == e.coefficients->base_ms);
}

TEST_CASE("fallback fit: too few samples give no model; unknown work is refused") {
  const auto few = synthetic(K::maxpool, {0.001, 0.01, 0.01}, 8, 0.0, 5);
  const auto fits = nb::fit_fallback(few);
  REQUIRE(fits.size() == 1);
  CHECK_FALSE(fits[0].coefficients.has_value());
  CHECK(fits[0].note.find("training sample(s), at least 10 are needed") != std::string::npos);
  CHECK_FALSE(nb::fit_fallback_coefficients({}).has_value());
  std::vector<nb::fallback_sample> bad = few;
  bad[3].bytes = std::nan("");
  CHECK_THROWS_WITH_AS((void)nb::fit_fallback(bad),
                       doctest::Contains("sample 3 of kind maxpool has FLOPs"), nnmeter::error);
  bad[3].bytes = 1e5;
  bad[3].latency_ms = 0.0;
  CHECK_THROWS_AS((void)nb::fit_fallback_coefficients(bad), nnmeter::error);
}
