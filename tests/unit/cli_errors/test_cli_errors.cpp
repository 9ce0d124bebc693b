// What the nnmeter program prints for bad input (issue 8): numeric options out of range are
// usage errors with a readable range, hostile model files (/dev/zero, a 3 GB sparse file, a
// directory) are refused quickly with a small peak memory (the child's own ru_maxrss), option
// values are checked before any file is read, and every error names the file or the option
// rather than a library text.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using nnmeter_test::measured_run;
using nnmeter_test::run_measured;
using nnmeter_test::temp_dir;

const std::string cli = NNMETER_CLI_PATH;
constexpr long rss_limit_kib = 64 * 1024;  // issue 8: at most 64 MB when refusing
const std::string mobilenet = std::string(NNMETER_TEST_DATA_DIR) + "/mobilenetv3small_0.ir.json";

measured_run run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{cli};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_measured(argv, 120.0);
}

// Texts that must never reach a user: C++ library internals and CLI11's numeric limits.
void check_no_library_text(const std::string& out) {
  for (const char* raw :
       {"basic_string", "_M_create", "std::bad_alloc", "stoi", "stoll", "bad_array_new_length",
        "vector::", "17976931348623157", "nlohmann", "[json.exception"}) {
    INFO("raw library text: " << raw);
    CHECK(out.find(raw) == std::string::npos);
  }
}

// A usage error: CLI11's non-zero status (not 1, not a signal), `fragment` in the output, no
// library text, and no trace of the model having been read.
void check_usage_error(const measured_run& r, const std::string& fragment) {
  INFO("output: " << r.output);
  REQUIRE(r.started);
  CHECK_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.exit_status != 0);
  CHECK(r.exit_status != 1);
  CHECK(r.output.find(fragment) != std::string::npos);
  CHECK(r.output.find("no such file") == std::string::npos);
  check_no_library_text(r.output);
}

// An error of the command: exit status 1, "nnmeter: error: " + fragment.
void check_error(const measured_run& r, const std::string& fragment) {
  INFO("output: " << r.output);
  INFO("peak RSS: " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  REQUIRE(r.started);
  CHECK_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.exit_status == 1);
  CHECK(r.output.find("nnmeter: error: " + fragment) != std::string::npos);
  check_no_library_text(r.output);
}

// True when this nnmeter was built without ONNX (then --onnx says so, and that is checked).
bool without_onnx(const measured_run& r) {
  return r.output.find("built without ONNX support") != std::string::npos;
}

}  // namespace

TEST_CASE("numeric options out of range: a readable range naming the option, nothing read") {
  // The model does not exist: the options are checked before it would be read.
  const std::string model = "/nonexistent/model.json";
  struct bad {
    const char* option;
    const char* value;
    const char* message;
  };
  const bad cases[] = {
      {"--runs", "0", "--runs: must be an integer from 1 to 100000 (got '0')"},
      {"--runs", "1e3", "--runs: must be an integer from 1 to 100000 (got '1e3')"},
      {"--runs", "99999999999999999999", "--runs: must be an integer from 1 to 100000"},
      {"--blocks", "-2", "--blocks: must be an integer from 1 to 10000 (got '-2')"},
      {"--passes", "1001", "--passes: must be an integer from 1 to 1000 (got '1001')"},
      {"--warmup", "1e308", "--warmup: must be a number of seconds from 0 to 600 (got '1e308')"},
      {"--warmup", "-1", "--warmup: must be a number of seconds from 0 to 600 (got '-1')"},
      {"--warmup", "nan", "--warmup: must be a number of seconds from 0 to 600 (got 'nan')"},
      {"--warmup", "inf", "--warmup: must be a number of seconds from 0 to 600 (got 'inf')"},
      {"--threads", "0", "--threads: must be an integer from 1 to 1024 (got '0')"},
      {"--seed", "-1", "--seed: must be an integer from 0 to 18446744073709551615 (got '-1')"},
      {"--seed", "1.5", "--seed: must be an integer from 0 to 18446744073709551615 (got '1.5')"},
  };
  for (const bad& c : cases) {
    INFO(c.option << " " << c.value);
    const measured_run r = run({"profile", c.option, c.value, "--nnmeter-ir", model});
    check_usage_error(r, c.message);
    CHECK(r.output.size() < 300);  // one line and CLI11's hint, not a 309-digit range
  }
  // --help shows the ranges.
  const measured_run h = run({"profile", "--help"});
  CHECK(h.exit_status == 0);
  CHECK(h.output.find("[1, 100000]") != std::string::npos);
  CHECK(h.output.find("[0, 600]") != std::string::npos);
}

TEST_CASE("the product of --passes, --blocks and --runs is bounded, naming the three") {
  const measured_run r = run({"profile", "--passes", "1000", "--blocks", "10000", "--runs",
                              "100000", "--nnmeter-ir", mobilenet});
  if (r.output.find("without the backends library") != std::string::npos) {
    check_error(r, "profile: this nnmeter was built without the backends library");
    return;
  }
  check_error(r,
              "--passes x --blocks x --runs = 1000 x 10000 x 100000 = 1000000000000 timed "
              "invokes, more than the 100000000");
  CHECK(r.seconds < 30.0);
}

TEST_CASE("--onnx /dev/zero is refused at its first byte with a small peak RSS") {
  const measured_run r = run({"kernels", "--onnx", "/dev/zero"});
  if (without_onnx(r)) {
    check_error(r, "--onnx: this nnmeter was built without ONNX support");
    return;
  }
  check_error(r,
              "/dev/zero: not an ONNX model (its first byte 0x00 starts no field of an ONNX "
              "ModelProto)");
  MESSAGE("kernels --onnx /dev/zero: peak RSS " << r.peak_rss_kib << " KiB, " << r.seconds << " s");
  CHECK(r.peak_rss_kib > 0);
  CHECK(r.peak_rss_kib <= rss_limit_kib);
  CHECK(r.seconds < 30.0);
}

TEST_CASE("a 3 GB sparse .onnx is refused from its size, before it is read") {
  const temp_dir dir("nnmeter_cli_errors");
  const std::string path = dir.write("huge.onnx", std::string("\x08\x08", 2));
  std::filesystem::resize_file(path, std::uintmax_t{3} << 30);  // sparse: no disk blocks
  const measured_run r = run({"kernels", "--onnx", path});
  if (without_onnx(r)) {
    check_error(r, "--onnx: this nnmeter was built without ONNX support");
    return;
  }
  check_error(r, path + ": 3.00 GiB is larger than the 2.00 GiB accepted for an ONNX model");
  MESSAGE("kernels --onnx <3 GB sparse file>: peak RSS " << r.peak_rss_kib << " KiB, " << r.seconds
                                                         << " s");
  CHECK(r.peak_rss_kib > 0);
  CHECK(r.peak_rss_kib <= rss_limit_kib);
  CHECK(r.seconds < 30.0);
}

TEST_CASE("--onnx: a directory, a missing file and a text file are refused with plain words") {
  const temp_dir dir("nnmeter_cli_errors");
  const measured_run probe = run({"kernels", "--onnx", dir.path()});
  if (without_onnx(probe)) {
    check_error(probe, "--onnx: this nnmeter was built without ONNX support");
    return;
  }
  check_error(probe, dir.path() + ": is a directory, not an ONNX model");
  check_error(run({"kernels", "--onnx", dir.file("nope.onnx")}),
              dir.file("nope.onnx") + ": no such file");
  const std::string text = dir.write("notes.onnx", "{\"not\": \"a model\"}\n");
  check_error(run({"kernels", "--onnx", text}),
              text + ": not an ONNX model (its first byte 0x7b starts no field");
  // profile reads models the same way.
  const measured_run p = run({"profile", "--onnx", dir.path(), "--runs", "1"});
  if (p.output.find("without the backends library") == std::string::npos)
    check_error(p, dir.path() + ": is a directory, not an ONNX model");
}

TEST_CASE("--input-shape values are checked before the model is read, naming the option") {
  const std::string model = "/nonexistent/model.onnx";
  const char* cases[][2] = {
      {"x:0,3",
       "--input-shape 'x:0,3': a dimension must be an integer from 1 to 2147483647 (got '0')"},
      {"x:1,99999999999",
       "--input-shape 'x:1,99999999999': a dimension must be an integer from 1 to "
       "2147483647 (got '99999999999')"},
      {"x:1,2.5",
       "--input-shape 'x:1,2.5': a dimension must be an integer from 1 to "
       "2147483647 (got '2.5')"},
      {"x:1,,3",
       "--input-shape 'x:1,,3': a dimension must be an integer from 1 to "
       "2147483647 (got '')"},
      {"x:1,2,3,4,5,6,7,8,9", "--input-shape 'x:1,2,3,4,5,6,7,8,9': more than 8 dimensions"},
      {"x", "--input-shape 'x': expected NAME:D0,D1,..."},
  };
  for (const auto& c : cases) {
    INFO(c[0]);
    const measured_run r = run({"kernels", "--input-shape", c[0], "--onnx", model});
    if (without_onnx(r)) {
      check_error(r, "--onnx: this nnmeter was built without ONNX support");
      continue;
    }
    check_error(r, c[1]);
    CHECK(r.output.find("no such file") == std::string::npos);
  }
  const measured_run twice =
      run({"kernels", "--input-shape", "x:1", "--input-shape", "x:2", "--onnx", model});
  if (!without_onnx(twice)) check_error(twice, "--input-shape given twice for input 'x'");
}

TEST_CASE("ONNX-only flags need --onnx") {
  for (const char* flag : {"--allow-any-opset", "--allow-missing-external-data"}) {
    INFO(flag);
    const measured_run r = run({"kernels", flag, "--nnmeter-ir", mobilenet});
    check_usage_error(r, flag);
    CHECK(r.output.find("--onnx") != std::string::npos);
  }
}

TEST_CASE("nn-Meter IR warnings are printed, and kept in --json") {
  const temp_dir dir("nnmeter_cli_errors");
  const std::string path = dir.write("quirk.json", R"({
  "x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 8]]},
        "colour": "blue"},
  "r": {"inbounds": ["x"], "attr": {"type": "Relu", "input_shape": [[1, 8]],
        "output_shape": [[1, 8]]}}})");
  const measured_run text = run({"kernels", "--nnmeter-ir", path});
  INFO(text.output);
  REQUIRE(text.exit_status == 0);
  CHECK(text.output.find("nnmeter: warning: " + path) != std::string::npos);
  CHECK(text.output.find("colour") != std::string::npos);
  const measured_run json = run({"kernels", "--json", "--nnmeter-ir", path});
  REQUIRE(json.exit_status == 0);
  const std::size_t w = json.output.find("\"warnings\": [");
  REQUIRE(w != std::string::npos);
  CHECK(json.output.find("colour", w) != std::string::npos);
}

TEST_CASE("profile errors name the model's file as well as the node") {
  const temp_dir dir("nnmeter_cli_errors");
  // GELU: a valid model the xnnpack backend cannot run.
  const std::string path = dir.write("gelu.json", R"({
  "x": {"inbounds": [], "attr": {"type": "Placeholder", "output_shape": [[1, 64]]}},
  "act/gelu": {"inbounds": ["x"], "attr": {"type": "gelu", "input_shape": [[1, 64]],
               "output_shape": [[1, 64]]}}})");
  const measured_run r = run({"profile", "--runs", "1", "--blocks", "1", "--passes", "1",
                              "--warmup", "0", "--nnmeter-ir", path});
  if (r.output.find("without the backends library") != std::string::npos) {
    check_error(r, "profile: this nnmeter was built without the backends library");
    return;
  }
  INFO(r.output);
  if (r.output.find("unknown operator type 'gelu'") != std::string::npos) {
    check_error(r, path + ": node 'act/gelu'");  // the reader refuses it: named all the same
    return;
  }
  check_error(r, path + ": cannot execute: ");
  CHECK(r.output.find("'act/gelu'") != std::string::npos);
}
