// The executor against PyTorch-generated ONNX test models (Debian libonnx-testdata,
// data/pytorch-converted): the one-node model.onnx gives the op's attributes and weights
// (initializers), test_data_set_0 the input and PyTorch's output.
// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include "onnx_wire.hpp"
#include "support.hpp"

using namespace nnmeter_test;
using nnmeter::graph_builder;
using nnmeter::pads4;
using nnmeter::tensor_ref;
namespace ow = nnmeter_test::onnx_wire;

namespace {

const std::string torch_dir = "/usr/share/libonnx-testdata/data/pytorch-converted/";

bool have(const std::string& test) {
  struct stat st {};
  return ::stat((torch_dir + test + "/model.onnx").c_str(), &st) == 0;
}

tensor_shape shape_of(const std::vector<std::int64_t>& d) {
  tensor_shape s;
  for (std::int64_t v : d) s.push_back(v);
  return s;
}
tensor_shape nhwc(const std::vector<std::int64_t>& d) { return {d[0], d[2], d[3], d[1]}; }
std::vector<float> to_nhwc(const ow::tensor& t) {
  const auto N = t.dims[0], C = t.dims[1], H = t.dims[2], W = t.dims[3];
  std::vector<float> r(t.data.size());
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t w = 0; w < W; ++w)
          r[static_cast<std::size_t>(((n * H + h) * W + w) * C + c)] =
              t.data[static_cast<std::size_t>(((n * C + c) * H + h) * W + w)];
  return r;
}
// ONNX pads {top, left, bottom, right} -> pads4 {top, bottom, left, right}
pads4 onnx_pads(const std::vector<std::int64_t>& p) { return pads4{p[0], p[2], p[1], p[3]}; }

struct prepared {
  nnmeter::graph g;
  xnn::executor_options options;
  bool nchw = true;  // input / output are rank-4 NCHW to convert
};

// Builds our graph for the model's node(s); returns false (with a reason) for a model this
// test does not translate.
bool translate(const ow::model& m, const ow::tensor& x, prepared& out, std::string& why) {
  graph_builder b;
  const std::vector<ow::node>& ns = m.nodes;
  auto init = [&](const ow::node& n, std::size_t i) -> const ow::tensor& {
    return m.initializers.at(n.inputs.at(i));
  };
  const bool x4 = x.dims.size() == 4;
  if (ns.size() == 2 && ns[0].op_type == "Transpose" && ns[1].op_type == "MatMul") {
    // Linear without bias: MatMul(x, Transpose(W)) with W [out, in] = our fc filter.
    const ow::tensor& w = m.initializers.at(ns[0].inputs[0]);
    b.fc(b.input(shape_of(x.dims), nnmeter::dtype::f32, "x"), w.dims[0], false, "node");
    out.options.params["node"].filter = w.data;
    out.nchw = false;
    out.g = std::move(b).build();
    return true;
  }
  if (ns.size() != 1) {
    why = "more than one node";
    return false;
  }
  const ow::node& n = ns[0];
  const std::string& op = n.op_type;
  xnn::node_params& p = out.options.params["node"];
  if (op == "Conv" && x4) {
    const ow::tensor& w = init(n, 1);  // [O, I/g, KH, KW]
    const auto O = w.dims[0], I = w.dims[1], KH = w.dims[2], KW = w.dims[3];
    const std::int64_t groups = n.i("group", 1);
    const auto d = n.ints("dilations", {1, 1});
    const auto s = n.ints("strides", {1, 1});
    const tensor_ref c = b.conv(b.input(nhwc(x.dims), nnmeter::dtype::f32, "x"), O, {KH, KW},
                                {s[0], s[1]}, onnx_pads(n.ints("pads", {0, 0, 0, 0})), groups,
                                {d[0], d[1]}, n.inputs.size() > 2, "node");
    const bool dw = b.view()[c.node].op == op_kind::dwconv;
    p.filter.resize(w.data.size());
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < I; ++i)
        for (std::int64_t h = 0; h < KH; ++h)
          for (std::int64_t v = 0; v < KW; ++v) {
            const float val = w.data[static_cast<std::size_t>(((o * I + i) * KH + h) * KW + v)];
            if (dw)  // [1, KH, KW, O]
              p.filter[static_cast<std::size_t>((h * KW + v) * O + o)] = val;
            else  // OHWI
              p.filter[static_cast<std::size_t>(((o * KH + h) * KW + v) * I + i)] = val;
          }
    if (n.inputs.size() > 2) p.bias = init(n, 2).data;
  } else if (op == "ConvTranspose" && x4) {
    const ow::tensor& w = init(n, 1);  // [I, O/g, KH, KW]
    const auto I = w.dims[0], O = w.dims[1], KH = w.dims[2], KW = w.dims[3];
    const auto s = n.ints("strides", {1, 1});
    const auto op_ = n.ints("output_padding", {0, 0});
    b.conv_transpose(b.input(nhwc(x.dims), nnmeter::dtype::f32, "x"), O, {KH, KW}, {s[0], s[1]},
                     onnx_pads(n.ints("pads", {0, 0, 0, 0})), {op_[0], op_[1]}, 1, 1,
                     n.inputs.size() > 2, "node");
    p.filter.resize(w.data.size());
    for (std::int64_t i = 0; i < I; ++i)
      for (std::int64_t o = 0; o < O; ++o)
        for (std::int64_t h = 0; h < KH; ++h)
          for (std::int64_t v = 0; v < KW; ++v)
            p.filter[static_cast<std::size_t>(((o * KH + h) * KW + v) * I + i)] =
                w.data[static_cast<std::size_t>(((i * O + o) * KH + h) * KW + v)];
    if (n.inputs.size() > 2) p.bias = init(n, 2).data;
  } else if ((op == "MaxPool" || op == "AveragePool") && x4) {
    const auto k = n.ints("kernel_shape", {});
    const auto s = n.ints("strides", {1, 1});
    const tensor_ref xi = b.input(nhwc(x.dims), nnmeter::dtype::f32, "x");
    const pads4 pd = onnx_pads(n.ints("pads", {0, 0, 0, 0}));
    const auto d = n.ints("dilations", {1, 1});
    if (d[0] != 1 || d[1] != 1) {
      // graph_builder pools have no dilation: add the node by hand with the dilated shape.
      nnmeter::graph g = std::move(b).build();
      nnmeter::attributes a;
      a.kernel = {k[0], k[1]};
      a.strides = {s[0], s[1]};
      a.dilations = {d[0], d[1]};
      a.pads = {pd.top, pd.bottom, pd.left, pd.right};
      const tensor_shape in = nhwc(x.dims);
      const std::int64_t oh = (in[1] + pd.top + pd.bottom - d[0] * (k[0] - 1) - 1) / s[0] + 1;
      const std::int64_t owd = (in[2] + pd.left + pd.right - d[1] * (k[1] - 1) - 1) / s[1] + 1;
      add_raw(g, "node", op_kind::maxpool, {xi}, {in[0], oh, owd, in[3]}, a);
      out.g = std::move(g);
      out.options.params.clear();
      return true;
    }
    if (op == "MaxPool")
      b.maxpool(xi, {k[0], k[1]}, {s[0], s[1]}, pd, false, "node");
    else
      b.avgpool(xi, {k[0], k[1]}, {s[0], s[1]}, pd, false, "node");
    out.options.params.clear();
  } else if (op == "BatchNormalization" && x4) {
    b.bn(b.input(nhwc(x.dims), nnmeter::dtype::f32, "x"), "node");
    p.gamma = init(n, 1).data;
    p.beta = init(n, 2).data;
    p.mean = init(n, 3).data;
    p.var = init(n, 4).data;
    p.epsilon = n.f("epsilon", 1e-5f);
  } else if (op == "Pad" && x4) {
    const auto pd = n.ints("pads", {});  // NCHW begins then ends
    if (pd.size() != 8 || pd[0] || pd[1] || pd[4] || pd[5]) {
      why = "padding outside H, W";
      return false;
    }
    const tensor_ref r =
        b.pad(b.input(nhwc(x.dims), nnmeter::dtype::f32, "x"), pd[2], pd[6], pd[3], pd[7], "node");
    nnmeter::graph g = std::move(b).build();
    g.mutable_node(r.node).attrs.mode = n.s("mode", "constant");
    g.mutable_node(r.node).attrs.extra = {{"value", std::to_string(n.f("value", 0.0f))}};
    out.g = std::move(g);
    out.options.params.clear();
    return true;
  } else if (op == "PRelu" && x4) {
    const ow::tensor& slope = init(n, 1);
    const std::int64_t C = x.dims[1];
    nnmeter::graph g;
    const tensor_ref xi = add_raw(g, "x", op_kind::input, {}, nhwc(x.dims));
    add_raw(g, "node", op_kind::prelu, {xi}, nhwc(x.dims));
    p.filter.assign(static_cast<std::size_t>(C), slope.data.at(0));
    if (slope.data.size() == static_cast<std::size_t>(C)) p.filter = slope.data;
    out.g = std::move(g);
    return true;
  } else if (op == "Gemm" && n.i("transB", 0) == 1 && x.dims.size() == 2) {
    b.fc(b.input(shape_of(x.dims), nnmeter::dtype::f32, "x"), init(n, 1).dims[0], true, "node");
    p.filter = init(n, 1).data;
    p.bias = init(n, 2).data;
    out.nchw = false;
  } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Elu" || op == "LeakyRelu" ||
             op == "Softmax") {
    // Element-wise (or over the last axis): the layout does not matter, keep the shape as is.
    const tensor_ref xi = b.input(shape_of(x.dims), nnmeter::dtype::f32, "x");
    out.nchw = false;
    out.options.params.clear();
    if (op == "Relu") b.relu(xi, "node");
    if (op == "Sigmoid") b.sigmoid(xi, "node");
    if (op == "Tanh") b.tanh(xi, "node");
    if (op == "Elu") b.elu(xi, n.f("alpha", 1.0f), "node");
    if (op == "LeakyRelu") b.leaky_relu(xi, n.f("alpha", 0.01f), "node");
    if (op == "Softmax") {
      if (n.i("axis", 1) != static_cast<std::int64_t>(x.dims.size()) - 1) {
        why = "softmax over a flattened tail";
        return false;
      }
      b.softmax(xi, -1, "node");
    }
  } else {
    why = "op " + op + " is not translated by this test";
    return false;
  }
  out.g = std::move(b).build();
  return true;
}

}  // namespace

TEST_CASE("pytorch-converted ONNX models: outputs equal PyTorch's") {
  const char* tests[] = {
      "test_Conv2d",
      "test_Conv2d_depthwise",
      "test_Conv2d_depthwise_padded",
      "test_Conv2d_depthwise_strided",
      "test_Conv2d_depthwise_with_multiplier",
      "test_Conv2d_dilated",
      "test_Conv2d_groups",
      "test_Conv2d_groups_thnn",
      "test_Conv2d_no_bias",
      "test_Conv2d_padding",
      "test_Conv2d_strided",
      "test_ConvTranspose2d",
      "test_ConvTranspose2d_no_bias",
      "test_AvgPool2d",
      "test_AvgPool2d_stride",
      "test_MaxPool2d",
      "test_MaxPool2d_stride_padding_dilation",
      "test_BatchNorm2d_eval",
      "test_BatchNorm2d_momentum_eval",
      "test_ConstantPad2d",
      "test_ZeroPad2d",
      "test_PReLU_2d",
      "test_PReLU_2d_multiparam",
      "test_Linear",
      "test_Linear_no_bias",
      "test_ReLU",
      "test_Sigmoid",
      "test_Tanh",
      "test_ELU",
      "test_LeakyReLU",
      "test_LeakyReLU_with_negval",
      "test_Softmax",
      "test_softmax_lastdim",
      "test_softmax_functional_dim3",
  };
  int ran = 0;
  for (const char* t : tests) {
    const std::string test = t;
    CAPTURE(test);
    if (!have(test)) continue;
    const ow::model m = ow::load_model(torch_dir + test + "/model.onnx");
    const ow::tensor x = ow::load_tensor(torch_dir + test + "/test_data_set_0/input_0.pb");
    const ow::tensor y = ow::load_tensor(torch_dir + test + "/test_data_set_0/output_0.pb");
    prepared pr;
    std::string why;
    REQUIRE_MESSAGE(translate(m, x, pr, why), why);
    xnn::executor ex(pr.g, pr.options);
    REQUIRE(ex.num_inputs() == 1);
    const std::vector<float> xin = pr.nchw ? to_nhwc(x) : x.data;
    REQUIRE(ex.input_size(0) == xin.size());
    std::copy(xin.begin(), xin.end(), ex.input(0));
    ex.invoke();
    REQUIRE(ex.num_outputs() == 1);
    const tensor_shape want_shape = pr.nchw ? nhwc(y.dims) : shape_of(y.dims);
    REQUIRE(ex.output_shape(0) == want_shape);
    const std::vector<float> yw = pr.nchw ? to_nhwc(y) : y.data;
    const compare_result r = compare(ex.output(0), std::vector<double>(yw.begin(), yw.end()));
    INFO("worst at " << r.worst_index << ": got " << r.got << ", want " << r.want);
    CHECK(r.worst_ratio <= 1.0);
    ++ran;
  }
  MESSAGE(ran << " PyTorch-converted models compared");
  if (have("test_Conv2d")) CHECK(ran == static_cast<int>(sizeof(tests) / sizeof(tests[0])));
}

TEST_CASE("pytorch-converted ONNX models: reflect / edge padding is refused clearly") {
  for (const std::string test : {"test_ReflectionPad2d", "test_ReplicationPad2d"}) {
    CAPTURE(test);
    if (!have(test)) continue;
    const ow::model m = ow::load_model(torch_dir + test + "/model.onnx");
    const ow::tensor x = ow::load_tensor(torch_dir + test + "/test_data_set_0/input_0.pb");
    prepared pr;
    std::string why;
    REQUIRE(translate(m, x, pr, why));
    CHECK_THROWS_WITH_AS(xnn::executor(pr.g, pr.options),
                         doctest::Contains("cannot execute: op pad at node 'node': padding mode"),
                         nnmeter::unsupported_error);
  }
}
