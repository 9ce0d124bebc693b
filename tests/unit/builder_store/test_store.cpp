// The profile store's API: keys, successes, failures, pending keys, measure_all, summary, CSV.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "builder/store/report.hpp"
#include "store_test_util.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

using namespace store_test;

namespace {

using nnmeter_test::read_file;

}  // namespace

TEST_CASE("store: a new store has the schema, WAL journal and version 1") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  const std::string file = dir.file("profile_store.sqlite");
  {
    bs::profile_store s = bs::profile_store::open(file);
    CHECK(s.file() == file);
    CHECK(s.integrity_check() == "ok");
    const bs::store_summary sum = s.summary();
    CHECK(sum.schema_version == 1);
    CHECK(sum.rows == 0);
    CHECK(sum.kinds.empty());
  }
  const auto mode = sqlite(file, "PRAGMA journal_mode;");
  REQUIRE(mode.status == 0);
  CHECK(mode.output == "wal\n");
  const auto v = sqlite(file, "SELECT version FROM schema_version;");
  CHECK(v.output == "1\n");
  // no temporary file of the creation is left behind
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".creating.") == std::string::npos);
  // reopening keeps the data
  bs::profile_store s = bs::profile_store::open(file);
  CHECK(s.summary().schema_version == 1);
}

TEST_CASE("store: record_success and lookup return every field") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  CHECK(c.id > 0);
  const bs::measurement_key k = c.key(bs::measurement_purpose::kernel, "conv-bn-relu", config(1));
  CHECK(k.backend == "test-backend");
  CHECK(k.device == "test-device");
  CHECK_FALSE(s.lookup(k).has_value());

  const nb::profile_result r = result(1.25);
  const bs::stored_measurement row = s.record_success(c, k, {r, "sha256:abc"});
  CHECK(row.id > 0);
  CHECK(row.campaign == c.id);
  CHECK(row.key == k);
  CHECK(row.status == bs::measurement_status::ok);
  CHECK(row.error.empty());
  CHECK(row.model_hash == "sha256:abc");
  REQUIRE(row.latency_ms.has_value());
  CHECK(*row.latency_ms == 1.25);
  REQUIRE(row.stats.has_value());
  CHECK(row.stats->min_ms == r.stats.min_ms);
  CHECK(row.stats->p10_ms == r.stats.p10_ms);
  CHECK(row.stats->median_ms == r.stats.median_ms);
  CHECK(row.stats->mean_ms == r.stats.mean_ms);
  CHECK(row.stats->max_ms == r.stats.max_ms);
  CHECK(row.stats->cv == r.stats.cv);
  CHECK(row.stats->runs == 250);
  CHECK(row.started_at == r.timestamp);
  CHECK(row.finished_at.size() == 20);  // 2026-01-01T00:00:00Z
  CHECK(row.seconds == 0.25);
  const nlohmann::json protocol = nlohmann::json::parse(row.protocol_json);
  CHECK(protocol.at("blocks") == 5);
  CHECK(protocol.at("clock") == "steady");
  const nlohmann::json detail = nlohmann::json::parse(row.detail_json);
  CHECK(detail.at("pass_min_ms").size() == 3);

  const std::optional<bs::stored_measurement> found = s.lookup(k);
  REQUIRE(found.has_value());
  CHECK(found->id == row.id);
  CHECK(*found->latency_ms == 1.25);
  // another device's key is another measurement
  bs::measurement_key other = k;
  other.device = "another phone";
  CHECK_FALSE(s.lookup(other).has_value());
}

TEST_CASE("store: a key has at most one success") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  const bs::measurement_key k =
      c.key(bs::measurement_purpose::testcase, "BF_conv_relu", "{\"model\":\"block\"}");
  (void)s.record_success(c, k, {result(2.0), "h"});
  CHECK_THROWS_AS((void)s.record_success(c, k, {result(3.0), "h"}), bs::duplicate_measurement);
  CHECK(s.measurements().size() == 1);
  CHECK(*s.lookup(k)->latency_ms == 2.0);
  // the database itself refuses a second success (the unique index), not only the library
  const auto dup = sqlite(s.file().string(),
                          "INSERT INTO measurements SELECT NULL, campaign, purpose, kind, config, "
                          "backend, device, model_hash, protocol, status, error, latency_ms, "
                          "min_ms, p10_ms, median_ms, mean_ms, max_ms, cv, runs, detail, "
                          "started_at, finished_at, seconds FROM measurements;");
  CHECK(dup.status != 0);
  CHECK(dup.output.find("UNIQUE constraint failed") != std::string::npos);
}

TEST_CASE("store: failures carry their error, never a latency, and are pending") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  const bs::measurement_key a = c.key(bs::measurement_purpose::kernel, "fc", config(1));
  const bs::measurement_key b = c.key(bs::measurement_purpose::kernel, "fc", config(2));
  const bs::stored_measurement f =
      s.record_failure(c, a, "benchmark_model: no Timings line", 1.5, "sha256:x");
  CHECK(f.status == bs::measurement_status::failed);
  CHECK(f.error == "benchmark_model: no Timings line");
  CHECK_FALSE(f.latency_ms.has_value());
  CHECK_FALSE(f.stats.has_value());
  CHECK(f.seconds == 1.5);
  CHECK(f.model_hash == "sha256:x");
  CHECK_FALSE(s.lookup(a).has_value());
  CHECK(s.pending({a, b, a}) == std::vector<bs::measurement_key>{a, b});
  (void)s.record_success(c, b, {result(0.5), "h"});
  CHECK(s.pending({a, b}) == std::vector<bs::measurement_key>{a});
  // the failure stays as history; the success answers lookups
  (void)s.record_success(c, a, {result(0.75), "h"});
  const std::vector<bs::stored_measurement> h = s.history(a);
  REQUIRE(h.size() == 2);
  CHECK(h[0].status == bs::measurement_status::failed);
  CHECK(h[1].status == bs::measurement_status::ok);
  CHECK(*s.lookup(a)->latency_ms == 0.75);
  CHECK(s.pending({a, b}).empty());
  CHECK_THROWS_AS((void)s.record_failure(c, a, "", 0), bs::invalid_measurement);
  // SQL cannot store a failure with a latency either
  const auto bad =
      sqlite(s.file().string(), "UPDATE measurements SET latency_ms = 0 WHERE status = 'failed';");
  CHECK(bad.status != 0);
  CHECK(bad.output.find("CHECK constraint failed") != std::string::npos);
}

TEST_CASE("store: results that are no latency are refused and nothing is recorded") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  const bs::measurement_key k = c.key(bs::measurement_purpose::kernel, "relu", config(3));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct bad_case {
    const char* what;
    nb::profile_result r;
    const char* says;
  };
  std::vector<bad_case> cases;
  {
    nb::profile_result r = result(1.0);
    r.latency_ms = 0;
    r.stats.min_ms = 0;
    cases.push_back({"zero latency", r, "0 ms"});
  }
  {
    nb::profile_result r = result(1.0);
    r.latency_ms = -1;
    cases.push_back({"negative latency", r, "not a positive finite number"});
  }
  {
    nb::profile_result r = result(1.0);
    r.latency_ms = nan;
    cases.push_back({"NaN latency", r, "not a positive finite number"});
  }
  {
    nb::profile_result r = result(1.0);
    r.stats.max_ms = inf;
    cases.push_back({"infinite max", r, "not finite"});
  }
  {
    nb::profile_result r = result(1.0);
    r.stats.median_ms = 0.5;
    cases.push_back({"median below min", r, "out of order"});
  }
  {
    nb::profile_result r = result(1.0);
    r.stats.runs = 0;
    cases.push_back({"no runs", r, "no timed run"});
  }
  {
    nb::profile_result r = result(1.0);
    r.backend = "xnnpack";
    cases.push_back({"another backend", r, "measured on backend 'xnnpack'"});
  }
  for (const bad_case& bc : cases) {
    CAPTURE(bc.what);
    try {
      (void)s.record_success(c, k, {bc.r, "h"});
      FAIL("recorded");
    } catch (const bs::invalid_measurement& e) {
      CHECK(std::string(e.what()).find(bc.says) != std::string::npos);
      CHECK(std::string(e.what()).find(s.file().string()) == 0);
    }
  }
  bs::measurement_key incomplete = k;
  incomplete.config.clear();
  CHECK_THROWS_AS((void)s.record_success(c, incomplete, {result(1.0), "h"}),
                  bs::invalid_measurement);
  CHECK(s.measurements().empty());
}

TEST_CASE("store: measure_all skips what is stored, records each result, retries failures") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info("first"));
  std::vector<bs::measurement_key> keys;
  for (int i = 0; i < 6; ++i)
    keys.push_back(c.key(bs::measurement_purpose::kernel, "add", config(i)));
  keys.push_back(keys[2]);  // a repeat is measured once

  int calls = 0;
  std::vector<bs::measure_event::outcome> outcomes;
  bs::measure_options mo;
  mo.on_event = [&](const bs::measure_event& e) {
    outcomes.push_back(e.what);
    CHECK(e.total == 6);
    CHECK(e.key != nullptr);
  };
  const auto fn = [&](const bs::measurement_key& k) -> bs::measured_model {
    ++calls;
    if (k == keys[1]) throw std::runtime_error("device disconnected");
    if (k == keys[3]) throw bs::measurement_failure("sha256:model3", "conversion failed");
    if (k == keys[4]) {
      nb::profile_result r = result(1.0);
      r.latency_ms = 0;  // a backend that "measured" 0 ms: a failure, never a latency
      r.stats.min_ms = 0;
      return {r, "sha256:model4"};
    }
    return {result(1.0 + static_cast<double>(calls)), "sha256:ok"};
  };
  const bs::measure_report r1 = s.measure_all(c, keys, fn, mo);
  CHECK(calls == 6);
  CHECK(r1.requested == 6);
  CHECK(r1.measured == 3);
  CHECK(r1.failed == 3);
  CHECK(r1.already_stored == 0);
  CHECK_FALSE(r1.stopped);
  using O = bs::measure_event::outcome;
  CHECK(outcomes ==
        std::vector<O>{O::measured, O::failed, O::measured, O::failed, O::failed, O::measured});
  CHECK(s.history(keys[1]).at(0).error == "device disconnected");
  CHECK(s.history(keys[3]).at(0).error == "conversion failed");
  CHECK(s.history(keys[3]).at(0).model_hash == "sha256:model3");
  CHECK(s.history(keys[4]).at(0).error.find("no valid latency") != std::string::npos);
  CHECK(s.history(keys[4]).at(0).model_hash == "sha256:model4");
  CHECK_FALSE(s.lookup(keys[4]).has_value());

  // the next campaign measures exactly the failed ones again
  const bs::campaign c2 = s.begin_campaign(info("second"));
  std::vector<bs::measurement_key> again;
  const bs::measure_report r2 = s.measure_all(c2, keys, [&](const bs::measurement_key& k) {
    again.push_back(k);
    return bs::measured_model{result(2.0), "sha256:ok"};
  });
  CHECK(again == std::vector<bs::measurement_key>{keys[1], keys[3], keys[4]});
  CHECK(r2.already_stored == 3);
  CHECK(r2.measured == 3);
  CHECK(s.pending(keys).empty());
  CHECK(s.lookup(keys[1])->campaign == c2.id);
  CHECK(s.measurements(
             {std::nullopt, std::nullopt, std::nullopt, std::nullopt, bs::measurement_status::ok})
            .size() == 6);
}

TEST_CASE("store: measure_all stops when asked and resumes later") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  std::vector<bs::measurement_key> keys;
  for (int i = 0; i < 5; ++i)
    keys.push_back(c.key(bs::measurement_purpose::model, "mobilenet", config(i)));
  int calls = 0;
  bs::measure_options mo;
  mo.stop = [&] { return calls == 2; };
  const auto fn = [&](const bs::measurement_key&) {
    ++calls;
    return bs::measured_model{result(4.0), "h"};
  };
  const bs::measure_report r = s.measure_all(c, keys, fn, mo);
  CHECK(r.stopped);
  CHECK(r.measured == 2);
  CHECK(r.not_attempted == 3);
  CHECK(s.pending(keys).size() == 3);
  const bs::measure_report r2 = s.measure_all(c, keys, fn);
  CHECK(r2.measured == 3);
  CHECK(r2.already_stored == 2);
  CHECK(calls == 5);
}

TEST_CASE("store: summary counts per purpose and kind, failures and time") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  for (int i = 0; i < 3; ++i)
    (void)s.record_success(c, c.key(bs::measurement_purpose::kernel, "conv-bn-relu", config(i)),
                           {result(1.0), "h"});
  (void)s.record_failure(c, c.key(bs::measurement_purpose::kernel, "conv-bn-relu", config(9)),
                         "boom", 2.0);
  (void)s.record_failure(c, c.key(bs::measurement_purpose::kernel, "conv-bn-relu", config(9)),
                         "boom", 2.0);
  (void)s.record_failure(c, c.key(bs::measurement_purpose::kernel, "fc", config(1)), "boom", 1.0);
  (void)s.record_success(c, c.key(bs::measurement_purpose::kernel, "fc", config(1)),
                         {result(1.0), "h"});
  (void)s.record_success(c, c.key(bs::measurement_purpose::testcase, "BF_conv_relu", config(0)),
                         {result(1.0), "h"});
  const bs::store_summary sum = s.summary();
  CHECK(sum.rows == 8);
  CHECK(sum.measured == 5);
  CHECK(sum.failed_attempts == 3);
  CHECK(sum.failing == 1);
  CHECK(sum.campaigns == 1);
  CHECK(sum.seconds == doctest::Approx(5 * 0.25 + 5.0));
  CHECK(sum.backends == std::vector<std::string>{"test-backend"});
  CHECK(sum.devices == std::vector<std::string>{"test-device"});
  REQUIRE(sum.kinds.size() == 3);
  CHECK(sum.kinds[0].purpose == bs::measurement_purpose::testcase);
  CHECK(sum.kinds[0].kind == "BF_conv_relu");
  CHECK(sum.kinds[1].kind == "conv-bn-relu");
  CHECK(sum.kinds[1].measured == 3);
  CHECK(sum.kinds[1].failed_attempts == 2);
  CHECK(sum.kinds[1].failing == 1);
  CHECK(sum.kinds[1].seconds == doctest::Approx(3 * 0.25 + 4.0));
  CHECK(sum.kinds[2].kind == "fc");
  CHECK(sum.kinds[2].measured == 1);
  CHECK(sum.kinds[2].failed_attempts == 1);
  CHECK(sum.kinds[2].failing == 0);

  const std::string table = bs::summary_table(sum);
  CHECK(table.find("conv-bn-relu") != std::string::npos);
  CHECK(table.find("1 configuration(s) failed") != std::string::npos);
  const nlohmann::ordered_json j = bs::summary_json(sum);
  CHECK(j.at("measured") == 5);
  CHECK(j.at("failing") == 1);
  CHECK(j.at("kinds").size() == 3);
  CHECK(j.at("kinds")[1].at("kind") == "conv-bn-relu");
  CHECK(j.at("kinds")[1].at("failing") == 1);
}

TEST_CASE("store: export_csv writes every row, RFC 4180 quoted, and no latency for failures") {
  nnmeter_test::temp_dir dir("nnmeter_store");
  bs::profile_store s = bs::profile_store::open(dir.file("s.sqlite"));
  const bs::campaign c = s.begin_campaign(info());
  (void)s.record_success(c, c.key(bs::measurement_purpose::kernel, "fc", config(1)),
                         {result(1.5), "h"});
  (void)s.record_failure(c, c.key(bs::measurement_purpose::kernel, "fc", config(2)),
                         "line one\nline \"two\"", 0.5);
  const std::string csv = dir.file("out.csv");
  s.export_csv(csv);
  const std::string text = read_file(csv);
  CHECK(text.rfind("id,campaign,purpose,kind,config,backend,device,status,error,latency_ms,", 0) ==
        0);
  // the config holds a comma and quotes: quoted, quotes doubled
  CHECK(text.find("\"{\"\"cin\"\":17,\"\"hw\"\":28,\"\"note\"\":\"\"a, \\\"\"b\\\"\"\"\"}\"") !=
        std::string::npos);
  CHECK(text.find(",ok,,1.5,1.5,") != std::string::npos);
  CHECK(text.find(",failed,\"line one\nline \"\"two\"\"\",,,,,,,,,") != std::string::npos);
  // the same rows through the sqlite3 shell's CSV reader
  const auto count = nnmeter_test::run_command(
      "sqlite3 -batch :memory: -cmd " + nnmeter_test::shell_quote(".import --csv " + csv + " t") +
          " \"SELECT COUNT(*), SUM(status = 'failed'), SUM(latency_ms = '') FROM t;\"",
      true);
  CHECK(count.output == "2|1|1\n");
  // a folder that does not exist: an error naming the file, no partial file
  const std::string missing = dir.file("no/such/folder/out.csv");
  try {
    s.export_csv(missing);
    FAIL("exported");
  } catch (const bs::store_error& e) {
    CHECK(std::string(e.what()).find(missing) == 0);
  }
}

TEST_CASE("store: canonical_json sorts keys and refuses non-finite numbers, hashes of models") {
  nlohmann::ordered_json a = nlohmann::ordered_json::object();
  a["hw"] = 28;
  a["cin"] = 16;
  a["nested"] = {{"b", 1}, {"a", 2}};
  nlohmann::json b = {{"cin", 16}, {"nested", {{"a", 2}, {"b", 1}}}, {"hw", 28}};
  CHECK(bs::canonical_json(a) == "{\"cin\":16,\"hw\":28,\"nested\":{\"a\":2,\"b\":1}}");
  CHECK(bs::canonical_json(a) == bs::canonical_json(b));
  CHECK_THROWS_AS((void)bs::canonical_json(nlohmann::json{{"x", std::nan("")}}), nnmeter::error);
  CHECK_THROWS_AS((void)bs::canonical_json(nlohmann::json::array({1.0, HUGE_VAL})), nnmeter::error);
  CHECK(bs::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  nnmeter::graph_builder g1;
  (void)g1.relu(g1.input({1, 8, 8, 4}));
  nnmeter::graph_builder g2;
  (void)g2.relu(g2.input({1, 8, 8, 4}));
  nnmeter::graph_builder g3;
  (void)g3.relu(g3.input({1, 8, 8, 5}));
  const nnmeter::graph a1 = std::move(g1).build();
  const nnmeter::graph a2 = std::move(g2).build();
  const nnmeter::graph a3 = std::move(g3).build();
  CHECK(bs::graph_hash(a1).rfind("sha256:", 0) == 0);
  CHECK(bs::graph_hash(a1).size() == 7 + 64);
  CHECK(bs::graph_hash(a1) == bs::graph_hash(a2));
  CHECK(bs::graph_hash(a1) != bs::graph_hash(a3));
}
