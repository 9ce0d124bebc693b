// Helpers to build small ONNX models in tests with the protobuf API.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/io/onnx_import.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace onnx_test {

using dims_t = std::vector<std::int64_t>;

/// Builds an ONNX model node by node.
class model_builder {
 public:
  explicit model_builder(std::int64_t opset = 13, std::int64_t ir_version = 8) {
    m_.set_ir_version(ir_version);
    m_.set_producer_name("nnmeter-test");
    m_.set_producer_version("1");
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    m_.mutable_graph()->set_name("test_graph");
  }

  onnx::GraphProto& graph() { return *m_.mutable_graph(); }
  onnx::ModelProto& model() { return m_; }

  /// A float graph input; a negative dim becomes the symbolic dim "N".
  model_builder& input(const std::string& name, const dims_t& dims,
                       int elem = onnx::TensorProto::FLOAT) {
    auto* vi = graph().add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* sh = tt->mutable_shape();
    for (std::int64_t d : dims) {
      if (d < 0)
        sh->add_dim()->set_dim_param("N");
      else
        sh->add_dim()->set_dim_value(d);
    }
    return *this;
  }

  model_builder& output(const std::string& name) {
    graph().add_output()->set_name(name);
    return *this;
  }

  /// A float initializer of the given dims (zeros as raw data, so big ones stay cheap).
  model_builder& weight(const std::string& name, const dims_t& dims,
                        int elem = onnx::TensorProto::FLOAT) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(elem);
    std::int64_t n = 1;
    for (std::int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    const std::size_t esize = elem == onnx::TensorProto::INT8 || elem == onnx::TensorProto::UINT8
                                  ? 1
                                  : (elem == onnx::TensorProto::INT64 ? 8 : 4);
    t->set_raw_data(std::string(static_cast<std::size_t>(n) * esize, '\0'));
    return *this;
  }

  /// An int64 initializer with values.
  model_builder& ints(const std::string& name, const std::vector<std::int64_t>& v,
                      bool scalar = false) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<std::int64_t>(v.size()));
    for (std::int64_t x : v) t->add_int64_data(x);
    return *this;
  }

  /// A float initializer with values.
  model_builder& floats(const std::string& name, const std::vector<float>& v,
                        bool scalar = false) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    if (!scalar) t->add_dims(static_cast<std::int64_t>(v.size()));
    for (float x : v) t->add_float_data(x);
    return *this;
  }

  /// A scalar initializer of an integer type (zero points).
  model_builder& scalar(const std::string& name, int elem, std::int32_t value) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(elem);
    t->add_int32_data(value);
    return *this;
  }

  /// Adds a node; returns it so attributes can be set with the attr helpers below.
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? (outputs.empty() ? op : outputs[0] + "_node") : name);
    for (const auto& s : inputs) n->add_input(s);
    for (const auto& s : outputs) n->add_output(s);
    return *n;
  }

  std::string bytes() const { return m_.SerializeAsString(); }

  nnmeter::io::onnx_import_result import(const nnmeter::io::onnx_import_options& o = {}) const {
    return nnmeter::io::import_onnx(m_, o, "test.onnx");
  }

 private:
  onnx::ModelProto m_;
};

inline void attr(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void attr_f(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void attr_ints_tensor(onnx::NodeProto& n, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<std::int64_t>(v.size()));
  for (auto x : v) t->add_int64_data(x);
}

/// Checks the accounting invariant.
inline bool balanced(const nnmeter::io::onnx_accounting& a) {
  return a.nodes_in_file == a.imported + a.folded + a.aliased + a.constants;
}

/// The graph node called `name` (throws if absent).
inline nnmeter::node_index id(const nnmeter::graph& g, const std::string& name) {
  const auto i = g.find(name);
  if (!i) throw std::runtime_error("no node '" + name + "' in the graph");
  return *i;
}

}  // namespace onnx_test
