// Example 03: a predictor embedded in the program. `nnmeter codegen` turned a predictor package
// into 03_embedded_predictor/synthetic_cpu.hpp, constexpr tables of its fusion rules, forests,
// feature set and manifest. The program predicts a network it builds in code without reading any
// file, and a static_assert predicts a kernel's latency while the program compiles.
//
// The package (03_embedded_predictor/synthetic_cpu/) was trained on synthetic latencies, not on a
// measured device (docs/codegen.md says how); the header is regenerated with
//   nnmeter codegen --package examples/03_embedded_predictor/synthetic_cpu
//       --namespace example_cpu --out examples/03_embedded_predictor/synthetic_cpu.hpp
// and ctest checks it is up to date (example.03_embedded_predictor.header_up_to_date).
// SPDX-License-Identifier: MIT
#include <cstdio>
#include <string>

#include "03_embedded_predictor/synthetic_cpu.hpp"

namespace {

using nnmeter::kernel_kind;

// The stem of the network below, a 3x3 stride-2 convolution 224x224x3 -> 112x112x16 with batch
// norm and hardswish (one conv-bn-relu kernel under these fusion rules), as the predictor's
// feature set describes it (nnmeter::features, the extended set): input height, width and
// channels, output channels, kernel, strides, dilation, groups, bytes per element, MFLOPs, MB
// moved. Its work (kernel::flops, kernel::bytes) is read when a kind's forest predicts per MFLOP
// or per MB moved (package format 2); this predictor's forests predict milliseconds.
constexpr nnmeter::feature_vector stem{
    224, 224, 3, 16, 3, 3, 2, 2, 1, 1, 4, 12.04224, 1.4068480000000001};
constexpr double stem_flops = 12042240, stem_bytes = 1406848;
// The same convolution with twice the output channels.
constexpr nnmeter::feature_vector wide_stem{
    224, 224, 3, 32, 3, 3, 2, 2, 1, 1, 4, 24.084479999999999, 2.2115840000000002};

// Evaluated by the compiler: the embedded forests are constexpr.
constexpr double stem_ms =
    *example_cpu::kernel_latency_ms(kernel_kind::conv_bn_relu, stem, stem_flops, stem_bytes);
static_assert(stem_ms > 0.0, "a convolution takes time");
static_assert(*example_cpu::kernel_latency_ms(kernel_kind::conv_bn_relu, wide_stem, 24084480,
                                              2211584) > stem_ms,
              "twice the output channels take longer");

}  // namespace

int main() {
  // The predictor: views of the header's tables, nothing loaded.
  const nnmeter::predictor p = example_cpu::make_predictor();
  std::printf("predictor %s %s (%s), %zu kernel models, golden cases: %s\n", p.info().name.c_str(),
              p.info().version.c_str(), p.info().device.c_str(),
              sizeof example_cpu::kernel_kinds / sizeof example_cpu::kernel_kinds[0],
              p.verify().ok() ? "ok" : "FAILED");

  // A MobileNetV3-like network, built in code.
  nnmeter::graph_builder b;
  auto x = b.input({1, 224, 224, 3});
  x = b.hswish(b.bn(b.conv(x, 16, 3, 2)));  // stem
  auto y = b.relu(b.bn(b.dwconv(x, 3)));    // bottleneck: depthwise, squeeze-excite, project
  y = b.bn(b.conv(b.se(y), 16, 1));
  x = b.add(x, y);
  x = b.relu(b.bn(b.conv(x, 72, 1)));  // expand, depthwise stride 2, project
  x = b.relu(b.bn(b.dwconv(x, 3, 2)));
  x = b.bn(b.conv(x, 24, 1));
  x = b.hswish(b.bn(b.conv(x, 576, 1)));
  x = b.fc(b.reshape(b.global_avgpool(x), {1, 576}), 1000);
  const nnmeter::graph g = std::move(b).build();

  const nnmeter::prediction r = p.predict(g);
  for (std::size_t i = 0; i < r.kernels.size(); ++i) {
    const nnmeter::kernel& k = r.detected.kernels[i];
    std::printf("%-20s %-15s %.4f ms\n", k.name.c_str(),
                std::string(nnmeter::to_string(k.kind)).c_str(), r.kernels[i].latency_ms);
  }
  std::printf("total %.4f ms, %zu kernels, %zu without a model\n", r.latency_ms, r.kernels.size(),
              r.unpredicted);

  // The static_assert's vector is the stem kernel's, and the compiler's latency is the program's.
  const nnmeter::kernel& first = r.detected.kernels.front();
  const nnmeter::feature_vector f = nnmeter::features(first, example_cpu::manifest.features);
  bool same = f.size() == stem.size() && first.flops == stem_flops && first.bytes == stem_bytes;
  for (std::size_t i = 0; same && i < f.size(); ++i) same = f[i] == stem[i];
  std::printf(
      "stem: features as in the static_assert: %s; compile time %.4f ms, run time %.4f ms: %s\n",
      same ? "yes" : "no", stem_ms, r.kernels.front().latency_ms,
      stem_ms == r.kernels.front().latency_ms ? "equal" : "DIFFERENT");
  return same && stem_ms == r.kernels.front().latency_ms && r.complete() ? 0 : 1;
}
