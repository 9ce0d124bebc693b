// nnmeter model zoo — generated variants of nn-Meter's 13 dataset families, built with
// graph_builder: random channel widths, kernel sizes, depths, expansion ratios and input
// resolutions around each family's reference network, as the nn-Meter paper builds its
// dataset. Deterministic: equal (family, seed, index) give equal graphs, node for node.
// Target nnmeter_model_zoo (tools/model_zoo).
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nnmeter::zoo {

/// nn-Meter's dataset families, in its order.
enum class family : std::uint8_t {
  alexnet,
  vgg,
  densenet,
  resnet,
  squeezenet,
  googlenet,
  mobilenetv1,
  mobilenetv2,
  mobilenetv3,
  shufflenetv2,
  mnasnet,
  proxylessnas,
  nasbench201,
};

/// Every family, in enum order.
[[nodiscard]] const std::vector<family>& families();
/// nn-Meter's name of a family ("alexnet", ..., "nasbench201").
[[nodiscard]] std::string_view to_string(family f) noexcept;
/// Parses to_string's names; nullopt for anything else.
[[nodiscard]] std::optional<family> parse_family(std::string_view name) noexcept;

/// One generated model.
struct zoo_model {
  /// "<family>_<index>", e.g. "resnet_0007".
  std::string name;
  family fam = family::alexnet;
  std::uint64_t seed = 0;
  std::size_t index = 0;
  /// The variant's choices (input resolution, widths, kernel sizes, depths, ...), a compact
  /// JSON object, for reports.
  std::string config;
  /// The network: NHWC, batch 1, f32, batch norm after every convolution as in the originals.
  nnmeter::graph graph;
};

/// Model `index` of family `f` for `seed`: its own random stream (derived from the seed, the
/// family and the index), so a model does not depend on how many others are generated.
[[nodiscard]] zoo_model generate(family f, std::uint64_t seed, std::size_t index);

/// Models 0 .. count-1 of family `f` for `seed`.
[[nodiscard]] std::vector<zoo_model> generate_family(family f, std::size_t count,
                                                     std::uint64_t seed);

}  // namespace nnmeter::zoo
