// Shared helpers of the io_json_strict tests.
// SPDX-License-Identifier: MIT
#pragma once

#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <functional>
#include <initializer_list>
#include <string>

namespace strict_test {

/// The message of the E that `f` throws ("" when it throws nothing; a doctest failure when it
/// throws something else).
template <class E = nnmeter::error>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

/// Checks that `msg` holds every fragment.
inline void check_message(const std::string& msg, std::initializer_list<std::string> fragments) {
  INFO("message: " << msg);
  CHECK_FALSE(msg.empty());
  for (const std::string& f : fragments) CHECK(msg.find(f) != std::string::npos);
}

/// read_nnmeter_ir's parse_error message for `text` (source "t.json").
inline std::string ir_error(const std::string& text, const nnmeter::io::ir_read_options& o = {}) {
  return error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::read_nnmeter_ir(text, "t.json", o); });
}

/// read_nnmeter_ir's graph_error message for `text` (shapes that contradict the operators).
inline std::string ir_graph_error(const std::string& text,
                                  const nnmeter::io::ir_read_options& o = {}) {
  return error_of<nnmeter::graph_error>(
      [&] { (void)nnmeter::io::read_nnmeter_ir(text, "t.json", o); });
}

/// One-node IR: a Placeholder of shape `shape_json` (the JSON of one shape).
inline std::string input_ir(const std::string& shape_json) {
  return R"({"x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [)" +
         shape_json + "]}}}";
}

/// Input -> `type` node "op" with attr.attr `attrs` (JSON object members, without braces).
inline std::string op_ir(const std::string& type, const std::string& attrs,
                         const std::string& in_shape = "[1, 8, 8, 4]",
                         const std::string& out_shape = "[1, 8, 8, 4]") {
  return R"({"x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [)" + in_shape +
         R"(]}},
"op": {"inbounds": ["x"], "attr": {"type": ")" +
         type + R"(", "input_shape": [)" + in_shape + R"(], "output_shape": [)" + out_shape +
         R"(], "attr": {)" + attrs + "}}}}";
}

/// [[...[ 1 ]...]] with `levels` brackets.
inline std::string nested_arrays(std::size_t levels) {
  return std::string(levels, '[') + "1" + std::string(levels, ']');
}

}  // namespace strict_test
