// Kill test: a campaign (helpers/campaign.cpp, a separate process) is killed with SIGKILL at
// random points several times and restarted; the store must end with the same set of distinct
// configurations as an uninterrupted run, none recorded twice, none measured more often than
// the kills explain, and an intact database. Also: a failure is retried by the next run, SIGINT
// stops a campaign cleanly, two campaigns at once on one store measure nothing twice.
//
// The measurement is real: the campaign helper profiles a tiny graph (input 1x8x8x4 -> conv 3x3
// -> relu) on the project's XNNPACK backend when the build has it, else times a deterministic
// CPU-bound loop with the measurement engine (measure.hpp); see the helper's header comment.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "store_test_util.hpp"
#include "support/read_file.hpp"
#include "support/temp_dir.hpp"

using namespace store_test;

namespace {

const char* const helper = NNMETER_TEST_HELPER_CAMPAIGN;

/// Starts the campaign helper with `args`, its output to `out_file`.
pid_t spawn(const std::vector<std::string>& args, const std::string& out_file) {
  std::vector<std::string> argv{helper};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (std::string& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  return pid;
}

/// Waits for `pid`; returns its wait status.
int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

using nnmeter_test::read_file;

/// How often each configuration index appears in the helper's attempt log.
std::map<long, int> attempts(const std::string& log) {
  std::map<long, int> n;
  std::istringstream in(read_file(log));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) ++n[std::stol(line)];
  return n;
}

/// Lines in `file` (0 when it does not exist).
std::size_t lines(const std::string& file) {
  const std::string text = read_file(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// The distinct configurations with a successful row.
std::set<std::string> measured_configs(const std::string& store) {
  bs::profile_store s = bs::profile_store::open(store, {true});
  std::set<std::string> out;
  for (const bs::stored_measurement& m : s.measurements(
           {std::nullopt, std::nullopt, std::nullopt, std::nullopt, bs::measurement_status::ok}))
    out.insert(m.key.config);
  return out;
}

std::size_t ok_rows(const std::string& store) {
  bs::profile_store s = bs::profile_store::open(store, {true});
  return s
      .measurements(
          {std::nullopt, std::nullopt, std::nullopt, std::nullopt, bs::measurement_status::ok})
      .size();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("kill: SIGKILL at random points, restarts: every configuration once, intact store") {
  constexpr long n = 400;
  constexpr int wanted_kills = 8;
  nnmeter_test::temp_dir dir("nnmeter_kill");
  const std::string out = dir.file("out.txt");

  // The uninterrupted run: its set of configurations and its duration.
  const std::string ref_store = dir.file("reference.sqlite");
  const auto t_ref = std::chrono::steady_clock::now();
  const int ref_status = wait_for(spawn({"--store", ref_store, "--count", std::to_string(n)}, out));
  const double ref_seconds = seconds_since(t_ref);
  INFO("helper output: " << read_file(out));
  REQUIRE(WIFEXITED(ref_status));
  REQUIRE(WEXITSTATUS(ref_status) == 0);
  const std::set<std::string> reference = measured_configs(ref_store);
  REQUIRE(reference.size() == static_cast<std::size_t>(n));
  // The killed runs. Kill points are random in progress, not in time (the machine's speed
  // varies tenfold while other builds run): the first run is killed at a random moment of its
  // start-up (creating and opening the store); every later one once it has begun a random
  // number of further measurements (1 to a quarter of those left, from its attempt log), plus
  // 0-3 ms, so the kill falls anywhere in a measurement or its commit. Then one run to the end.
  const std::string store = dir.file("killed.sqlite");
  const std::string log = dir.file("attempts.log");
  const unsigned seed = std::random_device{}();
  MESSAGE("kill test seed " << seed << ", uninterrupted run " << ref_seconds << " s for " << n
                            << " configurations");
  std::mt19937 rng(seed);
  int kills = 0;
  int kills_mid_campaign = 0;  // kills of a run that had recorded something
  int restarts = 0;
  int rounds = 0;
  std::vector<std::string> kill_points;
  std::size_t done = 0;
  while (kills_mid_campaign < wanted_kills && rounds < 40) {
    ++rounds;
    const std::size_t attempts_before = lines(log);
    const std::size_t left = static_cast<std::size_t>(n) - done;
    const std::size_t target = attempts_before + std::uniform_int_distribution<std::size_t>(
                                                     1, std::max<std::size_t>(1, left / 4))(rng);
    const double extra_ms = std::uniform_real_distribution<double>(0, 3)(rng);
    const pid_t pid = spawn({"--store", store, "--count", std::to_string(n), "--log", log}, out);
    if (rounds > 1) ++restarts;
    int status = 0;
    bool exited = false;
    std::string point;
    if (rounds == 1) {
      const double at = std::uniform_real_distribution<double>(0, 0.05)(rng);
      std::this_thread::sleep_for(std::chrono::duration<double>(at));
      point = "start-up +" + std::to_string(at * 1000).substr(0, 4) + " ms";
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      while (lines(log) < target && seconds_since(t0) < 120) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(extra_ms));
      point = "attempt " + std::to_string(target) + " +" + std::to_string(extra_ms).substr(0, 4) +
              " ms";
    }
    bool killed = false;
    if (!exited && waitpid(pid, &status, WNOHANG) == 0) {
      REQUIRE(kill(pid, SIGKILL) == 0);
      status = wait_for(pid);
      // it may have exited just before the signal: then it is a clean finish, below
      killed = WIFSIGNALED(status);
      if (killed) CHECK(WTERMSIG(status) == SIGKILL);
    }
    if (killed) {
      ++kills;
      const std::size_t now = std::filesystem::exists(store) ? ok_rows(store) : 0;
      CHECK(now >= done);  // nothing recorded is ever lost
      if (now > done) ++kills_mid_campaign;
      kill_points.push_back(point + " -> " + std::to_string(now) + " stored");
      done = now;
    } else {
      // it finished before the kill: it must have finished cleanly
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      done = ok_rows(store);
    }
    if (done == static_cast<std::size_t>(n)) break;
  }
  const std::size_t before_final = ok_rows(store);
  const int final_status =
      wait_for(spawn({"--store", store, "--count", std::to_string(n), "--log", log}, out));
  ++restarts;
  INFO("helper output: " << read_file(out));
  REQUIRE(WIFEXITED(final_status));
  REQUIRE(WEXITSTATUS(final_status) == 0);

  std::string delays;
  for (const std::string& k : kill_points) delays += k + "; ";
  MESSAGE("kills " << kills << " (" << kills_mid_campaign << " mid-campaign; " << delays
                   << "), restarts " << restarts << ", " << before_final << " of " << n
                   << " stored before the last run");
  CHECK(kills_mid_campaign >= 3);  // "several" kills really hit a campaign while it measured

  // Same set as the uninterrupted run; one success per configuration; intact database.
  CHECK(measured_configs(store) == reference);
  CHECK(ok_rows(store) == static_cast<std::size_t>(n));
  {
    bs::profile_store s = bs::profile_store::open(store);
    CHECK(s.integrity_check() == "ok");
    CHECK(s.summary().failed_attempts == 0);
  }
  const auto integrity = sqlite(store, "PRAGMA integrity_check;");
  CHECK(integrity.output == "ok\n");
  const auto twice = sqlite(store,
                            "SELECT COUNT(*) FROM (SELECT config FROM measurements WHERE "
                            "status = 'ok' GROUP BY purpose, kind, config, backend, device "
                            "HAVING COUNT(*) > 1);");
  CHECK(twice.output == "0\n");

  // Nothing measured twice on resume: a configuration is measured again only when a kill
  // interrupted it in flight, so at most one extra attempt per kill.
  const std::map<long, int> a = attempts(log);
  CHECK(a.size() == static_cast<std::size_t>(n));
  std::size_t total = 0;
  std::size_t repeated = 0;
  for (const auto& [i, count] : a) {
    total += static_cast<std::size_t>(count);
    if (count > 1) ++repeated;
  }
  MESSAGE("measurement attempts " << total << " for " << n << " configurations (" << repeated
                                  << " measured again after a kill)");
  CHECK(total >= static_cast<std::size_t>(n));
  CHECK(total <= static_cast<std::size_t>(n) + static_cast<std::size_t>(kills));
}

TEST_CASE(
    "kill: a failed measurement is recorded with its error, retried and replaced by a success") {
  nnmeter_test::temp_dir dir("nnmeter_kill");
  const std::string out = dir.file("out.txt");
  const std::string store = dir.file("s.sqlite");
  constexpr long n = 12;
  const int st1 =
      wait_for(spawn({"--store", store, "--count", std::to_string(n), "--fail-every", "4"}, out));
  INFO("helper output: " << read_file(out));
  REQUIRE(WIFEXITED(st1));
  REQUIRE(WEXITSTATUS(st1) == 0);
  CHECK(read_file(out).find("measured=9 already=0 failed=3 ") != std::string::npos);
  {
    bs::profile_store s = bs::profile_store::open(store, {true});
    const bs::store_summary sum = s.summary();
    CHECK(sum.measured == 9);
    CHECK(sum.failing == 3);
    const auto failed = s.measurements(
        {std::nullopt, std::nullopt, std::nullopt, std::nullopt, bs::measurement_status::failed});
    REQUIRE(failed.size() == 3);
    for (const bs::stored_measurement& f : failed) {
      CHECK(f.error.find("injected failure of configuration") != std::string::npos);
      CHECK_FALSE(f.latency_ms.has_value());
      CHECK(s.pending({f.key}).size() == 1);
    }
  }
  const int st2 =
      wait_for(spawn({"--store", store, "--count", std::to_string(n), "--fail-every", "4"}, out));
  REQUIRE(WIFEXITED(st2));
  REQUIRE(WEXITSTATUS(st2) == 0);
  CHECK(read_file(out).find("measured=3 already=9 failed=0 ") != std::string::npos);
  bs::profile_store s = bs::profile_store::open(store, {true});
  const bs::store_summary sum = s.summary();
  CHECK(sum.measured == 12);
  CHECK(sum.failing == 0);
  CHECK(sum.failed_attempts == 3);  // kept as history
  for (const bs::stored_measurement& f :
       s.measurements({std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                       bs::measurement_status::failed})) {
    const std::vector<bs::stored_measurement> h = s.history(f.key);
    REQUIRE(h.size() == 2);
    CHECK(h[1].status == bs::measurement_status::ok);
    CHECK(*h[1].latency_ms > 0);
    CHECK(s.lookup(f.key)->id == h[1].id);
  }
}

TEST_CASE("kill: SIGINT stops a campaign before its next measurement, cleanly") {
  nnmeter_test::temp_dir dir("nnmeter_kill");
  const std::string out = dir.file("out.txt");
  const std::string store = dir.file("s.sqlite");
  constexpr long n = 2000;
  const pid_t pid = spawn({"--store", store, "--count", std::to_string(n)}, out);
  // wait until it has measured something, then interrupt
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t seen = 0;
  while (seen < 5 && seconds_since(t0) < 60) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::filesystem::exists(store)) {
      try {
        seen = ok_rows(store);
      } catch (const bs::store_error&) {
        // the helper may be creating the store
      }
    }
  }
  REQUIRE(seen >= 5);
  REQUIRE(kill(pid, SIGINT) == 0);
  const int status = wait_for(pid);
  INFO("helper output: " << read_file(out));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_file(out).find("stopped=1") != std::string::npos);
  const std::size_t stored = ok_rows(store);
  CHECK(stored >= seen);
  CHECK(stored < static_cast<std::size_t>(n));
  bs::profile_store s = bs::profile_store::open(store);
  CHECK(s.integrity_check() == "ok");
  CHECK(s.summary().failed_attempts == 0);
}

TEST_CASE("kill: two campaigns at once on one store record every configuration once") {
  nnmeter_test::temp_dir dir("nnmeter_kill");
  const std::string store = dir.file("s.sqlite");
  constexpr long n = 60;
  // create the store first, so both find it
  { bs::profile_store s = bs::profile_store::open(store); }
  const pid_t a = spawn({"--store", store, "--count", std::to_string(n)}, dir.file("a.txt"));
  const pid_t b = spawn({"--store", store, "--count", std::to_string(n)}, dir.file("b.txt"));
  const int sa = wait_for(a);
  const int sb = wait_for(b);
  INFO("a: " << read_file(dir.file("a.txt")) << " b: " << read_file(dir.file("b.txt")));
  REQUIRE(WIFEXITED(sa));
  REQUIRE(WIFEXITED(sb));
  CHECK(WEXITSTATUS(sa) == 0);
  CHECK(WEXITSTATUS(sb) == 0);
  CHECK(ok_rows(store) == static_cast<std::size_t>(n));
  CHECK(measured_configs(store).size() == static_cast<std::size_t>(n));
  bs::profile_store s = bs::profile_store::open(store);
  CHECK(s.integrity_check() == "ok");
  CHECK(s.summary().campaigns == 2);
}
