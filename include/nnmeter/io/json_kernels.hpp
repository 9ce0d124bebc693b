// nnmeter — detected kernels as JSON (the `nnmeter kernels --json` format). Opt-in: needs
// nlohmann_json (nnmeter::json).
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json_kernels.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter.hpp>
#include <nnmeter/io/json_common.hpp>

#include <string>
#include <vector>

NNMETER_BEGIN_NAMESPACE
namespace io {

/// One kernel as a JSON object with nn-Meter's kernel-record fields (op, name, input_tensors,
/// ks, strides, split_dim, inputh, inputw, cin, cout or output_tensors, inbounds, outbounds)
/// plus: kind (its predictor), nodes (member node names), dtype, flops, bytes and the feature
/// vectors of both feature sets (`features.nnmeter` is null where nn-Meter has none).
template <class Json = nlohmann::ordered_json, class NameFn>
Json kernel_to_json(const kernel& k, const std::vector<kernel>& all, NameFn&& node_name) {
  Json o = Json::object();
  o["op"] = k.op;
  o["name"] = k.name;
  o["kind"] = std::string(to_string(k.kind));
  o["input_tensors"] = detail::shapes_to_json<Json>(k.input_tensors);
  if (k.ks) o["ks"] = {(*k.ks)[0], (*k.ks)[1]};
  if (k.strides) o["strides"] = {(*k.strides)[0], (*k.strides)[1]};
  if (k.split_dim) o["split_dim"] = *k.split_dim;
  if (k.inputh) o["inputh"] = *k.inputh;
  if (k.inputw) o["inputw"] = *k.inputw;
  if (k.cin) o["cin"] = *k.cin;
  if (k.output_tensors.size() == 1) {
    if (k.cout) o["cout"] = *k.cout;
  } else if (k.output_tensors.size() > 1) {
    o["output_tensors"] = detail::shapes_to_json<Json>(k.output_tensors);
  }
  Json inb = Json::array();
  for (std::size_t i : k.inbounds) inb.push_back(all[i].name);
  Json outb = Json::array();
  for (std::size_t i : k.outbounds) outb.push_back(all[i].name);
  o["inbounds"] = std::move(inb);
  o["outbounds"] = std::move(outb);
  Json nodes = Json::array();
  for (node_index n : k.nodes) nodes.push_back(node_name(n));
  o["nodes"] = std::move(nodes);
  o["dtype"] = std::string(to_string(k.elem));
  o["flops"] = k.flops;
  o["bytes"] = k.bytes;
  Json feats = Json::object();
  const feature_set sets[] = {feature_set::nnmeter, feature_set::extended, feature_set::lanes};
  for (feature_set s : sets) {
    const feature_vector f = features(k, s);
    if (f.empty()) {
      feats[std::string(to_string(s))] = nullptr;
    } else {
      Json a = Json::array();
      for (double x : f) a.push_back(x);
      feats[std::string(to_string(s))] = std::move(a);
    }
  }
  o["features"] = std::move(feats);
  return o;
}

/// All kernels of a detection, plus an `accounting` of the graph's nodes.
template <class Json = nlohmann::ordered_json, class NameFn>
Json detection_to_json(const detection& d, std::size_t num_nodes, NameFn&& node_name) {
  Json o = Json::object();
  Json ks = Json::array();
  std::size_t in_kernels = 0;
  for (const kernel& k : d.kernels) {
    ks.push_back(kernel_to_json<Json>(k, d.kernels, node_name));
    in_kernels += k.nodes.size();
  }
  Json acc = Json::object();
  acc["nodes"] = num_nodes;
  acc["in_kernels"] = in_kernels;
  acc["free"] = d.free_nodes.size();
  acc["kernels"] = d.kernels.size();
  acc["groups"] = d.groups;
  o["accounting"] = std::move(acc);
  o["kernels"] = std::move(ks);
  return o;
}

}  // namespace io
NNMETER_END_NAMESPACE
