// Real models: torchvision exports (tools/model_zoo/export_torchvision.py, random weights) at
// opsets 11-13 import with every node accounted for, and kernel detection with nn-Meter's CPU
// rules finds the same kernels as the same networks built with graph_builder.
//
// The model folder comes from the environment variable NNMETER_ONNX_MODELS, which ctest sets
// (tests/onnx_models/CMakeLists.txt: the fixture onnx_models.export fills it first). Without the
// variable (the executable run by hand) the cases are skipped with a message; with it, a missing
// file is a failure.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>
#include <nnmeter/io/onnx_write.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "unit/io_onnx_models/torchvision_builders.hpp"
#include "unit/io_onnx_write/onnx_test_support.hpp"

namespace {

namespace io = nnmeter::io;
using nnmeter_test::graph_differences;

const char* models_dir() {
  const char* d = std::getenv("NNMETER_ONNX_MODELS");
  return d != nullptr && *d != '\0' ? d : nullptr;
}

bool file_exists(const std::string& p) { return std::ifstream(p, std::ios::binary).good(); }

std::string model_path(const std::string& model, int opset) {
  return std::string(models_dir()) + "/" + model + "_op" + std::to_string(opset) + ".onnx";
}

// Opsets exported by the ctest fixture: every model at 11, 12 and 13.
std::vector<int> fixture_opsets(const std::string&) { return {11, 12, 13}; }

struct loaded {
  io::onnx_import_result result;
  std::size_t conv_nodes_in_file = 0;
  std::size_t slice_nodes_in_file = 0;
};

loaded load(const std::string& model, int opset) {
  const std::string path = model_path(model, opset);
  INFO("model file " << path);
  if (!file_exists(path))
    FAIL("missing: run tools/model_zoo/export_torchvision.py --out " << models_dir()
                                                                     << " (the ctest fixture "
                                                                        "onnx_models.export does)");
  // Bytes first, then ParseFromString: onnx::LoadProtoFromPath takes 5.5 s for resnet18's
  // 47 MB here (unbuffered stream), ParseFromString a few milliseconds.
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  std::string bytes(static_cast<std::size_t>(f.tellg()), '\0');
  f.seekg(0);
  f.read(&bytes[0], static_cast<std::streamsize>(bytes.size()));
  onnx::ModelProto m;
  REQUIRE_MESSAGE(m.ParseFromString(bytes), "cannot parse " << path);
  loaded l;
  for (const auto& n : m.graph().node()) {
    l.conv_nodes_in_file += n.op_type() == "Conv";
    l.slice_nodes_in_file += n.op_type() == "Slice";
  }
  l.result = io::import_onnx(m, {}, path);
  return l;
}

void check_accounting(const io::onnx_import_result& r) {
  const io::onnx_accounting& a = r.accounting;
  CHECK(a.nodes_in_file == a.imported + a.folded + a.aliased + a.constants);
  CHECK(a.other_nodes.size() == a.other);
  CHECK(a.other <= a.imported);
  // Every imported ONNX node is one graph node; graph inputs and constant operands add theirs.
  std::size_t from_file = 0;
  for (const nnmeter::node& n : r.graph.nodes())
    from_file += n.op != nnmeter::op_kind::input && n.op != nnmeter::op_kind::constant;
  CHECK(from_file == a.imported);
  CHECK_NOTHROW(r.graph.validate());
}

// Every node lies in exactly one kernel or is a free (dummy) node.
void check_detection_covers(const nnmeter::graph& g, const nnmeter::detection& d) {
  std::vector<int> seen(g.num_nodes(), 0);
  for (const nnmeter::kernel& k : d.kernels)
    for (nnmeter::node_index i : k.nodes) ++seen.at(i);
  for (nnmeter::node_index i : d.free_nodes) ++seen.at(i);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i] != 1) {
      if (bad++ < 5)
        MESSAGE("node '" << g[static_cast<nnmeter::node_index>(i)].name << "' is in " << seen[i]
                         << " kernels/free lists");
    }
  }
  CHECK(bad == 0);
}

void check_classifier(const std::string& model, std::int64_t classes = 1000) {
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: skipped (ctest sets it after exporting the models)");
    return;
  }
  nnmeter::graph first;
  int first_opset = 0;
  for (int opset : fixture_opsets(model)) {
    CAPTURE(model);
    CAPTURE(opset);
    const loaded l = load(model, opset);
    const io::onnx_import_result& r = l.result;
    check_accounting(r);
    CHECK(r.accounting.other == 0);
    CHECK(r.accounting.data_dependent_nodes.empty());
    for (const std::string& s : r.accounting.other_nodes) MESSAGE("other node: " << s);
    CHECK(r.info.opset == opset);
    CHECK(r.info.producer_name == "pytorch");
    std::size_t convs = 0;
    for (const nnmeter::node& n : r.graph.nodes())
      convs += n.op == nnmeter::op_kind::conv || n.op == nnmeter::op_kind::dwconv;
    CHECK(convs == l.conv_nodes_in_file);
    // One graph input [1, 224, 224, 3] (NHWC), one result [1, classes].
    std::size_t inputs = 0;
    for (const nnmeter::node& n : r.graph.nodes()) {
      if (n.op != nnmeter::op_kind::input) continue;
      ++inputs;
      CHECK(n.output_shapes.at(0) == nnmeter::tensor_shape{1, 224, 224, 3});
    }
    CHECK(inputs == 1);
    std::size_t sinks = 0;
    for (nnmeter::node_index i = 0; i < r.graph.num_nodes(); ++i) {
      if (!r.graph.successors(i).empty() || r.graph[i].op == nnmeter::op_kind::constant) continue;
      ++sinks;
      CHECK(r.graph[i].output_shapes.at(0) == nnmeter::tensor_shape{1, classes});
    }
    CHECK(sinks == 1);
    const nnmeter::detection d = nnmeter::detect(r.graph, nnmeter::default_rules());
    check_detection_covers(r.graph, d);
    for (const nnmeter::kernel& k : d.kernels) {
      CAPTURE(k.name);
      CHECK(k.kind != nnmeter::kernel_kind::other);
    }
    // The imported graph written back by nnmeter's writer (structure only) and imported
    // again is the same graph.
    if (opset == 13) {
      io::onnx_write_options o;
      o.with_weights = false;
      const onnx::ModelProto w = io::to_onnx_model(r.graph, o);
      const io::onnx_import_result again = io::import_onnx(w, {}, model + " (rewritten)");
      const std::string diff = graph_differences(r.graph, again.graph);
      INFO("import -> writer -> import");
      CHECK_MESSAGE(diff.empty(), diff);
      CHECK(again.accounting.other == 0);
    }
    // torch writes the same graph at every opset from 11 on (only operator forms differ).
    if (first_opset == 0) {
      first = r.graph;
      first_opset = opset;
    } else {
      INFO("opset " << first_opset << " vs " << opset);
      const std::string diff = graph_differences(first, r.graph);
      CHECK_MESSAGE(diff.empty(), diff);
    }
  }
}

// The kernels with their nnmeter feature vectors, in detection order.
struct kernel_row {
  std::string op;
  std::vector<double> f;
  bool operator<(const kernel_row& o) const { return op != o.op ? op < o.op : f < o.f; }
  bool operator==(const kernel_row& o) const { return op == o.op && f == o.f; }
};
std::vector<kernel_row> kernel_rows(const nnmeter::graph& g) {
  std::vector<kernel_row> rows;
  for (const nnmeter::kernel& k : nnmeter::detect(g, nnmeter::default_rules()).kernels) {
    const nnmeter::feature_vector v = nnmeter::features(k, nnmeter::feature_set::nnmeter);
    rows.push_back({k.op, std::vector<double>(v.begin(), v.end())});
  }
  return rows;
}
std::string text(const kernel_row& r) {
  std::string s = r.op + " [";
  for (std::size_t i = 0; i < r.f.size(); ++i) s += (i ? ", " : "") + std::to_string(r.f[i]);
  return s + "]";
}
std::string first_difference(const std::vector<kernel_row>& a, const std::vector<kernel_row>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (!(a[i] == b[i]))
      return "kernel #" + std::to_string(i) + ": " + text(a[i]) + " vs " + text(b[i]);
  if (a.size() != b.size())
    return "kernel counts " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  return "";
}

void check_same_kernels(const std::string& model, const nnmeter::graph& built) {
  const std::vector<kernel_row> want = kernel_rows(built);
  REQUIRE(want.size() > 10);
  // The builder graph through our own writer and importer: the same kernels.
  {
    io::onnx_write_options o;
    o.opset = 13;
    o.with_weights = false;
    const onnx::ModelProto m = io::to_onnx_model(built, o);
    {  // ONNX's own checker and shape inference agree with the builder's shapes
      onnx::ModelProto copy = m;
      const std::string mism =
          nnmeter_test::shape_mismatches(built, nnmeter_test::check_and_infer(copy, false));
      CHECK_MESSAGE(mism.empty(), mism);
    }
    const io::onnx_import_result r = io::import_onnx(m, {}, model + " (written by nnmeter)");
    const std::vector<kernel_row> got = kernel_rows(r.graph);
    INFO("builder graph -> writer -> importer");
    CHECK_MESSAGE(got == want, first_difference(want, got));
  }
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: torchvision comparison skipped");
    return;
  }
  for (int opset : {11, 13}) {
    CAPTURE(opset);
    const loaded l = load(model, opset);
    const std::vector<kernel_row> got = kernel_rows(l.result.graph);
    std::vector<kernel_row> ws = want;
    std::vector<kernel_row> gs = got;
    std::sort(ws.begin(), ws.end());
    std::sort(gs.begin(), gs.end());
    INFO("graph_builder version vs torchvision export");
    CHECK_MESSAGE(gs == ws, "as multisets: " << first_difference(ws, gs));
    CHECK_MESSAGE(got == want, "in order: " << first_difference(want, got));
  }
}

}  // namespace

#define NNMETER_CLASSIFIER_CASE(model)                                         \
  TEST_CASE("onnx models: " #model " imports with every node accounted for") { \
    check_classifier(#model);                                                  \
  }

NNMETER_CLASSIFIER_CASE(resnet18)
NNMETER_CLASSIFIER_CASE(resnet50)
NNMETER_CLASSIFIER_CASE(mobilenet_v2)
NNMETER_CLASSIFIER_CASE(mobilenet_v3_small)
NNMETER_CLASSIFIER_CASE(mobilenet_v3_large)
NNMETER_CLASSIFIER_CASE(mnasnet1_0)
NNMETER_CLASSIFIER_CASE(shufflenet_v2_x1_0)
NNMETER_CLASSIFIER_CASE(squeezenet1_0)
NNMETER_CLASSIFIER_CASE(googlenet)
NNMETER_CLASSIFIER_CASE(densenet121)
NNMETER_CLASSIFIER_CASE(vgg11)
NNMETER_CLASSIFIER_CASE(alexnet)
NNMETER_CLASSIFIER_CASE(efficientnet_b0)
NNMETER_CLASSIFIER_CASE(regnet_x_400mf)

TEST_CASE("onnx models: ssdlite320_mobilenet_v3_large lists its data-dependent part") {
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: skipped");
    return;
  }
  for (int opset : fixture_opsets("ssdlite320_mobilenet_v3_large")) {
  INFO("opset " << opset);
  const loaded l = load("ssdlite320_mobilenet_v3_large", opset);
  const io::onnx_import_result& r = l.result;
  check_accounting(r);
  // The post-processing (NonZero, TopK, If, ...) depends on data: listed, not dropped.
  CHECK(r.accounting.other > 0);
  CHECK(!r.accounting.data_dependent_nodes.empty());
  bool nonzero = false;
  bool topk = false;
  for (const std::string& s : r.accounting.data_dependent_nodes) {
    nonzero = nonzero || s.find("NonZero") != std::string::npos;
    topk = topk || s.find("TopK") != std::string::npos;
  }
  CHECK(nonzero);
  CHECK(topk);
  // The backbone and head are fully there: every Conv of the file is a conv / dwconv node.
  std::size_t convs = 0;
  for (const nnmeter::node& n : r.graph.nodes())
    convs += n.op == nnmeter::op_kind::conv || n.op == nnmeter::op_kind::dwconv;
  CHECK(convs == l.conv_nodes_in_file);
  CHECK(convs > 90);
  check_detection_covers(r.graph, nnmeter::detect(r.graph, nnmeter::default_rules()));
  // The writer refuses the `other` nodes (NonZero, TopK, If, ...) by name.
  try {
    (void)io::to_onnx_model(r.graph);
    FAIL("the writer accepted a graph with 'other' nodes");
  } catch (const nnmeter::unsupported_error& e) {
    CHECK_MESSAGE(std::string(e.what()).find("(other '") != std::string::npos,
                  std::string(e.what()));
  }
  }
}

TEST_CASE("onnx models: resnet18 kernels equal the graph_builder resnet18") {
  check_same_kernels("resnet18", nnmeter_test::tv::resnet18());
}
TEST_CASE("onnx models: mobilenet_v2 kernels equal the graph_builder mobilenet_v2") {
  check_same_kernels("mobilenet_v2", nnmeter_test::tv::mobilenet_v2());
}
TEST_CASE("onnx models: mobilenet_v3_small kernels equal the graph_builder mobilenet_v3_small") {
  check_same_kernels("mobilenet_v3_small", nnmeter_test::tv::mobilenet_v3_small());
}
TEST_CASE("onnx models: shufflenet_v2_x1_0 kernels equal the graph_builder shufflenet_v2_x1_0") {
  check_same_kernels("shufflenet_v2_x1_0", nnmeter_test::tv::shufflenet_v2_x1_0());
}
TEST_CASE("onnx models: shufflenet_v2_x1_0's chunks are one split kernel each") {
  if (models_dir() == nullptr) {
    MESSAGE("NNMETER_ONNX_MODELS is not set: skipped");
    return;
  }
  for (int opset : fixture_opsets("shufflenet_v2_x1_0")) {
    CAPTURE(opset);
    const loaded l = load("shufflenet_v2_x1_0", opset);
    // torch exports x.chunk(2, dim=1) as two Slices of one tensor; 13 chunks: 4 + 8 + 4 units,
    // less the first of each stage (stride 2: both branches read the whole input).
    CHECK(l.slice_nodes_in_file == 2 * 13);
    const nnmeter::detection d = nnmeter::detect(l.result.graph, nnmeter::default_rules());
    check_detection_covers(l.result.graph, d);
    std::size_t splits = 0;
    for (const nnmeter::kernel& k : d.kernels) {
      if (k.kind != nnmeter::kernel_kind::split) continue;
      ++splits;
      CAPTURE(k.name);
      // Featured by its input, moving the input once and both halves, as a Split node would.
      REQUIRE(k.input_tensors.size() == 1);
      const nnmeter::tensor_shape x = k.input_tensors[0];
      nnmeter::tensor_shape half = x;
      half[3] = x[3] / 2;
      CHECK(k.nodes.size() == 2);
      CHECK(k.split_dim == 3);
      CHECK(k.output_tensors == std::vector<nnmeter::tensor_shape>{half, half});
      CHECK(k.bytes == 4.0 * static_cast<double>(x.num_elements() + 2 * half.num_elements()));
    }
    CHECK(2 * splits == l.slice_nodes_in_file);
  }
}
TEST_CASE("onnx models: squeezenet1_0 kernels equal the graph_builder squeezenet1_0") {
  check_same_kernels("squeezenet1_0", nnmeter_test::tv::squeezenet1_0());
}
