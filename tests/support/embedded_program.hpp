// Test helper: a program built from a header that `nnmeter codegen` generated, predicting models
// with the embedded predictor, and the same report computed from a predictor in this process,
// so a test can compare the two line by line. Needs nnmeter::json and compile_program.hpp's
// definitions.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter.hpp>
#include <nnmeter/io/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/compile_program.hpp"

namespace nnmeter_test {

/// Source of a program that includes `header` (a generated header whose namespace is `ns`) and
/// prints, with hexadecimal floats (exact):
///   verify <checked> <failures>
///   info <name>|<version>|<device>|<backend>|<feature set>|<protocol json>|<build json>
///   model <latency_ms> <predicted> <unpredicted> <fallback> <fallback_ms>
///                                                         per model file given as argument
///   kernel <i> <kind> <status> <latency_ms> <constexpr>   per kernel: predict()'s value, and
///                                                         kernel_latency_ms()'s or "none"; the
///                                                         status of a fallback kernel is
///                                                         "fallback/<reason>"
///   latency <latency_ms>                                  predictor::latency()
inline std::string embedded_program_source(const std::string& header, const std::string& ns) {
  return "#include \"" + header + "\"\n" + R"(
#include <nnmeter/io/json.hpp>

#include <cstdio>
#include <string>

namespace emb = )" +
         ns + R"(;

int main(int argc, char** argv) {
  const nnmeter::predictor p = emb::make_predictor();
  const nnmeter::verify_result v = p.verify();
  std::printf("verify %zu %zu\n", v.checked, v.failures.size());
  const nnmeter::predictor_info& in = p.info();
  std::printf("info %s|%s|%s|%s|%s|%s|%s\n", in.name.c_str(), in.version.c_str(),
              in.device.c_str(), in.backend.c_str(),
              std::string(nnmeter::to_string(in.features)).c_str(), in.protocol_json.c_str(),
              in.build_json.c_str());
  for (int a = 1; a < argc; ++a) {
    const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(argv[a]);
    const nnmeter::prediction r = p.predict(g);
    std::printf("model %a %zu %zu %zu %a\n", r.latency_ms, r.predicted, r.unpredicted, r.fallback,
                r.fallback_ms);
    for (std::size_t i = 0; i < r.kernels.size(); ++i) {
      const nnmeter::kernel& k = r.detected.kernels[i];
      const auto c = emb::kernel_latency_ms(k.kind, nnmeter::features(k, emb::manifest.features),
                                            k.flops, k.bytes);
      char cx[64] = "none";
      if (c) std::snprintf(cx, sizeof cx, "%a", *c);
      std::string status(nnmeter::to_string(r.kernels[i].status));
      if (r.kernels[i].status == nnmeter::kernel_status::fallback)
        status += "/" + std::string(nnmeter::to_string(r.kernels[i].reason));
      std::printf("kernel %zu %s %s %a %s\n", i, std::string(nnmeter::to_string(k.kind)).c_str(),
                  status.c_str(), r.kernels[i].latency_ms, cx);
    }
    std::printf("latency %a\n", p.latency(g).latency_ms);
  }
  return v.ok() ? 0 : 1;
}
)";
}

/// One line of the report, split at blanks.
inline std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

inline std::string hex(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", x);
  return buf;
}

/// A kernel's status as the program prints it: "fallback/<reason>" for a fallback.
inline std::string status_word(const nnmeter::kernel_latency& l) {
  std::string s(nnmeter::to_string(l.status));
  if (l.status == nnmeter::kernel_status::fallback) s += "/" + std::string(nnmeter::to_string(l.reason));
  return s;
}

/// The report of embedded_program_source for predictor `p` (loaded from its package) and the
/// model files, with the last column of every kernel line left out: the constexpr value exists
/// only for the kinds the header keeps in constexpr tables, and must equal the 4th column then
/// (check_report does that).
inline std::vector<std::string> expected_report(const nnmeter::predictor& p,
                                                const std::vector<std::string>& models) {
  std::vector<std::string> lines;
  const nnmeter::verify_result v = p.verify();
  lines.push_back("verify " + std::to_string(v.checked) + " " + std::to_string(v.failures.size()));
  const nnmeter::predictor_info& in = p.info();
  lines.push_back("info " + in.name + "|" + in.version + "|" + in.device + "|" + in.backend + "|" +
                  std::string(nnmeter::to_string(in.features)) + "|" + in.protocol_json + "|" +
                  in.build_json);
  for (const std::string& m : models) {
    const nnmeter::graph g = nnmeter::io::load_nnmeter_ir(m);
    const nnmeter::prediction r = p.predict(g);
    lines.push_back("model " + hex(r.latency_ms) + " " + std::to_string(r.predicted) + " " +
                    std::to_string(r.unpredicted) + " " + std::to_string(r.fallback) + " " +
                    hex(r.fallback_ms));
    for (std::size_t i = 0; i < r.kernels.size(); ++i)
      lines.push_back("kernel " + std::to_string(i) + " " +
                      std::string(nnmeter::to_string(r.detected.kernels[i].kind)) + " " +
                      status_word(r.kernels[i]) + " " + hex(r.kernels[i].latency_ms));
    lines.push_back("latency " + hex(p.latency(g).latency_ms));
  }
  return lines;
}

/// What comparing a program's report with expected_report found.
struct report_check {
  std::string mismatch;               ///< the first differing line, empty when none
  std::size_t constexpr_kernels = 0;  ///< kernel lines with a constexpr value (equal to predict's)
};

inline report_check check_report(const std::string& output,
                                 const std::vector<std::string>& expected) {
  report_check c;
  std::istringstream in(output);
  std::size_t i = 0;
  for (std::string line; std::getline(in, line); ++i) {
    if (i >= expected.size()) {
      c.mismatch = "extra line: " + line;
      return c;
    }
    std::string got = line;
    std::vector<std::string> w = words(line);
    if (!w.empty() && w[0] == "kernel" && w.size() == 6) {
      if (w[5] != "none") {
        if (w[3] != "predicted" || w[5] != w[4]) {
          c.mismatch = "constexpr value differs from predict(): " + line;
          return c;
        }
        ++c.constexpr_kernels;
      }
      got = line.substr(0, line.rfind(' '));
    }
    if (got != expected[i]) {
      c.mismatch =
          "line " + std::to_string(i) + ": got '" + got + "', expected '" + expected[i] + "'";
      return c;
    }
  }
  if (i != expected.size()) c.mismatch = "missing lines from " + expected[i];
  return c;
}

/// Compares the program's report (one model) with `nnmeter predict --json`'s output for the same
/// model: total, kinds, statuses and latencies, bit for bit; a constexpr value must equal the
/// kernel's latency. Returns the first difference (empty when none); counts the kernels whose
/// constexpr value was checked into `constexpr_kernels`.
inline std::string compare_with_predict_json(const std::string& output,
                                             const nlohmann::json& predicted,
                                             std::size_t& constexpr_kernels) {
  std::istringstream lines(output);
  std::vector<std::vector<std::string>> kernels;
  std::string total;
  for (std::string line; std::getline(lines, line);) {
    const std::vector<std::string> w = words(line);
    if (w.size() == 6 && w[0] == "kernel") kernels.push_back(w);
    if (w.size() == 6 && w[0] == "model") total = w[1];
  }
  if (total != hex(predicted.at("latency_ms").get<double>()))
    return "total " + total + " != predict's " + hex(predicted.at("latency_ms").get<double>());
  const nlohmann::json& ks = predicted.at("kernels");
  if (kernels.size() != ks.size())
    return std::to_string(kernels.size()) + " kernels, predict has " + std::to_string(ks.size());
  constexpr_kernels = 0;
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const nlohmann::json& k = ks[i];
    const std::string at = "kernel " + std::to_string(i) + ": ";
    if (kernels[i][2] != k.at("kind").get<std::string>()) return at + "kind " + kernels[i][2];
    std::string status = k.at("status").get<std::string>();
    if (status == "fallback") status += "/" + k.at("fallback_reason").get<std::string>();
    if (kernels[i][3] != status) return at + "status " + kernels[i][3];
    if (status == "predicted" || status.rfind("fallback/", 0) == 0) {
      if (kernels[i][4] != hex(k.at("latency_ms").get<double>()))
        return at + kernels[i][4] + " != predict's " + hex(k.at("latency_ms").get<double>());
    }
    if (k.at("status") != "predicted") continue;
    if (kernels[i][5] != "none") {
      if (kernels[i][5] != kernels[i][4]) return at + "constexpr " + kernels[i][5];
      ++constexpr_kernels;
    }
  }
  return {};
}

/// Writes the program for `header` (absolute path) into `dir`, compiles it with the build's
/// compiler and strict warnings, and returns the compiler's result; the program is dir/embedded.
inline command_result build_embedded_program(const std::string& dir, const std::string& header,
                                             const std::string& ns) {
  const std::string src = dir + "/embedded_main.cpp";
  std::ofstream(src) << embedded_program_source(header, ns);
  return compile(build_compiler(), {},
                 "-O1 " + strict_warnings() + " " + shell_quote(src) + " -o " +
                     shell_quote(dir + "/embedded"));
}

}  // namespace nnmeter_test
