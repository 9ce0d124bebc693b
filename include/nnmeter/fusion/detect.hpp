// nnmeter — kernel detection: which nodes the device runs as one kernel.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/detail/small_vector.hpp>
#include <nnmeter/error.hpp>
#include <nnmeter/fusion/rules.hpp>
#include <nnmeter/ir/graph_concepts.hpp>
#include <nnmeter/ir/graph_traits.hpp>
#include <nnmeter/ir/shape_rules.hpp>
#include <nnmeter/kernels/cost.hpp>
#include <nnmeter/kernels/kernel.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
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
/// (linear probes of 9, perturbation shift 5, growth when 3/5 full, 8 slots minimum). The
/// 8-slot table, enough for up to four elements, is stored inline.
class py_int_set {
 public:
  py_int_set() noexcept {
    for (std::int64_t& k : small_) k = -1;
  }

  void add(std::int64_t key) {
    std::int64_t* t = table();
    const std::size_t mask = capacity() - 1;
    auto perturb = static_cast<std::size_t>(key);
    std::size_t i = static_cast<std::size_t>(key) & mask;
    for (;;) {
      const std::size_t probes = i + linear_probes <= mask ? linear_probes : 0;
      for (std::size_t j = i; j <= i + probes; ++j) {
        if (t[j] == key) return;
        if (t[j] == -1) {
          t[j] = key;
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
    const std::int64_t* t = other.table();
    for (std::size_t i = 0; i < other.capacity(); ++i)
      if (t[i] != -1) add(t[i]);
  }
  std::size_t size() const noexcept { return used_; }
  /// Calls f(element) in iteration order.
  template <class F>
  void for_each(F&& f) const {
    const std::int64_t* t = table();
    for (std::size_t i = 0; i < capacity(); ++i)
      if (t[i] != -1) f(t[i]);
  }
  /// Elements in iteration order.
  std::vector<std::int64_t> items() const {
    std::vector<std::int64_t> out;
    out.reserve(used_);
    for_each([&](std::int64_t k) { out.push_back(k); });
    return out;
  }

 private:
  static constexpr std::size_t linear_probes = 9;
  std::int64_t* table() noexcept { return big_.empty() ? small_ : big_.data(); }
  const std::int64_t* table() const noexcept { return big_.empty() ? small_ : big_.data(); }
  std::size_t capacity() const noexcept { return big_.empty() ? 8 : big_.size(); }

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
    for_each([&](std::int64_t k) { insert_clean(t, k); });
    big_ = std::move(t);
    fill_ = used_;
  }

  std::int64_t small_[8];
  std::vector<std::int64_t> big_;
  std::size_t fill_ = 0;
  std::size_t used_ = 0;
};

/// The graph as the detector sees it: a normalised type and the producers of every node
/// (compressed rows: the producers of node i are pred_data[pred_begin[i] .. pred_begin[i+1])).
/// The type table outlives one graph (a reused kernel_detector interns each type once);
/// `present` says which types the current graph uses.
struct detect_input {
  std::vector<std::string> type_names;  // interned nn-Meter types
  std::vector<char> present;            // per type: used by the current graph
  std::vector<int> type;                // per node, index into type_names
  std::vector<std::size_t> pred_begin{0};
  std::vector<int> pred_data;
  /// Slice partitions (compressed rows, members in piece order): each enters detection as one
  /// node of type "split", before any unit is fused.
  std::vector<std::size_t> partition_begin{0};
  std::vector<int> partition_data;

  /// Starts a graph of n nodes.
  void reset(std::size_t n) {
    std::fill(present.begin(), present.end(), static_cast<char>(0));
    type.resize(n);
    pred_begin.clear();
    pred_begin.push_back(0);
    pred_data.clear();
    partition_begin.clear();
    partition_begin.push_back(0);
    partition_data.clear();
  }
  /// Id of type t, which the current graph uses from now on.
  int intern(std::string_view t) {
    for (std::size_t i = 0; i < type_names.size(); ++i) {
      if (type_names[i] == t) {
        present[i] = 1;
        return static_cast<int>(i);
      }
    }
    type_names.emplace_back(t);
    present.push_back(1);
    return static_cast<int>(type_names.size() - 1);
  }
  /// Id of type t if the current graph uses it, else -1.
  int find(std::string_view t) const {
    for (std::size_t i = 0; i < type_names.size(); ++i)
      if (present[i] && type_names[i] == t) return static_cast<int>(i);
    return -1;
  }
};

/// One group found by the concrete detector: member nodes (root block first), the node whose
/// attributes describe the group, and the group's fused type.
struct detect_group {
  std::vector<node_index> nodes;
  node_index root = 0;
  node_index exit = 0;  // last member of the root's block (== root when the root is one node)
  std::string op;  // empty for a group of dummy nodes only
  std::vector<std::size_t> out_groups;  // kernel successors, as group indices (nn-Meter order)
};

inline bool is_dummy_type(std::string_view t) noexcept {
  return t == "Const" || t == "Identity" || t == "Placeholder";
}

/// nn-Meter's kernel detector (KernelDetector + RuleSplitter + FusionAwareGraph) on a
/// concrete graph, step for step: fuse multi-op blocks in rule order, order the nodes as
/// networkx's topological sort does, grow kernels with union-find over fusible pairs, and list
/// the groups by root. Its buffers are kept from one run to the next.
class detector_core {
 public:
  /// Detects the groups of `in` under `rules` into out[0 .. returned count); elements of `out`
  /// are reused. `node_name(i)` names original node i in error messages.
  template <class NameFn>
  std::size_t run(detect_input& in, const rule_set& rules, NameFn&& node_name,
                  std::vector<detect_group>& out) {
    in_ = &in;
    rules_ = &rules;
    build_work_graph();
    fuse_partitions();
    for (const block_unit& unit : rules.units())
      for (const pattern& p : unit.variants) fuse_matches(p, unit.type);
    topological_sort(node_name);
    split();
    return groups(out);
  }

 private:
  using edges = small_vector<int, 4>;
  struct work_node {
    int type = 0;
    edges in;
    edges out;
    node_index src = 0;
    int first = -1;  // first member (original node), linked through next_member_
    int last = -1;
    bool alive = true;
  };

  void build_work_graph() {
    const detect_input& in = *in_;
    const std::size_t n = in.type.size();
    w_.clear();
    w_.reserve(n + n / 2 + 8);  // fused nodes are appended; avoid moving nodes around
    w_.resize(n);
    next_member_.assign(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
      work_node& wn = w_[i];
      wn.type = in.type[i];
      for (std::size_t e = in.pred_begin[i]; e < in.pred_begin[i + 1]; ++e)
        wn.in.push_back(in.pred_data[e]);
      wn.src = static_cast<node_index>(i);
      wn.first = wn.last = static_cast<int>(i);
    }
    for (std::size_t i = 0; i < n; ++i)
      for (int p : w_[i].in) w_[static_cast<std::size_t>(p)].out.push_back(static_cast<int>(i));
  }

  work_node& at(int v) { return w_[static_cast<std::size_t>(v)]; }

  // --- block fusion (nn-Meter ModelGraph.find_subgraphs + fuse) -----------------------------

  void fuse_matches(const pattern& p, const std::string& unit_type) {
    const std::size_t k = p.vertices.size();
    pt_.assign(k, -2);
    for (std::size_t i = 0; i < k; ++i) {
      if (p.vertices[i].type == pattern_wildcard) {
        pt_[i] = -1;
      } else {
        pt_[i] = in_->find(p.vertices[i].type);
        if (pt_[i] < 0) return;  // a type the graph does not have: no match possible
      }
    }
    // Edge multiplicities of the pattern.
    pe_.assign(k * k, 0);
    for (std::size_t i = 0; i < k; ++i)
      for (int j : p.vertices[i].inputs) ++pe_[static_cast<std::size_t>(j) * k + i];
    pat_ = &p;
    // For each source vertex, the types its consumers in the pattern must have (a cheap
    // filter before the full test; it never rejects a real match).
    if (need_.size() < k) need_.resize(k);
    for (std::size_t j = 0; j < k; ++j) need_[j].clear();
    for (std::size_t j = 0; j < k; ++j) {
      const std::vector<int>& ins = p.vertices[j].inputs;
      if (!ins.empty() && p.vertices[static_cast<std::size_t>(ins[0])].inputs.empty() && pt_[j] != -1)
        need_[static_cast<std::size_t>(ins[0])].push_back(pt_[j]);
    }
    assign_.assign(k, -1);
    used_.assign(w_.size(), 0);
    matches_.clear();
    match_vertex(0);
    if (matches_.empty()) return;
    const int t = in_->intern(unit_type);
    const std::size_t real = static_cast<std::size_t>(std::count_if(
        pt_.begin(), pt_.end(), [](int x) { return x != -1; }));
    for (std::size_t m = 0; m + real <= matches_.size(); m += real)
      fuse(matches_.data() + m, real, t);
  }

  void match_vertex(std::size_t i) {
    const std::size_t k = pat_->vertices.size();
    if (i == k) {
      for (std::size_t v = 0; v < k; ++v)
        if (pt_[v] != -1) matches_.push_back(assign_[v]);
      return;
    }
    const std::vector<int>& ins = pat_->vertices[i].inputs;
    if (!ins.empty()) {
      const edges& cands = at(assign_[static_cast<std::size_t>(ins[0])]).out;
      for (std::size_t c = 0; c < cands.size(); ++c) {
        bool seen = false;
        for (std::size_t d = 0; d < c && !seen; ++d) seen = cands[d] == cands[c];
        if (!seen) try_candidate(i, cands[c]);
      }
    } else {
      for (std::size_t c = 0; c < w_.size(); ++c) {
        if (!w_[c].alive || (pt_[i] != -1 && w_[c].type != pt_[i])) continue;
        if (has_needed_consumers(w_[c], need_[i])) try_candidate(i, static_cast<int>(c));
      }
    }
  }

  bool has_needed_consumers(const work_node& c, const std::vector<int>& types) const {
    for (int t : types) {
      bool found = false;
      for (int o : c.out) found = found || w_[static_cast<std::size_t>(o)].type == t;
      if (!found) return false;
    }
    return true;
  }

  void try_candidate(std::size_t i, int c) {
    const auto cu = static_cast<std::size_t>(c);
    if (used_[cu] || !w_[cu].alive) return;
    if (pt_[i] != -1 && w_[cu].type != pt_[i]) return;
    const std::size_t k = pat_->vertices.size();
    const edges& cin = w_[cu].in;
    if (cin.contains(c)) return;  // no self loops in patterns
    for (std::size_t j = 0; j < i; ++j) {
      const int a = assign_[j];
      if (static_cast<int>(cin.count(a)) != pe_[j * k + i]) return;          // a -> c
      if (static_cast<int>(at(a).in.count(c)) != pe_[i * k + j]) return;     // c -> a
    }
    assign_[i] = c;
    used_[cu] = 1;
    match_vertex(i + 1);
    used_[cu] = 0;
    assign_[i] = -1;
  }

  static bool in_block(const int* sub, std::size_t n, int v) {
    for (std::size_t i = 0; i < n; ++i)
      if (sub[i] == v) return true;
    return false;
  }

  void fuse(const int* sub, std::size_t n, int type) {
    for (std::size_t i = 0; i < n; ++i)
      if (!at(sub[i]).alive) return;
    // Root: from the first member, follow inbounds inside the block until none is.
    int root = sub[0];
    for (bool moved = true; moved;) {
      moved = false;
      for (int inb : at(root).in) {
        if (in_block(sub, n, inb)) {
          root = inb;
          moved = true;
          break;
        }
      }
    }
    const int name = static_cast<int>(w_.size());
    work_node nn;
    nn.type = type;
    nn.src = at(root).src;
    for (std::size_t i = 0; i < n; ++i) {  // members in block order
      const work_node& m = at(sub[i]);
      if (nn.first < 0)
        nn.first = m.first;
      else
        next_member_[static_cast<std::size_t>(nn.last)] = m.first;
      nn.last = m.last;
    }
    w_.push_back(std::move(nn));
    used_.push_back(0);
    for (std::size_t i = 0; i < n; ++i) {
      const int v = sub[i];
      const edges ins = at(v).in;
      for (int inb : ins) {
        if (in_block(sub, n, inb)) continue;
        work_node& inb_node = at(inb);
        if (!at(name).in.contains(inb)) at(name).in.push_back(inb);
        inb_node.out.erase_first(v);
        if (!inb_node.out.contains(name)) inb_node.out.push_back(name);
      }
      const edges outs = at(v).out;
      for (int outb : outs) {
        if (in_block(sub, n, outb)) continue;
        work_node& out_node = at(outb);
        if (!at(name).out.contains(outb)) at(name).out.push_back(outb);
        out_node.in.erase_first(v);
        if (!out_node.in.contains(name)) out_node.in.push_back(name);
      }
    }
    for (std::size_t i = 0; i < n; ++i) at(sub[i]).alive = false;
  }

  // Slices that partition one tensor become one split node, as a Split operator would be.
  void fuse_partitions() {
    const detect_input& in = *in_;
    if (in.partition_begin.size() < 2) return;
    const int t = in_->intern("split");
    for (std::size_t p = 0; p + 1 < in.partition_begin.size(); ++p)
      fuse(in.partition_data.data() + in.partition_begin[p],
           in.partition_begin[p + 1] - in.partition_begin[p], t);
  }

  // --- networkx topological_sort on the MultiDiGraph built from inbounds --------------------

  struct child_edges {
    int child;
    int count;
  };

  template <class NameFn>
  void topological_sort(NameFn&& node_name) {
    const std::size_t n = w_.size();
    std::vector<int>& order = order_;  // networkx node insertion order
    order.clear();
    order.reserve(n);
    std::vector<char>& added = added_;
    added.assign(n, 0);
    // (child, multiplicity) per node, first-seen order
    std::vector<small_vector<child_edges, 4>>& succ = succ_;
    if (succ.size() < n) succ.resize(n);
    for (std::size_t v = 0; v < n; ++v) succ[v].clear();
    std::vector<int>& indegree = indegree_;
    indegree.assign(n, 0);
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
        // Children are added in increasing v, all of v's edges before the next v: an earlier
        // edge u -> v is the last entry of succ[u]. (A search of the whole list made a tensor
        // with F readers cost F^2 / 2 steps: 62 % of `nnmeter kernels` on 10^5 readers.)
        auto& s = succ[static_cast<std::size_t>(u)];
        if (!s.empty() && s[s.size() - 1].child == static_cast<int>(v))
          ++s[s.size() - 1].count;
        else
          s.push_back({static_cast<int>(v), 1});
        ++indegree[v];
      }
    }
    dag_.clear();
    dag_.reserve(alive);
    std::vector<int>& gen = gen_;
    gen.clear();
    for (int v : order)
      if (indegree[static_cast<std::size_t>(v)] == 0) gen.push_back(v);
    std::vector<int>& next = next_;
    while (!gen.empty()) {
      next.clear();
      for (int v : gen) {
        dag_.push_back(v);
        for (const child_edges& e : succ[static_cast<std::size_t>(v)]) {
          int& d = indegree[static_cast<std::size_t>(e.child)];
          d -= e.count;
          if (d == 0) next.push_back(e.child);
        }
      }
      gen.swap(next);
    }
    if (dag_.size() != alive) {
      for (int v : order) {
        if (indegree[static_cast<std::size_t>(v)] > 0)
          throw graph_error("kernel detection: the graph has a cycle through node '" +
                            std::string(node_name(at(v).src)) + "'");
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
    std::vector<std::size_t>& rev = rev_;
    rev.assign(w_.size(), 0);
    for (std::size_t i = 0; i < n; ++i) rev[static_cast<std::size_t>(dag_[i])] = i;
    pool_.assign(n, py_int_set());
    outb_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      outb_[i] = i;
      for (int o : at(dag_[i]).out)
        pool_[i].add(static_cast<std::int64_t>(rev[static_cast<std::size_t>(o)]));
    }
    parent_.resize(n);
    for (std::size_t i = 0; i < n; ++i) parent_[i] = i;
    // Fusible pairs as a type-id matrix, so the loop compares integers.
    const std::size_t nt = in_->type_names.size();
    std::vector<char>& fusible = fusible_;
    fusible.assign(nt * nt, 0);
    for (const auto& pr : rules_->fusible_pairs()) {
      const int a = in_->find(pr.first);
      const int b = in_->find(pr.second);
      if (a >= 0 && b >= 0) fusible[static_cast<std::size_t>(a) * nt + static_cast<std::size_t>(b)] = 1;
    }
    const int mon = rules_->mon();
    std::vector<std::int64_t>& frontier = frontier_;
    std::ptrdiff_t i = -1;
    while (i < static_cast<std::ptrdiff_t>(n) - 1) {
      ++i;
      const auto ui = static_cast<std::size_t>(i);
      if (find(ui) != ui) continue;
      if (pool_[outb_[ui]].size() == 0) continue;
      if (mon == 0 && pool_[outb_[ui]].size() > 1) continue;
      bool fused = false;
      const auto ti = static_cast<std::size_t>(at(dag_[ui]).type);
      frontier.clear();
      pool_[outb_[ui]].for_each([&](std::int64_t x) { frontier.push_back(x); });
      for (std::int64_t jj : frontier) {
        const auto j = static_cast<std::size_t>(jj);
        if (find(j) != j) continue;
        const auto tj = static_cast<std::size_t>(at(dag_[j]).type);
        if (!fusible[ti * nt + tj]) continue;
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

  std::size_t groups(std::vector<detect_group>& out) {
    const std::size_t n = dag_.size();
    // Members of each root, in topological order (compressed rows).
    std::vector<std::size_t>& root_of = root_of_;
    root_of.resize(n);
    std::vector<std::size_t>& count = count_;
    count.assign(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      root_of[i] = find(i);
      ++count[root_of[i] + 1];
    }
    for (std::size_t r = 0; r < n; ++r) count[r + 1] += count[r];
    std::vector<std::size_t>& rows = rows_;
    rows.resize(n);
    std::vector<std::size_t>& fill = fill_;
    fill.assign(count.begin(), count.end() - 1);
    for (std::size_t i = 0; i < n; ++i) rows[fill[root_of[i]]++] = i;

    const detect_input& in = *in_;
    std::vector<char>& dummy = dummy_;
    dummy.resize(in.type_names.size());
    for (std::size_t t = 0; t < dummy.size(); ++t) dummy[t] = is_dummy_type(in.type_names[t]) ? 1 : 0;
    std::size_t ng = 0;
    out.reserve(n);
    std::vector<std::ptrdiff_t>& group_of_root = group_of_root_;
    group_of_root.assign(n, -1);
    for (std::size_t r = 0; r < n; ++r) {
      if (count[r] == count[r + 1]) continue;
      if (ng == out.size()) out.emplace_back();
      detect_group& g = out[ng];
      g.nodes.clear();
      g.op.clear();
      g.out_groups.clear();
      g.root = at(dag_[r]).src;
      g.exit = static_cast<node_index>(at(dag_[r]).last);
      for (std::size_t e = count[r]; e < count[r + 1]; ++e) {
        const work_node& wn = at(dag_[rows[e]]);
        for (int m = wn.first; m >= 0; m = m == wn.last ? -1 : next_member_[static_cast<std::size_t>(m)])
          g.nodes.push_back(static_cast<node_index>(m));
        const auto t = static_cast<std::size_t>(wn.type);
        if (dummy[t]) continue;
        if (!g.op.empty()) g.op += '-';
        g.op += in.type_names[t];
      }
      group_of_root[r] = static_cast<std::ptrdiff_t>(ng);
      ++ng;
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (group_of_root[r] < 0) continue;
      detect_group& g = out[static_cast<std::size_t>(group_of_root[r])];
      if (g.op.empty()) continue;
      pool_[outb_[r]].for_each([&](std::int64_t o) {
        const std::ptrdiff_t target = group_of_root[find(static_cast<std::size_t>(o))];
        // nn-Meter raises KeyError when a kernel feeds a group without a kernel; we skip it.
        if (target >= 0 && !out[static_cast<std::size_t>(target)].op.empty())
          g.out_groups.push_back(static_cast<std::size_t>(target));
      });
    }
    return ng;
  }

  detect_input* in_ = nullptr;
  const rule_set* rules_ = nullptr;
  std::vector<work_node> w_;
  std::vector<int> next_member_;
  // matcher state
  const pattern* pat_ = nullptr;
  std::vector<int> pt_;
  std::vector<int> pe_;
  std::vector<std::vector<int>> need_;
  std::vector<int> assign_;
  std::vector<char> used_;
  std::vector<int> matches_;  // concatenated matches, real vertices only
  // splitter state
  std::vector<int> dag_;
  std::vector<py_int_set> pool_;
  std::vector<std::size_t> outb_;
  std::vector<std::size_t> parent_;
  // scratch kept between runs
  std::vector<int> order_, indegree_, gen_, next_;
  std::vector<char> added_, fusible_, dummy_;
  std::vector<small_vector<child_edges, 4>> succ_;
  std::vector<std::int64_t> frontier_;
  std::vector<std::size_t> rev_, root_of_, count_, rows_, fill_;
  std::vector<std::ptrdiff_t> group_of_root_;
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

// Replaces the contents of `out` with the shapes of range r (keeps out's capacity).
template <class Range>
void assign_shapes(std::vector<tensor_shape>& out, const Range& r) {
  out.clear();
  for (const tensor_shape& s : r) out.push_back(s);
}

// Gives contiguous shape storage for a range: the range's own when it is a std::vector of
// shapes, else a copy into `buffer` (reused across calls, so it stops allocating).
inline const std::vector<tensor_shape>& as_shape_vector(const std::vector<tensor_shape>& r,
                                                        std::vector<tensor_shape>&) {
  return r;
}
template <class Range>
const std::vector<tensor_shape>& as_shape_vector(const Range& r, std::vector<tensor_shape>& buffer) {
  buffer.clear();
  for (const tensor_shape& s : r) buffer.push_back(s);
  return buffer;
}

// One slice that takes a contiguous block of its operand (shape_rules::contiguous_slice).
struct slice_piece {
  std::size_t tensor;  // producer node of the sliced tensor (it has one output)
  std::int64_t axis;
  std::int64_t begin;
  std::int64_t end;
  std::int64_t extent;  // size of the sliced axis
  std::size_t node;
};

// Number of elements of a range (iterated: graph_traits ranges need not have size()).
template <class Range>
std::size_t range_count(const Range& r) {
  std::size_t c = 0;
  for (const auto& x : r) {
    (void)x;
    ++c;
  }
  return c;
}

}  // namespace detail

/// Options of kernel detection.
struct detect_options {
  /// Compute kernel::flops and kernel::bytes (they feed only feature_set::extended). Off, both
  /// stay 0 and detection is a little faster.
  bool costs = true;
};

/// Reusable kernel detection. detect() allocates its result afresh; a kernel_detector keeps
/// every buffer, the result's kernels included, from one run to the next, so detecting many
/// graphs (a NAS loop) stops allocating once it is warm. One instance per thread.
class kernel_detector {
 public:
  /// Detects the kernels of `g` under `rules` (same result as detect()). The reference stays
  /// valid until the next run() or take().
  template <class G>
  NNMETER_REQUIRES(is_op_graph_v<G>)
  const detection& run(const G& g, const rule_set& rules, const detect_options& options = {});

  /// Detects the kernels of `g` into `out`, reusing out's storage (its kernels' vectors and
  /// strings) instead of the detector's own result. Same result as detect().
  template <class G>
  NNMETER_REQUIRES(is_op_graph_v<G>)
  void run_into(const G& g, const rule_set& rules, detection& out,
                const detect_options& options = {}) {
    struct swap_back {  // the detector keeps its own result whatever happens
      detection& a;
      detection& b;
      ~swap_back() { std::swap(a, b); }
    };
    std::swap(result_, out);
    swap_back guard{result_, out};
    run(g, rules, options);
  }

  /// The last result.
  const detection& result() const noexcept { return result_; }
  /// Moves the last result out.
  detection take() noexcept { return std::move(result_); }

 private:
  detail::detect_input in_;
  detail::detector_core core_;
  std::vector<detail::detect_group> groups_;
  detection result_;
  std::vector<std::ptrdiff_t> kernel_of_group_;
  std::vector<std::ptrdiff_t> kernel_of_node_;
  std::vector<detail::slice_piece> pieces_;
  std::vector<std::ptrdiff_t> partition_of_node_;
  std::vector<std::int64_t> partition_axis_;
  std::vector<char> consumed_outside_;
  std::vector<char> has_consumer_;
  std::vector<char> one_output_;
  std::vector<std::size_t> read_by_;
  std::vector<tensor_shape> in_buffer_;
  std::vector<tensor_shape> out_buffer_;
  std::string storage_;
};

template <class G>
NNMETER_REQUIRES(is_op_graph_v<G>)
const detection& kernel_detector::run(const G& g, const rule_set& rules,
                                      const detect_options& options) {
  static_assert(is_op_graph_v<G>,
                "G does not model nnmeter::op_graph: specialise nnmeter::graph_traits<G> "
                "(see docs/concepts.md)");
  using traits = graph_traits<G>;
  using id = node_id_t<G>;
  const std::size_t n = traits::num_nodes(g);
  detail::detect_input& in = in_;
  in.reset(n);
  in.pred_begin.reserve(n + 1);
  in.pred_data.reserve(n + n / 2);
  std::string& storage = storage_;
  int kind_type[op_kind_count];  // interned type of each op kind, once seen (not for `other`)
  for (int& t : kind_type) t = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const id v = static_cast<id>(i);
    const op_kind ok = traits::op(g, v);
    const auto oki = static_cast<std::size_t>(ok);
    if (ok != op_kind::other && oki < op_kind_count) {
      if (kind_type[oki] < 0) kind_type[oki] = in.intern(nnmeter_type(ok));
      in.type[i] = kind_type[oki];
    } else {
      in.type[i] = in.intern(detail::node_rule_type(g, v, storage));
    }
    for (auto p : traits::predecessors(g, v)) {
      const auto pi = static_cast<std::size_t>(p);
      if (pi >= n)
        throw graph_error("kernel detection: node '" + detail::node_display_name(g, v) +
                          "' reads node #" + std::to_string(pi) + ", which does not exist");
      in.pred_data.push_back(static_cast<int>(pi));
    }
    in.pred_begin.push_back(in.pred_data.size());
  }
  // Slices that partition one tensor: the slices of a tensor (from a producer with one
  // output) along one axis, each a contiguous block (step 1), when their blocks tile the axis
  // exactly (sorted, the first starts at 0, each starts where the previous ends, the last ends
  // at the axis' size; two at least). Each partition enters detection as one split node.
  std::vector<detail::slice_piece>& pieces = pieces_;
  pieces.clear();
  std::vector<std::ptrdiff_t>& partition_of_node = partition_of_node_;
  partition_of_node.assign(n, -1);
  partition_axis_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const id v = static_cast<id>(i);
    if (traits::op(g, v) != op_kind::slice || in.pred_begin[i] == in.pred_begin[i + 1]) continue;
    const auto p = static_cast<std::size_t>(in.pred_data[in.pred_begin[i]]);
    const auto& outs = traits::output_shapes(g, static_cast<id>(p));
    if (detail::range_count(outs) != 1) continue;  // which output the slice reads is unknown
    tensor_shape x;
    for (const tensor_shape& t : outs) x = t;
    const auto& va = traits::attrs(g, v);
    const std::optional<shape_rules::slice_block> b = shape_rules::contiguous_slice(va, x);
    if (b)
      pieces.push_back({p, b->axis, b->begin, b->end, x[static_cast<std::ptrdiff_t>(b->axis)], i});
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const detail::slice_piece& a, const detail::slice_piece& b) {
              if (a.tensor != b.tensor) return a.tensor < b.tensor;
              if (a.axis != b.axis) return a.axis < b.axis;
              if (a.begin != b.begin) return a.begin < b.begin;
              if (a.end != b.end) return a.end < b.end;
              return a.node < b.node;
            });
  for (std::size_t first = 0; first < pieces.size();) {
    std::size_t last = first + 1;
    while (last < pieces.size() && pieces[last].tensor == pieces[first].tensor &&
           pieces[last].axis == pieces[first].axis)
      ++last;
    bool tiles = last - first >= 2 && pieces[first].begin == 0 &&
                 pieces[last - 1].end == pieces[first].extent;
    for (std::size_t j = first + 1; j < last && tiles; ++j)
      tiles = pieces[j].begin == pieces[j - 1].end;
    if (tiles) {
      for (std::size_t j = first; j < last; ++j) {
        in.partition_data.push_back(static_cast<int>(pieces[j].node));
        partition_of_node[pieces[j].node] = static_cast<std::ptrdiff_t>(partition_axis_.size());
      }
      in.partition_begin.push_back(in.partition_data.size());
      partition_axis_.push_back(pieces[first].axis);
    }
    first = last;
  }
  std::vector<detail::detect_group>& groups = groups_;
  const std::size_t ng = core_.run(
      in, rules, [&](node_index i) { return detail::node_display_name(g, static_cast<id>(i)); },
      groups);

  detection& result = result_;
  result.groups = ng;
  result.free_nodes.clear();
  std::vector<kernel>& kernels = result.kernels;
  kernels.reserve(ng);
  std::size_t nk = 0;
  std::vector<std::ptrdiff_t>& kernel_of_group = kernel_of_group_;
  kernel_of_group.assign(ng, -1);
  std::vector<std::ptrdiff_t>& kernel_of_node = kernel_of_node_;
  kernel_of_node.assign(n, -1);
  for (std::size_t gi = 0; gi < ng; ++gi) {
    const detail::detect_group& grp = groups[gi];
    if (grp.op.empty()) {
      for (node_index m : grp.nodes) result.free_nodes.push_back(m);
      continue;
    }
    if (nk == kernels.size()) kernels.emplace_back();
    kernel& k = kernels[nk];
    k.op.assign(grp.op);
    k.name.assign(grp.op);
    k.name += '#';
    k.name += std::to_string(gi);  // short enough for the small-string buffer: no allocation
    k.kind = kernel_kind_of(k.op);
    k.nodes.assign(grp.nodes.begin(), grp.nodes.end());
    const id root = static_cast<id>(grp.root);
    detail::assign_shapes(k.input_tensors, traits::input_shapes(g, root));
    // A fused block stands for one operator: it reads what its entry (the root) reads and
    // writes what its exit writes; a slice partition writes its pieces, as a Split would.
    std::ptrdiff_t partition = partition_of_node[grp.root];
    if (partition_of_node[grp.exit] != partition) partition = -1;  // it begins a larger block
    if (partition >= 0) {
      k.output_tensors.clear();
      const auto pi = static_cast<std::size_t>(partition);
      for (std::size_t e = in.partition_begin[pi]; e < in.partition_begin[pi + 1]; ++e) {
        const id piece = static_cast<id>(in.partition_data[e]);
        for (const tensor_shape& t : traits::output_shapes(g, piece)) k.output_tensors.push_back(t);
      }
    } else {
      detail::assign_shapes(k.output_tensors, traits::output_shapes(g, static_cast<id>(grp.exit)));
    }
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
    k.inputh.reset();
    k.inputw.reset();
    k.cin.reset();
    k.cout.reset();
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
    k.ks.reset();
    k.strides.reset();
    if (ra.has_window()) {
      k.ks = ra.kernel;
      k.strides = ra.strides;
    }
    const op_kind root_op = traits::op(g, root);
    k.split_dim.reset();
    if (root_op == op_kind::split) k.split_dim = ra.axis;
    if (partition >= 0) k.split_dim = partition_axis_[static_cast<std::size_t>(partition)];
    k.dilations = ra.dilations;
    k.groups = ra.groups;
    k.elem = dtype::f32;
    if constexpr (has_elem_types_v<G>) k.elem = traits::elem_type(g, root);
    k.shapes_known = true;
    for (const tensor_shape& t : k.input_tensors) k.shapes_known = k.shapes_known && t.is_static();
    for (const tensor_shape& t : k.output_tensors) k.shapes_known = k.shapes_known && t.is_static();
    k.flops = 0.0;
    k.bytes = 0.0;
    k.inbounds.clear();
    k.outbounds.clear();
    kernel_of_group[gi] = static_cast<std::ptrdiff_t>(nk);
    for (node_index m : k.nodes) kernel_of_node[m] = static_cast<std::ptrdiff_t>(nk);
    ++nk;
  }
  kernels.resize(nk);
  // Connections in nn-Meter's order: successors by root, predecessors appended as found.
  for (std::size_t gi = 0; gi < ng; ++gi) {
    if (kernel_of_group[gi] < 0) continue;
    const auto ki = static_cast<std::size_t>(kernel_of_group[gi]);
    for (std::size_t target : groups[gi].out_groups) {
      const auto kt = static_cast<std::size_t>(kernel_of_group[target]);
      kernels[ki].outbounds.push_back(kt);
      kernels[kt].inbounds.push_back(ki);
    }
  }
  if (!options.costs) return result;
  // FLOPs and memory traffic: weights, operands from outside the kernel, outputs used outside.
  std::vector<char>& consumed_outside = consumed_outside_;
  consumed_outside.assign(n, 0);
  std::vector<char>& has_consumer = has_consumer_;
  has_consumer.assign(n, 0);
  std::vector<char>& one_output = one_output_;
  one_output.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    one_output[i] = detail::range_count(traits::output_shapes(g, static_cast<id>(i))) == 1;
    for (auto p : traits::predecessors(g, static_cast<id>(i))) {
      const auto pi = static_cast<std::size_t>(p);
      has_consumer[pi] = 1;
      if (kernel_of_node[pi] != kernel_of_node[i]) consumed_outside[pi] = 1;
    }
  }
  // A tensor from outside is read once by a kernel, however many of its operands read it (a
  // decomposed hswish reads x twice, a slice partition once per piece). A tensor is known by
  // its producer when that has one output; the operands of a producer with several outputs
  // count one by one (which output an operand reads is not known here).
  std::vector<std::size_t>& read_by = read_by_;
  read_by.assign(n, 0);  // 1 + the last kernel that counted the producer's tensor
  for (kernel& k : kernels) {
    const double elem_bytes = static_cast<double>(size_of(k.elem));
    const std::ptrdiff_t self = kernel_of_node[k.nodes.front()];
    const std::size_t stamp = static_cast<std::size_t>(self) + 1;
    for (node_index m : k.nodes) {
      const id v = static_cast<id>(m);
      const auto& in_range = traits::input_shapes(g, v);
      const auto& out_range = traits::output_shapes(g, v);
      const std::vector<tensor_shape>& ins = detail::as_shape_vector(in_range, in_buffer_);
      const std::vector<tensor_shape>& outs = detail::as_shape_vector(out_range, out_buffer_);
      const attributes& ma = traits::attrs(g, v);
      const node_cost c = cost_of(traits::op(g, v), ins.data(), ins.size(), outs.data(), outs.size(), ma);
      k.flops += c.flops;
      k.bytes += c.params * elem_bytes;
      std::size_t operand = 0;
      for (auto p : traits::predecessors(g, v)) {
        const auto pi = static_cast<std::size_t>(p);
        if (kernel_of_node[pi] != self && operand < ins.size() && read_by[pi] != stamp) {
          k.bytes += static_cast<double>(ins[operand].num_elements()) * elem_bytes;
          if (one_output[pi]) read_by[pi] = stamp;
        }
        ++operand;
      }
      if (consumed_outside[m] || !has_consumer[m])
        for (const tensor_shape& s : outs) k.bytes += static_cast<double>(s.num_elements()) * elem_bytes;
      bool known = true;
      for (const tensor_shape& s : ins) known = known && s.is_static();
      for (const tensor_shape& s : outs) known = known && s.is_static();
      if (!known) {  // an unknown size would count as 1: no made-up cost
        k.flops = std::numeric_limits<double>::quiet_NaN();
        k.bytes = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  return result;
}

/// Detects the kernels of graph `g` under `rules`, exactly as nn-Meter's kernel detector does
/// (same kernels, order, names, configurations and neighbours), without its crashes: nodes of
/// any type are kept, groups without a kernel are listed in `free_nodes`. Throws graph_error
/// on a cycle or an operand naming no node. For many graphs in a row, reuse a kernel_detector.
template <class G>
NNMETER_REQUIRES(is_op_graph_v<G>)
detection detect(const G& g, const rule_set& rules, const detect_options& options = {}) {
  kernel_detector d;
  d.run(g, rules, options);
  return d.take();
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
  return detect(g, default_rules()).kernels;
}

NNMETER_END_NAMESPACE
