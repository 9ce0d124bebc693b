// nnmeter builder — kernel configurations, their graphs and training features (kernel_config.hpp).
// SPDX-License-Identifier: MIT
#include "builder/sampler/kernel_config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

namespace nnmeter::builder {
namespace {

using nnmeter::graph_builder;
using nnmeter::kernel_kind;
using nnmeter::tensor_ref;
using dim = std::int64_t;

std::string kind_name(kernel_kind k) { return std::string(nnmeter::to_string(k)); }

[[noreturn]] void fail(const kernel_config& c, const std::string& what) {
  throw nnmeter::error("kernel configuration " + c.describe() + ": " + what);
}

const std::vector<std::string>& names_hw_cin() {
  static const std::vector<std::string> v{"HW", "CIN"};
  return v;
}

}  // namespace

std::int64_t kernel_config::at(const std::string& name) const {
  const auto it = params.find(name);
  if (it == params.end())
    throw nnmeter::error("kernel configuration " + describe() + ": parameter '" + name +
                         "' is missing");
  return it->second;
}

std::int64_t kernel_config::get(const std::string& name, std::int64_t fallback) const {
  const auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

std::string kernel_config::key() const {
  // The same text as nlohmann::json(object).dump(): std::map order, integers in decimal. The
  // names are ASCII letters, digits and '_' (validate), so they need no escaping.
  std::string s = "{";
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) s += ',';
    first = false;
    s += '"';
    s += name;
    s += "\":";
    s += std::to_string(value);
  }
  s += '}';
  return s;
}

std::string kernel_config::describe() const { return kind_name(kind) + " " + key(); }

const std::vector<std::string>& config_parameters(kernel_kind kind) {
  static const std::vector<std::string> conv{"HW", "CIN", "COUT", "KERNEL_SIZE", "STRIDES"};
  static const std::vector<std::string> window{"HW", "CIN", "KERNEL_SIZE", "STRIDES"};
  static const std::vector<std::string> fc{"CIN", "COUT"};
  static const std::vector<std::string> concat{"HW", "CIN1", "CIN2", "CIN3", "CIN4"};
  static const std::vector<std::string> mul{"HW", "CIN", "BROADCAST"};
  static const std::vector<std::string> pad{"HW", "CIN", "PAD"};
  static const std::vector<std::string> resize{"HW", "CIN", "SCALE"};
  static const std::vector<std::string> matmul{"M", "CIN", "COUT"};
  switch (kind) {
    case kernel_kind::conv_bn_relu:
      return conv;
    case kernel_kind::dwconv_bn_relu:
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      return window;
    case kernel_kind::fc:
      return fc;
    case kernel_kind::concat:
      return concat;
    case kernel_kind::mul:
      return mul;
    case kernel_kind::pad:
      return pad;
    case kernel_kind::resize:
      return resize;
    case kernel_kind::matmul:
      return matmul;
    case kernel_kind::global_avgpool:
    case kernel_kind::hswish:
    case kernel_kind::relu:
    case kernel_kind::se:
    case kernel_kind::split:
    case kernel_kind::add:
    case kernel_kind::addrelu:
    case kernel_kind::bn:
    case kernel_kind::bnrelu:
    case kernel_kind::channelshuffle:
    case kernel_kind::sigmoid:
    case kernel_kind::hardsigmoid:
    case kernel_kind::softmax:
    case kernel_kind::data_movement:
      return names_hw_cin();
    default:
      throw nnmeter::unsupported_error("kernel kind '" + kind_name(kind) +
                                       "': no kernel graph expresses it (the builder samples " +
                                       "nn-Meter's 16 kinds and sigmoid, mul, hardsigmoid, pad, " +
                                       "matmul, softmax, resize, data-movement)");
  }
}

const std::vector<kernel_kind>& buildable_kinds() {
  static const std::vector<kernel_kind> v{kernel_kind::conv_bn_relu,
                                          kernel_kind::dwconv_bn_relu,
                                          kernel_kind::fc,
                                          kernel_kind::global_avgpool,
                                          kernel_kind::hswish,
                                          kernel_kind::relu,
                                          kernel_kind::se,
                                          kernel_kind::split,
                                          kernel_kind::add,
                                          kernel_kind::addrelu,
                                          kernel_kind::maxpool,
                                          kernel_kind::avgpool,
                                          kernel_kind::bn,
                                          kernel_kind::bnrelu,
                                          kernel_kind::channelshuffle,
                                          kernel_kind::concat,
                                          kernel_kind::sigmoid,
                                          kernel_kind::mul,
                                          kernel_kind::hardsigmoid,
                                          kernel_kind::pad,
                                          kernel_kind::matmul,
                                          kernel_kind::softmax,
                                          kernel_kind::resize,
                                          kernel_kind::data_movement};
  return v;
}

void validate(const kernel_config& c) {
  const std::vector<std::string>& want = config_parameters(c.kind);
  for (const std::string& n : want)
    if (c.params.find(n) == c.params.end()) fail(c, "parameter '" + n + "' is missing");
  for (const auto& [name, value] : c.params) {
    if (std::find(want.begin(), want.end(), name) == want.end()) {
      std::string list;
      for (const std::string& n : want) list += (list.empty() ? "" : ", ") + n;
      fail(c, "unknown parameter '" + name + "' (a " + kind_name(c.kind) + " has " + list + ")");
    }
  }
  auto range = [&](const char* name, dim lo, dim hi) {
    const dim v = c.at(name);
    if (v < lo || v > hi)
      fail(c, std::string("parameter '") + name + "' = " + std::to_string(v) + " is outside [" +
                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  const dim max_size = 1 << 20;  // far above anything measurable; graph_builder checks bytes
  for (const std::string& n : want) {
    if (n == "KERNEL_SIZE") {
      range("KERNEL_SIZE", 1, 15);
    } else if (n == "STRIDES") {
      range("STRIDES", 1, 8);
    } else if (n == "BROADCAST") {
      range("BROADCAST", 0, 1);
    } else if (n == "PAD") {
      range("PAD", 1, 64);
    } else if (n == "SCALE") {
      range("SCALE", 1, 8);
    } else if (n == "CIN3" || n == "CIN4") {
      range(n.c_str(), 0, max_size);
    } else {
      range(n.c_str(), 1, max_size);
    }
  }
  if ((c.kind == kernel_kind::split || c.kind == kernel_kind::channelshuffle) &&
      c.at("CIN") % 2 != 0)
    fail(c, "CIN = " + std::to_string(c.at("CIN")) + " must be even (the block splits the " +
                "channels into 2 groups)");
  if (c.kind == kernel_kind::concat && c.at("CIN3") == 0 && c.at("CIN4") != 0)
    fail(c, "CIN4 is set but CIN3 is 0 (inputs are CIN1, CIN2, then CIN3, then CIN4)");
}

kernel_config parse_kernel_config(kernel_kind kind, std::string_view key, std::string_view source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(key.begin(), key.end());
  } catch (const nlohmann::json::exception& e) {
    throw nnmeter::parse_error(std::string(source) + ": kernel configuration '" + std::string(key) +
                               "': malformed JSON: " + e.what());
  }
  if (!j.is_object())
    throw nnmeter::parse_error(std::string(source) + ": kernel configuration '" + std::string(key) +
                               "' is not a JSON object");
  kernel_config c;
  c.kind = kind;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw nnmeter::parse_error(std::string(source) + ": kernel configuration '" +
                                 std::string(key) + "': key '" + it.key() + "' is not an integer");
    c.params[it.key()] = it.value().get<std::int64_t>();
  }
  validate(c);
  return c;
}

namespace {

nnmeter::tensor_shape nhwc(dim hw, dim c) { return {1, hw, hw, c}; }

// The block variants of a kind, largest first.
std::vector<std::string> variants(kernel_kind k) {
  switch (k) {
    case kernel_kind::conv_bn_relu:
      return {"conv-bn-relu", "conv-relu", "conv-bn", "conv"};
    case kernel_kind::dwconv_bn_relu:
      return {"dwconv-bn-relu", "dwconv-relu", "dwconv-bn", "dwconv"};
    default:
      return {kind_name(k)};
  }
}

nnmeter::graph build(const kernel_config& c, const std::string& block) {
  validate(c);
  graph_builder b;
  const auto same = nnmeter::padding_mode::same;
  auto tail = [&](tensor_ref y) {  // bn and relu of a conv block variant
    const bool bn = block.find("-bn") != std::string::npos;
    const bool relu = block.find("-relu") != std::string::npos;
    if (bn) y = b.bn(y);
    if (relu) y = b.relu(y);
    return y;
  };
  switch (c.kind) {
    case kernel_kind::conv_bn_relu: {
      const tensor_ref x = b.input(nhwc(c.at("HW"), c.at("CIN")));
      (void)tail(b.conv(x, c.at("COUT"), c.at("KERNEL_SIZE"), c.at("STRIDES"), same));
      break;
    }
    case kernel_kind::dwconv_bn_relu: {
      const tensor_ref x = b.input(nhwc(c.at("HW"), c.at("CIN")));
      (void)tail(b.dwconv(x, c.at("KERNEL_SIZE"), c.at("STRIDES"), same));
      break;
    }
    case kernel_kind::fc:
      (void)b.fc(b.input({1, c.at("CIN")}), c.at("COUT"));
      break;
    case kernel_kind::maxpool:
      (void)b.maxpool(b.input(nhwc(c.at("HW"), c.at("CIN"))), c.at("KERNEL_SIZE"), c.at("STRIDES"),
                      same);
      break;
    case kernel_kind::avgpool:
      (void)b.avgpool(b.input(nhwc(c.at("HW"), c.at("CIN"))), c.at("KERNEL_SIZE"), c.at("STRIDES"),
                      same);
      break;
    case kernel_kind::global_avgpool:
      (void)b.global_avgpool(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::hswish:
      (void)b.hswish(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::relu:
      (void)b.relu(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::bn:
      (void)b.bn(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::bnrelu:
      (void)b.relu(b.bn(b.input(nhwc(c.at("HW"), c.at("CIN")))));
      break;
    case kernel_kind::sigmoid:
      (void)b.sigmoid(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::hardsigmoid:
      (void)b.hsigmoid(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::se:
      (void)b.se(b.input(nhwc(c.at("HW"), c.at("CIN"))));
      break;
    case kernel_kind::split:
      (void)b.split(b.input(nhwc(c.at("HW"), c.at("CIN"))), dim{2});
      break;
    case kernel_kind::channelshuffle:
      (void)b.channel_shuffle(b.input(nhwc(c.at("HW"), c.at("CIN"))), 2);
      break;
    case kernel_kind::add:
    case kernel_kind::addrelu: {
      const tensor_ref x = b.input(nhwc(c.at("HW"), c.at("CIN")));
      const tensor_ref y = b.input(nhwc(c.at("HW"), c.at("CIN")));
      const tensor_ref s = b.add(x, y);
      if (c.kind == kernel_kind::addrelu) (void)b.relu(s);
      break;
    }
    case kernel_kind::concat: {
      std::vector<tensor_ref> ins;
      for (const char* n : {"CIN1", "CIN2", "CIN3", "CIN4"})
        if (c.at(n) > 0) ins.push_back(b.input(nhwc(c.at("HW"), c.at(n))));
      (void)b.concat(std::move(ins));
      break;
    }
    case kernel_kind::mul: {
      const tensor_ref x = b.input(nhwc(c.at("HW"), c.at("CIN")));
      const tensor_ref y =
          b.input(c.at("BROADCAST") ? nhwc(1, c.at("CIN")) : nhwc(c.at("HW"), c.at("CIN")));
      (void)b.mul(x, y);
      break;
    }
    case kernel_kind::pad: {
      const dim p = c.at("PAD");
      (void)b.pad(b.input(nhwc(c.at("HW"), c.at("CIN"))), p, p, p, p);
      break;
    }
    case kernel_kind::resize: {
      const auto s = static_cast<double>(c.at("SCALE"));
      (void)b.resize(b.input(nhwc(c.at("HW"), c.at("CIN"))), s, s, "bilinear");
      break;
    }
    case kernel_kind::matmul: {
      const tensor_ref x = b.input({1, c.at("M"), c.at("CIN")});
      const tensor_ref y = b.input({1, c.at("CIN"), c.at("COUT")});
      (void)b.matmul(x, y);
      break;
    }
    case kernel_kind::softmax:
      (void)b.softmax(b.input(nhwc(c.at("HW"), c.at("CIN"))), -1);
      break;
    case kernel_kind::data_movement: {
      const dim hw = c.at("HW");
      (void)b.reshape(b.input(nhwc(hw, c.at("CIN"))), {1, hw * hw, c.at("CIN")});
      break;
    }
    default:
      (void)config_parameters(c.kind);  // throws unsupported_error
      fail(c, "no kernel graph");
  }
  return std::move(b).build();
}

std::string kernel_list(const nnmeter::detection& d) {
  if (d.kernels.empty()) return "no kernel";
  std::string s;
  for (const nnmeter::kernel& k : d.kernels)
    s += (s.empty() ? "" : ", ") + k.name + " (" + kind_name(k.kind) + ")";
  return std::to_string(d.kernels.size()) + " kernel(s): " + s;
}

}  // namespace

nnmeter::graph kernel_graph(const kernel_config& config) {
  return build(config, variants(config.kind).front());
}

kernel_block kernel_block_for(const kernel_config& config, const nnmeter::rule_set& rules) {
  std::string tried;
  for (const std::string& v : variants(config.kind)) {
    nnmeter::graph g = build(config, v);
    const nnmeter::detection d = nnmeter::detect(g, rules, nnmeter::detect_options{false});
    if (d.kernels.size() == 1 && d.kernels[0].kind == config.kind) return {v, std::move(g)};
    tried += (tried.empty() ? "" : "; ") + v + " gives " + kernel_list(d);
  }
  throw nnmeter::error("kernel configuration " + config.describe() + ": the fusion rules" +
                       (rules.source().empty() ? std::string() : " of " + rules.source()) +
                       " run no block of kind " + kind_name(config.kind) +
                       " as one kernel: " + tried);
}

training_sample training_sample_of(const nnmeter::graph& g, const nnmeter::rule_set& rules,
                                   kernel_kind kind, nnmeter::feature_set set,
                                   nnmeter::latency_target target) {
  // The predictor's path: detect (with costs, as predictor::predict) then features.
  const nnmeter::detection d = nnmeter::detect(g, rules);
  if (d.kernels.size() != 1 || d.kernels[0].kind != kind)
    throw nnmeter::error("training features of kind " + kind_name(kind) +
                         ": the graph must detect as exactly one " + kind_name(kind) +
                         " kernel, but gives " + kernel_list(d));
  training_sample out;
  out.features = nnmeter::features(d.kernels[0], set);
  if (out.features.empty())
    throw nnmeter::error(
        "training features of kind " + kind_name(kind) + ": feature set '" +
        std::string(nnmeter::to_string(set)) + "' has no vector for kernel " + d.kernels[0].name +
        (nnmeter::feature_count(kind, set) == 0 ? " (the set does not cover the kind)"
                                                : " (a dimension it reads is unknown)"));
  // The factor nnmeter::predictor multiplies the forest's output by for this kernel.
  out.flops = d.kernels[0].flops;
  out.bytes = d.kernels[0].bytes;
  out.scale = nnmeter::target_scale(target, d.kernels[0].flops, d.kernels[0].bytes);
  if (!(out.scale > 0 && std::isfinite(out.scale)))
    throw nnmeter::error("training features of kind " + kind_name(kind) + ": kernel " +
                         d.kernels[0].name + " has no known work for target '" +
                         std::string(nnmeter::to_string(target)) + "'");
  return out;
}

training_sample training_sample_of(const kernel_config& config, const nnmeter::rule_set& rules,
                                   nnmeter::feature_set set, nnmeter::latency_target target) {
  return training_sample_of(kernel_block_for(config, rules).graph, rules, config.kind, set, target);
}

nnmeter::feature_vector training_features(const nnmeter::graph& g, const nnmeter::rule_set& rules,
                                          kernel_kind kind, nnmeter::feature_set set) {
  return training_sample_of(g, rules, kind, set, nnmeter::latency_target::ms).features;
}

nnmeter::feature_vector training_features(const kernel_config& config,
                                          const nnmeter::rule_set& rules,
                                          nnmeter::feature_set set) {
  return training_features(kernel_block_for(config, rules).graph, rules, config.kind, set);
}

kernel_cost cost_of(const kernel_config& config) {
  const nnmeter::graph g = kernel_graph(config);
  const nnmeter::detection d = nnmeter::detect(g, nnmeter::default_rules());
  kernel_cost c;
  for (const nnmeter::kernel& k : d.kernels) {
    c.mflops += k.flops / 1e6;
    c.mbytes += k.bytes / 1e6;
  }
  return c;
}

}  // namespace nnmeter::builder
