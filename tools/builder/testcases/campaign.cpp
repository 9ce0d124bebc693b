// nnmeter builder — the fusion-rule test campaign (campaign.hpp).
// SPDX-License-Identifier: MIT
#include "builder/testcases/campaign.hpp"

#include "builder/store/keys.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <system_error>

namespace nnmeter::builder {
namespace {

// The settings that shape the test models.
nlohmann::json settings_json(const rule_test_config& cfg) {
  return nlohmann::json{{"HW", cfg.hw},           {"CIN", cfg.cin},
                        {"COUT", cfg.cout},       {"SHAPE_1D", cfg.shape_1d},
                        {"KERNEL_SIZE", cfg.kernel_size}, {"PADDING", cfg.padding},
                        {"STRIDES", cfg.strides}, {"POOL_STRIDES", cfg.pool_strides},
                        {"LAYERS_1D", cfg.layers_1d}};
}

void write_atomically(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    throw nnmeter::error(file.parent_path().string() + ": cannot create the folder (" +
                         ec.message() + ")");
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw nnmeter::error(tmp.string() + ": cannot write the file");
    f << text << "\n";
    f.flush();
    if (!f) throw nnmeter::error(tmp.string() + ": write failed (disk full?)");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw nnmeter::error(file.string() + ": cannot replace the file (" + ec.message() + ")");
  }
}

}  // namespace

measurement_key rule_test_key(const campaign& c, const rule_testcase& tc, const std::string& alias,
                              int repeat, const rule_test_config& cfg) {
  nlohmann::json k = settings_json(cfg);
  k["model"] = alias;
  k["repeat"] = repeat;
  return c.key(measurement_purpose::testcase, tc.name, canonical_json(k));
}

rule_test_report run_rule_tests(profile_store& store, nnmeter::backends::backend& be,
                                const rule_test_config& cfg, const rule_test_run& run,
                                const std::filesystem::path& rules_file) {
  const std::vector<rule_testcase> cases = make_rule_testcases(cfg);
  const campaign c = store.begin_campaign({"detect-rules", be.name(), be.device(), run.protocol});
  // Keys repeat by repeat: the models of one test case and repeat are measured back to back.
  std::vector<measurement_key> keys;
  std::map<std::string, const nnmeter::graph*> graph_of;  // canonical key text -> model
  auto key_text = [](const measurement_key& k) { return k.kind + "\n" + k.config; };
  for (const rule_testcase& tc : cases) {
    for (int r = 0; r < cfg.repeats; ++r) {
      for (const test_model& m : tc.models) {
        keys.push_back(rule_test_key(c, tc, m.alias, r, cfg));
        graph_of[key_text(keys.back())] = &m.graph;
      }
    }
  }
  measure_options mo;
  mo.stop = run.stop;
  mo.on_event = run.on_event;
  rule_test_report rep;
  rep.measurements = store.measure_all(
      c, keys,
      [&](const measurement_key& k) {
        const nnmeter::graph& g = *graph_of.at(key_text(k));
        const std::string hash = graph_hash(g);
        try {
          return measured_model{be.profile(g, run.protocol), hash};
        } catch (const std::exception& e) {
          throw measurement_failure(hash, e.what());
        }
      },
      mo);
  rep.complete = !rep.measurements.stopped;

  std::optional<rule_verdict> dwconv_relu;
  for (const rule_testcase& tc : cases) {
    std::map<std::string, std::vector<double>> lat;
    std::string failed;
    for (const test_model& m : tc.models) {
      for (int r = 0; r < cfg.repeats; ++r) {
        const std::optional<stored_measurement> s =
            store.lookup(rule_test_key(c, tc, m.alias, r, cfg));
        if (!s || !s->latency_ms) {
          if (failed.empty()) {
            const std::vector<stored_measurement> h =
                store.history(rule_test_key(c, tc, m.alias, r, cfg));
            failed = "model '" + m.alias + "' repeat " + std::to_string(r) +
                     (h.empty() ? " not measured" : " failed: " + h.back().error);
          }
          continue;
        }
        lat[m.alias].push_back(*s->latency_ms);
      }
    }
    const std::optional<bool> declared =
        tc.mon ? std::nullopt
               : be.declared_fusion(detector_type(tc.op1), detector_type(tc.op2));
    rule_result res;
    if (!failed.empty()) {
      res.name = tc.name;
      res.rule_name = tc.rule_name;
      res.verdict = rule_verdict::skipped;
      res.declared = declared;
      res.obey = declared;
      res.note = failed;
    } else {
      res = decide_rule(tc, lat, cfg, declared, dwconv_relu);
    }
    if (tc.name == "BF_dwconv_relu") dwconv_relu = res.verdict;
    rep.results.push_back(std::move(res));
  }
  if (!rules_file.empty()) {
    write_atomically(rules_file, detected_rules_json(rep.results, cfg));
    rep.rules_file = rules_file;
  }
  return rep;
}

}  // namespace nnmeter::builder
