// nnmeter — the graph IR.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/tensor_shape.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Dense index of a node in an nnmeter::graph.
using node_index = std::uint32_t;

/// One operand of a node: output `output` of node `node`.
struct tensor_ref {
  node_index node = 0;
  std::uint32_t output = 0;

  friend bool operator==(const tensor_ref& a, const tensor_ref& b) noexcept {
    return a.node == b.node && a.output == b.output;
  }
  friend bool operator!=(const tensor_ref& a, const tensor_ref& b) noexcept { return !(a == b); }
};

/// The producer nodes of a node's operands, as a range of node indices over its tensor_refs
/// (no allocation).
class predecessor_range {
 public:
  class iterator {
   public:
    using value_type = node_index;
    using difference_type = std::ptrdiff_t;
    using reference = node_index;
    using pointer = void;
    using iterator_category = std::forward_iterator_tag;
    iterator() = default;
    explicit iterator(const tensor_ref* p) noexcept : p_(p) {}
    node_index operator*() const noexcept { return p_->node; }
    iterator& operator++() noexcept {
      ++p_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator t = *this;
      ++p_;
      return t;
    }
    friend bool operator==(iterator a, iterator b) noexcept { return a.p_ == b.p_; }
    friend bool operator!=(iterator a, iterator b) noexcept { return a.p_ != b.p_; }

   private:
    const tensor_ref* p_ = nullptr;
  };
  predecessor_range(const tensor_ref* b, const tensor_ref* e) noexcept : b_(b), e_(e) {}
  iterator begin() const noexcept { return iterator(b_); }
  iterator end() const noexcept { return iterator(e_); }
  std::size_t size() const noexcept { return static_cast<std::size_t>(e_ - b_); }
  bool empty() const noexcept { return b_ == e_; }
  /// The indices as a vector.
  std::vector<node_index> to_vector() const { return std::vector<node_index>(begin(), end()); }
  friend bool operator==(const predecessor_range& r, const std::vector<node_index>& v) {
    return r.to_vector() == v;
  }
  friend bool operator==(const std::vector<node_index>& v, const predecessor_range& r) {
    return r.to_vector() == v;
  }
  friend bool operator!=(const predecessor_range& r, const std::vector<node_index>& v) {
    return !(r == v);
  }

 private:
  const tensor_ref* b_;
  const tensor_ref* e_;
};

/// One operator of the graph with every shape known.
struct node {
  /// Unique, non-empty name.
  std::string name;
  op_kind op = op_kind::other;
  /// The source's operator name ("Conv2D", "Conv", "HardSwish", ...); for `other` it is the
  /// only description of the operator. Builders set it to to_string(op).
  std::string type;
  /// Element type of the node's outputs.
  dtype elem = dtype::f32;
  /// Producers of the data operands, in operand order. Weights are not operands.
  std::vector<tensor_ref> inputs;
  /// Shape of each data operand as the source declares it (rank 0 for a scalar constant).
  /// Usually the producers' output shapes; kept per node because nn-Meter IR files carry their
  /// own (and its features are defined on them).
  std::vector<tensor_shape> input_shapes;
  /// Shape of each output; rank-4 activations are NHWC.
  std::vector<tensor_shape> output_shapes;
  attributes attrs;

  friend bool operator==(const node& a, const node& b) {
    return a.name == b.name && a.op == b.op && a.type == b.type && a.elem == b.elem &&
           a.inputs == b.inputs && a.input_shapes == b.input_shapes &&
           a.output_shapes == b.output_shapes && a.attrs == b.attrs;
  }
  friend bool operator!=(const node& a, const node& b) { return !(a == b); }
};

/// A directed acyclic operator graph. Nodes are stored in insertion order and addressed by
/// dense indices; that order is the graph's order (it breaks ties in every algorithm, as the
/// key order of an nn-Meter IR file does in nn-Meter).
class graph {
 public:
  using node_id = node_index;

  graph() = default;

  /// Adds a node and returns its index. Its inputs must name existing nodes (use set_inputs
  /// to connect nodes added out of order). Throws graph_error on an empty or duplicate name or
  /// a bad input reference.
  node_id add_node(node n) {
    if (n.name.empty())
      throw graph_error("graph: node #" + std::to_string(nodes_.size()) + " has an empty name");
    if (index_.count(n.name) != 0) throw graph_error("graph: duplicate node name '" + n.name + "'");
    for (const tensor_ref& r : n.inputs) {  // checked first: a failed add leaves no trace
      if (r.node >= nodes_.size())
        throw graph_error("graph: node '" + n.name + "' reads node #" + std::to_string(r.node) +
                          ", which does not exist");
    }
    const auto id = static_cast<node_id>(nodes_.size());
    std::vector<tensor_ref> ins = std::move(n.inputs);
    n.inputs.clear();
    index_.emplace(n.name, id);
    nodes_.push_back(std::move(n));
    successors_.emplace_back();
    set_inputs(id, std::move(ins));
    return id;
  }

  /// Replaces the operands of node `id`. Throws graph_error when an operand names no node.
  void set_inputs(node_id id, std::vector<tensor_ref> ins) {
    check_id(id);
    for (const tensor_ref& r : ins) {
      if (r.node >= nodes_.size())
        throw graph_error("graph: node '" + nodes_[id].name + "' reads node #" +
                          std::to_string(r.node) + ", which does not exist");
    }
    for (const tensor_ref& r : nodes_[id].inputs) erase_one(successors_[r.node], id);
    nodes_[id].inputs = std::move(ins);
    for (const tensor_ref& r : nodes_[id].inputs) successors_[r.node].push_back(id);
  }

  std::size_t num_nodes() const noexcept { return nodes_.size(); }
  bool empty() const noexcept { return nodes_.empty(); }

  const node& at(node_id id) const {
    check_id(id);
    return nodes_[id];
  }
  const node& operator[](node_id id) const noexcept { return nodes_[id]; }
  /// Mutable access to everything but the inputs (use set_inputs for those).
  node& mutable_node(node_id id) {
    check_id(id);
    return nodes_[id];
  }

  op_kind op(node_id id) const noexcept { return nodes_[id].op; }
  const std::string& name(node_id id) const noexcept { return nodes_[id].name; }
  const std::string& type(node_id id) const noexcept { return nodes_[id].type; }
  dtype elem_type(node_id id) const noexcept { return nodes_[id].elem; }
  const std::vector<tensor_ref>& inputs(node_id id) const noexcept { return nodes_[id].inputs; }
  const std::vector<tensor_shape>& input_shapes(node_id id) const noexcept {
    return nodes_[id].input_shapes;
  }
  const std::vector<tensor_shape>& output_shapes(node_id id) const noexcept {
    return nodes_[id].output_shapes;
  }
  const attributes& attrs(node_id id) const noexcept { return nodes_[id].attrs; }

  /// Producer node of each operand, in operand order (repeats kept).
  predecessor_range predecessors(node_id id) const noexcept {
    const std::vector<tensor_ref>& in = nodes_[id].inputs;
    return predecessor_range(in.data(), in.data() + in.size());
  }
  /// Consumers of the node's outputs, one entry per consuming operand, in the order the
  /// operands were connected.
  const std::vector<node_id>& successors(node_id id) const noexcept { return successors_[id]; }

  /// Index of the node called `name`, if any.
  std::optional<node_id> find(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  const std::vector<node>& nodes() const noexcept { return nodes_; }

  /// Nodes in a topological order (Kahn's algorithm; ready nodes taken in index order, so the
  /// order is the unique smallest one by index). O((V + E) log V). Throws graph_error naming a
  /// node on a cycle.
  std::vector<node_id> topological_order() const {
    const std::size_t n = nodes_.size();
    std::vector<std::size_t> indegree(n, 0);
    for (std::size_t i = 0; i < n; ++i) indegree[i] = nodes_[i].inputs.size();
    std::vector<node_id> order;
    order.reserve(n);
    // Min-heap of ready node indices.
    std::priority_queue<node_id, std::vector<node_id>, std::greater<node_id>> ready;
    for (std::size_t i = 0; i < n; ++i)
      if (indegree[i] == 0) ready.push(static_cast<node_id>(i));
    while (!ready.empty()) {
      const node_id v = ready.top();
      ready.pop();
      order.push_back(v);
      for (node_id s : successors_[v])
        if (--indegree[s] == 0) ready.push(s);
    }
    if (order.size() != n) {
      for (std::size_t i = 0; i < n; ++i)
        if (indegree[i] != 0)
          throw graph_error("graph: cycle through node '" + nodes_[i].name + "'");
    }
    return order;
  }

  /// Checks the invariants the rest of the library relies on; throws graph_error naming the
  /// node: acyclic, operand output indices within the producer's outputs, shapes valid
  /// (dimensions >= 0 or unknown, at most 2^31-1), input_shapes not longer than the operands
  /// plus constant operands.
  void validate() const {
    for (const node& nd : nodes_) {
      for (const tensor_ref& r : nd.inputs) {
        const node& p = nodes_[r.node];
        if (!p.output_shapes.empty() && r.output >= p.output_shapes.size())
          throw graph_error("graph: node '" + nd.name + "' reads output " +
                            std::to_string(r.output) + " of node '" + p.name + "', which has " +
                            std::to_string(p.output_shapes.size()) + " output(s)");
      }
      for (const tensor_shape& s : nd.input_shapes) check_shape(nd, s, "input");
      for (const tensor_shape& s : nd.output_shapes) check_shape(nd, s, "output");
    }
    (void)topological_order();
  }

 private:
  static void erase_one(std::vector<node_id>& v, node_id x) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (*it == x) {
        v.erase(it);
        return;
      }
    }
  }
  static void check_shape(const node& nd, const tensor_shape& s, const char* what) {
    for (auto d : s) {
      if (d < tensor_shape::unknown || d > tensor_shape::max_dim)
        throw graph_error("graph: node '" + nd.name + "' has an " + what + " dimension of " +
                          std::to_string(d) + " (must be in [0, 2^31-1] or -1 for unknown)");
    }
  }
  void check_id(node_id id) const {
    if (id >= nodes_.size())
      throw graph_error("graph: no node #" + std::to_string(id) + " (graph has " +
                        std::to_string(nodes_.size()) + " nodes)");
  }

  std::vector<node> nodes_;
  std::vector<std::vector<node_id>> successors_;
  std::unordered_map<std::string, node_id> index_;
};

NNMETER_END_NAMESPACE
