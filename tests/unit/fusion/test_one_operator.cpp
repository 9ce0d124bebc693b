// One operator, however it is written: slices that partition a tensor are one split kernel (as a
// Split node is), and the decomposed forms of hswish and of the channel shuffle give the kernel
// of the single node — same fields, features and costs.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

using nnmeter::graph_builder;
using nnmeter::tensor_ref;
using dim = std::int64_t;

// Everything a kernel reports that a predictor or a user sees, but its name and node list.
std::string describe(const nnmeter::kernel& k) {
  auto shapes = [](const std::vector<nnmeter::tensor_shape>& v) {
    std::string s = "[";
    for (const nnmeter::tensor_shape& t : v) s += nnmeter::shape_rules::text(t);
    return s + "]";
  };
  auto opt = [](const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  std::string s = k.op + " kind=" + std::string(nnmeter::to_string(k.kind)) +
                  " in=" + shapes(k.input_tensors) + " out=" + shapes(k.output_tensors) +
                  " split_dim=" + opt(k.split_dim) + " h=" + opt(k.inputh) + " cin=" + opt(k.cin) +
                  " cout=" + opt(k.cout) + " flops=" + std::to_string(k.flops) +
                  " bytes=" + std::to_string(k.bytes);
  for (nnmeter::feature_set fs : {nnmeter::feature_set::nnmeter, nnmeter::feature_set::extended,
                                  nnmeter::feature_set::lanes}) {
    s += " " + std::string(nnmeter::to_string(fs)) + "=[";
    for (double x : nnmeter::features(k, fs)) s += std::to_string(x) + ",";
    s += "]";
  }
  return s;
}

std::vector<std::string> describe_all(const nnmeter::graph& g) {
  std::vector<std::string> out;
  for (const nnmeter::kernel& k : nnmeter::detect(g, nnmeter::default_rules()).kernels)
    out.push_back(describe(k));
  return out;
}

// A network with a hole: `middle` turns the conv's output into what the rest reads.
using middle_fn = std::function<std::vector<tensor_ref>(graph_builder&, tensor_ref)>;
nnmeter::graph network(const middle_fn& middle) {
  graph_builder b;
  tensor_ref x = b.input({1, 28, 28, 3}, nnmeter::dtype::f32, "input");
  x = b.relu(b.conv(x, 48, 3, 1, nnmeter::padding_mode::same), "stem");
  const std::vector<tensor_ref> parts = middle(b, x);
  for (const tensor_ref& p : parts) b.relu(b.conv(p, 16, 1));
  return std::move(b).build();
}

std::size_t count_op(const nnmeter::graph& g, const char* op) {
  std::size_t n = 0;
  for (const nnmeter::kernel& k : nnmeter::detect(g, nnmeter::default_rules()).kernels)
    n += k.op == op;
  return n;
}

}  // namespace

TEST_CASE("slices that partition one tensor are one split kernel, the kernel of a Split") {
  const nnmeter::graph split =
      network([](graph_builder& b, tensor_ref x) { return b.split(x, 2); });
  const std::vector<std::string> want = describe_all(split);
  SUBCASE("two halves (torch chunk), in either order, with ONNX's index forms") {
    const nnmeter::graph halves = network([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 24), b.slice(x, 3, 24, 48)};
    });
    CHECK(describe_all(halves) == want);
    // Listed back to front, with negative and past-the-end bounds: the same tiling.
    const nnmeter::graph reversed = network([](graph_builder& b, tensor_ref x) {
      const tensor_ref hi = b.slice(x, -1, -24, std::numeric_limits<dim>::max());
      const tensor_ref lo = b.slice(x, 3, -100, 24);
      return std::vector<tensor_ref>{lo, hi};
    });
    CHECK(describe_all(reversed) == want);
    const nnmeter::detection d = nnmeter::detect(halves, nnmeter::default_rules());
    std::size_t splits = 0;
    for (const nnmeter::kernel& k : d.kernels) {
      if (k.op != "split") continue;
      ++splits;
      CHECK(k.nodes.size() == 2);
      CHECK(k.split_dim == 3);
      CHECK(k.input_tensors == std::vector<nnmeter::tensor_shape>{{1, 28, 28, 48}});
      CHECK(k.output_tensors ==
            std::vector<nnmeter::tensor_shape>{{1, 28, 28, 24}, {1, 28, 28, 24}});
      CHECK_FALSE(k.cout.has_value());
      // What it moves: the input once and the two halves.
      CHECK(k.bytes == 4.0 * (28 * 28 * 48 + 2 * 28 * 28 * 24));
    }
    CHECK(splits == 1);
  }
  SUBCASE("three uneven pieces tile like a three-way Split") {
    const nnmeter::graph three = network([](graph_builder& b, tensor_ref x) {
      return b.split(x, std::vector<dim>{8, 30, 10});
    });
    const nnmeter::graph slices = network([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 8), b.slice(x, 3, 8, 38),
                                     b.slice(x, 3, 38, 48)};
    });
    CHECK(describe_all(slices) == describe_all(three));
    CHECK(count_op(slices, "split") == 1);
  }
}

TEST_CASE("slices that do not partition their tensor stay one kernel each") {
  auto check_separate = [](const middle_fn& middle, std::size_t slices) {
    const nnmeter::graph g = network(middle);
    CHECK(count_op(g, "split") == slices);
    for (const nnmeter::kernel& k : nnmeter::detect(g, nnmeter::default_rules()).kernels)
      if (k.op == "split") CHECK(k.nodes.size() == 1);
  };
  SUBCASE("a gap") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 20), b.slice(x, 3, 24, 48)};
    }, 2);
  }
  SUBCASE("an overlap") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 30), b.slice(x, 3, 24, 48)};
    }, 2);
  }
  SUBCASE("a piece twice") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 24), b.slice(x, 3, 24, 48),
                                     b.slice(x, 3, 0, 24)};
    }, 3);
  }
  SUBCASE("different axes") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 24), b.slice(x, 1, 14, 28)};
    }, 2);
  }
  SUBCASE("a step other than 1 (even and odd channels)") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 48, 2), b.slice(x, 3, 1, 48, 2)};
    }, 2);
  }
  SUBCASE("one slice alone") {
    check_separate([](graph_builder& b, tensor_ref x) {
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 24)};
    }, 1);
  }
  SUBCASE("halves of different tensors") {
    check_separate([](graph_builder& b, tensor_ref x) {
      const tensor_ref y = b.relu(x);
      return std::vector<tensor_ref>{b.slice(x, 3, 0, 24), b.slice(y, 3, 24, 48)};
    }, 2);
  }
  SUBCASE("halves of different outputs of one Split (which output is read is not known)") {
    check_separate([](graph_builder& b, tensor_ref x) {
      const std::vector<tensor_ref> p = b.split(x, 2);
      return std::vector<tensor_ref>{b.slice(p[0], 3, 0, 12), b.slice(p[1], 3, 12, 24)};
    }, 3);  // the Split and the two slices
  }
}

TEST_CASE("x * hardsigmoid(x) is the hswish kernel of one hswish node") {
  auto net = [](bool decomposed) {
    graph_builder b;
    // Straight from the input: the hswish is a kernel of its own, reading x from outside.
    tensor_ref x = b.input({1, 14, 14, 96}, nnmeter::dtype::f32, "input");
    x = decomposed ? b.mul(x, b.hsigmoid(x)) : b.hswish(x);
    b.conv(x, 16, 1);
    return std::move(b).build();
  };
  const std::vector<std::string> one = describe_all(net(false));
  const std::vector<std::string> two = describe_all(net(true));
  CHECK(two == one);
  REQUIRE(count_op(net(true), "hswish") == 1);
  for (const nnmeter::kernel& k : nnmeter::detect(net(true), nnmeter::default_rules()).kernels)
    if (k.op == "hswish") CHECK(k.bytes == 4.0 * 2 * 14 * 14 * 96);  // x once, the result once
}

TEST_CASE("reshape -> transpose -> reshape is the channelshuffle kernel of one node") {
  auto net = [](bool decomposed) {
    graph_builder b;
    tensor_ref x = b.input({1, 28, 28, 3}, nnmeter::dtype::f32, "input");
    x = b.relu(b.conv(x, 48, 3, 1, nnmeter::padding_mode::same));
    if (decomposed) {  // what the ONNX importer makes of torchvision's channel_shuffle
      x = b.reshape(x, {1, 2, 24, 28, 28});
      x = b.transpose(x, {0, 2, 1, 3, 4});
      x = b.reshape(x, {1, 28, 28, 48});
    } else {
      x = b.channel_shuffle(x, 2);
    }
    b.conv(x, 16, 1);
    return std::move(b).build();
  };
  const std::vector<std::string> one = describe_all(net(false));
  CHECK(describe_all(net(true)) == one);
  for (const nnmeter::kernel& k : nnmeter::detect(net(true), nnmeter::default_rules()).kernels) {
    if (k.op != "channelshuffle") continue;
    CHECK(k.nodes.size() == 3);
    CHECK(k.cout == 48);  // the exit's channels, not the entry reshape's last (5-D) dimension
  }
}
