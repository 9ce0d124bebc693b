// Consumer smoke test: the package is usable, and it is the version the build expects.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#ifdef NNMETER_CONSUMER_ONNX
#include <nnmeter/io/onnx.hpp>
#endif

#include <iostream>
#include <sstream>

int main() {
  std::ostringstream version;
  version << nnmeter::version_string;
  std::cout << "nnmeter " << version.str() << '\n';
#ifdef NNMETER_EXPECTED_VERSION
  if (version.str() != NNMETER_EXPECTED_VERSION) {
    std::cerr << "expected version " << NNMETER_EXPECTED_VERSION << '\n';
    return 1;
  }
#endif
#ifdef NNMETER_CONSUMER_ONNX
  // Round trip through the ONNX module: a graph written as ONNX bytes imports as the same graph.
  nnmeter::graph_builder b;
  auto x = b.input({1, 16, 16, 3});
  b.relu(b.conv(x, 8, 3, 1));
  const nnmeter::graph g = std::move(b).build();
  const std::string bytes = nnmeter::io::to_onnx_bytes(g);
  const nnmeter::io::onnx_import_result r =
      nnmeter::io::import_onnx_from_memory(bytes.data(), bytes.size());
  std::cout << "onnx round trip: " << r.graph.num_nodes() << " nodes\n";
  if (r.graph.num_nodes() != g.num_nodes()) return 1;
#endif
  return 0;
}
