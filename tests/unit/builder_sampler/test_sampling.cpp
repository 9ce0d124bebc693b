// Tests for tools/builder/sampler/sampling.hpp: the random source, nn-Meter's inverse-CDF draws
// and snapping, the share of every sampler, the caps, fine-grained sampling, determinism.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "builder/sampler/sampler.hpp"

namespace nb = nnmeter::builder;
using nnmeter::kernel_kind;

namespace {

std::string name(kernel_kind k) { return std::string(nnmeter::to_string(k)); }

std::vector<std::string> keys(const std::vector<nb::kernel_config>& v) {
  std::vector<std::string> out;
  for (const nb::kernel_config& c : v) out.push_back(c.describe());
  return out;
}

// How often each value of parameter p occurs.
std::map<std::int64_t, std::size_t> histogram(const std::vector<nb::kernel_config>& v,
                                              const std::string& p) {
  std::map<std::int64_t, std::size_t> h;
  for (const nb::kernel_config& c : v) ++h[c.at(p)];
  return h;
}

// Prior tables whose spatial, window and stride columns are constant (so the prior part of a
// sampler is known exactly) and whose channel column is `channels`.
nb::prior_tables constant_priors(std::int64_t hw, std::int64_t ks, std::int64_t stride,
                                 std::int64_t channels) {
  nb::prior_tables t;
  for (int i = 0; i < 10; ++i) {
    t.conv.push_back({"m", hw, hw, channels, channels, ks, stride, 1});
    t.dwconv.push_back({"m", hw, hw, channels, channels, ks, stride, channels});
    t.fc.push_back({"m", channels, 4096});
    t.pooling.push_back({"m", hw, hw, channels, channels, i % 2 ? 3 : 2, i % 2 ? 1 : 2});
  }
  return t;
}

nb::sampler_options no_caps(std::uint64_t seed = 3) {
  nb::sampler_options o;
  o.seed = seed;
  o.caps.max_mflops = 0;
  o.caps.max_mbytes = 0;
  return o;
}

}  // namespace

TEST_CASE("sample_rng: fixed by the standard's mt19937_64, uniform and unbiased") {
  nb::sample_rng a(42), b(42), c(43);
  std::vector<double> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.uniform());
    vb.push_back(b.uniform());
    vc.push_back(c.uniform());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  // The C++ standard fixes std::mt19937_64: its 10000th output from the default seed 5489 is
  // 9981545732273789042. uniform() keeps the top 53 bits of each output.
  nb::sample_rng d(5489);
  for (int i = 0; i < 9999; ++i) (void)d.uniform();
  CHECK(d.uniform() == static_cast<double>(9981545732273789042ULL >> 11) * 0x1.0p-53);
  nb::sample_rng r(7);
  std::vector<std::size_t> counts(6, 0);
  double sum = 0;
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    ++counts[r.below(6)];
    const double u = r.uniform();
    CHECK((u >= 0 && u < 1));
    sum += u;
  }
  for (std::size_t k : counts) CHECK(std::abs(static_cast<double>(k) - n / 6.0) < 400);
  CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));
  std::vector<int> v{1, 2, 3, 4, 5, 6, 7, 8};
  r.shuffle(v);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(v != sorted);
  CHECK(nb::derive_seed(1, "conv-bn-relu") != nb::derive_seed(1, "fc"));
  CHECK(nb::derive_seed(1, "fc") != nb::derive_seed(2, "fc"));
  CHECK(nb::derive_seed(1, "fc") == nb::derive_seed(1, "fc"));
}

TEST_CASE("snap: the nearest allowed value, ties to the earlier entry (nn-Meter)") {
  const std::vector<std::int64_t> ks{1, 3, 5, 7};
  CHECK(nb::snap(2, ks) == 1);  // tie between 1 and 3
  CHECK(nb::snap(4, ks) == 3);  // tie between 3 and 5
  CHECK(nb::snap(6, ks) == 5);
  CHECK(nb::snap(11, ks) == 7);
  CHECK(nb::snap(0, ks) == 1);
  CHECK(nb::snap(3, ks) == 3);
  const std::vector<std::int64_t> hw{1, 3, 7, 8, 13, 14, 27, 28, 32, 56, 112, 224};
  CHECK(nb::snap(84, hw) == 56);  // tie between 56 and 112
  CHECK(nb::snap(85, hw) == 112);
  CHECK(nb::snap(168, hw) == 112);  // tie between 112 and 224
  CHECK(nb::snap(20, hw) == 14);    // 20 - 14 = 6 < 27 - 20 = 7
  // An unsorted list: the tie still goes to the earlier entry.
  CHECK(nb::snap(2, {3, 1}) == 3);
  CHECK_THROWS_AS((void)nb::snap(1, {}), nnmeter::error);
}

TEST_CASE("inverse_cdf: nn-Meter's 40-bin histogram, hand-computed values") {
  // 10 zeros and 30 tens: edges 0, 0.25, ..., 10; bin 0 holds 1/4, bin 39 (closed) 3/4.
  std::vector<std::int64_t> data(10, 0);
  data.insert(data.end(), 30, 10);
  const nb::inverse_cdf icdf(data);
  REQUIRE(icdf.edges().size() == 41);
  CHECK(icdf.edges()[1] == 0.25);
  CHECK(icdf.edges().back() == 10);
  CHECK(icdf.cdf()[1] == 0.25);
  CHECK(icdf.cdf()[39] == 0.25);
  CHECK(icdf.cdf()[40] == 1.0);
  CHECK(icdf(0.0) == 0.0);
  CHECK(icdf(0.1) == doctest::Approx(0.1));  // 0 + 0.1 / 0.25 * 0.25
  CHECK(icdf(0.5) == doctest::Approx(9.75 + (0.5 - 0.25) / 0.75 * 0.25));
  CHECK(icdf(0.999999) == doctest::Approx(10.0).epsilon(1e-5));
  // 0..40: one value per bin, and the last bin also holds 40.
  std::vector<std::int64_t> ramp;
  for (int i = 0; i <= 40; ++i) ramp.push_back(i);
  const nb::inverse_cdf r(ramp);
  CHECK(r.cdf()[1] == doctest::Approx(1.0 / 41));
  CHECK(r.cdf()[39] == doctest::Approx(39.0 / 41));
  CHECK(r(39.5 / 41) == doctest::Approx(39.25));  // bin 39 has weight 2/41
  // A constant column: numpy's [v - 0.5, v + 0.5] range; every draw truncates to v.
  const nb::inverse_cdf c(std::vector<std::int64_t>{5, 5, 5});
  CHECK(c.edges().front() == 4.5);
  nb::sample_rng rng(1);
  for (std::int64_t v : c.draws(rng, 200)) CHECK(v == 5);
  CHECK_THROWS_AS(nb::inverse_cdf(std::vector<std::int64_t>{}), nnmeter::error);
}

TEST_CASE("inverse_cdf: draws follow the data's distribution") {
  // Uniform data on [0, 1000): the histogram's inverse CDF is the identity scaled by 999, so
  // draws are uniform: check mean, variance and the largest CDF gap (Kolmogorov-Smirnov).
  std::vector<std::int64_t> data;
  for (int i = 0; i < 1000; ++i) data.push_back(i);
  const nb::inverse_cdf icdf(data);
  nb::sample_rng rng(9);
  const std::size_t n = 100000;
  std::vector<std::int64_t> d = icdf.draws(rng, n);
  double mean = 0;
  for (std::int64_t v : d) mean += static_cast<double>(v);
  mean /= static_cast<double>(n);
  CHECK(mean == doctest::Approx(499.0).epsilon(0.01));
  std::sort(d.begin(), d.end());
  double ks = 0;
  for (std::size_t i = 0; i < n; i += 97) {
    const double empirical = static_cast<double>(i) / static_cast<double>(n);
    const double model = (static_cast<double>(d[i]) + 0.5) / 999.0;
    ks = std::max(ks, std::abs(empirical - model));
  }
  CHECK(ks < 0.01);
  // A skewed column (most mass at small values, as conv channels): the median draw sits in the
  // bin of the data's median.
  std::vector<std::int64_t> skew;
  for (int i = 0; i < 900; ++i) skew.push_back(16 + i % 50);
  for (int i = 0; i < 100; ++i) skew.push_back(1000 + i * 10);
  const nb::inverse_cdf s(skew);
  std::vector<std::int64_t> sd = s.draws(rng, 20001);
  std::nth_element(sd.begin(), sd.begin() + 10000, sd.end());
  CHECK(sd[10000] < 100);
  std::size_t big = 0;
  for (std::int64_t v : sd) big += v >= 1000 ? 1 : 0;
  CHECK(static_cast<double>(big) / 20001 == doctest::Approx(0.1).epsilon(0.1));
}

TEST_CASE("sample_prior: conv shares (70 % prior, nn-Meter's frequent values), exactly n") {
  const nb::prior_tables t = constant_priors(14, 3, 1, 64);
  const std::vector<nb::kernel_config> v =
      nb::sample_prior(kernel_kind::conv_bn_relu, 1001, no_caps(), t);
  REQUIRE(v.size() == 1001);  // nn-Meter's floors give 1000; the last one is drawn from the prior
  // n1 = 700 from the prior (all 14 / 3 / 1 here), r = 301: hw 60 x 112, 120 x 56, 120 x 28.
  CHECK(histogram(v, "HW") ==
        std::map<std::int64_t, std::size_t>{{14, 701}, {28, 120}, {56, 120}, {112, 60}});
  CHECK(histogram(v, "KERNEL_SIZE") ==
        std::map<std::int64_t, std::size_t>{{3, 701}, {5, 120}, {7, 180}});
  CHECK(histogram(v, "STRIDES") == std::map<std::int64_t, std::size_t>{{1, 881}, {2, 120}});
  CHECK(histogram(v, "CIN") == std::map<std::int64_t, std::size_t>{{64, 1001}});
  // Sorted by nn-Meter's (FLOPs, params).
  auto flops = [](const nb::kernel_config& c) {
    const double hs = static_cast<double>(c.at("HW")) / static_cast<double>(c.at("STRIDES"));
    const double k = static_cast<double>(c.at("KERNEL_SIZE"));
    const double cin = static_cast<double>(c.at("CIN"));
    return 2 * hs * hs * static_cast<double>(c.at("COUT")) * (k * k * cin + 1);
  };
  for (std::size_t i = 1; i < v.size(); ++i) CHECK(flops(v[i - 1]) <= flops(v[i]));
  // The frequent values are shuffled into the draws, not appended in blocks.
  const nb::prior_tables t2 = constant_priors(14, 3, 1, 64);
  CHECK(nb::sample_prior(kernel_kind::conv_bn_relu, 20, no_caps(), t2).size() == 20);
}

TEST_CASE("sample_prior: dwconv, fc, pooling, concat and the hw-cin family's shares") {
  const nb::prior_tables t = constant_priors(14, 3, 1, 63);
  const auto dw = nb::sample_prior(kernel_kind::dwconv_bn_relu, 1000, no_caps(), t);
  REQUIRE(dw.size() == 1000);
  CHECK(histogram(dw, "HW") ==
        std::map<std::int64_t, std::size_t>{{14, 800}, {28, 40}, {56, 80}, {112, 80}});
  CHECK(histogram(dw, "KERNEL_SIZE") ==
        std::map<std::int64_t, std::size_t>{{3, 800}, {5, 80}, {7, 120}});
  CHECK(histogram(dw, "STRIDES") == std::map<std::int64_t, std::size_t>{{1, 900}, {2, 100}});

  const auto fc = nb::sample_prior(kernel_kind::fc, 1001, no_caps(), t);
  REQUIRE(fc.size() == 1001);
  CHECK(histogram(fc, "COUT") == std::map<std::int64_t, std::size_t>{{1000, 500}, {4096, 501}});
  for (std::size_t i = 1; i < fc.size(); ++i)
    CHECK((2 * fc[i - 1].at("CIN") + 1) * fc[i - 1].at("COUT") <=
          (2 * fc[i].at("CIN") + 1) * fc[i].at("COUT"));

  for (kernel_kind k : {kernel_kind::maxpool, kernel_kind::avgpool}) {
    const auto p = nb::sample_prior(k, 1000, no_caps(), t);
    REQUIRE(p.size() == 1000);
    CHECK(histogram(p, "HW") == std::map<std::int64_t, std::size_t>{{14, 1000}});
    // The table's (ks, stride) pairs cycled: (2, 2) and (3, 1), half each, still paired.
    CHECK(histogram(p, "KERNEL_SIZE") == std::map<std::int64_t, std::size_t>{{2, 500}, {3, 500}});
    for (const nb::kernel_config& c : p)
      CHECK(c.at("STRIDES") == (c.at("KERNEL_SIZE") == 2 ? 2 : 1));
    CHECK(p[0].kind == k);
  }

  const auto cat = nb::sample_prior(kernel_kind::concat, 1000, no_caps(), t);
  std::map<int, std::size_t> inputs;
  for (const nb::kernel_config& c : cat) {
    int n = 0;
    for (const char* p : {"CIN1", "CIN2", "CIN3", "CIN4"}) n += c.at(p) > 0 ? 1 : 0;
    ++inputs[n];
    CHECK(c.at("HW") == 14);
  }
  CHECK(inputs == std::map<int, std::size_t>{{2, 400}, {3, 200}, {4, 400}});

  for (kernel_kind k : {kernel_kind::relu, kernel_kind::add, kernel_kind::hswish, kernel_kind::bn,
                        kernel_kind::bnrelu, kernel_kind::addrelu, kernel_kind::sigmoid,
                        kernel_kind::hardsigmoid, kernel_kind::data_movement}) {
    CAPTURE(name(k));
    const auto v = nb::sample_prior(k, 1000, no_caps(), t);
    CHECK(histogram(v, "HW") ==
          std::map<std::int64_t, std::size_t>{{14, 800}, {28, 40}, {56, 80}, {112, 80}});
    CHECK(histogram(v, "CIN") == std::map<std::int64_t, std::size_t>{{63, 1000}});
    CHECK(v[0].kind == k);
  }
  for (kernel_kind k : {kernel_kind::split, kernel_kind::channelshuffle, kernel_kind::se}) {
    CAPTURE(name(k));
    CHECK(histogram(nb::sample_prior(k, 100, no_caps(), t), "CIN") ==
          std::map<std::int64_t, std::size_t>{{64, 100}});  // odd 63 bumped to 64
  }
  CHECK(histogram(nb::sample_prior(kernel_kind::global_avgpool, 1001, no_caps(), t), "HW") ==
        std::map<std::int64_t, std::size_t>{{3, 500}, {7, 501}});
  CHECK(histogram(nb::sample_prior(kernel_kind::mul, 1000, no_caps(), t), "BROADCAST") ==
        std::map<std::int64_t, std::size_t>{{0, 500}, {1, 500}});
  CHECK(histogram(nb::sample_prior(kernel_kind::pad, 1000, no_caps(), t), "PAD") ==
        std::map<std::int64_t, std::size_t>{{1, 500}, {2, 250}, {3, 250}});
  const auto rs = nb::sample_prior(kernel_kind::resize, 1000, no_caps(), t);
  CHECK(histogram(rs, "SCALE") == std::map<std::int64_t, std::size_t>{{2, 800}, {4, 200}});
  CHECK(histogram(rs, "HW").count(224) == 0);
  CHECK(histogram(nb::sample_prior(kernel_kind::softmax, 1000, no_caps(), t), "HW")[1] == 500);
  const auto mm = nb::sample_prior(kernel_kind::matmul, 100, no_caps(), t);
  CHECK(histogram(mm, "M") == std::map<std::int64_t, std::size_t>{{196, 100}});  // 14 * 14
}

TEST_CASE("sample_prior: seeded, deterministic, and valid for every kind") {
  for (kernel_kind k : nb::buildable_kinds()) {
    CAPTURE(name(k));
    nb::sampler_options o;
    o.seed = 5;
    const auto a = nb::sample_prior(k, 60, o);
    const auto b = nb::sample_prior(k, 60, o);
    REQUIRE(a.size() == 60);
    CHECK(keys(a) == keys(b));  // byte for byte
    o.seed = 6;
    CHECK(keys(nb::sample_prior(k, 60, o)) != keys(a));
    for (const nb::kernel_config& c : a) {
      CHECK(c.kind == k);
      CHECK_NOTHROW(nb::validate(c));
      CHECK(nb::within_caps(c, o.caps));
    }
  }
  // One stream per kind: the same seed does not give conv and dwconv the same channels.
  nb::sampler_options o;
  const auto relu = nb::sample_prior(kernel_kind::relu, 50, o);
  const auto bn = nb::sample_prior(kernel_kind::bn, 50, o);
  std::size_t same = 0;
  for (std::size_t i = 0; i < 50; ++i) same += relu[i].params == bn[i].params ? 1 : 0;
  CHECK(same < 10);
  CHECK(nb::sample_prior(kernel_kind::conv_bn_relu, 0, o).empty());
  CHECK_THROWS_AS((void)nb::sample_prior(kernel_kind::other, 5, o), nnmeter::unsupported_error);
  nb::prior_tables empty;
  CHECK_THROWS_WITH((void)nb::sample_prior(kernel_kind::fc, 5, o, empty),
                    doctest::Contains("prior table fc.csv has no rows"));
}

TEST_CASE("sample_prior: nn-Meter's own tables, the spread of the draws") {
  nb::sampler_options o;
  o.seed = 2;
  const auto conv = nb::sample_prior(kernel_kind::conv_bn_relu, 2000, o);
  const auto hw = histogram(conv, "HW");
  const auto ks = histogram(conv, "KERNEL_SIZE");
  // Every HW is one of nn-Meter's allowed values; the frequent 112 / 56 / 28 are there.
  for (const auto& [v, n] : hw)
    CHECK(std::set<std::int64_t>{1, 3, 7, 8, 13, 14, 27, 28, 32, 56, 112, 224}.count(v) == 1);
  CHECK(hw.at(112) >= 120);
  CHECK(hw.at(56) >= 240);
  CHECK(ks.at(7) >= 360);  // 0.6 * 600 frequent ones at least
  CHECK(ks.at(5) >= 240);
  std::set<std::int64_t> cins;
  for (const nb::kernel_config& c : conv) cins.insert(c.at("CIN"));
  CHECK(cins.size() > 200);  // channels spread over the prior's range
}

TEST_CASE("sampling caps: channels redrawn, then halved; shapes' shares unchanged") {
  // Channels 2000 everywhere: at HW 224 no redraw fits 1000 MFLOPs, so they are halved.
  const nb::prior_tables t = constant_priors(224, 3, 1, 2000);
  nb::sampler_options o;
  o.seed = 4;
  const auto v = nb::sample_prior(kernel_kind::conv_bn_relu, 300, o, t);
  REQUIRE(v.size() == 300);
  for (const nb::kernel_config& c : v) {
    CHECK(nb::within_caps(c, o.caps));
    const nb::kernel_cost k = nb::cost_of(c);
    CHECK(k.mflops <= 1000);
    CHECK(k.mbytes <= 64);
  }
  CHECK(histogram(v, "HW") ==
        std::map<std::int64_t, std::size_t>{{28, 36}, {56, 36}, {112, 18}, {224, 210}});
  CHECK(histogram(v, "KERNEL_SIZE") ==
        std::map<std::int64_t, std::size_t>{{3, 210}, {5, 36}, {7, 54}});
  // Without caps the same draws keep their 2000 channels.
  CHECK(histogram(nb::sample_prior(kernel_kind::conv_bn_relu, 300, no_caps(4), t), "CIN") ==
        std::map<std::int64_t, std::size_t>{{2000, 300}});
  for (const nb::kernel_config& c : nb::sample_prior(kernel_kind::split, 100, o, t))
    CHECK(c.at("CIN") % 2 == 0);
  // A predicate of the user's: applied like the caps (here: at most 100 channels for 7x7).
  nb::sampler_options small = o;
  small.caps.accept = [](const nb::kernel_config& c) {
    return c.at("KERNEL_SIZE") != 7 || c.at("CIN") <= 100;
  };
  const auto dw = nb::sample_prior(kernel_kind::dwconv_bn_relu, 500, small);
  std::size_t sevens = 0;
  for (const nb::kernel_config& c : dw) {
    if (c.at("KERNEL_SIZE") != 7) continue;
    ++sevens;
    CHECK(c.at("CIN") <= 100);
  }
  CHECK(sevens >= 60);  // 0.6 of the 20 % frequent part at least: none was dropped
  CHECK(dw.size() == 500);
  CHECK_FALSE(nb::within_caps(dw.front(), [] {
    nb::sampling_caps c;
    c.accept = [](const nb::kernel_config&) { return false; };
    return c;
  }()));
  // Caps nothing fits: an error naming the configuration.
  o.caps.max_mflops = 1e-9;
  CHECK_THROWS_WITH((void)nb::sample_prior(kernel_kind::relu, 3, o, t),
                    doctest::Contains("exceeds the sampling caps"));
}

TEST_CASE("sample_finegrained: nn-Meter's ranges, joint CIN/COUT, kept parameters") {
  nb::kernel_config conv;
  conv.kind = kernel_kind::conv_bn_relu;
  conv.params = {{"HW", 28}, {"CIN", 100}, {"COUT", 40}, {"KERNEL_SIZE", 3}, {"STRIDES", 1}};
  nb::sampler_options o;
  o.seed = 8;
  const auto v = nb::sample_finegrained(conv, 20, o);
  // COUT's range [20, 48) has 28 values, CIN's [50, 120) 70: 20 pairs.
  REQUIRE(v.size() == 20);
  std::set<std::int64_t> cins, couts;
  for (const nb::kernel_config& c : v) {
    CHECK(c.at("HW") == 28);
    CHECK(c.at("KERNEL_SIZE") == 3);
    CHECK(c.at("STRIDES") == 1);
    CHECK((c.at("CIN") >= 50 && c.at("CIN") < 120));
    CHECK((c.at("COUT") >= 20 && c.at("COUT") < 48));
    cins.insert(c.at("CIN"));
    couts.insert(c.at("COUT"));
  }
  CHECK(cins.size() == 20);  // without replacement
  CHECK(couts.size() == 20);
  CHECK(keys(nb::sample_finegrained(conv, 20, o)) == keys(v));
  o.seed = 9;
  CHECK(keys(nb::sample_finegrained(conv, 20, o)) != keys(v));

  // A small range: all of it, shuffled; the shorter list cuts the pairs.
  conv.params["COUT"] = 10;  // [5, 12): 7 values
  const auto small = nb::sample_finegrained(conv, 20, o);
  REQUIRE(small.size() == 7);
  std::set<std::int64_t> all;
  for (const nb::kernel_config& c : small) all.insert(c.at("COUT"));
  CHECK(all == std::set<std::int64_t>{5, 6, 7, 8, 9, 10, 11});

  nb::kernel_config relu;
  relu.kind = kernel_kind::relu;
  relu.params = {{"HW", 56}, {"CIN", 10}};
  const auto r = nb::sample_finegrained(relu, 3, o);
  REQUIRE(r.size() == 3);
  for (const nb::kernel_config& c : r) {
    CHECK(c.at("HW") == 56);
    CHECK((c.at("CIN") >= 5 && c.at("CIN") < 12));
  }
  nb::kernel_config one = relu;
  one.params["CIN"] = 1;  // [0, 1) in nn-Meter, which would give 0 channels: here [1, 2)
  const auto o1 = nb::sample_finegrained(one, 5, o);
  REQUIRE(o1.size() == 1);
  CHECK(o1[0].at("CIN") == 1);

  nb::kernel_config split;
  split.kind = kernel_kind::split;
  split.params = {{"HW", 14}, {"CIN", 30}};
  for (const nb::kernel_config& c : nb::sample_finegrained(split, 30, o))
    CHECK(c.at("CIN") % 2 == 0);

  nb::kernel_config cat;
  cat.kind = kernel_kind::concat;
  cat.params = {{"HW", 14}, {"CIN1", 40}, {"CIN2", 80}, {"CIN3", 0}, {"CIN4", 0}};
  const auto cv = nb::sample_finegrained(cat, 10, o);
  REQUIRE(cv.size() == 10);
  for (const nb::kernel_config& c : cv) {
    CHECK((c.at("CIN1") >= 20 && c.at("CIN1") < 48));
    CHECK((c.at("CIN2") >= 40 && c.at("CIN2") < 96));
    CHECK(c.at("CIN3") == 0);
    CHECK(c.at("CIN4") == 0);
  }

  // Several configurations: FINEGRAINED_SAMPLE_NUM each, in order.
  const auto many = nb::sample_finegrained(std::vector<nb::kernel_config>{relu, split}, 3, o);
  REQUIRE(many.size() == 6);
  CHECK(many[0].kind == kernel_kind::relu);
  CHECK(many[5].kind == kernel_kind::split);

  // Over the caps: dropped.
  nb::kernel_config big = conv;
  big.params = {{"HW", 112}, {"CIN", 256}, {"COUT", 256}, {"KERNEL_SIZE", 3}, {"STRIDES", 1}};
  CHECK_FALSE(nb::within_caps(big, o.caps));
  CHECK(nb::sample_finegrained(big, 10, o).size() < 10);
  nb::kernel_config bad = relu;
  bad.params["CIN"] = 0;
  CHECK_THROWS_WITH((void)nb::sample_finegrained(bad, 3, o), doctest::Contains("'CIN' = 0"));
}

// A resumed campaign regenerates its configurations from SEED and finds them in the profile
// store: the streams must not change between versions (nor between compilers and CPUs: the
// sampler uses no library distribution and no FMA contraction). A deliberate change of the
// sampler must update these lines and say so in the release notes.
TEST_CASE("sample streams are stable (golden, seed 42)") {
  nb::sampler_options o;
  o.seed = 42;
  std::vector<std::string> got;
  for (kernel_kind k : {kernel_kind::conv_bn_relu, kernel_kind::relu, kernel_kind::concat})
    for (const std::string& s : keys(nb::sample_prior(k, 4, o))) got.push_back(s);
  nb::kernel_config fc;
  fc.kind = kernel_kind::fc;
  fc.params = {{"CIN", 1000}, {"COUT", 100}};
  for (const std::string& s : keys(nb::sample_finegrained(fc, 3, o))) got.push_back(s);
  const std::vector<std::string> want{
      R"(conv-bn-relu {"CIN":210,"COUT":244,"HW":8,"KERNEL_SIZE":1,"STRIDES":1})",
      R"(conv-bn-relu {"CIN":264,"COUT":21,"HW":27,"KERNEL_SIZE":1,"STRIDES":1})",
      R"(conv-bn-relu {"CIN":76,"COUT":118,"HW":224,"KERNEL_SIZE":1,"STRIDES":1})",
      R"(conv-bn-relu {"CIN":16,"COUT":12,"HW":224,"KERNEL_SIZE":7,"STRIDES":1})",
      R"(relu {"CIN":112,"HW":14})",
      R"(relu {"CIN":205,"HW":14})",
      R"(relu {"CIN":155,"HW":14})",
      R"(relu {"CIN":533,"HW":28})",
      R"(concat {"CIN1":61,"CIN2":757,"CIN3":0,"CIN4":0,"HW":14})",
      R"(concat {"CIN1":986,"CIN2":474,"CIN3":0,"CIN4":0,"HW":28})",
      R"(concat {"CIN1":247,"CIN2":999,"CIN3":0,"CIN4":0,"HW":28})",
      R"(concat {"CIN1":182,"CIN2":2027,"CIN3":286,"CIN4":1191,"HW":14})",
      R"(fc {"CIN":788,"COUT":108})",
      R"(fc {"CIN":853,"COUT":118})",
      R"(fc {"CIN":653,"COUT":81})"};
  CHECK(got == want);
}
