// nnmeter backends — the `xnnpack` backend (backend_adapter.hpp).
// SPDX-License-Identifier: MIT
#include "xnnpack/backend_adapter.hpp"

#include "xnnpack/executor.hpp"

#include <nnmeter/ir/graph_builder.hpp>

#include <optional>
#include <string>
#include <utility>

namespace nnmeter::backends {

namespace {

class xnnpack_model final : public prepared_model {
 public:
  xnnpack_model(const nnmeter::graph& g, const xnnpack::executor_options& o) : ex_(g, o) {}
  void invoke() override { ex_.invoke(); }

 private:
  xnnpack::executor ex_;
};

class xnnpack_backend final : public backend {
 public:
  xnnpack_backend() : device_(host_cpu_description()) {}

  std::string name() const override { return "xnnpack"; }
  std::string device() const override { return device_; }
  std::string runtime() const override {
#ifdef NNMETER_XNNPACK_VERSION
    const std::string version = NNMETER_XNNPACK_VERSION;
#else
    const std::string version = "unknown";
#endif
    return "XNNPACK " + version + " (nnmeter's executor), 1 thread";
  }

  // What this snapshot's XNNPACK and the executor do (docs/xnnpack-backend.md,
  // ../shared/reference/dependency-facts.md §1 (d)): xnn_subgraph_optimize fuses a clamp
  // (relu, relu6, clip) into its single producer when that is an add, average or max pooling,
  // clamp, convolution, depthwise convolution, deconvolution, fully connected, multiply,
  // divide or subtract; the executor folds batch norm into a conv, dwconv or fc before that.
  // Nothing else runs fused.
  std::optional<bool> declared_fusion(const std::string& producer,
                                      const std::string& consumer) const override {
    static const char* const clamp_producers[] = {"add",       "avgpool", "conv", "dwconv",
                                                  "convtrans", "fc",      "maxpool", "mul",
                                                  "div",       "sub",     "relu"};
    static const char* const bn_producers[] = {"conv", "dwconv", "fc"};
    auto in = [](const std::string& s, const auto& list) {
      for (const char* x : list)
        if (s == x) return true;
      return false;
    };
    if (consumer == "relu") return in(producer, clamp_producers);
    if (consumer == "bn") return in(producer, bn_producers);
    return false;
  }

  std::unique_ptr<prepared_model> prepare(const nnmeter::graph& g,
                                          const measurement_protocol& p) override {
    validate(p);
    if (p.threads != 1)
      throw backend_error("backend 'xnnpack' runs one thread only (the protocol asks for " +
                          std::to_string(p.threads) +
                          "); on this shared machine more threads are also far noisier "
                          "(docs/measurement.md)");
    xnnpack::executor_options o;
    o.seed = p.seed;
    return std::make_unique<xnnpack_model>(g, o);
  }

  std::unique_ptr<prepared_model> prepare_reference(const measurement_protocol& p) override {
    return prepare(xnnpack_reference_graph(), p);
  }

 private:
  std::string device_;
};

}  // namespace

std::unique_ptr<backend> make_xnnpack_backend() { return std::make_unique<xnnpack_backend>(); }

nnmeter::graph xnnpack_reference_graph() {
  nnmeter::graph_builder b;
  const nnmeter::tensor_ref x = b.input({1, 56, 56, 64}, nnmeter::dtype::f32, "reference_input");
  b.conv(x, 64, 3, 1, nnmeter::padding_mode::same, 1, 1, true, "reference_conv3x3");
  return std::move(b).build();
}

}  // namespace nnmeter::backends
