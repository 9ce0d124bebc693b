// nnmeter builder — kernel configurations, the graph of each, and the one feature function that
// training and prediction share (docs/builder.md, "Kernel sampler").
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nnmeter::builder {

/// One kernel configuration: a kernel kind and named integer parameters with nn-Meter's keys
/// (HW, CIN, COUT, KERNEL_SIZE, STRIDES; CIN1..CIN4 for concat) plus the project's own for the
/// kinds nn-Meter lacks (BROADCAST, PAD, SCALE, M). config_parameters() lists them per kind.
struct kernel_config {
  nnmeter::kernel_kind kind = nnmeter::kernel_kind::conv_bn_relu;
  /// Parameter name -> value; a std::map, so iteration (and key()) is in name order.
  std::map<std::string, std::int64_t> params;

  /// The value of `name`; throws nnmeter::error naming the kind and the parameter when absent.
  [[nodiscard]] std::int64_t at(const std::string& name) const;
  /// The value of `name`, or `fallback` when absent.
  [[nodiscard]] std::int64_t get(const std::string& name, std::int64_t fallback) const;

  /// The canonical text of the parameters, the profile store's configuration key: compact JSON
  /// with the names sorted, e.g. {"CIN":16,"COUT":32,"HW":28,"KERNEL_SIZE":3,"STRIDES":1}. It
  /// equals builder::canonical_json() of the same object, and depends only on the values: the
  /// same configuration gives the same key in every run. The kind is not part of it (the
  /// store keeps the kind beside the key).
  [[nodiscard]] std::string key() const;
  /// "<kind> <key>", for messages.
  [[nodiscard]] std::string describe() const;

  friend bool operator==(const kernel_config& a, const kernel_config& b) {
    return a.kind == b.kind && a.params == b.params;
  }
  friend bool operator!=(const kernel_config& a, const kernel_config& b) { return !(a == b); }
  /// Kind first, then the parameters (a strict weak order for sets and sorting).
  friend bool operator<(const kernel_config& a, const kernel_config& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.params < b.params;
  }
};

/// The parameter names of a kind, in nn-Meter's order (a configuration of the kind has exactly
/// these). Throws nnmeter::unsupported_error for the kinds no graph_builder graph expresses
/// (quantize, dequantize, other).
///
///   conv-bn-relu                 HW CIN COUT KERNEL_SIZE STRIDES
///   dwconv-bn-relu               HW CIN KERNEL_SIZE STRIDES
///   fc                           CIN COUT
///   maxpool, avgpool             HW CIN KERNEL_SIZE STRIDES (nn-Meter's POOL_STRIDES)
///   concat                       HW CIN1 CIN2 CIN3 CIN4 (0 = input absent; 2 to 4 inputs)
///   mul                          HW CIN BROADCAST (0: two [1,HW,HW,CIN] inputs, 1: x *
///   [1,1,1,CIN]) pad                          HW CIN PAD (zero padding of PAD on each side) resize
///   HW CIN SCALE (bilinear, H and W times SCALE) matmul                       M CIN COUT ([1, M,
///   CIN] x [1, CIN, COUT]) every other kind             HW CIN
[[nodiscard]] const std::vector<std::string>& config_parameters(nnmeter::kernel_kind kind);

/// The kinds kernel_graph() builds: nn-Meter's sixteen, then sigmoid, mul, hardsigmoid, pad,
/// matmul, softmax, resize, data-movement. All but matmul run on the xnnpack backend (XNNPACK of
/// this snapshot has no product of two activations: its executor refuses matmul with
/// nnmeter::unsupported_error).
[[nodiscard]] const std::vector<nnmeter::kernel_kind>& buildable_kinds();

/// Checks a configuration: exactly config_parameters(kind), every value in range (sizes >= 1;
/// KERNEL_SIZE 1..15, STRIDES 1..8; CIN even for split and channelshuffle; concat's inputs
/// CIN1, CIN2 >= 1 and no absent input before a present one; BROADCAST 0 or 1; PAD 1..64;
/// SCALE 1..8). Throws nnmeter::error "kernel configuration <kind> <key>: ..." naming the
/// parameter.
void validate(const kernel_config& config);

/// Reads a configuration back from its key() text (any JSON object of integers is accepted and
/// then validated). Throws nnmeter::parse_error naming `source` and the key for malformed text,
/// and validate()'s errors.
[[nodiscard]] kernel_config parse_kernel_config(nnmeter::kernel_kind kind, std::string_view key,
                                                std::string_view source = "configuration");

/// nn-Meter's block for a configuration, built with graph_builder, batch 1, NHWC: the graph
/// whose kernel detection gives exactly one kernel of config.kind (plus its inputs).
///
///   conv-bn-relu     input [1,HW,HW,CIN] -> conv COUT, KERNEL_SIZE, STRIDES, SAME -> bn -> relu
///   dwconv-bn-relu   input -> dwconv KERNEL_SIZE, STRIDES, SAME -> bn -> relu
///   fc               input [1, CIN] -> fc COUT
///   maxpool/avgpool  input -> pool KERNEL_SIZE, STRIDES, SAME
///   global-avgpool   input -> global average pooling
///   hswish, relu, bn, sigmoid, hardsigmoid     input -> the op
///   bnrelu           input -> bn -> relu
///   se               input -> graph_builder::se (gap, conv 1x1 CIN/4, relu, conv 1x1, hsigmoid,
///   mul) split            input -> split into 2 along channels channelshuffle   input ->
///   channel_shuffle, 2 groups (the IR's op: it detects as
///                    channelshuffle and runs on XNNPACK, unlike reshape/transpose/reshape)
///   add, addrelu     two inputs [1,HW,HW,CIN] -> add (-> relu)
///   concat           one input [1,HW,HW,CINi] per non-zero CINi -> concat along channels
///   mul              two inputs -> mul (second [1,1,1,CIN] when BROADCAST)
///   pad              input -> pad PAD on all four sides
///   matmul           inputs [1,M,CIN], [1,CIN,COUT] -> matmul
///   softmax          input -> softmax over channels
///   resize           input -> bilinear resize by SCALE
///   data-movement    input -> reshape to [1, HW*HW, CIN]
/// Throws validate()'s errors, and nnmeter::graph_error when a size is too large for a graph.
[[nodiscard]] nnmeter::graph kernel_graph(const kernel_config& config);

/// A kernel graph chosen for a device's rules.
struct kernel_block {
  /// The block built: "conv-bn-relu", "conv-relu", "conv-bn", "conv", ...; for kinds with one
  /// block, the kind's name.
  std::string block;
  nnmeter::graph graph;
};

/// The largest variant of the kind's block that `rules` run as one kernel of config.kind: for
/// conv-bn-relu the first of conv-bn-relu, conv-relu, conv-bn, conv that detects as a single
/// kernel (likewise for dwconv-bn-relu); other kinds have one block. On a device whose conv
/// does not absorb bn or relu, the conv-bn-relu forest is thus trained on bare convolutions,
/// which is what its kernels are there. Throws nnmeter::error naming the kind and what the
/// rules make of the block when no variant is one kernel (e.g. bnrelu where bn and relu do
/// not fuse).
[[nodiscard]] kernel_block kernel_block_for(const kernel_config& config,
                                            const nnmeter::rule_set& rules);

/// The feature vector of the kernel of kind `kind` in `g` under `rules`, in feature set `set`:
/// nnmeter::detect(g, rules) then nnmeter::features(kernel, set) — exactly what
/// nnmeter::predictor computes for the same graph, so training and prediction can never see
/// different features. Throws nnmeter::error when the detection gives anything but exactly
/// one kernel, or one of another kind (the message lists the kernels found), and when the
/// feature set has no vector for the kernel (e.g. nn-Meter's set for sigmoid).
[[nodiscard]] nnmeter::feature_vector training_features(const nnmeter::graph& g,
                                                        const nnmeter::rule_set& rules,
                                                        nnmeter::kernel_kind kind,
                                                        nnmeter::feature_set set);

/// training_features(kernel_block_for(config, rules).graph, rules, config.kind, set).
[[nodiscard]] nnmeter::feature_vector training_features(const kernel_config& config,
                                                        const nnmeter::rule_set& rules,
                                                        nnmeter::feature_set set);

/// A training row of a kernel as nnmeter::predictor sees it: its feature vector and the factor
/// the predictor multiplies the forest's output by under `target` (target_scale of the
/// detected kernel's FLOPs and bytes; 1 for ms). training_features' errors, and nnmeter::error
/// when the kernel's work is unknown for a target that needs it.
struct training_sample {
  nnmeter::feature_vector features;
  double scale = 1.0;
  /// The detected kernel's work (nnmeter::kernel::flops, kernel::bytes): what the predictor's
  /// fallback models read (NaN when a dimension is unknown).
  double flops = 0.0;
  double bytes = 0.0;
};
[[nodiscard]] training_sample training_sample_of(const nnmeter::graph& g,
                                                 const nnmeter::rule_set& rules,
                                                 nnmeter::kernel_kind kind,
                                                 nnmeter::feature_set set,
                                                 nnmeter::latency_target target);
/// training_sample_of(kernel_block_for(config, rules).graph, rules, config.kind, set, target).
[[nodiscard]] training_sample training_sample_of(const kernel_config& config,
                                                 const nnmeter::rule_set& rules,
                                                 nnmeter::feature_set set,
                                                 nnmeter::latency_target target);

/// Cost of a configuration's block (kernel_graph) as detected under nn-Meter's default rules:
/// FLOPs (a multiply-add counts 2) and bytes moved (inputs, outputs and weights, float32).
struct kernel_cost {
  double mflops = 0;
  double mbytes = 0;
};
[[nodiscard]] kernel_cost cost_of(const kernel_config& config);

}  // namespace nnmeter::builder
