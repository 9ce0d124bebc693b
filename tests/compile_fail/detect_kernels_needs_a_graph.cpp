// detect_kernels accepts only types that model nnmeter::op_graph; anything else must fail to
// compile with a message that names the concept (C++17: our static_assert; C++20: the
// constraint).
// EXPECT-ERROR: op_graph
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <vector>

struct not_a_graph {
  std::vector<int> layers;
};

int main() {
#ifdef NNMETER_SHOULD_FAIL
  const not_a_graph g;
  return static_cast<int>(nnmeter::detect_kernels(g).size());
#else
  const nnmeter::graph g;
  return static_cast<int>(nnmeter::detect_kernels(g).size());
#endif
}
