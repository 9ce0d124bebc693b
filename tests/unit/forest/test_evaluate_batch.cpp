// evaluate_batch gives, row for row, exactly evaluate's result.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

// Random trees of varying depth (right child = left + 1), some leaves-only.
nnmeter::forest random_forest(std::size_t trees, std::uint32_t nf, std::mt19937& rng) {
  nnmeter::forest f;
  f.num_features = nf;
  f.base_score = 0.375f;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> depth(0, 6);
  std::uniform_int_distribution<std::uint32_t> feat(0, nf - 1);
  for (std::size_t t = 0; t < trees; ++t) {
    const auto root = static_cast<std::int32_t>(f.left.size());
    f.tree_roots.push_back(static_cast<std::uint32_t>(root));
    const int d = depth(rng);
    const int internal = (1 << d) - 1;
    const int total = (1 << (d + 1)) - 1;
    for (int i = 0; i < total; ++i) {
      const bool leaf = i >= internal;
      f.left.push_back(leaf ? -1 : root + 2 * i + 1);
      f.feature.push_back(leaf ? 0 : feat(rng));
      f.split_value.push_back(u(rng));
      f.default_left.push_back(static_cast<std::uint8_t>(rng() & 1u));
    }
  }
  f.validate();
  return f;
}

}  // namespace

TEST_CASE("evaluate_batch equals evaluate bit for bit, NaN rows included") {
  std::mt19937 rng(7);
  for (std::size_t trees : {1u, 7u, 8u, 37u, 300u}) {
    const nnmeter::forest f = random_forest(trees, 5, rng);
    const std::size_t rows = 150;  // more than one block of 64
    const std::size_t stride = 6;  // wider than num_features
    std::vector<float> x(rows * stride);
    std::uniform_real_distribution<float> u(-1.2f, 1.2f);
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = (rng() % 13 == 0) ? std::numeric_limits<float>::quiet_NaN() : u(rng);
    std::vector<float> out(rows);
    nnmeter::evaluate_batch(f.view(), x.data(), rows, stride, out.data());
    for (std::size_t r = 0; r < rows; ++r) {
      const float one = nnmeter::evaluate(f.view(), x.data() + r * stride);
      INFO("trees " << trees << " row " << r);
      CHECK(std::memcmp(&one, &out[r], sizeof(float)) == 0);
    }
  }
}

TEST_CASE("the depth-bounded batch walk equals evaluate bit for bit") {
  std::mt19937 rng(21);
  for (std::size_t trees : {8u, 9u, 64u, 301u}) {
    const nnmeter::forest f = random_forest(trees, 4, rng);
    const std::vector<std::uint32_t> depths = nnmeter::detail::forest_group_depths(f.view());
    REQUIRE(depths.size() == trees / 8);
    const std::size_t rows = 70;
    std::vector<float> x(rows * 4);
    std::uniform_real_distribution<float> u(-1.2f, 1.2f);
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = (rng() % 11 == 0) ? std::numeric_limits<float>::quiet_NaN() : u(rng);
    std::vector<float> out(rows);
    nnmeter::detail::evaluate_batch_bounded(f.view(), depths.data(), x.data(), rows, 4, out.data());
    for (std::size_t r = 0; r < rows; ++r) {
      const float one = nnmeter::evaluate(f.view(), x.data() + r * 4);
      INFO("trees " << trees << " row " << r);
      CHECK(std::memcmp(&one, &out[r], sizeof(float)) == 0);
    }
  }
}

TEST_CASE("forest_group_depths gives each group of 8 trees its deepest path") {
  std::mt19937 rng(3);
  const nnmeter::forest f = random_forest(20, 3, rng);  // complete trees of depth 0..6
  const std::vector<std::uint32_t> depths = nnmeter::detail::forest_group_depths(f.view());
  REQUIRE(depths.size() == 2);
  for (std::size_t g = 0; g < 2; ++g) {
    std::uint32_t expect = 0;
    for (std::size_t t = 8 * g; t < 8 * g + 8; ++t) {
      // a complete tree of n nodes has depth log2(n + 1) - 1
      std::size_t n = f.view().tree_end(t) - f.view().tree_begin(t) + 1;
      std::uint32_t d = 0;
      while (n > 2) {
        n /= 2;
        ++d;
      }
      expect = d > expect ? d : expect;
    }
    CHECK(depths[g] == expect);
  }
}
