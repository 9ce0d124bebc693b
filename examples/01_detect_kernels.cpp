// Example 01: build a network in code, detect the kernels a TFLite CPU runs it as (nn-Meter's
// fusion rules), and print each kernel with nn-Meter's feature vector.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <cstdio>
#include <string>

int main() {
  nnmeter::graph_builder b;
  auto x = b.input({1, 224, 224, 3});
  x = b.conv_bn_relu(x, 32, 3, 2);                      // stem: one conv-bn-relu kernel
  x = b.relu6(b.bn(b.dwconv(x, 3)));                    // depthwise block
  x = b.bn(b.conv(x, 64, 1));                           // pointwise projection
  x = b.se(x);                                          // squeeze-and-excitation: one kernel
  x = b.fc(b.reshape(b.global_avgpool(x), {1, 64}), 1000);
  const nnmeter::graph g = std::move(b).build();

  for (const nnmeter::kernel& k : nnmeter::detect_kernels(g, nnmeter::default_rules())) {
    std::printf("%-18s %-15s", k.name.c_str(), std::string(nnmeter::to_string(k.kind)).c_str());
    for (double f : nnmeter::features(k, nnmeter::feature_set::nnmeter)) std::printf(" %g", f);
    std::printf("\n");
  }
}
