// libFuzzer target for the fusion-rule reader: read_fusion_rules on arbitrary bytes, then a
// write-read round trip and kernel detection of a fixed graph under every rule set it accepts.
// See docs/fusion-rules.md.
// nnmeter::error (its message starting with the source name) and std::bad_alloc are expected
// outcomes for malformed input. Findings are crashes, sanitizer reports, leaks, timeouts, any
// other exception, and these invariants, which abort():
//   - write_fusion_rules(r) reads back to the same entries (name, obey, details) and writes
//     the same text again;
//   - detect() of a graph with every fusible pattern of the default rules (conv-bn-relu,
//     SE, hswish, channel shuffle, residual add, pooling, fc) under the rules does not throw
//     and accounts for every node.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include "fuzz_json_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <string_view>

namespace {

constexpr const char* target = "fuzz_rules_import";
using nnmeter_fuzz::fail;

const nnmeter::graph& sample_graph() {
  static const nnmeter::graph g = [] {
    nnmeter::graph_builder b;
    auto x = b.input({1, 16, 16, 8});
    x = b.conv_bn_relu(x, 16, 3, 1);
    auto y = b.relu6(b.bn(b.dwconv(x, 3)));
    y = b.se(y);
    x = b.add(x, b.hswish(b.bn(b.conv(y, 16, 1))));
    x = b.maxpool(x, 2, 2);
    x = b.fc(b.reshape(b.global_avgpool(x), {1, 16}), 10);
    return std::move(b).build();
  }();
  return g;
}

void check(const nnmeter::rule_set& r) {
  std::string text;
  try {
    text = nnmeter::io::write_fusion_rules(r);
  } catch (const std::exception& e) {
    fail(target, "write_fusion_rules threw on a rule set it read", e.what());
  }
  nnmeter::rule_set again;
  try {
    again = nnmeter::io::read_fusion_rules(text, "<fuzz:written>");
  } catch (const std::exception& e) {
    fail(target, "the written rules do not read back", std::string(e.what()) + "\n" + text);
  }
  if (again.entries().size() != r.entries().size())
    fail(target, "round trip", "the number of rules changed\n" + text);
  for (std::size_t i = 0; i < r.entries().size(); ++i) {
    const nnmeter::rule_entry& a = r.entries()[i];
    const nnmeter::rule_entry& b = again.entries()[i];
    if (a.name != b.name || a.obey != b.obey || a.detail_json != b.detail_json)
      fail(target, "round trip changed rule", a.name + "\n" + text);
  }
  if (nnmeter::io::write_fusion_rules(again) != text)
    fail(target, "round trip", "writing the rules again gives another text");
  (void)nnmeter_fuzz::check_detection(target, sample_graph(), r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("NNMETER_FUZZ_VERBOSE") != nullptr;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const nnmeter::rule_set r = nnmeter::io::read_fusion_rules(text, nnmeter_fuzz::source);
    check(r);
    if (verbose) std::fprintf(stderr, "read: %zu rules\n", r.entries().size());
  } catch (const nnmeter::error& e) {
    nnmeter_fuzz::check_error_names_source(target, e);
    if (verbose) std::fprintf(stderr, "nnmeter::error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    if (verbose) std::fprintf(stderr, "std::bad_alloc\n");
  } catch (const std::exception& e) {
    fail(target, "an exception other than nnmeter::error escaped", e.what());
  }
  return 0;
}
