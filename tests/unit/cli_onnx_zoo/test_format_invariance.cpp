// Format invariance: a zoo model written as ONNX (by nnmeter's writer) and as nn-Meter IR JSON
// imports to the same kernels — kinds, fused types, feature vectors of every set, FLOPs and
// bytes — for every family, so that a prediction does not depend on the file format.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>
#include <nnmeter/io/onnx_import.hpp>
#include <nnmeter/io/onnx_write.hpp>

#include "model_zoo/zoo.hpp"

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace zoo = nnmeter::zoo;
namespace io = nnmeter::io;

std::string vector_text(const nnmeter::feature_vector& f) {
  std::ostringstream s;
  s.precision(17);
  s << "[";
  for (std::size_t i = 0; i < f.size(); ++i) s << (i ? ", " : "") << f[i];
  s << "]";
  return s.str();
}

// Every difference between two kernel lists that a predictor could see, one line each.
std::vector<std::string> differences(const std::vector<nnmeter::kernel>& a,
                                     const std::vector<nnmeter::kernel>& b) {
  std::vector<std::string> out;
  if (a.size() != b.size())
    out.push_back("kernel counts " + std::to_string(a.size()) + " vs " + std::to_string(b.size()));
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const nnmeter::kernel& x = a[i];
    const nnmeter::kernel& y = b[i];
    const std::string at = "kernel #" + std::to_string(i) + " (" + x.name + " / " + y.name + "): ";
    if (x.op != y.op || x.kind != y.kind) {
      out.push_back(at + "type " + x.op + " vs " + y.op);
      continue;
    }
    if (!(x.flops == y.flops))
      out.push_back(at + "flops " + std::to_string(x.flops) + " vs " + std::to_string(y.flops));
    if (!(x.bytes == y.bytes))
      out.push_back(at + "bytes " + std::to_string(x.bytes) + " vs " + std::to_string(y.bytes));
    for (nnmeter::feature_set fs : {nnmeter::feature_set::nnmeter, nnmeter::feature_set::extended,
                                    nnmeter::feature_set::lanes}) {
      const nnmeter::feature_vector fx = nnmeter::features(x, fs);
      const nnmeter::feature_vector fy = nnmeter::features(y, fs);
      bool same = fx.size() == fy.size();
      for (std::size_t j = 0; same && j < fx.size(); ++j) same = fx[j] == fy[j];
      if (!same)
        out.push_back(at + std::string(nnmeter::to_string(fs)) + " features " + vector_text(fx) +
                      " vs " + vector_text(fy));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("format invariance: every zoo family gives the same kernels from ONNX and from IR JSON") {
  for (zoo::family f : zoo::families()) {
    const zoo::zoo_model m = zoo::generate(f, 1, 0);
    CAPTURE(m.name);
    const nnmeter::graph from_ir = io::read_nnmeter_ir(io::write_nnmeter_ir(m.graph), m.name);
    const std::vector<nnmeter::kernel> want =
        nnmeter::detect(from_ir, nnmeter::default_rules()).kernels;
    REQUIRE(want.size() > 3);
    for (std::int64_t opset : {11, 13}) {
      CAPTURE(opset);
      io::onnx_write_options o;
      o.opset = opset;
      o.with_weights = false;
      o.graph_name = m.name;
      const std::string bytes = io::to_onnx_bytes(m.graph, o);
      const io::onnx_import_result r =
          io::import_onnx_from_memory(bytes.data(), bytes.size(), {}, m.name + ".onnx");
      const std::vector<nnmeter::kernel> got =
          nnmeter::detect(r.graph, nnmeter::default_rules()).kernels;
      const std::vector<std::string> diff = differences(got, want);
      std::string text;
      for (std::size_t i = 0; i < diff.size() && i < 8; ++i) text += "\n  " + diff[i];
      INFO("ONNX vs IR JSON:" << text);
      CHECK(diff.empty());
    }
  }
}
