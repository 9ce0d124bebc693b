// Kernel kinds, kernel traits and feature vectors.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <string>
#include <type_traits>

namespace {

template <nnmeter::kernel_kind K>
constexpr bool trait_is_complete() {
  using T = nnmeter::kernel_traits<K>;
  return T::kind == K && !T::name.empty() && T::extended_feature_count > 0 &&
         T::extended_feature_count <= nnmeter::feature_vector::capacity &&
         T::nnmeter_feature_count <= nnmeter::feature_vector::capacity &&
         nnmeter::feature_count(K, nnmeter::feature_set::lanes) <=
             nnmeter::feature_vector::capacity;
}
template <std::size_t... I>
constexpr bool all_traits_complete(std::index_sequence<I...>) {
  return (trait_is_complete<static_cast<nnmeter::kernel_kind>(I)>() && ...);
}
static_assert(all_traits_complete(std::make_index_sequence<nnmeter::kernel_kind_count>{}),
              "every kernel_kind needs a complete kernel_traits specialisation");

static_assert(nnmeter::kernel_kind_of("conv-bn-hswish") == nnmeter::kernel_kind::conv_bn_relu);
static_assert(nnmeter::kernel_kind_of("dwconv-bn") == nnmeter::kernel_kind::dwconv_bn_relu);
static_assert(nnmeter::kernel_kind_of("se-relu") == nnmeter::kernel_kind::se);
static_assert(nnmeter::kernel_kind_of("gap") == nnmeter::kernel_kind::global_avgpool);
static_assert(nnmeter::kernel_kind_of("add-relu") == nnmeter::kernel_kind::addrelu);
static_assert(nnmeter::kernel_kind_of("bn-relu") == nnmeter::kernel_kind::bnrelu);
static_assert(nnmeter::kernel_kind_of("fc-relu") == nnmeter::kernel_kind::fc);
static_assert(nnmeter::kernel_kind_of("avgpool-relu") == nnmeter::kernel_kind::avgpool);
static_assert(nnmeter::kernel_kind_of("maxpool-relu") == nnmeter::kernel_kind::maxpool);
static_assert(nnmeter::kernel_kind_of("Mystery") == nnmeter::kernel_kind::other);
static_assert(nnmeter::parse_kernel_kind("global-avgpool") == nnmeter::kernel_kind::global_avgpool);
static_assert(!nnmeter::parse_kernel_kind("nope").has_value());

nnmeter::kernel make(const char* op, std::vector<nnmeter::tensor_shape> in) {
  nnmeter::kernel k;
  k.op = op;
  k.kind = nnmeter::kernel_kind_of(op);
  k.input_tensors = std::move(in);
  if (!k.input_tensors.empty() && k.input_tensors[0].rank() == 4) {
    k.inputh = k.input_tensors[0][1];
    k.inputw = k.input_tensors[0][2];
  }
  if (!k.input_tensors.empty()) k.cin = k.input_tensors[0].back();
  return k;
}

// A kernel of kind `i` on 4x4x8 tensors, for the per-kind length checks.
nnmeter::kernel kernel_of_kind(std::size_t i) {
  nnmeter::kernel k = make("x", {{1, 4, 4, 8}, {1, 4, 4, 8}});
  k.kind = static_cast<nnmeter::kernel_kind>(i);
  k.output_tensors = {{1, 4, 4, 8}};
  k.cout = 8;
  return k;
}

}  // namespace

TEST_CASE("visit_kind dispatches every kind to its traits") {
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const auto k = static_cast<nnmeter::kernel_kind>(i);
    std::string_view name;
    nnmeter::visit_kind(k, [&](auto c) { name = nnmeter::kernel_traits<decltype(c)::value>::name; });
    CHECK(name == nnmeter::to_string(k));
    CHECK(nnmeter::parse_kernel_kind(name) == k);
  }
}

TEST_CASE("nn-Meter features: conv and dwconv with nn-Meter's FLOP formulas") {
  auto k = make("conv-bn-relu", {{1, 7, 7, 96}});
  k.cout = 576;
  k.ks = std::array<std::int64_t, 2>{1, 1};
  k.strides = std::array<std::int64_t, 2>{2, 2};
  const auto f = nnmeter::features(k, nnmeter::feature_set::nnmeter);
  REQUIRE(f.size() == 7);
  const double params = 576.0 * (1 * 1 * 96 + 1);
  CHECK(f[0] == 7);
  CHECK(f[4] == 2);
  CHECK(f[5] == 2 * 7.0 / 2 * 7.0 / 2 * params / 2e6);  // true division: 3.5 x 3.5
  CHECK(f[6] == params / 1e6);
  k.op = "dwconv-bn";
  const auto g = nnmeter::features(k, nnmeter::feature_set::nnmeter);
  CHECK(g[6] == 576.0 * (1 + 1) / 1e6);
  k.ks.reset();  // nn-Meter would crash on the missing ks; we report no vector
  CHECK(nnmeter::features(k, nnmeter::feature_set::nnmeter).empty());
}

TEST_CASE("nn-Meter features: quirks kept") {
  // global pooling always reports inputh 1 (nn-Meter's hasattr on a dict).
  auto gap = make("gap", {{1, 7, 7, 1024}});
  const auto gf = nnmeter::features(gap, nnmeter::feature_set::nnmeter);
  CHECK(std::vector<double>(gf.begin(), gf.end()) == std::vector<double>{1, 1024});
  // concat: more than four inputs cuts the vector to six and writes 6 as the count.
  auto cat = make("concat", {{1, 8, 8, 1}, {1, 8, 8, 2}, {1, 8, 8, 3}, {1, 8, 8, 4}, {1, 8, 8, 5}});
  const auto c = nnmeter::features(cat, nnmeter::feature_set::nnmeter);
  CHECK(std::vector<double>(c.begin(), c.end()) == std::vector<double>{8, 6, 1, 2, 3, 4});
  auto cat2 = make("concat", {{1, 8, 8, 10}, {1, 8, 8, 20}});
  const auto c2 = nnmeter::features(cat2, nnmeter::feature_set::nnmeter);
  CHECK(std::vector<double>(c2.begin(), c2.end()) == std::vector<double>{8, 2, 10, 20, 0, 0});
  // se reads W and C of its last input.
  auto se = make("se", {{1, 28, 14, 40}});
  const auto s = nnmeter::features(se, nnmeter::feature_set::nnmeter);
  CHECK(std::vector<double>(s.begin(), s.end()) == std::vector<double>{14, 40});
  // "transpose" contains "se": nn-Meter computes se-style features for it.
  auto tr = make("transpose", {{1, 4, 5, 6}});
  CHECK(nnmeter::features(tr, nnmeter::feature_set::nnmeter).size() == 2);
  // add needs two rank-4 inputs.
  auto add = make("add", {{1, 28, 28, 24}, {1, 28, 28, 24}});
  CHECK(nnmeter::features(add, nnmeter::feature_set::nnmeter).size() == 3);
  auto add1 = make("add", {{1, 24}, {1, 24}});
  CHECK(nnmeter::features(add1, nnmeter::feature_set::nnmeter).empty());
  // relu on a rank-2 tensor: [N, C].
  auto relu = make("relu", {{1, 1280}});
  const auto r = nnmeter::features(relu, nnmeter::feature_set::nnmeter);
  CHECK(std::vector<double>(r.begin(), r.end()) == std::vector<double>{1, 1280});
  // Kinds nn-Meter has no predictor for have no vector.
  CHECK(nnmeter::features(make("sigmoid", {{1, 4, 4, 8}}), nnmeter::feature_set::nnmeter).empty());
}

TEST_CASE("extended features add width, dilation, groups, dtype, FLOPs and bytes") {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 48, 8}, nnmeter::dtype::i8);
  b.conv(x, 16, 3, 2, nnmeter::padding_mode::same, 2, 2);
  const nnmeter::graph g = std::move(b).build();
  const auto ks = nnmeter::detect_kernels(g);
  REQUIRE(ks.size() == 1);
  const auto f = nnmeter::features(ks[0], nnmeter::feature_set::extended);
  REQUIRE(f.size() == nnmeter::feature_count(nnmeter::kernel_kind::conv_bn_relu,
                                             nnmeter::feature_set::extended));
  CHECK(f[0] == 32);  // h
  CHECK(f[1] == 48);  // w
  CHECK(f[2] == 8);   // cin
  CHECK(f[3] == 16);  // cout
  CHECK(f[8] == 2);   // dilation
  CHECK(f[9] == 2);   // groups
  CHECK(f[10] == 1);  // bytes per element (i8)
  // 16 x 24 x 16 outputs, 3 x 3 x 4 MACs each (groups 2).
  CHECK(f[11] == doctest::Approx(2.0 * 16 * 24 * 16 * 3 * 3 * 4 / 1e6));
  CHECK(f[12] > 0);
  // Every kind's extended vector has its declared length.
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const nnmeter::kernel k = kernel_of_kind(i);
    INFO("kind " << nnmeter::to_string(k.kind));
    CHECK(nnmeter::features(k, nnmeter::feature_set::extended).size() ==
          nnmeter::feature_count(k.kind, nnmeter::feature_set::extended));
  }
}

// Lane fill: the share of the registers' lanes that a count fills.
static_assert(nnmeter::detail::lane_fill(16, 16) == 1.0);
static_assert(nnmeter::detail::lane_fill(17, 16) == 17.0 / 32.0);
static_assert(nnmeter::detail::lane_fill(20, 8) == 20.0 / 24.0);
static_assert(nnmeter::detail::lane_fill(3, 4) == 0.75);
static_assert(nnmeter::detail::lane_fill(0, 8) == 0.0);

TEST_CASE("lanes features: the extended vector, then output size and channel lane fills") {
  nnmeter::graph_builder b;
  auto x = b.input({1, 32, 48, 8});
  auto c = b.conv(x, 20, 3, 2, nnmeter::padding_mode::same);  // -> 16 x 24 x 20
  auto p = b.maxpool(c, 2, 2);                                 // -> 8 x 12 x 20
  b.fc(b.global_avgpool(p), 1000);
  const nnmeter::graph g = std::move(b).build();
  const auto ks = nnmeter::detect_kernels(g);
  std::vector<double> conv, conv_ext, pool, fc;
  for (const nnmeter::kernel& k : ks) {
    const auto l = nnmeter::features(k, nnmeter::feature_set::lanes);
    INFO("kernel " << k.op);
    CHECK(l.size() == nnmeter::feature_count(k.kind, nnmeter::feature_set::lanes));
    if (k.kind == nnmeter::kernel_kind::conv_bn_relu) {
      conv.assign(l.begin(), l.end());
      const auto e = nnmeter::features(k, nnmeter::feature_set::extended);
      conv_ext.assign(e.begin(), e.end());
    }
    if (k.kind == nnmeter::kernel_kind::maxpool) pool.assign(l.begin(), l.end());
    if (k.kind == nnmeter::kernel_kind::fc) fc.assign(l.begin(), l.end());
  }
  REQUIRE(conv.size() == 18);
  REQUIRE(conv_ext.size() == 13);
  CHECK(std::vector<double>(conv.begin(), conv.begin() + 13) == conv_ext);
  CHECK(conv[13] == 16);  // output height
  CHECK(conv[14] == 24);  // output width
  CHECK(conv[15] == 1.0);            // 20 channels: 5 registers of 4
  CHECK(conv[16] == 20.0 / 24.0);    // 3 registers of 8
  CHECK(conv[17] == 20.0 / 32.0);    // 2 registers of 16
  REQUIRE(pool.size() == 15);
  CHECK(pool[10] == 8);
  CHECK(pool[11] == 12);
  CHECK(pool[14] == 20.0 / 32.0);
  REQUIRE(fc.size() == 9);
  CHECK(fc[6] == 1.0);
  CHECK(fc[7] == 1.0);
  CHECK(fc[8] == 1000.0 / 1008.0);
  // Kinds without lane features keep their extended vector; every kind has its declared length.
  for (std::size_t i = 0; i < nnmeter::kernel_kind_count; ++i) {
    const nnmeter::kernel k = kernel_of_kind(i);
    INFO("kind " << nnmeter::to_string(k.kind));
    const auto l = nnmeter::features(k, nnmeter::feature_set::lanes);
    const auto e = nnmeter::features(k, nnmeter::feature_set::extended);
    CHECK(l.size() == nnmeter::feature_count(k.kind, nnmeter::feature_set::lanes));
    CHECK(l.size() == e.size() + nnmeter::lanes_extra_feature_count(k.kind));
    CHECK(std::vector<double>(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(e.size())) ==
          std::vector<double>(e.begin(), e.end()));
  }
  nnmeter::feature_set s{};
  CHECK(nnmeter::parse_feature_set("lanes", s));
  CHECK(s == nnmeter::feature_set::lanes);
  CHECK(nnmeter::to_string(s) == "lanes");
  CHECK_FALSE(nnmeter::parse_feature_set("Lanes", s));
}
