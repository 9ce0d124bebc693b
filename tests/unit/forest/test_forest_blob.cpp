// forest_to_blob / forest_from_blob: the text form of a forest's tables that generated headers
// use for forests too large for constexpr arrays.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/random_forest.hpp"

namespace {

// The blob cut into chunks of `chunk` characters (a multiple of 4), as a generated header does.
struct chunked {
  std::vector<std::string> parts;
  std::vector<const char*> ptrs;
  chunked(const std::string& text, std::size_t chunk) {
    for (std::size_t i = 0; i < text.size(); i += chunk) parts.push_back(text.substr(i, chunk));
    for (const std::string& p : parts) ptrs.push_back(p.c_str());
  }
};

nnmeter::forest decode(const std::string& text, const nnmeter::forest& like,
                       std::size_t chunk = 64) {
  const chunked c(text, chunk);
  return nnmeter::forest_from_blob(c.ptrs.data(), c.ptrs.size(), like.num_nodes(), like.num_trees(),
                                   like.num_features, like.base_score, "test blob");
}

bool same_bits(const nnmeter::forest& a, const nnmeter::forest& b) {
  return a.left == b.left && a.feature == b.feature && a.default_left == b.default_left &&
         a.tree_roots == b.tree_roots && a.split_value.size() == b.split_value.size() &&
         std::memcmp(a.split_value.data(), b.split_value.data(),
                     a.split_value.size() * sizeof(float)) == 0 &&
         a.num_features == b.num_features;
}

std::string error_of(const std::string& text, const nnmeter::forest& like) {
  try {
    (void)decode(text, like);
  } catch (const nnmeter::parse_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("forest blob: round trip, bit for bit, whatever the chunking") {
  std::mt19937 rng(5);
  const std::size_t tree_counts[] = {1, 3, 17, 100};
  for (std::size_t trees : tree_counts) {
    nnmeter::forest f = nnmeter_test::random_forest(rng, trees, 6, 7);
    // Leaf values the text must keep exactly: negative zero, a denormal (the last node is a
    // leaf: children come after their parents).
    for (std::size_t n = 0; n < f.num_nodes(); ++n)
      if (f.left[n] < 0) {
        f.split_value[n] = -0.0f;
        break;
      }
    f.split_value.back() = std::numeric_limits<float>::denorm_min();
    const std::string text = nnmeter::forest_to_blob(f.view());
    CHECK(text.size() % 4 == 0);
    CHECK(text.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
          std::string::npos);
    const std::size_t chunk_sizes[] = {4, 64, 1000000};
    for (std::size_t chunk : chunk_sizes) {
      const nnmeter::forest back = decode(text, f, chunk);
      CHECK(same_bits(back, f));
      const std::vector<float> x = {0.1f, 0.5f, 0.9f, 0.3f, 0.7f, 0.2f};
      CHECK(nnmeter::evaluate(back.view(), x.data()) == nnmeter::evaluate(f.view(), x.data()));
    }
  }
}

TEST_CASE("forest blob: every padding length decodes") {
  // 13 bytes per node + 4 per tree: 1, 2 and 3 nodes in one tree leave each remainder mod 3.
  for (std::size_t leaves = 0; leaves < 3; ++leaves) {
    nnmeter::forest f;
    f.num_features = 1;
    f.tree_roots = {0};
    f.left = {-1};
    f.feature = {0};
    f.split_value = {1.5f};
    f.default_left = {0};
    if (leaves > 0) {  // a stump, then deeper: 1, 3, 5 nodes
      f.left = {1, -1, -1};
      f.feature = {0, 0, 0};
      f.split_value = {0.5f, 1.0f, 2.0f};
      f.default_left = {1, 0, 0};
    }
    if (leaves > 1) {
      f.left = {1, -1, 3, -1, -1};
      f.feature = {0, 0, 0, 0, 0};
      f.split_value = {0.5f, 1.0f, 0.75f, 2.0f, 3.0f};
      f.default_left = {1, 0, 0, 0, 0};
    }
    const std::string text = nnmeter::forest_to_blob(f.view());
    CHECK(same_bits(decode(text, f), f));
  }
}

TEST_CASE("forest blob: damaged text is an error naming the blob") {
  std::mt19937 rng(9);
  const nnmeter::forest f = nnmeter_test::random_forest(rng, 4, 3, 4);
  const std::string text = nnmeter::forest_to_blob(f.view());

  std::string bad = text;
  bad[10] = '*';
  CHECK(error_of(bad, f) == "test blob: character 10 is not base64 (or follows the '=' padding)");
  CHECK(error_of(text.substr(0, text.size() - 1), f) ==
        "test blob: the text ends inside a group of 4 characters");
  const std::string err = error_of(text.substr(0, text.size() - 4), f);
  CHECK(err.find("test blob: ") == 0);
  CHECK(err.find("bytes, the tables of " + std::to_string(f.num_nodes()) +
                 " nodes and 4 trees take") != std::string::npos);
  // Text after the end: after '=' padding it is misplaced text, else too many bytes.
  const std::string more = error_of(text + "AAAA", f);
  CHECK(more.find(text.back() == '=' ? "follows the '=' padding" : "the tables of") !=
        std::string::npos);

  // Text of the right length whose tables break the layout: validated like a loaded forest.
  nnmeter::forest broken = f;
  broken.left[0] = 0;  // the root is its own child
  const std::string err2 = error_of(nnmeter::forest_to_blob(broken.view()), f);
  CHECK(err2.find("test blob: invalid forest: tree 0, node 0") == 0);
}
