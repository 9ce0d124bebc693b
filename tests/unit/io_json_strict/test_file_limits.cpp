// Every JSON file reader goes through read_input_file: size limits from the reader options,
// directories and devices refused with plain words, content that cannot be JSON refused from
// its first bytes.
// SPDX-License-Identifier: MIT
#include "strict_support.hpp"

#include "support/temp_dir.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace strict_test;
using nnmeter_test::temp_dir;

const std::string data_dir = NNMETER_TEST_DATA_DIR;

// The parse_error messages of the four file readers on `path`.
std::string ir_file_error(const std::string& path, const nnmeter::io::ir_read_options& o = {}) {
  return error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_nnmeter_ir(path, o); });
}
std::string rules_file_error(const std::string& path, const nnmeter::io::json_limits& l = {}) {
  return error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_fusion_rules(path, l); });
}
std::string forest_file_error(const std::string& path, const nnmeter::io::json_limits& l = {}) {
  return error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_xgboost_json(path, l); });
}

}  // namespace

TEST_CASE("directories are refused as such by every reader") {
  const temp_dir dir("nnmeter_limits");
  check_message(ir_file_error(dir.path()), {dir.path() + ": is a directory, not an nn-Meter IR file"});
  check_message(rules_file_error(dir.path()), {dir.path() + ": is a directory, not a fusion-rule file"});
  check_message(forest_file_error(dir.path()), {dir.path() + ": is a directory, not an XGBoost JSON model"});
  std::filesystem::create_directory(dir.file("manifest.json"));
  check_message(error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_predictor_package(dir.path()); }),
                {dir.file("manifest.json") + ": is a directory, not a predictor package manifest"});
  check_message(ir_file_error(dir.file("missing.json")), {dir.file("missing.json") + ": no such file"});
}

TEST_CASE("/dev/zero is refused from its first chunk by every reader") {
  check_message(ir_file_error("/dev/zero"), {"/dev/zero: not an nn-Meter IR file: byte 1 is a NUL byte"});
  check_message(rules_file_error("/dev/zero"), {"/dev/zero: not a fusion-rule file: byte 1 is a NUL byte"});
  check_message(forest_file_error("/dev/zero"), {"/dev/zero: not an XGBoost JSON model: byte 1 is a NUL byte"});
}

TEST_CASE("content that cannot be JSON is refused from its first bytes") {
  const temp_dir dir("nnmeter_limits");
  check_message(ir_file_error(dir.write("a.json", std::string("{\"x\": \0}", 9))),
                {"not an nn-Meter IR file: byte 7 is a NUL byte"});
  check_message(ir_file_error(dir.write("b.json", "\n\n  <html>")),
                {"not an nn-Meter IR file: byte 5 (0x3C) starts no JSON value"});
  check_message(ir_file_error(dir.write("c.json", "\x89PNG\r\n")), {"byte 1 (0x89) starts no JSON value"});
  // A UTF-8 byte-order mark and white space before the document are fine.
  const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(
      dir.write("bom.json", "\xEF\xBB\xBF \n{\"x\": {\"inbounds\": [], \"attr\": {\"type\": \"Placeholder\"}}}"));
  CHECK(g.num_nodes() == 1);
  // An empty file reaches the parser, which says so.
  check_message(ir_file_error(dir.write("empty.json", "")), {"not valid JSON"});
}

TEST_CASE("size limits come from the reader options, checked before reading") {
  const temp_dir dir("nnmeter_limits");
  const std::string path = dir.file("sparse.json");
  dir.write("sparse.json", "{");
  std::filesystem::resize_file(path, std::uintmax_t{3} << 30);  // 3 GiB, sparse
  check_message(ir_file_error(path), {path + ": 3.00 GiB is larger than the 1.00 GiB accepted for an nn-Meter IR file"});
  check_message(rules_file_error(path), {"3.00 GiB is larger than the 1.00 GiB accepted for a fusion-rule file"});
  check_message(forest_file_error(path), {"3.00 GiB is larger than the 1.00 GiB accepted for an XGBoost JSON model"});

  nnmeter::io::ir_read_options o;
  o.limits.max_bytes = 100;
  const std::string small = dir.write("small.json", std::string(200, ' ') + "{}");
  check_message(ir_file_error(small, o), {small + ": 202 bytes is larger than the 100 bytes accepted"});
  nnmeter::io::json_limits l;
  l.max_bytes = 100;
  check_message(rules_file_error(small, l), {"202 bytes is larger than the 100 bytes accepted"});
  check_message(forest_file_error(small, l), {"202 bytes is larger than the 100 bytes accepted"});
  // Within the limit, the same file reads (an empty graph).
  o.limits.max_bytes = 202;
  CHECK(nnmeter::io::load_nnmeter_ir(small, o).num_nodes() == 0);
}

TEST_CASE("a pipe is read in chunks and refused once it yields more than the limit") {
  const temp_dir dir("nnmeter_limits");
  const std::string fifo = dir.file("pipe.json");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // The writer sends 8 MiB of white space; the reader stops after 1 MiB. It waits at most 20 s
  // for the reader to open the pipe (non-blocking open fails with ENXIO until then), and a
  // write after the reader has gone fails with EPIPE (SIGPIPE ignored), so it never hangs.
  std::signal(SIGPIPE, SIG_IGN);
  std::thread writer([&] {
    int fd = -1;
    for (int tries = 0; tries < 2000 && fd < 0; ++tries) {
      fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd < 0) usleep(10000);
    }
    if (fd < 0) return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const std::string chunk(64 * 1024, ' ');
    for (int i = 0; i < 128; ++i)
      if (write(fd, chunk.data(), chunk.size()) < 0) break;  // EPIPE once the reader is gone
    close(fd);
  });
  nnmeter::io::ir_read_options o;
  o.limits.max_bytes = 1 << 20;
  const std::string msg = ir_file_error(fifo, o);
  writer.join();
  check_message(msg, {fifo + ": more than the 1.00 MiB accepted for an nn-Meter IR file (not a regular file)"});
}

TEST_CASE("predictor packages: every file through the bounded reader, names inside the package") {
  const temp_dir dir("nnmeter_limits");
  const auto manifest = [](const std::string& rules, const std::string& kernels) {
    return R"({"format_version": 1, "name": "t", "version": "1", "device": "d", "backend": "b",
               "feature_set": "nnmeter", "fusion_rules": )" + rules + R"(, "kernels": )" + kernels + "}";
  };
  dir.write("fusion_rules.json", R"({"BF_conv_bn": {"obey": true}})");
  std::filesystem::create_directory(dir.file("fc.json"));
  SUBCASE("a forest that is a directory") {
    dir.write("manifest.json", manifest("\"fusion_rules.json\"", R"({"fc": "fc.json"})"));
    check_message(error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_predictor_package(dir.path()); }),
                  {dir.file("fc.json") + ": is a directory, not a predictor package file"});
  }
  SUBCASE("a file name with a control character") {
    dir.write("manifest.json", manifest("\"fusion_rules.json\"", R"({"fc": "fc\u0000.json"})"));
    check_message(error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_predictor_package(dir.path()); }),
                  {"kernels['fc']: must be a file name inside the package"});
  }
  SUBCASE("rules deeper than the limit") {
    dir.write("deep_rules.json", "{\"BF_conv_bn\": " + nested_arrays(400) + "}");
    dir.write("manifest.json", manifest("\"deep_rules.json\"", "{}"));
    check_message(error_of<nnmeter::parse_error>([&] { (void)nnmeter::io::load_predictor_package(dir.path()); }),
                  {dir.file("deep_rules.json") + ": JSON nested deeper than 256 levels"});
  }
  SUBCASE("a format_version beyond int64 is reported as written") {
    dir.write("manifest.json", R"({"format_version": 18446744073709551615})");
    check_message(error_of<nnmeter::format_mismatch>([&] { (void)nnmeter::io::load_predictor_package(dir.path()); }),
                  {"predictor format_version 18446744073709551615"});
  }
}
