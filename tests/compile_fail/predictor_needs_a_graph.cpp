// predictor::predict(g) accepts only types that model nnmeter::op_graph.
// EXPECT-ERROR: op_graph
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

int main() {
  const nnmeter::predictor p;
#ifdef NNMETER_SHOULD_FAIL
  const double not_a_graph = 1.0;
  return static_cast<int>(p.predict(not_a_graph).latency_ms);
#else
  const nnmeter::graph g;
  return static_cast<int>(p.predict(g).latency_ms);
#endif
}
