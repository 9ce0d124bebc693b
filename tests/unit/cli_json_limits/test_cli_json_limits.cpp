// Bounded resources of the JSON inputs, end to end: `nnmeter kernels` refuses hostile files
// (devices, huge sparse files, deep nesting, directories, duplicate names, out-of-range
// values) with a clear error, exit status 1, no signal, and a small peak memory, measured on
// the child process itself (wait4's ru_maxrss).
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using nnmeter_test::measured_run;
using nnmeter_test::run_measured;
using nnmeter_test::temp_dir;

const std::string cli = NNMETER_CLI_PATH;
constexpr long rss_limit_kib = 64 * 1024;  // issue 8: at most 64 MB when refusing

measured_run kernels(const std::vector<std::string>& args) {
  std::vector<std::string> argv{cli, "kernels"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_measured(argv, 120.0);
}

// A clean refusal: started, exit status 1 (no signal, no timeout), the expected message.
void check_refused(const measured_run& r, const std::string& fragment) {
  INFO("output: " << r.output);
  INFO("peak RSS: " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  REQUIRE(r.started);
  CHECK_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.exit_status == 1);
  CHECK(r.output.find("nnmeter: error: ") != std::string::npos);
  CHECK(r.output.find(fragment) != std::string::npos);
}

// A small valid IR whose conv attributes are `conv_attr`.
std::string conv_ir(const std::string& conv_attr) {
  return R"({"x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 8, 8, 3]]}},
"conv": {"inbounds": ["x"], "attr": {"type": "Conv2D", "input_shape": [[1, 8, 8, 3]],
  "output_shape": [[1, 8, 8, 4]], "attr": {)" +
         conv_attr + R"(}}}})";
}

}  // namespace

TEST_CASE("a valid IR runs with a small peak RSS (the baseline of the limits below)") {
  const measured_run r =
      kernels({"--nnmeter-ir", std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json"});
  MESSAGE("nnmeter kernels on mobilenetv3small_0: peak RSS " << r.peak_rss_kib << " KiB");
  INFO(r.output);
  CHECK(r.exit_status == 0);
  CHECK(r.output.find("302 nodes, 60 kernels") != std::string::npos);
  CHECK(r.peak_rss_kib > 0);
  CHECK(r.peak_rss_kib <= rss_limit_kib);
}

TEST_CASE("--nnmeter-ir /dev/zero is refused after its first chunk") {
  const measured_run r = kernels({"--nnmeter-ir", "/dev/zero"});
  check_refused(r, "/dev/zero: not an nn-Meter IR file: byte 1 is a NUL byte");
  MESSAGE("/dev/zero: peak RSS " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  CHECK(r.peak_rss_kib <= rss_limit_kib);
  CHECK(r.seconds < 30.0);
}

TEST_CASE("a 3 GB sparse file is refused from its size, before it is read") {
  const temp_dir dir("nnmeter_cli_limits");
  const std::string path = dir.file("huge.json");
  dir.write("huge.json", "{");
  std::filesystem::resize_file(path, std::uintmax_t{3} << 30);  // sparse: no disk blocks
  const measured_run r = kernels({"--nnmeter-ir", path});
  check_refused(r, path + ": 3.00 GiB is larger than the 1.00 GiB accepted for an nn-Meter IR file");
  MESSAGE("3 GB sparse file: peak RSS " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  CHECK(r.peak_rss_kib <= rss_limit_kib);
  CHECK(r.seconds < 30.0);
}

TEST_CASE("an IR attribute nested 10^5 levels deep is refused while parsing") {
  const temp_dir dir("nnmeter_cli_limits");
  const std::string prefix =
      R"({"x": {"inbounds": [], "attr": {"type": "Relu", "output_shape": [[1, 4]], "attr": {"deep": )";
  const std::size_t levels = 100000;
  const std::string text =
      prefix + std::string(levels, '[') + std::string(levels, ']') + "}}}}";
  const std::string path = dir.write("deep.json", text);
  const measured_run r = kernels({"--nnmeter-ir", path});
  // Levels 1-4 are the document, the record, attr and attr.attr: the 253rd '[' opens level 257.
  check_refused(r, path + ": JSON nested deeper than 256 levels at byte " +
                       std::to_string(prefix.size() + 253));
  MESSAGE("10^5-deep nesting: peak RSS " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  CHECK(r.peak_rss_kib <= rss_limit_kib);
}

TEST_CASE("a rule's latency nested 10^5 levels deep is refused (--rules)") {
  const temp_dir dir("nnmeter_cli_limits");
  const std::string prefix = R"({"BF_conv_bn": {"obey": true, "latency": )";
  const std::size_t levels = 100000;
  std::string deep;  // {"a":{"a":...1}}
  for (std::size_t i = 0; i < levels; ++i) deep += "{\"a\":";
  deep += "1";
  deep += std::string(levels, '}');
  const std::string rules = dir.write("rules.json", prefix + deep + "}}");
  const measured_run r = kernels({"--nnmeter-ir",
                                  std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json",
                                  "--rules", rules});
  // Levels 1-2 are the document and the rule: the 255th '{' of `deep` opens level 257; each
  // opener is 5 bytes ({"a":).
  check_refused(r, rules + ": JSON nested deeper than 256 levels at byte " +
                       std::to_string(prefix.size() + 254 * 5 + 1));
  CHECK(r.peak_rss_kib <= rss_limit_kib);
}

TEST_CASE("a directory, a missing file and a binary file are refused with plain words") {
  const temp_dir dir("nnmeter_cli_limits");
  SUBCASE("directory") {
    check_refused(kernels({"--nnmeter-ir", dir.path()}),
                  dir.path() + ": is a directory, not an nn-Meter IR file");
  }
  SUBCASE("missing file") {
    check_refused(kernels({"--nnmeter-ir", dir.file("nope.json")}),
                  dir.file("nope.json") + ": no such file");
  }
  SUBCASE("a binary file (an ONNX model's first bytes)") {
    const std::string path = dir.write("model.onnx", std::string("\x08\x07\x12\x07pytorch", 11));
    check_refused(kernels({"--nnmeter-ir", path}),
                  path + ": not an nn-Meter IR file: byte 1 (0x08) starts no JSON value");
  }
  SUBCASE("rules file that is a directory") {
    check_refused(kernels({"--nnmeter-ir",
                           std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json",
                           "--rules", dir.path()}),
                  dir.path() + ": is a directory, not a fusion-rule file");
  }
}

TEST_CASE("duplicate node and rule names are errors naming the name") {
  const temp_dir dir("nnmeter_cli_limits");
  SUBCASE("two nodes of one name") {
    const std::string path = dir.write("dup.json", R"({
  "a": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 4]]}},
  "a": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 8]]}}})");
    check_refused(kernels({"--nnmeter-ir", path}), path + ": node 'a' appears twice");
  }
  SUBCASE("two rules of one name") {
    const std::string rules = dir.write(
        "rules.json", R"({"BF_conv_bn": {"obey": true}, "BF_conv_bn": {"obey": false}})");
    check_refused(kernels({"--nnmeter-ir",
                           std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json",
                           "--rules", rules}),
                  rules + ": rule 'BF_conv_bn' appears twice");
  }
}

TEST_CASE("out-of-range IR values are errors naming the node and key, never wrapped") {
  const temp_dir dir("nnmeter_cli_limits");
  SUBCASE("a dim of 2^63") {
    const std::string path = dir.write("dim.json", R"({"x": {"inbounds": [], "attr":
      {"type": "Placeholder", "output_shape": [[1, 9223372036854775808, 8, 3]]}}})");
    check_refused(kernels({"--nnmeter-ir", path}),
                  path + ": node 'x': 'output_shape': dimension 9223372036854775808 is out of "
                         "range");
  }
  SUBCASE("kernel_shape [0, 0]") {
    const std::string path =
        dir.write("k0.json", conv_ir(R"("kernel_shape": [0, 0], "weight_shape": [3, 3, 3, 4])"));
    check_refused(kernels({"--nnmeter-ir", path}),
                  path + ": node 'conv': 'kernel_shape' value 0 is out of range (1 to 2^31-1)");
  }
  SUBCASE("kernel_shape [1e12, 1e12]") {
    const std::string path = dir.write("k12.json", conv_ir(R"("kernel_shape": [1e12, 1e12])"));
    check_refused(kernels({"--nnmeter-ir", path}),
                  path + ": node 'conv': 'kernel_shape' value 1000000000000 is out of range");
  }
}
