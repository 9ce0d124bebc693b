// Sweep over ONNX's own test models (Debian libonnx-testdata): every model.onnx imports without a
// crash, errors only where tests/data/onnx_testdata_allowlist.txt says why, and the inferred
// output shapes equal the reference outputs' shapes.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nnmeter.hpp>
#include <nnmeter/io/onnx_import.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const char* const testdata_root = "/usr/share/libonnx-testdata/data";
const char* const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple", "real"};

struct allowlist {
  std::map<std::string, std::string> errors;  // key -> reason
  std::map<std::string, std::string> shapes;
};

// Lines: "error <suite>/<test> # reason" or "shape <suite>/<test> # reason"; '#' starts a comment.
allowlist read_allowlist(const std::string& path) {
  allowlist a;
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot read " << path);
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    std::string reason;
    const auto hash = line.find('#');
    if (hash != std::string::npos) {
      reason = line.substr(hash + 1);
      line = line.substr(0, hash);
    }
    std::istringstream ss(line);
    std::string kind, key;
    if (!(ss >> kind)) continue;
    ss >> key;
    INFO(path << ":" << lineno);
    REQUIRE_MESSAGE(((kind == "error" || kind == "shape") && !key.empty()),
                    "expected 'error|shape <suite>/<test> # reason'");
    REQUIRE_MESSAGE(reason.find_first_not_of(" \t") != std::string::npos,
                    "every allow-list entry needs a reason");
    (kind == "error" ? a.errors : a.shapes)[key] = reason;
  }
  return a;
}

bool read_tensor_dims(const fs::path& p, onnx::TensorProto& t) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  return t.ParseFromString(s) && (t.dims_size() > 0 || t.has_raw_data() || t.float_data_size() > 0 ||
                                  t.int64_data_size() > 0 || t.int32_data_size() > 0 ||
                                  t.double_data_size() > 0 || t.string_data_size() > 0);
}

std::string text(const std::vector<std::int64_t>& v) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + std::to_string(v[i]);
  return r + "]";
}

}  // namespace

TEST_CASE("every ONNX test model imports and its output shapes match the reference outputs") {
  if (!fs::is_directory(testdata_root)) {
    MESSAGE("skipped: " << testdata_root << " does not exist (install libonnx-testdata)");
    return;
  }
  const allowlist allow =
      read_allowlist(std::string(NNMETER_SOURCE_DIR) + "/tests/data/onnx_testdata_allowlist.txt");
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t models = 0, imported = 0, allowed_errors = 0, best_effort_opset = 0;
  std::size_t checked = 0, shapes_allowed = 0, nodes = 0;
  std::set<std::string> seen;
  for (const char* suite : suites) {
    const fs::path dir = fs::path(testdata_root) / suite;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(dir))
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const fs::path& c : cases) {
      const std::string key = std::string(suite) + "/" + c.filename().string();
      const std::string model = (c / "model.onnx").string();
      seen.insert(key);
      ++models;
      INFO("model: " << key);
      // Input shapes from the reference inputs (the models may have symbolic dims).
      onnx::ModelProto mp;
      {
        std::ifstream f(model, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        REQUIRE(mp.ParseFromString(ss.str()));
      }
      std::set<std::string> inits;
      for (const auto& t : mp.graph().initializer()) inits.insert(t.name());
      std::vector<std::string> inputs;
      for (const auto& vi : mp.graph().input())
        if (!inits.count(vi.name())) inputs.push_back(vi.name());
      nnmeter::io::onnx_import_options opt;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        onnx::TensorProto t;
        const fs::path p = c / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb");
        if (!read_tensor_dims(p, t)) continue;
        bool needs_shape = false;  // only inputs the model leaves (partly) unknown
        for (const auto& vi : mp.graph().input()) {
          if (vi.name() != inputs[i] || !vi.type().has_tensor_type()) continue;
          const auto& tt = vi.type().tensor_type();
          needs_shape = !tt.has_shape();
          for (const auto& d : tt.shape().dim()) needs_shape = needs_shape || !d.has_dim_value();
        }
        if (needs_shape) opt.input_shapes[inputs[i]] = {t.dims().begin(), t.dims().end()};
      }
      nnmeter::io::onnx_import_result r;
      bool ok = false;
      std::string failure;
      try {
        try {
          r = nnmeter::io::import_onnx(model, opt);
        } catch (const nnmeter::unsupported_error& e) {
          if (std::string(e.what()).find("outside the supported range 7..17") == std::string::npos)
            throw;
          // Opset outside 7..17: the default refuses; the best-effort mode must still work.
          opt.allow_any_opset = true;
          ++best_effort_opset;
          r = nnmeter::io::import_onnx(model, opt);
        }
        ok = true;
      } catch (const nnmeter::error& e) {
        failure = e.what();
      } catch (const std::exception& e) {
        failure = std::string("NOT an nnmeter::error: ") + e.what();
        CHECK_MESSAGE(false, key << ": " << failure);
        continue;
      }
      if (!ok) {
        if (allow.errors.count(key)) {
          ++allowed_errors;
        } else {
          CHECK_MESSAGE(false, key << ": import failed: " << failure);
        }
        continue;
      }
      CHECK_MESSAGE(!allow.errors.count(key), key << " imports now: remove it from the allow-list");
      ++imported;
      nodes += r.accounting.nodes_in_file;
      const auto& a = r.accounting;
      CHECK(a.nodes_in_file == a.imported + a.folded + a.aliased + a.constants);
      CHECK(a.other == a.other_nodes.size());
      // The core takes every imported graph: kernel detection under nn-Meter's rules.
      try {
        (void)nnmeter::detect_kernels(r.graph, nnmeter::default_rules());
      } catch (const std::exception& e) {
        CHECK_MESSAGE(false, key << ": detect_kernels failed: " << e.what());
      }
      // Reference output shapes.
      bool all_ok = true;
      std::size_t compared = 0;
      for (std::size_t i = 0; i < r.outputs.size(); ++i) {
        onnx::TensorProto t;
        const fs::path p = c / "test_data_set_0" / ("output_" + std::to_string(i) + ".pb");
        if (!read_tensor_dims(p, t)) continue;
        ++compared;
        const std::vector<std::int64_t> want(t.dims().begin(), t.dims().end());
        const std::vector<std::int64_t> got = nnmeter::io::shape_to_onnx(r.outputs[i].shape);
        if (r.outputs[i].shape_known && got == want) continue;
        all_ok = false;
        if (!allow.shapes.count(key))
          CHECK_MESSAGE(false, key << ": output " << i << " ('" << r.outputs[i].name << "') is "
                                   << text(got) << std::string(r.outputs[i].shape_known ? "" : " (not fully known)")
                                   << ", reference " << text(want));
      }
      if (all_ok && compared > 0) ++checked;
      if (!all_ok && allow.shapes.count(key)) ++shapes_allowed;
      if (all_ok && allow.shapes.count(key))
        MESSAGE(key << ": every output shape is known now; its 'shape' allow-list entry can go");
    }
  }
  for (const auto& kv : allow.errors)
    if (!seen.count(kv.first)) MESSAGE("allow-list entry for a missing model: " << kv.first);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("ONNX testdata: " << models << " models, " << imported << " imported ("
                            << best_effort_opset << " with allow_any_opset), " << allowed_errors
                            << " allow-listed errors, " << checked << " with every output shape checked, "
                            << shapes_allowed << " allow-listed shape gaps, " << nodes
                            << " nodes, " << secs << " s");
  CHECK(models > 0);
}
