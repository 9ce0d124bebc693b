// The executor against ONNX's own node test data (Debian libonnx-testdata): inputs, weights
// and expected outputs are read from the .pb files (TensorProto), NCHW converted to NHWC.
// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "onnx_wire.hpp"
#include "support.hpp"

using namespace nnmeter_test;
using nnmeter::graph_builder;
using nnmeter::padding_mode;
using nnmeter::pads4;
using nnmeter::tensor_ref;

namespace {

const std::string node_dir = "/usr/share/libonnx-testdata/data/node/";

// TensorProto files are read by onnx_wire.hpp (no protobuf needed).
using pb_tensor = nnmeter_test::onnx_wire::tensor;
pb_tensor read_tensor(const std::string& path) {
  return nnmeter_test::onnx_wire::load_tensor(path);
}

bool have(const std::string& test) {
  struct stat st {};
  return ::stat((node_dir + test + "/test_data_set_0").c_str(), &st) == 0;
}
pb_tensor in_pb(const std::string& test, int i) {
  return read_tensor(node_dir + test + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
}
pb_tensor out_pb(const std::string& test) {
  return read_tensor(node_dir + test + "/test_data_set_0/output_0.pb");
}

tensor_shape shape_of(const std::vector<std::int64_t>& d) {
  tensor_shape s;
  for (std::int64_t v : d) s.push_back(v);
  return s;
}

// NCHW <-> NHWC of a rank-4 tensor.
std::vector<float> nchw_to_nhwc(const pb_tensor& t) {
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
tensor_shape nhwc_shape(const pb_tensor& t) { return {t.dims[0], t.dims[2], t.dims[3], t.dims[1]}; }

// Runs the graph with the given input values and compares output `out` with `want`
// (want already in the executor's layout).
void run_and_compare(const nnmeter::graph& g, const xnn::executor_options& o,
                     const std::vector<std::vector<float>>& inputs, const std::vector<float>& want,
                     const tensor_shape& want_shape) {
  xnn::executor ex(g, o);
  REQUIRE(ex.num_inputs() == inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    REQUIRE(ex.input_size(i) == inputs[i].size());
    std::copy(inputs[i].begin(), inputs[i].end(), ex.input(i));
  }
  ex.invoke();
  REQUIRE(ex.num_outputs() == 1);
  REQUIRE(ex.output_shape(0) == want_shape);
  const std::vector<double> w(want.begin(), want.end());
  const compare_result r = compare(ex.output(0), w, 1e-4, 1e-5);
  INFO("worst at " << r.worst_index << ": got " << r.got << ", want " << r.want);
  CHECK(r.worst_ratio <= 1.0);
}

// Conv node tests: x NCHW, W OIHW (+ B).
void conv_test(const std::string& test, nnmeter::hw_pair stride, padding_mode mode, pads4 pads) {
  CAPTURE(test);
  if (!have(test)) {
    MESSAGE("skipped: " << test << " not installed (libonnx-testdata)");
    return;
  }
  const pb_tensor x = in_pb(test, 0);
  const pb_tensor wt = in_pb(test, 1);
  const pb_tensor y = out_pb(test);
  const auto O = wt.dims[0], I = wt.dims[1], KH = wt.dims[2], KW = wt.dims[3];
  graph_builder b;
  const tensor_ref xi = b.input(nhwc_shape(x), nnmeter::dtype::f32, "x");
  if (mode == padding_mode::explicit_pads)
    b.conv(xi, O, {KH, KW}, stride, pads, 1, 1, false, "conv");
  else
    b.conv(xi, O, {KH, KW}, stride, mode, 1, 1, false, "conv");
  xnn::executor_options o;
  std::vector<float>& f = o.params["conv"].filter;
  f.resize(wt.data.size());
  for (std::int64_t oc = 0; oc < O; ++oc)  // OIHW -> OHWI
    for (std::int64_t ic = 0; ic < I; ++ic)
      for (std::int64_t h = 0; h < KH; ++h)
        for (std::int64_t w = 0; w < KW; ++w)
          f[static_cast<std::size_t>(((oc * KH + h) * KW + w) * I + ic)] =
              wt.data[static_cast<std::size_t>(((oc * I + ic) * KH + h) * KW + w)];
  run_and_compare(std::move(b).build(), o, {nchw_to_nhwc(x)}, nchw_to_nhwc(y), nhwc_shape(y));
}

void pool_test(const std::string& test, op_kind op, nnmeter::hw_pair k, nnmeter::hw_pair s,
               padding_mode mode, pads4 pads = pads4{}, bool ceil = false,
               nnmeter::hw_pair dil = 1) {
  CAPTURE(test);
  if (!have(test)) {
    MESSAGE("skipped: " << test << " not installed (libonnx-testdata)");
    return;
  }
  const pb_tensor x = in_pb(test, 0);
  const pb_tensor y = out_pb(test);
  graph_builder b;
  const tensor_ref xi = b.input(nhwc_shape(x), nnmeter::dtype::f32, "x");
  tensor_ref p;
  if (mode == padding_mode::explicit_pads)
    p = op == op_kind::maxpool ? b.maxpool(xi, k, s, pads, ceil, "pool")
                               : b.avgpool(xi, k, s, pads, ceil, "pool");
  else
    p = op == op_kind::maxpool ? b.maxpool(xi, k, s, mode, "pool")
                               : b.avgpool(xi, k, s, mode, "pool");
  nnmeter::graph g = std::move(b).build();
  if (dil.h != 1 || dil.w != 1) {  // graph_builder pools have no dilation: set it, fix the shape
    nnmeter::node& n = g.mutable_node(p.node);
    n.attrs.dilations = {dil.h, dil.w};
    n.output_shapes[0] = nhwc_shape(y);
  }
  run_and_compare(g, {}, {nchw_to_nhwc(x)}, nchw_to_nhwc(y), nhwc_shape(y));
}

using unary_fn = tensor_ref (*)(graph_builder&, tensor_ref);
void unary_test(const std::string& test, unary_fn f) {
  CAPTURE(test);
  if (!have(test)) {
    MESSAGE("skipped: " << test << " not installed (libonnx-testdata)");
    return;
  }
  const pb_tensor x = in_pb(test, 0);
  const pb_tensor y = out_pb(test);
  graph_builder b;
  f(b, b.input(shape_of(x.dims), nnmeter::dtype::f32, "x"));
  run_and_compare(std::move(b).build(), {}, {x.data}, y.data, shape_of(y.dims));
}

void binary_test(const std::string& test, op_kind op) {
  CAPTURE(test);
  if (!have(test)) {
    MESSAGE("skipped: " << test << " not installed (libonnx-testdata)");
    return;
  }
  const pb_tensor x = in_pb(test, 0);
  const pb_tensor z = in_pb(test, 1);
  const pb_tensor y = out_pb(test);
  graph_builder b;
  const tensor_ref a = b.input(shape_of(x.dims), nnmeter::dtype::f32, "a");
  const tensor_ref c = b.input(shape_of(z.dims), nnmeter::dtype::f32, "b");
  switch (op) {
    case op_kind::add:
      b.add(a, c, "op");
      break;
    case op_kind::sub:
      b.sub(a, c, "op");
      break;
    case op_kind::mul:
      b.mul(a, c, "op");
      break;
    default:
      b.div(a, c, "op");
      break;
  }
  run_and_compare(std::move(b).build(), {}, {x.data, z.data}, y.data, shape_of(y.dims));
}

void concat_test(const std::string& test, std::int64_t axis) {
  CAPTURE(test);
  if (!have(test)) {
    MESSAGE("skipped: " << test << " not installed (libonnx-testdata)");
    return;
  }
  const pb_tensor x = in_pb(test, 0);
  const pb_tensor z = in_pb(test, 1);
  const pb_tensor y = out_pb(test);
  graph_builder b;
  const tensor_ref a = b.input(shape_of(x.dims), nnmeter::dtype::f32, "a");
  const tensor_ref c = b.input(shape_of(z.dims), nnmeter::dtype::f32, "b");
  b.concat({a, c}, axis, "concat");
  run_and_compare(std::move(b).build(), {}, {x.data, z.data}, y.data, shape_of(y.dims));
}

}  // namespace

TEST_CASE("onnx node data: Conv") {
  conv_test("test_basic_conv_with_padding", 1, padding_mode::explicit_pads, pads4{1, 1, 1, 1});
  conv_test("test_basic_conv_without_padding", 1, padding_mode::explicit_pads, pads4{0, 0, 0, 0});
  conv_test("test_conv_with_strides_padding", 2, padding_mode::explicit_pads, pads4{1, 1, 1, 1});
  conv_test("test_conv_with_strides_no_padding", 2, padding_mode::explicit_pads, pads4{});
  // ONNX pads [1, 0, 1, 0] = {top 1, left 0, bottom 1, right 0}
  conv_test("test_conv_with_strides_and_asymmetric_padding", 2, padding_mode::explicit_pads,
            pads4{1, 1, 0, 0});
  conv_test("test_conv_with_autopad_same", 2, padding_mode::same_lower, pads4{});
}

TEST_CASE("onnx node data: ConvTranspose") {
  for (const std::string test : {"test_convtranspose", "test_convtranspose_pads"}) {
    CAPTURE(test);
    if (!have(test)) continue;
    const pb_tensor x = in_pb(test, 0);
    const pb_tensor wt = in_pb(test, 1);  // [Cin, Cout, KH, KW]
    const pb_tensor y = out_pb(test);
    const auto I = wt.dims[0], O = wt.dims[1], KH = wt.dims[2], KW = wt.dims[3];
    graph_builder b;
    const tensor_ref xi = b.input(nhwc_shape(x), nnmeter::dtype::f32, "x");
    if (test == "test_convtranspose_pads")
      b.conv_transpose(xi, O, {KH, KW}, {3, 2}, pads4{1, 1, 2, 2}, {0, 0}, 1, 1, false, "deconv");
    else
      b.conv_transpose(xi, O, {KH, KW}, 1, pads4{}, {0, 0}, 1, 1, false, "deconv");
    xnn::executor_options o;
    std::vector<float>& f = o.params["deconv"].filter;
    f.resize(wt.data.size());
    for (std::int64_t ic = 0; ic < I; ++ic)  // IOHW -> OHWI
      for (std::int64_t oc = 0; oc < O; ++oc)
        for (std::int64_t h = 0; h < KH; ++h)
          for (std::int64_t w = 0; w < KW; ++w)
            f[static_cast<std::size_t>(((oc * KH + h) * KW + w) * I + ic)] =
                wt.data[static_cast<std::size_t>(((ic * O + oc) * KH + h) * KW + w)];
    run_and_compare(std::move(b).build(), o, {nchw_to_nhwc(x)}, nchw_to_nhwc(y), nhwc_shape(y));
  }
}

TEST_CASE("onnx node data: MaxPool") {
  const op_kind mp = op_kind::maxpool;
  pool_test("test_maxpool_2d_default", mp, 2, 1, padding_mode::valid);
  pool_test("test_maxpool_2d_pads", mp, 3, 1, padding_mode::explicit_pads, pads4{2});
  pool_test("test_maxpool_2d_strides", mp, 5, 3, padding_mode::valid);
  pool_test("test_maxpool_2d_same_upper", mp, 2, 1, padding_mode::same);
  pool_test("test_maxpool_2d_same_lower", mp, 2, 1, padding_mode::same_lower);
  pool_test("test_maxpool_2d_precomputed_pads", mp, 5, 1, padding_mode::explicit_pads, pads4{2});
  pool_test("test_maxpool_2d_precomputed_strides", mp, 2, 2, padding_mode::valid);
  pool_test("test_maxpool_2d_precomputed_same_upper", mp, 3, 2, padding_mode::same);
  pool_test("test_maxpool_2d_ceil", mp, 3, 2, padding_mode::explicit_pads, pads4{}, true);
  pool_test("test_maxpool_2d_dilations", mp, 2, 1, padding_mode::valid, pads4{}, false, 2);
}

TEST_CASE("onnx node data: AveragePool (count_include_pad = 0)") {
  const op_kind ap = op_kind::avgpool;
  pool_test("test_averagepool_2d_default", ap, 2, 1, padding_mode::valid);
  pool_test("test_averagepool_2d_pads", ap, 3, 1, padding_mode::explicit_pads, pads4{2});
  pool_test("test_averagepool_2d_strides", ap, 5, 3, padding_mode::valid);
  pool_test("test_averagepool_2d_same_upper", ap, 2, 1, padding_mode::same);
  pool_test("test_averagepool_2d_same_lower", ap, 2, 1, padding_mode::same_lower);
  pool_test("test_averagepool_2d_precomputed_pads", ap, 5, 1, padding_mode::explicit_pads,
            pads4{2});
  pool_test("test_averagepool_2d_precomputed_strides", ap, 2, 2, padding_mode::valid);
  pool_test("test_averagepool_2d_precomputed_same_upper", ap, 3, 2, padding_mode::same);
  pool_test("test_averagepool_2d_ceil", ap, 3, 2, padding_mode::explicit_pads, pads4{}, true);
}

TEST_CASE("onnx node data: GlobalAveragePool") {
  for (const std::string test : {"test_globalaveragepool", "test_globalaveragepool_precomputed"}) {
    CAPTURE(test);
    if (!have(test)) continue;
    const pb_tensor x = in_pb(test, 0);
    const pb_tensor y = out_pb(test);
    graph_builder b;
    b.global_avgpool(b.input(nhwc_shape(x), nnmeter::dtype::f32, "x"), "gap");
    run_and_compare(std::move(b).build(), {}, {nchw_to_nhwc(x)}, nchw_to_nhwc(y), nhwc_shape(y));
  }
}

TEST_CASE("onnx node data: activations and Softmax") {
  unary_test("test_relu", [](graph_builder& b, tensor_ref x) { return b.relu(x); });
  unary_test("test_sigmoid", [](graph_builder& b, tensor_ref x) { return b.sigmoid(x); });
  unary_test("test_hardswish", [](graph_builder& b, tensor_ref x) { return b.hswish(x); });
  unary_test("test_leakyrelu", [](graph_builder& b, tensor_ref x) { return b.leaky_relu(x, 0.1); });
  unary_test("test_leakyrelu_default",
             [](graph_builder& b, tensor_ref x) { return b.leaky_relu(x, 0.01); });
  unary_test("test_elu", [](graph_builder& b, tensor_ref x) { return b.elu(x, 2.0); });
  unary_test("test_elu_default", [](graph_builder& b, tensor_ref x) { return b.elu(x, 1.0); });
  unary_test("test_softmax_default_axis",
             [](graph_builder& b, tensor_ref x) { return b.softmax(x); });
  unary_test("test_softmax_axis_2", [](graph_builder& b, tensor_ref x) { return b.softmax(x, 2); });
  unary_test("test_softmax_negative_axis",
             [](graph_builder& b, tensor_ref x) { return b.softmax(x, -1); });
  unary_test("test_softmax_example", [](graph_builder& b, tensor_ref x) { return b.softmax(x); });
  unary_test("test_softmax_large_number",
             [](graph_builder& b, tensor_ref x) { return b.softmax(x); });
  // HardSigmoid with ONNX alpha / beta: set them on the node.
  for (const auto& hs : {std::make_pair("test_hardsigmoid", std::make_pair(0.5f, 0.6f)),
                         std::make_pair("test_hardsigmoid_default", std::make_pair(0.2f, 0.5f))}) {
    const std::string test = hs.first;
    CAPTURE(test);
    if (!have(test)) continue;
    const pb_tensor x = in_pb(test, 0);
    const pb_tensor y = out_pb(test);
    graph_builder b;
    const tensor_ref h = b.hsigmoid(b.input(shape_of(x.dims), nnmeter::dtype::f32, "x"), "hs");
    nnmeter::graph g = std::move(b).build();
    g.mutable_node(h.node).attrs.alpha = hs.second.first;
    g.mutable_node(h.node).attrs.beta = hs.second.second;
    run_and_compare(g, {}, {x.data}, y.data, shape_of(y.dims));
  }
  for (const std::string test : {"test_clip", "test_clip_inbounds", "test_clip_outbounds",
                                 "test_clip_splitbounds", "test_clip_example"}) {
    CAPTURE(test);
    if (!have(test)) continue;
    const pb_tensor x = in_pb(test, 0);
    const float lo = in_pb(test, 1).data.at(0);
    const float hi = in_pb(test, 2).data.at(0);
    const pb_tensor y = out_pb(test);
    graph_builder b;
    b.clip(b.input(shape_of(x.dims), nnmeter::dtype::f32, "x"), lo, hi, "clip");
    run_and_compare(std::move(b).build(), {}, {x.data}, y.data, shape_of(y.dims));
  }
  {
    const std::string test = "test_prelu_broadcast";  // slope [5] over x [3, 4, 5]
    if (have(test)) {
      const pb_tensor x = in_pb(test, 0);
      const pb_tensor s = in_pb(test, 1);
      const pb_tensor y = out_pb(test);
      nnmeter::graph g;
      const tensor_ref xi = add_raw(g, "x", op_kind::input, {}, shape_of(x.dims));
      add_raw(g, "prelu", op_kind::prelu, {xi}, shape_of(x.dims));
      xnn::executor_options o;
      o.params["prelu"].filter = s.data;
      run_and_compare(g, o, {x.data}, y.data, shape_of(y.dims));
    }
  }
}

TEST_CASE("onnx node data: Add, Sub, Mul, Div (with broadcasting)") {
  binary_test("test_add", op_kind::add);
  binary_test("test_add_bcast", op_kind::add);
  binary_test("test_sub", op_kind::sub);
  binary_test("test_sub_bcast", op_kind::sub);
  binary_test("test_sub_example", op_kind::sub);
  binary_test("test_mul", op_kind::mul);
  binary_test("test_mul_bcast", op_kind::mul);
  binary_test("test_mul_example", op_kind::mul);
  binary_test("test_div", op_kind::div);
  binary_test("test_div_bcast", op_kind::div);
  binary_test("test_div_example", op_kind::div);
}

TEST_CASE("onnx node data: Concat on every axis") {
  concat_test("test_concat_1d_axis_0", 0);
  concat_test("test_concat_1d_axis_negative_1", -1);
  concat_test("test_concat_2d_axis_0", 0);
  concat_test("test_concat_2d_axis_1", 1);
  concat_test("test_concat_2d_axis_negative_1", -1);
  concat_test("test_concat_2d_axis_negative_2", -2);
  concat_test("test_concat_3d_axis_0", 0);
  concat_test("test_concat_3d_axis_1", 1);
  concat_test("test_concat_3d_axis_2", 2);
  concat_test("test_concat_3d_axis_negative_1", -1);
  concat_test("test_concat_3d_axis_negative_2", -2);
  concat_test("test_concat_3d_axis_negative_3", -3);
}

TEST_CASE("onnx node data: the TensorProto reader rejects truncated files") {
  if (!have("test_relu")) return;
  const std::string src = node_dir + "test_relu/test_data_set_0/input_0.pb";
  std::ifstream f(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string cut = "/tmp/nnmeter_xnn_truncated.pb";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  CHECK_THROWS(read_tensor(cut));
  std::remove(cut.c_str());
}
