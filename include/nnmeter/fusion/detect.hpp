// nnmeter — kernel detection: which nodes the device runs as one kernel.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/error.hpp>
#include <nnmeter/fusion/rules.hpp>
#include <nnmeter/ir/graph_concepts.hpp>
#include <nnmeter/ir/graph_traits.hpp>
#include <nnmeter/kernels/cost.hpp>
#include <nnmeter/kernels/kernel.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

NNMETER_BEGIN_NAMESPACE

/// Result of kernel detection.
struct detection {
  /// Kernels in nn-Meter's order (by the topological index of their root).
  std::vector<kernel> kernels;
  /// Nodes that are in no kernel: inputs, constants and identities (nn-Meter's dummy types),
  /// which cost nothing on a device. Every other node is in exactly one kernel.
  std::vector<node_index> free_nodes;
  /// Number of node groups formed (kernels plus groups of free nodes); kernel names count them.
  std::size_t groups = 0;
};

namespace detail {

/// Iteration order of a CPython set of small non-negative ints. nn-Meter keeps kernel
/// successors in Python sets, so the order of a kernel's `outbounds` is the set's table order;
/// reproducing it keeps our output identical to nn-Meter's. Follows CPython's open addressing
/// (linear probes of 9, perturbation shift 5, growth when 3/5 full, 8 slots minimum).
class py_int_set {
 public:
  py_int_set() : table_(8, -1) {}

  void add(std::int64_t key) {
    const std::size_t mask = table_.size() - 1;
    auto perturb = static_cast<std::size_t>(key);
    std::size_t i = static_cast<std::size_t>(key) & mask;
    for (;;) {
      const std::size_t probes = i + linear_probes <= mask ? linear_probes : 0;
      for (std::size_t j = i; j <= i + probes; ++j) {
        if (table_[j] == key) return;
        if (table_[j] == -1) {
          table_[j] = key;
          ++fill_;
          ++used_;
          if (fill_ * 5 >= mask * 3) resize(used_ > 50000 ? used_ * 2 : used_ * 4);
          return;
        }
      }
      perturb >>= 5;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }
  void update(const py_int_set& other) {
    for (std::int64_t k : other.table_)
      if (k != -1) add(k);
  }
  std::size_t size() const noexcept { return used_; }
  /// Elements in iteration order.
  std::vector<std::int64_t> items() const {
    std::vector<std::int64_t> out;
    out.reserve(used_);
    for (std::int64_t k : table_)
      if (k != -1) out.push_back(k);
    return out;
  }

 private:
  static constexpr std::size_t linear_probes = 9;
  static void insert_clean(std::vector<std::int64_t>& t, std::int64_t key) {
    const std::size_t mask = t.size() - 1;
    auto perturb = static_cast<std::size_t>(key);
    std::size_t i = static_cast<std::size_t>(key) & mask;
    for (;;) {
      if (t[i] == -1) {
        t[i] = key;
        return;
      }
      if (i + linear_probes <= mask) {
        for (std::size_t j = 1; j <= linear_probes; ++j) {
          if (t[i + j] == -1) {
            t[i + j] = key;
            return;
          }
        }
      }
      perturb >>= 5;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }
  void resize(std::size_t minused) {
    std::size_t n = 8;
    while (n <= minused) n <<= 1;
    std::vector<std::int64_t> t(n, -1);
    for (std::int64_t k : table_)
      if (k != -1) insert_clean(t, k);
    table_ = std::move(t);
    fill_ = used_;
  }

  std::vector<std::int64_t> table_;
  std::size_t fill_ = 0;
  std::size_t used_ = 0;
};

/// The graph as the detector sees it: a normalised type and the producers of every node.
struct detect_input {
  std::vector<std::string> type_names;  // interned nn-Meter types
  std::vector<int> type;                // per node, index into type_names
  std::vector<std::vector<int>> preds;  // per node, producers in operand order

  int intern(std::string_view t) {
    for (std::size_t i = 0; i < type_names.size(); ++i)
      if (type_names[i] == t) return static_cast<int>(i);
    type_names.emplace_back(t);
    return static_cast<int>(type_names.size() - 1);
  }
  int find(std::string_view t) const {
    for (std::size_t i = 0; i < type_names.size(); ++i)
      if (type_names[i] == t) return static_cast<int>(i);
    return -1;
  }
};

/// One group found by the concrete detector: member nodes (root block first), the node whose
/// attributes describe the group, and the group's fused type.
struct detect_group {
  std::vector<node_index> nodes;
  node_index root = 0;
  std::string op;  // empty for a group of dummy nodes only
  std::vector<std::size_t> out_groups;  // kernel successors, as group indices (nn-Meter order)
};

inline bool is_dummy_type(std::string_view t) noexcept {
  return t == "Const" || t == "Identity" || t == "Placeholder";
}

/// nn-Meter's kernel detector (KernelDetector + RuleSplitter + FusionAwareGraph) on a
/// concrete graph, step for step: fuse multi-op blocks in rule order, order the nodes as
/// networkx's topological sort does, grow kernels with union-find over fusible pairs, and list
/// the groups by root. `node_names` is only used in error messages.
class detector_core {
 public:
  detector_core(detect_input in, const rule_set& rules) : in_(std::move(in)), rules_(rules) {}

  template <class NameFn>
  std::vector<detect_group> run(NameFn&& node_name) {
    build_work_graph();
    for (const block_unit& unit : rules_.units())
      for (const pattern& p : unit.variants) fuse_matches(p, unit.type);
    topological_sort(node_name);
    split();
    return groups();
  }

 private:
  struct work_node {
    int type = 0;
    std::vector<int> in;
    std::vector<int> out;
    node_index src = 0;
    std::vector<node_index> members;
    bool alive = true;
  };

  void build_work_graph() {
    const std::size_t n = in_.type.size();
    w_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      w_[i].type = in_.type[i];
      w_[i].in = in_.preds[i];
      w_[i].src = static_cast<node_index>(i);
      w_[i].members.push_back(static_cast<node_index>(i));
    }
    for (std::size_t i = 0; i < n; ++i)
      for (int p : w_[i].in) w_[static_cast<std::size_t>(p)].out.push_back(static_cast<int>(i));
  }

  static int count(const std::vector<int>& v, int x) {
    int c = 0;
    for (int y : v) c += y == x;
    return c;
  }
  static bool contains(const std::vector<int>& v, int x) {
    for (int y : v)
      if (y == x) return true;
    return false;
  }
  static void remove_first(std::vector<int>& v, int x) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (*it == x) {
        v.erase(it);
        return;
      }
    }
  }

  // --- block fusion (nn-Meter ModelGraph.find_subgraphs + fuse) -----------------------------

  void fuse_matches(const pattern& p, const std::string& unit_type) {
    const std::size_t k = p.vertices.size();
    pt_.assign(k, -2);
    for (std::size_t i = 0; i < k; ++i) {
      if (p.vertices[i].type == pattern_wildcard) {
        pt_[i] = -1;
      } else {
        pt_[i] = in_.find(p.vertices[i].type);
        if (pt_[i] < 0) return;  // a type the graph does not have: no match possible
      }
    }
    // Edge multiplicities of the pattern.
    pe_.assign(k * k, 0);
    for (std::size_t i = 0; i < k; ++i)
      for (int j : p.vertices[i].inputs) ++pe_[static_cast<std::size_t>(j) * k + i];
    pat_ = &p;
    assign_.assign(k, -1);
    used_.assign(w_.size(), 0);
    matches_.clear();
    match_vertex(0);
    const int t = in_.intern(unit_type);
    for (const std::vector<int>& m : matches_) fuse(m, t);
  }

  void match_vertex(std::size_t i) {
    const std::size_t k = pat_->vertices.size();
    if (i == k) {
      std::vector<int> m;
      for (std::size_t v = 0; v < k; ++v)
        if (pt_[v] != -1) m.push_back(assign_[v]);
      matches_.push_back(std::move(m));
      return;
    }
    const std::vector<int>& ins = pat_->vertices[i].inputs;
    if (!ins.empty()) {
      const std::vector<int>& cands = w_[static_cast<std::size_t>(assign_[static_cast<std::size_t>(ins[0])])].out;
      for (std::size_t c = 0; c < cands.size(); ++c) {
        bool seen = false;
        for (std::size_t d = 0; d < c && !seen; ++d) seen = cands[d] == cands[c];
        if (!seen) try_candidate(i, cands[c]);
      }
    } else {
      for (std::size_t c = 0; c < w_.size(); ++c)
        if (w_[c].alive) try_candidate(i, static_cast<int>(c));
    }
  }

  void try_candidate(std::size_t i, int c) {
    const auto cu = static_cast<std::size_t>(c);
    if (used_[cu] || !w_[cu].alive) return;
    if (pt_[i] != -1 && w_[cu].type != pt_[i]) return;
    const std::size_t k = pat_->vertices.size();
    if (count(w_[cu].in, c) != 0) return;  // no self loops in patterns
    for (std::size_t j = 0; j < i; ++j) {
      const int a = assign_[j];
      if (count(w_[cu].in, a) != pe_[j * k + i]) return;                   // a -> c
      if (count(w_[static_cast<std::size_t>(a)].in, c) != pe_[i * k + j]) return;  // c -> a
    }
    assign_[i] = c;
    used_[cu] = 1;
    match_vertex(i + 1);
    used_[cu] = 0;
    assign_[i] = -1;
  }

  void fuse(const std::vector<int>& sub, int type) {
    for (int v : sub)
      if (!w_[static_cast<std::size_t>(v)].alive) return;
    // Root: from the first member, follow inbounds inside the block until none is.
    int root = sub.front();
    for (bool moved = true; moved;) {
      moved = false;
      for (int inb : w_[static_cast<std::size_t>(root)].in) {
        if (contains(sub, inb)) {
          root = inb;
          moved = true;
          break;
        }
      }
    }
    const int name = static_cast<int>(w_.size());
    work_node nn;
    nn.type = type;
    nn.src = w_[static_cast<std::size_t>(root)].src;
    for (int v : sub)
      for (node_index m : w_[static_cast<std::size_t>(v)].members) nn.members.push_back(m);
    w_.push_back(std::move(nn));
    used_.push_back(0);
    for (int v : sub) {
      const std::vector<int> ins = w_[static_cast<std::size_t>(v)].in;
      for (int inb : ins) {
        if (contains(sub, inb)) continue;
        auto& inb_node = w_[static_cast<std::size_t>(inb)];
        if (!contains(w_[static_cast<std::size_t>(name)].in, inb)) w_[static_cast<std::size_t>(name)].in.push_back(inb);
        remove_first(inb_node.out, v);
        if (!contains(inb_node.out, name)) inb_node.out.push_back(name);
      }
      const std::vector<int> outs = w_[static_cast<std::size_t>(v)].out;
      for (int outb : outs) {
        if (contains(sub, outb)) continue;
        auto& out_node = w_[static_cast<std::size_t>(outb)];
        if (!contains(w_[static_cast<std::size_t>(name)].out, outb)) w_[static_cast<std::size_t>(name)].out.push_back(outb);
        remove_first(out_node.in, v);
        if (!contains(out_node.in, name)) out_node.in.push_back(name);
      }
    }
    for (int v : sub) w_[static_cast<std::size_t>(v)].alive = false;
  }

  // --- networkx topological_sort on the MultiDiGraph built from inbounds --------------------

  template <class NameFn>
  void topological_sort(NameFn&& node_name) {
    const std::size_t n = w_.size();
    std::vector<int> order;  // networkx node insertion order
    std::vector<char> added(n, 0);
    std::vector<std::vector<std::pair<int, int>>> succ(n);  // (child, multiplicity)
    std::vector<int> indegree(n, 0);
    auto add_node = [&](int v) {
      if (!added[static_cast<std::size_t>(v)]) {
        added[static_cast<std::size_t>(v)] = 1;
        order.push_back(v);
      }
    };
    std::size_t alive = 0;
    for (std::size_t v = 0; v < n; ++v) {
      if (!w_[v].alive) continue;
      ++alive;
      add_node(static_cast<int>(v));
      for (int u : w_[v].in) {
        add_node(u);
        auto& s = succ[static_cast<std::size_t>(u)];
        bool found = false;
        for (auto& e : s) {
          if (e.first == static_cast<int>(v)) {
            ++e.second;
            found = true;
            break;
          }
        }
        if (!found) s.emplace_back(static_cast<int>(v), 1);
        ++indegree[v];
      }
    }
    dag_.clear();
    std::vector<int> gen;
    for (int v : order)
      if (indegree[static_cast<std::size_t>(v)] == 0) gen.push_back(v);
    std::vector<int> next;
    while (!gen.empty()) {
      next.clear();
      for (int v : gen) {
        dag_.push_back(v);
        for (const auto& e : succ[static_cast<std::size_t>(v)]) {
          int& d = indegree[static_cast<std::size_t>(e.first)];
          d -= e.second;
          if (d == 0) next.push_back(e.first);
        }
      }
      gen.swap(next);
    }
    if (dag_.size() != alive) {
      for (int v : order) {
        if (indegree[static_cast<std::size_t>(v)] > 0)
          throw graph_error("kernel detection: the graph has a cycle through node '" +
                            std::string(node_name(w_[static_cast<std::size_t>(v)].src)) + "'");
      }
    }
  }

  // --- union-find splitting (nn-Meter RuleSplitter.split) -----------------------------------

  std::size_t find(std::size_t p) {
    while (parent_[p] != p) {
      parent_[p] = parent_[parent_[p]];
      p = parent_[p];
    }
    return p;
  }

  void split() {
    const std::size_t n = dag_.size();
    std::vector<std::size_t> rev(w_.size(), 0);
    for (std::size_t i = 0; i < n; ++i) rev[static_cast<std::size_t>(dag_[i])] = i;
    pool_.assign(n, py_int_set());
    outb_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      outb_[i] = i;
      for (int o : w_[static_cast<std::size_t>(dag_[i])].out)
        pool_[i].add(static_cast<std::int64_t>(rev[static_cast<std::size_t>(o)]));
    }
    parent_.resize(n);
    for (std::size_t i = 0; i < n; ++i) parent_[i] = i;
    const int mon = rules_.mon();
    std::ptrdiff_t i = -1;
    while (i < static_cast<std::ptrdiff_t>(n) - 1) {
      ++i;
      const auto ui = static_cast<std::size_t>(i);
      if (find(ui) != ui) continue;
      if (pool_[outb_[ui]].size() == 0) continue;
      if (mon == 0 && pool_[outb_[ui]].size() > 1) continue;
      bool fused = false;
      const std::string& ti = in_.type_names[static_cast<std::size_t>(w_[static_cast<std::size_t>(dag_[ui])].type)];
      for (std::int64_t jj : pool_[outb_[ui]].items()) {
        const auto j = static_cast<std::size_t>(jj);
        if (find(j) != j) continue;
        const std::string& tj = in_.type_names[static_cast<std::size_t>(w_[static_cast<std::size_t>(dag_[j])].type)];
        if (!rules_.is_fusible(ti, tj)) continue;
        const std::size_t ri = find(ui);
        const std::size_t rj = find(j);
        if (ri != rj) parent_[rj] = ri;
        if (mon == 0) {
          outb_[ui] = outb_[j];
        } else {
          py_int_set merged = pool_[outb_[ui]];
          merged.update(pool_[outb_[j]]);
          pool_[outb_[ui]] = std::move(merged);
        }
        fused = true;
        if (mon == 1) break;
      }
      if (fused) --i;
    }
  }

  std::vector<detect_group> groups() {
    const std::size_t n = dag_.size();
    std::vector<std::vector<std::size_t>> members(n);
    for (std::size_t i = 0; i < n; ++i) members[find(i)].push_back(i);
    std::vector<detect_group> out;
    std::vector<std::ptrdiff_t> group_of_root(n, -1);
    for (std::size_t r = 0; r < n; ++r) {
      if (members[r].empty()) continue;
      detect_group g;
      const work_node& root = w_[static_cast<std::size_t>(dag_[r])];
      g.root = root.src;
      for (std::size_t i : members[r]) {
        const work_node& wn = w_[static_cast<std::size_t>(dag_[i])];
        for (node_index m : wn.members) g.nodes.push_back(m);
        const std::string& t = in_.type_names[static_cast<std::size_t>(wn.type)];
        if (is_dummy_type(t)) continue;
        if (!g.op.empty()) g.op += '-';
        g.op += t;
      }
      group_of_root[r] = static_cast<std::ptrdiff_t>(out.size());
      out.push_back(std::move(g));
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (group_of_root[r] < 0) continue;
      detect_group& g = out[static_cast<std::size_t>(group_of_root[r])];
      if (g.op.empty()) continue;
      for (std::int64_t o : pool_[outb_[r]].items()) {
        const std::ptrdiff_t target = group_of_root[find(static_cast<std::size_t>(o))];
        // nn-Meter raises KeyError when a kernel feeds a group without a kernel; we skip it.
        if (target >= 0 && !out[static_cast<std::size_t>(target)].op.empty())
          g.out_groups.push_back(static_cast<std::size_t>(target));
      }
    }
    return out;
  }

  detect_input in_;
  const rule_set& rules_;
  std::vector<work_node> w_;
  // matcher state
  const pattern* pat_ = nullptr;
  std::vector<int> pt_;
  std::vector<int> pe_;
  std::vector<int> assign_;
  std::vector<char> used_;
  std::vector<std::vector<int>> matches_;
  // splitter state
  std::vector<int> dag_;
  std::vector<py_int_set> pool_;
  std::vector<std::size_t> outb_;
  std::vector<std::size_t> parent_;
};

template <class G>
std::string node_display_name(const G& g, node_id_t<G> n) {
  if constexpr (has_node_names_v<G>) {
    return std::string(graph_traits<G>::name(g, n));
  } else {
    return "n" + std::to_string(static_cast<std::size_t>(n));
  }
}

template <class G>
std::string_view node_rule_type(const G& g, node_id_t<G> n, std::string& storage) {
  const op_kind k = graph_traits<G>::op(g, n);
  if (k == op_kind::other) {
    if constexpr (has_node_types_v<G>) {
      storage = std::string(graph_traits<G>::type(g, n));
      if (!storage.empty()) return storage;
    }
    return "other";
  }
  return nnmeter_type(k);
}

template <class Range>
std::vector<tensor_shape> to_shapes(const Range& r) {
  std::vector<tensor_shape> out;
  for (const tensor_shape& s : r) out.push_back(s);
  return out;
}

}  // namespace detail

/// Detects the kernels of graph `g` under `rules`, exactly as nn-Meter's kernel detector does
/// (same kernels, order, names, configurations and neighbours), without its crashes: nodes of
/// any type are kept, groups without a kernel are listed in `free_nodes`. Throws graph_error
/// on a cycle or an operand naming no node.
template <class G>
NNMETER_REQUIRES(is_op_graph_v<G>)
detection detect(const G& g, const rule_set& rules) {
  static_assert(is_op_graph_v<G>,
                "G does not model nnmeter::op_graph: specialise nnmeter::graph_traits<G> "
                "(see docs/concepts.md)");
  using traits = graph_traits<G>;
  using id = node_id_t<G>;
  const std::size_t n = traits::num_nodes(g);
  detail::detect_input in;
  in.type.resize(n);
  in.preds.resize(n);
  std::string storage;
  for (std::size_t i = 0; i < n; ++i) {
    const id v = static_cast<id>(i);
    in.type[i] = in.intern(detail::node_rule_type(g, v, storage));
    for (auto p : traits::predecessors(g, v)) {
      const auto pi = static_cast<std::size_t>(p);
      if (pi >= n)
        throw graph_error("kernel detection: node '" + detail::node_display_name(g, v) +
                          "' reads node #" + std::to_string(pi) + ", which does not exist");
      in.preds[i].push_back(static_cast<int>(pi));
    }
  }
  detail::detector_core core(std::move(in), rules);
  std::vector<detail::detect_group> groups =
      core.run([&](node_index i) { return detail::node_display_name(g, static_cast<id>(i)); });

  detection result;
  result.groups = groups.size();
  std::vector<std::ptrdiff_t> kernel_of_group(groups.size(), -1);
  std::vector<std::ptrdiff_t> kernel_of_node(n, -1);
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    detail::detect_group& grp = groups[gi];
    if (grp.op.empty()) {
      for (node_index m : grp.nodes) result.free_nodes.push_back(m);
      continue;
    }
    kernel k;
    k.op = grp.op;
    k.name = grp.op + "#" + std::to_string(gi);
    k.kind = kernel_kind_of(k.op);
    k.nodes = grp.nodes;
    const id root = static_cast<id>(grp.root);
    k.input_tensors = detail::to_shapes(traits::input_shapes(g, root));
    k.output_tensors = detail::to_shapes(traits::output_shapes(g, root));
    const std::string_view root_type = detail::node_rule_type(g, root, storage);
    // nn-Meter's convert_nodes: element-wise ops with a scalar operand report the tensor
    // operand's shape for every operand.
    if ((root_type == "add" || root_type == "mul" || root_type == "div" || root_type == "sub") &&
        !k.input_tensors.empty()) {
      const tensor_shape s = k.input_tensors[0].rank() > 0 || k.input_tensors.size() < 2
                                 ? k.input_tensors[0]
                                 : k.input_tensors[1];
      for (tensor_shape& t : k.input_tensors) t = s;
    }
    const std::size_t dash = k.op.find('-');
    if (k.op.compare(0, dash, "hswish") == 0 && k.input_tensors.size() > 1)
      k.input_tensors.resize(1);
    if (!k.input_tensors.empty()) {
      const tensor_shape& x = k.input_tensors[0];
      if (x.rank() == 4) {
        k.inputh = x[1];
        k.inputw = x[2];
      }
      if (x.rank() > 0) k.cin = x.back();
    }
    if (k.output_tensors.size() == 1 && k.output_tensors[0].rank() > 0)
      k.cout = k.output_tensors[0].back();
    const auto& a = traits::attrs(g, root);
    const attributes& ra = a;
    if (ra.has_window()) {
      k.ks = ra.kernel;
      k.strides = ra.strides;
    }
    const op_kind root_op = traits::op(g, root);
    if (root_op == op_kind::split) k.split_dim = ra.axis;
    k.dilations = ra.dilations;
    k.groups = ra.groups;
    if constexpr (has_elem_types_v<G>) k.elem = traits::elem_type(g, root);
    kernel_of_group[gi] = static_cast<std::ptrdiff_t>(result.kernels.size());
    for (node_index m : k.nodes) kernel_of_node[m] = static_cast<std::ptrdiff_t>(result.kernels.size());
    result.kernels.push_back(std::move(k));
  }
  // Connections in nn-Meter's order: successors by root, predecessors appended as found.
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    if (kernel_of_group[gi] < 0) continue;
    const auto ki = static_cast<std::size_t>(kernel_of_group[gi]);
    for (std::size_t target : groups[gi].out_groups) {
      const auto kt = static_cast<std::size_t>(kernel_of_group[target]);
      result.kernels[ki].outbounds.push_back(kt);
      result.kernels[kt].inbounds.push_back(ki);
    }
  }
  // FLOPs and memory traffic: weights, operands from outside the kernel, outputs used outside.
  std::vector<char> consumed_outside(n, 0);
  std::vector<char> has_consumer(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto p : traits::predecessors(g, static_cast<id>(i))) {
      const auto pi = static_cast<std::size_t>(p);
      has_consumer[pi] = 1;
      if (kernel_of_node[pi] != kernel_of_node[i]) consumed_outside[pi] = 1;
    }
  }
  for (kernel& k : result.kernels) {
    const double elem_bytes = static_cast<double>(size_of(k.elem));
    const std::ptrdiff_t self = kernel_of_node[k.nodes.front()];
    for (node_index m : k.nodes) {
      const id v = static_cast<id>(m);
      const std::vector<tensor_shape> ins = detail::to_shapes(traits::input_shapes(g, v));
      const std::vector<tensor_shape> outs = detail::to_shapes(traits::output_shapes(g, v));
      const attributes& ma = traits::attrs(g, v);
      const node_cost c = cost_of(traits::op(g, v), ins.data(), ins.size(), outs.data(), outs.size(), ma);
      k.flops += c.flops;
      k.bytes += c.params * elem_bytes;
      std::size_t operand = 0;
      for (auto p : traits::predecessors(g, v)) {
        if (kernel_of_node[static_cast<std::size_t>(p)] != self && operand < ins.size())
          k.bytes += static_cast<double>(ins[operand].num_elements()) * elem_bytes;
        ++operand;
      }
      if (consumed_outside[m] || !has_consumer[m])
        for (const tensor_shape& s : outs) k.bytes += static_cast<double>(s.num_elements()) * elem_bytes;
    }
  }
  return result;
}

/// The kernels of `g` under `rules` (see detect()).
template <class G>
NNMETER_REQUIRES(is_op_graph_v<G>)
std::vector<kernel> detect_kernels(const G& g, const rule_set& rules) {
  return detect(g, rules).kernels;
}

/// The kernels of `g` under the default rules (nn-Meter's TFLite CPU rules).
template <class G>
NNMETER_REQUIRES(is_op_graph_v<G>)
std::vector<kernel> detect_kernels(const G& g) {
  const rule_set rules = default_rules();
  return detect(g, rules).kernels;
}

NNMETER_END_NAMESPACE
