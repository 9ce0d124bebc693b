// Test support for the xnnpack backend tests: run a graph through the executor and the
// reference evaluator and compare every output.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/ir/graph_builder.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "reference.hpp"

namespace nnmeter_test {

inline std::string shape_str(const tensor_shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.rank(); ++i)
    t += (i ? ", " : "") + std::to_string(s[static_cast<std::ptrdiff_t>(i)]);
  return t + "]";
}

// Executes `g` and checks every output against the reference (rtol, plus atol_scale * max|ref|).
inline void check_against_reference(const nnmeter::graph& g, const xnn::executor_options& opts = {},
                                    double rtol = 1e-4, double atol_scale = 1e-5) {
  xnn::executor ex(g, opts);
  ex.invoke();
  reference ref(g, ex);
  const std::vector<ref_tensor> want = ref.run();
  REQUIRE(want.size() == ex.num_outputs());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("output " << i << " of node '" << ex.output_name(i) << "' " << shape_str(want[i].shape));
    REQUIRE(ex.output_shape(i) == want[i].shape);
    REQUIRE(ex.output_size(i) == want[i].v.size());
    const compare_result r = compare(ex.output(i), want[i].v, rtol, atol_scale);
    INFO("worst at " << r.worst_index << ": got " << r.got << ", want " << r.want
                     << " (ratio to tolerance " << r.worst_ratio << ")");
    CHECK(r.finite);
    CHECK(r.worst_ratio <= 1.0);
  }
}

// Adds a node by hand (for kinds graph_builder has no method for).
inline nnmeter::tensor_ref add_raw(nnmeter::graph& g, std::string name, op_kind op,
                                   std::vector<nnmeter::tensor_ref> ins, tensor_shape out,
                                   attributes a = {}) {
  nnmeter::node n;
  n.name = std::move(name);
  n.op = op;
  n.type = std::string(nnmeter::to_string(op));
  for (const nnmeter::tensor_ref& r : ins)
    n.input_shapes.push_back(g[r.node].output_shapes[r.output]);
  n.inputs = std::move(ins);
  n.output_shapes = {out};
  n.attrs = std::move(a);
  return nnmeter::tensor_ref{g.add_node(std::move(n)), 0};
}

// True when every output of the executor is finite.
inline bool outputs_finite(const xnn::executor& ex) {
  for (std::size_t i = 0; i < ex.num_outputs(); ++i)
    for (std::size_t k = 0; k < ex.output_size(i); ++k)
      if (!std::isfinite(ex.output(i)[k])) return false;
  return true;
}

}  // namespace nnmeter_test
