// nnmeter builder — the fusion-rule tester (testcases.hpp).
// SPDX-License-Identifier: MIT
#include "builder/testcases/testcases.hpp"

#include <nnmeter/io/json_common.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <utility>

namespace nnmeter::builder {
namespace {

using nnmeter::graph_builder;
using nnmeter::tensor_ref;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool two_inputs(const std::string& op) { return op == "add" || op == "concat"; }

nnmeter::padding_mode padding_of(const rule_test_config& cfg) {
  return cfg.padding == "valid" ? nnmeter::padding_mode::valid : nnmeter::padding_mode::same;
}

// Rotates the non-batch dimensions: [1, d1, ..., dk] -> [1, dk, d1, ..., dk-1]; nn-Meter's
// 1-D reshape [L] -> [2, L / 2] for rank 2.
std::vector<std::int64_t> reshape_target(const nnmeter::tensor_shape& s) {
  if (s.rank() == 2) return {s[0], 2, s[1] / 2};
  std::vector<std::int64_t> t{s[0], s.back()};
  for (std::size_t i = 1; i + 1 < s.rank(); ++i) t.push_back(s[static_cast<std::ptrdiff_t>(i)]);
  return t;
}

// Applies test operator `op` to `ins` (one tensor, or two for add / concat).
tensor_ref apply(const std::string& op, graph_builder& b, const rule_test_config& cfg,
                 const std::vector<tensor_ref>& ins) {
  const tensor_ref x = ins.at(0);
  const auto pad = padding_of(cfg);
  const std::int64_t k = cfg.kernel_size;
  if (op == "conv") return b.conv(x, cfg.cout, k, cfg.strides, pad);
  if (op == "dwconv") return b.dwconv(x, k, cfg.strides, pad);
  if (op == "convtrans") return b.conv_transpose(x, cfg.cout, k, cfg.strides, pad);
  if (op == "bn") return b.bn(x);
  if (op == "globalavgpool") return b.global_avgpool(x);
  if (op == "maxpool") return b.maxpool(x, k, cfg.pool_strides, pad);
  if (op == "avgpool") return b.avgpool(x, k, cfg.pool_strides, pad);
  if (op == "se") return b.se(x);
  if (op == "fc") return b.fc(x, cfg.cout);
  if (op == "relu") return b.relu(x);
  if (op == "relu6") return b.relu6(x);
  if (op == "sigmoid") return b.sigmoid(x);
  if (op == "hswish") return b.hswish(x);
  if (op == "swish") return b.swish(x);
  if (op == "reshape") return b.reshape(x, reshape_target(b.shape(x)));
  if (op == "flatten") return b.flatten(x);
  if (op == "split") return b.split(x, 2)[0];
  if (op == "add") return b.add(x, ins.at(1));
  if (op == "concat") return b.concat({x, ins.at(1)});
  throw nnmeter::error("fusion-rule test: unknown test operator '" + op + "'");
}

// Inputs of an operator reading `x`: x itself, twice for the two-input operators.
std::vector<tensor_ref> operands(const std::string& op, tensor_ref x) {
  return two_inputs(op) ? std::vector<tensor_ref>{x, x} : std::vector<tensor_ref>{x};
}

nnmeter::graph single(const std::string& op, const nnmeter::tensor_shape& in,
                      const rule_test_config& cfg) {
  graph_builder b;
  const tensor_ref x = b.input(in);
  (void)apply(op, b, cfg, operands(op, x));
  return std::move(b).build();
}

void check_config(const rule_test_config& cfg) {
  auto positive = [](const char* key, std::int64_t v, std::int64_t hi) {
    if (v < 1 || v > hi)
      throw nnmeter::error(std::string("fusion-rule test: ") + key + " = " + std::to_string(v) +
                           " is outside [1, " + std::to_string(hi) + "]");
  };
  positive("HW", cfg.hw, 4096);
  positive("CIN", cfg.cin, 65536);
  positive("COUT", cfg.cout, 65536);
  positive("SHAPE_1D", cfg.shape_1d, 1 << 24);
  positive("KERNEL_SIZE", cfg.kernel_size, 15);
  positive("STRIDES", cfg.strides, 8);
  positive("POOL_STRIDES", cfg.pool_strides, 8);
  if (cfg.shape_1d % 2 != 0)
    throw nnmeter::error("fusion-rule test: SHAPE_1D = " + std::to_string(cfg.shape_1d) +
                         " must be even (the 1-D reshape halves it)");
  if (cfg.padding != "same" && cfg.padding != "valid")
    throw nnmeter::error("fusion-rule test: PADDING must be 'same' or 'valid', not '" +
                         cfg.padding + "'");
  if (!(cfg.emp_alpha >= 0 && cfg.emp_alpha <= 1))
    throw nnmeter::error("fusion-rule test: EMP_ALPHA must be in [0, 1]");
  if (cfg.repeats < 2 || cfg.repeats > 1000)
    throw nnmeter::error("fusion-rule test: REPEATS = " + std::to_string(cfg.repeats) +
                         " must be in [2, 1000] (the decision needs the spread of repeats)");
  if (!(cfg.noise_sigmas > 0 && cfg.noise_sigmas <= 10))
    throw nnmeter::error("fusion-rule test: NOISE_SIGMAS must be in (0, 10]");
}

rule_testcase basic_case(const std::string& pair, const rule_test_config& cfg) {
  const std::size_t us = pair.find('_');
  if (us == std::string::npos || us == 0 || us + 1 == pair.size() ||
      pair.find('_', us + 1) != std::string::npos)
    throw nnmeter::error("fusion-rule test: BASIC_TESTCASES entry '" + pair +
                         "' must be '<op1>_<op2>'");
  rule_testcase tc;
  tc.op1 = pair.substr(0, us);
  tc.op2 = pair.substr(us + 1);
  for (const std::string* op : {&tc.op1, &tc.op2})
    if (!contains(test_operator_names(), *op)) {
      std::string known;
      for (const std::string& n : test_operator_names()) known += (known.empty() ? "" : ", ") + n;
      throw nnmeter::error("fusion-rule test: BASIC_TESTCASES entry '" + pair +
                           "': unknown operator '" + *op + "' (known: " + known + ")");
    }
  tc.name = "BF_" + pair;
  tc.rule_name = "BF_" + detector_type(tc.op1) + "_" + detector_type(tc.op2);
  tc.alias1 = tc.op1 == tc.op2 ? tc.op1 + "_1" : tc.op1;
  tc.alias2 = tc.op1 == tc.op2 ? tc.op2 + "_2" : tc.op2;
  const bool one_d = contains(cfg.layers_1d, tc.op1) || contains(cfg.layers_1d, tc.op2);
  const nnmeter::tensor_shape in =
      one_d ? nnmeter::tensor_shape{1, cfg.shape_1d} : nnmeter::tensor_shape{1, cfg.hw, cfg.hw, cfg.cin};
  try {
    graph_builder b;
    const tensor_ref x = b.input(in);
    const tensor_ref y = apply(tc.op1, b, cfg, operands(tc.op1, x));
    const nnmeter::tensor_shape mid = b.shape(y);
    std::vector<tensor_ref> second{y};
    if (two_inputs(tc.op2)) second.push_back(b.input(mid));  // an extra model input
    (void)apply(tc.op2, b, cfg, second);
    tc.models.push_back({tc.alias1, single(tc.op1, in, cfg)});
    tc.models.push_back({tc.alias2, single(tc.op2, mid, cfg)});
    tc.models.push_back({"block", std::move(b).build()});
  } catch (const nnmeter::graph_error& e) {
    throw nnmeter::error("fusion-rule test " + tc.name + ": cannot build its models on input " +
                         nnmeter::shape_rules::text(in) + ": " + e.what());
  }
  return tc;
}

// MON: a dwconv whose output feeds two branches, relu -> relu and leaky-relu(2) -> dwconv.
rule_testcase mon_case(const rule_test_config& cfg) {
  rule_testcase tc;
  tc.name = "MON";
  tc.rule_name = "MON";
  tc.mon = true;
  const nnmeter::tensor_shape in{1, cfg.hw, cfg.hw, cfg.cin};
  const auto pad = padding_of(cfg);
  const std::int64_t k = cfg.kernel_size;
  auto model = [&](const char* alias, const std::function<void(graph_builder&, tensor_ref)>& f) {
    graph_builder b;
    f(b, b.input(in));
    tc.models.push_back({alias, std::move(b).build()});
  };
  auto relu_relu = [](graph_builder& b, tensor_ref x) { return b.relu(b.relu(x)); };
  auto relu_dwconv = [&](graph_builder& b, tensor_ref x) {
    return b.dwconv(b.leaky_relu(x, 2.0), k, 1, pad);
  };
  auto dwconv = [&](graph_builder& b, tensor_ref x) { return b.dwconv(x, k, 1, pad); };
  model("block", [&](graph_builder& b, tensor_ref x) {
    const tensor_ref d = dwconv(b, x);
    relu_relu(b, d);
    relu_dwconv(b, d);
  });
  model("relu_relu", [&](graph_builder& b, tensor_ref x) { relu_relu(b, x); });
  model("relu_dwconv", [&](graph_builder& b, tensor_ref x) { relu_dwconv(b, x); });
  model("dwconv", [&](graph_builder& b, tensor_ref x) { dwconv(b, x); });
  model("dwconv_relu_relu", [&](graph_builder& b, tensor_ref x) { relu_relu(b, dwconv(b, x)); });
  model("dwconv_relu", [&](graph_builder& b, tensor_ref x) { b.relu(dwconv(b, x)); });
  return tc;
}

std::string latency_text(const latency_estimate& e) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.6g +- %.3g", e.mean_ms, e.sd_ms);
  return buf;
}

}  // namespace

std::vector<std::string> default_basic_testcases() {
  const char* grid[] = {"add", "avgpool", "concat", "conv", "convtrans",
                        "dwconv", "fc", "relu", "reshape"};
  const std::vector<std::string> spatial{"avgpool", "conv", "convtrans", "dwconv"};
  std::vector<std::string> out;
  for (const char* a : grid) {
    for (const char* b : grid) {
      const std::string sa(a), sb(b);
      if ((sa == "fc" && contains(spatial, sb)) || (sb == "fc" && contains(spatial, sa))) continue;
      out.push_back(sa + "_" + sb);
    }
  }
  for (const char* p : {"bn_relu", "conv_bn", "conv_hswish", "conv_se", "dwconv_bn", "se_relu"})
    out.emplace_back(p);
  return out;
}

const std::vector<std::string>& test_operator_names() {
  static const std::vector<std::string> names{
      "conv", "dwconv", "convtrans", "bn",    "globalavgpool", "maxpool", "avgpool",
      "se",   "fc",     "relu",      "relu6", "sigmoid",       "hswish",  "swish",
      "reshape", "add", "concat",    "flatten", "split"};
  return names;
}

std::string detector_type(const std::string& test_op) {
  if (test_op == "globalavgpool") return "gap";
  if (test_op == "relu6") return "relu";
  if (test_op == "flatten") return "reshape";
  return test_op;
}

std::vector<rule_testcase> make_rule_testcases(const rule_test_config& cfg) {
  check_config(cfg);
  const std::vector<std::string> pairs =
      cfg.basic_testcases.empty() ? default_basic_testcases() : cfg.basic_testcases;
  std::vector<rule_testcase> out;
  std::vector<std::string> seen;
  for (const std::string& p : pairs) {
    if (contains(seen, p))
      throw nnmeter::error("fusion-rule test: BASIC_TESTCASES lists '" + p + "' twice");
    seen.push_back(p);
    out.push_back(basic_case(p, cfg));
  }
  for (const std::string& o : cfg.other_testcases) {
    if (o != "MON")
      throw nnmeter::error("fusion-rule test: OTHER_TESTCASES entry '" + o +
                           "' is unknown (known: MON)");
    out.push_back(mon_case(cfg));
  }
  return out;
}

const char* to_string(rule_verdict v) noexcept {
  switch (v) {
    case rule_verdict::fused: return "fused";
    case rule_verdict::not_fused: return "not_fused";
    case rule_verdict::undetermined: return "undetermined";
    default: return "skipped";
  }
}

latency_estimate estimate(const std::vector<double>& s) {
  latency_estimate e;
  e.n = s.size();
  if (s.empty()) return e;
  double sum = 0;
  for (double x : s) sum += x;
  e.mean_ms = sum / static_cast<double>(s.size());
  if (s.size() > 1) {
    double ss = 0;
    for (double x : s) ss += (x - e.mean_ms) * (x - e.mean_ms);
    e.sd_ms = std::sqrt(ss / static_cast<double>(s.size() - 1));
  }
  return e;
}

rule_result decide_rule(const rule_testcase& tc,
                        const std::map<std::string, std::vector<double>>& lat,
                        const rule_test_config& cfg, std::optional<bool> declared,
                        std::optional<rule_verdict> bf_dwconv_relu) {
  rule_result r;
  r.name = tc.name;
  r.rule_name = tc.rule_name;
  r.declared = declared;
  std::size_t repeats = 0;
  for (const test_model& m : tc.models) {
    const auto it = lat.find(m.alias);
    if (it == lat.end() || it->second.empty()) {
      r.verdict = rule_verdict::skipped;
      r.note = "model '" + m.alias + "' was not measured";
      r.obey = declared;
      return r;
    }
    if (repeats == 0) repeats = it->second.size();
    if (it->second.size() != repeats)
      throw nnmeter::error("fusion-rule test " + tc.name + ": model '" + m.alias + "' has " +
                           std::to_string(it->second.size()) + " repeats, the others " +
                           std::to_string(repeats));
    for (double x : it->second)
      if (!(x > 0) || !std::isfinite(x))
        throw nnmeter::error("fusion-rule test " + tc.name + ": model '" + m.alias +
                             "' has a latency of " + std::to_string(x) + " ms");
    r.latency[m.alias] = estimate(it->second);
  }
  if (repeats < 2)
    throw nnmeter::error("fusion-rule test " + tc.name +
                         ": the decision needs at least 2 repeated measurements");
  const double root_n = std::sqrt(static_cast<double>(repeats));
  std::vector<double> margins(repeats);
  if (!tc.mon) {
    const std::vector<double>& t1 = lat.at(tc.alias1);
    const std::vector<double>& t2 = lat.at(tc.alias2);
    const std::vector<double>& tb = lat.at("block");
    std::vector<double> ops(repeats);
    for (std::size_t i = 0; i < repeats; ++i) {
      ops[i] = t1[i] + t2[i];
      margins[i] = ops[i] - tb[i] - cfg.emp_alpha * std::min(t1[i], t2[i]);
    }
    r.latency["ops"] = estimate(ops);
    const latency_estimate m = estimate(margins);
    r.margin_ms = m.mean_ms;
    r.margin_se_ms = m.sd_ms / root_n;
    if (std::fabs(r.margin_ms) <= cfg.noise_sigmas * r.margin_se_ms) {
      r.verdict = rule_verdict::undetermined;
    } else {
      r.verdict = r.margin_ms > 0 ? rule_verdict::fused : rule_verdict::not_fused;
    }
  } else {
    if (bf_dwconv_relu != rule_verdict::fused) {
      r.verdict = rule_verdict::skipped;
      r.note = bf_dwconv_relu ? std::string("depends on BF_dwconv_relu being fused; it is ") +
                                    to_string(*bf_dwconv_relu)
                              : std::string("depends on BF_dwconv_relu, which was not tested");
      r.obey = false;
      return r;
    }
    auto sum = [&](std::initializer_list<const char*> parts, std::size_t i) {
      double s = 0;
      for (const char* p : parts) s += lat.at(p)[i];
      return s;
    };
    const std::vector<double>& tb = lat.at("block");
    // Distance of each case's summed latency from the block, per repeat.
    std::vector<double> d1(repeats), d2(repeats), d3(repeats);
    for (std::size_t i = 0; i < repeats; ++i) {
      d1[i] = std::fabs(sum({"relu_relu", "relu_dwconv", "dwconv"}, i) - tb[i]);
      d2[i] = std::fabs(sum({"dwconv_relu_relu", "relu_dwconv"}, i) - tb[i]);
      d3[i] = std::fabs(sum({"dwconv_relu", "dwconv", "relu_relu"}, i) - tb[i]);
    }
    const double e1 = estimate(d1).mean_ms, e2 = estimate(d2).mean_ms, e3 = estimate(d3).mean_ms;
    const std::vector<double>& dbest = e2 <= e3 ? d2 : d3;
    r.mon_case = e1 <= std::min(e2, e3) ? "case1" : (e2 <= e3 ? "case2" : "case3");
    for (std::size_t i = 0; i < repeats; ++i) margins[i] = d1[i] - dbest[i];  // > 0: best beats case1
    const latency_estimate m = estimate(margins);
    r.margin_ms = m.mean_ms;
    r.margin_se_ms = m.sd_ms / root_n;
    if (std::fabs(r.margin_ms) <= cfg.noise_sigmas * r.margin_se_ms)
      r.verdict = rule_verdict::undetermined;
    else
      r.verdict = r.mon_case == "case1" ? rule_verdict::not_fused : rule_verdict::fused;
  }
  if (r.verdict == rule_verdict::fused || r.verdict == rule_verdict::not_fused) {
    r.obey = r.verdict == rule_verdict::fused;
    r.note = "measured";
  } else if (declared) {
    r.obey = declared;
    r.note = "inside the noise; obey taken from the backend's declaration";
  } else {
    r.note = "inside the noise; no declaration: left unset (not fused)";
  }
  return r;
}

std::string detected_rules_json(const std::vector<rule_result>& results,
                                const rule_test_config& cfg) {
  using json = nlohmann::ordered_json;
  json doc = json::object();
  for (const rule_result& r : results) {
    json e = json::object();
    e["obey"] = r.obey ? json(*r.obey) : json(nullptr);
    e["verdict"] = to_string(r.verdict);
    if (r.name != r.rule_name) e["test"] = r.name;
    if (r.verdict != rule_verdict::skipped || !r.latency.empty()) {
      e["margin_ms"] = r.margin_ms;
      e["margin_se_ms"] = r.margin_se_ms;
      e["repeats"] = r.latency.empty() ? 0 : r.latency.begin()->second.n;
    }
    if (!r.mon_case.empty()) e["case"] = r.mon_case;
    if (r.declared) {
      e["declared"] = *r.declared;
      if (r.verdict == rule_verdict::fused || r.verdict == rule_verdict::not_fused)
        e["agrees_with_declaration"] = (r.verdict == rule_verdict::fused) == *r.declared;
    }
    e["note"] = r.note;
    if (cfg.detail && !r.latency.empty()) {
      json l = json::object();
      for (const auto& [alias, est] : r.latency) l[alias] = latency_text(est);
      e["latency"] = std::move(l);
      e["latency_unit"] = "ms";
    }
    if (doc.contains(r.rule_name))
      throw nnmeter::error("fusion-rule test: two tests write rule '" + r.rule_name + "' (" +
                           doc[r.rule_name].value("test", r.rule_name) + " and " + r.name + ")");
    doc[r.rule_name] = std::move(e);
  }
  return doc.dump(2);
}

}  // namespace nnmeter::builder
